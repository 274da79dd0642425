//! PingOne routes, checked against `vendor-specs/pingone-management-openapi.yaml` and the
//! licensing guide (seed 003) for the default data.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::support::{Auth, TestSandbox, assert_matches_spec};

const ORG: &str = "bed432e6-676a-4ebe-b5a5-6b3b54e46bda";

/// The licenses exactly as the vendor's guide shows them (the sandbox's default seed), where
/// the guide is available (see `vendor_document`).
fn documented_licenses() -> Option<Vec<Value>> {
    let text = crate::support::vendor_document("seeds/003_1861c7ca3d41ce9f.txt")?;
    let start = text
        .find("{\n    \"_links\"")
        .expect("the guide's response body");
    let document: Value = serde_json::Deserializer::from_str(&text[start..])
        .into_iter()
        .next()
        .unwrap()
        .unwrap();
    Some(
        document["_embedded"]["licenses"]
            .as_array()
            .unwrap()
            .clone(),
    )
}

fn without_links(mut value: Value) -> Value {
    value.as_object_mut().unwrap().remove("_links");
    value
}

#[tokio::test]
async fn tokens_by_basic_auth_or_form_and_pingone_401s() {
    let sandbox = TestSandbox::start().await;
    let token_url = sandbox.url("/pingone/auth/sandbox-env/as/token");
    let by_form = sandbox
        .http
        .post(&token_url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "sandbox-client"),
            ("client_secret", "sandbox-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(by_form.status(), 200);
    let body: Value = by_form.json().await.unwrap();
    assert_eq!(
        (body["token_type"].as_str(), body["expires_in"].as_u64()),
        (Some("Bearer"), Some(3600))
    );
    let wrong = sandbox
        .http
        .post(&token_url)
        .basic_auth("sandbox-client", Some("nope"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let other_env = sandbox
        .http
        .post(sandbox.url("/pingone/auth/other-env/as/token"))
        .basic_auth("sandbox-client", Some("sandbox-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_ne!(other_env.status(), 200);

    for auth in [
        Auth::None,
        Auth::Bearer("forged".into()),
        sandbox.scalekit().await,
    ] {
        let answer = sandbox.get("/pingone/v1/organizations", &auth).await;
        assert_eq!(answer.status, 401);
        assert_matches_spec("pingone", "P1Error", &answer.body);
        assert_eq!(answer.body["code"], "ACCESS_FAILED");
        assert!(answer.body["id"].is_string());
    }
}

#[tokio::test]
async fn the_default_seed_holds_the_documented_organization_and_licenses() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.pingone().await;
    let list = sandbox.get("/pingone/v1/organizations", &auth).await;
    assert_eq!(list.status, 200);
    assert_matches_spec("pingone", "EntityArray", &list.body);
    assert_eq!(list.body["_embedded"]["organizations"][0]["id"], ORG);
    let org = sandbox
        .get(&format!("/pingone/v1/organizations/{ORG}"), &auth)
        .await;
    assert_matches_spec("pingone", "Organization", &org.body);
    assert_eq!(
        org.body["_links"]["self"]["href"],
        json!(sandbox.url(&format!("/pingone/v1/organizations/{ORG}")))
    );

    let licenses = sandbox
        .get(&format!("/pingone/v1/organizations/{ORG}/licenses"), &auth)
        .await;
    assert_eq!(licenses.status, 200);
    assert_matches_spec("pingone", "EntityArray", &licenses.body);
    assert_eq!(
        (
            licenses.body["count"].as_u64(),
            licenses.body["size"].as_u64()
        ),
        (Some(5), Some(5))
    );
    let served: Vec<Value> = licenses.body["_embedded"]["licenses"]
        .as_array()
        .unwrap()
        .clone();
    for license in &served {
        assert_matches_spec("pingone", "License", license);
    }
    if let Some(documented) = documented_licenses() {
        assert_eq!(documented.len(), 5);
        for (served, documented) in served.iter().zip(&documented) {
            assert_eq!(
                without_links(served.clone()),
                without_links(documented.clone()),
                "field for field"
            );
        }
    }
    for served in &served {
        let id = served["id"].as_str().unwrap();
        assert_eq!(
            served["_links"]["self"]["href"],
            json!(sandbox.url(&format!("/pingone/v1/organizations/{ORG}/licenses/{id}")))
        );
    }
    let risk = served.iter().find(|l| l["package"] == "RISKTRIAL").unwrap();
    assert_eq!(risk["status"], "TERMINATED");
    let one = sandbox
        .get(
            &format!(
                "/pingone/v1/organizations/{ORG}/licenses/{}",
                risk["id"].as_str().unwrap()
            ),
            &auth,
        )
        .await;
    assert_matches_spec("pingone", "License", &one.body);
    assert_eq!(without_links(one.body), without_links(risk.clone()));
    let missing = sandbox
        .get(
            &format!("/pingone/v1/organizations/{ORG}/licenses/nope"),
            &auth,
        )
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["code"], "NOT_FOUND");
}

#[tokio::test]
async fn licenses_filter_and_order_as_documented() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.pingone().await;
    let path = format!("/pingone/v1/organizations/{ORG}/licenses");
    let packages = |body: &Value| -> Vec<String> {
        body["_embedded"]["licenses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["package"].as_str().unwrap().to_owned())
            .collect()
    };
    let active = sandbox
        .get(&format!("{path}?filter=status%20eq%20%22active%22"), &auth)
        .await;
    assert_eq!(active.status, 200);
    let mut names = packages(&active.body);
    names.sort();
    assert_eq!(names, ["ADMIN", "INTERNAL"]);

    let early = sandbox
        .get(
            &format!("{path}?filter=beginsAt%20lt%20%222020-12-01T00:00:00.000Z%22"),
            &auth,
        )
        .await;
    for license in early.body["_embedded"]["licenses"].as_array().unwrap() {
        assert!(license["beginsAt"].as_str().unwrap() < "2020-12-01");
    }
    let ascending = packages(
        &sandbox
            .get(&format!("{path}?order=beginsAt"), &auth)
            .await
            .body,
    );
    let mut descending = packages(
        &sandbox
            .get(&format!("{path}?order=-beginsAt"), &auth)
            .await
            .body,
    );
    descending.reverse();
    assert_eq!(ascending, descending);
    let begins: Vec<String> = sandbox
        .get(&format!("{path}?order=beginsAt"), &auth)
        .await
        .body["_embedded"]["licenses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["beginsAt"].as_str().unwrap().to_owned())
        .collect();
    assert!(begins.windows(2).all(|w| w[0] <= w[1]), "{begins:?}");

    for bad in ["filter=name%20eq%20%22x%22", "order=name", "limit=0"] {
        let answer = sandbox.get(&format!("{path}?{bad}"), &auth).await;
        assert_eq!(answer.status, 400, "{bad}");
        assert_eq!(answer.body["code"], "INVALID_DATA");
        assert_matches_spec("pingone", "P1Error", &answer.body);
    }
}

#[tokio::test]
async fn hal_next_links_visit_every_license_and_organization_once() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.pingone().await;
    let mut fixture = String::from(
        "pingone:\n  organizations:\n    - name: Big\n      type: PAID\n      licenses:\n",
    );
    for i in 0..260 {
        let status = if i % 3 == 0 { "ACTIVE" } else { "EXPIRED" };
        fixture.push_str(&format!("        - {{ name: L{i}, package: P{i}, status: {status}, beginsAt: \"2024-01-01T00:00:00.000Z\" }}\n"));
    }
    for i in 0..250 {
        fixture.push_str(&format!("    - {{ name: Org {i}, type: TRIAL }}\n"));
    }
    let summary = sandbox.seed(&fixture).await;
    let big = summary["pingone_organizations"][0].as_str().unwrap();

    for (start, collection, expected) in [
        (
            format!("/pingone/v1/organizations/{big}/licenses"),
            "licenses",
            260,
        ),
        (
            format!(
                "/pingone/v1/organizations/{big}/licenses?filter=status%20eq%20%22ACTIVE%22&order=-beginsAt"
            ),
            "licenses",
            87,
        ),
        (
            "/pingone/v1/organizations?limit=100".to_owned(),
            "organizations",
            252,
        ),
    ] {
        let mut seen = BTreeSet::new();
        let mut next = Some(sandbox.url(&start));
        while let Some(url) = next {
            let page = sandbox.get(&url, &auth).await;
            assert_eq!(page.status, 200, "{url}: {}", page.body);
            assert_eq!(page.body["count"], expected);
            for item in page.body["_embedded"][collection].as_array().unwrap() {
                assert!(
                    seen.insert(item["id"].as_str().unwrap().to_owned()),
                    "{collection} twice"
                );
            }
            next = page.body["_links"]["next"]["href"]
                .as_str()
                .map(str::to_owned);
        }
        assert_eq!(seen.len(), expected, "{start}");
    }

    // The licenses list documents `filter` and `order` only: a page size is refused.
    let sized = sandbox
        .get(
            &format!("/pingone/v1/organizations/{big}/licenses?limit=100"),
            &auth,
        )
        .await;
    assert_eq!(sized.status, 400, "{}", sized.body);
    assert_matches_spec("pingone", "P1Error", &sized.body);
}
