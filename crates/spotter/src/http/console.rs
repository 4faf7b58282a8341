//! `/api/admin/`: the admin console's reads (Part D 6): accounts, every conversation, a
//! conversation's messages, a user's messages by text. Read-only; each read of message data is
//! in the audit log before it is answered (the rules: `domain::console`).

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::Actor;
use crate::domain::console::{CONVERSATIONS_PER_PAGE, USERS_PER_PAGE, admin_only};
use crate::domain::model::{Conversation, ConversationId, UserId};
use crate::error::{Error, Result, msg};
use crate::http::extract::{Auth, ClientIp, Origin, PathId};
use crate::http::messaging::{MessagesAnswer, messages_answer, paging};
use crate::http::paging::{Page, page, page_number};
use crate::http::search::{SearchAnswer, result};
use crate::state::AppState;
use crate::wire::{MediaUrls, UserJson, UserSummaryJson, to_wire, to_wire_opt};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/users/", get(users))
        .route("/api/admin/conversations/", get(conversations))
        .route("/api/admin/conversations/{id}/messages/", get(messages))
        .route("/api/admin/search/", get(search))
}

/// The caller, an admin with their own token: refused (403) before anything of the request is
/// read, so a non-admin learns nothing from how their parameters would have been taken.
pub struct Admin(pub Actor);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let Auth(actor) = Auth::from_request_parts(parts, state).await?;
        admin_only(&actor)?;
        Ok(Self(actor))
    }
}

/// An optional integer query parameter (`""` is absent); anything else is the field's 400.
pub(crate) fn int_param(
    query: &HashMap<String, String>,
    name: &'static str,
) -> Result<Option<i64>> {
    match query.get(name).map(|s| s.trim()) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| Error::field(name, msg::NOT_AN_INTEGER)),
    }
}

/// A conversation as the console lists it: who, since when, how much, whether archived; never
/// what was written (no preview: reading messages is the logged read of each participant).
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminConversationJson {
    pub id: ConversationId,
    pub trainer: UserSummaryJson,
    /// Null if the trainee's account was deleted.
    pub trainee: Option<UserSummaryJson>,
    pub last_message_at: Option<String>,
    pub message_count: i64,
    pub is_archived: bool,
    pub archived_at: Option<String>,
    pub created_at: String,
}

impl AdminConversationJson {
    fn new(c: &Conversation, urls: &dyn MediaUrls) -> Self {
        Self {
            id: c.id,
            trainer: UserSummaryJson::new(&c.trainer, urls),
            trainee: c.trainee.as_ref().map(|t| UserSummaryJson::new(t, urls)),
            last_message_at: to_wire_opt(c.last_message_at),
            message_count: c.message_count,
            is_archived: c.archived_at.is_some(),
            archived_at: to_wire_opt(c.archived_at),
            created_at: to_wire(c.created_at),
        }
    }
}

