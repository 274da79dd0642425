//! `plan(desired, live) -> Plan`: pure, synchronous, deterministic. No I/O, no clock (the time
//! comes from the live state), ties broken by address.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rayon::prelude::*;
use serde_json::{Map, Value, json};

use super::identity::{IdentityError, MatchedBy, match_organizations};
use super::{
    Action, FORMAT_VERSION, Plan, PlanValue, Reason, ResourceChange, Summary,
    UnmanagedOrganization, Warning, WarningKind, safety,
};
use crate::model::{
    DesiredState, LiveLicense, LiveOrganization, LiveState, MemberIdentity, Organization,
    ResourceAddress, ResourceType,
};
use crate::provider::description::Access;

/// What planning needs besides the two states.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    pub desired: &'a DesiredState,
    pub live: &'a LiveState,
    /// `--target`: only these addresses (an organization selects its children).
    pub targets: &'a [ResourceAddress],
    /// `apply --allow-deletes N`.
    pub allow_deletes: Option<u32>,
    /// `apply --allow-member-removals N`: members each organization may lose in this run,
    /// beyond `policy.max_member_removals`.
    pub allow_member_removals: Option<u32>,
    /// `--allow-create ADDR`: creates confirmed although an unclaimed live organization looks
    /// like the same one renamed (at a vendor that cannot delete organizations).
    pub allow_creates: &'a [String],
    /// Keep a `no-op` entry for every unchanged resource. Only the JSON plan (and so a saved
    /// plan) shows them; without them a plan of a converged fleet of 100,000 organizations
    /// holds nothing instead of 900,000 entries (about 300 MB) that no one reads.
    pub keep_no_ops: bool,
}

impl<'a> PlanInput<'a> {
    /// A plain `plan` of the whole workspace: no `--target`, no allowances, no no-ops.
    pub fn whole(desired: &'a DesiredState, live: &'a LiveState) -> Self {
        PlanInput {
            desired,
            live,
            targets: &[],
            allow_deletes: None,
            allow_member_removals: None,
            allow_creates: &[],
            keep_no_ops: false,
        }
    }
}

/// Organizations planned in parallel before their results are appended to the plan.
const PLAN_CHUNK: usize = 4096;

/// Licenses expiring within this many days are called out as a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// What planning found so far. Each organization is planned into its own, and the results are
/// appended in organization order, so that the plan does not depend on how work was split.
#[derive(Default)]
struct Out {
    changes: Vec<ResourceChange>,
    warnings: Vec<Warning>,
    live_members: BTreeMap<String, usize>,
    protected: Vec<String>,
    unmanaged: Vec<UnmanagedOrganization>,
    /// Creates that may be a renamed live organization, at a vendor that cannot delete one:
    /// (address, the live organization's name).
    possible_renames: Vec<(String, String)>,
    /// The provider name and organization id of the last change, shared by the next ones.
    last_provider: Option<Arc<str>>,
    last_organization_id: Option<Arc<str>>,
}

/// `text` as the `Arc` in `last` when it says the same, so that an organization's changes
/// hold one copy of it.
fn shared(last: &mut Option<Arc<str>>, text: &str) -> Arc<str> {
    match last {
        Some(held) if **held == *text => held.clone(),
        _ => last.insert(text.into()).clone(),
    }
}

impl Out {
    fn append(&mut self, mut other: Out) {
        self.changes.append(&mut other.changes);
        self.warnings.append(&mut other.warnings);
        // Not `append`, which rebuilds the whole map each time.
        self.live_members.extend(other.live_members);
        self.protected.append(&mut other.protected);
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        address: ResourceAddress,
        provider: &str,
        action: Action,
        reason: Reason,
        before: Option<Value>,
        after: Option<Value>,
        changed_paths: Vec<String>,
        ids: (Option<&str>, Option<&str>),
        message: Option<String>,
    ) {
        let (before, after) = PlanValue::pair(before.as_ref(), after.as_ref());
        let change = ResourceChange {
            // Exactly sized: a formatted string keeps up to half again as spare room.
            address: address.to_string().into_boxed_str(),
            resource_type: address.resource,
            provider: shared(&mut self.last_provider, provider),
            action,
            action_reason: reason,
            before,
            after,
            changed_paths,
            live_id: ids.0.map(Box::from),
            organization_id: ids.1.map(|id| shared(&mut self.last_organization_id, id)),
            message: message.map(String::into_boxed_str),
        };
        self.changes.push(change);
    }
}

