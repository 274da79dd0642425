//! Injected faults, set through `POST /_sandbox/faults`: fixed latency, per-vendor rate limits,
//! scripted faults, and seeded random failures. Everything except the rate limit (which is about
//! time) is deterministic: the same requests in the same order meet the same faults.
//!
//! Scripted faults are data: "the Nth request matching METHOD + route" answers a status (with
//! the vendor's error body, or a body and headers of the test's choosing), drops the
//! connection, or has its real answer mangled the way misbehaving vendors do (a repeated or
//! missing item, a looping next link, a wrong total or field type, a truncated or inflated
//! body; see [`Mangle`]).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::vendor::Vendor;

/// What tokio's timer may add to a sleep: it fires on a millisecond tick, rounded up, and often
/// a tick later.
const TIMER_SLACK: Duration = Duration::from_millis(2);

/// Waits until `deadline`, never before it and late by tens of microseconds rather than
/// milliseconds.
///
/// A latency fault is the vendor's response time, and the benchmarks divide by it: on tokio's
/// timer alone a 20 ms latency answered in about 21.5 ms, so every latency-bound figure carried
/// 7% that was the sandbox's, not the client's. The last milliseconds are slept on a blocking
/// thread, which the kernel wakes on time; nothing spins.
pub async fn wait_until(deadline: tokio::time::Instant) {
    if let Some(coarse) = deadline.checked_sub(TIMER_SLACK) {
        tokio::time::sleep_until(coarse).await;
    }
    let rest = deadline.saturating_duration_since(tokio::time::Instant::now());
    if !rest.is_zero() {
        // Fails only when the runtime shuts down, when the answer no longer matters.
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(rest)).await;
    }
}

/// The fault configuration. Posting it replaces the previous one and restarts every counter.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultConfig {
    /// Every vendor request is answered this long after it arrived (never sooner; the handler
    /// works meanwhile).
    #[serde(default)]
    pub latency_ms: u64,
    /// Requests per second each vendor accepts before answering 429 as that vendor does.
    #[serde(default)]
    pub rate_limit: BTreeMap<Vendor, f64>,
    /// Requests per fixed minute window each vendor accepts (the window starts with the first
    /// request after the faults are posted); beyond it, 429 as that vendor sends it, with
    /// `Retry-After` (Nirvana, PingOne) saying when the window ends.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rate_limit_per_minute: BTreeMap<Vendor, u64>,
    #[serde(default)]
    pub scripts: Vec<Script>,
    #[serde(default)]
    pub chaos: Option<Chaos>,
    /// Lifetime of access tokens issued from now on (default: the vendor's own).
    #[serde(default)]
    pub token_ttl_seconds: Option<u64>,
    /// The request log (`/_sandbox/requests`) keeps the JSON body of each write (up to 64 KiB),
    /// so that a test can check what a client sent against the vendor's spec.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub log_bodies: bool,
}

/// "The `nth` request (1-based) matching `method` and `route` answers `status`, or drops the
/// connection." `times` repeats the failure for that many consecutive matching requests.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    pub method: String,
    /// A route template as `stats` reports it, e.g. `/scalekit/api/v1/organizations`.
    pub route: String,
    pub nth: u64,
    #[serde(default = "one")]
    pub times: u64,
    /// Answer this status instead of running the handler: with the vendor's error body for an
    /// error status, an empty body otherwise, or `body`.
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub drop: bool,
    /// Headers set on the answer (e.g. `location` for a redirect, `retry-after`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The body of a `status` answer (`null`: an empty body).
    #[serde(
        default,
        deserialize_with = "explicit",
        skip_serializing_if = "Option::is_none"
    )]
    pub body: Option<serde_json::Value>,
    /// Edits to the handler's real answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mangle: Option<Mangle>,
}

