//! A saved plan is a sealed record: `apply --plan` does only what planning the recorded
//! workspace against today's live state would do itself.
//!
//! A plan file travels between CI jobs as an artifact; anyone who can edit it could otherwise
//! point a "remove member" at another organization, duplicate a create that cannot be undone
//! (Nirvana organizations), or drop the workspace record to skip the manifest check. So nothing
//! in the file is trusted: every change it lists must be one the fresh plan has, equal in every
//! field that reaches a request, and listed once; the summary is derived from the changes.

use std::collections::BTreeMap;

use super::{Action, Plan, ResourceChange, Summary};

/// Why a saved plan is refused, with everything the user needs to see which part and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealBroken {
    #[error(
        "the saved plan records no workspace, so it cannot be checked against the manifests it was made from"
    )]
    NoWorkspace,
    #[error(
        "the saved plan was made from other manifests than those in its workspace (orgform.yaml or a manifest changed since)"
    )]
    OtherManifests,
    #[error(
        "the saved plan is stale or was edited: it does not match what planning now would do (live state or manifests changed, or the file was changed): {}",
        .0.join("; ")
    )]
    Changes(Vec<String>),
    /// Nothing the plan lists is still to be done: it was applied (by this file or otherwise).
    #[error("the saved plan was already applied: live state already matches it")]
    AlreadyApplied,
}

/// Fields of a change that decide what apply sends, compared one by one so that the refusal can
/// name them.
fn differing_fields(saved: &ResourceChange, fresh: &ResourceChange) -> Vec<&'static str> {
    let mut fields = Vec::new();
    let mut check = |name, same: bool| {
        if !same {
            fields.push(name);
        }
    };
    check("type", saved.resource_type == fresh.resource_type);
    check("action", saved.action == fresh.action);
    check("provider", saved.provider == fresh.provider);
    check(
        "organization_id",
        saved.organization_id == fresh.organization_id,
    );
    check("live_id", saved.live_id == fresh.live_id);
    check("before", saved.before == fresh.before);
    check("after", saved.after == fresh.after);
    check("changed_paths", saved.changed_paths == fresh.changed_paths);
    fields
}

/// Whether `saved` records the workspace it was made from, and that workspace still has the
/// manifests it had (`manifests_sha256`): checked before anything is read from a vendor.
pub fn check_workspace(saved: &Plan, manifests_sha256: &str) -> Result<(), SealBroken> {
    match &saved.workspace {
        None => Err(SealBroken::NoWorkspace),
        Some(workspace) if workspace.manifests_sha256 != manifests_sha256 => {
            Err(SealBroken::OtherManifests)
        }
        Some(_) => Ok(()),
    }
}

