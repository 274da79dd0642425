//! PingOne: the environment's token endpoint, and read-only organizations and licenses as HAL
//! collections paged through `_links.next`.
//!
//! Unpublished details and the choices made here: `limit` (organizations only: the licenses
//! list documents `filter` and `order`, and refuses any other parameter) defaults to 100 and
//! may be 1..1000;
//! `count` is the number of matching items and `size` the number in this page; `filter`
//! accepts `status eq "..."` and `beginsAt lt|gt "..."` joined by `and`.

use std::collections::HashMap;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};

use super::auth::{oauth_error, token_reply};
use super::emulator::{Authorized, Emulator};
use super::http::{ApiError, Reply, bearer, now, ok, origin};
use super::pages::{BadPageParameter, PageSize, cursor, encode_cursor};
use super::state::Shared;
use super::store::{Db, StoreError};
use super::vendor::Vendor;

const V: &str = "pingone";
pub const TOKEN_TTL: Duration = Duration::from_secs(3600);
pub const DEFAULT_LIMIT: usize = 100;

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/auth/{environment_id}/as/token", post(token))
        .route("/v1/organizations", get(list_organizations))
        .route("/v1/organizations/{organization_id}", get(get_organization))
        .route(
            "/v1/organizations/{organization_id}/licenses",
            get(list_licenses),
        )
        .route(
            "/v1/organizations/{organization_id}/licenses/{license_id}",
            get(get_license),
        )
}

/// PingOne's error body. The `id` correlates the error in PingOne's logs.
pub fn error(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
    let id = format!(
        "{:08x}-sbx0-4000-8000-{:012x}",
        status.as_u16(),
        chrono::Utc::now().timestamp_micros()
    );
    ApiError::new(
        status,
        json!({ "id": id, "code": code, "message": message.into() }),
    )
}

pub fn error_for_status(status: StatusCode, message: &str) -> ApiError {
    match status.as_u16() {
        400 => error(
            status,
            "INVALID_DATA",
            format!("The request could not be completed. {message}"),
        ),
        401 => error(
            status,
            "ACCESS_FAILED",
            "The request could not be completed. You do not have access to this resource.",
        ),
        403 => error(
            status,
            "ACCESS_FAILED",
            "The request could not be completed. You do not have permissions or are not licensed to make this request.",
        ),
        404 => error(
            status,
            "NOT_FOUND",
            "The request could not be completed. The requested resource was not found.",
        ),
        429 => error(
            status,
            "REQUEST_LIMITED",
            "The request could not be completed. Too many requests.",
        ),
        503 => error(
            status,
            "SERVICE_UNAVAILABLE",
            "The request could not be completed. The service is temporarily unavailable.",
        ),
        _ => error(
            status,
            "UNEXPECTED_ERROR",
            "The request could not be completed. An unexpected error occurred.",
        ),
    }
}

/// 400 `INVALID_DATA` with one detail naming the offending parameter.
fn invalid(target: &str, message: &str) -> ApiError {
    let mut e = error_for_status(
        StatusCode::BAD_REQUEST,
        "One or more validation errors occurred.",
    );
    e.body["details"] = json!([{ "code": "INVALID_VALUE", "target": target, "message": message }]);
    e
}

/// The pingone API as the sandbox emulates it: how it authorizes and refuses a body.
pub struct PingOneApi;

impl Emulator for PingOneApi {
    fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
        match bearer(headers) {
            Some(token) if shared.tokens().is_valid(Vendor::PingOne, token) => Ok(()),
            _ => Err(error_for_status(StatusCode::UNAUTHORIZED, "")),
        }
    }

    fn not_an_object() -> ApiError {
        error_for_status(
            StatusCode::BAD_REQUEST,
            "request body must be a JSON object",
        )
    }
}

/// `POST /auth/{envId}/as/token`: client credentials by HTTP Basic or in the form.
async fn token(
    State(shared): State<Shared>,
    Path(environment_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let credentials = &shared.credentials;
    if environment_id != credentials.pingone_environment_id {
        return Err(error_for_status(StatusCode::NOT_FOUND, ""));
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The grant type is not supported.",
        ));
    }
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(id, secret)| (id.to_owned(), secret.to_owned()))
        });
    let (client_id, client_secret) = match basic {
        Some(pair) => pair,
        None => (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        ),
    };
    if client_id != credentials.pingone_client_id
        || client_secret != credentials.pingone_client_secret
    {
        return Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Request denied: invalid client credentials.",
        ));
    }
    token_reply(&shared, Vendor::PingOne, TOKEN_TTL, "")
}

fn organization_url(base: &str, id: &str) -> String {
    format!("{base}/pingone/v1/organizations/{id}")
}

fn with_links(mut body: Value, links: Value) -> Value {
    body["_links"] = links;
    body
}

fn organization_view(base: &str, body: Value) -> Value {
    let id = body["id"].as_str().unwrap_or_default().to_owned();
    with_links(
        body,
        json!({ "self": { "href": organization_url(base, &id) } }),
    )
}

