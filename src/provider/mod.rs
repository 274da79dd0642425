//! Talking to the vendors: a [`Provider`] per vendor over one shared HTTP client layer, the
//! capability table that tells planning what each can change, and refresh.

pub(crate) mod any;
pub mod description;
pub mod error;
pub mod gate;
pub mod http;
pub mod listing;
pub(crate) mod nirvana;
pub mod ownership;
pub mod pace_memory;
pub(crate) mod pingone;
mod refresh;
pub mod retry;
pub mod route;
pub mod scalekit;
pub mod settings;
pub mod wire;
pub(crate) mod workos;
pub mod write;

#[cfg(test)]
mod decoder_properties;

use crate::manifest::ProviderKind;
use crate::model::LiveOrganization;

pub use any::AnyProvider;
pub use error::{ApiError, ApiErrorKind, SetupError};
pub use http::{HttpClient, RetryPolicy};
pub use refresh::{DIRECT_LOOKUP_LIMIT, RefreshError, RefreshOptions, read_all, refresh};

/// What refresh must read of one organization besides its own fields: only what the manifest
/// manages, since an absent field costs no request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    pub domains: bool,
    pub address: bool,
    pub members: bool,
    pub licenses: bool,
}

/// How to fetch one organization directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Id(String),
    /// Scalekit's external id (the manifest key).
    ExternalId(String),
}

/// The read side of a vendor API, normalised to the manifest's vocabulary.
pub trait Provider {
    fn kind(&self) -> ProviderKind;
    fn client(&self) -> &HttpClient;
    /// Every organization, following the vendor's pagination. `on_page` sees each page as it
    /// arrives (with the total the vendor reports, if it does), so that work on its
    /// organizations can start before the list ends.
    fn list_organizations(
        &self,
        on_page: &mut dyn FnMut(&[LiveOrganization], Option<u64>),
    ) -> impl Future<Output = Result<Vec<LiveOrganization>, ApiError>>;
    /// One organization, or `None` when the vendor says it does not exist.
    fn get_organization(
        &self,
        lookup: &Lookup,
    ) -> impl Future<Output = Result<Option<LiveOrganization>, ApiError>>;
    /// Reads the children `needs` asks for into `org`. `resource` names it in errors.
    fn read_children(
        &self,
        org: &mut LiveOrganization,
        needs: Needs,
        resource: &str,
    ) -> impl Future<Output = Result<(), ApiError>>;
    /// Performs one planned change (the write side): creates that look before they retry,
    /// updates and deletes with every body from the plan. `org_id` is the vendor id of a
    /// child's organization, from the plan or the create that ran before. Returns the vendor
    /// id of what a create made.
    fn perform(
        &self,
        change: &crate::plan::ResourceChange,
        org_id: Option<&str>,
    ) -> impl Future<Output = Result<write::Done, ApiError>>;
    /// Every member of every organization, by organization id, from one listing of the
    /// account's users, where the vendor has one (`None`: it has not). A user who belongs to
    /// many organizations comes once there, with all its memberships, where each
    /// organization's own member list repeats it with all of them: refresh uses this listing
    /// when it reads the members of most of an account's organizations
    /// (`refresh::MEMBERS_FROM_ONE_LISTING`).
    fn members_by_organization(
        &self,
    ) -> Option<impl Future<Output = Result<MembersByOrganization, ApiError>>> {
        None::<std::future::Ready<_>>
    }
}

/// Members by the vendor id of their organization.
pub type MembersByOrganization = std::collections::HashMap<String, Vec<crate::model::LiveMember>>;

pub use nirvana::Nirvana;
pub use pingone::PingOne;
pub use scalekit::Scalekit;
pub use workos::Workos;

/// A direct look-up at `path`: the answer decoded as `W` and converted, `None` on 404, and an
/// error when the vendor answers with another object than the one asked for.
pub(crate) async fn look_up<W: serde::de::DeserializeOwned>(
    client: &HttpClient,
    path: route::VendorPath,
    resource: &str,
    lookup: &Lookup,
    convert: fn(W) -> LiveOrganization,
) -> Result<Option<LiveOrganization>, ApiError> {
    let found: Option<W> = client.get_optional(&path, resource).await?;
    // A vendor answering with another object than the one asked for has not answered at all.
    let answers = |org: &LiveOrganization| match lookup {
        Lookup::Id(id) => &org.id == id,
        Lookup::ExternalId(key) => org.external_id.as_deref() == Some(key.as_str()),
    };
    match found.map(convert) {
        Some(org) if !answers(&org) => Err(client.inconsistent(
            path.as_str(),
            "organization (lookup)",
            format!(
                "asked for {lookup:?}, the vendor answered with organization {} (external id {:?})",
                org.id, org.external_id
            ),
        )),
        found => Ok(found),
    }
}

/// Lower-case ASCII form of a live domain name, as manifests compare them.
pub(crate) fn normalize_domain(name: &str) -> String {
    idna::domain_to_ascii(name).unwrap_or_else(|_| name.to_ascii_lowercase())
}