/// The plan apply may run for `saved`: the fresh plan's own changes, one for each change of
/// `saved` (which must match it in every field), with the summary derived from them and the
/// fresh plan's safety verdict. `manifests_sha256` is the digest of the workspace as it is now.
pub fn verify_saved(
    saved: &Plan,
    fresh: &Plan,
    manifests_sha256: &str,
) -> Result<Plan, SealBroken> {
    check_workspace(saved, manifests_sha256)?;
    let mut now: BTreeMap<&str, Vec<&ResourceChange>> = BTreeMap::new();
    for change in &fresh.resource_changes {
        now.entry(&change.address).or_default().push(change);
    }
    let mut seen: BTreeMap<(&str, Action), usize> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut accepted = Vec::new();
    for change in &saved.resource_changes {
        if change.action == Action::NoOp {
            continue;
        }
        let count = seen.entry((&change.address, change.action)).or_default();
        *count += 1;
        if *count == 2 {
            problems.push(format!(
                "`{}` ({}) is listed more than once",
                change.address,
                change.action.as_str()
            ));
            continue;
        } else if *count > 2 {
            continue;
        }
        let candidates = now
            .get(&*change.address)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let exact = candidates
            .iter()
            .find(|fresh| differing_fields(change, fresh).is_empty());
        match exact {
            Some(fresh) => accepted.push((*fresh).clone()),
            None => {
                let closest = candidates
                    .iter()
                    .map(|fresh| differing_fields(change, fresh))
                    .min_by_key(Vec::len);
                problems.push(match closest {
                    Some(fields) => {
                        format!("`{}` differs in {}", change.address, fields.join(", "))
                    }
                    None => format!(
                        "`{}` ({}) is not a change planning makes now",
                        change.address,
                        change.action.as_str()
                    ),
                });
            }
        }
    }
    if !problems.is_empty() {
        // Every change it lists is gone from what planning would do now, and planning would
        // do nothing else for those resources: it was applied.
        let listed = saved
            .resource_changes
            .iter()
            .filter(|c| matches!(c.action, Action::Create | Action::Update | Action::Delete))
            .count();
        let still_to_do = saved
            .resource_changes
            .iter()
            .filter(|c| c.action != Action::NoOp)
            .any(|c| {
                now.get(&*c.address)
                    .is_some_and(|fresh| fresh.iter().any(|f| f.action != Action::NoOp))
            });
        if listed > 0 && !still_to_do {
            return Err(SealBroken::AlreadyApplied);
        }
        return Err(SealBroken::Changes(problems));
    }
    accepted
        .sort_unstable_by(|x, y| (x.address_parts(), x.action).cmp(&(y.address_parts(), y.action)));
    Ok(Plan {
        format_version: fresh.format_version.clone(),
        orgform_version: fresh.orgform_version.clone(),
        summary: Summary::of(&accepted),
        resource_changes: accepted,
        safety: fresh.safety.clone(),
        warnings: fresh.warnings.clone(),
        workspace: saved.workspace.clone(),
        targets: saved.targets.clone(),
        unmanaged_organizations: fresh.unmanaged_organizations.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ResourceType;
    use crate::plan::{Safety, SavedWorkspace};

    fn plan(changes: Vec<ResourceChange>) -> Plan {
        Plan {
            format_version: "1".into(),
            orgform_version: "0".into(),
            summary: Summary::of(&changes),
            resource_changes: changes,
            safety: Safety::default(),
            warnings: Vec::new(),
            workspace: Some(SavedWorkspace {
                dir: "/w".into(),
                manifests_sha256: "abc".into(),
            }),
            targets: Vec::new(),
            unmanaged_organizations: Vec::new(),
        }
    }

    fn member_delete(org_id: &str) -> ResourceChange {
        ResourceChange {
            organization_id: Some(org_id.into()),
            live_id: Some("usr_1".into()),
            ..ResourceChange::bare(
                "org.acme.member[usr_1]",
                ResourceType::Member,
                Action::Delete,
            )
        }
    }

    #[test]
    fn a_faithful_plan_is_accepted_with_its_summary_derived() {
        let fresh = plan(vec![member_delete("org_1")]);
        let mut saved = fresh.clone();
        saved.summary = Summary::default();
        let verified = verify_saved(&saved, &fresh, "abc").unwrap();
        assert_eq!(verified.summary.delete, 1);
        assert_eq!(verified.resource_changes, fresh.resource_changes);
    }

    #[test]
    fn tampered_plans_are_refused_naming_the_field() {
        let fresh = plan(vec![member_delete("org_1")]);
        let saved = plan(vec![member_delete("org_victim")]);
        let refused = verify_saved(&saved, &fresh, "abc").unwrap_err().to_string();
        assert!(
            refused.contains("`org.acme.member[usr_1]` differs in organization_id"),
            "{refused}"
        );

        let saved = plan(vec![member_delete("org_1"), member_delete("org_1")]);
        let refused = verify_saved(&saved, &fresh, "abc").unwrap_err().to_string();
        assert!(refused.contains("listed more than once"), "{refused}");

        let mut saved = fresh.clone();
        saved.workspace = None;
        assert_eq!(
            verify_saved(&saved, &fresh, "abc"),
            Err(SealBroken::NoWorkspace)
        );
        assert_eq!(
            verify_saved(&fresh, &fresh, "other"),
            Err(SealBroken::OtherManifests)
        );
    }
}
