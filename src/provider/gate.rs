//! The gate every request of one provider passes: reads, writes and token requests.
//!
//! A vendor's throttling is a signal about the provider, not about one request: when it asks
//! for a pause (`Retry-After`), every request of that provider waits that long, once, instead
//! of each request discovering the limit separately. The gate also counts what it let through
//! and what the vendor throttled, so that a run can report the rate a provider sustained.
//!
//! Pacing adapts to what the vendor answers (AIMD, as TCP and the AWS SDKs' adaptive mode do):
//! unpaced until the vendor first throttles, then a rate cut to just under what the vendor
//! accepted in the last second, growing by about one request per second each second while
//! answers are good, and cut again on the next 429 (at most twice a second, so one burst of
//! 429s counts once). A configured `requests_per_second` stays the ceiling.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The slowest pace the gate goes down to.
const MIN_RATE: f64 = 0.5;
/// A cut keeps this share of what the vendor accepted in the last second.
const CUT_TO: f64 = 0.9;
/// One cut per this long: the 429s of one burst are one signal.
const CUT_SPACING: Duration = Duration::from_millis(500);
/// By default, a provider with no good answer for this long is making no progress: throttled
/// requests stop being retried.
pub const STALL: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
pub struct Gate {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// How long without a good answer counts as no progress.
    stall: Option<Duration>,
    /// Requests per second allowed; `None`: unpaced (until the vendor first throttles).
    rate: Option<f64>,
    ceiling: Option<f64>,
    next_slot: Option<Instant>,
    last_cut: Option<Instant>,
    last_good: Option<Instant>,
    /// Good answers of the last second: what the vendor accepts.
    recent: VecDeque<Instant>,
    paused_until: Option<Instant>,
    answered: u64,
    throttled: u64,
    pauses: u64,
    first: Option<Instant>,
    last: Option<Instant>,
}

/// What a provider's gate saw over a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GateReport {
    pub answered: u64,
    pub throttled: u64,
    /// Provider-wide pauses taken on the vendor's `Retry-After`.
    pub pauses: u64,
    /// Answers per second between the first and the last.
    pub rate: f64,
    pub seconds: f64,
}

impl GateReport {
    /// `48.7 requests/s sustained over 20.3 s, 12 of 1002 answered 429`
    pub fn describe(&self) -> String {
        format!(
            "{:.1} requests/s sustained over {:.1} s, {} of {} answered 429",
            self.rate, self.seconds, self.throttled, self.answered
        )
    }
}

impl Gate {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A gate whose pace never exceeds `ceiling` requests per second (`requests_per_second`).
    /// Until the vendor first throttles, the gate paces evenly at the ceiling (a burst of one,
    /// so a vendor limit of N/s is never met with a burst).
    pub fn with_ceiling(ceiling: Option<f64>) -> Self {
        let gate = Gate::default();
        // Validation bounds the rate; clamped anyway, so that no value can stall or panic.
        gate.state().ceiling = ceiling
            .filter(|r| r.is_finite() && *r > 0.0)
            .map(|r| r.clamp(1.0 / 3600.0, 1e9));
        gate
    }

    /// No progress means no good answer for `stall` (default [`STALL`]).
    pub fn with_stall(self, stall: Duration) -> Self {
        self.state().stall = Some(stall);
        self
    }

    /// How long without a good answer counts as no progress.
    pub fn stall(&self) -> Duration {
        self.state().stall.unwrap_or(STALL)
    }

