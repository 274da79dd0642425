//! Scalekit: client-credentials tokens, organizations (page tokens), feature settings, domains
//! (page numbers), users and memberships; google.rpc-style errors.
//!
//! Unpublished details and the choices made here: tokens live 24 hours; the default page size
//! is 10 for organizations and users and 30 for domains; a duplicate `external_id` or domain
//! answers 409 (`ALREADY_EXISTS`); an organization domain starts `PENDING` (DNS), an allowed
//! e-mail domain `AUTO_VERIFIED`; deleting an organization deletes its domains and memberships.
//! As the vendor documents: `send_invitation_email` absent means true (the membership is
//! `PENDING_INVITE` until accepted, which the sandbox never does), `region_code` is chosen on
//! create only (default `US`), a DNS-verified domain carries `txt_record_key`/`_secret`, and
//! user metadata, profiles and membership metadata/inviters are kept as sent.

use std::collections::HashMap;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, patch, post};
use serde_json::{Map, Value, json};

use super::auth::{oauth_error, token_reply};
use super::emulator::{Authorized, Emulator, JsonBody};
use super::http::{ApiError, Reply, bearer, is_email, json_object, now, ok};
use super::pages::{BadPageParameter, PageSize, cursor, encode_cursor, filtered_after};
use super::state::Shared;
use super::store::{Db, Object, StoreError};
use super::vendor::Vendor;

const V: &str = "scalekit";
pub const ENVIRONMENT_ID: &str = "env_sandbox";
pub const TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);
const FEATURES: [&str; 2] = ["sso", "dir_sync"];

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/oauth/token", post(token))
        .route(
            "/api/v1/organizations",
            get(list_organizations).post(create_organization),
        )
        .route(
            "/api/v1/organizations/{id}",
            get(get_organization)
                .patch(update_organization)
                .delete(delete_organization),
        )
        .route(
            "/api/v1/organizations:external/{external_id}",
            get(get_organization_by_external_id),
        )
        .route(
            "/api/v1/organizations/{id}/settings",
            patch(update_settings),
        )
        .route(
            "/api/v1/organizations/{organization_id}/domains",
            get(list_domains).post(create_domain),
        )
        .route(
            "/api/v1/organizations/{organization_id}/domains/{id}",
            get(get_domain).delete(delete_domain),
        )
        .route(
            "/api/v1/organizations/{organization_id}/users",
            get(list_users).post(create_user),
        )
        .route("/api/v1/users", get(list_environment_users))
        .route("/api/v1/users:search", get(search_users))
        .route(
            "/api/v1/memberships/organizations/{organization_id}/users/{id}",
            post(create_membership::<ById>)
                .patch(update_membership::<ById>)
                .delete(delete_membership::<ById>),
        )
        .route(
            "/api/v1/memberships/organizations/{organization_id}/users:external/{external_id}",
            post(create_membership::<ByExternalId>)
                .patch(update_membership::<ByExternalId>)
                .delete(delete_membership::<ByExternalId>),
        )
}

/// google.rpc codes used here.
mod rpc {
    pub const INVALID_ARGUMENT: i32 = 3;
    pub const NOT_FOUND: i32 = 5;
    pub const ALREADY_EXISTS: i32 = 6;
    pub const RESOURCE_EXHAUSTED: i32 = 8;
    pub const INTERNAL: i32 = 13;
    pub const UNAVAILABLE: i32 = 14;
    pub const UNAUTHENTICATED: i32 = 16;
}

pub fn error(
    status: StatusCode,
    code: i32,
    error_code: &str,
    message: impl Into<String>,
) -> ApiError {
    ApiError::new(
        status,
        json!({
            "code": code,
            "message": message.into(),
            "details": [{ "@type": "type.googleapis.com/scalekit.v1.errdetails.ErrorInfo", "error_code": error_code }]
        }),
    )
}

pub fn error_for_status(status: StatusCode, message: &str) -> ApiError {
    let (code, error_code) = match status.as_u16() {
        400 => (rpc::INVALID_ARGUMENT, "INVALID_ARGUMENT"),
        401 => (rpc::UNAUTHENTICATED, "UNAUTHENTICATED"),
        404 => (rpc::NOT_FOUND, "NOT_FOUND"),
        409 => (rpc::ALREADY_EXISTS, "ALREADY_EXISTS"),
        429 => (rpc::RESOURCE_EXHAUSTED, "RATE_LIMITED"),
        503 => (rpc::UNAVAILABLE, "UNAVAILABLE"),
        _ => (rpc::INTERNAL, "INTERNAL"),
    };
    error(status, code, error_code, message)
}

/// 400 with `validation_error_info.field_violations`.
fn invalid(field: &str, description: impl Into<String>) -> ApiError {
    let description = description.into();
    ApiError::new(
        StatusCode::BAD_REQUEST,
        json!({
            "code": rpc::INVALID_ARGUMENT,
            "message": format!("invalid {field}: {description}"),
            "details": [{
                "@type": "type.googleapis.com/scalekit.v1.errdetails.ErrorInfo",
                "error_code": "INVALID_ARGUMENT",
                "validation_error_info": { "field_violations": [{ "field": field, "description": description }] }
            }]
        }),
    )
}

