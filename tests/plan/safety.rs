//! Each safety rule: computed with the plan, shown, and naming what would allow it.

use orgform::render::render_human;

use super::support::Scenario;

#[tokio::test]
async fn deletes_beyond_max_deletes_are_a_violation() {
    let scenario = Scenario::new("scalekit", "policy:\n  prune: true\n").await;
    scenario
        .sandbox
        .seed("scalekit:\n  organizations:\n    - { display_name: Old 1, external_id: old1, metadata: { managed_by: orgform } }\n    - { display_name: Old 2, external_id: old2, metadata: { managed_by: orgform } }\n")
        .await;
    scenario.manifest("a.yaml", "organization: keep\nname: Keep\n");
    let (plan, _) = scenario.plan(&[]).await.unwrap();
    assert_eq!(plan.summary.delete, 2);
    let rules: Vec<&str> = plan
        .safety
        .violations
        .iter()
        .map(|v| v.rule.as_str())
        .collect();
    assert_eq!(rules, ["max_deletes"]);
    assert!(
        plan.safety.violations[0]
            .allow_with
            .contains("--allow-deletes 2")
    );
    insta::assert_snapshot!("safety_max_deletes_human", render_human(&plan, false));
}

#[tokio::test]
async fn pruning_a_protected_organization_is_a_violation() {
    let scenario = Scenario::new("scalekit", "policy:\n  prune: true\n  max_deletes: 5\n").await;
    scenario
        .sandbox
        .seed("scalekit:\n  organizations:\n    - { display_name: Crown Jewels, external_id: crown, metadata: { managed_by: \"orgform:protected\" } }\n")
        .await;
    scenario.manifest("a.yaml", "organization: keep\nname: Keep\n");
    let (plan, _) = scenario.plan(&[]).await.unwrap();
    let rules: Vec<(&str, Option<&str>)> = plan
        .safety
        .violations
        .iter()
        .map(|v| (v.rule.as_str(), v.address.as_deref()))
        .collect();
    assert_eq!(rules, [("protect", Some("org.crown"))]);
}

#[tokio::test]
async fn protect_is_recorded_on_organizations_orgform_owns() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.sandbox.seed("scalekit:\n  organizations:\n    - { display_name: Crown, external_id: crown, metadata: { managed_by: orgform } }\n").await;
    scenario.manifest(
        "a.yaml",
        "organization: crown\nname: Crown\nprotect: true\n",
    );
    let (plan, _) = scenario.plan(&[]).await.unwrap();
    let update = plan
        .resource_changes
        .iter()
        .find(|c| &*c.address == "org.crown")
        .unwrap();
    assert_eq!(update.changed_paths, ["protect"]);
}

#[tokio::test]
async fn member_removals_beyond_the_limit_are_a_violation() {
    let scenario = Scenario::new("scalekit", "policy:\n  max_member_removals: 10%\n").await;
    let mut seed = String::from(
        "scalekit:\n  organizations:\n    - { display_name: Acme, external_id: acme }\n  users:\n",
    );
    for i in 0..10 {
        seed.push_str(&format!("    - {{ email: u{i}@acme.example, memberships: [{{ organization: acme, roles: [member] }}] }}\n"));
    }
    scenario.sandbox.seed(&seed).await;
    // Keep 7 of 10: 3 removals, more than 10% of 10.
    let members: String = (0..7)
        .map(|i| format!("  - {{ email: u{i}@acme.example, role: member }}\n"))
        .collect();
    scenario.manifest(
        "a.yaml",
        &format!("organization: acme\nname: Acme\nmembers:\n{members}"),
    );
    let (plan, _) = scenario.plan(&[]).await.unwrap();
    let violation = &plan.safety.violations[0];
    assert_eq!(
        (violation.rule.as_str(), violation.address.as_deref()),
        ("max_member_removals", Some("org.acme"))
    );
    assert!(
        violation.message.contains("removes 3 members"),
        "{}",
        violation.message
    );
    assert!(
        violation.message.contains("10% of 10 = 1"),
        "{}",
        violation.message
    );
}
