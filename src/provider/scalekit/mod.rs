//! Scalekit: organizations by page token, domains by page number, users of an organization.

mod connect;
pub mod wire;
mod write;

use super::error::ApiError;
use super::http::HttpClient;
use super::listing::{Complete, Listed, follow};
use super::route::VendorPath;
use super::{Lookup, MembersByOrganization, Needs, Provider, normalize_domain};
use crate::manifest::ProviderKind;
use crate::model::{LiveDomain, LiveMember, LiveOrganization};
use crate::provider::description::{Access, Description, MembersBy, MetadataLimits};

/// The largest page Scalekit allows.
pub const PAGE: usize = 100;

/// Every route orgform sends Scalekit requests to; ids fill the `{}` holes, each as one
/// percent-encoded segment ([`VendorPath`]).
pub mod routes {
    /// The organization list (and create): the listing whose completeness decides whether
    /// creates look first.
    pub const ORGANIZATIONS: &str = "/api/v1/organizations";
    pub const ORGANIZATION: &str = "/api/v1/organizations/{}";
    pub const ORGANIZATION_BY_EXTERNAL_ID: &str = "/api/v1/organizations:external/{}";
    pub const SETTINGS: &str = "/api/v1/organizations/{}/settings";
    pub const DOMAINS: &str = "/api/v1/organizations/{}/domains";
    pub const DOMAIN: &str = "/api/v1/organizations/{}/domains/{}";
    pub const USERS: &str = "/api/v1/organizations/{}/users";
    pub const USER_SEARCH: &str = "/api/v1/users:search";
    /// Every user of the environment, each with all its memberships.
    pub const ENVIRONMENT_USERS: &str = "/api/v1/users";
    pub const MEMBERSHIP: &str = "/api/v1/memberships/organizations/{}/users/{}";
}

/// The routes, for the property test of path building.
#[cfg(test)]
pub const ROUTES: &[&str] = &[
    routes::ORGANIZATIONS,
    routes::ORGANIZATION,
    routes::ORGANIZATION_BY_EXTERNAL_ID,
    routes::SETTINGS,
    routes::DOMAINS,
    routes::DOMAIN,
    routes::USERS,
    routes::USER_SEARCH,
    routes::ENVIRONMENT_USERS,
    routes::MEMBERSHIP,
];

pub struct Scalekit {
    pub client: HttpClient,
}

/// Protobuf JSON writes an unset string as `""` or leaves it out: both mean "none".
fn present(value: Option<String>) -> Option<String> {
    value.filter(|s| !s.is_empty())
}

pub fn organization_from(org: wire::Organization) -> LiveOrganization {
    let mut metadata = org.metadata;
    let (owned, protected) = crate::provider::ownership::take_marker(&mut metadata);
    let features = org
        .settings
        .map(|s| {
            s.features
                .into_iter()
                .map(|f| (f.name, f.enabled))
                .collect()
        })
        .unwrap_or_default();
    LiveOrganization {
        id: org.id.0,
        name: org.display_name,
        external_id: present(org.external_id),
        owned,
        protected,
        metadata,
        slug: present(org.slug),
        features,
        region: present(org.region_code),
        ..LiveOrganization::default()
    }
}

pub fn domain_from(domain: wire::Domain) -> LiveDomain {
    LiveDomain {
        id: domain.id.0,
        name: normalize_domain(&domain.domain),
        domain_type: Some(
            domain_type_from(domain.domain_type.as_deref().unwrap_or_default()).to_owned(),
        ),
        verification: present(domain.verification_status).unwrap_or_else(|| "PENDING".into()),
    }
}

/// Manifest spelling of a Scalekit domain type.
pub fn domain_type_from(vendor: &str) -> &'static str {
    match vendor {
        "ALLOWED_EMAIL_DOMAIN" => "allowed_email",
        _ => "organization",
    }
}

/// The member `user` is of the organization `org_id`, or why its membership cannot be read.
pub(crate) fn member_from(user: wire::User, org_id: &str) -> Result<LiveMember, String> {
    let membership = user.membership_in(org_id)?;
    Ok(live_member(&user, membership))
}

/// `user` as a member with `membership`: its roles there (sorted) and status.
fn live_member(user: &wire::User, membership: Option<wire::Membership>) -> LiveMember {
    let (mut roles, status): (Vec<String>, _) = membership
        .map(|m| {
            let roles = m.roles.into_iter().map(|r| r.name);
            let status = present(m.membership_status).map(String::into_boxed_str);
            (roles.filter(|r| !r.is_empty()).collect(), status)
        })
        .unwrap_or_default();
    roles.sort();
    LiveMember {
        user_id: user.id.0.clone(),
        email: user
            .email
            .as_deref()
            .filter(|e| !e.is_empty())
            .map(str::to_lowercase),
        roles,
        status,
    }
}

