//! One writer at a time: two applies at once on the same provider target serialise on the
//! lock (or the second names the holder and exits 1), so neither makes a duplicate; a killed
//! holder's lock goes with its process.

use std::time::Duration;

use serde_json::json;

use super::support::{Scenario, assert_converged};
use crate::support::run_orgform_async;

const CREATES: &str = "/nirvana/v1/organizations";

fn nirvana_manifests(count: usize) -> String {
    (0..count)
        .map(|n| format!("---\norganization: tenant-{n}\nname: Tenant {n}\n"))
        .collect()
}

/// Two `apply` processes at once, both willing to wait for the lock.
async fn two_at_once(dir: &str, envs: &[(&str, &str)]) -> [(i32, String, String); 2] {
    let args = ["apply", dir, "--auto-approve", "--lock-timeout", "2m"];
    let (first, second) = tokio::join!(
        run_orgform_async(&args, envs),
        run_orgform_async(&args, envs)
    );
    [first, second]
}

#[tokio::test(flavor = "multi_thread")]
async fn two_concurrent_applies_of_nirvana_organizations_make_no_duplicate() {
    for trial in 0..10 {
        let scenario = Scenario::new("nirvana", "").await;
        scenario.manifest("orgs.yaml", &nirvana_manifests(50));
        scenario.sandbox.faults(json!({ "latency_ms": 50 })).await;
        let dir = scenario.dir.path().to_str().unwrap().to_owned();
        let runs = two_at_once(&dir, &[("TEST_NIRVANA_KEY", "sandbox-nirvana-key")]).await;
        for (code, stdout, stderr) in &runs {
            assert_eq!(*code, 0, "trial {trial}: {stdout}{stderr}");
        }
        // One run made the 50 creates; the other, once it had the lock, found nothing to do.
        assert_eq!(
            scenario.sandbox.count("POST", CREATES, 200).await,
            50,
            "trial {trial}"
        );
        assert_eq!(
            runs.iter()
                .filter(|(_, stdout, _)| stdout.contains("No changes"))
                .count(),
            1,
            "trial {trial}: {runs:?}"
        );
        scenario.sandbox.faults(json!({})).await;
        assert_converged(&scenario).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_apply_finding_the_lock_held_exits_1_naming_the_holder_and_writes_nothing() {
    let scenario = Scenario::new("nirvana", "").await;
    scenario.manifest("orgs.yaml", &nirvana_manifests(3));
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let envs = [("TEST_NIRVANA_KEY", "sandbox-nirvana-key")];
    // Another run (this test) holds the lock.
    let holder = scenario.session(Default::default()).await;
    let held = holder
        .lock("apply", Duration::ZERO)
        .await
        .expect("the lock is free");
    let (code, stdout, stderr) = run_orgform_async(&["apply", &dir, "--auto-approve"], &envs).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("is locked by")
            && stderr.contains(&format!("pid {}", std::process::id()))
            && stderr.contains("apply of")
            && stderr.contains("lock id")
            && stderr.contains("nothing was changed")
            && stderr.contains("--lock-timeout"),
        "{stderr}"
    );
    // A short wait is not enough either, and says the same.
    let (code, _, stderr) = run_orgform_async(
        &["apply", &dir, "--auto-approve", "--lock-timeout", "1s"],
        &envs,
    )
    .await;
    assert_eq!(code, 1);
    assert!(stderr.contains("is locked by"), "{stderr}");
    assert_eq!(scenario.sandbox.count("POST", CREATES, 200).await, 0);
    // `plan` takes no lock.
    let (code, stdout, stderr) = run_orgform_async(&["plan", &dir], &envs).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    // Released, the lock is free for the next run.
    drop(held);
    let (code, stdout, stderr) = run_orgform_async(&["apply", &dir, "--auto-approve"], &envs).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(scenario.sandbox.count("POST", CREATES, 200).await, 3);
    assert_converged(&scenario).await;
}

/// Runs the binary with `args` and kills it (SIGKILL: no chance to clean up) once the sandbox
/// has taken two Nirvana creates: a run that dies holding its locks, part-way through.
pub(super) async fn kill_after_creates(scenario: &Scenario, args: &[&str], envs: &[(&str, &str)]) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_orgform"))
        .args(args)
        .envs(envs.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if scenario.sandbox.count("POST", CREATES, 200).await >= 2 {
            break;
        }
    }
    child.kill().await.unwrap();
    child.wait().await.unwrap();
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_killed_holder_releases_its_lock() {
    let scenario = Scenario::new("nirvana", "").await;
    scenario.manifest("orgs.yaml", &nirvana_manifests(30));
    scenario.sandbox.faults(json!({ "latency_ms": 200 })).await;
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    // Killed (no chance to clean up) while it holds the lock, part-way through its creates.
    kill_after_creates(
        &scenario,
        &["apply", &dir, "--auto-approve", "--parallelism", "2"],
        &[("TEST_NIRVANA_KEY", "sandbox-nirvana-key")],
    )
    .await;
    scenario.sandbox.faults(json!({})).await;
    let (code, stdout, stderr) = run_orgform_async(
        &["apply", &dir, "--auto-approve"],
        &[("TEST_NIRVANA_KEY", "sandbox-nirvana-key")],
    )
    .await;
    assert_eq!(code, 0, "the lock went with its process: {stdout}{stderr}");
    assert_converged(&scenario).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_concurrent_applies_of_one_sandbox_workspace_make_no_duplicate() {
    let mut manifests = String::new();
    for n in 0..20 {
        manifests.push_str(&format!(
            "---\norganization: identity-{n}\nprovider: identity\nname: Identity {n}\ndomains: [identity{n}.example]\n---\norganization: billing-{n}\nprovider: billing\nname: Lock Billing {n}\n"
        ));
    }
    for trial in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("orgform.yaml"),
            "providers:\n  identity:\n    kind: scalekit\n    sandbox: true\n  billing:\n    kind: nirvana\n    sandbox: true\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("orgs.yaml"), &manifests).unwrap();
        let path = dir.path().to_str().unwrap().to_owned();
        let runs = two_at_once(&path, &[]).await;
        for (code, stdout, stderr) in &runs {
            assert_eq!(*code, 0, "trial {trial}: {stdout}{stderr}");
            assert!(!stderr.contains("database is locked"), "{stderr}");
        }
        // A duplicate would be an identity error (two organizations for one manifest).
        let (code, stdout, stderr) =
            run_orgform_async(&["plan", &path, "--detailed-exitcode"], &[]).await;
        assert_eq!(code, 0, "trial {trial}: {stdout}{stderr}");
    }
}
