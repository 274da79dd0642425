//! The one place vendor request paths are built: a route template with `{}` holes and the
//! segments that fill them, each percent-encoded as one opaque path segment.
//!
//! Ids come from vendor answers, manifests and saved plans. Pasted into a path as they came, an
//! id of `../../organizations/org_9?` turns "remove this domain" into "delete that
//! organization". So [`HttpClient`](super::HttpClient) takes only a [`VendorPath`], which can be
//! made only here: from a template and encoded segments, or from a next-page link that
//! [`HttpClient::path_of_link`](super::HttpClient::path_of_link) has checked.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but RFC 3986's unreserved characters is encoded: `/`, `?`, `#`, `%`, `\`, `:`
/// and every non-ASCII byte among them.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A request path (with its query, for a followed link) below a provider's base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorPath(String);

/// A segment that cannot be one opaque path segment, whatever the encoding: empty, `.` or `..`
/// (URL parsers resolve those even percent-encoded), or a template and segments that disagree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{segment}` cannot be a path segment of `{template}`: {why}")]
pub struct BadSegment {
    pub template: &'static str,
    pub segment: String,
    pub why: &'static str,
}

impl VendorPath {
    /// `template` with each `{}` replaced by the next of `segments`, percent-encoded.
    pub fn new(template: &'static str, segments: &[&str]) -> Result<VendorPath, BadSegment> {
        let holes = template.matches("{}").count();
        if holes != segments.len() {
            return Err(BadSegment {
                template,
                segment: segments.join(", "),
                why: "the route takes a different number of segments",
            });
        }
        let mut path = String::with_capacity(
            template.len() + segments.iter().map(|s| s.len() * 3).sum::<usize>(),
        );
        let mut pieces = template.split("{}");
        path.push_str(pieces.next().unwrap_or_default());
        for (segment, piece) in segments.iter().zip(pieces) {
            let why = match *segment {
                "" => Some("it is empty"),
                "." | ".." => Some("it names a directory, not an object"),
                _ => None,
            };
            if let Some(why) = why {
                return Err(BadSegment {
                    template,
                    segment: (*segment).to_owned(),
                    why,
                });
            }
            path.extend(utf8_percent_encode(segment, SEGMENT));
            path.push_str(piece);
        }
        Ok(VendorPath(path))
    }

    /// A fixed route with no holes (a collection), or a fixed route and its query.
    pub fn fixed(route: &'static str) -> VendorPath {
        VendorPath(route.to_owned())
    }

    /// A path and query taken from a next-page link that was checked to stay on the API's
    /// origin and base path.
    pub(super) fn from_checked_link(path_and_query: String) -> VendorPath {
        VendorPath(path_and_query)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VendorPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `id` could be a vendor's id for an object: 1 to 128 ASCII letters, digits, `-`, `_`
/// or `.`, and not only dots. Every vendor's ids fit (Scalekit `org_59615193906282635`,
/// PingOne UUIDs, Nirvana's); anything else in an answer is a vendor answering nonsense, and
/// nothing is planned from it.
pub fn plausible_id(id: &str) -> Result<(), &'static str> {
    if id.is_empty() {
        return Err("it is empty");
    }
    if id.len() > 128 {
        return Err("it is longer than 128 characters");
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err("ids hold only ASCII letters, digits, `-`, `_` and `.`");
    }
    if id.bytes().all(|b| b == b'.') {
        return Err("it names a directory, not an object");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The templates orgform sends requests to (each vendor's `ROUTES`).
    fn templates() -> Vec<&'static str> {
        crate::provider::any::all_routes()
    }

    /// Splits a path the way a server does after URL normalisation (reqwest's parser), and
    /// decodes each segment.
    fn served_segments(path: &VendorPath) -> Vec<String> {
        let url = reqwest::Url::parse(&format!("http://vendor.example/base{path}")).unwrap();
        assert_eq!(url.query(), None, "{path} gained a query");
        assert_eq!(url.fragment(), None, "{path} gained a fragment");
        url.path_segments()
            .unwrap()
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .unwrap()
                    .into_owned()
            })
            .collect()
    }

    fn template_segments(template: &str, segments: &[String]) -> Vec<String> {
        let mut filled = segments.iter();
        std::iter::once("base".to_owned())
            .chain(template.trim_start_matches('/').split('/').map(|part| {
                let mut text = String::new();
                let mut pieces = part.split("{}");
                text.push_str(pieces.next().unwrap());
                for piece in pieces {
                    text.push_str(filled.next().unwrap());
                    text.push_str(piece);
                }
                text
            }))
            .collect()
    }

    proptest! {
        #[test]
        fn every_route_decodes_to_exactly_the_segments_given(
            template in proptest::sample::select(templates()),
            raw in proptest::collection::vec("[/.?#%\\\\a-z0-9_:é🙂 -]{1,12}", 3),
        ) {
            let holes = template.matches("{}").count();
            let segments: Vec<String> = raw.into_iter().take(holes).collect();
            let refs: Vec<&str> = segments.iter().map(String::as_str).collect();
            match VendorPath::new(template, &refs) {
                Ok(path) => {
                    prop_assert_eq!(served_segments(&path), template_segments(template, &segments));
                }
                Err(e) => prop_assert!(
                    segments.iter().any(|s| s == "." || s == ".."),
                    "refused {:?}: {}", segments, e
                ),
            }
        }
    }

    #[test]
    fn dot_segments_and_wrong_counts_are_refused() {
        let route = "/v1/organizations/{}";
        assert!(VendorPath::new(route, &[".."]).is_err());
        assert!(VendorPath::new(route, &["."]).is_err());
        assert!(VendorPath::new(route, &[""]).is_err());
        assert!(VendorPath::new(route, &[]).is_err());
        assert_eq!(
            VendorPath::new(route, &["../../x?y#z%2F"])
                .unwrap()
                .as_str(),
            "/v1/organizations/..%2F..%2Fx%3Fy%23z%252F"
        );
    }

    #[test]
    fn plausible_ids() {
        for good in [
            "org_59615193906282635",
            "38adfae2-f87d-429b-842d-d36a0fa1c66f",
            "a.b",
        ] {
            assert_eq!(plausible_id(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a?b",
            "a#b",
            "a%2Fb",
            "a\\b",
            "é",
            "a b",
            &"x".repeat(129),
        ] {
            assert!(plausible_id(bad).is_err(), "{bad}");
        }
    }
}
