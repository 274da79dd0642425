//! Without a terminal (CI logs, cron mail), a long refresh prints a status line at a steady
//! interval instead of nothing.

use serde_json::json;

use super::support::Scenario;
use crate::support::run_orgform_async;

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_refresh_prints_periodic_status_lines_off_a_terminal() {
    let scenario = Scenario::new("scalekit", "").await;
    let manifests: String = (0..12)
        .map(|n| format!("---\norganization: t{n}\nname: T{n}\ndomains: []\n"))
        .collect();
    scenario.manifest("orgs.yaml", &manifests);
    let seed: String = (0..12)
        .map(|n| format!("    - {{ display_name: T{n}, external_id: t{n} }}\n"))
        .collect();
    scenario
        .sandbox
        .seed(&format!("scalekit:\n  organizations:\n{seed}"))
        .await;
    // 12 domain lists, one at a time, 300 ms each: a refresh of about 4 s.
    scenario.sandbox.faults(json!({ "latency_ms": 300 })).await;
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let (code, _, stderr) = run_orgform_async(
        &["plan", &dir, "--parallelism", "1"],
        &[
            ("TEST_SECRET", "sandbox-secret"),
            ("ORGFORM_STATUS_INTERVAL", "1s"),
        ],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("refreshing: "))
        .collect();
    assert!(lines.len() >= 2, "{stderr}");
    assert!(
        lines
            .iter()
            .all(|l| l.ends_with("s)") && l.contains("/12 organizations")),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn verbose_logs_each_request_without_credentials_and_quiet_keeps_to_the_outcome() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.manifest("a.yaml", "organization: acme\nname: Acme\n");
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let env = [("TEST_SECRET", "sandbox-secret")];
    let (code, _, stderr) = run_orgform_async(&["plan", &dir, "-v"], &env).await;
    assert_eq!(code, 0, "{stderr}");
    let request = stderr
        .lines()
        .find(|l| l.contains("request") && l.contains("path=\"/api/v1/organizations\""))
        .unwrap_or_else(|| panic!("no request line: {stderr}"));
    for field in [
        "method=GET",
        "status=200",
        "attempt=1",
        "ms=",
        "vendor=\"scalekit\"",
    ] {
        assert!(request.contains(field), "{field} missing: {request}");
    }
    assert!(stderr.contains("token request"), "{stderr}");
    assert!(!stderr.contains("sandbox-secret"), "{stderr}");
    let tokens = scenario.sandbox.stats().await;
    assert!(tokens["total"].as_u64().unwrap() >= 2);

    let (code, stdout, stderr) =
        run_orgform_async(&["apply", &dir, "--auto-approve", "-q"], &env).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        stdout.matches("org.acme: create done").count(),
        1,
        "{stdout}"
    );
    assert!(stderr.is_empty(), "{stderr}");
}
