//! The `orgform` binary as users run it.

use crate::support::run_orgform;

#[test]
fn every_example_validates_with_its_summary_line() {
    let expected = [
        (
            "quickstart",
            "valid: 3 organizations, 4 domains, 0 addresses, 5 members across 1 provider",
        ),
        (
            "nirvana",
            "valid: 2 organizations, 0 domains, 2 addresses, 0 members across 1 provider",
        ),
        (
            "pingone",
            "valid: 1 organization, 0 domains, 0 addresses, 0 members, 3 license expectations across 1 provider",
        ),
        (
            "multi-vendor",
            "valid: 2 organizations, 2 domains, 1 address, 2 members across 2 providers",
        ),
    ];
    for (example, summary) in expected {
        let (code, stdout, stderr) =
            run_orgform(&["validate", &format!("examples/{example}")], &[]);
        assert_eq!(code, 0, "{example}: {stderr}");
        assert_eq!(stdout.trim_end(), summary, "{example}");
        assert!(stderr.is_empty(), "{example}: {stderr}");
    }
}

#[test]
fn invalid_workspace_exits_1_with_diagnostics_on_stderr_only() {
    let (code, stdout, stderr) =
        run_orgform(&["validate", "tests/fixtures/invalid/five_errors"], &[]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("orgform::invalid_email"), "{stderr}");
    assert!(
        stderr.contains("tests/fixtures/invalid/five_errors/orgs/b.yaml:4:14"),
        "{stderr}"
    );
    assert!(
        stderr.trim_end().ends_with("error: 5 problems found"),
        "{stderr}"
    );
}

#[test]
fn interpolated_secrets_never_reach_the_output() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("orgform.yaml"),
        "providers:\n  main:\n    kind: scalekit\n    client_id: ${SK_ID}\n    client_secret: ${SK_SECRET}\n",
    )
    .unwrap();
    // The secret also flows into values that fail validation, whose errors must not echo it.
    std::fs::write(
        dir.path().join("org.yaml"),
        "organization: acme\nname: Acme\nslug: ${SK_SECRET}\nmembers:\n  - { email: \"${SK_SECRET}\", role: admin }\nmetadata: { \"${SK_SECRET}\": x }\n",
    )
    .unwrap();
    let secret = "sk-live-7f3a9c-DO-NOT-PRINT";
    let path = dir.path().to_str().unwrap();
    let (code, stdout, stderr) = run_orgform(
        &["validate", path],
        &[("SK_ID", "client"), ("SK_SECRET", secret)],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("orgform::invalid_email"), "{stderr}");
    assert!(
        !stdout.contains(secret) && !stderr.contains(secret),
        "{stdout}{stderr}"
    );
}

#[test]
fn validate_defaults_to_the_current_directory() {
    let (code, stdout, stderr) = run_orgform(&["validate"], &[]);
    // The package root has no orgform.yaml: the error must say so, not panic.
    assert_eq!(code, 1, "{stdout}");
    assert!(stderr.contains("no orgform.yaml in ."), "{stderr}");
}

#[test]
fn usage_errors_exit_1_even_under_detailed_exitcode() {
    // Exit 2 means "changes" under --detailed-exitcode: a typo must never read as that.
    for args in [
        &["plan", "--formt", "json"][..],
        &["plan", "--detailed-exitcode", "--format", "yaml"],
        &["plan", "--detailed-exitcode", "--parallelism", "0"],
        &["no-such-command"],
        &[],
        // Durations past the clock's range: a usage error, not an overflow panic (exit 101).
        &[
            "apply",
            "--lock-timeout",
            "18446744073709551615s",
            "examples/quickstart",
        ],
        &[
            "plan",
            "--timeout",
            "600000000000000s",
            "examples/quickstart",
        ],
    ] {
        let (code, stdout, stderr) = run_orgform(args, &[]);
        assert_eq!(code, 1, "{args:?}: {stdout}{stderr}");
        assert!(
            stderr.contains("error:") || stderr.contains("Usage:"),
            "{args:?}: {stderr}"
        );
    }
    for args in [&["--help"][..], &["--version"], &["plan", "--help"]] {
        let (code, stdout, stderr) = run_orgform(args, &[]);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        assert!(stdout.contains("orgform"), "{args:?}: {stdout}");
    }
}

#[test]
fn absurd_rate_budgets_are_diagnostics_not_panics() {
    for (rate, expected) in [
        ("1e-300", "requests_per_second out of range"),
        ("1e300", "requests_per_second out of range"),
        ("0", "requests_per_second out of range"),
        (".nan", "non-finite float `.nan`"),
        (".inf", "non-finite float `.inf`"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("orgform.yaml"),
            format!("providers:\n  main:\n    kind: scalekit\n    sandbox: true\n    requests_per_second: {rate}\n"),
        )
        .unwrap();
        let (code, _, stderr) = run_orgform(&["validate", dir.path().to_str().unwrap()], &[]);
        assert_eq!(code, 1, "{rate}: {stderr}");
        assert!(stderr.contains(expected), "{rate}: {stderr}");
        // One problem: a syntax error is not also reported as an empty file.
        assert!(
            stderr.contains("error: 1 problem found"),
            "{rate}: {stderr}"
        );
    }
}

