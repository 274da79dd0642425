//! What each vendor is, as data: the one place validation, planning, refresh and export ask
//! about a vendor instead of matching on its kind (as octoDNS providers declare `SUPPORTS`).
//! Each vendor's folder declares its own [`Description`]; [`ProviderKind::description`] is the
//! list of vendors. A difference in something only readable becomes a `manual` action, never a
//! failed call.

use super::Needs;
use crate::manifest::ProviderKind;
use crate::model::LiveOrganization;

/// What orgform may do with one field or resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Created and updated.
    Write,
    /// Sent when orgform creates the organization, only read afterwards (a later difference
    /// needs a person): e.g. Scalekit's data region.
    CreateOnly,
    /// Only read: a difference needs a person.
    Read,
}

/// Organization fields every vendor has (and `provider`, `organization`, `extends`): valid
/// whatever a description lists.
pub const EVERY_VENDOR: &[&str] = &["name", "id", "previously", "protect", "ignore"];

/// How a vendor identifies the members of an organization in a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembersBy {
    /// `email:` (or a `user:` id).
    EmailOrUser,
    /// `user:` id only: the vendor's memberships carry no e-mail.
    UserOnly,
}

/// What a vendor allows of an organization's metadata.
#[derive(Debug, Clone, Copy)]
pub struct MetadataLimits {
    /// Pairs per organization.
    pub pairs: usize,
    /// Characters of a key, and of a value (inclusive ranges).
    pub key_chars: (usize, usize),
    pub value_chars: (usize, usize),
}

/// A vendor's own scalar organization field that orgform compares and writes as it is: declared
/// in the vendor's description, it needs no code in the manifest, the model, the plan or export
/// (decoded, diffed, written and exported as a plain JSON value under its own name).
#[derive(Debug)]
pub struct PlainField {
    pub name: &'static str,
    pub kind: PlainKind,
    pub access: Access,
    /// One sentence for the JSON Schema and the docs.
    pub about: &'static str,
}

/// What a [`PlainField`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainKind {
    Bool,
    /// Text, not empty, of at most `max_chars` characters where the vendor sets a limit.
    Text {
        max_chars: Option<usize>,
    },
}

/// One vendor, described.
pub struct Description {
    /// The vendor's name as its users know it, in full (plans, manual actions).
    pub label: &'static str,
    /// Its short name (diagnostics: "invalid Nirvana role").
    pub name: &'static str,
    /// The organization fields a manifest may declare for this vendor (besides
    /// [`EVERY_VENDOR`]'s), with what orgform may do with each; `name` and `protect` are listed
    /// where orgform writes them.
    pub fields: &'static [(&'static str, Access)],
    /// The vendor's own scalar fields, handled by orgform's generic machinery (see [`PlainField`]).
    pub plain_fields: &'static [PlainField],
    /// Paths `ignore` may name: the fields orgform would otherwise write.
    pub ignorable: &'static [&'static str],
    /// The vendor's metadata limits, where organizations have metadata.
    pub metadata: Option<MetadataLimits>,
    /// Whether `ignore: [metadata.KEY]` may name single metadata keys.
    pub ignorable_metadata_keys: bool,
    /// Provider settings of `orgform.yaml` this vendor takes (besides `kind`, `url`,
    /// `sandbox`, `parallelism`, `requests_per_second`).
    pub settings: &'static [&'static str],
    /// The manifest key is the organization's external id at the vendor: the identity refresh
    /// matches and looks up directly, and `previous_keys` move it.
    pub key_is_external_id: bool,
    /// orgform marks what it creates (an ownership marker in the metadata) and prunes only
    /// what carries the mark; `protect` is recorded in it.
    pub ownership_marker: bool,
    /// Whether orgform can create organizations of this vendor.
    pub creates_organizations: bool,
    /// Whether orgform can delete organizations of this vendor (and so prune).
    pub deletes_organizations: bool,
    /// Domains distinguish `type: organization | allowed_email`.
    pub domain_types: bool,
    /// A domain belongs to one organization of a provider target: two manifests declaring it
    /// are a diagnostic (the vendor would refuse the second).
    pub unique_domains: bool,
    /// How members are identified.
    pub members_by: MembersBy,
    /// Role names a member may have (`None`: any the vendor defines), and whether one member
    /// has exactly one.
    pub roles: Option<&'static [&'static str]>,
    pub single_role: bool,
    /// Members carry `invite:` (whether the vendor e-mails an invitation).
    pub invites: bool,
    /// Organization `type:` values (`None`: the vendor has no type).
    pub organization_types: Option<&'static [&'static str]>,
    /// What `export` reads of each organization.
    pub export_reads: Needs,
    /// Writes the vendor's own fields of `org` into an exported manifest, as YAML lines.
    pub export_fields: fn(&LiveOrganization, &mut String),
    /// Where and how a provider of this vendor connects (`provider/<vendor>/connect.rs`).
    pub connect:
        fn(&super::settings::Settings) -> Result<super::settings::Endpoint, super::SetupError>,
}

