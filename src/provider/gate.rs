//! The gate every request of one provider passes: reads, writes and token requests.
//!
//! A vendor's throttling is a signal about the provider, not about one request: when it asks
//! for a pause (`Retry-After`), every request of that provider waits that long, once, instead
//! of each request discovering the limit separately. The gate also counts what it let through
//! and what the vendor throttled, so that a run can report the rate a provider sustained.
//!
//! (Phase 8 grows this into adaptive pacing; the pause and the counts are its first part.)

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Default)]
pub struct Gate {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
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

impl Gate {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits while the provider is paused.
    pub async fn admit(&self) {
        loop {
            let until = self.state().paused_until;
            match until {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => return,
            }
        }
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

    /// Counts one answer (`throttled`: a 429).
    pub fn record(&self, throttled: bool) {
        let now = Instant::now();
        let mut state = self.state();
        state.answered += 1;
        if throttled {
            state.throttled += 1;
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
