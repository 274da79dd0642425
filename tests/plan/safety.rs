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
        violation.message.contains("10% of 10, at least 1 = 1"),
        "{}",
        violation.message
    );
}

/// The default (10%) allows removing one member of a small organization; more needs the
/// policy or, for one run, `apply --allow-member-removals N`.
#[tokio::test(flavor = "multi_thread")]
async fn one_member_of_a_small_organization_may_go_and_a_run_may_allow_more() {
    let scenario = Scenario::new("scalekit", "").await;
    let mut seed = String::from(
        "scalekit:\n  organizations:\n    - { display_name: Acme, external_id: acme }\n  users:\n",
    );
    for i in 0..3 {
        seed.push_str(&format!("    - {{ email: u{i}@acme.example, memberships: [{{ organization: acme, roles: [member] }}] }}\n"));
    }
    scenario.sandbox.seed(&seed).await;
    let keep = |n: usize| -> String {
        let members: String = (0..n)
            .map(|i| format!("  - {{ email: u{i}@acme.example, role: member }}\n"))
            .collect();
        format!("organization: acme\nname: Acme\nmembers:\n{members}")
    };
    scenario.manifest("a.yaml", &keep(2));
    let (plan, _) = scenario.plan(&[]).await.unwrap();
    assert!(
        plan.safety.violations.is_empty(),
        "{:?}",
        plan.safety.violations
    );
    scenario.manifest("a.yaml", &keep(1));
    let (plan, _) = scenario.plan(&[]).await.unwrap();
    assert_eq!(plan.safety.violations.len(), 1);
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let (code, _, stderr) = crate::distrust::orgform(&["apply", &dir, "--auto-approve"]).await;
    assert_eq!(code, 1, "{stderr}");
    let (code, stdout, stderr) = crate::distrust::orgform(&[
        "apply",
        &dir,
        "--auto-approve",
        "--allow-member-removals",
        "2",
    ])
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("Apply complete: 2 done"), "{stdout}");
    let (plan, _) = scenario.plan(&[]).await.unwrap();
    assert!(!plan.has_changes());
}
