//! `GET /api/messaging/export/` (the caller's data) and `GET /api/admin/users/{id}/export/`
//! (a user's, for an admin): wire contract D5. The rules and the audit entry are
//! `domain::export`'s; this streams the body. A task reads a page, renders it
//! (`wire::export`) and hands it to the response through a channel of two chunks: a slow
//! client slows the reads, a gone one stops them, and at most a page or two is ever held.

use std::collections::HashMap;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::mpsc;

use crate::domain::export::{Export, Format, Whose};
use crate::domain::model::{ConversationId, UserId};
use crate::error::{Error, Result};
use crate::http::extract::{Auth, ClientIp, PathId};
use crate::state::AppState;
use crate::wire::export as render;

/// A chunk is sent once it holds this much.
const CHUNK: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    // No HEAD (which axum would answer with the GET handler): it would record an export in the
    // audit log that sends nothing.
    let no_head = || async { Error::MethodNotAllowed };
    Router::new()
        .route("/api/messaging/export/", get(own).head(no_head))
        .route("/api/admin/users/{id}/export/", get(for_user).head(no_head))
}

/// Every message of every conversation the caller takes part in (any role; archived
/// conversations too; deleted messages as tombstones), as one JSON document or CSV, streamed
/// as an attachment. Recorded in the audit log before the first byte.
#[utoipa::path(get, path = "/api/messaging/export/", tag = "export",
    params(("format" = Option<String>, Query, description = "`json` (the default) or `csv`")),
    responses((status = 200, description = "The export, as an attachment: one JSON document, or CSV (a header row, then a row per message)",
               content((crate::wire::export::ExportJson = "application/json"), (String = "text/csv"))),
              (status = 400, description = "A format other than json or csv", body = crate::http::openapi::FieldErrorsBody),
              (status = 403, description = "Impersonating", body = crate::http::openapi::DetailBody),
              (status = 429, description = "Over 10 exports an hour", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn own(
    Auth(actor): Auth,
    ClientIp(ip): ClientIp,
    Query(query): Query<HashMap<String, String>>,
    State(state): State<AppState>,
) -> Result<Response> {
    let format = Format::parse(query.get("format").map(String::as_str))?;
    let export = state.exports.start(&actor, Whose::Own, ip).await?;
    Ok(stream(state, export, format))
}

/// A user's export, for an admin (as `/api/messaging/export/`, about that user).
#[utoipa::path(get, path = "/api/admin/users/{id}/export/", tag = "export",
    params(("id" = i64, Path, description = "User id"),
           ("format" = Option<String>, Query, description = "`json` (the default) or `csv`")),
    responses((status = 200, description = "The user's export, as an attachment",
               content((crate::wire::export::ExportJson = "application/json"), (String = "text/csv"))),
              (status = 400, description = "A format other than json or csv", body = crate::http::openapi::FieldErrorsBody),
              (status = 403, description = "Not an admin, or impersonating", body = crate::http::openapi::DetailBody),
              (status = 404, description = "No such user", body = crate::http::openapi::DetailBody),
              (status = 429, description = "Over 10 exports an hour", body = crate::http::openapi::DetailBody)),
    security(("jwt" = [])))]
async fn for_user(
    Auth(actor): Auth,
    PathId(id): PathId<UserId>,
    ClientIp(ip): ClientIp,
    Query(query): Query<HashMap<String, String>>,
    State(state): State<AppState>,
) -> Result<Response> {
    let format = Format::parse(query.get("format").map(String::as_str))?;
    let export = state.exports.start(&actor, Whose::User(id), ip).await?;
    Ok(stream(state, export, format))
}

/// The response: headers now, the body as the task writes it.
fn stream(state: AppState, export: Export, format: Format) -> Response {
    let file = export.file_name(format);
    let kind = match format {
        Format::Json => "application/json",
        Format::Csv => "text/csv; charset=utf-8",
    };
    let (tx, rx) = mpsc::channel(2);
    tokio::spawn(async move {
        let mut out = Out {
            buf: Vec::with_capacity(CHUNK * 2),
            tx,
        };
        match write(&state, &export, format, &mut out).await {
            Ok(()) | Err(Stop::Gone) => {}
            Err(Stop::Failed(e)) => {
                tracing::error!(user = export.user.id.get(), error = %e, "export failed mid-way");
                // An error item aborts the body: the client sees a broken transfer, never a
                // document that looks complete.
                let _ = out
                    .tx
                    .send(Err(std::io::Error::other("export failed")))
                    .await;
            }
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    (
        [
            (CONTENT_TYPE, kind.to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// Why writing stopped early.
enum Stop {
    /// The client went away: nothing to do.
    Gone,
    Failed(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Self::Failed(e)
    }
}

/// The buffer a page is rendered into, and where full chunks go.
struct Out {
    buf: Vec<u8>,
    tx: mpsc::Sender<std::io::Result<Bytes>>,
}

impl Out {
    /// Sends what is buffered once it is a chunk (`all`: whatever there is).
    async fn flush(&mut self, all: bool) -> Result<(), Stop> {
        let due = self.buf.len() >= CHUNK || (all && !self.buf.is_empty());
        if !due {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(CHUNK * 2),
        ));
        self.tx.send(Ok(chunk)).await.map_err(|_| Stop::Gone)
    }
}

/// Walks the user's conversations by id, and each one's messages oldest first, page by page.
async fn write(
    state: &AppState,
    export: &Export,
    format: Format,
    out: &mut Out,
) -> Result<(), Stop> {
    let urls = state.bus.urls();
    match format {
        Format::Json => render::json_head(&mut out.buf, &export.user, export.exported_at, urls),
        Format::Csv => out.buf.extend_from_slice(render::CSV_HEADER.as_bytes()),
    }
    // The head goes at once: the client sees the download begin.
    out.flush(true).await?;
    let (mut after, mut first_conversation) = (ConversationId(0), true);
    loop {
        let page = export.conversations(after).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for c in &page {
            if format == Format::Json {
                let other = export.other(c);
                render::json_conversation(&mut out.buf, first_conversation, c.id, other, urls);
            }
            first_conversation = false;
            let (mut seq, mut first_message) = (0, true);
            loop {
                let messages = export.messages(c.id, seq).await?;
                let Some(last) = messages.last() else { break };
                seq = last.seq;
                for m in &messages {
                    match format {
                        Format::Json => render::json_message(&mut out.buf, first_message, m, urls),
                        Format::Csv => render::csv_row(&mut out.buf, m, urls),
                    }
                    first_message = false;
                }
                out.flush(false).await?;
            }
            if format == Format::Json {
                render::json_close(&mut out.buf);
            }
        }
    }
    if format == Format::Json {
        render::json_close(&mut out.buf);
    }
    out.flush(true).await
}
