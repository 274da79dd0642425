//! Benchmark: generate a workspace of N organizations (one file each, as a GitOps repository
//! holds them) and time `validate` on it, in process, best of 3.
//!
//!     cargo run --release --example bench_validate -- 10000 [KEEP_DIR]
//!
//! With KEEP_DIR the generated workspace is written there and kept, so the CLI can be timed too:
//! `time target/release/orgform validate KEEP_DIR`.
//! Also times the refusal of an alias bomb and of 10,000-deep nesting.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

fn generate(dir: &Path, count: usize) {
    std::fs::create_dir_all(dir.join("orgs")).unwrap();
    std::fs::write(
        dir.join("orgform.yaml"),
        "providers:\n  sk:\n    kind: scalekit\n    sandbox: true\n  nv:\n    kind: nirvana\n    sandbox: true\n",
    )
    .unwrap();
    for i in 0..count {
        let mut doc = String::new();
        if i % 2 == 0 {
            writeln!(doc, "organization: org-{i:05}\nprovider: sk\nname: Organization {i}\nmetadata: {{ tier: gold, cost_center: \"{i}\" }}\nfeatures: {{ sso: true }}").unwrap();
            writeln!(doc, "domains: [org{i}.example, {{ name: mail.org{i}.example, type: allowed_email }}, org{i}.io]").unwrap();
            doc.push_str("members:\n");
            for m in 0..5 {
                writeln!(
                    doc,
                    "  - {{ email: user{m}@org{i}.example, role: {} }}",
                    if m == 0 { "admin" } else { "member" }
                )
                .unwrap();
            }
        } else {
            writeln!(doc, "organization: org-{i:05}\nprovider: nv\nname: Organization {i}\nbilling_email: billing@org{i}.example").unwrap();
            writeln!(doc, "address: {{ line1: {i} Main St, city: Springfield, postal_code: \"{i:05}\", country: US }}").unwrap();
        }
        std::fs::write(dir.join(format!("orgs/org-{i:05}.yaml")), doc).unwrap();
    }
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .map_or(10_000, |n| n.parse().expect("a count"));
    let keep = std::env::args().nth(2).map(std::path::PathBuf::from);
    let dir = keep
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("orgform-bench-{count}")));
    let _ = std::fs::remove_dir_all(&dir);
    generate(&dir, count);
    let env = |_: &str| None;
    let mut best = f64::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        let (desired, _) =
            orgform::model::load_desired_state(&dir, &env).expect("generated workspace is valid");
        best = best.min(started.elapsed().as_secs_f64());
        assert_eq!(desired.organizations.len(), count);
    }
    println!("validate: {count} organizations in {best:.3} s (best of 3, files cached)");

    let config = "providers:\n  main:\n    kind: scalekit\n    sandbox: true\n";
    let mut bomb = String::from(
        "organization: bomb\nname: Bomb\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for level in 1..=12 {
        bomb.push_str(&format!(
            "l{level}: &l{level} [{}]\n",
            vec![format!("*l{}", level - 1); 10].join(", ")
        ));
    }
    let deep = format!(
        "organization: d\nname: D\nmetadata: {}1{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    for (what, text) in [
        ("alias bomb (10^13 expansions)", bomb),
        ("10,000-deep nesting", deep),
    ] {
        let started = Instant::now();
        let errors =
            orgform::model::validate_texts(config, &[("x.yaml", &text)], &env).unwrap_err();
        println!(
            "{what}: refused ({}) in {:.1} ms",
            errors[0].code(),
            started.elapsed().as_secs_f64() * 1e3
        );
    }
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// As the orgform binary allocates.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
