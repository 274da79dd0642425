//! How a PingOne provider is reached.

use crate::manifest::{PingOneRegion, Secret};
use crate::provider::error::SetupError;
use crate::provider::http::Auth;
use crate::provider::settings::{Endpoint, Settings};

/// Where a PingOne provider is reached and how it authenticates: the manifest's settings, the
/// vendor's environment variables, or the embedded sandbox.
pub(crate) fn connect(settings: &Settings) -> Result<Endpoint, SetupError> {
    let (provider, sandbox) = (settings.provider, settings.sandbox);
    let (base, auth_base, environment, id, client_secret) = match (provider.sandbox, sandbox) {
        (true, Some(s)) => (
            settings.sandbox_base("pingone").unwrap_or_default(),
            format!("{}/pingone/auth", s.base_url),
            s.credentials.pingone_environment_id.clone(),
            s.credentials.pingone_client_id.clone(),
            Secret::new(s.credentials.pingone_client_secret.clone()),
        ),
        _ => {
            let region = match (provider.region, (settings.env)("PINGONE_REGION").filter(|r| !r.is_empty())) {
                (Some(region), _) => region,
                (None, Some(text)) => PingOneRegion::parse(&text.to_ascii_uppercase())
                    .ok_or_else(|| settings.fail(format!(
                        "PINGONE_REGION={text} is not a PingOne region: use NA, EU, AP, AU, CA or SG"
                    )))?,
                (None, None) => PingOneRegion::Na,
            };
            let tld = pingone_tld(region);
            (
                provider
                    .url
                    .clone()
                    .unwrap_or_else(|| format!("https://api.pingone.{tld}")),
                provider
                    .auth_url
                    .clone()
                    .unwrap_or_else(|| format!("https://auth.pingone.{tld}")),
                settings.required(
                    settings.setting(&provider.environment_id, "PINGONE_ENVIRONMENT_ID"),
                    "environment id",
                    "PINGONE_ENVIRONMENT_ID",
                )?,
                settings.required(
                    settings.setting(&provider.client_id, "PINGONE_CLIENT_ID"),
                    "client id",
                    "PINGONE_CLIENT_ID",
                )?,
                settings
                    .secret(&provider.client_secret, "PINGONE_CLIENT_SECRET")
                    .ok_or_else(|| {
                        settings.fail(
                        "no client secret: set PINGONE_CLIENT_SECRET or `client_secret: ${...}`"
                            .into(),
                    )
                    })?,
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
    Ok(("pingone", base, auth))
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
