//! Refresh makes the fewest requests each vendor's API allows, counted by the sandbox.

use super::support::Scenario;

/// Plans the workspace, which must already match the seeded vendor.
async fn plan_converged(scenario: &Scenario) {
    let (plan, _) = scenario.plan(&[]).await.unwrap();
    assert!(
        !plan.has_changes() && !plan.has_manual(),
        "{:?}",
        plan.summary
    );
}

fn count_route(stats: &serde_json::Value, method: &str, route: &str) -> u64 {
    stats["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == method && r["route"] == route)
        .map(|r| r["count"].as_u64().unwrap())
        .sum()
}

/// Scalekit, N organizations with domains and members managed: ceil(N/100) organization pages
/// + N domain lists + the environment's users, ceil(U/100) pages, once + 1 token: a platform
/// admin in every organization comes once, not once per organization with all its memberships.
/// A workspace managing fewer than half of the account's organizations lists each one's users
/// instead; without domains and members: pages + token only.
#[tokio::test]
async fn scalekit_refresh_is_minimal() {
    let n = 250;
    let scenario = Scenario::new("scalekit", "").await;
    let mut seed = String::from("scalekit:\n  organizations:\n");
    let mut manifests = Vec::new();
    for i in 0..n {
        seed.push_str(&format!("    - {{ display_name: Org {i}, external_id: org-{i}, domains: [{{ domain: org{i}.example, verification_status: VERIFIED }}] }}\n"));
        manifests.push(format!("---\norganization: org-{i}\nname: Org {i}\ndomains: [org{i}.example]\nmembers: [{{ email: a@org{i}.example, role: admin }}, {{ email: ops@platform.example, role: member }}]\n"));
    }
    seed.push_str("  users:\n");
    for i in 0..n {
        seed.push_str(&format!("    - {{ email: a@org{i}.example, memberships: [{{ organization: org-{i}, roles: [admin] }}] }}\n"));
    }
    let shared: Vec<String> = (0..n)
        .map(|i| format!("{{ organization: org-{i}, roles: [member] }}"))
        .collect();
    seed.push_str(&format!(
        "    - {{ email: ops@platform.example, memberships: [{}] }}\n",
        shared.join(", ")
    ));
    scenario.sandbox.seed(&seed).await;
    scenario.manifest("orgs.yaml", &manifests.concat());
    plan_converged(&scenario).await;

    let stats = scenario.sandbox.stats().await;
    let pages = (n as u64).div_ceil(100);
    let user_pages = (n as u64 + 1).div_ceil(100);
    assert_eq!(
        count_route(&stats, "GET", "/scalekit/api/v1/organizations"),
        pages
    );
    assert_eq!(
        count_route(
            &stats,
            "GET",
            "/scalekit/api/v1/organizations/{organization_id}/domains"
        ),
        n as u64
    );
    assert_eq!(
        count_route(&stats, "GET", "/scalekit/api/v1/users"),
        user_pages
    );
    assert_eq!(
        count_route(
            &stats,
            "GET",
            "/scalekit/api/v1/organizations/{organization_id}/users"
        ),
        0
    );
    assert_eq!(count_route(&stats, "POST", "/scalekit/oauth/token"), 1);
    assert_eq!(
        stats["total"],
        pages + n as u64 + user_pages + 1,
        "nothing else"
    );

    // A quarter of the account managed: each managed organization's users instead.
    let quarter = n / 4;
    scenario.manifest("orgs.yaml", &manifests[..quarter].concat());
    let before = scenario.sandbox.stats().await;
    let (plan, _) = scenario.plan(&[]).await.unwrap();
    assert!(!plan.has_changes(), "{:?}", plan.summary);
    let after = scenario.sandbox.stats().await;
    let route = "/scalekit/api/v1/organizations/{organization_id}/users";
    assert_eq!(
        count_route(&after, "GET", route) - count_route(&before, "GET", route),
        quarter as u64
    );
    assert_eq!(
        count_route(&after, "GET", "/scalekit/api/v1/users"),
        user_pages,
        "no environment listing this time"
    );

    // Absent fields cost nothing.
    let names_only: String = (0..n)
        .map(|i| format!("---\norganization: org-{i}\nname: Org {i}\n"))
        .collect();
    scenario.manifest("orgs.yaml", &names_only);
    let before = scenario.sandbox.stats().await["total"].as_u64().unwrap();
    scenario.plan(&[]).await.unwrap();
    let after = scenario.sandbox.stats().await["total"].as_u64().unwrap();
    assert_eq!(
        after - before,
        pages + 1,
        "organization pages and one token"
    );
}

/// Nirvana: domains come inside the organization, so ceil(N/100) pages; + N address reads
/// when addresses are managed; + N membership lists when members are. No token endpoint.
#[tokio::test]
async fn nirvana_refresh_is_minimal() {
    let n = 120;
    let scenario = Scenario::new("nirvana", "").await;
    scenario
        .seed_and_declare(
            "nirvana",
            n,
            |i| format!("{{ name: Org {i}, domains: [{{ domain: org{i}.example, verified: true }}], memberships: [{{ user_id: usr_{i}, role: owner }}] }}"),
            |i| format!("organization: org-{i}\nname: Org {i}\ndomains: [org{i}.example]\nmembers: [{{ user: usr_{i}, role: owner }}]\n"),
        )
        .await;
    plan_converged(&scenario).await;
    let stats = scenario.sandbox.stats().await;
    assert_eq!(count_route(&stats, "GET", "/nirvana/v1/organizations"), 2);
    assert_eq!(
        count_route(
            &stats,
            "GET",
            "/nirvana/v1/organizations/{organization_id}/memberships"
        ),
        n as u64
    );
    assert_eq!(
        count_route(
            &stats,
            "GET",
            "/nirvana/v1/organizations/{organization_id}/address"
        ),
        0,
        "addresses are not managed"
    );
    assert_eq!(stats["total"], 2 + n as u64);
}

/// PingOne: ceil(N/100) organization pages + one license list per organization whose licenses
/// are managed + 1 token.
#[tokio::test]
async fn pingone_refresh_is_minimal() {
    let scenario = Scenario::new("pingone", "").await;
    let mut seed = String::from("pingone:\n  organizations:\n");
    for i in 0..150 {
        seed.push_str(&format!("    - {{ name: Org {i}, type: TRIAL }}\n"));
    }
    scenario.sandbox.seed(&seed).await;
    let manifests: String = (0..150)
        .map(|i| {
            format!(
                "---\norganization: org-{i}\nname: Org {i}\n{}",
                if i < 40 { "licenses: []\n" } else { "" }
            )
        })
        .collect();
    scenario.manifest("orgs.yaml", &manifests);
    scenario.plan(&[]).await.unwrap();
    let stats = scenario.sandbox.stats().await;
    assert_eq!(
        count_route(&stats, "GET", "/pingone/v1/organizations"),
        2,
        "151 organizations with the default seed"
    );
    assert_eq!(
        count_route(
            &stats,
            "GET",
            "/pingone/v1/organizations/{organization_id}/licenses"
        ),
        40
    );
    assert_eq!(
        count_route(&stats, "POST", "/pingone/auth/{environment_id}/as/token"),
        1
    );
    assert_eq!(stats["total"], 2 + 40 + 1);
}

/// WorkOS: domains come inside the organization, so ceil(N/100) organization pages; + N
/// membership lists when members are managed. No token endpoint (an API key).
#[tokio::test]
async fn workos_refresh_is_minimal() {
    let n = 250;
    let scenario = Scenario::new("workos", "").await;
    let mut seed = String::from("workos:\n  organizations:\n");
    let mut manifests = String::new();
    let mut users = String::from("  users:\n");
    for i in 0..n {
        seed.push_str(&format!(
            "    - {{ name: Org {i}, external_id: org-{i}, domains: [{{ domain: org{i}.example, state: verified }}] }}\n"
        ));
        users.push_str(&format!(
            "    - {{ email: a@org{i}.example, memberships: [{{ organization: org-{i}, roles: [admin] }}] }}\n"
        ));
        manifests.push_str(&format!("---\norganization: org-{i}\nname: Org {i}\ndomains: [org{i}.example]\nmembers: [{{ email: a@org{i}.example, role: admin }}]\n"));
    }
    seed.push_str(&users);
    scenario.sandbox.seed(&seed).await;
    scenario.manifest("orgs.yaml", &manifests);
    let (plan, _) = scenario.plan(&[]).await.unwrap();
    assert!(
        !plan.has_changes() && !plan.has_manual() && plan.warnings.is_empty(),
        "{:?} {:?}",
        plan.summary,
        plan.warnings
    );
    let stats = scenario.sandbox.stats().await;
    let pages = (n as u64).div_ceil(100);
    assert_eq!(count_route(&stats, "GET", "/workos/organizations"), pages);
    assert_eq!(
        count_route(
            &stats,
            "GET",
            "/workos/user_management/organization_memberships"
        ),
        n as u64
    );
    assert_eq!(stats["total"], pages + n as u64, "nothing else");

    // Absent fields cost nothing: the organization pages alone.
    let names_only: String = (0..n)
        .map(|i| format!("---\norganization: org-{i}\nname: Org {i}\n"))
        .collect();
    scenario.manifest("orgs.yaml", &names_only);
    let before = scenario.sandbox.stats().await["total"].as_u64().unwrap();
    scenario.plan(&[]).await.unwrap();
    let after = scenario.sandbox.stats().await["total"].as_u64().unwrap();
    assert_eq!(after - before, pages, "organization pages only");
}

/// Organizations matched by name (Nirvana has no external id) have their children read while
/// the later list pages are still coming: with latency on every request, an address read of the
/// first page's organizations is answered before the last page. The request count is the
/// minimum all the same.
#[tokio::test]
async fn children_of_organizations_matched_by_name_are_read_while_the_list_is_paged() {
    let n = 250;
    let scenario = Scenario::new("nirvana", "").await;
    let address = |i: usize| {
        format!(
            "address: {{ line1: {i} Main St, city: Springfield, postal_code: \"{i:05}\", country: US }}"
        )
    };
    scenario
        .seed_and_declare(
            "nirvana",
            n,
            |i| format!("{{ name: Org {i}, {} }}", address(i)),
            |i| format!("organization: org-{i}\nname: Org {i}\n{}\n", address(i)),
        )
        .await;
    scenario
        .sandbox
        .faults(serde_json::json!({ "latency_ms": 30 }))
        .await;
    plan_converged(&scenario).await;
    let requests = scenario.sandbox.requests().await;
    let route = |r: &serde_json::Value| r["route"].as_str().unwrap_or_default().to_owned();
    let pages: Vec<usize> = requests
        .iter()
        .enumerate()
        .filter(|(_, r)| route(r) == "/nirvana/v1/organizations")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(pages.len(), 3, "ceil(250 / 100) pages");
    let first_address = requests
        .iter()
        .position(|r| route(r) == "/nirvana/v1/organizations/{organization_id}/address")
        .expect("addresses are read");
    assert!(
        first_address < pages[2],
        "an address read was answered before the last page: {first_address} vs {pages:?}"
    );
    let stats = scenario.sandbox.stats().await;
    assert_eq!(
        stats["total"],
        3 + n as u64,
        "one page per 100 and one address each"
    );
}
