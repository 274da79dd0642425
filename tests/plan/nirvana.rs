//! Nirvana: organizations and addresses are written; domains, memberships, type and services
//! are read-only, so their drift is manual.

use super::support::{Scenario, actions, rendered};

const SEED: &str = r#"
nirvana:
  organizations:
    - name: Umbrella Corp
      billing_email: old@umbrella.example
      type: company
      services: { sso: true, scim: false }
      domains: [{ domain: umbrella.example, verified: true }, { domain: legacy.example, verified: true }, { domain: unverified.example }]
      address: { line1: 1 Hive Way, city: Raccoon City, postal_code: "63101", country: US, state: MO }
      memberships: [{ user_id: usr_1, role: owner }, { user_id: usr_2, role: member }, { user_id: usr_9, role: member }]
    - name: Wonka
"#;

const MANIFESTS: &str = r#"
organization: umbrella
name: Umbrella Corp
billing_email: billing@umbrella.example
type: personal
services: { sso: true, scim: true }
domains: [umbrella.example, unverified.example, new.example]
address: { line1: 2 Hive Way, city: Raccoon City, postal_code: "63101", country: US }
members:
  - { user: usr_1, role: owner }
  - { user: usr_2, role: owner }
  - { user: usr_3, role: member }
---
organization: wonka
name: Wonka
address: { line1: 7 Chocolate Row, city: London, postal_code: EC1A 1BB, country: GB }
---
organization: cyberdyne
name: Cyberdyne
billing_email: null
members: [{ user: usr_7, role: owner }]
"#;

#[tokio::test]
async fn read_only_domains_and_memberships_drift_as_manual_actions() {
    let scenario = Scenario::new("nirvana", "").await;
    scenario.sandbox.seed(SEED).await;
    scenario.manifest("orgs.yaml", MANIFESTS);
    let (plan, _) = scenario.plan(&[]).await.expect("the plan succeeds");
    let got = actions(&plan);
    let has = |address: &str, action: &str, reason: &str| {
        assert!(
            got.iter()
                .any(|(a, x, r)| a == address && x == action && r == reason),
            "missing {address} {action} {reason} in {got:#?}"
        );
    };
    has("org.umbrella", "update", "fields_differ");
    has("org.umbrella", "manual", "read_only");
    has("org.umbrella.address", "update", "fields_differ");
    has("org.umbrella.domain[new.example]", "manual", "not_in_live");
    has(
        "org.umbrella.domain[legacy.example]",
        "manual",
        "not_in_manifest",
    );
    has("org.umbrella.member[usr_2]", "manual", "read_only");
    has("org.umbrella.member[usr_3]", "manual", "not_in_live");
    has("org.umbrella.member[usr_9]", "manual", "not_in_manifest");
    has("org.wonka.address", "create", "not_in_live");
    has("org.cyberdyne", "create", "not_in_live");
    has("org.cyberdyne.member[usr_7]", "manual", "not_in_live");
    assert!(
        !got.iter().any(|(_, action, _)| action == "delete"),
        "Nirvana organizations are never deleted"
    );
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.address == "org.umbrella.domain[unverified.example]")
    );
    let (human, json) = rendered(&plan);
    insta::assert_snapshot!("nirvana_read_only_drift_human", human);
    insta::assert_snapshot!("nirvana_read_only_drift_json", json);
}
