//! The emulated token endpoints' replies (Scalekit, PingOne).

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::json;

use super::http::{ApiError, Reply, ok};
use super::state::Shared;
use super::vendor::Vendor;

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
