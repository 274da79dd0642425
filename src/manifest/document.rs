//! The two kinds of YAML document in a workspace, as typed and value-checked records.
//!
//! These types are the manifest language: they decode from YAML (reporting every problem) and
//! generate the JSON Schemas in `schemas/`, so the two cannot disagree. Checks that need more than
//! one document (provider references, duplicates, what a provider's kind supports) happen later,
//! in `model::build`.

use std::collections::BTreeMap;

use schemars::JsonSchema;

use super::decode::{Decode, DecodeCx, MapReader, NamedMap};
use super::diagnostic::ManifestError;
use super::node::{Node, Value};
use super::span::{Span, Spanned};
use super::values::*;

/// The name when the whole setting is `$NAME` (no braces, maybe quoted): a shell habit that
/// orgform would otherwise take literally. A `$` inside a longer value (a secret may hold
/// one) is not matched.
fn bare_variable(raw: &str) -> Option<&str> {
    let unquoted = raw.trim().trim_matches(['"', '\'']);
    let name = unquoted.strip_prefix('$')?;
    let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then_some(name)
}

/// A client-side rate budget below one request in 100 s, or above what any vendor serves, is a
/// typo (and a period of 1e300 s cannot even be waited for).
const MIN_REQUESTS_PER_SECOND: f64 = 0.01;
const MAX_REQUESTS_PER_SECOND: f64 = 100_000.0;

/// `orgform.yaml`: the providers a workspace talks to and the safety policy.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(title = "orgform.yaml", deny_unknown_fields)]
pub struct WorkspaceConfig {
    /// Provider name → connection settings. Organization documents refer to a provider by name.
    pub providers: NamedMap<ProviderConfig>,
    #[serde(default)]
    pub policy: Option<PolicyConfig>,
    /// Where `apply` takes its locks besides the local one (see docs/locking.md).
    #[serde(default)]
    pub lock: Option<LockConfig>,
    /// Warning kinds acknowledged everywhere (`domain_unverified`, `license_expiring`): counted
    /// on one line instead of listed; the JSON plan still holds each one.
    #[serde(default)]
    pub acknowledge: Option<Vec<Spanned<String>>>,
    /// Globs of YAML files below the workspace that are not manifests (e.g. `docs/**`),
    /// relative to it; `validate` says which files they excluded.
    #[serde(default)]
    pub exclude: Option<Vec<Spanned<String>>>,
    /// Named partial organization documents; a document takes them with `extends: [name]`.
    #[serde(default)]
    #[schemars(with = "Option<BTreeMap<String, serde_json::Map<String, serde_json::Value>>>")]
    pub templates: Vec<super::templates::Template>,
    /// Where `providers:` was written.
    #[schemars(skip)]
    pub providers_span: Span,
    /// Every provider name written, including those whose settings failed to decode, so that
    /// documents naming them are not reported a second time as naming an unknown provider.
    #[schemars(skip)]
    pub declared_providers: Vec<String>,
}

