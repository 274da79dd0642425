//! Writes to stdout are checked: when stdout cannot take the output (`/dev/full`), every
//! command that prints exits 1 naming what could not be written, whatever it would have
//! exited with (a CI job must never post an empty comment and pass).

use crate::plan::support::Scenario;

/// Runs orgform with stdout on `/dev/full`: (exit code, stderr).
fn into_full_device(args: &[&str]) -> (Option<i32>, String) {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_orgform"))
        .args(args)
        .env("TEST_SECRET", "sandbox-secret")
        .env("NO_COLOR", "1")
        .stdout(full)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_stdout_makes_every_output_command_exit_1() {
    if !std::path::Path::new("/dev/full").exists() {
        eprintln!("note: skipped: this system has no /dev/full");
        return;
    }
    let scenario = Scenario::new("scalekit", "").await;
    scenario.manifest("acme.yaml", "organization: acme\nname: Acme\n");
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let saved = scenario.dir.path().join("plan.json");
    let saved = saved.to_str().unwrap().to_owned();
    let (code, _, stderr) = crate::support::run_orgform_async(
        &["plan", &dir, "--out", &saved],
        &[("TEST_SECRET", "sandbox-secret")],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let commands: Vec<Vec<&str>> = vec![
        vec!["validate", &dir],
        vec!["validate", &dir, "--format", "json"],
        vec!["plan", &dir],
        vec!["plan", &dir, "--format", "json"],
        vec!["plan", &dir, "--format", "markdown", "--detailed-exitcode"],
        vec!["show", &saved],
        vec!["show", &saved, "--format", "json"],
        vec!["show", &saved, "--format", "markdown"],
        vec!["completions", "bash"],
        vec!["--version"],
        vec!["plan", "--help"],
    ];
    for args in commands {
        let (code, stderr) = tokio::task::spawn_blocking({
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            move || into_full_device(&args.iter().map(String::as_str).collect::<Vec<_>>())
        })
        .await
        .unwrap();
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("to stdout: No space left on device"),
            "{args:?}: {stderr}"
        );
    }
}

/// `--report` and `--out` to `/dev/stdout` (a link to the process's pipe) or `-` write to it
/// directly, and leave it what it was: never replaced by a regular file.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn reports_and_plans_to_dev_stdout_write_through_and_leave_it_alone() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.manifest("acme.yaml", "organization: acme\nname: Acme\n");
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let kind = |path: &str| std::fs::symlink_metadata(path).map(|m| m.file_type());
    let before = kind("/dev/stdout").unwrap();
    assert!(!before.is_file());
    for target in ["/dev/stdout", "-"] {
        let (code, stdout, stderr) = crate::support::run_orgform_async(
            &[
                "plan",
                &dir,
                "--report",
                &format!("junit={target}"),
                "--out",
                target,
            ],
            &[("TEST_SECRET", "sandbox-secret")],
        )
        .await;
        assert_eq!(code, 0, "{target}: {stdout}{stderr}");
        assert!(stdout.contains("<testsuites"), "{target}: {stdout}");
        assert!(stdout.contains("\"format_version\""), "{target}: {stdout}");
        assert!(stdout.contains("Plan: 1 to add"), "{target}: {stdout}");
    }
    let after = kind("/dev/stdout").unwrap();
    if after.is_file() && before.is_symlink() {
        // A regression replaced the machine's /dev/stdout (as root): put the link back before
        // failing, so that the rest of the run is not broken by it.
        let _ = std::fs::remove_file("/dev/stdout");
        let _ = std::os::unix::fs::symlink("/proc/self/fd/1", "/dev/stdout");
    }
    assert_eq!(after, before, "/dev/stdout is what it was");
}
