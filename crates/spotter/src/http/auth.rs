//! `/api/auth/`: login, refresh (with rotation) and the current user, as SimpleJWT and Djoser
//! answer them on the host platform.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::TokenPair;
use crate::domain::input::{LoginBody, RefreshBody};
use crate::domain::model::UserId;
use crate::error::Result;
use crate::http::extract::{Auth, ClientIp, JsonBody};
use crate::state::AppState;
use crate::wire::UserJson;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/jwt/create/", post(login))
        .route("/api/auth/jwt/refresh/", post(refresh))
        .route("/api/auth/users/me/", get(me))
}

#[derive(Serialize, ToSchema)]
pub struct TokensJson {
    pub access: String,
    pub refresh: String,
}

impl From<TokenPair> for TokensJson {
    fn from(p: TokenPair) -> Self {
        Self {
            access: p.access,
            refresh: p.refresh,
        }
    }
}

/// Exchanges email and password for an access token (1 hour) and a refresh token (7 days).
#[utoipa::path(post, path = "/api/auth/jwt/create/", tag = "auth", request_body = LoginBody,
    responses((status = 200, description = "Tokens", body = TokensJson),
              (status = 400, description = "Missing fields", body = crate::http::openapi::BadRequestBody),
              (status = 401, description = "Wrong credentials", body = crate::http::openapi::DetailBody),
              (status = 429, description = "Too many attempts from this address or for this email", body = crate::http::openapi::DetailBody)))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<Json<TokensJson>> {
    let (email, password) = body.validate()?;
    Ok(Json(
        state.accounts.login(ip, &email, &password).await?.into(),
    ))
}

/// Rotates a refresh token: a new pair comes back and the old refresh token is spent.
#[utoipa::path(post, path = "/api/auth/jwt/refresh/", tag = "auth", request_body = RefreshBody,
    responses((status = 200, description = "New tokens", body = TokensJson),
              (status = 400, description = "Missing field", body = crate::http::openapi::BadRequestBody),
              (status = 401, description = "Invalid, expired or spent refresh token", body = crate::http::openapi::DetailBody),
              (status = 429, description = "Too many attempts from this address", body = crate::http::openapi::DetailBody)))]
async fn refresh(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<RefreshBody>,
) -> Result<Json<TokensJson>> {
    let token = body.validate()?;
    Ok(Json(state.accounts.refresh(ip, &token).await?.into()))
}

#[derive(Serialize, ToSchema)]
pub struct MeJson {
    #[serde(flatten)]
    pub user: UserJson,
    /// The token is an impersonation token (read-only for messaging).
    pub is_impersonating: bool,
    /// Who is impersonating, when `is_impersonating`.
    pub original_user_id: Option<UserId>,
}

/// The authenticated user.
#[utoipa::path(get, path = "/api/auth/users/me/", tag = "auth",
    responses((status = 200, description = "The current user", body = MeJson)),
    security(("jwt" = [])))]
async fn me(State(state): State<AppState>, Auth(actor): Auth) -> Json<MeJson> {
    Json(MeJson {
        user: UserJson::new(&actor.user, state.bus.urls()),
        is_impersonating: actor.impersonating,
        original_user_id: actor.original_user_id,
    })
}
