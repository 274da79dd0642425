//! Nirvana Labs: organizations (no delete), one postal address each, read-only memberships and
//! domains. Bearer API key auth; cursor pagination with `limit` 10..100.
//!
//! Unpublished details and the choices made here: errors are `{"error": {"code", "message"}}`;
//! validation failures answer 400 `validation_error`; creates answer 200; the default `limit`
//! is 20.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::emulator::{Authorized, Emulator, JsonBody};
use super::http::{ApiError, Reply, bearer, is_email, now, ok};
use super::pages::{BadPageParameter, PageSize, cursor, encode_cursor};
use super::state::Shared;
use super::store::{Db, StoreError};

const V: &str = "nirvana";
const MAX_LEN: usize = 255;
pub const DEFAULT_LIMIT: usize = 20;

pub fn router() -> Router<Shared> {
    Router::new()
        .route(
            "/v1/organizations",
            get(list_organizations).post(create_organization),
        )
        .route(
            "/v1/organizations/{organization_id}",
            get(get_organization).patch(update_organization),
        )
        .route(
            "/v1/organizations/{organization_id}/leave",
            post(leave_organization),
        )
        .route(
            "/v1/organizations/{organization_id}/address",
            get(get_address).post(create_address).patch(update_address),
        )
        .route(
            "/v1/organizations/{organization_id}/memberships",
            get(list_memberships),
        )
        .route(
            "/v1/organizations/{organization_id}/memberships/{membership_id}",
            get(get_membership),
        )
}

pub fn error(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(
        status,
        json!({ "error": { "code": code, "message": message.into() } }),
    )
}

pub fn error_for_status(status: StatusCode, message: &str) -> ApiError {
    let code = match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        409 => "conflict",
        422 => "unprocessable_entity",
        429 => "rate_limited",
        503 => "service_unavailable",
        _ => "internal_error",
    };
    error(status, code, message)
}

fn invalid(message: impl Into<String>) -> ApiError {
    error(StatusCode::BAD_REQUEST, "validation_error", message)
}

fn not_found(what: &str) -> ApiError {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("{what} not found"),
    )
}

/// The Nirvana Labs API as the sandbox emulates it: a Bearer API key, JSON object bodies.
pub struct NirvanaApi;

impl Emulator for NirvanaApi {
    fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
        match bearer(headers) {
            Some(key) if key == shared.credentials.nirvana_api_key => Ok(()),
            Some(_) => Err(error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "invalid API key",
            )),
            None => Err(error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing API key: send `Authorization: Bearer <key>`",
            )),
        }
    }

    fn not_an_object() -> ApiError {
        error(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "request body must be a JSON object",
        )
    }
}

/// A string field: `Ok(None)` when absent; errors for a wrong type, emptiness or length.
fn string_field(
    body: &Map<String, Value>,
    field: &str,
    required: bool,
    nullable: bool,
) -> Result<Option<Value>, ApiError> {
    match body.get(field) {
        None if required => Err(invalid(format!("{field} is required"))),
        None => Ok(None),
        Some(Value::Null) if nullable => Ok(Some(Value::Null)),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(invalid(format!("{field} must not be empty")))
        }
        Some(Value::String(s)) if s.chars().count() > MAX_LEN => Err(invalid(format!(
            "{field} must be at most {MAX_LEN} characters"
        ))),
        Some(Value::String(s)) => Ok(Some(Value::String(s.clone()))),
        Some(_) => Err(invalid(format!("{field} must be a string"))),
    }
}

fn billing_email(body: &Map<String, Value>) -> Result<Option<Value>, ApiError> {
    let value = string_field(body, "billing_email", false, true)?;
    if let Some(Value::String(email)) = &value
        && !is_email(email)
    {
        return Err(invalid("billing_email must be a valid e-mail address"));
    }
    Ok(value)
}

/// A new organization object, as `POST /v1/organizations` and seeds create it.
pub fn new_organization(
    db: &Db,
    name: &str,
    billing_email: Option<&str>,
) -> Result<Value, StoreError> {
    let n = db.next_number("nirvana-organization")?;
    let timestamp = now();
    Ok(json!({
        "id": format!("org_{:016x}", 0x5a5a_0000_0000_0000u64 + n),
        "name": name,
        "billing_email": billing_email,
        "created_at": timestamp,
        "updated_at": timestamp,
        "domains": [],
        "metronome_customer_id": null,
        "stripe_customer_id": null,
        "personal": false,
        "type": "company",
        "services": { "cloud": false, "jit_provisioning": false, "scim": false, "siem": false, "sso": false },
    }))
}

