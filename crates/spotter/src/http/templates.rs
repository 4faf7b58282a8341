//! `/api/messaging/templates/`: a trainer's saved replies (Part D 3), which the dashboard's
//! message box inserts with `/`. Rules and validation are `domain::coaching`'s.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::coaching::TemplateBody;
use crate::domain::model::{Template, TemplateId};
use crate::error::Result;
use crate::http::extract::{Auth, JsonBody, PathId};
use crate::state::AppState;
use crate::wire::to_wire;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/messaging/templates/", get(list).post(create))
        .route(
            "/api/messaging/templates/{id}/",
            axum::routing::patch(update).delete(remove),
        )
}

/// A saved reply.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateJson {
    pub id: TemplateId,
    pub title: String,
    pub content: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Template> for TemplateJson {
    fn from(t: Template) -> Self {
        Self {
            id: t.id,
            title: t.title,
            content: t.content,
            created_at: to_wire(t.created_at),
            updated_at: to_wire(t.updated_at),
        }
    }
}

/// The trainer's saved replies, by title (case-insensitive); not paged (at most 200).
#[utoipa::path(operation_id = "list_templates", get, path = "/api/messaging/templates/", tag = "coaching",
    responses((status = 200, description = "The saved replies", body = Vec<TemplateJson>),
              (status = 403, description = "Not a trainer", body = crate::http::openapi::ErrorBody)),
    security(("jwt" = [])))]
async fn list(Auth(actor): Auth, State(state): State<AppState>) -> Result<Json<Vec<TemplateJson>>> {
    let all = state.coaching.templates(&actor).await?;
    Ok(Json(all.into_iter().map(TemplateJson::from).collect()))
}

/// Saves a reply.
#[utoipa::path(operation_id = "create_template", post, path = "/api/messaging/templates/", tag = "coaching",
    request_body = TemplateBody,
    responses((status = 201, description = "Saved", body = TemplateJson),
              (status = 400, description = "A bad or taken title, bad content, or 200 saved already", body = crate::http::openapi::BadRequestBody),
              (status = 403, description = "Not a trainer, or impersonating", body = crate::http::openapi::ErrorBody)),
    security(("jwt" = [])))]
async fn create(
    Auth(actor): Auth,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<TemplateBody>,
) -> Result<(StatusCode, Json<TemplateJson>)> {
    let saved = state.coaching.create_template(&actor, &body).await?;
    Ok((StatusCode::CREATED, Json(saved.into())))
}

/// Changes a saved reply's title or content (any subset); 200 with the whole reply.
#[utoipa::path(operation_id = "update_template", patch, path = "/api/messaging/templates/{id}/", tag = "coaching",
    params(("id" = i64, Path, description = "Saved reply id")),
    request_body = TemplateBody,
    responses((status = 200, description = "Changed", body = TemplateJson),
              (status = 400, description = "A bad or taken title, or bad content", body = crate::http::openapi::BadRequestBody),
              (status = 403, description = "Not a trainer, or impersonating", body = crate::http::openapi::ErrorBody),
              (status = 404, description = "No such saved reply of the caller's", body = crate::http::openapi::ErrorOrDetailBody)),
    security(("jwt" = [])))]
async fn update(
    Auth(actor): Auth,
    PathId(id): PathId<TemplateId>,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<TemplateJson>> {
    let body = TemplateBody::from_object(&body);
    let saved = state.coaching.update_template(&actor, id, &body).await?;
    Ok(Json(saved.into()))
}

/// Deletes a saved reply.
#[utoipa::path(operation_id = "remove_template", delete, path = "/api/messaging/templates/{id}/", tag = "coaching",
    params(("id" = i64, Path, description = "Saved reply id")),
    responses((status = 204, description = "Deleted"),
              (status = 403, description = "Not a trainer, or impersonating", body = crate::http::openapi::ErrorBody),
              (status = 404, description = "No such saved reply of the caller's", body = crate::http::openapi::ErrorOrDetailBody)),
    security(("jwt" = [])))]
async fn remove(
    Auth(actor): Auth,
    PathId(id): PathId<TemplateId>,
    State(state): State<AppState>,
) -> Result<StatusCode> {
    state.coaching.delete_template(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
