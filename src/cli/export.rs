//! `orgform export`: write a manifest for every live organization of one provider (adoption).

use std::path::{Path, PathBuf};

use crate::export::{assign_keys, manifest};
use crate::manifest::{CONFIG_FILE, LoadedWorkspace, Secret, Span, Spanned};
use crate::model::{Provider, ResourceAddress};
use crate::output;
use crate::provider::read_all;
use crate::provider::settings::ClientOverrides;
use crate::session::{Failure, Session};

use super::exit;

/// Resolved settings of `export`.
pub struct ExportSettings {
    /// The whole run's time limit (`--timeout`).
    pub timeout: std::time::Duration,
    pub dir: PathBuf,
    pub provider: String,
    pub out: Option<PathBuf>,
    pub targets: Vec<String>,
}

/// Where exported files keep the schemas their first line points at.
const SCHEMA_DIR: &str = ".orgform/schemas";

pub fn run(settings: ExportSettings, env: &dyn Fn(&str) -> Option<String>) -> u8 {
    super::with_session(
        &settings.dir,
        env,
        settings.timeout,
        ClientOverrides::default(),
        async |session, _interrupt| match export_in(session, &settings).await {
            Ok(written) => {
                let plural = if written == 1 { "" } else { "s" };
                output::say(&format!(
                    "exported {written} organization{plural} of provider `{}`",
                    settings.provider
                ));
                exit::SUCCESS
            }
            Err(failure) => output::failure(&failure),
        },
    )
}

/// The `orgform.yaml` for a new directory: the provider's settings as the user wrote them, so
/// a `${VAR}` reference stays a reference (its resolved value may be a secret, or differ per
/// machine); credentials come from the environment.
fn config_for(provider: &Provider, workspace: &LoadedWorkspace) -> String {
    let mut text = format!(
        "# yaml-language-server: $schema={SCHEMA_DIR}/orgform.schema.json\nproviders:\n  {}:\n    kind: {}\n",
        provider.name, provider.kind
    );
    if provider.sandbox {
        text.push_str("    sandbox: true\n");
    }
    let written = workspace
        .config
        .providers
        .iter()
        .find(|(name, _)| name.value == provider.name)
        .map(|(_, config)| config);
    let raw = |span: Span| -> Option<&str> {
        let source = &workspace.sources.get(span.file).text;
        source.get(span.offset..span.offset + span.len)
    };
    let as_written = |setting: Option<&Spanned<String>>| -> Option<String> {
        let setting = setting?;
        let raw = raw(setting.span)?;
        Some(if raw.contains("${") {
            raw.to_owned()
        } else {
            serde_json::to_string(&setting.value).unwrap_or_default()
        })
    };
    // A credential is written only as a reference: never a value.
    let reference = |setting: Option<&Spanned<Secret>>| -> Option<String> {
        raw(setting?.span)
            .filter(|raw| raw.contains("${"))
            .map(str::to_owned)
    };
    let settings = [
        ("url", as_written(written.and_then(|c| c.url.as_ref()))),
        (
            "auth_url",
            as_written(written.and_then(|c| c.auth_url.as_ref())),
        ),
        (
            "environment_id",
            as_written(written.and_then(|c| c.environment_id.as_ref())),
        ),
        (
            "client_id",
            as_written(written.and_then(|c| c.client_id.as_ref())),
        ),
        (
            "api_key",
            reference(written.and_then(|c| c.api_key.as_ref())),
        ),
        (
            "client_secret",
            reference(written.and_then(|c| c.client_secret.as_ref())),
        ),
    ];
    for (name, value) in settings {
        if let Some(value) = value {
            text.push_str(&format!("    {name}: {value}\n"));
        }
    }
    if let Some(region) = provider.region {
        text.push_str(&format!("    region: {region}\n"));
    }
    text
}

fn write(path: &Path, text: &str) -> Result<(), Failure> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::Usage(format!("cannot create {}: {e}", dir.display())))?;
    }
    std::fs::write(path, text)
        .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", path.display())))
}

async fn export_in(session: &Session, settings: &ExportSettings) -> Result<usize, Failure> {
    let Some(any) = session.providers.get(&settings.provider) else {
        let known: Vec<&str> = session.providers.keys().map(String::as_str).collect();
        return Err(Failure::Usage(format!(
            "no provider `{}` in orgform.yaml (providers: {})",
            settings.provider,
            known.join(", ")
        )));
    };
    let provider = &session.desired.providers[&settings.provider];
    let targets: Vec<ResourceAddress> = settings
        .targets
        .iter()
        .map(|t| {
            t.parse()
                .map_err(|e: crate::model::AddressParseError| Failure::Usage(e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    let progress = output::progress(0, "exporting");
    let organizations = read_all(any, Some(&progress)).await;
    progress.finish_and_clear();
    let organizations = organizations.map_err(Failure::Api)?;

    let out = settings.out.clone().unwrap_or_else(|| settings.dir.clone());
    if !out.join(CONFIG_FILE).exists() {
        write(
            &out.join(CONFIG_FILE),
            &config_for(provider, &session.workspace),
        )?;
    }
    for (name, text) in crate::schema::schemas() {
        write(&out.join(SCHEMA_DIR).join(name), &text)?;
    }
    let keys = assign_keys(provider.kind, &organizations);
    let mut written = 0;
    for org in &organizations {
        let key = &keys[&org.id];
        if !targets.is_empty() && !targets.iter().any(|t| t.org == *key) {
            continue;
        }
        let text = manifest(
            provider.kind,
            &provider.name,
            key,
            org,
            &format!("../{SCHEMA_DIR}/organization.schema.json"),
        );
        write(&out.join(&provider.name).join(format!("{key}.yaml")), &text)?;
        written += 1;
    }
    Ok(written)
}
