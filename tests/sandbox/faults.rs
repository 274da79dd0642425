//! Injected faults: latency, vendor-style 429s, scripted failures, dropped connections; and
//! `stats` agreeing with the requests made.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use super::support::{Auth, TestSandbox};

#[tokio::test]
async fn latency_delays_every_vendor_request() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.nirvana();
    sandbox.faults(json!({ "latency_ms": 150 })).await;
    for _ in 0..3 {
        let started = Instant::now();
        assert_eq!(
            sandbox.get("/nirvana/v1/organizations", &auth).await.status,
            200
        );
        // A lower bound only: no request is answered sooner, so this cannot flake.
        assert!(
            started.elapsed() >= Duration::from_millis(150),
            "{:?}",
            started.elapsed()
        );
    }
    sandbox.faults(json!({})).await;
    let control = Instant::now();
    sandbox.get("/_sandbox/stats", &Auth::None).await;
    assert!(
        control.elapsed() < Duration::from_millis(150),
        "the control plane has no latency"
    );
}

#[tokio::test]
async fn each_vendor_answers_429_its_own_way() {
    let sandbox = TestSandbox::start().await;
    let (nirvana, scalekit, pingone) = (
        sandbox.nirvana(),
        sandbox.scalekit().await,
        sandbox.pingone().await,
    );
    sandbox
        .faults(json!({ "rate_limit": { "nirvana": 2, "scalekit": 2, "pingone": 2 } }))
        .await;
    let cases = [
        ("/nirvana/v1/organizations", nirvana),
        ("/scalekit/api/v1/organizations", scalekit),
        ("/pingone/v1/organizations", pingone),
    ];
    for (path, auth) in &cases {
        let mut answers = Vec::new();
        for _ in 0..4 {
            answers.push(sandbox.get(path, auth).await);
        }
        assert_eq!(
            answers.iter().filter(|a| a.status == 200).count(),
            2,
            "{path}: a burst of one second passes"
        );
        let limited = answers.iter().find(|a| a.status == 429).expect("then 429");
        let retry_after = limited
            .headers
            .get("retry-after")
            .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
        if path.starts_with("/nirvana") {
            assert_eq!(limited.body["error"]["code"], "rate_limited");
            assert!(retry_after.is_some_and(|s| s >= 1));
        } else if path.starts_with("/scalekit") {
            assert_eq!(limited.body["details"][0]["error_code"], "RATE_LIMITED");
            assert_eq!(limited.body["code"], 8);
            assert_eq!(retry_after, None, "Scalekit documents no Retry-After");
        } else {
            assert_eq!(limited.body["code"], "REQUEST_LIMITED");
            assert!(retry_after.is_some_and(|s| s >= 1));
        }
    }
    let stats = sandbox.stats().await;
    assert_eq!(stats["rate_limited"], 6);
    // Honouring Retry-After works: after waiting, requests pass again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(sandbox.get(cases[0].0, &cases[0].1).await.status, 200);
}

/// Per-minute windows, as Scalekit documents its limits: the window's requests pass, then each
/// vendor answers 429 its own way, with `Retry-After` saying when the window ends (not Scalekit).
#[tokio::test]
async fn minute_windows_answer_429_as_each_vendor_does() {
    let sandbox = TestSandbox::start().await;
    let (nirvana, scalekit, pingone) = (
        sandbox.nirvana(),
        sandbox.scalekit().await,
        sandbox.pingone().await,
    );
    sandbox
        .faults(json!({ "rate_limit_per_minute": { "nirvana": 3, "scalekit": 3, "pingone": 3 } }))
        .await;
    for (path, auth) in [
        ("/nirvana/v1/organizations", nirvana),
        ("/scalekit/api/v1/organizations", scalekit),
        ("/pingone/v1/organizations", pingone),
    ] {
        let mut answers = Vec::new();
        for _ in 0..5 {
            answers.push(sandbox.get(path, &auth).await);
        }
        let statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
        assert_eq!(statuses, [200, 200, 200, 429, 429], "{path}");
        let retry_after = answers[3]
            .headers
            .get("retry-after")
            .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
        if path.starts_with("/scalekit") {
            assert_eq!(answers[3].body["details"][0]["error_code"], "RATE_LIMITED");
            assert_eq!(retry_after, None);
        } else {
            assert!(
                retry_after.is_some_and(|s| (55..=60).contains(&s)),
                "{path}: the window's end, {retry_after:?}"
            );
        }
    }
    let shown = sandbox.shown_faults().await;
    assert_eq!(shown["rate_limit_per_minute"]["scalekit"], 3);
}