/// How to mangle a real answer. Pointers are JSON Pointers (RFC 6901) into its body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mangle {
    /// Set these values (e.g. `/pagination/total_count: 999`, `/organizations/0/external_id: 42`,
    /// `/next_page_token: ""`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set: BTreeMap<String, serde_json::Value>,
    /// Remove these fields (e.g. `/_links/next`, `/organizations/0/display_name`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
    /// Append copies of the first item of the array at `at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_first: Option<Repeat>,
    /// Remove the first item of the array at this pointer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_first: Option<String>,
    /// The next-page link (cursor, page token, or HAL `next`) points back at this very page.
    #[serde(default)]
    pub loop_next: bool,
    /// Append this many bytes of whitespace (still valid JSON, streamed).
    #[serde(default)]
    pub pad_bytes: u64,
    /// Cut the body after this many bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncate_bytes: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Repeat {
    pub at: String,
    #[serde(default = "one")]
    pub times: u64,
}

fn one() -> u64 {
    1
}

/// A field that is present, even as `null`, is `Some` (absent is `None`, by `default`).
fn explicit<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(deserializer).map(Some)
}

/// The largest `latency_ms` accepted (10 minutes).
pub const MAX_LATENCY_MS: u64 = 600_000;
/// The longest `token_ttl_seconds` accepted (10 years).
pub const MAX_TOKEN_TTL_SECONDS: u64 = 10 * 365 * 24 * 3600;
/// The most whitespace `pad_bytes` may add (4 GiB).
pub const MAX_PAD_BYTES: u64 = 4 << 30;

impl FaultConfig {
    /// Refuses values the sandbox cannot honour (a latency or token lifetime that would
    /// overflow a clock, a negative rate).
    pub fn check(&self) -> Result<(), String> {
        if self.latency_ms > MAX_LATENCY_MS {
            return Err(format!("latency_ms must be at most {MAX_LATENCY_MS}"));
        }
        if self
            .token_ttl_seconds
            .is_some_and(|t| t > MAX_TOKEN_TTL_SECONDS)
        {
            return Err(format!(
                "token_ttl_seconds must be at most {MAX_TOKEN_TTL_SECONDS}"
            ));
        }
        if let Some((vendor, rate)) = self
            .rate_limit
            .iter()
            .find(|(_, r)| !r.is_finite() || **r < 0.0)
        {
            return Err(format!(
                "rate_limit.{} must be a number of at least 0, not {rate}",
                vendor.as_str()
            ));
        }
        for script in &self.scripts {
            if script
                .mangle
                .as_ref()
                .is_some_and(|m| m.pad_bytes > MAX_PAD_BYTES)
            {
                return Err(format!("pad_bytes must be at most {MAX_PAD_BYTES}"));
            }
            if script.mangle.is_some() && (script.status.is_some() || script.drop) {
                return Err(format!(
                    "script for {} {}: `mangle` edits the real answer, so it cannot go with `status` or `drop`",
                    script.method, script.route
                ));
            }
            if let Some(status) = script.status
                && axum::http::StatusCode::from_u16(status).is_err()
            {
                return Err(format!("status {status} is not an HTTP status"));
            }
        }
        Ok(())
    }
}

/// Seeded random failures over all vendor requests: each rate is a probability in 0..=1.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chaos {
    pub seed: u64,
    #[serde(default)]
    pub status_503: f64,
    #[serde(default)]
    pub status_429: f64,
    #[serde(default)]
    pub drop: f64,
}

/// What to do with one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Pass,
    Fail(u16),
    /// 429 with this many seconds to wait.
    RateLimited(u64),
    Drop,
    /// A scripted answer: status, headers, and a body (`None`: the vendor's error body for
    /// an error status, empty otherwise).
    Answer {
        status: u16,
        headers: BTreeMap<String, String>,
        body: Option<serde_json::Value>,
    },
    /// Run the handler, then edit its answer.
    Mangle(Box<Mangle>, BTreeMap<String, String>),
}

/// The live fault state: configuration plus counters.
#[derive(Debug, Default)]
pub struct Faults {
    pub config: FaultConfig,
    script_matches: Vec<u64>,
    buckets: BTreeMap<Vendor, Bucket>,
    windows: BTreeMap<Vendor, Window>,
    requests_seen: u64,
}

