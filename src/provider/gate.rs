//! The gate every request of one provider passes: reads, writes and token requests.
//!
//! A vendor's throttling is a signal about the provider, not about one request: when it asks
//! for a pause (`Retry-After`), every request of that provider waits that long, once, instead
//! of each request discovering the limit separately. The gate also counts what it let through
//! and what the vendor throttled, so that a run can report the rate a provider sustained.
//!
//! Pacing adapts to what the vendor answers, as TCP's congestion control and the AWS SDKs'
//! adaptive retry mode do:
//! - unpaced (or paced at `requests_per_second`, the ceiling) until the vendor first throttles;
//! - a 429 cuts the pace to just under what the vendor accepted in the last second. Only a 429
//!   of a request admitted after the previous cut counts: the 429s of requests already on their
//!   way are the same signal, not a new one;
//! - a second cut with no good answer since the first halves the pace: the vendor accepts
//!   nothing at the moment (a per-minute window is spent), so the gate backs off quickly to a
//!   slow probe instead of sending a second's worth of requests into the wall each time;
//! - good answers grow the pace: back up quickly (doubling about every second, as TCP's slow
//!   start) to the pace of the last cut that the vendor did accept, then carefully, by about
//!   one request per second each second.
//!
//! A pause ends with a little random delay so that the many requests (and other clients) held
//! by it do not all start again at the same instant.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The slowest pace the gate goes down to: its probe while the vendor accepts nothing.
const MIN_RATE: f64 = 0.5;
/// A cut keeps this share of what the vendor accepted in the last second.
const CUT_TO: f64 = 0.9;
/// A pause ends up to this share of its length later (at most [`MAX_PAUSE_JITTER`]).
const PAUSE_JITTER: f64 = 0.1;
const MAX_PAUSE_JITTER: Duration = Duration::from_secs(1);
/// By default, a provider with no good answer for this long is making no progress: throttled
/// requests stop being retried. Longer than a minute, so that a spent per-minute window (which
/// Scalekit does not announce with `Retry-After`) is waited out.
pub const STALL: Duration = Duration::from_secs(120);

#[derive(Debug, Default)]
pub struct Gate {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Counts only, no adaptation: the behaviour before the gate, for benchmarks to compare.
    fixed: bool,
    /// How long without a good answer counts as no progress.
    stall: Option<Duration>,
    /// Requests per second allowed; `None`: unpaced (until the vendor first throttles).
    rate: Option<f64>,
    ceiling: Option<f64>,
    /// The pace of the last cut the vendor did accept: good answers grow the pace quickly up to
    /// it, carefully beyond it. `None`: quickly until the next cut.
    threshold: Option<f64>,
    /// When the last request was admitted, on the pace's cadence.
    last_slot: Option<Instant>,
    last_cut: Option<Instant>,
    /// Good answers since the last cut.
    good_since_cut: u64,
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

    /// Counts only: no pace adaptation and no provider-wide pause (each request waits out its
    /// own `Retry-After`), as orgform behaved before the gate. Benchmarks compare the two.
    pub fn fixed(self) -> Self {
        self.state().fixed = true;
        self
    }

    /// Whether the gate adapts (the default) rather than only counting.
    pub fn adaptive(&self) -> bool {
        !self.state().fixed
    }

    /// How long without a good answer counts as no progress.
    pub fn stall(&self) -> Duration {
        self.state().stall.unwrap_or(STALL)
    }

