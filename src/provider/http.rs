//! The client layer every provider shares, and the one place where bytes cross: authentication
//! with token caching, bounded parallelism, an optional client-side rate budget, and retries
//! with exponential backoff and jitter on timeouts, 429 and 5xx that honour `Retry-After`.
//!
//! It also bounds what a vendor can make orgform do: answers are read up to a size cap while
//! streaming; a `Retry-After` beyond a cap fails the request instead of waiting; a run deadline
//! ends every request; token requests and writes never follow redirects and reads follow them
//! only on the API's origin, so neither a client secret nor a bearer token goes elsewhere.

// ApiError is large because it carries what the user needs to know; errors are rare.
#![allow(clippy::result_large_err)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::{Mutex, Semaphore};

use super::error::{ApiError, ApiErrorKind, vendor_message};
use super::route::VendorPath;
use crate::manifest::Secret;
use crate::redact::redact;

/// How requests are authenticated.
pub enum Auth {
    /// A static key sent as `Authorization: Bearer` (Nirvana).
    ApiKey(Secret),
    /// OAuth 2.0 client credentials (Scalekit by form, PingOne by HTTP Basic).
    ClientCredentials {
        token_url: String,
        client_id: String,
        client_secret: Secret,
        basic: bool,
        cache: Mutex<Option<CachedToken>>,
    },
}

pub struct CachedToken {
    token: Secret,
    renew_at: Instant,
}

/// How often and how patiently to retry, and how much of a vendor's answer to accept.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_retries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// One request's time limit.
    pub timeout: Duration,
    /// A `Retry-After` longer than this fails the request (saying what the vendor asked for).
    pub max_retry_after: Duration,
    /// Answers larger than this are refused while they stream in.
    pub max_body_bytes: usize,
    /// When the whole run must end: no request runs past it.
    pub deadline: Option<tokio::time::Instant>,
    /// A provider with no good answer for this long makes no progress: throttled requests stop
    /// being retried.
    pub stall: Duration,
    /// `false`: the provider's gate only counts, and each request retries a 429 on its own up to
    /// `max_retries` times, waiting out its own `Retry-After`: orgform before the adaptive gate,
    /// kept so that the rate benchmark can run both side by side.
    pub adaptive: bool,
}

/// The default answer-size cap: a page of 100 organizations is about 100 KB.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// The default `Retry-After` cap.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);
/// The longest token lifetime believed; a longer `expires_in` is taken as this.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// Same-origin redirects a read follows at most.
const MAX_REDIRECTS: usize = 5;

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 6,
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_retry_after: MAX_RETRY_AFTER,
            max_body_bytes: MAX_BODY_BYTES,
            deadline: None,
            stall: super::gate::STALL,
            adaptive: true,
        }
    }
}

tokio::task_local! {
    /// Set while a listing that other reads wait for pages through ([`ahead`]).
    static AHEAD: ();
}

/// Runs `listing` with its requests ahead of the fan-out of `client`'s other requests: a
/// listing goes page after page, and the reads started from its pages (or beside it) would
/// otherwise take every permit, so each next page waited behind a round of them. While the
/// listing runs it keeps one permit from the others, which its requests take without queueing;
/// when it ends the others have every permit again. The parallelism stays the bound.
pub async fn ahead<F: Future>(client: &HttpClient, listing: F) -> F::Output {
    let _reserved = client
        .behind
        .acquire()
        .await
        .expect("the semaphore is never closed");
    AHEAD.scope((), listing).await
}

/// One provider's connection.
pub struct HttpClient {
    pub provider: String,
    pub vendor: &'static str,
    base_url: String,
    /// For reads: follows redirects on the API's origin only.
    reads: reqwest::Client,
    /// For writes and token requests: follows no redirect at all.
    writes: reqwest::Client,
    auth: Auth,
    permits: Arc<Semaphore>,
    /// What requests not [`ahead`] take before a permit: as many as the permits, less one for
    /// each listing running [`ahead`], so that its next page never queues behind a fan-out of
    /// reads.
    behind: Arc<Semaphore>,
    parallelism: usize,
    /// Every request of this provider passes it: provider-wide pauses, counts.
    gate: super::gate::Gate,
    /// Set when an organization listing ended without a total to check it against.
    unproven_listing: std::sync::atomic::AtomicBool,
    retry: RetryPolicy,
}

