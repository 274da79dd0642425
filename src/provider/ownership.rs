//! orgform's ownership marker: a metadata pair on the organizations it creates, for the vendors
//! whose description says so (`Description::ownership_marker`). Prune deletes only what carries
//! it, and `protect: true` is recorded in it, so that the mark travels with the organization.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// The metadata key of the marker (reserved in manifests).
pub const OWNER_KEY: &str = "managed_by";
/// The marker's value on organizations orgform manages.
pub const OWNER_VALUE: &str = "orgform";
/// The marker's value when the manifest says `protect: true`: prune never deletes it.
pub const OWNER_VALUE_PROTECTED: &str = "orgform:protected";

/// Takes the marker out of an organization's live metadata: whether orgform owns it, and
/// whether it is protected.
pub fn take_marker(metadata: &mut BTreeMap<String, String>) -> (bool, bool) {
    let marker = metadata.remove(OWNER_KEY);
    let owned = marker
        .as_deref()
        .is_some_and(|m| m == OWNER_VALUE || m == OWNER_VALUE_PROTECTED);
    (owned, marker.as_deref() == Some(OWNER_VALUE_PROTECTED))
}

/// The metadata a write sends: the planned map plus the marker the plan's `protect` asks for
/// (none when the plan leaves `protect` out: an adopted organization orgform never marks).
pub fn metadata_with_marker(after: &Value) -> Map<String, Value> {
    let mut metadata: Map<String, Value> = after["metadata"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    match after["protect"].as_bool() {
        Some(true) => {
            metadata.insert(OWNER_KEY.into(), json!(OWNER_VALUE_PROTECTED));
        }
        Some(false) => {
            metadata.insert(OWNER_KEY.into(), json!(OWNER_VALUE));
        }
        None => {}
    }
    metadata
}
