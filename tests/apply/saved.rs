//! Saved plans record their workspace: `apply --plan FILE` works from any directory, refuses
//! other manifests, and `show FILE` renders the plan.

use super::support::{Scenario, apply, assert_converged};
use crate::support::run_orgform_async;
use orgform::provider::settings::ClientOverrides;

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_applies_from_anywhere_and_shows_as_planned() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.manifest(
        "acme.yaml",
        "organization: acme\nname: Acme\ndomains: [acme.example]\n",
    );
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let elsewhere = tempfile::tempdir().unwrap();
    let file = elsewhere.path().join("plan.json");
    let file = file.to_str().unwrap();
    let env = [("TEST_SECRET", "sandbox-secret")];
    let (code, planned, stderr) = run_orgform_async(&["plan", &dir, "--out", file], &env).await;
    assert_eq!(code, 0, "{stderr}");

    for (format, name) in [("human", "show_human"), ("markdown", "show_markdown")] {
        let (code, shown, stderr) =
            run_orgform_async(&["show", file, "--format", format], &[]).await;
        assert_eq!(code, 0, "{stderr}");
        if format == "human" {
            assert_eq!(shown, planned, "show renders what plan printed");
        }
        insta::assert_snapshot!(name, shown);
    }
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(
        saved["workspace"]["dir"].as_str().unwrap(),
        std::path::absolute(scenario.dir.path())
            .unwrap()
            .to_str()
            .unwrap()
    );
    assert_eq!(
        saved["workspace"]["manifests_sha256"]
            .as_str()
            .unwrap()
            .len(),
        64
    );

    // From another directory, with no DIR: the plan's own workspace is used.
    let (code, stdout, stderr) = tokio::task::spawn_blocking({
        let file = file.to_owned();
        let cwd = elsewhere.path().to_owned();
        move || {
            let output = std::process::Command::new(env!("CARGO_BIN_EXE_orgform"))
                .args(["apply", "--plan", &file, "--auto-approve"])
                .current_dir(cwd)
                .env("TEST_SECRET", "sandbox-secret")
                .env("NO_COLOR", "1")
                .output()
                .unwrap();
            (
                output.status.code(),
                String::from_utf8_lossy(&output.stdout).into_owned(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("Apply complete: 2 done"), "{stdout}");
    assert_converged(&scenario).await;
}

/// `plan --out` of the scenario's workspace into a new directory (kept alive by the first
/// value): the plan file's path.
async fn saved_plan(scenario: &Scenario) -> (tempfile::TempDir, String) {
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("plan.json").to_str().unwrap().to_owned();
    let (code, _, stderr) = run_orgform_async(
        &["plan", &dir, "--out", &file],
        &[("TEST_SECRET", "sandbox-secret")],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    (out, file)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_is_refused_for_other_manifests() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.manifest("acme.yaml", "organization: acme\nname: Acme\n");
    let env = [("TEST_SECRET", "sandbox-secret")];
    let (_out, file) = saved_plan(&scenario).await;
    let file = file.as_str();
    // A manifest changed in a way that does not touch the planned organization.
    scenario.manifest("other.yaml", "organization: other\nname: Other\n");
    let (code, _, stderr) =
        run_orgform_async(&["apply", "--plan", file, "--auto-approve"], &env).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr
            .contains("made from other manifests than those in its workspace (`other.yaml` added)"),
        "{stderr}"
    );
    assert_eq!(
        scenario
            .sandbox
            .count("POST", "/scalekit/api/v1/organizations", 201)
            .await,
        0
    );
}

/// A plan of another format version (docs/compatibility.md) is refused by its version, for
/// `apply` and `show` alike, with nothing written.
#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_of_another_format_version_is_refused() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.manifest("acme.yaml", "organization: acme\nname: Acme\n");
    let env = [("TEST_SECRET", "sandbox-secret")];
    let (_out, file) = saved_plan(&scenario).await;
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("\"format_version\": \"1\""), "{text}");
    std::fs::write(
        &file,
        text.replace("\"format_version\": \"1\"", "\"format_version\": \"2\""),
    )
    .unwrap();
    for args in [
        vec!["apply", "--plan", &file, "--auto-approve"],
        vec!["show", &file],
    ] {
        let (code, _, stderr) = run_orgform_async(&args, &env).await;
        assert_eq!(code, 1, "{stderr}");
        assert!(
            stderr.contains("is a plan of format version 2; this orgform reads format version 1"),
            "{stderr}"
        );
    }
    assert_eq!(
        scenario
            .sandbox
            .count("POST", "/scalekit/api/v1/organizations", 201)
            .await,
        0
    );
}

/// No-ops are shown only in JSON: the JSON plan and a saved plan list every unchanged
/// resource, while the plan held for human output (and by apply) keeps none of them.
#[tokio::test(flavor = "multi_thread")]
async fn unchanged_resources_are_listed_in_json_and_saved_plans() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.manifest(
        "acme.yaml",
        "organization: acme\nname: Acme\ndomains: [acme.example]\n",
    );
    let (_, results) = apply(&scenario, ClientOverrides::default()).await;
    assert!(results.iter().all(|r| r.succeeded()), "{results:#?}");
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let env = [("TEST_SECRET", "sandbox-secret")];
    let no_ops = |json: &str| -> Vec<String> {
        let plan: serde_json::Value = serde_json::from_str(json).unwrap();
        plan["resource_changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                format!(
                    "{} {}",
                    c["action"].as_str().unwrap(),
                    c["address"].as_str().unwrap()
                )
            })
            .collect()
    };
    let expected = vec![
        "no-op org.acme".to_owned(),
        "no-op org.acme.domain[acme.example]".to_owned(),
    ];

    let (code, json, stderr) = run_orgform_async(&["plan", &dir, "--format", "json"], &env).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(no_ops(&json), expected);

    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("plan.json");
    let file = file.to_str().unwrap();
    let (code, human, stderr) = run_orgform_async(&["plan", &dir, "--out", file], &env).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(human.contains("No changes."), "{human}");
    assert_eq!(no_ops(&std::fs::read_to_string(file).unwrap()), expected);
    let (code, shown, stderr) = run_orgform_async(&["show", file, "--format", "json"], &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(no_ops(&shown), expected);
    assert_converged(&scenario).await;
}

/// A saved plan is the approval: `apply --plan` runs it without a prompt (and without
/// `--auto-approve`), and applying it again says it was already applied, writing nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_applies_without_a_prompt_and_only_once() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.manifest(
        "acme.yaml",
        "organization: acme\nname: Acme\ndomains: [acme.example]\n",
    );
    let env = [("TEST_SECRET", "sandbox-secret")];
    let (_out, file) = saved_plan(&scenario).await;
    let file = file.as_str();
    // No terminal and no --auto-approve: the saved plan is applied all the same.
    let (code, stdout, stderr) = run_orgform_async(&["apply", "--plan", file], &env).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("Apply complete: 2 done"), "{stdout}");
    let posts = scenario
        .sandbox
        .requests()
        .await
        .iter()
        .filter(|r| r["method"] == "POST")
        .count();
    let (code, stdout, stderr) = run_orgform_async(&["apply", "--plan", file], &env).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("the saved plan was already applied"),
        "{stdout}"
    );
    let again = scenario
        .sandbox
        .requests()
        .await
        .iter()
        .filter(|r| r["method"] == "POST")
        .count();
    assert_eq!(again, posts + 1, "only a token request");
    assert_converged(&scenario).await;
}
