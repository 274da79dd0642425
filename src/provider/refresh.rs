//! Refresh: read the live state that the manifests manage, with the fewest requests each
//! vendor's API allows, concurrently within each provider's parallelism.

use std::collections::BTreeMap;

use futures_util::StreamExt;

use super::error::{ApiError, SetupError};
use super::{AnyProvider, Lookup, Needs, Provider};
use crate::manifest::ProviderKind;
use crate::model::name::nfc;
use crate::model::{
    DesiredState, LiveOrganization, LiveProvider, LiveState, Organization, ResourceAddress,
};
use crate::plan::identity::{IdentityError, match_organizations};

/// Up to this many targeted organizations are fetched one by one instead of listing them all:
/// a list costs one request per 100 organizations, and accounts worth targeting hold more.
pub const DIRECT_LOOKUP_LIMIT: usize = 10;

/// Refresh reads members from the vendor's one listing of the account's users
/// ([`Provider::members_by_organization`]) instead of one member list per organization when
/// it needs the members of at least this many organizations, and of at least half of those the
/// account holds: then that listing costs fewer requests, and a user who belongs to many
/// organizations (a platform admin in every tenant) comes once instead of once per
/// organization with all its memberships each time, which made refresh quadratic in the fleet.
/// A targeted plan, or a workspace managing a small part of a large account, reads
/// organization by organization.
pub const MEMBERS_FROM_ONE_LISTING: usize = 50;

#[derive(Debug, Default)]
pub struct RefreshOptions {
    pub targets: Vec<ResourceAddress>,
    /// Ticked once per organization read; hidden when stderr is not a terminal.
    pub progress: Option<indicatif::ProgressBar>,
}

#[derive(Debug)]
pub enum RefreshError {
    Setup(Vec<SetupError>),
    Api(Vec<ApiError>),
    Identity(Vec<IdentityError>),
}

/// Reads every provider's live state. All providers are read concurrently; every error is
/// collected.
pub async fn refresh(
    desired: &DesiredState,
    providers: &BTreeMap<String, AnyProvider>,
    fetched_at: String,
    options: &RefreshOptions,
) -> Result<LiveState, RefreshError> {
    let jobs = providers.iter().map(|(name, provider)| async move {
        let organizations: Vec<&Organization> = desired
            .organizations
            .values()
            .filter(|o| &o.provider == name)
            .filter(|o| {
                options.targets.is_empty()
                    || options.targets.iter().any(|t| t.org == o.key.as_str())
            })
            .collect();
        let live = crate::with_provider!(provider, p => refresh_provider(p, &organizations, options).await);
        (name.clone(), live)
    });
    let results = futures_util::future::join_all(jobs).await;
    let mut state = LiveState {
        fetched_at,
        providers: BTreeMap::new(),
    };
    let (mut api_errors, mut identity_errors) = (Vec::new(), Vec::new());
    for (name, result) in results {
        match result {
            Ok(live) => {
                state.providers.insert(name, live);
            }
            Err(RefreshError::Api(e)) => api_errors.extend(e),
            Err(RefreshError::Identity(e)) => identity_errors.extend(e),
            Err(RefreshError::Setup(_)) => {}
        }
    }
    if !api_errors.is_empty() {
        return Err(RefreshError::Api(api_errors));
    }
    if !identity_errors.is_empty() {
        return Err(RefreshError::Identity(identity_errors));
    }
    Ok(state)
}

/// What to read of `org`'s children one by one: members not when they come from the
/// account's user listing.
fn needs(org: &Organization, members_listed: bool) -> Needs {
    Needs {
        domains: org.domains.is_some(),
        address: org.address.is_some(),
        members: org.members.is_some() && !members_listed,
        licenses: org.licenses.is_some(),
    }
}

fn lookup(org: &Organization, kind: ProviderKind) -> Option<Lookup> {
    match (&org.id, kind) {
        (Some(id), _) => Some(Lookup::Id(id.value.clone())),
        (None, kind) if kind.description().key_is_external_id => {
            Some(Lookup::ExternalId(org.key.value.0.clone()))
        }
        _ => None,
    }
}

/// The child reads of one organization: its key, what to read, how to name it, and a shell of
/// the listed organization (its id) that the read fills.
type Read = (crate::manifest::Key, Needs, String, LiveOrganization);

/// What a child read starts from: the listed organization's id, and nothing else, so that a
/// fleet's reads do not hold a second copy of every listed organization.
fn shell(listed: &LiveOrganization) -> LiveOrganization {
    LiveOrganization {
        id: listed.id.clone(),
        ..LiveOrganization::default()
    }
}

