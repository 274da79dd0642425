//! Which of a vendor's published shapes the sandbox serves, where versions of the vendor differ,
//! so that tests cover every shape a client meets. Set when the sandbox starts
//! (`sandbox serve --nirvana-organizations …`) or at any time with `POST /_sandbox/shapes`.
//!
//! Nirvana Labs:
//! - organizations: `metronome` (older API versions: `metronome_customer_id`) or `billing`
//!   (the current SDK, 1.93 and later: `billing_state`, `billing_state_since` and
//!   `charging_model`, and no `metronome_customer_id`). The values of the billing fields are
//!   not published; the sandbox answers `active`, the creation time, and `usage`.
//! - errors: `nested` (`{"error": {"code", "message"}}`) or `flat` (`{"code", "message"}`, the
//!   top-level `message` the official SDK builds its error text from).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum NirvanaOrganizationShape {
    #[default]
    Metronome,
    Billing,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum NirvanaErrorShape {
    #[default]
    Nested,
    Flat,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NirvanaShapes {
    #[serde(default)]
    pub organizations: NirvanaOrganizationShape,
    #[serde(default)]
    pub errors: NirvanaErrorShape,
}

/// Every vendor's shapes (`GET`/`POST /_sandbox/shapes`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shapes {
    #[serde(default)]
    pub nirvana: NirvanaShapes,
}

impl NirvanaShapes {
    /// A stored organization (kept in the older shape) as this version shows it.
    pub fn organization(&self, mut organization: Value) -> Value {
        if self.organizations == NirvanaOrganizationShape::Billing
            && let Some(map) = organization.as_object_mut()
        {
            map.remove("metronome_customer_id");
            let since = map.get("created_at").cloned().unwrap_or(Value::Null);
            map.insert("billing_state".into(), json!("active"));
            map.insert("billing_state_since".into(), since);
            map.insert("charging_model".into(), json!("usage"));
        }
        organization
    }

    /// A Nirvana error body (`{"error": {"code", "message"}}`) as this version sends it.
    pub fn error_body(&self, body: Value) -> Value {
        match (self.errors, &body["error"]) {
            (NirvanaErrorShape::Flat, Value::Object(error)) => {
                json!({ "code": error.get("code"), "message": error.get("message") })
            }
            _ => body,
        }
    }
}

/// An error answer with its body in `shapes`' error shape (other answers pass unchanged).
pub async fn nirvana_error(
    shapes: NirvanaShapes,
    response: axum::response::Response,
) -> axum::response::Response {
    let status = response.status();
    if shapes.errors == NirvanaErrorShape::Nested
        || !(status.is_client_error() || status.is_server_error())
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return axum::response::Response::from_parts(parts, axum::body::Body::empty());
    };
    let bytes = match serde_json::from_slice::<Value>(&bytes) {
        Ok(value) => serde_json::to_vec(&shapes.error_body(value)).unwrap_or(bytes.to_vec()),
        Err(_) => bytes.to_vec(),
    };
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_billing_shape_replaces_the_metronome_field() {
        let stored = json!({ "id": "org_1", "created_at": "2026-01-01T00:00:00Z", "metronome_customer_id": null });
        let billing = NirvanaShapes {
            organizations: NirvanaOrganizationShape::Billing,
            ..NirvanaShapes::default()
        };
        let shown = billing.organization(stored.clone());
        assert!(shown.get("metronome_customer_id").is_none());
        assert_eq!(shown["billing_state_since"], "2026-01-01T00:00:00Z");
        assert_eq!(
            NirvanaShapes::default().organization(stored.clone()),
            stored
        );
    }

    #[test]
    fn a_flat_error_has_its_message_at_the_top() {
        let nested = json!({ "error": { "code": "not_found", "message": "no such organization" } });
        let flat = NirvanaShapes {
            errors: NirvanaErrorShape::Flat,
            ..NirvanaShapes::default()
        };
        assert_eq!(
            flat.error_body(nested.clone()),
            json!({ "code": "not_found", "message": "no such organization" })
        );
        assert_eq!(NirvanaShapes::default().error_body(nested.clone()), nested);
    }
}
