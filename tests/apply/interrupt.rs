//! Terraform's interrupt contract: a SIGINT part-way through apply starts no new step, lets
//! the requests in flight finish, reports every step, and exits 130; a re-run converges.

use std::time::Duration;

use serde_json::json;

use super::support::{Scenario, assert_converged};

const ORGS: usize = 40;

/// External ids of every Scalekit organization, read through the API.
async fn live_keys(scenario: &Scenario) -> Vec<String> {
    let auth = scenario.sandbox.scalekit().await;
    let page = scenario
        .sandbox
        .get("/scalekit/api/v1/organizations?page_size=100", &auth)
        .await
        .body;
    page["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["external_id"].as_str().unwrap().to_owned())
        .collect()
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn sigint_part_way_reports_every_write_and_exits_130() {
    let scenario = Scenario::new("scalekit", "").await;
    let manifests: String = (0..ORGS)
        .map(|n| format!("---\norganization: tenant-{n}\nname: Tenant {n}\n"))
        .collect();
    scenario.manifest("orgs.yaml", &manifests);
    scenario.sandbox.faults(json!({ "latency_ms": 150 })).await;
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_orgform"))
        .args(["apply", &dir, "--auto-approve", "--parallelism", "2"])
        .env("TEST_SECRET", "sandbox-secret")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().unwrap().to_string();
    // Interrupt once a few creates went through.
    let creates = "/scalekit/api/v1/organizations";
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if scenario.sandbox.count("POST", creates, 201).await >= 3 {
            break;
        }
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("apply ends after the interrupt")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stdout}{stderr}");
    assert!(stderr.contains("interrupt received"), "{stderr}");
    assert!(stdout.contains("Apply interrupted:"), "{stdout}");
    assert!(stdout.contains("not started (interrupted)"), "{stdout}");

    // Every write the vendor received is reported as done, and nothing else is.
    let created = live_keys(&scenario).await;
    assert!(
        !created.is_empty() && created.len() < ORGS,
        "part-way: {created:?}"
    );
    assert_eq!(
        scenario.sandbox.count("POST", creates, 201).await as usize,
        created.len()
    );
    for key in &created {
        assert!(
            stdout.contains(&format!("org.{key}: create done")),
            "{key} was created but not reported:\n{stdout}"
        );
    }
    let reported_done = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("org.") && l.contains(": create done"))
        .count();
    // Each done step is printed once, as it ends (no terminal: the closing lists only the
    // steps not done).
    assert_eq!(reported_done, created.len(), "{stdout}");

    scenario.sandbox.faults(json!({})).await;
    let (code, stdout, stderr) = crate::support::run_orgform_async(
        &["apply", &dir, "--auto-approve"],
        &[("TEST_SECRET", "sandbox-secret")],
    )
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(live_keys(&scenario).await.len(), ORGS);
    assert_converged(&scenario).await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn sigint_before_any_write_exits_130_at_once() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.manifest("a.yaml", "organization: a\nname: A\n");
    scenario.sandbox.faults(json!({ "latency_ms": 3000 })).await;
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_orgform"))
        .args(["plan", &dir])
        .env("TEST_SECRET", "sandbox-secret")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(500)).await;
    std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    let output = tokio::time::timeout(Duration::from_secs(2), child.wait_with_output())
        .await
        .expect("plan ends at once")
        .unwrap();
    assert_eq!(output.status.code(), Some(130));
    assert!(String::from_utf8_lossy(&output.stderr).contains("interrupted; nothing was written"));
}
