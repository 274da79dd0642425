//! WorkOS: organizations (with their domains inline), organization domains, users and
//! organization memberships, as the WorkOS OpenAPI spec describes them. Bearer API key auth;
//! cursor pagination by object id (`before`/`after`, `limit` 1..100, default 10, `order`
//! `desc` by default), answered as `{object: "list", data, list_metadata: {before, after}}`.
//!
//! Unpublished details and the choices made here: errors are `{"code", "message"}`; ids are
//! the object's prefix and 26 upper-case characters that sort in creation order; a cursor that
//! names no object (deleted since) is a 422; memberships are listed per organization (the
//! `organization_id` filter is required here); role slugs are any lower-case slug; deleting an
//! organization deletes its domains and memberships.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::emulator::{Authorized, Emulator, JsonBody};
use super::http::{ApiError, Reply, bearer, is_email, now, ok};
use super::pages::{PageSize, filtered_after};
use super::state::Shared;
use super::store::{Db, Object, StoreError};

const V: &str = "workos";
pub const DEFAULT_LIMIT: usize = 10;
/// The spec's metadata limits: pairs, key and value lengths.
const METADATA_PAIRS: usize = 50;
const METADATA_KEY: usize = 40;
const METADATA_VALUE: usize = 600;

pub fn router() -> Router<Shared> {
    Router::new()
        .route(
            "/organizations",
            get(list_organizations).post(create_organization),
        )
        .route(
            "/organizations/{id}",
            get(get_organization)
                .put(update_organization)
                .delete(delete_organization),
        )
        .route(
            "/organizations/external_id/{external_id}",
            get(get_organization_by_external_id),
        )
        .route("/organization_domains", axum::routing::post(create_domain))
        .route(
            "/organization_domains/{id}",
            get(get_domain).delete(delete_domain),
        )
        .route("/user_management/users", get(list_users).post(create_user))
        .route(
            "/user_management/organization_memberships",
            get(list_memberships).post(create_membership),
        )
        .route(
            "/user_management/organization_memberships/{id}",
            get(get_membership)
                .put(update_membership)
                .delete(delete_membership),
        )
}

pub fn error(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(status, json!({ "code": code, "message": message.into() }))
}

pub fn error_for_status(status: StatusCode, message: &str) -> ApiError {
    let code = match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "entity_not_found",
        409 => "conflict",
        422 => "invalid_request_parameters",
        429 => "rate_limit_exceeded",
        503 => "service_unavailable",
        _ => "server_error",
    };
    error(status, code, message)
}

fn invalid(message: impl Into<String>) -> ApiError {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request_parameters",
        message,
    )
}

fn not_found(what: &str, id: &str) -> ApiError {
    error(
        StatusCode::NOT_FOUND,
        "entity_not_found",
        format!("{what} not found: '{id}'."),
    )
}

/// The WorkOS API as the sandbox emulates it: a Bearer API key, JSON object bodies.
pub struct WorkosApi;

impl Emulator for WorkosApi {
    fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
        match bearer(headers) {
            Some(key) if key == shared.credentials.workos_api_key => Ok(()),
            _ => Err(error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Unauthorized: send `Authorization: Bearer <API key>`",
            )),
        }
    }

    fn not_an_object() -> ApiError {
        invalid("the request body must be a JSON object")
    }
}

/// A string field: `Ok(None)` when absent (or `null` where `nullable`).
fn string_field<'b>(
    body: &'b Map<String, Value>,
    field: &str,
    nullable: bool,
) -> Result<Option<&'b str>, ApiError> {
    match body.get(field) {
        None => Ok(None),
        Some(Value::Null) if nullable => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(format!("{field} must be a string"))),
    }
}

/// A new id: the object's prefix and 26 characters that sort in creation order.
fn new_id(db: &Db, prefix: &str) -> Result<String, StoreError> {
    let n = db.next_number(&format!("workos-{prefix}"))?;
    Ok(format!("{prefix}_01SB{n:022}"))
}