fn license_view(base: &str, organization_id: &str, body: Value) -> Value {
    let id = body["id"].as_str().unwrap_or_default().to_owned();
    let organization = organization_url(base, organization_id);
    with_links(
        body,
        json!({
            "organization": { "href": organization },
            "self": { "href": format!("{organization}/licenses/{id}") },
        }),
    )
}

/// Stores an organization (seeds are the only writer: PingOne organizations are read-only).
pub fn insert_organization(
    db: &Db,
    id: Option<&str>,
    name: &str,
    description: Option<&str>,
    org_type: &str,
) -> Result<Value, StoreError> {
    let id = match id {
        Some(id) => id.to_owned(),
        None => format!(
            "{:08x}-0000-4000-8000-{:012x}",
            0x5eed_0000u32,
            db.next_number("pingone-organization")?
        ),
    };
    let timestamp = now();
    let mut organization = json!({
        "id": id,
        "name": name,
        "type": org_type,
        "billingConnections": [],
        "createdAt": timestamp,
        "updatedAt": timestamp,
    });
    if let Some(description) = description {
        organization["description"] = json!(description);
    }
    db.insert(V, "organization", &id, "", None, &organization)?;
    Ok(organization)
}

/// Stores a license under an organization; missing `id` and `organization` are filled in.
pub fn insert_license(
    db: &Db,
    organization_id: &str,
    mut license: Value,
) -> Result<Value, StoreError> {
    if license.get("id").and_then(Value::as_str).is_none() {
        license["id"] = json!(format!(
            "{:08x}-0000-4000-8000-{:012x}",
            0x11c3_0000u32,
            db.next_number("pingone-license")?
        ));
    }
    license["organization"] = json!({ "id": organization_id });
    if let Some(map) = license.as_object_mut() {
        map.remove("_links");
    }
    let id = license["id"].as_str().unwrap_or_default().to_owned();
    db.insert(
        V,
        "license",
        &id,
        organization_id,
        license["package"].as_str(),
        &license,
    )?;
    Ok(license)
}

/// `limit` and `cursor` (an offset into the filtered, ordered collection) of a list request.
fn limit_and_offset(query: &HashMap<String, String>) -> Result<(usize, usize), ApiError> {
    const LIMIT: PageSize = PageSize {
        name: "limit",
        default: DEFAULT_LIMIT,
        bounds: 1..=1000,
        zero_is_default: false,
    };
    let refused = |bad: BadPageParameter| invalid(bad.name(), &bad.to_string());
    let limit = LIMIT.of(query).map_err(refused)?;
    let offset = cursor(query, "cursor").map_err(refused)?;
    let offset = usize::try_from(offset)
        .map_err(|_| refused(BadPageParameter::Cursor { name: "cursor" }))?;
    Ok((limit, offset))
}

/// A HAL collection page of `items` (already filtered and ordered) starting at `offset`.
fn hal_page(
    base: &str,
    path: &str,
    query: &HashMap<String, String>,
    name: &str,
    items: Vec<Value>,
    limit: usize,
    offset: usize,
) -> Reply {
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    let link = |cursor: Option<usize>| {
        let mut params: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| k.as_str() != "cursor")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        params.sort();
        if let Some(cursor) = cursor {
            params.push(("cursor".into(), encode_cursor(cursor as i64)));
        }
        let encoded: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        if encoded.is_empty() {
            format!("{base}{path}")
        } else {
            format!("{base}{path}?{encoded}")
        }
    };
    let mut links = json!({ "self": { "href": link((offset > 0).then_some(offset)) } });
    if offset + page.len() < total {
        links["next"] = json!({ "href": link(Some(offset + page.len())) });
    }
    let size = page.len();
    ok(
        StatusCode::OK,
        json!({ "_links": links, "_embedded": { name: page }, "count": total, "size": size }),
    )
}

async fn list_organizations(
    Authorized(shared, _): Authorized<PingOneApi>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let (limit, offset) = limit_and_offset(&query)?;
    let base = origin(&headers);
    let db = shared.store.lock();
    let organizations: Vec<Value> = db
        .list(V, "organization", "", 0, usize::MAX >> 1)?
        .into_iter()
        .map(|o| organization_view(&base, o.body))
        .collect();
    hal_page(
        &base,
        "/pingone/v1/organizations",
        &query,
        "organizations",
        organizations,
        limit,
        offset,
    )
}

fn load_organization(db: &Db, id: &str) -> Result<Value, ApiError> {
    Ok(db
        .get(V, "organization", id)?
        .ok_or_else(|| error_for_status(StatusCode::NOT_FOUND, ""))?
        .body)
}

async fn get_organization(
    Authorized(shared, _): Authorized<PingOneApi>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    let base = origin(&headers);
    ok(
        StatusCode::OK,
        organization_view(&base, load_organization(&shared.store.lock(), &id)?),
    )
}