/// How to reach one vendor account. Credentials default to the vendor's environment variables.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ProviderConfig {
    pub kind: Spanned<ProviderKind>,
    /// Use the embedded emulator; its state lives in `.orgform/sandbox.sqlite`.
    #[serde(default)]
    pub sandbox: Option<Spanned<bool>>,
    /// Base URL to which the vendor's documented paths are appended.
    #[serde(default)]
    #[schemars(url)]
    pub url: Option<Spanned<String>>,
    /// PingOne only: the auth server base URL (default from `region`).
    #[serde(default)]
    #[schemars(url)]
    pub auth_url: Option<Spanned<String>>,
    /// PingOne only: region choosing the API and auth hosts (default `NA`).
    #[serde(default)]
    pub region: Option<Spanned<PingOneRegion>>,
    /// PingOne only (default `$PINGONE_ENVIRONMENT_ID`).
    #[serde(default)]
    pub environment_id: Option<Spanned<String>>,
    /// Nirvana only (default `$NIRVANA_LABS_API_KEY`).
    #[serde(default)]
    pub api_key: Option<Spanned<Secret>>,
    /// Scalekit and PingOne (default `$SCALEKIT_CLIENT_ID` / `$PINGONE_CLIENT_ID`).
    #[serde(default)]
    pub client_id: Option<Spanned<String>>,
    /// Scalekit and PingOne (default `$SCALEKIT_CLIENT_SECRET` / `$PINGONE_CLIENT_SECRET`).
    #[serde(default)]
    pub client_secret: Option<Spanned<Secret>>,
    /// Maximum requests in flight to this provider (default 16).
    #[serde(default)]
    #[schemars(range(min = 1, max = 256))]
    pub parallelism: Option<Spanned<u32>>,
    /// Client-side rate budget in requests per second (default: none).
    #[serde(default)]
    #[schemars(range(min = 0.01, max = 100000.0))]
    pub requests_per_second: Option<Spanned<f64>>,
    /// Scalekit only: whether the vendor e-mails an invitation to each member orgform adds
    /// (default `false`; a member's own `invite` wins). Always sent explicitly: the vendor's
    /// own default is to send one.
    #[serde(default)]
    pub invite_members: Option<Spanned<bool>>,
    /// Where each present key was written, for errors about the key itself.
    #[schemars(skip)]
    pub key_spans: BTreeMap<&'static str, Span>,
}

/// Safety settings enforced by `plan` (shown) and `apply` (refused).
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PolicyConfig {
    /// Delete live organizations that orgform owns and no manifest declares.
    #[serde(default)]
    pub prune: Option<Spanned<bool>>,
    /// `apply` refuses a plan with more organization deletes than this (default 0).
    #[serde(default)]
    pub max_deletes: Option<Spanned<u32>>,
    /// Per organization: a number, or a percentage of its current members (default 10%).
    #[serde(default)]
    pub max_member_removals: Option<Spanned<RemovalLimit>>,
}

/// A shared lock, so that applies on many machines (CI runners) take turns.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct LockConfig {
    /// A PostgreSQL connection URL (`postgres://user:password@host:5432/db`), usually
    /// `${ORGFORM_LOCK_URL}`: session advisory locks keyed by provider target.
    #[serde(default)]
    pub postgres: Option<Spanned<Secret>>,
}