    /// Waits while the provider is paused, then for this request's slot at the current pace.
    pub async fn admit(&self) {
        loop {
            let until = self.state().paused_until;
            match until {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => break,
            }
        }
        let slot = {
            let mut state = self.state();
            let Some(rate) = state.rate.or(state.ceiling) else {
                return;
            };
            let now = Instant::now();
            let slot = state.next_slot.map_or(now, |next| next.max(now));
            state.next_slot = Some(slot + Duration::from_secs_f64(1.0 / rate));
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    /// The current pace (`None`: unpaced).
    pub fn rate(&self) -> Option<f64> {
        self.state().rate
    }

    /// Whether the provider answered well recently (or has not answered yet): throttled requests
    /// are retried while it does.
    pub fn progressing(&self) -> bool {
        let state = self.state();
        let stall = state.stall.unwrap_or(STALL);
        // Before any good answer, the clock runs from the first answer.
        state
            .last_good
            .or(state.first)
            .is_none_or(|good| good.elapsed() < stall)
    }

    /// Pauses every request of the provider for `wait` (a pause already longer stands).
    pub fn pause(&self, wait: Duration) {
        let Some(until) = Instant::now().checked_add(wait) else {
            return;
        };
        let mut state = self.state();
        if state.paused_until.is_none_or(|current| current < until) {
            state.paused_until = Some(until);
            state.pauses += 1;
        }
    }

    /// Counts one answer (`throttled`: a 429) and adapts the pace to it.
    pub fn record(&self, throttled: bool) {
        let now = Instant::now();
        let mut state = self.state();
        state.answered += 1;
        while state
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(1))
        {
            state.recent.pop_front();
        }
        if throttled {
            state.throttled += 1;
            if state
                .last_cut
                .is_none_or(|cut| now.duration_since(cut) >= CUT_SPACING)
            {
                let accepted = state.recent.len() as f64;
                let current = state.rate.unwrap_or(f64::INFINITY);
                let cut = (accepted.min(current) * CUT_TO).max(MIN_RATE);
                state.rate = Some(state.ceiling.map_or(cut, |c| cut.min(c)));
                state.last_cut = Some(now);
                tracing::debug!(rate = cut, accepted, "throttled: pace cut");
            }
        } else {
            state.recent.push_back(now);
            state.last_good = Some(now);
            // Additive increase: about one request per second more, each second.
            if let Some(rate) = state.rate {
                let grown = rate + 1.0 / rate.max(1.0);
                state.rate = Some(state.ceiling.map_or(grown, |c| grown.min(c)));
            }
        }
        state.first.get_or_insert(now);
        state.last = Some(now);
    }

    pub fn report(&self) -> GateReport {
        let state = self.state();
        let seconds = match (state.first, state.last) {
            (Some(first), Some(last)) => last.duration_since(first).as_secs_f64(),
            _ => 0.0,
        };
        GateReport {
            answered: state.answered,
            throttled: state.throttled,
            pauses: state.pauses,
            rate: if seconds > 0.0 {
                state.answered as f64 / seconds
            } else {
                0.0
            },
            seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_request_until_it_ends_and_a_longer_one_stands() {
        let gate = Gate::default();
        gate.pause(Duration::from_secs(5));
        gate.pause(Duration::from_secs(1));
        let started = Instant::now();
        gate.admit().await;
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        assert_eq!(gate.report().pauses, 1);
        // Once over, requests pass at once.
        let again = Instant::now();
        gate.admit().await;
        assert_eq!(again.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_cuts_the_pace_to_what_was_accepted_and_good_answers_grow_it() {
        let gate = Gate::default();
        assert_eq!(gate.rate(), None, "unpaced until throttled");
        // 40 good answers in the last second, then a burst of 429s: one cut, to 90% of 40.
        for _ in 0..40 {
            gate.record(false);
            tokio::time::advance(Duration::from_millis(20)).await;
        }
        for _ in 0..10 {
            gate.record(true);
        }
        assert_eq!(gate.rate(), Some(36.0));
        // Paced: 36 admissions take one second.
        let started = Instant::now();
        for _ in 0..37 {
            gate.admit().await;
        }
        let took = started.elapsed().as_secs_f64();
        assert!((0.99..1.01).contains(&took), "{took}");
        // 36 good answers grow the pace by about one request per second.
        for _ in 0..36 {
            gate.record(false);
        }
        let grown = gate.rate().unwrap();
        assert!((36.9..37.1).contains(&grown), "{grown}");
        // The ceiling stands.
        let capped = Gate::with_ceiling(Some(10.0));
        for _ in 0..50 {
            capped.record(false);
        }
        capped.record(true);
        assert_eq!(capped.rate(), Some(10.0));
    }

    #[tokio::test(start_paused = true)]
    async fn a_provider_with_no_good_answer_for_a_while_makes_no_progress() {
        let gate = Gate::default();
        assert!(gate.progressing());
        gate.record(false);
        tokio::time::advance(STALL - Duration::from_secs(1)).await;
        gate.record(true);
        assert!(gate.progressing());
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(!gate.progressing());
    }

    #[tokio::test(start_paused = true)]
    async fn counts_and_rate() {
        let gate = Gate::default();
        for n in 0..11 {
            gate.record(n % 5 == 0);
            tokio::time::advance(Duration::from_millis(100)).await;
        }
        let report = gate.report();
        assert_eq!((report.answered, report.throttled), (11, 3));
        assert!((report.rate - 11.0).abs() < 0.01, "{report:?}");
    }
}
