//! Apply the examples to an empty sandbox, change the manifests, apply again: every time a
//! fresh plan is empty.

use super::support::{Scenario, apply, assert_converged, fast_retries, scalekit_contents};

fn copy_manifests(scenario: &Scenario, example: &str) {
    for entry in std::fs::read_dir(format!("examples/{example}/orgs")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, scenario.dir.path().join(path.file_name().unwrap())).unwrap();
    }
}

fn edit(scenario: &Scenario, file: &str, from: &str, to: &str) {
    let path = scenario.dir.path().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no `{from}`");
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[tokio::test]
async fn scalekit_converges_through_every_kind_of_change() {
    let scenario = Scenario::new("scalekit", "").await;
    copy_manifests(&scenario, "quickstart");
    let (plan, results) = apply(&scenario, Default::default()).await;
    assert_eq!(plan.summary.create, 12);
    assert!(results.iter().all(|r| r.succeeded()), "{results:#?}");
    assert_converged(&scenario).await;

    // Rename via previously; domains and members added and removed; roles, metadata, features.
    edit(
        &scenario,
        "acme.yaml",
        "name: Acme Corp",
        "name: Acme Corporation\npreviously: [Acme Corp]",
    );
    edit(
        &scenario,
        "acme.yaml",
        "  tier: gold",
        "  tier: platinum\n  support: premium",
    );
    edit(
        &scenario,
        "acme.yaml",
        "  dir_sync: false",
        "  dir_sync: true",
    );
    edit(
        &scenario,
        "acme.yaml",
        "  - acme.example\n",
        "  - acme.example\n  - acme.io\n",
    );
    edit(
        &scenario,
        "acme.yaml",
        "  - { name: acme-mail.example, type: allowed_email }\n",
        "",
    );
    edit(
        &scenario,
        "acme.yaml",
        "{ email: grace@acme.example, role: member }",
        "{ email: grace@acme.example, role: admin }\n  - { email: linus@acme.example, role: member }",
    );
    edit(
        &scenario,
        "acme.yaml",
        "  - { email: ada@acme.example, role: admin }\n",
        "",
    );
    let (plan, results) = apply(&scenario, Default::default()).await;
    assert!(results.iter().all(|r| r.succeeded()), "{results:#?}");
    assert!(
        plan.summary.create >= 2 && plan.summary.update >= 2 && plan.summary.delete >= 2,
        "{:?}",
        plan.summary
    );
    assert_converged(&scenario).await;

    let contents = scalekit_contents(&scenario).await;
    let acme = contents.iter().find(|(key, _, _)| key == "acme").unwrap();
    assert_eq!(acme.1, ["acme.example", "acme.io"].map(String::from).into());
    assert_eq!(
        acme.2,
        ["grace@acme.example", "linus@acme.example"]
            .map(String::from)
            .into()
    );
}

#[tokio::test]
async fn a_member_that_already_exists_elsewhere_is_added_by_membership() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.sandbox.seed("scalekit:\n  organizations:\n    - { display_name: Other, external_id: other }\n  users:\n    - { email: ada@acme.example, memberships: [{ organization: other, roles: [member] }] }\n").await;
    scenario.manifest(
        "a.yaml",
        "organization: acme\nname: Acme\nmembers: [{ email: ada@acme.example, role: admin }]\n",
    );
    let (_, results) = apply(&scenario, Default::default()).await;
    assert!(results.iter().all(|r| r.succeeded()), "{results:#?}");
    assert_converged(&scenario).await;
}

#[tokio::test]
async fn nirvana_converges_through_renames_addresses_and_billing_emails() {
    let scenario = Scenario::new("nirvana", "").await;
    copy_manifests(&scenario, "nirvana");
    let (plan, results) = apply(&scenario, Default::default()).await;
    assert_eq!(plan.summary.create, 4);
    assert!(results.iter().all(|r| r.succeeded()), "{results:#?}");
    assert_converged(&scenario).await;

    edit(
        &scenario,
        "umbrella.yaml",
        "name: Umbrella Research",
        "name: Umbrella Corporation\npreviously: [Umbrella Research]",
    );
    edit(
        &scenario,
        "umbrella.yaml",
        "billing_email: billing@umbrella.example",
        "billing_email: null",
    );
    edit(
        &scenario,
        "umbrella.yaml",
        "  line2: Floor 3",
        "  line2: null",
    );
    edit(
        &scenario,
        "umbrella.yaml",
        "  city: Raccoon City",
        "  city: Arklay",
    );
    edit(
        &scenario,
        "umbrella.yaml",
        "billing_email: accounts@wonka.example",
        "billing_email: ap@wonka.example",
    );
    let (plan, results) = apply(&scenario, Default::default()).await;
    assert!(results.iter().all(|r| r.succeeded()), "{results:#?}");
    assert_eq!(
        (plan.summary.create, plan.summary.update),
        (0, 3),
        "{:?}",
        plan.summary
    );
    assert_converged(&scenario).await;
}

