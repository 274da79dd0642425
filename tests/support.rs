//! Helpers shared by the test modules.

use std::path::{Path, PathBuf};

use orgform::manifest::ManifestError;
use orgform::model::{DesiredState, load_desired_state};
use orgform::output::{Style, render_diagnostics};

/// A fixed environment, so that tests never depend on the machine's variables.
pub fn test_env(name: &str) -> Option<String> {
    match name {
        "ORGFORM_TEST_NAME" => Some("Acme".to_owned()),
        "ORGFORM_TEST_SECRET" => Some("s3cr3t-value-never-printed".to_owned()),
        _ => None,
    }
}

/// Paths relative to the package root, as the tests run there: snapshots stay machine-independent.
pub fn fixture(path: &str) -> PathBuf {
    Path::new("tests/fixtures").join(path)
}

pub fn load(dir: &Path) -> Result<DesiredState, Vec<ManifestError>> {
    load_desired_state(dir, &test_env)
        .map(|(d, _)| d)
        .map_err(|(e, _)| e)
}

pub fn render(errors: &[ManifestError]) -> String {
    render_diagnostics(errors, Style::plain())
}

/// The vendors' own documents (OpenAPI specs, documentation pages) are not part of the
/// repository. Checks against them run when they are found, in `$ORGFORM_VENDOR_DOCS` or in
/// `../shared` beside the checkout; otherwise they are skipped with a note on stderr, unless
/// `ORGFORM_REQUIRE_VENDOR_DOCS=1` (set by `.ci/run`) makes a missing document a failure.
pub fn vendor_document(relative: &str) -> Option<String> {
    static SKIPPED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let root = std::env::var_os("ORGFORM_VENDOR_DOCS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let path = root.join(relative);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) => {
            let required = std::env::var("ORGFORM_REQUIRE_VENDOR_DOCS").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "{}: {e} (ORGFORM_REQUIRE_VENDOR_DOCS=1 makes vendor-document checks mandatory)",
                path.display()
            );
            let mut skipped = SKIPPED.lock().unwrap_or_else(|p| p.into_inner());
            if !skipped.iter().any(|s| s == relative) {
                skipped.push(relative.to_owned());
                // Written past the test harness's capture, so that a skip is always visible.
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "note: skipped the checks against {relative} ({}: {e}); set ORGFORM_VENDOR_DOCS to the directory that holds it",
                    path.display()
                );
            }
            None
        }
    }
}

/// Runs the built `orgform` binary; returns (exit code, stdout, stderr).
pub fn run_orgform(args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_orgform"));
    command.args(args).env("NO_COLOR", "1");
    for (k, v) in envs {
        command.env(k, v);
    }
    let output = command.output().expect("orgform runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// [`run_orgform`] from async tests, without blocking the runtime that serves the sandbox.
pub async fn run_orgform_async(args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let envs: Vec<(String, String)> = envs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run_orgform(&args, &envs)
    })
    .await
    .unwrap()
}
