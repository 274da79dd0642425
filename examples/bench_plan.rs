//! Benchmark: `plan` refresh against the sandbox, and the pure diff.
//!
//!     cargo run --release --example bench_plan -- [ORGS] [LATENCY_MS] [PARALLELISM] [DIFF_ORGS] [LIMIT]
//!
//! Defaults: 2,000 Scalekit organizations x 3 domains x 5 members, 20 ms latency per request,
//! parallelism 32; the pure diff of 50,000 organizations in memory (best of 3). LIMIT (requests/s, default
//! none) rate-limits the sandbox's Scalekit with no client budget set: the provider's gate has to
//! find the limit itself. `BENCH_WRITE_TO=DIR` writes the seed and workspace for the CLI instead
//! (see `write_fleet`). `BENCH_SHARED_MEMBER=1` adds one member to every organization,
//! `ops@platform.example` (a platform admin in each tenant: one user with a membership in each).

#[path = "common/mod.rs"]
mod common;

/// Whether every organization also lists the shared platform admin.
fn shared_member() -> bool {
    std::env::var_os("BENCH_SHARED_MEMBER").is_some()
}

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use futures_util::StreamExt;

use orgform::model::{LiveDomain, LiveMember, LiveOrganization, LiveProvider, LiveState};
use orgform::plan::{PlanInput, plan};
use orgform::provider::RefreshOptions;
use orgform::provider::settings::ClientOverrides;
use orgform::session::Session;

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .map_or(default, |a| a.parse().expect("a number"))
}

fn manifests(count: usize) -> String {
    let mut text = String::new();
    for i in 0..count {
        let _ = write!(
            text,
            "---\norganization: org-{i}\nname: Organization {i}\ndomains: [a.org{i}.example, b.org{i}.example, c.org{i}.example]\nmembers:\n"
        );
        for m in 0..5 {
            let _ = writeln!(
                text,
                "  - {{ email: user{m}@org{i}.example, role: {} }}",
                if m == 0 { "admin" } else { "member" }
            );
        }
        if shared_member() {
            let _ = writeln!(text, "  - {{ email: ops@platform.example, role: admin }}");
        }
    }
    text
}

/// `BENCH_WRITE_TO=DIR`: writes `DIR/seed.yaml` (for `orgform sandbox serve --seed`) and the
/// workspace in both layouts users write: `DIR/ws` (one file per organization, as a GitOps
/// repository holds them) and `DIR/ws-one` (one file holding them all). Both point at the
/// sandbox `${BENCH_SANDBOX_URL}` (read when orgform runs; `BENCH_SANDBOX_URL` at write time, if
/// set, is written in instead), so one workspace can be planned against an empty and a seeded
/// sandbox, and the CLI's `plan` measured on its own, apart from the sandbox.
fn write_fleet(dir: &std::path::Path, orgs: usize) {
    let url = std::env::var("BENCH_SANDBOX_URL").unwrap_or_else(|_| "${BENCH_SANDBOX_URL}".into());
    std::fs::create_dir_all(dir.join("ws/orgs")).unwrap();
    std::fs::create_dir_all(dir.join("ws-one")).unwrap();
    std::fs::write(dir.join("seed.yaml"), seed(orgs)).unwrap();
    std::fs::write(dir.join("ws/orgform.yaml"), config(&url, 32)).unwrap();
    std::fs::write(dir.join("ws-one/orgform.yaml"), config(&url, 32)).unwrap();
    let all = manifests(orgs);
    for (i, document) in all.split("---\n").skip(1).enumerate() {
        std::fs::write(dir.join(format!("ws/orgs/org-{i:06}.yaml")), document).unwrap();
    }
    std::fs::write(dir.join("ws-one/orgs.yaml"), all).unwrap();
    println!(
        "wrote {orgs} organizations: {}/seed.yaml, {}/ws (a file each) and {}/ws-one (one file)",
        dir.display(),
        dir.display(),
        dir.display()
    );
}

