//! Apply under injected faults and crashes: it succeeds or says exactly what failed, a re-run
//! converges, and the vendor never ends up with duplicates. Writes are ordered by the DAG.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::support::{Scenario, apply, assert_converged, fast_retries, scalekit_contents};
use orgform::apply::Outcome;

fn manifests(orgs: usize) -> String {
    (0..orgs)
        .map(|i| {
            format!(
                "---\norganization: org-{i}\nname: Org {i}\nmetadata: {{ tier: gold }}\nfeatures: {{ sso: true }}\ndomains: [a.org{i}.example, b.org{i}.example]\nmembers:\n  - {{ email: a@org{i}.example, role: admin }}\n  - {{ email: b@org{i}.example, role: member }}\n"
            )
        })
        .collect()
}

/// Requests the sandbox's faults answered (503, 429 or a dropped connection), from its stats.
pub(super) fn faults_injected(stats: &Value) -> u64 {
    stats["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| [0, 429, 503].contains(&r["status"].as_u64().unwrap()))
        .map(|r| r["count"].as_u64().unwrap())
        .sum()
}

/// Writes in the request log (token requests aside): (method, path).
pub(super) async fn writes(scenario: &Scenario) -> Vec<(String, String)> {
    scenario
        .sandbox
        .requests()
        .await
        .iter()
        .filter(|r| r["method"] != "GET" && !r["route"].as_str().unwrap().ends_with("/token"))
        .map(|r| {
            (
                r["method"].as_str().unwrap().to_owned(),
                r["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn under_503s_429s_and_drops_apply_reports_failures_and_a_rerun_converges() {
    let mut injected = 0;
    for seed in 0..10u64 {
        let scenario = Scenario::new("scalekit", "").await;
        scenario.manifest("orgs.yaml", &manifests(8));
        scenario
            .sandbox
            .faults(json!({ "chaos": { "seed": seed, "status_503": 0.10, "status_429": 0.05, "drop": 0.02 } }))
            .await;
        let (plan, results) = apply(&scenario, fast_retries()).await;
        assert_eq!(
            results.len(),
            plan.summary.create,
            "seed {seed}: every step has an outcome"
        );
        let stats = scenario.sandbox.stats().await;
        let faulted = faults_injected(&stats);
        let failed_first = results.iter().filter(|r| !r.succeeded()).count();
        eprintln!(
            "seed {seed}: {} requests, {faulted} faults injected, {failed_first} steps not done",
            stats["total"]
        );
        injected += faulted;
        for result in &results {
            match &result.outcome {
                Outcome::Done(_) => {}
                Outcome::Failed(message) => assert!(
                    message.contains(&result.address) || message.contains("scalekit"),
                    "seed {seed}: {message}"
                ),
                Outcome::Skipped(why) => {
                    assert!(why.contains("did not succeed"), "seed {seed}: {why}")
                }
                Outcome::NotStarted => panic!("seed {seed}: nothing interrupted this run"),
            }
        }
        // A re-run without faults converges, and nothing is duplicated.
        scenario.sandbox.faults(json!({})).await;
        let (_, rerun) = apply(&scenario, fast_retries()).await;
        assert!(
            rerun.iter().all(|r| r.succeeded()),
            "seed {seed}: {rerun:#?}"
        );
        assert_converged(&scenario).await;
        let contents = scalekit_contents(&scenario).await;
        assert_eq!(
            contents.len(),
            8,
            "seed {seed}: exactly the declared organizations"
        );
        for (key, domains, members) in contents {
            assert_eq!((domains.len(), members.len()), (2, 2), "seed {seed}: {key}");
        }
        // Nothing outside the plan: no deletes at all, and writes only to declared objects.
        for (method, path) in writes(&scenario).await {
            assert_ne!(method, "DELETE", "seed {seed}: {path}");
        }
    }
    assert!(
        injected >= 50,
        "the matrix must really inject faults ({injected})"
    );
}

/// Runs `apply` of the scenario's workspace (about `total` writes) in the binary, kills it
/// with SIGKILL once the sandbox has taken 30 writes, and runs it again: the second run
/// converges. `env` holds the credentials the workspace reads.
pub(super) async fn kill_part_way_and_rerun(scenario: &Scenario, total: usize, env: (&str, &str)) {
    scenario.sandbox.faults(json!({ "latency_ms": 25 })).await;
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_orgform"))
        .args(["apply", &dir, "--auto-approve", "--parallelism", "4"])
        .env(env.0, env.1)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        if writes(scenario).await.len() >= 30 {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let written_before = writes(scenario).await.len();
    assert!(
        written_before < total,
        "the kill came part-way ({written_before} of about {total} writes)"
    );
    scenario.sandbox.faults(json!({})).await;
    let (code, stdout, stderr) =
        crate::support::run_orgform_async(&["apply", &dir, "--auto-approve"], &[env]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_converged(scenario).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_apply_killed_part_way_converges_when_run_again() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.manifest("orgs.yaml", &manifests(30));
    // About 150 writes: an organization, its settings, 2 domains and 2 members each.
    kill_part_way_and_rerun(&scenario, 150, ("TEST_SECRET", "sandbox-secret")).await;
    let contents = scalekit_contents(&scenario).await;
    assert_eq!(contents.len(), 30);
    assert!(
        contents
            .iter()
            .all(|(_, d, m)| d.len() == 2 && m.len() == 2)
    );
}

#[tokio::test]
async fn every_child_write_comes_after_its_organization_is_created() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.manifest("orgs.yaml", &manifests(6));
    let (_, results) = apply(&scenario, Default::default()).await;
    assert!(results.iter().all(|r| r.succeeded()));
    // Remove children, so deletes are ordered too.
    scenario.manifest(
        "orgs.yaml",
        &manifests(6)
            .replace(", b.org", ", c.org")
            .replace("  - { email: b@", "  - { email: c@"),
    );
    let (_, results) = apply(&scenario, Default::default()).await;
    assert!(results.iter().all(|r| r.succeeded()), "{results:#?}");

    let log = scenario.sandbox.requests().await;
    // The position of each organization's create, by the id it was given.
    let mut created_at: BTreeMap<String, u64> = BTreeMap::new();
    let auth = scenario.sandbox.scalekit().await;
    for org in scenario
        .sandbox
        .get("/scalekit/api/v1/organizations?page_size=100", &auth)
        .await
        .body["organizations"]
        .as_array()
        .unwrap()
    {
        let id = org["id"].as_str().unwrap().to_owned();
        let first_use = log
            .iter()
            .find(|r| r["path"].as_str().unwrap().contains(&id))
            .unwrap()["seq"]
            .as_u64()
            .unwrap();
        let create = log
            .iter()
            .filter(|r| {
                r["method"] == "POST"
                    && r["route"] == "/scalekit/api/v1/organizations"
                    && r["status"] == 201
            })
            .count();
        assert!(create > 0);
        created_at.insert(id, first_use);
    }
    let mut checked = 0;
    for request in log.iter().filter(|r| r["method"] != "GET") {
        let path = request["path"].as_str().unwrap();
        for (id, first_use) in &created_at {
            if path.contains(id.as_str()) {
                // The organization's id only exists once its create has answered: every write
                // naming it comes after the create that returned it.
                let create_seq = log
                    .iter()
                    .filter(|r| {
                        r["method"] == "POST" && r["route"] == "/scalekit/api/v1/organizations"
                    })
                    .map(|r| r["seq"].as_u64().unwrap())
                    .filter(|seq| seq < first_use)
                    .max();
                assert!(
                    create_seq.is_some(),
                    "{path} before any organization create"
                );
                assert!(request["seq"].as_u64().unwrap() > create_seq.unwrap());
                checked += 1;
            }
        }
    }
    assert!(checked >= 6 * 4 + 6, "checked {checked} child writes");
    let deletes = log.iter().filter(|r| r["method"] == "DELETE").count();
    assert_eq!(deletes, 12, "6 domains and 6 members removed");

    // Prune two organizations: nothing may touch an organization after its delete.
    let config = std::fs::read_to_string(scenario.dir.path().join("orgform.yaml")).unwrap();
    std::fs::write(
        scenario.dir.path().join("orgform.yaml"),
        format!("{config}policy:\n  prune: true\n  max_deletes: 2\n"),
    )
    .unwrap();
    let current = manifests(6)
        .replace(", b.org", ", c.org")
        .replace("  - { email: b@", "  - { email: c@");
    let kept: String = current
        .split("---\n")
        .filter(|d| !d.contains("org-4\n") && !d.contains("org-5\n"))
        .collect::<Vec<_>>()
        .join("---\n");
    scenario.manifest("orgs.yaml", &kept);
    let (plan, results) = apply(&scenario, Default::default()).await;
    assert_eq!(plan.summary.delete, 2, "{:?}", plan.summary);
    assert!(results.iter().all(|r| r.succeeded()), "{results:#?}");
    assert_converged(&scenario).await;
    let log = scenario.sandbox.requests().await;
    let org_deletes: Vec<&Value> = log
        .iter()
        .filter(|r| r["method"] == "DELETE" && r["route"] == "/scalekit/api/v1/organizations/{id}")
        .collect();
    assert_eq!(org_deletes.len(), 2);
    for delete in org_deletes {
        let path = delete["path"].as_str().unwrap();
        let at = delete["seq"].as_u64().unwrap();
        let after: Vec<&Value> = log
            .iter()
            .filter(|r| {
                r["seq"].as_u64().unwrap() > at && r["path"].as_str().unwrap().starts_with(path)
            })
            .collect();
        assert!(
            after.is_empty(),
            "requests after deleting {path}: {after:?}"
        );
        let children_before = log
            .iter()
            .filter(|r| {
                r["seq"].as_u64().unwrap() < at
                    && r["path"].as_str().unwrap().starts_with(&format!("{path}/"))
            })
            .count();
        assert!(
            children_before > 0,
            "its children were written before the delete"
        );
    }
}
