//! Where and how to reach each provider: base URLs, credentials from the manifest or the
//! vendor's environment variables, or the embedded sandbox.

use crate::manifest::{PingOneRegion, ProviderKind, Secret};
use crate::model::Provider;

use super::error::SetupError;
use super::http::{Auth, HttpClient, RetryPolicy};

/// Where a sandbox serves, for providers with `sandbox: true`.
#[derive(Debug, Clone)]
pub struct SandboxEndpoint {
    pub base_url: String,
    pub credentials: crate::sandbox::Credentials,
}

/// Overrides from the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientOverrides {
    pub parallelism: Option<u32>,
    pub retry: Option<RetryPolicy>,
    /// The run's deadline (`--timeout`): no request of any provider runs past it.
    pub deadline: Option<tokio::time::Instant>,
}

fn pingone_tld(region: PingOneRegion) -> &'static str {
    match region {
        PingOneRegion::Na => "com",
        PingOneRegion::Eu => "eu",
        PingOneRegion::Ap => "asia",
        PingOneRegion::Au => "com.au",
        PingOneRegion::Ca => "ca",
        PingOneRegion::Sg => "sg",
    }
}

/// Builds the HTTP client of one provider.
pub fn connect(
    provider: &Provider,
    sandbox: Option<&SandboxEndpoint>,
    env: &crate::manifest::Env,
    overrides: ClientOverrides,
) -> Result<HttpClient, SetupError> {
    let fail = |message: String| SetupError {
        provider: provider.name.clone(),
        message,
    };
    let setting = |value: &Option<String>, var: &str| {
        value.clone().or_else(|| env(var).filter(|v| !v.is_empty()))
    };
    let secret = |value: &Option<Secret>, var: &str| {
        value
            .clone()
            .or_else(|| env(var).filter(|v| !v.is_empty()).map(Secret::new))
    };
    let required = |value: Option<String>, what: &str, var: &str| {
        value.ok_or_else(|| {
            fail(format!(
                "no {what}: set {var} or `{}` in orgform.yaml",
                what.replace(' ', "_")
            ))
        })
    };
    let parallelism = overrides.parallelism.unwrap_or(provider.parallelism);
    let mut retry = overrides.retry.unwrap_or_default();
    retry.deadline = overrides.deadline.or(retry.deadline);
    let sandbox_base = |prefix: &str| sandbox.map(|s| format!("{}/{prefix}", s.base_url));

    let (vendor, base_url, auth) = match provider.kind {
        ProviderKind::Nirvana => {
            let (base, key) = match (provider.sandbox, sandbox) {
                (true, Some(s)) => (sandbox_base("nirvana").unwrap_or_default(), Secret::new(s.credentials.nirvana_api_key.clone())),
                _ => (
                    provider.url.clone().unwrap_or_else(|| "https://api.nirvanalabs.io".to_owned()),
                    secret(&provider.api_key, "NIRVANA_LABS_API_KEY")
                        .ok_or_else(|| fail("no API key: set NIRVANA_LABS_API_KEY or `api_key: ${...}` in orgform.yaml".into()))?,
                ),
            };
            ("nirvana", base, Auth::ApiKey(key))
        }
        ProviderKind::Scalekit => {
            let (base, id, client_secret) = match (provider.sandbox, sandbox) {
                (true, Some(s)) => (
                    sandbox_base("scalekit").unwrap_or_default(),
                    s.credentials.scalekit_client_id.clone(),
                    Secret::new(s.credentials.scalekit_client_secret.clone()),
                ),
                _ => (
                    required(setting(&provider.url, "SCALEKIT_ENVIRONMENT_URL"), "url", "SCALEKIT_ENVIRONMENT_URL")?,
                    required(setting(&provider.client_id, "SCALEKIT_CLIENT_ID"), "client id", "SCALEKIT_CLIENT_ID")?,
                    secret(&provider.client_secret, "SCALEKIT_CLIENT_SECRET")
                        .ok_or_else(|| fail("no client secret: set SCALEKIT_CLIENT_SECRET or `client_secret: ${...}`".into()))?,
                ),
            };
            let base = base.trim_end_matches('/').to_owned();
            let auth = Auth::ClientCredentials {
                token_url: format!("{base}/oauth/token"),
                client_id: id,
                client_secret,
                basic: false,
                cache: Default::default(),
            };
            ("scalekit", base, auth)
        }
        ProviderKind::PingOne => {
            let (base, auth_base, environment, id, client_secret) = match (
                provider.sandbox,
                sandbox,
            ) {
                (true, Some(s)) => (
                    sandbox_base("pingone").unwrap_or_default(),
                    format!("{}/pingone/auth", s.base_url),
                    s.credentials.pingone_environment_id.clone(),
                    s.credentials.pingone_client_id.clone(),
                    Secret::new(s.credentials.pingone_client_secret.clone()),
                ),
                _ => {
                    let region = match (provider.region, env("PINGONE_REGION").filter(|r| !r.is_empty())) {
                        (Some(region), _) => region,
                        (None, Some(text)) => PingOneRegion::parse(&text.to_ascii_uppercase())
                            .ok_or_else(|| fail(format!(
                                "PINGONE_REGION={text} is not a PingOne region: use NA, EU, AP, AU, CA or SG"
                            )))?,
                        (None, None) => PingOneRegion::Na,
                    };
                    let tld = pingone_tld(region);
                    (
                        provider.url.clone().unwrap_or_else(|| format!("https://api.pingone.{tld}")),
                        provider.auth_url.clone().unwrap_or_else(|| format!("https://auth.pingone.{tld}")),
                        required(setting(&provider.environment_id, "PINGONE_ENVIRONMENT_ID"), "environment id", "PINGONE_ENVIRONMENT_ID")?,
                        required(setting(&provider.client_id, "PINGONE_CLIENT_ID"), "client id", "PINGONE_CLIENT_ID")?,
                        secret(&provider.client_secret, "PINGONE_CLIENT_SECRET")
                            .ok_or_else(|| fail("no client secret: set PINGONE_CLIENT_SECRET or `client_secret: ${...}`".into()))?,
                    )
                }
            };
            let auth = Auth::ClientCredentials {
                token_url: format!("{}/{environment}/as/token", auth_base.trim_end_matches('/')),
                client_id: id,
                client_secret,
                basic: true,
                cache: Default::default(),
            };
            ("pingone", base, auth)
        }
        ProviderKind::Workos => {
            let (base, key) = match (provider.sandbox, sandbox) {
                (true, Some(s)) => (
                    sandbox_base("workos").unwrap_or_default(),
                    Secret::new(s.credentials.workos_api_key.clone()),
                ),
                _ => (
                    provider
                        .url
                        .clone()
                        .unwrap_or_else(|| "https://api.workos.com".to_owned()),
                    secret(&provider.api_key, "WORKOS_API_KEY").ok_or_else(|| {
                        fail(
                            "no API key: set WORKOS_API_KEY or `api_key: ${...}` in orgform.yaml"
                                .into(),
                        )
                    })?,
                ),
            };
            (
                "workos",
                base.trim_end_matches('/').to_owned(),
                Auth::ApiKey(key),
            )
        }
    };
    if provider.sandbox && sandbox.is_none() {
        return Err(fail("`sandbox: true` but no sandbox is running".into()));
    }
    Ok(HttpClient::new(
        &provider.name,
        vendor,
        &base_url,
        auth,
        parallelism,
        provider.requests_per_second,
        retry,
    ))
}