/// A final answer: a success, or an error status the caller may handle (e.g. 404). The body
/// stays bytes until a caller decodes it into the type it expects.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub bytes: Vec<u8>,
}

impl Answer {
    /// The body as loose JSON (`null` when empty or not JSON), for reading an error message.
    pub fn body(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }
}

/// A body decoded straight from its bytes into the shape `T` expects (no loose JSON tree in
/// between), or what was wrong: an empty body, or the path of the first field that is missing
/// or of the wrong type.
pub(crate) fn decode_body<T: serde::de::DeserializeOwned>(
    status: StatusCode,
    bytes: &[u8],
) -> Result<T, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(format!("an empty answer (status {})", status.as_u16()));
    }
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let decoded = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let at = e.path().to_string();
        if at == "." {
            e.inner().to_string()
        } else {
            format!("{at}: {}", e.inner())
        }
    })?;
    json.end().map_err(|e| e.to_string())?;
    Ok(decoded)
}

/// The body of an error answer: its JSON, or the start of its text.
fn error_body(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(bytes).unwrap_or_else(|_| {
        Value::String(String::from_utf8_lossy(bytes).chars().take(200).collect())
    })
}

/// One attempt's failure, and whether (and when) to try again.
struct Attempt {
    kind: ApiErrorKind,
    retry: bool,
    /// What the vendor's `Retry-After` asked for (a fixed gate waits it out per request).
    retry_after: Option<Duration>,
}

