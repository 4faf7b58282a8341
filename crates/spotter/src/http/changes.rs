//! `conversations/<id>/messages/<message_id>/`: PATCH edits a message's text, DELETE leaves a
//! tombstone (contract Part C). The rules live in `domain::messaging`; the image of a deleted
//! message is removed from the media store here, after the delete commits.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::patch;
use axum::{Json, Router};
use serde_json::Value;

use crate::domain::input::EditBody;
use crate::domain::model::{ConversationId, MessageId};
use crate::error::Result;
use crate::http::extract::{Auth, JsonBody, PathIds};
use crate::state::AppState;
use crate::wire::MessageJson;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/messaging/conversations/{id}/messages/{message_id}/",
        patch(edit).delete(delete),
    )
}

/// Edits one of the caller's messages, within 15 minutes of sending it. 200 with the whole
/// message (`edited_at` set). No push; a `message_edited` event to both participants.
#[utoipa::path(patch, path = "/api/messaging/conversations/{id}/messages/{message_id}/", tag = "messaging",
    params(("id" = i64, Path, description = "Conversation id"),
           ("message_id" = i64, Path, description = "Message id")),
    request_body = EditBody,
    responses((status = 200, description = "Edited", body = MessageJson),
              (status = 400, description = "Invalid content, no such message, deleted, edit window expired, or empty text without an image", body = crate::http::openapi::BadRequestBody),
              (status = 403, description = "Impersonating, not a participant, or not the author", body = crate::http::openapi::ErrorBody),
              (status = 404, description = "No such conversation", body = crate::http::openapi::ErrorOrDetailBody),
              (status = 429, description = "Over 30 sends, edits, deletes and searches a minute", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn edit(
    Auth(actor): Auth,
    PathIds(conversation, message): PathIds<ConversationId, MessageId>,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<MessageJson>> {
    let edited = state
        .messaging
        .edit(&actor, (conversation, message), EditBody::validate(&body))
        .await?;
    Ok(Json(MessageJson::new(&edited, state.bus.urls())))
}

/// Deletes one of the caller's messages, whatever its age: it stays in place with no text and
/// no image (`is_deleted`), and its image files are removed. 204, no body; a `message_deleted`
/// event to both participants. No push.
#[utoipa::path(delete, path = "/api/messaging/conversations/{id}/messages/{message_id}/", tag = "messaging",
    params(("id" = i64, Path, description = "Conversation id"),
           ("message_id" = i64, Path, description = "Message id")),
    responses((status = 204, description = "Deleted"),
              (status = 400, description = "No such message, or deleted already", body = crate::http::openapi::ErrorBody),
              (status = 403, description = "Impersonating, not a participant, or not the author", body = crate::http::openapi::ErrorBody),
              (status = 404, description = "No such conversation", body = crate::http::openapi::ErrorOrDetailBody),
              (status = 429, description = "Over 30 sends, edits, deletes and searches a minute", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn delete(
    Auth(actor): Auth,
    PathIds(conversation, message): PathIds<ConversationId, MessageId>,
    State(state): State<AppState>,
) -> Result<StatusCode> {
    state
        .messaging
        .delete(&actor, (conversation, message))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