fn check_metadata(value: &Value) -> Result<Map<String, Value>, ApiError> {
    let Value::Object(metadata) = value else {
        return Err(invalid("metadata must be an object"));
    };
    if metadata.len() > METADATA_PAIRS {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_metadata",
            format!("metadata may hold at most {METADATA_PAIRS} keys"),
        ));
    }
    for (key, value) in metadata {
        let fits = value
            .as_str()
            .is_some_and(|v| v.chars().count() <= METADATA_VALUE);
        if key.is_empty() || key.chars().count() > METADATA_KEY || !fits {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "invalid_metadata",
                format!(
                    "metadata keys are 1 to {METADATA_KEY} characters and values strings of at most {METADATA_VALUE}"
                ),
            ));
        }
    }
    Ok(metadata.clone())
}

fn is_domain(text: &str) -> bool {
    let text = text.trim_end_matches('.');
    text.contains('.')
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

// --- organizations --------------------------------------------------------------------------

/// A new organization object (without its domains, which are objects of their own).
pub fn new_organization(
    db: &Db,
    name: &str,
    external_id: Option<&str>,
    metadata: Map<String, Value>,
) -> Result<Value, StoreError> {
    let timestamp = now();
    Ok(json!({
        "object": "organization",
        "id": new_id(db, "org")?,
        "name": name,
        "external_id": external_id,
        "metadata": metadata,
        "allow_profiles_outside_organization": false,
        "created_at": timestamp,
        "updated_at": timestamp,
    }))
}

/// Stores `organization`; its external id is unique in the environment.
pub fn insert_organization(db: &Db, organization: &Value) -> Result<(), ApiError> {
    let id = organization["id"].as_str().unwrap_or_default();
    let key = organization["external_id"].as_str();
    match db.insert(V, "organization", id, "", key, organization) {
        Err(StoreError::Duplicate { .. }) => Err(external_id_used(key.unwrap_or_default())),
        other => other.map(|_| ()).map_err(ApiError::from),
    }
}

fn external_id_used(key: &str) -> ApiError {
    error(
        StatusCode::BAD_REQUEST,
        "external_id_already_used",
        format!("An organization with external_id '{key}' already exists."),
    )
}

fn load_organization(db: &Db, id: &str) -> Result<Value, ApiError> {
    Ok(db
        .get(V, "organization", id)?
        .ok_or_else(|| not_found("Organization", id))?
        .body)
}

/// An organization as the API shows it: with its domains.
fn organization_view(db: &Db, mut organization: Value) -> Result<Value, StoreError> {
    let id = organization["id"].as_str().unwrap_or_default().to_owned();
    let domains: Vec<Value> = db
        .list(V, "domain", &id, 0, usize::MAX >> 1)?
        .into_iter()
        .map(|d| d.body)
        .collect();
    organization["domains"] = Value::Array(domains);
    Ok(organization)
}

async fn create_organization(
    Authorized(shared, _): Authorized<WorkosApi>,
    JsonBody(body, _): JsonBody<WorkosApi>,
) -> Reply {
    let name = string_field(&body, "name", false)?
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| invalid("name is required"))?;
    let external_id = string_field(&body, "external_id", true)?;
    if external_id.is_some_and(|e| e.chars().count() > 128) {
        return Err(invalid("external_id must be at most 128 characters"));
    }
    let metadata = match body.get("metadata") {
        None | Some(Value::Null) => Map::new(),
        Some(metadata) => check_metadata(metadata)?,
    };
    let allow = match body.get("allow_profiles_outside_organization") {
        None => false,
        Some(Value::Bool(allow)) => *allow,
        Some(_) => {
            return Err(invalid(
                "allow_profiles_outside_organization must be a boolean",
            ));
        }
    };
    let db = shared.store.lock();
    let mut organization = new_organization(&db, name, external_id, metadata)?;
    organization["allow_profiles_outside_organization"] = json!(allow);
    insert_organization(&db, &organization)?;
    ok(StatusCode::CREATED, organization_view(&db, organization)?)
}

async fn get_organization(
    Authorized(shared, _): Authorized<WorkosApi>,
    Path(id): Path<String>,
) -> Reply {
    let db = shared.store.lock();
    let organization = load_organization(&db, &id)?;
    ok(StatusCode::OK, organization_view(&db, organization)?)
}

async fn get_organization_by_external_id(
    Authorized(shared, _): Authorized<WorkosApi>,
    Path(external_id): Path<String>,
) -> Reply {
    let db = shared.store.lock();
    let found = db.find_by_key(V, "organization", None, &external_id)?;
    let organization = found
        .into_iter()
        .next()
        .ok_or_else(|| not_found("Organization", &external_id))?;
    ok(StatusCode::OK, organization_view(&db, organization.body)?)
}

