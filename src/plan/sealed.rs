//! A saved plan is a sealed record: `apply --plan` does only what planning the recorded
//! workspace against today's live state would do itself.
//!
//! A plan file travels between CI jobs as an artifact; anyone who can edit it could otherwise
//! point a "remove member" at another organization, duplicate a create that cannot be undone
//! (Nirvana organizations), or drop the workspace record to skip the manifest check. So nothing
//! in the file is trusted: every change it lists must be one the fresh plan has, equal in every
//! field that reaches a request, and listed once; the summary is derived from the changes.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Action, Plan, ResourceChange, SavedWorkspace, Summary};

/// Why a saved plan is refused, with everything the user needs to see which part and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealBroken {
    #[error(
        "the saved plan records no workspace, so it cannot be checked against the manifests it was made from"
    )]
    NoWorkspace,
    /// The files that changed, were added or removed since, as far as the plan recorded them.
    #[error(
        "the saved plan was made from other manifests than those in its workspace ({})",
        if .0.is_empty() { "orgform.yaml or a manifest changed since".to_owned() } else { .0.join(", ") }
    )]
    OtherManifests(Vec<String>),
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
/// name each difference with the value the saved plan holds and the one planning gives now.
fn differences(saved: &ResourceChange, fresh: &ResourceChange) -> Vec<String> {
    fn field<T: serde::Serialize + PartialEq>(
        found: &mut Vec<String>,
        name: &str,
        was: &T,
        now: &T,
    ) {
        if was != now {
            let json = |v: &T| serde_json::to_value(v).unwrap_or(Value::Null);
            found.push(difference(name, &json(was), &json(now)));
        }
    }
    let mut found = Vec::new();
    field(
        &mut found,
        "type",
        &saved.resource_type,
        &fresh.resource_type,
    );
    field(&mut found, "action", &saved.action, &fresh.action);
    field(&mut found, "provider", &saved.provider, &fresh.provider);
    field(
        &mut found,
        "organization_id",
        &saved.organization_id,
        &fresh.organization_id,
    );
    field(&mut found, "live_id", &saved.live_id, &fresh.live_id);
    for (name, was, now) in [
        ("before", &saved.before, &fresh.before),
        ("after", &saved.after, &fresh.after),
    ] {
        if was != now {
            let value =
                |v: &Option<super::PlanValue>| v.as_ref().map_or(Value::Null, |v| v.value());
            leaf_differences(name, &value(was), &value(now), &mut found);
        }
    }
    // Derived from before and after: named only when they are the same.
    if found.is_empty() {
        field(
            &mut found,
            "changed_paths",
            &saved.changed_paths,
            &fresh.changed_paths,
        );
    }
    found
}

/// `after.name: "Acme" in the saved plan, "Acme Corp" now`, each value cut to a readable length.
fn difference(path: &str, was: &Value, now: &Value) -> String {
    let shown = |v: &Value| {
        let text = v.to_string();
        match text.char_indices().nth(60) {
            Some((end, _)) => format!("{}…", &text[..end]),
            None => text,
        }
    };
    format!(
        "{path}: {} in the saved plan, {} now",
        shown(was),
        shown(now)
    )
}

/// The paths below `path` where `was` and `now` differ, down to the fields of objects (a list
/// is compared whole).
fn leaf_differences(path: &str, was: &Value, now: &Value, found: &mut Vec<String>) {
    match (was, now) {
        (Value::Object(was), Value::Object(now)) => {
            let keys: std::collections::BTreeSet<&String> = was.keys().chain(now.keys()).collect();
            for key in keys {
                let (a, b) = (was.get(key), now.get(key));
                if a != b {
                    leaf_differences(
                        &format!("{path}.{key}"),
                        a.unwrap_or(&Value::Null),
                        b.unwrap_or(&Value::Null),
                        found,
                    );
                }
            }
        }
        _ if was != now => found.push(difference(path, was, now)),
        _ => {}
    }
}

/// Whether `saved` records the workspace it was made from, and that workspace still has the
/// manifests it had (`now`, as the workspace is): checked before anything is read from a
/// vendor. When it has not, the files the plan recorded name what changed.
pub fn check_workspace(saved: &Plan, now: &SavedWorkspace) -> Result<(), SealBroken> {
    match &saved.workspace {
        None => Err(SealBroken::NoWorkspace),
        Some(workspace) if workspace.manifests_sha256 != now.manifests_sha256 => Err(
            SealBroken::OtherManifests(changed_files(&workspace.files, &now.files)),
        ),
        Some(_) => Ok(()),
    }
}

