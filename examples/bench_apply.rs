//! Benchmark: `apply` of 1,000 creates against a sandbox rate limit of 50 requests/s.
//!
//!     cargo run --release --example bench_apply -- [CREATES] [RATE]
//!
//! The workspace sets `requests_per_second` to the same rate, so orgform paces itself instead
//! of being answered 429. Prints wall time against (write requests / rate) and the 429 share.

#[path = "common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::time::Instant;

use orgform::apply::execute;
use orgform::plan::{PlanInput, plan};
use orgform::provider::RefreshOptions;
use orgform::provider::settings::ClientOverrides;
use orgform::session::Session;

#[tokio::main]
async fn main() {
    let creates: usize = std::env::args()
        .nth(1)
        .map_or(1000, |n| n.parse().expect("a count"));
    let rate: u32 = std::env::args()
        .nth(2)
        .map_or(50, |n| n.parse().expect("a rate"));
    // `adaptive`: no `requests_per_second`, so the gate finds the limit itself.
    let adaptive = std::env::args().nth(3).is_some_and(|a| a == "adaptive");
    let budget = if adaptive {
        String::new()
    } else {
        format!("    requests_per_second: {rate}\n")
    };
    let running = orgform::sandbox::start(Default::default())
        .await
        .expect("sandbox starts");
    let base = running.base_url();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("orgform.yaml"),
        format!("providers:\n  main:\n    kind: scalekit\n    url: {base}/scalekit\n    client_id: sandbox-client\n    client_secret: sandbox-secret\n    parallelism: 16\n{budget}"),
    )
    .unwrap();
    let mut manifests = String::new();
    for i in 0..creates {
        let _ = write!(
            manifests,
            "---\norganization: org-{i}\nname: Organization {i}\n"
        );
    }
    std::fs::write(dir.path().join("orgs.yaml"), manifests).unwrap();
    let http = reqwest::Client::new();
    http.post(format!("{base}/_sandbox/faults"))
        .json(&serde_json::json!({ "rate_limit": { "scalekit": rate } }))
        .send()
        .await
        .unwrap();

    let started = Instant::now();
    let session = Session::open(dir.path(), &|_| None, ClientOverrides::default())
        .await
        .expect("workspace");
    let live = session
        .refresh(&RefreshOptions::default())
        .await
        .expect("refresh");
    let planned = plan(PlanInput::whole(&session.desired, &live)).expect("plan");
    let results = execute(&session.providers, &planned, &|_| {}).await;
    let wall = started.elapsed().as_secs_f64();
    assert!(
        results.iter().all(|r| r.succeeded()),
        "every create succeeds"
    );

    let stats = common::sandbox_stats(&http, &base).await;
    let total = stats["total"].as_u64().unwrap();
    let limited = stats["rate_limited"].as_u64().unwrap();
    let writes: u64 = stats["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == "POST" && r["route"] == "/scalekit/api/v1/organizations")
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    let ideal = writes as f64 / f64::from(rate);
    println!(
        "apply: {creates} creates against a sandbox limit of {rate} requests/s ({})",
        if adaptive {
            "no client budget: adaptive".to_owned()
        } else {
            format!("client budget {rate}/s")
        }
    );
    println!(
        "  wall time {wall:.2} s; write requests / rate = {ideal:.2} s; ratio {:.3} (target 1.25)",
        wall / ideal
    );
    println!(
        "  {total} requests, {limited} answered 429 ({:.2}%, target 2%)",
        100.0 * limited as f64 / total as f64
    );
    running.stop().await;
}

/// As the orgform binary allocates.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
