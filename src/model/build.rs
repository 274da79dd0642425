//! Documents → [`DesiredState`]: the checks that need more than one value at a time.
//!
//! Decoding (in `manifest`) has already checked each value on its own. Here we resolve provider
//! references, check each field against what the provider's kind supports (the field table of docs/workspace.md), and
//! find duplicates across documents and files. Every problem is collected.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rayon::prelude::*;

use crate::manifest::{
    CONFIG_FILE, Diagnostics, DomainType, Email, Env, FileId, Key, LoadedWorkspace, ManifestError,
    OrganizationDocument, Part, ProviderConfig, ProviderKind, Sources, Span, Spanned,
    WorkspaceConfig, decode_config, decode_manifest, did_you_mean, parts, read_workspace,
};
use crate::provider::description::MembersBy;

use super::desired::*;

/// Loads and validates a workspace. On failure, returns every diagnostic, in file order.
pub fn load_desired_state(
    root: &Path,
    env: &Env,
) -> Result<(DesiredState, LoadedWorkspace), (Vec<ManifestError>, Sources)> {
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let (config_file, manifest_files) = read_workspace(root, &mut sources, &mut diags);
    let built =
        config_file.map(|config| desired_state(config, &manifest_files, &sources, env, &mut diags));
    match built {
        Some((Some(desired), Some(config))) if diags.is_empty() => Ok((
            desired,
            LoadedWorkspace {
                root: root.to_path_buf(),
                sources,
                config,
            },
        )),
        _ => {
            let errors = diags.finish(&sources);
            Err((errors, sources))
        }
    }
}

/// Validates a workspace given as texts: `orgform.yaml` and manifests as (path, text) pairs.
/// The same checks as [`load_desired_state`], without a file system: for tests and fuzzing.
pub fn validate_texts(
    config: &str,
    manifests: &[(&str, &str)],
    env: &Env,
) -> Result<DesiredState, Vec<ManifestError>> {
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let config_file = sources.add(CONFIG_FILE.into(), config);
    let manifest_files: Vec<_> = manifests
        .iter()
        .map(|(path, text)| sources.add((*path).into(), *text))
        .collect();
    match desired_state(config_file, &manifest_files, &sources, env, &mut diags) {
        (Some(desired), _) if diags.is_empty() => Ok(desired),
        _ => Err(diags.finish(&sources)),
    }
}

/// The Scalekit metadata key orgform uses to mark what it created (the field table of docs/workspace.md).
pub const OWNERSHIP_KEY: &str = crate::provider::ownership::OWNER_KEY;