/// `orgs/acme.yaml changed`, `new.yaml added`, `old.yaml removed` (at most 10, then a count).
fn changed_files(then: &BTreeMap<String, String>, now: &BTreeMap<String, String>) -> Vec<String> {
    if then.is_empty() {
        return Vec::new();
    }
    let mut changed: Vec<String> = then
        .iter()
        .filter_map(|(file, digest)| match now.get(file) {
            None => Some(format!("`{file}` removed")),
            Some(d) if d != digest => Some(format!("`{file}` changed")),
            Some(_) => None,
        })
        .chain(
            now.keys()
                .filter(|f| !then.contains_key(*f))
                .map(|f| format!("`{f}` added")),
        )
        .collect();
    const SHOWN: usize = 10;
    if changed.len() > SHOWN {
        let more = changed.len() - SHOWN;
        changed.truncate(SHOWN);
        changed.push(format!("{more} more files"));
    }
    changed
}

/// The plan apply may run for `saved`: the fresh plan's own changes, one for each change of
/// `saved` (which must match it in every field), with the summary derived from them and the
/// fresh plan's safety verdict. `now` is the workspace as it is now.
pub fn verify_saved(saved: &Plan, fresh: &Plan, now: &SavedWorkspace) -> Result<Plan, SealBroken> {
    check_workspace(saved, now)?;
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
            .find(|fresh| differences(change, fresh).is_empty());
        match exact {
            Some(fresh) => accepted.push((*fresh).clone()),
            None => {
                let closest = candidates
                    .iter()
                    .map(|fresh| differences(change, fresh))
                    .min_by_key(Vec::len);
                problems.push(match closest {
                    Some(found) => {
                        format!("`{}` differs in {}", change.address, found.join(", "))
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
        providers: saved.providers.clone(),
        unmanaged_organizations: fresh.unmanaged_organizations.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ResourceType;
    use crate::plan::SavedWorkspace;

    fn plan(changes: Vec<ResourceChange>) -> Plan {
        Plan {
            workspace: Some(workspace("abc")),
            ..Plan::of_changes(changes)
        }
    }

    fn workspace(digest: &str) -> SavedWorkspace {
        SavedWorkspace {
            dir: "/w".into(),
            manifests_sha256: digest.into(),
            files: BTreeMap::from([("orgs/acme.yaml".into(), digest.into())]),
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
        let verified = verify_saved(&saved, &fresh, &workspace("abc")).unwrap();
        assert_eq!(verified.summary.delete, 1);
        assert_eq!(verified.resource_changes, fresh.resource_changes);
    }

    #[test]
    fn a_stale_plan_names_each_field_with_its_saved_and_current_value() {
        let update = |name: &str, tier: &str| ResourceChange {
            before: Some(crate::plan::PlanValue::new(
                &serde_json::json!({ "name": "Acme", "metadata": { "tier": "gold" } }),
            )),
            after: Some(crate::plan::PlanValue::new(
                &serde_json::json!({ "name": name, "metadata": { "tier": tier } }),
            )),
            ..ResourceChange::bare("org.acme", ResourceType::Organization, Action::Update)
        };
        let saved = plan(vec![update("Acme Inc", "gold")]);
        let fresh = plan(vec![update("Acme Corp", "silver")]);
        let refused = verify_saved(&saved, &fresh, &workspace("abc"))
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains(
                "`org.acme` differs in after.metadata.tier: \"gold\" in the saved plan, \"silver\" now, after.name: \"Acme Inc\" in the saved plan, \"Acme Corp\" now"
            ),
            "{refused}"
        );
        let mut other = workspace("new");
        other.files.insert("orgs/new.yaml".into(), "x".into());
        other.files.remove("orgs/acme.yaml");
        assert_eq!(
            check_workspace(&saved, &other).unwrap_err().to_string(),
            "the saved plan was made from other manifests than those in its workspace (`orgs/acme.yaml` removed, `orgs/new.yaml` added)"
        );
    }

    #[test]
    fn tampered_plans_are_refused_naming_the_field() {
        let fresh = plan(vec![member_delete("org_1")]);
        let saved = plan(vec![member_delete("org_victim")]);
        let refused = verify_saved(&saved, &fresh, &workspace("abc"))
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains(
                "`org.acme.member[usr_1]` differs in organization_id: \"org_victim\" in the saved plan, \"org_1\" now"
            ),
            "{refused}"
        );

        let saved = plan(vec![member_delete("org_1"), member_delete("org_1")]);
        let refused = verify_saved(&saved, &fresh, &workspace("abc"))
            .unwrap_err()
            .to_string();
        assert!(refused.contains("listed more than once"), "{refused}");

        let mut saved = fresh.clone();
        saved.workspace = None;
        assert_eq!(
            verify_saved(&saved, &fresh, &workspace("abc")),
            Err(SealBroken::NoWorkspace)
        );
        assert_eq!(
            verify_saved(&fresh, &fresh, &workspace("other")),
            Err(SealBroken::OtherManifests(vec![
                "`orgs/acme.yaml` changed".into()
            ]))
        );
    }
}
