//! Nirvana Labs routes.

use reqwest::Method;
use serde_json::json;

use super::support::{Auth, TestSandbox, keys};

/// The Organization object's fields (as Nirvana documents it), sorted.
const ORG_KEYS: [&str; 11] = [
    "billing_email",
    "created_at",
    "domains",
    "id",
    "metronome_customer_id",
    "name",
    "personal",
    "services",
    "stripe_customer_id",
    "type",
    "updated_at",
];

#[tokio::test]
async fn organizations_create_get_update_list_and_leave() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.nirvana();
    let created = sandbox
        .call(
            Method::POST,
            "/nirvana/v1/organizations",
            &auth,
            Some(json!({ "name": "Acme", "billing_email": "ap@acme.example" })),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(keys(&created.body), ORG_KEYS);
    assert_eq!(created.body["billing_email"], "ap@acme.example");
    assert_eq!(created.body["type"], "company");
    assert_eq!(
        keys(&created.body["services"]),
        ["cloud", "jit_provisioning", "scim", "siem", "sso"]
    );
    let id = created.body["id"].as_str().unwrap().to_owned();

    let fetched = sandbox
        .get(&format!("/nirvana/v1/organizations/{id}"), &auth)
        .await;
    assert_eq!(fetched.body, created.body);

    let path = format!("/nirvana/v1/organizations/{id}");
    let renamed = sandbox
        .call(
            Method::PATCH,
            &path,
            &auth,
            Some(json!({ "name": "Acme Corp" })),
        )
        .await;
    assert_eq!(renamed.status, 200);
    assert_eq!(renamed.body["name"], "Acme Corp");
    assert_eq!(
        renamed.body["billing_email"], "ap@acme.example",
        "an omitted field is unchanged"
    );
    let cleared = sandbox
        .call(
            Method::PATCH,
            &path,
            &auth,
            Some(json!({ "billing_email": null })),
        )
        .await;
    assert_eq!(
        cleared.body["billing_email"],
        json!(null),
        "null clears the billing e-mail"
    );

    let list = sandbox
        .get("/nirvana/v1/organizations?limit=10", &auth)
        .await;
    assert_eq!(list.status, 200);
    assert_eq!(keys(&list.body), ["items", "pagination"]);
    assert_eq!(
        keys(&list.body["pagination"]),
        ["next_cursor", "previous_cursor", "total_count"]
    );
    assert_eq!(list.body["pagination"]["total_count"], 1);
    assert_eq!(list.body["pagination"]["next_cursor"], json!(null));

    let left = sandbox
        .call(Method::POST, &format!("{path}/leave"), &auth, None)
        .await;
    assert_eq!(left.status, 200);
    assert_eq!(left.body, json!(null), "leave answers without a body");
    assert_eq!(sandbox.get(&path, &auth).await.status, 404);
    let delete = sandbox.call(Method::DELETE, &path, &auth, None).await;
    assert_eq!(delete.status, 405, "Nirvana has no delete");
}

#[tokio::test]
async fn validation_auth_and_not_found_answer_nirvana_errors() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.nirvana();
    for (body, message) in [
        (json!({}), "name is required"),
        (json!({ "name": "" }), "name must not be empty"),
        (
            json!({ "name": "x", "billing_email": "nope" }),
            "billing_email must be a valid e-mail address",
        ),
        (json!({ "name": 5 }), "name must be a string"),
    ] {
        let answer = sandbox
            .call(Method::POST, "/nirvana/v1/organizations", &auth, Some(body))
            .await;
        assert_eq!(answer.status, 400);
        assert_eq!(
            answer.body,
            json!({ "error": { "code": "validation_error", "message": message } })
        );
    }
    for auth in [Auth::None, Auth::Bearer("wrong".into())] {
        let answer = sandbox.get("/nirvana/v1/organizations", &auth).await;
        assert_eq!(answer.status, 401);
        assert_eq!(answer.body["error"]["code"], "unauthorized");
    }
    let missing = sandbox
        .get("/nirvana/v1/organizations/org_nope", &auth)
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["error"]["code"], "not_found");
    for limit in ["9", "101", "x"] {
        let answer = sandbox
            .get(&format!("/nirvana/v1/organizations?limit={limit}"), &auth)
            .await;
        assert_eq!(answer.status, 400, "limit={limit}");
    }
    assert_eq!(
        sandbox
            .get("/nirvana/v1/organizations?cursor=garbage", &auth)
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn the_address_is_created_once_read_and_updated() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.nirvana();
    let org = sandbox
        .call(
            Method::POST,
            "/nirvana/v1/organizations",
            &auth,
            Some(json!({ "name": "Acme" })),
        )
        .await
        .body;
    let path = format!(
        "/nirvana/v1/organizations/{}/address",
        org["id"].as_str().unwrap()
    );
    assert_eq!(sandbox.get(&path, &auth).await.status, 404);

    let incomplete = sandbox
        .call(
            Method::POST,
            &path,
            &auth,
            Some(json!({ "line1": "1 Main St" })),
        )
        .await;
    assert_eq!(incomplete.status, 400);
    let bad_country = json!({ "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "USA" });
    assert_eq!(
        sandbox
            .call(Method::POST, &path, &auth, Some(bad_country))
            .await
            .status,
        400
    );

    let body = json!({ "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US", "tax_id_type": "us_ein" });
    let created = sandbox
        .call(Method::POST, &path, &auth, Some(body.clone()))
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(
        keys(&created.body),
        [
            "city",
            "country",
            "created_at",
            "id",
            "line1",
            "line2",
            "organization_id",
            "postal_code",
            "state",
            "tax_id",
            "tax_id_type",
            "updated_at"
        ]
    );
    assert_eq!(created.body["line2"], json!(null));
    let again = sandbox.call(Method::POST, &path, &auth, Some(body)).await;
    assert_eq!(again.status, 409, "a second address is refused");

    let updated = sandbox
        .call(
            Method::PATCH,
            &path,
            &auth,
            Some(json!({ "city": "Shelbyville", "tax_id_type": null })),
        )
        .await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.body["city"], "Shelbyville");
    assert_eq!(updated.body["tax_id_type"], json!(null));
    assert_eq!(updated.body["line1"], "1 Main St");
    assert_eq!(sandbox.get(&path, &auth).await.body, updated.body);
    assert_eq!(
        sandbox
            .call(Method::PATCH, &path, &auth, Some(json!({ "line1": null })))
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn seeded_domains_and_memberships_are_read_only_data() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.nirvana();
    let summary = sandbox
        .seed(
            "nirvana:\n  organizations:\n    - name: Umbrella\n      type: company\n      services: { sso: true }\n      domains: [{ domain: umbrella.example, verified: true }, { domain: hive.example }]\n      memberships:\n        - { user_id: usr_1, role: owner }\n        - { id: mem_custom, user_id: usr_2, role: member }\n",
        )
        .await;
    let id = summary["nirvana_organizations"][0].as_str().unwrap();
    let org = sandbox
        .get(&format!("/nirvana/v1/organizations/{id}"), &auth)
        .await
        .body;
    assert_eq!(org["services"]["sso"], true);
    assert_eq!(org["domains"].as_array().unwrap().len(), 2);
    assert_eq!(keys(&org["domains"][0]), ["domain", "id", "verified"]);
    assert_eq!(org["domains"][1]["verified"], false);

    let list = sandbox
        .get(
            &format!("/nirvana/v1/organizations/{id}/memberships"),
            &auth,
        )
        .await
        .body;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        keys(&items[0]),
        [
            "created_at",
            "id",
            "organization_id",
            "role",
            "updated_at",
            "user_id"
        ]
    );
    let one = sandbox
        .get(
            &format!("/nirvana/v1/organizations/{id}/memberships/mem_custom"),
            &auth,
        )
        .await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body["user_id"], "usr_2");
    assert_eq!(
        sandbox
            .get(
                &format!("/nirvana/v1/organizations/{id}/memberships/nope"),
                &auth
            )
            .await
            .status,
        404
    );
    let write = sandbox
        .call(
            Method::POST,
            &format!("/nirvana/v1/organizations/{id}/memberships"),
            &auth,
            Some(json!({})),
        )
        .await;
    assert_eq!(write.status, 405, "memberships are read-only");
}

