//! Benchmark: orgform at a rate limit it is not told, the fixed behaviour (before the adaptive
//! gate) and the adaptive gate side by side, in one process and one run.
//!
//!     cargo run --release --example bench_rate -- [CREATES] [ORGS] [LIMITS] [MODES]
//!
//! Defaults: `apply` of 1,000 creates on each of Scalekit and Nirvana, and `plan` of 2,000
//! organizations on each of Scalekit (3 domains, 5 members each), Nirvana (3 domains, 5 members)
//! and PingOne (licenses); LIMITS `20,50,200,3000/min` (each vendor limited on its own, as the
//! sandbox's `rate_limit` or `rate_limit_per_minute`); MODES `fixed,adaptive`. No provider sets
//! `requests_per_second`; parallelism is 16. Scalekit answers 429 without `Retry-After`, Nirvana
//! and PingOne with it.
//!
//! For each vendor it prints the requests the job needs (what it takes with no limit), the
//! requests the vendor accepted (failed creates add look-ups), the bound (needed ÷ limit), the
//! time from the vendor's first answer to its last and its ratio to the bound, and the share of
//! requests answered 429; for the run, wall time ÷ the largest bound, and failures.

use std::fmt::Write as _;
use std::time::Instant;

use orgform::apply::execute;
use orgform::plan::{PlanInput, plan};
use orgform::provider::RefreshOptions;
use orgform::provider::http::RetryPolicy;
use orgform::provider::settings::ClientOverrides;
use orgform::session::Session;

#[derive(Clone, Copy, PartialEq)]
enum Job {
    Apply,
    Plan,
}

#[derive(Clone, Copy)]
enum Limit {
    PerSecond(u32),
    PerMinute(u32),
}

impl Limit {
    fn per_second(self) -> f64 {
        match self {
            Limit::PerSecond(n) => f64::from(n),
            Limit::PerMinute(n) => f64::from(n) / 60.0,
        }
    }

    fn faults(self) -> serde_json::Value {
        let each = |n: u32| serde_json::json!({ "scalekit": n, "nirvana": n, "pingone": n });
        match self {
            Limit::PerSecond(n) => serde_json::json!({ "rate_limit": each(n) }),
            Limit::PerMinute(n) => serde_json::json!({ "rate_limit_per_minute": each(n) }),
        }
    }

    fn label(self) -> String {
        match self {
            Limit::PerSecond(n) => format!("{n}/s"),
            Limit::PerMinute(n) => format!("{n}/min"),
        }
    }
}

fn parse_limit(text: &str) -> Limit {
    match text.strip_suffix("/min") {
        Some(n) => Limit::PerMinute(n.parse().expect("a number of requests per minute")),
        None => Limit::PerSecond(
            text.trim_end_matches("/s")
                .parse()
                .expect("a number of requests per second"),
        ),
    }
}

/// The providers of a job: (name, vendor) in the workspace.
fn providers(job: Job) -> &'static [(&'static str, &'static str)] {
    match job {
        Job::Apply => &[("scalekit", "scalekit"), ("nirvana", "nirvana")],
        Job::Plan => &[
            ("scalekit", "scalekit"),
            ("nirvana", "nirvana"),
            ("pingone", "pingone"),
        ],
    }
}

