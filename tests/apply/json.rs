//! `apply --format json`: the outcome of every step as one JSON document on stdout, for
//! pipelines, whatever happened.

use serde_json::{Value, json};

use crate::distrust::orgform;
use crate::plan::support::Scenario;

fn document(stdout: &str) -> Value {
    serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{stdout}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_json_reports_every_step_and_nothing_else_on_stdout() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.manifest(
        "acme.yaml",
        "organization: acme\nname: Acme\ndomains: [acme.example, taken.example]\nmembers: [{ email: ada@acme.example, role: admin }]\n",
    );
    let dir = scenario.dir.path().to_str().unwrap().to_owned();

    // Without approval there is no plan to show: refused before anything is read.
    let (code, stdout, stderr) = orgform(&["apply", &dir, "--format", "json"]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stdout.is_empty() && stderr.contains("--auto-approve"),
        "{stderr}"
    );

    // One domain create fails as the vendor refuses it.
    scenario
        .sandbox
        .faults(json!({ "scripts": [{ "method": "POST", "route": "/scalekit/api/v1/organizations/{organization_id}/domains", "nth": 2, "status": 409 }] }))
        .await;
    let (code, stdout, stderr) =
        orgform(&["apply", &dir, "--auto-approve", "--format", "json"]).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    let outcome = document(&stdout);
    assert_eq!(outcome["outcome"], "incomplete", "{outcome:#}");
    assert_eq!(outcome["summary"]["done"], 3, "{outcome:#}");
    assert_eq!(outcome["summary"]["failed"], 1, "{outcome:#}");
    let steps = outcome["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 4, "{outcome:#}");
    let organization = steps.iter().find(|s| s["address"] == "org.acme").unwrap();
    assert_eq!(organization["action"], "create");
    assert_eq!(organization["outcome"], "done");
    assert!(
        organization["id"].as_str().unwrap().starts_with("org_"),
        "{organization}"
    );
    let failed = steps.iter().find(|s| s["outcome"] == "failed").unwrap();
    assert!(
        failed["error"].as_str().unwrap().contains("409"),
        "{failed}"
    );

    // Again: only the failed domain is left, and it is done.
    scenario.sandbox.faults(json!({})).await;
    let (code, stdout, stderr) =
        orgform(&["apply", &dir, "--auto-approve", "--format", "json"]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let outcome = document(&stdout);
    assert_eq!(outcome["outcome"], "complete");
    assert_eq!(outcome["steps"].as_array().unwrap().len(), 1, "{outcome:#}");

    // Converged: nothing to do, still one document.
    let (code, stdout, _) = orgform(&["apply", &dir, "--auto-approve", "--format", "json"]).await;
    assert_eq!(code, 0);
    let outcome = document(&stdout);
    assert_eq!(outcome["outcome"], "nothing_to_do");
    assert_eq!(outcome["steps"], json!([]));
    let (code, _, _) = orgform(&["plan", &dir, "--detailed-exitcode"]).await;
    assert_eq!(code, 0, "converged");
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_json_reports_a_safety_refusal_with_its_violations() {
    let scenario = Scenario::new("scalekit", "policy:\n  prune: true\n  max_deletes: 0\n").await;
    scenario
        .sandbox
        .seed("scalekit:\n  organizations:\n    - { display_name: Old, external_id: old, metadata: { managed_by: orgform } }\n")
        .await;
    scenario.manifest("acme.yaml", "organization: acme\nname: Acme\n");
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let (code, stdout, stderr) =
        orgform(&["apply", &dir, "--auto-approve", "--format", "json"]).await;
    assert_eq!(code, 1, "{stderr}");
    let outcome = document(&stdout);
    assert_eq!(outcome["outcome"], "refused");
    assert_eq!(
        outcome["safety_violations"][0]["rule"], "max_deletes",
        "{outcome:#}"
    );
    assert!(stderr.contains("refused by the safety policy"), "{stderr}");
    assert_eq!(
        scenario
            .sandbox
            .count("POST", "/scalekit/api/v1/organizations", 201)
            .await,
        0
    );
}
