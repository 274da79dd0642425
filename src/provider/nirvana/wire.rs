//! Nirvana Labs' JSON shapes. Both API versions decode: the older one with
//! `metronome_customer_id`, the newer with `billing_state`, `billing_state_since` and
//! `charging_model` (unknown fields are ignored, and none of those is read).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::provider::wire::{Id, count};

/// A cursor-paginated list (`GET /v1/organizations`, `…/memberships`).
#[derive(Debug, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub pagination: Pagination,
}

#[derive(Debug, Deserialize)]
pub struct Pagination {
    #[serde(default)]
    pub next_cursor: Option<String>,
    #[serde(deserialize_with = "count")]
    pub total_count: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub struct Organization {
    pub id: Id,
    pub name: String,
    #[serde(default)]
    pub billing_email: Option<String>,
    #[serde(rename = "type")]
    pub org_type: String,
    pub services: BTreeMap<String, bool>,
    pub domains: Vec<Domain>,
}

#[derive(Debug, Deserialize)]
pub struct Domain {
    pub id: Id,
    pub domain: String,
    pub verified: bool,
}

#[derive(Debug, Deserialize)]
pub struct Membership {
    pub user_id: Id,
    pub role: String,
}

#[derive(Debug, Deserialize)]
pub struct Address {
    pub line1: String,
    #[serde(default)]
    pub line2: Option<String>,
    pub city: String,
    #[serde(default)]
    pub state: Option<String>,
    pub postal_code: String,
    pub country: String,
    #[serde(default)]
    pub tax_id: Option<String>,
    #[serde(default)]
    pub tax_id_type: Option<String>,
}
