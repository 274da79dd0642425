//! Scalekit: organizations by page token, domains by page number, users of an organization.

use reqwest::Method;
use serde_json::Value;

use super::error::ApiError;
use super::http::HttpClient;
use super::{Lookup, Needs, Provider, normalize_domain};
use crate::manifest::ProviderKind;
use crate::model::{LiveDomain, LiveMember, LiveOrganization};

/// The largest page Scalekit allows.
pub const PAGE: usize = 100;
/// The metadata key of orgform's ownership marker (DESIGN.md §2).
pub const OWNER_KEY: &str = "managed_by";
/// The marker's value on organizations orgform manages.
pub const OWNER_VALUE: &str = "orgform";
/// The marker's value when the manifest says `protect: true`: prune never deletes it.
pub const OWNER_VALUE_PROTECTED: &str = "orgform:protected";

pub struct Scalekit {
    pub client: HttpClient,
}

fn string(value: &Value) -> Option<String> {
    value.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

pub fn organization_from(value: &Value) -> LiveOrganization {
    let mut metadata: std::collections::BTreeMap<String, String> = value["metadata"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let marker = metadata.remove(OWNER_KEY);
    let features = value["settings"]["features"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|f| Some((f["name"].as_str()?.to_owned(), f["enabled"].as_bool()?)))
                .collect()
        })
        .unwrap_or_default();
    LiveOrganization {
        id: string(&value["id"]).unwrap_or_default(),
        name: string(&value["display_name"]).unwrap_or_default(),
        external_id: string(&value["external_id"]),
        owned: marker
            .as_deref()
            .is_some_and(|m| m == OWNER_VALUE || m == OWNER_VALUE_PROTECTED),
        protected: marker.as_deref() == Some(OWNER_VALUE_PROTECTED),
        metadata,
        slug: string(&value["slug"]),
        features,
        region: string(&value["region_code"]),
        ..LiveOrganization::default()
    }
}

/// Manifest spelling of a Scalekit domain type.
pub fn domain_type_from(vendor: &str) -> &'static str {
    match vendor {
        "ALLOWED_EMAIL_DOMAIN" => "allowed_email",
        _ => "organization",
    }
}

impl Scalekit {
    /// Each page of a page-token list (`page_size`, `page_token`, `next_page_token`): the items
    /// under `collection`, in order.
    async fn each_page(
        &self,
        path: &str,
        collection: &str,
        resource: &str,
        on_page: &mut dyn FnMut(&[Value]),
    ) -> Result<(), ApiError> {
        let mut token = String::new();
        loop {
            let mut query = vec![("page_size", PAGE.to_string())];
            if !token.is_empty() {
                query.push(("page_token", token.clone()));
            }
            let answer = self
                .client
                .send(Method::GET, path, &query, None, resource, &[])
                .await?;
            let page = answer.body[collection]
                .as_array()
                .cloned()
                .unwrap_or_default();
            on_page(&page);
            match answer.body["next_page_token"].as_str() {
                Some(next) if !next.is_empty() && !page.is_empty() => token = next.to_owned(),
                _ => return Ok(()),
            }
        }
    }
}

impl Provider for Scalekit {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Scalekit
    }

    fn client(&self) -> &HttpClient {
        &self.client
    }

    async fn list_organizations(
        &self,
        on_page: &mut dyn FnMut(&[LiveOrganization]),
    ) -> Result<Vec<LiveOrganization>, ApiError> {
        let mut organizations = Vec::new();
        self.each_page(
            "/api/v1/organizations",
            "organizations",
            "organizations (list)",
            &mut |page| {
                let live: Vec<LiveOrganization> = page.iter().map(organization_from).collect();
                on_page(&live);
                organizations.extend(live);
            },
        )
        .await?;
        Ok(organizations)
    }

    async fn get_organization(
        &self,
        lookup: &Lookup,
    ) -> Result<Option<LiveOrganization>, ApiError> {
        let path = match lookup {
            Lookup::Id(id) => format!("/api/v1/organizations/{id}"),
            Lookup::ExternalId(key) => format!("/api/v1/organizations:external/{key}"),
        };
        let answer = self
            .client
            .send(
                Method::GET,
                &path,
                &[],
                None,
                "organization (lookup)",
                &[404],
            )
            .await?;
        Ok((answer.status != 404).then(|| organization_from(&answer.body["organization"])))
    }

    async fn read_children(
        &self,
        org: &mut LiveOrganization,
        needs: Needs,
        resource: &str,
    ) -> Result<(), ApiError> {
        if needs.domains {
            let path = format!("/api/v1/organizations/{}/domains", org.id);
            let mut domains = Vec::new();
            for page_number in 0.. {
                let query = [
                    ("page_size", PAGE.to_string()),
                    ("page_number", page_number.to_string()),
                ];
                let answer = self
                    .client
                    .send(
                        Method::GET,
                        &path,
                        &query,
                        None,
                        &format!("{resource} domains"),
                        &[],
                    )
                    .await?;
                let page = answer.body["domains"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                domains.extend(page.iter().map(|d| LiveDomain {
                    id: string(&d["id"]).unwrap_or_default(),
                    name: normalize_domain(d["domain"].as_str().unwrap_or_default()),
                    domain_type: Some(
                        domain_type_from(d["domain_type"].as_str().unwrap_or_default()).to_owned(),
                    ),
                    verification:
                        string(&d["verification_status"]).unwrap_or_else(|| "PENDING".into()),
                }));
                if page.len() < PAGE {
                    break;
                }
            }
            domains.sort_by(|a, b| a.name.cmp(&b.name));
            org.domains = Some(domains);
        }
        if needs.members {
            let path = format!("/api/v1/organizations/{}/users", org.id);
            let mut members = Vec::new();
            let org_id = org.id.clone();
            self.each_page(
                &path,
                "users",
                &format!("{resource} members"),
                &mut |users| {
                    for user in users {
                        let membership = user["memberships"].as_array().and_then(|ms| {
                            ms.iter()
                                .find(|m| m["organization_id"].as_str() == Some(org_id.as_str()))
                        });
                        let mut roles: Vec<String> = membership
                            .and_then(|m| m["roles"].as_array())
                            .map(|roles| roles.iter().filter_map(|r| string(&r["name"])).collect())
                            .unwrap_or_default();
                        roles.sort();
                        members.push(LiveMember {
                            user_id: string(&user["id"]).unwrap_or_default(),
                            email: string(&user["email"]).map(|e| e.to_lowercase()),
                            roles,
                        });
                    }
                },
            )
            .await?;
            members.sort_by(|a, b| a.user_id.cmp(&b.user_id));
            org.members = Some(members);
        }
        Ok(())
    }
}