/// One organization (tenant), as declared in a manifest document.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(title = "orgform organization", deny_unknown_fields)]
pub struct OrganizationDocument {
    /// Stable identity inside this workspace (`[a-z0-9][a-z0-9_-]{0,62}`).
    pub organization: Spanned<Key>,
    /// Required only when `orgform.yaml` declares more than one provider.
    #[serde(default)]
    pub provider: Option<Spanned<String>>,
    #[schemars(length(min = 1, max = 200))]
    pub name: Spanned<String>,
    /// Pin to a live object by its vendor id (rename-safe).
    #[serde(default)]
    pub id: Option<Spanned<String>>,
    /// Templates from `orgform.yaml` whose fields this document takes (its own fields win).
    #[serde(default)]
    pub extends: Option<Vec<Spanned<String>>>,
    /// Earlier names, so that a rename updates instead of creating.
    #[serde(default)]
    pub previously: Option<Vec<Spanned<String>>>,
    /// Scalekit: earlier keys of this organization (its external id), so that changing the key
    /// updates the external id instead of deleting and creating the organization.
    #[serde(default)]
    pub previous_keys: Option<Vec<Spanned<Key>>>,
    /// `apply` never deletes this organization.
    #[serde(default)]
    pub protect: Option<Spanned<bool>>,
    /// Fields whose live value is never changed (e.g. `metadata.tier`).
    #[serde(default)]
    pub ignore: Option<Vec<Spanned<String>>>,
    /// Warning kinds acknowledged for this organization (`domain_unverified`,
    /// `license_expiring`): counted on one line instead of listed.
    #[serde(default)]
    pub acknowledge: Option<Vec<Spanned<String>>>,
    /// Nirvana: billing e-mail; `null` clears it.
    #[serde(default)]
    pub billing_email: Option<Spanned<Option<Email>>>,
    /// String metadata, for the vendors that have it (orgform keeps one pair for its ownership
    /// marker; `validate` checks each vendor's limits, the schema the largest of them).
    #[serde(default)]
    pub metadata: Option<Spanned<NamedMap<Spanned<String>>>>,
    /// Scalekit: URL slug.
    #[serde(default)]
    pub slug: Option<Spanned<String>>,
    /// Vendors' plain fields (declared in their descriptions, not here): name and value. The
    /// schema lists them from the descriptions (`schema.rs`).
    #[schemars(skip)]
    pub plain: Vec<(&'static str, Spanned<PlainValue>)>,
    /// Scalekit: organization feature settings.
    #[serde(default)]
    pub features: Option<Spanned<Features>>,
    /// Scalekit: data region, chosen when orgform creates the organization (read-only after).
    #[serde(default)]
    pub region: Option<Spanned<ScalekitRegion>>,
    /// Nirvana (`company`/`personal`) or PingOne (`PAID`/`TRIAL`/`INTERNAL`), read-only.
    #[serde(default)]
    #[serde(rename = "type")]
    pub org_type: Option<Spanned<String>>,
    /// PingOne (read-only).
    #[serde(default)]
    pub description: Option<Spanned<String>>,
    /// Nirvana (read-only): enabled services.
    #[serde(default)]
    pub services: Option<Spanned<Services>>,
    /// Scalekit (managed) or Nirvana (read-only). A present list is authoritative.
    #[serde(default)]
    pub domains: Option<Spanned<Vec<DomainEntry>>>,
    /// Nirvana: postal address (created and updated, never deleted).
    #[serde(default)]
    pub address: Option<Spanned<Address>>,
    /// Scalekit (managed) or Nirvana (read-only). A present list is authoritative.
    #[serde(default)]
    pub members: Option<Spanned<Vec<MemberEntry>>>,
    /// PingOne (read-only): license expectations.
    #[serde(default)]
    pub licenses: Option<Spanned<Vec<LicenseExpectation>>>,
    #[schemars(skip)]
    pub key_spans: BTreeMap<&'static str, Span>,
    /// The whole document, for errors about it as a whole.
    #[schemars(skip)]
    pub span: Span,
    /// `false` when its key or name is missing or invalid (already reported): the document is
    /// still checked field by field, so that one run reports every problem, but it declares no
    /// organization.
    #[schemars(skip)]
    pub complete: bool,
}

/// Scalekit organization features.
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Features {
    #[serde(default)]
    pub sso: Option<bool>,
    #[serde(default)]
    pub dir_sync: Option<bool>,
}

/// Nirvana services (read-only).
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Services {
    #[serde(default)]
    pub cloud: Option<bool>,
    #[serde(default)]
    pub jit_provisioning: Option<bool>,
    #[serde(default)]
    pub scim: Option<bool>,
    #[serde(default)]
    pub siem: Option<bool>,
    #[serde(default)]
    pub sso: Option<bool>,
}

/// A domain: a bare name, or `{name, type}`.
#[derive(Debug, Clone)]
pub struct DomainEntry {
    pub name: Spanned<DomainName>,
    /// Scalekit only; absent means `organization`.
    pub domain_type: Option<Spanned<DomainType>>,
}

/// A postal address (Nirvana). Optional parts that are absent are unmanaged; `null` clears them.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Address {
    #[schemars(length(min = 1, max = 255))]
    pub line1: Spanned<String>,
    #[serde(default)]
    #[schemars(length(max = 255))]
    pub line2: Option<Spanned<Option<String>>>,
    #[schemars(length(min = 1, max = 255))]
    pub city: Spanned<String>,
    #[serde(default)]
    #[schemars(length(max = 255))]
    pub state: Option<Spanned<Option<String>>>,
    #[schemars(length(min = 1, max = 255))]
    pub postal_code: Spanned<String>,
    pub country: Spanned<CountryCode>,
    #[serde(default)]
    #[schemars(length(max = 255))]
    pub tax_id: Option<Spanned<Option<String>>>,
    /// e.g. `eu_vat`, `us_ein`, `gb_vat`, `au_abn`.
    #[serde(default)]
    #[schemars(length(max = 255))]
    pub tax_id_type: Option<Spanned<Option<String>>>,
}

