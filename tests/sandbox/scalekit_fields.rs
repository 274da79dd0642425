//! Everything a Scalekit request may carry is kept and shown back, as the vendor does: user
//! metadata and profiles, membership metadata and inviters, the invitation default, the
//! region chosen at creation, the membership routes by external id, and domain TXT records.
//! Requests and answers are both checked against the spec's schemas.

use reqwest::Method;
use serde_json::{Value, json};

use super::support::{Auth, TestSandbox, assert_matches_spec, membership_in};

const ORGS: &str = "/scalekit/api/v1/organizations";
const MEMBERSHIPS: &str = "/scalekit/api/v1/memberships/organizations";

async fn organization(sandbox: &TestSandbox, auth: &Auth, body: Value) -> String {
    assert_matches_spec("scalekit", "v1organizationsCreateOrganization", &body);
    let answer = sandbox.call(Method::POST, ORGS, auth, Some(body)).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.body["organization"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_created_user_keeps_its_metadata_profile_and_membership_fields() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.scalekit().await;
    let acme = organization(&sandbox, &auth, json!({ "display_name": "Acme" })).await;
    let body = json!({
        "email": "ada@acme.example",
        "external_id": "ext-ada",
        "metadata": { "department": "engineering" },
        "user_profile": {
            "given_name": "Ada",
            "family_name": "Lovelace",
            "locale": "en-GB",
            "custom_attributes": { "clearance": "level2" },
        },
        "membership": {
            "roles": [{ "name": "admin" }],
            "metadata": { "cost_centre": "cc-42" },
            "inviter_email": "grace@acme.example",
        },
    });
    assert_matches_spec("scalekit", "usersCreateUser", &body);
    let created = sandbox
        .call(
            Method::POST,
            &format!("{ORGS}/{acme}/users?send_invitation_email=false"),
            &auth,
            Some(body),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_matches_spec(
        "scalekit",
        "usersCreateUserAndMembershipResponse",
        &created.body,
    );
    // Read back through the list, not only the create answer: the fields are stored.
    let listed = sandbox.get(&format!("{ORGS}/{acme}/users"), &auth).await;
    assert_matches_spec(
        "scalekit",
        "usersListOrganizationUsersResponse",
        &listed.body,
    );
    let user = &listed.body["users"][0];
    assert_eq!(user["external_id"], "ext-ada");
    assert_eq!(user["metadata"], json!({ "department": "engineering" }));
    assert_eq!(user["user_profile"]["given_name"], "Ada");
    assert_eq!(user["user_profile"]["family_name"], "Lovelace");
    assert_eq!(user["user_profile"]["locale"], "en-GB");
    assert_eq!(
        user["user_profile"]["custom_attributes"],
        json!({ "clearance": "level2" })
    );
    assert_eq!(user["user_profile"]["email_verified"], false);
    let member = membership_in(user, &acme);
    assert_eq!(member["metadata"], json!({ "cost_centre": "cc-42" }));
    assert_eq!(member["inviter_email"], "grace@acme.example");
    assert_eq!(member["membership_status"], "ACTIVE");

    // What the vendor refuses, the sandbox refuses.
    for (body, field) in [
        (
            json!({ "email": "bo@acme.example", "metadata": { "k": "too short a key" } }),
            "metadata",
        ),
        (
            json!({ "email": "bo@acme.example", "user_profile": { "given_name": "x".repeat(256) } }),
            "user_profile.given_name",
        ),
        (
            json!({ "email": "bo@acme.example", "membership": { "inviter_email": "not an address" } }),
            "inviter_email",
        ),
    ] {
        let refused = sandbox
            .call(
                Method::POST,
                &format!("{ORGS}/{acme}/users"),
                &auth,
                Some(body),
            )
            .await;
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert!(refused.body.to_string().contains(field), "{}", refused.body);
    }
    let users = sandbox.get(&format!("{ORGS}/{acme}/users"), &auth).await;
    assert_eq!(users.body["total_size"], 1, "a refused create adds nobody");
}

/// POSTs a user or membership create; the new member's user id and membership status.
async fn added(sandbox: &TestSandbox, auth: &Auth, path: String, body: Value) -> (String, String) {
    let answer = sandbox.call(Method::POST, &path, auth, Some(body)).await;
    assert_eq!(answer.status, 201, "{path}: {}", answer.body);
    let user = &answer.body["user"];
    let org = path.split('/').find(|s| s.starts_with("org_")).unwrap();
    let status = membership_in(user, org)["membership_status"]
        .as_str()
        .unwrap();
    (user["id"].as_str().unwrap().to_owned(), status.to_owned())
}

#[tokio::test]
async fn an_absent_send_invitation_email_sends_one_as_the_vendor_does() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.scalekit().await;
    let acme = organization(&sandbox, &auth, json!({ "display_name": "Acme" })).await;
    let beta = organization(&sandbox, &auth, json!({ "display_name": "Beta" })).await;
    let users = format!("{ORGS}/{acme}/users");
    let (ada, status) = added(
        &sandbox,
        &auth,
        users.clone(),
        json!({ "email": "ada@acme.example" }),
    )
    .await;
    assert_eq!(status, "PENDING_INVITE");
    let (_, status) = added(
        &sandbox,
        &auth,
        format!("{users}?send_invitation_email=true"),
        json!({ "email": "bob@acme.example" }),
    )
    .await;
    assert_eq!(status, "PENDING_INVITE");
    let (_, status) = added(
        &sandbox,
        &auth,
        format!("{users}?send_invitation_email=false"),
        json!({ "email": "cy@acme.example" }),
    )
    .await;
    assert_eq!(status, "ACTIVE");

    // The membership route has the same parameter and the same default.
    let body = json!({ "roles": [{ "name": "member" }], "metadata": { "team_name": "blue" }, "inviter_email": "cy@acme.example" });
    assert_matches_spec("scalekit", "v1usersCreateMembership", &body);
    let (_, status) = added(
        &sandbox,
        &auth,
        format!("{MEMBERSHIPS}/{beta}/users/{ada}"),
        body,
    )
    .await;
    assert_eq!(status, "PENDING_INVITE");
    let listed = sandbox.get(&format!("{ORGS}/{beta}/users"), &auth).await;
    let member = membership_in(&listed.body["users"][0], &beta);
    assert_eq!(member["metadata"], json!({ "team_name": "blue" }));
    assert_eq!(member["inviter_email"], "cy@acme.example");
    let bad = sandbox
        .call(
            Method::POST,
            &format!("{users}?send_invitation_email=yes"),
            &auth,
            Some(json!({ "email": "di@acme.example" })),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
}

#[tokio::test]
async fn the_region_is_chosen_when_an_organization_is_created() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.scalekit().await;
    let eu = sandbox
        .call(
            Method::POST,
            ORGS,
            &auth,
            Some(json!({ "display_name": "Euro", "region_code": "EU" })),
        )
        .await;
    assert_eq!(eu.status, 201, "{}", eu.body);
    assert_matches_spec(
        "scalekit",
        "organizationsCreateOrganizationResponse",
        &eu.body,
    );
    let id = eu.body["organization"]["id"].as_str().unwrap();
    let read = sandbox.get(&format!("{ORGS}/{id}"), &auth).await;
    assert_eq!(read.body["organization"]["region_code"], "EU");
    let us = organization(&sandbox, &auth, json!({ "display_name": "Default" })).await;
    let read = sandbox.get(&format!("{ORGS}/{us}"), &auth).await;
    assert_eq!(
        read.body["organization"]["region_code"], "US",
        "the environment's region"
    );
    let bad = sandbox
        .call(
            Method::POST,
            ORGS,
            &auth,
            Some(json!({ "display_name": "Mars", "region_code": "MARS" })),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
}

#[tokio::test]
async fn memberships_are_managed_by_the_users_external_id() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.scalekit().await;
    let acme = organization(&sandbox, &auth, json!({ "display_name": "Acme" })).await;
    let beta = organization(&sandbox, &auth, json!({ "display_name": "Beta" })).await;
    let created = sandbox
        .call(
            Method::POST,
            &format!("{ORGS}/{acme}/users?send_invitation_email=false"),
            &auth,
            Some(json!({ "email": "ada@acme.example", "external_id": "ext-ada" })),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);

    let by_external = format!("{MEMBERSHIPS}/{beta}/users:external/ext-ada");
    let added = sandbox
        .call(
            Method::POST,
            &format!("{by_external}?send_invitation_email=false"),
            &auth,
            Some(json!({ "roles": [{ "name": "member" }] })),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert_matches_spec("scalekit", "usersCreateMembershipResponse", &added.body);
    assert_eq!(
        membership_in(&added.body["user"], &beta)["membership_status"],
        "ACTIVE"
    );
    let again = sandbox
        .call(Method::POST, &by_external, &auth, Some(json!({})))
        .await;
    assert_eq!(again.status, 409, "{}", again.body);

    let changed = sandbox
        .call(
            Method::PATCH,
            &by_external,
            &auth,
            Some(json!({ "roles": [{ "name": "admin" }] })),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_matches_spec("scalekit", "usersUpdateMembershipResponse", &changed.body);
    assert_eq!(
        membership_in(&changed.body["user"], &beta)["roles"][0]["name"],
        "admin"
    );

    let removed = sandbox
        .call(Method::DELETE, &by_external, &auth, None)
        .await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    let listed = sandbox.get(&format!("{ORGS}/{beta}/users"), &auth).await;
    assert_eq!(listed.body["total_size"], 0);
    let unknown = format!("{MEMBERSHIPS}/{beta}/users:external/ext-nobody");
    for method in [Method::POST, Method::PATCH, Method::DELETE] {
        let answer = sandbox
            .call(method.clone(), &unknown, &auth, Some(json!({})))
            .await;
        assert_eq!(answer.status, 404, "{method} {}", answer.body);
    }
}

#[tokio::test]
async fn dns_verified_domains_carry_their_txt_record() {
    let sandbox = TestSandbox::start().await;
    let auth = sandbox.scalekit().await;
    let acme = organization(&sandbox, &auth, json!({ "display_name": "Acme" })).await;
    let domains = format!("{ORGS}/{acme}/domains");
    let dns = sandbox
        .call(
            Method::POST,
            &domains,
            &auth,
            Some(json!({ "domain": "acme.example", "domain_type": "ORGANIZATION_DOMAIN" })),
        )
        .await;
    assert_matches_spec("scalekit", "domainsCreateDomainResponse", &dns.body);
    let domain = &dns.body["domain"];
    assert_eq!(domain["verification_method"], "DNS");
    assert_eq!(domain["txt_record_key"], "scalekit-domain-verification");
    let secret = domain["txt_record_secret"].as_str().unwrap().to_owned();
    assert!(secret.len() > 10, "{secret}");
    let allowed = sandbox
        .call(
            Method::POST,
            &domains,
            &auth,
            Some(json!({ "domain": "mail.acme.example", "domain_type": "ALLOWED_EMAIL_DOMAIN" })),
        )
        .await;
    assert!(allowed.body["domain"].get("txt_record_key").is_none());
    let listed = sandbox.get(&domains, &auth).await;
    assert_matches_spec("scalekit", "domainsListDomainResponse", &listed.body);
    let stored = listed.body["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain"] == "acme.example")
        .unwrap();
    assert_eq!(
        stored["txt_record_secret"],
        json!(secret),
        "the same record every read"
    );
}
