//! `/api/messaging/`: the six endpoints of the original API, plus cursor paging and idempotent
//! send. Handlers parse, call `domain::messaging`, and shape the answer.

use std::collections::HashMap;

use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::input::{SendBody, StartBody};
use crate::domain::messaging::{MessagePage, Paging, Target};
use crate::domain::model::{ConversationId, MessageId};
use crate::error::{Error, Result};
use crate::http::extract::{Auth, Origin, PathId};
use crate::http::form::{MessageForm, READ_THROUGH_BYTES};
use crate::http::paging::{Page, page, page_number};
use crate::state::AppState;
use crate::wire::{ConversationJson, MediaUrls, MessageJson, to_wire};

pub const CONVERSATIONS_PER_PAGE: i64 = 50;
pub const MESSAGES_PER_PAGE: i64 = 20;
pub const MAX_CURSOR_LIMIT: i64 = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/messaging/conversations/", get(list_conversations))
        .route(
            "/api/messaging/conversations/start/",
            post(start).layer(DefaultBodyLimit::max(READ_THROUGH_BYTES)),
        )
        .route(
            "/api/messaging/conversations/{id}/messages/",
            get(list_messages),
        )
        .route(
            "/api/messaging/conversations/{id}/send/",
            post(send).layer(DefaultBodyLimit::max(READ_THROUGH_BYTES)),
        )
        .route("/api/messaging/conversations/{id}/read/", post(mark_read))
        .route("/api/messaging/unread-count/", get(unread_count))
}

/// A query flag as the original reads one.
fn flag(query: &HashMap<String, String>, name: &str) -> bool {
    matches!(
        query.get(name).map(String::as_str),
        Some("true" | "1" | "True")
    )
}

