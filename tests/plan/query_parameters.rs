//! orgform sends only the query parameters a vendor documents: every request of a plan (and of
//! an apply, for Scalekit) is checked against the parameters its operation lists in the
//! vendor's OpenAPI spec, and a PingOne licenses list asks no page size (it documents only
//! `filter` and `order`) yet reads every page by its `_links.next`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::support::Scenario;
use crate::apply::support::{apply, assert_converged};
use crate::support::vendor_document;

/// An operation of a spec: its method, its path as segments, its query parameters.
type Operation = (String, Vec<String>, BTreeSet<String>);

/// The query parameters the spec documents per (method, path), paths as segment lists
/// (`{…}` a wildcard).
fn documented(spec_file: &str) -> Option<Vec<Operation>> {
    let spec: Value = serde_saphyr::from_str(&vendor_document(spec_file)?).unwrap();
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        let shared: Vec<&Value> = item["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        for (method, operation) in item.as_object().unwrap() {
            if method == "parameters" || !operation.is_object() {
                continue; // the path's shared parameters, or a summary or description
            }
            let query = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(shared.iter().copied())
                .filter(|p| p["in"] == "query")
                .map(|p| p["name"].as_str().unwrap().to_owned())
                .collect();
            out.push((method.to_uppercase(), segments(path), query));
        }
    }
    Some(out)
}

fn segments(path: &str) -> Vec<String> {
    path.trim_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect()
}

fn same_path(spec: &[String], route: &[String]) -> bool {
    spec.len() == route.len()
        && spec.iter().zip(route).all(|(s, r)| {
            // A literal segment (`users:external` too) matches itself; a parameter any parameter.
            s == r || (s.starts_with('{') && r.starts_with('{'))
        })
}