fn not_found(what: &str) -> ApiError {
    error(
        StatusCode::NOT_FOUND,
        rpc::NOT_FOUND,
        "NOT_FOUND",
        format!("{what} not found"),
    )
}

fn conflict(message: impl Into<String>) -> ApiError {
    error(
        StatusCode::CONFLICT,
        rpc::ALREADY_EXISTS,
        "ALREADY_EXISTS",
        message,
    )
}

/// The scalekit API as the sandbox emulates it: how it authorizes and refuses a body.
pub struct ScalekitApi;

impl Emulator for ScalekitApi {
    fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
        match bearer(headers) {
            Some(token) if shared.tokens().is_valid(Vendor::Scalekit, token) => Ok(()),
            Some(_) => Err(error(
                StatusCode::UNAUTHORIZED,
                rpc::UNAUTHENTICATED,
                "UNAUTHENTICATED",
                "Token invalid or expired",
            )),
            None => Err(error(
                StatusCode::UNAUTHORIZED,
                rpc::UNAUTHENTICATED,
                "UNAUTHENTICATED",
                "Token empty",
            )),
        }
    }

    fn not_an_object() -> ApiError {
        error(
            StatusCode::BAD_REQUEST,
            rpc::INVALID_ARGUMENT,
            "INVALID_ARGUMENT",
            "request body must be a JSON object",
        )
    }
}

/// `POST /oauth/token`, form-encoded client credentials.
async fn token(State(shared): State<Shared>, body: Bytes) -> Reply {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        ));
    }
    let credentials = &shared.credentials;
    let valid = form.get("client_id") == Some(&credentials.scalekit_client_id)
        && form.get("client_secret") == Some(&credentials.scalekit_client_secret);
    if !valid {
        return Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        ));
    }
    token_reply(&shared, Vendor::Scalekit, TOKEN_TTL, "openid profile email")
}

fn optional_string<'a>(
    body: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a str>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(field, "must be a string")),
    }
}

fn check_metadata(value: &Value) -> Result<Map<String, Value>, ApiError> {
    check_string_map("metadata", value, 10)
}

/// A `{key: string}` map as Scalekit allows it: keys 3-25 characters, values 1-256, at most
/// `max` pairs.
fn check_string_map(
    field: &str,
    value: &Value,
    max: usize,
) -> Result<Map<String, Value>, ApiError> {
    let Value::Object(map) = value else {
        return Err(invalid(field, "must be an object of strings"));
    };
    if map.len() > max {
        return Err(invalid(
            field,
            format!("at most {max} key-value pairs are allowed"),
        ));
    }
    for (key, value) in map {
        let key_len = key.chars().count();
        if !(3..=25).contains(&key_len) {
            return Err(invalid(
                field,
                format!("key `{key}` must be 3 to 25 characters"),
            ));
        }
        match value {
            Value::String(v) if (1..=256).contains(&v.chars().count()) => {}
            Value::String(_) => {
                return Err(invalid(
                    field,
                    format!("value of `{key}` must be 1 to 256 characters"),
                ));
            }
            _ => {
                return Err(invalid(field, format!("value of `{key}` must be a string")));
            }
        }
    }
    Ok(map.clone())
}

/// `user_profile` of a user create (`usersCreateUserProfile`), checked and kept as sent;
/// `email_verified` is the vendor's to set.
fn check_user_profile(value: Option<&Value>) -> Result<Value, ApiError> {
    let mut profile = match value {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => return Err(invalid("user_profile", "must be an object")),
    };
    const TEXT: [&str; 8] = [
        "given_name",
        "family_name",
        "name",
        "gender",
        "locale",
        "phone_number",
        "picture",
        "preferred_username",
    ];
    for (key, value) in &profile {
        let field = format!("user_profile.{key}");
        match key.as_str() {
            k if TEXT.contains(&k) => match value {
                Value::String(text) if text.chars().count() <= 255 => {}
                Value::String(_) => return Err(invalid(&field, "must be at most 255 characters")),
                _ => return Err(invalid(&field, "must be a string")),
            },
            "custom_attributes" => {
                check_string_map(&field, value, 20)?;
            }
            "metadata" => {
                check_string_map(&field, value, 20)?;
            }
            "groups" => {
                let valid = value.as_array().is_some_and(|groups| {
                    groups.iter().all(|g| {
                        g.as_str()
                            .is_some_and(|g| (1..=250).contains(&g.chars().count()))
                    })
                });
                if !valid {
                    return Err(invalid(&field, "must be a list of 1-250 character names"));
                }
            }
            _ => return Err(invalid(&field, "is not a field of a user profile")),
        }
    }
    profile.insert("email_verified".into(), json!(false));
    Ok(Value::Object(profile))
}

