//! The invalid-workspace corpus: every rule of the manifest language has a case whose rendered
//! diagnostics are pinned by a snapshot.

use std::collections::BTreeSet;

use crate::support::{fixture, load, render};

fn corpus() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixture("invalid"))
        .expect("corpus exists")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn every_invalid_workspace_renders_its_diagnostics() {
    let names = corpus();
    assert!(names.len() >= 25, "the corpus has {} cases", names.len());
    for name in names {
        let dir = fixture(&format!("invalid/{name}"));
        let errors = load(&dir).expect_err(&format!("{name} must be invalid"));
        insta::assert_snapshot!(format!("invalid_{name}"), render(&errors));
    }
}

/// Each rule's code must be produced by at least one case, so no rule goes untested.
#[test]
fn the_corpus_covers_every_rule() {
    let mut seen = BTreeSet::new();
    for name in corpus() {
        for error in load(&fixture(&format!("invalid/{name}"))).unwrap_err() {
            seen.insert(error.code());
        }
    }
    let rules = [
        "unknown_field",
        "bare_variable",
        "wrong_type",
        "missing_field",
        "invalid_key",
        "duplicate_key",
        "duplicate_organization",
        "duplicate_name",
        "duplicate_id",
        "unknown_provider",
        "missing_provider",
        "unsupported_field",
        "conflicting_fields",
        "invalid_domain",
        "duplicate_domain",
        "invalid_email",
        "invalid_country",
        "metadata_limit",
        "invalid_role",
        "invalid_length",
        "invalid_value",
        "out_of_range",
        "duplicate_member",
        "duplicate_license",
        "invalid_ignore",
        "invalid_url",
        "yaml_syntax",
        "yaml_limit",
        "missing_variable",
        "bad_interpolation",
        "no_workspace",
        "no_providers",
        "multiple_documents",
        "not_utf8",
    ];
    let missing: Vec<_> = rules.iter().filter(|r| !seen.contains(*r)).collect();
    assert!(missing.is_empty(), "rules without a case: {missing:?}");
}

#[test]
fn five_different_errors_are_reported_in_one_run() {
    let errors = load(&fixture("invalid/five_errors")).unwrap_err();
    let codes: BTreeSet<&str> = errors.iter().map(|e| e.code()).collect();
    assert_eq!(errors.len(), 5, "{}", render(&errors));
    assert_eq!(
        codes,
        BTreeSet::from([
            "unsupported_field",
            "invalid_domain",
            "invalid_email",
            "unknown_field",
            "unknown_provider"
        ])
    );
}

#[test]
fn every_diagnostic_points_at_a_line_and_column() {
    for name in corpus() {
        if name == "no_config" {
            continue; // there is no file to point into
        }
        for error in load(&fixture(&format!("invalid/{name}"))).unwrap_err() {
            assert!(
                error.span().is_some(),
                "{name}: `{}` has no location",
                error.message()
            );
        }
    }
}

/// Every diagnostic says how to fix it.
#[test]
fn every_diagnostic_has_a_help_line() {
    for name in corpus() {
        for error in load(&fixture(&format!("invalid/{name}"))).unwrap_err() {
            assert!(
                miette::Diagnostic::help(&error).is_some(),
                "{name}: `{}` has no help",
                error.message()
            );
        }
    }
}

/// A manifest path that cannot be read is a diagnostic, never a silent skip (a manifest left
/// out would be an organization that `prune` deletes).
#[cfg(unix)]
#[test]
fn unreadable_manifest_paths_are_diagnostics() {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::symlink;

    type Make<'a> = &'a dyn Fn(&std::path::Path);
    let cases: [(&str, Make, &str); 5] = [
        (
            "non-UTF-8 file name",
            &|dir| {
                let name = std::ffi::OsStr::from_bytes(b"tenant-\xff.yaml");
                std::fs::write(dir.join(name), "organization: b\nname: B\n").unwrap();
            },
            "the name is not valid UTF-8",
        ),
        (
            "non-UTF-8 directory name",
            &|dir| {
                let sub = dir.join(std::ffi::OsStr::from_bytes(b"team-\xfe"));
                std::fs::create_dir(&sub).unwrap();
                std::fs::write(sub.join("b.yaml"), "organization: b\nname: B\n").unwrap();
            },
            "the name is not valid UTF-8",
        ),
        (
            "dangling symlink",
            &|dir| symlink(dir.join("gone.yaml"), dir.join("b.yaml")).unwrap(),
            "a symlink that cannot be followed (dangling or looping)",
        ),
        (
            "file symlink loop",
            &|dir| {
                symlink(dir.join("c.yaml"), dir.join("b.yaml")).unwrap();
                symlink(dir.join("b.yaml"), dir.join("c.yaml")).unwrap();
            },
            "a symlink that cannot be followed (dangling or looping)",
        ),
        (
            "directory symlink loop",
            &|dir| {
                std::fs::create_dir(dir.join("team")).unwrap();
                symlink(dir, dir.join("team/back")).unwrap();
            },
            "a directory reached a second time through a symlink (a loop)",
        ),
    ];
    for (name, make, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("orgform.yaml"),
            "providers:\n  main:\n    kind: scalekit\n    sandbox: true\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("a.yaml"), "organization: a\nname: A\n").unwrap();
        make(dir.path());
        let errors = load(dir.path()).expect_err(name);
        assert!(
            errors
                .iter()
                .any(|e| e.code() == "unreadable_path" && e.message().contains(expected)),
            "{name}: {}",
            render(&errors)
        );
        assert!(
            render(&errors).contains("help:"),
            "{name}: {}",
            render(&errors)
        );
    }
}

/// A symlink to a manifest, or to a directory of manifests, is followed.
#[cfg(unix)]
#[test]
fn symlinked_manifests_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("orgform.yaml"),
        "providers:\n  main:\n    kind: scalekit\n    sandbox: true\n",
    )
    .unwrap();
    std::fs::write(
        elsewhere.path().join("a.yaml"),
        "organization: a\nname: A\n",
    )
    .unwrap();
    std::fs::create_dir(elsewhere.path().join("team")).unwrap();
    std::fs::write(
        elsewhere.path().join("team/b.yaml"),
        "organization: b\nname: B\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(elsewhere.path().join("a.yaml"), dir.path().join("a.yaml")).unwrap();
    std::os::unix::fs::symlink(elsewhere.path().join("team"), dir.path().join("team")).unwrap();
    let desired = load(dir.path()).expect("valid");
    assert_eq!(desired.organizations.len(), 2);
}
