//! `/api/users/device-token/`: register and remove push devices.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::devices::{self, DeviceBody};
use crate::domain::model::DeviceId;
use crate::error::Result;
use crate::http::extract::{Auth, JsonBody};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/users/device-token/",
        post(register).delete(unregister),
    )
}

fn text(min: usize, max: usize, pattern: Option<&str>) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(min))
        .max_length(Some(max))
        .pattern(pattern)
}

fn fcm_device() -> ObjectBuilder {
    ObjectBuilder::new()
        .description(Some(
            "A phone's FCM registration token (`web`: the original web app's FCM token).",
        ))
        .property(
            "token",
            text(1, 4096, None).description(Some("Not blank, no NUL.")),
        )
        .required("token")
        .property(
            "platform",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["ios", "android", "web"])),
        )
        .required("platform")
}

fn webpush_device() -> ObjectBuilder {
    let key = "^[A-Za-z0-9_=-]+$";
    let keys = ObjectBuilder::new()
        .property("p256dh", text(1, 256, Some(key)))
        .required("p256dh")
        .property("auth", text(1, 64, Some(key)))
        .required("auth");
    let subscription = ObjectBuilder::new()
        .description(Some(
            "`PushSubscription.toJSON()` of a browser (other fields, such as `expirationTime`, \
             are ignored). Delivery also requires https and a public address unless \
             SPOTTER_PUSH_ALLOW_PRIVATE_ENDPOINTS is on.",
        ))
        .property("endpoint", text(1, 4096, Some(r"^https?://[^/\s]\S*$")))
        .required("endpoint")
        .property("keys", keys)
        .required("keys");
    ObjectBuilder::new()
        .description(Some("A browser's Web Push subscription."))
        .property(
            "platform",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["webpush"])),
        )
        .required("platform")
        .property("subscription", subscription)
        .required("subscription")
}

/// The shapes a register body may take.
impl PartialSchema for DeviceBody {
    fn schema() -> RefOr<Schema> {
        Schema::OneOf(
            OneOfBuilder::new()
                .item(fcm_device())
                .item(webpush_device())
                .build(),
        )
        .into()
    }
}

impl ToSchema for DeviceBody {}

/// What a delete accepts: a device as registered, or its token alone (as the original apps
/// remove theirs).
pub struct RemoveDeviceBody;

impl PartialSchema for RemoveDeviceBody {
    fn schema() -> RefOr<Schema> {
        let token_only = ObjectBuilder::new()
            .property("token", text(1, usize::MAX, None))
            .required("token");
        Schema::OneOf(
            OneOfBuilder::new()
                .item(fcm_device())
                .item(webpush_device())
                .item(token_only)
                .build(),
        )
        .into()
    }
}

impl ToSchema for RemoveDeviceBody {}

#[derive(Serialize, ToSchema)]
pub struct DeviceJson {
    id: DeviceId,
    platform: &'static str,
}

/// Registers an FCM token (`{token, platform: ios|android|web}`) or a Web Push subscription
/// (`{platform: "webpush", subscription: PushSubscription.toJSON()}`).
#[utoipa::path(post, path = "/api/users/device-token/", tag = "devices",
    request_body = DeviceBody,
    responses((status = 201, description = "Registered", body = DeviceJson),
              (status = 400, description = "Invalid fields", body = crate::http::openapi::BadRequestBody),
              (status = 403, description = "An impersonation token (read-only)", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn register(
    Auth(actor): Auth,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<DeviceBody>,
) -> Result<(StatusCode, Json<DeviceJson>)> {
    let spec = devices::parse(&body)?;
    let (id, platform) = state.devices.register(&actor, &spec).await?;
    Ok((
        StatusCode::CREATED,
        Json(DeviceJson {
            id,
            platform: platform.as_str(),
        }),
    ))
}

/// Removes a device, named as when it was registered (or by `{token}` alone).
#[utoipa::path(delete, path = "/api/users/device-token/", tag = "devices",
    request_body = RemoveDeviceBody,
    responses((status = 204, description = "Removed (or was not there)"),
              (status = 400, description = "Invalid fields", body = crate::http::openapi::BadRequestBody),
              (status = 403, description = "An impersonation token (read-only)", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn unregister(
    Auth(actor): Auth,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<DeviceBody>,
) -> Result<StatusCode> {
    let spec = devices::parse_for_delete(&body)?;
    state.devices.unregister(&actor, &spec).await?;
    Ok(StatusCode::NO_CONTENT)
}
