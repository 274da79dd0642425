//! A key move: `previous_keys` makes a changed Scalekit key an in-place update of the external
//! id, never a delete and a create; without it the plan says what to add.

use super::support::{Scenario, apply, assert_converged, scalekit_contents};

const POLICY: &str = "policy:\n  prune: true\n  max_deletes: 10\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_moved_key_updates_the_external_id_in_place() {
    let scenario = Scenario::new("scalekit", POLICY).await;
    scenario.manifest(
        "globex.yaml",
        "organization: globex\nname: Globex\ndomains: [globex.example]\n",
    );
    let (_, results) = apply(&scenario, Default::default()).await;
    assert!(results.iter().all(|r| r.succeeded()), "{results:#?}");
    let before = scalekit_contents(&scenario).await;

    // The key moves without `previous_keys`: prune would delete and create, and the plan says
    // why the name did not match and what to add.
    scenario.manifest(
        "globex.yaml",
        "organization: globex-holdings\nname: Globex\ndomains: [globex.example]\n",
    );
    let (plan, _) = scenario.plan(&[]).await.expect("plan");
    assert_eq!(
        (plan.summary.create, plan.summary.delete),
        (2, 1),
        "{plan:#?}"
    );
    assert!(
        plan.warnings.iter().any(|w| w.address == "org.globex"
            && w.message
                .contains("add `previous_keys: [globex]` to `globex-holdings`")),
        "{:#?}",
        plan.warnings
    );

    // With it: one update of the external id, nothing deleted or created.
    scenario.manifest(
        "globex.yaml",
        "organization: globex-holdings\nname: Globex\nprevious_keys: [globex]\ndomains: [globex.example]\n",
    );
    let (plan, _) = scenario.plan(&[]).await.expect("plan");
    let actions: Vec<(String, &str)> = plan
        .actionable()
        .map(|c| (c.address.to_string(), c.action.as_str()))
        .collect();
    assert_eq!(
        actions,
        vec![("org.globex-holdings".to_owned(), "update")],
        "{plan:#?}"
    );
    let update = plan.actionable().next().unwrap();
    assert_eq!(update.changed_paths, vec!["external_id".to_owned()]);
    assert_eq!(
        update.before.as_ref().unwrap().value()["external_id"],
        "globex"
    );
    assert_eq!(
        update.after.as_ref().unwrap().value()["external_id"],
        "globex-holdings"
    );
    assert!(
        update
            .message
            .as_deref()
            .is_some_and(|m| m.contains("previous key `globex`")),
        "{update:#?}"
    );
    let (_, results) = apply(&scenario, Default::default()).await;
    assert!(results.iter().all(|r| r.succeeded()), "{results:#?}");
    assert_converged(&scenario).await;

    // The same organization (same id, same domain), under its new external id; no delete sent.
    let after = scalekit_contents(&scenario).await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].0, "globex-holdings");
    assert_eq!(after[0].1, before[0].1);
    let deletes: u64 = scenario.sandbox.stats().await["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == "DELETE")
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    assert_eq!(deletes, 0);
}