impl HttpClient {
    pub fn new(
        provider: &str,
        vendor: &'static str,
        base_url: &str,
        auth: Auth,
        parallelism: u32,
        requests_per_second: Option<f64>,
        retry: RetryPolicy,
    ) -> Self {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let origin = reqwest::Url::parse(&base_url).ok().map(|u| u.origin());
        let same_origin = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error("too many redirects")
            } else if origin.as_ref() == Some(&attempt.url().origin()) {
                attempt.follow()
            } else {
                attempt.stop()
            }
        });
        let client = |policy| {
            reqwest::Client::builder()
                .timeout(retry.timeout)
                .pool_max_idle_per_host(parallelism as usize)
                .redirect(policy)
                .build()
        };
        Self {
            provider: provider.to_owned(),
            vendor,
            base_url,
            reads: client(same_origin).expect("an HTTP client"),
            writes: client(reqwest::redirect::Policy::none()).expect("an HTTP client"),
            auth,
            permits: Arc::new(Semaphore::new(parallelism.max(1) as usize)),
            behind: Arc::new(Semaphore::new(parallelism.max(1) as usize)),
            unproven_listing: Default::default(),
            gate: {
                let gate =
                    super::gate::Gate::with_ceiling(requests_per_second).with_stall(retry.stall);
                if retry.adaptive { gate } else { gate.fixed() }
            },
            parallelism: parallelism.max(1) as usize,
            retry,
        }
    }

    /// The base URL the vendor's documented paths are appended to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Requests this client sends at once at most.
    pub fn parallelism(&self) -> usize {
        self.parallelism
    }

    /// Whether the provider makes progress (throttled creates are retried while it does).
    pub fn progressing(&self) -> bool {
        self.gate.progressing()
    }

    /// The gate every request of this provider passes: where its pace starts, what it learned,
    /// and what it saw ([`super::gate::Gate::report`]).
    pub fn gate(&self) -> &super::gate::Gate {
        &self.gate
    }

    /// Records whether the organization listing could be checked against a vendor-reported
    /// total.
    pub fn note_listing(&self, had_total: bool) {
        if !had_total {
            self.unproven_listing
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Whether every organization listing read so far was proven complete by the vendor's
    /// total. When not, a create whose identity can be looked up directly looks first: an
    /// organization the listing missed must not be created twice.
    pub fn listings_proven(&self) -> bool {
        !self
            .unproven_listing
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// An error about one request of this provider (one attempt), e.g. a refusal after a check.
    pub fn failure(
        &self,
        method: &Method,
        path: &str,
        resource: &str,
        kind: ApiErrorKind,
    ) -> ApiError {
        self.error(method, path_only(path), resource, kind, 1)
    }

    /// The path of `template` filled with `segments` (each an opaque, percent-encoded path
    /// segment), or an error naming the request that was not sent because a segment cannot be
    /// one (empty, `.` or `..`).
    pub fn route(
        &self,
        method: &Method,
        template: &'static str,
        segments: &[&str],
        resource: &str,
    ) -> Result<VendorPath, ApiError> {
        VendorPath::new(template, segments).map_err(|bad| {
            self.error(
                method,
                template,
                resource,
                ApiErrorKind::BadPath(bad.to_string()),
                0,
            )
        })
    }

    /// An error for a vendor answer that contradicts itself or what was asked.
    pub fn inconsistent(
        &self,
        path: &str,
        resource: &str,
        why: impl std::fmt::Display,
    ) -> ApiError {
        self.failure(
            &Method::GET,
            path,
            resource,
            ApiErrorKind::Inconsistent(why.to_string()),
        )
    }

    /// Decodes an answer's body as `T`, naming the first field that is missing or of the
    /// wrong type.
    pub fn decode<T: serde::de::DeserializeOwned>(
        &self,
        answer: &Answer,
        method: &Method,
        path: &str,
        resource: &str,
    ) -> Result<T, ApiError> {
        decode_body(answer.status, &answer.bytes).map_err(|what| {
            self.error(
                method,
                path_only(path),
                resource,
                ApiErrorKind::Decode(what),
                1,
            )
        })
    }

    /// `GET path`, decoded as `T`.
    pub async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &VendorPath,
        query: &[(&str, String)],
        resource: &str,
    ) -> Result<T, ApiError> {
        let answer = self
            .send(Method::GET, path, query, None, resource, &[])
            .await?;
        self.decode(&answer, &Method::GET, path.as_str(), resource)
    }

    /// `GET path`, decoded as `T`, or `None` when the vendor answers 404.
    pub async fn get_optional<T: serde::de::DeserializeOwned>(
        &self,
        path: &VendorPath,
        resource: &str,
    ) -> Result<Option<T>, ApiError> {
        let answer = self
            .send(Method::GET, path, &[], None, resource, &[404])
            .await?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        self.decode(&answer, &Method::GET, path.as_str(), resource)
            .map(Some)
    }

    /// The path (and query) below the base URL that a vendor's pagination link points at, if
    /// it is a clean absolute URL on the API's own origin and under its base path; otherwise
    /// why it is refused. Following a link elsewhere would send the bearer token there.
    pub fn path_of_link(&self, href: &str) -> Result<VendorPath, String> {
        let refuse = |why: &str| {
            Err(format!(
                "refused the next-page link `{}`: {why}",
                redact(href)
            ))
        };
        let (Ok(base), Ok(link)) = (
            reqwest::Url::parse(&self.base_url),
            reqwest::Url::parse(href),
        ) else {
            return refuse("it is not an absolute URL");
        };
        if link.origin() != base.origin() {
            return refuse("it points away from the API's origin");
        }
        if !link.username().is_empty() || link.password().is_some() || link.fragment().is_some() {
            return refuse("it carries credentials or a fragment");
        }
        let base_path = base.path().trim_end_matches('/');
        let Some(rest) = link
            .path()
            .strip_prefix(base_path)
            .filter(|r| r.starts_with('/'))
        else {
            return refuse("it leaves the API's base path");
        };
        Ok(VendorPath::from_checked_link(match link.query() {
            Some(query) => format!("{rest}?{query}"),
            None => rest.to_owned(),
        }))
    }

    fn error(
        &self,
        method: &Method,
        path: &str,
        resource: &str,
        kind: ApiErrorKind,
        attempts: u32,
    ) -> ApiError {
        ApiError {
            provider: self.provider.clone(),
            vendor: self.vendor,
            resource: resource.to_owned(),
            method: method.to_string(),
            path: path.to_owned(),
            kind,
            attempts,
        }
    }

    /// Sends a request, retrying what is retryable. Returns any final answer whose status is
    /// 2xx or in `accept` (e.g. 404 when absence is an answer); other statuses are errors.
    pub async fn send(
        &self,
        method: Method,
        path: &VendorPath,
        query: &[(&str, String)],
        body: Option<&Value>,
        resource: &str,
        accept: &[u16],
    ) -> Result<Answer, ApiError> {
        self.send_with(
            method,
            path,
            query,
            body,
            resource,
            accept,
            self.retry.max_retries,
        )
        .await
    }

    /// One attempt only (a 401 still renews the token once): for creates, which must look
    /// before they retry, so that a retry never makes a duplicate.
    pub async fn send_once(
        &self,
        method: Method,
        path: &VendorPath,
        query: &[(&str, String)],
        body: Option<&Value>,
        resource: &str,
        accept: &[u16],
    ) -> Result<Answer, ApiError> {
        self.send_with(method, path, query, body, resource, accept, 0)
            .await
    }

    /// The retry policy in force (for callers that retry themselves).
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    #[allow(clippy::too_many_arguments)]
    async fn send_with(
        &self,
        method: Method,
        path: &VendorPath,
        query: &[(&str, String)],
        body: Option<&Value>,
        resource: &str,
        accept: &[u16],
        retries: usize,
    ) -> Result<Answer, ApiError> {
        let attempts = std::sync::atomic::AtomicU32::new(0);
        // What the last failed attempt met, so that a deadline says why it was waiting.
        let last_failure = std::sync::Mutex::new(None::<String>);
        let run = self.send_retrying(
            (&attempts, &last_failure),
            &method,
            path,
            query,
            body,
            accept,
            retries,
        );
        let result = match self.retry.deadline {
            Some(deadline) => match tokio::time::timeout_at(deadline, run).await {
                Ok(result) => result,
                Err(_) => Err(Attempt {
                    kind: ApiErrorKind::Deadline {
                        cause: last_failure.lock().ok().and_then(|l| l.clone()),
                        write: method != Method::GET,
                    },
                    retry: false,
                    retry_after: None,
                }),
            },
            None => run.await,
        };
        result.map_err(|a| {
            self.error(
                &method,
                path_only(path.as_str()),
                resource,
                a.kind,
                attempts.load(std::sync::atomic::Ordering::Relaxed),
            )
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn send_retrying(
        &self,
        (attempts, last_failure): (
            &std::sync::atomic::AtomicU32,
            &std::sync::Mutex<Option<String>>,
        ),
        method: &Method,
        path: &VendorPath,
        query: &[(&str, String)],
        body: Option<&Value>,
        accept: &[u16],
        retries: usize,
    ) -> Result<Answer, Attempt> {
        // Throttled requests are retried for as long as the provider as a whole makes progress
        // (the gate paces them; the run's deadline still bounds them); other failures up to
        // `retries` times.
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.retry.min_delay)
            .with_max_delay(self.retry.max_delay)
            .with_max_times(if retries == 0 { 0 } else { usize::MAX })
            .with_jitter();
        let other_failures = std::sync::atomic::AtomicUsize::new(0);
        let throttled = |a: &Attempt| matches!(a.kind, ApiErrorKind::Status { status: 429, .. });
        let adaptive = self.gate.adaptive();
        (|| async {
            attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let attempt = attempts.load(std::sync::atomic::Ordering::Relaxed);
            let result = self
                .attempt(method, path, query, body, accept, attempt)
                .await;
            if let Err(failed) = &result
                && let Ok(mut last) = last_failure.lock()
            {
                *last = Some(failed.kind.to_string());
            }
            result
        })
        .retry(backoff)
        .when(|a: &Attempt| {
            a.retry
                && if adaptive && throttled(a) {
                    self.gate.progressing()
                } else {
                    other_failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < retries
                }
        })
        // A throttled request only has to queue at the gate again: the gate paces it (and holds
        // it through a provider-wide `Retry-After` pause), so it waits the shortest delay. A
        // fixed gate leaves each request to wait out its own `Retry-After`.
        .adjust(|a: &Attempt, delay| match delay {
            Some(_) if adaptive && throttled(a) => Some(self.retry.min_delay),
            Some(_) => a.retry_after.or(delay),
            None => None,
        })
        .await
        .map_err(|mut a| {
            if adaptive
                && throttled(&a)
                && !self.gate.progressing()
                && let ApiErrorKind::Status { message, .. } = &mut a.kind
            {
                message.push_str(&format!(
                    "; the provider answered nothing but 429 for {} s, so orgform stopped retrying ({}); set `requests_per_second` for this provider below the rate it accepts",
                    self.gate.stall().as_secs(),
                    self.gate.report().describe()
                ));
            }
            a
        })
    }

    async fn attempt(
        &self,
        method: &Method,
        path: &VendorPath,
        query: &[(&str, String)],
        body: Option<&Value>,
        accept: &[u16],
        attempt: u32,
    ) -> Result<Answer, Attempt> {
        let mut refreshed = false;
        loop {
            let token = self.token(refreshed).await?;
            let response = {
                // The permit first, then the gate: a request waiting for a permit has not yet
                // taken its slot, so a pace cut also holds back those queued behind the permits.
                let queued = Instant::now();
                let _behind = match AHEAD.try_with(|_| ()) {
                    Ok(()) => None,
                    Err(_) => Some(
                        self.behind
                            .acquire()
                            .await
                            .expect("the semaphore is never closed"),
                    ),
                };
                let _permit = self
                    .permits
                    .acquire()
                    .await
                    .expect("the semaphore is never closed");
                let admitted = self.gate.admit().await;
                let http = if *method == Method::GET {
                    &self.reads
                } else {
                    &self.writes
                };
                let mut request = http
                    .request(
                        method.clone(),
                        format!("{}{}", self.base_url, path.as_str()),
                    )
                    .bearer_auth(token.expose());
                if !query.is_empty() {
                    request = request.query(query);
                }
                if let Some(body) = body {
                    request = request.json(body);
                }
                let sent = Instant::now();
                let waited = sent - queued;
                let answered = request.send().await;
                // One line per request with -v: never a header, a body or a query (where a
                // token could be).
                tracing::debug!(
                    vendor = self.vendor,
                    provider = %self.provider,
                    method = %method,
                    path = path_only(path.as_str()),
                    status = answered.as_ref().map_or(0, |r| r.status().as_u16()),
                    ms = sent.elapsed().as_millis() as u64,
                    attempt,
                    "request"
                );
                match answered {
                    Ok(response) => {
                        let status = response.status();
                        let retry_after = retry_after(&response);
                        let location = location(&response);
                        let request_id = request_id(&response);
                        read_capped(response, self.retry.max_body_bytes)
                            .await
                            .inspect(|bytes| {
                                // -vv: what a vendor's support desk or a slow run needs, still
                                // never a header value of ours or a body.
                                tracing::trace!(
                                    vendor = self.vendor,
                                    provider = %self.provider,
                                    method = %method,
                                    url = %crate::redact::redact(&format!("{}{}{}", self.base_url, path.as_str(), query_text(query))),
                                    waited_ms = waited.as_millis() as u64,
                                    sent_bytes = body.map_or(0, |b| b.to_string().len()),
                                    received_bytes = bytes.len(),
                                    request_id = request_id.as_deref().unwrap_or("-"),
                                    retry_after_s = retry_after.map(|d| d.as_secs()),
                                    "request detail"
                                );
                            })
                            .map(|bytes| (status, retry_after, location, bytes, admitted))
                    }
                    Err(e) => Err(Attempt {
                        kind: ApiErrorKind::Transport(transport_message(&e)),
                        retry: true,
                        retry_after: None,
                    }),
                }
            };
            let (status, retry_after, location, bytes, admitted) = response?;
            self.gate
                .record(status == StatusCode::TOO_MANY_REQUESTS, admitted);
            if status == StatusCode::TOO_MANY_REQUESTS
                && let Some(wait) = retry_after
                && wait <= self.retry.max_retry_after
            {
                self.gate.pause(wait);
            }
            if status == StatusCode::UNAUTHORIZED
                && !refreshed
                && matches!(self.auth, Auth::ClientCredentials { .. })
            {
                // Most often an expired token: fetch a new one and try once more.
                refreshed = true;
                continue;
            }
            if status.is_success() || accept.contains(&status.as_u16()) {
                return Ok(Answer { status, bytes });
            }
            let body = error_body(&bytes);
            if status.is_redirection() {
                return Err(Attempt {
                    kind: ApiErrorKind::Redirect {
                        status: status.as_u16(),
                        location: location.as_deref().map(redact),
                    },
                    retry: false,
                    retry_after: None,
                });
            }
            if let Some(wait) = retry_after
                && wait > self.retry.max_retry_after
            {
                return Err(Attempt {
                    kind: ApiErrorKind::RetryAfterTooLong {
                        status: status.as_u16(),
                        asked: wait.as_secs(),
                        limit: self.retry.max_retry_after.as_secs(),
                    },
                    retry: false,
                    retry_after: None,
                });
            }
            let mut message = vendor_message(&body)
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
            if status == StatusCode::NOT_FOUND {
                message.push_str(&format!(
                    " (if this route should exist, check the provider's `url`: {} is the base the vendor's documented paths are appended to, e.g. https://<environment>.scalekit.com, https://api.nirvanalabs.io, https://api.pingone.com, or the sandbox's http://127.0.0.1:8765/scalekit)",
                    redact(&self.base_url)
                ));
            }
            let retry = status == StatusCode::TOO_MANY_REQUESTS
                || status.is_server_error()
                || status == StatusCode::REQUEST_TIMEOUT;
            return Err(Attempt {
                kind: ApiErrorKind::Status {
                    status: status.as_u16(),
                    message,
                },
                retry,
                retry_after,
            });
        }
    }

    /// The credential to send; for client credentials a cached token, renewed shortly before it
    /// expires or when `force` says the vendor refused it. Concurrent callers share one fetch.
    async fn token(&self, force: bool) -> Result<Secret, Attempt> {
        match &self.auth {
            Auth::ApiKey(key) => Ok(key.clone()),
            Auth::ClientCredentials {
                token_url,
                client_id,
                client_secret,
                basic,
                cache,
            } => {
                let mut cached = cache.lock().await;
                if let Some(token) = cached.as_ref()
                    && !force
                    && Instant::now() < token.renew_at
                {
                    return Ok(token.token.clone());
                }
                let form: Vec<(&str, &str)> = if *basic {
                    vec![("grant_type", "client_credentials")]
                } else {
                    vec![
                        ("grant_type", "client_credentials"),
                        ("client_id", client_id),
                        ("client_secret", client_secret.expose()),
                    ]
                };
                let shown_url = redact(token_url);
                let mut request = self.writes.post(token_url).form(&form);
                if *basic {
                    request = request.basic_auth(client_id, Some(client_secret.expose()));
                }
                let admitted = self.gate.admit().await;
                let sent = Instant::now();
                let answered = request.send().await;
                if let Ok(response) = &answered {
                    self.gate
                        .record(response.status() == StatusCode::TOO_MANY_REQUESTS, admitted);
                }
                tracing::debug!(
                    vendor = self.vendor,
                    provider = %self.provider,
                    url = %shown_url,
                    status = answered.as_ref().map_or(0, |r| r.status().as_u16()),
                    ms = sent.elapsed().as_millis() as u64,
                    "token request"
                );
                let response = answered.map_err(|e| Attempt {
                    kind: ApiErrorKind::Auth(format!(
                        "token request to {shown_url} failed: {}",
                        transport_message(&e)
                    )),
                    retry: true,
                    retry_after: None,
                })?;
                let status = response.status();
                let location = location(&response);
                let bytes = read_capped(response, self.retry.max_body_bytes).await?;
                if status.is_redirection() {
                    // Never followed: a re-posted form would hand the client secret to whoever
                    // the redirect names.
                    return Err(Attempt {
                        kind: ApiErrorKind::Auth(format!(
                            "the token endpoint {shown_url} answered {} redirecting to {}; orgform does not follow redirects for token requests (set the provider's URL to the final address)",
                            status.as_u16(),
                            location.as_deref().map_or("nowhere".into(), redact)
                        )),
                        retry: false,
                        retry_after: None,
                    });
                }
                if !status.is_success() {
                    let mut message = vendor_message(&error_body(&bytes)).unwrap_or_default();
                    if status == StatusCode::NOT_FOUND {
                        message.push_str(" (no token endpoint there: check the provider's `url`, or `auth_url` for PingOne)");
                    }
                    return Err(Attempt {
                        kind: ApiErrorKind::Auth(format!(
                            "the token endpoint {shown_url} answered {}: {message}",
                            status.as_u16()
                        )),
                        retry: status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS,
                        retry_after: None,
                    });
                }
                let answer: TokenAnswer = decode_body(status, &bytes).map_err(|what| Attempt {
                    kind: ApiErrorKind::Auth(format!(
                        "the token endpoint {shown_url} answered with an unexpected body: {what}"
                    )),
                    retry: false,
                    retry_after: None,
                })?;
                let lifetime = token_lifetime(&answer);
                // Renew a minute early, or at 90% of a short lifetime.
                let margin = Duration::from_secs(60).min(lifetime / 10);
                let token = Secret::new(answer.access_token.0);
                let now = Instant::now();
                *cached = Some(CachedToken {
                    token: token.clone(),
                    renew_at: now.checked_add(lifetime - margin).unwrap_or(now),
                });
                Ok(token)
            }
        }
    }
}

/// An OAuth token answer; `access_token` must be a non-empty string.
#[derive(serde::Deserialize)]
pub(crate) struct TokenAnswer {
    access_token: super::wire::NonEmpty,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// How long a token is used: what the vendor said (300 s if it said nothing), at most a day.
pub(crate) fn token_lifetime(answer: &TokenAnswer) -> Duration {
    Duration::from_secs(answer.expires_in.unwrap_or(300)).min(MAX_TOKEN_LIFETIME)
}

/// The body of an answer, refused once it grows past `cap` bytes (checked against
/// `Content-Length` first, then while it streams), so a vendor cannot make orgform hold
/// an answer of any size.
async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>, Attempt> {
    let too_large = |size: String| Attempt {
        kind: ApiErrorKind::TooLarge { size, cap },
        retry: false,
        retry_after: None,
    };
    if let Some(length) = response.content_length()
        && length > cap as u64
    {
        return Err(too_large(format!("{length} bytes")));
    }
    // Sized once when the vendor says how much comes: a large answer is not copied as it grows.
    let mut bytes = Vec::with_capacity(
        response
            .content_length()
            .map_or(0, |length| length as usize)
            .min(cap),
    );
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > cap {
                    return Err(too_large(format!("more than {cap} bytes")));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(bytes),
            Err(e) => {
                return Err(Attempt {
                    kind: ApiErrorKind::Transport(transport_message(&e)),
                    retry: true,
                    retry_after: None,
                });
            }
        }
    }
}

fn location(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(reqwest::header::LOCATION)?
        .to_str()
        .ok()
        .map(str::to_owned)
}

/// The vendor's id of one answer (`x-request-id`, `x-correlation-id` or `correlation-id`), for
/// its support desk.
fn request_id(response: &reqwest::Response) -> Option<String> {
    ["x-request-id", "x-correlation-id", "correlation-id"]
        .iter()
        .find_map(|name| response.headers().get(*name)?.to_str().ok())
        .map(|id| id.chars().filter(|c| !c.is_control()).take(200).collect())
}

/// `?a=1&b=2` as the request sends it (empty without a query), for the `-vv` log.
fn query_text(query: &[(&str, String)]) -> String {
    if query.is_empty() {
        return String::new();
    }
    let pairs: Vec<String> = query
        .iter()
        .map(|(k, v)| {
            let value: String = form_urlencoded::byte_serialize(v.as_bytes()).collect();
            format!("{k}={value}")
        })
        .collect();
    format!("?{}", pairs.join("&"))
}

/// The path of a request without its query, as errors show it.
fn path_only(path: &str) -> &str {
    path.split_once('?').map_or(path, |(p, _)| p)
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// A transport error without the URL's query (which could carry a token on other APIs).
fn transport_message(error: &reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_body() || error.is_decode() {
        "the connection dropped while reading the answer"
    } else {
        "the connection failed"
    };
    let mut source = std::error::Error::source(error);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        what.to_owned()
    } else {
        format!("{what} ({detail})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> HttpClient {
        HttpClient::new(
            "main",
            "pingone",
            base,
            Auth::ApiKey(Secret::new("k".into())),
            1,
            None,
            RetryPolicy::default(),
        )
    }

    #[test]
    fn pagination_links_stay_on_the_api_origin_and_path() {
        let c = client("https://api.pingone.com");
        assert_eq!(
            c.path_of_link("https://api.pingone.com/v1/organizations?cursor=2")
                .map(|p| p.to_string()),
            Ok("/v1/organizations?cursor=2".into())
        );
        let sandbox = client("http://127.0.0.1:8765/pingone");
        assert_eq!(
            sandbox
                .path_of_link("http://127.0.0.1:8765/pingone/v1/x?cursor=2")
                .map(|p| p.to_string()),
            Ok("/v1/x?cursor=2".into())
        );
        for refused in [
            "https://evil.example/v1/organizations",
            "http://api.pingone.com/v1/organizations",
            "https://api.pingone.com:8443/v1/organizations",
            "https://user:pw@api.pingone.com/v1/organizations",
            "https://api.pingone.com/v1/organizations#x",
            "/v1/organizations?cursor=2",
            "//evil.example/v1",
        ] {
            assert!(c.path_of_link(refused).is_err(), "{refused}");
        }
        assert!(
            sandbox
                .path_of_link("http://127.0.0.1:8765/nirvana/v1/x")
                .is_err()
        );
        assert!(
            sandbox
                .path_of_link("http://127.0.0.1:8765/pingonex/v1/x")
                .is_err()
        );
    }
}
