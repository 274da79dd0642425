//! Planning: the pure diff of desired and live state, its safety checks, and the Plan format
//! (docs/plan.md).

mod diff;
pub mod identity;
mod safety;
mod sealed;
mod value;

use crate::model::ResourceType;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use diff::{PlanInput, plan};
pub use safety::{Safety, Violation};
pub use sealed::{SealBroken, check_workspace, verify_saved};
pub use value::PlanValue;

/// The version of the plan JSON format.
pub const FORMAT_VERSION: &str = "1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    Update,
    Delete,
    Manual,
    NoOp,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Manual => "manual",
            Action::NoOp => "no-op",
        }
    }
}

/// Why a change is planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The manifest declares it and the vendor does not have it.
    NotInLive,
    /// It exists on both sides with different values.
    FieldsDiffer,
    /// The vendor has it and the (authoritative) manifest list does not.
    NotInManifest,
    /// It differs but the vendor's API can only read it.
    ReadOnly,
    /// An owned organization no manifest declares, with `policy.prune` on.
    Pruned,
    /// Both sides agree.
    Unchanged,
}

/// One planned change to one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    pub address: Box<str>,
    #[serde(rename = "type")]
    pub resource_type: ResourceType,
    /// Shared: the same few names for every change.
    pub provider: Arc<str>,
    pub action: Action,
    pub action_reason: Reason,
    pub before: Option<PlanValue>,
    pub after: Option<PlanValue>,
    pub changed_paths: Vec<String>,
    /// The vendor id of the live object (for organizations, domains and members).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_id: Option<Box<str>>,
    /// The vendor id of the organization a child belongs to, when it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<Arc<str>>,
    /// For manual actions: what a person must do, and where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Box<str>>,
}

impl ResourceChange {
    /// Whether the change touches `field` or any path below it (`metadata` for
    /// `metadata.tier`): what an update sends is decided field by field.
    pub fn changes(&self, field: &str) -> bool {
        self.changed_paths.iter().any(|p| {
            p.strip_prefix(field)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        })
    }

    /// A change with nothing but its address, type and action, for tests of ordering and steps.
    #[cfg(test)]
    pub(crate) fn bare(address: &str, resource_type: ResourceType, action: Action) -> Self {
        Self {
            address: address.into(),
            resource_type,
            provider: "p".into(),
            action,
            action_reason: Reason::NotInLive,
            before: None,
            after: None,
            changed_paths: Vec::new(),
            live_id: None,
            organization_id: None,
            message: None,
        }
    }

    /// The address in its parts (organization key, type, child name), as `ResourceAddress`
    /// orders them, without holding a second copy of every address. Only an organization's
    /// own address can have a key with a `.` in it (a pruned organization's external id);
    /// children belong to manifest organizations, whose keys have none.
    pub fn address_parts(&self) -> (&str, ResourceType, &str) {
        let rest = self.address.strip_prefix("org.").unwrap_or(&self.address);
        let (org, tail) = match self.resource_type {
            ResourceType::Organization => (rest, ""),
            _ => rest.split_once('.').unwrap_or((rest, "")),
        };
        let name = match self.resource_type {
            ResourceType::Organization | ResourceType::Address => "",
            _ => tail
                .split_once('[')
                .and_then(|(_, name)| name.strip_suffix(']'))
                .unwrap_or(tail),
        };
        (org, self.resource_type, name)
    }

    /// The address of the organization this change belongs to (`org.<key>`), from the typed
    /// parts: an organization's key may hold `.` and `[` (a pruned one's external id is the
    /// vendor's), so the rendered address is never split to find it.
    pub fn organization_address(&self) -> String {
        format!("org.{}", self.address_parts().0)
    }

    /// The live value before the change (`null` for a create), to look into.
    pub fn before_value(&self) -> serde_json::Value {
        self.before
            .as_ref()
            .map_or(serde_json::Value::Null, PlanValue::value)
    }

    /// The value after the change (`null` for a delete), to look into.
    pub fn after_value(&self) -> serde_json::Value {
        self.after
            .as_ref()
            .map_or(serde_json::Value::Null, PlanValue::value)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub manual: usize,
}

impl Summary {
    /// The counts of `changes`: always derived, never taken from a file.
    pub fn of(changes: &[ResourceChange]) -> Summary {
        let mut summary = Summary::default();
        for change in changes {
            match change.action {
                Action::Create => summary.create += 1,
                Action::Update => summary.update += 1,
                Action::Delete => summary.delete += 1,
                Action::Manual => summary.manual += 1,
                Action::NoOp => {}
            }
        }
        summary
    }
}

/// Something a reviewer should know that is not a change (e.g. an unverified domain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    #[serde(default)]
    pub kind: WarningKind,
    pub address: String,
    pub message: String,
    /// Acknowledged (`acknowledge:` in orgform.yaml or the organization's manifest): counted on
    /// one line instead of listed in human and markdown plans.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub acknowledged: bool,
}