pub fn plan(input: PlanInput) -> Result<Plan, Vec<IdentityError>> {
    let desired = input.desired;
    let mut out = Out::default();
    let mut errors = Vec::new();
    let selected =
        |key: &str| input.targets.is_empty() || input.targets.iter().any(|t| t.org == key);

    for (name, provider) in &desired.providers {
        let Some(live) = input.live.providers.get(name) else {
            continue;
        };
        let organizations: Vec<&Organization> = desired
            .organizations
            .values()
            .filter(|o| &o.provider == name && selected(o.key.as_str()))
            .collect();
        let (matches, identity_errors) = match_organizations(
            &organizations,
            &live.organizations,
            provider.kind,
            live.complete,
        );
        errors.extend(identity_errors);
        // Organizations are planned independently of each other: on every core at once, a
        // chunk at a time, so that only one chunk's results are held twice while appended.
        if input.keep_no_ops {
            out.changes
                .reserve(organizations.iter().map(|o| o.resource_count()).sum());
        }
        for chunk in organizations.chunks(PLAN_CHUNK) {
            let planned: Vec<Out> = chunk
                .par_iter()
                .map(|org| {
                    let matched = matches
                        .get(&org.key.value)
                        .map(|(i, how)| (&live.organizations[*i], how));
                    let mut planned = Out::default();
                    // One entry per resource when live state matches: no spare room to hold.
                    planned.changes.reserve_exact(org.resource_count());
                    plan_organization(org, matched, &input, &mut planned);
                    if !input.keep_no_ops {
                        planned.changes.retain(|c| c.action != Action::NoOp);
                    }
                    planned
                })
                .collect();
            for planned in planned {
                out.append(planned);
            }
        }
        if !live.complete || !input.targets.is_empty() {
            continue;
        }
        let prune = desired.policy.prune && provider.kind.description().deletes_organizations;
        let claimed: BTreeSet<usize> = matches.values().map(|(i, _)| *i).collect();
        let unclaimed: Vec<&LiveOrganization> = live
            .organizations
            .iter()
            .enumerate()
            .filter(|(i, _)| !claimed.contains(i))
            .map(|(_, l)| l)
            .collect();
        // Their names as renames are compared, normalized once for every create.
        let unclaimed_names: Vec<(String, &LiveOrganization)> = unclaimed
            .iter()
            .map(|l| (comparable_name(&l.name), *l))
            .collect();
        // A manifest about to create an organization while an unclaimed one looks like it
        // under an earlier name: most likely a rename without `previously`.
        for org in organizations
            .iter()
            .filter(|o| o.id.is_none() && !matches.contains_key(&o.key.value))
        {
            let Some(l) = likely_renamed(org, &unclaimed_names) else {
                continue;
            };
            let address = org.address().to_string();
            let hint = match &l.external_id {
                Some(key) if provider.kind.description().key_is_external_id => {
                    format!("`previous_keys: [{key}]`")
                }
                _ => format!("`previously: [{}]`", crate::export::quoted(&l.name)),
            };
            out.warnings.push(Warning {
                acknowledged: false,
                kind: WarningKind::Other,
                address: address.clone(),
                message: format!(
                    "`{address}` will be created, but live organization `{}` ({}) is declared by no manifest: if `{address}` is that organization renamed, add {hint} to its manifest",
                    l.name, l.id
                ),
            });
            if !provider.kind.description().deletes_organizations
                && !input.allow_creates.contains(&address)
            {
                out.possible_renames.push((address, l.name.clone()));
            }
        }
        for l in unclaimed {
            if !(prune && l.owned) {
                out.unmanaged.push(UnmanagedOrganization {
                    provider: name.clone(),
                    id: l.id.clone(),
                    name: l.name.clone(),
                    external_id: l.external_id.clone(),
                    owned: l.owned,
                });
                continue;
            }
            let key = l.external_id.clone().unwrap_or_else(|| l.id.clone());
            let address = ResourceAddress::organization(&key);
            if l.protected {
                out.protected.push(address.to_string());
            }
            // A manifest naming it (now or `previously`) under another key is most likely
            // this organization with a moved key: say how to keep it.
            if let Some(org) = organizations.iter().find(|o| {
                std::iter::once(&o.name)
                    .chain(&o.previously)
                    .any(|n| crate::model::name::same_name(&n.value, &l.name))
            }) {
                out.warnings.push(Warning {
                    acknowledged: false,
                    kind: WarningKind::Other,
                    address: address.to_string(),
                    message: format!(
                        "`{}` would be deleted, but organization `{}` uses its name `{}`: its external id `{key}` is not `{}`, so names do not match it. If it is the same organization under a new key, add `previous_keys: [{key}]` to `{}`",
                        address, org.key.value, l.name, org.key.value, org.key.value
                    ),
                });
            }
            out.push(
                address,
                name,
                Action::Delete,
                Reason::Pruned,
                Some(json!({ "name": l.name, "external_id": l.external_id })),
                None,
                Vec::new(),
                (Some(&l.id), None),
                None,
            );
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut changes = out.changes;
    if !input.targets.is_empty() {
        changes.retain(|change| {
            let (org, resource, name) = change.address_parts();
            let address = ResourceAddress::child(org, resource, name);
            input.targets.iter().any(|t| t.selects(&address))
        });
    }
    // Unstable: a stable sort would hold a copy of half the plan as scratch, and the order does
    // not depend on it (the same input always sorts the same way).
    changes
        .sort_unstable_by(|x, y| (x.address_parts(), x.action).cmp(&(y.address_parts(), y.action)));
    let summary = Summary::of(&changes);
    let safety = safety::check(
        &changes,
        &desired.policy,
        input.allow_deletes,
        input.allow_member_removals,
        &out.live_members,
        &out.protected,
        &out.possible_renames,
    );
    let mut warnings = out.warnings;
    warnings.sort_by(|a, b| (&a.address, &a.message).cmp(&(&b.address, &b.message)));
    for warning in &mut warnings {
        warning.acknowledged = acknowledged(desired, warning);
    }
    Ok(Plan {
        format_version: FORMAT_VERSION.into(),
        orgform_version: env!("CARGO_PKG_VERSION").into(),
        resource_changes: changes,
        summary,
        safety,
        warnings,
        workspace: None,
        targets: input.targets.iter().map(ToString::to_string).collect(),
        unmanaged_organizations: out.unmanaged,
        providers: Vec::new(),
    })
}

/// A name as renames are compared: NFC, without case.
fn comparable_name(name: &str) -> String {
    crate::model::name::nfc(name).to_lowercase()
}

/// The unclaimed live organization that `org`, about to be created, most likely was before a
/// rename: the same or a close name (Jaro-Winkler 0.85 and up, or one name holding the other),
/// compared as [`comparable_name`] made them.
fn likely_renamed<'l>(
    org: &Organization,
    unclaimed: &[(String, &'l LiveOrganization)],
) -> Option<&'l LiveOrganization> {
    let wanted = comparable_name(&org.name.value);
    unclaimed
        .iter()
        .map(|(name, l)| {
            let holds = (wanted.chars().count() >= 3 && name.contains(&wanted))
                || (name.chars().count() >= 3 && wanted.contains(name.as_str()));
            let score = if holds {
                1.0
            } else {
                strsim::jaro_winkler(&wanted, name)
            };
            (score, *l)
        })
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.id.cmp(&a.1.id)))
        .map(|(_, l)| l)
}

