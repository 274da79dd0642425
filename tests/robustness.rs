//! No input makes the loader panic, and hostile YAML is refused quickly with a clear error.

use std::time::Instant;

use orgform::model::validate_texts;
use proptest::prelude::*;

use crate::support::{render, test_env};

const CONFIG: &str = "providers:\n  main:\n    kind: scalekit\n    sandbox: true\n";

/// Validating must return (rendering every diagnostic must work too), never panic.
fn check(config: &str, manifest: &str) {
    if let Err(errors) = validate_texts(config, &[("orgs/fuzz.yaml", manifest)], &test_env) {
        assert!(!errors.is_empty());
        let _ = render(&errors);
    }
}

/// Fragments that steer random text towards the parser's and decoder's corners.
fn yamlish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("organization: "),
        Just("name: "),
        Just("domains: "),
        Just("members:"),
        Just("metadata: "),
        Just("address: "),
        Just("licenses: "),
        Just("- "),
        Just("{"),
        Just("}"),
        Just("["),
        Just("]"),
        Just(", "),
        Just(": "),
        Just("\n"),
        Just("\n  "),
        Just("\n    "),
        Just("&a "),
        Just("*a"),
        Just("<<: *a"),
        Just("---\n"),
        Just("\""),
        Just("'"),
        Just("${X}"),
        Just("$${"),
        Just("acme"),
        Just("ä.example"),
        Just("null"),
        Just("~"),
        Just("12"),
        Just("-3"),
        Just("1e400"),
        Just("true"),
        Just("!!str "),
        Just("? "),
        Just("|\n  x"),
        Just("# c"),
        Just("\t"),
        Just("%YAML 1.2\n"),
        Just("email: a@b.c"),
        Just("role: admin"),
        Just("country: US"),
        Just("\u{feff}"),
    ];
    prop::collection::vec(token, 0..40).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_yield_only_diagnostics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        check(CONFIG, &text);
        check(&text, "organization: acme\nname: Acme\n");
    }

    #[test]
    fn arbitrary_yaml_yields_only_diagnostics(text in yamlish()) {
        check(CONFIG, &text);
        check(&text, &text);
    }

    #[test]
    fn arbitrary_field_values_yield_only_diagnostics(
        key in "\\PC{0,12}",
        name in "\\PC{0,12}",
        domain in "\\PC{0,20}",
        email in "\\PC{0,20}",
        country in "\\PC{0,3}",
        number in any::<i64>(),
    ) {
        let manifest = format!(
            "organization: {key:?}\nname: {name:?}\ndomains: [{domain:?}]\nmembers: [{{ email: {email:?}, role: admin }}]\nmetadata: {{ tier: {number} }}\n---\norganization: x\nname: y\nmax: {number}\n"
        );
        check(CONFIG, &manifest);
        let nirvana = format!(
            "providers: {{ n: {{ kind: nirvana, sandbox: true }} }}\npolicy: {{ max_deletes: {number}, max_member_removals: {name:?} }}\n"
        );
        check(&nirvana, &format!("organization: a\nname: b\naddress: {{ line1: {name:?}, city: c, postal_code: {number}, country: {country:?} }}\n"));
    }
}

fn billion_laughs() -> String {
    let mut text = String::from(
        "organization: bomb\nname: Bomb\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for level in 1..=12 {
        let refs = vec![format!("*l{}", level - 1); 10].join(", ");
        text.push_str(&format!("l{level}: &l{level} [{refs}]\n"));
    }
    text
}

#[test]
fn an_alias_bomb_is_refused_with_a_clear_error() {
    let started = Instant::now();
    let errors =
        validate_texts(CONFIG, &[("orgs/bomb.yaml", &billion_laughs())], &test_env).unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(errors.len(), 1, "{}", render(&errors));
    assert_eq!(errors[0].code(), "yaml_limit", "{}", render(&errors));
    eprintln!("alias bomb refused in {elapsed:?}");
}

#[test]
fn ten_thousand_deep_nesting_is_refused_with_a_clear_error() {
    for (open, close) in [("[", "]"), ("{a: ", "}")] {
        let manifest = format!(
            "organization: deep\nname: Deep\nmetadata: {}1{}\n",
            open.repeat(10_000),
            close.repeat(10_000)
        );
        let block: String = (0..10_000)
            .map(|depth| format!("{}k:\n", " ".repeat(depth)))
            .collect();
        for text in [manifest, block] {
            let started = Instant::now();
            let errors =
                validate_texts(CONFIG, &[("orgs/deep.yaml", &text)], &test_env).unwrap_err();
            let elapsed = started.elapsed();
            assert_eq!(errors.len(), 1, "{}", render(&errors));
            assert_eq!(errors[0].code(), "yaml_limit", "{}", render(&errors));
            eprintln!("10,000-deep nesting refused in {elapsed:?}");
        }
    }
}

#[test]
fn one_file_may_hold_thousands_of_organizations() {
    let text: String = (0..3000)
        .map(|i| format!("---\norganization: org-{i}\nname: Org {i}\n"))
        .collect();
    let desired = validate_texts(CONFIG, &[("orgs/all.yaml", &text)], &test_env).expect("valid");
    assert_eq!(desired.organizations.len(), 3000);
}
