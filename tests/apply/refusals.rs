//! Apply refuses, before any write: without approval off a terminal, on a safety violation, and
//! with a stale saved plan.

use reqwest::Method;
use serde_json::json;

use super::support::Scenario;
use crate::support::run_orgform_async;

async fn write_count(scenario: &Scenario) -> u64 {
    let stats = scenario.sandbox.stats().await;
    stats["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] != "GET" && !r["route"].as_str().unwrap().contains("token"))
        .map(|r| r["count"].as_u64().unwrap())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_terminal_apply_needs_auto_approve() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.manifest("a.yaml", "organization: acme\nname: Acme\n");
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let (code, _, stderr) =
        run_orgform_async(&["apply", &dir], &[("TEST_SECRET", "sandbox-secret")]).await;
    assert_eq!(code, 1);
    assert!(stderr.contains("--auto-approve"), "{stderr}");
    assert_eq!(write_count(&scenario).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_safety_violation_is_refused_before_any_write() {
    let scenario = Scenario::new("scalekit", "policy:\n  prune: true\n").await;
    scenario.sandbox.seed("scalekit:\n  organizations:\n    - { display_name: Old, external_id: old, metadata: { managed_by: orgform } }\n").await;
    scenario.manifest("a.yaml", "organization: acme\nname: Acme\n");
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let (code, stdout, stderr) = run_orgform_async(
        &["apply", &dir, "--auto-approve"],
        &[("TEST_SECRET", "sandbox-secret")],
    )
    .await;
    assert_eq!(code, 1);
    assert!(
        stdout.contains("policy.max_deletes") && stdout.contains("--allow-deletes 1"),
        "{stdout}"
    );
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert_eq!(write_count(&scenario).await, 0, "no write request at all");

    let (code, stdout, _) = run_orgform_async(
        &["apply", &dir, "--auto-approve", "--allow-deletes", "1"],
        &[("TEST_SECRET", "sandbox-secret")],
    )
    .await;
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(write_count(&scenario).await, 2, "the create and the delete");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_saved_plan_is_refused_and_a_fresh_one_applies() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.sandbox.seed("scalekit:\n  organizations:\n    - { display_name: Acme, external_id: acme, metadata: { tier: silver } }\n").await;
    scenario.manifest(
        "a.yaml",
        "organization: acme\nname: Acme\nmetadata: { tier: gold }\n",
    );
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let file = scenario
        .dir
        .path()
        .join("plan.json")
        .to_str()
        .unwrap()
        .to_owned();
    let env = [("TEST_SECRET", "sandbox-secret")];
    let (code, _, _) = run_orgform_async(&["plan", &dir, "--out", &file], &env).await;
    assert_eq!(code, 0);

    // Someone changes the organization after the plan was saved.
    let auth = scenario.sandbox.scalekit().await;
    let id = scenario
        .sandbox
        .get("/scalekit/api/v1/organizations:external/acme", &auth)
        .await
        .body["organization"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    scenario
        .sandbox
        .call(
            Method::PATCH,
            &format!("/scalekit/api/v1/organizations/{id}"),
            &auth,
            Some(json!({ "metadata": { "tier": "bronze" } })),
        )
        .await;
    let writes_before = write_count(&scenario).await;
    let (code, _, stderr) =
        run_orgform_async(&["apply", &dir, "--plan", &file, "--auto-approve"], &env).await;
    assert_eq!(code, 1);
    // The refusal names what moved: the field, the value the plan saw, the value there now.
    assert!(
        stderr.contains("stale")
            && stderr.contains(
                "`org.acme` differs in before.metadata.tier: \"silver\" in the saved plan, \"bronze\" now"
            ),
        "{stderr}"
    );
    assert_eq!(
        write_count(&scenario).await,
        writes_before,
        "nothing written"
    );

    let (code, _, _) = run_orgform_async(&["plan", &dir, "--out", &file], &env).await;
    assert_eq!(code, 0);
    let (code, stdout, stderr) =
        run_orgform_async(&["apply", &dir, "--plan", &file, "--auto-approve"], &env).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("Apply complete: 1 done"), "{stdout}");
    super::support::assert_converged(&scenario).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_prune_looks_before_it_deletes() {
    let scenario = Scenario::new("scalekit", "policy:\n  prune: true\n  max_deletes: 5\n").await;
    scenario.sandbox.seed("scalekit:\n  organizations:\n    - { display_name: Old, external_id: old, metadata: { managed_by: orgform } }\n").await;
    scenario.manifest("a.yaml", "organization: acme\nname: Acme\n");
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let env = [("TEST_SECRET", "sandbox-secret")];
    let one = "/scalekit/api/v1/organizations/{id}";
    let deletes = async || {
        scenario
            .sandbox
            .requests()
            .await
            .iter()
            .filter(|r| r["method"] == "DELETE")
            .count()
    };
    // The fresh read says the organization is no longer orgform's: no delete.
    scenario
        .sandbox
        .faults(json!({ "scripts": [{ "method": "GET", "route": one, "nth": 1, "mangle": { "set": { "/organization/metadata/managed_by": "someone-else" } } }] }))
        .await;
    let (code, stdout, stderr) = run_orgform_async(&["apply", &dir, "--auto-approve"], &env).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("no longer carries orgform's ownership marker; refusing to delete it"),
        "{stdout}"
    );
    assert!(
        stdout.contains("org.acme"),
        "independent steps still ran: {stdout}"
    );
    assert_eq!(deletes().await, 0);
    assert_eq!(scenario.sandbox.count("GET", one, 200).await, 1);

    // The fresh read says it now has another external id (claimed since the plan): no delete.
    scenario
        .sandbox
        .faults(json!({ "scripts": [{ "method": "GET", "route": one, "nth": 1, "mangle": { "set": { "/organization/external_id": "acme" } } }] }))
        .await;
    let (code, stdout, _) = run_orgform_async(&["apply", &dir, "--auto-approve"], &env).await;
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("now has external id"), "{stdout}");
    assert_eq!(deletes().await, 0);

    // Without a fault the read agrees with the plan and the delete goes through; then converged.
    scenario.sandbox.faults(json!({})).await;
    let (code, stdout, _) = run_orgform_async(&["apply", &dir, "--auto-approve"], &env).await;
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(deletes().await, 1);
    super::support::assert_converged(&scenario).await;
}
