//! Applying a scenario's workspace through the library, and reading the sandbox back.

use std::collections::BTreeSet;

use orgform::apply::{StepResult, execute};
use orgform::plan::{Plan, PlanInput, plan};
use orgform::provider::RefreshOptions;
use orgform::provider::settings::ClientOverrides;
use serde_json::Value;

pub use crate::plan::support::{Scenario, fast_retries};

/// Refresh, plan and execute; returns the plan and every step's outcome.
pub async fn apply(scenario: &Scenario, overrides: ClientOverrides) -> (Plan, Vec<StepResult>) {
    let session = scenario.session(overrides).await;
    let live = session
        .refresh(&RefreshOptions::default())
        .await
        .expect("refresh");
    let planned = plan(PlanInput::whole(&session.desired, &live)).expect("plan");
    let results = execute(&session.providers, &planned, &|_| {}).await;
    session.close().await;
    (planned, results)
}

/// Asserts a fresh plan has nothing to do: the convergence check every scenario ends with.
pub async fn assert_converged(scenario: &Scenario) {
    let (plan, _) = scenario.plan(&[]).await.expect("plan");
    let pending: Vec<String> = plan
        .actionable()
        .map(|c| format!("{} {}", c.action.as_str(), c.address))
        .collect();
    assert!(pending.is_empty(), "not converged: {pending:#?}");
}

/// Every Scalekit organization, with its domains and member e-mails, read through the API;
/// panics on any duplicate organization (by external id), domain or membership.
pub async fn scalekit_contents(
    scenario: &Scenario,
) -> Vec<(String, BTreeSet<String>, BTreeSet<String>)> {
    let sandbox = &scenario.sandbox;
    let auth = sandbox.scalekit().await;
    let mut orgs = Vec::new();
    let mut token = String::new();
    loop {
        let page = sandbox
            .get(
                &format!("/scalekit/api/v1/organizations?page_size=100&page_token={token}"),
                &auth,
            )
            .await
            .body;
        orgs.extend(page["organizations"].as_array().unwrap().clone());
        token = page["next_page_token"].as_str().unwrap().to_owned();
        if token.is_empty() {
            break;
        }
    }
    let mut keys = BTreeSet::new();
    let mut contents = Vec::new();
    for org in orgs {
        let key = org["external_id"].as_str().unwrap_or_default().to_owned();
        assert!(keys.insert(key.clone()), "duplicate organization `{key}`");
        let id = org["id"].as_str().unwrap();
        let domains: Vec<Value> = sandbox
            .get(
                &format!("/scalekit/api/v1/organizations/{id}/domains?page_size=100"),
                &auth,
            )
            .await
            .body["domains"]
            .as_array()
            .unwrap()
            .clone();
        let domain_names: BTreeSet<String> = domains
            .iter()
            .map(|d| d["domain"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            domain_names.len(),
            domains.len(),
            "duplicate domain in {key}"
        );
        let users: Vec<Value> = sandbox
            .get(
                &format!("/scalekit/api/v1/organizations/{id}/users?page_size=100"),
                &auth,
            )
            .await
            .body["users"]
            .as_array()
            .unwrap()
            .clone();
        let emails: BTreeSet<String> = users
            .iter()
            .map(|u| u["email"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(emails.len(), users.len(), "duplicate membership in {key}");
        contents.push((key, domain_names, emails));
    }
    contents
}
