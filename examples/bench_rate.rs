//! Benchmark: orgform at a rate limit it is not told, the fixed behaviour (before the adaptive
//! gate), the adaptive gate at first contact, and a second run of the same job starting from the
//! pace the first remembered, side by side in one process and one run.
//!
//!     cargo run --release --example bench_rate -- [CREATES] [ORGS] [LIMITS] [MODES] [LAYOUT]
//!
//! Defaults: `apply` of 200 and of 1,000 creates on each of Scalekit and Nirvana, and `plan` of
//! 100, 200 and 2,000 organizations on each of Scalekit (3 domains, 5 members each), Nirvana
//! (3 domains, 5 members) and PingOne (licenses) (CREATES and ORGS are comma-separated lists);
//! LIMITS `20,50,200,3000/min` (each vendor limited on its own, as the sandbox's `rate_limit` or
//! `rate_limit_per_minute`); MODES `adaptive,remembered` (`fixed` also runs each request retrying
//! its own 429s, orgform before the gate; `remembered` runs the job again
//! in the workspace and against the sandbox of the `adaptive` run, reset and seeded as before,
//! so that it starts from what that run remembered in `.orgform/pace/`); LAYOUT `one-file`
//! (every organization in one file) or `per-org` (one file per organization). No provider sets
//! `requests_per_second`; parallelism is 16. Scalekit answers 429 without `Retry-After`, Nirvana
//! and PingOne with it.
//!
//! For each vendor it prints the requests the job needs (what it takes with no limit), the
//! requests the vendor accepted (failed creates add look-ups), the bound (needed ÷ limit), the
//! time from the vendor's first answer to its last and its ratio to the bound, and the share of
//! requests answered 429; for the run, wall time ÷ the largest bound, and failures.

use std::fmt::Write as _;
use std::time::Instant;

#[path = "common/layout.rs"]
mod layout;
use layout::Layout;

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

/// One sandbox and one workspace, for a first run and a second run that remembers the first.
struct Trial {
    running: orgform::sandbox::RunningSandbox,
    dir: tempfile::TempDir,
    http: reqwest::Client,
    job: Job,
    /// The sandbox seeds of the job, made once and posted before each run.
    seeds: Vec<String>,
    limit: Option<Limit>,
}

impl Trial {
    async fn new(job: Job, count: usize, limit: Option<Limit>, layout: Layout) -> Trial {
        let running = orgform::sandbox::start(Default::default())
            .await
            .expect("sandbox starts");
        let base = running.base_url();
        let (seeds, manifests) = workload(job, count);
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
        layout.write(dir.path(), &manifests);
        Trial {
            running,
            dir,
            http: reqwest::Client::new(),
            job,
            seeds,
            limit,
        }
    }

    async fn post(&self, path: &str, body: reqwest::RequestBuilder) {
        let answer = body.send().await.unwrap();
        assert!(
            answer.status().is_success(),
            "{path}: {}",
            answer.text().await.unwrap()
        );
    }

    /// Runs the job once, from the sandbox's seed and a fresh limit (full bucket, new window).
    async fn run(&self, adaptive: bool) -> Measured {
        let base = self.running.base_url();
        let url = |path: &str| format!("{base}/_sandbox/{path}");
        self.post("reset", self.http.post(url("reset"))).await;
        for seed in &self.seeds {
            let request = self
                .http
                .post(url("seed"))
                .header("content-type", "application/yaml")
                .body(seed.clone());
            self.post("seed", request).await;
        }
        let faults = self.limit.map_or(serde_json::json!({}), Limit::faults);
        self.post("faults", self.http.post(url("faults")).json(&faults))
            .await;

        let overrides = ClientOverrides {
            retry: Some(RetryPolicy {
                adaptive,
                ..RetryPolicy::default()
            }),
            ..ClientOverrides::default()
        };
        let job = self.job;
        let started = Instant::now();
        let session = Session::open(self.dir.path(), &|_| None, overrides)
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
                let planned = plan(PlanInput::whole(&session.desired, &live)).expect("plan");
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
        // As the CLI does at the end of every run.
        session.remember_paces();
        let providers = providers(job)
            .iter()
            .map(|(name, _)| {
                let report = session.providers[*name].client().gate().report();
                (
                    *name,
                    report.answered - report.throttled,
                    report.throttled,
                    report.seconds,
                )
            })
            .collect();
        session.close().await;
        Measured {
            providers,
            wall,
            failed,
        }
    }