/// The desired state of files read into `sources`. Each manifest is decoded, and each of its
/// documents checked and turned into an [`Organization`], on its own: files in parallel, with no
/// document kept after. What needs all organizations (duplicate keys and names) comes after.
/// When `orgform.yaml` is broken, the manifests are still decoded, so that their problems are
/// reported too. Returns the desired state if nothing was wrong, and `orgform.yaml` decoded.
fn desired_state(
    config_file: FileId,
    manifest_files: &[FileId],
    sources: &Sources,
    env: &Env,
    diags: &mut Diagnostics,
) -> (Option<DesiredState>, Option<WorkspaceConfig>) {
    let config = decode_config(config_file, sources, env, diags);
    // `exclude:` leaves files out before they are parsed: not manifests, not problems.
    let excludes = config.as_ref().map(|c| build_excludes(c, diags));
    let root = sources.path(config_file).parent().unwrap_or(Path::new(""));
    let mut excluded = Vec::new();
    let manifest_files: Vec<FileId> = manifest_files
        .iter()
        .copied()
        .filter(|&file| {
            let path = sources.path(file);
            let relative = path.strip_prefix(root).unwrap_or(path);
            let matched = excludes.as_ref().is_some_and(|set| set.is_match(relative));
            if matched {
                excluded.push(relative.display().to_string());
            }
            !matched
        })
        .collect();
    let manifest_files = &manifest_files;
    let providers = config.as_ref().map(|c| build_providers(c, diags));
    let templates = config.as_ref().map_or(&[][..], |c| c.templates.as_slice());
    let declared = config
        .as_ref()
        .map_or(&[][..], |c| c.declared_providers.as_slice());
    // Every part of every file on its own core: a big file is shared out as many files are.
    let parts: Vec<Part> = manifest_files
        .iter()
        .flat_map(|&file| parts(file, sources))
        .collect();
    // Each thread gathers the documents of the parts it takes in one vector (not one per file:
    // a workspace of a hundred thousand files would make a hundred thousand vectors), in order.
    let built: Vec<(Vec<BuiltDocument>, Diagnostics)> = parts
        .par_iter()
        .fold(
            || (Vec::new(), Diagnostics::default()),
            |(mut built, mut part_diags), &part| {
                let documents = decode_manifest(part, templates, sources, env, &mut part_diags);
                for document in documents {
                    let organization = providers.as_ref().and_then(|providers| {
                        build_organization(&document, providers, declared, &mut part_diags)
                    });
                    // A document without a valid key or name was checked for its other
                    // problems, but declares nothing.
                    if document.complete {
                        built.push((document.organization, organization));
                    }
                }
                (built, part_diags)
            },
        )
        .collect();

    let mut organizations: BTreeMap<Key, Organization> = BTreeMap::new();
    // Where each key was first declared, for keys whose document built no organization (the
    // others' sites are in their organizations).
    let mut unbuilt_key_site: HashMap<Key, Span> = HashMap::new();
    for (documents, part_diags) in built {
        diags.append(part_diags);
        for (key, organization) in documents {
            let first = organizations
                .get(&key.value)
                .map(|o| o.key.span)
                .or_else(|| unbuilt_key_site.get(&key.value).copied());
            if let Some(first) = first {
                diags.push(
                    ManifestError::new(
                        "duplicate_organization",
                        format!("organization `{}` is declared twice", key.value),
                    )
                    .at(key.span, "declared again here")
                    .also_at(first, format!("`{}` is first declared here", key.value))
                    .help(
                        "each organization key must be unique in the workspace; rename one of them",
                    ),
                );
                continue;
            }
            match organization {
                Some(organization) => {
                    organizations.insert(key.value, organization);
                }
                None => {
                    unbuilt_key_site.insert(key.value, key.span);
                }
            }
        }
    }
    let (Some(config), Some(providers)) = (config, providers) else {
        return (None, None);
    };
    let policy = build_policy(&config);
    for kind in config.acknowledge.iter().flatten() {
        check_warning_kind(kind, diags);
    }
    check_unique_per_provider(&organizations, diags);
    check_unique_per_target(&organizations, &providers, diags);

    if !diags.is_empty() {
        return (None, Some(config));
    }
    let desired = DesiredState {
        providers: providers
            .into_iter()
            .map(|(name, (p, _))| (name, p))
            .collect(),
        policy,
        lock: crate::model::LockSettings {
            postgres: config
                .lock
                .as_ref()
                .and_then(|l| l.postgres.as_ref())
                .map(|p| p.value.clone()),
        },
        templates: config.templates.len(),
        excluded,
        acknowledged: config
            .acknowledge
            .iter()
            .flatten()
            .map(|k| k.value.clone())
            .collect(),
        organizations,
    };
    (Some(desired), Some(config))
}

/// A decoded document's key, and its organization if it passed every check.
type BuiltDocument = (Spanned<Key>, Option<Organization>);

/// Providers by name, with the span of each name for "did you mean" errors.
type Providers = BTreeMap<String, (Provider, Span)>;

fn build_providers(config: &WorkspaceConfig, diags: &mut Diagnostics) -> Providers {
    let mut providers = Providers::new();
    if config.providers.is_empty() {
        diags.push(
            ManifestError::new("no_providers", "orgform.yaml declares no providers")
                .at(config.providers_span, "no provider here")
                .help("declare at least one, e.g.\nproviders:\n  main:\n    kind: scalekit\n    sandbox: true"),
        );
    }
    for (name, settings) in config.providers.iter() {
        if !Key::is_valid(name) {
            diags.push(
                ManifestError::new("invalid_key", "invalid provider name")
                    .at(name.span, "not a valid provider name")
                    .help("provider names are 1-63 characters of a-z, 0-9, `_` and `-`, starting with a letter or digit"),
            );
        }
        check_provider_fields(settings, diags);
        let provider = Provider {
            name: name.value.clone(),
            kind: settings.kind.value,
            sandbox: settings.sandbox.as_ref().is_some_and(|s| s.value),
            url: settings
                .url
                .as_ref()
                .map(|u| u.value.trim_end_matches('/').to_owned()),
            auth_url: settings
                .auth_url
                .as_ref()
                .map(|u| u.value.trim_end_matches('/').to_owned()),
            region: settings.region.as_ref().map(|r| r.value),
            environment_id: settings.environment_id.as_ref().map(|e| e.value.clone()),
            api_key: settings.api_key.as_ref().map(|k| k.value.clone()),
            client_id: settings.client_id.as_ref().map(|c| c.value.clone()),
            client_secret: settings.client_secret.as_ref().map(|c| c.value.clone()),
            parallelism: settings
                .parallelism
                .as_ref()
                .map_or(DEFAULT_PARALLELISM, |p| p.value),
            requests_per_second: settings.requests_per_second.as_ref().map(|r| r.value),
            invite_members: settings.invite_members.as_ref().is_some_and(|i| i.value),
        };
        providers.insert(name.value.clone(), (provider, name.span));
    }
    providers
}