#[test]
fn conveniences_terraform_users_reach_for() {
    // --version names the commit.
    let (code, stdout, _) = run_orgform(&["--version"], &[]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("orgform 0.1.0 (commit "), "{stdout}");
    // Completions for each shell.
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let (code, stdout, stderr) = run_orgform(&["completions", shell], &[]);
        assert_eq!(code, 0, "{shell}: {stderr}");
        assert!(
            stdout.contains("orgform") && stdout.contains("validate"),
            "{shell}"
        );
    }
    // validate --format json: diagnostics with file, line, column, code, message, help.
    let (code, stdout, _) = run_orgform(
        &[
            "validate",
            "tests/fixtures/invalid/five_errors",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(report["valid"], false);
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 5);
    let email = diagnostics
        .iter()
        .find(|d| d["code"] == "orgform::invalid_email")
        .unwrap();
    assert_eq!(
        (
            email["file"].as_str().unwrap(),
            email["line"].as_u64(),
            email["column"].as_u64()
        ),
        (
            "tests/fixtures/invalid/five_errors/orgs/b.yaml",
            Some(4),
            Some(14)
        )
    );
    assert!(
        diagnostics
            .iter()
            .all(|d| d["help"].is_string() && d["message"].is_string())
    );
    let (code, stdout, _) = run_orgform(
        &["validate", "examples/quickstart", "--format", "json"],
        &[],
    );
    assert_eq!(code, 0);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(report["valid"], true);
    // --no-color is accepted everywhere (output off a terminal has no colour anyway).
    let (code, _, _) = run_orgform(&["--no-color", "validate", "examples/quickstart"], &[]);
    assert_eq!(code, 0);
}

