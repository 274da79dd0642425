//! Live organizations no manifest declares are visible: counted in the human plan, listed in
//! JSON and under `-v`; and a rename without `previously` is not a silent create.

use serde_json::Value;

use super::support::Scenario;
use crate::distrust::{orgform, writes};

#[tokio::test(flavor = "multi_thread")]
async fn unmanaged_live_organizations_are_counted_and_listed() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario
        .sandbox
        .seed("scalekit:\n  organizations:\n    - { display_name: Acme, external_id: acme }\n    - { display_name: Console Made }\n    - { display_name: Old Tenant, external_id: old-tenant, metadata: { managed_by: orgform } }\n")
        .await;
    scenario.manifest("acme.yaml", "organization: acme\nname: Acme\n");
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let (code, human, stderr) = orgform(&["plan", &dir, "--detailed-exitcode"]).await;
    assert_eq!(code, 0, "{human}{stderr}");
    assert!(
        human.contains("2 live organizations no manifest declares (1 of them carries orgform's ownership marker)"),
        "{human}"
    );
    let (_, verbose, _) = orgform(&["plan", &dir, "-v"]).await;
    assert!(
        verbose.contains("  - main: `Console Made` (id "),
        "{verbose}"
    );
    assert!(
        verbose.contains("external id old-tenant, orgform's)"),
        "{verbose}"
    );
    let (_, json, _) = orgform(&["plan", &dir, "--format", "json"]).await;
    let plan: Value = serde_json::from_str(&json).unwrap();
    let names: Vec<&str> = plan["unmanaged_organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(
        names.contains(&"Console Made") && names.contains(&"Old Tenant"),
        "{names:?}"
    );
    // With prune on, orgform's own is a delete instead, and only the other one is unmanaged.
    std::fs::write(
        scenario.dir.path().join("orgform.yaml"),
        std::fs::read_to_string(scenario.dir.path().join("orgform.yaml")).unwrap()
            + "policy:\n  prune: true\n  max_deletes: 1\n",
    )
    .unwrap();
    let (_, human, _) = orgform(&["plan", &dir]).await;
    assert!(
        human.contains("1 live organization no manifest declares (`-v"),
        "{human}"
    );
    assert!(human.contains("- org.old-tenant"), "{human}");
}

/// A Nirvana organization renamed in its manifest without `previously`: the plan names the old
/// live name and the line to add, apply refuses to create (Nirvana cannot delete the
/// duplicate), and creates only when told it is new.
#[tokio::test(flavor = "multi_thread")]
async fn a_rename_without_previously_is_not_a_silent_create() {
    let scenario = Scenario::new("nirvana", "").await;
    scenario
        .sandbox
        .seed("nirvana:\n  organizations:\n    - { name: Acme Inc }\n")
        .await;
    scenario.manifest("acme.yaml", "organization: acme\nname: Acme Incorporated\n");
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    // A safety violation: plan exits 1, as for any plan apply would refuse.
    let (code, human, _) = orgform(&["plan", &dir]).await;
    assert_eq!(code, 1);
    assert!(
        human.contains("live organization `Acme Inc` (")
            && human.contains("add `previously: [\"Acme Inc\"]` to its manifest"),
        "{human}"
    );
    assert!(human.contains("possible_rename"), "{human}");
    let (code, stdout, stderr) = orgform(&["apply", &dir, "--auto-approve"]).await;
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("refused by the safety policy"), "{stderr}");
    assert!(writes(&scenario).await.is_empty());

    // It is the same organization: `previously` makes it a rename.
    scenario.manifest(
        "acme.yaml",
        "organization: acme\nname: Acme Incorporated\npreviously: [Acme Inc]\n",
    );
    let (code, human, _) = orgform(&["plan", &dir]).await;
    assert_eq!(code, 0);
    assert!(
        human.contains("~ name") && !human.contains("possible_rename"),
        "{human}"
    );

    // Or a new one, confirmed: created.
    scenario.manifest("acme.yaml", "organization: acme\nname: Acme Incorporated\n");
    let (code, stdout, stderr) = orgform(&[
        "apply",
        &dir,
        "--auto-approve",
        "--allow-create",
        "org.acme",
    ])
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(writes(&scenario).await.len(), 1);
    let (code, stdout, stderr) = orgform(&["plan", &dir, "--detailed-exitcode"]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
}