/// Accounts by name, 50 a page; `?q=` matches names and email. Not logged (no message data).
#[utoipa::path(get, path = "/api/admin/users/", tag = "admin",
    params(("q" = Option<String>, Query, description = "Case-insensitive match on name or email"),
           ("page" = Option<i64>, Query, description = "Page number, from 1")),
    responses((status = 200, description = "A page of accounts", body = Page<UserJson>),
              (status = 403, description = "Not an admin", body = crate::http::openapi::DetailBody),
              (status = 404, description = "No such page", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn users(
    Admin(actor): Admin,
    State(state): State<AppState>,
    Origin(origin): Origin,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Page<UserJson>>> {
    let number = page_number(&query)?;
    let size = USERS_PER_PAGE;
    let q = query.get("q").map(String::as_str);
    let (rows, count) = state
        .console
        .users(&actor, q, size, (number - 1) * size)
        .await?;
    let urls = state.bus.urls();
    let results = rows.iter().map(|u| UserJson::new(u, urls)).collect();
    let path = "/api/admin/users/";
    Ok(Json(page(
        &origin, path, &query, number, size, count, results,
    )?))
}

/// Every conversation, archived ones included, newest activity first, 50 a page; `?user=` only
/// that user's (trainer or trainee), `?q=` by either participant's name or email. Logged
/// (`admin.read_conversations`, about `user`) before it is read.
#[utoipa::path(get, path = "/api/admin/conversations/", tag = "admin",
    params(("user" = Option<i64>, Query, description = "Only the conversations this user takes part in"),
           ("q" = Option<String>, Query, description = "Case-insensitive match on either participant's name or email"),
           ("page" = Option<i64>, Query, description = "Page number, from 1")),
    responses((status = 200, description = "A page of conversations", body = Page<AdminConversationJson>),
              (status = 400, description = "user is not an integer", body = crate::http::openapi::FieldErrorsBody),
              (status = 403, description = "Not an admin", body = crate::http::openapi::DetailBody),
              (status = 404, description = "No such page", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn conversations(
    Admin(actor): Admin,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    Origin(origin): Origin,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Page<AdminConversationJson>>> {
    let number = page_number(&query)?;
    let user = int_param(&query, "user")?.map(UserId);
    let q = query.get("q").map(String::as_str);
    let size = CONVERSATIONS_PER_PAGE;
    let (rows, count) = state
        .console
        .conversations(&actor, ip, user, q, size, (number - 1) * size)
        .await?;
    let urls = state.bus.urls();
    let results = rows
        .iter()
        .map(|c| AdminConversationJson::new(c, urls))
        .collect();
    let path = "/api/admin/conversations/";
    Ok(Json(page(
        &origin, path, &query, number, size, count, results,
    )?))
}

/// A conversation's messages, read-only, archived or not, deleted ones as tombstones; paged as
/// a participant's list (20 a page, or by cursor). Logged (`admin.read_messages`, one entry per
/// participant) before it is read; a read that cannot be logged is refused.
#[utoipa::path(get, path = "/api/admin/conversations/{id}/messages/", tag = "admin",
    params(("id" = i64, Path, description = "Conversation id"),
           ("page" = Option<i64>, Query, description = "Page number (page-number paging)"),
           ("before" = Option<i64>, Query, description = "Messages older than this id, newest first"),
           ("after" = Option<i64>, Query, description = "Messages newer than this id, oldest first"),
           ("around" = Option<i64>, Query, description = "The page centred on this message, newest first"),
           ("limit" = Option<i64>, Query, description = "Cursor page size, 1 to 100 (default 20)")),
    responses((status = 200, description = "A page of messages", body = MessagesAnswer),
              (status = 400, description = "Bad cursor or limit", body = crate::http::openapi::BadRequestBody),
              (status = 403, description = "Not an admin", body = crate::http::openapi::DetailBody),
              (status = 404, description = "No such conversation or page", body = crate::http::openapi::ErrorOrDetailBody),
              (status = 500, description = "The read could not be logged: nothing is answered", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn messages(
    Admin(actor): Admin,
    PathId(id): PathId<ConversationId>,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    Origin(origin): Origin,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<MessagesAnswer>> {
    let paging = paging(&query)?;
    let found = state.console.messages(&actor, ip, id, paging).await?;
    let path = format!("/api/admin/conversations/{id}/messages/");
    let urls = state.bus.urls();
    Ok(Json(messages_answer(
        found, paging, urls, &origin, &path, &query,
    )?))
}

/// A user's messages containing `q`, as their own search finds them (their live conversations,
/// deleted messages excluded, newest first, 20 a page), seen from their side. Logged
/// (`admin.search_messages`) about the user, and about each other participant the page shows.
#[utoipa::path(operation_id = "admin_search_messages", get, path = "/api/admin/search/", tag = "admin",
    params(("user" = i64, Query, description = "Whose messages"),
           ("q" = String, Query, description = "Text to find, at least 2 characters"),
           ("conversation_id" = Option<i64>, Query, description = "Only this conversation"),
           ("page" = Option<i64>, Query, description = "Page number, from 1")),
    responses((status = 200, description = "A page of results", body = SearchAnswer),
              (status = 400, description = "No user, no query, or a query under 2 characters", body = crate::http::openapi::BadRequestBody),
              (status = 403, description = "Not an admin", body = crate::http::openapi::DetailBody),
              (status = 404, description = "No such user", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn search(
    Admin(actor): Admin,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<SearchAnswer>> {
    let user = int_param(&query, "user")?
        .map(UserId)
        .ok_or_else(|| Error::field("user", msg::REQUIRED))?;
    let conversation = int_param(&query, "conversation_id")?.map(ConversationId);
    let q = query.get("q").map(String::as_str);
    let page = query.get("page").map(String::as_str);
    let found = state
        .console
        .search(&actor, ip, user, q, page, conversation)
        .await?;
    let text = q.map(str::trim).unwrap_or_default();
    let urls = state.bus.urls();
    Ok(Json(SearchAnswer {
        count: found.count,
        num_pages: found.num_pages,
        page: found.page,
        has_next: found.page < found.num_pages,
        has_previous: found.page > 1,
        results: found
            .hits
            .into_iter()
            .map(|h| result(h, user, text, urls))
            .collect(),
    }))
}