#[tokio::test]
async fn scripted_failures_hit_exactly_the_nth_matching_request_and_stats_agree() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.scalekit().await;
    let route = "/scalekit/api/v1/organizations";
    sandbox
        .faults(
            json!({ "scripts": [{ "method": "POST", "route": route, "nth": 3, "status": 503 }] }),
        )
        .await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let answer = sandbox
            .call(
                Method::POST,
                route,
                &auth,
                Some(json!({ "display_name": format!("Org {i}") })),
            )
            .await;
        statuses.push(answer.status.as_u16());
        if answer.status == 503 {
            assert_eq!(answer.body["code"], 14);
            assert_eq!(answer.body["details"][0]["error_code"], "UNAVAILABLE");
        }
    }
    assert_eq!(statuses, [201, 201, 503, 201, 201]);
    for _ in 0..2 {
        sandbox.get(route, &auth).await;
    }
    assert_eq!(sandbox.count("POST", route, 201).await, 4);
    assert_eq!(sandbox.count("POST", route, 503).await, 1);
    assert_eq!(sandbox.count("GET", route, 200).await, 2);
    assert_eq!(sandbox.count("POST", "/scalekit/oauth/token", 200).await, 1);
    let stats = sandbox.stats().await;
    assert_eq!(stats["total"], 8);
    assert_eq!(stats["by_vendor"], json!({ "scalekit": 8 }));
    let log = sandbox.requests().await;
    assert_eq!(log.len(), 8);
    assert_eq!(log[3]["status"], 503);
    assert_eq!(log[3]["path"], route);
}

#[tokio::test]
async fn a_dropped_connection_is_an_error_for_the_client() {
    let sandbox = TestSandbox::start().await;
    let route = "/nirvana/v1/organizations";
    sandbox
        .faults(json!({ "scripts": [{ "method": "GET", "route": route, "nth": 2, "drop": true }] }))
        .await;
    let request = || {
        sandbox
            .http
            .get(sandbox.url(route))
            .bearer_auth("sandbox-nirvana-key")
            .send()
    };
    assert_eq!(request().await.unwrap().status(), 200);
    let dropped = match request().await {
        Err(e) => Err(e),
        Ok(response) => response.bytes().await.map(|_| ()),
    };
    assert!(
        dropped.is_err(),
        "the second request must fail in transport, not with a status"
    );
    assert_eq!(
        request().await.unwrap().status(),
        200,
        "the next request is served again"
    );
    assert_eq!(
        sandbox.count("GET", route, 0).await,
        1,
        "stats record the drop as status 0"
    );
    assert_eq!(sandbox.count("GET", route, 200).await, 2);
}