/// Whether `warning`'s kind is acknowledged everywhere or by its organization's manifest.
fn acknowledged(desired: &DesiredState, warning: &Warning) -> bool {
    let kind = warning.kind.name();
    if desired.acknowledged.iter().any(|k| k == kind) {
        return true;
    }
    warning
        .address
        .parse::<ResourceAddress>()
        .ok()
        .and_then(|address| {
            desired
                .organizations
                .get(&crate::manifest::Key(address.org))
        })
        .is_some_and(|org| org.acknowledge.iter().any(|k| k == kind))
}

/// One field of an organization: its path, both values, and whether orgform may write it.
struct Field {
    path: String,
    desired: Value,
    live: Value,
    access: Access,
}

fn ignored(org: &Organization, path: &str) -> bool {
    org.ignore
        .iter()
        .any(|i| path == i.as_str() || path.starts_with(&format!("{}.", i.as_str())))
}

/// The organization fields the manifest manages, desired against live.
fn organization_fields(org: &Organization, live: Option<&LiveOrganization>) -> Vec<Field> {
    let kind = org.kind;
    let empty = LiveOrganization::default();
    let l = live.unwrap_or(&empty);
    let mut fields = Vec::new();
    let mut field = |path: String, desired: Value, live: Value, access_of: &str| {
        fields.push(Field {
            path,
            desired,
            live,
            access: kind.description().access(access_of),
        });
    };
    // The same name in another Unicode normalization is the same name: nothing to change.
    let name = if crate::model::name::same_name(&org.name.value, &l.name) {
        &l.name
    } else {
        &org.name.value
    };
    field("name".into(), json!(name), json!(l.name), "name");
    // The key becomes the external id, except on organizations pinned by `id:` (adopted ones):
    // their external id is the customer's own and is never overwritten.
    if kind.description().key_is_external_id && org.id.is_none() {
        field(
            "external_id".into(),
            json!(org.key.as_str()),
            json!(l.external_id),
            "name",
        );
    }
    if kind.description().ownership_marker {
        // Recorded in the ownership marker, so only on organizations orgform owns (or creates),
        // and only while the metadata leaves the marker room.
        if live.is_none_or(|l| l.owned) && !metadata_full(org) {
            field(
                "protect".into(),
                json!(org.protect),
                json!(l.protected),
                "protect",
            );
        }
    }
    if let Some(email) = &org.billing_email {
        let desired = email.value.as_ref().map(|e| e.0.to_lowercase());
        field(
            "billing_email".into(),
            json!(desired),
            json!(l.billing_email.as_ref().map(|e| e.to_lowercase())),
            "billing_email",
        );
    }
    if let Some(metadata) = &org.metadata {
        let keys: BTreeSet<&String> = metadata.keys().chain(l.metadata.keys()).collect();
        for key in keys {
            field(
                format!("metadata.{key}"),
                json!(metadata.get(key).map(|v| &v.value)),
                json!(l.metadata.get(key)),
                "metadata",
            );
        }
    }
    if let Some(slug) = &org.slug {
        field("slug".into(), json!(slug.value), json!(l.slug), "slug");
    }
    for (name, value) in &org.plain {
        let live = l.plain.get(*name).cloned().unwrap_or(Value::Null);
        field((*name).into(), value.to_json(), live, name);
    }
    if let Some(features) = &org.features {
        for (name, value) in [("sso", features.sso), ("dir_sync", features.dir_sync)] {
            if let Some(value) = value {
                field(
                    format!("features.{name}"),
                    json!(value),
                    json!(l.features.get(name).copied().unwrap_or(false)),
                    "features",
                );
            }
        }
    }
    if let Some(region) = &org.region {
        field(
            "region".into(),
            json!(region.value.as_str()),
            json!(l.region),
            "region",
        );
    }
    if let Some(org_type) = &org.org_type {
        field(
            "type".into(),
            json!(org_type.value),
            json!(l.org_type),
            "type",
        );
    }
    if let Some(description) = &org.description {
        field(
            "description".into(),
            json!(description.value),
            json!(l.description),
            "description",
        );
    }
    if let Some(services) = &org.services {
        let s = &services.value;
        for (name, value) in [
            ("cloud", s.cloud),
            ("jit_provisioning", s.jit_provisioning),
            ("scim", s.scim),
            ("siem", s.siem),
            ("sso", s.sso),
        ] {
            if let Some(value) = value {
                field(
                    format!("services.{name}"),
                    json!(value),
                    json!(l.services.get(name).copied().unwrap_or(false)),
                    "services",
                );
            }
        }
    }
    fields
}

