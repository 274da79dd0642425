//! Errors from talking to a vendor. Each names the provider, the resource, the request and
//! what the vendor answered; none ever contains a credential.

use std::fmt;

/// What went wrong with one API request (after retries).
#[derive(Debug, Clone, thiserror::Error)]
pub struct ApiError {
    pub provider: String,
    pub vendor: &'static str,
    /// The resource the request was for, e.g. `org.acme` or `organizations (list)`.
    pub resource: String,
    pub method: String,
    /// The path of the request, without host or query.
    pub path: String,
    pub kind: ApiErrorKind,
    pub attempts: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiErrorKind {
    /// The vendor answered with this status and message.
    Status { status: u16, message: String },
    /// No answer: connection refused or dropped, timeout.
    Transport(String),
    /// The answer was not the JSON we expect.
    Decode(String),
    /// Credentials are missing or were refused by the token endpoint.
    Auth(String),
    /// The answers contradict themselves or what was asked (a listing that repeats an item,
    /// loops, or ends before its reported total; an object other than the one asked for).
    Inconsistent(String),
    /// A redirect that orgform does not follow (writes and token requests never; reads only
    /// on the API's origin).
    Redirect {
        status: u16,
        location: Option<String>,
    },
    /// The vendor asked to wait longer than orgform waits.
    RetryAfterTooLong {
        status: u16,
        /// Seconds.
        asked: u64,
        /// Seconds.
        limit: u64,
    },
    /// The answer was larger than orgform reads.
    TooLarge { size: String, cap: usize },
    /// The run's deadline (`--timeout`) passed before the request was answered: `cause` is
    /// what the last attempt met (e.g. a refused connection), `write` whether the request could
    /// have changed something.
    Deadline { cause: Option<String>, write: bool },
    /// The request was not sent: an id cannot be a path segment of its route.
    BadPath(String),
}

impl ApiError {
    /// Whether trying again may succeed: no answer, a timeout, 429 or 5xx.
    pub fn is_retryable(&self) -> bool {
        match &self.kind {
            ApiErrorKind::Transport(_) => true,
            ApiErrorKind::Status { status, .. } => {
                *status == 429 || *status == 408 || *status >= 500
            }
            ApiErrorKind::Auth(_)
            | ApiErrorKind::Decode(_)
            | ApiErrorKind::Inconsistent(_)
            | ApiErrorKind::Redirect { .. }
            | ApiErrorKind::RetryAfterTooLong { .. }
            | ApiErrorKind::TooLarge { .. }
            | ApiErrorKind::Deadline { .. }
            | ApiErrorKind::BadPath(_) => false,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match &self.kind {
            ApiErrorKind::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} provider `{}`: {} {} (for {}) ",
            self.vendor, self.provider, self.method, self.path, self.resource
        )?;
        write!(f, "{}", self.kind)?;
        if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        Ok(())
    }
}

/// What happened to the request, as the error's sentence ends: "answered 503: …",
/// "failed: …". Also what a deadline says its last attempt met.
impl fmt::Display for ApiErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiErrorKind::Status { status, message } => write!(f, "answered {status}: {message}")?,
            ApiErrorKind::Transport(e) => write!(f, "failed: {e}")?,
            ApiErrorKind::Decode(e) => write!(f, "answered with an unexpected body: {e}")?,
            ApiErrorKind::Auth(e) => write!(f, "could not authenticate: {e}")?,
            ApiErrorKind::Inconsistent(e) => write!(
                f,
                "answered inconsistently: {e}; nothing was planned from it"
            )?,
            ApiErrorKind::Redirect { status, location } => write!(
                f,
                "answered {status} redirecting to {}, which orgform does not follow (writes never follow redirects, reads only on the API's origin); set the provider's URL to the final address",
                location.as_deref().unwrap_or("nowhere")
            )?,
            ApiErrorKind::RetryAfterTooLong {
                status,
                asked,
                limit,
            } => write!(
                f,
                "answered {status} asking to wait {asked} s (Retry-After), longer than orgform waits ({limit} s)"
            )?,
            ApiErrorKind::TooLarge { size, cap } => write!(
                f,
                "answered with {size}, more than orgform reads ({} MiB); nothing was planned from it",
                cap / (1024 * 1024)
            )?,
            ApiErrorKind::Deadline { cause, write } => {
                write!(f, "was cut off: the run's deadline (--timeout) passed")?;
                if let Some(cause) = cause {
                    write!(f, " (the last attempt {cause})")?;
                }
                if *write {
                    write!(
                        f,
                        "; a write cut off this way may or may not have taken effect"
                    )?;
                }
            }
            ApiErrorKind::BadPath(e) => write!(f, "was not sent: {e}")?,
        }
        Ok(())
    }
}

