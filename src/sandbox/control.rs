//! `/_sandbox/...`: the control plane tests use to read counts, inject faults and load data.
//! It is not part of any vendor's API and is never counted in `stats`.
//!
//! It can wipe and re-seed the sandbox, so it refuses what a web page could send: a request
//! whose `Origin` is not the sandbox's own (403), and a body that is not JSON or YAML by its
//! `Content-Type` (415): a cross-origin form post carries one or the other. With a control
//! token (`sandbox serve --control-token`, required off loopback) every control route but
//! `/health` needs `Authorization: Bearer TOKEN` (401). A `Host` other than the sandbox's own
//! address (an IP literal or `localhost` with the port served, or a `--host-name`) is refused
//! (403): that is a DNS-rebinding page.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::faults::FaultConfig;
use super::seed::{self, Seed};
use super::shapes::Shapes;
use super::state::{Shared, lock};

pub fn router(shared: Shared) -> Router<Shared> {
    Router::new()
        .route("/stats", get(stats))
        .route("/requests", get(requests))
        .route("/faults", get(get_faults).post(set_faults))
        .route("/shapes", get(get_shapes).post(set_shapes))
        // Seeds are test data of any size a test or benchmark needs (100,000 organizations are
        // some 30 MB of YAML); every other route keeps axum's 2 MB limit.
        .route(
            "/seed",
            post(load_seed).layer(axum::extract::DefaultBodyLimit::max(MAX_SEED_BYTES)),
        )
        .route("/reset", post(reset))
        .route_layer(axum::middleware::from_fn_with_state(shared, guard))
        // Open to everyone: CI health checks carry no token.
        .route("/health", get(health))
}

/// `GET /_sandbox/health`: the database is open and the routes are served.
async fn health(State(shared): State<Shared>) -> Response {
    match shared.store.lock().next_number("health-check") {
        Ok(_) => axum::Json(json!({ "status": "ok" })).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({ "status": "unavailable", "error": e.to_string() })),
        )
            .into_response(),
    }
}

/// Content types of a control request's body: what no HTML form can send.
const BODY_TYPES: [&str; 4] = [
    "application/json",
    "application/yaml",
    "application/x-yaml",
    "text/yaml",
];

/// Refuses browser cross-origin requests and, with a control token, requests without it.
async fn guard(
    State(shared): State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let headers = request.headers();
    let text = |name: axum::http::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    // A DNS-rebinding page reaches the sandbox under the attacker's name, with a matching
    // `Origin`: only the names the sandbox is served as are answered.
    let host = text(axum::http::header::HOST).unwrap_or_default();
    if !shared.served.accepts(&host) {
        return refusal(
            StatusCode::FORBIDDEN,
            format!(
                "the control plane answers only requests addressed to this sandbox ({}), not to `{host}`; `sandbox serve --host-name NAME` adds a name",
                shared.served.describe()
            ),
        );
    }
    if let Some(origin) = text(axum::http::header::ORIGIN) {
        let own = text(axum::http::header::HOST).map(|host| format!("http://{host}"));
        if own.as_deref() != Some(origin.as_str()) {
            return refusal(
                StatusCode::FORBIDDEN,
                format!("the control plane takes no requests from other origins ({origin})"),
            );
        }
    }
    if let Some(token) = &shared.control_token {
        let given = text(axum::http::header::AUTHORIZATION);
        let expected = format!("Bearer {token}");
        let matches = given.is_some_and(|given| {
            // Compared in constant time: the token guards the whole sandbox.
            given.len() == expected.len()
                && given
                    .bytes()
                    .zip(expected.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        });
        if !matches {
            return refusal(
                StatusCode::UNAUTHORIZED,
                "the control plane needs `Authorization: Bearer <control token>`".into(),
            );
        }
    }
    let content_type = text(axum::http::header::CONTENT_TYPE).map(|t| {
        t.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    });
    // Not read here: each route keeps its own body limit.
    let empty = axum::body::HttpBody::size_hint(request.body()).exact() == Some(0);
    let form_type = content_type.as_deref().is_some_and(|t| {
        matches!(
            t,
            "application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain"
        )
    });
    let body_type_ok = content_type
        .as_deref()
        .is_some_and(|t| BODY_TYPES.contains(&t));
    if form_type || (!empty && !body_type_ok) {
        return refusal(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "a control request's body must be JSON or YAML (Content-Type application/json or application/yaml), not {}",
                content_type.as_deref().unwrap_or("untyped")
            ),
        );
    }
    next.run(request).await
}