/// Nested object of `fields` (by their top-level name) taking `pick` of each.
fn values(fields: &[&Field], pick: impl Fn(&Field) -> &Value) -> Value {
    let mut object = Map::new();
    for f in fields {
        match f.path.split_once('.') {
            Some((top, rest)) => {
                let entry = object.entry(top.to_owned()).or_insert_with(|| json!({}));
                let v = pick(f);
                if !v.is_null() {
                    entry[rest] = v.clone();
                }
            }
            None => {
                object.insert(f.path.clone(), pick(f).clone());
            }
        }
    }
    Value::Object(object)
}

/// The metadata pairs the vendor allows per organization.
fn metadata_pairs(org: &Organization) -> usize {
    org.kind
        .description()
        .metadata
        .map_or(usize::MAX, |m| m.pairs)
}

/// Whether the manifest declares all the metadata pairs the vendor allows: no room for
/// orgform's ownership marker.
fn metadata_full(org: &Organization) -> bool {
    org.metadata
        .as_ref()
        .is_some_and(|m| m.len() >= metadata_pairs(org))
}

fn plan_organization(
    org: &Organization,
    matched: Option<(&LiveOrganization, &MatchedBy)>,
    input: &PlanInput,
    out: &mut Out,
) {
    let kind = org.kind;
    let address = org.address();
    let provider = org.provider.as_str();
    let fields = organization_fields(org, matched.map(|(l, _)| l));

    let Some((live, how)) = matched else {
        if !kind.description().creates_organizations {
            out.push(
                address,
                provider,
                Action::Manual,
                Reason::NotInLive,
                None,
                Some(json!({ "name": org.name.value })),
                Vec::new(),
                (None, None),
                Some(format!(
                    "{} organizations are read-only: create `{}` in {0}, or pin the existing one with `id:`",
                    kind.description().label,
                    org.name.value
                )),
            );
            return;
        }
        let writable: Vec<&Field> = fields
            .iter()
            .filter(|f| f.access != Access::Read && !f.desired.is_null())
            .collect();
        out.push(
            address,
            provider,
            Action::Create,
            Reason::NotInLive,
            None,
            Some(values(&writable, |f| &f.desired)),
            Vec::new(),
            (None, None),
            None,
        );
        plan_children(org, None, input, out);
        return;
    };
    if live.owned && metadata_full(org) {
        out.warnings.push(Warning {
            acknowledged: false,
            kind: WarningKind::Other,
            address: address.to_string(),
            message: format!(
                "`{address}` declares {} metadata pairs, all {} allows: orgform's ownership marker no longer fits, so once its metadata is written orgform stops marking it as its own and prune never deletes it",
                metadata_pairs(org),
                org.kind.description().name
            ),
        });
    }

    let id = Some(live.id.as_str());
    let differs: Vec<&Field> = fields
        .iter()
        .filter(|f| f.desired != f.live && !ignored(org, &f.path))
        .collect();
    let (writes, reads): (Vec<&Field>, Vec<&Field>) =
        differs.into_iter().partition(|f| f.access == Access::Write);
    if !writes.is_empty() {
        // `after` holds every writable field as it will be, so the request bodies are fixed
        // here: an ignored field keeps its live value.
        let all_writes: Vec<Field> = fields
            .iter()
            .filter(|f| f.access == Access::Write)
            .map(|f| Field {
                path: f.path.clone(),
                desired: if ignored(org, &f.path) {
                    f.live.clone()
                } else {
                    f.desired.clone()
                },
                live: f.live.clone(),
                access: f.access,
            })
            .collect();
        let all_writes: Vec<&Field> = all_writes.iter().collect();
        let rename = match how {
            MatchedBy::PreviousName(previous) => {
                Some(format!("matched by its previous name `{previous}`"))
            }
            MatchedBy::PreviousKey(previous) => Some(format!(
                "matched by its previous key `{previous}`: the external id moves"
            )),
            _ => None,
        };
        out.push(
            address.clone(),
            provider,
            Action::Update,
            Reason::FieldsDiffer,
            Some(values(&all_writes, |f| &f.live)),
            Some(values(&all_writes, |f| &f.desired)),
            writes.iter().map(|f| f.path.clone()).collect(),
            (id, None),
            rename,
        );
    }
    if !reads.is_empty() {
        let paths: Vec<String> = reads.iter().map(|f| f.path.clone()).collect();
        out.push(
            address.clone(),
            provider,
            Action::Manual,
            Reason::ReadOnly,
            Some(values(&reads, |f| &f.live)),
            Some(values(&reads, |f| &f.desired)),
            paths.clone(),
            (id, None),
            Some(format!(
                "{} does not let orgform change {}: change it in {0} or update the manifest",
                kind.description().label,
                paths.join(", ")
            )),
        );
    }
    if writes.is_empty() && reads.is_empty() {
        let all: Vec<&Field> = fields.iter().collect();
        out.push(
            address,
            provider,
            Action::NoOp,
            Reason::Unchanged,
            Some(values(&all, |f| &f.live)),
            Some(values(&all, |f| &f.desired)),
            Vec::new(),
            (id, None),
            None,
        );
    }
    plan_children(org, Some(live), input, out);
}

