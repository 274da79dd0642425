//! WorkOS: organizations with their domains inline (keyed by external id, as Scalekit), and
//! organization memberships listed per organization, each with its user.

mod connect;
pub mod wire;
mod write;

use std::collections::BTreeMap;

use super::error::ApiError;
use super::http::HttpClient;
use super::listing::{Complete, Listed, follow};
use super::route::VendorPath;
use super::{Lookup, Needs, Provider, normalize_domain};
use crate::manifest::ProviderKind;
use crate::model::{LiveDomain, LiveMember, LiveOrganization};
use crate::provider::description::{
    Access, Description, MembersBy, MetadataLimits, PlainField, PlainKind,
};

/// The largest page WorkOS allows.
pub const PAGE: usize = 100;

/// Every route orgform sends WorkOS requests to; ids fill the `{}` holes, each as one
/// percent-encoded segment ([`VendorPath`]).
pub mod routes {
    /// The organization list (and create).
    pub const ORGANIZATIONS: &str = "/organizations";
    pub const ORGANIZATION: &str = "/organizations/{}";
    pub const ORGANIZATION_BY_EXTERNAL_ID: &str = "/organizations/external_id/{}";
    pub const DOMAINS: &str = "/organization_domains";
    pub const DOMAIN: &str = "/organization_domains/{}";
    pub const MEMBERSHIPS: &str = "/user_management/organization_memberships";
    pub const MEMBERSHIP: &str = "/user_management/organization_memberships/{}";
    pub const USERS: &str = "/user_management/users";
}

/// The routes, for the property test of path building.
#[cfg(test)]
pub const ROUTES: &[&str] = &[
    routes::ORGANIZATIONS,
    routes::ORGANIZATION,
    routes::ORGANIZATION_BY_EXTERNAL_ID,
    routes::DOMAINS,
    routes::DOMAIN,
    routes::MEMBERSHIPS,
    routes::MEMBERSHIP,
    routes::USERS,
];

pub struct Workos {
    pub client: HttpClient,
}

/// A domain's verification as orgform's warnings read it (the other vendors' spelling).
fn verification_of(state: Option<&str>) -> String {
    match state {
        Some("verified" | "legacy_verified") => "VERIFIED",
        Some("failed") => "FAILED",
        Some("unverified") => "UNVERIFIED",
        _ => "PENDING",
    }
    .to_owned()
}

pub(crate) fn domain_from(domain: wire::Domain) -> LiveDomain {
    LiveDomain {
        id: domain.id.0,
        name: normalize_domain(&domain.domain),
        domain_type: None,
        verification: verification_of(domain.state.as_deref()),
    }
}

pub(crate) fn organization_from(org: wire::Organization) -> LiveOrganization {
    let mut metadata = org.metadata;
    let (owned, protected) = crate::provider::ownership::take_marker(&mut metadata);
    let mut domains: Vec<LiveDomain> = org.domains.into_iter().map(domain_from).collect();
    domains.sort_by(|a, b| a.name.cmp(&b.name));
    LiveOrganization {
        id: org.id.0,
        name: org.name,
        external_id: org.external_id.filter(|e| !e.is_empty()),
        owned,
        protected,
        metadata,
        domains: Some(domains),
        plain: plain_fields(
            org.allow_profiles_outside_organization,
            org.stripe_customer_id,
        ),
        ..LiveOrganization::default()
    }
}

/// The plain fields of a WorkOS organization (an empty Stripe customer id is none).
fn plain_fields(
    allow_profiles_outside_organization: Option<bool>,
    stripe_customer_id: Option<String>,
) -> BTreeMap<String, serde_json::Value> {
    let mut plain = BTreeMap::new();
    if let Some(allow) = allow_profiles_outside_organization {
        plain.insert("allow_profiles_outside_organization".into(), allow.into());
    }
    if let Some(customer) = stripe_customer_id.filter(|s| !s.is_empty()) {
        plain.insert("stripe_customer_id".into(), customer.into());
    }
    plain
}

/// A membership as a member: its user's id and e-mail, its role slugs (sorted), its status.
pub(crate) fn member_from(membership: wire::Membership) -> LiveMember {
    let mut roles: Vec<String> = membership.roles.into_iter().map(|r| r.slug).collect();
    if roles.is_empty() {
        roles.extend(membership.role.map(|r| r.slug));
    }
    roles.retain(|r| !r.is_empty());
    roles.sort();
    roles.dedup();
    LiveMember {
        user_id: membership.user_id.0,
        email: membership
            .user
            .and_then(|u| u.email)
            .filter(|e| !e.is_empty())
            .map(|e| e.to_lowercase()),
        roles,
        status: membership
            .status
            .filter(|s| !s.is_empty())
            .map(|s| s.to_ascii_uppercase().into_boxed_str()),
    }
}

impl Listed for wire::Membership {
    fn listing_id(&self) -> &str {
        &self.id.0
    }
}