fn load_organization(db: &Db, id: &str) -> Result<Value, ApiError> {
    Ok(db
        .get(V, "organization", id)?
        .ok_or_else(|| not_found("organization"))?
        .body)
}

async fn create_organization(
    Authorized(shared, _): Authorized<NirvanaApi>,
    JsonBody(body, _): JsonBody<NirvanaApi>,
) -> Reply {
    let name = string_field(&body, "name", true, false)?.unwrap_or_default();
    let email = billing_email(&body)?;
    let db = shared.store.lock();
    let organization = new_organization(
        &db,
        name.as_str().unwrap_or_default(),
        email.as_ref().and_then(Value::as_str),
    )?;
    let id = organization["id"].as_str().unwrap_or_default().to_owned();
    db.insert(V, "organization", &id, "", None, &organization)?;
    ok(
        StatusCode::OK,
        shared.shapes().nirvana.organization(organization),
    )
}

async fn get_organization(
    Authorized(shared, _): Authorized<NirvanaApi>,
    Path(id): Path<String>,
) -> Reply {
    let organization = load_organization(&shared.store.lock(), &id)?;
    ok(
        StatusCode::OK,
        shared.shapes().nirvana.organization(organization),
    )
}

async fn update_organization(
    Authorized(shared, _): Authorized<NirvanaApi>,
    Path(id): Path<String>,
    JsonBody(body, _): JsonBody<NirvanaApi>,
) -> Reply {
    let name = string_field(&body, "name", false, false)?;
    let email = billing_email(&body)?;
    let db = shared.store.lock();
    let mut organization = load_organization(&db, &id)?;
    if let Some(name) = name {
        organization["name"] = name;
    }
    if let Some(email) = email {
        organization["billing_email"] = email;
    }
    organization["updated_at"] = json!(now());
    db.update(V, "organization", &id, None, &organization)?;
    ok(
        StatusCode::OK,
        shared.shapes().nirvana.organization(organization),
    )
}

/// The caller leaves the organization: it no longer sees it, but nothing is deleted.
async fn leave_organization(
    Authorized(shared, _): Authorized<NirvanaApi>,
    Path(id): Path<String>,
) -> Reply {
    let db = shared.store.lock();
    load_organization(&db, &id)?;
    db.set_kind(V, "organization", &id, "left-organization")?;
    Ok(StatusCode::OK.into_response())
}

/// `limit` and `cursor` of a Nirvana list request.
fn page_params(query: &HashMap<String, String>) -> Result<(usize, i64), ApiError> {
    const LIMIT: PageSize = PageSize {
        name: "limit",
        default: DEFAULT_LIMIT,
        bounds: 10..=100,
        zero_is_default: false,
    };
    let refused = |bad: BadPageParameter| invalid(bad.to_string());
    Ok((
        LIMIT.of(query).map_err(refused)?,
        cursor(query, "cursor").map_err(refused)?,
    ))
}

/// One page of `kind` under `parent` in Nirvana's list shape, each item shown by `show`.
fn list_page(
    db: &Db,
    (kind, parent): (&str, &str),
    limit: usize,
    after: i64,
    show: impl Fn(Value) -> Value,
) -> Reply {
    let page = db.page(V, kind, parent, after, limit)?;
    let cursor = |c: Option<i64>| c.map_or(Value::Null, |c| Value::String(encode_cursor(c)));
    let (next_cursor, previous_cursor) = (cursor(page.next), cursor(page.previous));
    let items = page.items;
    ok(
        StatusCode::OK,
        json!({
            "items": items.into_iter().map(|o| show(o.body)).collect::<Vec<_>>(),
            "pagination": {
                "next_cursor": next_cursor,
                "previous_cursor": previous_cursor,
                "total_count": db.count(V, kind, parent)?,
            }
        }),
    )
}

async fn list_organizations(
    Authorized(shared, _): Authorized<NirvanaApi>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let (limit, after) = page_params(&query)?;
    let shapes = shared.shapes().nirvana;
    list_page(
        &shared.store.lock(),
        ("organization", ""),
        limit,
        after,
        |o| shapes.organization(o),
    )
}

