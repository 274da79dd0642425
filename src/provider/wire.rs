//! Pieces of the vendors' JSON that all three share: identity strings that may not be empty,
//! and totals that arrive as numbers or (protobuf's int64 mapping) as numeric strings.
//!
//! Each vendor's own shapes live beside it (`nirvana/wire.rs`, …): serde structs whose required
//! fields are required and whose unknown fields are tolerated. Decoding into them is where a
//! vendor answer is first checked; nothing identity-bearing defaults to `""` or `0`.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// A vendor's id for an object: present, a string, and plausible as an id
/// ([`plausible_id`](super::route::plausible_id)). Ids are pasted into request paths later, so
/// one holding `/`, `..`, `?`, `#` or `%` is a vendor answering nonsense: the answer is refused
/// where it is decoded, and nothing is planned from it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Id(pub String);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let NonEmpty(text) = NonEmpty::deserialize(deserializer)?;
        if let Err(why) = super::route::plausible_id(&text) {
            return Err(de::Error::custom(format_args!(
                "{:?} is not a plausible id ({why})",
                text.chars().take(140).collect::<String>()
            )));
        }
        Ok(Id(text))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A string that must be present and not empty, but is never put into a path (a token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonEmpty(pub String);

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.is_empty() {
            return Err(de::Error::invalid_value(
                de::Unexpected::Str(""),
                &"a non-empty identifier",
            ));
        }
        Ok(NonEmpty(text))
    }
}

/// A count of items: a non-negative integer, as a JSON number or a numeric string (protobuf
/// JSON writes int64 as a string). Absent or `null` means the vendor did not report it.
pub fn count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    struct Count;
    impl Visitor<'_> for Count {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a non-negative integer count")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v)
                .map(Some)
                .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            // PingOne's spec types its counts as `number`.
            if v.fract() == 0.0 && (0.0..9.0e15).contains(&v) {
                Ok(Some(v as u64))
            } else {
                Err(E::invalid_value(de::Unexpected::Float(v), &self))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            v.parse()
                .map(Some)
                .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    deserializer.deserialize_any(Count)
}

/// `null` as the type's default: for collections a vendor may send as `null` when empty.
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    struct Sample {
        id: Id,
        #[serde(default, deserialize_with = "count")]
        total: Option<u64>,
    }

    fn decode(value: serde_json::Value) -> Result<Sample, serde_json::Error> {
        serde_json::from_value(value)
    }

    #[test]
    fn ids_must_be_non_empty_strings() {
        assert_eq!(decode(json!({ "id": "org_1" })).unwrap().id.0, "org_1");
        assert!(decode(json!({ "id": "" })).is_err());
        for bad in ["../../org_9?", "a/b", "a#b", "a%2Fb", "..", "a\\b", "é"] {
            assert!(decode(json!({ "id": bad })).is_err(), "{bad}");
        }
        assert!(decode(json!({ "id": 42 })).is_err());
        assert!(decode(json!({})).is_err());
    }

    #[test]
    fn counts_are_integers_as_numbers_or_strings() {
        let total = |v| decode(json!({ "id": "x", "total": v })).map(|s| s.total);
        assert_eq!(total(json!(3)).unwrap(), Some(3));
        assert_eq!(total(json!("250")).unwrap(), Some(250));
        assert_eq!(total(json!(5.0)).unwrap(), Some(5));
        assert_eq!(total(json!(null)).unwrap(), None);
        assert!(total(json!(-1)).is_err());
        assert!(total(json!(2.5)).is_err());
        assert!(total(json!("many")).is_err());
        assert!(total(json!([])).is_err());
        assert_eq!(decode(json!({ "id": "x" })).unwrap().total, None);
    }
}
