//! `/api/push/`: what a browser needs to subscribe to Web Push.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/push/vapid-public-key/", get(vapid_public_key))
}

#[derive(Serialize, ToSchema)]
pub struct VapidKeyJson {
    /// The uncompressed P-256 public key, base64url: `applicationServerKey` for
    /// `PushManager.subscribe`.
    public_key: String,
}

/// The server's VAPID public key (the same on every node).
#[utoipa::path(get, path = "/api/push/vapid-public-key/", tag = "devices",
    responses((status = 200, description = "The key", body = VapidKeyJson)))]
async fn vapid_public_key(State(state): State<AppState>) -> Json<VapidKeyJson> {
    Json(VapidKeyJson {
        public_key: state.push.webpush.vapid.public_key.clone(),
    })
}