/// The sandbox seeds (one per vendor, each within the sandbox's body limit) and the manifests
/// of a job.
fn workload(job: Job, count: usize) -> (Vec<String>, String) {
    let mut seeds = Vec::new();
    let mut seed = String::new();
    let mut manifests = String::new();
    if job == Job::Apply {
        for i in 0..count {
            for provider in ["scalekit", "nirvana"] {
                let _ = write!(
                    manifests,
                    "---\norganization: {provider}-{i}\nprovider: {provider}\nname: Organization {i}\n"
                );
            }
        }
        return (seeds, manifests);
    }
    seed.push_str("scalekit:\n  organizations:\n");
    for i in 0..count {
        let _ = writeln!(
            seed,
            "    - {{ display_name: Organization {i}, external_id: scalekit-{i}, domains: [{{ domain: a.s{i}.example, verification_status: VERIFIED }}, {{ domain: b.s{i}.example, verification_status: VERIFIED }}, {{ domain: c.s{i}.example, verification_status: VERIFIED }}] }}"
        );
    }
    seed.push_str("  users:\n");
    for i in 0..count {
        for m in 0..5 {
            let role = if m == 0 { "admin" } else { "member" };
            let _ = writeln!(
                seed,
                "    - {{ email: user{m}@s{i}.example, memberships: [{{ organization: scalekit-{i}, roles: [{role}] }}] }}"
            );
        }
    }
    seeds.push(std::mem::take(&mut seed));
    seed.push_str("nirvana:\n  organizations:\n");
    for i in 0..count {
        let _ = write!(
            seed,
            "    - {{ name: Nirvana {i}, domains: [{{ domain: a.n{i}.example, verified: true }}, {{ domain: b.n{i}.example, verified: true }}, {{ domain: c.n{i}.example, verified: true }}], memberships: ["
        );
        for m in 0..5 {
            let role = if m == 0 { "owner" } else { "member" };
            let _ = write!(seed, "{{ user_id: u-{i}-{m}, role: {role} }}, ");
        }
        seed.push_str("] }\n");
    }
    seeds.push(std::mem::take(&mut seed));
    seed.push_str("pingone:\n  organizations:\n");
    for i in 0..count {
        let _ = writeln!(seed, "    - {{ name: PingOne {i}, type: INTERNAL }}");
    }
    for i in 0..count {
        let _ = writeln!(
            manifests,
            "---\norganization: scalekit-{i}\nprovider: scalekit\nname: Organization {i}\ndomains: [a.s{i}.example, b.s{i}.example, c.s{i}.example]\nmembers:"
        );
        for m in 0..5 {
            let role = if m == 0 { "admin" } else { "member" };
            let _ = writeln!(
                manifests,
                "  - {{ email: user{m}@s{i}.example, role: {role} }}"
            );
        }
        let _ = writeln!(
            manifests,
            "---\norganization: nirvana-{i}\nprovider: nirvana\nname: Nirvana {i}\ndomains: [a.n{i}.example, b.n{i}.example, c.n{i}.example]\nmembers:"
        );
        for m in 0..5 {
            let role = if m == 0 { "owner" } else { "member" };
            let _ = writeln!(manifests, "  - {{ user: u-{i}-{m}, role: {role} }}");
        }
        let _ = writeln!(
            manifests,
            "---\norganization: pingone-{i}\nprovider: pingone\nname: PingOne {i}\nlicenses: []"
        );
    }
    seeds.push(seed);
    (seeds, manifests)
}

