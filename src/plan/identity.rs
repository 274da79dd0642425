//! How a manifest finds its live organization: an `id:` pin, then (Scalekit) the
//! external id equal to the key, then the name or a `previously` name. Pure, so refresh and
//! planning agree.

use crate::model::name::nfc;
use std::collections::HashMap;

use crate::manifest::{Key, ProviderKind, Span};
use crate::model::{LiveOrganization, Organization};

/// How an organization was matched, shown in plans so renames are visible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchedBy {
    Id,
    ExternalId,
    Name,
    PreviousName(String),
    /// Scalekit: by an earlier key (`previous_keys`), the live external id.
    PreviousKey(String),
}

/// Why an organization cannot be matched safely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityError {
    pub key: Key,
    pub span: Span,
    pub message: String,
    pub help: String,
    /// The organization pins an id the vendor's complete listing does not have: it is gone (or
    /// the pin is wrong), which is evidence, not an ambiguity.
    pub pin_not_found: bool,
}

/// For each manifest key: the index of its live organization and how it was found.
pub type Matches = HashMap<Key, (usize, MatchedBy)>;

/// The organizations without an `id:` pin that no earlier step matched, in order (collected,
/// so that the caller may add matches while going through them).
fn unpinned_unmatched<'o>(
    organizations: &[&'o Organization],
    matches: &Matches,
) -> Vec<&'o Organization> {
    organizations
        .iter()
        .copied()
        .filter(|o| o.id.is_none() && !matches.contains_key(&o.key.value))
        .collect()
}