/// `orgform.yaml` for one Scalekit provider at the sandbox `url`.
fn config(url: &str, parallelism: usize) -> String {
    format!(
        "providers:\n  main:\n    kind: scalekit\n    url: {url}/scalekit\n    client_id: sandbox-client\n    client_secret: sandbox-secret\n    parallelism: {parallelism}\n"
    )
}

/// The live state matching [`manifests`]: Scalekit organizations with their domains and users.
fn seed(orgs: usize) -> String {
    let mut seed = String::from("scalekit:\n  organizations:\n");
    for i in 0..orgs {
        let _ = writeln!(
            seed,
            "    - {{ display_name: Organization {i}, external_id: org-{i}, domains: [{{ domain: a.org{i}.example, verification_status: VERIFIED }}, {{ domain: b.org{i}.example, verification_status: VERIFIED }}, {{ domain: c.org{i}.example, verification_status: VERIFIED }}] }}"
        );
    }
    seed.push_str("  users:\n");
    for i in 0..orgs {
        for m in 0..5 {
            let role = if m == 0 { "admin" } else { "member" };
            let _ = writeln!(
                seed,
                "    - {{ email: user{m}@org{i}.example, memberships: [{{ organization: org-{i}, roles: [{role}] }}] }}"
            );
        }
    }
    if shared_member() {
        seed.push_str("    - { email: ops@platform.example, memberships: [");
        for i in 0..orgs {
            let _ = write!(
                seed,
                "{}{{ organization: org-{i}, roles: [admin] }}",
                if i == 0 { "" } else { ", " }
            );
        }
        seed.push_str("] }\n");
    }
    seed
}