fn plan_children(
    org: &Organization,
    live: Option<&LiveOrganization>,
    input: &PlanInput,
    out: &mut Out,
) {
    plan_domains(org, live, out);
    plan_address(org, live, out);
    plan_members(org, live, out);
    plan_licenses(org, live, input, out);
}

fn child(org: &Organization, resource: ResourceType, name: &str) -> ResourceAddress {
    ResourceAddress::child(org.key.as_str(), resource, name)
}

fn plan_domains(org: &Organization, live: Option<&LiveOrganization>, out: &mut Out) {
    let Some(desired) = &org.domains else { return };
    if ignored(org, "domains") {
        return;
    }
    let kind = org.kind;
    let writable = kind.description().access("domains") == Access::Write;
    let org_id = live.map(|l| l.id.as_str());
    let live_domains: &[crate::model::LiveDomain] = match live.map(|l| l.domains.as_deref()) {
        Some(Some(domains)) => domains,
        Some(None) => return, // not read
        None => &[],
    };
    let domain_value = |name: &str, domain_type: Option<&str>| match domain_type {
        Some(t) => json!({ "name": name, "type": t }),
        None => json!({ "name": name }),
    };
    for d in desired {
        let name = d.name.ascii.as_str();
        let address = child(org, ResourceType::Domain, name);
        let wanted_type = d.domain_type.map(|t| t.as_str());
        match live_domains.iter().find(|l| l.name == name) {
            None if writable => out.push(
                address,
                &org.provider,
                Action::Create,
                Reason::NotInLive,
                None,
                Some(domain_value(name, wanted_type)),
                Vec::new(),
                (None, org_id),
                None,
            ),
            None => out.push(
                address,
                &org.provider,
                Action::Manual,
                Reason::NotInLive,
                None,
                Some(domain_value(name, wanted_type)),
                Vec::new(),
                (None, org_id),
                Some(format!(
                    "{} domains are read-only: add `{name}` in {0}",
                    kind.description().label
                )),
            ),
            Some(l) => {
                let before = domain_value(&l.name, l.domain_type.as_deref());
                let after = domain_value(name, wanted_type);
                if wanted_type.is_some() && l.domain_type.as_deref() != wanted_type {
                    out.push(
                        address.clone(),
                        &org.provider,
                        Action::Manual,
                        Reason::ReadOnly,
                        Some(before),
                        Some(after),
                        vec!["type".into()],
                        (Some(&l.id), org_id),
                        Some(format!(
                            "{} cannot change a domain's type: remove `{name}` and add it again",
                            kind.description().label
                        )),
                    );
                } else {
                    out.push(
                        address.clone(),
                        &org.provider,
                        Action::NoOp,
                        Reason::Unchanged,
                        Some(before),
                        Some(after),
                        Vec::new(),
                        (Some(&l.id), org_id),
                        None,
                    );
                }
                if !l.is_verified() {
                    out.warnings.push(Warning {
                        acknowledged: false,
                        kind: WarningKind::DomainUnverified,
                        address: address.to_string(),
                        message: format!(
                            "domain `{name}` is not verified ({}): complete its verification in {}",
                            l.verification,
                            kind.description().label
                        ),
                    });
                }
            }
        }
    }
    for l in live_domains
        .iter()
        .filter(|l| !desired.iter().any(|d| d.name.ascii == l.name))
    {
        let address = child(org, ResourceType::Domain, &l.name);
        let before = Some(domain_value(&l.name, l.domain_type.as_deref()));
        if writable {
            out.push(
                address,
                &org.provider,
                Action::Delete,
                Reason::NotInManifest,
                before,
                None,
                Vec::new(),
                (Some(&l.id), org_id),
                None,
            );
        } else {
            out.push(
                address,
                &org.provider,
                Action::Manual,
                Reason::NotInManifest,
                before,
                None,
                Vec::new(),
                (Some(&l.id), org_id),
                Some(format!(
                    "{} domains are read-only: remove `{}` in {0}, or add it to the manifest",
                    kind.description().label,
                    l.name
                )),
            );
        }
    }
}

