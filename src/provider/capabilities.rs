//! What each vendor's API lets orgform change, per resource and field (the README's field table). A
//! difference in something only readable becomes a `manual` action, never a failed call.

use crate::manifest::ProviderKind;

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

/// Organization fields and how each vendor treats them.
pub fn field_access(kind: ProviderKind, field: &str) -> Access {
    use ProviderKind::*;
    match (kind, field) {
        (Nirvana, "name" | "billing_email" | "address") => Access::Write,
        (
            Scalekit,
            "name" | "metadata" | "slug" | "features" | "domains" | "members" | "protect",
        ) => Access::Write,
        (Scalekit, "region") => Access::CreateOnly,
        _ => Access::Read,
    }
}

/// Whether orgform can create organizations of this vendor.
pub fn can_create_organizations(kind: ProviderKind) -> bool {
    matches!(kind, ProviderKind::Nirvana | ProviderKind::Scalekit)
}

/// Whether orgform can delete organizations of this vendor (and so prune).
pub fn can_delete_organizations(kind: ProviderKind) -> bool {
    kind == ProviderKind::Scalekit
}

/// Whether an address that differs can be created and updated (never deleted).
pub fn can_write_address(kind: ProviderKind) -> bool {
    kind == ProviderKind::Nirvana
}
