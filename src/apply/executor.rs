//! The executor: runs a plan's changes over its DAG. Creates and updates run parents first,
//! deletes children first; independent steps run concurrently (each provider's client bounds
//! its requests); the dependents of a failed step are skipped and reported; the rest go on.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::steps::perform;
use crate::model::ResourceType;
use crate::plan::{Action, Plan, ResourceChange};
use crate::provider::AnyProvider;

/// How one step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done; with the vendor id of what it created, if it created something.
    Done(Option<String>),
    Failed(String),
    /// Not attempted because a step it depends on failed.
    Skipped(String),
    /// Not attempted because the run was interrupted first.
    NotStarted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepResult {
    pub address: String,
    pub action: Action,
    pub outcome: Outcome,
}

impl StepResult {
    pub fn succeeded(&self) -> bool {
        matches!(self.outcome, Outcome::Done(_))
    }
}

/// The indexes each step waits for: a child waits for its organization's create or update; an
/// organization's delete waits for its children's deletes.
fn dependencies(steps: &[&ResourceChange]) -> Vec<Vec<usize>> {
    let mut organization_step: BTreeMap<String, usize> = BTreeMap::new();
    let mut child_deletes: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, change) in steps.iter().enumerate() {
        match (
            change.resource_type == ResourceType::Organization,
            change.action,
        ) {
            (true, Action::Create | Action::Update) => {
                organization_step.insert(change.address.to_string(), index);
            }
            (false, Action::Delete) => child_deletes
                .entry(change.organization_address())
                .or_default()
                .push(index),
            _ => {}
        }
    }
    steps
        .iter()
        .map(|change| {
            match (
                change.resource_type == ResourceType::Organization,
                change.action,
            ) {
                (false, _) => organization_step
                    .get(&change.organization_address())
                    .copied()
                    .into_iter()
                    .collect(),
                (true, Action::Delete) => child_deletes
                    .get(&*change.address)
                    .cloned()
                    .unwrap_or_default(),
                (true, _) => Vec::new(),
            }
        })
        .collect()
}

/// Runs every create, update and delete of `plan`. `on_step` is told of each step as it ends
/// (for progress). Returns every step's outcome, in plan order.
pub async fn execute(
    providers: &BTreeMap<String, AnyProvider>,
    plan: &Plan,
    on_step: &(dyn Fn(&StepResult) + Sync),
) -> Vec<StepResult> {
    execute_until(providers, plan, on_step, &|| false).await
}

/// [`execute`], starting no new step once `stop` says so: the steps in flight finish, and the
/// rest are reported as not started.
pub async fn execute_until(
    providers: &BTreeMap<String, AnyProvider>,
    plan: &Plan,
    on_step: &(dyn Fn(&StepResult) + Sync),
    stop: &(dyn Fn() -> bool + Sync),
) -> Vec<StepResult> {
    let steps: Vec<&ResourceChange> = plan
        .resource_changes
        .iter()
        .filter(|c| matches!(c.action, Action::Create | Action::Update | Action::Delete))
        .collect();
    let deps = dependencies(&steps);
    let organizations: Vec<String> = steps.iter().map(|c| c.organization_address()).collect();
    let mut results: Vec<Option<StepResult>> = vec![None; steps.len()];
    let mut started: BTreeSet<usize> = BTreeSet::new();
    let mut created: BTreeMap<String, String> = BTreeMap::new();
    let mut running = FuturesUnordered::new();
    // Steps in flight per provider, at most its parallelism: a step waiting for a request slot
    // has not started, so an interrupt can still keep it from starting.
    let mut in_flight: BTreeMap<&str, usize> = BTreeMap::new();
    let limit = |name: &str| providers.get(name).map_or(1, |p| p.client().parallelism());

    loop {
        // Start every step whose dependencies are done; skip those whose dependencies failed.
        let mut progressed = true;
        while progressed {
            progressed = false;
            for index in 0..steps.len() {
                if started.contains(&index) {
                    continue;
                }
                let blocked = deps[index]
                    .iter()
                    .find(|d| results[**d].as_ref().is_some_and(|r| !r.succeeded()));
                if let Some(blocker) = blocked {
                    let result = StepResult {
                        address: steps[index].address.to_string(),
                        action: steps[index].action,
                        outcome: Outcome::Skipped(format!(
                            "{} did not succeed",
                            steps[*blocker].address
                        )),
                    };
                    on_step(&result);
                    results[index] = Some(result);
                    started.insert(index);
                    progressed = true;
                    continue;
                }
                if stop() {
                    break;
                }
                let busy = in_flight.get(&*steps[index].provider).copied();
                if busy.unwrap_or(0) >= limit(&steps[index].provider) {
                    continue;
                }
                if deps[index].iter().all(|d| results[*d].is_some()) {
                    started.insert(index);
                    let change = steps[index];
                    *in_flight.entry(&*change.provider).or_default() += 1;
                    let org_id = change.organization_id.clone().or_else(|| {
                        created
                            .get(&organizations[index])
                            .map(|id| id.as_str().into())
                    });
                    let provider = providers.get(&*change.provider);
                    running.push(async move {
                        let outcome = match provider {
                            Some(provider) => {
                                match perform(provider, change, org_id.as_deref()).await {
                                    Ok(id) => Outcome::Done(id),
                                    Err(error) => Outcome::Failed(error.to_string()),
                                }
                            }
                            None => Outcome::Failed(format!("no provider `{}`", change.provider)),
                        };
                        (index, outcome)
                    });
                }
            }
        }
        let Some((index, outcome)) = running.next().await else {
            break;
        };
        let change = steps[index];
        if let Some(count) = in_flight.get_mut(&*change.provider) {
            *count = count.saturating_sub(1);
        }
        if let (Outcome::Done(Some(id)), ResourceType::Organization, Action::Create) =
            (&outcome, change.resource_type, change.action)
        {
            created.insert(change.address.to_string(), id.clone());
        }
        let result = StepResult {
            address: change.address.to_string(),
            action: change.action,
            outcome,
        };
        on_step(&result);
        results[index] = Some(result);
    }
    results
        .into_iter()
        .zip(&steps)
        .map(|(result, change)| {
            result.unwrap_or_else(|| StepResult {
                address: change.address.to_string(),
                action: change.action,
                outcome: Outcome::NotStarted,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(address: &str, resource_type: ResourceType, action: Action) -> ResourceChange {
        ResourceChange::bare(address, resource_type, action)
    }

    #[test]
    fn children_wait_for_parents_and_organization_deletes_for_children() {
        let changes = [
            change("org.a", ResourceType::Organization, Action::Create),
            change("org.a.domain[a.io]", ResourceType::Domain, Action::Create),
            change("org.b.member[x]", ResourceType::Member, Action::Delete),
            change("org.b", ResourceType::Organization, Action::Delete),
            change("org.c.domain[c.io]", ResourceType::Domain, Action::Delete),
        ];
        let steps: Vec<&ResourceChange> = changes.iter().collect();
        assert_eq!(
            dependencies(&steps),
            vec![vec![], vec![0], vec![], vec![2], vec![]]
        );
    }
}