fn address_fields(org: &Organization) -> Vec<(&'static str, Option<String>)> {
    let Some(address) = &org.address else {
        return Vec::new();
    };
    let a = &address.value;
    let mut fields = vec![
        ("line1", Some(a.line1.value.clone())),
        ("city", Some(a.city.value.clone())),
        ("postal_code", Some(a.postal_code.value.clone())),
        ("country", Some(a.country.value.0.clone())),
    ];
    for (name, value) in [
        ("line2", &a.line2),
        ("state", &a.state),
        ("tax_id", &a.tax_id),
        ("tax_id_type", &a.tax_id_type),
    ] {
        if let Some(value) = value {
            fields.push((name, value.value.clone()));
        }
    }
    fields.sort_by_key(|(name, _)| *name);
    fields
}

fn plan_address(org: &Organization, live: Option<&LiveOrganization>, out: &mut Out) {
    if org.address.is_none() || ignored(org, "address") {
        return;
    }
    let address = ResourceAddress::address(org.key.as_str());
    let org_id = live.map(|l| l.id.as_str());
    let desired = address_fields(org);
    let current = match live.map(|l| &l.address) {
        Some(Some(Some(current))) => current,
        Some(None) => return, // not read
        _ => {
            let after: Map<String, Value> = desired
                .iter()
                .filter(|(_, v)| v.is_some())
                .map(|(k, v)| ((*k).to_owned(), json!(v)))
                .collect();
            out.push(
                address,
                &org.provider,
                Action::Create,
                Reason::NotInLive,
                None,
                Some(Value::Object(after)),
                Vec::new(),
                (None, org_id),
                None,
            );
            return;
        }
    };
    let live_value = |name: &str| -> Option<String> {
        match name {
            "line1" => Some(current.line1.clone()),
            "line2" => current.line2.clone(),
            "city" => Some(current.city.clone()),
            "state" => current.state.clone(),
            "postal_code" => Some(current.postal_code.clone()),
            "country" => Some(current.country.clone()),
            "tax_id" => current.tax_id.clone(),
            _ => current.tax_id_type.clone(),
        }
    };
    let mut before = Map::new();
    let mut after = Map::new();
    let mut changed = Vec::new();
    for (name, value) in &desired {
        let path = format!("address.{name}");
        if ignored(org, &path) {
            continue;
        }
        before.insert((*name).to_owned(), json!(live_value(name)));
        after.insert((*name).to_owned(), json!(value));
        if live_value(name) != *value {
            changed.push((*name).to_owned());
        }
    }
    let action = if changed.is_empty() {
        (Action::NoOp, Reason::Unchanged)
    } else {
        (Action::Update, Reason::FieldsDiffer)
    };
    out.push(
        address,
        &org.provider,
        action.0,
        action.1,
        Some(Value::Object(before)),
        Some(Value::Object(after)),
        changed,
        (None, org_id),
        None,
    );
}

