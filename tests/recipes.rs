//! The CI recipes in `examples/ci/` are part of the product: each GitHub workflow and the GitLab
//! file is read, and the shell of its steps is run the way that CI system runs it, against the
//! sandbox, with orgform installed the way the recipe installs it (the setup action or
//! `install.sh`) from a local directory laid out as a release by `.github/scripts/package.sh`
//! from the freshly built binary, and `cargo`, `gh` and `curl` replaced by recorders (`curl`
//! fetches `file://` URLs for real). Four cases each: no changes, changes, a failure (the vendor answers
//! 500) and drift that needs a person (exit 3). Each asserts the job's status and what reached
//! the summary, comment or note.
//!
//! How the two systems run a step, as modelled here:
//! - GitHub Actions: each `run:` step is a script file run by `bash -e {0}`, or, with
//!   `shell: bash`, `bash --noprofile --norc -eo pipefail {0}`; `${{ … }}` is substituted
//!   first; a step runs when its `if:` holds (default `success()`); `GITHUB_OUTPUT` (fresh per
//!   step), `GITHUB_STEP_SUMMARY` and `GITHUB_ENV` are files.
//! - GitLab CI: `default.before_script` and the job's `script` lines run in one bash shell with
//!   `set -e`; the job fails when the shell does.
//! - The cache ([`Cache`]): GitHub's `actions/cache/restore` and `actions/cache/save` where the
//!   step is, the all-in-one `actions/cache` restoring where it is and saving only after a
//!   success; GitLab's `cache:` restored before the job and saved after it as its `when` says.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::sandbox::support::TestSandbox;

/// GitHub's limit on the body of an issue or pull-request comment.
const GITHUB_COMMENT_LIMIT: usize = 65_536;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    NoChanges,
    Changes,
    /// The vendor answers 500 to every organization listing.
    Failure,
    /// A read-only difference: exit 3 with `--detailed-exitcode`.
    Manual,
}

const CASES: [Case; 4] = [Case::NoChanges, Case::Changes, Case::Failure, Case::Manual];

/// A prepared CI workspace: the repository checkout (`tenants/` inside), recorders on `PATH`,
/// and the sandbox holding the live state.
struct Checkout {
    sandbox: TestSandbox,
    dir: tempfile::TempDir,
    /// The SHA-256 the recipe pins (`ORGFORM_SHA256`): the release's, unless a test says other.
    sha256: String,
}

impl Checkout {
    async fn new(case: Case) -> Checkout {
        let sandbox = TestSandbox::start().await;
        sandbox
            .seed("scalekit:\n  organizations:\n    - { display_name: Acme, external_id: acme, metadata: { managed_by: orgform } }\n")
            .await;
        let dir = tempfile::tempdir().unwrap();
        let tenants = dir.path().join("repo/tenants");
        std::fs::create_dir_all(&tenants).unwrap();
        // Credentials and the URL come from the job's environment, as in the recipes.
        std::fs::write(
            tenants.join("orgform.yaml"),
            "providers:\n  main:\n    kind: scalekit\n",
        )
        .unwrap();
        let acme = match case {
            Case::Manual => "organization: acme\nname: Acme\nregion: EU\n",
            _ => "organization: acme\nname: Acme\n",
        };
        std::fs::write(tenants.join("acme.yaml"), acme).unwrap();
        if case == Case::Changes {
            std::fs::write(
                tenants.join("globex.yaml"),
                "organization: globex\nname: Globex\ndomains: [globex.example]\n",
            )
            .unwrap();
        }
        if case == Case::Failure {
            sandbox
                .faults(json!({ "scripts": [{ "method": "GET", "route": "/scalekit/api/v1/organizations", "nth": 1, "times": 1000, "status": 500 }] }))
                .await;
        }
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for (name, script) in RECORDERS {
            let path = bin.join(name);
            std::fs::write(&path, script).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("records")).unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Checkout {
            sandbox,
            dir,
            sha256: release().sha256.clone(),
        }
    }

    fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    fn record(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.path().join("records").join(name)).ok()
    }

    /// The environment every step starts from: a clean `PATH` with the recorders first, then
    /// `~/.cargo/bin` as on GitHub's runners (empty until `cargo install` puts orgform there).
    fn base_env(&self) -> Vec<(String, String)> {
        let home = self.dir.path().join("home");
        let path = format!(
            "{}:{}/.cargo/bin:/usr/bin:/bin",
            self.dir.path().join("bin").display(),
            home.display()
        );
        vec![
            ("ORGFORM_BUILT".into(), env!("CARGO_BIN_EXE_orgform").into()),
            ("PATH".into(), path),
            (
                "HOME".into(),
                self.dir.path().join("home").display().to_string(),
            ),
            (
                "RECORDS".into(),
                self.dir.path().join("records").display().to_string(),
            ),
            ("NO_COLOR".into(), "1".into()),
        ]
    }

    /// Values of the `${{ … }}` expressions and CI variables the recipes use.
    fn variables(&self) -> BTreeMap<&'static str, String> {
        BTreeMap::from([
            (
                "vars.SCALEKIT_ENVIRONMENT_URL",
                self.sandbox.url("/scalekit"),
            ),
            ("vars.SCALEKIT_CLIENT_ID", "sandbox-client".into()),
            ("secrets.SCALEKIT_CLIENT_SECRET", "sandbox-secret".into()),
            ("secrets.ORGFORM_LOCK_URL", String::new()),
            // Only the first apply recipe (below) still names these.
            (
                "vars.ORGFORM_GIT_URL",
                "https://git.example/orgform.git".into(),
            ),
            ("vars.ORGFORM_VERSION", release().version.clone()),
            ("vars.ORGFORM_SHA256", self.sha256.clone()),
            ("vars.ORGFORM_RELEASES", release().url.clone()),
            ("github.event.pull_request.number", "7".into()),
            ("github.token", "gh-test-token".into()),
            ("github.run_id", "1001".into()),
            ("github.run_attempt", "1".into()),
            ("runner.os", "Linux".into()),
            (
                "runner.temp",
                self.dir.path().join("runner-temp").display().to_string(),
            ),
        ])
    }
}