/// Puts what a child read found into the listed organization (what it did not read stays).
fn adopt_children(listed: &mut LiveOrganization, read: LiveOrganization) {
    if read.domains.is_some() {
        listed.domains = read.domains;
    }
    if read.address.is_some() {
        listed.address = read.address;
    }
    if read.members.is_some() {
        listed.members = read.members;
    }
    if read.licenses.is_some() {
        listed.licenses = read.licenses;
    }
}

async fn refresh_provider<P: Provider>(
    provider: &P,
    organizations: &[&Organization],
    options: &RefreshOptions,
) -> Result<LiveProvider, RefreshError> {
    let kind = provider.kind();
    let targeted = !options.targets.is_empty();
    if targeted && organizations.is_empty() {
        return Ok(LiveProvider {
            organizations: Vec::new(),
            complete: false,
        });
    }
    // Twice the permits, so the next request is ready when a permit frees up.
    let parallelism = provider.client().parallelism() * 2;
    let read = |(key, needs, resource, mut org): Read| async move {
        let result = provider.read_children(&mut org, needs, &resource).await;
        if let Some(progress) = &options.progress {
            progress.inc(1);
        }
        (key, org, result)
    };

    let lookups: Option<Vec<Lookup>> = organizations.iter().map(|o| lookup(o, kind)).collect();
    let direct = match lookups {
        Some(lookups) if targeted && lookups.len() <= DIRECT_LOOKUP_LIMIT => {
            let found = futures_util::future::join_all(
                lookups.iter().map(|l| provider.get_organization(l)),
            )
            .await;
            let mut live = Vec::new();
            let mut all_found = true;
            for result in found {
                match result.map_err(|e| RefreshError::Api(vec![e]))? {
                    Some(org) => live.push(org),
                    None => all_found = false,
                }
            }
            // An external id not found may still match by name: then list after all.
            all_found.then_some(live)
        }
        _ => None,
    };

    // While the list is paged through, the children of the organizations on each page are read
    // at once: those whose identity is certain (an id pin, an external id) and those that a
    // name (or a `previously` name) matches. The match by name is checked again once the whole
    // list is in (`match_organizations`): a read whose organization turns out to be another
    // live one is discarded and done again (a request, never a write).
    let mut early: BTreeMap<crate::manifest::Key, (LiveOrganization, Result<(), ApiError>)> =
        BTreeMap::new();
    // Whether members come from the account's user listing, decided on the listing's first
    // page (which says how many organizations the account holds), and that listing's answer.
    let members_listed = std::cell::Cell::new(false);
    let mut members_listing = None;
    let (mut live, complete) = match direct {
        Some(live) => (live, false),
        None => {
            let pinned: BTreeMap<&str, &Organization> = organizations
                .iter()
                .filter_map(|o| o.id.as_ref().map(|id| (id.as_str(), *o)))
                .collect();
            let keyed: BTreeMap<&str, &Organization> = if kind.description().key_is_external_id {
                organizations
                    .iter()
                    .filter(|o| o.id.is_none())
                    .map(|o| (o.key.as_str(), *o))
                    .collect()
            } else {
                BTreeMap::new()
            };
            // Unpinned organizations by each of their names, compared as identity compares them.
            let mut named: BTreeMap<std::borrow::Cow<'_, str>, &Organization> = BTreeMap::new();
            for org in organizations.iter().filter(|o| o.id.is_none()) {
                for name in std::iter::once(&org.name).chain(&org.previously) {
                    named.entry(nfc(name.as_str())).or_insert(*org);
                }
            }
            let wanting_members = organizations.iter().filter(|o| o.members.is_some()).count();
            let one_listing = (!targeted && wanting_members >= MEMBERS_FROM_ONE_LISTING)
                .then(|| provider.members_by_organization())
                .flatten();
            let (decide, decided) = tokio::sync::oneshot::channel::<bool>();
            let mut decide = one_listing.is_some().then_some(decide);
            let members_listed = &members_listed;
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Read>();
            let listing = super::http::ahead(provider.client(), async move {
                let mut on_page = |page: &[LiveOrganization], total: Option<u64>| {
                    if let Some(decide) = decide.take() {
                        let most = total.is_some_and(|t| 2 * wanting_members as u64 >= t);
                        members_listed.set(most);
                        let _ = decide.send(most);
                    }
                    for l in page {
                        let org = pinned
                            .get(l.id.as_str())
                            .or_else(|| l.external_id.as_deref().and_then(|e| keyed.get(e)))
                            .or_else(|| {
                                // As identity has it: an organization with another external id
                                // belongs to another key.
                                let theirs = kind.description().key_is_external_id
                                    && l.external_id.as_deref().is_some_and(|e| !e.is_empty());
                                named.get(&nfc(&l.name)).filter(|_| !theirs)
                            });
                        if let Some(org) = org {
                            let _ = tx.send((
                                org.key.value.clone(),
                                needs(org, members_listed.get()),
                                org.address().to_string(),
                                shell(l),
                            ));
                        }
                    }
                };
                provider.list_organizations(&mut on_page).await
            });
            let reads = futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|item| (item, rx))
            })
            .map(read)
            .buffer_unordered(parallelism)
            .fold(
                BTreeMap::new(),
                |mut early, (key, org, result)| async move {
                    early.insert(key, (org, result));
                    early
                },
            );
            // Starts once the first page decided for it, alongside the listing and reads.
            let all_members = async {
                match (one_listing, decided.await) {
                    (Some(listing), Ok(true)) => {
                        Some(super::http::ahead(provider.client(), listing).await)
                    }
                    _ => None,
                }
            };
            let (listed, read_early, all_members) = tokio::join!(listing, reads, all_members);
            early = read_early;
            members_listing = all_members;
            (listed.map_err(|e| RefreshError::Api(vec![e]))?, !targeted)
        }
    };

    let (matches, errors) = match_organizations(organizations, &live, kind, true);
    if !errors.is_empty() {
        return Err(RefreshError::Identity(errors));
    }
    let mut errors = Vec::new();
    let mut remaining = Vec::new();
    for org in organizations {
        let Some((index, _)) = matches.get(&org.key.value) else {
            continue;
        };
        match early.remove(&org.key.value) {
            Some((read, result)) if read.id == live[*index].id => match result {
                Ok(()) => adopt_children(&mut live[*index], read),
                Err(e) => errors.push(e),
            },
            _ => remaining.push((
                org.key.value.clone(),
                needs(org, members_listed.get()),
                org.address().to_string(),
                shell(&live[*index]),
            )),
        }
    }
    let index_of: BTreeMap<crate::manifest::Key, usize> =
        matches.iter().map(|(k, (i, _))| (k.clone(), *i)).collect();
    let mut reads = futures_util::stream::iter(remaining)
        .map(read)
        .buffer_unordered(parallelism);
    while let Some((key, org, result)) = reads.next().await {
        match result {
            Ok(()) => adopt_children(&mut live[index_of[&key]], org),
            Err(e) => errors.push(e),
        }
    }
    match members_listing {
        Some(Ok(mut members)) => {
            for org in organizations.iter().filter(|o| o.members.is_some()) {
                if let Some((index, _)) = matches.get(&org.key.value) {
                    let live = &mut live[*index];
                    live.members = Some(members.remove(&live.id).unwrap_or_default());
                }
            }
        }
        Some(Err(e)) => errors.push(e),
        None => {}
    }
    if !errors.is_empty() {
        return Err(RefreshError::Api(errors));
    }
    Ok(LiveProvider {
        organizations: live,
        complete,
    })
}

