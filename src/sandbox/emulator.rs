//! What every vendor emulator's handlers start with, written once: the caller's credentials
//! checked as the vendor checks them, and a JSON object body refused as the vendor refuses a
//! malformed one. A vendor file implements [`Emulator`] (its two answers); its handlers take
//! [`Authorized`] and [`JsonBody`] instead of repeating the preamble.

use std::marker::PhantomData;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use serde_json::{Map, Value};

use super::http::{ApiError, json_object};
use super::state::Shared;

/// One vendor's emulator: how it authorizes a request and refuses a body that is not a JSON
/// object.
pub trait Emulator: Send + Sync + 'static {
    fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError>;
    fn not_an_object() -> ApiError;
}

/// The sandbox, for a request the vendor `E` authorized.
pub struct Authorized<E>(pub Shared, pub PhantomData<E>);

impl<E: Emulator> FromRequestParts<Shared> for Authorized<E> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, shared: &Shared) -> Result<Self, ApiError> {
        E::authorize(shared, &parts.headers)?;
        Ok(Authorized(shared.clone(), PhantomData))
    }
}

/// A request body that is a JSON object, refused as the vendor `E` refuses one that is not.
pub struct JsonBody<E>(pub Map<String, Value>, pub PhantomData<E>);

impl<E: Emulator> FromRequest<Shared> for JsonBody<E> {
    type Rejection = ApiError;

    async fn from_request(request: Request, shared: &Shared) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(request, shared)
            .await
            .map_err(|_| E::not_an_object())?;
        json_object(&bytes)
            .map(|body| JsonBody(body, PhantomData))
            .ok_or_else(E::not_an_object)
    }
}