#[tokio::test]
async fn an_expired_token_is_refused_until_a_new_one_is_fetched() {
    let sandbox = TestSandbox::start().await;
    sandbox.faults(json!({ "token_ttl_seconds": 1 })).await;
    let auth = sandbox.scalekit().await;
    assert_eq!(
        sandbox
            .get("/scalekit/api/v1/organizations", &auth)
            .await
            .status,
        200
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        sandbox
            .get("/scalekit/api/v1/organizations", &auth)
            .await
            .status,
        401
    );
    let fresh = sandbox.scalekit().await;
    assert_eq!(
        sandbox
            .get("/scalekit/api/v1/organizations", &fresh)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn reset_restores_the_default_seed_and_clears_counts() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.nirvana();
    sandbox
        .call(
            Method::POST,
            "/nirvana/v1/organizations",
            &auth,
            Some(json!({ "name": "Acme" })),
        )
        .await;
    sandbox
        .http
        .post(sandbox.url("/_sandbox/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(sandbox.stats().await["total"], 0);
    assert_eq!(
        sandbox.get("/nirvana/v1/organizations", &auth).await.body["pagination"]["total_count"],
        0
    );
    let pingone = sandbox.pingone().await;
    assert_eq!(
        sandbox
            .get("/pingone/v1/organizations", &pingone)
            .await
            .body["count"],
        1
    );
    sandbox
        .http
        .post(sandbox.url("/_sandbox/reset?empty=true"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        sandbox
            .get("/pingone/v1/organizations", &pingone)
            .await
            .body["count"],
        0
    );
}

/// The fault and seed examples of the sandbox's documentation are accepted as written.
#[tokio::test]
async fn the_documented_examples_are_accepted() {
    let readme = std::fs::read_to_string("docs/sandbox.md").unwrap();
    let block = |marker: &str| -> String {
        let start = readme
            .find(marker)
            .unwrap_or_else(|| panic!("docs/sandbox.md has `{marker}`"));
        let end = readme[start..].find("```").unwrap() + start;
        readme[start..end].to_owned()
    };
    let sandbox = TestSandbox::start().await;
    let faults = sandbox
        .http
        .post(sandbox.url("/_sandbox/faults"))
        .header("content-type", "application/yaml")
        .body(block("# POST /_sandbox/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(faults.status(), 200, "{}", faults.text().await.unwrap());
    let shown = sandbox.shown_faults().await;
    assert_eq!(shown["scripts"][0]["nth"], 3);
    assert_eq!(shown["chaos"]["seed"], 7);
    let hostile = sandbox
        .http
        .post(sandbox.url("/_sandbox/faults"))
        .header("content-type", "application/yaml")
        .body(block("# POST /_sandbox/faults: hostile vendors"))
        .send()
        .await
        .unwrap();
    assert_eq!(hostile.status(), 200, "{}", hostile.text().await.unwrap());
    let shown: serde_json::Value = hostile.json().await.unwrap();
    assert_eq!(shown["scripts"].as_array().unwrap().len(), 12);
    assert_eq!(shown["scripts"][0]["mangle"]["repeat_first"]["times"], 1);
    let summary = sandbox.seed(&block("# POST /_sandbox/seed")).await;
    assert_eq!(summary["scalekit_users"].as_array().unwrap().len(), 1);
    assert_eq!(summary["pingone_licenses"].as_array().unwrap().len(), 1);
}

/// Seeds are as large as a test needs: 20,000 organizations (about 4 MB of YAML, over the 2 MB
/// every other route accepts) load in one request and list back whole.
#[tokio::test]
async fn a_large_seed_loads_in_one_request() {
    let sandbox = TestSandbox::start().await;
    let mut seed = String::from("scalekit:\n  organizations:\n");
    for i in 0..20_000 {
        seed.push_str(&format!(
            "    - {{ display_name: Organization {i}, external_id: org-{i}, domains: [{{ domain: a.org{i}.example, verification_status: VERIFIED }}] }}\n"
        ));
    }
    assert!(seed.len() > 2 * 1024 * 1024, "{} bytes", seed.len());
    let summary = sandbox.seed(&seed).await;
    assert_eq!(
        summary["scalekit_organizations"].as_array().unwrap().len(),
        20_000
    );
    // Every other route keeps the usual limit.
    let response = sandbox
        .http
        .post(sandbox.url("/_sandbox/faults"))
        .header("content-type", "application/json")
        .body(format!(
            "{{\"latency_ms\": 0, \"pad\": \"{}\"}}",
            "x".repeat(3 * 1024 * 1024)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}