/// A member, identified by `user` id or `email`, with `role` or (Scalekit) `roles`.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct MemberEntry {
    #[serde(default)]
    pub user: Option<Spanned<String>>,
    #[serde(default)]
    pub email: Option<Spanned<Email>>,
    #[serde(default)]
    pub role: Option<Spanned<String>>,
    #[serde(default)]
    pub roles: Option<Spanned<Vec<Spanned<String>>>>,
    /// Scalekit only: e-mail this member an invitation when orgform adds it (default: the
    /// provider's `invite_members`, itself `false`). Changes nothing for an existing member.
    #[serde(default)]
    pub invite: Option<Spanned<bool>>,
    #[schemars(skip)]
    pub span: Span,
}

/// An expectation about a PingOne license, found by `package` or `id`.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct LicenseExpectation {
    #[serde(default)]
    pub package: Option<Spanned<String>>,
    #[serde(default)]
    pub id: Option<Spanned<String>>,
    #[serde(default)]
    pub status: Option<Spanned<LicenseStatus>>,
    /// The license must not expire within this many days.
    #[serde(default)]
    pub min_days_left: Option<Spanned<u32>>,
    #[schemars(skip)]
    pub span: Span,
}

impl Decode for WorkspaceConfig {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        let mut map = MapReader::new(node, "orgform.yaml", cx)?;
        let declared_providers = match map.field("providers").map(|n| &n.value) {
            Some(Value::Map(pairs)) => pairs
                .iter()
                .filter_map(|(k, _)| k.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let providers = map.required::<NamedMap<ProviderConfig>>("providers", cx);
        let policy = map.optional("policy", cx);
        let lock = map.optional("lock", cx);
        let acknowledge = map.optional("acknowledge", cx);
        let exclude = map.optional("exclude", cx);
        let templates = map
            .field("templates")
            .map(|node| super::templates::decode_templates(node, cx))
            .unwrap_or_default();
        map.finish(cx);
        Some(WorkspaceConfig {
            providers: providers?,
            policy,
            lock,
            acknowledge,
            exclude,
            templates,
            providers_span: map.key_span("providers").unwrap_or(map.span()),
            declared_providers,
        })
    }
}

impl Decode for ProviderConfig {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        let mut map = MapReader::new(node, "provider", cx)?;
        let kind = map.required("kind", cx);
        let config = ProviderConfig {
            sandbox: map.optional("sandbox", cx),
            url: map.optional("url", cx),
            auth_url: map.optional("auth_url", cx),
            region: map.optional("region", cx),
            environment_id: map.optional("environment_id", cx),
            api_key: map.optional("api_key", cx),
            client_id: map.optional("client_id", cx),
            client_secret: map.optional("client_secret", cx),
            parallelism: map.optional("parallelism", cx),
            requests_per_second: map.optional("requests_per_second", cx),
            invite_members: map.optional("invite_members", cx),
            key_spans: key_spans(&map, PROVIDER_FIELDS),
            // Any kind until the decoded one replaces it (a failed `kind` drops the config).
            kind: Spanned::new(ProviderKind::VARIANTS[0], map.span()),
        };
        // `$NAME` without braces is taken literally: in a credential or URL that is a mistake.
        let settings = [
            config.url.as_ref().map(|v| v.span),
            config.auth_url.as_ref().map(|v| v.span),
            config.environment_id.as_ref().map(|v| v.span),
            config.api_key.as_ref().map(|v| v.span),
            config.client_id.as_ref().map(|v| v.span),
            config.client_secret.as_ref().map(|v| v.span),
        ];
        for span in settings.into_iter().flatten() {
            let raw = cx.text_at(span);
            if let Some(name) = bare_variable(raw) {
                cx.report(
                    ManifestError::new("bare_variable", format!("`${name}` is taken literally"))
                        .at(span, "a `$` without braces")
                        .help(format!(
                            "write `${{{name}}}` to read the environment variable {name}"
                        )),
                );
            }
        }
        for url in [&config.url, &config.auth_url].into_iter().flatten() {
            if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
                cx.report(
                    ManifestError::new("invalid_url", "invalid URL")
                        .at(url.span, "expected an http:// or https:// URL")
                        .help(
                            "e.g. `https://api.nirvanalabs.io` or `http://127.0.0.1:8765/scalekit`",
                        ),
                );
            }
        }
        if let Some(p) = &config.parallelism
            && !(1..=256).contains(&p.value)
        {
            cx.report(
                ManifestError::new("out_of_range", "parallelism out of range")
                    .at(p.span, "must be from 1 to 256")
                    .help("the number of requests in flight to this provider; the default is 16"),
            );
        }
        if let Some(rps) = &config.requests_per_second
            && !(MIN_REQUESTS_PER_SECOND..=MAX_REQUESTS_PER_SECOND).contains(&rps.value)
        {
            cx.report(
                ManifestError::new("out_of_range", "requests_per_second out of range")
                    .at(rps.span, "must be from 0.01 to 100000")
                    .help("remove the field to have no client-side rate budget"),
            );
        }
        map.finish(cx);
        Some(ProviderConfig {
            kind: kind?,
            ..config
        })
    }
}