/// The user's conversations, newest activity first, 50 a page. `?archived=true` lists the
/// archived ones instead (a trainer's history); `?needs_reply=true` the trainer's live ones
/// whose newest message is the trainee's, longest waiting first, each with `waiting_since`.
#[utoipa::path(get, path = "/api/messaging/conversations/", tag = "messaging",
    params(("page" = Option<i64>, Query, description = "Page number, from 1"),
           ("archived" = Option<bool>, Query, description = "List archived conversations (trainer only)"),
           ("needs_reply" = Option<bool>, Query, description = "The trainer's conversations waiting for their answer, longest waiting first (trainer only)")),
    responses((status = 200, description = "A page of conversations", body = Page<ConversationJson>),
              (status = 400, description = "Both archived and needs_reply", body = crate::http::openapi::DetailBody),
              (status = 403, description = "needs_reply, not a trainer", body = crate::http::openapi::DetailBody),
              (status = 404, description = "No such page", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn list_conversations(
    Auth(actor): Auth,
    State(state): State<AppState>,
    Origin(origin): Origin,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Page<ConversationJson>>> {
    let number = page_number(&query)?;
    let (archived, needs_reply) = (flag(&query, "archived"), flag(&query, "needs_reply"));
    let size = CONVERSATIONS_PER_PAGE;
    let offset = (number - 1) * size;
    let urls = state.bus.urls();
    let results = if needs_reply {
        if archived {
            return Err(Error::Malformed(
                "Use either archived or needs_reply, not both.".to_owned(),
            ));
        }
        let (rows, count) = state.coaching.needing_reply(&actor, size, offset).await?;
        let json = rows
            .iter()
            .map(|c| ConversationJson::waiting(c, actor.id(), urls));
        (json.collect(), count)
    } else {
        let (rows, count) = state
            .messaging
            .conversations(&actor, archived, size, offset)
            .await?;
        let json = rows
            .iter()
            .map(|c| ConversationJson::new(c, actor.id(), urls));
        (json.collect(), count)
    };
    let (results, count) = results;
    Ok(Json(page(
        &origin,
        "/api/messaging/conversations/",
        &query,
        number,
        size,
        count,
        results,
    )?))
}

/// Cursor paging's answer: `before` pages come newest first, `after` pages oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct CursorPage {
    pub results: Vec<MessageJson>,
    /// More messages lie beyond this page in the same direction.
    pub has_more: bool,
}

/// The page centred on a message (`?around=`), newest first: what opens a search result in
/// place. Older pages follow with `?before=`, newer ones with `?after=`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AroundPage {
    pub results: Vec<MessageJson>,
    pub has_older: bool,
    pub has_newer: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum MessagesAnswer {
    Page(Page<MessageJson>),
    Cursor(CursorPage),
    Around(AroundPage),
}

fn cursor_id(
    query: &HashMap<String, String>,
    name: &'static str,
) -> Result<Option<Option<MessageId>>> {
    match query.get(name).map(|s| s.trim()) {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(s) => match s.parse::<i64>() {
            Ok(id) if id >= 0 => Ok(Some(Some(MessageId(id)))),
            _ => Err(Error::field(name, crate::error::msg::NOT_AN_INTEGER)),
        },
    }
}

/// The paging a messages list asks for (also the admin console's read of a conversation).
pub(crate) fn paging(query: &HashMap<String, String>) -> Result<Paging> {
    let before = cursor_id(query, "before")?;
    let after = cursor_id(query, "after")?;
    let around = cursor_id(query, "around")?;
    let limit = match query.get("limit") {
        None => None,
        Some(l) => match l.trim().parse::<i64>() {
            Ok(n) if (1..=MAX_CURSOR_LIMIT).contains(&n) => Some(n),
            _ => {
                return Err(Error::field(
                    "limit",
                    format!("Ensure this value is an integer from 1 to {MAX_CURSOR_LIMIT}."),
                ));
            }
        },
    };
    let n = limit.unwrap_or(MESSAGES_PER_PAGE);
    if let Some(around) = around {
        if before.is_some() || after.is_some() {
            return Err(Error::Malformed(
                "Use around alone, without before or after.".to_owned(),
            ));
        }
        let around = around.ok_or_else(|| Error::field("around", crate::error::msg::REQUIRED))?;
        return Ok(Paging::Around { around, limit: n });
    }
    match (before, after) {
        (Some(_), Some(_)) => Err(Error::Malformed(
            "Use either before or after, not both.".to_owned(),
        )),
        (Some(before), None) => Ok(Paging::Before { before, limit: n }),
        (None, Some(after)) => Ok(Paging::After {
            after: after.unwrap_or_default(),
            limit: n,
        }),
        (None, None) if limit.is_some() => Ok(Paging::Before {
            before: None,
            limit: n,
        }),
        (None, None) => Ok(Paging::Page {
            page: page_number(query)?,
            size: MESSAGES_PER_PAGE,
        }),
    }
}

/// A conversation's messages: 20 a page, newest first; or with `before`/`after`/`limit`, by
/// cursor, stable while new messages arrive.
#[utoipa::path(get, path = "/api/messaging/conversations/{id}/messages/", tag = "messaging",
    params(("id" = i64, Path, description = "Conversation id"),
           ("page" = Option<i64>, Query, description = "Page number (page-number paging)"),
           ("before" = Option<i64>, Query, description = "Messages older than this id, newest first"),
           ("after" = Option<i64>, Query, description = "Messages newer than this id, oldest first"),
           ("around" = Option<i64>, Query, description = "The page centred on this message, newest first"),
           ("limit" = Option<i64>, Query, description = "Cursor page size, 1 to 100 (default 20)")),
    responses((status = 200, description = "A page of messages", body = MessagesAnswer),
              (status = 400, description = "Bad cursor or limit", body = crate::http::openapi::BadRequestBody),
              (status = 403, description = "Not a participant, or archived (trainee)", body = crate::http::openapi::ErrorBody),
              (status = 404, description = "No such conversation or page", body = crate::http::openapi::ErrorOrDetailBody)),
    security(("jwt" = [])))]
