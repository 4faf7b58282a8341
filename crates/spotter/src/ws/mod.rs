//! The WebSocket surface: `ws/messaging/<conversation_id>/` (Part A, plus `?after=` resume) and
//! `ws/messaging/` (one socket per user, Part B 4). Authentication and authorization happen after
//! the upgrade so a browser can read the close code (4001, 4003); see [`session`].

pub mod commands;
pub mod session;
pub mod typing;

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;

use crate::state::AppState;

/// Frames over this many bytes close the socket with 1009.
pub const MAX_FRAME_BYTES: usize = 16 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ws/messaging/", get(user_socket))
        .route("/ws/messaging/{id}/", get(conversation_socket))
}

/// tungstenite allocates its read buffer eagerly (128 KiB by default): 100,000 idle sockets
/// would hold 12.8 GB before saying a word. It grows when a frame needs more (up to the 16 KiB
/// cap), so start small (1 KiB holds every ordinary frame; measured: 16.3 → 13.3 KiB per idle
/// socket); writes are flushed frame by frame, so no write buffer either.
const READ_BUFFER_BYTES: usize = 1024;

fn upgrade(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
}

async fn user_socket(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    upgrade(ws).on_upgrade(move |socket| session::run(state, socket, session::Target::User, q))
}

async fn conversation_socket(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    upgrade(ws).on_upgrade(move |socket| {
        session::run(state, socket, session::Target::Conversation(raw), q)
    })
}