impl Description {
    /// What orgform may do with `field` of this vendor's organizations.
    pub fn access(&self, field: &str) -> Access {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, access)| *access)
            .or_else(|| self.plain_field(field).map(|p| p.access))
            .unwrap_or(Access::Read)
    }

    /// Whether a manifest may declare `field` for this vendor.
    pub fn has_field(&self, field: &str) -> bool {
        EVERY_VENDOR.contains(&field)
            || self.fields.iter().any(|(f, _)| *f == field)
            || self.plain_field(field).is_some()
    }

    /// The plain field `name` of this vendor.
    pub fn plain_field(&self, name: &str) -> Option<&'static PlainField> {
        self.plain_fields.iter().find(|p| p.name == name)
    }
}

impl ProviderKind {
    /// Every vendor's plain fields (a name two vendors share is declared alike: a unit test
    /// holds them to it).
    pub fn plain_fields() -> impl Iterator<Item = &'static PlainField> {
        ProviderKind::VARIANTS
            .iter()
            .flat_map(|k| k.description().plain_fields.iter())
    }

    /// The kinds whose organizations may declare `field`.
    pub fn supporting(field: &str) -> Vec<ProviderKind> {
        ProviderKind::VARIANTS
            .iter()
            .copied()
            .filter(|k| k.description().has_field(field))
            .collect()
    }

    /// Every organization field some vendor has, beyond those every vendor has.
    pub fn vendor_fields() -> Vec<&'static str> {
        let mut fields: Vec<&str> = ProviderKind::VARIANTS
            .iter()
            .flat_map(|k| k.description().fields.iter().map(|(f, _)| *f))
            .chain(Self::plain_fields().map(|p| p.name))
            .filter(|f| !EVERY_VENDOR.contains(f))
            .collect();
        fields.sort_unstable();
        fields.dedup();
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::ORGANIZATION_FIELDS;

    /// The manifest decodes a plain field by the first declaration of its name, so every
    /// vendor declaring it must declare it alike, and none may shadow a typed field.
    #[test]
    fn plain_fields_are_declared_alike_and_shadow_no_typed_field() {
        let all: Vec<&PlainField> = ProviderKind::plain_fields().collect();
        assert!(!all.is_empty(), "WorkOS declares plain fields");
        for field in &all {
            assert!(
                !ORGANIZATION_FIELDS.contains(&field.name) && !EVERY_VENDOR.contains(&field.name),
                "{} is already a typed field",
                field.name
            );
            for other in all.iter().filter(|o| o.name == field.name) {
                assert_eq!(
                    other.kind, field.kind,
                    "{} declared twice unlike",
                    field.name
                );
            }
        }
        for kind in ProviderKind::VARIANTS {
            let description = kind.description();
            for field in description.plain_fields {
                assert!(
                    !description.fields.iter().any(|(f, _)| *f == field.name),
                    "{kind}: {} is both typed and plain",
                    field.name
                );
                assert_eq!(description.access(field.name), field.access);
                assert!(description.has_field(field.name));
            }
        }
    }
}
