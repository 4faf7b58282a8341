//! `/api/trainer/`: a trainer's roster (list, detail, remove), impersonation of a trainee, and
//! the response-time figures of their messaging (Part D 4).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::accounts::{Impersonation, require_role};
use crate::domain::model::{ConversationId, Role, UserId};
use crate::error::Result;
use crate::http::extract::{Auth, ClientIp, Origin, PathId};
use crate::http::paging::{Page, page, page_number};
use crate::state::AppState;
use crate::wire::UserJson;

pub const TRAINEES_PER_PAGE: i64 = 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/trainer/trainees/", get(list))
        .route("/api/trainer/trainees/{id}/", get(detail))
        .route("/api/trainer/trainees/{id}/remove/", post(remove))
        .route("/api/trainer/impersonate/{id}/start/", post(impersonate))
        .route("/api/trainer/impersonate/end/", post(end))
        .route("/api/trainer/messaging-stats/", get(messaging_stats))
}

/// The trainer's own trainees, 20 a page; `?search=` matches names and email.
#[utoipa::path(operation_id = "list_trainees", get, path = "/api/trainer/trainees/", tag = "trainer",
    params(("search" = Option<String>, Query, description = "Case-insensitive match on name or email"),
           ("page" = Option<i64>, Query, description = "Page number, from 1")),
    responses((status = 200, description = "A page of trainees", body = Page<UserJson>),
              (status = 403, description = "Not a trainer", body = crate::http::openapi::DetailBody),
              (status = 404, description = "No such page", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn list(
    Auth(actor): Auth,
    State(state): State<AppState>,
    Origin(origin): Origin,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Page<UserJson>>> {
    let number = page_number(&query)?;
    let size = TRAINEES_PER_PAGE;
    let search = query.get("search").map(String::as_str);
    let (rows, count) = state
        .accounts
        .trainees(&actor, search, size, (number - 1) * size)
        .await?;
    let results = rows
        .iter()
        .map(|u| UserJson::new(u, state.bus.urls()))
        .collect();
    Ok(Json(page(
        &origin,
        "/api/trainer/trainees/",
        &query,
        number,
        size,
        count,
        results,
    )?))
}

/// One of the trainer's trainees.
#[utoipa::path(operation_id = "trainee_detail", get, path = "/api/trainer/trainees/{id}/", tag = "trainer",
    params(("id" = i64, Path, description = "Trainee id")),
    responses((status = 200, description = "The trainee", body = UserJson),
              (status = 403, description = "Not a trainer", body = crate::http::openapi::DetailBody),
              (status = 404, description = "Not one of this trainer's trainees", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn detail(
    Auth(actor): Auth,
    PathId(id): PathId<UserId>,
    State(state): State<AppState>,
) -> Result<Json<UserJson>> {
    Ok(Json(UserJson::new(
        &state.accounts.own_trainee(&actor, id).await?,
        state.bus.urls(),
    )))
}

#[derive(Serialize, ToSchema)]
pub struct RemovedJson {
    detail: String,
    /// The conversation that was archived, if there was one.
    archived_conversation_id: Option<ConversationId>,
}

/// Unlinks a trainee; their conversation is archived, its history kept.
#[utoipa::path(operation_id = "remove_trainee", post, path = "/api/trainer/trainees/{id}/remove/", tag = "trainer",
    params(("id" = i64, Path, description = "Trainee id")),
    responses((status = 200, description = "Removed", body = RemovedJson),
              (status = 403, description = "Not a trainer, or impersonating", body = crate::http::openapi::DetailBody),
              (status = 404, description = "Not one of this trainer's trainees", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn remove(
    Auth(actor): Auth,
    PathId(id): PathId<UserId>,
    State(state): State<AppState>,
) -> Result<Json<RemovedJson>> {
    let archived = state.accounts.remove_trainee(&actor, id).await?;
    Ok(Json(RemovedJson {
        detail: "Trainee removed.".to_owned(),
        archived_conversation_id: archived,
    }))
}

/// Tokens of an impersonation, and who they act as.
#[derive(Serialize, ToSchema)]
pub struct ImpersonationJson {
    pub access: String,
    pub refresh: String,
    pub user: UserJson,
}

impl ImpersonationJson {
    pub fn new(i: Impersonation, urls: &dyn crate::wire::MediaUrls) -> Self {
        Self {
            access: i.tokens.access,
            refresh: i.tokens.refresh,
            user: UserJson::new(&i.user, urls),
        }
    }
}

/// Read-only tokens acting as one of the trainer's trainees.
#[utoipa::path(post, path = "/api/trainer/impersonate/{id}/start/", tag = "trainer",
    params(("id" = i64, Path, description = "Trainee id")),
    responses((status = 200, description = "Impersonation tokens (impersonating: true)", body = ImpersonationJson),
              (status = 403, description = "Not a trainer, or already impersonating", body = crate::http::openapi::DetailBody),
              (status = 404, description = "Not one of this trainer's trainees", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn impersonate(
    Auth(actor): Auth,
    PathId(id): PathId<UserId>,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
) -> Result<Json<ImpersonationJson>> {
    require_role(&actor, Role::Trainer)?;
    let started = state.accounts.impersonate(&actor, id, ip).await?;
    Ok(Json(ImpersonationJson::new(started, state.bus.urls())))
}

/// Ends an impersonation (call it with the impersonation token): the trainer's own tokens.
#[utoipa::path(operation_id = "trainer_impersonate_end", post, path = "/api/trainer/impersonate/end/", tag = "trainer",
    responses((status = 200, description = "The trainer's tokens", body = ImpersonationJson),
              (status = 403, description = "Not impersonating a trainee", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn end(
    Auth(actor): Auth,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
) -> Result<Json<ImpersonationJson>> {
    let ended = state
        .accounts
        .end_impersonation(&actor, Role::Trainer, ip)
        .await?;
    Ok(Json(ImpersonationJson::new(ended, state.bus.urls())))
}

/// A trainer's messaging over the last 7 or 30 days.
#[derive(Serialize, ToSchema)]
pub struct MessagingStatsJson {
    /// Conversations with a message in the window.
    conversations: i64,
    /// Messages from trainees in the window.
    messages_received: i64,
    /// The trainer's messages in the window.
    messages_sent: i64,
    /// Over the first responses in the window (a trainee message that followed a trainer
    /// message or began the conversation, to the trainer's next message): the median and the
    /// 90th percentile, interpolated, in seconds; null with none.
    median_first_response_seconds: Option<f64>,
    p90_first_response_seconds: Option<f64>,
    /// Live conversations waiting for the trainer's answer now.
    waiting_now: i64,
}

/// The trainer's response-time figures; `?days=7` (default) or `30`.
#[utoipa::path(get, path = "/api/trainer/messaging-stats/", tag = "trainer",
    params(("days" = Option<i64>, Query, description = "The window: 7 (default) or 30 days")),
    responses((status = 200, description = "The figures", body = MessagingStatsJson),
              (status = 400, description = "days other than 7 or 30", body = crate::http::openapi::FieldErrorsBody),
              (status = 403, description = "Not a trainer", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn messaging_stats(
    Auth(actor): Auth,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<MessagingStatsJson>> {
    let days = query.get("days").map(String::as_str);
    let f = state.coaching.figures(&actor, days).await?;
    Ok(Json(MessagingStatsJson {
        conversations: f.conversations,
        messages_received: f.messages_received,
        messages_sent: f.messages_sent,
        median_first_response_seconds: f.median_first_response_seconds,
        p90_first_response_seconds: f.p90_first_response_seconds,
        waiting_now: f.waiting_now,
    }))
}