/// One clause of a license `filter`.
#[derive(Debug, PartialEq)]
enum Clause {
    StatusIs(String),
    BeginsBefore(chrono::DateTime<chrono::FixedOffset>),
    BeginsAfter(chrono::DateTime<chrono::FixedOffset>),
}

fn parse_filter(filter: &str) -> Option<Vec<Clause>> {
    let mut clauses = Vec::new();
    for part in split_and(filter) {
        let mut words = part.trim().splitn(3, ' ');
        let (attribute, operator, value) = (words.next()?, words.next()?, words.next()?.trim());
        let value = value.strip_prefix('"')?.strip_suffix('"')?;
        let clause = match (attribute, operator.to_ascii_lowercase().as_str()) {
            ("status", "eq") => Clause::StatusIs(value.to_ascii_uppercase()),
            ("beginsAt", "lt") => {
                Clause::BeginsBefore(chrono::DateTime::parse_from_rfc3339(value).ok()?)
            }
            ("beginsAt", "gt") => {
                Clause::BeginsAfter(chrono::DateTime::parse_from_rfc3339(value).ok()?)
            }
            _ => return None,
        };
        clauses.push(clause);
    }
    Some(clauses)
}

fn split_and(filter: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = filter;
    while let Some(at) = rest.to_ascii_lowercase().find(" and ") {
        parts.push(&rest[..at]);
        rest = &rest[at + 5..];
    }
    parts.push(rest);
    parts
}

fn begins_at(license: &Value) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    license["beginsAt"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
}

fn matches(license: &Value, clauses: &[Clause]) -> bool {
    clauses.iter().all(|clause| match clause {
        Clause::StatusIs(status) => license["status"].as_str() == Some(status.as_str()),
        Clause::BeginsBefore(t) => begins_at(license).is_some_and(|b| b < *t),
        Clause::BeginsAfter(t) => begins_at(license).is_some_and(|b| b > *t),
    })
}

async fn list_licenses(
    Authorized(shared, _): Authorized<PingOneApi>,
    headers: HeaderMap,
    Path(organization_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    // The licenses list documents `filter` and `order` only (and pages by its own `cursor`
    // links): a client that sends anything else relies on what the vendor never promised.
    if let Some(other) = query
        .keys()
        .find(|k| !["filter", "order", "cursor"].contains(&k.as_str()))
    {
        return Err(invalid(
            other,
            &format!(
                "Unsupported parameter `{other}`: the licenses list takes `filter` and `order`."
            ),
        ));
    }
    let (limit, offset) = limit_and_offset(&query)?;
    let clauses = match query.get("filter") {
        None => Vec::new(),
        Some(filter) => parse_filter(filter).ok_or_else(|| {
            invalid("filter", "Unsupported filter: use `status eq \"ACTIVE\"` or `beginsAt lt \"<RFC 3339 time>\"`, joined by `and`.")
        })?,
    };
    let descending = match query.get("order").map(String::as_str) {
        None => None,
        Some("beginsAt") => Some(false),
        Some("-beginsAt") => Some(true),
        Some(_) => {
            return Err(invalid(
                "order",
                "Unsupported order: use `beginsAt` or `-beginsAt`.",
            ));
        }
    };
    let base = origin(&headers);
    let db = shared.store.lock();
    load_organization(&db, &organization_id)?;
    let mut licenses: Vec<Value> = db
        .list(V, "license", &organization_id, 0, usize::MAX >> 1)?
        .into_iter()
        .map(|o| o.body)
        .filter(|l| matches(l, &clauses))
        .collect();
    if let Some(descending) = descending {
        licenses.sort_by_key(begins_at);
        if descending {
            licenses.reverse();
        }
    }
    let licenses = licenses
        .into_iter()
        .map(|l| license_view(&base, &organization_id, l))
        .collect();
    let path = format!("/pingone/v1/organizations/{organization_id}/licenses");
    hal_page(&base, &path, &query, "licenses", licenses, limit, offset)
}

async fn get_license(
    Authorized(shared, _): Authorized<PingOneApi>,
    headers: HeaderMap,
    Path((organization_id, license_id)): Path<(String, String)>,
) -> Reply {
    let base = origin(&headers);
    let db = shared.store.lock();
    match db.get(V, "license", &license_id)? {
        Some(license) if license.parent == organization_id => ok(
            StatusCode::OK,
            license_view(&base, &organization_id, license.body),
        ),
        _ => Err(error_for_status(StatusCode::NOT_FOUND, "")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_the_documented_forms() {
        assert_eq!(
            parse_filter("status eq \"active\""),
            Some(vec![Clause::StatusIs("ACTIVE".into())])
        );
        let both =
            parse_filter("status eq \"ACTIVE\" and beginsAt lt \"2019-06-25T16:55:44.225Z\"")
                .unwrap();
        assert_eq!(both.len(), 2);
        assert_eq!(parse_filter("name eq \"x\""), None);
        assert_eq!(parse_filter("status eq ACTIVE"), None);
        assert_eq!(parse_filter("beginsAt lt \"yesterday\""), None);
    }
}