const PROVIDER_FIELDS: &[&str] = &[
    "kind",
    "sandbox",
    "url",
    "auth_url",
    "region",
    "environment_id",
    "api_key",
    "client_id",
    "client_secret",
    "parallelism",
    "requests_per_second",
    "invite_members",
];

impl Decode for LockConfig {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        let mut map = MapReader::new(node, "lock", cx)?;
        let lock = LockConfig {
            postgres: map.optional("postgres", cx),
        };
        map.finish(cx);
        Some(lock)
    }
}

impl Decode for PolicyConfig {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        let mut map = MapReader::new(node, "policy", cx)?;
        let policy = PolicyConfig {
            prune: map.optional("prune", cx),
            max_deletes: map.optional("max_deletes", cx),
            max_member_removals: map.optional("max_member_removals", cx),
        };
        map.finish(cx);
        Some(policy)
    }
}

/// Fields of an organization document, in the order the reference documents them.
pub const ORGANIZATION_FIELDS: &[&str] = &[
    "organization",
    "provider",
    "name",
    "id",
    "extends",
    "previously",
    "previous_keys",
    "protect",
    "ignore",
    "acknowledge",
    "billing_email",
    "metadata",
    "slug",
    "features",
    "region",
    "type",
    "description",
    "services",
    "domains",
    "address",
    "members",
    "licenses",
];

impl Decode for OrganizationDocument {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        let mut map = MapReader::new(node, "organization document", cx)?;
        let organization = map.required("organization", cx);
        let provider = map.optional("provider", cx);
        let name: Option<Spanned<String>> = map.required("name", cx);
        if let Some(name) = &name {
            check_length(cx, name, "name", 1, 200);
        }
        let document = OrganizationDocument {
            organization: Spanned::new(Key(String::new()), map.span()),
            provider,
            name: Spanned::new(String::new(), map.span()),
            id: map.optional("id", cx),
            extends: map.optional("extends", cx),
            previously: map.optional("previously", cx),
            previous_keys: map.optional("previous_keys", cx),
            protect: map.optional("protect", cx),
            ignore: map.optional("ignore", cx),
            acknowledge: map.optional("acknowledge", cx),
            billing_email: map.optional("billing_email", cx),
            metadata: map.optional("metadata", cx),
            slug: map.optional("slug", cx),
            plain: plain_fields(&mut map, cx),
            features: map.optional("features", cx),
            region: map.optional("region", cx),
            org_type: map.optional("type", cx),
            description: map.optional("description", cx),
            services: map.optional("services", cx),
            domains: map.optional("domains", cx),
            address: map.optional("address", cx),
            members: map.optional("members", cx),
            licenses: map.optional("licenses", cx),
            key_spans: key_spans(&map, ORGANIZATION_FIELDS)
                .into_iter()
                .chain(
                    ProviderKind::plain_fields()
                        .filter_map(|p| map.key_span(p.name).map(|span| (p.name, span))),
                )
                .collect(),
            span: map.span(),
            complete: organization.is_some() && name.is_some(),
        };
        map.finish(cx);
        Some(OrganizationDocument {
            organization: organization.unwrap_or(document.organization.clone()),
            name: name.unwrap_or(document.name.clone()),
            ..document
        })
    }
}

