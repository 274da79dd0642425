//! WorkOS end to end against the sandbox: every kind of change converges, nothing is
//! duplicated, and what orgform does not own is never deleted.

use std::collections::BTreeSet;

use serde_json::Value;

use super::faults::{kill_part_way_and_rerun, writes};
use super::support::{apply, assert_converged};
use crate::plan::support::Scenario;

/// Every WorkOS organization with its domains and member e-mails (and roles), read through the
/// API; panics on a duplicate organization (by external id), domain or membership.
pub async fn workos_contents(
    scenario: &Scenario,
) -> Vec<(String, String, BTreeSet<String>, BTreeSet<String>)> {
    let sandbox = &scenario.sandbox;
    let auth = sandbox.workos();
    let mut orgs: Vec<Value> = Vec::new();
    let mut after = String::new();
    loop {
        let page = sandbox
            .get(
                &format!("/workos/organizations?limit=100&order=asc&after={after}"),
                &auth,
            )
            .await
            .body;
        orgs.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["list_metadata"]["after"].as_str() {
            Some(next) => after = next.to_owned(),
            None => break,
        }
    }
    let mut seen = BTreeSet::new();
    let mut contents = Vec::new();
    for org in orgs {
        let key = org["external_id"].as_str().unwrap_or("-").to_owned();
        assert!(
            key == "-" || seen.insert(key.clone()),
            "duplicate organization {key}"
        );
        let domains: Vec<String> = org["domains"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["domain"].as_str().unwrap().to_owned())
            .collect();
        let domain_set: BTreeSet<String> = domains.iter().cloned().collect();
        assert_eq!(domains.len(), domain_set.len(), "duplicate domain in {key}");
        let id = org["id"].as_str().unwrap();
        let members = sandbox
            .get(
                &format!("/workos/user_management/organization_memberships?organization_id={id}&limit=100"),
                &auth,
            )
            .await
            .body;
        let members: Vec<String> = members["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let roles: Vec<&str> = m["roles"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["slug"].as_str().unwrap())
                    .collect();
                format!(
                    "{}={}",
                    m["user"]["email"].as_str().unwrap(),
                    roles.join("+")
                )
            })
            .collect();
        let member_set: BTreeSet<String> = members.iter().cloned().collect();
        assert_eq!(
            members.len(),
            member_set.len(),
            "duplicate membership in {key}"
        );
        contents.push((
            key,
            org["name"].as_str().unwrap().to_owned(),
            domain_set,
            member_set,
        ));
    }
    contents.sort();
    contents
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_kind_of_workos_change_converges() {
    let scenario = Scenario::new(
        "workos",
        "policy:\n  prune: true\n  max_deletes: 5\n  max_member_removals: 100%\n",
    )
    .await;
    // Every write's body is kept, to be checked against the WorkOS spec at the end.
    scenario
        .sandbox
        .faults(serde_json::json!({ "log_bodies": true }))
        .await;
    // Live before any manifest: one organization orgform made (its marker) and no manifest
    // declares (prune deletes it), and one of the customer's own (never deleted).
    scenario
        .sandbox
        .seed("workos:\n  organizations:\n    - { name: Old, external_id: old, metadata: { managed_by: orgform } }\n    - { name: Theirs, external_id: theirs }\n")
        .await;
    scenario.manifest(
        "orgs.yaml",
        "organization: acme\nname: Acme Inc\nmetadata: { tier: gold }\nallow_profiles_outside_organization: true\nstripe_customer_id: cus_123\ndomains: [acme.example, old.acme.example]\nmembers:\n  - { email: ada@acme.example, role: admin }\n  - { email: bob@acme.example, role: member }\n---\norganization: globex\nname: Globex\nprotect: true\ndomains: [globex.example]\nmembers:\n  - { email: hank@globex.example, roles: [admin, billing] }\n",
    );
    let (plan, results) = apply(&scenario, Default::default()).await;
    assert!(results.iter().all(|r| r.succeeded()), "{results:#?}");
    assert_eq!(
        plan.summary.delete, 1,
        "only `old` is pruned: {:?}",
        plan.summary
    );
    assert_converged(&scenario).await;

    // Every kind of change at once: a rename through `previously`, a key move through
    // `previous_keys`, metadata, a domain added and one removed, members added, removed and
    // given another role.
    scenario.manifest(
        "orgs.yaml",
        "organization: acme\nname: Acme Corp\npreviously: [Acme Inc]\nmetadata: { tier: platinum, region: emea }\nallow_profiles_outside_organization: false\nstripe_customer_id: cus_456\ndomains: [acme.example, acme.test]\nmembers:\n  - { email: ada@acme.example, role: member }\n  - { email: cy@acme.example, role: admin }\n---\norganization: globex-corp\nprevious_keys: [globex]\nname: Globex\nprotect: true\ndomains: [globex.example]\nmembers:\n  - { email: hank@globex.example, roles: [admin] }\n",
    );
    let (_, results) = apply(&scenario, Default::default()).await;
    assert!(results.iter().all(|r| r.succeeded()), "{results:#?}");
    assert_converged(&scenario).await;
    let contents = workos_contents(&scenario).await;
    assert_eq!(
        contents,
        vec![
            (
                "acme".into(),
                "Acme Corp".into(),
                set(&["acme.example", "acme.test"]),
                set(&["ada@acme.example=member", "cy@acme.example=admin"])
            ),
            (
                "globex-corp".into(),
                "Globex".into(),
                set(&["globex.example"]),
                set(&["hank@globex.example=admin"])
            ),
            ("theirs".into(), "Theirs".into(), set(&[]), set(&[])),
        ]
    );

    let acme = scenario
        .sandbox
        .get(
            "/workos/organizations/external_id/acme",
            &scenario.sandbox.workos(),
        )
        .await
        .body;
    assert_eq!(acme["allow_profiles_outside_organization"], false, "{acme}");
    assert_eq!(acme["stripe_customer_id"], "cus_456", "{acme}");

    // A protected organization dropped from the manifests: the plan's delete breaks the
    // safety policy (apply refuses it, naming `protect`).
    let acme_only = "organization: acme\nname: Acme Corp\nmetadata: { tier: platinum, region: emea }\ndomains: [acme.example, acme.test]\nmembers:\n  - { email: ada@acme.example, role: member }\n  - { email: cy@acme.example, role: admin }\n";
    scenario.manifest("orgs.yaml", acme_only);
    let (plan, _) = scenario.plan(&[]).await.unwrap();
    assert!(
        plan.safety.violations.iter().any(|v| v.rule == "protect"),
        "{:?}",
        plan.safety
    );
    assert_writes_match_the_spec(&scenario).await;
}