/// Every logged request's query keys, per route, checked against the spec; `strip` is what
/// the sandbox's route has before the spec's path (its vendor prefix, PingOne's `/v1`), and
/// `from_links` the parameters the vendor's own next links carry (orgform follows a link as
/// given).
async fn assert_only_documented(
    scenario: &Scenario,
    spec_file: &str,
    strip: &str,
    from_links: &[&str],
) {
    let log = scenario.sandbox.requests().await;
    let Some(spec) = documented(spec_file) else {
        return;
    };
    let mut checked = BTreeMap::new();
    for request in &log {
        let route = request["route"].as_str().unwrap();
        let Some(rest) = route.strip_prefix(strip) else {
            continue; // PingOne's token endpoint: the auth server
        };
        if rest == "/oauth/token" {
            continue; // Scalekit's token endpoint is not part of its management API spec
        }
        let method = request["method"].as_str().unwrap();
        let keys: BTreeSet<String> = request["query"]
            .as_str()
            .map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .map(|(k, _)| k.into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let route_segments = segments(rest);
        let (_, _, allowed) = spec
            .iter()
            .find(|(m, path, _)| m == method && same_path(path, &route_segments))
            .unwrap_or_else(|| panic!("{method} {route} is not an operation of {spec_file}"));
        let undocumented: Vec<&String> = keys
            .difference(allowed)
            .filter(|k| !from_links.contains(&k.as_str()))
            .collect();
        assert!(
            undocumented.is_empty(),
            "{method} {route} sends {undocumented:?}; {spec_file} documents {allowed:?}"
        );
        *checked.entry(format!("{method} {route}")).or_insert(0) += 1;
    }
    assert!(!checked.is_empty(), "no request was checked");
}

#[tokio::test(flavor = "multi_thread")]
async fn pingone_licenses_are_listed_without_a_page_size_and_every_page_is_read() {
    let scenario = Scenario::new("pingone", "").await;
    let mut seed = String::from(
        "pingone:\n  organizations:\n    - name: Many Licenses\n      id: 0a0a0a0a-0000-4000-8000-000000000001\n      type: PAID\n      licenses:\n",
    );
    for i in 0..250 {
        seed.push_str(&format!(
            "        - {{ name: L{i}, package: P{i}, status: ACTIVE, beginsAt: \"2026-01-01T00:00:00Z\", expiresAt: \"2030-01-01T00:00:00Z\" }}\n"
        ));
    }
    scenario.sandbox.seed(&seed).await;
    scenario.manifest(
        "many.yaml",
        "organization: many\nname: Many Licenses\nid: 0a0a0a0a-0000-4000-8000-000000000001\ntype: PAID\nlicenses:\n  - { package: P0, status: ACTIVE }\n  - { package: P249, status: ACTIVE }\n",
    );
    let (plan, live) = scenario.plan(&[]).await.expect("plan");
    let licenses = live.providers["main"]
        .organizations
        .iter()
        .find(|o| o.id == "0a0a0a0a-0000-4000-8000-000000000001")
        .expect("the seeded organization is read")
        .licenses
        .as_ref()
        .unwrap()
        .len();
    assert_eq!(licenses, 250, "every page was followed");
    assert_eq!(plan.actionable().count(), 0, "{plan:#?}");

    let reads: Vec<Value> = scenario
        .sandbox
        .requests()
        .await
        .into_iter()
        .filter(|r| r["route"] == "/pingone/v1/organizations/{organization_id}/licenses")
        .collect();
    assert_eq!(
        reads.len(),
        3,
        "250 licenses in the vendor's pages of 100: {reads:#?}"
    );
    assert!(
        reads[0].get("query").is_none(),
        "the first page asks nothing: {reads:#?}"
    );
    for page in &reads[1..] {
        let query = page["query"].as_str().unwrap();
        assert!(!query.contains("limit"), "{query}");
    }
    assert_only_documented(
        &scenario,
        "vendor-specs/pingone-management-openapi.yaml",
        "/pingone/v1",
        &["cursor"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn scalekit_plans_and_applies_send_only_documented_parameters() {
    let scenario = Scenario::new("scalekit", "policy:\n  prune: true\n  max_deletes: 5\n").await;
    scenario
        .sandbox
        .seed("scalekit:\n  organizations:\n    - { display_name: Old, external_id: old, metadata: { managed_by: orgform } }\n    - { display_name: Acme, external_id: acme, domains: [{ domain: acme.example }] }\n  users:\n    - { email: ada@acme.example, memberships: [{ organization: acme, roles: [admin] }] }\n")
        .await;
    scenario.manifest(
        "acme.yaml",
        "organization: acme\nname: Acme Corp\ndomains: [acme.example, acme.test]\nmembers:\n  - { email: ada@acme.example, role: member }\n  - { email: bob@acme.example, role: admin }\nfeatures: { sso: true }\n",
    );
    let (_, results) = apply(&scenario, Default::default()).await;
    assert!(results.iter().all(|r| r.succeeded()), "{results:#?}");
    assert_converged(&scenario).await;
    assert_only_documented(
        &scenario,
        "vendor-specs/scalekit-openapi.yaml",
        "/scalekit",
        &[],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workos_plans_and_applies_send_only_documented_parameters() {
    let scenario = Scenario::new("workos", "policy:\n  prune: true\n  max_deletes: 5\n").await;
    scenario
        .sandbox
        .seed("workos:\n  organizations:\n    - { name: Old, external_id: old, metadata: { managed_by: orgform } }\n    - { name: Acme, external_id: acme, domains: [{ domain: acme.example }] }\n  users:\n    - { email: ada@acme.example, memberships: [{ organization: acme, roles: [admin] }] }\n")
        .await;
    scenario.manifest(
        "acme.yaml",
        "organization: acme\nname: Acme Corp\ndomains: [acme.test]\nmembers:\n  - { email: ada@acme.example, role: member }\n  - { email: bob@acme.example, role: admin }\n",
    );
    let (_, results) = apply(&scenario, Default::default()).await;
    assert!(results.iter().all(|r| r.succeeded()), "{results:#?}");
    assert_converged(&scenario).await;
    assert_only_documented(
        &scenario,
        "vendor-specs/workos-openapi.yaml",
        "/workos",
        &[],
    )
    .await;
}
