//! What every vendor's list request shares, written once: the page size within the vendor's
//! bounds, the opaque cursor, and reading on from a cursor through a filter. Each vendor
//! names its parameters, sets its bounds, answers in its own list shape and words a refusal in
//! its own error body; [`BadPageParameter`]'s text is the sentence they all use.

use std::collections::HashMap;
use std::fmt;
use std::ops::RangeInclusive;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::store::{Db, Object, StoreError};

/// How a vendor sizes its pages.
pub struct PageSize {
    /// The query parameter (`limit`, `page_size`).
    pub name: &'static str,
    /// The size when the parameter is absent.
    pub default: usize,
    /// The sizes the vendor accepts.
    pub bounds: RangeInclusive<usize>,
    /// Whether `0` means "the default" (protobuf's unset integer, as Scalekit reads it)
    /// rather than a size out of bounds.
    pub zero_is_default: bool,
}

/// A page parameter the vendor refuses; its text names the parameter and what it accepts.
#[derive(Debug, PartialEq, Eq)]
pub enum BadPageParameter {
    Size {
        name: &'static str,
        bounds: RangeInclusive<usize>,
    },
    Cursor {
        name: &'static str,
    },
}

impl BadPageParameter {
    /// The refused parameter's name, for vendors whose errors carry it apart from the text.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Size { name, .. } | Self::Cursor { name } => name,
        }
    }
}

impl fmt::Display for BadPageParameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Size { name, bounds } => write!(
                f,
                "{name} must be an integer from {} to {}",
                bounds.start(),
                bounds.end()
            ),
            Self::Cursor { name } => write!(f, "{name} is invalid"),
        }
    }
}

impl PageSize {
    /// The size a list request asks for.
    pub fn of(&self, query: &HashMap<String, String>) -> Result<usize, BadPageParameter> {
        let Some(text) = query.get(self.name) else {
            return Ok(self.default);
        };
        match text.parse::<usize>() {
            Ok(0) if self.zero_is_default => Ok(self.default),
            Ok(n) if self.bounds.contains(&n) => Ok(n),
            _ => Err(BadPageParameter::Size {
                name: self.name,
                bounds: self.bounds.clone(),
            }),
        }
    }
}

/// The position an opaque cursor parameter `name` continues from: 0 (the start) when absent or
/// empty.
pub fn cursor(
    query: &HashMap<String, String>,
    name: &'static str,
) -> Result<i64, BadPageParameter> {
    match query.get(name).map(String::as_str) {
        None | Some("") => Ok(0),
        Some(token) => decode_cursor(token).ok_or(BadPageParameter::Cursor { name }),
    }
}

/// An opaque page token for "everything after insertion number `seq`".
pub fn encode_cursor(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("after:{seq}"))
}

/// The insertion number an [`encode_cursor`] token stands for; `None` for anything else.
pub fn decode_cursor(token: &str) -> Option<i64> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    std::str::from_utf8(&bytes)
        .ok()?
        .strip_prefix("after:")?
        .parse()
        .ok()
}

/// Up to `limit` objects of `kind` under `parent` after insertion number `after` that pass
/// `keep`, in insertion order, and whether more follow. It reads on from the cursor in
/// batches, so paging through a large filtered collection stays linear.
pub fn filtered_after(
    db: &Db,
    (vendor, kind, parent): (&str, &str, &str),
    after: i64,
    limit: usize,
    keep: &dyn Fn(&Object) -> bool,
) -> Result<(Vec<Object>, bool), StoreError> {
    const BATCH: usize = 500;
    let mut page: Vec<Object> = Vec::with_capacity(limit + 1);
    let mut from = after;
    while page.len() <= limit {
        let batch = db.list(vendor, kind, parent, from, BATCH)?;
        let Some(last) = batch.last() else { break };
        from = last.seq;
        page.extend(batch.into_iter().filter(|o| keep(o)));
    }
    let more = page.len() > limit;
    page.truncate(limit);
    Ok((page, more))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const LIMIT: PageSize = PageSize {
        name: "limit",
        default: 10,
        bounds: 10..=100,
        zero_is_default: false,
    };

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor("not-a-cursor"), None);
        assert_eq!(decode_cursor(""), None);
        assert_eq!(cursor(&query(&[]), "cursor"), Ok(0));
        assert_eq!(cursor(&query(&[("cursor", "")]), "cursor"), Ok(0));
        assert_eq!(
            cursor(&query(&[("cursor", &encode_cursor(7))]), "cursor"),
            Ok(7)
        );
        let bad = cursor(&query(&[("cursor", "x")]), "cursor").unwrap_err();
        assert_eq!(bad.to_string(), "cursor is invalid");
    }

    #[test]
    fn sizes_keep_to_the_vendors_bounds() {
        assert_eq!(LIMIT.of(&query(&[])), Ok(10));
        assert_eq!(LIMIT.of(&query(&[("limit", "100")])), Ok(100));
        for refused in ["9", "101", "0", "-1", "ten"] {
            let bad = LIMIT.of(&query(&[("limit", refused)])).unwrap_err();
            assert_eq!(bad.to_string(), "limit must be an integer from 10 to 100");
            assert_eq!(bad.name(), "limit");
        }
        let proto = PageSize {
            zero_is_default: true,
            default: 30,
            name: "page_size",
            bounds: 1..=100,
        };
        assert_eq!(proto.of(&query(&[("page_size", "0")])), Ok(30));
    }
}