/// The plain fields of every vendor present in an organization document, each decoded as its
/// description declares (which vendor may hold it is the model's check, as for typed fields).
/// The vendors' descriptions are the only list of them: a vendor adds one without touching the
/// manifest.
fn plain_fields(
    map: &mut MapReader,
    cx: &mut DecodeCx,
) -> Vec<(&'static str, Spanned<PlainValue>)> {
    use crate::provider::description::PlainKind;
    let mut found: Vec<(&'static str, Spanned<PlainValue>)> = Vec::new();
    for field in ProviderKind::plain_fields() {
        if found.iter().any(|(name, _)| *name == field.name) {
            continue;
        }
        let Some(node) = map.field(field.name) else {
            continue;
        };
        let value = match field.kind {
            PlainKind::Bool => Spanned::<bool>::decode(node, cx).map(|b| b.map(PlainValue::Bool)),
            PlainKind::Text { max_chars } => Spanned::<String>::decode(node, cx).map(|text| {
                check_length(cx, &text, field.name, 1, max_chars.unwrap_or(usize::MAX));
                text.map(PlainValue::Text)
            }),
        };
        if let Some(value) = value {
            found.push((field.name, value));
        }
    }
    found
}

fn key_spans(map: &MapReader, fields: &[&'static str]) -> BTreeMap<&'static str, Span> {
    fields
        .iter()
        .filter_map(|f| map.key_span(f).map(|span| (*f, span)))
        .collect()
}

/// Reports a string whose length (in characters) is outside `min..=max`.
fn check_length(cx: &mut DecodeCx, value: &Spanned<String>, field: &str, min: usize, max: usize) {
    let len = value.chars().count();
    if len < min || len > max {
        let label = if len < min {
            "must not be empty".to_owned()
        } else {
            format!("{len} characters, at most {max} allowed")
        };
        cx.report(
            ManifestError::new("invalid_length", format!("`{field}` has an invalid length"))
                .at(value.span, label)
                .help(format!("`{field}` takes {min} to {max} characters")),
        );
    }
}

impl Decode for Features {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        let mut map = MapReader::new(node, "features", cx)?;
        let features = Features {
            sso: map.optional("sso", cx),
            dir_sync: map.optional("dir_sync", cx),
        };
        map.finish(cx);
        Some(features)
    }
}

impl Decode for Services {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        let mut map = MapReader::new(node, "services", cx)?;
        let services = Services {
            cloud: map.optional("cloud", cx),
            jit_provisioning: map.optional("jit_provisioning", cx),
            scim: map.optional("scim", cx),
            siem: map.optional("siem", cx),
            sso: map.optional("sso", cx),
        };
        map.finish(cx);
        Some(services)
    }
}

impl Decode for DomainEntry {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        if let Value::Str(_) = node.value {
            return Some(DomainEntry {
                name: Spanned::decode(node, cx)?,
                domain_type: None,
            });
        }
        let mut map = MapReader::new(node, "domain", cx)?;
        let name = map.required("name", cx);
        let domain_type = map.optional("type", cx);
        map.finish(cx);
        Some(DomainEntry {
            name: name?,
            domain_type,
        })
    }
}