#[tokio::main]
async fn main() {
    let (orgs, latency, parallelism, diff_orgs) =
        (arg(1, 2000), arg(2, 20), arg(3, 32), arg(4, 50_000));
    let limit = arg(5, 0);
    if let Some(dir) = std::env::var_os("BENCH_WRITE_TO") {
        write_fleet(std::path::Path::new(&dir), orgs);
        return;
    }

    let running = orgform::sandbox::start(orgform::sandbox::SandboxOptions::default())
        .await
        .expect("sandbox starts");
    let seed = seed(orgs);
    let http = reqwest::Client::new();
    let base = running.base_url();
    assert!(
        http.post(format!("{base}/_sandbox/seed"))
            .header("content-type", "application/yaml")
            .body(seed)
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("orgform.yaml"), config(&base, parallelism)).unwrap();
    std::fs::write(dir.path().join("orgs.yaml"), manifests(orgs)).unwrap();
    let faults = if limit > 0 {
        serde_json::json!({ "latency_ms": latency, "rate_limit": { "scalekit": limit } })
    } else {
        serde_json::json!({ "latency_ms": latency })
    };
    http.post(format!("{base}/_sandbox/faults"))
        .json(&faults)
        .send()
        .await
        .unwrap();

    let session = Session::open(dir.path(), &|_| None, ClientOverrides::default())
        .await
        .expect("workspace");
    if std::env::var_os("BENCH_PHASES").is_some() {
        use orgform::provider::Provider;
        let orgform::provider::AnyProvider::Scalekit(p) = &session.providers["main"] else {
            unreachable!()
        };
        let t = Instant::now();
        let listed = p.list_organizations(&mut |_, _| {}).await.unwrap();
        println!(
            "  phase: list {} organizations in {:.2} s",
            listed.len(),
            t.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        let needs = orgform::provider::Needs {
            domains: true,
            members: true,
            ..Default::default()
        };
        let futures = listed.into_iter().map(|mut o| async move {
            p.read_children(&mut o, needs, "x").await.unwrap();
        });
        futures_util::stream::iter(futures)
            .buffer_unordered(64)
            .collect::<Vec<()>>()
            .await;
        println!(
            "  phase: children of all in {:.2} s",
            t.elapsed().as_secs_f64()
        );
        http.post(format!("{base}/_sandbox/faults"))
            .json(&faults)
            .send()
            .await
            .unwrap();
    }
    let started = Instant::now();
    let live = session
        .refresh(&RefreshOptions::default())
        .await
        .expect("refresh");
    let planned = plan(PlanInput {
        keep_no_ops: true,
        ..PlanInput::whole(&session.desired, &live)
    })
    .expect("plan");
    let wall = started.elapsed().as_secs_f64();
    assert!(
        !planned.has_changes(),
        "the seeded state matches the manifests"
    );
    let stats = common::sandbox_stats(&http, &base).await;
    let made = stats["total"].as_u64().unwrap();
    // Members come from the environment's user list, one page after another, alongside the rest.
    let users = 5 * orgs as u64 + u64::from(shared_member());
    let user_pages = users.div_ceil(100);
    let minimal = (orgs as u64).div_ceil(100) + orgs as u64 + user_pages + 1;
    let ideal =
        (minimal as f64 / parallelism as f64).max(user_pages as f64) * latency as f64 / 1000.0;
    println!(
        "plan refresh: {orgs} Scalekit organizations x 3 domains x 5 members, {latency} ms latency, parallelism {parallelism}"
    );
    println!(
        "  requests: {made} made, {minimal} minimal (ceil(N/100) organization pages + N domain lists + ceil(users/100) user pages + 1 token)"
    );
    println!(
        "  wall time: {wall:.2} s, ideal {ideal:.2} s (latency x the larger of requests / parallelism and the user pages, which follow one another), ratio {:.2}",
        wall / ideal
    );
    if limit > 0 {
        let throttled = stats["rate_limited"].as_u64().unwrap_or(0);
        let bound = minimal as f64 / limit as f64;
        println!(
            "  sandbox limit {limit} requests/s, no client budget: bound {bound:.2} s (minimal requests / limit), ratio {:.2}; {throttled} of {made} answered 429 ({:.1}%)",
            wall / bound.max(ideal),
            100.0 * throttled as f64 / made as f64
        );
    }

    // The pure diff, in memory.
    let mut text = String::new();
    for i in 0..diff_orgs {
        let _ = write!(
            text,
            "---\norganization: org-{i}\nname: Organization {i}\nmetadata: {{ tier: gold }}\ndomains: [org{i}.example]\nmembers: [{{ email: a@org{i}.example, role: admin }}]\n"
        );
    }
    let desired = orgform::model::validate_texts(
        "providers:\n  main:\n    kind: scalekit\n    sandbox: true\n",
        &[("orgs.yaml", &text)],
        &|_| None,
    )
    .expect("valid");
    let organizations: Vec<LiveOrganization> = (0..diff_orgs)
        .map(|i| LiveOrganization {
            id: format!("org_{i}"),
            name: if i % 10 == 0 {
                format!("Old name {i}")
            } else {
                format!("Organization {i}")
            },
            external_id: Some(format!("org-{i}")),
            owned: true,
            metadata: BTreeMap::from([("tier".to_owned(), "gold".to_owned())]),
            domains: Some(vec![LiveDomain {
                id: format!("d{i}"),
                name: format!("org{i}.example"),
                domain_type: Some("organization".into()),
                verification: "VERIFIED".into(),
            }]),
            members: Some(vec![LiveMember {
                user_id: format!("u{i}"),
                email: Some(format!("a@org{i}.example")),
                roles: vec!["admin".into()],
                status: Some("ACTIVE".into()),
            }]),
            ..LiveOrganization::default()
        })
        .collect();
    let live = LiveState {
        fetched_at: "2026-11-01T00:00:00Z".into(),
        providers: BTreeMap::from([(
            "main".to_owned(),
            LiveProvider {
                organizations,
                complete: true,
            },
        )]),
    };
    // Best of 3: the first run also pays for the memory the process has not touched yet.
    let mut diff = f64::MAX;
    let mut updates = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let planned = plan(PlanInput {
            keep_no_ops: true,
            ..PlanInput::whole(&desired, &live)
        })
        .expect("plan");
        diff = diff.min(started.elapsed().as_secs_f64());
        updates = planned.summary.update;
    }
    println!("pure diff: {diff_orgs} organizations in {diff:.3} s (best of 3; {updates} updates)");
    running.stop().await;
}
/// As the orgform binary allocates.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