/// `send_invitation_email`: the vendor's default, when absent, is to send one.
fn send_invitation(query: &HashMap<String, String>) -> Result<bool, ApiError> {
    match query.get("send_invitation_email").map(String::as_str) {
        None => Ok(true),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(_) => Err(invalid("send_invitation_email", "must be true or false")),
    }
}

/// The fields of a new membership (`v1usersCreateMembership`) besides its roles.
struct MembershipFields {
    status: String,
    metadata: Map<String, Value>,
    inviter_email: Option<String>,
}

impl MembershipFields {
    /// From a request body's membership object: invited ones wait for the user to accept.
    fn from_request(
        body: &Map<String, Value>,
        invited: bool,
    ) -> Result<MembershipFields, ApiError> {
        let metadata = match body.get("metadata") {
            None | Some(Value::Null) => Map::new(),
            Some(metadata) => check_metadata(metadata)?,
        };
        let inviter_email = optional_string(body, "inviter_email")?.map(str::to_owned);
        if let Some(inviter) = &inviter_email
            && !is_email(inviter)
        {
            return Err(invalid("inviter_email", "must be a valid e-mail address"));
        }
        Ok(MembershipFields {
            status: if invited { "PENDING_INVITE" } else { "ACTIVE" }.to_owned(),
            metadata,
            inviter_email,
        })
    }
}

/// Applies the settable organization fields of `body` to `organization`, validating each.
fn apply_organization_fields(
    db: &Db,
    organization: &mut Value,
    body: &Map<String, Value>,
) -> Result<(), ApiError> {
    if let Some(name) = optional_string(body, "display_name")? {
        if !(1..=200).contains(&name.chars().count()) {
            return Err(invalid("display_name", "must be 1 to 200 characters"));
        }
        organization["display_name"] = json!(name);
    }
    if let Some(external_id) = optional_string(body, "external_id")? {
        let own_id = organization["id"].as_str().unwrap_or_default();
        let taken = db
            .find_by_key(V, "organization", None, external_id)?
            .iter()
            .any(|other| other.id != own_id);
        if taken {
            return Err(conflict(format!(
                "an organization with external_id `{external_id}` already exists"
            )));
        }
        organization["external_id"] = json!(external_id);
    }
    if let Some(metadata) = body.get("metadata").filter(|m| !m.is_null()) {
        organization["metadata"] = Value::Object(check_metadata(metadata)?);
    }
    if let Some(slug) = optional_string(body, "slug")? {
        if !(1..=253).contains(&slug.len()) {
            return Err(invalid("slug", "must be 1 to 253 characters"));
        }
        organization["slug"] = json!(slug);
    }
    if let Some(logo) = optional_string(body, "logo_url")? {
        if logo.len() > 1024 || !(logo.starts_with("https://") || logo.starts_with("http://")) {
            return Err(invalid(
                "logo_url",
                "must be a URL of at most 1024 characters",
            ));
        }
        organization["logo_url"] = json!(logo);
    }
    Ok(())
}

/// A new organization object, before its settable fields are applied.
pub fn new_organization(db: &Db) -> Result<Value, StoreError> {
    let n = db.next_number("scalekit-organization")?;
    let timestamp = now();
    Ok(json!({
        "id": format!("org_{}", 59_615_193_906_282_000u64 + n),
        "display_name": "",
        "metadata": {},
        "region_code": "US",
        "settings": { "features": FEATURES.iter().map(|f| json!({ "name": f, "enabled": false })).collect::<Vec<_>>() },
        "create_time": timestamp,
        "update_time": timestamp,
    }))
}

fn external_key(organization: &Value) -> Option<String> {
    organization["external_id"].as_str().map(str::to_owned)
}

/// Inserts an organization built by [`new_organization`] (also used by seeds).
pub fn insert_organization(db: &Db, organization: &Value) -> Result<(), StoreError> {
    let id = organization["id"].as_str().unwrap_or_default();
    db.insert(
        V,
        "organization",
        id,
        "",
        external_key(organization).as_deref(),
        organization,
    )?;
    Ok(())
}

fn load_organization(db: &Db, id: &str) -> Result<Value, ApiError> {
    Ok(db
        .get(V, "organization", id)?
        .ok_or_else(|| not_found("organization"))?
        .body)
}

async fn create_organization(
    Authorized(shared, _): Authorized<ScalekitApi>,
    JsonBody(body, _): JsonBody<ScalekitApi>,
) -> Reply {
    if optional_string(&body, "display_name")?.is_none() {
        return Err(invalid("display_name", "is required"));
    }
    // The data region is chosen at creation only (the update body has no `region_code`).
    let region = optional_string(&body, "region_code")?.unwrap_or("US");
    if !["US", "EU"].contains(&region) {
        return Err(invalid("region_code", "must be US or EU"));
    }
    let db = shared.store.lock();
    let mut organization = new_organization(&db)?;
    organization["region_code"] = json!(region);
    apply_organization_fields(&db, &mut organization, &body)?;
    insert_organization(&db, &organization)?;
    ok(StatusCode::CREATED, json!({ "organization": organization }))
}

