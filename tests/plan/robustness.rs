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

/// `requests_per_second` paces requests evenly; a 429's `Retry-After` is honoured.
#[tokio::test]
async fn the_rate_budget_and_retry_after_are_honoured() {
    let scenario = Scenario::new("nirvana", "").await;
    let mut seed = String::from("nirvana:\n  organizations:\n");
    let mut manifests = String::new();
    for i in 0..10 {
        seed.push_str(&format!(
            "    - {{ name: Org {i}, memberships: [{{ user_id: usr_{i}, role: owner }}] }}\n"
        ));
        manifests.push_str(&format!("---\norganization: org-{i}\nname: Org {i}\nmembers: [{{ user: usr_{i}, role: owner }}]\n"));
    }
    scenario.sandbox.seed(&seed).await;
    scenario.manifest("a.yaml", &manifests);
    let config = std::fs::read_to_string(scenario.dir.path().join("orgform.yaml")).unwrap();
    std::fs::write(
        scenario.dir.path().join("orgform.yaml"),
        format!("{config}    requests_per_second: 10\n"),
    )
    .unwrap();
    let started = std::time::Instant::now();
    scenario.plan(&[]).await.unwrap();
    // 11 requests (1 list + 10 membership lists) at 10/s, evenly paced: at least 1 s.
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );

    std::fs::write(scenario.dir.path().join("orgform.yaml"), config).unwrap();
    scenario.sandbox.faults(json!({ "scripts": [{ "method": "GET", "route": "/nirvana/v1/organizations", "nth": 1, "status": 429 }] })).await;
    let started = std::time::Instant::now();
    scenario.plan_with(&[], fast_retries()).await.unwrap();
    // The sandbox's Retry-After is 1 s; fast_retries alone would wait milliseconds.
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn two_live_organizations_with_one_name_ask_for_a_pin() {
    let scenario = Scenario::new("nirvana", "").await;
    scenario
        .sandbox
        .seed("nirvana:\n  organizations:\n    - { name: Twin }\n    - { name: Twin }\n")
        .await;
    scenario.manifest("a.yaml", "organization: twin\nname: Twin\n");
    let Err(orgform::session::Failure::Manifest(errors)) = scenario.plan(&[]).await else {
        panic!("expected an ambiguity error")
    };
    assert!(
        errors[0].message().contains("matches 2 live organizations"),
        "{}",
        errors[0].message()
    );
    assert_eq!(
        miette::Diagnostic::help(&errors[0]).unwrap().to_string(),
        "pin the one you mean with `id:`"
    );
}

/// A read cut off by `--timeout` says what its attempts met (the cause is not dropped), and
/// never speaks of writes.
#[test]
fn a_deadline_on_a_read_keeps_its_cause_and_speaks_of_no_write() {
    let dir = tempfile::tempdir().unwrap();
    // Port 1 on loopback: every connection is refused.
    std::fs::write(
        dir.path().join("orgform.yaml"),
        "providers:\n  main:\n    kind: nirvana\n    url: http://127.0.0.1:1/nirvana\n    api_key: k\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("acme.yaml"),
        "organization: acme\nname: Acme\n",
    )
    .unwrap();
    let (code, _, stderr) = crate::support::run_orgform(
        &["plan", dir.path().to_str().unwrap(), "--timeout", "2s"],
        &[],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("the run's deadline (--timeout) passed"),
        "{stderr}"
    );
    assert!(stderr.contains("Connection refused"), "{stderr}");
    assert!(!stderr.contains("write"), "{stderr}");
}
