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
