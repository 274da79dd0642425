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
        &[],
        async |session, _interrupt| match export_in(session, &settings).await {
            Ok(report) => {
                let plural = |n: usize| if n == 1 { "" } else { "s" };
                let mut line = format!(
                    "exported {} organization{} of provider `{}`",
                    report.written,
                    plural(report.written),
                    settings.provider
                );
                if report.unchanged + report.updated > 0 {
                    line.push_str(&format!(
                        "; of those the workspace declares, {} match the vendor and {} {} updated in place",
                        report.unchanged,
                        report.updated,
                        if report.updated == 1 { "was" } else { "were" }
                    ));
                }
                if report.removed > 0 {
                    line.push_str(&format!(
                        "; removed {} file{} of organizations that no longer exist",
                        report.removed,
                        plural(report.removed)
                    ));
                }
                output::say(&line);
                for (path, why) in &report.kept {
                    output::say(&format!("left {} as it is: {why}", path.display()));
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
    if provider
        .kind
        .description()
        .settings
        .contains(&"invite_members")
    {
        text.push_str(&format!(
            "    invite_members: {}\n",
            provider.invite_members
        ));
    }
    text
}

/// Writes `text` at `path` below `root`, never through a link (see [`crate::files`]).
fn write(root: &Path, path: &Path, text: &str) -> Result<(), Failure> {
    let failure = |e: crate::files::WriteError| Failure::Usage(e.to_string());
    let relative = path.strip_prefix(root).map_err(|_| {
        Failure::Usage(format!(
            "{} is not below {}; nothing was written there",
            path.display(),
            root.display()
        ))
    })?;
    let target = crate::files::under(root, relative).map_err(failure)?;
    crate::files::write(&target, text.as_bytes()).map_err(failure)
}

/// What an export did.
#[derive(Default)]
struct Report {
    /// New manifests written.
    written: usize,
    /// Declared organizations whose manifests already say what the vendor has.
    unchanged: usize,
    /// Declared organizations whose live values were written into their manifests in place.
    updated: usize,
    removed: usize,
    /// Files left as they are, and why.
    kept: Vec<(PathBuf, String)>,
}

/// The organization fields whose live value export writes into an existing manifest in place:
/// scalars the manifest itself wrote. Anything else that differs is reported, not rewritten.
fn scalar_span(org: &crate::model::Organization, path: &str) -> Option<Span> {
    match path {
        "name" => Some(org.name.span),
        "billing_email" => org.billing_email.as_ref().map(|e| e.span),
        "slug" => org.slug.as_ref().map(|s| s.span),
        "type" => org.org_type.as_ref().map(|t| t.span),
        "description" => org.description.as_ref().map(|d| d.span),
        "region" => org.region.as_ref().map(|r| r.span),
        _ => None,
    }
}

/// The manifest text of `org` with the live values of `changes` written over the scalars they
/// differ in, or why that cannot be done safely (the file is then left as it is).
fn updated_in_place(
    org: &crate::model::Organization,
    text: &str,
    changes: &[&crate::plan::ResourceChange],
) -> Result<String, String> {
    use crate::plan::Action;
    let mut edits = Vec::new();
    let mut other = Vec::new();
    for change in changes {
        let in_place = change.resource_type == crate::model::ResourceType::Organization
            && matches!(change.action, Action::Update | Action::Manual);
        if !in_place {
            other.push(format!("`{}` ({})", change.address, change.action.as_str()));
            continue;
        }
        let live = change.before_value();
        for path in &change.changed_paths {
            let span = scalar_span(org, path).filter(|span| span.file == org.key.span.file);
            let source = span.and_then(|s| text.get(s.offset()..s.offset() + s.len()));
            match (span, source) {
                // A block scalar (`|`, `>`) spans lines whose layout a splice would not keep.
                (Some(span), Some(source)) if !source.starts_with(['|', '>']) => {
                    let value = match &live[path.as_str()] {
                        serde_json::Value::String(s) => crate::export::quoted(s),
                        serde_json::Value::Null => "null".to_owned(),
                        other => other.to_string(),
                    };
                    edits.push((span.offset(), span.offset() + span.len(), value));
                }
                _ => other.push(format!("`{}` field `{path}`", change.address)),
            }
        }
    }
    if !other.is_empty() {
        return Err(format!(
            "it differs from the vendor in {}, which export does not rewrite (run `orgform plan` to see)",
            other.join(", ")
        ));
    }
    Ok(crate::export::splice(text, edits))
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
    // Whether the vendor's total proved the listing complete: only then is an organization
    // missing from it gone. The listing is held once, as the live state plan compares with.
    let complete = any.client().listings_proven();
    let live = crate::model::LiveState {
        fetched_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        providers: std::collections::BTreeMap::from([(
            provider.name.clone(),
            crate::model::LiveProvider {
                organizations: organizations.map_err(Failure::Api)?,
                complete,
            },
        )]),
    };
    let organizations = &live.providers[&provider.name].organizations;

    let out = settings.out.clone().unwrap_or_else(|| settings.dir.clone());
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
    let (matches, errors) = crate::plan::identity::match_organizations(
        &declared,
        organizations,
        provider.kind,
        complete,
    );
    // The evidence is inconsistent (e.g. two live organizations with one name): which file
    // holds which organization is unknown, so nothing is written and nothing removed. A pin
    // the complete listing lacks is evidence instead: that organization is gone.
    let (gone, ambiguous): (Vec<_>, Vec<_>) = errors.into_iter().partition(|e| e.pin_not_found);
    if !ambiguous.is_empty() {
        return Err(session.identity_failure(ambiguous));
    }
    let gone: std::collections::BTreeSet<crate::manifest::Key> =
        gone.into_iter().map(|e| e.key).collect();
    if !out.join(CONFIG_FILE).exists() {
        write(
            &out,
            &out.join(CONFIG_FILE),
            &config_for(provider, &session.workspace),
        )?;
    }
    for (name, text) in crate::schema::schemas() {
        write(&out, &out.join(SCHEMA_DIR).join(name), &text)?;
    }
    let known: std::collections::BTreeMap<usize, &crate::model::Organization> = matches
        .iter()
        .map(|(key, (index, _))| (*index, &session.desired.organizations[key]))
        .collect();
    // What differs for each declared organization, as plan sees it. Only the matched
    // organizations are planned: the pins of gone ones are not asked about.
    let known_addresses: Vec<ResourceAddress> = known.values().map(|o| o.address()).collect();
    let planned = if known_addresses.is_empty() {
        None
    } else {
        Some(
            crate::plan::plan(crate::plan::PlanInput {
                targets: &known_addresses,
                ..crate::plan::PlanInput::whole(&session.desired, &live)
            })
            .map_err(|errors| session.identity_failure(errors))?,
        )
    };
    let mut differences: std::collections::BTreeMap<String, Vec<&crate::plan::ResourceChange>> =
        Default::default();
    for change in planned.iter().flat_map(|p| p.actionable()) {
        differences
            .entry(change.organization_address())
            .or_default()
            .push(change);
    }
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
    // Keys must be unique where the manifests go: the workspace's own keys are taken only when
    // exporting into it (into another directory, its keys would only add `-2` to every one;
    // a file already at a path there is never overwritten, see `free_for`).
    let taken = if into_workspace {
        session
            .desired
            .organizations
            .keys()
            .map(|k| k.as_str().to_owned())
            .collect()
    } else {
        Default::default()
    };
    let keys = assign_keys(provider.kind, &new, taken);
    let schema = format!("../{SCHEMA_DIR}/organization.schema.json");
    let mut report = Report::default();
    for (index, org) in organizations.iter().enumerate() {
        if let Some(declared) = known.get(&index) {
            if !targets.is_empty() && !targets.iter().any(|t| t.org == declared.key.as_str()) {
                continue;
            }
            // Export keeps what only the manifest knows (comments, order, `ignore`,
            // `previously`, invitations, license expectations): it writes live values over the
            // scalars that differ, or leaves the file alone and says why.
            let file = declared.key.span.file;
            let path = sources.path(file).to_owned();
            let changes = differences
                .get(&declared.address().to_string())
                .map(Vec::as_slice)
                .unwrap_or_default();
            if changes.is_empty() {
                report.unchanged += 1;
                continue;
            }
            if per_file.get(&file) != Some(&1) || !declared.extends.is_empty() {
                report.kept.push((
                    path,
                    "it differs from the vendor, and it holds other documents too or extends templates (run `orgform plan` to see)".into(),
                ));
                continue;
            }
            match updated_in_place(declared, &sources.get(file).text, changes) {
                Ok(text) => {
                    write(&settings.dir, &path, &text)?;
                    report.updated += 1;
                }
                Err(why) => report.kept.push((path, why)),
            }
            continue;
        }
        let key = keys[&org.id].clone();
        if !targets.is_empty() && !targets.iter().any(|t| t.org == key) {
            continue;
        }
        // A file of that name holds something else (keys are new, names are free-form):
        // never overwrite it.
        let dir = out.join(&provider.name);
        let mut path = dir.join(format!("{key}.yaml"));
        let mut n = 2;
        while !free_for(&path, &org.id) {
            path = dir.join(format!("{key}-{n}.yaml"));
            n += 1;
        }
        let text = manifest(provider.kind, &provider.name, &key, org, &schema);
        write(&out, &path, &text)?;
        report.written += 1;
    }
    if settings.prune_files {
        // A manifest goes only when its organization is proven gone: pinned to an id (so it
        // existed), that id absent from a listing the vendor's total proved complete.
        for org in &declared {
            if matches.contains_key(&org.key.value) {
                continue;
            }
            let file = org.key.span.file;
            let path = sources.path(file).to_owned();
            // Proven gone: pinned (so it existed) and missing from a complete listing.
            let kept = match (&org.id, gone.contains(&org.key.value)) {
                (None, _) => Some(format!(
                    "`{}` matches no live organization, but it pins no `id:`, so nothing proves it ever existed (not applied yet?)",
                    org.key.value
                )),
                (Some(_), false) => Some(format!(
                    "`{}` matches no live organization, and the vendor's listing reported no total, so it cannot prove the organization is gone",
                    org.key.value
                )),
                (Some(_), true) if per_file.get(&file) != Some(&1) => {
                    Some("it holds other documents too".into())
                }
                (Some(_), true) => None,
            };
            if let Some(why) = kept {
                report.kept.push((path, why));
                continue;
            }
            std::fs::remove_file(&path)
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
