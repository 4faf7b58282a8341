//! Operations: liveness, readiness (the database answers), the OpenAPI document.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::http::openapi::ApiDoc;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/openapi.json", get(openapi))
        .route("/metrics", get(metrics))
}

#[derive(Serialize, ToSchema)]
pub struct HealthJson {
    /// `ok`.
    status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct ReadyJson {
    /// `ok`, or `unavailable`.
    status: &'static str,
    /// `ok`, or why the database does not answer.
    database: String,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "Alive", body = HealthJson)))]
async fn healthz() -> Json<HealthJson> {
    Json(HealthJson { status: "ok" })
}

/// The process can serve: its database answers.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, description = "Ready", body = ReadyJson),
              (status = 503, description = "The database does not answer", body = ReadyJson)))]
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<ReadyJson>) {
    let (status, database) =
        match tokio::time::timeout(std::time::Duration::from_secs(2), state.db.ping()).await {
            Ok(Ok(())) => (StatusCode::OK, "ok".to_owned()),
            Ok(Err(e)) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
            Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "timeout".to_owned()),
        };
    let ready = if status == StatusCode::OK {
        "ok"
    } else {
        "unavailable"
    };
    (
        status,
        Json(ReadyJson {
            status: ready,
            database,
        }),
    )
}

/// Prometheus text format.
async fn metrics() -> ([(axum::http::HeaderName, &'static str); 1], String) {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        crate::metrics::render(),
    )
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
