//! The safety policy: limits on deletes and member removals, and protected organizations.
//! Violations are computed with the plan and shown; apply refuses them before any write.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Action, ResourceChange};
use crate::manifest::RemovalLimit;
use crate::model::{Policy, ResourceType};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Safety {
    pub violations: Vec<Violation>,
}

/// A rule the plan breaks, and what would allow it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// `max_deletes`, `max_member_removals` or `protect`.
    pub rule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    pub message: String,
    /// The setting or flag that would allow it.
    pub allow_with: String,
}

/// Checks `changes` against `policy`. `allow_deletes` is `apply --allow-deletes N`.
/// `live_members` counts each organization's current members (for percentage limits).
pub fn check(
    changes: &[ResourceChange],
    policy: &Policy,
    allow_deletes: Option<u32>,
    allow_member_removals: Option<u32>,
    live_members: &BTreeMap<String, usize>,
    protected: &[String],
    possible_renames: &[(String, String)],
) -> Safety {
    let mut violations = Vec::new();
    // Creates at a vendor that cannot delete, while an undeclared live organization has a close
    // name: (address, that organization's name).
    for (address, earlier) in possible_renames {
        violations.push(Violation {
            rule: "possible_rename".into(),
            address: Some(address.clone()),
            message: format!(
                "{address} would be created while live organization `{earlier}` is declared by no manifest; organizations of this vendor cannot be deleted, so a rename planned as a create is a permanent duplicate"
            ),
            allow_with: format!(
                "add `previously: [{}]` to its manifest if it is that organization, or pass `--allow-create {address}` if it is a new one",
                crate::export::quoted(earlier)
            ),
        });
    }
    let deletes: Vec<&ResourceChange> = changes
        .iter()
        .filter(|c| c.action == Action::Delete && c.resource_type == ResourceType::Organization)
        .collect();
    let allowed = allow_deletes.unwrap_or(0).max(policy.max_deletes) as usize;
    if deletes.len() > allowed {
        violations.push(Violation {
            rule: "max_deletes".into(),
            address: None,
            message: format!(
                "the plan deletes {} organization{}, more than policy.max_deletes = {}",
                deletes.len(),
                if deletes.len() == 1 { "" } else { "s" },
                policy.max_deletes
            ),
            allow_with: format!(
                "set `policy.max_deletes: {}` in orgform.yaml or pass `--allow-deletes {}`",
                deletes.len(),
                deletes.len()
            ),
        });
    }
    for delete in &deletes {
        if protected.iter().any(|p| **p == *delete.address) {
            violations.push(Violation {
                rule: "protect".into(),
                address: Some(delete.address.to_string()),
                message: format!("{} is protected: orgform never deletes it", delete.address),
                allow_with:
                    "remove `protect: true` from its manifest and apply, or delete it by hand"
                        .into(),
            });
        }
    }
    let mut removals: BTreeMap<String, usize> = BTreeMap::new();
    for change in changes
        .iter()
        .filter(|c| c.action == Action::Delete && c.resource_type == ResourceType::Member)
    {
        let org = change
            .address
            .split(".member[")
            .next()
            .unwrap_or_default()
            .to_owned();
        *removals.entry(org).or_default() += 1;
    }
    for (org, removed) in removals {
        let current = live_members.get(&org).copied().unwrap_or(0);
        let (limit, described) = match policy.max_member_removals {
            RemovalLimit::Count(n) => (n as usize, format!("{n}")),
            // Rounded down, but a percentage above 0% always allows one: 10% of a 5-member
            // organization must not forbid removing anyone.
            RemovalLimit::Percent(p) => {
                let limit = (current * p as usize / 100).max(usize::from(p > 0));
                (limit, format!("{p}% of {current}, at least 1 = {limit}"))
            }
        };
        let limit = limit.max(allow_member_removals.unwrap_or(0) as usize);
        if removed > limit {
            violations.push(Violation {
                rule: "max_member_removals".into(),
                address: Some(org.clone()),
                message: format!("the plan removes {removed} members from {org}, more than policy.max_member_removals ({described})"),
                allow_with: format!("raise `policy.max_member_removals` in orgform.yaml (to at least {removed}), or pass `--allow-member-removals {removed}` to this apply"),
            });
        }
    }
    Safety { violations }
}
