//! `GET /media/<key>?e=&s=`: the images of messages, served by Spotter from its media store
//! (a folder or S3) to anyone holding a signed, unexpired URL: the apps load them with a plain
//! GET and no `Authorization` header (`<img src>`, `Image.network`), yet a URL cannot be
//! guessed, altered or kept working forever.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::error::Error;
use crate::media::UrlError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/media/{*key}", get(serve))
}

async fn serve(
    Path(key): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    State(state): State<AppState>,
) -> Result<Response, Error> {
    let now = state.clock.now();
    let checked = state.media.verify(
        &key,
        query.get("e").map(String::as_str),
        query.get("s").map(String::as_str),
        now,
    );
    if let Err(e) = checked {
        let detail = match e {
            UrlError::Missing => "This link is not signed.",
            UrlError::Expired => "This link has expired.",
            UrlError::BadSignature => "This link is not valid.",
        };
        return Ok((StatusCode::FORBIDDEN, Json(json!({ "detail": detail }))).into_response());
    }
    let Some(found) = state
        .media
        .fetch(&key)
        .await
        .map_err(|e| Error::Unavailable(format!("media store: {e:#}")))?
    else {
        return Err(Error::NotFound);
    };
    // Cached by the client until the link expires; never by shared caches, and never sniffed
    // into anything but an image.
    let expires = query
        .get("e")
        .and_then(|e| e.parse::<i64>().ok())
        .unwrap_or(0);
    let max_age = (expires - now / 1_000_000).max(0);
    let mut response = found.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(found.content_type),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("private, max-age={max_age}")) {
        headers.insert(header::CACHE_CONTROL, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(response)
}
