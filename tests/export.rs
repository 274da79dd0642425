//! `orgform export` round trips: a seeded account exported, then planned clean.

use std::collections::BTreeMap;
use std::path::Path;

use crate::plan::support::Scenario;
use crate::support::run_orgform_async;

/// Tenant `i`'s name and the seed's `external_id` entry: every tenth has no external id, and
/// those share three names (keys must still be unique).
fn tenant(i: usize) -> (String, String) {
    if i.is_multiple_of(10) {
        (format!("Acme {}", i % 3), String::new())
    } else {
        (format!("Tenant {i}"), format!(", external_id: tenant-{i}"))
    }
}

fn seed(vendor: &str, n: usize) -> String {
    let mut seed = String::new();
    match vendor {
        "scalekit" => {
            seed.push_str("scalekit:\n  organizations:\n");
            for i in 0..n {
                let (name, external) = tenant(i);
                seed.push_str(&format!(
                    "    - {{ display_name: \"{name}\"{external}, metadata: {{ tier: gold, seats: \"{i}\" }}, features: {{ sso: {} }}, domains: [{{ domain: t{i}.example, verification_status: VERIFIED }}, {{ domain: mail.t{i}.example, domain_type: ALLOWED_EMAIL_DOMAIN }}] }}\n",
                    i % 2 == 0
                ));
            }
            seed.push_str("  users:\n");
            for i in (0..n).filter(|i| i % 10 != 0) {
                seed.push_str(&format!("    - {{ email: admin@t{i}.example, memberships: [{{ organization: tenant-{i}, roles: [admin, billing] }}] }}\n"));
            }
        }
        "nirvana" => {
            seed.push_str("nirvana:\n  organizations:\n");
            for i in 0..n {
                let billing = if i % 3 == 0 {
                    String::new()
                } else {
                    format!(", billing_email: ap@n{i}.example")
                };
                seed.push_str(&format!(
                    "    - {{ name: \"Nirvana {}\"{billing}, services: {{ sso: true }}, domains: [{{ domain: n{i}.example, verified: {} }}], address: {{ line1: \"{i} Main St\", city: Springfield, postal_code: \"{i:05}\", country: US }}, memberships: [{{ user_id: usr_{i}, role: owner }}, {{ user_id: usr_x{i}, role: member }}] }}\n",
                    i % 200,
                    i % 2 == 0
                ));
            }
        }
        "workos" => {
            seed.push_str("workos:\n  organizations:\n");
            for i in 0..n {
                let (name, external) = tenant(i);
                seed.push_str(&format!(
                    "    - {{ name: \"{name}\"{external}, metadata: {{ tier: gold, seats: \"{i}\" }}, domains: [{{ domain: w{i}.example, state: verified }}, {{ domain: mail.w{i}.example }}] }}\n"
                ));
            }
            seed.push_str("  users:\n");
            for i in (0..n).filter(|i| i % 10 != 0) {
                seed.push_str(&format!("    - {{ email: admin@w{i}.example, memberships: [{{ organization: tenant-{i}, roles: [admin, billing] }}] }}\n"));
            }
        }
        _ => {
            seed.push_str("pingone:\n  organizations:\n");
            for i in 0..n {
                seed.push_str(&format!(
                    "    - {{ name: \"Ping {i}\", type: TRIAL, description: \"tenant {i}\", licenses: [{{ name: L{i}, package: P{i}, status: ACTIVE, expiresAt: \"2030-01-01T00:00:00.000Z\" }}, {{ name: M{i}, package: Q{i}, status: EXPIRED }}] }}\n"
                ));
            }
        }
    }
    seed
}

fn files(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir.join("main"))
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&path).unwrap(),
            )
        })
        .collect()
}

