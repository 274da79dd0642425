//! Nirvana Labs: organizations with their domains inline; address and memberships on request.

use reqwest::Method;
use serde_json::Value;

use super::error::ApiError;
use super::http::HttpClient;
use super::{Lookup, Needs, Provider, normalize_domain};
use crate::manifest::ProviderKind;
use crate::model::{LiveAddress, LiveDomain, LiveMember, LiveOrganization};

/// The largest page Nirvana allows.
pub const PAGE: usize = 100;

pub struct Nirvana {
    pub client: HttpClient,
}

fn string(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

pub fn organization_from(value: &Value) -> LiveOrganization {
    let services = value["services"]
        .as_object()
        .map(|s| {
            s.iter()
                .filter_map(|(k, v)| v.as_bool().map(|b| (k.clone(), b)))
                .collect()
        })
        .unwrap_or_default();
    let domains = value["domains"]
        .as_array()
        .map(|domains| {
            domains
                .iter()
                .map(|d| LiveDomain {
                    id: string(&d["id"]).unwrap_or_default(),
                    name: normalize_domain(d["domain"].as_str().unwrap_or_default()),
                    domain_type: None,
                    verification: if d["verified"].as_bool() == Some(true) {
                        "VERIFIED"
                    } else {
                        "PENDING"
                    }
                    .to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    LiveOrganization {
        id: string(&value["id"]).unwrap_or_default(),
        name: string(&value["name"]).unwrap_or_default(),
        billing_email: string(&value["billing_email"]),
        org_type: string(&value["type"]),
        services,
        domains: Some(domains),
        ..LiveOrganization::default()
    }
}

pub fn address_from(value: &Value) -> LiveAddress {
    LiveAddress {
        line1: string(&value["line1"]).unwrap_or_default(),
        line2: string(&value["line2"]),
        city: string(&value["city"]).unwrap_or_default(),
        state: string(&value["state"]),
        postal_code: string(&value["postal_code"]).unwrap_or_default(),
        country: string(&value["country"]).unwrap_or_default(),
        tax_id: string(&value["tax_id"]),
        tax_id_type: string(&value["tax_id_type"]),
    }
}

impl Nirvana {
    /// Every item of a cursor-paginated list.
    async fn all(&self, path: &str, resource: &str) -> Result<Vec<Value>, ApiError> {
        let mut items = Vec::new();
        self.each_page(path, resource, &mut |page| items.extend_from_slice(page))
            .await?;
        Ok(items)
    }

    /// Each page of a cursor-paginated list, in order.
    async fn each_page(
        &self,
        path: &str,
        resource: &str,
        on_page: &mut dyn FnMut(&[Value]),
    ) -> Result<(), ApiError> {
        let mut cursor = String::new();
        loop {
            let mut query = vec![("limit", PAGE.to_string())];
            if !cursor.is_empty() {
                query.push(("cursor", cursor.clone()));
            }
            let answer = self
                .client
                .send(Method::GET, path, &query, None, resource, &[])
                .await?;
            let page = answer.body["items"].as_array().cloned().unwrap_or_default();
            on_page(&page);
            match answer.body["pagination"]["next_cursor"].as_str() {
                Some(next) if !next.is_empty() && !page.is_empty() => cursor = next.to_owned(),
                _ => return Ok(()),
            }
        }
    }
}

impl Provider for Nirvana {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Nirvana
    }

    fn client(&self) -> &HttpClient {
        &self.client
    }

    async fn list_organizations(
        &self,
        on_page: &mut dyn FnMut(&[LiveOrganization]),
    ) -> Result<Vec<LiveOrganization>, ApiError> {
        let mut organizations = Vec::new();
        self.each_page("/v1/organizations", "organizations (list)", &mut |items| {
            let page: Vec<LiveOrganization> = items.iter().map(organization_from).collect();
            on_page(&page);
            organizations.extend(page);
        })
        .await?;
        Ok(organizations)
    }

    async fn get_organization(
        &self,
        lookup: &Lookup,
    ) -> Result<Option<LiveOrganization>, ApiError> {
        let Lookup::Id(id) = lookup else {
            return Ok(None);
        };
        let answer = self
            .client
            .send(
                Method::GET,
                &format!("/v1/organizations/{id}"),
                &[],
                None,
                &format!("organization {id}"),
                &[404],
            )
            .await?;
        Ok((answer.status != 404).then(|| organization_from(&answer.body)))
    }

    async fn read_children(
        &self,
        org: &mut LiveOrganization,
        needs: Needs,
        resource: &str,
    ) -> Result<(), ApiError> {
        if needs.address {
            let path = format!("/v1/organizations/{}/address", org.id);
            let answer = self
                .client
                .send(
                    Method::GET,
                    &path,
                    &[],
                    None,
                    &format!("{resource}.address"),
                    &[404],
                )
                .await?;
            org.address = Some((answer.status != 404).then(|| address_from(&answer.body)));
        }
        if needs.members {
            let path = format!("/v1/organizations/{}/memberships", org.id);
            let items = self.all(&path, &format!("{resource} members")).await?;
            let mut members: Vec<LiveMember> = items
                .iter()
                .map(|m| LiveMember {
                    user_id: string(&m["user_id"]).unwrap_or_default(),
                    email: None,
                    roles: string(&m["role"]).into_iter().collect(),
                })
                .collect();
            members.sort_by(|a, b| a.user_id.cmp(&b.user_id));
            org.members = Some(members);
        }
        Ok(())
    }
}
