//! `--provider NAME`: a CI matrix shards a multi-provider workspace by provider target. Each
//! job reads, plans, locks and writes only its targets, and needs only their credentials.

use std::time::Duration;

use serde_json::Value;

use crate::support::run_orgform_async;

/// The multi-vendor example (a Scalekit provider `identity`, a Nirvana provider `billing`,
/// both on the embedded sandbox), copied into a new workspace.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("orgs")).unwrap();
    for file in ["orgform.yaml", "orgs/stark.yaml"] {
        std::fs::copy(
            format!("examples/multi-vendor/{file}"),
            dir.path().join(file),
        )
        .unwrap();
    }
    dir
}

fn providers_of(plan: &Value) -> Vec<String> {
    let mut seen: Vec<String> = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["provider"].as_str().unwrap().to_owned())
        .collect();
    seen.sort();
    seen.dedup();
    seen
}

#[tokio::test(flavor = "multi_thread")]
async fn provider_selection_shards_plan_and_apply_by_provider_target() {
    let workspace = workspace();
    let dir = workspace.path().to_str().unwrap();

    let (code, stdout, stderr) = run_orgform_async(
        &["plan", dir, "--provider", "identity", "--format", "json"],
        &[],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let plan: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(plan["providers"], serde_json::json!(["identity"]));
    assert_eq!(providers_of(&plan), ["identity"]);
    let (code, stdout, _) = run_orgform_async(&["plan", dir, "--provider", "identity"], &[]).await;
    assert_eq!(code, 0);
    assert!(
        stdout.contains("Only provider `identity` (--provider) was planned"),
        "{stdout}"
    );
    let (code, _, stderr) = run_orgform_async(&["plan", dir, "--provider", "nope"], &[]).await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains("--provider `nope`: orgform.yaml declares no such provider (it declares billing, identity)"),
        "{stderr}"
    );

    // Another run holds the lock of `billing` only: `identity` can still be applied.
    let session = orgform::session::Session::open_only(
        workspace.path(),
        &|_| None,
        Default::default(),
        &["billing".to_owned()],
    )
    .await
    .unwrap();
    let held = session.lock("apply", Duration::ZERO).await.unwrap();
    let (code, stdout, stderr) = run_orgform_async(&["apply", dir, "--auto-approve"], &[]).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("is locked by"), "{stderr}");
    let (code, stdout, stderr) = run_orgform_async(
        &["apply", dir, "--auto-approve", "--provider", "identity"],
        &[],
    )
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, stdout, _) = run_orgform_async(
        &["plan", dir, "--provider", "identity", "--detailed-exitcode"],
        &[],
    )
    .await;
    assert_eq!(code, 0, "identity converged: {stdout}");
    let (code, _, _) = run_orgform_async(
        &["plan", dir, "--provider", "billing", "--detailed-exitcode"],
        &[],
    )
    .await;
    assert_eq!(code, 2, "billing still to do");
    drop(held);
    session.close().await;

    // A saved plan keeps its providers.
    let file = workspace.path().join("billing.json");
    let file = file.to_str().unwrap();
    let (code, _, stderr) =
        run_orgform_async(&["plan", dir, "--provider", "billing", "--out", file], &[]).await;
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = run_orgform_async(&["apply", "--plan", file], &[]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, stdout, _) = run_orgform_async(&["plan", dir, "--detailed-exitcode"], &[]).await;
    assert_eq!(code, 0, "converged: {stdout}");
}

/// A job planning one provider target needs no credentials of the others.
#[tokio::test(flavor = "multi_thread")]
async fn a_provider_not_selected_needs_no_credentials() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("orgform.yaml"),
        "providers:\n  main:\n    kind: scalekit\n    sandbox: true\n  ping:\n    kind: pingone\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("orgs.yaml"),
        "organization: acme\nprovider: main\nname: Acme\n---\norganization: ping\nprovider: ping\nname: Ping\n",
    )
    .unwrap();
    let path = dir.path().to_str().unwrap();
    let (code, _, stderr) = run_orgform_async(&["plan", path], &[]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("PINGONE"), "{stderr}");
    let (code, stdout, stderr) =
        run_orgform_async(&["plan", path, "--provider", "main"], &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("org.acme"), "{stdout}");
    assert!(!stdout.contains("org.ping"), "{stdout}");
}
