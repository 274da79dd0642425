//! Throttling is a signal about the provider: a `Retry-After` pauses every request of that
//! provider once, and the run reports the rate the provider sustained.

use serde_json::json;

use super::support::Scenario;
use crate::support::run_orgform_async;

/// `count` Nirvana organizations of one member each, seeded and declared alike: a plan reads
/// the list, then each one's memberships.
async fn tenants(scenario: &Scenario, count: usize) {
    scenario
        .seed_and_declare(
            "nirvana",
            count,
            |n| format!("{{ name: Tenant {n}, memberships: [{{ user_id: usr_{n}, role: owner }}] }}"),
            |n| format!("organization: tenant-{n}\nname: Tenant {n}\nmembers: [{{ user: usr_{n}, role: owner }}]\n"),
        )
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_after_pauses_the_whole_provider_once() {
    let scenario = Scenario::new("nirvana", "").await;
    tenants(&scenario, 120).await;
    let memberships = "/nirvana/v1/organizations/{organization_id}/memberships";
    scenario
        .sandbox
        .faults(json!({ "scripts": [{ "method": "GET", "route": memberships, "nth": 10, "status": 429, "headers": { "retry-after": "2" } }] }))
        .await;
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let (code, stdout, stderr) = run_orgform_async(
        &["plan", &dir, "--detailed-exitcode"],
        &[("TEST_NIRVANA_KEY", "sandbox-nirvana-key")],
    )
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let log = scenario.sandbox.requests().await;
    let throttled = log
        .iter()
        .find(|r| r["status"] == 429)
        .expect("the scripted 429");
    let at = throttled["ms"].as_u64().unwrap();
    // Requests already in flight when the 429 came back finish at once; then nothing until the
    // pause ends, though 100 organizations' memberships were still to read.
    let during: Vec<&serde_json::Value> = log
        .iter()
        .filter(|r| (at + 300..at + 1_700).contains(&r["ms"].as_u64().unwrap()))
        .collect();
    assert!(during.is_empty(), "requests during the pause: {during:?}");
    let after = log
        .iter()
        .filter(|r| r["ms"].as_u64().unwrap() >= at + 1_700)
        .count();
    assert!(
        after >= 60,
        "most of the rest came after the pause ({after})"
    );
    assert!(
        stderr.contains("note: nirvana provider `main`:")
            && stderr.contains("requests/s sustained")
            && stderr.contains("1 of ")
            && stderr.contains("answered 429 (throttled), 1 provider-wide pause on Retry-After"),
        "{stderr}"
    );
}

/// With no client budget, a rate-limited vendor is met by pacing, not by failures: throttled
/// requests are retried (beyond the 6 retries other failures get) while the provider makes
/// progress.
#[tokio::test(flavor = "multi_thread")]
async fn throttled_requests_are_retried_while_the_provider_makes_progress() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario
        .seed_and_declare(
            "scalekit",
            60,
            |n| format!("{{ display_name: T{n}, external_id: t{n}, domains: [{{ domain: t{n}.example, verification_status: VERIFIED }}] }}"),
            |n| format!("organization: t{n}\nname: T{n}\ndomains: [t{n}.example]\n"),
        )
        .await;
    scenario
        .sandbox
        .faults(json!({ "rate_limit": { "scalekit": 20 } }))
        .await;
    let (plan, _) = scenario
        .plan_with(&[], super::support::fast_retries())
        .await
        .expect("paced and retried, the plan succeeds");
    assert!(!plan.has_changes());
    let stats = scenario.sandbox.stats().await;
    assert!(
        stats["rate_limited"].as_u64().unwrap() > 0,
        "the limit was really met"
    );
}

/// A provider that answers nothing but 429 is given up on after the stall time, with a message
/// that says what it sustained and what to set.
#[tokio::test(flavor = "multi_thread")]
async fn a_provider_that_only_throttles_fails_saying_what_to_set() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.manifest("a.yaml", "organization: a\nname: A\n");
    scenario
        .sandbox
        .faults(json!({ "scripts": [{ "method": "GET", "route": "/scalekit/api/v1/organizations", "nth": 1, "times": 1000000, "status": 429 }] }))
        .await;
    let mut overrides = super::support::fast_retries();
    if let Some(retry) = overrides.retry.as_mut() {
        retry.stall = std::time::Duration::from_secs(2);
    }
    let started = std::time::Instant::now();
    let Err(orgform::session::Failure::Api(errors)) = scenario.plan_with(&[], overrides).await
    else {
        panic!("expected an API failure")
    };
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let message = errors[0].to_string();
    assert!(
        message.contains("answered 429")
            && message.contains("nothing but 429 for 2 s")
            && message.contains("set `requests_per_second`"),
        "{message}"
    );
}

/// What a run learned of a provider's limit is remembered in `.orgform/pace/` (no credential
/// there), and the next run starts from it, as `-v` says.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_run_starts_from_the_pace_the_first_remembered() {
    let scenario = Scenario::new("nirvana", "").await;
    tenants(&scenario, 100).await;
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let env = [("TEST_NIRVANA_KEY", "sandbox-nirvana-key")];
    let mut throttled = Vec::new();
    for run in 0..2 {
        // A fresh limit each time: a full bucket, as hours later.
        scenario
            .sandbox
            .faults(json!({ "rate_limit": { "nirvana": 30 } }))
            .await;
        let before = scenario.sandbox.stats().await["rate_limited"]
            .as_u64()
            .unwrap();
        let (code, stdout, stderr) =
            run_orgform_async(&["plan", &dir, "--detailed-exitcode", "-v"], &env).await;
        assert_eq!(code, 0, "{stdout}{stderr}");
        let after = scenario.sandbox.stats().await["rate_limited"]
            .as_u64()
            .unwrap();
        throttled.push(after - before);
        let start = stderr
            .lines()
            .find(|l| l.contains("pace starts at"))
            .unwrap_or_else(|| panic!("-v says where the pace starts: {stderr}"));
        if run == 0 {
            assert!(
                start.contains("provider `main` (nirvana http://127.0.0.1:")
                    && start.contains("pace starts at 20.0 requests/s: nothing learned yet"),
                "{start}"
            );
            let records: Vec<_> = std::fs::read_dir(
                scenario
                    .dir
                    .path()
                    .join(orgform::provider::pace_memory::PACE_DIR),
            )
            .expect("the pace is remembered")
            .collect();
            assert_eq!(records.len(), 1);
            let text = std::fs::read_to_string(records[0].as_ref().unwrap().path()).unwrap();
            let record: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(record["throttled"], true, "{text}");
            let rate = record["rate"].as_f64().unwrap();
            assert!(
                (20.0..60.0).contains(&rate),
                "about the limit of 30: {text}"
            );
            assert!(!text.contains("sandbox-nirvana-key"), "{text}");
        } else {
            assert!(
                start.contains("what an earlier run learned (learned less than a minute ago")
                    && start.contains("sustained while throttled"),
                "{start}"
            );
        }
    }
    assert!(throttled[0] > 0, "the first run met the limit");
    assert!(
        throttled[1] <= throttled[0],
        "the second run met it no more often: {throttled:?}"
    );
}
