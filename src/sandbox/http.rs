//! Pieces shared by the vendor emulators: error replies, timestamps, cursors, tokens.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::store::StoreError;

/// A reply that is not a success: a status, the vendor's error body, and maybe `Retry-After`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Value,
    pub retry_after: Option<u64>,
    /// Raised below the vendor's handler (by the store), which does not know whose error shape
    /// to use: the vendor layer writes the body in the vendor's shape ([`Unshaped`]).
    unshaped: Option<String>,
}

/// The message of an error the vendor layer is to shape as its vendor does.
#[derive(Debug, Clone)]
pub struct Unshaped(pub String);

impl ApiError {
    pub fn new(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            body,
            retry_after: None,
            unshaped: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(message) = self.unshaped {
            response.extensions_mut().insert(Unshaped(message));
        }
        response
    }
}

/// A store failure is a sandbox bug, not vendor behaviour: say so plainly.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        if let StoreError::Duplicate { .. } = &error {
            // Another sandbox process on the same database won the race: the vendor's conflict,
            // in the vendor's shape (the vendor layer writes it).
            let message = error.to_string();
            return ApiError {
                unshaped: Some(message.clone()),
                ..ApiError::new(
                    StatusCode::CONFLICT,
                    serde_json::json!({ "message": message }),
                )
            };
        }
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({ "message": format!("sandbox store failure: {error}") }),
        )
    }
}

pub type Reply = Result<Response, ApiError>;

/// Whether `text` is an e-mail address the vendors accept (with a top-level domain).
pub fn is_email(text: &str) -> bool {
    email_address::EmailAddress::parse_with_options(
        text,
        email_address::Options::default().with_required_tld(),
    )
    .is_ok()
}

/// A JSON success reply.
pub fn ok(status: StatusCode, body: Value) -> Reply {
    Ok((status, axum::Json(body)).into_response())
}

/// RFC 3339 UTC timestamp with milliseconds, as all three vendors write them.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The token of an `Authorization: Bearer` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Parses a JSON request body; `None` when it is not a JSON object.
pub fn json_object(body: &[u8]) -> Option<serde_json::Map<String, Value>> {
    match serde_json::from_slice::<Value>(body).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The scheme and host the client used, for links in responses (PingOne's HAL `_links`).
pub fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}
