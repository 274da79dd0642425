//! Benchmark: sandbox throughput with 16 concurrent clients over loopback HTTP.
//!
//!     cargo run --release --example bench_sandbox -- [REQUESTS] [BASE_URL]
//!
//! Without BASE_URL it starts a sandbox in this process; with one (e.g. a separate
//! `orgform sandbox serve`) it measures that server. The mix is what a plan's refresh sends:
//! Scalekit organization pages, domain and user lists, Nirvana organization reads, PingOne
//! license lists; the first 1% are writes that create the data.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::{Value, json};

const CLIENTS: usize = 16;

#[tokio::main]
async fn main() {
    let total: usize = std::env::args()
        .nth(1)
        .map_or(40_000, |n| n.parse().expect("a request count"));
    let (base, _running) = match std::env::args().nth(2) {
        Some(url) => (url, None),
        None => {
            let running = orgform::sandbox::start(orgform::sandbox::SandboxOptions::default())
                .await
                .expect("sandbox starts");
            (running.base_url(), Some(running))
        }
    };
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{base}/scalekit/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "sandbox-client"),
            ("client_secret", "sandbox-secret"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let scalekit = token["access_token"].as_str().unwrap().to_owned();
    let token: Value = http
        .post(format!("{base}/pingone/auth/sandbox-env/as/token"))
        .basic_auth("sandbox-client", Some("sandbox-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pingone = token["access_token"].as_str().unwrap().to_owned();

    // Data to read: 100 Scalekit organizations with 3 domains each, 100 Nirvana organizations.
    let mut scalekit_orgs = Vec::new();
    let mut nirvana_orgs = Vec::new();
    for i in 0..100 {
        let org: Value = http.post(format!("{base}/scalekit/api/v1/organizations")).bearer_auth(&scalekit)
            .json(&json!({ "display_name": format!("Bench {i}"), "external_id": format!("bench-{i}-{}", std::process::id()) }))
            .send().await.unwrap().json().await.unwrap();
        let id = org["organization"]["id"].as_str().unwrap().to_owned();
        for d in 0..3 {
            http.post(format!("{base}/scalekit/api/v1/organizations/{id}/domains"))
                .bearer_auth(&scalekit)
                .json(&json!({ "domain": format!("d{d}.{id}.example") }))
                .send()
                .await
                .unwrap();
        }
        scalekit_orgs.push(id);
        let org: Value = http
            .post(format!("{base}/nirvana/v1/organizations"))
            .bearer_auth("sandbox-nirvana-key")
            .json(&json!({ "name": format!("Bench {i}") }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        nirvana_orgs.push(org["id"].as_str().unwrap().to_owned());
    }

    let urls: Arc<Vec<(String, String)>> = Arc::new(
        (0..400)
            .map(|i| {
                let s = &scalekit_orgs[i % 100];
                match i % 5 {
                    0 => (format!("{base}/scalekit/api/v1/organizations?page_size=100"), scalekit.clone()),
                    1 => (format!("{base}/scalekit/api/v1/organizations/{s}/domains?page_size=100"), scalekit.clone()),
                    2 => (format!("{base}/scalekit/api/v1/organizations/{s}/users?page_size=100"), scalekit.clone()),
                    3 => (format!("{base}/nirvana/v1/organizations/{}", nirvana_orgs[i % 100]), "sandbox-nirvana-key".to_owned()),
                    _ => (format!("{base}/pingone/v1/organizations/bed432e6-676a-4ebe-b5a5-6b3b54e46bda/licenses"), pingone.clone()),
                }
            })
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (urls, next, failures) = (urls.clone(), next.clone(), failures.clone());
            let http = reqwest::Client::new();
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        break;
                    }
                    let (url, token) = &urls[n % urls.len()];
                    match http.get(url).bearer_auth(token).send().await {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                        }
                        _ => {
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "sandbox: {total} requests from {CLIENTS} concurrent clients in {elapsed:.2} s = {:.0} requests/s ({} failed)",
        total as f64 / elapsed,
        failures.load(Ordering::Relaxed)
    );
}

/// As the orgform binary allocates.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
