//! PingOne: read-only organizations and licenses, HAL collections paged by `_links.next`.

mod connect;
pub(crate) mod wire;

use super::error::ApiError;
use super::http::HttpClient;
use super::listing::{Listed, UNASKED, follow};
use super::route::VendorPath;
use super::{Lookup, Needs, Provider};
use crate::manifest::ProviderKind;
use crate::model::{LiveLicense, LiveOrganization};
use crate::provider::description::{Access, Description, MembersBy};

/// Page size requested; PingOne publishes no maximum, 100 is what its own tools use.
pub const PAGE: usize = 100;

/// Every route orgform sends PingOne requests to; ids fill the `{}` holes, each as one
/// percent-encoded segment ([`VendorPath`]). Later pages come from checked `_links.next`.
pub mod routes {
    /// The first page of the organization list (`limit` is [`super::PAGE`]).
    pub const ORGANIZATIONS_FIRST_PAGE: &str = "/v1/organizations?limit=100";
    pub const ORGANIZATION: &str = "/v1/organizations/{}";
    pub const LICENSES: &str = "/v1/organizations/{}/licenses";
}

/// The routes with holes, for the property test of path building.
#[cfg(test)]
pub const ROUTES: &[&str] = &[routes::ORGANIZATION, routes::LICENSES];

pub struct PingOne {
    pub client: HttpClient,
}

pub(crate) fn organization_from(org: wire::Organization) -> LiveOrganization {
    LiveOrganization {
        id: org.id.0,
        name: org.name,
        description: org.description,
        org_type: org.org_type,
        ..LiveOrganization::default()
    }
}

pub(crate) fn license_from(license: wire::License) -> LiveLicense {
    LiveLicense {
        id: license.id.0,
        package: license.package,
        status: license.status,
        expires_at: license.expires_at,
    }
}

impl PingOne {
    /// Every item of a HAL collection, following `_links.next` while each link stays on the
    /// API's origin; the listing accumulator checks every page against `page_size`, the
    /// `limit` that `first` asked for ([`UNASKED`] where the list documents none).
    async fn all<E, T>(
        &self,
        (first, page_size): (VendorPath, usize),
        resource: &str,
        convert: fn(E::Item) -> T,
    ) -> Result<Vec<T>, ApiError>
    where
        E: wire::Embedded + serde::de::DeserializeOwned,
        T: Listed,
    {
        let fetch = |link: Option<String>| {
            let first = &first;
            async move {
                let path = match link {
                    None => first.clone(),
                    Some(href) => self
                        .client
                        .path_of_link(&href)
                        .map_err(|why| self.client.inconsistent(first.as_str(), resource, why))?,
                };
                let collection: wire::Collection<E> = self.client.get(&path, &[], resource).await?;
                let items = collection.embedded.into_items().into_iter().map(convert);
                let link = collection.links.next.map(|l| l.href);
                Ok((items.collect(), link, collection.count))
            }
        };
        Ok(follow(
            &self.client,
            first.as_str(),
            resource,
            page_size,
            fetch,
            &mut |_, _| {},
        )
        .await?
        .items)
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
        on_page: &mut dyn FnMut(&[LiveOrganization], Option<u64>),
    ) -> Result<Vec<LiveOrganization>, ApiError> {
        let organizations = self
            .all::<wire::Organizations, _>(
                (VendorPath::fixed(routes::ORGANIZATIONS_FIRST_PAGE), PAGE),
                "organizations (list)",
                organization_from,
            )
            .await?;
        on_page(&organizations, Some(organizations.len() as u64));
        Ok(organizations)
    }

    async fn get_organization(
        &self,
        lookup: &Lookup,
    ) -> Result<Option<LiveOrganization>, ApiError> {
        let Lookup::Id(id) = lookup else {
            return Ok(None);
        };
        let resource = format!("organization {id}");
        let path = self.client.route(
            &reqwest::Method::GET,
            routes::ORGANIZATION,
            &[id],
            &resource,
        )?;
        super::look_up::<wire::Organization>(
            &self.client,
            path,
            &resource,
            lookup,
            organization_from,
        )
        .await
    }

    /// Nothing of PingOne is writable: a plan holds no PingOne change to perform.
    async fn perform(
        &self,
        _change: &crate::plan::ResourceChange,
        _org_id: Option<&str>,
    ) -> Result<crate::provider::write::Done, ApiError> {
        Ok(None)
    }

    async fn read_children(
        &self,
        org: &mut LiveOrganization,
        needs: Needs,
        resource: &str,
    ) -> Result<(), ApiError> {
        if needs.licenses {
            let path = self.client.route(
                &reqwest::Method::GET,
                routes::LICENSES,
                &[&org.id],
                resource,
            )?;
            let mut licenses = self
                .all::<wire::Licenses, _>(
                    // Only `filter` and `order` are documented here: no page size is asked.
                    (path, UNASKED),
                    &format!("{resource} licenses"),
                    license_from,
                )
                .await?;
            licenses.sort_by(|a, b| (&a.package, &a.id).cmp(&(&b.package, &b.id)));
            org.licenses = Some(licenses);
        }
        Ok(())
    }
}

/// PingOne, described for validation, planning, refresh and export.
pub const DESCRIPTION: Description = Description {
    name: "PingOne",
    label: "PingOne",
    fields: &[
        ("name", Access::Read),
        ("type", Access::Read),
        ("description", Access::Read),
        ("licenses", Access::Read),
    ],
    plain_fields: &[],
    ignorable: &[],
    metadata: None,
    ignorable_metadata_keys: false,
    settings: &[
        "client_id",
        "client_secret",
        "environment_id",
        "region",
        "auth_url",
    ],
    key_is_external_id: false,
    ownership_marker: false,
    creates_organizations: false,
    deletes_organizations: false,
    domain_types: false,
    unique_domains: false,
    members_by: MembersBy::EmailOrUser,
    roles: None,
    single_role: false,
    invites: false,
    organization_types: Some(crate::manifest::PingOneOrgType::ALL),
    export_reads: Needs {
        licenses: true,
        domains: false,
        members: false,
        address: false,
    },
    export_fields,
    connect: connect::connect,
};

/// PingOne's own fields of an exported manifest.
fn export_fields(org: &LiveOrganization, out: &mut String) {
    use crate::export::quoted;
    use std::fmt::Write as _;
    if let Some(org_type) = &org.org_type {
        let _ = writeln!(out, "type: {}", quoted(org_type));
    }
    if let Some(description) = &org.description {
        let _ = writeln!(out, "description: {}", quoted(description));
    }
}
