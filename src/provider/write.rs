//! The write side every vendor shares: what a step reports, creates that never duplicate, the
//! look-ups after an ambiguous failure, and the ownership check before a delete. Each vendor's
//! own requests live in its folder (`<vendor>/write.rs`); apply only dispatches to them.
//!
//! Creates are idempotent: after a failure that may have happened server-side (timeout, dropped
//! connection, 5xx), they look the object up by its identity before trying again.

use std::time::Duration;

use serde_json::Value;

use super::retry::{Retry, decide};
use super::{ApiError, ApiErrorKind, HttpClient, Needs, Provider};
use crate::model::LiveOrganization;
use crate::plan::ResourceChange;

/// What a finished step reports: the vendor id of what it created, if anything.
pub type Done = Option<String>;

/// A string field of a planned value.
pub(crate) fn text(value: &Value) -> Option<&str> {
    value.as_str()
}

/// Runs `create` until it succeeds, giving up on errors that are not retryable; before each
/// retry, `find` checks whether the failed attempt did create the object after all.
pub(crate) async fn create_idempotently<C, F, CF, FF>(
    client: &HttpClient,
    create: C,
    find: F,
) -> Result<Done, ApiError>
where
    C: Fn() -> CF,
    F: Fn() -> FF,
    CF: Future<Output = Result<Done, ApiError>>,
    FF: Future<Output = Result<Option<String>, ApiError>>,
{
    let policy = client.retry_policy();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let error = match create().await {
            Ok(done) => return Ok(done),
            Err(error) => error,
        };
        // A 429 means the vendor did not take the create: try again, paced by the provider's
        // gate, for as long as the provider makes progress (no look-up needed, no attempt lost).
        if error.status() == Some(429) && policy.adaptive && client.progressing() {
            attempt -= 1;
            tokio::time::sleep(policy.min_delay).await;
            continue;
        }
        let wait = match decide(&error, attempt, &policy, fastrand::f64()) {
            Retry::GiveUp => return Err(error),
            Retry::After(wait) => wait,
        };
        if let Ok(Some(id)) = find().await {
            return Ok(Some(id));
        }
        tokio::time::sleep(wait.min(Duration::from_secs(30))).await;
    }
}

/// The error of a step whose plan lacks `what` (a saved plan from another build, or a bug).
pub(crate) fn missing(client: &HttpClient, change: &ResourceChange, what: &str) -> ApiError {
    ApiError {
        provider: client.provider.clone(),
        vendor: client.vendor,
        resource: change.address.to_string(),
        method: "-".into(),
        path: "-".into(),
        kind: ApiErrorKind::Decode(format!("the plan lacks {what}")),
        attempts: 0,
    }
}

/// Why a fresh read of an organization about to be pruned forbids the delete, if it does.
pub(crate) fn delete_refusal(change: &ResourceChange, fresh: &LiveOrganization) -> Option<String> {
    let before = &change.before_value();
    if !fresh.owned {
        return Some(format!(
            "organization {} no longer carries orgform's ownership marker",
            fresh.id
        ));
    }
    if fresh.protected {
        return Some(format!("organization {} is now marked protected", fresh.id));
    }
    if text(&before["external_id"]) != fresh.external_id.as_deref() {
        return Some(format!(
            "organization {} now has external id {:?} (the plan saw {:?})",
            fresh.id,
            fresh.external_id,
            text(&before["external_id"])
        ));
    }
    if text(&before["name"]) != Some(fresh.name.as_str()) {
        return Some(format!(
            "organization {} is now named {:?} (the plan saw {:?})",
            fresh.id,
            fresh.name,
            text(&before["name"])
        ));
    }
    None
}

/// The vendor id of the organization an update or delete of `change` acts on.
// ApiError is large because it carries what the user needs to know; errors are rare.
#[allow(clippy::result_large_err)]
pub(crate) fn live_organization_id<'c>(
    client: &HttpClient,
    change: &'c ResourceChange,
) -> Result<&'c str, ApiError> {
    change
        .live_id
        .as_deref()
        .ok_or_else(|| missing(client, change, "the organization's id"))
}

/// Deletes the organization of `change` at `route` (its id the one hole) once a fresh read
/// shows it still there, still orgform's, unprotected and what the plan saw: prune acts on
/// evidence read just now, not on the plan's. Gone already is done.
pub(crate) async fn delete_organization<P: Provider>(
    provider: &P,
    change: &ResourceChange,
    route: &'static str,
) -> Result<Done, ApiError> {
    let client = provider.client();
    let resource = &*change.address;
    let id = live_organization_id(client, change)?;
    let Some(fresh) = provider
        .get_organization(&super::Lookup::Id(id.to_owned()))
        .await?
    else {
        return Ok(None);
    };
    let path = client.route(&reqwest::Method::DELETE, route, &[id], resource)?;
    if let Some(why) = delete_refusal(change, &fresh) {
        return Err(client.failure(
            &reqwest::Method::GET,
            path.as_str(),
            resource,
            ApiErrorKind::Inconsistent(format!("{why}; refusing to delete it")),
        ));
    }
    client
        .send(reqwest::Method::DELETE, &path, &[], None, resource, &[404])
        .await?;
    Ok(None)
}

/// An organization's children as refresh reads them: apply's look-ups reuse the provider.
pub(crate) async fn read<P: Provider>(
    provider: &P,
    org: &str,
    needs: Needs,
    resource: &str,
) -> Result<LiveOrganization, ApiError> {
    let mut live = LiveOrganization {
        id: org.to_owned(),
        ..LiveOrganization::default()
    };
    provider.read_children(&mut live, needs, resource).await?;
    Ok(live)
}