fn member_value(identity: &MemberIdentity, roles: &[String]) -> Value {
    match identity {
        MemberIdentity::User(id) => json!({ "user": id, "roles": roles }),
        MemberIdentity::Email(email) => json!({ "email": email.0, "roles": roles }),
    }
}

/// `value` with `key` set, when there is a value to set.
fn with_field(mut value: Value, key: &str, field: Option<Value>) -> Value {
    if let (Some(field), Some(map)) = (field, value.as_object_mut()) {
        map.insert(key.to_owned(), field);
    }
    value
}

fn plan_members(org: &Organization, live: Option<&LiveOrganization>, out: &mut Out) {
    let Some(desired) = &org.members else { return };
    if ignored(org, "members") {
        return;
    }
    let kind = org.kind;
    let writable = kind.description().access("members") == Access::Write;
    let org_id = live.map(|l| l.id.as_str());
    let live_members: &[crate::model::LiveMember] = match live.map(|l| l.members.as_deref()) {
        Some(Some(members)) => members,
        Some(None) => return,
        None => &[],
    };
    out.live_members
        .insert(org.address().to_string(), live_members.len());
    let matches = |identity: &MemberIdentity, l: &crate::model::LiveMember| match identity {
        MemberIdentity::User(id) => &l.user_id == id,
        MemberIdentity::Email(email) => l.email.as_deref() == Some(email.0.as_str()),
    };
    let manual = |what: String| {
        Some(format!(
            "{} memberships are read-only: {what} in {0}",
            kind.description().label
        ))
    };
    for m in desired {
        let address = child(org, ResourceType::Member, &m.identity.to_string());
        let after = member_value(&m.identity, &m.roles);
        match live_members.iter().find(|l| matches(&m.identity, l)) {
            None if writable => out.push(
                address,
                &org.provider,
                Action::Create,
                Reason::NotInLive,
                None,
                // Scalekit e-mails an invitation unless told not to: the plan says which.
                Some(with_field(
                    after,
                    "invite",
                    kind.description().invites.then(|| json!(m.invite)),
                )),
                Vec::new(),
                (None, org_id),
                None,
            ),
            None => out.push(
                address,
                &org.provider,
                Action::Manual,
                Reason::NotInLive,
                None,
                Some(after),
                Vec::new(),
                (None, org_id),
                manual(format!("add `{}`", m.identity)),
            ),
            Some(l) => {
                // The invitation status is shown on both sides: state to see, not to change.
                let status = || l.status.as_deref().map(|s| json!(s));
                let before = with_field(member_value(&m.identity, &l.roles), "status", status());
                let after = with_field(after, "status", status());
                let (action, reason, message) = match (l.roles == m.roles, writable) {
                    (true, _) => (Action::NoOp, Reason::Unchanged, None),
                    (false, true) => (Action::Update, Reason::FieldsDiffer, None),
                    (false, false) => (
                        Action::Manual,
                        Reason::ReadOnly,
                        manual(format!("change the role of `{}`", m.identity)),
                    ),
                };
                let changed = if action == Action::NoOp {
                    Vec::new()
                } else {
                    vec!["roles".to_owned()]
                };
                out.push(
                    address,
                    &org.provider,
                    action,
                    reason,
                    Some(before),
                    Some(after),
                    changed,
                    (Some(&l.user_id), org_id),
                    message,
                );
            }
        }
    }
    for l in live_members
        .iter()
        .filter(|l| !desired.iter().any(|m| matches(&m.identity, l)))
    {
        let name = l.email.clone().unwrap_or_else(|| l.user_id.clone());
        let address = child(org, ResourceType::Member, &name);
        let before = match &l.email {
            Some(email) => json!({ "user": l.user_id, "email": email, "roles": l.roles }),
            None => json!({ "user": l.user_id, "roles": l.roles }),
        };
        let before = with_field(before, "status", l.status.as_deref().map(|s| json!(s)));
        if writable {
            out.push(
                address,
                &org.provider,
                Action::Delete,
                Reason::NotInManifest,
                Some(before),
                None,
                Vec::new(),
                (Some(&l.user_id), org_id),
                None,
            );
        } else {
            out.push(
                address,
                &org.provider,
                Action::Manual,
                Reason::NotInManifest,
                Some(before),
                None,
                Vec::new(),
                (Some(&l.user_id), org_id),
                manual(format!("remove `{name}`")),
            );
        }
    }
}

