//! Export is handed vendor strings and an existing workspace: it never loses what a manifest
//! says, never declares what the vendor's text spells, never removes a manifest without proof,
//! and never writes outside its directory.

use std::path::Path;

use serde_json::json;

use super::{orgform, writes};
use crate::plan::support::Scenario;

/// Every file below `root`, by relative path (links as `-> target`).
fn tree(root: &Path) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.strip_prefix(root).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.file_type().is_symlink() {
                out.insert(
                    name,
                    format!("-> {}", std::fs::read_link(&path).unwrap().display()),
                );
            } else if meta.is_dir() {
                stack.push(path);
            } else {
                out.insert(name, std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }
    out
}

/// A hand-written manifest keeps its comments, `ignore`, `previously`, invitations and order;
/// only the name the vendor changed is written, in place. The next plan reverts nothing.
#[tokio::test(flavor = "multi_thread")]
async fn export_into_a_workspace_keeps_what_only_the_manifest_says() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario
        .sandbox
        .seed("scalekit:\n  organizations:\n    - { display_name: Acme Inc, external_id: acme, metadata: { managed_by: orgform, tier: platinum } }\n  users:\n    - { email: ada@acme.example, memberships: [{ organization: acme, roles: [admin], status: PENDING_INVITE }] }\n")
        .await;
    let manifest = "# Acme: our first customer. Keep the tier as sales set it.\norganization: acme\nname: Acme    # renamed at the vendor since\npreviously: [Acme GmbH]\nignore: [metadata.tier]\nmetadata: { tier: gold }   # sales owns this\nmembers:\n  - { email: ada@acme.example, role: admin, invite: true }\n";
    scenario.manifest("acme.yaml", manifest);
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let (code, stdout, stderr) = orgform(&["export", &dir, "--provider", "main"]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("0 match the vendor and 1 was updated in place"),
        "{stdout}"
    );
    let after = std::fs::read_to_string(scenario.dir.path().join("acme.yaml")).unwrap();
    assert_eq!(
        after,
        manifest.replace("name: Acme    #", "name: \"Acme Inc\"    #")
    );
    // The ignored tier is not reverted, and nothing else differs.
    let (code, stdout, stderr) = orgform(&["plan", &dir, "--detailed-exitcode"]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    // A second export changes no byte.
    let (code, _, _) = orgform(&["export", &dir, "--provider", "main"]).await;
    assert_eq!(code, 0);
    assert_eq!(
        std::fs::read_to_string(scenario.dir.path().join("acme.yaml")).unwrap(),
        after
    );
}

/// License expectations (`min_days_left`) are the manifest's alone: a matching PingOne
/// manifest is left byte for byte, while its description, changed at the vendor, is written in
/// place.
#[tokio::test(flavor = "multi_thread")]
async fn export_keeps_license_expectations() {
    let scenario = Scenario::new("pingone", "").await;
    let manifest = "# licenses the contract promises\norganization: ping\nname: Example Organization\ndescription: Old words\nlicenses:\n  - { package: INTERNAL, status: ACTIVE, min_days_left: 1 }   # renewal is yearly\n";
    scenario.manifest("ping.yaml", manifest);
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let (code, stdout, stderr) = orgform(&["export", &dir, "--provider", "main"]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let after = std::fs::read_to_string(scenario.dir.path().join("ping.yaml")).unwrap();
    let plan = orgform(&["plan", &dir, "--detailed-exitcode"]).await;
    assert_eq!(plan.0, 0, "{}{}\n{after}", plan.1, plan.2);
    assert!(
        after.contains("min_days_left: 1 }   # renewal is yearly"),
        "{after}"
    );
    assert!(
        after.starts_with("# licenses the contract promises\n"),
        "{after}"
    );
    assert!(!after.contains("Old words"), "{after}");
}

/// With an identity error (two live organizations of one name), `export --prune-files` stops:
/// no file is removed and none is written.
#[tokio::test(flavor = "multi_thread")]
async fn prune_files_with_an_identity_error_deletes_nothing() {
    let scenario = Scenario::new("nirvana", "").await;
    scenario
        .sandbox
        .seed("nirvana:\n  organizations:\n    - { name: Acme }\n    - { name: Acme }\n    - { name: Globex }\n")
        .await;
    scenario.manifest("acme.yaml", "organization: acme\nname: Acme\n");
    let before = tree(scenario.dir.path());
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let (code, stdout, stderr) =
        orgform(&["export", &dir, "--provider", "main", "--prune-files"]).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("matches 2 live organizations"), "{stderr}");
    assert_eq!(
        tree(scenario.dir.path()),
        before,
        "nothing written or removed"
    );
}