/// `sandbox serve` starts with the Nirvana version asked for on its command line, and with
/// `-v` logs each request it serves.
#[tokio::test(flavor = "multi_thread")]
async fn sandbox_serve_takes_the_nirvana_shapes_from_its_flags() {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_orgform"))
        .args([
            "sandbox",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--nirvana-organizations",
            "billing",
            "--nirvana-errors",
            "flat",
            "-v",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().expect("a first line");
    let base = first
        .strip_prefix("orgform sandbox listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .trim()
        .to_owned();
    let http = reqwest::Client::new();
    let shapes: serde_json::Value = http
        .get(format!("{base}/_sandbox/shapes"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        shapes,
        serde_json::json!({ "nirvana": { "organizations": "billing", "errors": "flat" } })
    );
    let missing = http
        .get(format!("{base}/nirvana/v1/organizations/org_nope"))
        .bearer_auth("sandbox-nirvana-key")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["code"], "not_found", "{body}");
    child.kill().await.unwrap();
    let mut log = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut child.stderr.take().unwrap(), &mut log)
        .await
        .unwrap();
    assert!(
        log.lines().any(|l| l.contains("served")
            && l.contains("route=\"/nirvana/v1/organizations/{organization_id}\"")
            && l.contains("status=404")),
        "{log}"
    );
    assert!(!log.contains("sandbox-nirvana-key"), "{log}");
}

/// `exclude:` leaves YAML files that are not manifests (a docs site's `mkdocs.yml`) out, and
/// `validate` says which; without it such a file is reported as a broken manifest.
#[test]
fn exclude_leaves_non_manifest_yaml_out_and_validate_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    std::fs::write(dir.path().join("docs/mkdocs.yml"), "site_name: Tenants\n").unwrap();
    std::fs::write(
        dir.path().join("acme.yaml"),
        "organization: acme\nname: Acme\n",
    )
    .unwrap();
    let config = "providers:\n  main:\n    kind: scalekit\n    sandbox: true\n";
    std::fs::write(dir.path().join("orgform.yaml"), config).unwrap();
    let path = dir.path().to_str().unwrap();
    let (code, _, stderr) = run_orgform(&["validate", path], &[]);
    assert_eq!(code, 1);
    assert!(stderr.contains("unknown field `site_name`"), "{stderr}");
    std::fs::write(
        dir.path().join("orgform.yaml"),
        format!("{config}exclude: [\"docs/**\"]\n"),
    )
    .unwrap();
    let (code, stdout, stderr) = run_orgform(&["validate", path], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("valid: 1 organization")
            && stdout.contains("excluded by `exclude:`: docs/mkdocs.yml"),
        "{stdout}"
    );
}

/// Each command takes the flags that apply to it and lists only those in its help: `-v`, `-q`
/// and `--timeout` belong to the commands that talk to vendors, `sandbox serve -v` logs what it
/// serves, and `--no-color` works everywhere.
#[test]
fn flags_belong_to_the_commands_they_apply_to() {
    for args in [
        &["validate", "examples/quickstart", "--timeout", "5s"][..],
        &["validate", "examples/quickstart", "-q"],
        &["show", "plan.json", "-v"],
        &["completions", "bash", "--timeout", "1s"],
        &["sandbox", "serve", "--quiet"],
        &["force-unlock", "x", "--timeout", "1s"],
    ] {
        let (code, _, stderr) = run_orgform(args, &[]);
        assert_eq!(code, 1, "{args:?}: {stderr}");
        assert!(stderr.contains("unexpected argument"), "{args:?}: {stderr}");
    }
    let help = |args: &[&str]| run_orgform(args, &[]).1;
    for command in ["plan", "apply", "export"] {
        let text = help(&[command, "--help"]);
        for flag in ["--verbose", "--quiet", "--timeout", "--no-color"] {
            assert!(
                text.contains(flag),
                "{command} --help lacks {flag}:\n{text}"
            );
        }
    }
    for command in [
        &["validate", "--help"][..],
        &["show", "--help"],
        &["completions", "--help"],
    ] {
        let text = help(command);
        for flag in ["--verbose", "--quiet", "--timeout"] {
            assert!(!text.contains(flag), "{command:?} lists {flag}:\n{text}");
        }
        assert!(text.contains("--no-color"), "{command:?}:\n{text}");
    }
    let serve = help(&["sandbox", "serve", "--help"]);
    assert!(serve.contains("Log each request served"), "{serve}");
    assert!(
        !serve.contains("--timeout") && !serve.contains("--quiet"),
        "{serve}"
    );
}

/// `-v` logs a line per request; `-vv` adds each request's detail (the URL with its query,
/// bytes, time queued), still without a credential.
#[test]
fn double_verbose_adds_request_detail() {
    let (code, _, once) = run_orgform(&["plan", "examples/quickstart", "-v"], &[]);
    assert_eq!(code, 0, "{once}");
    assert!(
        once.contains("request") && !once.contains("request detail"),
        "{once}"
    );
    let (code, _, twice) = run_orgform(&["plan", "examples/quickstart", "-vv"], &[]);
    assert_eq!(code, 0, "{twice}");
    let detail: Vec<&str> = twice
        .lines()
        .filter(|l| l.contains("request detail"))
        .collect();
    assert!(!detail.is_empty(), "{twice}");
    assert!(
        detail
            .iter()
            .any(|l| l.contains("page_size=100") && l.contains("received_bytes=")),
        "{twice}"
    );
    assert!(detail.iter().all(|l| l.contains("waited_ms=")), "{twice}");
    // The embedded sandbox's secrets (its client secret, the token it issues) never appear.
    assert!(!twice.contains("sandbox-secret"), "{twice}");
    assert!(!twice.to_ascii_lowercase().contains("bearer"), "{twice}");
}

/// Every environment variable a provider reads its settings from is in the credentials table
/// of the workspace reference (a user must find `SCALEKIT_ENVIRONMENT_URL` there).
#[test]
fn every_credential_variable_is_documented() {
    let readme = std::fs::read_to_string("docs/workspace.md").unwrap();
    let table: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("| setting | kinds | default from |"))
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert!(
        !table.is_empty(),
        "docs/workspace.md has a credentials table"
    );
    // Each vendor's `connect.rs` names the variables its settings default to.
    let mut settings = String::new();
    for entry in std::fs::read_dir("src/provider").unwrap() {
        let connect = entry.unwrap().path().join("connect.rs");
        if connect.exists() {
            settings.push_str(&std::fs::read_to_string(connect).unwrap());
        }
    }
    let mut variables: Vec<&str> = settings
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            s.len() > 3 && s.contains('_') && s.chars().all(|c| c.is_ascii_uppercase() || c == '_')
        })
        .collect();
    variables.sort();
    variables.dedup();
    assert!(variables.len() >= 9, "{variables:?}");
    for variable in variables {
        assert!(
            table
                .iter()
                .any(|row| row.contains(&format!("`{variable}`"))),
            "{variable} is not in the credentials table of docs/workspace.md"
        );
    }
}