async fn list_messages(
    Auth(actor): Auth,
    PathId(id): PathId<ConversationId>,
    State(state): State<AppState>,
    Origin(origin): Origin,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<MessagesAnswer>> {
    let paging = paging(&query)?;
    let found = state.messaging.messages(&actor, id, paging).await?;
    let path = format!("/api/messaging/conversations/{id}/messages/");
    let answer = messages_answer(found, paging, state.bus.urls(), &origin, &path, &query)?;
    Ok(Json(answer))
}

/// A page of messages in the shape its paging asks for (page-number links on `path`).
pub(crate) fn messages_answer(
    found: MessagePage,
    paging: Paging,
    urls: &dyn MediaUrls,
    origin: &str,
    path: &str,
    query: &HashMap<String, String>,
) -> Result<MessagesAnswer> {
    let results: Vec<MessageJson> = found
        .messages
        .iter()
        .map(|m| MessageJson::new(m, urls))
        .collect();
    Ok(match paging {
        Paging::Page { page: number, size } => MessagesAnswer::Page(page(
            origin,
            path,
            query,
            number,
            size,
            found.total,
            results,
        )?),
        Paging::Around { .. } => MessagesAnswer::Around(AroundPage {
            results,
            has_older: found.has_more,
            has_newer: found.has_newer,
        }),
        _ => MessagesAnswer::Cursor(CursorPage {
            results,
            has_more: found.has_more,
        }),
    })
}

/// Sends a message. 201 with the new message; 200 with the original on an idempotent retry.
#[utoipa::path(post, path = "/api/messaging/conversations/{id}/send/", tag = "messaging",
    params(("id" = i64, Path, description = "Conversation id")),
    request_body(content((SendBody = "application/json"), (crate::http::form::SendForm = "multipart/form-data"))),
    responses((status = 201, description = "Sent", body = MessageJson),
              (status = 200, description = "Idempotent retry: the message first sent with this client_message_id", body = MessageJson),
              (status = 400, description = "Invalid content, a bad image (type, size, contents), no text nor image, or archived conversation", body = crate::http::openapi::BadRequestBody),
              (status = 415, description = "Neither JSON nor a multipart form", body = crate::http::openapi::DetailBody),
              (status = 403, description = "Impersonating, or not a participant", body = crate::http::openapi::ErrorBody),
              (status = 404, description = "No such conversation", body = crate::http::openapi::ErrorOrDetailBody),
              (status = 429, description = "Over 30 sends a minute", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn send(
    Auth(actor): Auth,
    PathId(id): PathId<ConversationId>,
    State(state): State<AppState>,
    form: MessageForm<SendBody>,
) -> Result<(StatusCode, Json<MessageJson>)> {
    let sent = state
        .messaging
        .send(&actor, Target::Id(id), &form.body, form.upload)
        .await?;
    let status = if sent.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(MessageJson::new(&sent.message, state.bus.urls())),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct StartAnswer {
    conversation_id: ConversationId,
    message: MessageJson,
    /// True only when the conversation had no message before.
    is_new_conversation: bool,
}

/// A trainer starts (or resumes) the conversation with one of their trainees.
#[utoipa::path(operation_id = "start_conversation", post, path = "/api/messaging/conversations/start/", tag = "messaging",
    request_body(content((StartBody = "application/json"), (crate::http::form::StartForm = "multipart/form-data"))),
    responses((status = 201, description = "Started, with the first message", body = StartAnswer),
              (status = 200, description = "Idempotent retry", body = StartAnswer),
              (status = 400, description = "Invalid fields, a bad image, or trainee not assigned", body = crate::http::openapi::BadRequestBody),
              (status = 415, description = "Neither JSON nor a multipart form", body = crate::http::openapi::DetailBody),
              (status = 403, description = "Not a trainer, or impersonating", body = crate::http::openapi::ErrorBody),
              (status = 429, description = "Over 30 sends a minute", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn start(
    Auth(actor): Auth,
    State(state): State<AppState>,
    form: MessageForm<StartBody>,
) -> Result<(StatusCode, Json<StartAnswer>)> {
    let started = state
        .messaging
        .start(&actor, &form.body, form.upload)
        .await?;
    let status = if started.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(StartAnswer {
            conversation_id: started.conversation_id,
            message: MessageJson::new(&started.message, state.bus.urls()),
            is_new_conversation: started.is_new_conversation,
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct ReadAnswer {
    conversation_id: ConversationId,
    messages_marked: u64,
    read_at: String,
}

/// Marks every message from the other party read.
#[utoipa::path(post, path = "/api/messaging/conversations/{id}/read/", tag = "messaging",
    params(("id" = i64, Path, description = "Conversation id")),
    responses((status = 200, description = "Marked", body = ReadAnswer),
              (status = 403, description = "Not a participant, or archived (trainee)", body = crate::http::openapi::ErrorBody),
              (status = 404, description = "No such conversation", body = crate::http::openapi::ErrorOrDetailBody)),
    security(("jwt" = [])))]
async fn mark_read(
    Auth(actor): Auth,
    PathId(id): PathId<ConversationId>,
    State(state): State<AppState>,
) -> Result<Json<ReadAnswer>> {
    let r = state.messaging.mark_read(&actor, id).await?;
    Ok(Json(ReadAnswer {
        conversation_id: id,
        messages_marked: r.messages_marked,
        read_at: to_wire(r.read_at),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct UnreadAnswer {
    unread_count: i64,
}

/// Unread messages over the user's non-archived conversations (the navigation badge).
#[utoipa::path(get, path = "/api/messaging/unread-count/", tag = "messaging",
    responses((status = 200, description = "The count", body = UnreadAnswer)),
    security(("jwt" = [])))]
async fn unread_count(
    Auth(actor): Auth,
    State(state): State<AppState>,
) -> Result<Json<UnreadAnswer>> {
    Ok(Json(UnreadAnswer {
        unread_count: state.messaging.unread_count(actor.id()).await?,
    }))
}