fn address_fields(
    body: &Map<String, Value>,
    creating: bool,
) -> Result<Map<String, Value>, ApiError> {
    let mut fields = Map::new();
    for field in ["line1", "city", "postal_code", "country"] {
        if let Some(value) = string_field(body, field, creating, false)? {
            fields.insert(field.into(), value);
        }
    }
    for field in ["line2", "state", "tax_id", "tax_id_type"] {
        if let Some(value) = string_field(body, field, false, true)? {
            fields.insert(field.into(), value);
        }
    }
    if let Some(Value::String(country)) = fields.get("country") {
        let valid = country.len() == 2
            && country.bytes().all(|b| b.is_ascii_uppercase())
            && rust_iso3166::from_alpha2(country).is_some();
        if !valid {
            return Err(invalid("country must be an ISO 3166-1 alpha-2 code"));
        }
    }
    Ok(fields)
}

/// Creates an organization's address (also used by seeds).
pub fn insert_address(
    db: &Db,
    organization_id: &str,
    fields: Map<String, Value>,
) -> Result<Value, StoreError> {
    let n = db.next_number("nirvana-address")?;
    let timestamp = now();
    let mut address = json!({
        "id": format!("addr_{n:08}"),
        "organization_id": organization_id,
        "line1": null, "line2": null, "city": null, "state": null, "postal_code": null,
        "country": null, "tax_id": null, "tax_id_type": null,
        "created_at": timestamp,
        "updated_at": timestamp,
    });
    for (key, value) in fields {
        address[key] = value;
    }
    db.insert(
        V,
        "address",
        organization_id,
        organization_id,
        None,
        &address,
    )?;
    Ok(address)
}

async fn create_address(
    Authorized(shared, _): Authorized<NirvanaApi>,
    Path(id): Path<String>,
    JsonBody(body, _): JsonBody<NirvanaApi>,
) -> Reply {
    let fields = address_fields(&body, true)?;
    let db = shared.store.lock();
    load_organization(&db, &id)?;
    if db.get(V, "address", &id)?.is_some() {
        return Err(error(
            StatusCode::CONFLICT,
            "conflict",
            "organization already has an address; update it with PATCH",
        ));
    }
    ok(StatusCode::OK, insert_address(&db, &id, fields)?)
}

async fn get_address(
    Authorized(shared, _): Authorized<NirvanaApi>,
    Path(id): Path<String>,
) -> Reply {
    let db = shared.store.lock();
    load_organization(&db, &id)?;
    let address = db
        .get(V, "address", &id)?
        .ok_or_else(|| not_found("address"))?;
    ok(StatusCode::OK, address.body)
}

async fn update_address(
    Authorized(shared, _): Authorized<NirvanaApi>,
    Path(id): Path<String>,
    JsonBody(body, _): JsonBody<NirvanaApi>,
) -> Reply {
    let fields = address_fields(&body, false)?;
    let db = shared.store.lock();
    load_organization(&db, &id)?;
    let mut address = db
        .get(V, "address", &id)?
        .ok_or_else(|| not_found("address"))?
        .body;
    for (key, value) in fields {
        address[key] = value;
    }
    address["updated_at"] = json!(now());
    db.update(V, "address", &id, None, &address)?;
    ok(StatusCode::OK, address)
}

/// A membership as seeds create it (memberships are read-only through the API).
pub fn insert_membership(
    db: &Db,
    organization_id: &str,
    id: Option<&str>,
    user_id: &str,
    role: &str,
) -> Result<Value, StoreError> {
    let id = match id {
        Some(id) => id.to_owned(),
        None => format!("mem_{:08}", db.next_number("nirvana-membership")?),
    };
    let timestamp = now();
    let membership = json!({
        "id": id,
        "organization_id": organization_id,
        "user_id": user_id,
        "role": role,
        "created_at": timestamp,
        "updated_at": timestamp,
    });
    db.insert(
        V,
        "membership",
        &id,
        organization_id,
        Some(user_id),
        &membership,
    )?;
    Ok(membership)
}

async fn list_memberships(
    Authorized(shared, _): Authorized<NirvanaApi>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let (limit, after) = page_params(&query)?;
    let db = shared.store.lock();
    load_organization(&db, &id)?;
    list_page(&db, ("membership", &id), limit, after, |m| m)
}

async fn get_membership(
    Authorized(shared, _): Authorized<NirvanaApi>,
    Path((id, membership_id)): Path<(String, String)>,
) -> Reply {
    let db = shared.store.lock();
    load_organization(&db, &id)?;
    match db.get(V, "membership", &membership_id)? {
        Some(m) if m.parent == id => ok(StatusCode::OK, m.body),
        _ => Err(not_found("membership")),
    }
}
