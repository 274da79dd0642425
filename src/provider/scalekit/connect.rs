//! How a Scalekit provider is reached.

use crate::manifest::Secret;
use crate::provider::error::SetupError;
use crate::provider::http::Auth;
use crate::provider::settings::{Endpoint, Settings};

/// Where a Scalekit provider is reached and how it authenticates: the manifest's settings, the
/// vendor's environment variables, or the embedded sandbox.
pub(crate) fn connect(settings: &Settings) -> Result<Endpoint, SetupError> {
    let (provider, sandbox) = (settings.provider, settings.sandbox);
    let (base, id, client_secret) = match (provider.sandbox, sandbox) {
        (true, Some(s)) => (
            settings.sandbox_base("scalekit").unwrap_or_default(),
            s.credentials.scalekit_client_id.clone(),
            Secret::new(s.credentials.scalekit_client_secret.clone()),
        ),
        _ => (
            settings.required(
                settings.setting(&provider.url, "SCALEKIT_ENVIRONMENT_URL"),
                "url",
                "SCALEKIT_ENVIRONMENT_URL",
            )?,
            settings.required(
                settings.setting(&provider.client_id, "SCALEKIT_CLIENT_ID"),
                "client id",
                "SCALEKIT_CLIENT_ID",
            )?,
            settings
                .secret(&provider.client_secret, "SCALEKIT_CLIENT_SECRET")
                .ok_or_else(|| {
                    settings.fail(
                        "no client secret: set SCALEKIT_CLIENT_SECRET or `client_secret: ${...}`"
                            .into(),
                    )
                })?,
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
    Ok(("scalekit", base, auth))
}
