//! Access tokens issued by the emulated token endpoints (Scalekit, PingOne).

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::json;

use super::http::{ApiError, Reply, ok};
use super::{Shared, Vendor};

/// Issued tokens and when they expire. Tokens live in memory: after a restart clients get a
/// 401 and fetch a new one, as they must after any expiry.
#[derive(Debug, Default)]
pub struct Tokens {
    issued: HashMap<String, (Vendor, Instant)>,
    counter: u64,
}

impl Tokens {
    pub fn issue(&mut self, vendor: Vendor, ttl: Duration) -> String {
        self.counter += 1;
        let now = Instant::now();
        self.issued.retain(|_, (_, expiry)| *expiry > now);
        let nonce = RandomState::new().hash_one(self.counter);
        let token = format!("sbx_{}_{}_{nonce:016x}", vendor.as_str(), self.counter);
        self.issued.insert(token.clone(), (vendor, now + ttl));
        token
    }

    /// Whether `token` was issued for `vendor` and has not expired.
    pub fn is_valid(&self, vendor: Vendor, token: &str) -> bool {
        self.issued
            .get(token)
            .is_some_and(|(v, expiry)| *v == vendor && *expiry > Instant::now())
    }
}

/// An OAuth 2.0 token-endpoint error (RFC 6749 §5.2), as both Scalekit and PingOne send them.
pub fn oauth_error(status: StatusCode, code: &str, description: &str) -> ApiError {
    ApiError::new(
        status,
        json!({ "error": code, "error_description": description }),
    )
}

/// Issues a token for `vendor` and answers the token endpoint's success body.
pub fn token_reply(shared: &Shared, vendor: Vendor, default_ttl: Duration, scope: &str) -> Reply {
    let ttl = shared.token_ttl().map_or(default_ttl, Duration::from_secs);
    let access_token = shared.tokens().issue(vendor, ttl);
    ok(
        StatusCode::OK,
        json!({ "access_token": access_token, "token_type": "Bearer", "expires_in": ttl.as_secs(), "scope": scope }),
    )
}
