//! `/api/users/device-token/`: register and remove push devices.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
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

/// The platforms of FCM tokens (`web`: the original web app's FCM token).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FcmPlatform {
    Ios,
    Android,
    Web,
}

/// A phone's FCM registration token.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct FcmDeviceBody {
    /// Not blank, at most 4096 characters, no NUL.
    #[schema(min_length = 1, max_length = 4096)]
    token: String,
    platform: FcmPlatform,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WebPushPlatform {
    Webpush,
}

/// The keys of a Web Push subscription, base64url.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct SubscriptionKeys {
    #[schema(min_length = 1, max_length = 256, pattern = "^[A-Za-z0-9_=-]+$")]
    p256dh: String,
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9_=-]+$")]
    auth: String,
}

/// `PushSubscription.toJSON()` of a browser (other fields, such as `expirationTime`, are
/// ignored).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct Subscription {
    /// An http(s) URL without whitespace, at most 4096 bytes. Delivery also requires https and
    /// a public address unless `SPOTTER_PUSH_ALLOW_PRIVATE_ENDPOINTS` is on.
    #[schema(max_length = 4096, pattern = r"^https?://[^/\s]\S*$")]
    endpoint: String,
    keys: SubscriptionKeys,
}

/// A browser's Web Push subscription.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct WebPushDeviceBody {
    platform: WebPushPlatform,
    subscription: Subscription,
}

/// A device to register: an FCM token or a Web Push subscription.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum DeviceBody {
    Fcm(FcmDeviceBody),
    WebPush(WebPushDeviceBody),
}

/// A token alone (FCM), as the original apps remove theirs.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct TokenOnlyBody {
    #[schema(min_length = 1)]
    token: String,
}

/// A device to remove: named as when it was registered, or by its token alone.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum RemoveDeviceBody {
    Device(DeviceBody),
    Token(TokenOnlyBody),
}

#[derive(Serialize, ToSchema)]
pub struct DeviceJson {
    id: i64,
    platform: String,
}

/// Registers an FCM token (`{token, platform: ios|android|web}`) or a Web Push subscription
/// (`{platform: "webpush", subscription: PushSubscription.toJSON()}`).
#[utoipa::path(post, path = "/api/users/device-token/", tag = "devices",
    request_body = DeviceBody,
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
    request_body = RemoveDeviceBody,
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