/// `cargo`, `gh` and `curl` as recorders: each call is logged; the body of a comment or note
/// is kept; `curl` of a `file://` URL (the local release) fetches it; `cargo install` would
/// "install" the freshly built orgform where it puts it (the recipes must not call it).
const RECORDERS: [(&str, &str); 3] = [
    (
        "cargo",
        "#!/bin/bash\necho \"cargo $*\" >> \"$RECORDS/calls\"\nroot=\"$HOME/.cargo\"\nwhile [ $# -gt 0 ]; do\n  if [ \"$1\" = --root ]; then root=\"$2\"; fi\n  shift\ndone\nmkdir -p \"$root/bin\" && ln -sf \"$ORGFORM_BUILT\" \"$root/bin/orgform\"\n",
    ),
    (
        "gh",
        "#!/bin/bash\necho \"gh $*\" >> \"$RECORDS/calls\"\nwhile [ $# -gt 0 ]; do\n  if [ \"$1\" = --body-file ]; then cat \"$2\" > \"$RECORDS/comment.md\"; fi\n  shift\ndone\n",
    ),
    (
        "curl",
        "#!/bin/bash\necho \"curl $*\" >> \"$RECORDS/calls\"\nfor a in \"$@\"; do case \"$a\" in file://*) exec /usr/bin/curl \"$@\";; esac; done\nwhile [ $# -gt 0 ]; do\n  case \"$1\" in --data-urlencode) f=\"${2#body@}\"; [ \"$f\" != \"$2\" ] && cat \"$f\" > \"$RECORDS/note.md\";; esac\n  shift\ndone\n",
    ),
];

/// A local directory laid out as orgform's releases are (`URL/vVERSION/ARCHIVE`, its
/// `.sha256` and `install.sh`), packed by the release workflow's own scripts from the freshly
/// built binary (stripped of its debug information, which only slows the tests), once per run.
pub struct Release {
    /// `file://…`: what `--base-url` and the recipes' `ORGFORM_RELEASES` take.
    pub url: String,
    pub version: String,
    /// The SHA-256 of this machine's archive.
    pub sha256: String,
    /// This machine's archive.
    pub archive: PathBuf,
}

/// The target `install.sh` picks on this machine.
fn this_target() -> String {
    let arch = std::env::consts::ARCH;
    match std::env::consts::OS {
        "linux" => format!("{arch}-unknown-linux-musl"),
        "macos" => format!("{arch}-apple-darwin"),
        other => panic!("no release target for {other}"),
    }
}

pub fn release() -> &'static Release {
    static RELEASE: std::sync::OnceLock<Release> = std::sync::OnceLock::new();
    RELEASE.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().unwrap().keep();
        let version = env!("CARGO_PKG_VERSION").to_owned();
        let binary = dir.join("orgform");
        std::fs::copy(env!("CARGO_BIN_EXE_orgform"), &binary).unwrap();
        let _ = std::process::Command::new("strip").arg(&binary).status();
        let run = |script: &str, args: &[&str]| {
            let output = std::process::Command::new("sh")
                .arg(root.join(".github/scripts").join(script))
                .args(args)
                .current_dir(root)
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{script}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        };
        let generated = dir.join("generated");
        let download = dir.join("download");
        let at = download.join(format!("v{version}"));
        let target = this_target();
        run(
            "generate.sh",
            &[binary.to_str().unwrap(), generated.to_str().unwrap()],
        );
        run(
            "package.sh",
            &[
                &version,
                &target,
                binary.to_str().unwrap(),
                generated.to_str().unwrap(),
                at.to_str().unwrap(),
            ],
        );
        std::fs::copy(root.join("install.sh"), at.join("install.sh")).unwrap();
        let archive = at.join(format!("orgform-{version}-{target}.tar.gz"));
        let sums = std::fs::read_to_string(archive.with_extension("gz.sha256")).unwrap();
        let (sha256, file) = sums.trim().split_once("  ").unwrap();
        assert_eq!(file, archive.file_name().unwrap().to_str().unwrap());
        Release {
            url: format!("file://{}", download.display()),
            version,
            sha256: sha256.to_owned(),
            archive,
        }
    })
}

