//! The gate every request of one provider passes: reads, writes and token requests.
//!
//! A vendor's throttling is a signal about the provider, not about one request: when it asks
//! for a pause (`Retry-After`), every request of that provider waits that long, once, instead
//! of each request discovering the limit separately. The gate also counts what it let through
//! and what the vendor throttled, so that a run can report the rate a provider sustained.
//!
//! Pacing adapts to what the vendor answers, as TCP's congestion control and the AWS SDKs'
//! adaptive retry mode do:
//! - a slow start: with nothing learned, the pace starts at [`START_RATE`] and each good answer
//!   to a request the pace held back grows it, doubling about every 0.05 s, until the vendor
//!   first throttles. A vendor limit is found within a fraction of a second, at a pace a few
//!   requests in flight can follow, instead of a burst of `parallelism` requests at once. Only a
//!   pace that holds requests back grows: a listing paging one request at a time does not grow
//!   it to a rate a later fan-out of reads would meet unpaced;
//! - what a previous run learned ([`Knowledge`], remembered per provider target by
//!   [`super::pace_memory`]) starts the pace near the vendor's limit instead;
//! - a 429 cuts the pace. Only a 429 of a request admitted after the previous cut counts: the
//!   429s of requests already on their way are the same signal, not a new one. The first cut
//!   goes to 90% of what the vendor accepted in the last second; a later one to 90% of what it
//!   accepted since the previous cut (answers to requests admitted since, over the time since,
//!   pauses included), which is the vendor's sustained rate once a token bucket's first burst is
//!   spent;
//! - a second cut with no good answer since the first halves the pace: the vendor accepts
//!   nothing at the moment (a per-minute window is spent), so the gate backs off quickly to a
//!   slow probe instead of sending a second's worth of requests into the wall each time;
//! - good answers grow the pace: quickly (as in the slow start) back to the pace of the last cut
//!   that the vendor did accept, then carefully, by [`CAREFUL_GROWTH`] of the pace each second.
//!
//! A pause ends with a little random delay so that the many requests (and other clients) held
//! by it do not all start again at the same instant.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The pace a provider starts at when nothing is known about it: a vendor limit below it costs
/// a few 429s at first contact, one above it a fraction of a second of slow start.
pub const START_RATE: f64 = 20.0;
/// Slow start: what each good answer to a paced request adds to the pace. `r` answers a second
/// each adding this grow the pace by this factor of itself per second: ln 2 / 0.05 s doubles it
/// about every 0.05 s (20 to 800 requests/s in a quarter of a second).
const QUICK_GAIN: f64 = std::f64::consts::LN_2 / 0.05;
/// Beyond what the vendor accepted at the last cut, the pace grows by this share of itself each
/// second: a limit a cut undershot is regained in seconds, and 429s stay about one per cycle.
pub const CAREFUL_GROWTH: f64 = 0.02;
/// The slowest pace the gate goes down to: its probe while the vendor accepts nothing.
const MIN_RATE: f64 = 0.5;
/// A cut keeps this share of what the vendor accepted.
const CUT_TO: f64 = 0.9;
/// A cut within a second of the previous one keeps this share of the pace.
const QUICK_CUT_TO: f64 = 0.75;
/// A pause ends up to this share of its length later (at most [`MAX_PAUSE_JITTER`]).
const PAUSE_JITTER: f64 = 0.1;
const MAX_PAUSE_JITTER: Duration = Duration::from_secs(1);
/// By default, a provider with no good answer for this long is making no progress: throttled
/// requests stop being retried. Longer than a minute, so that a spent per-minute window (which
/// Scalekit does not announce with `Retry-After`) is waited out.
pub const STALL: Duration = Duration::from_secs(120);