/// Vendor strings holding YAML syntax, newlines and `---` are written as strings: the export
/// declares exactly the organizations the vendor has, and plans clean.
#[tokio::test(flavor = "multi_thread")]
async fn vendor_strings_with_yaml_syntax_export_as_strings() {
    let evil =
        "Evil\\n---\\norganization: evil\\nname: \\\"x\\\" # c\\n- [a, {b: c}]\\n\\u0085: &a *a";
    for vendor in ["nirvana", "scalekit", "pingone"] {
        let scenario = Scenario::new(vendor, "").await;
        let seed = match vendor {
            "nirvana" => format!(
                "nirvana:\n  organizations:\n    - {{ name: \"{evil}\", billing_email: \"b@acme.example\" }}\n"
            ),
            "scalekit" => format!(
                "scalekit:\n  organizations:\n    - {{ display_name: \"{evil}\", external_id: acme, slug: acme, metadata: {{ note: \"{evil}\" }} }}\n"
            ),
            _ => format!(
                "pingone:\n  organizations:\n    - {{ name: \"{evil}\", description: \"{evil}\", type: PAID }}\n"
            ),
        };
        scenario.sandbox.seed(&seed).await;
        let dir = scenario.dir.path().to_str().unwrap().to_owned();
        let out = tempfile::tempdir().unwrap();
        let out_dir = out.path().to_str().unwrap().to_owned();
        let (code, stdout, stderr) =
            orgform(&["export", &dir, "--provider", "main", "--out", &out_dir]).await;
        assert_eq!(code, 0, "{vendor}: {stdout}{stderr}");
        let (code, stdout, stderr) = orgform(&["validate", &out_dir]).await;
        assert_eq!(code, 0, "{vendor}: {stdout}{stderr}");
        let organizations = if vendor == "pingone" { 2 } else { 1 };
        assert!(
            stdout.contains(&format!("valid: {organizations} organization")),
            "{vendor}: {stdout}"
        );
        let (code, stdout, stderr) = orgform(&["plan", &out_dir, "--detailed-exitcode"]).await;
        assert_eq!(code, 0, "{vendor}: {stdout}{stderr}");
    }
}

/// A typed vendor field (Nirvana's `type`) holding a document break is written as one string:
/// validation says the value is wrong, and no second organization appears.
#[tokio::test(flavor = "multi_thread")]
async fn a_typed_field_with_a_document_break_stays_one_value() {
    let scenario = Scenario::new("nirvana", "").await;
    scenario
        .sandbox
        .seed("nirvana:\n  organizations:\n    - { name: Acme }\n")
        .await;
    scenario
        .sandbox
        .faults(json!({ "scripts": [{ "method": "GET", "route": "/nirvana/v1/organizations", "nth": 1, "times": 100, "mangle": { "set": { "/items/0/type": "company\n---\norganization: evil\nname: Evil" } } }] }))
        .await;
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().to_str().unwrap().to_owned();
    let (code, stdout, stderr) =
        orgform(&["export", &dir, "--provider", "main", "--out", &out_dir]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, stdout, stderr) = orgform(&["validate", &out_dir]).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("1 problem found") && stderr.contains("type"),
        "{stderr}"
    );
    assert!(!stderr.contains("evil`"), "{stderr}");
}

/// Symlinks under the export directory (a linked `.orgform`, a dangling link where a manifest
/// goes) are refused: nothing is written outside the directory.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn export_writes_nothing_through_symlinks() {
    let scenario = Scenario::new("nirvana", "").await;
    scenario
        .sandbox
        .seed("nirvana:\n  organizations:\n    - { name: Acme }\n")
        .await;
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("organization.schema.json"), "precious").unwrap();
    for plant in ["schemas", "manifest"] {
        let out = tempfile::tempdir().unwrap();
        match plant {
            // `.orgform` is a link to a directory elsewhere.
            "schemas" => {
                std::os::unix::fs::symlink(outside.path(), out.path().join(".orgform")).unwrap()
            }
            // Where the manifest goes, a dangling link to a file elsewhere.
            _ => {
                std::fs::create_dir(out.path().join("main")).unwrap();
                std::os::unix::fs::symlink(
                    outside.path().join("created.yaml"),
                    out.path().join("main/acme.yaml"),
                )
                .unwrap();
            }
        }
        let outside_before = tree(outside.path());
        let out_dir = out.path().to_str().unwrap().to_owned();
        let (code, stdout, stderr) =
            orgform(&["export", &dir, "--provider", "main", "--out", &out_dir]).await;
        assert_eq!(code, 1, "{plant}: {stdout}{stderr}");
        assert!(stderr.contains("is a symbolic link"), "{plant}: {stderr}");
        assert_eq!(
            tree(outside.path()),
            outside_before,
            "{plant}: written outside"
        );
    }
    assert!(writes(&scenario).await.is_empty());
}

/// A workspace whose lock directory is a link elsewhere: apply refuses to take the lock there,
/// and writes nothing.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn apply_takes_no_lock_through_a_link() {
    let scenario = Scenario::new("nirvana", "").await;
    scenario.manifest("acme.yaml", "organization: acme\nname: Acme\n");
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir(scenario.dir.path().join(".orgform")).unwrap();
    std::os::unix::fs::symlink(outside.path(), scenario.dir.path().join(".orgform/locks")).unwrap();
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let (code, stdout, stderr) = orgform(&["apply", &dir, "--auto-approve"]).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("is a symbolic link"), "{stderr}");
    assert!(tree(outside.path()).is_empty());
    assert!(writes(&scenario).await.is_empty());
}
