//! Scalekit's JSON shapes (protobuf JSON: empty lists and strings may be left out, int64
//! counts may arrive as strings).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::provider::wire::{Id, count, null_as_default};

/// `GET /api/v1/organizations`.
#[derive(Debug, Deserialize)]
pub struct OrganizationPage {
    #[serde(default, deserialize_with = "null_as_default")]
    pub organizations: Vec<Organization>,
    #[serde(default)]
    pub next_page_token: Option<String>,
    #[serde(default, deserialize_with = "count")]
    pub total_size: Option<u64>,
}

/// `{organization: {...}}`: get, create and update answers.
#[derive(Debug, Deserialize)]
pub struct OrganizationAnswer {
    pub organization: Organization,
}

#[derive(Debug, Deserialize)]
pub struct Organization {
    pub id: Id,
    pub display_name: String,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub region_code: Option<String>,
    #[serde(default)]
    pub settings: Option<Settings>,
}

#[derive(Debug, Deserialize)]
pub struct Settings {
    #[serde(default, deserialize_with = "null_as_default")]
    pub features: Vec<Feature>,
}

#[derive(Debug, Deserialize)]
pub struct Feature {
    pub name: String,
    pub enabled: bool,
}

/// `GET …/domains` (page numbers, no total).
#[derive(Debug, Deserialize)]
pub struct DomainPage {
    #[serde(default, deserialize_with = "null_as_default")]
    pub domains: Vec<Domain>,
}

/// `{domain: {...}}`: the create answer.
#[derive(Debug, Deserialize)]
pub struct DomainAnswer {
    pub domain: Domain,
}

#[derive(Debug, Deserialize)]
pub struct Domain {
    pub id: Id,
    pub domain: String,
    #[serde(default)]
    pub domain_type: Option<String>,
    #[serde(default)]
    pub verification_status: Option<String>,
}

/// `GET …/organizations/{id}/users` and `GET /api/v1/users:search`.
#[derive(Debug, Deserialize)]
pub struct UserPage {
    #[serde(default, deserialize_with = "null_as_default")]
    pub users: Vec<User>,
    #[serde(default)]
    pub next_page_token: Option<String>,
    #[serde(default, deserialize_with = "count")]
    pub total_size: Option<u64>,
}

/// `{user: {...}}`: the answer to creating a user in an organization.
#[derive(Debug, Deserialize)]
pub struct UserAnswer {
    pub user: User,
}

#[derive(Debug, Deserialize)]
pub struct User {
    pub id: Id,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub memberships: Vec<Membership>,
}

#[derive(Debug, Deserialize)]
pub struct Membership {
    pub organization_id: Id,
    #[serde(default, deserialize_with = "null_as_default")]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub membership_status: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Role {
    pub name: String,
}