/// A user of the environment's user list, reduced to its memberships as members (or why one
/// cannot be read), so that the listing holds no membership text once a page is decoded.
struct EnvironmentUser {
    id: String,
    memberships: Result<Vec<(String, LiveMember)>, String>,
}

impl Listed for EnvironmentUser {
    fn listing_id(&self) -> &str {
        &self.id
    }
}

impl EnvironmentUser {
    fn from(user: wire::User) -> Self {
        let memberships = user.memberships().map(|decoded| {
            decoded
                .into_iter()
                .map(|m| (m.organization_id.0.clone(), live_member(&user, Some(m))))
                .collect()
        });
        EnvironmentUser {
            id: user.id.0,
            memberships,
        }
    }
}

/// A page of a page-token list, whatever its items are called.
trait TokenPage<W> {
    fn into_parts(self) -> (Vec<W>, Option<String>, Option<u64>);
}

impl TokenPage<wire::Organization> for wire::OrganizationPage {
    fn into_parts(self) -> (Vec<wire::Organization>, Option<String>, Option<u64>) {
        (self.organizations, self.next_page_token, self.total_size)
    }
}

impl TokenPage<wire::User> for wire::UserPage {
    fn into_parts(self) -> (Vec<wire::User>, Option<String>, Option<u64>) {
        (self.users, self.next_page_token, self.total_size)
    }
}

impl Scalekit {
    /// Every item of a page-token list (`page_size`, `page_token`, `next_page_token`), decoded
    /// as the page type `P` and converted by `convert`; `on_page` sees each page once the
    /// listing accumulator checked it.
    async fn each_page<P, W, T>(
        &self,
        path: &VendorPath,
        query: &[(&str, String)],
        page_size: usize,
        resource: &str,
        convert: &dyn Fn(W) -> T,
        on_page: &mut dyn FnMut(&[T], Option<u64>),
    ) -> Result<Complete<T>, ApiError>
    where
        P: TokenPage<W> + serde::de::DeserializeOwned,
        T: Listed,
    {
        let fetch = |token: Option<String>| async move {
            let mut request = query.to_vec();
            request.push(("page_size", page_size.to_string()));
            request.extend(token.map(|t| ("page_token", t)));
            let page: P = self.client.get(path, &request, resource).await?;
            let (items, next, total) = page.into_parts();
            Ok((items.into_iter().map(convert).collect(), next, total))
        };
        follow(
            &self.client,
            path.as_str(),
            resource,
            page_size,
            fetch,
            on_page,
        )
        .await
    }

    /// Every domain of an organization. Domains come by page number with no total: a page
    /// shorter than asked for is the end, and the page number plays the next link.
    async fn domains(&self, org_id: &str, resource: &str) -> Result<Vec<LiveDomain>, ApiError> {
        let path =
            self.client
                .route(&reqwest::Method::GET, routes::DOMAINS, &[org_id], resource)?;
        let fetch = |number: Option<String>| {
            let path = &path;
            async move {
                let page_number: u64 = number.and_then(|n| n.parse().ok()).unwrap_or(0);
                let query = [
                    ("page_size", PAGE.to_string()),
                    ("page_number", page_number.to_string()),
                ];
                let page: wire::DomainPage = self.client.get(path, &query, resource).await?;
                let next = (page.domains.len() == PAGE).then(|| (page_number + 1).to_string());
                let items = page.domains.into_iter().map(domain_from).collect();
                Ok((items, next, None))
            }
        };
        Ok(follow(
            &self.client,
            path.as_str(),
            resource,
            PAGE,
            fetch,
            &mut |_, _| {},
        )
        .await?
        .items)
    }