/// The composite action `uses:` names in this repository (`orgform/orgform/PATH@REF`), run
/// as Actions runs a composite: each step's `${{ inputs.* }}` from the step's `with:` (or the
/// input's default), `GITHUB_ACTION_PATH` its folder, and what it appends to `GITHUB_PATH`
/// put before `PATH` for the job's later steps. Returns the exit status and the log.
async fn run_composite(
    action: &str,
    with: &Value,
    variables: &BTreeMap<&'static str, String>,
    env: &mut [(String, String)],
    checkout: &Checkout,
    n: usize,
) -> (i32, String) {
    let path = action
        .strip_prefix("orgform/orgform/")
        .and_then(|a| a.split('@').next())
        .unwrap_or_else(|| panic!("the recipe test does not model the action {action}"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let folder = root.join(path);
    let definition = load(folder.join("action.yml").to_str().unwrap());
    assert_eq!(definition["runs"]["using"], "composite");
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    for (name, input) in definition["inputs"].as_object().unwrap() {
        let given = with[name].as_str().map(|v| substitute(v, variables));
        let value = given.unwrap_or_else(|| input["default"].as_str().unwrap_or("").to_owned());
        assert!(
            !(input["required"] == json!(true) && value.is_empty()),
            "the action's input {name} is required"
        );
        values.insert(format!("inputs.{name}"), value);
    }
    for (key, value) in variables {
        values.insert((*key).to_owned(), value.clone());
    }
    let value_of = |expr: &str| {
        values
            .get(expr)
            .unwrap_or_else(|| panic!("the action test does not know `${{{{ {expr} }}}}`"))
            .clone()
    };
    let work = checkout.dir.path();
    let github_path = work.join(format!("github-path-{n}"));
    std::fs::write(&github_path, "").unwrap();
    let mut log = String::new();
    for (m, step) in definition["runs"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        assert_eq!(
            step["shell"], "bash",
            "composite run steps name their shell"
        );
        let script = replace_expressions(step["run"].as_str().unwrap(), value_of);
        let script_file = work.join(format!("action-{n}-{m}.sh"));
        std::fs::write(&script_file, script).unwrap();
        let step_env: Vec<(String, String)> = step["env"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                (
                    k.clone(),
                    replace_expressions(v.as_str().unwrap(), value_of),
                )
            })
            .collect();
        let output = tokio::process::Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script_file)
            .current_dir(checkout.repo())
            .env_clear()
            .envs(env.iter().cloned())
            .envs(step_env)
            .env("GITHUB_ACTION_PATH", &folder)
            .env("GITHUB_PATH", &github_path)
            .env("GITHUB_OUTPUT", work.join(format!("action-output-{n}-{m}")))
            .output()
            .await
            .unwrap();
        log.push_str(&String::from_utf8_lossy(&output.stdout));
        log.push_str(&String::from_utf8_lossy(&output.stderr));
        let code = output.status.code().unwrap_or(-1);
        if code != 0 {
            return (code, log);
        }
    }
    let added: Vec<String> = std::fs::read_to_string(&github_path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    if let Some((_, path)) = env.iter_mut().find(|(k, _)| k == "PATH") {
        for dir in added {
            *path = format!("{dir}:{path}");
        }
    }
    (0, log)
}

/// What one job did.
#[derive(Debug)]
struct JobRun {
    passed: bool,
    /// Each step that ran: its name and exit status.
    steps: Vec<(String, i32)>,
    /// `GITHUB_STEP_SUMMARY` (GitHub) or the job log (GitLab).
    summary: String,
    log: String,
}

fn load(path: &str) -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The CI system's cache, as GitHub's and GitLab's behave for the recipes: an entry per key in
/// `cache/`, written once (saving under a key that exists changes nothing); a restore takes the
/// exact key, else the newest entry whose key starts with one of the restore keys.
struct Cache<'a> {
    checkout: &'a Checkout,
}

