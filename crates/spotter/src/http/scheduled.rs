//! `/api/messaging/conversations/<id>/scheduled/`: messages to be sent later (Part D 2), each
//! the caller's own; changes are told live on the author's user socket (`scheduled_message`).
//! Rules and validation are `domain::coaching`'s.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

use crate::domain::coaching::ScheduleBody;
use crate::domain::model::{ConversationId, ScheduledId};
use crate::error::Result;
use crate::http::extract::{Auth, JsonBody, PathId, PathIds};
use crate::state::AppState;
use crate::wire::ScheduledJson;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/messaging/conversations/{id}/scheduled/",
            get(list).post(create),
        )
        .route(
            "/api/messaging/conversations/{id}/scheduled/{scheduled_id}/",
            axum::routing::patch(update).delete(cancel),
        )
}

/// Schedules a message; it is sent at `send_at` (within a second) as an ordinary message of
/// the caller's, by whichever node is up.
#[utoipa::path(operation_id = "schedule_message", post, path = "/api/messaging/conversations/{id}/scheduled/", tag = "coaching",
    params(("id" = i64, Path, description = "Conversation id")),
    request_body = ScheduleBody,
    responses((status = 201, description = "Scheduled", body = ScheduledJson),
              (status = 400, description = "Bad content or send_at, an archived conversation, or 500 pending already", body = crate::http::openapi::BadRequestBody),
              (status = 403, description = "Impersonating, or not a participant", body = crate::http::openapi::ErrorBody),
              (status = 404, description = "No such conversation", body = crate::http::openapi::ErrorOrDetailBody),
              (status = 429, description = "Over the send rate", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn create(
    Auth(actor): Auth,
    PathId(conversation): PathId<ConversationId>,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<ScheduleBody>,
) -> Result<(StatusCode, Json<ScheduledJson>)> {
    let saved = state.coaching.schedule(&actor, conversation, &body).await?;
    Ok((StatusCode::CREATED, Json((&saved).into())))
}

/// The caller's pending messages in the conversation, soonest first (not paged: at most 500).
#[utoipa::path(operation_id = "list_scheduled_messages", get, path = "/api/messaging/conversations/{id}/scheduled/", tag = "coaching",
    params(("id" = i64, Path, description = "Conversation id")),
    responses((status = 200, description = "Pending scheduled messages", body = Vec<ScheduledJson>),
              (status = 403, description = "Not a participant", body = crate::http::openapi::ErrorBody),
              (status = 404, description = "No such conversation", body = crate::http::openapi::ErrorOrDetailBody)),
    security(("jwt" = [])))]
async fn list(
    Auth(actor): Auth,
    PathId(conversation): PathId<ConversationId>,
    State(state): State<AppState>,
) -> Result<Json<Vec<ScheduledJson>>> {
    let pending = state.coaching.pending(&actor, conversation).await?;
    Ok(Json(pending.iter().map(ScheduledJson::from).collect()))
}

/// Changes a pending message's `content` or `send_at` (any subset).
#[utoipa::path(operation_id = "update_scheduled_message", patch, path = "/api/messaging/conversations/{id}/scheduled/{scheduled_id}/", tag = "coaching",
    params(("id" = i64, Path, description = "Conversation id"),
           ("scheduled_id" = i64, Path, description = "Scheduled message id")),
    request_body = ScheduleBody,
    responses((status = 200, description = "Changed", body = ScheduledJson),
              (status = 400, description = "Bad fields, or no longer pending", body = crate::http::openapi::BadRequestBody),
              (status = 403, description = "Impersonating, or not a participant", body = crate::http::openapi::ErrorBody),
              (status = 404, description = "No such scheduled message of the caller's here", body = crate::http::openapi::ErrorOrDetailBody)),
    security(("jwt" = [])))]
async fn update(
    Auth(actor): Auth,
    PathIds(conversation, id): PathIds<ConversationId, ScheduledId>,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<ScheduledJson>> {
    let body = ScheduleBody::from_object(&body);
    let saved = state
        .coaching
        .reschedule(&actor, conversation, id, &body)
        .await?;
    Ok(Json((&saved).into()))
}

/// Cancels a pending message.
#[utoipa::path(operation_id = "cancel_scheduled_message", delete, path = "/api/messaging/conversations/{id}/scheduled/{scheduled_id}/", tag = "coaching",
    params(("id" = i64, Path, description = "Conversation id"),
           ("scheduled_id" = i64, Path, description = "Scheduled message id")),
    responses((status = 204, description = "Cancelled"),
              (status = 400, description = "No longer pending", body = crate::http::openapi::ErrorBody),
              (status = 403, description = "Impersonating, or not a participant", body = crate::http::openapi::ErrorBody),
              (status = 404, description = "No such scheduled message of the caller's here", body = crate::http::openapi::ErrorOrDetailBody)),
    security(("jwt" = [])))]
async fn cancel(
    Auth(actor): Auth,
    PathIds(conversation, id): PathIds<ConversationId, ScheduledId>,
    State(state): State<AppState>,
) -> Result<StatusCode> {
    state.coaching.unschedule(&actor, conversation, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