/// Kind-specific provider settings, and `sandbox` with `url`.
fn check_provider_fields(settings: &ProviderConfig, diags: &mut Diagnostics) {
    let kind = settings.kind.value;
    // Each vendor's own settings, as its description lists them.
    let mut vendor_settings: Vec<&str> = ProviderKind::VARIANTS
        .iter()
        .flat_map(|k| k.description().settings.iter().copied())
        .collect();
    vendor_settings.sort_unstable();
    vendor_settings.dedup();
    for field in vendor_settings {
        if let Some(span) = settings.key_spans.get(field)
            && !kind.description().settings.contains(&field)
        {
            let kinds: Vec<ProviderKind> = ProviderKind::VARIANTS
                .iter()
                .copied()
                .filter(|k| k.description().settings.contains(&field))
                .collect();
            diags.push(unsupported(field, kind, &kinds, *span, "provider setting"));
        }
    }
    let sandbox = settings.sandbox.as_ref().is_some_and(|s| s.value);
    if sandbox && let Some(url) = &settings.url {
        diags.push(
                ManifestError::new("conflicting_fields", "a sandbox provider cannot also have a `url`")
                    .at(url.span, "`sandbox: true` starts the embedded emulator, which has its own URL")
                    .help("remove `url`, or set `sandbox: false` to use this URL (e.g. a sandbox started with `orgform sandbox serve`)"),
            );
    }
}

/// The `exclude:` globs as one set (`*` stays within a directory, `**` crosses them); an invalid
/// glob is a diagnostic.
fn build_excludes(config: &WorkspaceConfig, diags: &mut Diagnostics) -> globset::GlobSet {
    let mut set = globset::GlobSetBuilder::new();
    for pattern in config.exclude.iter().flatten() {
        match globset::GlobBuilder::new(&pattern.value)
            .literal_separator(true)
            .build()
        {
            Ok(glob) => {
                set.add(glob);
            }
            Err(e) => diags.push(
                ManifestError::new("invalid_value", "invalid `exclude` glob")
                    .at(pattern.span, e.kind().to_string())
                    .help("globs are relative to the workspace, e.g. `docs/**` or `**/mkdocs.yml`"),
            ),
        }
    }
    set.build().unwrap_or_else(|_| globset::GlobSet::empty())
}

/// The warning kinds that may be acknowledged: those a fleet carries for a long time.
pub const ACKNOWLEDGEABLE: [&str; 2] = ["domain_unverified", "license_expiring"];

fn check_warning_kind(kind: &Spanned<String>, diags: &mut Diagnostics) {
    if !ACKNOWLEDGEABLE.contains(&kind.as_str()) {
        diags.push(
            ManifestError::new(
                "invalid_value",
                format!(
                    "`{}` is not a warning kind that can be acknowledged",
                    kind.value
                ),
            )
            .at(kind.span, "unknown warning kind")
            .help(format!("kinds: {}", ACKNOWLEDGEABLE.join(", "))),
        );
    }
}

/// An id orgform will put into a request path: it must be one opaque vendor id.
fn check_vendor_id(id: &Spanned<String>, what: &str, diags: &mut Diagnostics) {
    if let Err(why) = crate::provider::route::plausible_id(&id.value) {
        diags.push(
            ManifestError::new("invalid_value", format!("{what} is not a vendor id"))
                .at(id.span, why)
                .help("vendor ids are 1 to 128 ASCII letters, digits, `-`, `_` or `.`, as the vendor shows them (e.g. org_59615193906282635)"),
        );
    }
}

fn unsupported(
    field: &str,
    kind: ProviderKind,
    kinds: &[ProviderKind],
    span: Span,
    what: &str,
) -> ManifestError {
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    ManifestError::new(
        "unsupported_field",
        format!("`{field}` is not supported by {kind} providers"),
    )
    .at(span, format!("{kind} has no such {what}"))
    .help(format!("`{field}` is supported by: {}", names.join(", ")))
}

