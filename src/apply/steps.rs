//! One planned change as the vendor requests that make it so. Every body comes from the plan.
//!
//! Creates are idempotent: after a failure that may have happened server-side (timeout, dropped
//! connection, 5xx), they look the object up by its identity before trying again.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::retry::{Retry, decide};
use crate::model::LiveOrganization;
use crate::plan::{Action, ResourceChange};
use crate::provider::nirvana::routes as nirvana_routes;
use crate::provider::route::VendorPath;
use crate::provider::scalekit::routes as scalekit_routes;
use crate::provider::scalekit::wire as scalekit_wire;
use crate::provider::scalekit::{OWNER_KEY, OWNER_VALUE, OWNER_VALUE_PROTECTED};
use crate::provider::{
    AnyProvider, ApiError, ApiErrorKind, HttpClient, Lookup, Needs, Provider, Scalekit,
};

/// What a finished step reports: the vendor id of what it created, if anything.
pub type Done = Option<String>;

fn text(value: &Value) -> Option<&str> {
    value.as_str()
}

/// Runs `create` until it succeeds, giving up on errors that are not retryable; before each
/// retry, `find` checks whether the failed attempt did create the object after all.
async fn create_idempotently<C, F, CF, FF>(
    client: &HttpClient,
    create: C,
    find: F,
) -> Result<Done, ApiError>
where
    C: Fn() -> CF,
    F: Fn() -> FF,
    CF: Future<Output = Result<Done, ApiError>>,
    FF: Future<Output = Result<Option<String>, ApiError>>,
{
    let policy = client.retry_policy();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let error = match create().await {
            Ok(done) => return Ok(done),
            Err(error) => error,
        };
        // A 429 means the vendor did not take the create: try again, paced by the provider's
        // gate, for as long as the provider makes progress (no look-up needed, no attempt lost).
        if error.status() == Some(429) && policy.adaptive && client.progressing() {
            attempt -= 1;
            tokio::time::sleep(policy.min_delay).await;
            continue;
        }
        let wait = match decide(&error, attempt, &policy, fastrand::f64()) {
            Retry::GiveUp => return Err(error),
            Retry::After(wait) => wait,
        };
        if let Ok(Some(id)) = find().await {
            return Ok(Some(id));
        }
        tokio::time::sleep(wait.min(Duration::from_secs(30))).await;
    }
}

/// Performs `change`. `org_id` is the vendor id of its organization (for children), known from
/// the plan or from the create that ran before.
pub async fn perform(
    provider: &AnyProvider,
    change: &ResourceChange,
    org_id: Option<&str>,
) -> Result<Done, ApiError> {
    match provider {
        AnyProvider::Scalekit(p) => scalekit(p, change, org_id).await,
        AnyProvider::Nirvana(p) => nirvana(p, change, org_id).await,
        AnyProvider::PingOne(_) => Ok(None), // nothing of PingOne is writable: the plan holds none
    }
}

