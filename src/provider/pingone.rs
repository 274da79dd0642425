//! PingOne: read-only organizations and licenses, HAL collections paged by `_links.next`.

use reqwest::Method;
use serde_json::Value;

use super::error::ApiError;
use super::http::HttpClient;
use super::{Lookup, Needs, Provider};
use crate::manifest::ProviderKind;
use crate::model::{LiveLicense, LiveOrganization};

/// Page size requested; PingOne publishes no maximum, 100 is what its own tools use.
pub const PAGE: usize = 100;

pub struct PingOne {
    pub client: HttpClient,
}

fn string(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

pub fn organization_from(value: &Value) -> LiveOrganization {
    LiveOrganization {
        id: string(&value["id"]).unwrap_or_default(),
        name: string(&value["name"]).unwrap_or_default(),
        description: string(&value["description"]),
        org_type: string(&value["type"]),
        ..LiveOrganization::default()
    }
}

impl PingOne {
    /// Every item of a HAL collection, following `_links.next`.
    async fn all(
        &self,
        path: &str,
        collection: &str,
        resource: &str,
    ) -> Result<Vec<Value>, ApiError> {
        let mut items = Vec::new();
        let mut next = format!("{path}?limit={PAGE}");
        loop {
            let answer = self
                .client
                .send(Method::GET, &next, &[], None, resource, &[])
                .await?;
            let page = answer.body["_embedded"][collection]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let empty = page.is_empty();
            items.extend(page);
            match answer.body["_links"]["next"]["href"].as_str() {
                Some(href) if !empty => next = self.relative(href),
                _ => return Ok(items),
            }
        }
    }

    /// The path and query of an absolute link.
    fn relative(&self, href: &str) -> String {
        if let Some(rest) = href.strip_prefix(self.client.base_url()) {
            return rest.to_owned();
        }
        match reqwest::Url::parse(href) {
            Ok(url) => match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_owned(),
            },
            Err(_) => href.to_owned(),
        }
    }
}

impl Provider for PingOne {
    fn kind(&self) -> ProviderKind {
        ProviderKind::PingOne
    }

    fn client(&self) -> &HttpClient {
        &self.client
    }

    async fn list_organizations(
        &self,
        on_page: &mut dyn FnMut(&[LiveOrganization]),
    ) -> Result<Vec<LiveOrganization>, ApiError> {
        let items = self
            .all("/v1/organizations", "organizations", "organizations (list)")
            .await?;
        let organizations: Vec<LiveOrganization> = items.iter().map(organization_from).collect();
        on_page(&organizations);
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
        if needs.licenses {
            let path = format!("/v1/organizations/{}/licenses", org.id);
            let items = self
                .all(&path, "licenses", &format!("{resource} licenses"))
                .await?;
            let mut licenses: Vec<LiveLicense> = items
                .iter()
                .map(|l| LiveLicense {
                    id: string(&l["id"]).unwrap_or_default(),
                    package: string(&l["package"]).unwrap_or_default(),
                    status: string(&l["status"]).unwrap_or_default(),
                    expires_at: string(&l["expiresAt"]),
                })
                .collect();
            licenses.sort_by(|a, b| (&a.package, &a.id).cmp(&(&b.package, &b.id)));
            org.licenses = Some(licenses);
        }
        Ok(())
    }
}
