//! Extractors whose rejections use the error envelope: JSON bodies (with
//! serde's path to the bad field), optional JSON bodies, query strings (every
//! malformed value refused, naming the parameter and the value), paths.

use crate::ApiError;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use weft_model::{BadQuery, Query};

/// A required JSON body.
pub struct Body<T>(pub T);

/// A body as bytes (a workflow file, a webhook's payload), refused with the
/// envelope when it is over the limit or breaks off.
pub struct Raw(pub Bytes);

/// A JSON body that may be empty (then `T::default()`).
pub struct OptBody<T>(pub T);

/// A query string.
pub struct Q<T>(pub T);

/// Path parameters.
pub struct P<T>(pub T);

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path.is_empty() || path == "." {
            ApiError::invalid(format!("request body: {inner}"))
        } else {
            ApiError::invalid(format!("request body at `{path}`: {inner}"))
        }
    })
}

async fn bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rej| {
        let status = rej.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                status,
                "payload_too_large",
                format!(
                    "request body is larger than {} bytes",
                    crate::MAX_BODY_BYTES
                ),
            )
        } else {
            ApiError::invalid(rej.body_text())
        }
    })
}

impl<S: Send + Sync> FromRequest<S> for Raw {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        bytes(req, state).await.map(Raw)
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let b = bytes(req, state).await?;
        if b.is_empty() {
            return Err(ApiError::invalid("request body: a JSON body is required"));
        }
        parse(&b).map(Body)
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptBody<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let b = bytes(req, state).await?;
        if b.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptBody(T::default()));
        }
        parse(&b).map(OptBody)
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Query + Send> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        query(parts.uri.query().unwrap_or_default()).map(Q)
    }
}

/// Parses a query string into `T`: an unknown parameter, a value of the wrong
/// type and a value `T::check` refuses are each a 400 naming the parameter and
/// the value.
///
/// # Errors
/// `invalid_request`.
pub fn query<T: DeserializeOwned + Query>(raw: &str) -> Result<T, ApiError> {
    let pairs = url::form_urlencoded::parse(raw.as_bytes());
    if let Some((k, v)) = pairs
        .clone()
        .find(|(k, _)| !T::PARAMS.contains(&k.as_ref()))
    {
        let takes = if T::PARAMS.is_empty() {
            "none".to_owned()
        } else {
            T::PARAMS.join(", ")
        };
        return Err(bad_query(&BadQuery {
            param: k.into_owned(),
            value: v.into_owned(),
            reason: format!("is not a parameter of this route (it takes: {takes})"),
        }));
    }
    let de = serde_urlencoded::Deserializer::new(pairs);
    let t: T = serde_path_to_error::deserialize(de).map_err(|e| {
        let param = e.path().to_string();
        let inner = e.into_inner();
        match pairs.clone().find(|(k, _)| *k == param) {
            Some((_, v)) => bad_query(&BadQuery {
                param,
                value: v.into_owned(),
                reason: format!("is not valid: {inner}"),
            }),
            None => ApiError::invalid(format!("query string: {inner}")),
        }
    })?;
    t.check().map_err(|b| bad_query(&b))?;
    Ok(t)
}

fn bad_query(b: &BadQuery) -> ApiError {
    ApiError::invalid(b.to_string())
}

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for P<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| P(p.0))
            .map_err(|e: PathRejection| {
                // A malformed id is as unknown as a missing one.
                let _ = e;
                ApiError::not_found("resource")
            })
    }
}
