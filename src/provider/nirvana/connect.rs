//! How a Nirvana Labs provider is reached.

use crate::manifest::Secret;
use crate::provider::error::SetupError;
use crate::provider::http::Auth;
use crate::provider::settings::{Endpoint, Settings};

/// Where a Nirvana Labs provider is reached and how it authenticates: the manifest's settings, the
/// vendor's environment variables, or the embedded sandbox.
pub(crate) fn connect(settings: &Settings) -> Result<Endpoint, SetupError> {
    let (provider, sandbox) = (settings.provider, settings.sandbox);
    let (base, key) = match (provider.sandbox, sandbox) {
        (true, Some(s)) => (
            settings.sandbox_base("nirvana").unwrap_or_default(),
            Secret::new(s.credentials.nirvana_api_key.clone()),
        ),
        _ => (
            provider
                .url
                .clone()
                .unwrap_or_else(|| "https://api.nirvanalabs.io".to_owned()),
            settings
                .secret(&provider.api_key, "NIRVANA_LABS_API_KEY")
                .ok_or_else(|| {
                    settings.fail(
                        "no API key: set NIRVANA_LABS_API_KEY or `api_key: ${...}` in orgform.yaml"
                            .into(),
                    )
                })?,
        ),
    };
    Ok(("nirvana", base, Auth::ApiKey(key)))
}