impl Workos {
    /// Every item of a cursor list (`limit`, `after`, `list_metadata.after`), decoded as `W`
    /// and converted by `convert`; `on_page` sees each page once the listing accumulator
    /// checked it. WorkOS reports no total, so an early end cannot be told from a real one:
    /// creates look before they write.
    async fn each_page<W: serde::de::DeserializeOwned, T: Listed>(
        &self,
        path: &VendorPath,
        query: &[(&str, String)],
        resource: &str,
        convert: fn(W) -> T,
        on_page: &mut dyn FnMut(&[T], Option<u64>),
    ) -> Result<Complete<T>, ApiError> {
        let fetch = |after: Option<String>| async move {
            let mut request = query.to_vec();
            request.push(("limit", PAGE.to_string()));
            request.push(("order", "asc".to_owned()));
            request.extend(after.map(|a| ("after", a)));
            let page: wire::List<W> = self.client.get(path, &request, resource).await?;
            let items = page.data.into_iter().map(convert).collect();
            Ok((items, page.list_metadata.after, None))
        };
        follow(&self.client, path.as_str(), resource, PAGE, fetch, on_page).await
    }

    /// Every membership of organization `org_id` (with its user), as WorkOS lists them.
    pub(crate) async fn memberships(
        &self,
        org_id: &str,
        user_id: Option<&str>,
        resource: &str,
    ) -> Result<Vec<wire::Membership>, ApiError> {
        let mut query = vec![("organization_id", org_id.to_owned())];
        query.extend(user_id.map(|u| ("user_id", u.to_owned())));
        Ok(self
            .each_page(
                &VendorPath::fixed(routes::MEMBERSHIPS),
                &query,
                resource,
                |m: wire::Membership| m,
                &mut |_, _| {},
            )
            .await?
            .items)
    }
}

impl Provider for Workos {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Workos
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
                &[],
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
        let (route, segment) = match lookup {
            Lookup::Id(id) => (routes::ORGANIZATION, id),
            Lookup::ExternalId(key) => (routes::ORGANIZATION_BY_EXTERNAL_ID, key),
        };
        let resource = "organization (lookup)";
        let path = self
            .client
            .route(&reqwest::Method::GET, route, &[segment], resource)?;
        super::look_up::<wire::Organization>(
            &self.client,
            path,
            resource,
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
        // Domains come inside the organization: nothing to read for them.
        if needs.members {
            let resource = format!("{resource} members");
            let memberships = self.memberships(&org.id, None, &resource).await?;
            let mut members: Vec<LiveMember> = Vec::with_capacity(memberships.len());
            for membership in memberships {
                if membership.organization_id.0 != org.id {
                    return Err(self.client.inconsistent(
                        routes::MEMBERSHIPS,
                        &resource,
                        format!(
                            "asked for the memberships of organization {}, the vendor answered with one of {}",
                            org.id, membership.organization_id
                        ),
                    ));
                }
                members.push(member_from(membership));
            }
            members.sort_by(|a, b| a.user_id.cmp(&b.user_id));
            // One user twice in one organization is not an answer to act on.
            if let Some(pair) = members.windows(2).find(|w| w[0].user_id == w[1].user_id) {
                return Err(self.client.inconsistent(
                    routes::MEMBERSHIPS,
                    &resource,
                    format!(
                        "user {} has two memberships of organization {}",
                        pair[0].user_id, org.id
                    ),
                ));
            }
            org.members = Some(members);
        }
        Ok(())
    }
}

/// WorkOS, described for validation, planning, refresh and export.
pub const DESCRIPTION: Description = Description {
    name: "WorkOS",
    label: "WorkOS",
    fields: &[
        ("name", Access::Write),
        ("protect", Access::Write),
        ("previous_keys", Access::Read),
        ("metadata", Access::Write),
        ("domains", Access::Write),
        ("members", Access::Write),
    ],
    plain_fields: &[
        PlainField {
            name: "allow_profiles_outside_organization",
            kind: PlainKind::Bool,
            access: Access::Write,
            about: "WorkOS: whether users outside the organization's domains may sign in to it.",
        },
        PlainField {
            name: "stripe_customer_id",
            kind: PlainKind::Text { max_chars: None },
            access: Access::Write,
            about: "WorkOS: the Stripe customer the organization is billed as.",
        },
    ],
    ignorable: &[
        "name",
        "metadata",
        "allow_profiles_outside_organization",
        "stripe_customer_id",
        "domains",
        "members",
    ],
    // The OpenAPI spec's limits: 50 pairs (`maxProperties`), keys of up to 40 characters
    // (`propertyNames.maxLength`), values of up to 600 (`maxLength`).
    metadata: Some(MetadataLimits {
        pairs: 50,
        key_chars: (1, 40),
        value_chars: (0, 600),
    }),
    ignorable_metadata_keys: true,
    settings: &["api_key"],
    key_is_external_id: true,
    ownership_marker: true,
    creates_organizations: true,
    deletes_organizations: true,
    domain_types: false,
    unique_domains: true,
    members_by: MembersBy::EmailOrUser,
    roles: None,
    single_role: false,
    invites: false,
    organization_types: None,
    export_reads: Needs {
        members: true,
        domains: false,
        address: false,
        licenses: false,
    },
    export_fields: crate::export::protect_and_metadata,
    connect: connect::connect,
};
