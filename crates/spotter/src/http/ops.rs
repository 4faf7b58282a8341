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
    /// `ok`, or `unavailable`. Why the database does not answer goes to the server's log, not
    /// to an anonymous caller.
    database: &'static str,
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
    let answered =
        tokio::time::timeout(std::time::Duration::from_secs(2), state.store.ping()).await;
    let ready = match answered {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the database does not answer");
            false
        }
        Err(_) => {
            tracing::warn!("readiness: the database did not answer within 2 s");
            false
        }
    };
    let (status, word) = if ready {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    (
        status,
        Json(ReadyJson {
            status: word,
            database: word,
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
