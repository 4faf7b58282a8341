//! Extractors: authentication, JSON bodies and path ids, each failing with the contract's
//! answer rather than axum's plain-text rejections.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::domain::Actor;
use crate::error::{AuthFailure, Error};
use crate::state::AppState;

/// The authenticated caller. A handler that takes `Auth` cannot forget authentication.
pub struct Auth(pub Actor);

impl FromRequestParts<AppState> for Auth {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or(Error::Unauthorized(AuthFailure::Missing))?;
        let value = header
            .to_str()
            .map_err(|_| Error::Unauthorized(AuthFailure::InvalidToken))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or(Error::Unauthorized(AuthFailure::Missing))?;
        state.accounts.authenticate(token).await.map(Auth)
    }
}

/// A JSON object body, parsed into `T` (a body type of `domain::input`, whose fields keep the
/// JSON as sent for the validators). Empty means `{}` (so missing fields are reported field by
/// field); non-JSON, non-UTF-8 and non-objects answer 400; over the size limit, 413.
pub struct JsonBody<T = Value>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::PayloadTooLarge
            } else {
                Error::Malformed(format!("Could not read the request body: {e}"))
            }
        })?;
        T::deserialize(json_object(&bytes)?)
            .map(Self)
            .map_err(|e| Error::Malformed(format!("JSON parse error - {e}")))
    }
}

/// A body as a JSON object: empty means `{}`; non-JSON, non-UTF-8 and non-objects answer 400
/// with DRF's words.
pub fn json_object(bytes: &[u8]) -> Result<Value, Error> {
    let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(bytes)
            .map_err(|e| Error::Malformed(format!("JSON parse error - {e}")))?
    };
    if !value.is_object() {
        let kind = match value {
            Value::Array(_) => "list",
            Value::String(_) => "str",
            Value::Number(_) => "number",
            Value::Bool(_) => "bool",
            _ => "null",
        };
        return Err(Error::Malformed(format!(
            "Invalid data. Expected a dictionary, but got {kind}."
        )));
    }
    Ok(value)
}

/// An integer id from the path, as the id type `T` (`UserId`, `ConversationId`, …); anything
/// else (junk, out of range) is 404, as Django's int converter would not have matched the route.
pub struct PathId<T>(pub T);

impl<S: Send + Sync, T: From<i64>> FromRequestParts<S> for PathId<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| Error::NotFound)?;
        id(&raw).map(|id| Self(T::from(id)))
    }
}

/// Two integer ids from the path (a conversation and a message), as [`PathId`] reads one.
pub struct PathIds<A, B>(pub A, pub B);

impl<S: Send + Sync, A: From<i64>, B: From<i64>> FromRequestParts<S> for PathIds<A, B> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        let Path((a, b)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|_| Error::NotFound)?;
        Ok(Self(A::from(id(&a)?), B::from(id(&b)?)))
    }
}

/// A path segment as a positive id, digits only; anything else is 404.
fn id(raw: &str) -> Result<i64, Error> {
    match raw.parse::<i64>() {
        Ok(id) if id > 0 && raw.bytes().all(|b| b.is_ascii_digit()) => Ok(id),
        _ => Err(Error::NotFound),
    }
}

/// The client's address, for per-address limits.
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        let addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        Ok(Self(addr))
    }
}

/// The origin (`scheme://host`) the client used, for the absolute `next`/`previous` URLs.
pub struct Origin(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
            .unwrap_or("localhost");
        let scheme = parts
            .headers
            .get("x-forwarded-proto")
            .and_then(|h| h.to_str().ok())
            .filter(|p| *p == "https" || *p == "http")
            .unwrap_or("http");
        Ok(Self(format!("{scheme}://{host}")))
    }
}