    /// The id of the environment's user with `email`, searching every page of `users:search`.
    pub async fn find_user_by_email(
        &self,
        email: &str,
        resource: &str,
    ) -> Result<Option<String>, ApiError> {
        let users = self
            .each_page::<wire::UserPage, _, _>(
                &VendorPath::fixed(routes::USER_SEARCH),
                &[("query", email.to_owned())],
                30,
                resource,
                &|u: wire::User| u,
                &mut |_, _| {},
            )
            .await?;
        Ok(users
            .items
            .into_iter()
            .find(|u| {
                u.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .map(|u| u.id.0))
    }
}

impl Listed for wire::User {
    fn listing_id(&self) -> &str {
        &self.id.0
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
        on_page: &mut dyn FnMut(&[LiveOrganization], Option<u64>),
    ) -> Result<Vec<LiveOrganization>, ApiError> {
        let listed = self
            .each_page::<wire::OrganizationPage, _, _>(
                &VendorPath::fixed(routes::ORGANIZATIONS),
                &[],
                PAGE,
                "organizations (list)",
                &organization_from,
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
        super::look_up::<wire::OrganizationAnswer>(&self.client, path, resource, lookup, |answer| {
            organization_from(answer.organization)
        })
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
        if needs.domains {
            let mut domains = self
                .domains(&org.id, &format!("{resource} domains"))
                .await?;
            domains.sort_by(|a, b| a.name.cmp(&b.name));
            org.domains = Some(domains);
        }
        if needs.members {
            let path =
                self.client
                    .route(&reqwest::Method::GET, routes::USERS, &[&org.id], resource)?;
            let resource = format!("{resource} members");
            let users = self
                .each_page::<wire::UserPage, _, _>(
                    &path,
                    &[],
                    PAGE,
                    &resource,
                    &|user: wire::User| user,
                    &mut |_, _| {},
                )
                .await?
                .items;
            let mut members = users
                .into_iter()
                .map(|user| member_from(user, &org.id))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|what| {
                    self.client.failure(
                        &reqwest::Method::GET,
                        path.as_str(),
                        &resource,
                        crate::provider::ApiErrorKind::Decode(what),
                    )
                })?;
            members.sort_by(|a, b| a.user_id.cmp(&b.user_id));
            org.members = Some(members);
        }
        Ok(())
    }

    fn members_by_organization(
        &self,
    ) -> Option<impl Future<Output = Result<MembersByOrganization, ApiError>>> {
        Some(async {
            let path = VendorPath::fixed(routes::ENVIRONMENT_USERS);
            let resource = "users (list)";
            let users = self
                .each_page::<wire::UserPage, _, _>(
                    &path,
                    &[],
                    PAGE,
                    resource,
                    &EnvironmentUser::from,
                    &mut |_, _| {},
                )
                .await?
                .items;
            let failure = |what: String| {
                self.client.failure(
                    &reqwest::Method::GET,
                    path.as_str(),
                    resource,
                    crate::provider::ApiErrorKind::Decode(what),
                )
            };
            let mut by_organization = MembersByOrganization::new();
            for user in users {
                for (organization, member) in user.memberships.map_err(&failure)? {
                    let members = by_organization.entry(organization.clone()).or_default();
                    // One user twice in one organization is not an answer to act on (a user's
                    // memberships are taken together, so a repeat is the list's last member).
                    if members.last().is_some_and(|m| m.user_id == member.user_id) {
                        return Err(self.client.inconsistent(
                            path.as_str(),
                            resource,
                            format!(
                                "user {} has two memberships of organization {organization}",
                                member.user_id
                            ),
                        ));
                    }
                    members.push(member);
                }
            }
            for members in by_organization.values_mut() {
                members.sort_by(|a, b| a.user_id.cmp(&b.user_id));
            }
            Ok(by_organization)
        })
    }
}

/// Scalekit, described for validation, planning, refresh and export.
pub const DESCRIPTION: Description = Description {
    name: "Scalekit",
    label: "Scalekit",
    fields: &[
        ("name", Access::Write),
        ("protect", Access::Write),
        ("previous_keys", Access::Read),
        ("metadata", Access::Write),
        ("slug", Access::Write),
        ("features", Access::Write),
        ("region", Access::CreateOnly),
        ("domains", Access::Write),
        ("members", Access::Write),
    ],
    plain_fields: &[],
    ignorable: &[
        "name",
        "metadata",
        "slug",
        "features",
        "features.sso",
        "features.dir_sync",
        "domains",
        "members",
    ],
    metadata: Some(MetadataLimits {
        pairs: 10,
        key_chars: (3, 25),
        value_chars: (1, 256),
    }),
    ignorable_metadata_keys: true,
    settings: &["client_id", "client_secret", "invite_members"],
    key_is_external_id: true,
    ownership_marker: true,
    creates_organizations: true,
    deletes_organizations: true,
    domain_types: true,
    unique_domains: true,
    members_by: MembersBy::EmailOrUser,
    roles: None,
    single_role: false,
    invites: true,
    organization_types: None,
    export_reads: Needs {
        domains: true,
        members: true,
        address: false,
        licenses: false,
    },
    export_fields,
    connect: connect::connect,
};

/// Scalekit's own fields of an exported manifest.
fn export_fields(org: &LiveOrganization, out: &mut String) {
    use crate::export::quoted;
    use std::fmt::Write as _;
    crate::export::protect_and_metadata(org, out);
    if let Some(slug) = &org.slug {
        let _ = writeln!(out, "slug: {}", quoted(slug));
    }
    let features: Vec<String> = ["sso", "dir_sync"]
        .iter()
        .map(|f| format!("{f}: {}", org.features.get(*f).copied().unwrap_or(false)))
        .collect();
    let _ = writeln!(out, "features: {{ {} }}", features.join(", "));
    if let Some(region) = &org.region {
        let _ = writeln!(out, "region: {}", quoted(&region.to_string()));
    }
}
