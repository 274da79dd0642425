//! A field value of a planned change, held as compact JSON text.
//!
//! A plan of 100,000 organizations holds about a million `before`/`after` values. As
//! `serde_json::Value` objects each took about 600 bytes (a B-tree node is allocated for even
//! two keys); as text, about the length of the JSON. The plan's JSON is unchanged: a value is
//! written out as the JSON it holds, pretty-printed with the rest.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// Compact JSON text, always of a valid value (it can only be made from one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanValue(Box<str>);

impl PlanValue {
    pub fn new(value: &Value) -> Self {
        Self(value.to_string().into_boxed_str())
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
}