struct Measured {
    /// Per provider: (name, accepted, throttled, seconds its work took).
    providers: Vec<(&'static str, u64, u64, f64)>,
    wall: f64,
    failed: String,
}

async fn run(job: Job, count: usize, limit: Option<Limit>, adaptive: bool) -> Measured {
    let running = orgform::sandbox::start(Default::default())
        .await
        .expect("sandbox starts");
    let base = running.base_url();
    let http = reqwest::Client::new();
    let (seeds, manifests) = workload(job, count);
    for seed in seeds {
        let seeded = http
            .post(format!("{base}/_sandbox/seed"))
            .header("content-type", "application/yaml")
            .body(seed)
            .send()
            .await
            .unwrap();
        assert!(
            seeded.status().is_success(),
            "{}",
            seeded.text().await.unwrap()
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let mut config = String::from("providers:\n");
    for (name, vendor) in providers(job) {
        let _ = writeln!(
            config,
            "  {name}:\n    kind: {vendor}\n    url: {base}/{vendor}\n    parallelism: 16"
        );
        match *vendor {
            "scalekit" => config
                .push_str("    client_id: sandbox-client\n    client_secret: sandbox-secret\n"),
            "nirvana" => config.push_str("    api_key: sandbox-nirvana-key\n"),
            _ => {
                let _ = writeln!(
                    config,
                    "    auth_url: {base}/pingone/auth\n    environment_id: sandbox-env\n    client_id: sandbox-client\n    client_secret: sandbox-secret"
                );
            }
        }
    }
    std::fs::write(dir.path().join("orgform.yaml"), config).unwrap();
    std::fs::write(dir.path().join("orgs.yaml"), manifests).unwrap();
    if let Some(limit) = limit {
        let faults = http
            .post(format!("{base}/_sandbox/faults"))
            .json(&limit.faults())
            .send()
            .await
            .unwrap();
        assert!(faults.status().is_success());
    }

    let overrides = ClientOverrides {
        retry: Some(RetryPolicy {
            adaptive,
            ..RetryPolicy::default()
        }),
        ..ClientOverrides::default()
    };
    let started = Instant::now();
    let session = Session::open(dir.path(), &|_| None, overrides)
        .await
        .expect("workspace");
    let mut failed = String::new();
    match session.refresh(&RefreshOptions::default()).await {
        Err(orgform::session::Failure::Api(errors)) => {
            failed = format!(
                "plan FAILED ({} errors): {}",
                errors.len(),
                first_line(&errors[0].to_string())
            );
        }
        Err(other) => failed = format!("plan FAILED: {other:?}"),
        Ok(live) => {
            let planned = plan(PlanInput {
                desired: &session.desired,
                live: &live,
                targets: &[],
                allow_deletes: None,
                allow_creates: &[],
                allow_member_removals: None,
                keep_no_ops: false,
            })
            .expect("plan");
            if job == Job::Apply {
                let results = execute(&session.providers, &planned, &|_| {}).await;
                let failures = results.iter().filter(|r| !r.succeeded()).count();
                if failures > 0 {
                    failed = format!("{failures} steps FAILED");
                }
            }
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let providers = providers(job)
        .iter()
        .map(|(name, _)| {
            let report = session.providers[*name].client().gate_report();
            (
                *name,
                report.answered - report.throttled,
                report.throttled,
                report.seconds,
            )
        })
        .collect();
    running.stop().await;
    Measured {
        providers,
        wall,
        failed,
    }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() > 160 {
        format!("{}…", line.chars().take(160).collect::<String>())
    } else {
        line.to_owned()
    }
}

#[tokio::main]
async fn main() {
    // `RUST_LOG=orgform=debug` shows every request and every pace cut on stderr.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let arg = |n: usize| std::env::args().nth(n);
    let creates: usize = arg(1).map_or(1000, |n| n.parse().expect("a count of creates"));
    let orgs: usize = arg(2).map_or(2000, |n| n.parse().expect("a count of organizations"));
    let limits: Vec<Limit> = arg(3)
        .unwrap_or_else(|| "20,50,200,3000/min".into())
        .split(',')
        .map(parse_limit)
        .collect();
    let modes: Vec<bool> = arg(4)
        .unwrap_or_else(|| "fixed,adaptive".into())
        .split(',')
        .map(|m| match m {
            "fixed" => false,
            "adaptive" => true,
            other => panic!("a mode is fixed or adaptive, not {other}"),
        })
        .collect();
    println!(
        "| job | limit | mode | vendor | needed | accepted | bound s | took s | ÷ bound | 429 | run wall ÷ bound | outcome |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (job, count) in [(Job::Apply, creates), (Job::Plan, orgs)] {
        if count == 0 {
            continue;
        }
        // The requests the job needs, per vendor: what it takes with no limit at all.
        let needed = run(job, count, None, true).await;
        assert!(needed.failed.is_empty(), "{}", needed.failed);
        for &limit in &limits {
            for &adaptive in &modes {
                let measured = run(job, count, Some(limit), adaptive).await;
                let bound = |n: usize| needed.providers[n].1 as f64 / limit.per_second();
                let largest = (0..needed.providers.len()).map(bound).fold(0.0, f64::max);
                for (n, (name, accepted, throttled, seconds)) in
                    measured.providers.iter().enumerate()
                {
                    let job_label = match job {
                        Job::Apply => format!("apply {count} creates"),
                        Job::Plan => format!("plan {count} orgs"),
                    };
                    let run_columns = if n == 0 {
                        format!(
                            "{:.2} | {}",
                            measured.wall / largest,
                            if measured.failed.is_empty() {
                                "done"
                            } else {
                                &measured.failed
                            }
                        )
                    } else {
                        " | ".to_owned()
                    };
                    println!(
                        "| {job_label} | {} | {} | {name} | {} | {accepted} | {:.1} | {seconds:.1} | {:.2} | {:.1}% | {run_columns} |",
                        limit.label(),
                        if adaptive { "adaptive" } else { "fixed" },
                        needed.providers[n].1,
                        bound(n),
                        seconds / bound(n),
                        100.0 * *throttled as f64 / (*accepted + *throttled).max(1) as f64,
                    );
                }
            }
        }
    }
}

/// As the orgform binary allocates.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