#[tokio::test]
async fn cursor_pagination_sees_every_organization_and_membership_once() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.nirvana();
    let mut fixture = String::from("nirvana:\n  organizations:\n");
    for i in 0..260 {
        fixture.push_str(&format!("    - name: Org {i}\n"));
    }
    fixture.push_str("    - name: Big\n      memberships:\n");
    for i in 0..255 {
        fixture.push_str(&format!("        - {{ user_id: usr_{i}, role: member }}\n"));
    }
    sandbox.seed(&fixture).await;

    for (collection, expected) in [("organizations", 261), ("memberships", 255)] {
        let base = if collection == "organizations" {
            "/nirvana/v1/organizations".to_owned()
        } else {
            let last = sandbox
                .get("/nirvana/v1/organizations?limit=10", &auth)
                .await
                .body["pagination"]["total_count"]
                .as_u64()
                .unwrap();
            assert_eq!(last, 261);
            let mut id = None;
            let mut cursor = String::new();
            loop {
                let page = sandbox
                    .get(
                        &format!("/nirvana/v1/organizations?limit=100&cursor={cursor}"),
                        &auth,
                    )
                    .await
                    .body;
                for item in page["items"].as_array().unwrap() {
                    if item["name"] == "Big" {
                        id = item["id"].as_str().map(str::to_owned);
                    }
                }
                match page["pagination"]["next_cursor"].as_str() {
                    Some(next) if !next.is_empty() => cursor = next.to_owned(),
                    _ => break,
                }
            }
            format!("/nirvana/v1/organizations/{}/memberships", id.unwrap())
        };
        let mut seen = std::collections::BTreeSet::new();
        let mut cursor = String::new();
        let mut pages = 0;
        loop {
            let page = sandbox
                .get(&format!("{base}?limit=37&cursor={cursor}"), &auth)
                .await
                .body;
            pages += 1;
            for item in page["items"].as_array().unwrap() {
                assert!(
                    seen.insert(item["id"].as_str().unwrap().to_owned()),
                    "{collection}: seen twice"
                );
            }
            match page["pagination"]["next_cursor"].as_str() {
                Some(next) if !next.is_empty() => cursor = next.to_owned(),
                _ => break,
            }
        }
        assert_eq!(seen.len(), expected, "{collection}");
        assert_eq!(pages, expected.div_ceil(37));
    }

    // previous_cursor leads back to the page before.
    let first = sandbox
        .get("/nirvana/v1/organizations?limit=10", &auth)
        .await
        .body;
    let next = first["pagination"]["next_cursor"].as_str().unwrap();
    let second = sandbox
        .get(
            &format!("/nirvana/v1/organizations?limit=10&cursor={next}"),
            &auth,
        )
        .await
        .body;
    let back = second["pagination"]["previous_cursor"].as_str().unwrap();
    let again = sandbox
        .get(
            &format!("/nirvana/v1/organizations?limit=10&cursor={back}"),
            &auth,
        )
        .await
        .body;
    assert_eq!(again["items"], first["items"]);
}