    /// Waits while the provider is paused, then for this request's slot at the current pace.
    /// Returns when the request was admitted: [`Gate::record`] needs it to tell a new signal
    /// from the echo of an old one.
    ///
    /// No slot is booked ahead: a waiting request looks again when its turn may have come, at
    /// the pace then in force, so that requests queued while the pace was slow do not keep it
    /// slow once the vendor accepts again.
    pub async fn admit(&self) -> Instant {
        loop {
            let until = {
                let mut state = self.state();
                let now = Instant::now();
                match (state.paused_until, state.rate.or(state.ceiling)) {
                    (Some(until), _) if until > now => until,
                    (_, None) => return now,
                    (_, Some(rate)) => {
                        let interval = Duration::from_secs_f64(1.0 / rate);
                        let due = state.last_slot.map_or(now, |last| last + interval);
                        if due <= now {
                            // On the cadence (timers wake late), but no burst after idling.
                            state.last_slot = Some(due.max(now - interval.min(now - due)));
                            return now;
                        }
                        due
                    }
                }
            };
            tokio::time::sleep_until(until).await;
        }
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

    /// Pauses every request of the provider for `wait` and a little more, at random (a pause
    /// already longer stands). A fixed gate does not pause.
    pub fn pause(&self, wait: Duration) {
        let jitter = wait
            .mul_f64(PAUSE_JITTER * fastrand::f64())
            .min(MAX_PAUSE_JITTER);
        let Some(until) = Instant::now().checked_add(wait + jitter) else {
            return;
        };
        let mut state = self.state();
        if !state.fixed && state.paused_until.is_none_or(|current| current < until) {
            state.paused_until = Some(until);
            state.pauses += 1;
        }
    }

    /// Counts one answer (`throttled`: a 429) to a request admitted at `admitted`, and adapts
    /// the pace to it.
    pub fn record(&self, throttled: bool, admitted: Instant) {
        let now = Instant::now();
        let mut state = self.state();
        state.answered += 1;
        state.first.get_or_insert(now);
        state.last = Some(now);
        while state
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(1))
        {
            state.recent.pop_front();
        }
        if throttled {
            state.throttled += 1;
            // A request admitted before the last cut was sent at the old pace: its 429 is the
            // signal the cut already answered.
            if state.fixed || state.last_cut.is_some_and(|cut| admitted <= cut) {
                return;
            }
            let current = state.rate.unwrap_or(f64::INFINITY);
            let accepting_nothing =
                state.recent.is_empty() || (state.last_cut.is_some() && state.good_since_cut == 0);
            let cut = if accepting_nothing {
                // Back off fast; the threshold (what the vendor did accept) stands.
                if current.is_finite() {
                    current * 0.5
                } else {
                    MIN_RATE
                }
            } else {
                let cut = state.recent.len() as f64 * CUT_TO;
                state.threshold = Some(cut.min(current).max(MIN_RATE));
                cut
            };
            let cut = cut.min(current).max(MIN_RATE);
            state.rate = Some(state.ceiling.map_or(cut, |c| cut.min(c)));
            state.last_cut = Some(now);
            state.good_since_cut = 0;
            tracing::debug!(rate = cut, "throttled: pace cut");
        } else {
            state.recent.push_back(now);
            state.last_good = Some(now);
            state.good_since_cut += 1;
            if state.fixed {
                return;
            }
            if let Some(rate) = state.rate {
                let grown = match state.threshold {
                    // Quickly: one request per second more for each good answer.
                    Some(threshold) if rate < threshold => (rate + 1.0).min(threshold),
                    None => rate + 1.0,
                    // Carefully: about one request per second more, each second.
                    Some(_) => rate + 1.0 / rate.max(1.0),
                };
                state.rate = Some(state.ceiling.map_or(grown, |c| grown.min(c)));
            }
        }
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

    /// One answer to a request admitted now.
    fn answer(gate: &Gate, throttled: bool) {
        gate.record(throttled, Instant::now());
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_request_until_it_ends_and_a_longer_one_stands() {
        let gate = Gate::default();
        gate.pause(Duration::from_secs(5));
        gate.pause(Duration::from_secs(1));
        let started = Instant::now();
        gate.admit().await;
        // Five seconds and a jitter of at most a tenth of that.
        let took = started.elapsed();
        assert!(
            (Duration::from_secs(5)..=Duration::from_millis(5500)).contains(&took),
            "{took:?}"
        );
        assert_eq!(gate.report().pauses, 1);
        // Once over, requests pass at once.
        let again = Instant::now();
        gate.admit().await;
        assert_eq!(again.elapsed(), Duration::ZERO);
        // A fixed gate never pauses.
        let fixed = Gate::default().fixed();
        fixed.pause(Duration::from_secs(5));
        let started = Instant::now();
        fixed.admit().await;
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_cuts_the_pace_to_what_was_accepted_and_good_answers_grow_it() {
        let gate = Gate::default();
        assert_eq!(gate.rate(), None, "unpaced until throttled");
        // 40 good answers in the last second, then a burst of 429s to requests admitted before
        // the first of them came back: one cut, to 90% of 40.
        for _ in 0..40 {
            answer(&gate, false);
            tokio::time::advance(Duration::from_millis(20)).await;
        }
        let in_flight = gate.admit().await;
        for _ in 0..10 {
            gate.record(true, in_flight);
        }
        assert_eq!(gate.rate(), Some(36.0));
        // Paced: 36 admissions take one second.
        let started = Instant::now();
        for _ in 0..37 {
            gate.admit().await;
        }
        let took = started.elapsed().as_secs_f64();
        assert!((0.99..1.01).contains(&took), "{took}");
        // 36 good answers grow the pace by about one request per second: 36 is what the vendor
        // accepted, so growth beyond it is careful.
        for _ in 0..36 {
            answer(&gate, false);
        }
        let grown = gate.rate().unwrap();
        assert!((36.9..37.1).contains(&grown), "{grown}");
        // The ceiling stands.
        let capped = Gate::with_ceiling(Some(10.0));
        for _ in 0..50 {
            answer(&capped, false);
        }
        answer(&capped, true);
        assert_eq!(capped.rate(), Some(10.0));
    }

    #[tokio::test(start_paused = true)]
    async fn a_vendor_accepting_nothing_is_backed_off_fast_then_regained_quickly() {
        let gate = Gate::default();
        for _ in 0..100 {
            answer(&gate, false);
            tokio::time::advance(Duration::from_millis(10)).await;
        }
        // A spent window: every answer is a 429 now.
        answer(&gate, true);
        assert_eq!(gate.rate(), Some(90.0));
        // Each 429 of a request admitted after the previous cut halves the pace.
        let mut cuts = 0;
        while gate.rate() > Some(MIN_RATE) {
            tokio::time::advance(Duration::from_millis(10)).await;
            answer(&gate, true);
            cuts += 1;
        }
        assert!(cuts <= 8, "{cuts} cuts to the slowest probe");
        // The window opens again: good answers double the pace about every second up to the
        // last pace the vendor accepted (90), then grow by one per second.
        let mut seconds = 0.0;
        while gate.rate() < Some(90.0) {
            let rate = gate.rate().unwrap();
            answer(&gate, false);
            seconds += 1.0 / rate;
        }
        assert!((4.0..8.0).contains(&seconds), "{seconds} s back to 90");
        for _ in 0..90 {
            answer(&gate, false);
        }
        let grown = gate.rate().unwrap();
        assert!((90.9..91.1).contains(&grown), "{grown}");
    }

    #[tokio::test(start_paused = true)]
    async fn requests_queued_at_a_slow_pace_do_not_keep_it_slow() {
        let gate = std::sync::Arc::new(Gate::default());
        // Down to the probe: one request every two seconds.
        answer(&gate, true);
        assert_eq!(gate.rate(), Some(MIN_RATE));
        gate.admit().await;
        let queued: Vec<_> = (0..16)
            .map(|_| {
                let gate = gate.clone();
                tokio::spawn(async move { gate.admit().await })
            })
            .collect();
        tokio::task::yield_now().await;
        // The vendor accepts again: the pace grows quickly.
        for _ in 0..200 {
            answer(&gate, false);
        }
        assert!(gate.rate() > Some(100.0));
        // Booked ahead at the old pace, the 16 would take 32 s; they take one old interval.
        let all = async {
            for request in queued {
                request.await.unwrap();
            }
        };
        tokio::time::timeout(Duration::from_millis(2100), all)
            .await
            .expect("the queued requests pass at the new pace");
    }

    #[tokio::test(start_paused = true)]
    async fn a_fixed_gate_counts_but_never_paces() {
        let gate = Gate::default().fixed();
        for _ in 0..10 {
            answer(&gate, false);
        }
        answer(&gate, true);
        assert_eq!(gate.rate(), None);
        assert_eq!(gate.report().throttled, 1);
        assert!(!gate.adaptive());
    }

    #[tokio::test(start_paused = true)]
    async fn a_provider_with_no_good_answer_for_a_while_makes_no_progress() {
        let gate = Gate::default();
        assert!(gate.progressing());
        answer(&gate, false);
        tokio::time::advance(STALL - Duration::from_secs(1)).await;
        answer(&gate, true);
        assert!(gate.progressing());
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(!gate.progressing());
    }

    #[tokio::test(start_paused = true)]
    async fn counts_and_rate() {
        let gate = Gate::default();
        for n in 0..11 {
            answer(&gate, n % 5 == 0);
            tokio::time::advance(Duration::from_millis(100)).await;
        }
        let report = gate.report();
        assert_eq!((report.answered, report.throttled), (11, 3));
        assert!((report.rate - 11.0).abs() < 0.01, "{report:?}");
    }
}