impl JsonSchema for DomainEntry {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DomainEntry".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let name = generator.subschema_for::<DomainName>();
        let domain_type = generator.subschema_for::<DomainType>();
        schemars::json_schema!({
            "oneOf": [
                name.clone(),
                {
                    "type": "object",
                    "properties": { "name": name, "type": domain_type },
                    "required": ["name"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

impl Decode for Address {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        let mut map = MapReader::new(node, "address", cx)?;
        let line1: Option<Spanned<String>> = map.required("line1", cx);
        let line2: Option<Spanned<Option<String>>> = map.optional("line2", cx);
        let city: Option<Spanned<String>> = map.required("city", cx);
        let state: Option<Spanned<Option<String>>> = map.optional("state", cx);
        let postal_code: Option<Spanned<String>> = map.required("postal_code", cx);
        let country = map.required("country", cx);
        let tax_id: Option<Spanned<Option<String>>> = map.optional("tax_id", cx);
        let tax_id_type: Option<Spanned<Option<String>>> = map.optional("tax_id_type", cx);
        map.finish(cx);
        for (field, value) in [
            ("line1", &line1),
            ("city", &city),
            ("postal_code", &postal_code),
        ] {
            if let Some(value) = value {
                check_length(cx, value, field, 1, 255);
            }
        }
        for (field, value) in [
            ("line2", &line2),
            ("state", &state),
            ("tax_id", &tax_id),
            ("tax_id_type", &tax_id_type),
        ] {
            if let Some(Spanned {
                value: Some(text),
                span,
            }) = value
            {
                check_length(cx, &Spanned::new(text.clone(), *span), field, 1, 255);
            }
        }
        Some(Address {
            line1: line1?,
            line2,
            city: city?,
            state,
            postal_code: postal_code?,
            country: country?,
            tax_id,
            tax_id_type,
        })
    }
}

impl Decode for MemberEntry {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        let mut map = MapReader::new(node, "member", cx)?;
        let member = MemberEntry {
            user: map.optional("user", cx),
            email: map.optional("email", cx),
            role: map.optional("role", cx),
            roles: map.optional("roles", cx),
            invite: map.optional("invite", cx),
            span: map.span(),
        };
        map.finish(cx);
        let both = |a: &'static str, b: &'static str, cx: &mut DecodeCx| {
            cx.report(
                ManifestError::new(
                    "conflicting_fields",
                    format!("a member has both `{a}` and `{b}`"),
                )
                .at(
                    map.key_span(b).unwrap_or(member.span),
                    format!("remove `{a}` or `{b}`"),
                )
                .help(if a == "user" {
                    "a member is found by its vendor user id or by its e-mail address, not both"
                } else {
                    "use `role` for one role or `roles: [..]` for several"
                }),
            );
        };
        match (&member.user, &member.email, map.key_span("user"), map.key_span("email")) {
            (_, _, Some(_), Some(_)) => both("user", "email", cx),
            (None, None, None, None) => cx.report(
                ManifestError::new("missing_field", "a member needs `user` or `email`")
                    .at(member.span, "this member has neither `user` nor `email`")
                    .help("write `{ email: ada@acme.example, role: admin }` or `{ user: usr_42, role: member }`"),
            ),
            _ => {}
        }
        match (map.key_span("role"), map.key_span("roles")) {
            (Some(_), Some(_)) => both("role", "roles", cx),
            (None, None) => cx.report(
                ManifestError::new("missing_field", "a member needs `role` or `roles`")
                    .at(member.span, "this member has no role")
                    .help("add `role: member` (or `roles: [..]` on Scalekit)"),
            ),
            _ => {}
        }
        Some(member)
    }
}

impl Decode for LicenseExpectation {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        let mut map = MapReader::new(node, "license", cx)?;
        let license = LicenseExpectation {
            package: map.optional("package", cx),
            id: map.optional("id", cx),
            status: map.optional("status", cx),
            min_days_left: map.optional("min_days_left", cx),
            span: map.span(),
        };
        map.finish(cx);
        match (map.key_span("package"), map.key_span("id")) {
            (Some(_), Some(id)) => cx.report(
                ManifestError::new(
                    "conflicting_fields",
                    "a license has both `package` and `id`",
                )
                .at(id, "remove `package` or `id`")
                .help("a license is found by its package name or by its id, not both"),
            ),
            (None, None) => cx.report(
                ManifestError::new("missing_field", "a license needs `package` or `id`")
                    .at(
                        license.span,
                        "this license names neither `package` nor `id`",
                    )
                    .help("e.g. `{ package: INTERNAL, status: ACTIVE }`"),
            ),
            _ => {}
        }
        Some(license)
    }
}