#[derive(Debug)]
pub struct Gate {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// How long without a good answer counts as no progress.
    stall: Option<Duration>,
    /// Requests per second allowed; `None`: a fixed gate, which counts only, unpaced and
    /// without adapting (the behaviour before the gate, for benchmarks to compare).
    rate: Option<f64>,
    ceiling: Option<f64>,
    /// What the pace started from, for `-v` and tests.
    start: Start,
    /// The pace of the last cut the vendor did accept: good answers grow the pace quickly up to
    /// it, carefully beyond it. `None`: quickly until the next cut.
    threshold: Option<f64>,
    /// When the last request was admitted, on the pace's cadence.
    last_slot: Option<Instant>,
    /// When the pace last held a request back: only a pace that does grows.
    last_held: Option<Instant>,
    last_cut: Option<Instant>,
    /// Good answers since the last cut, and those to requests admitted after it.
    good_since_cut: u64,
    good_admitted_since_cut: u64,
    last_good: Option<Instant>,
    /// Good answers of the last second: what the vendor accepts.
    recent: VecDeque<Instant>,
    /// The most good answers seen within one second: a pace the vendor has accepted.
    peak_second: usize,
    /// Good answers, and seconds, while the pace held requests back: what the vendor sustained
    /// when orgform asked for more (a listing paging alone, or idle time, does not count).
    busy_good: u64,
    busy_seconds: f64,
    paused_until: Option<Instant>,
    answered: u64,
    throttled: u64,
    cuts: u64,
    pauses: u64,
    first: Option<Instant>,
    last: Option<Instant>,
}

impl State {
    /// Whether the gate only counts ([`Gate::fixed`]).
    fn fixed(&self) -> bool {
        self.rate.is_none()
    }

    /// From the first answer to the last.
    fn seconds(&self) -> f64 {
        match (self.first, self.last) {
            (Some(first), Some(last)) => last.duration_since(first).as_secs_f64(),
            _ => 0.0,
        }
    }
}

/// Where a gate's pace started.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Start {
    /// [`START_RATE`], or the ceiling below it: nothing was known.
    #[default]
    Unknown,
    /// `requests_per_second`: the pace never exceeds it.
    Ceiling(f64),
    /// What an earlier run learned.
    Learned(Knowledge),
}

impl Start {
    /// The pace this start means, under `ceiling`: a little under a limit learned, at least
    /// [`START_RATE`] for a rate merely accepted.
    fn rate(self, ceiling: Option<f64>) -> f64 {
        let start = match self {
            Start::Unknown => START_RATE,
            Start::Ceiling(c) => c,
            Start::Learned(learned) if learned.throttled => learned.rate,
            Start::Learned(learned) => learned.rate.max(START_RATE),
        };
        ceiling.map_or(start, |c| start.min(c))
    }
}

/// What a run learned about a provider's limit, for the next run to start from.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Knowledge {
    /// Requests per second: with `throttled`, the rate the vendor sustained while it
    /// throttled (its limit, near enough); without, the most it accepted within one second (at
    /// least that much is allowed).
    pub rate: f64,
    pub throttled: bool,
}

impl Knowledge {
    /// Whether the numbers are ones a gate can start from (a remembered file may hold anything).
    pub fn is_sane(&self) -> bool {
        self.rate.is_finite() && (MIN_RATE..=1e6).contains(&self.rate)
    }
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
    /// The ceiling is where the pace starts (the user knows the limit); without one, at
    /// [`START_RATE`], growing quickly.
    pub fn with_ceiling(ceiling: Option<f64>) -> Self {
        let gate = Gate {
            state: Mutex::default(),
        };
        {
            let mut state = gate.state();
            // Validation bounds the rate; clamped anyway, so that no value can stall or panic.
            state.ceiling = ceiling
                .filter(|r| r.is_finite() && *r > 0.0)
                .map(|r| r.clamp(1.0 / 3600.0, 1e9));
            state.start = state.ceiling.map_or(Start::Unknown, Start::Ceiling);
            state.rate = Some(state.start.rate(state.ceiling));
        }
        gate
    }

    /// No progress means no good answer for `stall` (default [`STALL`]).
    pub fn with_stall(self, stall: Duration) -> Self {
        self.state().stall = Some(stall);
        self
    }

    /// Counts only: no pacing, no adaptation and no provider-wide pause (each request waits out
    /// its own `Retry-After`), as orgform behaved before the gate. Benchmarks compare the two.
    pub fn fixed(self) -> Self {
        self.state().rate = None;
        self
    }

    /// Starts the pace from what an earlier run learned: a little under the rate the vendor
    /// sustained while throttling (growing carefully beyond it), or at the most it accepted
    /// within a second (growing quickly). Never above the ceiling.
    pub fn start_from(&self, learned: Knowledge) {
        let mut state = self.state();
        if state.fixed() || !learned.is_sane() {
            return;
        }
        if learned.throttled {
            // Carefully from the start: the limit is about what was sustained.
            state.threshold = Some(learned.rate);
        }
        state.start = Start::Learned(learned);
        state.rate = Some(state.start.rate(state.ceiling));
    }