/// A fixed minute window: when it started and how many requests it has taken.
#[derive(Debug)]
struct Window {
    started: Instant,
    taken: u64,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Faults {
    pub fn configure(&mut self, config: FaultConfig) {
        self.script_matches = vec![0; config.scripts.len()];
        self.buckets.clear();
        self.windows.clear();
        self.requests_seen = 0;
        self.config = config;
    }

    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.config.latency_ms)
    }

    /// Whether the request log keeps the bodies of writes ([`FaultConfig::log_bodies`]).
    pub fn log_bodies(&self) -> bool {
        self.config.log_bodies
    }

    /// Decides the fate of one request; scripts first, then chaos, then the rate limit.
    pub fn decide(&mut self, vendor: Vendor, method: &str, route: &str, now: Instant) -> Decision {
        self.requests_seen += 1;
        for (script, seen) in self
            .config
            .scripts
            .iter()
            .zip(self.script_matches.iter_mut())
        {
            if script.method.eq_ignore_ascii_case(method) && script.route == route {
                *seen += 1;
                if *seen >= script.nth && *seen < script.nth.saturating_add(script.times) {
                    return match (&script.mangle, script.drop) {
                        (_, true) => Decision::Drop,
                        (Some(mangle), false) => {
                            Decision::Mangle(Box::new(mangle.clone()), script.headers.clone())
                        }
                        (None, false)
                            if script.headers.is_empty()
                                && script.body.is_none()
                                && script.status.is_none_or(|s| s >= 400) =>
                        {
                            Decision::Fail(script.status.unwrap_or(503))
                        }
                        (None, false) => Decision::Answer {
                            status: script.status.unwrap_or(503),
                            headers: script.headers.clone(),
                            body: script.body.clone(),
                        },
                    };
                }
            }
        }
        if let Some(chaos) = &self.config.chaos {
            let roll = unit_interval(chaos.seed, self.requests_seen);
            if roll < chaos.drop {
                return Decision::Drop;
            } else if roll < chaos.drop + chaos.status_503 {
                return Decision::Fail(503);
            } else if roll < chaos.drop + chaos.status_503 + chaos.status_429 {
                return Decision::RateLimited(1);
            }
        }
        if let Some(&per_minute) = self.config.rate_limit_per_minute.get(&vendor)
            && let Decision::RateLimited(wait) = self.take_from_window(vendor, per_minute, now)
        {
            return Decision::RateLimited(wait);
        }
        if let Some(&rate) = self.config.rate_limit.get(&vendor) {
            return self.take_token(vendor, rate, now);
        }
        Decision::Pass
    }

    /// A fixed window of one minute holding `limit` requests.
    fn take_from_window(&mut self, vendor: Vendor, limit: u64, now: Instant) -> Decision {
        const MINUTE: Duration = Duration::from_secs(60);
        let window = self.windows.entry(vendor).or_insert(Window {
            started: now,
            taken: 0,
        });
        let age = now.saturating_duration_since(window.started);
        if age >= MINUTE {
            // Windows follow each other on the minute grid the first one set.
            let windows = age.as_secs() / 60;
            window.started += MINUTE * u32::try_from(windows).unwrap_or(u32::MAX);
            window.taken = 0;
        }
        if window.taken < limit {
            window.taken += 1;
            Decision::Pass
        } else {
            let left = MINUTE.saturating_sub(now.saturating_duration_since(window.started));
            Decision::RateLimited(left.as_secs_f64().ceil().max(1.0) as u64)
        }
    }

    /// A token bucket holding one second of requests.
    fn take_token(&mut self, vendor: Vendor, rate: f64, now: Instant) -> Decision {
        let capacity = rate.max(1.0);
        let bucket = self.buckets.entry(vendor).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Decision::Pass
        } else {
            let wait = ((1.0 - bucket.tokens) / rate).ceil().max(1.0);
            Decision::RateLimited(wait as u64)
        }
    }
}