    async fn stop(self) {
        self.running.stop().await;
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Fixed,
    Adaptive,
    Remembered,
}

impl Mode {
    fn label(self) -> &'static str {
        match self {
            Mode::Fixed => "fixed",
            Mode::Adaptive => "first contact",
            Mode::Remembered => "remembered",
        }
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
    let counts = |text: Option<String>, default: &str| -> Vec<usize> {
        text.unwrap_or_else(|| default.into())
            .split(',')
            .map(|n| n.parse().expect("a count"))
            .filter(|n| *n > 0)
            .collect()
    };
    let creates = counts(arg(1), "200,1000");
    let orgs = counts(arg(2), "100,200,2000");
    let limits: Vec<Limit> = arg(3)
        .unwrap_or_else(|| "20,50,200,3000/min".into())
        .split(',')
        .map(parse_limit)
        .collect();
    let modes: Vec<Mode> = arg(4)
        .unwrap_or_else(|| "adaptive,remembered".into())
        .split(',')
        .map(|m| match m {
            "fixed" => Mode::Fixed,
            "adaptive" => Mode::Adaptive,
            "remembered" => Mode::Remembered,
            other => panic!("a mode is fixed, adaptive or remembered, not {other}"),
        })
        .collect();
    let layout = arg(5).map_or(Layout::OneFile, |l| Layout::parse(&l));
    println!("Workspace layout: {}.", layout.label());
    println!(
        "| job | limit | run | vendor | needed | accepted | bound s | took s | ÷ bound | 429 | run wall ÷ bound | outcome |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let jobs = creates
        .iter()
        .map(|&n| (Job::Apply, n))
        .chain(orgs.iter().map(|&n| (Job::Plan, n)));
    for (job, count) in jobs {
        // The requests the job needs, per vendor: what it takes with no limit at all.
        let unlimited = Trial::new(job, count, None, layout).await;
        let needed = unlimited.run(true).await;
        unlimited.stop().await;
        assert!(needed.failed.is_empty(), "{}", needed.failed);
        for &limit in &limits {
            let mut trial: Option<Trial> = None;
            for &mode in &modes {
                let measured = match mode {
                    Mode::Fixed => {
                        let fixed = Trial::new(job, count, Some(limit), layout).await;
                        let measured = fixed.run(false).await;
                        fixed.stop().await;
                        measured
                    }
                    Mode::Adaptive => {
                        if let Some(old) = trial.take() {
                            old.stop().await;
                        }
                        let first = trial.insert(Trial::new(job, count, Some(limit), layout).await);
                        first.run(true).await
                    }
                    Mode::Remembered => {
                        let Some(second) = &trial else {
                            panic!("`remembered` runs after `adaptive`")
                        };
                        second.run(true).await
                    }
                };
                print_rows(job, count, limit, mode, &needed, &measured);
            }
            if let Some(trial) = trial {
                trial.stop().await;
            }
        }
    }
}

fn print_rows(
    job: Job,
    count: usize,
    limit: Limit,
    mode: Mode,
    needed: &Measured,
    measured: &Measured,
) {
    let bound = |n: usize| needed.providers[n].1 as f64 / limit.per_second();
    let largest = (0..needed.providers.len()).map(bound).fold(0.0, f64::max);
    for (n, (name, accepted, throttled, seconds)) in measured.providers.iter().enumerate() {
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
            mode.label(),
            needed.providers[n].1,
            bound(n),
            seconds / bound(n),
            100.0 * *throttled as f64 / (*accepted + *throttled).max(1) as f64,
        );
    }
}

/// As the orgform binary allocates.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