async fn round_trip(vendor: &str) {
    let scenario = Scenario::new(vendor, "").await;
    scenario.sandbox.seed(&seed(vendor, 260)).await;
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let env = [
        ("TEST_SECRET", "sandbox-secret"),
        ("TEST_NIRVANA_KEY", "sandbox-nirvana-key"),
        ("TEST_WORKOS_KEY", "sandbox-workos-key"),
    ];
    let (code, stdout, stderr) =
        run_orgform_async(&["export", &dir, "--provider", "main"], &env).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let first = files(scenario.dir.path());
    let expected = if vendor == "pingone" { 261 } else { 260 }; // PingOne keeps its default organization
    assert_eq!(first.len(), expected, "{stdout}");

    // The round trip: nothing to do.
    let (code, stdout, stderr) =
        run_orgform_async(&["plan", &dir, "--detailed-exitcode"], &env).await;
    assert_eq!(code, 0, "{vendor}: {stdout}{stderr}");
    assert!(stdout.contains("No changes."), "{stdout}");
    let (code, stdout, _) = run_orgform_async(&["validate", &dir], &env).await;
    assert_eq!(code, 0, "{stdout}");

    // The exported files satisfy the published schema.
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("schemas/organization.schema.json").unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for (name, text) in &first {
        let document: serde_json::Value = serde_saphyr::from_str(text).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&document)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        assert!(text.starts_with(
            "# yaml-language-server: $schema=../.orgform/schemas/organization.schema.json\n"
        ));
    }
    assert!(
        scenario
            .dir
            .path()
            .join(".orgform/schemas/organization.schema.json")
            .is_file()
    );

    // Exporting again gives byte-identical files.
    std::fs::remove_dir_all(scenario.dir.path().join("main")).unwrap();
    let (code, _, _) = run_orgform_async(&["export", &dir, "--provider", "main"], &env).await;
    assert_eq!(code, 0);
    assert!(
        files(scenario.dir.path()) == first,
        "a second export differs"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn scalekit_round_trip_plans_clean_with_unique_stable_keys() {
    round_trip("scalekit").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn nirvana_round_trip_plans_clean() {
    round_trip("nirvana").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workos_round_trip_of_260_organizations_plans_clean() {
    round_trip("workos").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pingone_round_trip_plans_clean() {
    round_trip("pingone").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn colliding_names_get_unique_keys_and_a_new_directory_gets_orgform_yaml() {
    let scenario = Scenario::new("nirvana", "").await;
    scenario.sandbox.seed("nirvana:\n  organizations:\n    - { name: Acme Corp }\n    - { name: \"ACME  corp!\" }\n    - { name: acme-corp }\n").await;
    let out = tempfile::tempdir().unwrap();
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let out_dir = out.path().to_str().unwrap().to_owned();
    let env = [("TEST_NIRVANA_KEY", "sandbox-nirvana-key")];
    let (code, stdout, stderr) = run_orgform_async(
        &["export", &dir, "--provider", "main", "--out", &out_dir],
        &env,
    )
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let names: Vec<String> = files(out.path()).into_keys().collect();
    assert_eq!(
        names,
        ["acme-corp-2.yaml", "acme-corp-3.yaml", "acme-corp.yaml"]
    );
    let config = std::fs::read_to_string(out.path().join("orgform.yaml")).unwrap();
    assert!(
        config.contains("kind: nirvana") && !config.contains("sandbox-nirvana-key"),
        "{config}"
    );
    // The new workspace validates (credentials come from the environment when it is used).
    let (code, stdout, stderr) = run_orgform_async(&["validate", &out_dir], &env).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
}

/// Settings written with `${VAR}` are exported as references, never as their values.
#[tokio::test(flavor = "multi_thread")]
async fn export_writes_environment_references_not_their_values() {
    let sandbox = crate::sandbox::support::TestSandbox::start().await;
    let base = sandbox.running.base_url();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("orgform.yaml"),
        "providers:\n  main:\n    kind: pingone\n    url: ${P1_URL}/pingone\n    auth_url: \"${P1_URL}/pingone/auth\"\n    environment_id: ${P1_ENV}\n    client_id: sandbox-client\n    client_secret: ${P1_SECRET}\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let env = [
        ("P1_URL", base.as_str()),
        ("P1_ENV", "sandbox-env"),
        ("P1_SECRET", "sandbox-secret"),
    ];
    let (code, stdout, stderr) = run_orgform_async(
        &[
            "export",
            dir.path().to_str().unwrap(),
            "--provider",
            "main",
            "--out",
            out.path().to_str().unwrap(),
        ],
        &env,
    )
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let config = std::fs::read_to_string(out.path().join("orgform.yaml")).unwrap();
    assert!(config.contains("    url: ${P1_URL}/pingone\n"), "{config}");
    assert!(
        config.contains("    auth_url: \"${P1_URL}/pingone/auth\"\n"),
        "{config}"
    );
    assert!(
        config.contains("    environment_id: ${P1_ENV}\n"),
        "{config}"
    );
    assert!(
        config.contains("    client_id: \"sandbox-client\"\n"),
        "{config}"
    );
    for value in [base.as_str(), "sandbox-env", "sandbox-secret"] {
        assert!(!config.contains(value), "`{value}` leaked into:\n{config}");
    }
    // The exported workspace plans clean with the same environment.
    let (code, stdout, stderr) = run_orgform_async(
        &["plan", out.path().to_str().unwrap(), "--detailed-exitcode"],
        &env,
    )
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
}

/// Scalekit allows 10 metadata pairs; an adopted organization holding all 10 exports to a
/// manifest (pinned with `id:`) that validates and plans clean: only organizations orgform
/// creates need a pair for its ownership marker.
#[tokio::test(flavor = "multi_thread")]
async fn ten_metadata_pairs_round_trip() {
    let scenario = Scenario::new("scalekit", "").await;
    let pairs: Vec<String> = (0..10).map(|n| format!("key{n}: value{n}")).collect();
    scenario
        .sandbox
        .seed(&format!(
            "scalekit:\n  organizations:\n    - {{ display_name: Full, external_id: full, metadata: {{ {} }} }}\n",
            pairs.join(", ")
        ))
        .await;
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let env = [("TEST_SECRET", "sandbox-secret")];
    let (code, stdout, stderr) =
        run_orgform_async(&["export", &dir, "--provider", "main"], &env).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let exported = files(scenario.dir.path());
    let text = exported.values().next().unwrap();
    assert!(
        text.contains("\"key9\": \"value9\"") && text.contains("id: "),
        "{text}"
    );
    let (code, stdout, stderr) = run_orgform_async(&["validate", &dir], &env).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, stdout, stderr) =
        run_orgform_async(&["plan", &dir, "--detailed-exitcode"], &env).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("No changes."), "{stdout}");
}

/// Export into a workspace that already declares some of the organizations: those keep their
/// key and their file, byte for byte while they match the vendor (none gets a second
/// manifest), new ones get new files, `--prune-files` removes the manifest of a pinned
/// organization the complete listing lacks and keeps one that was never created, and a second
/// export changes no byte.
#[tokio::test(flavor = "multi_thread")]
async fn export_into_an_existing_workspace_never_duplicates() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.sandbox.seed(&seed("scalekit", 12)).await;
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let env = [("TEST_SECRET", "sandbox-secret")];
    // What the team wrote by hand before adopting the rest: one organization under its own
    // file (found by its external id), two in one file, and one deleted at the vendor since.
    let exported_once = tempfile::tempdir().unwrap();
    let (code, _, _) = run_orgform_async(
        &[
            "export",
            &dir,
            "--provider",
            "main",
            "--out",
            exported_once.path().to_str().unwrap(),
        ],
        &env,
    )
    .await;
    assert_eq!(code, 0);
    let reference = files(exported_once.path());
    let by_external_id: Vec<&String> = reference
        .keys()
        .filter(|name| name.starts_with("tenant-"))
        .collect();
    let (first, second, third) = (by_external_id[0], by_external_id[1], by_external_id[2]);
    let unpinned: String = reference[first]
        .lines()
        .filter(|line| !line.starts_with("id: "))
        .map(|line| format!("{line}\n"))
        .collect();
    let tenants = scenario.dir.path().join("tenants");
    std::fs::create_dir_all(&tenants).unwrap();
    std::fs::write(tenants.join("hand-written.yaml"), unpinned).unwrap();
    std::fs::write(
        tenants.join("two.yaml"),
        format!("{}---\n{}", reference[second], reference[third]),
    )
    .unwrap();
    // Declared but never applied: nothing proves it existed, so it stays.
    std::fs::write(
        tenants.join("never-created.yaml"),
        "organization: long-gone\nname: Long Gone\n",
    )
    .unwrap();
    // Pinned to an organization deleted at the vendor since: proven gone.
    std::fs::write(
        tenants.join("gone.yaml"),
        "organization: pinned-gone\nname: Pinned Gone\nid: org_1\n",
    )
    .unwrap();
    let hand_written = std::fs::read_to_string(tenants.join("hand-written.yaml")).unwrap();

    let (code, stdout, stderr) = run_orgform_async(
        &["export", &dir, "--provider", "main", "--prune-files"],
        &env,
    )
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("exported 9 organizations"), "{stdout}");
    assert!(
        stdout.contains("of those the workspace declares, 3 match the vendor and 0 were updated"),
        "{stdout}"
    );
    assert!(stdout.contains("removed 1 file"), "{stdout}");
    assert!(
        stdout.contains("never-created.yaml as it is: `long-gone` matches no live organization, but it pins no `id:`"),
        "{stdout}"
    );
    let after = workspace_files(scenario.dir.path());
    assert!(
        !after.contains_key("tenants/gone.yaml"),
        "{:?}",
        after.keys()
    );
    // The hand-written file matched the vendor: it is as it was.
    assert_eq!(after["tenants/hand-written.yaml"], hand_written);
    std::fs::remove_file(tenants.join("never-created.yaml")).unwrap();
    let after = workspace_files(scenario.dir.path());
    assert!(
        !after.contains_key(&format!("main/{first}")),
        "{:?}",
        after.keys()
    );
    // One manifest per organization: the workspace validates and plans clean.
    let (code, stdout, stderr) = run_orgform_async(&["validate", &dir], &env).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("valid: 12 organizations"), "{stdout}");
    let (code, stdout, stderr) =
        run_orgform_async(&["plan", &dir, "--detailed-exitcode"], &env).await;
    assert_eq!(code, 0, "{stdout}{stderr}");

    // Again: byte for byte the same.
    let (code, _, _) = run_orgform_async(&["export", &dir, "--provider", "main"], &env).await;
    assert_eq!(code, 0);
    assert!(
        workspace_files(scenario.dir.path()) == after,
        "a second export differs"
    );
}

