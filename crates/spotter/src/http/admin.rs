//! `/api/admin/`: an admin impersonating a trainer (read-only for messaging).

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};

use crate::domain::accounts::require_role;
use crate::domain::model::{Role, UserId};
use crate::error::Result;
use crate::http::extract::{Auth, ClientIp, PathId};
use crate::http::trainer::ImpersonationJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/impersonate/end/", post(end))
        .route("/api/admin/impersonate/{id}/", post(start))
}

/// Read-only tokens acting as a trainer.
#[utoipa::path(operation_id = "admin_impersonate_start", post, path = "/api/admin/impersonate/{id}/", tag = "admin",
    params(("id" = i64, Path, description = "Trainer id")),
    responses((status = 200, description = "Impersonation tokens", body = ImpersonationJson),
              (status = 403, description = "Not an admin, or already impersonating", body = crate::http::openapi::DetailBody),
              (status = 404, description = "No such trainer", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn start(
    Auth(actor): Auth,
    PathId(id): PathId<UserId>,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
) -> Result<Json<ImpersonationJson>> {
    require_role(&actor, Role::Admin)?;
    let started = state.accounts.impersonate(&actor, id, ip).await?;
    Ok(Json(ImpersonationJson::new(started, state.bus.urls())))
}

/// Ends an admin's impersonation: the admin's own tokens.
#[utoipa::path(operation_id = "admin_impersonate_end", post, path = "/api/admin/impersonate/end/", tag = "admin",
    responses((status = 200, description = "The admin's tokens", body = ImpersonationJson),
              (status = 403, description = "Not impersonating a trainer", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn end(
    Auth(actor): Auth,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
) -> Result<Json<ImpersonationJson>> {
    let ended = state
        .accounts
        .end_impersonation(&actor, Role::Admin, ip)
        .await?;
    Ok(Json(ImpersonationJson::new(ended, state.bus.urls())))
}