async fn get_organization(
    Authorized(shared, _): Authorized<ScalekitApi>,
    Path(id): Path<String>,
) -> Reply {
    ok(
        StatusCode::OK,
        json!({ "organization": load_organization(&shared.store.lock(), &id)? }),
    )
}

async fn get_organization_by_external_id(
    Authorized(shared, _): Authorized<ScalekitApi>,
    Path(external_id): Path<String>,
) -> Reply {
    let found = shared
        .store
        .lock()
        .find_by_key(V, "organization", None, &external_id)?;
    let organization = found
        .into_iter()
        .next()
        .ok_or_else(|| not_found("organization"))?;
    ok(StatusCode::OK, json!({ "organization": organization.body }))
}

async fn update_organization(
    Authorized(shared, _): Authorized<ScalekitApi>,
    Path(id): Path<String>,
    JsonBody(body, _): JsonBody<ScalekitApi>,
) -> Reply {
    let db = shared.store.lock();
    let mut organization = load_organization(&db, &id)?;
    apply_organization_fields(&db, &mut organization, &body)?;
    organization["update_time"] = json!(now());
    db.update(
        V,
        "organization",
        &id,
        external_key(&organization).as_deref(),
        &organization,
    )?;
    ok(StatusCode::OK, json!({ "organization": organization }))
}

async fn delete_organization(
    Authorized(shared, _): Authorized<ScalekitApi>,
    Path(id): Path<String>,
) -> Reply {
    let db = shared.store.lock();
    load_organization(&db, &id)?;
    db.transaction(|db| {
        db.delete_children(V, &id)?;
        db.delete(V, "organization", &id)
    })?;
    ok(StatusCode::OK, json!({}))
}

async fn update_settings(
    Authorized(shared, _): Authorized<ScalekitApi>,
    Path(id): Path<String>,
    JsonBody(body, _): JsonBody<ScalekitApi>,
) -> Reply {
    let Some(Value::Array(requested)) = body.get("features") else {
        return Err(invalid("features", "must be a list of {name, enabled}"));
    };
    let mut changes = Vec::new();
    for feature in requested {
        let (Some(name), Some(enabled)) = (feature["name"].as_str(), feature["enabled"].as_bool())
        else {
            return Err(invalid(
                "features",
                "each feature needs a string `name` and a boolean `enabled`",
            ));
        };
        if !FEATURES.contains(&name) {
            return Err(invalid(
                "features",
                format!("unknown feature `{name}`; expected sso or dir_sync"),
            ));
        }
        changes.push((name.to_owned(), enabled));
    }
    let db = shared.store.lock();
    let mut organization = load_organization(&db, &id)?;
    set_features(&mut organization, &changes);
    organization["update_time"] = json!(now());
    db.update(
        V,
        "organization",
        &id,
        external_key(&organization).as_deref(),
        &organization,
    )?;
    ok(StatusCode::OK, json!({ "organization": organization }))
}

pub fn set_features(organization: &mut Value, changes: &[(String, bool)]) {
    if let Some(features) = organization["settings"]["features"].as_array_mut() {
        for (name, enabled) in changes {
            for feature in features.iter_mut() {
                if feature["name"] == json!(name) {
                    feature["enabled"] = json!(enabled);
                }
            }
        }
    }
}

/// The `page_size` a list request asks for, within `bounds` (0 is the default, as protobuf
/// reads an unset integer).
fn page_size(
    query: &HashMap<String, String>,
    default: usize,
    bounds: std::ops::RangeInclusive<usize>,
) -> Result<usize, ApiError> {
    let size = PageSize {
        name: "page_size",
        default,
        bounds,
        zero_is_default: true,
    };
    size.of(query).map_err(refused)
}

fn page_token(query: &HashMap<String, String>) -> Result<i64, ApiError> {
    cursor(query, "page_token").map_err(refused)
}

/// A page parameter refused in Scalekit's error shape.
fn refused(bad: BadPageParameter) -> ApiError {
    invalid(bad.name(), bad.to_string())
}

/// One page of objects after `after`: the items, the next token and the previous token.
fn token_page(
    db: &Db,
    kind: &str,
    parent: &str,
    after: i64,
    size: usize,
) -> Result<(Vec<Object>, String, String), ApiError> {
    let page = db.page(V, kind, parent, after, size)?;
    let token = |c: Option<i64>| c.map(encode_cursor).unwrap_or_default();
    Ok((page.items, token(page.next), token(page.previous)))
}

