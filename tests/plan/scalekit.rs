//! Scalekit: every action a writable vendor gets, with ignore, prune, rename and warnings.

use super::support::{Scenario, actions, rendered};

const SEED: &str = r#"
scalekit:
  organizations:
    - display_name: Acme Corp
      external_id: acme
      metadata: { tier: silver, cost_center: "17", managed_by: orgform }
      features: { sso: false }
      domains:
        - { domain: acme.example, verification_status: VERIFIED }
        - { domain: old.acme.example, verification_status: VERIFIED }
        - { domain: pending.acme.example }
    - display_name: Globex Inc
      metadata: { tier: silver }
    - display_name: Stale Co
      external_id: stale
      metadata: { managed_by: orgform }
    - display_name: Foreign Co
      external_id: foreign
  users:
    - { email: ada@acme.example, memberships: [{ organization: acme, roles: [admin] }] }
    - { email: bob@acme.example, memberships: [{ organization: acme, roles: [member] }] }
"#;

const MANIFESTS: &str = r#"
organization: acme
name: Acme Corporation
ignore: [metadata.cost_center]
region: EU
metadata: { tier: gold, cost_center: "99" }
features: { sso: true }
domains: [acme.example, pending.acme.example, new.acme.example]
members:
  - { email: ada@acme.example, role: member }
  - { email: carol@acme.example, role: admin }
---
organization: globex
name: Globex Corporation
previously: [Globex Inc]
metadata: { tier: silver }
---
organization: initech
name: Initech
domains: [initech.example]
members: [{ email: peter@initech.example, role: member }]
"#;

#[tokio::test]
async fn a_plan_covers_every_action_a_writable_vendor_takes() {
    let scenario = Scenario::new(
        "scalekit",
        "policy:\n  prune: true\n  max_deletes: 1\n  max_member_removals: 1\n",
    )
    .await;
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
    has("org.acme", "update", "fields_differ");
    has("org.acme", "manual", "read_only");
    has("org.acme.domain[new.acme.example]", "create", "not_in_live");
    has(
        "org.acme.domain[old.acme.example]",
        "delete",
        "not_in_manifest",
    );
    has(
        "org.acme.member[ada@acme.example]",
        "update",
        "fields_differ",
    );
    has(
        "org.acme.member[carol@acme.example]",
        "create",
        "not_in_live",
    );
    has(
        "org.acme.member[bob@acme.example]",
        "delete",
        "not_in_manifest",
    );
    has("org.globex", "update", "fields_differ");
    has("org.initech", "create", "not_in_live");
    has(
        "org.initech.domain[initech.example]",
        "create",
        "not_in_live",
    );
    has("org.stale", "delete", "pruned");
    assert!(
        !got.iter().any(|(a, _, _)| a.contains("foreign")),
        "an organization orgform does not own is never pruned"
    );
    let acme = plan
        .resource_changes
        .iter()
        .find(|c| &*c.address == "org.acme" && c.action == orgform::plan::Action::Update)
        .unwrap();
    assert!(
        !acme
            .changed_paths
            .contains(&"metadata.cost_center".to_owned()),
        "ignored"
    );
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.address == "org.acme.domain[pending.acme.example]")
    );
    assert!(plan.safety.violations.is_empty(), "{:?}", plan.safety);

    let (human, json) = rendered(&plan);
    insta::assert_snapshot!("scalekit_every_action_human", human);
    insta::assert_snapshot!("scalekit_every_action_json", json);
    insta::assert_snapshot!(
        "scalekit_every_action_markdown",
        orgform::render::render_markdown(&plan)
    );
}

#[tokio::test]
async fn a_target_plans_only_that_organization_and_reads_only_it() {
    let scenario = Scenario::new("scalekit", "policy:\n  prune: true\n  max_deletes: 5\n").await;
    scenario.sandbox.seed(SEED).await;
    scenario.manifest("orgs.yaml", MANIFESTS);
    let (plan, _) = scenario.plan(&["org.acme"]).await.unwrap();
    assert!(
        plan.resource_changes
            .iter()
            .all(|c| c.address.starts_with("org.acme")),
        "{:#?}",
        actions(&plan)
    );
    assert!(
        !actions(&plan)
            .iter()
            .any(|(_, action, reason)| action == "delete" && reason == "pruned"),
        "targeted plans never prune"
    );
    // acme has a key and so a direct lookup: no list of every organization.
    assert_eq!(
        scenario
            .sandbox
            .count("GET", "/scalekit/api/v1/organizations", 200)
            .await,
        0
    );
    assert_eq!(
        scenario
            .sandbox
            .count(
                "GET",
                "/scalekit/api/v1/organizations:external/{external_id}",
                200
            )
            .await,
        1
    );

    let (member_only, _) = scenario
        .plan(&["org.acme.member[carol@acme.example]"])
        .await
        .unwrap();
    let got = actions(&member_only);
    assert_eq!(
        got,
        [(
            "org.acme.member[carol@acme.example]".to_owned(),
            "create".to_owned(),
            "not_in_live".to_owned()
        )]
    );
    insta::assert_snapshot!("scalekit_target_member_human", rendered(&member_only).0);
}
