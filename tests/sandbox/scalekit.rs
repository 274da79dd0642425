//! Scalekit routes, checked against the schemas of `vendor-specs/scalekit-openapi.yaml`.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use super::support::{Auth, TestSandbox, assert_matches_spec, membership_in};

const ORGS: &str = "/scalekit/api/v1/organizations";

async fn create(sandbox: &TestSandbox, auth: &Auth, body: Value) -> Value {
    let answer = sandbox.call(Method::POST, ORGS, auth, Some(body)).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_matches_spec(
        "scalekit",
        "organizationsCreateOrganizationResponse",
        &answer.body,
    );
    answer.body["organization"].clone()
}

#[tokio::test]
async fn tokens_are_issued_for_client_credentials_only() {
    let sandbox = TestSandbox::start().await;
    let form = |id: &str, secret: &str| {
        vec![
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", id.to_owned()),
            ("client_secret", secret.to_owned()),
        ]
    };
    let good = sandbox
        .http
        .post(sandbox.url("/scalekit/oauth/token"))
        .form(&form("sandbox-client", "sandbox-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), 200);
    let body: Value = good.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().unwrap() > 0);
    let bad = sandbox
        .http
        .post(sandbox.url("/scalekit/oauth/token"))
        .form(&form("sandbox-client", "wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    assert_eq!(
        bad.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );

    for auth in [Auth::None, Auth::Bearer("sbx_scalekit_forged".into())] {
        let answer = sandbox.get(ORGS, &auth).await;
        assert_eq!(answer.status, 401);
        assert_eq!(answer.body["code"], 16);
        assert_eq!(answer.body["details"][0]["error_code"], "UNAUTHENTICATED");
        assert_eq!(
            answer.body["details"][0]["@type"],
            "type.googleapis.com/scalekit.v1.errdetails.ErrorInfo"
        );
    }
    // A PingOne token is not a Scalekit token.
    let pingone = sandbox.pingone().await;
    assert_eq!(sandbox.get(ORGS, &pingone).await.status, 401);
}

#[tokio::test]
async fn organizations_create_get_update_settings_and_delete() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.scalekit().await;
    let org = create(
        &sandbox,
        &auth,
        json!({ "display_name": "Acme", "external_id": "acme", "metadata": { "tier": "gold" } }),
    )
    .await;
    assert_eq!(org["external_id"], "acme");
    assert_eq!(org["region_code"], "US");
    assert_eq!(
        org["settings"]["features"],
        json!([{ "name": "sso", "enabled": false }, { "name": "dir_sync", "enabled": false }])
    );
    let id = org["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("org_"));

    let path = format!("{ORGS}/{id}");
    let fetched = sandbox.get(&path, &auth).await;
    assert_matches_spec(
        "scalekit",
        "organizationsGetOrganizationResponse",
        &fetched.body,
    );
    assert_eq!(fetched.body["organization"], org);
    let by_external = sandbox
        .get("/scalekit/api/v1/organizations:external/acme", &auth)
        .await;
    assert_eq!(by_external.body["organization"]["id"], json!(id));
    assert_eq!(
        sandbox
            .get("/scalekit/api/v1/organizations:external/nope", &auth)
            .await
            .status,
        404
    );

    let updated = sandbox.call(Method::PATCH, &path, &auth, Some(json!({ "display_name": "Acme Corp", "metadata": { "tier": "silver", "managed_by": "orgform" }, "slug": "acme" }))).await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_matches_spec(
        "scalekit",
        "organizationsUpdateOrganizationResponse",
        &updated.body,
    );
    assert_eq!(updated.body["organization"]["display_name"], "Acme Corp");
    assert_eq!(
        updated.body["organization"]["external_id"], "acme",
        "omitted fields are unchanged"
    );
    assert_eq!(
        updated.body["organization"]["metadata"],
        json!({ "tier": "silver", "managed_by": "orgform" })
    );

    let settings = sandbox
        .call(
            Method::PATCH,
            &format!("{path}/settings"),
            &auth,
            Some(json!({ "features": [{ "name": "sso", "enabled": true }] })),
        )
        .await;
    assert_eq!(settings.status, 200);
    assert_matches_spec(
        "scalekit",
        "organizationsGetOrganizationResponse",
        &settings.body,
    );
    assert_eq!(
        settings.body["organization"]["settings"]["features"][0],
        json!({ "name": "sso", "enabled": true })
    );
    let unknown_feature = sandbox
        .call(
            Method::PATCH,
            &format!("{path}/settings"),
            &auth,
            Some(json!({ "features": [{ "name": "scim", "enabled": true }] })),
        )
        .await;
    assert_eq!(unknown_feature.status, 400);

    let deleted = sandbox.call(Method::DELETE, &path, &auth, None).await;
    assert_eq!(
        (deleted.status.as_u16(), deleted.body.clone()),
        (200, json!({}))
    );
    let gone = sandbox.get(&path, &auth).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.body["code"], 5);
    assert_eq!(gone.body["details"][0]["error_code"], "NOT_FOUND");
}

#[tokio::test]
async fn organization_validation_mirrors_scalekit_limits() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.scalekit().await;
    create(
        &sandbox,
        &auth,
        json!({ "display_name": "Acme", "external_id": "acme" }),
    )
    .await;
    let eleven: serde_json::Map<String, Value> = (0..11)
        .map(|i| (format!("key{i:02}"), json!("v")))
        .collect();
    for (body, field) in [
        (json!({}), "display_name"),
        (json!({ "display_name": "" }), "display_name"),
        (json!({ "display_name": "x".repeat(201) }), "display_name"),
        (
            json!({ "display_name": "X", "metadata": eleven }),
            "metadata",
        ),
        (
            json!({ "display_name": "X", "metadata": { "ab": "v" } }),
            "metadata",
        ),
        (
            json!({ "display_name": "X", "metadata": { "abc": "" } }),
            "metadata",
        ),
        (
            json!({ "display_name": "X", "metadata": { "abc": "x".repeat(257) } }),
            "metadata",
        ),
    ] {
        let answer = sandbox
            .call(Method::POST, ORGS, &auth, Some(body.clone()))
            .await;
        assert_eq!(answer.status, 400, "{body}");
        assert_eq!(answer.body["code"], 3);
        assert_eq!(
            answer.body["details"][0]["validation_error_info"]["field_violations"][0]["field"],
            field,
            "{body}"
        );
    }
    let duplicate = sandbox
        .call(
            Method::POST,
            ORGS,
            &auth,
            Some(json!({ "display_name": "Other", "external_id": "acme" })),
        )
        .await;
    assert_eq!(duplicate.status, 409);
    assert_eq!(duplicate.body["details"][0]["error_code"], "ALREADY_EXISTS");
    for size in ["9", "101"] {
        assert_eq!(
            sandbox
                .get(&format!("{ORGS}?page_size={size}"), &auth)
                .await
                .status,
            400
        );
    }
    assert_eq!(
        sandbox
            .get(&format!("{ORGS}?page_token=garbage"), &auth)
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn organization_pages_list_every_organization_once() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.scalekit().await;
    let mut fixture = String::from("scalekit:\n  organizations:\n");
    for i in 0..253 {
        fixture.push_str(&format!(
            "    - {{ display_name: Org {i}, external_id: org-{i} }}\n"
        ));
    }
    sandbox.seed(&fixture).await;
    let mut seen = BTreeSet::new();
    let mut token = String::new();
    loop {
        let page = sandbox
            .get(&format!("{ORGS}?page_size=100&page_token={token}"), &auth)
            .await;
        assert_eq!(page.status, 200);
        assert_matches_spec(
            "scalekit",
            "organizationsListOrganizationsResponse",
            &page.body,
        );
        assert_eq!(page.body["total_size"], 253);
        for org in page.body["organizations"].as_array().unwrap() {
            assert!(seen.insert(org["id"].as_str().unwrap().to_owned()));
        }
        token = page.body["next_page_token"].as_str().unwrap().to_owned();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen.len(), 253);
    let filtered = sandbox
        .get(&format!("{ORGS}?external_id=org-7"), &auth)
        .await
        .body;
    assert_eq!(filtered["organizations"].as_array().unwrap().len(), 1);
    assert_eq!(filtered["organizations"][0]["display_name"], "Org 7");
}

#[tokio::test]
async fn domains_add_list_by_page_number_get_and_delete() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.scalekit().await;
    let org = create(&sandbox, &auth, json!({ "display_name": "Acme" })).await;
    let other = create(&sandbox, &auth, json!({ "display_name": "Other" })).await;
    let domains = format!("{ORGS}/{}/domains", org["id"].as_str().unwrap());

    let added = sandbox
        .call(
            Method::POST,
            &domains,
            &auth,
            Some(json!({ "domain": "acme.example", "domain_type": "ORGANIZATION_DOMAIN" })),
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_matches_spec("scalekit", "domainsCreateDomainResponse", &added.body);
    assert_eq!(added.body["domain"]["verification_status"], "PENDING");
    let allowed = sandbox
        .call(
            Method::POST,
            &domains,
            &auth,
            Some(json!({ "domain": "mail.acme.example", "domain_type": "ALLOWED_EMAIL_DOMAIN" })),
        )
        .await;
    assert_eq!(
        allowed.body["domain"]["verification_status"],
        "AUTO_VERIFIED"
    );

    let other_domains = format!("{ORGS}/{}/domains", other["id"].as_str().unwrap());
    let taken = sandbox
        .call(
            Method::POST,
            &other_domains,
            &auth,
            Some(json!({ "domain": "acme.example" })),
        )
        .await;
    assert_eq!(taken.status, 409, "a domain belongs to one organization");
    for bad in [
        json!({}),
        json!({ "domain": "not a domain" }),
        json!({ "domain": "x.example", "domain_type": "OTHER" }),
    ] {
        assert_eq!(
            sandbox
                .call(Method::POST, &domains, &auth, Some(bad))
                .await
                .status,
            400
        );
    }

    for i in 0..40 {
        sandbox
            .call(
                Method::POST,
                &domains,
                &auth,
                Some(json!({ "domain": format!("d{i}.acme.example") })),
            )
            .await;
    }
    let mut names = BTreeSet::new();
    for page_number in 0.. {
        let page = sandbox
            .get(
                &format!("{domains}?page_size=15&page_number={page_number}"),
                &auth,
            )
            .await;
        assert_eq!(page.status, 200);
        assert_matches_spec("scalekit", "domainsListDomainResponse", &page.body);
        assert_eq!(
            (
                page.body["page_number"].as_u64(),
                page.body["page_size"].as_u64()
            ),
            (Some(page_number), Some(15))
        );
        let items = page.body["domains"].as_array().unwrap();
        for d in items {
            assert!(names.insert(d["domain"].as_str().unwrap().to_owned()));
        }
        if items.len() < 15 {
            break;
        }
    }
    assert_eq!(names.len(), 42);
    assert_eq!(
        sandbox
            .get(&format!("{domains}?page_size=101"), &auth)
            .await
            .status,
        400
    );

    let id = added.body["domain"]["id"].as_str().unwrap();
    let one = sandbox.get(&format!("{domains}/{id}"), &auth).await;
    assert_matches_spec("scalekit", "domainsGetDomainResponse", &one.body);
    assert_eq!(
        sandbox
            .get(&format!("{other_domains}/{id}"), &auth)
            .await
            .status,
        404
    );
    let deleted = sandbox
        .call(Method::DELETE, &format!("{domains}/{id}"), &auth, None)
        .await;
    assert_eq!((deleted.status.as_u16(), deleted.body), (200, json!({})));
    assert_eq!(
        sandbox.get(&format!("{domains}/{id}"), &auth).await.status,
        404
    );
    let readd = sandbox
        .call(
            Method::POST,
            &other_domains,
            &auth,
            Some(json!({ "domain": "acme.example" })),
        )
        .await;
    assert_eq!(readd.status, 200, "a removed domain is free again");
}

#[tokio::test]
async fn users_and_memberships_are_added_changed_and_removed() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.scalekit().await;
    let acme = create(&sandbox, &auth, json!({ "display_name": "Acme" })).await;
    let beta = create(&sandbox, &auth, json!({ "display_name": "Beta" })).await;
    let (acme_id, beta_id) = (acme["id"].as_str().unwrap(), beta["id"].as_str().unwrap());

    let created = sandbox
        .call(Method::POST, &format!("{ORGS}/{acme_id}/users"), &auth, Some(json!({ "email": "ada@acme.example", "membership": { "roles": [{ "name": "admin" }] } })))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_matches_spec(
        "scalekit",
        "usersCreateUserAndMembershipResponse",
        &created.body,
    );
    let user = &created.body["user"];
    let user_id = user["id"].as_str().unwrap().to_owned();
    assert!(user_id.starts_with("usr_"));
    assert_eq!(user["memberships"][0]["roles"][0]["name"], "admin");
    assert_eq!(
        user["memberships"][0]["membership_status"], "PENDING_INVITE",
        "no send_invitation_email means the vendor's default: an invitation"
    );
    let again = sandbox
        .call(
            Method::POST,
            &format!("{ORGS}/{beta_id}/users"),
            &auth,
            Some(json!({ "email": "ADA@acme.example" })),
        )
        .await;
    assert_eq!(again.status, 409, "an e-mail belongs to one user");

    let membership =
        format!("/scalekit/api/v1/memberships/organizations/{beta_id}/users/{user_id}");
    let added = sandbox
        .call(
            Method::POST,
            &membership,
            &auth,
            Some(json!({ "roles": [{ "name": "member" }] })),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert_matches_spec("scalekit", "usersCreateMembershipResponse", &added.body);
    assert_eq!(
        added.body["user"]["memberships"].as_array().unwrap().len(),
        2
    );
    assert_eq!(
        sandbox
            .call(Method::POST, &membership, &auth, Some(json!({})))
            .await
            .status,
        409
    );

    let changed = sandbox
        .call(
            Method::PATCH,
            &membership,
            &auth,
            Some(json!({ "roles": [{ "name": "admin" }, { "name": "billing" }] })),
        )
        .await;
    assert_eq!(changed.status, 200);
    assert_matches_spec("scalekit", "usersUpdateMembershipResponse", &changed.body);
    let beta_membership = membership_in(&changed.body["user"], beta_id).clone();
    let roles: Vec<&str> = beta_membership["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["admin", "billing"]);

    let listed = sandbox.get(&format!("{ORGS}/{beta_id}/users"), &auth).await;
    assert_matches_spec(
        "scalekit",
        "usersListOrganizationUsersResponse",
        &listed.body,
    );
    assert_eq!(listed.body["total_size"], 1);
    assert_eq!(listed.body["users"][0]["email"], "ada@acme.example");

    let removed = sandbox.call(Method::DELETE, &membership, &auth, None).await;
    assert_eq!((removed.status.as_u16(), removed.body), (200, json!({})));
    assert_eq!(
        sandbox
            .call(Method::DELETE, &membership, &auth, None)
            .await
            .status,
        404
    );
    assert_eq!(
        sandbox
            .get(&format!("{ORGS}/{beta_id}/users"), &auth)
            .await
            .body["total_size"],
        0
    );
    let missing_user =
        format!("/scalekit/api/v1/memberships/organizations/{beta_id}/users/usr_nope");
    assert_eq!(
        sandbox
            .call(Method::POST, &missing_user, &auth, Some(json!({})))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn user_pages_list_every_member_once() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.scalekit().await;
    let mut fixture = String::from(
        "scalekit:\n  organizations:\n    - { display_name: Big, external_id: big }\n  users:\n",
    );
    for i in 0..257 {
        fixture.push_str(&format!("    - {{ email: user{i}@big.example, memberships: [{{ organization: big, roles: [member] }}] }}\n"));
    }
    let summary = sandbox.seed(&fixture).await;
    let org = summary["scalekit_organizations"][0].as_str().unwrap();
    let mut seen = BTreeSet::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = sandbox
            .get(
                &format!("{ORGS}/{org}/users?page_size=100&page_token={token}"),
                &auth,
            )
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        pages += 1;
        assert_eq!(page.body["total_size"], 257);
        for user in page.body["users"].as_array().unwrap() {
            assert!(seen.insert(user["email"].as_str().unwrap().to_owned()));
        }
        token = page.body["next_page_token"].as_str().unwrap().to_owned();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!((seen.len(), pages), (257, 3));
}