    /// Where the pace started and at what pace, for `-v`.
    pub fn start(&self) -> (Start, Option<f64>) {
        let state = self.state();
        let rate = state.start.rate(state.ceiling);
        (state.start, Some(rate).filter(|_| !state.fixed()))
    }

    /// What this run learned, for the next one: `None` when it saw too little to say.
    pub fn knowledge(&self) -> Option<Knowledge> {
        let state = self.state();
        if state.fixed() {
            return None;
        }
        let seconds = state.seconds();
        let learned = if state.cuts > 0 && seconds >= 1.0 {
            // What the vendor sustained while orgform asked for more than it accepted: a token
            // bucket's refill rate (its first burst aside), a per-minute window's limit over the
            // minute. Over the whole run when the pace was rarely what held requests back.
            let good = (state.answered - state.throttled) as f64;
            let rate = if state.busy_seconds >= 1.0 {
                state.busy_good as f64 / state.busy_seconds
            } else {
                good / seconds
            };
            Knowledge {
                rate,
                throttled: true,
            }
        } else if state.cuts == 0 && state.peak_second as f64 > START_RATE {
            // Only a peak above the default start changes what the next run does.
            Knowledge {
                rate: state.peak_second as f64,
                throttled: false,
            }
        } else {
            return None;
        };
        learned.is_sane().then_some(learned)
    }

