//! Benchmark: the no-op drift check of a converged Nirvana fleet, through the CLI, against a
//! separate `sandbox serve` with a latency per request, comparing orgform binaries side by side.
//!
//!     cargo run --release --example bench_drift -- [ORGS] [LATENCY_MS] [ROUNDS] BINARY...
//!
//! Defaults: 1,000 Nirvana organizations, each with a postal address (so refresh reads the
//! organization list, then each address), 20 ms latency, 5 rounds; BINARY defaults to
//! `target/release/orgform`. Each round runs every binary's `plan --detailed-exitcode` once (in
//! turn, so the machine's drift affects them alike) and prints wall time, the requests made (from
//! `/_sandbox/stats`) and wall ÷ bound, where the bound is requests × latency ÷ parallelism
//! (16, the default): what the requests cost if every permit were always busy. Each binary runs
//! twice a round in each layout (one file holding every organization, one file per
//! organization): at first contact (the workspace's remembered paces deleted before) and again,
//! starting from the pace its first run remembered (what a cron job's next run does).

#[path = "common/mod.rs"]
mod common;
#[path = "common/layout.rs"]
mod layout;

use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

fn arg(n: usize, default: u64) -> u64 {
    std::env::args()
        .nth(n)
        .map_or(default, |a| a.parse().expect("a number"))
}

#[tokio::main]
async fn main() {
    let orgs = arg(1, 1000) as usize;
    let latency = arg(2, 20);
    let rounds = arg(3, 5);
    let mut binaries: Vec<String> = std::env::args().skip(4).collect();
    if binaries.is_empty() {
        binaries.push("target/release/orgform".into());
    }
    let dir = tempfile::tempdir().unwrap();
    let mut seed = String::from("nirvana:\n  organizations:\n");
    let mut manifests = String::new();
    for i in 0..orgs {
        let _ = writeln!(
            seed,
            "    - {{ name: Tenant {i}, address: {{ line1: {i} Main St, city: Springfield, postal_code: \"{i:05}\", country: US }} }}"
        );
        let _ = write!(
            manifests,
            "---\norganization: tenant-{i}\nname: Tenant {i}\naddress: {{ line1: {i} Main St, city: Springfield, postal_code: \"{i:05}\", country: US }}\n"
        );
    }
    std::fs::write(dir.path().join("seed.yaml"), seed).unwrap();
    let port = 8700 + (std::process::id() % 90) as u16;
    let base = format!("http://127.0.0.1:{port}");
    // One workspace per layout, each with its own remembered pace.
    let workspaces: Vec<_> = layout::Layout::BOTH
        .iter()
        .map(|&layout| {
            let ws = dir.path().join(format!("ws-{layout:?}"));
            layout.write(&ws, &manifests);
            std::fs::write(
                ws.join("orgform.yaml"),
                format!("providers:\n  main:\n    kind: nirvana\n    url: {base}/nirvana\n    api_key: sandbox-nirvana-key\n"),
            )
            .unwrap();
            (layout, ws)
        })
        .collect();
    let mut sandbox = Command::new(&binaries[0])
        .args(["sandbox", "serve", "--addr", &format!("127.0.0.1:{port}")])
        .arg("--seed")
        .arg(dir.path().join("seed.yaml"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let started = Instant::now();
    while http
        .get(format!("{base}/_sandbox/health"))
        .send()
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the sandbox starts"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let faults = http
        .post(format!("{base}/_sandbox/faults"))
        .header("content-type", "application/json")
        .body(format!("{{\"latency_ms\": {latency}}}"))
        .send()
        .await
        .unwrap();
    assert!(faults.status().is_success());
    let total = async || -> u64 {
        common::sandbox_stats(&http, &base).await["total"]
            .as_u64()
            .unwrap()
    };
    println!(
        "no-op drift check: {orgs} Nirvana organizations with an address, {latency} ms latency, parallelism 16"
    );
    for round in 1..=rounds {
        let runs = workspaces.iter().flat_map(|(layout, ws)| {
            binaries.iter().flat_map(move |b| {
                [
                    (layout, ws, b, "first contact"),
                    (layout, ws, b, "remembered"),
                ]
            })
        });
        for (layout, ws, binary, contact) in runs {
            if contact == "first contact" {
                let _ = std::fs::remove_dir_all(ws.join(orgform::provider::pace_memory::PACE_DIR));
            }
            let before = total().await;
            let started = Instant::now();
            let output = Command::new(binary)
                .args(["plan", "-q", "--detailed-exitcode"])
                .arg(ws)
                .output()
                .unwrap();
            let wall = started.elapsed().as_secs_f64();
            assert_eq!(
                output.status.code(),
                Some(0),
                "{binary}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let requests = total().await - before;
            let bound = requests as f64 * latency as f64 / 1000.0 / 16.0;
            println!(
                "  round {round} {} {binary} ({contact}): {wall:.2} s, {requests} requests, bound {bound:.2} s, wall / bound {:.2}",
                layout.label(),
                wall / bound
            );
        }
    }
    let _ = sandbox.kill();
    let _ = sandbox.wait();
}