impl Cache<'_> {
    fn root(&self) -> PathBuf {
        self.checkout.dir.path().join("cache")
    }

    /// Copies the entry into `path` (relative to the checkout); whether the key itself matched.
    fn restore(&self, path: &str, key: &str, restore_keys: &[String]) -> bool {
        let root = self.root();
        let newest = |prefix: &str| {
            std::fs::read_dir(&root)
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
                .max_by_key(|e| std::fs::read_to_string(e.path().join("order")).unwrap())
                .map(|e| e.path())
        };
        let exact = root.join(key);
        let found = if exact.is_dir() {
            Some(exact)
        } else {
            restore_keys.iter().find_map(|prefix| newest(prefix))
        };
        if let Some(entry) = &found {
            copy_tree(&entry.join("content"), &self.checkout.repo().join(path));
        }
        found.is_some_and(|entry| entry.ends_with(key))
    }

    /// Saves `path` under `key` unless it does not exist (a warning, not a failure, on both
    /// systems) or the key is taken.
    fn save(&self, path: &str, key: &str) {
        let from = self.checkout.repo().join(path);
        if !from.exists() || self.root().join(key).exists() {
            return;
        }
        self.store(&from, key);
        let mut saves = self.saves();
        saves.push_str(key);
        saves.push('\n');
        std::fs::write(self.checkout.dir.path().join("cache-saves"), saves).unwrap();
    }

    /// Makes the directory `from` the newest entry, under `key`.
    fn store(&self, from: &Path, key: &str) {
        let entry = self.root().join(key);
        let order = std::fs::read_dir(self.root()).map_or(0, |d| d.count());
        copy_tree(from, &entry.join("content"));
        std::fs::write(entry.join("order"), format!("{order:08}")).unwrap();
    }

    /// The keys saved, one per line, in order.
    fn saves(&self) -> String {
        std::fs::read_to_string(self.checkout.dir.path().join("cache-saves")).unwrap_or_default()
    }

    /// The files of every entry saved, by key.
    fn entries(&self) -> BTreeMap<String, Vec<String>> {
        std::fs::read_dir(self.root())
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .map(|e| {
                let mut files: Vec<String> = std::fs::read_dir(e.path().join("content"))
                    .unwrap()
                    .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
                    .collect();
                files.sort();
                (e.file_name().to_string_lossy().into_owned(), files)
            })
            .collect()
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Substitutes `${{ expr }}`; an expression the test does not know fails the test, so a new
/// recipe is modelled before it is trusted.
fn substitute(text: &str, variables: &BTreeMap<&'static str, String>) -> String {
    replace_expressions(text, |expr| {
        variables
            .get(expr)
            .unwrap_or_else(|| panic!("the recipe test does not know `${{{{ {expr} }}}}`"))
            .clone()
    })
}

/// `text` with each `${{ expr }}` replaced by `value(expr)`.
fn replace_expressions(text: &str, value: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("a closed expression") + start;
        out.push_str(&value(rest[start + 3..end].trim()));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// A step's `if:`, in the forms the recipes use: `always()`, `success()`, `failure()` and
/// `steps.ID.outputs.NAME == / != 'VALUE'`, joined by `&&`.
fn condition_holds(
    condition: Option<&str>,
    failed: bool,
    outputs: &BTreeMap<String, BTreeMap<String, String>>,
) -> bool {
    let Some(condition) = condition else {
        return !failed;
    };
    let condition = condition
        .trim()
        .trim_start_matches("${{")
        .trim_end_matches("}}");
    let mut status_checked = false;
    let mut holds = true;
    for term in condition.split("&&").map(str::trim) {
        match term {
            "always()" => status_checked = true,
            "success()" => {
                status_checked = true;
                holds &= !failed;
            }
            "failure()" => {
                status_checked = true;
                holds &= failed;
            }
            comparison => {
                let (left, right, equal) = match comparison.split_once("!=") {
                    Some((l, r)) => (l, r, false),
                    None => {
                        let (l, r) = comparison
                            .split_once("==")
                            .unwrap_or_else(|| panic!("unknown condition `{comparison}`"));
                        (l, r, true)
                    }
                };
                let path: Vec<&str> = left.trim().split('.').collect();
                let ["steps", id, "outputs", name] = path[..] else {
                    panic!("unknown condition `{comparison}`");
                };
                let value = outputs
                    .get(id)
                    .and_then(|o| o.get(name))
                    .cloned()
                    .unwrap_or_default();
                let expected = right.trim().trim_matches('\'');
                holds &= (value == expected) == equal;
            }
        }
    }
    if !status_checked {
        holds &= !failed;
    }
    holds
}

/// `KEY=VALUE` lines of a `GITHUB_OUTPUT` file.
fn outputs_of(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn env_map(value: &Value, variables: &BTreeMap<&'static str, String>) -> Vec<(String, String)> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), substitute(&text, variables))
        })
        .collect()
}

/// Runs the one job of a GitHub workflow as Actions would.
async fn run_github(workflow: &Value, checkout: &Checkout) -> JobRun {
    let jobs = workflow["jobs"].as_object().unwrap();
    assert_eq!(jobs.len(), 1, "one job per workflow");
    let job = jobs.values().next().unwrap();
    let variables = checkout.variables();
    let work = checkout.dir.path();
    let summary = work.join("summary.md");
    std::fs::write(&summary, "").unwrap();
    let mut env = checkout.base_env();
    env.extend(env_map(&job["env"], &variables));
    env.push(("GITHUB_STEP_SUMMARY".into(), summary.display().to_string()));
    env.push((
        "GITHUB_ENV".into(),
        work.join("github_env").display().to_string(),
    ));
    let mut outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut failed = false;
    let mut steps = Vec::new();
    let mut log = String::new();
    let cache = Cache { checkout };
    let mut saves_after_success = Vec::new();
    for (n, step) in job["steps"].as_array().unwrap().iter().enumerate() {
        let name = step["name"].as_str().unwrap_or("(unnamed)").to_owned();
        if !condition_holds(step["if"].as_str(), failed, &outputs) {
            continue;
        }
        let id = step["id"].as_str().map(str::to_owned);
        if let Some(action) = step["uses"].as_str() {
            // Actions are GitHub's own: the checkout is there, the cache is [`Cache`], an
            // artifact is kept if its file exists.
            let with =
                |name: &str| substitute(step["with"][name].as_str().unwrap_or(""), &variables);
            match action.split('@').next().unwrap() {
                "actions/checkout" => {}
                "actions/cache" | "actions/cache/restore" => {
                    let (path, key) = (with("path"), with("key"));
                    let restore_keys: Vec<String> =
                        with("restore-keys").lines().map(str::to_owned).collect();
                    let hit = cache.restore(&path, &key, &restore_keys);
                    if let Some(id) = id {
                        outputs.insert(id, BTreeMap::from([("cache-hit".into(), hit.to_string())]));
                    }
                    // The all-in-one action saves in its post step, which runs only after a
                    // success.
                    if action.starts_with("actions/cache@") {
                        saves_after_success.push((path, key));
                    }
                }
                "actions/cache/save" => cache.save(&with("path"), &with("key")),
                "actions/upload-artifact" => {
                    let path = step["with"]["path"].as_str().unwrap();
                    log.push_str(&format!(
                        "artifact {path}: {}\n",
                        checkout.repo().join(path).exists()
                    ));
                }
                other if other.starts_with("orgform/orgform/") => {
                    let (code, action_log) =
                        run_composite(action, &step["with"], &variables, &mut env, checkout, n)
                            .await;
                    log.push_str(&format!("== {name} (exit {code})\n{action_log}"));
                    if code != 0 {
                        failed = true;
                    }
                    steps.push((name, code));
                    continue;
                }
                other => panic!("the recipe test does not model the action {other}"),
            }
            steps.push((name, 0));
            continue;
        }
        let script = substitute(step["run"].as_str().unwrap(), &variables);
        let script_file = work.join(format!("step-{n}.sh"));
        std::fs::write(&script_file, script).unwrap();
        let output_file = work.join(format!("output-{n}"));
        std::fs::write(&output_file, "").unwrap();
        let shell: &[&str] = match step["shell"].as_str() {
            None => &["bash", "-e"],
            Some("bash") => &["bash", "--noprofile", "--norc", "-eo", "pipefail"],
            Some(other) => panic!("the recipe test does not model `shell: {other}`"),
        };
        let mut command = tokio::process::Command::new(shell[0]);
        command
            .args(&shell[1..])
            .arg(&script_file)
            .current_dir(checkout.repo())
            .env_clear()
            .envs(env.iter().cloned())
            .envs(env_map(&step["env"], &variables))
            .env("GITHUB_OUTPUT", &output_file);
        let output = command.output().await.unwrap();
        let code = output.status.code().unwrap_or(-1);
        log.push_str(&format!(
            "== {name} (exit {code})\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
        if let Some(id) = id {
            outputs.insert(id, outputs_of(&output_file));
        }
        if code != 0 && step["continue-on-error"] != json!(true) {
            failed = true;
        }
        steps.push((name, code));
    }
    if !failed {
        for (path, key) in saves_after_success {
            cache.save(&path, &key);
        }
    }
    JobRun {
        passed: !failed,
        steps,
        summary: std::fs::read_to_string(&summary).unwrap(),
        log,
    }
}

/// Runs one job of the GitLab file as a runner's bash would.
async fn run_gitlab(pipeline: &Value, job: &str, checkout: &Checkout) -> JobRun {
    let lines = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|l| l.as_str().unwrap().to_owned())
            .collect()
    };
    let mut script = String::from("set -e\n");
    for line in lines(&pipeline["default"]["before_script"])
        .into_iter()
        .chain(lines(&pipeline[job]["script"]))
    {
        script.push_str(line.trim_end());
        script.push('\n');
    }
    let variables = checkout.variables();
    let work = checkout.dir.path();
    let script_file = work.join(format!("{job}.sh"));
    std::fs::write(&script_file, &script).unwrap();
    let mut env = checkout.base_env();
    for (name, expr) in [
        ("SCALEKIT_ENVIRONMENT_URL", "vars.SCALEKIT_ENVIRONMENT_URL"),
        ("SCALEKIT_CLIENT_ID", "vars.SCALEKIT_CLIENT_ID"),
        ("SCALEKIT_CLIENT_SECRET", "secrets.SCALEKIT_CLIENT_SECRET"),
        ("ORGFORM_VERSION", "vars.ORGFORM_VERSION"),
        ("ORGFORM_SHA256", "vars.ORGFORM_SHA256"),
    ] {
        env.push((name.into(), variables[expr].clone()));
    }
    // The pipeline's `variables:`, as the project's CI/CD variables override them (the mirror
    // is the local release).
    for (name, value) in pipeline["variables"].as_object().into_iter().flatten() {
        let value = match name.as_str() {
            "ORGFORM_RELEASES" => variables["vars.ORGFORM_RELEASES"].clone(),
            _ => value.as_str().unwrap().to_owned(),
        };
        env.push((name.clone(), value));
    }
    env.extend([
        (
            "CI_PROJECT_DIR".into(),
            checkout.repo().display().to_string(),
        ),
        (
            "CI_API_V4_URL".into(),
            "https://gitlab.example/api/v4".into(),
        ),
        ("CI_PROJECT_ID".into(), "42".into()),
        ("CI_MERGE_REQUEST_IID".into(), "7".into()),
        ("GITLAB_API_TOKEN".into(), "glpat-test".into()),
    ]);
    // The job's `cache:` replaces the default's; restored before the job, saved after it as
    // `when` says (default `on_success`).
    let cache_spec = match &pipeline[job]["cache"] {
        Value::Null => &pipeline["default"]["cache"],
        own => own,
    };
    let cache = Cache { checkout };
    let cached: Vec<String> = lines(&cache_spec["paths"]);
    assert!(cached.len() <= 1, "the recipe test models one cached path");
    let cache_key = cache_spec["key"].as_str().unwrap_or("default").to_owned();
    for path in &cached {
        cache.restore(path, &cache_key, &[]);
    }
    let output = tokio::process::Command::new("bash")
        .arg(&script_file)
        .current_dir(checkout.repo())
        .env_clear()
        .envs(env)
        .output()
        .await
        .unwrap();
    let code = output.status.code().unwrap_or(-1);
    let save = match cache_spec["when"].as_str().unwrap_or("on_success") {
        "always" => true,
        "on_success" => code == 0,
        "on_failure" => code != 0,
        other => panic!("the recipe test does not model `cache: when: {other}`"),
    };
    if save {
        for path in &cached {
            // A GitLab cache key is overwritten by each job that saves it.
            let _ = std::fs::remove_dir_all(cache.root().join(&cache_key));
            cache.save(path, &cache_key);
        }
    }
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    JobRun {
        passed: code == 0,
        steps: vec![(job.to_owned(), code)],
        summary: log.clone(),
        log,
    }
}

/// What a plan's text says for each case.
fn says(case: Case, text: &str) -> bool {
    match case {
        Case::NoChanges => text.contains("No changes"),
        Case::Changes => text.contains("to add"),
        Case::Failure => true,
        Case::Manual => text.contains("manual"),
    }
}

/// orgform came from the release archive, checked, and nothing was compiled.
fn assert_installed_from_the_release(run: &JobRun, calls: &str) {
    let release = release();
    assert!(
        run.log
            .contains(&format!("installed orgform {} (commit", release.version)),
        "install.sh installed the release: {}",
        run.log
    );
    assert!(!calls.contains("cargo "), "nothing is compiled: {calls}");
}

fn assert_no_shell_slips(run: &JobRun) {
    assert!(
        !run.log.contains("command not found") && !run.summary.contains("command not found"),
        "{run:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_github_plan_recipe_comments_every_plan_and_fails_only_on_errors() {
    let workflow = load("examples/ci/github/orgform-plan.yml");
    for case in CASES {
        let checkout = Checkout::new(case).await;
        let run = run_github(&workflow, &checkout).await;
        assert_eq!(run.passed, case != Case::Failure, "{case:?}: {run:#?}");
        assert_no_shell_slips(&run);
        let comment = checkout.record("comment.md").expect("a comment is posted");
        assert!(comment.len() <= GITHUB_COMMENT_LIMIT, "{case:?}");
        assert!(says(case, &comment), "{case:?}: {comment}");
        assert!(says(case, &run.summary), "{case:?}: {}", run.summary);
        let calls = checkout.record("calls").unwrap();
        assert!(
            calls.contains("gh pr comment 7 --body-file plan.md"),
            "{calls}"
        );
        assert_installed_from_the_release(&run, &calls);
        if case != Case::Failure {
            assert!(checkout.repo().join("plan.json").is_file(), "{case:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_github_apply_recipe_fails_when_apply_does_and_summarises_its_output() {
    let workflow = load("examples/ci/github/orgform-apply.yml");
    for case in CASES {
        let checkout = Checkout::new(case).await;
        let run = run_github(&workflow, &checkout).await;
        assert_eq!(run.passed, case != Case::Failure, "{case:?}: {run:#?}");
        assert_no_shell_slips(&run);
        let fences = run.summary.lines().filter(|l| *l == "```").count();
        assert_eq!(fences, 2, "{case:?}: the output is fenced: {}", run.summary);
        if case == Case::Changes {
            let auth = checkout.sandbox.scalekit().await;
            let globex = checkout
                .sandbox
                .get("/scalekit/api/v1/organizations:external/globex", &auth)
                .await;
            assert_eq!(globex.status, 200, "applied");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_github_drift_recipe_fails_on_any_drift_or_error() {
    let workflow = load("examples/ci/github/orgform-drift.yml");
    for case in CASES {
        let checkout = Checkout::new(case).await;
        let run = run_github(&workflow, &checkout).await;
        assert_eq!(run.passed, case == Case::NoChanges, "{case:?}: {run:#?}");
        assert_no_shell_slips(&run);
        assert!(says(case, &run.summary), "{case:?}: {}", run.summary);
        let status = run
            .steps
            .iter()
            .find(|(name, _)| name == "Detect drift")
            .expect("the drift step ran")
            .1;
        let expected = match case {
            Case::NoChanges => 0,
            Case::Changes => 2,
            Case::Failure => 1,
            Case::Manual => 3,
        };
        assert_eq!(status, expected, "{case:?}: {run:#?}");
        assert!(
            run.log.contains("artifact drift.xml: true"),
            "{case:?}: the JUnit report is kept: {}",
            run.log
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gitlab_jobs_pass_and_fail_as_their_github_counterparts() {
    let pipeline = load("examples/ci/gitlab/.gitlab-ci.yml");
    for case in CASES {
        for job in ["plan", "apply", "drift"] {
            let checkout = Checkout::new(case).await;
            let run = run_gitlab(&pipeline, job, &checkout).await;
            let expected = match job {
                "drift" => case == Case::NoChanges,
                _ => case != Case::Failure,
            };
            assert_eq!(run.passed, expected, "{job} {case:?}: {run:#?}");
            assert_no_shell_slips(&run);
            let calls = checkout.record("calls").unwrap_or_default();
            assert_installed_from_the_release(&run, &calls);
            match job {
                "plan" => {
                    let note = checkout.record("note.md").expect("a note is posted");
                    assert!(note.len() <= GITHUB_COMMENT_LIMIT);
                    assert!(says(case, &note), "{case:?}: {note}");
                }
                "drift" => {
                    assert!(says(case, &run.log), "{case:?}: {}", run.log);
                    let report = std::fs::read_to_string(checkout.repo().join("drift.xml"))
                        .expect("the JUnit report the pipeline publishes");
                    assert!(report.contains("<testsuites"), "{report}");
                }
                _ => {}
            }
        }
    }
}

/// Every job of both systems restores the remembered pace before orgform runs and keeps it
/// afterwards, also when the job fails: a drift check that finds drift fails its job, and the
/// next run should still start from what this one learned (GitHub's `actions/cache` alone, and
/// GitLab's `cache:` by default, save only after a success).
#[tokio::test(flavor = "multi_thread")]
async fn every_job_keeps_the_remembered_pace_even_when_it_fails() {
    const EARLIER: &str = "orgform-pace-1000-1";
    let pipeline = load("examples/ci/gitlab/.gitlab-ci.yml");
    for case in [Case::Changes, Case::Failure] {
        for recipe in ["plan", "apply", "drift"] {
            for system in ["github", "gitlab"] {
                let checkout = Checkout::new(case).await;
                let cache = Cache {
                    checkout: &checkout,
                };
                // What an earlier run saved: a record (for another target, so orgform leaves it
                // as it is).
                let earlier = checkout.dir.path().join("earlier");
                std::fs::create_dir_all(&earlier).unwrap();
                std::fs::write(earlier.join("0123456789abcdef.json"), "{}").unwrap();
                let key = if system == "github" {
                    EARLIER
                } else {
                    "orgform-pace"
                };
                cache.store(&earlier, key);
                let run = if system == "github" {
                    let workflow = load(&format!("examples/ci/github/orgform-{recipe}.yml"));
                    run_github(&workflow, &checkout).await
                } else {
                    run_gitlab(&pipeline, recipe, &checkout).await
                };
                let fails = case == Case::Failure || recipe == "drift";
                assert_eq!(run.passed, !fails, "{system} {recipe} {case:?}: {run:#?}");
                let restored = checkout
                    .repo()
                    .join("tenants/.orgform/pace/0123456789abcdef.json");
                assert!(
                    restored.is_file(),
                    "{system} {recipe} {case:?}: restored into the workspace"
                );
                let saved = if system == "github" {
                    "orgform-pace-1001-1"
                } else {
                    "orgform-pace"
                };
                assert_eq!(
                    cache.saves(),
                    format!("{saved}\n"),
                    "{system} {recipe} {case:?}: saved once"
                );
                assert!(
                    cache.entries()[saved].contains(&"0123456789abcdef.json".to_owned()),
                    "{system} {recipe} {case:?}: {:?}",
                    cache.entries()
                );
            }
        }
    }
}

/// A pinned SHA-256 that is not the archive's fails the install step, with a message naming
/// both sums, and nothing is installed: no later step runs orgform, through the setup action
/// (GitHub) or `install.sh` (GitLab) alike.
#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_checksum_fails_the_install_step_and_installs_nothing() {
    let wrong = "0".repeat(64);
    let workflow = load("examples/ci/github/orgform-plan.yml");
    let mut checkout = Checkout::new(Case::Changes).await;
    checkout.sha256 = wrong.clone();
    let run = run_github(&workflow, &checkout).await;
    assert!(!run.passed, "{run:#?}");
    let install = run
        .steps
        .iter()
        .find(|(n, _)| n == "Install orgform")
        .unwrap();
    assert_eq!(install.1, 1, "{run:#?}");
    assert!(
        run.log.contains(&format!(
            "checksum mismatch for {}: expected {wrong}, got {}; nothing was installed",
            release().archive.file_name().unwrap().to_str().unwrap(),
            release().sha256
        )),
        "{}",
        run.log
    );
    assert!(
        !run.steps.iter().any(|(n, _)| n == "Plan"),
        "no step after a failed install runs: {run:#?}"
    );
    let installed = checkout.dir.path().join("runner-temp/orgform/bin/orgform");
    assert!(!installed.exists(), "nothing installed");
    assert_eq!(
        checkout.sandbox.stats().await["total"],
        0,
        "orgform never ran"
    );

    let pipeline = load("examples/ci/gitlab/.gitlab-ci.yml");
    let mut checkout = Checkout::new(Case::Changes).await;
    checkout.sha256 = wrong.clone();
    let run = run_gitlab(&pipeline, "plan", &checkout).await;
    assert!(!run.passed, "{run:#?}");
    assert!(run.log.contains("checksum mismatch"), "{}", run.log);
    assert!(!checkout.repo().join(".orgform-bin/orgform").exists());
    assert_eq!(
        checkout.sandbox.stats().await["total"],
        0,
        "orgform never ran"
    );
}

/// `install.sh` on its own: it installs this machine's archive from the release's `.sha256`
/// when no sum is pinned, the installed binary runs, and an archive that does not match its
/// `.sha256` (a changed release) is refused with nothing installed, an earlier install kept.
#[test]
fn install_sh_checks_the_archive_before_installing_it() {
    let release = release();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("bin");
    let install = |base: &str| {
        std::process::Command::new("sh")
            .arg(root.join("install.sh"))
            .args(["--version", &release.version, "--base-url", base])
            .arg("--to")
            .arg(&to)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .output()
            .unwrap()
    };
    let output = install(&release.url);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let version = std::process::Command::new(to.join("orgform"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&version.stdout)
            .starts_with(&format!("orgform {}", release.version))
    );

    // A release whose archive changed after its sum was written.
    let tampered = dir.path().join("tampered");
    let at = tampered.join(format!("v{}", release.version));
    std::fs::create_dir_all(&at).unwrap();
    let name = release.archive.file_name().unwrap().to_str().unwrap();
    let mut bytes = std::fs::read(&release.archive).unwrap();
    bytes.extend_from_slice(b"tampered");
    std::fs::write(at.join(name), bytes).unwrap();
    std::fs::copy(
        release.archive.with_extension("gz.sha256"),
        at.join(format!("{name}.sha256")),
    )
    .unwrap();
    std::fs::write(to.join("orgform"), "an earlier install").unwrap();
    let output = install(&format!("file://{}", tampered.display()));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "checksum mismatch for {name}: expected {}",
            release.sha256
        )) && stderr.contains("nothing was installed"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(to.join("orgform")).unwrap(),
        "an earlier install"
    );

    // No version: refused before anything is fetched.
    let output = std::process::Command::new("sh")
        .arg(root.join("install.sh"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--version is required"));
}

/// The recipes install orgform with the setup action or `install.sh`, and never build it.
#[test]
fn the_recipes_install_a_release_and_never_compile() {
    for file in [
        "examples/ci/github/orgform-plan.yml",
        "examples/ci/github/orgform-apply.yml",
        "examples/ci/github/orgform-drift.yml",
        "examples/ci/gitlab/.gitlab-ci.yml",
    ] {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(!text.contains("cargo "), "{file} runs cargo");
        assert!(
            text.contains("uses: orgform/orgform/.github/actions/setup-orgform@")
                || text.contains("install.sh --version"),
            "{file} installs with neither the action nor install.sh"
        );
    }
}

/// The apply recipe as it was first published (commit d644c8c), verbatim: no `shell:`, so a
/// failed apply piped through `tee` passed, and `echo "```"` inside double quotes started a
/// command substitution.
const FIRST_APPLY_RECIPE: &str = r#"name: orgform apply
on:
  push:
    branches: [main]
jobs:
  apply:
    runs-on: ubuntu-latest
    env:
      SCALEKIT_ENVIRONMENT_URL: ${{ vars.SCALEKIT_ENVIRONMENT_URL }}
      SCALEKIT_CLIENT_ID: ${{ vars.SCALEKIT_CLIENT_ID }}
      SCALEKIT_CLIENT_SECRET: ${{ secrets.SCALEKIT_CLIENT_SECRET }}
    steps:
      - uses: actions/checkout@v4
      - name: Install orgform
        run: cargo install --locked --git "${{ vars.ORGFORM_GIT_URL }}" orgform
      - name: Apply
        run: orgform apply tenants --auto-approve | tee apply.log
      - name: Summary
        if: always()
        run: '[ -f apply.log ] && { echo "```"; cat apply.log; echo "```"; } >> "$GITHUB_STEP_SUMMARY"'
"#;

/// The harness sees what GitHub saw: run on the first apply recipe, the failure case goes
/// green and the summary is broken, which is what the apply test above refuses.
#[tokio::test(flavor = "multi_thread")]
async fn the_first_apply_recipe_would_fail_the_recipe_test() {
    let workflow: Value = serde_saphyr::from_str(FIRST_APPLY_RECIPE).unwrap();
    let checkout = Checkout::new(Case::Failure).await;
    let run = run_github(&workflow, &checkout).await;
    assert!(run.passed, "tee's status hid orgform's: {run:#?}");
    let apply = run.steps.iter().find(|(name, _)| name == "Apply").unwrap();
    assert_eq!(apply.1, 0, "{run:#?}");
    assert!(run.log.contains("error"), "orgform did fail: {}", run.log);
    let fences = run.summary.lines().filter(|l| *l == "```").count();
    assert_ne!(fences, 2, "the summary was broken: {}", run.summary);
}

/// Every script the recipes hold, as the CI system would run it: `(label, script)`.
fn recipe_scripts() -> Vec<(String, String)> {
    let mut scripts = Vec::new();
    let workflows = [
        "examples/ci/github/orgform-plan.yml",
        "examples/ci/github/orgform-apply.yml",
        "examples/ci/github/orgform-drift.yml",
        ".github/workflows/release.yml",
    ];
    for name in workflows {
        let workflow = load(name);
        for job in workflow["jobs"].as_object().unwrap().values() {
            for step in job["steps"].as_array().unwrap() {
                if let Some(run) = step["run"].as_str() {
                    // Expressions are GitHub's, not the shell's: shellcheck sees a placeholder.
                    scripts.push((
                        format!("{name}: {}", step["name"].as_str().unwrap_or("?")),
                        replace_expressions(run, |_| "EXPR".into()),
                    ));
                }
            }
        }
    }
    let action = load(".github/actions/setup-orgform/action.yml");
    for step in action["runs"]["steps"].as_array().unwrap() {
        scripts.push((
            format!("setup-orgform: {}", step["name"].as_str().unwrap_or("?")),
            replace_expressions(step["run"].as_str().unwrap(), |_| "EXPR".into()),
        ));
    }
    let pipeline = load("examples/ci/gitlab/.gitlab-ci.yml");
    for (job, body) in pipeline.as_object().unwrap() {
        let mut script = String::new();
        for key in ["before_script", "script"] {
            for line in body[key].as_array().into_iter().flatten() {
                script.push_str(line.as_str().unwrap().trim_end());
                script.push('\n');
            }
        }
        if !script.is_empty() {
            scripts.push((
                format!(".gitlab-ci.yml: {job}"),
                format!("set -e\n{script}"),
            ));
        }
    }
    scripts
}

/// shellcheck passes on every step's shell (mandatory in `.ci/run`, which installs it;
/// skipped with a note where it is not installed).
#[test]
fn the_recipes_shell_passes_shellcheck() {
    let scripts = recipe_scripts();
    assert!(scripts.len() >= 15, "{}", scripts.len());
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (n, (label, script)) in scripts.iter().enumerate() {
        let path = dir.path().join(format!("{n}.sh"));
        std::fs::write(&path, format!("#!/bin/bash\n# {label}\n{script}")).unwrap();
        files.push(path);
    }
    let output = match std::process::Command::new("shellcheck")
        .args(["--shell=bash", "--format=gcc"])
        .args(&files)
        .output()
    {
        Ok(output) => output,
        Err(e) => {
            let required = std::env::var("ORGFORM_REQUIRE_SHELLCHECK").is_ok_and(|v| v == "1");
            assert!(!required, "shellcheck: {e} (ORGFORM_REQUIRE_SHELLCHECK=1)");
            eprintln!("note: shellcheck is not installed ({e}); skipped the recipes' shell check");
            return;
        }
    };
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{report}\n{}",
        scripts
            .iter()
            .enumerate()
            .map(|(n, (label, _))| format!("{n}.sh = {label}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// `cargo binstall` finds the same archives: the crate's `[package.metadata.binstall]`
/// templates, filled in for this machine, name the archive `package.sh` made and the path of
/// the binary inside it.
#[test]
fn the_binstall_metadata_names_the_release_archives() {
    let release = release();
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let value = |key: &str| -> String {
        let section = manifest
            .split("[package.metadata.binstall]")
            .nth(1)
            .expect("the binstall section");
        let line = section
            .lines()
            .find(|l| l.starts_with(&format!("{key} =")))
            .unwrap_or_else(|| panic!("binstall {key}"));
        line.split_once('=')
            .unwrap()
            .1
            .trim()
            .trim_matches('"')
            .to_owned()
    };
    let fill = |template: &str| {
        template
            .replace("{ repo }", "https://github.com/orgform/orgform")
            .replace("{ name }", "orgform")
            .replace("{ version }", &release.version)
            .replace("{ target }", &this_target())
            .replace("{ archive-suffix }", ".tar.gz")
            .replace("{ bin }", "orgform")
            .replace("{ binary-ext }", "")
    };
    assert_eq!(value("pkg-fmt"), "tgz");
    let url = fill(&value("pkg-url"));
    let archive = release.archive.file_name().unwrap().to_str().unwrap();
    assert_eq!(
        url,
        format!(
            "https://github.com/orgform/orgform/releases/download/v{}/{archive}",
            release.version
        )
    );
    let listing = std::process::Command::new("tar")
        .arg("-tzf")
        .arg(&release.archive)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    let binary = fill(&value("bin-dir"));
    assert!(
        listing.lines().any(|l| l == binary),
        "{binary} in {listing}"
    );
    for shipped in [
        "README.md",
        "LICENSE",
        "CHANGELOG.md",
        "doc/man/orgform.1",
        "complete/orgform.bash",
    ] {
        let path = format!("orgform-{}-{}/{shipped}", release.version, this_target());
        assert!(listing.lines().any(|l| l == path), "{path} in {listing}");
    }
}
