//! Where and how to reach each provider: base URLs, credentials from the manifest or the
//! vendor's environment variables, or the embedded sandbox.

use crate::manifest::Secret;
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

/// What a vendor's `connect` reads a provider's settings from: the manifest's values, the
/// vendor's environment variables, or the embedded sandbox.
pub struct Settings<'a> {
    pub provider: &'a Provider,
    pub sandbox: Option<&'a SandboxEndpoint>,
    pub env: &'a crate::manifest::Env,
}

/// Where a vendor's client connects: the vendor's name in logs and errors, its base URL, and
/// how it authenticates.
pub type Endpoint = (&'static str, String, Auth);

impl Settings<'_> {
    pub fn fail(&self, message: String) -> SetupError {
        SetupError {
            provider: self.provider.name.clone(),
            message,
        }
    }

    /// The manifest's `value`, else the environment variable `var` (empty counts as unset).
    pub fn setting(&self, value: &Option<String>, var: &str) -> Option<String> {
        value
            .clone()
            .or_else(|| (self.env)(var).filter(|v| !v.is_empty()))
    }

    /// As [`Settings::setting`], for a secret.
    pub fn secret(&self, value: &Option<Secret>, var: &str) -> Option<Secret> {
        value
            .clone()
            .or_else(|| (self.env)(var).filter(|v| !v.is_empty()).map(Secret::new))
    }

    /// A setting that must be there, or the error saying where to set it.
    pub fn required(
        &self,
        value: Option<String>,
        what: &str,
        var: &str,
    ) -> Result<String, SetupError> {
        value.ok_or_else(|| {
            self.fail(format!(
                "no {what}: set {var} or `{}` in orgform.yaml",
                what.replace(' ', "_")
            ))
        })
    }

    /// The embedded sandbox's base URL of the vendor served under `prefix`.
    pub fn sandbox_base(&self, prefix: &str) -> Option<String> {
        self.sandbox.map(|s| format!("{}/{prefix}", s.base_url))
    }
}

/// Builds the HTTP client of one provider: where and how its vendor's `connect` says.
pub fn connect(
    provider: &Provider,
    sandbox: Option<&SandboxEndpoint>,
    env: &crate::manifest::Env,
    overrides: ClientOverrides,
) -> Result<HttpClient, SetupError> {
    let settings = Settings {
        provider,
        sandbox,
        env,
    };
    let parallelism = overrides.parallelism.unwrap_or(provider.parallelism);
    let mut retry = overrides.retry.unwrap_or_default();
    retry.deadline = overrides.deadline.or(retry.deadline);
    let (vendor, base_url, auth) = (provider.kind.description().connect)(&settings)?;
    if provider.sandbox && sandbox.is_none() {
        return Err(settings.fail("`sandbox: true` but no sandbox is running".into()));
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