#[tokio::test]
async fn pingone_has_nothing_to_apply() {
    let scenario = Scenario::new("pingone", "").await;
    copy_manifests(&scenario, "pingone");
    let (plan, results) = apply(&scenario, Default::default()).await;
    assert!(results.is_empty() && !plan.has_changes());
    assert_converged(&scenario).await;
}

/// Adding a member whose user the environment already has: the create answers 409, the user is
/// found by following `users:search` to its last page, and a membership is added for it. The
/// step is done only once the vendor confirmed that write.
#[tokio::test(flavor = "multi_thread")]
async fn an_existing_user_beyond_the_first_search_page_is_added_as_a_member() {
    let scenario = Scenario::new("scalekit", "").await;
    let mut seed = String::from(
        "scalekit:\n  organizations:\n    - { display_name: Acme, external_id: acme }\n    - { display_name: Other, external_id: other }\n  users:\n",
    );
    // 40 users whose e-mail contains the member's, before it: the search's first page (30)
    // holds only them.
    for n in 0..40 {
        seed.push_str(&format!(
            "    - {{ email: x{n}ada@acme.example, memberships: [{{ organization: other, roles: [member] }}] }}\n"
        ));
    }
    seed.push_str("    - { email: ada@acme.example, memberships: [{ organization: other, roles: [member] }] }\n");
    scenario.sandbox.seed(&seed).await;
    scenario.manifest(
        "acme.yaml",
        "organization: acme\nname: Acme\nmembers:\n  - { email: ada@acme.example, role: admin }\n",
    );
    let (_, results) = apply(&scenario, fast_retries()).await;
    assert!(results.iter().all(|r| r.succeeded()), "{results:#?}");
    let searches = scenario
        .sandbox
        .count("GET", "/scalekit/api/v1/users:search", 200)
        .await;
    assert!(
        searches >= 2,
        "the search was followed past its first page ({searches})"
    );
    assert_converged(&scenario).await;
}

/// A Scalekit organization's region can only be chosen when it is created: orgform sends it
/// then, so a declared region converges instead of staying manual drift for ever.
#[tokio::test(flavor = "multi_thread")]
async fn a_declared_region_is_sent_when_the_organization_is_created() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.manifest("euro.yaml", "organization: euro\nname: Euro\nregion: EU\n");
    let (plan, results) = apply(&scenario, Default::default()).await;
    assert_eq!(
        plan.actionable().next().unwrap().after_value()["region"],
        "EU"
    );
    assert!(results.iter().all(|r| r.succeeded()), "{results:#?}");
    let auth = scenario.sandbox.scalekit().await;
    let created = scenario
        .sandbox
        .get("/scalekit/api/v1/organizations:external/euro", &auth)
        .await;
    assert_eq!(created.body["organization"]["region_code"], "EU");
    assert_converged(&scenario).await;

    // Afterwards the region is read-only: another one is a manual action, not an update.
    scenario.manifest("euro.yaml", "organization: euro\nname: Euro\nregion: US\n");
    let (plan, _) = scenario.plan(&[]).await.expect("plan");
    let change = plan.actionable().next().unwrap();
    assert_eq!(change.action.as_str(), "manual", "{plan:#?}");
}

/// Without a terminal (a CI log), each step is printed once, as it ends, and the closing lists
/// only the steps not done before the summary line.
#[tokio::test(flavor = "multi_thread")]
async fn a_ci_log_prints_each_step_once() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.manifest(
        "orgs.yaml",
        "organization: a\nname: A\n---\norganization: b\nname: B\n---\norganization: c\nname: C\n",
    );
    let dir = scenario.dir.path().to_str().unwrap().to_owned();
    let (code, stdout, stderr) = crate::support::run_orgform_async(
        &["apply", &dir, "--auto-approve"],
        &[("TEST_SECRET", "sandbox-secret")],
    )
    .await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    for key in ["a", "b", "c"] {
        let line = format!("org.{key}: create done");
        assert_eq!(stdout.matches(&line).count(), 1, "{stdout}");
    }
    assert!(
        !stdout.contains("Outcome of every step") && !stdout.contains("Steps not done"),
        "{stdout}"
    );
    assert!(
        stdout
            .trim_end()
            .ends_with("Apply complete: 3 done, 0 failed, 0 skipped."),
        "{stdout}"
    );
}
