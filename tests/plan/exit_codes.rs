//! `plan --detailed-exitcode`: 0 no changes, 1 error, 2 changes, 3 manual drift.

use super::support::Scenario;
use crate::support::run_orgform_async;

async fn exit_code(scenario: &Scenario, extra: &[&str]) -> (i32, String, String) {
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let mut args = vec!["plan", dir.as_str(), "--detailed-exitcode"];
    args.extend(extra);
    run_orgform_async(&args, &[("TEST_SECRET", "sandbox-secret")]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn each_exit_code_of_detailed_exitcode() {
    let scenario = Scenario::new("pingone", "").await;
    let org = "id: bed432e6-676a-4ebe-b5a5-6b3b54e46bda\nname: Example Organization\n";

    scenario.manifest(
        "a.yaml",
        &format!("organization: ping\n{org}licenses: [{{ package: INTERNAL, status: ACTIVE }}]\n"),
    );
    let (code, stdout, stderr) = exit_code(&scenario, &[]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("No changes. Live state matches the manifests."));

    scenario.manifest(
        "a.yaml",
        &format!("organization: ping\n{org}licenses: [{{ package: RISKTRIAL, status: ACTIVE }}]\n"),
    );
    let (code, stdout, _) = exit_code(&scenario, &[]).await;
    assert_eq!(code, 3, "{stdout}");
    assert!(
        stdout.contains("Plan: 0 to add, 0 to change, 0 to destroy, 1 needs manual action."),
        "{stdout}"
    );

    scenario.manifest("a.yaml", "organization: ping\nname: [unclosed\n");
    let (code, stdout, stderr) = exit_code(&scenario, &[]).await;
    assert_eq!(code, 1);
    assert!(
        stdout.is_empty() && stderr.contains("orgform::yaml_syntax"),
        "{stderr}"
    );

    let writable = Scenario::new("scalekit", "").await;
    writable.manifest("a.yaml", "organization: acme\nname: Acme\n");
    let (code, stdout, _) = exit_code(&writable, &[]).await;
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("Plan: 1 to add, 0 to change, 0 to destroy, 0 need manual action."),
        "{stdout}"
    );
    let (code, _, _) = exit_code(&writable, &["--format", "json"]).await;
    assert_eq!(code, 2);
    let (code, stderr, _) = exit_code(&writable, &["--target", "org.nope"]).await;
    assert_eq!(code, 1, "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_detailed_exitcode_changes_exit_0_and_violations_exit_1() {
    let scenario = Scenario::new("scalekit", "policy:\n  prune: true\n").await;
    scenario.manifest("a.yaml", "organization: acme\nname: Acme\n");
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let (code, _, _) =
        run_orgform_async(&["plan", &dir], &[("TEST_SECRET", "sandbox-secret")]).await;
    assert_eq!(code, 0);
    scenario.sandbox.seed("scalekit:\n  organizations:\n    - { display_name: Old, external_id: old, metadata: { managed_by: orgform } }\n").await;
    let (code, stdout, _) =
        run_orgform_async(&["plan", &dir], &[("TEST_SECRET", "sandbox-secret")]).await;
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("Safety policy violations"), "{stdout}");
    assert!(stdout.contains("--allow-deletes 1"), "{stdout}");
}

/// `sandbox: true` needs no account: the embedded sandbox keeps its state in the workspace.
#[tokio::test(flavor = "multi_thread")]
async fn a_sandbox_provider_runs_the_embedded_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    for entry in ["orgform.yaml", "orgs/acme.yaml", "orgs/globex.yaml"] {
        let target = dir.path().join(entry);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(
            std::path::Path::new("examples/quickstart").join(entry),
            target,
        )
        .unwrap();
    }
    let path = dir.path().to_str().unwrap().to_owned();
    let (code, stdout, stderr) =
        run_orgform_async(&["plan", &path, "--detailed-exitcode"], &[]).await;
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stdout.contains("Plan: 12 to add, 0 to change, 0 to destroy, 0 need manual action."),
        "{stdout}"
    );
    assert!(dir.path().join(".orgform/sandbox.sqlite").is_file());
}

/// Under `--detailed-exitcode`, 2 and 3 mean only changes and drift: an API failure is 1.
#[tokio::test(flavor = "multi_thread")]
async fn an_api_failure_exits_1_under_detailed_exitcode() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.manifest("a.yaml", "organization: acme\nname: Acme\n");
    scenario
        .sandbox
        .faults(serde_json::json!({ "scripts": [{ "method": "GET", "route": "/scalekit/api/v1/organizations", "nth": 1, "times": 100, "status": 400 }] }))
        .await;
    let (code, _, stderr) = exit_code(&scenario, &[]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("answered 400"), "{stderr}");
}

/// Configuration slips get a message that says what to fix.
#[tokio::test(flavor = "multi_thread")]
async fn config_mistakes_say_what_to_fix() {
    let sandbox = crate::sandbox::support::TestSandbox::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        "organization: acme\nname: Acme\n",
    )
    .unwrap();
    // A Scalekit url without the sandbox's /scalekit prefix: the token endpoint is not there.
    std::fs::write(
        dir.path().join("orgform.yaml"),
        format!(
            "providers:\n  main:\n    kind: scalekit\n    url: {}\n    client_id: sandbox-client\n    client_secret: sandbox-secret\n",
            sandbox.running.base_url()
        ),
    )
    .unwrap();
    let (code, _, stderr) = run_orgform_async(&["plan", path, "--timeout", "20s"], &[]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("answered 404") && stderr.contains("check the provider's `url`"),
        "{stderr}"
    );
    // An unknown PingOne region is an error, not silently North America.
    std::fs::write(
        dir.path().join("orgform.yaml"),
        "providers:\n  main:\n    kind: pingone\n    environment_id: e\n    client_id: c\n    client_secret: s\n",
    )
    .unwrap();
    let (code, _, stderr) =
        run_orgform_async(&["plan", path], &[("PINGONE_REGION", "europe")]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("PINGONE_REGION=europe is not a PingOne region"),
        "{stderr}"
    );
}
