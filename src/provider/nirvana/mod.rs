//! Nirvana Labs: organizations with their domains inline; address and memberships on request.

mod connect;
pub mod wire;
mod write;

use super::error::ApiError;
use super::http::HttpClient;
use super::listing::{Complete, Listed, follow};
use super::route::VendorPath;
use super::{Lookup, Needs, Provider, normalize_domain};
use crate::manifest::ProviderKind;
use crate::model::{LiveAddress, LiveDomain, LiveMember, LiveOrganization};
use crate::provider::description::{Access, Description, MembersBy};

/// The largest page Nirvana allows.
pub const PAGE: usize = 100;

/// Every route orgform sends Nirvana requests to; ids fill the `{}` holes, each as one
/// percent-encoded segment ([`VendorPath`]).
pub mod routes {
    /// The organization list (and create): the listing whose completeness decides whether
    /// creates look first.
    pub const ORGANIZATIONS: &str = "/v1/organizations";
    pub const ORGANIZATION: &str = "/v1/organizations/{}";
    pub const ADDRESS: &str = "/v1/organizations/{}/address";
    pub const MEMBERSHIPS: &str = "/v1/organizations/{}/memberships";
}

/// The routes, for the property test of path building.
#[cfg(test)]
pub const ROUTES: &[&str] = &[
    routes::ORGANIZATIONS,
    routes::ORGANIZATION,
    routes::ADDRESS,
    routes::MEMBERSHIPS,
];

pub struct Nirvana {
    pub client: HttpClient,
}

pub(crate) fn organization_from(org: wire::Organization) -> LiveOrganization {
    let domains = org
        .domains
        .into_iter()
        .map(|d| LiveDomain {
            id: d.id.0,
            name: normalize_domain(&d.domain),
            domain_type: None,
            verification: if d.verified { "VERIFIED" } else { "PENDING" }.to_owned(),
        })
        .collect();
    LiveOrganization {
        id: org.id.0,
        name: org.name,
        billing_email: org.billing_email,
        org_type: Some(org.org_type),
        services: org.services,
        domains: Some(domains),
        ..LiveOrganization::default()
    }
}

pub(crate) fn address_from(address: wire::Address) -> LiveAddress {
    LiveAddress {
        line1: address.line1,
        line2: address.line2,
        city: address.city,
        state: address.state,
        postal_code: address.postal_code,
        country: address.country,
        tax_id: address.tax_id,
        tax_id_type: address.tax_id_type,
    }
}

impl Nirvana {
    /// Every item of a cursor-paginated list, decoded as `W` and converted by `convert`;
    /// `on_page` sees each page once the listing accumulator checked it.
    async fn each_page<W: serde::de::DeserializeOwned, T: Listed>(
        &self,
        path: &VendorPath,
        resource: &str,
        convert: fn(W) -> T,
        on_page: &mut dyn FnMut(&[T], Option<u64>),
    ) -> Result<Complete<T>, ApiError> {
        let fetch = |cursor: Option<String>| async move {
            let mut query = vec![("limit", PAGE.to_string())];
            query.extend(cursor.map(|c| ("cursor", c)));
            let page: wire::Page<W> = self.client.get(path, &query, resource).await?;
            let items = page.items.into_iter().map(convert).collect();
            Ok((
                items,
                page.pagination.next_cursor,
                page.pagination.total_count,
            ))
        };
        follow(&self.client, path.as_str(), resource, PAGE, fetch, on_page).await
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
        on_page: &mut dyn FnMut(&[LiveOrganization], Option<u64>),
    ) -> Result<Vec<LiveOrganization>, ApiError> {
        let listed = self
            .each_page(
                &VendorPath::fixed(routes::ORGANIZATIONS),
                "organizations (list)",
                organization_from,
                on_page,
            )
            .await?;
        self.client.note_listing(listed.had_total);
        Ok(listed.items)
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

    async fn perform(
        &self,
        change: &crate::plan::ResourceChange,
        org_id: Option<&str>,
    ) -> Result<crate::provider::write::Done, ApiError> {
        write::perform(self, change, org_id).await
    }

    async fn read_children(
        &self,
        org: &mut LiveOrganization,
        needs: Needs,
        resource: &str,
    ) -> Result<(), ApiError> {
        if needs.address {
            let resource = format!("{resource}.address");
            let path = self.client.route(
                &reqwest::Method::GET,
                routes::ADDRESS,
                &[&org.id],
                &resource,
            )?;
            let found: Option<wire::Address> = self.client.get_optional(&path, &resource).await?;
            org.address = Some(found.map(|a| Box::new(address_from(a))));
        }
        if needs.members {
            let path = self.client.route(
                &reqwest::Method::GET,
                routes::MEMBERSHIPS,
                &[&org.id],
                resource,
            )?;
            // Listed by user id: a user with two memberships is an inconsistent answer.
            let mut members = self
                .each_page(
                    &path,
                    &format!("{resource} members"),
                    |m: wire::Membership| LiveMember {
                        user_id: m.user_id.0,
                        email: None,
                        roles: vec![m.role],
                        status: None,
                    },
                    &mut |_, _| {},
                )
                .await?
                .items;
            members.sort_by(|a, b| a.user_id.cmp(&b.user_id));
            org.members = Some(members);
        }
        Ok(())
    }
}

/// Nirvana Labs, described for validation, planning, refresh and export.
pub const DESCRIPTION: Description = Description {
    name: "Nirvana",
    label: "Nirvana Labs",
    fields: &[
        ("name", Access::Write),
        ("billing_email", Access::Write),
        ("type", Access::Read),
        ("services", Access::Read),
        ("domains", Access::Read),
        ("address", Access::Write),
        ("members", Access::Read),
    ],
    plain_fields: &[],
    ignorable: &[
        "name",
        "billing_email",
        "address",
        "address.line1",
        "address.line2",
        "address.city",
        "address.state",
        "address.postal_code",
        "address.country",
        "address.tax_id",
        "address.tax_id_type",
    ],
    metadata: None,
    ignorable_metadata_keys: false,
    settings: &["api_key"],
    key_is_external_id: false,
    ownership_marker: false,
    creates_organizations: true,
    deletes_organizations: false,
    domain_types: false,
    unique_domains: false,
    members_by: MembersBy::UserOnly,
    roles: Some(crate::manifest::NirvanaRole::ALL),
    single_role: true,
    invites: false,
    organization_types: Some(crate::manifest::NirvanaOrgType::ALL),
    export_reads: Needs {
        address: true,
        members: true,
        domains: false,
        licenses: false,
    },
    export_fields,
    connect: connect::connect,
};

/// Nirvana Labs's own fields of an exported manifest.
fn export_fields(org: &LiveOrganization, out: &mut String) {
    use crate::export::quoted;
    use std::fmt::Write as _;
    let _ = writeln!(
        out,
        "billing_email: {}",
        org.billing_email
            .as_deref()
            .map_or("null".to_owned(), quoted)
    );
    if let Some(org_type) = &org.org_type {
        let _ = writeln!(out, "type: {}", quoted(org_type));
    }
    let services: Vec<String> = org
        .services
        .iter()
        .map(|(k, v)| format!("{}: {v}", quoted(k)))
        .collect();
    let _ = writeln!(out, "services: {{ {} }}", services.join(", "));
}
