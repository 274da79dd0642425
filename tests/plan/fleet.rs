//! Plans at fleet scale stay readable where they are read: the markdown comment fits GitHub's
//! limit and says what it left out.

use super::support::Scenario;

#[tokio::test]
async fn markdown_of_500_new_organizations_fits_a_comment_and_says_what_it_left_out() {
    let scenario = Scenario::new("scalekit", "").await;
    let manifests: String = (0..500)
        .map(|n| {
            format!(
                "---\norganization: tenant-{n:03}\nname: Tenant {n}\nmetadata: {{ tier: gold, region: eu-west }}\ndomains: [tenant-{n}.example, tenant-{n}.io]\nmembers:\n  - {{ email: admin@tenant-{n}.example, role: admin }}\n"
            )
        })
        .collect();
    scenario.manifest("tenants.yaml", &manifests);
    let (plan, _) = scenario.plan(&[]).await.expect("plan");
    assert_eq!(plan.summary.create, 2000);
    let markdown = orgform::render::render_markdown(&plan);
    let length = markdown.chars().count();
    assert!(length <= 65_536, "{length} characters");
    assert!(
        markdown.starts_with("### orgform plan\n\n**Plan: 2000 to add, 0 to change, 0 to destroy, 0 need manual action.**"),
        "{}",
        &markdown[..200]
    );
    // The table counts every organization, first.
    let rows = markdown
        .lines()
        .filter(|l| l.starts_with("| `org.tenant-"))
        .count();
    assert_eq!(rows, 500);
    assert!(markdown.contains("| `org.tenant-499` | 4 | 0 | 0 | 0 |"));
    // Then details while they fit, and a line saying what was left out and where it is.
    let details = markdown.matches("<details>").count();
    assert!(details > 10 && details < 500, "{details} sections");
    let closing = markdown.trim_end().lines().last().unwrap();
    assert!(
        closing.contains(&format!("{} items were left out", 500 - details))
            && closing.contains("orgform show plan.json"),
        "{closing}"
    );
    // A small plan is whole, with no such line.
    let small = orgform::render::render_markdown_within(&plan, usize::MAX);
    assert_eq!(small.matches("<details>").count(), 500);
    assert!(!small.contains("left out"));
}

#[tokio::test]
async fn warnings_of_a_fleet_are_grouped_and_counted() {
    let scenario = Scenario::new("scalekit", "").await;
    let mut seed = String::from("scalekit:\n  organizations:\n");
    let mut manifests = String::new();
    for n in 0..200 {
        let status = if n % 50 == 0 { "FAILED" } else { "PENDING" };
        seed.push_str(&format!(
            "    - {{ display_name: Tenant {n}, external_id: tenant-{n:03}, domains: [{{ domain: tenant-{n}.example, verification_status: {status} }}, {{ domain: tenant-{n}.io, verification_status: VERIFIED }}] }}\n"
        ));
        manifests.push_str(&format!(
            "---\norganization: tenant-{n:03}\nname: Tenant {n}\ndomains: [tenant-{n}.example, tenant-{n}.io]\n"
        ));
    }
    // One change, so the grouped warnings sit between it and the summary.
    manifests = manifests.replacen("name: Tenant 0\n", "name: Tenant Zero\n", 1);
    scenario.sandbox.seed(&seed).await;
    scenario.manifest("tenants.yaml", &manifests);
    let (plan, _) = scenario.plan(&[]).await.expect("plan");
    assert_eq!(plan.warnings.len(), 200, "JSON keeps every warning");
    let (human, _) = super::support::rendered(&plan);
    insta::assert_snapshot!("fleet_warnings_human", human);
    let markdown = orgform::render::render_markdown(&plan);
    assert!(
        markdown.contains("- 200 domains awaiting verification in 200 organizations, e.g. `org.tenant-000.domain[tenant-0.example]`, "),
        "{markdown}"
    );
    assert_eq!(markdown.matches("org.tenant-1").count(), 0, "{markdown}");
}

/// A fleet's steady state: every organization has a domain pending verification, and one
/// template value changed for all of them. The comment is for the changes: the table and the
/// diffs come first, and the warnings, one counted line, take at most a quarter of it.
#[tokio::test]
async fn the_comment_of_a_fleet_change_shows_the_changes_not_the_warnings() {
    let scenario = Scenario::new("scalekit", "").await;
    let mut seed = String::from("scalekit:\n  organizations:\n");
    let mut manifests = String::new();
    for n in 0..600 {
        seed.push_str(&format!(
            "    - {{ display_name: Tenant {n}, external_id: tenant-{n:03}, metadata: {{ managed_by: orgform, tier: silver }}, domains: [{{ domain: tenant-{n}.example, verification_status: PENDING }}] }}\n"
        ));
        manifests.push_str(&format!(
            "---\norganization: tenant-{n:03}\nname: Tenant {n}\nmetadata: {{ tier: gold }}\ndomains: [tenant-{n}.example]\n"
        ));
    }
    scenario.sandbox.seed(&seed).await;
    scenario.manifest("tenants.yaml", &manifests);
    let (plan, _) = scenario.plan(&[]).await.expect("plan");
    assert_eq!(plan.summary.update, 600);
    assert_eq!(plan.warnings.len(), 600);
    let markdown = orgform::render::render_markdown(&plan);
    let length = markdown.chars().count();
    assert!(length <= 65_536, "{length} characters");
    let rows = markdown
        .lines()
        .filter(|l| l.starts_with("| `org.tenant-"))
        .count();
    assert!(rows >= 100, "{rows} table rows");
    assert!(markdown.matches("<details>").count() > 0, "no diff block");
    let warnings = &markdown[markdown.find("#### Warnings").expect("warnings")..];
    let warnings = warnings.split("\n\n").next().unwrap().chars().count();
    assert!(
        warnings * 4 <= length,
        "warnings take {warnings} of {length} characters"
    );
}

