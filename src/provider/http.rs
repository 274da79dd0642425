//! The client layer every provider shares: authentication with token caching, bounded
//! parallelism, an optional client-side rate budget, and retries with exponential backoff and
//! jitter on timeouts, 429 and 5xx that honour `Retry-After`.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::{Mutex, Semaphore};

use super::error::{ApiError, ApiErrorKind, vendor_message};
use crate::manifest::Secret;

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

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_retries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 6,
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
        }
    }
}

/// One provider's connection.
pub struct HttpClient {
    pub provider: String,
    pub vendor: &'static str,
    base_url: String,
    http: reqwest::Client,
    auth: Auth,
    permits: Arc<Semaphore>,
    parallelism: usize,
    rate: Option<DefaultDirectRateLimiter>,
    retry: RetryPolicy,
}

/// A final answer: a success, or an error status the caller may handle (e.g. 404).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

/// One attempt's failure, and whether (and when) to try again.
struct Attempt {
    kind: ApiErrorKind,
    retry: bool,
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
        // Evenly paced (a burst of one), so a vendor limit of N/s is never met with a burst.
        let rate = requests_per_second.filter(|r| *r > 0.0).map(|rps| {
            let period = Duration::from_secs_f64(1.0 / rps).max(Duration::from_nanos(1));
            let quota = Quota::with_period(period)
                .expect("a positive period")
                .allow_burst(NonZeroU32::MIN);
            RateLimiter::direct(quota)
        });
        Self {
            provider: provider.to_owned(),
            vendor,
            base_url: base_url.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .timeout(retry.timeout)
                .pool_max_idle_per_host(parallelism as usize)
                .build()
                .expect("an HTTP client"),
            auth,
            permits: Arc::new(Semaphore::new(parallelism.max(1) as usize)),
            parallelism: parallelism.max(1) as usize,
            rate,
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
        path: &str,
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
        path: &str,
        body: Option<&Value>,
        resource: &str,
        accept: &[u16],
    ) -> Result<Answer, ApiError> {
        self.send_with(method, path, &[], body, resource, accept, 0)
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
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        resource: &str,
        accept: &[u16],
        retries: usize,
    ) -> Result<Answer, ApiError> {
        let attempts = std::sync::atomic::AtomicU32::new(0);
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.retry.min_delay)
            .with_max_delay(self.retry.max_delay)
            .with_max_times(retries)
            .with_jitter();
        let result = (|| async {
            attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.attempt(&method, path, query, body, accept).await
        })
        .retry(backoff)
        .when(|a: &Attempt| a.retry)
        .adjust(|a: &Attempt, delay| match (a.retry_after, delay) {
            (Some(after), Some(_)) => Some(after),
            (_, delay) => delay,
        })
        .await;
        result.map_err(|a| {
            self.error(
                &method,
                path,
                resource,
                a.kind,
                attempts.load(std::sync::atomic::Ordering::Relaxed),
            )
        })
    }

    async fn attempt(
        &self,
        method: &Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        accept: &[u16],
    ) -> Result<Answer, Attempt> {
        let mut refreshed = false;
        loop {
            let token = self.token(refreshed).await?;
            if let Some(rate) = &self.rate {
                rate.until_ready().await;
            }
            let response = {
                let _permit = self
                    .permits
                    .acquire()
                    .await
                    .expect("the semaphore is never closed");
                let mut request = self
                    .http
                    .request(method.clone(), format!("{}{path}", self.base_url))
                    .bearer_auth(token.expose());
                if !query.is_empty() {
                    request = request.query(query);
                }
                if let Some(body) = body {
                    request = request.json(body);
                }
                match request.send().await {
                    Ok(response) => {
                        let status = response.status();
                        let retry_after = retry_after(&response);
                        match response.bytes().await {
                            Ok(bytes) => Ok((status, retry_after, bytes)),
                            Err(e) => Err(e),
                        }
                    }
                    Err(e) => Err(e),
                }
            };
            let (status, retry_after, bytes) = match response {
                Ok(parts) => parts,
                Err(e) => {
                    return Err(Attempt {
                        kind: ApiErrorKind::Transport(transport_message(&e)),
                        retry: true,
                        retry_after: None,
                    });
                }
            };
            let body: Value = if bytes.is_empty() {
                Value::Null
            } else {
                match serde_json::from_slice(&bytes) {
                    Ok(v) => v,
                    Err(_) if !status.is_success() => {
                        Value::String(String::from_utf8_lossy(&bytes).chars().take(200).collect())
                    }
                    Err(e) => {
                        return Err(Attempt {
                            kind: ApiErrorKind::Decode(e.to_string()),
                            retry: false,
                            retry_after: None,
                        });
                    }
                }
            };
            if status == StatusCode::UNAUTHORIZED
                && !refreshed
                && matches!(self.auth, Auth::ClientCredentials { .. })
            {
                // Most often an expired token: fetch a new one and try once more.
                refreshed = true;
                continue;
            }
            if status.is_success() || accept.contains(&status.as_u16()) {
                return Ok(Answer { status, body });
            }
            let message = vendor_message(&body)
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
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
                let mut request = self.http.post(token_url).form(&form);
                if *basic {
                    request = request.basic_auth(client_id, Some(client_secret.expose()));
                }
                let response = request.send().await.map_err(|e| Attempt {
                    kind: ApiErrorKind::Auth(format!(
                        "token request to {token_url} failed: {}",
                        transport_message(&e)
                    )),
                    retry: true,
                    retry_after: None,
                })?;
                let status = response.status();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                if !status.is_success() {
                    let message = vendor_message(&body).unwrap_or_default();
                    return Err(Attempt {
                        kind: ApiErrorKind::Auth(format!(
                            "the token endpoint {token_url} answered {}: {message}",
                            status.as_u16()
                        )),
                        retry: status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS,
                        retry_after: None,
                    });
                }
                let Some(token) = body["access_token"].as_str() else {
                    return Err(Attempt {
                        kind: ApiErrorKind::Auth(format!(
                            "the token endpoint {token_url} sent no access_token"
                        )),
                        retry: false,
                        retry_after: None,
                    });
                };
                let lifetime = Duration::from_secs(body["expires_in"].as_u64().unwrap_or(300));
                // Renew a minute early, or at 90% of a short lifetime.
                let margin = Duration::from_secs(60).min(lifetime / 10);
                let token = Secret::new(token.to_owned());
                *cached = Some(CachedToken {
                    token: token.clone(),
                    renew_at: Instant::now() + lifetime - margin,
                });
                Ok(token)
            }
        }
    }
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