/// Whole days from `now` until `expires_at` (negative when past).
fn days_left(now: &str, expires_at: &str) -> Option<i64> {
    let now = chrono::DateTime::parse_from_rfc3339(now).ok()?;
    let expires = chrono::DateTime::parse_from_rfc3339(expires_at).ok()?;
    Some((expires - now).num_days())
}

fn license_value(l: &LiveLicense) -> Value {
    json!({ "id": l.id, "package": l.package, "status": l.status, "expires_at": l.expires_at })
}

fn plan_licenses(
    org: &Organization,
    live: Option<&LiveOrganization>,
    input: &PlanInput,
    out: &mut Out,
) {
    let Some(expectations) = &org.licenses else {
        return;
    };
    let Some(Some(licenses)) = live.map(|l| &l.licenses) else {
        return;
    };
    let now = input.live.fetched_at.as_str();
    let org_id = live.map(|l| l.id.as_str());
    for e in expectations {
        let address = child(org, ResourceType::License, &e.identity.to_string());
        let candidates: Vec<&LiveLicense> = licenses
            .iter()
            .filter(|l| match &e.identity.value {
                crate::model::LicenseIdentity::Package(p) => &l.package == p,
                crate::model::LicenseIdentity::Id(id) => &l.id == id,
            })
            .collect();
        // Several licenses of one package: judge the one that meets the expectation, if any.
        let wanted_status = e.status.map(|s| s.as_str());
        let best = candidates
            .iter()
            .find(|l| wanted_status.is_none_or(|s| l.status == s))
            .or(candidates.first())
            .copied();
        let mut after = Map::new();
        if let Some(status) = wanted_status {
            after.insert("status".into(), json!(status));
        }
        if let Some(days) = e.min_days_left {
            after.insert("min_days_left".into(), json!(days));
        }
        let Some(l) = best else {
            out.push(
                address,
                &org.provider,
                Action::Manual,
                Reason::NotInLive,
                None,
                Some(Value::Object(after)),
                Vec::new(),
                (None, org_id),
                Some(format!("PingOne has no license `{}` for this organization: obtain it from Ping Identity, or update the manifest", e.identity)),
            );
            continue;
        };
        let mut changed = Vec::new();
        let mut problems = Vec::new();
        if let Some(status) = wanted_status
            && l.status != status
        {
            changed.push("status".to_owned());
            problems.push(format!(
                "license `{}` is {}, expected {status}",
                e.identity, l.status
            ));
        }
        let left = l.expires_at.as_deref().and_then(|t| days_left(now, t));
        if let Some(min) = e.min_days_left {
            match left {
                Some(left) if left < i64::from(min) => {
                    changed.push("days_left".to_owned());
                    after.insert("days_left".into(), json!(format!("at least {min}")));
                    problems.push(format!(
                        "license `{}` expires in {left} days, fewer than the {min} required",
                        e.identity
                    ));
                }
                _ => {}
            }
        }
        if l.status == "ACTIVE"
            && left.is_some_and(|d| (0..EXPIRY_WARNING_DAYS).contains(&d))
            && changed.is_empty()
        {
            out.warnings.push(Warning {
                acknowledged: false,
                kind: WarningKind::LicenseExpiring,
                address: address.to_string(),
                message: format!(
                    "license `{}` expires in {} days",
                    e.identity,
                    left.unwrap_or_default()
                ),
            });
        }
        let (action, reason, message) = if changed.is_empty() {
            (Action::NoOp, Reason::Unchanged, None)
        } else {
            (
                Action::Manual,
                Reason::ReadOnly,
                Some(format!(
                    "{}: renew or change it with Ping Identity, or update the manifest",
                    problems.join("; ")
                )),
            )
        };
        let mut before = license_value(l);
        if let Some(left) = left {
            before["days_left"] = json!(left);
        }
        out.push(
            address,
            &org.provider,
            action,
            reason,
            Some(before),
            Some(Value::Object(after)),
            changed,
            (Some(&l.id), org_id),
            message,
        );
    }
}
