//! The audit log (Part D 6) as read over HTTP: the whole log for admins
//! (`/api/admin/audit-log/`), and each person's own entries, who read or exported their data
//! (`/api/users/access-log/`). Only GET exists: the log is appended to by the reads it records,
//! never through an endpoint. Reading it is not itself logged.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::audit::{Access, OPERATOR};
use crate::domain::coaching::parse_time;
use crate::domain::model::{ConversationId, UserId};
use crate::error::{Error, FieldErrors, Result};
use crate::http::console::{Admin, int_param};
use crate::http::extract::{Auth, Origin};
use crate::http::paging::{Page, page, page_number};
use crate::state::AppState;
use crate::store::{AuditEntry, AuditFilter};
use crate::wire::to_wire;

/// Entries a page, of the log and of an access log.
pub const ENTRIES_PER_PAGE: i64 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/audit-log/", get(log))
        .route("/api/users/access-log/", get(access_log))
}

/// An entry of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryJson {
    pub id: i64,
    /// Who did it (their own id, also while impersonating).
    pub actor_id: UserId,
    /// `admin.read_conversations`, `admin.read_messages`, `admin.search_messages`,
    /// `impersonation.start`, `impersonation.end`, `export`, `erase`, …
    pub action: String,
    /// Whose data it was about; null for the whole conversation list.
    pub subject_user_id: Option<UserId>,
    pub conversation_id: Option<ConversationId>,
    /// The caller's address.
    pub ip: Option<String>,
    pub created_at: String,
    /// SHA-256 over the entry's fields and the previous entry's hash (lowercase hex): the
    /// chain `spotter audit verify` walks.
    pub hash: String,
}

impl From<AuditEntry> for AuditEntryJson {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id,
            actor_id: e.actor_id,
            action: e.action,
            subject_user_id: e.subject_user_id,
            conversation_id: e.conversation_id,
            ip: e.ip,
            created_at: to_wire(e.created_at),
            hash: e.hash,
        }
    }
}

/// An entry of a person's access log: who did what with their data (no address, no hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessEntryJson {
    pub id: i64,
    pub actor_id: UserId,
    /// "First Last" (or the email) of who did it as their account is now; `"[removed]"` once
    /// it is gone; `"Spotter operator"` for the command line (actor 0).
    pub actor_name: String,
    /// `admin`, `trainer`, …; null once the account is gone.
    pub actor_role: Option<String>,
    pub action: String,
    pub subject_user_id: Option<UserId>,
    pub conversation_id: Option<ConversationId>,
    pub created_at: String,
}

impl From<Access> for AccessEntryJson {
    fn from(a: Access) -> Self {
        let e = a.entry;
        Self {
            id: e.id,
            actor_id: e.actor_id,
            actor_name: match &a.actor {
                Some(u) => u.display_name(),
                None if e.actor_id == OPERATOR => "Spotter operator".to_owned(),
                None => "[removed]".to_owned(),
            },
            actor_role: a.actor.map(|u| u.role.as_str().to_owned()),
            action: e.action,
            subject_user_id: e.subject_user_id,
            conversation_id: e.conversation_id,
            created_at: to_wire(e.created_at),
        }
    }
}

/// The log's filters from the query: every bad one reported at once, on its field.
fn filter(query: &HashMap<String, String>) -> Result<AuditFilter> {
    let mut errors = FieldErrors::new();
    let mut id = |name: &'static str| match int_param(query, name) {
        Ok(v) => v.map(UserId),
        Err(Error::Invalid(e)) => {
            errors.extend(e);
            None
        }
        Err(_) => None,
    };
    let (actor, subject) = (id("actor"), id("subject"));
    let mut time = |name: &'static str| match query.get(name).map(|s| s.trim()) {
        None | Some("") => None,
        Some(raw) => parse_time(raw)
            .map_err(|m| errors.insert(name, vec![m.into()]))
            .ok(),
    };
    let (since, until) = (time("since"), time("until"));
    if errors.is_empty() {
        Ok(AuditFilter {
            actor,
            subject,
            since,
            until,
        })
    } else {
        Err(Error::Invalid(errors))
    }
}

/// The audit log, newest first, 50 a page: `?actor=` who did it, `?subject=` whose data,
/// `?since=` / `?until=` (ISO 8601, inclusive) when. Admins only; not itself logged.
#[utoipa::path(get, path = "/api/admin/audit-log/", tag = "admin",
    params(("actor" = Option<i64>, Query, description = "Entries of this actor"),
           ("subject" = Option<i64>, Query, description = "Entries about this user's data"),
           ("since" = Option<String>, Query, description = "At or after this time (ISO 8601; `+` as %2B)"),
           ("until" = Option<String>, Query, description = "At or before this time (ISO 8601)"),
           ("page" = Option<i64>, Query, description = "Page number, from 1")),
    responses((status = 200, description = "A page of entries", body = Page<AuditEntryJson>),
              (status = 400, description = "A filter that is not an integer or a time", body = crate::http::openapi::FieldErrorsBody),
              (status = 403, description = "Not an admin", body = crate::http::openapi::DetailBody),
              (status = 404, description = "No such page", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn log(
    Admin(actor): Admin,
    State(state): State<AppState>,
    Origin(origin): Origin,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Page<AuditEntryJson>>> {
    let number = page_number(&query)?;
    let filter = filter(&query)?;
    let size = ENTRIES_PER_PAGE;
    let (rows, count) = state
        .audit
        .entries(&actor, filter, size, (number - 1) * size)
        .await?;
    let results = rows.into_iter().map(AuditEntryJson::from).collect();
    let path = "/api/admin/audit-log/";
    Ok(Json(page(
        &origin, path, &query, number, size, count, results,
    )?))
}

/// Who read, searched, exported or erased the caller's data, and who impersonated them, newest
/// first, 50 a page. Any user, with their own token (not an impersonation's).
#[utoipa::path(get, path = "/api/users/access-log/", tag = "users",
    params(("page" = Option<i64>, Query, description = "Page number, from 1")),
    responses((status = 200, description = "A page of entries", body = Page<AccessEntryJson>),
              (status = 403, description = "An impersonation token", body = crate::http::openapi::DetailBody),
              (status = 404, description = "No such page", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn access_log(
    Auth(actor): Auth,
    State(state): State<AppState>,
    Origin(origin): Origin,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Page<AccessEntryJson>>> {
    let number = page_number(&query)?;
    let size = ENTRIES_PER_PAGE;
    let (rows, count) = state
        .audit
        .access_log(&actor, size, (number - 1) * size)
        .await?;
    let results = rows.into_iter().map(AccessEntryJson::from).collect();
    let path = "/api/users/access-log/";
    Ok(Json(page(
        &origin, path, &query, number, size, count, results,
    )?))
}
