//! Property tests: arbitrary JSON into every vendor decoder (list pages, objects, token
//! answers, error bodies) and on through the conversion into live state and the listing
//! accumulator yields values or errors, never a panic.
//!
//! Purely random JSON rarely gets past the first required field, so most cases start from a
//! valid answer of each shape and replace one or more of its parts with arbitrary JSON.

use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::listing::{Listed, Listing};
use super::{nirvana, pingone, scalekit};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::String),
        Just(json!("")),
        Just(json!("18446744073709551616")),
    ]
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every path (JSON Pointer) of a value, containers included.
fn pointers(value: &Value, prefix: String, out: &mut Vec<String>) {
    out.push(prefix.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                pointers(v, format!("{prefix}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers(v, format!("{prefix}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// `template` with up to three of its parts replaced by arbitrary JSON (or removed).
fn mutated(template: Value) -> impl Strategy<Value = Value> {
    let mut paths = Vec::new();
    pointers(&template, String::new(), &mut paths);
    let edit = (prop::sample::select(paths), arbitrary_json(), any::<bool>());
    prop::collection::vec(edit, 1..4).prop_map(move |edits| {
        let mut value = template.clone();
        for (path, new, remove) in edits {
            match path.rsplit_once('/') {
                Some((parent, key)) if remove => match value.pointer_mut(parent) {
                    Some(Value::Object(map)) => {
                        map.remove(key);
                    }
                    Some(Value::Array(items)) => {
                        if let Ok(i) = key.parse::<usize>()
                            && i < items.len()
                        {
                            items.remove(i);
                        }
                    }
                    _ => {}
                },
                _ => {
                    if let Some(slot) = value.pointer_mut(&path) {
                        *slot = new;
                    }
                }
            }
        }
        value
    })
}

fn answer(template: Value) -> impl Strategy<Value = Value> {
    prop_oneof![1 => arbitrary_json(), 4 => mutated(template)]
}

/// Decodes as the client does: from the bytes of the answer.
fn decode<T: DeserializeOwned>(value: &Value) -> Option<T> {
    let bytes = serde_json::to_vec(value).expect("JSON serializes");
    super::http::decode_body(reqwest::StatusCode::OK, &bytes).ok()
}

/// Feeds decoded items through the accumulator, as a listing would.
fn list<T: Listed>(items: Vec<T>, next: Option<String>, total: Option<u64>) {
    let mut listing = Listing::new(100);
    if listing.page(items, next, total).is_ok() {
        let _ = listing.finish();
    }
}

fn nirvana_org() -> Value {
    json!({ "id": "org_1", "name": "Acme", "billing_email": null, "type": "company", "personal": false,
            "services": { "cloud": true, "sso": false }, "domains": [{ "id": "d1", "domain": "acme.example", "verified": true }],
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z" })
}

fn scalekit_org() -> Value {
    json!({ "id": "org_1", "display_name": "Acme", "external_id": "acme", "metadata": { "managed_by": "orgform", "tier": "gold" },
            "region_code": "US", "slug": "acme", "settings": { "features": [{ "name": "sso", "enabled": true }] } })
}

fn scalekit_user() -> Value {
    json!({ "id": "usr_1", "email": "ada@acme.example", "memberships": [{ "organization_id": "org_1",
            "roles": [{ "id": "r1", "name": "admin" }], "membership_status": "ACTIVE" }] })
}

fn pingone_collection(name: &str, item: Value) -> Value {
    json!({ "_links": { "self": { "href": "https://api.pingone.com/v1/x" }, "next": { "href": "https://api.pingone.com/v1/x?cursor=2" } },
            "_embedded": { name: [item] }, "count": 2, "size": 1 })
}

const CASES: u32 = 10_000;

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn nirvana_organization_pages(value in answer(json!({ "items": [nirvana_org()], "pagination": { "next_cursor": "c2", "previous_cursor": null, "total_count": 2 } }))) {
        if let Some(page) = decode::<nirvana::wire::Page<nirvana::wire::Organization>>(&value) {
            let items = page.items.into_iter().map(nirvana::organization_from).collect();
            list(items, page.pagination.next_cursor, page.pagination.total_count);
        }
        let _ = decode::<nirvana::wire::Organization>(&value);
    }

    #[test]
    fn nirvana_memberships_and_addresses(value in answer(json!({ "items": [{ "id": "m1", "organization_id": "org_1", "user_id": "usr_1", "role": "owner" }],
            "pagination": { "next_cursor": null, "total_count": 1 },
            "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US", "line2": null }))) {
        if let Some(page) = decode::<nirvana::wire::Page<nirvana::wire::Membership>>(&value) {
            let _ = page.items.len();
        }
        if let Some(address) = decode::<nirvana::wire::Address>(&value) {
            let _ = nirvana::address_from(address);
        }
    }

    #[test]
    fn scalekit_organization_pages_and_answers(value in answer(json!({ "organizations": [scalekit_org()], "next_page_token": "t2", "total_size": "2", "organization": scalekit_org() }))) {
        if let Some(page) = decode::<scalekit::wire::OrganizationPage>(&value) {
            let items = page.organizations.into_iter().map(scalekit::organization_from).collect();
            list(items, page.next_page_token, page.total_size);
        }
        if let Some(answer) = decode::<scalekit::wire::OrganizationAnswer>(&value) {
            let _ = scalekit::organization_from(answer.organization);
        }
    }

    #[test]
    fn scalekit_domains_and_users(value in answer(json!({ "domains": [{ "id": "d1", "domain": "acme.example", "domain_type": "ORGANIZATION_DOMAIN", "verification_status": "PENDING" }],
            "users": [scalekit_user()], "next_page_token": "", "total_size": 1, "user": scalekit_user(),
            "domain": { "id": "d1", "domain": "acme.example" } }))) {
        if let Some(page) = decode::<scalekit::wire::DomainPage>(&value) {
            list(page.domains.into_iter().map(scalekit::domain_from).collect(), None, None);
        }
        if let Some(page) = decode::<scalekit::wire::UserPage>(&value) {
            let members: Result<Vec<_>, _> = page.users.into_iter().map(|u| scalekit::member_from(u, "org_1")).collect();
            if let Ok(members) = members {
                list(members, page.next_page_token, page.total_size);
            }
        }
        let _ = decode::<scalekit::wire::UserAnswer>(&value);
        let _ = decode::<scalekit::wire::DomainAnswer>(&value);
    }

    #[test]
    fn pingone_collections(value in answer(pingone_collection("organizations", json!({ "id": "o1", "name": "Example", "type": "INTERNAL", "description": "x" }))),
                           licenses in answer(pingone_collection("licenses", json!({ "id": "l1", "package": "INTERNAL", "status": "ACTIVE", "expiresAt": "2030-01-01T00:00:00Z" })))) {
        if let Some(page) = decode::<pingone::wire::Collection<pingone::wire::Organizations>>(&value) {
            use pingone::wire::Embedded;
            let link = page.links.next.map(|l| l.href);
            list(page.embedded.into_items().into_iter().map(pingone::organization_from).collect(), link, page.count);
        }
        if let Some(page) = decode::<pingone::wire::Collection<pingone::wire::Licenses>>(&licenses) {
            use pingone::wire::Embedded;
            list(page.embedded.into_items().into_iter().map(pingone::license_from).collect(), None, page.count);
        }
    }

    #[test]
    fn token_answers(value in answer(json!({ "access_token": "tok", "token_type": "Bearer", "expires_in": 3600, "scope": "x" }))) {
        if let Some(token) = decode::<super::http::TokenAnswer>(&value) {
            let _ = super::http::token_lifetime(&token);
        }
    }

    #[test]
    fn error_bodies(value in answer(json!({ "code": 3, "message": "bad", "error": { "code": "c", "message": "m" }, "error_description": "d",
            "details": [{ "error_code": "INVALID_ARGUMENT", "target": "t", "message": "m",
                          "validation_error_info": { "field_violations": [{ "field": "f", "description": "d" }] } }] }))) {
        let _ = super::error::vendor_message(&value);
    }
}