/// Every write orgform sent in this scenario has the body the WorkOS spec asks of its
/// operation (skipped, with a note, where the spec is not available).
async fn assert_writes_match_the_spec(scenario: &Scenario) {
    let mut checked = std::collections::BTreeMap::new();
    for request in scenario.sandbox.requests().await {
        let (method, route) = (
            request["method"].as_str().unwrap(),
            request["route"].as_str().unwrap(),
        );
        let schema = match (method, route) {
            ("GET" | "DELETE", _) => continue,
            ("POST", "/workos/organizations") => "OrganizationDto",
            ("PUT", "/workos/organizations/{id}") => "UpdateOrganizationDto",
            ("POST", "/workos/organization_domains") => "CreateOrganizationDomainDto",
            ("POST", "/workos/user_management/users") => "CreateUserlandUserDto",
            ("POST", "/workos/user_management/organization_memberships") => {
                "CreateUserlandUserOrganizationMembershipDto"
            }
            ("PUT", "/workos/user_management/organization_memberships/{id}") => {
                "UpdateUserlandUserOrganizationMembershipDto"
            }
            other => panic!("a write orgform should not send: {other:?}"),
        };
        let body = request
            .get("body")
            .unwrap_or_else(|| panic!("no body logged: {request}"));
        crate::sandbox::support::assert_matches_spec("workos", schema, body);
        *checked.entry(schema).or_insert(0) += 1;
    }
    assert_eq!(
        checked.len(),
        6,
        "every kind of write was sent and checked: {checked:?}"
    );
}