fn build_policy(config: &WorkspaceConfig) -> Policy {
    let defaults = Policy::default();
    let Some(policy) = &config.policy else {
        return defaults;
    };
    Policy {
        prune: policy.prune.as_ref().map_or(defaults.prune, |p| p.value),
        max_deletes: policy
            .max_deletes
            .as_ref()
            .map_or(defaults.max_deletes, |m| m.value),
        max_member_removals: policy
            .max_member_removals
            .as_ref()
            .map_or(defaults.max_member_removals, |m| m.value),
    }
}

fn build_organization(
    doc: &OrganizationDocument,
    providers: &Providers,
    declared: &[String],
    diags: &mut Diagnostics,
) -> Option<Organization> {
    let provider = resolve_provider(doc, providers, declared, diags)?;
    let kind = provider.kind;
    let errors_before = diags.len();

    // What each vendor's description lists (`provider::description`).
    for field in ProviderKind::vendor_fields() {
        if let Some(span) = doc.key_spans.get(field)
            && !kind.description().has_field(field)
        {
            let kinds = ProviderKind::supporting(field);
            diags.push(unsupported(
                field,
                kind,
                &kinds,
                *span,
                "organization field",
            ));
        }
    }
    if let Some(org_type) = &doc.org_type {
        check_org_type(org_type, kind, diags);
    }
    for earlier in doc.previously.iter().flatten() {
        if earlier.value == doc.name.value {
            diags.push(
                ManifestError::new("invalid_value", "`previously` repeats the current name")
                    .at(earlier.span, "this is the current `name`")
                    .help("`previously` lists earlier names only"),
            );
        }
    }
    for earlier in doc.previous_keys.iter().flatten() {
        if earlier.value == doc.organization.value {
            diags.push(
                ManifestError::new("invalid_value", "`previous_keys` repeats the current key")
                    .at(earlier.span, "this is the current `organization` key")
                    .help("`previous_keys` lists earlier keys only"),
            );
        }
    }
    for path in doc.ignore.iter().flatten() {
        check_ignore_path(path, kind, diags);
    }
    if let Some(id) = &doc.id {
        check_vendor_id(id, "`id`", diags);
    }
    for kind in doc.acknowledge.iter().flatten() {
        check_warning_kind(kind, diags);
    }
    let metadata = doc
        .metadata
        .as_ref()
        .map(|m| check_metadata(m, doc.id.is_some(), kind, diags));
    let domains = doc.domains.as_ref().map(|d| build_domains(d, kind, diags));
    let members = doc
        .members
        .as_ref()
        .map(|m| build_members(m, provider, diags));
    let licenses = doc.licenses.as_ref().map(|l| build_licenses(l, diags));

    if diags.len() > errors_before {
        return None;
    }
    Some(Organization {
        key: doc.organization.clone(),
        provider: provider.name.clone(),
        kind,
        name: doc.name.clone(),
        id: doc.id.clone().map(Box::new),
        previously: doc.previously.clone().unwrap_or_default(),
        previous_keys: doc.previous_keys.clone().unwrap_or_default(),
        extends: doc.extends.clone().unwrap_or_default(),
        protect: doc.protect.as_ref().is_some_and(|p| p.value),
        ignore: doc.ignore.clone().unwrap_or_default(),
        acknowledge: doc
            .acknowledge
            .iter()
            .flatten()
            .map(|k| k.value.clone())
            .collect(),
        billing_email: doc.billing_email.clone(),
        metadata,
        slug: doc.slug.clone().map(Box::new),
        plain: doc.plain.clone(),
        features: doc.features.clone(),
        region: doc.region,
        org_type: doc.org_type.clone().map(Box::new),
        description: doc.description.clone().map(Box::new),
        services: doc.services.clone(),
        domains,
        address: doc.address.clone().map(Box::new),
        members,
        licenses,
    })
}