async fn update_organization(
    Authorized(shared, _): Authorized<WorkosApi>,
    Path(id): Path<String>,
    JsonBody(body, _): JsonBody<WorkosApi>,
) -> Reply {
    let db = shared.store.lock();
    let mut organization = load_organization(&db, &id)?;
    if let Some(name) = string_field(&body, "name", false)? {
        if name.trim().is_empty() {
            return Err(invalid("name must not be empty"));
        }
        organization["name"] = json!(name);
    }
    if body.contains_key("external_id") {
        let external_id = string_field(&body, "external_id", true)?;
        if let Some(key) = external_id
            && db
                .find_by_key(V, "organization", None, key)?
                .iter()
                .any(|o| o.id != id)
        {
            return Err(external_id_used(key));
        }
        organization["external_id"] = json!(external_id);
    }
    match body.get("metadata") {
        None => {}
        Some(Value::Null) => organization["metadata"] = json!({}),
        Some(metadata) => organization["metadata"] = Value::Object(check_metadata(metadata)?),
    }
    if let Some(allow) = body.get("allow_profiles_outside_organization") {
        let Value::Bool(allow) = allow else {
            return Err(invalid(
                "allow_profiles_outside_organization must be a boolean",
            ));
        };
        organization["allow_profiles_outside_organization"] = json!(allow);
    }
    if let Some(customer) = string_field(&body, "stripe_customer_id", false)? {
        organization["stripe_customer_id"] = json!(customer);
    }
    organization["updated_at"] = json!(now());
    let key = organization["external_id"].as_str().map(str::to_owned);
    db.update(V, "organization", &id, key.as_deref(), &organization)?;
    ok(StatusCode::OK, organization_view(&db, organization)?)
}

async fn delete_organization(
    Authorized(shared, _): Authorized<WorkosApi>,
    Path(id): Path<String>,
) -> Reply {
    let db = shared.store.lock();
    load_organization(&db, &id)?;
    db.delete_children(V, &id)?;
    db.delete(V, "organization", &id)?;
    Ok(StatusCode::ACCEPTED.into_response())
}

// --- lists ----------------------------------------------------------------------------------

/// One page of `kind` under `parent` in WorkOS's list shape: `limit`, `before`/`after` object
/// ids and `order`, each item shown by `show`.
fn list_page(
    db: &Db,
    (kind, parent): (&str, &str),
    query: &HashMap<String, String>,
    filter: &dyn Fn(&Object) -> bool,
    show: &dyn Fn(Value) -> Result<Value, StoreError>,
) -> Reply {
    const LIMIT: PageSize = PageSize {
        name: "limit",
        default: DEFAULT_LIMIT,
        bounds: 1..=100,
        zero_is_default: false,
    };
    let limit = LIMIT.of(query).map_err(|bad| invalid(bad.to_string()))?;
    let ascending = match query.get("order").map(String::as_str) {
        None | Some("desc" | "normal") => false,
        Some("asc") => true,
        Some(_) => return Err(invalid("order must be asc, desc or normal")),
    };
    let cursor = |name: &str| -> Result<Option<i64>, ApiError> {
        match query.get(name).map(String::as_str) {
            None | Some("") => Ok(None),
            Some(id) => match db.get(V, kind, id)? {
                Some(object) if object.parent == parent => Ok(Some(object.seq)),
                _ => Err(invalid(format!(
                    "{name} is not an object of this list: '{id}'"
                ))),
            },
        }
    };
    let (after, before) = (cursor("after")?, cursor("before")?);
    let id_of = |o: Option<&Object>| o.map_or(Value::Null, |o| json!(o.id));
    let shown = |page: &[Object]| {
        page.iter()
            .map(|o| show(o.body.clone()))
            .collect::<Result<Vec<_>, _>>()
    };
    // Ascending after a cursor (how orgform lists): read on from the cursor only, so that
    // paging through a large collection stays linear.
    if ascending && before.is_none() {
        let (page, more_after) =
            filtered_after(db, (V, kind, parent), after.unwrap_or(0), limit, filter)?;
        return ok(
            StatusCode::OK,
            json!({
                "object": "list",
                "data": shown(&page)?,
                "list_metadata": {
                    "before": if after.is_some() { id_of(page.first()) } else { Value::Null },
                    "after": if more_after { id_of(page.last()) } else { Value::Null },
                },
            }),
        );
    }
    // Otherwise every object of the list in the order asked, then the window the cursors leave.
    let mut all: Vec<Object> = db
        .list(V, kind, parent, 0, usize::MAX >> 1)?
        .into_iter()
        .filter(|o| filter(o))
        .collect();
    if !ascending {
        all.reverse();
    }
    let position = |seq: i64| all.iter().position(|o| o.seq == seq);
    let start = match after {
        Some(seq) => position(seq).map_or(all.len(), |p| p + 1),
        None => 0,
    };
    let end = match before {
        Some(seq) => position(seq).unwrap_or(0),
        None => all.len(),
    }
    .max(start);
    let window = &all[start..end];
    let (page, more_after, more_before) = if before.is_some() && after.is_none() {
        let from = window.len().saturating_sub(limit);
        (&window[from..], true, from > 0 || start > 0)
    } else {
        let to = window.len().min(limit);
        (
            &window[..to],
            to < window.len() || end < all.len(),
            start > 0,
        )
    };
    let data = shown(page)?;
    ok(
        StatusCode::OK,
        json!({
            "object": "list",
            "data": data,
            "list_metadata": {
                "before": if more_before { id_of(page.first()) } else { Value::Null },
                "after": if more_after { id_of(page.last()) } else { Value::Null },
            },
        }),
    )
}