#[tokio::test]
async fn target_patterns_select_organizations_and_the_plan_says_it_is_targeted() {
    let scenario = Scenario::new("scalekit", "").await;
    scenario.manifest(
        "orgs.yaml",
        "organization: tenant-a\nname: A\n---\norganization: tenant-b\nname: B\ndomains: [b.example]\n---\norganization: other\nname: Other\n",
    );
    let (plan, _) = scenario.plan(&["org.tenant-*"]).await.expect("plan");
    let addresses: Vec<&str> = plan.actionable().map(|c| &*c.address).collect();
    assert_eq!(
        addresses,
        [
            "org.tenant-a",
            "org.tenant-b",
            "org.tenant-b.domain[b.example]"
        ]
    );
    let (human, _) = super::support::rendered(&plan);
    assert!(
        human.contains(
            "Targeting is in effect (--target org.tenant-a, org.tenant-b): only these were planned"
        ),
        "{human}"
    );
    // A targeted plan with nothing to do does not claim the whole workspace matches.
    scenario
        .sandbox
        .seed("scalekit:\n  organizations:\n    - { display_name: Other, external_id: other }\n")
        .await;
    let (plan, _) = scenario.plan(&["org.oth?r"]).await.expect("plan");
    let (human, _) = super::support::rendered(&plan);
    assert!(
        human.ends_with("No changes. The targeted resources match the manifests.\n"),
        "{human}"
    );
    let Err(orgform::session::Failure::Usage(message)) = scenario.plan(&["org.nothing-*"]).await
    else {
        panic!("a pattern matching nothing is a usage error")
    };
    assert!(message.contains("matches no organization"), "{message}");
}

/// Acknowledged warnings are counted on one line in the human and markdown plans (the JSON
/// plan keeps each one, marked), everywhere (`orgform.yaml`) or per organization.
#[tokio::test]
async fn acknowledged_warnings_are_one_counted_line() {
    let fleet = |acknowledge: &str| {
        let mut seed = String::from("scalekit:\n  organizations:\n");
        let mut manifests = String::new();
        for n in 0..600 {
            seed.push_str(&format!(
                "    - {{ display_name: Tenant {n}, external_id: tenant-{n:03}, domains: [{{ domain: tenant-{n}.example, verification_status: PENDING }}] }}\n"
            ));
            manifests.push_str(&format!(
                "---\norganization: tenant-{n:03}\nname: Tenant {n}\ndomains: [tenant-{n}.example]\n{}",
                if n == 0 { acknowledge } else { "" }
            ));
        }
        (seed, manifests)
    };
    // Not acknowledged: `-v` lists 600 warning lines.
    let scenario = Scenario::new("scalekit", "").await;
    let (seed, manifests) = fleet("");
    scenario.sandbox.seed(&seed).await;
    scenario.manifest("tenants.yaml", &manifests);
    let (plan, _) = scenario.plan(&[]).await.expect("plan");
    let verbose = orgform::render::render_human_with(&plan, false, true);
    assert_eq!(verbose.matches("is not verified (PENDING)").count(), 600);

    // Acknowledged everywhere: one counted line, in every rendering but JSON.
    let scenario = Scenario::new("scalekit", "acknowledge: [domain_unverified]\n").await;
    scenario.sandbox.seed(&seed).await;
    scenario.manifest("tenants.yaml", &manifests);
    let (plan, _) = scenario.plan(&[]).await.expect("plan");
    assert_eq!(plan.warnings.iter().filter(|w| w.acknowledged).count(), 600);
    let (human, json) = super::support::rendered(&plan);
    assert_eq!(human.matches("is not verified").count(), 0, "{human}");
    assert!(
        human.contains(
            "  - 600 acknowledged warnings (domain_unverified) in 600 organizations, not listed"
        ),
        "{human}"
    );
    assert_eq!(json.matches("\"acknowledged\": true").count(), 600);
    let markdown = orgform::render::render_markdown(&plan);
    assert!(
        markdown.contains(
            "- 600 acknowledged warnings \\(domain\\_unverified\\) in 600 organizations, not listed"
        ),
        "{markdown}"
    );
    assert_eq!(markdown.matches("is not verified").count(), 0);

    // Acknowledged by one organization: its warning is counted, the other 599 grouped.
    let scenario = Scenario::new("scalekit", "").await;
    let (_, manifests) = fleet("acknowledge: [domain_unverified]\n");
    scenario.sandbox.seed(&seed).await;
    scenario.manifest("tenants.yaml", &manifests);
    let (plan, _) = scenario.plan(&[]).await.expect("plan");
    let (human, _) = super::support::rendered(&plan);
    assert!(
        human.contains("599 domains awaiting verification in 599 organizations"),
        "{human}"
    );
    assert!(
        human.contains("1 acknowledged warning (domain_unverified) in 1 organization"),
        "{human}"
    );
}
