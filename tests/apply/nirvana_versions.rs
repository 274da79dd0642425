//! Nirvana Labs answers in two organization shapes (older API versions with
//! `metronome_customer_id`, the current SDK with `billing_state`, `billing_state_since` and
//! `charging_model`) and two error-body shapes: plan, apply and export work against each.

use serde_json::json;

use super::support::{Scenario, apply, assert_converged};
use crate::support::run_orgform_async;
use orgform::apply::Outcome;
use orgform::session::Failure;

const ACME: &str = "organization: acme\nname: Acme\nbilling_email: billing@acme.example\naddress:\n  line1: 1 Main St\n  city: Springfield\n  postal_code: '12345'\n  country: US\n";

async fn round_trip(shape: &str, other: &str) {
    let scenario = Scenario::new("nirvana", "").await;
    let sandbox = &scenario.sandbox;
    sandbox
        .shapes(json!({ "nirvana": { "organizations": shape } }))
        .await;
    scenario.manifest("acme.yaml", ACME);
    let (_, results) = apply(&scenario, Default::default()).await;
    assert!(
        results.iter().all(|r| r.succeeded()),
        "{shape}: {results:#?}"
    );

    // The sandbox really serves the shape.
    let listed = sandbox
        .get("/nirvana/v1/organizations?limit=100", &sandbox.nirvana())
        .await;
    let acme = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "Acme")
        .unwrap()
        .clone();
    assert_eq!(
        acme.get("billing_state").is_some(),
        shape == "billing",
        "{acme}"
    );
    assert_eq!(
        acme.get("metronome_customer_id").is_some(),
        shape == "metronome",
        "{acme}"
    );
    assert_converged(&scenario).await;

    // Export into the workspace: the organization's own file is updated, and all plan clean.
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let env = [("TEST_NIRVANA_KEY", "sandbox-nirvana-key")];
    let (code, stdout, stderr) =
        run_orgform_async(&["export", &dir, "--provider", "main"], &env).await;
    assert_eq!(code, 0, "{shape}: {stdout}{stderr}");
    let (code, stdout, stderr) =
        run_orgform_async(&["plan", &dir, "--detailed-exitcode"], &env).await;
    assert_eq!(code, 0, "{shape}: {stdout}{stderr}");
    assert!(stdout.contains("No changes."), "{stdout}");

    // The vendor moves to the other version: nothing changes for orgform.
    sandbox
        .shapes(json!({ "nirvana": { "organizations": other } }))
        .await;
    assert_converged(&scenario).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_older_organization_shape_plans_applies_and_exports() {
    round_trip("metronome", "billing").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_current_sdks_organization_shape_plans_applies_and_exports() {
    round_trip("billing", "metronome").await;
}

/// A failed update, plan or export names the vendor's own message in either error shape, never
/// raw JSON.
#[tokio::test(flavor = "multi_thread")]
async fn vendor_error_messages_are_read_from_either_body_shape() {
    for errors in ["nested", "flat"] {
        let scenario = Scenario::new("nirvana", "").await;
        let sandbox = &scenario.sandbox;
        sandbox
            .shapes(json!({ "nirvana": { "errors": errors } }))
            .await;
        scenario.manifest("acme.yaml", ACME);
        let (_, results) = apply(&scenario, Default::default()).await;
        assert!(results.iter().all(|r| r.succeeded()), "{results:#?}");

        sandbox
            .faults(json!({ "scripts": [{ "method": "PATCH", "route": "/nirvana/v1/organizations/{organization_id}", "nth": 1, "status": 422 }] }))
            .await;
        // The sandbox's error body is in the chosen shape.
        let id = sandbox
            .get("/nirvana/v1/organizations?limit=100", &sandbox.nirvana())
            .await
            .body["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let answer = sandbox
            .call(
                reqwest::Method::PATCH,
                &format!("/nirvana/v1/organizations/{id}"),
                &sandbox.nirvana(),
                Some(json!({ "name": "Probe" })),
            )
            .await;
        assert_eq!(answer.status, 422);
        let message = match errors {
            "flat" => &answer.body["message"],
            _ => &answer.body["error"]["message"],
        };
        assert_eq!(
            message, "sandbox fault: scripted failure",
            "{}",
            answer.body
        );

        sandbox
            .faults(json!({ "scripts": [{ "method": "PATCH", "route": "/nirvana/v1/organizations/{organization_id}", "nth": 1, "status": 422 }] }))
            .await;
        scenario.manifest(
            "acme.yaml",
            &ACME.replace("billing@acme.example", "finance@acme.example"),
        );
        let (_, results) = apply(&scenario, Default::default()).await;
        let failure = results
            .iter()
            .find_map(|r| match &r.outcome {
                Outcome::Failed(message) => Some(message.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("the update fails: {results:#?}"));
        assert!(
            failure.contains("unprocessable_entity: sandbox fault: scripted failure"),
            "{errors}: {failure}"
        );
        assert!(!failure.contains("{\""), "{errors}: raw JSON in {failure}");

        // A refresh that fails: plan and export say the vendor's words too.
        let forbidden = json!({ "scripts": [{ "method": "GET", "route": "/nirvana/v1/organizations", "nth": 1, "times": 2, "status": 403 }] });
        sandbox.faults(forbidden.clone()).await;
        let failure = match scenario.plan(&[]).await {
            Err(Failure::Api(failures)) => {
                failures.iter().map(|f| f.to_string()).collect::<String>()
            }
            Err(other) => panic!("{errors}: {other:?}"),
            Ok(_) => panic!("{errors}: the plan succeeds though the listing is refused"),
        };
        assert!(
            failure.contains("forbidden: sandbox fault: scripted failure"),
            "{errors}: {failure}"
        );
        sandbox.faults(forbidden).await;
        let dir = scenario.dir.path().to_str().unwrap().to_owned();
        let env = [("TEST_NIRVANA_KEY", "sandbox-nirvana-key")];
        let (code, stdout, stderr) =
            run_orgform_async(&["export", &dir, "--provider", "main"], &env).await;
        assert_eq!(code, 1, "{errors}: {stdout}{stderr}");
        assert!(
            stderr.contains("forbidden: sandbox fault: scripted failure"),
            "{errors}: {stderr}"
        );
        assert!(!stderr.contains("{\""), "{errors}: raw JSON in {stderr}");

        sandbox.faults(json!({})).await;
        let (_, results) = apply(&scenario, Default::default()).await;
        assert!(results.iter().all(|r| r.succeeded()), "{results:#?}");
        assert_converged(&scenario).await;
    }
}
