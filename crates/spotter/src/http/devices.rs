//! `/api/users/device-token/`: register and remove push devices.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::devices;
use crate::error::Result;
use crate::http::extract::{Auth, JsonBody};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/users/device-token/",
        post(register).delete(unregister),
    )
}

#[derive(Serialize, ToSchema)]
pub struct DeviceJson {
    id: i64,
    platform: String,
}

/// Registers an FCM token (`{token, platform: ios|android|web}`) or a Web Push subscription
/// (`{platform: "webpush", subscription: PushSubscription.toJSON()}`).
#[utoipa::path(post, path = "/api/users/device-token/", tag = "devices",
    request_body(content = serde_json::Value, description = "{token, platform} or {platform: \"webpush\", subscription}"),
    responses((status = 201, description = "Registered", body = DeviceJson),
              (status = 400, description = "Invalid fields", body = crate::http::openapi::BadRequestBody)),
    security(("jwt" = [])))]
async fn register(
    Auth(actor): Auth,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<DeviceJson>)> {
    let spec = devices::parse(&body)?;
    let id = devices::register(&state, &actor, &spec).await?;
    Ok((
        StatusCode::CREATED,
        Json(DeviceJson {
            id,
            platform: spec.platform,
        }),
    ))
}

/// Removes a device, named as when it was registered (or by `{token}` alone).
#[utoipa::path(delete, path = "/api/users/device-token/", tag = "devices",
    request_body(content = serde_json::Value, description = "{token} or {platform: \"webpush\", subscription}"),
    responses((status = 204, description = "Removed (or was not there)"),
              (status = 400, description = "Invalid fields", body = crate::http::openapi::BadRequestBody)),
    security(("jwt" = [])))]
async fn unregister(
    Auth(actor): Auth,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<StatusCode> {
    let spec = devices::parse_for_delete(&body)?;
    devices::unregister(&state, &actor, &spec).await?;
    Ok(StatusCode::NO_CONTENT)
}
