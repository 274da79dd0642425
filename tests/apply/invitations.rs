//! Scalekit invitations: the vendor e-mails every member it is not told about, so orgform
//! always says `send_invitation_email`, as the provider's `invite_members` and each member's
//! `invite` ask.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};

use super::support::{Scenario, apply, assert_converged};
use crate::sandbox::support::membership_in;

/// The membership status of each member of `org` (by external id), by e-mail.
async fn statuses(scenario: &Scenario, org: &str) -> BTreeMap<String, String> {
    let sandbox = &scenario.sandbox;
    let auth = sandbox.scalekit().await;
    let found = sandbox
        .get(
            &format!("/scalekit/api/v1/organizations:external/{org}"),
            &auth,
        )
        .await;
    let id = found.body["organization"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let users = sandbox
        .get(
            &format!("/scalekit/api/v1/organizations/{id}/users?page_size=100"),
            &auth,
        )
        .await
        .body;
    users["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            let membership = membership_in(u, &id);
            (
                u["email"].as_str().unwrap().to_owned(),
                membership["membership_status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The `send_invitation_email` of every user or membership create in the request log since
/// `from` (`None` when a request left it out).
async fn invitation_flags(scenario: &Scenario, from: usize) -> Vec<(String, Option<String>)> {
    let creates = ["/users", "/users/{id}"];
    scenario.sandbox.requests().await[from..]
        .iter()
        .filter(|r| {
            r["method"] == "POST"
                && creates
                    .iter()
                    .any(|c| r["route"].as_str().unwrap().ends_with(c))
        })
        .map(|r| {
            let route = r["route"].as_str().unwrap();
            let kind = if route.contains("/memberships/") {
                "membership"
            } else {
                "user"
            };
            let flag = r["query"].as_str().and_then(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "send_invitation_email")
                    .map(|(_, v)| v.into_owned())
            });
            (kind.to_owned(), flag)
        })
        .collect()
}

/// Applies, and answers the (sorted) invitation flags of the creates that apply sent.
async fn apply_and_read_flags(scenario: &Scenario) -> Vec<(String, Option<String>)> {
    let logged = scenario.sandbox.requests().await.len();
    let (_, results) = apply(scenario, Default::default()).await;
    assert!(results.iter().all(|r| r.succeeded()), "{results:#?}");
    let mut flags = invitation_flags(scenario, logged).await;
    flags.sort();
    flags
}

#[tokio::test(flavor = "multi_thread")]
async fn every_member_create_says_whether_to_send_an_invitation() {
    let scenario = Scenario::new("scalekit", "").await;
    // grace@ is already a user of the environment (of another organization): orgform adds her
    // with the memberships route after the vendor answers 409.
    let sandbox = &scenario.sandbox;
    let auth = sandbox.scalekit().await;
    let other = sandbox
        .call(
            Method::POST,
            "/scalekit/api/v1/organizations",
            &auth,
            Some(json!({ "display_name": "Elsewhere" })),
        )
        .await;
    let other = other.body["organization"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let grace = sandbox
        .call(
            Method::POST,
            &format!("/scalekit/api/v1/organizations/{other}/users?send_invitation_email=false"),
            &auth,
            Some(json!({ "email": "grace@acme.example" })),
        )
        .await;
    assert_eq!(grace.status, 201, "{}", grace.body);

    // The provider's default (no `invite_members`) is no invitation; a member may ask for one.
    scenario.manifest(
        "acme.yaml",
        "organization: acme\nname: Acme\nmembers:\n  - { email: ada@acme.example, role: admin }\n  - { email: bob@acme.example, role: member, invite: true }\n  - { email: grace@acme.example, role: member }\n",
    );
    let (plan, _) = scenario.plan(&[]).await.expect("plan");
    let invites: Vec<(String, Value)> = plan
        .actionable()
        .filter(|c| c.resource_type.as_str() == "member")
        .map(|c| (c.address.to_string(), c.after_value()["invite"].clone()))
        .collect();
    assert_eq!(
        invites,
        vec![
            ("org.acme.member[ada@acme.example]".to_owned(), json!(false)),
            ("org.acme.member[bob@acme.example]".to_owned(), json!(true)),
            (
                "org.acme.member[grace@acme.example]".to_owned(),
                json!(false)
            ),
        ]
    );
    let flags = apply_and_read_flags(&scenario).await;
    assert_eq!(
        flags,
        vec![
            ("membership".to_owned(), Some("false".to_owned())),
            ("user".to_owned(), Some("false".to_owned())),
            ("user".to_owned(), Some("false".to_owned())), // grace@: the 409
            ("user".to_owned(), Some("true".to_owned())),
        ]
    );
    assert_eq!(
        statuses(&scenario, "acme").await,
        BTreeMap::from([
            ("ada@acme.example".to_owned(), "ACTIVE".to_owned()),
            ("bob@acme.example".to_owned(), "PENDING_INVITE".to_owned()),
            ("grace@acme.example".to_owned(), "ACTIVE".to_owned()),
        ])
    );
    // A pending invitation is shown, not drift.
    let (plan, _) = scenario.plan(&[]).await.expect("plan");
    let bob = plan
        .resource_changes
        .iter()
        .find(|c| &*c.address == "org.acme.member[bob@acme.example]")
        .expect("listed as a no-op");
    assert_eq!(bob.action.as_str(), "no-op");
    assert_eq!(bob.before_value()["status"], "PENDING_INVITE");
    assert_converged(&scenario).await;

    // `invite_members: true` makes invitations the default; a member may decline one.
    let config = scenario.dir.path().join("orgform.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(
            "    kind: scalekit\n",
            "    kind: scalekit\n    invite_members: true\n",
        ),
    )
    .unwrap();
    scenario.manifest(
        "globex.yaml",
        "organization: globex\nname: Globex\nmembers:\n  - { email: dave@globex.example, role: admin }\n  - { email: erin@globex.example, role: member, invite: false }\n  - { email: grace@acme.example, role: member }\n",
    );
    let flags = apply_and_read_flags(&scenario).await;
    assert_eq!(
        flags,
        vec![
            ("membership".to_owned(), Some("true".to_owned())),
            ("user".to_owned(), Some("false".to_owned())),
            ("user".to_owned(), Some("true".to_owned())),
            ("user".to_owned(), Some("true".to_owned())), // grace@: the 409
        ]
    );
    assert_eq!(
        statuses(&scenario, "globex").await,
        BTreeMap::from([
            (
                "dave@globex.example".to_owned(),
                "PENDING_INVITE".to_owned()
            ),
            ("erin@globex.example".to_owned(), "ACTIVE".to_owned()),
            ("grace@acme.example".to_owned(), "PENDING_INVITE".to_owned()),
        ])
    );
    assert_converged(&scenario).await;
}
