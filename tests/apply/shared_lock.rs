//! The shared lock: applies from two copies of a workspace (standing in for two CI runners)
//! take turns on a PostgreSQL advisory lock. These tests need a server: `ORGFORM_TEST_POSTGRES_URL`
//! (`.ci/run` starts one and sets `ORGFORM_REQUIRE_POSTGRES=1`, which makes them mandatory);
//! without it they say so and pass.

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use super::support::{Scenario, assert_converged};
use crate::support::run_orgform_async;

const CREATES: &str = "/nirvana/v1/organizations";

/// The test server's URL, or `None` (after saying so) when there is none.
fn postgres() -> Option<String> {
    match std::env::var("ORGFORM_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("ORGFORM_REQUIRE_POSTGRES").is_err(),
                "ORGFORM_REQUIRE_POSTGRES is set but ORGFORM_TEST_POSTGRES_URL is not"
            );
            eprintln!("note: skipped a shared-lock test: no ORGFORM_TEST_POSTGRES_URL");
            None
        }
    }
}

/// A Nirvana scenario with the shared lock, and a second copy of its workspace.
async fn two_copies(orgs: usize) -> (Scenario, tempfile::TempDir) {
    let scenario = Scenario::new("nirvana", "").await;
    let config = scenario.dir.path().join("orgform.yaml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("lock:\n  postgres: ${ORGFORM_LOCK_URL}\n");
    std::fs::write(&config, text).unwrap();
    let manifests: String = (0..orgs)
        .map(|n| format!("---\norganization: tenant-{n}\nname: Tenant {n}\n"))
        .collect();
    scenario.manifest("orgs.yaml", &manifests);
    let copy = tempfile::tempdir().unwrap();
    for name in ["orgform.yaml", "orgs.yaml"] {
        std::fs::copy(scenario.dir.path().join(name), copy.path().join(name)).unwrap();
    }
    (scenario, copy)
}

fn path(dir: &Path) -> String {
    dir.to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn applies_from_two_workspace_copies_take_turns_on_the_postgres_lock() {
    let Some(url) = postgres() else { return };
    let envs = [
        ("TEST_NIRVANA_KEY", "sandbox-nirvana-key"),
        ("ORGFORM_LOCK_URL", url.as_str()),
    ];
    for trial in 0..10 {
        let (scenario, copy) = two_copies(50).await;
        scenario.sandbox.faults(json!({ "latency_ms": 50 })).await;
        let (a, b) = (path(scenario.dir.path()), path(copy.path()));
        let args_a = ["apply", &a, "--auto-approve", "--lock-timeout", "2m"];
        let args_b = ["apply", &b, "--auto-approve", "--lock-timeout", "2m"];
        let (first, second) = tokio::join!(
            run_orgform_async(&args_a, &envs),
            run_orgform_async(&args_b, &envs)
        );
        for (code, stdout, stderr) in [&first, &second] {
            assert_eq!(*code, 0, "trial {trial}: {stdout}{stderr}");
        }
        assert_eq!(
            scenario.sandbox.count("POST", CREATES, 200).await,
            50,
            "trial {trial}: no duplicate"
        );
        scenario.sandbox.faults(json!({})).await;
        assert_converged(&scenario).await;
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_killed_holder_releases_the_postgres_lock() {
    let Some(url) = postgres() else { return };
    let (scenario, copy) = two_copies(30).await;
    scenario.sandbox.faults(json!({ "latency_ms": 200 })).await;
    super::locks::kill_after_creates(
        &scenario,
        &[
            "apply",
            &path(scenario.dir.path()),
            "--auto-approve",
            "--parallelism",
            "2",
        ],
        &[
            ("TEST_NIRVANA_KEY", "sandbox-nirvana-key"),
            ("ORGFORM_LOCK_URL", &url),
        ],
    )
    .await;
    scenario.sandbox.faults(json!({})).await;
    // The server ends the dead run's session, and its lock with it (within a few seconds).
    let (code, stdout, stderr) = run_orgform_async(
        &[
            "apply",
            &path(copy.path()),
            "--auto-approve",
            "--lock-timeout",
            "30s",
        ],
        &[
            ("TEST_NIRVANA_KEY", "sandbox-nirvana-key"),
            ("ORGFORM_LOCK_URL", &url),
        ],
    )
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_converged(&scenario).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn force_unlock_releases_a_hung_holders_postgres_lock() {
    let Some(url) = postgres() else { return };
    let (scenario, copy) = two_copies(3).await;
    let envs = [
        ("TEST_NIRVANA_KEY", "sandbox-nirvana-key"),
        ("ORGFORM_LOCK_URL", url.as_str()),
    ];
    // A run on "another runner" (this test, through the first copy) holds the lock and hangs.
    let holder = scenario.session(Default::default()).await;
    let _held = holder
        .lock("apply", Duration::ZERO)
        .await
        .unwrap_or_else(|f| panic!("{f:?}"));
    let b = path(copy.path());
    let (code, _, stderr) = run_orgform_async(&["apply", &b, "--auto-approve"], &envs).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is locked by"), "{stderr}");
    let id = stderr
        .split("lock id ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .expect("the message names the lock id")
        .trim()
        .to_owned();
    let (code, stdout, stderr) = run_orgform_async(&["force-unlock", &id, &b], &envs).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("released"), "{stdout}");
    let (code, stdout, stderr) = run_orgform_async(
        &["apply", &b, "--auto-approve", "--lock-timeout", "10s"],
        &envs,
    )
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(scenario.sandbox.count("POST", CREATES, 200).await, 3);
    // An unknown id is an error, not a silent success.
    let (code, _, stderr) = run_orgform_async(&["force-unlock", "nosuchid", &b], &envs).await;
    assert_eq!(code, 1);
    assert!(stderr.contains("no lock with id nosuchid"), "{stderr}");
    assert_converged(&scenario).await;
}

/// `sslmode=require` insists on TLS: a server without it is refused before any write, and the
/// message keeps the URL's password out.
#[tokio::test(flavor = "multi_thread")]
async fn a_lock_url_requiring_tls_is_refused_by_a_server_without_it_and_no_password_leaks() {
    let Some(url) = postgres() else { return };
    let (scenario, _copy) = two_copies(1).await;
    let with_password = url.replacen("://orgform@", "://orgform:s3cret-pw@", 1);
    let separator = if with_password.contains('?') {
        '&'
    } else {
        '?'
    };
    let url = format!("{with_password}{separator}sslmode=require");
    let (code, stdout, stderr) = run_orgform_async(
        &["apply", &path(scenario.dir.path()), "--auto-approve"],
        &[
            ("TEST_NIRVANA_KEY", "sandbox-nirvana-key"),
            ("ORGFORM_LOCK_URL", &url),
        ],
    )
    .await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("cannot lock with the Postgres server at")
            && stderr.contains("cannot connect"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("s3cret-pw") && !stdout.contains("s3cret-pw"),
        "{stderr}"
    );
    assert_eq!(scenario.sandbox.count("POST", CREATES, 200).await, 0);
}
