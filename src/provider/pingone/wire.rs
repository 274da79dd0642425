//! PingOne's JSON shapes: HAL collections (`_links`, `_embedded`, `count`).

use serde::Deserialize;

use crate::provider::wire::{Id, count};

/// A HAL collection whose `_embedded` holds `E`.
#[derive(Debug, Deserialize)]
pub struct Collection<E> {
    #[serde(rename = "_links", default)]
    pub links: Links,
    #[serde(rename = "_embedded")]
    pub embedded: E,
    /// The number of items in the whole collection.
    #[serde(default, deserialize_with = "count")]
    pub count: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Links {
    #[serde(default)]
    pub next: Option<Link>,
}

#[derive(Debug, Deserialize)]
pub struct Link {
    pub href: String,
}

#[derive(Debug, Deserialize)]
pub struct Organizations {
    pub organizations: Vec<Organization>,
}

#[derive(Debug, Deserialize)]
pub struct Licenses {
    pub licenses: Vec<License>,
}

#[derive(Debug, Deserialize)]
pub struct Organization {
    pub id: Id,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(rename = "type", default)]
    pub org_type: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct License {
    pub id: Id,
    pub package: String,
    pub status: String,
    #[serde(rename = "expiresAt", default)]
    pub expires_at: Option<String>,
}

/// A collection's items, whatever `_embedded` calls them.
pub trait Embedded {
    type Item;
    fn into_items(self) -> Vec<Self::Item>;
}

impl Embedded for Organizations {
    type Item = Organization;
    fn into_items(self) -> Vec<Organization> {
        self.organizations
    }
}

impl Embedded for Licenses {
    type Item = License;
    fn into_items(self) -> Vec<License> {
        self.licenses
    }
}