/// The provider a document names, or the only one declared. A provider whose settings were
/// invalid has been reported already; documents naming it are skipped silently.
fn resolve_provider<'p>(
    doc: &OrganizationDocument,
    providers: &'p Providers,
    declared: &[String],
    diags: &mut Diagnostics,
) -> Option<&'p Provider> {
    match &doc.provider {
        Some(name) => match providers.get(&name.value) {
            Some((provider, _)) => Some(provider),
            None if declared.contains(&name.value) => None,
            None => {
                let help = match did_you_mean(name, providers.keys().map(String::as_str)) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None if providers.is_empty() => "declare providers in orgform.yaml".to_owned(),
                    None => format!(
                        "providers declared in orgform.yaml: {}",
                        providers.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                };
                diags.push(
                    ManifestError::new(
                        "unknown_provider",
                        format!("unknown provider `{}`", name.value),
                    )
                    .at(name.span, "not declared in orgform.yaml")
                    .help(help),
                );
                None
            }
        },
        None => {
            match declared.len() {
                1 => providers.values().next().map(|(p, _)| p),
                0 => None,
                _ => {
                    diags.push(
                    ManifestError::new("missing_provider", "which provider manages this organization?")
                        .at(doc.organization.span, "no `provider:` given")
                        .help(format!(
                            "orgform.yaml declares several providers; add `provider:` with one of: {}",
                            providers.keys().cloned().collect::<Vec<_>>().join(", ")
                        )),
                );
                    None
                }
            }
        }
    }
}

fn check_org_type(org_type: &Spanned<String>, kind: ProviderKind, diags: &mut Diagnostics) {
    let Some(choices) = kind.description().organization_types else {
        return;
    };
    if !choices.contains(&org_type.as_str()) {
        let help = match did_you_mean(org_type, choices.iter().copied()) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!("{kind} organization types: {}", choices.join(", ")),
        };
        diags.push(
            ManifestError::new("invalid_value", format!("invalid {kind} organization type"))
                .at(org_type.span, "not a valid type")
                .help(help),
        );
    }
}

fn check_ignore_path(path: &Spanned<String>, kind: ProviderKind, diags: &mut Diagnostics) {
    let paths = kind.description().ignorable;
    let metadata_key = kind.description().ignorable_metadata_keys
        && path
            .strip_prefix("metadata.")
            .is_some_and(|k| !k.is_empty());
    if paths.contains(&path.as_str()) || metadata_key {
        return;
    }
    let help = if paths.is_empty() {
        format!("{kind} organizations are read-only: there is nothing for `ignore` to protect")
    } else {
        match did_you_mean(path, paths.iter().copied()) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!("{kind} fields that can be ignored: {}", paths.join(", ")),
        }
    };
    diags.push(
        ManifestError::new(
            "invalid_ignore",
            "`ignore` names a field orgform does not manage",
        )
        .at(path.span, format!("not a managed {kind} field"))
        .help(help),
    );
}

fn check_metadata(
    metadata: &Spanned<crate::manifest::NamedMap<Spanned<String>>>,
    pinned: bool,
    kind: ProviderKind,
    diags: &mut Diagnostics,
) -> BTreeMap<String, Spanned<String>> {
    let description = kind.description();
    let name = description.name;
    // Only vendors with metadata let a manifest declare it (the field check reports the rest).
    let Some(limits) = description.metadata else {
        return BTreeMap::new();
    };
    let marker = description.ownership_marker;
    let most = limits.pairs;
    // An organization orgform may create keeps one pair for the ownership marker; an adopted
    // one (pinned with `id:`, which orgform never creates) may declare them all.
    let limit = if pinned || !marker { most } else { most - 1 };
    if metadata.len() > limit {
        let help = if pinned || metadata.len() > most {
            format!(
                "{name} allows {most} metadata pairs per organization; an organization orgform may create keeps one for its ownership marker"
            )
        } else {
            format!(
                "{name} allows {most} metadata pairs per organization and orgform keeps one for the ownership marker of organizations it creates; an existing organization pinned with `id:` may declare all {most}"
            )
        };
        diags.push(
            ManifestError::new(
                "metadata_limit",
                format!("{} metadata pairs, at most {limit} allowed", metadata.len()),
            )
            .at(metadata.span, "too many pairs")
            .help(help),
        );
    }
    let (key_min, key_max) = limits.key_chars;
    let (value_min, value_max) = limits.value_chars;
    let mut out = BTreeMap::new();
    for (key, value) in metadata.iter() {
        let key_len = key.chars().count();
        if marker && key.value == OWNERSHIP_KEY {
            diags.push(
                ManifestError::new(
                    "metadata_limit",
                    format!("metadata key `{OWNERSHIP_KEY}` is reserved"),
                )
                .at(key.span, "orgform uses this key to mark what it created")
                .help("choose another key"),
            );
        } else if !(key_min..=key_max).contains(&key_len) {
            diags.push(
                ManifestError::new("metadata_limit", "metadata key has an invalid length")
                    .at(
                        key.span,
                        format!("{key_len} characters; {name} allows {key_min} to {key_max}"),
                    )
                    .help(format!(
                        "{name} metadata keys are {key_min} to {key_max} characters"
                    )),
            );
        }
        let value_len = value.chars().count();
        if !(value_min..=value_max).contains(&value_len) {
            diags.push(
                ManifestError::new("metadata_limit", "metadata value has an invalid length")
                    .at(
                        value.span,
                        format!("{value_len} characters; {name} allows {value_min} to {value_max}"),
                    )
                    .help(format!(
                        "{name} metadata values are {value_min} to {value_max} characters"
                    )),
            );
        }
        out.insert(key.value.clone(), value.clone());
    }
    out
}

