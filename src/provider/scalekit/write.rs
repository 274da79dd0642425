//! Scalekit's write side: the requests that make each planned change, every body from the plan.

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::Scalekit;
use super::routes;
use super::wire;
use crate::plan::{Action, ResourceChange};
use crate::provider::ownership::metadata_with_marker;
use crate::provider::route::VendorPath;
use crate::provider::write::{
    Done, create_idempotently, delete_organization, live_organization_id, missing, read, text,
};
use crate::provider::{ApiError, ApiErrorKind, HttpClient, Lookup, Needs, Provider};

fn features_body(after: &Value) -> Option<Value> {
    let features = after["features"].as_object()?;
    let list: Vec<Value> = features
        .iter()
        .map(|(name, enabled)| json!({ "name": name, "enabled": enabled }))
        .collect();
    (!list.is_empty()).then(|| json!({ "features": list }))
}

// ApiError is large because it carries what the user needs to know; errors are rare.
#[allow(clippy::result_large_err)]
pub(crate) async fn perform(
    provider: &Scalekit,
    change: &ResourceChange,
    org_id: Option<&str>,
) -> Result<Done, ApiError> {
    let client = &provider.client;
    let after = &change.after_value();
    let resource = &*change.address;
    let org = || org_id.ok_or_else(|| missing(client, change, "the organization's id"));
    match (change.resource_type.as_str(), change.action) {
        ("organization", Action::Create) => {
            let key = text(&after["external_id"]).unwrap_or_default().to_owned();
            let mut body = json!({ "display_name": after["name"], "external_id": key, "metadata": metadata_with_marker(after) });
            if let Some(slug) = text(&after["slug"]) {
                body["slug"] = json!(slug);
            }
            // The data region can only be chosen now: Scalekit never moves an organization.
            if let Some(region) = text(&after["region"]) {
                body["region_code"] = json!(region);
            }
            // The listing that said "absent" could not be checked against a total: ask directly.
            if !client.listings_proven()
                && let Some(found) = provider
                    .get_organization(&Lookup::ExternalId(key.clone()))
                    .await?
            {
                return Err(client.failure(&Method::GET, routes::ORGANIZATION_BY_EXTERNAL_ID, resource, ApiErrorKind::Inconsistent(format!(
                        "organization {} with external id `{key}` exists though the listing did not show it; not creating a second one (run plan again)",
                        found.id
                    ))));
            }
            let id = create_idempotently(
                client,
                || async {
                    let path = VendorPath::fixed(routes::ORGANIZATIONS);
                    let answer = client
                        .send_once(Method::POST, &path, &[], Some(&body), resource, &[])
                        .await?;
                    let created: wire::OrganizationAnswer =
                        client.decode(&answer, &Method::POST, path.as_str(), resource)?;
                    Ok(Some(created.organization.id.0))
                },
                || async {
                    let found = provider
                        .get_organization(&Lookup::ExternalId(key.clone()))
                        .await?;
                    Ok(found.map(|o| o.id))
                },
            )
            .await?;
            if let (Some(id), Some(features)) = (&id, features_body(after)) {
                let path = client.route(&Method::PATCH, routes::SETTINGS, &[id], resource)?;
                client
                    .send(Method::PATCH, &path, &[], Some(&features), resource, &[])
                    .await?;
            }
            Ok(id)
        }
        ("organization", Action::Update) => {
            let id = live_organization_id(client, change)?;
            let mut body = Map::new();
            if change.changes("name") {
                body.insert("display_name".into(), after["name"].clone());
            }
            if change.changes("external_id") {
                body.insert("external_id".into(), after["external_id"].clone());
            }
            if change.changes("slug") {
                body.insert("slug".into(), after["slug"].clone());
            }
            if change.changes("metadata") || change.changes("protect") {
                body.insert(
                    "metadata".into(),
                    Value::Object(metadata_with_marker(after)),
                );
            }
            if !body.is_empty() {
                let path = client.route(&Method::PATCH, routes::ORGANIZATION, &[id], resource)?;
                client
                    .send(
                        Method::PATCH,
                        &path,
                        &[],
                        Some(&Value::Object(body)),
                        resource,
                        &[],
                    )
                    .await?;
            }
            if change.changes("features")
                && let Some(features) = features_body(after)
            {
                let path = client.route(&Method::PATCH, routes::SETTINGS, &[id], resource)?;
                client
                    .send(Method::PATCH, &path, &[], Some(&features), resource, &[])
                    .await?;
            }
            Ok(None)
        }
        ("organization", Action::Delete) => {
            delete_organization(provider, change, routes::ORGANIZATION).await
        }
        ("domain", Action::Create) => {
            let org = org()?;
            let name = text(&after["name"]).unwrap_or_default().to_owned();
            let domain_type = if after["type"] == "allowed_email" {
                "ALLOWED_EMAIL_DOMAIN"
            } else {
                "ORGANIZATION_DOMAIN"
            };
            let path = client.route(&Method::POST, routes::DOMAINS, &[org], resource)?;
            let body = json!({ "domain": name, "domain_type": domain_type });
            let find = || async {
                let live = read(
                    provider,
                    org,
                    Needs {
                        domains: true,
                        ..Needs::default()
                    },
                    resource,
                )
                .await?;
                Ok(live
                    .domains
                    .into_iter()
                    .flatten()
                    .find(|d| d.name == name)
                    .map(|d| d.id))
            };
            create_idempotently(
                client,
                || async {
                    let answer = client
                        .send_once(Method::POST, &path, &[], Some(&body), resource, &[409])
                        .await?;
                    if answer.status == 409 {
                        // Already there: fine if it is ours (an earlier attempt), an error otherwise.
                        return match find().await? {
                            Some(id) => Ok(Some(id)),
                            None => Err(client.failure(
                                &Method::POST,
                                path.as_str(),
                                resource,
                                ApiErrorKind::Status {
                                    status: 409,
                                    message: crate::provider::error::vendor_message(&answer.body())
                                        .unwrap_or_default(),
                                },
                            )),
                        };
                    }
                    let created: wire::DomainAnswer =
                        client.decode(&answer, &Method::POST, path.as_str(), resource)?;
                    Ok(Some(created.domain.id.0))
                },
                find,
            )
            .await
        }
        ("domain", Action::Delete) => {
            let (org, id) = (org()?, change.live_id.as_deref().unwrap_or_default());
            let path = client.route(&Method::DELETE, routes::DOMAIN, &[org, id], resource)?;
            client
                .send(Method::DELETE, &path, &[], None, resource, &[404])
                .await?;
            Ok(None)
        }
        ("member", Action::Create) => {
            let org = org()?.to_owned();
            let roles: Vec<Value> = after["roles"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| json!({ "name": r }))
                .collect();
            // Always explicit: Scalekit's own default is to e-mail an invitation. A plan
            // without the field (saved by an older orgform) sends none.
            let invite = Invitation(after["invite"].as_bool().unwrap_or(false));
            match text(&after["email"]) {
                Some(email) => add_by_email(provider, resource, &org, email, &roles, invite).await,
                None => {
                    let user = text(&after["user"]).unwrap_or_default();
                    add_membership(client, resource, &org, user, &roles, invite).await
                }
            }
        }
        ("member", Action::Update) => {
            let (org, user) = (org()?, change.live_id.as_deref().unwrap_or_default());
            let roles: Vec<Value> = after["roles"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| json!({ "name": r }))
                .collect();
            let path = client.route(&Method::PATCH, routes::MEMBERSHIP, &[org, user], resource)?;
            client
                .send(
                    Method::PATCH,
                    &path,
                    &[],
                    Some(&json!({ "roles": roles })),
                    resource,
                    &[],
                )
                .await?;
            Ok(None)
        }
        ("member", Action::Delete) => {
            let (org, user) = (org()?, change.live_id.as_deref().unwrap_or_default());
            let path = client.route(&Method::DELETE, routes::MEMBERSHIP, &[org, user], resource)?;
            client
                .send(Method::DELETE, &path, &[], None, resource, &[404])
                .await?;
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// The id of the user with `email` in the organization, if it is a member.
async fn member_id(
    provider: &Scalekit,
    resource: &str,
    org: &str,
    email: &str,
) -> Result<Option<String>, ApiError> {
    let live = read(
        provider,
        org,
        Needs {
            members: true,
            ..Needs::default()
        },
        resource,
    )
    .await?;
    Ok(live
        .members
        .into_iter()
        .flatten()
        .find(|m| {
            m.email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
        })
        .map(|m| m.user_id))
}

/// Whether Scalekit e-mails an invitation to a member orgform adds (`send_invitation_email`).
#[derive(Debug, Clone, Copy)]
struct Invitation(bool);

impl Invitation {
    fn query(self) -> [(&'static str, String); 1] {
        [("send_invitation_email", self.0.to_string())]
    }
}

/// Adds a member by e-mail: creates the user in the organization, or, when the environment
/// already has that user, adds a membership for it.
async fn add_by_email(
    provider: &Scalekit,
    resource: &str,
    org: &str,
    email: &str,
    roles: &[Value],
    invite: Invitation,
) -> Result<Done, ApiError> {
    let client = &provider.client;
    let path = client.route(&Method::POST, routes::USERS, &[org], resource)?;
    let body = json!({ "email": email, "membership": { "roles": roles } });
    create_idempotently(
        client,
        || async {
            let answer = client
                .send_once(Method::POST, &path, &invite.query(), Some(&body), resource, &[409])
                .await?;
            if answer.status != 409 {
                let created: wire::UserAnswer =
                    client.decode(&answer, &Method::POST, path.as_str(), resource)?;
                return Ok(Some(created.user.id.0));
            }
            // The environment has this user already: add a membership for it. The step is done
            // only once the vendor confirmed a write, so a user the search cannot find is an error.
            match provider.find_user_by_email(email, resource).await? {
                Some(user) => {
                    add_membership(client, resource, org, &user, roles, invite).await
                }
                None => Err(client.failure(&Method::POST, path.as_str(), resource, ApiErrorKind::Inconsistent(format!(
                        "the vendor answered 409 (user exists) but no user with e-mail {email} is found by users:search"
                    )))),
            }
        },
        || member_id(provider, resource, org, email),
    )
    .await
}

async fn add_membership(
    client: &HttpClient,
    resource: &str,
    org: &str,
    user: &str,
    roles: &[Value],
    invite: Invitation,
) -> Result<Done, ApiError> {
    let path = client.route(&Method::POST, routes::MEMBERSHIP, &[org, user], resource)?;
    let body = json!({ "roles": roles });
    create_idempotently(
        client,
        // 409: the user is a member already (an earlier attempt went through).
        || async {
            client
                .send_once(
                    Method::POST,
                    &path,
                    &invite.query(),
                    Some(&body),
                    resource,
                    &[409],
                )
                .await
                .map(|_| Some(user.to_owned()))
        },
        || async { Ok(None) },
    )
    .await
}
