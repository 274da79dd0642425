//! Resource addresses: `org.acme`, `org.acme.address`, `org.acme.domain[acme.io]`,
//! `org.acme.member[ada@acme.example]`, `org.acme.license[INTERNAL]` (docs/plan.md).

use std::fmt;
use std::str::FromStr;

/// The kind of a resource, in the order children are listed under their organization. In plan
/// JSON it is the `type` of a change, in lower case.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ResourceType {
    Organization,
    Address,
    Domain,
    Member,
    License,
}

impl ResourceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Organization => "organization",
            ResourceType::Address => "address",
            ResourceType::Domain => "domain",
            ResourceType::Member => "member",
            ResourceType::License => "license",
        }
    }
}

/// A typed address. Ordering groups every child right after its organization, so sorted
/// addresses read like the plan.
///
/// ```
/// use orgform::model::{ResourceAddress, ResourceType};
///
/// let domain: ResourceAddress = "org.acme.domain[acme.io]".parse().unwrap();
/// assert_eq!(domain.resource, ResourceType::Domain);
/// assert_eq!(domain.parent().to_string(), "org.acme");
/// assert!(ResourceAddress::organization("acme").selects(&domain));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceAddress {
    pub org: String,
    pub resource: ResourceType,
    /// The child's identity inside its organization (domain name, member id or e-mail, license
    /// package or id); empty for the organization and its address.
    pub name: String,
}

impl ResourceAddress {
    pub fn organization(org: &str) -> Self {
        Self::child(org, ResourceType::Organization, "")
    }

    pub fn address(org: &str) -> Self {
        Self::child(org, ResourceType::Address, "")
    }

    pub fn child(org: &str, resource: ResourceType, name: &str) -> Self {
        Self {
            org: org.to_owned(),
            resource,
            name: name.to_owned(),
        }
    }

    /// The organization this resource belongs to (itself for an organization).
    pub fn parent(&self) -> ResourceAddress {
        Self::organization(&self.org)
    }

    /// Whether `--target self` selects `other`: an organization target selects its children.
    pub fn selects(&self, other: &ResourceAddress) -> bool {
        self == other || (self.resource == ResourceType::Organization && self.org == other.org)
    }
}

impl fmt::Display for ResourceAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "org.{}", self.org)?;
        match self.resource {
            ResourceType::Organization => Ok(()),
            ResourceType::Address => f.write_str(".address"),
            other => write!(f, ".{}[{}]", other.as_str(), self.name),
        }
    }
}

/// Why a string is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid resource address `{input}`: {reason}")]
pub struct AddressParseError {
    pub input: String,
    pub reason: &'static str,
}

impl FromStr for ResourceAddress {
    type Err = AddressParseError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let fail = |reason| AddressParseError {
            input: input.to_owned(),
            reason,
        };
        let rest = input
            .strip_prefix("org.")
            .ok_or_else(|| fail("addresses start with `org.`, e.g. `org.acme`"))?;
        let (org, tail) = match rest.find('.') {
            Some(dot) => (&rest[..dot], Some(&rest[dot + 1..])),
            None => (rest, None),
        };
        if !crate::manifest::Key::is_valid(org) {
            return Err(fail(
                "the organization key must match [a-z0-9][a-z0-9_-]{0,62}",
            ));
        }
        let Some(tail) = tail else {
            return Ok(Self::organization(org));
        };
        if tail == "address" {
            return Ok(Self::address(org));
        }
        let (kind, name) = tail
            .strip_suffix(']')
            .and_then(|t| t.split_once('['))
            .ok_or_else(|| {
                fail("expected `address`, `domain[...]`, `member[...]` or `license[...]`")
            })?;
        let resource = match kind {
            "domain" => ResourceType::Domain,
            "member" => ResourceType::Member,
            "license" => ResourceType::License,
            _ => {
                return Err(fail(
                    "expected `address`, `domain[...]`, `member[...]` or `license[...]`",
                ));
            }
        };
        if name.is_empty() {
            return Err(fail("the name in brackets is empty"));
        }
        Ok(Self::child(org, resource, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_and_sort_by_organization() {
        let texts = [
            "org.acme",
            "org.acme.address",
            "org.acme.domain[acme.io]",
            "org.acme.member[ada@acme.example]",
            "org.acme.license[MFA TRIAL]",
            "org.beta",
        ];
        let parsed: Vec<ResourceAddress> = texts.iter().map(|t| t.parse().unwrap()).collect();
        for (text, address) in texts.iter().zip(&parsed) {
            assert_eq!(&address.to_string(), text);
        }
        let mut sorted = parsed.clone();
        sorted.sort();
        assert_eq!(sorted, parsed);
        assert!(parsed[0].selects(&parsed[2]));
        assert!(!parsed[5].selects(&parsed[2]));
        for bad in [
            "acme",
            "org.",
            "org.Acme",
            "org.acme.domain",
            "org.acme.user[x]",
            "org.acme.domain[]",
        ] {
            assert!(bad.parse::<ResourceAddress>().is_err(), "{bad}");
        }
    }
}