/// A deterministic number in [0, 1) from a seed and a request number (splitmix64).
fn unit_interval(seed: u64, n: u64) -> f64 {
    let mut z = seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_hit_exactly_the_nth_matching_requests() {
        let mut faults = Faults::default();
        faults.configure(FaultConfig {
            scripts: vec![Script {
                method: "POST".into(),
                route: "/r".into(),
                nth: 2,
                times: 2,
                status: Some(503),
                drop: false,
                headers: BTreeMap::new(),
                body: None,
                mangle: None,
            }],
            ..FaultConfig::default()
        });
        let now = Instant::now();
        let seen: Vec<Decision> = (0..5)
            .map(|_| faults.decide(Vendor::Scalekit, "POST", "/r", now))
            .collect();
        assert_eq!(
            seen,
            [
                Decision::Pass,
                Decision::Fail(503),
                Decision::Fail(503),
                Decision::Pass,
                Decision::Pass
            ]
        );
        assert_eq!(
            faults.decide(Vendor::Scalekit, "GET", "/r", now),
            Decision::Pass
        );
    }

    #[test]
    fn chaos_is_deterministic_and_near_its_rates() {
        let run = || {
            let mut faults = Faults::default();
            faults.configure(FaultConfig {
                chaos: Some(Chaos {
                    seed: 7,
                    status_503: 0.10,
                    status_429: 0.05,
                    drop: 0.02,
                }),
                ..FaultConfig::default()
            });
            let now = Instant::now();
            (0..10_000)
                .map(|_| faults.decide(Vendor::Nirvana, "GET", "/x", now))
                .collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        let count = |d: Decision| first.iter().filter(|x| **x == d).count();
        assert!((900..1100).contains(&count(Decision::Fail(503))));
        assert!((400..600).contains(&count(Decision::RateLimited(1))));
        assert!((120..280).contains(&count(Decision::Drop)));
    }

    #[test]
    fn the_minute_window_takes_its_limit_then_refuses_until_it_ends() {
        let mut faults = Faults::default();
        faults.configure(FaultConfig {
            rate_limit_per_minute: BTreeMap::from([(Vendor::Scalekit, 3)]),
            ..FaultConfig::default()
        });
        let start = Instant::now();
        let decide = |faults: &mut Faults, at: Duration| {
            faults.decide(Vendor::Scalekit, "GET", "/x", start + at)
        };
        for _ in 0..3 {
            assert_eq!(decide(&mut faults, Duration::ZERO), Decision::Pass);
        }
        assert_eq!(
            decide(&mut faults, Duration::from_secs(20)),
            Decision::RateLimited(40)
        );
        assert_eq!(
            faults.decide(Vendor::Nirvana, "GET", "/x", start),
            Decision::Pass
        );
        // The next window, on the same minute grid.
        assert_eq!(decide(&mut faults, Duration::from_secs(61)), Decision::Pass);
        assert_eq!(decide(&mut faults, Duration::from_secs(62)), Decision::Pass);
        assert_eq!(decide(&mut faults, Duration::from_secs(63)), Decision::Pass);
        assert_eq!(
            decide(&mut faults, Duration::from_secs(90)),
            Decision::RateLimited(30)
        );
    }

    #[test]
    fn the_rate_limit_allows_one_second_of_burst_then_refills() {
        let mut faults = Faults::default();
        faults.configure(FaultConfig {
            rate_limit: BTreeMap::from([(Vendor::PingOne, 5.0)]),
            ..FaultConfig::default()
        });
        let start = Instant::now();
        let passed = (0..10)
            .filter(|_| faults.decide(Vendor::PingOne, "GET", "/x", start) == Decision::Pass)
            .count();
        assert_eq!(passed, 5);
        let later = start + Duration::from_millis(400);
        assert_eq!(
            faults.decide(Vendor::PingOne, "GET", "/x", later),
            Decision::Pass
        );
        assert_eq!(
            faults.decide(Vendor::PingOne, "GET", "/x", later),
            Decision::Pass
        );
        assert!(matches!(
            faults.decide(Vendor::PingOne, "GET", "/x", later),
            Decision::RateLimited(1)
        ));
        assert_eq!(
            faults.decide(Vendor::Nirvana, "GET", "/x", later),
            Decision::Pass
        );
    }
}
