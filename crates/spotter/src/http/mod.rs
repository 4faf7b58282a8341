//! The HTTP surface: one module per resource, each with its `router()`, merged here with the
//! layers every request passes (body limit, timeout, panic guard, tracing) and JSON answers for
//! unknown paths and methods.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod broadcasts;
pub mod changes;
pub mod console;
pub mod devices;
pub mod error;
pub mod export;
pub mod extract;
pub mod form;
pub mod media;
pub mod messaging;
pub mod openapi;
pub mod ops;
pub mod paging;
pub mod preferences;
pub mod push;
pub mod scheduled;
pub mod search;
pub mod templates;
pub mod trainer;
pub mod web;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::Error;
use crate::state::AppState;

/// Request bodies over this answer 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(auth::router())
        .merge(messaging::router())
        .merge(changes::router())
        .merge(search::router())
        .merge(templates::router())
        .merge(broadcasts::router())
        .merge(scheduled::router())
        .merge(preferences::router())
        .merge(media::router())
        .merge(trainer::router())
        .merge(admin::router())
        .merge(console::router())
        .merge(audit::router())
        .merge(devices::router())
        .merge(push::router())
        .merge(ops::router())
        .merge(export::router())
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ));
    Router::new()
        .merge(api)
        .merge(crate::ws::router())
        .fallback(web::serve)
        .layer(CatchPanicLayer::custom(|_| {
            Error::Internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
