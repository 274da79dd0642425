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
    /// Every membership of the user, in every organization, each kept as its JSON text: a
    /// platform admin who is a member of 2,000 organizations comes with 2,000 memberships in
    /// every organization's user list, and only the listed organization's one is decoded
    /// ([`User::membership_in`]), so that refresh stays linear in the fleet.
    #[serde(default, deserialize_with = "null_as_default")]
    pub memberships: Vec<Box<serde_json::value::RawValue>>,
}

impl User {
    /// The user's membership of `organization_id`, decoded (strictly) from its text; the
    /// others are only scanned.
    pub fn membership_in(&self, organization_id: &str) -> Result<Option<Membership>, String> {
        for raw in &self.memberships {
            // Most memberships are of other organizations: skip those without decoding them.
            if !raw.get().contains(organization_id) {
                continue;
            }
            let membership: Membership =
                crate::provider::http::decode_body(reqwest::StatusCode::OK, raw.get().as_bytes())
                    .map_err(|e| format!("users[{}].memberships: {e}", self.id))?;
            if membership.organization_id.0 == organization_id {
                return Ok(Some(membership));
            }
        }
        Ok(None)
    }
}

impl User {
    /// Every membership of the user, each decoded strictly.
    pub fn memberships(&self) -> Result<Vec<Membership>, String> {
        self.memberships
            .iter()
            .map(|raw| {
                crate::provider::http::decode_body(reqwest::StatusCode::OK, raw.get().as_bytes())
                    .map_err(|e| format!("users[{}].memberships: {e}", self.id))
            })
            .collect()
    }
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
