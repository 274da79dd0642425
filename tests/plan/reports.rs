//! Drift reports: the JUnit file parses as the common JUnit XML (`testsuites` / `testsuite` /
//! `testcase` / `failure`) that GitLab and Jenkins accept, the metrics file parses as the
//! Prometheus text format, both are pinned by snapshots for a plan with every kind of change,
//! and `plan --report` writes them for good and failed runs alike.

use std::collections::BTreeMap;

use orgform::report::{ReportKind, RunFacts, render};

use super::support::Scenario;
use crate::support::run_orgform_async;

const POLICY: &str = "policy:\n  prune: true\n  max_deletes: 5\n";

/// A workspace whose plan creates (globex), updates (acme's name), deletes (a pruned `old`)
/// and needs a person (acme's region), next to one unchanged organization (initech).
async fn every_kind_of_change() -> Scenario {
    let scenario = Scenario::new("scalekit", POLICY).await;
    scenario
        .sandbox
        .seed("scalekit:\n  organizations:\n    - { display_name: Acme, external_id: acme, metadata: { managed_by: orgform } }\n    - { display_name: Initech, external_id: initech, metadata: { managed_by: orgform } }\n    - { display_name: Old, external_id: old, metadata: { managed_by: orgform } }\n")
        .await;
    scenario.manifest(
        "acme.yaml",
        "organization: acme\nname: Acme Corp\nregion: EU\n",
    );
    scenario.manifest("initech.yaml", "organization: initech\nname: Initech\n");
    scenario.manifest("globex.yaml", "organization: globex\nname: Globex\n");
    scenario
}

fn facts<'a>(plan: &'a orgform::plan::Plan, organizations: &[&str]) -> RunFacts<'a> {
    RunFacts {
        plan: Some(plan),
        organizations: organizations
            .iter()
            .map(|o| ("main".to_owned(), o.to_string()))
            .collect(),
        failure: None,
        requests: BTreeMap::from([("main".to_owned(), 5)]),
        refresh_seconds: 0.25,
        finished_at: 1_796_292_720.0,
    }
}

