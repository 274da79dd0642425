//! The retry policy of apply steps, as a pure function: an error and an attempt number in, a
//! decision out.

use std::time::Duration;

use crate::provider::{ApiError, RetryPolicy};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Try again after waiting this long.
    After(Duration),
    GiveUp,
}

/// Whether and when to try `attempt` (1-based, the one that just failed) again. `jitter` in
/// [0, 1) spreads retries of concurrent steps; the caller supplies it, keeping this pure.
pub fn decide(error: &ApiError, attempt: u32, policy: &RetryPolicy, jitter: f64) -> Retry {
    if !error.is_retryable() || attempt as usize > policy.max_retries {
        return Retry::GiveUp;
    }
    let exponential = policy
        .min_delay
        .saturating_mul(1 << attempt.min(16).saturating_sub(1));
    let capped = exponential.min(policy.max_delay);
    Retry::After(capped + capped.mul_f64(jitter.clamp(0.0, 1.0) / 2.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::ApiErrorKind;

    fn error(kind: ApiErrorKind) -> ApiError {
        ApiError {
            provider: "p".into(),
            vendor: "scalekit",
            resource: "org.a".into(),
            method: "POST".into(),
            path: "/x".into(),
            kind,
            attempts: 1,
        }
    }

    #[test]
    fn retries_only_what_is_retryable_with_growing_capped_delays() {
        let policy = RetryPolicy {
            max_retries: 4,
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            timeout: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        let busy = error(ApiErrorKind::Status {
            status: 503,
            message: String::new(),
        });
        let delays: Vec<Retry> = (1..=5).map(|a| decide(&busy, a, &policy, 0.0)).collect();
        assert_eq!(
            delays,
            [
                Retry::After(Duration::from_millis(100)),
                Retry::After(Duration::from_millis(200)),
                Retry::After(Duration::from_millis(350)),
                Retry::After(Duration::from_millis(350)),
                Retry::GiveUp
            ]
        );
        assert_eq!(
            decide(&busy, 1, &policy, 1.0),
            Retry::After(Duration::from_millis(150))
        );
        for kind in [
            ApiErrorKind::Status {
                status: 400,
                message: String::new(),
            },
            ApiErrorKind::Status {
                status: 409,
                message: String::new(),
            },
            ApiErrorKind::Auth(String::new()),
        ] {
            assert_eq!(decide(&error(kind), 1, &policy, 0.0), Retry::GiveUp);
        }
        assert!(matches!(
            decide(
                &error(ApiErrorKind::Transport("dropped".into())),
                1,
                &policy,
                0.0
            ),
            Retry::After(_)
        ));
        assert!(matches!(
            decide(
                &error(ApiErrorKind::Status {
                    status: 429,
                    message: String::new()
                }),
                1,
                &policy,
                0.0
            ),
            Retry::After(_)
        ));
    }
}