async fn list_organizations(
    Authorized(shared, _): Authorized<ScalekitApi>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let size = page_size(&query, 10, 10..=100)?;
    let after = page_token(&query)?;
    let db = shared.store.lock();
    if let Some(external_id) = query.get("external_id").filter(|e| !e.is_empty()) {
        let found: Vec<Value> = db
            .find_by_key(V, "organization", None, external_id)?
            .into_iter()
            .map(|o| o.body)
            .collect();
        let total = found.len();
        return ok(
            StatusCode::OK,
            json!({ "organizations": found, "next_page_token": "", "prev_page_token": "", "total_size": total }),
        );
    }
    let (organizations, next, previous) = token_page(&db, "organization", "", after, size)?;
    ok(
        StatusCode::OK,
        json!({
            "organizations": organizations.into_iter().map(|o| o.body).collect::<Vec<_>>(),
            "next_page_token": next,
            "prev_page_token": previous,
            "total_size": db.count(V, "organization", "")?,
        }),
    )
}

/// Whether `text` is a plausible DNS name (the vendor refuses anything else).
fn is_domain(text: &str) -> bool {
    text.contains('.')
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Adds a domain to an organization (also used by seeds). The name must be free.
pub fn insert_domain(
    db: &Db,
    organization_id: &str,
    domain: &str,
    domain_type: &str,
    verification_status: Option<&str>,
) -> Result<Value, StoreError> {
    let n = db.next_number("scalekit-domain")?;
    let timestamp = now();
    let (status, method) = match domain_type {
        "ALLOWED_EMAIL_DOMAIN" => ("AUTO_VERIFIED", "NOT_APPLICABLE"),
        _ => ("PENDING", "DNS"),
    };
    let mut value = json!({
        "id": format!("dom_{}", 88_000_000_000_000_000u64 + n),
        "domain": domain,
        "domain_type": domain_type,
        "organization_id": organization_id,
        "environment_id": ENVIRONMENT_ID,
        "verification_status": verification_status.unwrap_or(status),
        "verification_method": method,
        "create_time": timestamp,
        "update_time": timestamp,
    });
    // A DNS-verified domain carries the TXT record that proves it: a host and a secret value
    // (made from the domain's number, so a seeded sandbox is the same every time).
    if method == "DNS" {
        value["txt_record_key"] = json!("scalekit-domain-verification");
        value["txt_record_secret"] = json!(format!("sk-dv-{:016x}", txt_secret(n)));
    }
    db.insert(
        V,
        "domain",
        value["id"].as_str().unwrap_or_default(),
        organization_id,
        Some(domain),
        &value,
    )?;
    Ok(value)
}

/// A deterministic, unguessable-looking number for a domain's TXT secret (splitmix64).
fn txt_secret(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

async fn create_domain(
    Authorized(shared, _): Authorized<ScalekitApi>,
    Path(organization_id): Path<String>,
    JsonBody(body, _): JsonBody<ScalekitApi>,
) -> Reply {
    let domain = optional_string(&body, "domain")?
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| invalid("domain", "is required"))?;
    if !is_domain(&domain) {
        return Err(invalid("domain", "must be a valid domain name"));
    }
    let domain_type = optional_string(&body, "domain_type")?
        .unwrap_or("ORGANIZATION_DOMAIN")
        .to_owned();
    if !["ORGANIZATION_DOMAIN", "ALLOWED_EMAIL_DOMAIN"].contains(&domain_type.as_str()) {
        return Err(invalid(
            "domain_type",
            "must be ORGANIZATION_DOMAIN or ALLOWED_EMAIL_DOMAIN",
        ));
    }
    let db = shared.store.lock();
    load_organization(&db, &organization_id)?;
    if !db.find_by_key(V, "domain", None, &domain)?.is_empty() {
        return Err(conflict(format!(
            "domain `{domain}` is already registered in this environment"
        )));
    }
    let created = insert_domain(&db, &organization_id, &domain, &domain_type, None)?;
    ok(StatusCode::OK, json!({ "domain": created }))
}

async fn list_domains(
    Authorized(shared, _): Authorized<ScalekitApi>,
    Path(organization_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let size = page_size(&query, 30, 1..=100)?;
    let number = match query.get("page_number") {
        None => 0,
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| invalid("page_number", "must be 0 or more"))?,
    };
    let db = shared.store.lock();
    load_organization(&db, &organization_id)?;
    let domains: Vec<Value> = db
        .list_page(
            V,
            "domain",
            &organization_id,
            number.saturating_mul(size),
            size,
        )?
        .into_iter()
        .map(|o| o.body)
        .filter(|d| {
            query
                .get("domain_type")
                .is_none_or(|t| d["domain_type"] == json!(t))
        })
        .collect();
    ok(
        StatusCode::OK,
        json!({ "domains": domains, "page_number": number, "page_size": size }),
    )
}

async fn get_domain(
    Authorized(shared, _): Authorized<ScalekitApi>,
    Path((organization_id, id)): Path<(String, String)>,
) -> Reply {
    let db = shared.store.lock();
    match db.get(V, "domain", &id)? {
        Some(domain) if domain.parent == organization_id => {
            ok(StatusCode::OK, json!({ "domain": domain.body }))
        }
        _ => Err(not_found("domain")),
    }
}

async fn delete_domain(
    Authorized(shared, _): Authorized<ScalekitApi>,
    Path((organization_id, id)): Path<(String, String)>,
) -> Reply {
    let db = shared.store.lock();
    match db.get(V, "domain", &id)? {
        Some(domain) if domain.parent == organization_id => {
            db.delete(V, "domain", &id)?;
            ok(StatusCode::OK, json!({}))
        }
        _ => Err(not_found("domain")),
    }
}

fn role_objects(roles: &[String]) -> Value {
    Value::Array(
        roles
            .iter()
            .map(|name| {
                let mut display: Vec<char> = name.replace('_', " ").chars().collect();
                if let Some(first) = display.first_mut() {
                    *first = first.to_ascii_uppercase();
                }
                json!({ "id": format!("role_{name}"), "name": name, "display_name": display.into_iter().collect::<String>() })
            })
            .collect(),
    )
}

/// Role names from `{"roles": [{"name": ..}]}`; `None` when the field is absent.
fn roles_field(body: &Map<String, Value>) -> Result<Option<Vec<String>>, ApiError> {
    match body.get("roles") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|r| match r["name"].as_str() {
                Some(name) if !name.trim().is_empty() => Ok(name.to_owned()),
                _ => Err(invalid("roles", "each role needs a non-empty `name`")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(invalid("roles", "must be a list of {name}")),
    }
}

/// A user as the API shows it: the stored user plus all of its memberships.
/// A user as a list answers it, built as text: its memberships are passed on as stored, not
/// parsed and serialized again (a platform admin in every organization has thousands).
fn user_view_raw(db: &Db, user: Value) -> Result<String, StoreError> {
    let id = user["id"].as_str().unwrap_or_default().to_owned();
    let memberships = db.bodies_by_key(V, "membership", &id)?;
    let mut text = serde_json::to_string(&user)?;
    text.pop(); // the closing brace
    if text.len() > 1 {
        text.push(',');
    }
    text.push_str("\"memberships\":[");
    text.push_str(&memberships.join(","));
    text.push_str("]}");
    Ok(text)
}

/// A page of users as JSON text, each user as [`user_view_raw`] built it (every piece is JSON
/// the store or serde_json wrote, so the whole is too).
fn user_page(users: &[String], next: &str, previous: &str, total_size: Option<u64>) -> Reply {
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut body = String::with_capacity(users.iter().map(|u| u.len() + 1).sum::<usize>() + 128);
    body.push_str("{\"users\":[");
    body.push_str(&users.join(","));
    body.push_str("],\"next_page_token\":");
    body.push_str(&quoted(next));
    body.push_str(",\"prev_page_token\":");
    body.push_str(&quoted(previous));
    if let Some(total) = total_size {
        body.push_str(&format!(",\"total_size\":{total}"));
    }
    body.push('}');
    Ok(axum::response::IntoResponse::into_response((
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )))
}

fn user_view(db: &Db, user: Value) -> Result<Value, StoreError> {
    let id = user["id"].as_str().unwrap_or_default().to_owned();
    let memberships: Vec<Value> = db
        .find_by_key(V, "membership", None, &id)?
        .into_iter()
        .map(|m| m.body)
        .collect();
    let mut view = user;
    view["memberships"] = Value::Array(memberships);
    Ok(view)
}

/// Creates a user (also used by seeds); the e-mail must be free.
pub fn insert_user(
    db: &Db,
    id: Option<&str>,
    email: &str,
    external_id: Option<&str>,
) -> Result<Value, StoreError> {
    insert_user_with(
        db,
        id,
        email,
        external_id,
        Map::new(),
        json!({ "email_verified": false }),
    )
}

/// [`insert_user`] with the metadata and profile a create request carried.
fn insert_user_with(
    db: &Db,
    id: Option<&str>,
    email: &str,
    external_id: Option<&str>,
    metadata: Map<String, Value>,
    user_profile: Value,
) -> Result<Value, StoreError> {
    let id = match id {
        Some(id) => id.to_owned(),
        None => format!(
            "usr_{}",
            77_000_000_000_000_000u64 + db.next_number("scalekit-user")?
        ),
    };
    let timestamp = now();
    let mut user = json!({
        "id": id,
        "email": email,
        "metadata": metadata,
        "user_profile": user_profile,
        "create_time": timestamp,
        "update_time": timestamp,
    });
    if let Some(external_id) = external_id {
        user["external_id"] = json!(external_id);
    }
    db.insert(V, "user", &id, "", Some(&email.to_ascii_lowercase()), &user)?;
    Ok(user)
}

/// Adds `user_id` to an organization (also used by seeds).
pub fn insert_membership(
    db: &Db,
    organization: &Value,
    user_id: &str,
    roles: &[String],
    status: &str,
) -> Result<(), StoreError> {
    let fields = MembershipFields {
        status: status.to_owned(),
        metadata: Map::new(),
        inviter_email: None,
    };
    insert_membership_with(db, organization, user_id, roles, &fields)
}

/// [`insert_membership`] with the fields of a create request.
fn insert_membership_with(
    db: &Db,
    organization: &Value,
    user_id: &str,
    roles: &[String],
    fields: &MembershipFields,
) -> Result<(), StoreError> {
    let organization_id = organization["id"].as_str().unwrap_or_default();
    let mut membership = json!({
        "organization_id": organization_id,
        "display_name": organization["display_name"],
        "roles": role_objects(roles),
        "membership_status": fields.status,
        "join_time": now(),
        "metadata": fields.metadata,
    });
    if fields.status == "PENDING_INVITE" {
        membership["created_at"] = json!(now());
    }
    if let Some(inviter) = &fields.inviter_email {
        membership["inviter_email"] = json!(inviter);
    }
    db.insert(
        V,
        "membership",
        &membership_ids(organization_id, user_id),
        organization_id,
        Some(user_id),
        &membership,
    )?;
    Ok(())
}

async fn list_users(
    Authorized(shared, _): Authorized<ScalekitApi>,
    Path(organization_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let size = page_size(&query, 10, 1..=100)?;
    let after = page_token(&query)?;
    let db = shared.store.lock();
    load_organization(&db, &organization_id)?;
    let (memberships, next, previous) =
        token_page(&db, "membership", &organization_id, after, size)?;
    let mut users = Vec::with_capacity(memberships.len());
    for membership in &memberships {
        let user_id = membership.id.rsplit('/').next().unwrap_or_default();
        if let Some(user) = db.get(V, "user", user_id)? {
            users.push(user_view_raw(&db, user.body)?);
        }
    }
    user_page(
        &users,
        &next,
        &previous,
        Some(db.count(V, "membership", &organization_id)?),
    )
}

/// `GET /api/v1/users`: every user of the environment, each with all its memberships (page
/// size 10 to 100, as documented).
async fn list_environment_users(
    Authorized(shared, _): Authorized<ScalekitApi>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let size = page_size(&query, 10, 10..=100)?;
    let after = page_token(&query)?;
    let db = shared.store.lock();
    let (found, next, previous) = token_page(&db, "user", "", after, size)?;
    let mut users = Vec::with_capacity(found.len());
    for user in found {
        users.push(user_view_raw(&db, user.body)?);
    }
    user_page(&users, &next, &previous, Some(db.count(V, "user", "")?))
}

async fn create_user(
    Authorized(shared, _): Authorized<ScalekitApi>,
    Path(organization_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    JsonBody(body, _): JsonBody<ScalekitApi>,
) -> Reply {
    let email = optional_string(&body, "email")?
        .ok_or_else(|| invalid("email", "is required"))?
        .to_owned();
    if !is_email(&email) {
        return Err(invalid("email", "must be a valid e-mail address"));
    }
    let external_id = optional_string(&body, "external_id")?.map(str::to_owned);
    let metadata = match body.get("metadata") {
        None | Some(Value::Null) => Map::new(),
        Some(metadata) => check_metadata(metadata)?,
    };
    let profile = check_user_profile(body.get("user_profile"))?;
    let membership = match body.get("membership") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(membership)) => membership.clone(),
        Some(_) => return Err(invalid("membership", "must be an object")),
    };
    let roles = roles_field(&membership)?.unwrap_or_else(|| vec!["member".to_owned()]);
    let fields = MembershipFields::from_request(&membership, send_invitation(&query)?)?;
    let db = shared.store.lock();
    let organization = load_organization(&db, &organization_id)?;
    if !db
        .find_by_key(V, "user", None, &email.to_ascii_lowercase())?
        .is_empty()
    {
        return Err(conflict(format!(
            "a user with email `{email}` already exists; add it with the memberships API"
        )));
    }
    if let Some(external_id) = &external_id
        && user_by_external_id(&db, external_id)?.is_some()
    {
        return Err(conflict(format!(
            "a user with external_id `{external_id}` already exists"
        )));
    }
    let user = db.transaction(|db| {
        let user = insert_user_with(db, None, &email, external_id.as_deref(), metadata, profile)?;
        let user_id = user["id"].as_str().unwrap_or_default().to_owned();
        insert_membership_with(db, &organization, &user_id, &roles, &fields)?;
        user_view(db, user)
    })?;
    ok(StatusCode::CREATED, json!({ "user": user }))
}

fn membership_ids(organization_id: &str, user_id: &str) -> String {
    format!("{organization_id}/{user_id}")
}

/// The user with `external_id`, found by reading every user: the sandbox keeps users by
/// e-mail, and this look-up serves only the `users:external/…` membership routes.
fn user_by_external_id(db: &Db, external_id: &str) -> Result<Option<Object>, StoreError> {
    let mut cursor = 0;
    loop {
        let batch = db.list(V, "user", "", cursor, 500)?;
        let Some(last) = batch.last() else {
            return Ok(None);
        };
        cursor = last.seq;
        if let Some(user) = batch
            .into_iter()
            .find(|u| u.body["external_id"].as_str() == Some(external_id))
        {
            return Ok(Some(user));
        }
    }
}

/// How a membership route names its user: `…/users/{id}` or `…/users:external/{external_id}`.
enum UserRef {
    Id(String),
    External(String),
}

/// Which of the two kinds of membership route a handler serves.
trait UserKey {
    fn user(key: String) -> UserRef;
}

/// `…/users/{id}`.
struct ById;

/// `…/users:external/{external_id}`.
struct ByExternalId;

impl UserKey for ById {
    fn user(key: String) -> UserRef {
        UserRef::Id(key)
    }
}

impl UserKey for ByExternalId {
    fn user(key: String) -> UserRef {
        UserRef::External(key)
    }
}

impl UserRef {
    fn find(&self, db: &Db) -> Result<Object, ApiError> {
        let found = match self {
            UserRef::Id(id) => db.get(V, "user", id)?,
            UserRef::External(external_id) => user_by_external_id(db, external_id)?,
        };
        found.ok_or_else(|| not_found("user"))
    }
}

async fn create_membership<K: UserKey>(
    Authorized(shared, _): Authorized<ScalekitApi>,
    Path((organization_id, key)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Reply {
    let body = if body.is_empty() {
        Map::new()
    } else {
        json_object(&body).ok_or_else(ScalekitApi::not_an_object)?
    };
    let roles = roles_field(&body)?.unwrap_or_else(|| vec!["member".to_owned()]);
    let fields = MembershipFields::from_request(&body, send_invitation(&query)?)?;
    let db = shared.store.lock();
    let organization = load_organization(&db, &organization_id)?;
    let user = K::user(key).find(&db)?;
    if db
        .get(V, "membership", &membership_ids(&organization_id, &user.id))?
        .is_some()
    {
        return Err(conflict(
            "the user is already a member of this organization",
        ));
    }
    insert_membership_with(&db, &organization, &user.id, &roles, &fields)?;
    ok(
        StatusCode::CREATED,
        json!({ "user": user_view(&db, user.body)? }),
    )
}

async fn update_membership<K: UserKey>(
    Authorized(shared, _): Authorized<ScalekitApi>,
    Path((organization_id, key)): Path<(String, String)>,
    JsonBody(body, _): JsonBody<ScalekitApi>,
) -> Reply {
    let roles = roles_field(&body)?;
    let db = shared.store.lock();
    load_organization(&db, &organization_id)?;
    let user = K::user(key).find(&db)?;
    let id = membership_ids(&organization_id, &user.id);
    let mut membership = db
        .get(V, "membership", &id)?
        .ok_or_else(|| not_found("membership"))?
        .body;
    if let Some(roles) = roles {
        membership["roles"] = role_objects(&roles);
    }
    if let Some(metadata) = body.get("metadata").filter(|m| !m.is_null()) {
        membership["metadata"] = Value::Object(check_metadata(metadata)?);
    }
    db.update(V, "membership", &id, Some(&user.id), &membership)?;
    ok(
        StatusCode::OK,
        json!({ "user": user_view(&db, user.body)? }),
    )
}

async fn delete_membership<K: UserKey>(
    Authorized(shared, _): Authorized<ScalekitApi>,
    Path((organization_id, key)): Path<(String, String)>,
) -> Reply {
    let db = shared.store.lock();
    // A user id that names nobody is a missing membership, as before; an unknown external id
    // is an unknown user.
    let user_id = match K::user(key) {
        UserRef::Id(id) => id,
        external => external.find(&db)?.id,
    };
    if !db.delete(V, "membership", &membership_ids(&organization_id, &user_id))? {
        return Err(not_found("membership"));
    }
    ok(StatusCode::OK, json!({}))
}

/// `GET /api/v1/users:search?query=`: users of the environment whose e-mail contains the query.
async fn search_users(
    Authorized(shared, _): Authorized<ScalekitApi>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let needle = query
        .get("query")
        .map(|q| q.to_ascii_lowercase())
        .unwrap_or_default();
    if needle.len() < 3 {
        return Err(invalid("query", "must be at least 3 characters"));
    }
    let size = page_size(&query, 10, 1..=100)?;
    let after = page_token(&query)?;
    let db = shared.store.lock();
    let matches = |u: &Object| {
        u.body["email"]
            .as_str()
            .is_some_and(|e| e.to_ascii_lowercase().contains(&needle))
    };
    let (found, more) = filtered_after(&db, (V, "user", ""), after, size, &matches)?;
    let next = match (more, found.last()) {
        (true, Some(last)) => encode_cursor(last.seq),
        _ => String::new(),
    };
    let previous = String::new();
    let mut users = Vec::with_capacity(found.len());
    for user in found {
        users.push(user_view_raw(&db, user.body)?);
    }
    user_page(&users, &next, &previous, None)
}
