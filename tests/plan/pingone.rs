//! PingOne: everything is read-only; license expectations against the default seed.

use super::support::{Scenario, actions, rendered};

const ORG: &str = "bed432e6-676a-4ebe-b5a5-6b3b54e46bda";

#[tokio::test]
async fn unmet_license_expectations_and_organization_drift_are_manual() {
    let scenario = Scenario::new("pingone", "").await;
    scenario.manifest(
        "orgs.yaml",
        &format!(
            r#"
organization: licensing
name: Example Org
id: {ORG}
type: INTERNAL
description: The organization of the PingOne licensing guide
licenses:
  - {{ package: RISKTRIAL, status: ACTIVE }}
  - {{ package: INTERNAL, status: ACTIVE, min_days_left: 30 }}
  - {{ package: ADMIN, status: ACTIVE, min_days_left: 100000 }}
  - {{ package: GOLD, status: ACTIVE }}
  - {{ id: 4bfa577b-2ece-49d6-ab8b-8f105d11aa49, status: TERMINATED }}
---
organization: missing
name: Not In PingOne
"#
        ),
    );
    let (plan, _) = scenario.plan(&[]).await.expect("the plan succeeds");
    let got = actions(&plan);
    assert_eq!(
        got,
        [
            (
                "org.licensing".to_owned(),
                "manual".to_owned(),
                "read_only".to_owned()
            ),
            (
                "org.licensing.license[ADMIN]".to_owned(),
                "manual".to_owned(),
                "read_only".to_owned()
            ),
            (
                "org.licensing.license[GOLD]".to_owned(),
                "manual".to_owned(),
                "not_in_live".to_owned()
            ),
            (
                "org.licensing.license[RISKTRIAL]".to_owned(),
                "manual".to_owned(),
                "read_only".to_owned()
            ),
            (
                "org.missing".to_owned(),
                "manual".to_owned(),
                "not_in_live".to_owned()
            ),
        ]
    );
    let risk = plan
        .resource_changes
        .iter()
        .find(|c| &*c.address == "org.licensing.license[RISKTRIAL]")
        .unwrap();
    assert_eq!(risk.changed_paths, ["status"]);
    assert!(
        risk.message
            .as_deref()
            .unwrap()
            .contains("is TERMINATED, expected ACTIVE")
    );
    let org = plan
        .resource_changes
        .iter()
        .find(|c| &*c.address == "org.licensing")
        .unwrap();
    assert_eq!(org.changed_paths, ["name"], "only the name differs");
    assert_eq!(
        (
            plan.summary.create,
            plan.summary.update,
            plan.summary.delete,
            plan.summary.manual
        ),
        (0, 0, 0, 5)
    );
    let (human, json) = rendered(&plan);
    insta::assert_snapshot!("pingone_manual_drift_human", human);
    insta::assert_snapshot!("pingone_manual_drift_json", json);
}

#[tokio::test]
async fn a_pinned_id_that_does_not_exist_is_an_error() {
    let scenario = Scenario::new("pingone", "").await;
    scenario.manifest(
        "orgs.yaml",
        "organization: ghost\nname: Ghost\nid: 00000000-0000-0000-0000-000000000000\n",
    );
    let Err(orgform::session::Failure::Manifest(errors)) = scenario.plan(&[]).await else {
        panic!("expected an identity error")
    };
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .message()
            .contains("which provider `main` does not have"),
        "{}",
        errors[0].message()
    );
    assert_eq!(errors[0].code(), "identity");
}

#[tokio::test]
async fn multi_line_values_are_diffed_line_by_line() {
    let scenario = Scenario::new("pingone", "").await;
    scenario.manifest(
        "a.yaml",
        &format!("organization: ping\nname: Example Organization\nid: {ORG}\ndescription: |\n  The organization of the PingOne licensing guide\n  and of our tests\n"),
    );
    let (plan, _) = scenario.plan(&[]).await.unwrap();
    let human = rendered(&plan).0;
    assert!(human.contains("+ and of our tests"), "{human}");
    insta::assert_snapshot!("pingone_multi_line_human", human);
}
