//! `GET /api/messaging/search/`: the caller's messages containing a text (contract Part C),
//! with Spotter's `conversation_id` filter and `highlights`.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::model::{ConversationId, MessageId, UserId};
use crate::domain::search::highlights;
use crate::error::{Error, Result, msg};
use crate::http::extract::Auth;
use crate::state::AppState;
use crate::store::Hit;
use crate::wire::{MediaUrls, to_wire};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/messaging/search/", get(search))
}

/// Where a query matched: characters `start` (included) to `end` (excluded) of `content`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Highlight {
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResult {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub sender_id: Option<UserId>,
    pub sender_first_name: String,
    pub sender_last_name: String,
    pub content: String,
    /// Absolute URL of the message's image, or null.
    pub image_url: Option<String>,
    pub created_at: String,
    /// The other party, from the searcher's side: null (and `""`, `"[removed]"`) for a
    /// deleted trainee.
    pub other_participant_id: Option<UserId>,
    pub other_participant_first_name: String,
    pub other_participant_last_name: String,
    /// Spotter: where the query matched in `content`.
    pub highlights: Vec<Highlight>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchAnswer {
    pub count: i64,
    pub num_pages: i64,
    pub page: i64,
    pub has_next: bool,
    pub has_previous: bool,
    pub results: Vec<SearchResult>,
}

/// A hit as `viewer` sees it (the searcher; for the admin console, the user searched).
pub(crate) fn result(hit: Hit, viewer: UserId, text: &str, urls: &dyn MediaUrls) -> SearchResult {
    let m = hit.message;
    let (sender_first_name, sender_last_name) = m
        .sender
        .as_ref()
        .map(|s| (s.first_name.clone(), s.last_name.clone()))
        .unwrap_or_default();
    let (other_participant_id, (other_participant_first_name, other_participant_last_name)) =
        if hit.conversation.trainer_id == viewer {
            (
                hit.conversation.trainee_id,
                hit.trainee_name
                    .unwrap_or_else(|| (String::new(), "[removed]".to_owned())),
            )
        } else {
            (Some(hit.conversation.trainer_id), hit.trainer_name)
        };
    SearchResult {
        message_id: m.id,
        conversation_id: m.conversation_id,
        sender_id: m.sender_id(),
        sender_first_name,
        sender_last_name,
        highlights: highlights(&m.content, text)
            .into_iter()
            .map(|(start, end)| Highlight { start, end })
            .collect(),
        image_url: m.image.as_ref().map(|i| urls.media_url(&i.key)),
        content: m.content,
        created_at: to_wire(m.created_at),
        other_participant_id,
        other_participant_first_name,
        other_participant_last_name,
    }
}

/// The caller's messages whose text contains `q` (case-insensitive; `%`, `_` and `\` match
/// themselves), over their non-archived conversations, deleted messages excluded; newest
/// first, 20 a page. A page that does not parse is 1; past the end is the last.
#[utoipa::path(operation_id = "search_messages", get, path = "/api/messaging/search/", tag = "messaging",
    params(("q" = String, Query, description = "Text to find, at least 2 characters"),
           ("page" = Option<i64>, Query, description = "Page number, from 1"),
           ("conversation_id" = Option<i64>, Query, description = "Only this conversation")),
    responses((status = 200, description = "A page of results", body = SearchAnswer),
              (status = 400, description = "No query, a query under 2 characters, or an admin", body = crate::http::openapi::BadRequestBody),
              (status = 429, description = "Over 30 sends, edits, deletes and searches a minute", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn search(
    Auth(actor): Auth,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<SearchAnswer>> {
    let conversation = match query.get("conversation_id").map(|s| s.trim()) {
        None | Some("") => None,
        Some(s) => {
            Some(ConversationId(s.parse().map_err(|_| {
                Error::field("conversation_id", msg::NOT_AN_INTEGER)
            })?))
        }
    };
    let q = query.get("q").map(String::as_str);
    let found = state
        .messaging
        .search(
            &actor,
            q,
            query.get("page").map(String::as_str),
            conversation,
        )
        .await?;
    let text = q.map(str::trim).unwrap_or_default();
    Ok(Json(SearchAnswer {
        count: found.count,
        num_pages: found.num_pages,
        page: found.page,
        has_next: found.page < found.num_pages,
        has_previous: found.page > 1,
        results: found
            .hits
            .into_iter()
            .map(|h| result(h, actor.id(), text, state.bus.urls()))
            .collect(),
    }))
}