/// What a warning is about, so that many of one kind can be shown as one line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// A domain whose verification is pending or failed.
    DomainUnverified,
    /// A license that expires soon.
    LicenseExpiring,
    #[default]
    Other,
}

impl WarningKind {
    /// The kind as `acknowledge:` names it.
    pub fn name(self) -> &'static str {
        match self {
            WarningKind::DomainUnverified => "domain_unverified",
            WarningKind::LicenseExpiring => "license_expiring",
            WarningKind::Other => "other",
        }
    }

    /// How `count` warnings of this kind in `organizations` organizations read as one line.
    pub fn grouped(self, count: usize, organizations: usize) -> String {
        let s = |n: usize| if n == 1 { "" } else { "s" };
        let orgs = format!("{organizations} organization{}", s(organizations));
        match self {
            WarningKind::DomainUnverified => {
                format!("{count} domain{} awaiting verification in {orgs}", s(count))
            }
            WarningKind::LicenseExpiring => {
                format!("{count} license{} expiring soon in {orgs}", s(count))
            }
            WarningKind::Other => format!("{count} other warning{} in {orgs}", s(count)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: String,
    pub orgform_version: String,
    pub resource_changes: Vec<ResourceChange>,
    pub summary: Summary,
    pub safety: Safety,
    #[serde(default)]
    pub warnings: Vec<Warning>,
    /// Saved plans only (`plan --out`): the workspace the plan was made in (absolute) and a
    /// digest of its manifests, so `apply --plan` works from any directory and refuses other
    /// manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<SavedWorkspace>,
    /// The `--target` addresses the plan was limited to (empty: the whole workspace).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// The provider targets the plan was limited to (`--provider`; empty: every one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<String>,
    /// Live organizations that no manifest declares and the plan does not delete (read from a
    /// complete listing of an untargeted plan): created in a console, adopted by nobody yet, or
    /// an organization whose manifest was renamed without `previously`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmanaged_organizations: Vec<UnmanagedOrganization>,
}

/// A live organization no manifest declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmanagedOrganization {
    pub provider: String,
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// It carries orgform's ownership marker (Scalekit): orgform created it once.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub owned: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedWorkspace {
    pub dir: std::path::PathBuf,
    pub manifests_sha256: String,
    /// The SHA-256 of each file's text by its path in the workspace: not trusted for anything
    /// but naming, when `manifests_sha256` no longer matches, the files that changed.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub files: std::collections::BTreeMap<String, String>,
}

impl Plan {
    /// A plan of `changes` and nothing else, for tests of what reads plans.
    #[cfg(test)]
    pub(crate) fn of_changes(changes: Vec<ResourceChange>) -> Plan {
        Plan {
            format_version: "1".into(),
            orgform_version: "0".into(),
            summary: Summary::of(&changes),
            resource_changes: changes,
            safety: Safety::default(),
            warnings: Vec::new(),
            workspace: None,
            targets: Vec::new(),
            unmanaged_organizations: Vec::new(),
            providers: Vec::new(),
        }
    }

    /// Changes that apply would make (create, update, delete).
    pub fn has_changes(&self) -> bool {
        self.summary.create + self.summary.update + self.summary.delete > 0
    }

    /// Drift that apply cannot fix.
    pub fn has_manual(&self) -> bool {
        self.summary.manual > 0
    }

    /// The changes a human or apply acts on: everything but no-ops.
    pub fn actionable(&self) -> impl Iterator<Item = &ResourceChange> {
        self.resource_changes
            .iter()
            .filter(|c| c.action != Action::NoOp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ResourceAddress;

    #[test]
    fn address_parts_order_changes_as_their_typed_addresses_do() {
        let addresses = [
            ResourceAddress::organization("acme"),
            ResourceAddress::address("acme"),
            ResourceAddress::child("acme", ResourceType::Domain, "acme.io"),
            ResourceAddress::child("acme", ResourceType::Member, "ada@acme.example"),
            ResourceAddress::child("acme", ResourceType::License, "INTERNAL"),
            ResourceAddress::child("acme-2", ResourceType::Member, "usr_[1]"),
            // A pruned organization's external id may hold anything.
            ResourceAddress::organization("globex.corp[eu]"),
        ];
        for address in &addresses {
            let change = ResourceChange::bare(&address.to_string(), address.resource, Action::NoOp);
            let (org, resource, name) = change.address_parts();
            assert_eq!(ResourceAddress::child(org, resource, name), *address);
        }
    }
}