async fn list_organizations(
    Authorized(shared, _): Authorized<WorkosApi>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let db = shared.store.lock();
    let domains: Vec<String> = query
        .get("domains")
        .map(|d| {
            d.split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let search = query.get("search").map(|s| s.to_lowercase());
    let matches = |o: &Object| -> bool {
        let id = o.id.as_str();
        let named = search.as_deref().is_none_or(|s| {
            o.body["name"]
                .as_str()
                .is_some_and(|n| n.to_lowercase().contains(s))
        });
        let domained = domains.is_empty()
            || db
                .list(V, "domain", id, 0, usize::MAX >> 1)
                .is_ok_and(|ds| {
                    ds.iter()
                        .any(|d| domains.iter().any(|x| d.body["domain"] == x.as_str()))
                });
        named && domained
    };
    list_page(&db, ("organization", ""), &query, &matches, &|o| {
        organization_view(&db, o)
    })
}

// --- domains --------------------------------------------------------------------------------

/// Stores a domain of `organization_id`; a domain belongs to one organization.
pub fn insert_domain(
    db: &Db,
    organization_id: &str,
    domain: &str,
    state: Option<&str>,
) -> Result<Value, ApiError> {
    let name = domain.trim_end_matches('.').to_ascii_lowercase();
    let timestamp = now();
    let id = new_id(db, "org_domain")?;
    let object = json!({
        "object": "organization_domain",
        "id": id,
        "organization_id": organization_id,
        "domain": name,
        "state": state.unwrap_or("pending"),
        "verification_strategy": "dns",
        "verification_prefix": "workos-domain-verification",
        "verification_token": format!("sandbox-{id}"),
        "created_at": timestamp,
        "updated_at": timestamp,
    });
    match db.insert(V, "domain", &id, organization_id, Some(&name), &object) {
        Err(StoreError::Duplicate { .. }) => Err(domain_taken(&name)),
        other => other.map(|_| object).map_err(ApiError::from),
    }
}

fn domain_taken(name: &str) -> ApiError {
    error(
        StatusCode::CONFLICT,
        "domain_already_in_use",
        format!("The domain '{name}' is already in use by another organization."),
    )
}

async fn create_domain(
    Authorized(shared, _): Authorized<WorkosApi>,
    JsonBody(body, _): JsonBody<WorkosApi>,
) -> Reply {
    let domain =
        string_field(&body, "domain", false)?.ok_or_else(|| invalid("domain is required"))?;
    let organization_id = string_field(&body, "organization_id", false)?
        .ok_or_else(|| invalid("organization_id is required"))?;
    if !is_domain(domain) {
        return Err(invalid(format!("'{domain}' is not a valid domain")));
    }
    let db = shared.store.lock();
    load_organization(&db, organization_id)?;
    let created = insert_domain(&db, organization_id, domain, None)?;
    ok(StatusCode::CREATED, created)
}

async fn get_domain(Authorized(shared, _): Authorized<WorkosApi>, Path(id): Path<String>) -> Reply {
    let db = shared.store.lock();
    let domain = db
        .get(V, "domain", &id)?
        .ok_or_else(|| not_found("Organization Domain", &id))?;
    ok(StatusCode::OK, domain.body)
}

async fn delete_domain(
    Authorized(shared, _): Authorized<WorkosApi>,
    Path(id): Path<String>,
) -> Reply {
    let db = shared.store.lock();
    if !db.delete(V, "domain", &id)? {
        return Err(not_found("Organization Domain", &id));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

// --- users ----------------------------------------------------------------------------------

/// Stores a user; its e-mail (lower-cased) is unique in the environment.
pub fn insert_user(db: &Db, email: &str) -> Result<Value, ApiError> {
    let timestamp = now();
    let id = new_id(db, "user")?;
    let email = email.to_ascii_lowercase();
    let user = json!({
        "object": "user",
        "id": id,
        "email": email,
        "email_verified": false,
        "first_name": null,
        "last_name": null,
        "profile_picture_url": null,
        "external_id": null,
        "last_sign_in_at": null,
        "metadata": {},
        "created_at": timestamp,
        "updated_at": timestamp,
    });
    match db.insert(V, "user", &id, "", Some(&email), &user) {
        Err(StoreError::Duplicate { .. }) => Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "email_not_available",
            format!("The email '{email}' is already in use."),
        )),
        other => other.map(|_| user).map_err(ApiError::from),
    }
}

async fn create_user(
    Authorized(shared, _): Authorized<WorkosApi>,
    JsonBody(body, _): JsonBody<WorkosApi>,
) -> Reply {
    let email = string_field(&body, "email", false)?.ok_or_else(|| invalid("email is required"))?;
    if !is_email(email) {
        return Err(invalid(format!("'{email}' is not a valid email address")));
    }
    let db = shared.store.lock();
    let user = insert_user(&db, email)?;
    ok(StatusCode::CREATED, user)
}

async fn list_users(
    Authorized(shared, _): Authorized<WorkosApi>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let db = shared.store.lock();
    let email = query.get("email").map(|e| e.to_ascii_lowercase());
    let matches = |o: &Object| {
        email
            .as_deref()
            .is_none_or(|e| o.body["email"].as_str() == Some(e))
    };
    list_page(&db, ("user", ""), &query, &matches, &|u| Ok(u))
}

// --- memberships ----------------------------------------------------------------------------

fn membership_key(organization_id: &str, user_id: &str) -> String {
    format!("{organization_id}/{user_id}")
}

/// The role slugs of a create or update body: `role_slug` or `role_slugs`, not both.
fn role_slugs(body: &Map<String, Value>) -> Result<Option<Vec<String>>, ApiError> {
    let slug_ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    };
    match (body.get("role_slug"), body.get("role_slugs")) {
        (Some(_), Some(_)) => Err(invalid("role_slug and role_slugs are mutually exclusive")),
        (Some(Value::String(slug)), None) if slug_ok(slug) => Ok(Some(vec![slug.clone()])),
        (None, Some(Value::Array(slugs))) if !slugs.is_empty() => slugs
            .iter()
            .map(|s| match s.as_str() {
                Some(s) if slug_ok(s) => Ok(s.to_owned()),
                _ => Err(invalid("role_slugs must be role slugs")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        (None, None) => Ok(None),
        _ => Err(invalid(
            "role_slug must be a role slug, role_slugs a non-empty list of them",
        )),
    }
}

fn roles_value(slugs: &[String]) -> Value {
    Value::Array(slugs.iter().map(|s| json!({ "slug": s })).collect())
}

/// Stores a membership of `user_id` in `organization`; a user is a member once.
pub fn insert_membership(
    db: &Db,
    organization: &Value,
    user_id: &str,
    roles: &[String],
) -> Result<Value, ApiError> {
    let organization_id = organization["id"].as_str().unwrap_or_default();
    let timestamp = now();
    let id = new_id(db, "om")?;
    let membership = json!({
        "object": "organization_membership",
        "id": id,
        "user_id": user_id,
        "organization_id": organization_id,
        "organization_name": organization["name"],
        "status": "active",
        "directory_managed": false,
        "custom_attributes": {},
        "role": roles_value(roles)[0],
        "roles": roles_value(roles),
        "created_at": timestamp,
        "updated_at": timestamp,
    });
    let key = membership_key(organization_id, user_id);
    match db.insert(
        V,
        "membership",
        &id,
        organization_id,
        Some(&key),
        &membership,
    ) {
        Err(StoreError::Duplicate { .. }) => Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "organization_membership_already_exists",
            format!("User '{user_id}' is already a member of organization '{organization_id}'."),
        )),
        other => other.map(|_| membership).map_err(ApiError::from),
    }
}

/// A membership as the API shows it: with its user.
fn membership_view(db: &Db, mut membership: Value) -> Result<Value, StoreError> {
    let user_id = membership["user_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    membership["user"] = db.get(V, "user", &user_id)?.map_or(Value::Null, |u| u.body);
    Ok(membership)
}

fn load_membership(db: &Db, id: &str) -> Result<Value, ApiError> {
    Ok(db
        .get(V, "membership", id)?
        .ok_or_else(|| not_found("Organization Membership", id))?
        .body)
}

async fn list_memberships(
    Authorized(shared, _): Authorized<WorkosApi>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let organization_id = query
        .get("organization_id")
        .filter(|o| !o.is_empty())
        .ok_or_else(|| {
            invalid("organization_id is required (the sandbox lists memberships per organization)")
        })?
        .clone();
    let db = shared.store.lock();
    load_organization(&db, &organization_id)?;
    let user = query.get("user_id").filter(|u| !u.is_empty()).cloned();
    let statuses: Vec<String> = query
        .get("statuses")
        .map(|s| s.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    let matches = |o: &Object| {
        user.as_deref().is_none_or(|u| o.body["user_id"] == u)
            && (statuses.is_empty()
                || statuses
                    .iter()
                    .any(|s| o.body["status"].as_str() == Some(s.as_str())))
    };
    list_page(
        &db,
        ("membership", &organization_id),
        &query,
        &matches,
        &|m| membership_view(&db, m),
    )
}

async fn create_membership(
    Authorized(shared, _): Authorized<WorkosApi>,
    JsonBody(body, _): JsonBody<WorkosApi>,
) -> Reply {
    let user_id =
        string_field(&body, "user_id", false)?.ok_or_else(|| invalid("user_id is required"))?;
    let organization_id = string_field(&body, "organization_id", false)?
        .ok_or_else(|| invalid("organization_id is required"))?;
    let roles = role_slugs(&body)?.unwrap_or_else(|| vec!["member".to_owned()]);
    let db = shared.store.lock();
    let organization = load_organization(&db, organization_id)?;
    if db.get(V, "user", user_id)?.is_none() {
        return Err(not_found("User", user_id));
    }
    let membership = insert_membership(&db, &organization, user_id, &roles)?;
    ok(StatusCode::CREATED, membership_view(&db, membership)?)
}

async fn get_membership(
    Authorized(shared, _): Authorized<WorkosApi>,
    Path(id): Path<String>,
) -> Reply {
    let db = shared.store.lock();
    let membership = load_membership(&db, &id)?;
    ok(StatusCode::OK, membership_view(&db, membership)?)
}

async fn update_membership(
    Authorized(shared, _): Authorized<WorkosApi>,
    Path(id): Path<String>,
    JsonBody(body, _): JsonBody<WorkosApi>,
) -> Reply {
    let roles = role_slugs(&body)?;
    let db = shared.store.lock();
    let mut membership = load_membership(&db, &id)?;
    if let Some(roles) = roles {
        membership["role"] = roles_value(&roles)[0].clone();
        membership["roles"] = roles_value(&roles);
    }
    membership["updated_at"] = json!(now());
    let key = membership_key(
        membership["organization_id"].as_str().unwrap_or_default(),
        membership["user_id"].as_str().unwrap_or_default(),
    );
    db.update(V, "membership", &id, Some(&key), &membership)?;
    ok(StatusCode::OK, membership_view(&db, membership)?)
}

async fn delete_membership(
    Authorized(shared, _): Authorized<WorkosApi>,
    Path(id): Path<String>,
) -> Reply {
    let db = shared.store.lock();
    if !db.delete(V, "membership", &id)? {
        return Err(not_found("Organization Membership", &id));
    }
    Ok(StatusCode::OK.into_response())
}
