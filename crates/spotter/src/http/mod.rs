//! The HTTP surface: one module per resource, each with its `router()`, merged here with the
//! layers every request passes (body limit, timeout, panic guard, tracing with a request id)
//! and JSON answers for unknown paths and methods.

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
use axum::http::Request;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
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
        .layer(axum::middleware::from_fn(count_answers))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        // Outermost: every request gets an `x-request-id` (a caller's own is kept), its span
        // carries it into every log line the request causes, and the answer repeats it.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Counts answers by status class and times them until their head is written (a streamed
/// body, such as an export, goes on after): what an error-rate or latency alert reads.
async fn count_answers(
    request: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let class = match response.status().as_u16() / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    };
    metrics::counter!(crate::metrics::HTTP_RESPONSES, "class" => class).increment(1);
    metrics::histogram!(crate::metrics::HTTP_DURATION).record(started.elapsed().as_secs_f64());
    response
}

/// The span of one request: method, path (never the query: it can hold a socket's token) and
/// request id, on every log line logged while it is served.
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = request.uri().path(),
        request_id = id,
    )
}