/// Matches `organizations` (all of one provider) against `live`. `complete` says whether
/// `live` holds every organization, so that a missing pinned id is known to be missing.
pub fn match_organizations(
    organizations: &[&Organization],
    live: &[LiveOrganization],
    kind: ProviderKind,
    complete: bool,
) -> (Matches, Vec<IdentityError>) {
    // Indexes, so matching stays linear in the number of organizations.
    let mut by_id: HashMap<&str, usize> = HashMap::with_capacity(live.len());
    let mut by_external_id: HashMap<&str, Vec<usize>> = HashMap::with_capacity(live.len());
    let mut by_name: HashMap<std::borrow::Cow<str>, Vec<usize>> =
        HashMap::with_capacity(live.len());
    for (index, l) in live.iter().enumerate() {
        by_id.entry(l.id.as_str()).or_insert(index);
        if let Some(external_id) = &l.external_id {
            by_external_id
                .entry(external_id.as_str())
                .or_default()
                .push(index);
        }
        by_name.entry(nfc(&l.name)).or_default().push(index);
    }
    let mut matches = Matches::with_capacity(organizations.len());
    let mut claimed: HashMap<usize, Key> = HashMap::with_capacity(organizations.len());
    let mut errors = Vec::new();
    let mut claim = |org: &Organization,
                     index: usize,
                     how: MatchedBy,
                     matches: &mut Matches,
                     errors: &mut Vec<IdentityError>| {
        if let Some(other) = claimed.get(&index) {
            errors.push(IdentityError {
                key: org.key.value.clone(),
                span: org.key.span,
                message: format!(
                    "organizations `{}` and `{}` both match the live organization {} (`{}`)",
                    other, org.key.value, live[index].id, live[index].name
                ),
                help: "give one of them an `id:` pin to the object it means".into(),
                pin_not_found: false,
            });
            return;
        }
        claimed.insert(index, org.key.value.clone());
        matches.insert(org.key.value.clone(), (index, how));
    };

    // 1. Pins.
    for org in organizations {
        let Some(id) = &org.id else { continue };
        match by_id.get(id.value.as_str()).copied() {
            Some(index) => claim(org, index, MatchedBy::Id, &mut matches, &mut errors),
            None if complete => errors.push(IdentityError {
                key: org.key.value.clone(),
                span: id.span,
                message: format!(
                    "organization `{}` is pinned to id `{}`, which provider `{}` does not have",
                    org.key.value, id.value, org.provider
                ),
                help: "fix the id, or remove the pin to match by name (or create the organization)"
                    .into(),
                pin_not_found: true,
            }),
            None => {}
        }
    }
    // 2. External ids (the key, where the vendor keeps it).
    if kind.description().key_is_external_id {
        for org in organizations.iter().filter(|o| o.id.is_none()) {
            match by_external_id.get(org.key.as_str()).map(Vec::as_slice) {
                Some([index]) => {
                    claim(
                        org,
                        *index,
                        MatchedBy::ExternalId,
                        &mut matches,
                        &mut errors,
                    );
                }
                // One identity, two live objects: never silently one of them.
                Some(indexes) if indexes.len() > 1 => {
                    let ids: Vec<String> = indexes.iter().map(|i| live[*i].id.clone()).collect();
                    errors.push(IdentityError {
                        key: org.key.value.clone(),
                        span: org.key.span,
                        message: format!(
                            "organization `{}` matches {} live organizations with external id `{}`: {}",
                            org.key.value,
                            indexes.len(),
                            org.key.value,
                            ids.join(", ")
                        ),
                        help: "the vendor holds duplicates: remove one, or pin the one you mean with `id:`".into(),
                        pin_not_found: false,
                    });
                }
                _ => {}
            }
        }
    }
    // 2b. Earlier keys: the external id the organization had before its key moved.
    if kind.description().key_is_external_id {
        for org in unpinned_unmatched(organizations, &matches) {
            let candidates: Vec<(usize, &str)> = org
                .previous_keys
                .iter()
                .flat_map(|k| {
                    by_external_id
                        .get(k.as_str())
                        .into_iter()
                        .flatten()
                        .map(move |i| (*i, k.as_str()))
                })
                .collect();
            match candidates.as_slice() {
                [] => {}
                [(index, earlier)] => claim(
                    org,
                    *index,
                    MatchedBy::PreviousKey((*earlier).to_owned()),
                    &mut matches,
                    &mut errors,
                ),
                several => {
                    let found: Vec<String> = several
                        .iter()
                        .map(|(i, k)| format!("{} (external id `{k}`)", live[*i].id))
                        .collect();
                    errors.push(IdentityError {
                        key: org.key.value.clone(),
                        span: org.key.span,
                        message: format!(
                            "organization `{}` matches {} live organizations by its earlier keys: {}",
                            org.key.value,
                            several.len(),
                            found.join(", ")
                        ),
                        help: "pin the one you mean with `id:`".into(),
                        pin_not_found: false,
                    });
                }
            }
        }
    }
    // 3. Names, including earlier ones.
    for org in unpinned_unmatched(organizations, &matches) {
        let names = std::iter::once(&org.name).chain(&org.previously);
        let mut candidates: Vec<(usize, MatchedBy)> = Vec::new();
        for (n, name) in names.enumerate() {
            for &index in by_name.get(&nfc(&name.value)).into_iter().flatten() {
                let l = &live[index];
                // A Scalekit organization with another external id belongs to another key.
                let other_key = kind.description().key_is_external_id
                    && l.external_id
                        .as_deref()
                        .is_some_and(|e| e != org.key.as_str());
                if !other_key && !candidates.iter().any(|(i, _)| *i == index) {
                    let how = if n == 0 {
                        MatchedBy::Name
                    } else {
                        MatchedBy::PreviousName(name.value.clone())
                    };
                    candidates.push((index, how));
                }
            }
        }
        match candidates.len() {
            0 => {}
            1 => {
                let (index, how) = candidates.remove(0);
                claim(org, index, how, &mut matches, &mut errors);
            }
            _ => {
                let ids: Vec<String> = candidates
                    .iter()
                    .map(|(i, _)| format!("{} (`{}`)", live[*i].id, live[*i].name))
                    .collect();
                errors.push(IdentityError {
                    key: org.key.value.clone(),
                    span: org.name.span,
                    message: format!(
                        "organization `{}` matches {} live organizations: {}",
                        org.key.value,
                        candidates.len(),
                        ids.join(", ")
                    ),
                    help: "pin the one you mean with `id:`".into(),
                    pin_not_found: false,
                });
            }
        }
    }
    (matches, errors)
}
