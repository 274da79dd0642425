//! The sandbox: one HTTP server that emulates Nirvana Labs, Scalekit, PingOne and WorkOS under path
//! prefixes, backed by SQLite, with a control plane for tests (docs/sandbox.md).
//!
//! It answers as each vendor does (paths, status codes, JSON shapes, pagination, auth, errors,
//! limits; docs/vendors/ records the choices made where a vendor publishes nothing), so that
//! orgform's real HTTP client code runs against it unchanged.

mod auth;
mod control;
mod emulator;
mod faults;
mod http;
mod mangle;
mod nirvana;
mod pages;
mod pingone;
mod scalekit;
mod seed;
mod server;
mod shapes;
mod state;
mod stats;
mod store;
mod tokens;
mod vendor;
mod workos;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use serde_json::Value;

pub use faults::{Chaos, Decision, FaultConfig, Faults, Mangle, Repeat, Script};
pub use seed::{Seed, SeedSummary};
pub use server::ConnectionLimits;
pub use shapes::{NirvanaErrorShape, NirvanaOrganizationShape, NirvanaShapes, Shapes};
pub use state::{Credentials, Sandbox, ServedAs, Shared};
pub use stats::{LoggedRequest, RouteCount, Stats, StatsReport};
pub use store::{SCHEMA_VERSION, Store, StoreError};
pub use tokens::Tokens;
pub use vendor::Vendor;

use state::lock;

use http::ApiError;

impl Sandbox {
    /// Opens the store and, the first time a database is used, loads the default seed.
    pub fn open(
        db: Option<&std::path::Path>,
        credentials: Credentials,
    ) -> Result<Self, SandboxError> {
        let store = Store::open(db)?;
        let sandbox = Self {
            store,
            credentials,
            tokens: Mutex::new(Tokens::default()),
            faults: Mutex::new(Faults::default()),
            stats: Mutex::new(Stats::default()),
            shapes: Mutex::new(Shapes::default()),
            control_token: None,
            served: ServedAs::default(),
        };
        let first_use = sandbox.store.lock().next_number("default-seed-applied")? == 1;
        if first_use {
            seed::apply(&sandbox.store.lock(), &Seed::default_seed())?;
        }
        Ok(sandbox)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("invalid seed: {0}")]
    Seed(String),
}

/// The whole HTTP surface: the three vendors and the control plane.
pub fn router(shared: Shared) -> Router {
    let vendors = Router::new()
        .nest("/nirvana", nirvana::router())
        .nest("/scalekit", scalekit::router())
        .nest("/pingone", pingone::router())
        .nest("/workos", workos::router())
        .route_layer(middleware::from_fn_with_state(shared.clone(), vendor_layer));
    Router::new()
        .merge(vendors)
        .nest("/_sandbox", control::router(shared.clone()))
        .fallback(unmatched)
        .with_state(shared)
}

