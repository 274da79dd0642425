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
    /// Remove the files of organizations that no longer exist.
    pub prune_files: bool,
}

/// Where exported files keep the schemas their first line points at.
const SCHEMA_DIR: &str = ".orgform/schemas";

pub fn run(settings: ExportSettings, env: &crate::manifest::Env) -> u8 {
    super::with_session(
        &settings.dir,
        env,
        settings.timeout,
        ClientOverrides::default(),
        async |session, _interrupt| match export_in(session, &settings).await {
            Ok(report) => {
                let plural = if report.written == 1 { "" } else { "s" };
                let mut line = format!(
                    "exported {} organization{plural} of provider `{}`",
                    report.written, settings.provider
                );
                if report.updated > 0 {
                    line.push_str(&format!(
                        " ({} into the files that already held them)",
                        report.updated
                    ));
                }
                if report.removed > 0 {
                    line.push_str(&format!(
                        "; removed {} file{} of organizations that no longer exist",
                        report.removed,
                        if report.removed == 1 { "" } else { "s" }
                    ));
                }
                output::say(&line);
                for path in &report.kept {
                    output::say(&format!(
                        "left {} as it is: it holds other documents too, or extends templates",
                        path.display()
                    ));
                }
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
        source.get(span.offset()..span.offset() + span.len())
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
    // Written out, so the new workspace shows the choice before its first apply adds anyone.
    if provider.kind == crate::manifest::ProviderKind::Scalekit {
        text.push_str(&format!(
            "    invite_members: {}\n",
            provider.invite_members
        ));
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

/// What an export did.
#[derive(Default)]
struct Report {
    written: usize,
    /// Of `written`, organizations a manifest already declared, written into its file.
    updated: usize,
    removed: usize,
    /// Files of known organizations left alone: they hold other documents too.
    kept: Vec<PathBuf>,
}

async fn export_in(session: &Session, settings: &ExportSettings) -> Result<Report, Failure> {
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
    // Exporting into the workspace itself: organizations its manifests already declare (found
    // as plan finds them: pin, external id, name) keep their key and their file, so no
    // organization ever gets a second manifest.
    let into_workspace = std::path::absolute(&out).ok() == std::path::absolute(&settings.dir).ok();
    let declared: Vec<&crate::model::Organization> = session
        .desired
        .organizations
        .values()
        .filter(|o| into_workspace && o.provider == provider.name)
        .collect();
    let (matches, _) =
        crate::plan::identity::match_organizations(&declared, &organizations, provider.kind, true);
    let known: std::collections::BTreeMap<usize, &crate::model::Organization> = matches
        .iter()
        .map(|(key, (index, _))| (*index, &session.desired.organizations[key]))
        .collect();
    let sources = &session.workspace.sources;
    // How many organizations (of any provider) each file declares.
    let mut per_file: std::collections::BTreeMap<crate::manifest::FileId, usize> =
        Default::default();
    for org in session.desired.organizations.values() {
        *per_file.entry(org.key.span.file).or_default() += 1;
    }
    let new: Vec<&crate::model::LiveOrganization> = organizations
        .iter()
        .enumerate()
        .filter(|(i, _)| !known.contains_key(i))
        .map(|(_, o)| o)
        .collect();
    let taken = session
        .desired
        .organizations
        .keys()
        .map(|k| k.as_str().to_owned())
        .collect();
    let keys = assign_keys(provider.kind, &new, taken);
    let schema = format!("../{SCHEMA_DIR}/organization.schema.json");
    let mut report = Report::default();
    for (index, org) in organizations.iter().enumerate() {
        let (key, path) = match known.get(&index) {
            Some(declared) => {
                let file = declared.key.span.file;
                // Written out in full, a templated manifest would repeat what its templates say.
                if per_file.get(&file) != Some(&1) || !declared.extends.is_empty() {
                    report.kept.push(sources.path(file).to_owned());
                    continue;
                }
                (
                    declared.key.as_str().to_owned(),
                    sources.path(file).to_owned(),
                )
            }
            None => {
                let key = keys[&org.id].clone();
                // A file of that name holds something else (keys are new, names are free-form):
                // never overwrite it.
                let dir = out.join(&provider.name);
                let mut path = dir.join(format!("{key}.yaml"));
                let mut n = 2;
                while !free_for(&path, &org.id) {
                    path = dir.join(format!("{key}-{n}.yaml"));
                    n += 1;
                }
                (key, path)
            }
        };
        if !targets.is_empty() && !targets.iter().any(|t| t.org == key) {
            continue;
        }
        let text = manifest(provider.kind, &provider.name, &key, org, &schema);
        write(&path, &text)?;
        report.written += 1;
        if known.contains_key(&index) {
            report.updated += 1;
        }
    }
    if settings.prune_files {
        // Manifests of this provider that matched no live organization: gone at the vendor.
        for org in &declared {
            if matches.contains_key(&org.key.value) {
                continue;
            }
            let file = org.key.span.file;
            if per_file.get(&file) != Some(&1) {
                report.kept.push(sources.path(file).to_owned());
                continue;
            }
            let path = sources.path(file);
            std::fs::remove_file(path)
                .map_err(|e| Failure::Usage(format!("cannot remove {}: {e}", path.display())))?;
            report.removed += 1;
        }
    }
    Ok(report)
}

/// Whether the file at `path` is free to (over)write with the manifest of the organization with
/// vendor id `id`: absent, or an earlier export of that same organization.
fn free_for(path: &Path, id: &str) -> bool {
    match std::fs::read_to_string(path) {
        Err(_) => !path.exists(),
        Ok(text) => text
            .lines()
            .any(|line| line == format!("id: {}", crate::export::quoted(id))),
    }
}