    /// Whether the gate adapts (the default) rather than only counting.
    pub fn adaptive(&self) -> bool {
        !self.state().fixed()
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
                match (state.paused_until, state.rate) {
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
                        state.last_held = Some(now);
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
        if !state.fixed() && state.paused_until.is_none_or(|current| current < until) {
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
        let previous = state.last.replace(now);
        // Whether the pace holds requests back: only then is it tested, grown, and a measure of
        // what the vendor sustains.
        let binding = state.rate.is_some_and(|rate| {
            state
                .last_held
                .is_some_and(|held| now.duration_since(held).as_secs_f64() <= 2.0 / rate)
        });
        if binding {
            state.busy_seconds += previous.map_or(0.0, |p| now.duration_since(p).as_secs_f64());
            state.busy_good += u64::from(!throttled);
        }
        while state
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(1))
        {
            state.recent.pop_front();
        }
        if throttled {
            state.throttled += 1;
            // A fixed gate (the only one without a pace) does not adapt.
            let Some(current) = state.rate else { return };
            // A request admitted before the last cut was sent at the old pace: its 429 is the
            // signal the cut already answered.
            if state.last_cut.is_some_and(|cut| admitted <= cut) {
                return;
            }
            let accepting_nothing =
                state.recent.is_empty() || (state.last_cut.is_some() && state.good_since_cut == 0);
            let cut = if accepting_nothing {
                // Back off fast; the threshold (what the vendor did accept) stands.
                current * 0.5
            } else {
                let cut = match state.last_cut {
                    // What the vendor accepted since the last cut, when that is a second or
                    // more: a token bucket's first burst is spent by then, so this is its
                    // refill rate.
                    Some(last_cut) if now.duration_since(last_cut) >= Duration::from_secs(1) => {
                        let since = now.duration_since(last_cut).as_secs_f64();
                        let accepted = state.good_admitted_since_cut as f64 / since * CUT_TO;
                        accepted.clamp(current * 0.5, current)
                    }
                    // Throttled again soon after a cut, too soon to measure: still too fast.
                    Some(_) => current * QUICK_CUT_TO,
                    None => (state.recent.len() as f64 * CUT_TO).min(current),
                };
                state.threshold = Some(cut.max(MIN_RATE));
                cut
            };
            let cut = cut.min(current).max(MIN_RATE);
            state.rate = Some(state.ceiling.map_or(cut, |c| cut.min(c)));
            state.last_cut = Some(now);
            state.cuts += 1;
            state.good_since_cut = 0;
            state.good_admitted_since_cut = 0;
            tracing::debug!(rate = cut, "throttled: pace cut");
        } else {
            state.recent.push_back(now);
            state.peak_second = state.peak_second.max(state.recent.len());
            state.last_good = Some(now);
            state.good_since_cut += 1;
            if state.last_cut.is_none_or(|cut| admitted > cut) {
                state.good_admitted_since_cut += 1;
            }
            // A fixed gate has no pace; an unbinding one is not tested by these answers.
            let Some(rate) = state.rate.filter(|_| binding) else {
                return;
            };
            let grown = match state.threshold {
                Some(threshold) if rate < threshold => (rate + QUICK_GAIN).min(threshold),
                None => rate + QUICK_GAIN,
                Some(_) => rate + CAREFUL_GROWTH,
            };
            state.rate = Some(state.ceiling.map_or(grown, |c| grown.min(c)));
        }
    }

    pub fn report(&self) -> GateReport {
        let state = self.state();
        let seconds = state.seconds();
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
    use std::sync::Arc;

    /// One answer to a request admitted now, unpaced.
    fn answer(gate: &Gate, throttled: bool) {
        gate.record(throttled, Instant::now());
    }

    /// One request through the gate's pace, answered at once.
    async fn paced(gate: &Gate, throttled: bool) {
        let admitted = gate.admit().await;
        gate.record(throttled, admitted);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_request_until_it_ends_and_a_longer_one_stands() {
        let gate = Gate::with_ceiling(None);
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
        // A fixed gate never pauses.
        let fixed = Gate::with_ceiling(None).fixed();
        fixed.pause(Duration::from_secs(5));
        let started = Instant::now();
        fixed.admit().await;
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn the_pace_starts_slow_and_doubles_about_every_tenth_of_a_second_while_it_holds_requests_back()
     {
        let gate = Gate::with_ceiling(None);
        assert_eq!(gate.rate(), Some(START_RATE));
        assert_eq!(gate.start(), (Start::Unknown, Some(START_RATE)));
        // Requests arriving slower than the pace do not grow it: they test nothing.
        for _ in 0..20 {
            paced(&gate, false).await;
            tokio::time::advance(Duration::from_millis(200)).await;
        }
        assert_eq!(gate.rate(), Some(START_RATE));
        // Requests the pace holds back grow it quickly.
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(250) {
            paced(&gate, false).await;
        }
        // Five doublings: 640; the discrete steps make it a little less.
        let rate = gate.rate().unwrap();
        assert!((400.0..700.0).contains(&rate), "{rate}");
        // A ceiling is where the pace starts, and it stands.
        let capped = Gate::with_ceiling(Some(50.0));
        assert_eq!(capped.start(), (Start::Ceiling(50.0), Some(50.0)));
        for _ in 0..100 {
            paced(&capped, false).await;
        }
        assert_eq!(capped.rate(), Some(50.0));
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_cuts_the_pace_to_what_was_accepted_and_good_answers_grow_it() {
        let gate = Gate::with_ceiling(None);
        gate.start_from(Knowledge {
            rate: 100.0,
            throttled: false,
        });
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
        // Throttled again within the second after one good answer: too soon to measure what
        // the vendor accepts, so three quarters of the pace.
        paced(&gate, false).await;
        paced(&gate, true).await;
        let quick = gate.rate().unwrap();
        assert!((27.0..27.1).contains(&quick), "{quick}");
        // Two seconds later, having accepted 20 a second since that cut: 90% of 20.
        for _ in 0..40 {
            paced(&gate, false).await;
            tokio::time::advance(Duration::from_millis(50)).await;
        }
        paced(&gate, true).await;
        let cut = gate.rate().unwrap();
        assert!((17.0..18.5).contains(&cut), "{cut}");
        // Beyond what the vendor accepted, growth is careful: 2% a second.
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            paced(&gate, false).await;
        }
        let grown = gate.rate().unwrap() / cut;
        assert!((1.08..1.12).contains(&grown), "{grown}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_vendor_accepting_nothing_is_backed_off_fast_then_regained_quickly() {
        let gate = Gate::with_ceiling(None);
        for _ in 0..100 {
            answer(&gate, false);
            tokio::time::advance(Duration::from_millis(10)).await;
        }
        // A spent window: every answer is a 429 now.
        answer(&gate, true);
        assert_eq!(gate.rate(), Some(START_RATE));
        // Each 429 of a request admitted after the previous cut halves the pace.
        let mut cuts = 0;
        while gate.rate() > Some(MIN_RATE) {
            paced(&gate, true).await;
            cuts += 1;
        }
        assert!(cuts <= 8, "{cuts} cuts to the slowest probe");
        // The window opens again: good answers regain the pace the vendor accepted (20)
        // within a second.
        let started = Instant::now();
        while gate.rate() < Some(START_RATE) {
            paced(&gate, false).await;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn requests_queued_at_a_slow_pace_do_not_keep_it_slow() {
        let gate = Arc::new(Gate::with_ceiling(None));
        // Down to the probe: one request every two seconds.
        while gate.rate() > Some(MIN_RATE) {
            paced(&gate, true).await;
        }
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
    async fn a_pace_learned_earlier_is_where_the_next_run_starts() {
        let limit = Knowledge {
            rate: 40.0,
            throttled: true,
        };
        let gate = Gate::with_ceiling(None);
        gate.start_from(limit);
        assert_eq!(gate.start(), (Start::Learned(limit), Some(40.0)));
        assert_eq!(gate.rate(), Some(40.0));
        // Beyond a limit learned, growth is careful.
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(1) {
            paced(&gate, false).await;
        }
        let grown = gate.rate().unwrap();
        assert!((40.5..41.0).contains(&grown), "{grown}");
        // A rate merely accepted is a start that grows quickly; never below the default start.
        let accepted = Gate::with_ceiling(None);
        accepted.start_from(Knowledge {
            rate: 5.0,
            throttled: false,
        });
        assert_eq!(accepted.rate(), Some(START_RATE));
        // The ceiling stands; nonsense is ignored; a fixed gate stays unpaced.
        let capped = Gate::with_ceiling(Some(10.0));
        capped.start_from(limit);
        assert_eq!(capped.rate(), Some(10.0));
        let nonsense = Gate::with_ceiling(None);
        nonsense.start_from(Knowledge {
            rate: f64::NAN,
            throttled: true,
        });
        assert_eq!(nonsense.start().0, Start::Unknown);
        let fixed = Gate::with_ceiling(None).fixed();
        fixed.start_from(limit);
        assert_eq!(fixed.rate(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn what_a_run_learned_is_what_the_vendor_sustained_or_accepted() {
        // Throttled: what the vendor sustained over the run.
        let gate = Gate::with_ceiling(None);
        for n in 0..300 {
            paced(&gate, false).await;
            if n % 100 == 99 {
                paced(&gate, true).await;
            }
        }
        let busy = gate.knowledge().unwrap();
        assert!(busy.throttled);
        let report = gate.report();
        assert!(
            (busy.rate - report.rate).abs() < 0.05 * report.rate,
            "{busy:?} {report:?}"
        );
        // Ten idle seconds and an answer the pace did not hold back: the run's average falls,
        // what the vendor sustained while asked for more does not.
        tokio::time::advance(Duration::from_secs(10)).await;
        answer(&gate, false);
        let learned = gate.knowledge().unwrap();
        assert!(gate.report().rate < busy.rate * 0.5, "{:?}", gate.report());
        assert!(
            (learned.rate - busy.rate).abs() < 0.01,
            "{learned:?} {busy:?}"
        );
        // Not throttled: the most accepted within a second, when it is more than the default
        // start.
        let quiet = Gate::with_ceiling(None);
        for _ in 0..20 {
            answer(&quiet, false);
        }
        assert_eq!(quiet.knowledge(), None);
        for _ in 0..10 {
            answer(&quiet, false);
        }
        assert_eq!(
            quiet.knowledge(),
            Some(Knowledge {
                rate: 30.0,
                throttled: false
            })
        );
        // Nothing answered: nothing learned.
        assert_eq!(Gate::with_ceiling(None).knowledge(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_fixed_gate_counts_but_never_paces() {
        let gate = Gate::with_ceiling(None).fixed();
        for _ in 0..10 {
            answer(&gate, false);
        }
        answer(&gate, true);
        assert_eq!(gate.rate(), None);
        assert_eq!(gate.report().throttled, 1);
        assert!(!gate.adaptive());
        assert_eq!(gate.knowledge(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_provider_with_no_good_answer_for_a_while_makes_no_progress() {
        let gate = Gate::with_ceiling(None);
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
        let gate = Gate::with_ceiling(None);
        for n in 0..11 {
            answer(&gate, n % 5 == 0);
            tokio::time::advance(Duration::from_millis(100)).await;
        }
        let report = gate.report();
        assert_eq!((report.answered, report.throttled), (11, 3));
        assert!((report.rate - 11.0).abs() < 0.01, "{report:?}");
    }
}
