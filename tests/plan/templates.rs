//! Templates: a fleet written with `templates:`/`extends:` plans exactly as its expanded form.

use super::support::Scenario;

const TEMPLATES: &str = "templates:
  base:
    metadata: { region_hint: eu }
    members:
      - { email: ops@platform.example, role: admin }
  enterprise:
    extends: [base]
    features: { sso: true, dir_sync: true }
    metadata: { tier: gold, support: premium }
";

/// The 500 tenants, with templates (`templated`) or written out in full.
fn tenants(templated: bool) -> String {
    let mut text = String::new();
    for n in 0..500 {
        let enterprise = n % 2 == 0;
        text.push_str(&format!(
            "---\norganization: tenant-{n}\nname: Tenant {n}\n"
        ));
        let tier = if n % 10 == 0 { "platinum" } else { "gold" };
        match (templated, enterprise) {
            (true, true) => {
                text.push_str("extends: [enterprise]\n");
                if tier == "platinum" {
                    text.push_str("metadata: { tier: platinum }\n");
                }
            }
            (true, false) => text.push_str("extends: [base]\n"),
            (false, true) => text.push_str(&format!(
                "features: {{ sso: true, dir_sync: true }}\nmetadata: {{ region_hint: eu, tier: {tier}, support: premium }}\nmembers:\n  - {{ email: ops@platform.example, role: admin }}\n"
            )),
            (false, false) => text.push_str(
                "metadata: { region_hint: eu }\nmembers:\n  - { email: ops@platform.example, role: admin }\n",
            ),
        }
        text.push_str(&format!("domains: [tenant{n}.example]\n"));
    }
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn a_templated_fleet_plans_exactly_as_its_expanded_form() {
    let templated = Scenario::new("scalekit", TEMPLATES).await;
    templated.manifest("tenants.yaml", &tenants(true));
    let expanded = Scenario::new("scalekit", "").await;
    expanded.manifest("tenants.yaml", &tenants(false));
    let (a, _) = templated.plan(&[]).await.expect("templated plan");
    let (b, _) = expanded.plan(&[]).await.expect("expanded plan");
    assert_eq!(
        a.summary.create,
        500 * 3,
        "organization, domain and member each"
    );
    let json = |plan: &orgform::plan::Plan| {
        let mut value = serde_json::to_value(plan).unwrap();
        value.as_object_mut().unwrap().remove("fetched_at");
        value
    };
    assert_eq!(json(&a), json(&b));
}
