//! Mangling a real answer the way misbehaving vendors do (a scripted fault's `mangle`): set or
//! remove fields by JSON Pointer, repeat or drop an item, point the next-page link back at the
//! same page, truncate the body, or inflate it with whitespace (streamed, so the sandbox does
//! not hold it).

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;
use serde_json::Value;

use super::faults::Mangle;
use super::vendor::Vendor;

/// Whitespace streamed out in chunks of this size by `pad_bytes`.
static PADDING: [u8; 64 * 1024] = [b' '; 64 * 1024];

/// Applies `mangle` (and `headers`) to `response`, the answer to a request with `query`.
pub async fn apply(
    vendor: Vendor,
    mangle: &Mangle,
    headers: &BTreeMap<String, String>,
    query: Option<&str>,
    response: Response,
) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let mut bytes = bytes.to_vec();
    if let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) {
        edit(vendor, mangle, query, &mut value);
        bytes = serde_json::to_vec(&value).unwrap_or(bytes);
    }
    if let Some(cut) = mangle.truncate_bytes {
        bytes.truncate(usize::try_from(cut).unwrap_or(usize::MAX));
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    set_headers(&mut parts.headers, headers);
    let body = if mangle.pad_bytes == 0 {
        Body::from(bytes)
    } else {
        let full_chunks = mangle.pad_bytes / PADDING.len() as u64;
        let rest = (mangle.pad_bytes % PADDING.len() as u64) as usize;
        let padding = (0..full_chunks)
            .map(|_| Bytes::from_static(&PADDING))
            .chain((rest > 0).then(|| Bytes::from_static(&PADDING[..rest])));
        let chunks = std::iter::once(Bytes::from(bytes)).chain(padding);
        Body::from_stream(futures_util::stream::iter(
            chunks.map(Ok::<_, std::io::Error>),
        ))
    };
    Response::from_parts(parts, body)
}

/// Sets each header, replacing what the answer had (unknown names or values are skipped).
pub fn set_headers(map: &mut axum::http::HeaderMap, headers: &BTreeMap<String, String>) {
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            map.insert(name, value);
        }
    }
}

fn edit(vendor: Vendor, mangle: &Mangle, query: Option<&str>, value: &mut Value) {
    if let Some(repeat) = &mangle.repeat_first
        && let Some(Value::Array(items)) = value.pointer_mut(&repeat.at)
        && let Some(first) = items.first().cloned()
    {
        for _ in 0..repeat.times {
            items.push(first.clone());
        }
    }
    if let Some(at) = &mangle.drop_first
        && let Some(Value::Array(items)) = value.pointer_mut(at)
        && !items.is_empty()
    {
        items.remove(0);
    }
    if mangle.loop_next {
        loop_next(vendor, query, value);
    }
    for (pointer, new) in &mangle.set {
        set(value, pointer, new.clone());
    }
    for pointer in &mangle.remove {
        remove(value, pointer);
    }
}

/// Points the next-page link at the page just served: each vendor's own link field.
fn loop_next(vendor: Vendor, query: Option<&str>, value: &mut Value) {
    let param = |name: &str| {
        form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    match vendor {
        Vendor::Nirvana => set(value, "/pagination/next_cursor", param("cursor").into()),
        Vendor::Scalekit => set(value, "/next_page_token", param("page_token").into()),
        Vendor::Workos => set(value, "/list_metadata/after", param("after").into()),
        Vendor::PingOne => {
            let own = value.pointer("/_links/self/href").cloned();
            if let Some(own) = own {
                set(value, "/_links/next", serde_json::json!({ "href": own }));
            }
        }
    }
}

/// The parent of `pointer` and the last token, unescaped (RFC 6901: `~1` is `/`, `~0` is `~`).
fn split(pointer: &str) -> Option<(&str, String)> {
    let (parent, last) = pointer.rsplit_once('/')?;
    Some((parent, last.replace("~1", "/").replace("~0", "~")))
}

fn set(value: &mut Value, pointer: &str, new: Value) {
    let Some((parent, key)) = split(pointer) else {
        *value = new;
        return;
    };
    match value.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.insert(key, new);
        }
        Some(Value::Array(items)) => {
            if let Some(slot) = key.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                *slot = new;
            }
        }
        _ => {}
    }
}

fn remove(value: &mut Value, pointer: &str) {
    let Some((parent, key)) = split(pointer) else {
        return;
    };
    match value.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(&key);
        }
        Some(Value::Array(items)) => {
            if let Ok(index) = key.parse::<usize>()
                && index < items.len()
            {
                items.remove(index);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::faults::Repeat;
    use serde_json::json;

    #[test]
    fn edits_follow_json_pointers() {
        let mut page = json!({ "organizations": [{ "id": "a", "external_id": "x" }, { "id": "b" }], "next_page_token": "t2", "total_size": 2 });
        let mangle = Mangle {
            set: BTreeMap::from([
                ("/organizations/0/external_id".into(), json!(42)),
                ("/total_size".into(), json!(9)),
            ]),
            remove: vec!["/organizations/1/id".into()],
            repeat_first: Some(Repeat {
                at: "/organizations".into(),
                times: 1,
            }),
            ..Mangle::default()
        };
        edit(Vendor::Scalekit, &mangle, None, &mut page);
        assert_eq!(
            page,
            json!({ "organizations": [{ "id": "a", "external_id": 42 }, {}, { "id": "a", "external_id": "x" }], "next_page_token": "t2", "total_size": 9 })
        );
    }

    #[test]
    fn loop_next_points_each_vendor_back_at_the_same_page() {
        let mangle = Mangle {
            loop_next: true,
            ..Mangle::default()
        };
        let mut nirvana = json!({ "items": [], "pagination": { "next_cursor": "c3" } });
        edit(
            Vendor::Nirvana,
            &mangle,
            Some("limit=100&cursor=c2"),
            &mut nirvana,
        );
        assert_eq!(nirvana["pagination"]["next_cursor"], "c2");
        let mut scalekit = json!({ "next_page_token": "t3" });
        edit(
            Vendor::Scalekit,
            &mangle,
            Some("page_token=t2"),
            &mut scalekit,
        );
        assert_eq!(scalekit["next_page_token"], "t2");
        let mut pingone =
            json!({ "_links": { "self": { "href": "http://h/v1/organizations?cursor=2" } } });
        edit(Vendor::PingOne, &mangle, None, &mut pingone);
        assert_eq!(
            pingone["_links"]["next"]["href"],
            "http://h/v1/organizations?cursor=2"
        );
    }
}
