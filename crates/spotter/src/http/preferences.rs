//! `/api/users/notification-preferences/`: the caller's 11 notification switches (Part C).
//! `new_message` off means no message push for that user.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::Result;
use crate::http::extract::{Auth, JsonBody};
use crate::state::AppState;
use crate::store::NotificationPrefs;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/users/notification-preferences/",
        get(read).patch(update),
    )
}

/// The switches, in the contract's order (all true for a user who never set them).
#[derive(Debug, Serialize, ToSchema)]
pub struct PreferencesJson {
    pub trainee_workout: bool,
    pub trainee_weight_checkin: bool,
    pub trainee_started_workout: bool,
    pub trainee_finished_workout: bool,
    pub churn_alert: bool,
    pub re_engagement: bool,
    pub trainer_announcement: bool,
    pub achievement_earned: bool,
    pub community_event: bool,
    /// Off: no push for new messages.
    pub new_message: bool,
    pub community_activity: bool,
}

impl From<NotificationPrefs> for PreferencesJson {
    fn from(p: NotificationPrefs) -> Self {
        let [
            trainee_workout,
            trainee_weight_checkin,
            trainee_started_workout,
            trainee_finished_workout,
            churn_alert,
            re_engagement,
            trainer_announcement,
            achievement_earned,
            community_event,
            new_message,
            community_activity,
        ] = p.0;
        Self {
            trainee_workout,
            trainee_weight_checkin,
            trainee_started_workout,
            trainee_finished_workout,
            churn_alert,
            re_engagement,
            trainer_announcement,
            achievement_earned,
            community_event,
            new_message,
            community_activity,
        }
    }
}

/// The caller's switches.
#[utoipa::path(get, path = "/api/users/notification-preferences/", tag = "users",
    responses((status = 200, description = "The switches", body = PreferencesJson)),
    security(("jwt" = [])))]
async fn read(Auth(actor): Auth, State(state): State<AppState>) -> Result<Json<PreferencesJson>> {
    Ok(Json(state.devices.preferences(&actor).await?.into()))
}

/// Changes any subset of the switches; 200 with all of them. Booleans as the original reads
/// them: `true`/`false`, `1`/`0`, or `"true"`, `"false"`, `"yes"`, `"no"`, `"on"`, `"off"`,
/// `"1"`, `"0"` in any case.
#[utoipa::path(operation_id = "update_notification_preferences", patch, path = "/api/users/notification-preferences/", tag = "users",
    request_body = PreferencesJson,
    responses((status = 200, description = "The switches after the change", body = PreferencesJson),
              (status = 400, description = "A value that is not a boolean, or null; or a body that is not a JSON object", body = crate::http::openapi::BadRequestBody),
              (status = 403, description = "Impersonating", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn update(
    Auth(actor): Auth,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<PreferencesJson>> {
    Ok(Json(
        state.devices.set_preferences(&actor, &body).await?.into(),
    ))
}