/// Every organization of a provider with everything the vendor can tell about it: what
/// `export` writes manifests from.
pub async fn read_all(
    provider: &AnyProvider,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<Vec<LiveOrganization>, Vec<ApiError>> {
    crate::with_provider!(provider, p => read_all_of(p, progress).await)
}

async fn read_all_of<P: Provider>(
    provider: &P,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<Vec<LiveOrganization>, Vec<ApiError>> {
    let needs = provider.kind().description().export_reads;
    let listed = provider
        .list_organizations(&mut |_, _| {})
        .await
        .map_err(|e| vec![e])?;
    if let Some(progress) = progress {
        progress.set_length(listed.len() as u64);
    }
    // Every organization is read: members come from the account's user listing where there is one.
    let one_listing = (needs.members && listed.len() >= MEMBERS_FROM_ONE_LISTING)
        .then(|| provider.members_by_organization())
        .flatten();
    let child_needs = Needs {
        members: needs.members && one_listing.is_none(),
        ..needs
    };
    let parallelism = provider.client().parallelism() * 2;
    let reads = futures_util::stream::iter(listed.into_iter().map(|mut org| async move {
        let resource = format!("organization {}", org.id);
        let result = provider
            .read_children(&mut org, child_needs, &resource)
            .await;
        if let Some(progress) = progress {
            progress.inc(1);
        }
        (org, result)
    }))
    .buffer_unordered(parallelism)
    .collect::<Vec<_>>();
    let all_members = async {
        match one_listing {
            Some(listing) => Some(super::http::ahead(provider.client(), listing).await),
            None => None,
        }
    };
    let (read, all_members) = tokio::join!(reads, all_members);
    let (mut organizations, mut errors) = (Vec::new(), Vec::new());
    for (org, result) in read {
        match result {
            Ok(()) => organizations.push(org),
            Err(e) => errors.push(e),
        }
    }
    match all_members {
        Some(Ok(mut members)) => {
            for org in &mut organizations {
                org.members = Some(members.remove(&org.id).unwrap_or_default());
            }
        }
        Some(Err(e)) => errors.push(e),
        None => {}
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    organizations.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(organizations)
}
