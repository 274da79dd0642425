//! Vendor strings are shown, never obeyed: ESC, CR, LF and bidirectional overrides in live
//! names and external ids come out escaped in the human and markdown plans.

use super::support::{Scenario, rendered};

const FORGED: &str = "No changes. Live state matches the manifests.";

#[tokio::test]
async fn control_characters_from_the_vendor_are_escaped() {
    let scenario = Scenario::new("scalekit", "policy:\n  prune: true\n  max_deletes: 5\n").await;
    scenario
        .sandbox
        .seed(concat!(
            "scalekit:\n  organizations:\n",
            "    - { display_name: \"Acme\\e[2J\\rNo changes. Live state matches the manifests.\\n\", external_id: acme }\n",
            "    - { display_name: \"Evil\\u202e Corp\", external_id: \"evil\\e]0;pwned\\a\\nNo changes. Live state matches the manifests.\", metadata: { managed_by: orgform } }\n",
        ))
        .await;
    scenario.manifest("acme.yaml", "organization: acme\nname: Acme\n");
    let (plan, _) = scenario.plan(&[]).await.expect("plan");
    let (human, _) = rendered(&plan);
    let markdown = orgform::render::render_markdown(&plan);
    for (format, text) in [("human", &human), ("markdown", &markdown)] {
        assert!(
            !text.contains(['\u{1b}', '\r', '\u{7}', '\u{202e}']),
            "{format}: {text:?}"
        );
        // The forged summary never stands on a line of its own.
        assert!(
            !text
                .lines()
                .any(|l| l.trim_start_matches(['*', ' ']).starts_with(FORGED)),
            "{format}:\n{text}"
        );
    }
    insta::assert_snapshot!("hygiene_human", human);
    insta::assert_snapshot!("hygiene_markdown", markdown);
}

/// A domain's TXT record secret is the vendor's to keep: no plan shows it, in any format, even
/// for a domain the plan deletes.
#[tokio::test]
async fn a_domains_txt_record_secret_never_reaches_a_plan() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario
        .sandbox
        .seed("scalekit:\n  organizations:\n    - { display_name: Acme, external_id: acme, domains: [{ domain: acme.example }, { domain: old.example }] }\n")
        .await;
    let auth = scenario.sandbox.scalekit().await;
    let listed = scenario
        .sandbox
        .get("/scalekit/api/v1/organizations:external/acme", &auth)
        .await;
    let id = listed.body["organization"]["id"].as_str().unwrap();
    let domains = scenario
        .sandbox
        .get(
            &format!("/scalekit/api/v1/organizations/{id}/domains"),
            &auth,
        )
        .await;
    let secrets: Vec<String> = domains.body["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["txt_record_secret"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(secrets.len(), 2);
    scenario.manifest(
        "acme.yaml",
        "organization: acme\nname: Acme\ndomains: [acme.example]\n",
    );
    let (plan, _) = scenario.plan(&[]).await.expect("plan");
    assert_eq!(plan.summary.delete, 1, "old.example is removed");
    let (human, json) = rendered(&plan);
    let markdown = orgform::render::render_markdown(&plan);
    for text in [&human, &json, &markdown] {
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "{text}");
        }
        assert!(!text.contains("txt_record"), "{text}");
    }
}
