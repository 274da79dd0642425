//! Live state: what the vendors hold, normalised to the manifest's vocabulary by refresh.
//!
//! `None` in a child collection means "not fetched": refresh reads only what the manifests
//! manage, and planning never looks at what was not read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Everything refresh read, and when (planning is pure, so it takes the clock from here).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveState {
    /// RFC 3339; used for license expiry.
    pub fetched_at: String,
    pub providers: BTreeMap<String, LiveProvider>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveProvider {
    pub organizations: Vec<LiveOrganization>,
    /// Whether every organization was listed (not only targeted ones): prune needs that.
    pub complete: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveOrganization {
    pub id: String,
    pub name: String,
    /// Scalekit's external id (orgform writes the manifest key there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Created by orgform (Scalekit metadata `managed_by`); only owned organizations are pruned.
    #[serde(default)]
    pub owned: bool,
    /// Marked protected by a manifest when orgform last wrote it.
    #[serde(default)]
    pub protected: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_email: Option<String>,
    /// Without the ownership marker.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    /// The vendor's plain fields (`provider::description::PlainField`), by name, as JSON
    /// scalars; absent when the vendor has no value.
    #[serde(flatten)]
    pub plain: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub features: BTreeMap<String, bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub services: BTreeMap<String, bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domains: Option<Vec<LiveDomain>>,
    /// `Some(None)`: fetched, and the organization has no address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Option<Box<LiveAddress>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<LiveMember>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licenses: Option<Vec<LiveLicense>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveDomain {
    pub id: String,
    /// Lower-case ASCII (punycode) form, as manifests are compared.
    pub name: String,
    /// Scalekit: `organization` or `allowed_email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_type: Option<String>,
    /// `VERIFIED`, `PENDING`, `FAILED`, `AUTO_VERIFIED` (Scalekit) or from `verified` (Nirvana).
    pub verification: String,
}

impl LiveDomain {
    pub fn is_verified(&self) -> bool {
        matches!(self.verification.as_str(), "VERIFIED" | "AUTO_VERIFIED")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveAddress {
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub state: Option<String>,
    pub postal_code: String,
    pub country: String,
    pub tax_id: Option<String>,
    pub tax_id_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveMember {
    pub user_id: String,
    /// Lower-cased; Nirvana memberships carry none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Sorted.
    pub roles: Vec<String>,
    /// Scalekit's `membership_status` (`ACTIVE`, `PENDING_INVITE`, `INVITE_EXPIRED`, …): shown
    /// in plans, never compared (the manifest has nothing to compare it with).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Box<str>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveLicense {
    pub id: String,
    pub package: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}