fn refusal(status: StatusCode, message: String) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

/// The largest seed the sandbox takes.
const MAX_SEED_BYTES: usize = 512 * 1024 * 1024;

fn bad_request(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({ "error": message })),
    )
        .into_response()
}

async fn stats(State(shared): State<Shared>) -> Response {
    axum::Json(shared.stats()).into_response()
}

/// Every vendor request in the order answered (the last 200,000).
async fn requests(State(shared): State<Shared>) -> Response {
    axum::Json(lock(&shared.stats).log()).into_response()
}

async fn get_shapes(State(shared): State<Shared>) -> Response {
    axum::Json(shared.shapes()).into_response()
}

/// A control body parsed by `parse`: an empty one is the default (no faults, default shapes);
/// the error is the answer's message.
fn settings<T: Default, E: std::fmt::Display>(
    body: &[u8],
    what: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<T, String> {
    let text = String::from_utf8_lossy(body);
    if text.trim().is_empty() {
        return Ok(T::default());
    }
    parse(&text).map_err(|e| format!("invalid {what}: {e}"))
}

/// Chooses the vendor shapes served from now on (JSON); `{}` restores the defaults.
async fn set_shapes(State(shared): State<Shared>, body: Bytes) -> Response {
    let shapes: Shapes = match settings(&body, "shapes", |t| serde_json::from_str(t)) {
        Ok(shapes) => shapes,
        Err(why) => return bad_request(why),
    };
    shared.set_shapes(shapes);
    axum::Json(shapes).into_response()
}

async fn get_faults(State(shared): State<Shared>) -> Response {
    axum::Json(lock(&shared.faults).config.clone()).into_response()
}

/// Replaces the fault configuration (JSON or YAML); `{}` removes every fault.
async fn set_faults(State(shared): State<Shared>, body: Bytes) -> Response {
    let config: FaultConfig =
        match settings(&body, "fault configuration", |t| serde_saphyr::from_str(t)) {
            Ok(config) => config,
            Err(why) => return bad_request(why),
        };
    if let Err(why) = config.check() {
        return bad_request(format!("invalid fault configuration: {why}"));
    }
    lock(&shared.faults).configure(config.clone());
    axum::Json(config).into_response()
}

/// Loads a fixture (JSON or YAML); answers with the ids created.
async fn load_seed(State(shared): State<Shared>, body: Bytes) -> Response {
    let seed = match Seed::parse(&String::from_utf8_lossy(&body)) {
        Ok(seed) => seed,
        Err(e) => return bad_request(e.to_string()),
    };
    match seed::apply(&shared.store.lock(), &seed) {
        Ok(summary) => (StatusCode::OK, axum::Json(summary)).into_response(),
        Err(e) => bad_request(e.to_string()),
    }
}

/// Empties the store, the counts and the faults, then loads the default seed
/// (`?empty=true` leaves the store empty).
async fn reset(
    State(shared): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let result = {
        let db = shared.store.lock();
        db.clear().and_then(|()| {
            db.next_number("default-seed-applied")?;
            if query.get("empty").is_some_and(|v| v == "true") {
                Ok(())
            } else {
                seed::apply(&db, &Seed::default_seed()).map(|_| ())
            }
        })
    };
    lock(&shared.stats).clear();
    lock(&shared.faults).configure(FaultConfig::default());
    match result {
        Ok(()) => (StatusCode::OK, axum::Json(json!({ "reset": true }))).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({ "error": e.to_string() })),
        )
            .into_response(),
    }
}