/// A provider that cannot even be set up (e.g. a missing credential variable).
#[derive(Debug, Clone, thiserror::Error)]
#[error("provider `{provider}`: {message}")]
pub struct SetupError {
    pub provider: String,
    pub message: String,
}

/// The vendor's own words from an error body, whichever vendor it is.
pub fn vendor_message(body: &serde_json::Value) -> Option<String> {
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    // Nirvana: {"error": {"code", "message"}}; OAuth: {"error", "error_description"}
    if let Some(message) = text(&body["error"]["message"]) {
        let code = text(&body["error"]["code"])
            .map(|c| format!("{c}: "))
            .unwrap_or_default();
        return Some(format!("{code}{message}"));
    }
    if let Some(description) = text(&body["error_description"]) {
        return Some(format!(
            "{}: {description}",
            text(&body["error"]).unwrap_or_default()
        ));
    }
    // Scalekit: {"code": int, "message", "details": [{"error_code", "validation_error_info"}]}
    // PingOne: {"id", "code": "...", "message", "details": [{"code", "target", "message"}]}
    let message = text(&body["message"])?;
    let mut parts = Vec::new();
    if let Some(code) = text(&body["code"]).or_else(|| text(&body["details"][0]["error_code"])) {
        parts.push(code);
    }
    parts.push(message);
    for detail in body["details"].as_array().into_iter().flatten() {
        if let Some(m) = text(&detail["message"]) {
            let target = text(&detail["target"])
                .map(|t| format!("{t}: "))
                .unwrap_or_default();
            parts.push(format!("{target}{m}"));
        }
        for violation in detail["validation_error_info"]["field_violations"]
            .as_array()
            .into_iter()
            .flatten()
        {
            parts.push(format!(
                "{}: {}",
                text(&violation["field"]).unwrap_or_default(),
                text(&violation["description"]).unwrap_or_default()
            ));
        }
    }
    Some(parts.join(": "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_are_found_in_every_vendor_shape() {
        assert_eq!(
            vendor_message(
                &json!({ "error": { "code": "not_found", "message": "organization not found" } })
            )
            .unwrap(),
            "not_found: organization not found"
        );
        assert_eq!(
            vendor_message(&json!({ "code": 3, "message": "invalid metadata", "details": [{ "error_code": "INVALID_ARGUMENT", "validation_error_info": { "field_violations": [{ "field": "metadata", "description": "too many" }] } }] })).unwrap(),
            "INVALID_ARGUMENT: invalid metadata: metadata: too many"
        );
        assert_eq!(
            vendor_message(&json!({ "id": "x", "code": "INVALID_DATA", "message": "bad", "details": [{ "code": "INVALID_VALUE", "target": "filter", "message": "nope" }] })).unwrap(),
            "INVALID_DATA: bad: filter: nope"
        );
        assert_eq!(
            vendor_message(&json!({ "error": "invalid_client", "error_description": "denied" }))
                .unwrap(),
            "invalid_client: denied"
        );
        assert_eq!(vendor_message(&json!("plain")), None);
    }
}
