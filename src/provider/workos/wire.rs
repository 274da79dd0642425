//! WorkOS's JSON shapes (`https://api.workos.com`, the OpenAPI 3.1 spec): lists are
//! `{object: "list", data, list_metadata: {before, after}}`; ids carry their object's prefix.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::provider::wire::{Id, null_as_default};

/// A page of a list: its items and the cursor of the next page (`null`: the list ends here).
#[derive(Debug, Deserialize)]
pub struct List<T> {
    pub data: Vec<T>,
    pub list_metadata: ListMetadata,
}

#[derive(Debug, Deserialize)]
pub struct ListMetadata {
    #[serde(default)]
    pub after: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Organization {
    pub id: Id,
    pub name: String,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub domains: Vec<Domain>,
    #[serde(default)]
    pub allow_profiles_outside_organization: Option<bool>,
    #[serde(default)]
    pub stripe_customer_id: Option<String>,
}

/// An organization domain, inline in its organization and the answer to creating one.
#[derive(Debug, Deserialize)]
pub struct Domain {
    pub id: Id,
    pub domain: String,
    /// `pending`, `verified`, `failed`, `legacy_verified` or `unverified`.
    #[serde(default)]
    pub state: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Membership {
    pub id: Id,
    pub user_id: Id,
    pub organization_id: Id,
    /// `active`, `inactive` or `pending`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub user: Option<User>,
}

#[derive(Debug, Deserialize)]
pub struct Role {
    pub slug: String,
}

#[derive(Debug, Deserialize)]
pub struct User {
    pub id: Id,
    #[serde(default)]
    pub email: Option<String>,
}
