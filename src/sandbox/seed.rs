//! Fixtures: data that tests and users load into the sandbox, including what the vendor APIs
//! only let us read (Nirvana domains and memberships, everything of PingOne).
//!
//! A seed is YAML or JSON. Objects are created by the same functions the API handlers use, so
//! seeded and API-created objects have the same shape.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::store::{Db, StoreError};
use super::{SandboxError, nirvana, pingone, scalekit, workos};

/// The PingOne organization of the default seed (from PingOne's licensing guide).
pub const DEFAULT_PINGONE_ORGANIZATION: &str = "bed432e6-676a-4ebe-b5a5-6b3b54e46bda";

/// The five licenses of that organization, verbatim from the vendor's documented response.
const DEFAULT_LICENSES: &str = include_str!("../../assets/pingone-licenses.json");

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    #[serde(default)]
    pub nirvana: NirvanaSeed,
    #[serde(default)]
    pub scalekit: ScalekitSeed,
    #[serde(default)]
    pub pingone: PingOneSeed,
    #[serde(default)]
    pub workos: WorkosSeed,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkosSeed {
    #[serde(default)]
    pub organizations: Vec<WorkosOrganization>,
    #[serde(default)]
    pub users: Vec<WorkosUser>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkosOrganization {
    pub name: String,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub domains: Vec<WorkosDomain>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkosDomain {
    pub domain: String,
    /// `pending` (default), `verified`, `failed`, `legacy_verified` or `unverified`.
    #[serde(default)]
    pub state: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkosUser {
    pub email: String,
    #[serde(default)]
    pub memberships: Vec<WorkosMembership>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkosMembership {
    /// The organization's `external_id`, or its `name` when it has none.
    pub organization: String,
    /// Role slugs (default `member`).
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NirvanaSeed {
    #[serde(default)]
    pub organizations: Vec<NirvanaOrganization>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NirvanaOrganization {
    pub name: String,
    #[serde(default)]
    pub billing_email: Option<String>,
    /// `company` (default) or `personal`.
    #[serde(default, rename = "type")]
    pub org_type: Option<String>,
    #[serde(default)]
    pub services: BTreeMap<String, bool>,
    #[serde(default)]
    pub domains: Vec<NirvanaDomain>,
    #[serde(default)]
    pub address: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    pub memberships: Vec<NirvanaMembership>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NirvanaDomain {
    pub domain: String,
    #[serde(default)]
    pub verified: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NirvanaMembership {
    #[serde(default)]
    pub id: Option<String>,
    pub user_id: String,
    pub role: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalekitSeed {
    #[serde(default)]
    pub organizations: Vec<ScalekitOrganization>,
    #[serde(default)]
    pub users: Vec<ScalekitUser>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalekitOrganization {
    pub display_name: String,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub slug: Option<String>,
    /// `US` (default) or `EU`.
    #[serde(default)]
    pub region_code: Option<String>,
    #[serde(default)]
    pub features: BTreeMap<String, bool>,
    #[serde(default)]
    pub domains: Vec<ScalekitDomain>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalekitDomain {
    pub domain: String,
    #[serde(default)]
    pub domain_type: Option<String>,
    #[serde(default)]
    pub verification_status: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalekitUser {
    #[serde(default)]
    pub id: Option<String>,
    pub email: String,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub memberships: Vec<ScalekitMembership>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalekitMembership {
    /// The organization's `external_id`, or its `display_name` when it has none.
    pub organization: String,
    pub roles: Vec<String>,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PingOneSeed {
    #[serde(default)]
    pub organizations: Vec<PingOneOrganization>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PingOneOrganization {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub org_type: String,
    /// Full license objects, as PingOne returns them.
    #[serde(default)]
    pub licenses: Vec<Value>,
}

/// What a seed created: the ids of new objects, in seed order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SeedSummary {
    pub nirvana_organizations: Vec<String>,
    pub scalekit_organizations: Vec<String>,
    pub scalekit_users: Vec<String>,
    pub pingone_organizations: Vec<String>,
    pub pingone_licenses: Vec<String>,
    #[serde(default)]
    pub workos_organizations: Vec<String>,
    #[serde(default)]
    pub workos_users: Vec<String>,
}

impl Seed {
    /// Parses a YAML or JSON fixture.
    pub fn parse(text: &str) -> Result<Seed, SandboxError> {
        // A seed may hold 100,000 organizations and more (millions of YAML nodes); aliases and
        // nesting stay as bounded as in manifests.
        let mut options = serde_saphyr::Options::default();
        let mut budget = serde_saphyr::Budget::default();
        budget.max_depth = 32;
        budget.max_events = 1_000_000_000;
        budget.max_nodes = 500_000_000;
        budget.max_aliases = 10_000;
        budget.max_anchors = 10_000;
        options.budget = Some(budget);
        options.alias_limits.max_total_replayed_events = 100_000;
        serde_saphyr::from_str_with_options(text, options)
            .map_err(|e| SandboxError::Seed(e.to_string()))
    }

    /// What every new sandbox holds: the PingOne organization of the vendor's documentation
    /// with its five licenses.
    pub fn default_seed() -> Seed {
        let licenses: Value =
            serde_json::from_str(DEFAULT_LICENSES).expect("the bundled licenses are JSON");
        Seed {
            pingone: PingOneSeed {
                organizations: vec![PingOneOrganization {
                    id: Some(DEFAULT_PINGONE_ORGANIZATION.to_owned()),
                    name: "Example Organization".to_owned(),
                    description: Some("The organization of the PingOne licensing guide".to_owned()),
                    org_type: "INTERNAL".to_owned(),
                    licenses: licenses["_embedded"]["licenses"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default(),
                }],
            },
            ..Seed::default()
        }
    }
}

fn seed_error(message: String) -> StoreError {
    StoreError::Json(serde::de::Error::custom(message))
}

/// Creates everything in `seed`, in one transaction: a seed applies whole or not at all.
pub fn apply(db: &Db, seed: &Seed) -> Result<SeedSummary, StoreError> {
    db.transaction(|db| {
        let mut summary = SeedSummary::default();
        for org in &seed.nirvana.organizations {
            let mut organization = nirvana::new_organization(db, &org.name, org.billing_email.as_deref())?;
            let id = organization["id"].as_str().unwrap_or_default().to_owned();
            if let Some(kind) = &org.org_type {
                organization["type"] = json!(kind);
                organization["personal"] = json!(kind == "personal");
            }
            for (service, enabled) in &org.services {
                organization["services"][service] = json!(enabled);
            }
            organization["domains"] = Value::Array(
                org.domains
                    .iter()
                    .enumerate()
                    .map(|(i, d)| json!({ "id": format!("{id}-dom-{i}"), "domain": d.domain, "verified": d.verified }))
                    .collect(),
            );
            db.insert("nirvana", "organization", &id, "", None, &organization)?;
            if let Some(address) = &org.address {
                nirvana::insert_address(db, &id, address.clone())?;
            }
            for m in &org.memberships {
                nirvana::insert_membership(db, &id, m.id.as_deref(), &m.user_id, &m.role)?;
            }
            summary.nirvana_organizations.push(id);
        }

        let mut by_reference: BTreeMap<String, Value> = BTreeMap::new();
        for org in &seed.scalekit.organizations {
            let mut organization = scalekit::new_organization(db)?;
            organization["display_name"] = json!(org.display_name);
            if let Some(external_id) = &org.external_id {
                organization["external_id"] = json!(external_id);
            }
            organization["metadata"] = json!(org.metadata);
            if let Some(slug) = &org.slug {
                organization["slug"] = json!(slug);
            }
            if let Some(region) = &org.region_code {
                organization["region_code"] = json!(region);
            }
            let features: Vec<(String, bool)> = org.features.iter().map(|(k, v)| (k.clone(), *v)).collect();
            scalekit::set_features(&mut organization, &features);
            scalekit::insert_organization(db, &organization)?;
            let id = organization["id"].as_str().unwrap_or_default().to_owned();
            for d in &org.domains {
                let domain_type = d.domain_type.as_deref().unwrap_or("ORGANIZATION_DOMAIN");
                scalekit::insert_domain(db, &id, &d.domain, domain_type, d.verification_status.as_deref())?;
            }
            by_reference.insert(org.external_id.clone().unwrap_or_else(|| org.display_name.clone()), organization);
            summary.scalekit_organizations.push(id);
        }
        for user in &seed.scalekit.users {
            let created = scalekit::insert_user(db, user.id.as_deref(), &user.email, user.external_id.as_deref())?;
            let user_id = created["id"].as_str().unwrap_or_default().to_owned();
            for m in &user.memberships {
                let organization = by_reference
                    .get(&m.organization)
                    .ok_or_else(|| seed_error(format!("user {}: no seeded organization `{}`", user.email, m.organization)))?;
                scalekit::insert_membership(db, organization, &user_id, &m.roles, m.status.as_deref().unwrap_or("ACTIVE"))?;
            }
            summary.scalekit_users.push(user_id);
        }

        for org in &seed.pingone.organizations {
            let organization = pingone::insert_organization(db, org.id.as_deref(), &org.name, org.description.as_deref(), &org.org_type)?;
            let id = organization["id"].as_str().unwrap_or_default().to_owned();
            for license in &org.licenses {
                let stored = pingone::insert_license(db, &id, license.clone())?;
                summary.pingone_licenses.push(stored["id"].as_str().unwrap_or_default().to_owned());
            }
            summary.pingone_organizations.push(id);
        }

        let refused = |e: super::http::ApiError| seed_error(format!("workos: {}", e.body));
        let mut workos_by_reference: BTreeMap<String, Value> = BTreeMap::new();
        for org in &seed.workos.organizations {
            let metadata = org.metadata.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            let organization = workos::new_organization(db, &org.name, org.external_id.as_deref(), metadata)?;
            workos::insert_organization(db, &organization).map_err(refused)?;
            let id = organization["id"].as_str().unwrap_or_default().to_owned();
            for d in &org.domains {
                workos::insert_domain(db, &id, &d.domain, d.state.as_deref()).map_err(refused)?;
            }
            workos_by_reference.insert(org.external_id.clone().unwrap_or_else(|| org.name.clone()), organization);
            summary.workos_organizations.push(id);
        }
        for user in &seed.workos.users {
            let created = workos::insert_user(db, &user.email).map_err(refused)?;
            let user_id = created["id"].as_str().unwrap_or_default().to_owned();
            for m in &user.memberships {
                let organization = workos_by_reference
                    .get(&m.organization)
                    .ok_or_else(|| seed_error(format!("user {}: no seeded organization `{}`", user.email, m.organization)))?;
                let roles = if m.roles.is_empty() { vec!["member".to_owned()] } else { m.roles.clone() };
                workos::insert_membership(db, organization, &user_id, &roles).map_err(refused)?;
            }
            summary.workos_users.push(user_id);
        }
        Ok(summary)
    })
}
