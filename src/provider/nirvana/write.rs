//! Nirvana's write side: organizations (no delete: Nirvana has none) and their addresses.

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::routes;
use crate::plan::{Action, ResourceChange};
use crate::provider::route::VendorPath;
use crate::provider::write::{Done, create_idempotently, live_organization_id, missing, text};
use crate::provider::{ApiError, ApiErrorKind};

pub(crate) async fn perform(
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
                return Err(client.failure(&Method::GET, routes::ORGANIZATIONS, resource, ApiErrorKind::Inconsistent(
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
                    let path = VendorPath::fixed(routes::ORGANIZATIONS);
                    let answer = client
                        .send_once(Method::POST, &path, &[], Some(&body), resource, &[])
                        .await?;
                    let created: super::wire::Organization =
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
            let id = live_organization_id(client, change)?;
            let mut body = Map::new();
            for field in ["name", "billing_email"] {
                if change.changes(field) {
                    body.insert(field.into(), after[field].clone());
                }
            }
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
            Ok(None)
        }
        ("address", Action::Create) => {
            let org = org_id.ok_or_else(|| missing(client, change, "the organization's id"))?;
            let path = client.route(&Method::POST, routes::ADDRESS, &[org], resource)?;
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
                    let found: Option<super::wire::Address> =
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
            let path = client.route(&Method::PATCH, routes::ADDRESS, &[org], resource)?;
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
