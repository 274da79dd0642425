//! A saved plan is a sealed record: a file edited between `plan --out` and `apply --plan` is
//! refused, naming the addresses and fields that differ, and nothing is written.

use serde_json::{Value, json};

use super::{orgform, writes};
use crate::plan::support::Scenario;

/// Acme (orgform's) loses its member and gains a domain; `victim` is an organization no
/// manifest declares, with a member of its own; `fresh` is to be created.
async fn world() -> (Scenario, String) {
    let scenario = Scenario::new("scalekit", "policy:\n  max_member_removals: 100%\n").await;
    scenario
        .sandbox
        .seed("scalekit:\n  organizations:\n    - { display_name: Acme, external_id: acme, metadata: { managed_by: orgform } }\n    - { display_name: Victim, external_id: victim }\n  users:\n    - { email: ada@acme.example, memberships: [{ organization: acme, roles: [admin] }, { organization: victim, roles: [admin] }] }\n")
        .await;
    scenario.manifest(
        "acme.yaml",
        "organization: acme\nname: Acme\nmembers: []\ndomains: [acme.example]\n---\norganization: fresh\nname: Fresh\n",
    );
    let auth = scenario.sandbox.scalekit().await;
    let victim = scenario
        .sandbox
        .get("/scalekit/api/v1/organizations:external/victim", &auth)
        .await
        .body["organization"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (scenario, victim)
}

fn change<'a>(plan: &'a mut Value, address: &str) -> &'a mut Value {
    plan["resource_changes"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["address"] == address)
        .unwrap_or_else(|| panic!("no change {address}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_saved_plan_is_refused_with_no_write() {
    let (scenario, victim) = world().await;
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("plan.json");
    let file = file.to_str().unwrap().to_owned();
    let (code, stdout, stderr) = orgform(&["plan", &dir, "--out", &file]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let original: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let member = "org.acme.member[ada@acme.example]";

    type Tamper = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Tamper, &str)> = vec![
        (
            "another organization's id",
            Box::new(move |p| change(p, member)["organization_id"] = json!(victim.clone())),
            "`org.acme.member[ada@acme.example]` differs in organization_id",
        ),
        (
            "a path-like organization id",
            Box::new(|p| change(p, member)["organization_id"] = json!("../organizations/x")),
            "differs in organization_id",
        ),
        (
            "another provider",
            Box::new(|p| change(p, member)["provider"] = json!("other")),
            "differs in provider",
        ),
        (
            "another live id",
            Box::new(|p| change(p, member)["live_id"] = json!("usr_1")),
            "differs in live_id",
        ),
        (
            "a create listed twice",
            Box::new(|p| {
                let create = change(p, "org.fresh").clone();
                p["resource_changes"].as_array_mut().unwrap().push(create);
            }),
            "`org.fresh` (create) is listed more than once",
        ),
        (
            "a change planning does not make",
            Box::new(|p| {
                let mut extra = change(p, "org.fresh").clone();
                extra["address"] = json!("org.other");
                p["resource_changes"].as_array_mut().unwrap().push(extra);
            }),
            "`org.other` (create) is not a change planning makes now",
        ),
        (
            "an edited body",
            Box::new(|p| change(p, "org.fresh")["after"]["name"] = json!("Evil")),
            "`org.fresh` differs in after",
        ),
        (
            "no workspace",
            Box::new(|p| {
                p.as_object_mut().unwrap().remove("workspace");
            }),
            "records no workspace",
        ),
    ];
    for (name, tamper, expect) in cases {
        let mut edited = original.clone();
        tamper(&mut edited);
        std::fs::write(&file, serde_json::to_string(&edited).unwrap()).unwrap();
        let (code, stdout, stderr) =
            orgform(&["apply", &dir, "--plan", &file, "--auto-approve"]).await;
        assert_eq!(code, 1, "{name}: {stdout}{stderr}");
        assert!(
            stderr.contains(expect),
            "{name}: stderr lacks `{expect}`:\n{stderr}"
        );
        assert!(
            writes(&scenario).await.is_empty(),
            "{name}: a write was sent"
        );
    }

    // `show` counts what the file lists, not what its summary claims.
    let mut edited = original.clone();
    let create = change(&mut edited, "org.fresh").clone();
    edited["resource_changes"]
        .as_array_mut()
        .unwrap()
        .push(create);
    std::fs::write(&file, serde_json::to_string(&edited).unwrap()).unwrap();
    let (code, shown, _) = orgform(&["show", &file]).await;
    assert_eq!(code, 0);
    assert!(
        shown.contains("Plan: 3 to add, 0 to change, 1 to destroy"),
        "{shown}"
    );

    // The untouched plan applies, and the workspace converges.
    std::fs::write(&file, serde_json::to_string(&original).unwrap()).unwrap();
    let (code, stdout, stderr) = orgform(&["apply", &dir, "--plan", &file, "--auto-approve"]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("Apply complete: 3 done"), "{stdout}");
    let (code, stdout, stderr) = orgform(&["plan", &dir, "--detailed-exitcode"]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
}
