//! A field value of a planned change, held as compact JSON text.
//!
//! A plan of 100,000 organizations holds about a million `before`/`after` values. As
//! `serde_json::Value` objects each took about 600 bytes (a B-tree node is allocated for even
//! two keys); as text, about the length of the JSON. The plan's JSON is unchanged: a value is
//! written out as the JSON it holds, pretty-printed with the rest.

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// Compact JSON text, always of a valid value (it can only be made from one). Shared, because
/// an unchanged resource's `before` and `after` are usually the same text: it is held once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanValue(Arc<str>);

impl PlanValue {
    pub fn new(value: &Value) -> Self {
        Self(value.to_string().into())
    }

    /// `before` and `after`, held once when they are the same JSON.
    pub fn pair(before: Option<&Value>, after: Option<&Value>) -> (Option<Self>, Option<Self>) {
        let before = before.map(Self::new);
        let after = after.map(|a| {
            let text = a.to_string();
            match &before {
                Some(b) if *b.0 == *text => b.clone(),
                _ => Self(text.into()),
            }
        });
        (before, after)
    }

    /// The value, to look into (renderers, request bodies).
    pub fn value(&self) -> Value {
        // Written by `new` from a `Value`, so it parses; `Null` keeps a broken invariant harmless.
        serde_json::from_str(&self.0).unwrap_or(Value::Null)
    }
}

impl Serialize for PlanValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(serializer)
    }
}

/// A saved plan's values are read as values and written compactly again, so that they compare
/// equal to a fresh plan's whatever whitespace the file had.
impl<'de> Deserialize<'de> for PlanValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(|value| Self::new(&value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_survives_text_and_a_saved_plan_compares_equal() {
        let value = serde_json::json!({ "name": "acme.io", "roles": ["admin"], "n": null });
        let held = PlanValue::new(&value);
        assert_eq!(held.value(), value);
        let pretty = serde_json::to_string_pretty(&held).unwrap();
        assert_eq!(pretty, serde_json::to_string_pretty(&value).unwrap());
        let read: PlanValue = serde_json::from_str(&pretty).unwrap();
        assert_eq!(read, held);
    }

    #[test]
    fn equal_before_and_after_are_held_once() {
        let same = serde_json::json!({ "email": "ada@acme.example", "roles": ["admin"] });
        let (before, after) = PlanValue::pair(Some(&same), Some(&same));
        assert!(Arc::ptr_eq(&before.unwrap().0, &after.unwrap().0));
        let other = serde_json::json!({ "email": "ada@acme.example", "roles": ["member"] });
        let (before, after) = PlanValue::pair(Some(&same), Some(&other));
        assert_eq!(
            (before.unwrap().value(), after.unwrap().value()),
            (same, other)
        );
    }
}