/// Counts every vendor request and applies the configured faults before the handler runs.
async fn vendor_layer(
    State(shared): State<Shared>,
    matched: MatchedPath,
    request: Request,
    next: Next,
) -> Response {
    let route = matched.as_str().to_owned();
    let Some(vendor) = Vendor::of_path(&route) else {
        return next.run(request).await;
    };
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let (decision, latency, log_body) = {
        let mut faults = lock(&shared.faults);
        (
            faults.decide(vendor, &method, &route, Instant::now()),
            faults.latency(),
            faults.log_bodies(),
        )
    };
    // Kept for the request log only when the faults ask for it (tests checking bodies
    // against a vendor's spec): the body is read here and handed on unchanged.
    let (request, body) = if log_body && method != "GET" {
        let (parts, stream) = request.into_parts();
        let bytes = axum::body::to_bytes(stream, 64 << 10)
            .await
            .unwrap_or_default();
        let body = serde_json::from_slice::<Value>(&bytes).ok();
        (Request::from_parts(parts, Body::from(bytes)), body)
    } else {
        (request, None)
    };
    // The latency is the vendor's response time: the handler works while it runs.
    let answer_at = tokio::time::Instant::now() + latency;
    let dropped = decision == Decision::Drop;
    let response = match decision {
        Decision::Pass => next.run(request).await,
        Decision::Mangle(mangle, headers) => {
            let real = next.run(request).await;
            mangle::apply(vendor, &mangle, &headers, query.as_deref(), real).await
        }
        Decision::Answer {
            status,
            headers,
            body,
        } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let mut response = match body {
                Some(Value::Null) => status.into_response(),
                Some(body) => (status, axum::Json(body)).into_response(),
                None if status.is_client_error() || status.is_server_error() => {
                    vendor_error(vendor, status, "sandbox fault: scripted failure").into_response()
                }
                None => status.into_response(),
            };
            mangle::set_headers(response.headers_mut(), &headers);
            response
        }
        // A 429 is always sent the vendor's way, Retry-After included.
        Decision::Fail(429) => rate_limited(vendor, 1).into_response(),
        Decision::Fail(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            vendor_error(vendor, status, "sandbox fault: scripted failure").into_response()
        }
        Decision::RateLimited(seconds) => rate_limited(vendor, seconds).into_response(),
        Decision::Drop => dropped_connection(),
    };
    faults::wait_until(answer_at).await;
    // An error raised below the handler (the store's) gets the vendor's own shape here.
    let response = match response.extensions().get::<http::Unshaped>().cloned() {
        Some(http::Unshaped(message)) => {
            vendor_error(vendor, response.status(), &message).into_response()
        }
        None => response,
    };
    let response = match vendor {
        Vendor::Nirvana => shapes::nirvana_error(shared.shapes().nirvana, response).await,
        _ => response,
    };
    // A dropped connection has no status; the log records it as 0.
    let status = if dropped {
        0
    } else {
        response.status().as_u16()
    };
    // `sandbox serve -v`: one line per request served (never a header or a body).
    tracing::debug!(
        vendor = vendor.as_str(),
        method,
        route,
        status,
        ms = (answer_at - latency).elapsed().as_millis() as u64,
        "served"
    );
    lock(&shared.stats).record(LoggedRequest {
        seq: 0,
        vendor: vendor.as_str().to_owned(),
        method,
        route,
        path,
        query,
        body,
        status,
        ms: 0,
    });
    response
}

/// A vendor's error body for `status` with a generic code, used for faults and unknown paths.
fn vendor_error(vendor: Vendor, status: StatusCode, message: &str) -> ApiError {
    match vendor {
        Vendor::Nirvana => nirvana::error_for_status(status, message),
        Vendor::Scalekit => scalekit::error_for_status(status, message),
        Vendor::PingOne => pingone::error_for_status(status, message),
        Vendor::Workos => workos::error_for_status(status, message),
    }
}

/// 429 as each vendor sends it: Nirvana and PingOne with `Retry-After`, Scalekit without.
fn rate_limited(vendor: Vendor, seconds: u64) -> ApiError {
    let mut error = vendor_error(vendor, StatusCode::TOO_MANY_REQUESTS, "rate limit exceeded");
    if vendor != Vendor::Scalekit {
        error.retry_after = Some(seconds);
    }
    error
}

/// A response whose body fails before a byte is written: the server closes the connection and
/// the client sees it dropped mid-request.
fn dropped_connection() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "sandbox fault: connection dropped",
        ))
    });
    Response::new(Body::from_stream(failing))
}

/// Unknown paths: the vendor's own 404 under its prefix, a plain 404 elsewhere.
async fn unmatched(State(shared): State<Shared>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    match Vendor::of_path(&path) {
        Some(vendor) => {
            let method = request.method().as_str().to_owned();
            let query = request.uri().query();
            lock(&shared.stats).record(LoggedRequest {
                seq: 0,
                vendor: vendor.as_str().to_owned(),
                method,
                route: "<unmatched>".to_owned(),
                path: path.clone(),
                query: query.map(str::to_owned),
                body: None,
                status: 404,
                ms: 0,
            });
            vendor_error(vendor, StatusCode::NOT_FOUND, "no such route").into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            "not found: the sandbox serves /nirvana, /scalekit, /pingone and /_sandbox",
        )
            .into_response(),
    }
}

