//! Apply: execute a plan against the vendors, in dependency order, safely.

mod executor;
mod retry;
mod steps;

pub use executor::{Outcome, StepResult, execute, execute_until};
pub use retry::{Retry, decide};

use crate::plan::{Action, Plan, ResourceChange};

/// The changes of `saved` whose live values moved since it was computed: each is compared with
/// the same address in `fresh` (the plan of the current live state).
pub fn moved_since(saved: &Plan, fresh: &Plan) -> Vec<String> {
    let key = |c: &ResourceChange| (c.address.clone(), c.resource_type);
    let fresh: std::collections::BTreeMap<_, Vec<&ResourceChange>> = fresh
        .resource_changes
        .iter()
        .fold(Default::default(), |mut map, c| {
            map.entry(key(c)).or_insert_with(Vec::new).push(c);
            map
        });
    saved
        .resource_changes
        .iter()
        .filter(|c| matches!(c.action, Action::Create | Action::Update | Action::Delete))
        .filter(|c| {
            let same = fresh.get(&key(c)).is_some_and(|now| {
                now.iter().any(|n| {
                    n.action == c.action
                        && n.before == c.before
                        && n.live_id == c.live_id
                        && n.after == c.after
                })
            });
            !same
        })
        .map(|c| c.address.to_string())
        .collect()
}