/// Every manifest of a workspace, by its path inside it (`.orgform/` left out).
fn workspace_files(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![root.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().is_some_and(|n| n == ".orgform") {
                continue;
            }
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                let name = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(name, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    out
}

/// A manifest that extends templates is left as it is by export (written out, it would repeat
/// what its templates say), and the organization gets no second manifest.
#[tokio::test(flavor = "multi_thread")]
async fn export_leaves_templated_manifests_alone() {
    let scenario = Scenario::new(
        "scalekit",
        "templates:\n  gold:\n    metadata: { tier: gold }\n",
    )
    .await;
    scenario
        .sandbox
        .seed("scalekit:\n  organizations:\n    - { display_name: Acme Inc, external_id: acme, metadata: { tier: gold } }\n    - { display_name: Globex, external_id: globex }\n")
        .await;
    // The vendor's name differs: written out, the file would repeat its template.
    let manifest = "organization: acme\nname: Acme\nextends: [gold]\n";
    scenario.manifest("acme.yaml", manifest);
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let env = [("TEST_SECRET", "sandbox-secret")];
    let (code, stdout, stderr) =
        run_orgform_async(&["export", &dir, "--provider", "main"], &env).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("acme.yaml as it is"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(scenario.dir.path().join("acme.yaml")).unwrap(),
        manifest
    );
    let (code, stdout, stderr) = run_orgform_async(&["validate", &dir], &env).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("valid: 2 organizations") && stdout.contains("1 template"),
        "{stdout}"
    );
}

/// Exporting from a workspace into a new directory: the workspace's own keys are not taken
/// there, so no key gets a `-2` it does not need.
#[tokio::test(flavor = "multi_thread")]
async fn export_into_a_new_directory_adds_no_suffix_for_the_workspaces_keys() {
    let scenario = Scenario::new("nirvana", "").await;
    scenario
        .sandbox
        .seed("nirvana:\n  organizations:\n    - { name: Acme }\n    - { name: Globex }\n")
        .await;
    scenario.manifest("acme.yaml", "organization: acme\nname: Acme\n");
    let out = tempfile::tempdir().unwrap();
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let out_dir = out.path().to_str().unwrap().to_owned();
    let env = [("TEST_NIRVANA_KEY", "sandbox-nirvana-key")];
    let (code, stdout, stderr) = run_orgform_async(
        &["export", &dir, "--provider", "main", "--out", &out_dir],
        &env,
    )
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let names: Vec<String> = files(out.path()).into_keys().collect();
    assert_eq!(names, ["acme.yaml", "globex.yaml"]);
}
