//! One planned change, performed by the provider that owns it: apply holds no vendor's logic
//! (each vendor's requests are in `provider/<vendor>/write.rs`).

use crate::plan::ResourceChange;
use crate::provider::write::Done;
use crate::provider::{AnyProvider, ApiError, Provider};

/// Performs `change`. `org_id` is the vendor id of its organization (for children), known from
/// the plan or from the create that ran before.
pub async fn perform(
    provider: &AnyProvider,
    change: &ResourceChange,
    org_id: Option<&str>,
) -> Result<Done, ApiError> {
    crate::with_provider!(provider, p => p.perform(change, org_id).await)
}