/// A domain another organization holds is a clear error, and nothing else is left half-done.
#[tokio::test(flavor = "multi_thread")]
async fn a_domain_held_by_another_workos_organization_is_a_clear_error() {
    let scenario = Scenario::new("workos", "").await;
    scenario
        .sandbox
        .seed("workos:\n  organizations:\n    - { name: Other, external_id: other, domains: [{ domain: taken.example, state: verified }] }\n")
        .await;
    scenario.manifest(
        "acme.yaml",
        "organization: acme\nname: Acme\ndomains: [taken.example]\n",
    );
    let (_, results) = apply(&scenario, Default::default()).await;
    let failed: Vec<String> = results
        .iter()
        .filter_map(|r| match &r.outcome {
            orgform::apply::Outcome::Failed(e) => Some(e.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(failed.len(), 1, "{results:#?}");
    assert!(
        failed[0].contains("the domain taken.example belongs to another organization"),
        "{failed:?}"
    );
}

fn fleet(orgs: usize) -> String {
    (0..orgs)
        .map(|i| {
            format!(
                "---\norganization: org-{i}\nname: Org {i}\nmetadata: {{ tier: gold }}\ndomains: [a.org{i}.example, b.org{i}.example]\nmembers:\n  - {{ email: a@org{i}.example, role: admin }}\n  - {{ email: b@org{i}.example, role: member }}\n"
            )
        })
        .collect()
}

/// The fault matrix: 503s, 429s and dropped connections on every route. Apply says what
/// failed, a re-run converges, and no organization, domain or membership is duplicated. (A
/// WorkOS 429 carries `Retry-After: 1`, which the provider's gate honours for all its requests,
/// so 429s are rarer here than 503s: the matrix stays a few seconds per seed.)
#[tokio::test]
async fn under_workos_faults_a_rerun_converges_with_no_duplicate() {
    let mut injected = 0;
    for seed in 0..8u64 {
        let scenario = Scenario::new("workos", "").await;
        scenario.manifest("orgs.yaml", &fleet(8));
        scenario
            .sandbox
            .faults(serde_json::json!({ "chaos": { "seed": seed, "status_503": 0.12, "status_429": 0.01, "drop": 0.03 } }))
            .await;
        let (plan, results) = apply(&scenario, crate::plan::support::fast_retries()).await;
        assert_eq!(results.len(), plan.summary.create, "seed {seed}");
        let stats = scenario.sandbox.stats().await;
        injected += super::faults::faults_injected(&stats);
        scenario.sandbox.faults(serde_json::json!({})).await;
        let (_, rerun) = apply(&scenario, crate::plan::support::fast_retries()).await;
        assert!(
            rerun.iter().all(|r| r.succeeded()),
            "seed {seed}: {rerun:#?}"
        );
        assert_converged(&scenario).await;
        let contents = workos_contents(&scenario).await;
        assert_eq!(
            contents.len(),
            8,
            "seed {seed}: exactly the declared organizations"
        );
        for (key, _, domains, members) in contents {
            assert_eq!((domains.len(), members.len()), (2, 2), "seed {seed}: {key}");
        }
        for (method, path) in writes(&scenario).await {
            assert_ne!(method, "DELETE", "seed {seed}: {path}");
        }
    }
    assert!(
        injected >= 50,
        "the matrix must really inject faults ({injected})"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workos_apply_killed_part_way_converges_when_run_again() {
    let scenario = Scenario::new("workos", "").await;
    scenario.manifest("orgs.yaml", &fleet(30));
    // About 210 writes: an organization, 2 domains, 2 users and 2 memberships each.
    kill_part_way_and_rerun(&scenario, 210, ("TEST_WORKOS_KEY", "sandbox-workos-key")).await;
    let contents = workos_contents(&scenario).await;
    assert_eq!(contents.len(), 30);
    assert!(
        contents
            .iter()
            .all(|(_, _, d, m)| d.len() == 2 && m.len() == 2)
    );
}
