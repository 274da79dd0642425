//! The validated desired state: what the manifests say, resolved and checked.

use std::collections::BTreeMap;

use crate::manifest::{
    Address, DomainName, DomainType, Email, Features, Key, LicenseStatus, PingOneRegion,
    PlainValue, ProviderKind, RemovalLimit, ScalekitRegion, Secret, Services, Spanned,
};

use super::address::ResourceAddress;

/// Everything a workspace declares.
#[derive(Debug, Clone)]
pub struct DesiredState {
    pub providers: BTreeMap<String, Provider>,
    pub policy: Policy,
    pub lock: LockSettings,
    /// How many templates `orgform.yaml` declares.
    pub templates: usize,
    /// Warning kinds acknowledged everywhere (`orgform.yaml` `acknowledge:`).
    pub acknowledged: Vec<String>,
    /// Files left out by `exclude:`, relative to the workspace, in path order.
    pub excluded: Vec<String>,
    /// By key, so iteration is deterministic.
    pub organizations: BTreeMap<Key, Organization>,
}

/// Where `apply` takes its locks besides the local file lock.
#[derive(Debug, Clone, Default)]
pub struct LockSettings {
    /// A PostgreSQL connection URL for locks shared by many machines.
    pub postgres: Option<Secret>,
}

/// A provider's resolved settings. Credentials absent here come from the vendor's environment
/// variables when the provider is first used.
#[derive(Debug, Clone)]
pub struct Provider {
    pub name: String,
    pub kind: ProviderKind,
    pub sandbox: bool,
    pub url: Option<String>,
    pub auth_url: Option<String>,
    pub region: Option<PingOneRegion>,
    pub environment_id: Option<String>,
    pub api_key: Option<Secret>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub parallelism: u32,
    pub requests_per_second: Option<f64>,
    /// Scalekit: the default of each member's `invite` (`invite_members`, default false).
    pub invite_members: bool,
}

/// Default for `providers.<name>.parallelism`.
pub const DEFAULT_PARALLELISM: u32 = 16;

/// The safety policy of `orgform.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub prune: bool,
    pub max_deletes: u32,
    pub max_member_removals: RemovalLimit,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            prune: false,
            max_deletes: 0,
            max_member_removals: RemovalLimit::Percent(10),
        }
    }
}

/// One organization as the manifests want it. `None` means "absent: unmanaged".
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub key: Spanned<Key>,
    pub provider: String,
    // Rarely set text fields are boxed: a fleet holds a hundred thousand of these.
    pub kind: ProviderKind,
    pub name: Spanned<String>,
    pub id: Option<Box<Spanned<String>>>,
    pub previously: Vec<Spanned<String>>,
    /// The templates this organization's document extends.
    pub extends: Vec<Spanned<String>>,
    /// Earlier keys (Scalekit external ids) this organization is found by.
    pub previous_keys: Vec<Spanned<Key>>,
    pub protect: bool,
    pub ignore: Vec<Spanned<String>>,
    /// Warning kinds acknowledged for this organization.
    pub acknowledge: Vec<String>,
    pub billing_email: Option<Spanned<Option<Email>>>,
    pub metadata: Option<BTreeMap<String, Spanned<String>>>,
    pub slug: Option<Box<Spanned<String>>>,
    /// The vendor's plain fields the manifest declares (`provider::description::PlainField`).
    pub plain: Vec<(&'static str, Spanned<PlainValue>)>,
    pub features: Option<Spanned<Features>>,
    pub region: Option<Spanned<ScalekitRegion>>,
    pub org_type: Option<Box<Spanned<String>>>,
    pub description: Option<Box<Spanned<String>>>,
    pub services: Option<Spanned<Services>>,
    pub domains: Option<Vec<Domain>>,
    /// Boxed: most organizations have none, and the rest of the struct stays small.
    pub address: Option<Box<Spanned<Address>>>,
    pub members: Option<Vec<Member>>,
    pub licenses: Option<Vec<License>>,
}

impl Organization {
    /// How many resources it declares: itself, its postal address, domains, members, licenses.
    pub fn resource_count(&self) -> usize {
        1 + usize::from(self.address.is_some())
            + count(&self.domains)
            + count(&self.members)
            + count(&self.licenses)
    }

    pub fn address(&self) -> ResourceAddress {
        ResourceAddress::organization(self.key.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub name: Spanned<DomainName>,
    /// Scalekit: how the domain is used (default `organization`). Nirvana: none.
    pub domain_type: Option<DomainType>,
}

/// How a member is found: by vendor user id or by e-mail address (lower-cased: vendors compare
/// addresses case-insensitively, so `Ada@` and `ada@` are one member).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MemberIdentity {
    User(String),
    Email(Email),
}

impl std::fmt::Display for MemberIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MemberIdentity::User(id) => f.write_str(id),
            MemberIdentity::Email(email) => f.write_str(&email.normalized()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub identity: Spanned<MemberIdentity>,
    /// Sorted and unique: role order carries no meaning.
    pub roles: Vec<String>,
    /// Scalekit: whether adding this member e-mails it an invitation (`send_invitation_email`,
    /// always sent). A create-time choice, not state: it never makes a difference on its own.
    pub invite: bool,
}

/// How a license expectation finds its license.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LicenseIdentity {
    Package(String),
    Id(String),
}

impl std::fmt::Display for LicenseIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LicenseIdentity::Package(p) | LicenseIdentity::Id(p) => f.write_str(p),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct License {
    pub identity: Spanned<LicenseIdentity>,
    pub status: Option<LicenseStatus>,
    pub min_days_left: Option<u32>,
}

/// How many entries a managed list has (none when it is absent: unmanaged).
fn count<T>(list: &Option<Vec<T>>) -> usize {
    list.as_ref().map_or(0, Vec::len)
}

/// Counts for `orgform validate`'s summary line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Totals {
    pub organizations: usize,
    pub domains: usize,
    pub addresses: usize,
    pub members: usize,
    pub licenses: usize,
    pub providers: usize,
    pub templates: usize,
    /// Files left out by `exclude:`.
    pub excluded: Vec<String>,
}

impl DesiredState {
    pub fn totals(&self) -> Totals {
        let orgs = self.organizations.values();
        Totals {
            organizations: self.organizations.len(),
            domains: orgs.clone().map(|o| count(&o.domains)).sum(),
            addresses: orgs.clone().filter(|o| o.address.is_some()).count(),
            members: orgs.clone().map(|o| count(&o.members)).sum(),
            licenses: orgs.map(|o| count(&o.licenses)).sum(),
            providers: self.providers.len(),
            templates: self.templates,
            excluded: self.excluded.clone(),
        }
    }
}
