//! `/api/messaging/broadcasts/`: one message to many of a trainer's trainees (Part D 1),
//! recorded at once (202) and sent by the dispatcher; progress here and live on the trainer's
//! user socket (`broadcast_progress`). Rules and validation are `domain::coaching`'s.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::coaching::BroadcastBody;
use crate::domain::model::{BroadcastFailure, BroadcastId, UserId};
use crate::error::Result;
use crate::http::extract::{Auth, JsonBody, Origin, PathId};
use crate::http::paging::{Page, page, page_number};
use crate::state::AppState;
use crate::wire::BroadcastJson;

/// Broadcasts a page.
const PER_PAGE: i64 = 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/messaging/broadcasts/", get(list).post(create))
        .route(
            "/api/messaging/broadcasts/{id}/",
            get(detail).delete(cancel),
        )
}

/// A recipient a broadcast could not reach.
#[derive(Debug, Serialize, ToSchema)]
pub struct FailureJson {
    pub trainee_id: UserId,
    pub trainee_name: String,
    pub reason: String,
}

/// A broadcast with the recipients it could not reach.
#[derive(Debug, Serialize, ToSchema)]
pub struct BroadcastDetailJson {
    #[serde(flatten)]
    pub broadcast: BroadcastJson,
    pub failures: Vec<FailureJson>,
}

impl From<BroadcastFailure> for FailureJson {
    fn from(f: BroadcastFailure) -> Self {
        Self {
            trainee_id: f.trainee_id,
            trainee_name: f.trainee_name,
            reason: f.reason,
        }
    }
}

/// Sends one message to many of the trainer's trainees (or all), now or at `send_at`; 202 with
/// the broadcast, whose progress moves as the dispatcher reaches them. A retry with the same
/// `client_broadcast_id` answers 200 with the first one and sends nothing more.
#[utoipa::path(operation_id = "create_broadcast", post, path = "/api/messaging/broadcasts/", tag = "coaching",
    request_body = BroadcastBody,
    responses((status = 202, description = "Recorded; sending (or scheduled)", body = BroadcastJson),
              (status = 200, description = "A retry: the first broadcast with this client_broadcast_id", body = BroadcastJson),
              (status = 400, description = "Bad fields, or a trainee who is not the trainer's own", body = crate::http::openapi::BadRequestBody),
              (status = 403, description = "Not a trainer, or impersonating", body = crate::http::openapi::ErrorBody),
              (status = 429, description = "Over the send rate (a broadcast takes one slot)", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn create(
    Auth(actor): Auth,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<BroadcastBody>,
) -> Result<(StatusCode, Json<BroadcastJson>)> {
    let (saved, created) = state.coaching.broadcast(&actor, &body).await?;
    let status = if created {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, Json((&saved).into())))
}

/// The trainer's broadcasts, newest first, 20 a page.
#[utoipa::path(operation_id = "list_broadcasts", get, path = "/api/messaging/broadcasts/", tag = "coaching",
    params(("page" = Option<i64>, Query, description = "Page number, from 1")),
    responses((status = 200, description = "A page of broadcasts", body = Page<BroadcastJson>),
              (status = 403, description = "Not a trainer", body = crate::http::openapi::ErrorBody),
              (status = 404, description = "No such page", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn list(
    Auth(actor): Auth,
    State(state): State<AppState>,
    Origin(origin): Origin,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Page<BroadcastJson>>> {
    let number = page_number(&query)?;
    let (rows, count) = state
        .coaching
        .broadcasts(&actor, PER_PAGE, (number - 1) * PER_PAGE)
        .await?;
    let results = rows.iter().map(BroadcastJson::from).collect();
    Ok(Json(page(
        &origin,
        "/api/messaging/broadcasts/",
        &query,
        number,
        PER_PAGE,
        count,
        results,
    )?))
}

/// One of the trainer's broadcasts, with `failures`: who it could not reach, and why.
#[utoipa::path(operation_id = "broadcast_detail", get, path = "/api/messaging/broadcasts/{id}/", tag = "coaching",
    params(("id" = i64, Path, description = "Broadcast id")),
    responses((status = 200, description = "The broadcast", body = BroadcastDetailJson),
              (status = 403, description = "Not a trainer", body = crate::http::openapi::ErrorBody),
              (status = 404, description = "No such broadcast of the caller's", body = crate::http::openapi::ErrorOrDetailBody)),
    security(("jwt" = [])))]
async fn detail(
    Auth(actor): Auth,
    PathId(id): PathId<BroadcastId>,
    State(state): State<AppState>,
) -> Result<Json<BroadcastDetailJson>> {
    let (b, failures) = state.coaching.broadcast_detail(&actor, id).await?;
    Ok(Json(BroadcastDetailJson {
        broadcast: (&b).into(),
        failures: failures.into_iter().map(FailureJson::from).collect(),
    }))
}

/// Cancels a scheduled broadcast that has not begun.
#[utoipa::path(operation_id = "cancel_broadcast", delete, path = "/api/messaging/broadcasts/{id}/", tag = "coaching",
    params(("id" = i64, Path, description = "Broadcast id")),
    responses((status = 204, description = "Cancelled"),
              (status = 400, description = "No longer scheduled (sending, done or cancelled)", body = crate::http::openapi::ErrorBody),
              (status = 403, description = "Not a trainer, or impersonating", body = crate::http::openapi::ErrorBody),
              (status = 404, description = "No such broadcast of the caller's", body = crate::http::openapi::ErrorOrDetailBody)),
    security(("jwt" = [])))]
async fn cancel(
    Auth(actor): Auth,
    PathId(id): PathId<BroadcastId>,
    State(state): State<AppState>,
) -> Result<StatusCode> {
    state.coaching.cancel_broadcast(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
