//! WorkOS's write side: the requests that make each planned change, every body from the plan.
//!
//! Members are added by e-mail: the user is found (`GET /user_management/users?email=`) or
//! created, then given a membership. WorkOS sends no e-mail for either (invitations are a
//! separate API orgform does not use). Memberships are changed and removed by their own id,
//! looked up fresh for the user and organization the plan names.

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::Workos;
use super::routes;
use super::wire;
use crate::plan::{Action, ResourceChange};
use crate::provider::ownership::metadata_with_marker;
use crate::provider::route::VendorPath;
use crate::provider::write::{
    Done, create_idempotently, delete_organization, live_organization_id, missing, text,
};
use crate::provider::{ApiError, ApiErrorKind, Lookup, Provider};

/// The role slugs of a planned member.
fn role_slugs(after: &Value) -> Vec<Value> {
    after["roles"].as_array().cloned().unwrap_or_default()
}

// ApiError is large because it carries what the user needs to know; errors are rare.
#[allow(clippy::result_large_err)]
pub(crate) async fn perform(
    provider: &Workos,
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
            let mut body = json!({
                "name": after["name"],
                "external_id": key,
                "metadata": metadata_with_marker(after),
            });
            if let Some(allow) = after["allow_profiles_outside_organization"].as_bool() {
                body["allow_profiles_outside_organization"] = json!(allow);
            }
            // WorkOS reports no total, so the listing that said "absent" is unproven: ask
            // directly by the external id before creating.
            if let Some(found) = provider
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
                    let created: wire::Organization =
                        client.decode(&answer, &Method::POST, path.as_str(), resource)?;
                    Ok(Some(created.id.0))
                },
                || async {
                    let found = provider
                        .get_organization(&Lookup::ExternalId(key.clone()))
                        .await?;
                    Ok(found.map(|o| o.id))
                },
            )
            .await?;
            // The Stripe customer can only be set on an existing organization (the create
            // body has no such field).
            if let (Some(id), Some(customer)) = (&id, text(&after["stripe_customer_id"])) {
                let path = client.route(&Method::PUT, routes::ORGANIZATION, &[id], resource)?;
                let body = json!({ "stripe_customer_id": customer });
                client
                    .send(Method::PUT, &path, &[], Some(&body), resource, &[])
                    .await?;
            }
            Ok(id)
        }
        ("organization", Action::Update) => {
            let id = live_organization_id(client, change)?;
            let mut body = Map::new();
            if change.changes("name") {
                body.insert("name".into(), after["name"].clone());
            }
            if change.changes("external_id") {
                body.insert("external_id".into(), after["external_id"].clone());
            }
            if change.changes("metadata") || change.changes("protect") {
                body.insert(
                    "metadata".into(),
                    Value::Object(metadata_with_marker(after)),
                );
            }
            for field in ["allow_profiles_outside_organization", "stripe_customer_id"] {
                if change.changes(field) {
                    body.insert(field.into(), after[field].clone());
                }
            }
            if !body.is_empty() {
                let path = client.route(&Method::PUT, routes::ORGANIZATION, &[id], resource)?;
                client
                    .send(
                        Method::PUT,
                        &path,
                        &[],
                        Some(&Value::Object(body)),
                        resource,
                        &[],
                    )
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
            let path = VendorPath::fixed(routes::DOMAINS);
            let body = json!({ "domain": name, "organization_id": org });
            // The organization's own domains: where an earlier attempt's domain would be.
            let find = || async {
                let fresh = provider
                    .get_organization(&Lookup::Id(org.to_owned()))
                    .await?;
                Ok(fresh
                    .and_then(|o| o.domains)
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
                        // Already there: fine if it is this organization's (an earlier attempt),
                        // otherwise another organization holds it.
                        return match find().await? {
                            Some(id) => Ok(Some(id)),
                            None => Err(client.failure(
                                &Method::POST,
                                path.as_str(),
                                resource,
                                ApiErrorKind::Status {
                                    status: 409,
                                    message: format!(
                                        "the domain {name} belongs to another organization ({})",
                                        crate::provider::error::vendor_message(&answer.body())
                                            .unwrap_or_default()
                                    ),
                                },
                            )),
                        };
                    }
                    let created: wire::Domain =
                        client.decode(&answer, &Method::POST, path.as_str(), resource)?;
                    Ok(Some(created.id.0))
                },
                find,
            )
            .await
        }
        ("domain", Action::Delete) => {
            let id = change.live_id.as_deref().unwrap_or_default();
            let path = client.route(&Method::DELETE, routes::DOMAIN, &[id], resource)?;
            client
                .send(Method::DELETE, &path, &[], None, resource, &[404])
                .await?;
            Ok(None)
        }
        ("member", Action::Create) => {
            let org = org()?;
            let roles = role_slugs(after);
            let user = match (text(&after["email"]), text(&after["user"])) {
                (Some(email), _) => user_by_email(provider, resource, email).await?,
                (None, Some(user)) => user.to_owned(),
                (None, None) => return Err(missing(client, change, "the member's e-mail or user")),
            };
            let path = VendorPath::fixed(routes::MEMBERSHIPS);
            let body = json!({ "user_id": user, "organization_id": org, "role_slugs": roles });
            create_idempotently(
                client,
                || async {
                    let answer = client
                        .send_once(Method::POST, &path, &[], Some(&body), resource, &[])
                        .await?;
                    let created: wire::Membership =
                        client.decode(&answer, &Method::POST, path.as_str(), resource)?;
                    Ok(Some(created.user_id.0))
                },
                || async {
                    let found = provider.memberships(org, Some(&user), resource).await?;
                    Ok(found.into_iter().next().map(|m| m.user_id.0))
                },
            )
            .await
        }
        ("member", Action::Update | Action::Delete) => {
            let (org, user) = (org()?, change.live_id.as_deref().unwrap_or_default());
            let found = provider.memberships(org, Some(user), resource).await?;
            let Some(membership) = found.into_iter().find(|m| m.user_id.0 == user) else {
                // Gone already: a delete is done; an update has nothing to change.
                return match change.action {
                    Action::Delete => Ok(None),
                    _ => Err(client.failure(
                        &Method::GET,
                        routes::MEMBERSHIPS,
                        resource,
                        ApiErrorKind::Inconsistent(format!(
                            "user {user} is no longer a member of organization {org}; run plan again"
                        )),
                    )),
                };
            };
            let path = client.route(
                &Method::PUT,
                routes::MEMBERSHIP,
                &[&membership.id.0],
                resource,
            )?;
            if change.action == Action::Delete {
                client
                    .send(Method::DELETE, &path, &[], None, resource, &[404])
                    .await?;
            } else {
                let body = json!({ "role_slugs": role_slugs(after) });
                client
                    .send(Method::PUT, &path, &[], Some(&body), resource, &[])
                    .await?;
            }
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// The id of the environment's user with `email`, created when there is none.
async fn user_by_email(provider: &Workos, resource: &str, email: &str) -> Result<String, ApiError> {
    let client = &provider.client;
    let path = VendorPath::fixed(routes::USERS);
    let find = || async {
        let page: wire::List<wire::User> = client
            .get(&path, &[("email", email.to_owned())], resource)
            .await?;
        Ok(page
            .data
            .into_iter()
            .find(|u| {
                u.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .map(|u| u.id.0))
    };
    if let Some(id) = find().await? {
        return Ok(id);
    }
    let body = json!({ "email": email });
    let created = create_idempotently(
        client,
        || async {
            let answer = client
                .send_once(Method::POST, &path, &[], Some(&body), resource, &[])
                .await?;
            let created: wire::User =
                client.decode(&answer, &Method::POST, path.as_str(), resource)?;
            Ok(Some(created.id.0))
        },
        find,
    )
    .await?;
    created.ok_or_else(|| {
        client.failure(
            &Method::POST,
            path.as_str(),
            resource,
            ApiErrorKind::Inconsistent(format!("no user with e-mail {email} after creating one")),
        )
    })
}