/// Scalekit's metadata as it must be: the planned map plus the ownership marker.
fn scalekit_metadata(after: &Value) -> Map<String, Value> {
    let mut metadata: Map<String, Value> = after["metadata"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    match after["protect"].as_bool() {
        Some(true) => {
            metadata.insert(OWNER_KEY.into(), json!(OWNER_VALUE_PROTECTED));
        }
        Some(false) => {
            metadata.insert(OWNER_KEY.into(), json!(OWNER_VALUE));
        }
        None => {}
    }
    metadata
}

fn scalekit_features(after: &Value) -> Option<Value> {
    let features = after["features"].as_object()?;
    let list: Vec<Value> = features
        .iter()
        .map(|(name, enabled)| json!({ "name": name, "enabled": enabled }))
        .collect();
    (!list.is_empty()).then(|| json!({ "features": list }))
}

fn missing(client: &HttpClient, change: &ResourceChange, what: &str) -> ApiError {
    ApiError {
        provider: client.provider.clone(),
        vendor: client.vendor,
        resource: change.address.to_string(),
        method: "-".into(),
        path: "-".into(),
        kind: ApiErrorKind::Decode(format!("the plan lacks {what}")),
        attempts: 0,
    }
}

// ApiError is large because it carries what the user needs to know; errors are rare.
#[allow(clippy::result_large_err)]
async fn scalekit(
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
            let mut body = json!({ "display_name": after["name"], "external_id": key, "metadata": scalekit_metadata(after) });
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
                return Err(client.failure(&Method::GET, scalekit_routes::ORGANIZATION_BY_EXTERNAL_ID, resource, ApiErrorKind::Inconsistent(format!(
                        "organization {} with external id `{key}` exists though the listing did not show it; not creating a second one (run plan again)",
                        found.id
                    ))));
            }
            let id = create_idempotently(
                client,
                || async {
                    let path = VendorPath::fixed(scalekit_routes::ORGANIZATIONS);
                    let answer = client
                        .send_once(Method::POST, &path, &[], Some(&body), resource, &[])
                        .await?;
                    let created: scalekit_wire::OrganizationAnswer =
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
            if let (Some(id), Some(features)) = (&id, scalekit_features(after)) {
                let path =
                    client.route(&Method::PATCH, scalekit_routes::SETTINGS, &[id], resource)?;
                client
                    .send(Method::PATCH, &path, &[], Some(&features), resource, &[])
                    .await?;
            }
            Ok(id)
        }
        ("organization", Action::Update) => {
            let id = change
                .live_id
                .as_deref()
                .ok_or_else(|| missing(client, change, "the organization's id"))?;
            let changed = |prefix: &str| {
                change
                    .changed_paths
                    .iter()
                    .any(|p| p == prefix || p.starts_with(&format!("{prefix}.")))
            };
            let mut body = Map::new();
            if changed("name") {
                body.insert("display_name".into(), after["name"].clone());
            }
            if changed("external_id") {
                body.insert("external_id".into(), after["external_id"].clone());
            }
            if changed("slug") {
                body.insert("slug".into(), after["slug"].clone());
            }
            if changed("metadata") || changed("protect") {
                body.insert("metadata".into(), Value::Object(scalekit_metadata(after)));
            }
            if !body.is_empty() {
                let path = client.route(
                    &Method::PATCH,
                    scalekit_routes::ORGANIZATION,
                    &[id],
                    resource,
                )?;
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
            if changed("features")
                && let Some(features) = scalekit_features(after)
            {
                let path =
                    client.route(&Method::PATCH, scalekit_routes::SETTINGS, &[id], resource)?;
                client
                    .send(Method::PATCH, &path, &[], Some(&features), resource, &[])
                    .await?;
            }
            Ok(None)
        }
        ("organization", Action::Delete) => {
            let id = change
                .live_id
                .as_deref()
                .ok_or_else(|| missing(client, change, "the organization's id"))?;
            // Look before deleting: the organization must still be there, still orgform's,
            // unprotected, and still what the plan saw (not claimed by a manifest since).
            let Some(fresh) = provider
                .get_organization(&Lookup::Id(id.to_owned()))
                .await?
            else {
                return Ok(None);
            };
            let path = client.route(
                &Method::DELETE,
                scalekit_routes::ORGANIZATION,
                &[id],
                resource,
            )?;
            if let Some(why) = delete_refusal(change, &fresh) {
                return Err(client.failure(
                    &Method::GET,
                    path.as_str(),
                    resource,
                    ApiErrorKind::Inconsistent(format!("{why}; refusing to delete it")),
                ));
            }
            client
                .send(Method::DELETE, &path, &[], None, resource, &[404])
                .await?;
            Ok(None)
        }
        ("domain", Action::Create) => {
            let org = org()?;
            let name = text(&after["name"]).unwrap_or_default().to_owned();
            let domain_type = if after["type"] == "allowed_email" {
                "ALLOWED_EMAIL_DOMAIN"
            } else {
                "ORGANIZATION_DOMAIN"
            };
            let path = client.route(&Method::POST, scalekit_routes::DOMAINS, &[org], resource)?;
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
                    let created: scalekit_wire::DomainAnswer =
                        client.decode(&answer, &Method::POST, path.as_str(), resource)?;
                    Ok(Some(created.domain.id.0))
                },
                find,
            )
            .await
        }
        ("domain", Action::Delete) => {
            let (org, id) = (org()?, change.live_id.as_deref().unwrap_or_default());
            let path = client.route(
                &Method::DELETE,
                scalekit_routes::DOMAIN,
                &[org, id],
                resource,
            )?;
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
                Some(email) => {
                    scalekit_add_by_email(provider, resource, &org, email, &roles, invite).await
                }
                None => {
                    let user = text(&after["user"]).unwrap_or_default();
                    scalekit_add_membership(client, resource, &org, user, &roles, invite).await
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
            let path = client.route(
                &Method::PATCH,
                scalekit_routes::MEMBERSHIP,
                &[org, user],
                resource,
            )?;
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
            let path = client.route(
                &Method::DELETE,
                scalekit_routes::MEMBERSHIP,
                &[org, user],
                resource,
            )?;
            client
                .send(Method::DELETE, &path, &[], None, resource, &[404])
                .await?;
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// Why a fresh read of an organization about to be pruned forbids the delete, if it does.
fn delete_refusal(change: &ResourceChange, fresh: &LiveOrganization) -> Option<String> {
    let before = &change.before_value();
    if !fresh.owned {
        return Some(format!(
            "organization {} no longer carries orgform's ownership marker",
            fresh.id
        ));
    }
    if fresh.protected {
        return Some(format!("organization {} is now marked protected", fresh.id));
    }
    if text(&before["external_id"]) != fresh.external_id.as_deref() {
        return Some(format!(
            "organization {} now has external id {:?} (the plan saw {:?})",
            fresh.id,
            fresh.external_id,
            text(&before["external_id"])
        ));
    }
    if text(&before["name"]) != Some(fresh.name.as_str()) {
        return Some(format!(
            "organization {} is now named {:?} (the plan saw {:?})",
            fresh.id,
            fresh.name,
            text(&before["name"])
        ));
    }
    None
}

/// An organization's children as refresh reads them: apply's look-ups reuse the provider.
async fn read(
    provider: &Scalekit,
    org: &str,
    needs: Needs,
    resource: &str,
) -> Result<LiveOrganization, ApiError> {
    let mut live = LiveOrganization {
        id: org.to_owned(),
        ..LiveOrganization::default()
    };
    provider.read_children(&mut live, needs, resource).await?;
    Ok(live)
}

/// The id of the user with `email` in the organization, if it is a member.
async fn scalekit_member_id(
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
async fn scalekit_add_by_email(
    provider: &Scalekit,
    resource: &str,
    org: &str,
    email: &str,
    roles: &[Value],
    invite: Invitation,
) -> Result<Done, ApiError> {
    let client = &provider.client;
    let path = client.route(&Method::POST, scalekit_routes::USERS, &[org], resource)?;
    let body = json!({ "email": email, "membership": { "roles": roles } });
    create_idempotently(
        client,
        || async {
            let answer = client
                .send_once(Method::POST, &path, &invite.query(), Some(&body), resource, &[409])
                .await?;
            if answer.status != 409 {
                let created: scalekit_wire::UserAnswer =
                    client.decode(&answer, &Method::POST, path.as_str(), resource)?;
                return Ok(Some(created.user.id.0));
            }
            // The environment has this user already: add a membership for it. The step is done
            // only once the vendor confirmed a write, so a user the search cannot find is an error.
            match provider.find_user_by_email(email, resource).await? {
                Some(user) => {
                    scalekit_add_membership(client, resource, org, &user, roles, invite).await
                }
                None => Err(client.failure(&Method::POST, path.as_str(), resource, ApiErrorKind::Inconsistent(format!(
                        "the vendor answered 409 (user exists) but no user with e-mail {email} is found by users:search"
                    )))),
            }
        },
        || scalekit_member_id(provider, resource, org, email),
    )
    .await
}

async fn scalekit_add_membership(
    client: &HttpClient,
    resource: &str,
    org: &str,
    user: &str,
    roles: &[Value],
    invite: Invitation,
) -> Result<Done, ApiError> {
    let path = client.route(
        &Method::POST,
        scalekit_routes::MEMBERSHIP,
        &[org, user],
        resource,
    )?;
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

async fn nirvana(
    provider: &crate::provider::Nirvana,
    change: &ResourceChange,
    org_id: Option<&str>,
) -> Result<Done, ApiError> {
    let client = &provider.client;
    let after = &change.after_value();
    let resource = &*change.address;
    match (change.resource_type.as_str(), change.action) {
        ("organization", Action::Create) => {
            // Nirvana has no look-up by name and no delete: a create on an unproven listing
            // could make a duplicate that can never be removed.
            if !client.listings_proven() {
                return Err(client.failure(&Method::GET, nirvana_routes::ORGANIZATIONS, resource, ApiErrorKind::Inconsistent(
                        "the organization listing reported no total_count, so it cannot prove the organization is absent; not creating it (Nirvana organizations cannot be deleted)".into(),
                    )));
            }
            let name = text(&after["name"]).unwrap_or_default().to_owned();
            let mut body = json!({ "name": name });
            if let Some(email) = text(&after["billing_email"]) {
                body["billing_email"] = json!(email);
            }
            create_idempotently(
                client,
                || async {
                    let path = VendorPath::fixed(nirvana_routes::ORGANIZATIONS);
                    let answer = client
                        .send_once(Method::POST, &path, &[], Some(&body), resource, &[])
                        .await?;
                    let created: crate::provider::nirvana::wire::Organization =
                        client.decode(&answer, &Method::POST, path.as_str(), resource)?;
                    Ok(Some(created.id.0))
                },
                // Nirvana has no search: list, and accept only a single organization of that name.
                || async {
                    let all =
                        crate::provider::Provider::list_organizations(provider, &mut |_, _| {})
                            .await?;
                    let named: Vec<_> = all
                        .iter()
                        .filter(|o| crate::model::name::same_name(&o.name, &name))
                        .collect();
                    Ok((named.len() == 1).then(|| named[0].id.clone()))
                },
            )
            .await
        }
        ("organization", Action::Update) => {
            let id = change
                .live_id
                .as_deref()
                .ok_or_else(|| missing(client, change, "the organization's id"))?;
            let mut body = Map::new();
            for field in ["name", "billing_email"] {
                if change.changed_paths.iter().any(|p| p == field) {
                    body.insert(field.into(), after[field].clone());
                }
            }
            let path = client.route(
                &Method::PATCH,
                nirvana_routes::ORGANIZATION,
                &[id],
                resource,
            )?;
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
            Ok(None)
        }
        ("address", Action::Create) => {
            let org = org_id.ok_or_else(|| missing(client, change, "the organization's id"))?;
            let path = client.route(&Method::POST, nirvana_routes::ADDRESS, &[org], resource)?;
            create_idempotently(
                client,
                // 409: an address exists already (an earlier attempt went through).
                || async {
                    client
                        .send_once(Method::POST, &path, &[], Some(after), resource, &[409])
                        .await
                        .map(|_| None)
                },
                || async {
                    let found: Option<crate::provider::nirvana::wire::Address> =
                        client.get_optional(&path, resource).await?;
                    Ok(found.map(|_| String::new()))
                },
            )
            .await
        }
        ("address", Action::Update) => {
            let org = org_id.ok_or_else(|| missing(client, change, "the organization's id"))?;
            let body: Map<String, Value> = change
                .changed_paths
                .iter()
                .map(|p| (p.clone(), after[p].clone()))
                .collect();
            let path = client.route(&Method::PATCH, nirvana_routes::ADDRESS, &[org], resource)?;
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
            Ok(None)
        }
        _ => Ok(None),
    }
}