/// The table of fields by vendor (docs/workspace.md) is what each vendor's description declares: every
/// row's W / R / create-only / — for every vendor, and every vendor field has a row
/// (`previous_keys` and `protect` are documented beside it).
#[test]
fn the_documented_field_table_is_the_vendors_descriptions() {
    use orgform::manifest::ProviderKind;
    use orgform::provider::description::Access;
    let readme = std::fs::read_to_string("docs/workspace.md").unwrap();
    let mut rows = readme
        .lines()
        .skip_while(|l| !l.starts_with("| field | nirvana |"))
        .take_while(|l| l.starts_with('|'));
    let cells = |line: &str| -> Vec<String> {
        line.trim_matches('|')
            .split(" | ")
            .map(|c| c.trim().to_owned())
            .collect()
    };
    let header = cells(rows.next().expect("docs/workspace.md has the field table"));
    let kinds: Vec<ProviderKind> = header[1..]
        .iter()
        .map(|name| ProviderKind::parse(name).unwrap_or_else(|| panic!("no vendor {name}")))
        .collect();
    assert_eq!(
        kinds.len(),
        ProviderKind::VARIANTS.len(),
        "a column per vendor"
    );
    let mut listed = Vec::new();
    for row in rows.skip(1) {
        let cells = cells(row);
        let field = cells[0].split('`').nth(1).unwrap().to_owned();
        for (kind, cell) in kinds.iter().zip(&cells[1..]) {
            let description = kind.description();
            let documented = match cell.as_str() {
                "—" => None,
                c if c.starts_with('W') => Some(Access::Write),
                c if c.starts_with('R') => Some(Access::Read),
                c if c.starts_with("set when orgform creates") => Some(Access::CreateOnly),
                other => panic!("{field}/{kind}: unknown cell `{other}`"),
            };
            let declared = description
                .has_field(&field)
                .then(|| description.access(&field));
            assert_eq!(documented, declared, "`{field}` for {kind}");
        }
        listed.push(field);
    }
    for field in ProviderKind::vendor_fields() {
        if !["previous_keys", "protect", "name"].contains(&field) {
            assert!(listed.iter().any(|l| l == field), "`{field}` has no row");
        }
    }
}

/// The long flags (`--name`) in a text, roff's `\-` read as `-` and its font changes left out.
fn long_flags(text: &str) -> std::collections::BTreeSet<String> {
    let mut text = text.replace("\\-", "-");
    for font in ["\\fB", "\\fI", "\\fR", "\\fP"] {
        text = text.replace(font, "");
    }
    let mut flags = std::collections::BTreeSet::new();
    for (at, _) in text.match_indices("--") {
        let name: String = text[at + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let preceded_by_word = text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '-');
        if name.len() > 1 && !preceded_by_word && name.starts_with(|c: char| c.is_ascii_lowercase())
        {
            flags.insert(name);
        }
    }
    flags
}

/// The man pages and `--help` come from one clap definition: every page `orgform man --out`
/// writes names the same flags as the command's `--help`, and its NAME line is the command's
/// one-line description.
#[test]
fn the_man_pages_and_help_agree() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    let (code, _, stderr) = run_orgform(&["man", "--out", &out], &[]);
    assert_eq!(code, 0, "{stderr}");
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pages.sort();
    let names: Vec<String> = pages
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in [
        "orgform",
        "orgform-plan",
        "orgform-apply",
        "orgform-sandbox-serve",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "no page {expected}: {names:?}"
        );
    }
    for (page, name) in pages.iter().zip(&names) {
        let roff = std::fs::read_to_string(page).unwrap();
        let command: Vec<&str> = name.split('-').skip(1).collect();
        // `force-unlock` is one command whose name holds a dash.
        let command: Vec<String> = if command == ["force", "unlock"] {
            vec!["force-unlock".into()]
        } else {
            command.iter().map(|s| (*s).to_owned()).collect()
        };
        let mut args: Vec<&str> = command.iter().map(String::as_str).collect();
        args.push("--help");
        let (code, help, stderr) = run_orgform(&args, &[]);
        assert_eq!(code, 0, "orgform {args:?}: {stderr}");
        let (in_help, in_page) = (long_flags(&help), long_flags(&roff));
        assert!(!in_help.is_empty(), "{name}: --help names no flag");
        assert_eq!(
            in_help, in_page,
            "{name}: --help and the man page name other flags"
        );
        let about = help.lines().next().unwrap().trim();
        let name_line = roff
            .lines()
            .skip_while(|l| *l != ".SH NAME")
            .nth(1)
            .unwrap()
            .replace("\\-", "-")
            .replace("\\*(Aq", "'");
        assert!(
            name_line.ends_with(about),
            "{name}: NAME line `{name_line}`, help begins `{about}`"
        );
    }
    // `orgform man` alone prints the main page.
    let (code, main_page, _) = run_orgform(&["man"], &[]);
    assert_eq!(code, 0);
    assert_eq!(
        main_page,
        std::fs::read_to_string(dir.path().join("orgform.1")).unwrap()
    );
}