/// The metrics text with each family's samples sorted (a family's label sets come in hash
/// order).
fn sorted_samples(text: &str) -> String {
    let mut out = Vec::new();
    let mut samples: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            samples.sort();
            out.append(&mut samples);
            out.push(line);
        } else {
            samples.push(line);
        }
    }
    samples.sort();
    out.append(&mut samples);
    out.join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn junit_and_metrics_reports_of_every_kind_of_change() {
    let scenario = every_kind_of_change().await;
    let (plan, _) = scenario.plan(&[]).await.expect("plan");
    let facts = facts(&plan, &["org.acme", "org.globex", "org.initech", "org.old"]);

    let junit = render(ReportKind::Junit, &facts, None);
    let document = roxmltree::Document::parse(&junit).expect("well-formed XML");
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let mut cases = BTreeMap::new();
    // The rules of the common JUnit schema (Jenkins' junit-4.xsd, which GitLab reads too):
    // `testsuites` holds `testsuite`s, each with `name`, `tests`, `failures` and `errors`; a
    // `testcase` has `name` and `classname` and holds only skipped / error / failure /
    // system-out / system-err.
    for suite in root.children().filter(|n| n.is_element()) {
        assert_eq!(suite.tag_name().name(), "testsuite");
        for attribute in ["name", "tests", "failures", "errors"] {
            assert!(
                suite.attribute(attribute).is_some(),
                "testsuite without {attribute}"
            );
        }
        let listed: Vec<_> = suite.children().filter(|n| n.is_element()).collect();
        assert_eq!(
            suite.attribute("tests"),
            Some(listed.len().to_string().as_str())
        );
        let failures = listed
            .iter()
            .filter(|c| c.children().any(|f| f.tag_name().name() == "failure"))
            .count();
        assert_eq!(
            suite.attribute("failures"),
            Some(failures.to_string().as_str())
        );
        for case in listed {
            assert_eq!(case.tag_name().name(), "testcase");
            assert!(case.attribute("name").is_some());
            assert!(case.attribute("classname").is_some());
            for child in case.children().filter(|n| n.is_element()) {
                assert!(
                    ["skipped", "error", "failure", "system-out", "system-err"]
                        .contains(&child.tag_name().name()),
                    "testcase holds {}",
                    child.tag_name().name()
                );
            }
            let failure = case
                .children()
                .find(|f| f.tag_name().name() == "failure")
                .map(|f| f.attribute("message").unwrap().to_owned());
            cases.insert(case.attribute("name").unwrap().to_owned(), failure);
        }
    }
    assert_eq!(
        cases,
        BTreeMap::from([
            (
                "org.acme".to_owned(),
                Some("0 to add, 1 to change, 0 to destroy, 1 needs manual action".to_owned())
            ),
            (
                "org.globex".to_owned(),
                Some("1 to add, 0 to change, 0 to destroy, 0 need manual action".to_owned())
            ),
            ("org.initech".to_owned(), None),
            (
                "org.old".to_owned(),
                Some("0 to add, 0 to change, 1 to destroy, 0 need manual action".to_owned())
            ),
        ])
    );
    insta::assert_snapshot!("report_junit", junit);

    let metrics = render(ReportKind::Metrics, &facts, None);
    let scrape =
        prometheus_parse::Scrape::parse(metrics.lines().map(|l| Ok(l.to_owned()))).expect("parses");
    let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
        let sample = scrape
            .samples
            .iter()
            .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .unwrap_or_else(|| panic!("no {name} {labels:?} in\n{metrics}"));
        match sample.value {
            prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
            ref other => panic!("{name} is {other:?}"),
        }
    };
    for (action, count) in [
        ("create", 1.0),
        ("update", 1.0),
        ("delete", 1.0),
        ("manual", 1.0),
    ] {
        assert_eq!(
            value(
                "orgform_plan_changes",
                &[("provider", "main"), ("action", action)]
            ),
            count,
            "{action}"
        );
    }
    assert_eq!(
        value("orgform_refresh_requests", &[("provider", "main")]),
        5.0
    );
    assert_eq!(value("orgform_refresh_duration_seconds", &[]), 0.25);
    assert_eq!(
        value("orgform_last_run_timestamp_seconds", &[]),
        1_796_292_720.0
    );
    assert_eq!(value("orgform_last_run_success", &[]), 1.0);
    insta::assert_snapshot!("report_metrics", sorted_samples(&metrics));
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_writes_every_report_it_is_asked_for_even_when_the_run_fails() {
    let scenario = every_kind_of_change().await;
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let out = tempfile::tempdir().unwrap();
    let junit = out.path().join("drift.xml");
    let metrics = out.path().join("orgform.prom");
    let args = |extra: &[&str]| -> Vec<String> {
        let mut args = vec![
            "plan".to_owned(),
            dir.clone(),
            "--detailed-exitcode".to_owned(),
            "--report".to_owned(),
            format!("junit={}", junit.display()),
            "--report".to_owned(),
            format!("metrics={}", metrics.display()),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        args
    };
    let env = [("TEST_SECRET", "sandbox-secret")];
    let run = |args: Vec<String>| async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_orgform_async(&args, &env).await
    };

    let (code, stdout, stderr) = run(args(&[])).await;
    assert_eq!(code, 3, "drift needing a person: {stdout}{stderr}");
    let text = std::fs::read_to_string(&junit).unwrap();
    assert!(
        text.contains(r#"<testcase name="org.initech" classname="main"/>"#),
        "passed: {text}"
    );
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        text.contains(r#"orgform_plan_changes{provider="main",action="create"} 1"#),
        "{text}"
    );
    assert!(text.contains("orgform_last_run_success 1"), "{text}");
    let files: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 2, "no temporary file is left: {files:?}");

    // The vendor fails: both reports say so, and the exit code is 1.
    scenario
        .sandbox
        .faults(serde_json::json!({ "scripts": [{ "method": "GET", "route": "/scalekit/api/v1/organizations", "nth": 1, "times": 100, "status": 403 }] }))
        .await;
    let (code, stdout, stderr) = run(args(&[])).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(text.contains("orgform_last_run_success 0"), "{text}");
    // A failed run counts nothing itself: it keeps the last run's counts, so that a drift
    // alert does not resolve while the vendor is down.
    assert!(
        text.contains(r#"orgform_plan_changes{provider="main",action="create"} 1"#),
        "the last counts are kept: {text}"
    );
    let text = std::fs::read_to_string(&junit).unwrap();
    let document = roxmltree::Document::parse(&text).unwrap();
    let error = document
        .descendants()
        .find(|n| n.tag_name().name() == "error")
        .unwrap_or_else(|| panic!("{text}"));
    assert!(error.text().unwrap().contains("403"), "{text}");

    // A report flag that names no kind is a usage error.
    let (code, _, stderr) = run(vec![
        "plan".into(),
        dir.clone(),
        "--report".into(),
        "xml=out.xml".into(),
    ])
    .await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("unknown report `xml`"), "{stderr}");
}
