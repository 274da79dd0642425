//! WorkOS routes, checked against the schemas of `vendor-specs/workos-openapi.yaml`: every
//! answer orgform reads, and the request bodies it sends (as `provider/workos/write.rs`
//! builds them), validate.

use reqwest::Method;
use serde_json::{Value, json};

use super::support::{Auth, TestSandbox, assert_matches_spec};

const ORGS: &str = "/workos/organizations";
const DOMAINS: &str = "/workos/organization_domains";
const USERS: &str = "/workos/user_management/users";
const MEMBERSHIPS: &str = "/workos/user_management/organization_memberships";

async fn post(sandbox: &TestSandbox, auth: &Auth, path: &str, request: &str, body: Value) -> Value {
    assert_matches_spec("workos", request, &body);
    let answer = sandbox.call(Method::POST, path, auth, Some(body)).await;
    assert_eq!(answer.status, 201, "{path}: {}", answer.body);
    answer.body
}

#[tokio::test]
async fn every_route_orgform_uses_answers_as_the_spec_says() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.workos();

    // A wrong or missing key: 401 with the vendor's error shape.
    for wrong in [Auth::None, Auth::Bearer("sk_forged".into())] {
        let answer = sandbox.get(ORGS, &wrong).await;
        assert_eq!(answer.status, 401);
        assert!(answer.body["message"].is_string(), "{}", answer.body);
    }

    let organization = post(
        &sandbox,
        &auth,
        ORGS,
        "OrganizationDto",
        json!({ "name": "Acme", "external_id": "acme", "metadata": { "tier": "gold", "managed_by": "orgform" } }),
    )
    .await;
    assert_matches_spec("workos", "Organization", &organization);
    let id = organization["id"].as_str().unwrap().to_owned();
    // The external id is unique: the spec's own error code.
    let again = sandbox
        .call(
            Method::POST,
            ORGS,
            &auth,
            Some(json!({ "name": "Acme 2", "external_id": "acme" })),
        )
        .await;
    assert_eq!(again.status, 400);
    assert_eq!(again.body["code"], "external_id_already_used");

    let domain = post(
        &sandbox,
        &auth,
        DOMAINS,
        "CreateOrganizationDomainDto",
        json!({ "domain": "acme.example", "organization_id": id }),
    )
    .await;
    assert_matches_spec("workos", "OrganizationDomainStandAlone", &domain);
    assert_eq!(domain["state"], "pending");
    let taken = sandbox
        .call(
            Method::POST,
            DOMAINS,
            &auth,
            Some(json!({ "domain": "acme.example", "organization_id": id })),
        )
        .await;
    assert_eq!(taken.status, 409, "{}", taken.body);

    let user = post(
        &sandbox,
        &auth,
        USERS,
        "CreateUserlandUserDto",
        json!({ "email": "ada@acme.example" }),
    )
    .await;
    assert_matches_spec("workos", "UserlandUser", &user);
    let users = sandbox
        .get(&format!("{USERS}?email=ada%40acme.example"), &auth)
        .await;
    assert_eq!(users.status, 200);
    assert_matches_spec("workos", "UserlandUserList", &users.body);
    assert_eq!(users.body["data"][0]["id"], user["id"]);

    let membership = post(
        &sandbox,
        &auth,
        MEMBERSHIPS,
        "CreateUserlandUserOrganizationMembershipDto",
        json!({ "user_id": user["id"], "organization_id": id, "role_slugs": ["admin"] }),
    )
    .await;
    assert_matches_spec("workos", "UserlandUserOrganizationMembership", &membership);
    let membership_id = membership["id"].as_str().unwrap().to_owned();
    let update = json!({ "role_slugs": ["member", "billing"] });
    assert_matches_spec(
        "workos",
        "UpdateUserlandUserOrganizationMembershipDto",
        &update,
    );
    let updated = sandbox
        .call(
            Method::PUT,
            &format!("{MEMBERSHIPS}/{membership_id}"),
            &auth,
            Some(update),
        )
        .await;
    assert_eq!(updated.status, 200);
    assert_matches_spec(
        "workos",
        "UserlandUserOrganizationMembership",
        &updated.body,
    );
    assert_eq!(
        updated.body["roles"],
        json!([{ "slug": "member" }, { "slug": "billing" }])
    );

    let listed = sandbox
        .get(
            &format!("{MEMBERSHIPS}?organization_id={id}&limit=100&order=asc"),
            &auth,
        )
        .await;
    assert_eq!(listed.status, 200);
    assert_matches_spec(
        "workos",
        "UserlandUserOrganizationMembershipList",
        &listed.body,
    );
    assert_eq!(listed.body["data"][0]["user"]["email"], "ada@acme.example");

    let change =
        json!({ "name": "Acme Corp", "metadata": { "tier": "platinum", "managed_by": "orgform" } });
    assert_matches_spec("workos", "UpdateOrganizationDto", &change);
    let renamed = sandbox
        .call(Method::PUT, &format!("{ORGS}/{id}"), &auth, Some(change))
        .await;
    assert_eq!(renamed.status, 200);
    assert_matches_spec("workos", "Organization", &renamed.body);
    let by_key = sandbox
        .get(&format!("{ORGS}/external_id/acme"), &auth)
        .await;
    assert_eq!(by_key.status, 200);
    assert_matches_spec("workos", "Organization", &by_key.body);
    assert_eq!(by_key.body["domains"][0]["domain"], "acme.example");
    let page = sandbox
        .get(&format!("{ORGS}?limit=100&order=asc"), &auth)
        .await;
    assert_matches_spec("workos", "OrganizationList", &page.body);

    let gone = sandbox
        .call(
            Method::DELETE,
            &format!("{DOMAINS}/{}", domain["id"].as_str().unwrap()),
            &auth,
            None,
        )
        .await;
    assert_eq!(gone.status, 204);
    let gone = sandbox
        .call(
            Method::DELETE,
            &format!("{MEMBERSHIPS}/{membership_id}"),
            &auth,
            None,
        )
        .await;
    assert_eq!(gone.status, 200);
    let gone = sandbox
        .call(Method::DELETE, &format!("{ORGS}/{id}"), &auth, None)
        .await;
    assert_eq!(gone.status, 202);
    let missing = sandbox.get(&format!("{ORGS}/{id}"), &auth).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["code"], "entity_not_found");
}

/// Pagination by object id, in WorkOS's list shape, both orders.
#[tokio::test]
async fn lists_page_by_object_id_in_either_order() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.workos();
    let mut seed = String::from("workos:\n  organizations:\n");
    for n in 0..25 {
        seed.push_str(&format!(
            "    - {{ name: Org {n}, external_id: org-{n} }}\n"
        ));
    }
    sandbox.seed(&seed).await;
    for order in ["asc", "desc"] {
        let mut seen = Vec::new();
        let mut after = String::new();
        loop {
            let page = sandbox
                .get(
                    &format!("{ORGS}?limit=10&order={order}&after={after}"),
                    &auth,
                )
                .await
                .body;
            assert_matches_spec("workos", "OrganizationList", &page);
            seen.extend(
                page["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o["external_id"].as_str().unwrap().to_owned()),
            );
            match page["list_metadata"]["after"].as_str() {
                Some(next) => after = next.to_owned(),
                None => break,
            }
        }
        let mut expected: Vec<String> = (0..25).map(|n| format!("org-{n}")).collect();
        if order == "desc" {
            expected.reverse();
        }
        assert_eq!(seen, expected, "{order}");
    }
    let bad = sandbox.get(&format!("{ORGS}?limit=101"), &auth).await;
    assert_eq!(bad.status, 422);
}