fn build_domains(
    entries: &Spanned<Vec<crate::manifest::DomainEntry>>,
    kind: ProviderKind,
    diags: &mut Diagnostics,
) -> Vec<Domain> {
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    let mut out = Vec::new();
    for entry in entries.iter() {
        if let Some(first) = seen.get(entry.name.ascii.as_str()) {
            diags.push(
                ManifestError::new("duplicate_domain", "domain listed twice")
                    .at(entry.name.span, "the same domain as an earlier entry")
                    .also_at(*first, "first listed here")
                    .help("internationalised names are compared in their ASCII form; remove one entry"),
            );
            continue;
        }
        seen.insert(&entry.name.ascii, entry.name.span);
        let domain_type = match (kind.description().domain_types, &entry.domain_type) {
            (true, t) => Some(t.as_ref().map_or(DomainType::Organization, |t| t.value)),
            (false, Some(t)) => {
                diags.push(
                    ManifestError::new(
                        "unsupported_field",
                        format!("domain `type` is not supported by {kind} providers"),
                    )
                    .at(t.span, {
                        let with: Vec<&str> = ProviderKind::VARIANTS
                            .iter()
                            .filter(|k| k.description().domain_types)
                            .map(|k| k.description().name)
                            .collect();
                        let verb = if with.len() == 1 {
                            "distinguishes"
                        } else {
                            "distinguish"
                        };
                        format!("only {} {verb} domain types", with.join(" and "))
                    })
                    .help("write the domain as a plain name"),
                );
                None
            }
            (false, None) => None,
        };
        out.push(Domain {
            name: entry.name.clone(),
            domain_type,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn build_members(
    entries: &Spanned<Vec<crate::manifest::MemberEntry>>,
    provider: &Provider,
    diags: &mut Diagnostics,
) -> Vec<Member> {
    let kind = provider.kind;
    let mut seen: BTreeMap<MemberIdentity, Span> = BTreeMap::new();
    let mut out = Vec::new();
    for entry in entries.iter() {
        let identity = match (&entry.user, &entry.email) {
            (Some(user), None) => {
                check_vendor_id(user, "a member's `user`", diags);
                user.clone().map(MemberIdentity::User)
            }
            (None, Some(email)) => email
                .clone()
                .map(|e| MemberIdentity::Email(Email(e.normalized()))),
            _ => continue, // reported while decoding
        };
        if let Some(invite) = &entry.invite
            && !kind.description().invites
        {
            let kinds: Vec<ProviderKind> = ProviderKind::VARIANTS
                .iter()
                .copied()
                .filter(|k| k.description().invites)
                .collect();
            diags.push(unsupported(
                "invite",
                kind,
                &kinds,
                invite.span,
                "member field",
            ));
        }
        if kind.description().members_by == MembersBy::UserOnly
            && let Some(email) = &entry.email
        {
            let name = kind.description().name;
            diags.push(
                ManifestError::new(
                    "unsupported_field",
                    format!("{name} members are identified by `user` id"),
                )
                .at(
                    email.span,
                    format!("{name} memberships carry no e-mail address"),
                )
                .help(format!(
                    "write `{{ user: <user id>, role: {} }}`",
                    kind.description()
                        .roles
                        .and_then(|r| r.first())
                        .unwrap_or(&"member")
                )),
            );
        }
        let roles: Vec<Spanned<String>> = match (&entry.role, &entry.roles) {
            (Some(role), None) => vec![role.clone()],
            (None, Some(roles)) => roles.value.clone(),
            _ => continue, // reported while decoding
        };
        if let Some(roles) = &entry.roles {
            if roles.is_empty() {
                diags.push(
                    ManifestError::new("invalid_value", "`roles` is empty")
                        .at(roles.span, "a member needs at least one role")
                        .help("e.g. `roles: [member]`"),
                );
            }
            if kind.description().single_role {
                let name = kind.description().name;
                let choices: Vec<String> = kind
                    .description()
                    .roles
                    .unwrap_or(&["member"])
                    .iter()
                    .map(|r| format!("`role: {r}`"))
                    .collect();
                diags.push(
                    ManifestError::new(
                        "unsupported_field",
                        format!("{name} members have exactly one `role`"),
                    )
                    .at(roles.span, format!("use {}", choices.join(" or ")))
                    .help(format!("{name} memberships have a single role")),
                );
            }
        }
        for role in &roles {
            let allowed = kind.description().roles;
            if let Some(allowed) = allowed
                && !allowed.contains(&role.as_str())
            {
                let name = kind.description().name;
                let help = match did_you_mean(role, allowed.iter().copied()) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => {
                        let listed: Vec<String> =
                            allowed.iter().map(|r| format!("`{r}`")).collect();
                        format!("{name} roles are {}", listed.join(" and "))
                    }
                };
                diags.push(
                    ManifestError::new("invalid_role", format!("invalid {name} role"))
                        .at(role.span, format!("not a {name} role"))
                        .help(help),
                );
            } else if role.trim().is_empty() {
                diags.push(
                    ManifestError::new("invalid_role", "empty role name")
                        .at(role.span, "empty")
                        .help("name a role, e.g. `member`"),
                );
            }
        }
        if let Some(first) = seen.get(&identity.value) {
            diags.push(
                ManifestError::new("duplicate_member", "member listed twice")
                    .at(identity.span, "the same member as an earlier entry")
                    .also_at(*first, "first listed here")
                    .help("list each member once; give several roles with `roles: [..]`"),
            );
            continue;
        }
        seen.insert(identity.value.clone(), identity.span);
        let mut roles: Vec<String> = roles.into_iter().map(|r| r.value).collect();
        roles.sort();
        roles.dedup();
        let invite = entry
            .invite
            .as_ref()
            .map_or(provider.invite_members, |i| i.value);
        out.push(Member {
            identity,
            roles,
            invite,
        });
    }
    out.sort_by(|a, b| a.identity.cmp(&b.identity));
    out
}

fn build_licenses(
    entries: &Spanned<Vec<crate::manifest::LicenseExpectation>>,
    diags: &mut Diagnostics,
) -> Vec<License> {
    let mut seen: BTreeMap<LicenseIdentity, Span> = BTreeMap::new();
    let mut out = Vec::new();
    for entry in entries.iter() {
        let identity = match (&entry.package, &entry.id) {
            (Some(package), None) => package.clone().map(LicenseIdentity::Package),
            (None, Some(id)) => id.clone().map(LicenseIdentity::Id),
            _ => continue, // reported while decoding
        };
        if let Some(first) = seen.get(&identity.value) {
            diags.push(
                ManifestError::new("duplicate_license", "license expectation listed twice")
                    .at(identity.span, "the same license as an earlier entry")
                    .also_at(*first, "first listed here")
                    .help("list each license once"),
            );
            continue;
        }
        seen.insert(identity.value.clone(), identity.span);
        out.push(License {
            identity,
            status: entry.status.as_ref().map(|s| s.value),
            min_days_left: entry.min_days_left.as_ref().map(|m| m.value),
        });
    }
    out.sort_by(|a, b| a.identity.cmp(&b.identity));
    out
}

/// What the vendor keeps unique across one account, checked before apply meets it half-way:
/// a Scalekit domain belongs to one organization of an environment, so a second organization
/// declaring it would be created and then fail `409 ALREADY_EXISTS` on its domain, a half-built
/// tenant. Providers pointing at one target (the same sandbox, or the same URL) share the rule.
fn check_unique_per_target(
    organizations: &BTreeMap<Key, Organization>,
    providers: &Providers,
    diags: &mut Diagnostics,
) {
    // Each provider's target once (as text, for equality), numbered: the map below holds a
    // hundred thousand organizations' domains and must not hold a copy of it for each.
    let mut targets: Vec<String> = Vec::new();
    let target_of: HashMap<&str, usize> = providers
        .iter()
        .map(|(name, (p, _))| {
            let target = if p.sandbox {
                format!("{} sandbox", p.kind)
            } else {
                format!(
                    "{} {}",
                    p.kind,
                    p.url.as_deref().unwrap_or("(from the environment)")
                )
            };
            let index = targets
                .iter()
                .position(|t| *t == target)
                .unwrap_or_else(|| {
                    targets.push(target);
                    targets.len() - 1
                });
            (name.as_str(), index)
        })
        .collect();
    let mut domains: HashMap<(usize, &str), (Span, &str)> = HashMap::new();
    for org in organizations.values() {
        if !org.kind.description().unique_domains {
            continue;
        }
        let Some(&target) = target_of.get(org.provider.as_str()) else {
            continue;
        };
        for domain in org.domains.iter().flatten() {
            let name = domain.name.value.ascii.as_str();
            match domains.get(&(target, name)) {
                Some((first, first_key)) if *first_key != org.key.as_str() => diags.push(
                    ManifestError::new(
                        "duplicate_domain",
                        format!("domain `{name}` is declared by two organizations"),
                    )
                    .at(domain.name.span, format!("declared for `{}` here", org.key.value))
                    .also_at(*first, format!("and for `{first_key}` here"))
                    .help(format!("a {} domain belongs to one organization of an environment: apply would create the second organization and fail on its domain; keep it in one of them", org.kind.description().name)),
                ),
                Some(_) => {}
                None => {
                    domains.insert((target, name), (domain.name.span, org.key.as_str()));
                }
            }
        }
    }
}

/// Two organizations of one provider with the same name (or pinned to the same id) would match
/// the same live object.
fn check_unique_per_provider(organizations: &BTreeMap<Key, Organization>, diags: &mut Diagnostics) {
    // An earlier key identifies one organization, and is nobody's current key.
    let mut previous_keys: BTreeMap<(&str, &str), Span> = BTreeMap::new();
    for org in organizations.values() {
        for earlier in &org.previous_keys {
            let current = organizations
                .get(&earlier.value)
                .filter(|other| other.provider == org.provider);
            let first = previous_keys.get(&(org.provider.as_str(), earlier.as_str()));
            if let Some(other) = current {
                diags.push(
                    ManifestError::new("invalid_value", format!("`{}` is the key of another organization", earlier.value))
                        .at(earlier.span, "listed as an earlier key here")
                        .also_at(other.key.span, "the current key of this organization")
                        .help("an earlier key belongs to one organization only; remove it from `previous_keys`, or rename the other organization"),
                );
            } else if let Some(first) = first {
                diags.push(
                    ManifestError::new(
                        "invalid_value",
                        format!(
                            "two organizations list `{}` in `previous_keys`",
                            earlier.value
                        ),
                    )
                    .at(earlier.span, "listed again here")
                    .also_at(*first, "first listed here")
                    .help("an earlier key belongs to one organization only"),
                );
            } else {
                previous_keys.insert((org.provider.as_str(), earlier.as_str()), earlier.span);
            }
        }
    }
    let mut names: BTreeMap<(&str, std::borrow::Cow<str>), (Span, &str)> = BTreeMap::new();
    let mut ids: BTreeMap<(&str, &str), Span> = BTreeMap::new();
    for org in organizations.values() {
        // Names identify only unpinned organizations; pinned ones (e.g. adopted tenants that
        // share a name, as real accounts have) are found by their id.
        let all_names = std::iter::once(&org.name)
            .chain(&org.previously)
            .filter(|_| org.id.is_none());
        for name in all_names {
            // Compared in NFC: two names that differ only by normalization are one name.
            let slot = (org.provider.as_str(), super::name::nfc(name.as_str()));
            match names.get(&slot) {
                Some((first, first_text)) if *first != name.span => {
                    let help = if *first_text == name.as_str() {
                        "names (including `previously`) identify organizations within a provider; make them unique or pin one with `id:`".to_owned()
                    } else {
                        format!(
                            "the two are the same name written with composed and decomposed Unicode characters (`{}` and `{}`), and orgform compares names in NFC form; make them unique or pin one with `id:`",
                            super::name::escaped(first_text),
                            super::name::escaped(name.as_str())
                        )
                    };
                    diags.push(
                        ManifestError::new(
                            "duplicate_name",
                            format!(
                                "two organizations of provider `{}` use the name `{}`",
                                org.provider, name.value
                            ),
                        )
                        .at(name.span, "used again here")
                        .also_at(*first, "first used here")
                        .help(help),
                    );
                }
                Some(_) => {}
                None => {
                    names.insert(slot, (name.span, name.as_str()));
                }
            }
        }
        if let Some(id) = &org.id {
            let slot = (org.provider.as_str(), id.as_str());
            match ids.get(&slot) {
                Some(first) => diags.push(
                    ManifestError::new(
                        "duplicate_id",
                        "two organizations are pinned to the same id",
                    )
                    .at(id.span, "pinned again here")
                    .also_at(*first, "first pinned here")
                    .help(
                        "an `id:` pins one organization to one live object; remove one of the pins",
                    ),
                ),
                None => {
                    ids.insert(slot, id.span);
                }
            }
        }
    }
}
