//! Transient faults are retried away; a persistent failure is reported precisely; credentials
//! never appear in any output.

use serde_json::json;

use super::support::{Scenario, fast_retries};
use crate::support::run_orgform_async;

const SEED: &str = "scalekit:\n  organizations:\n    - { display_name: Acme, external_id: acme, domains: [{ domain: acme.example, verification_status: VERIFIED }] }\n";
const MANIFEST: &str = "organization: acme\nname: Acme\ndomains: [acme.example]\n";

#[tokio::test]
async fn scripted_503s_and_429s_are_retried_and_the_plan_succeeds() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.sandbox.seed(SEED).await;
    scenario.manifest("a.yaml", MANIFEST);
    scenario
        .sandbox
        .faults(json!({ "scripts": [
            { "method": "GET", "route": "/scalekit/api/v1/organizations", "nth": 1, "times": 2, "status": 503 },
            { "method": "GET", "route": "/scalekit/api/v1/organizations/{organization_id}/domains", "nth": 1, "times": 2, "status": 429 },
            { "method": "POST", "route": "/scalekit/oauth/token", "nth": 1, "status": 503 }
        ] }))
        .await;
    let (plan, _) = scenario
        .plan_with(&[], fast_retries())
        .await
        .expect("retries succeed");
    assert!(!plan.has_changes());
    assert_eq!(
        scenario
            .sandbox
            .count("GET", "/scalekit/api/v1/organizations", 503)
            .await,
        2
    );
    assert_eq!(
        scenario
            .sandbox
            .count(
                "GET",
                "/scalekit/api/v1/organizations/{organization_id}/domains",
                429
            )
            .await,
        2
    );
}

#[tokio::test]
async fn a_persistent_500_fails_naming_vendor_route_and_status() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.sandbox.seed(SEED).await;
    scenario.manifest("a.yaml", MANIFEST);
    scenario
        .sandbox
        .faults(json!({ "scripts": [{ "method": "GET", "route": "/scalekit/api/v1/organizations/{organization_id}/domains", "nth": 1, "times": 1000, "status": 500 }] }))
        .await;
    let Err(orgform::session::Failure::Api(errors)) = scenario.plan_with(&[], fast_retries()).await
    else {
        panic!("expected an API failure")
    };
    let message = errors[0].to_string();
    for part in [
        "scalekit provider `main`",
        "GET /api/v1/organizations/",
        "/domains",
        "org.acme",
        "answered 500",
        "after 7 attempts",
    ] {
        assert!(message.contains(part), "`{part}` missing from: {message}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_credential_appears_in_output_or_plan_file() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.sandbox.seed(SEED).await;
    scenario.manifest(
        "a.yaml",
        "organization: acme\nname: Acme Renamed\ndomains: [acme.example, new.example]\n",
    );
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let plan_file = scenario.dir.path().join("plan.json");
    let plan_arg = plan_file.to_str().unwrap().to_owned();
    // A successful plan, in every format, and one that fails to authenticate.
    let mut outputs = Vec::new();
    for format in ["human", "json", "markdown"] {
        let (code, stdout, stderr) = run_orgform_async(
            &["plan", &dir, "--format", format, "--out", &plan_arg],
            &[("TEST_SECRET", "sandbox-secret")],
        )
        .await;
        assert_eq!(code, 0, "{stderr}");
        outputs.push(stdout);
        outputs.push(stderr);
        outputs.push(std::fs::read_to_string(&plan_file).unwrap());
    }
    let (code, stdout, stderr) =
        run_orgform_async(&["plan", &dir], &[("TEST_SECRET", "wrong-secret-value")]).await;
    assert_eq!(code, 1);
    assert!(stderr.contains("could not authenticate"), "{stderr}");
    outputs.extend([stdout, stderr]);
    let tokens: Vec<String> = Vec::new();
    for output in &outputs {
        for secret in ["sandbox-secret", "wrong-secret-value", "sbx_scalekit_"]
            .iter()
            .map(|s| s.to_string())
            .chain(tokens.clone())
        {
            assert!(
                !output.contains(&secret),
                "`{secret}` leaked into:\n{output}"
            );
        }
    }
    assert!(
        outputs[2].contains("\"format_version\": \"1\""),
        "the plan file is the JSON plan"
    );
}