/// A sandbox serving on a socket, stopped when dropped or by [`RunningSandbox::stop`].
pub struct RunningSandbox {
    pub addr: SocketAddr,
    pub shared: Shared,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningSandbox {
    /// `http://127.0.0.1:PORT`; vendors are under `/nirvana`, `/scalekit`, `/pingone`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn vendor_url(&self, vendor: Vendor) -> String {
        format!("{}/{}", self.base_url(), vendor.as_str())
    }

    /// A line per emulated vendor: its base URL and the credentials it accepts, as
    /// `sandbox serve` prints them.
    pub fn vendor_lines(&self) -> Vec<String> {
        let c = &self.shared.credentials;
        Vendor::ALL
            .into_iter()
            .map(|vendor| {
                let url = self.vendor_url(vendor);
                let accepts = match vendor {
                    Vendor::Nirvana => format!("NIRVANA_LABS_API_KEY={}", c.nirvana_api_key),
                    Vendor::Scalekit => format!(
                        "SCALEKIT_CLIENT_ID={} SCALEKIT_CLIENT_SECRET={}",
                        c.scalekit_client_id, c.scalekit_client_secret
                    ),
                    Vendor::PingOne => format!(
                        "auth_url {url}/auth   PINGONE_ENVIRONMENT_ID={} PINGONE_CLIENT_ID={} PINGONE_CLIENT_SECRET={}",
                        c.pingone_environment_id, c.pingone_client_id, c.pingone_client_secret
                    ),
                    Vendor::Workos => format!("WORKOS_API_KEY={}", c.workos_api_key),
                };
                format!("  {:<10} url {url}   {accepts}", format!("{}:", vendor.as_str()))
            })
            .collect()
    }

    /// Stops accepting requests and waits for the server task to end.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Options for [`start`]. The default listens on an ephemeral loopback port with an in-memory
/// database and the default credentials.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    pub addr: String,
    pub db: Option<PathBuf>,
    pub seed: Option<Seed>,
    pub credentials: Credentials,
    pub shapes: Shapes,
    /// Required by the control plane (`/_sandbox/…` except `health`) when set.
    pub control_token: Option<String>,
    pub limits: ConnectionLimits,
    /// Names the control plane answers to besides IP addresses and `localhost` (e.g. a CI
    /// service's host name).
    pub host_names: Vec<String>,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:0".into(),
            db: None,
            seed: None,
            credentials: Credentials::default(),
            shapes: Shapes::default(),
            control_token: None,
            limits: ConnectionLimits::default(),
            host_names: Vec::new(),
        }
    }
}

/// Starts a sandbox in this process (on the current tokio runtime) and returns once it listens.
pub async fn start(options: SandboxOptions) -> Result<RunningSandbox, SandboxError> {
    let mut sandbox = Sandbox::open(options.db.as_deref(), options.credentials)?;
    sandbox.set_shapes(options.shapes);
    sandbox.control_token = options.control_token;
    if let Some(seed) = &options.seed {
        seed::apply(&sandbox.store.lock(), seed)?;
    }
    let listener = server::bind(&options.addr)
        .await
        .map_err(|source| SandboxError::Bind {
            addr: options.addr.clone(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
        addr: options.addr.clone(),
        source,
    })?;
    sandbox.served = ServedAs {
        port: addr.port(),
        host_names: options.host_names,
    };
    let shared = Arc::new(sandbox);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = router(shared.clone());
    let limits = options.limits;
    let task = tokio::spawn(server::serve(listener, app, limits, rx));
    Ok(RunningSandbox {
        addr,
        shared,
        shutdown: Some(tx),
        task: Some(task),
    })
}
