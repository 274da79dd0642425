//! `/_sandbox/...`: the control plane tests use to read counts, inject faults and load data.
//! It is not part of any vendor's API and is never counted in `stats`.

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
use super::{Shared, lock};

pub fn router() -> Router<Shared> {
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

/// Chooses the vendor shapes served from now on (JSON); `{}` restores the defaults.
async fn set_shapes(State(shared): State<Shared>, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body);
    let shapes: Shapes = if text.trim().is_empty() {
        Shapes::default()
    } else {
        match serde_json::from_str(&text) {
            Ok(shapes) => shapes,
            Err(e) => return bad_request(format!("invalid shapes: {e}")),
        }
    };
    shared.set_shapes(shapes);
    axum::Json(shapes).into_response()
}

async fn get_faults(State(shared): State<Shared>) -> Response {
    axum::Json(lock(&shared.faults).config.clone()).into_response()
}

/// Replaces the fault configuration (JSON or YAML); `{}` removes every fault.
async fn set_faults(State(shared): State<Shared>, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body);
    let config: FaultConfig = if text.trim().is_empty() {
        FaultConfig::default()
    } else {
        match serde_saphyr::from_str(&text) {
            Ok(config) => config,
            Err(e) => return bad_request(format!("invalid fault configuration: {e}")),
        }
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
