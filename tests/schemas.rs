//! The committed JSON Schemas match the types, and the examples satisfy them.

use std::path::{Path, PathBuf};

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

/// The manifests of the example workspaces (not the CI workflows in `examples/ci`).
fn example_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    yaml_files(Path::new("examples"), &mut files);
    files.retain(|f| !f.starts_with("examples/ci"));
    files.sort();
    files
}

#[test]
fn committed_schemas_are_up_to_date() {
    for (name, expected) in orgform::schema::schemas() {
        let committed = std::fs::read_to_string(Path::new("schemas").join(name))
            .unwrap_or_else(|_| panic!("schemas/{name} is missing"));
        assert!(
            committed == expected,
            "schemas/{name} is stale: run `cargo run -- schemas --out schemas` and commit"
        );
    }
}

#[test]
fn every_example_carries_a_schema_line_that_resolves() {
    let files = example_files();
    assert!(files.len() >= 8);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for document in text.split("\n---\n") {
            let first = document.lines().next().unwrap_or_default();
            let target = first
                .strip_prefix("# yaml-language-server: $schema=")
                .unwrap_or_else(|| panic!("{}: a document lacks the schema line", file.display()));
            let resolved = file.parent().unwrap().join(target);
            assert!(
                resolved.is_file(),
                "{}: {} does not exist",
                file.display(),
                resolved.display()
            );
            let expected = if file.ends_with("orgform.yaml") {
                "orgform.schema.json"
            } else {
                "organization.schema.json"
            };
            assert!(
                target.ends_with(expected),
                "{}: points at {target}",
                file.display()
            );
        }
    }
}

/// The decoder and the schema describe one language: every example passes both.
#[test]
fn examples_validate_against_the_json_schemas() {
    for file in example_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = if file.ends_with("orgform.yaml") {
            "orgform.schema.json"
        } else {
            "organization.schema.json"
        };
        let schema: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(Path::new("schemas").join(name)).unwrap(),
        )
        .unwrap();
        let validator = jsonschema::validator_for(&schema).expect("schema compiles");
        let documents: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).unwrap();
        for document in documents {
            let errors: Vec<String> = validator
                .iter_errors(&document)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", file.display());
        }
    }
}

/// And the schema rejects what the decoder rejects, for a sample of invalid documents.
#[test]
fn the_schema_rejects_unknown_fields_and_bad_values() {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("schemas/organization.schema.json").unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for bad in [
        "organization: acme\nnmae: x\nname: x\n",
        "organization: Acme Corp\nname: x\n",
        "organization: acme\n",
        "organization: acme\nname: x\naddress: { line1: a, city: b, postal_code: c, country: usa }\n",
        "organization: acme\nname: x\nlicenses: [{ package: A, status: ACTIV }]\n",
        // More pairs than any vendor allows (WorkOS: 50; each vendor's own limit is `validate`'s).
        &format!(
            "organization: acme\nname: x\nmetadata: {{{}}}\n",
            (0..51)
                .map(|i| format!("k{i}: '1'"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        "organization: acme\nname: x\ndescription: null\n",
        "organization: acme\nname: x\ndomains: null\n",
    ] {
        let document: serde_json::Value = serde_saphyr::from_str(bad).unwrap();
        assert!(!validator.is_valid(&document), "schema accepted:\n{bad}");
    }
}

/// `null` is accepted exactly where it means "clear", in both the schema and the decoder.
#[test]
fn null_clears_only_where_the_language_says_so() {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("schemas/organization.schema.json").unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let config = "providers:\n  main:\n    kind: nirvana\n    sandbox: true\n";
    let clears = "organization: acme\nname: x\nbilling_email: null\naddress: { line1: a, city: b, postal_code: c, country: US, line2: null, state: null, tax_id: null, tax_id_type: null }\n";
    let document: serde_json::Value = serde_saphyr::from_str(clears).unwrap();
    assert!(validator.is_valid(&document));
    let desired =
        orgform::model::validate_texts(config, &[("a.yaml", clears)], &crate::support::test_env)
            .unwrap();
    let org = desired.organizations.values().next().unwrap();
    assert_eq!(
        org.billing_email.as_ref().map(|b| b.value.clone()),
        Some(None)
    );

    let null_name = "organization: acme\nname: x\nid: null\n";
    let errors =
        orgform::model::validate_texts(config, &[("a.yaml", null_name)], &crate::support::test_env)
            .unwrap_err();
    assert_eq!(
        errors.iter().map(|e| e.code()).collect::<Vec<_>>(),
        ["wrong_type"]
    );
    let document: serde_json::Value = serde_saphyr::from_str(null_name).unwrap();
    assert!(!validator.is_valid(&document));
}
