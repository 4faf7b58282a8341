//! The WebSocket surface: `ws/messaging/<conversation_id>/` (one conversation, with `?after=`
//! resume) and `ws/messaging/` (every conversation of the user). Authentication and
//! authorization happen after the upgrade so a browser can read the close code (4001, 4003).
//!
//! A socket's life, one file a stage:
//! - [`handshake`]: authenticate (4001), authorize (4003), the per-user cap (4029), where its
//!   cursors start, subscribe;
//! - [`reader`]: the client's frames, with a frame budget, through [`commands`] into the
//!   domain;
//! - [`writer`]: owns the socket's sending half and everything time-driven (pings, idle peers,
//!   typing expiry, the 1013 and 1001 closes); [`replay`] fills it from the store;
//! - [`presence`]: which conversation the socket shows (no push for it meanwhile);
//!   [`typing`]: indicators that expire.

pub mod commands;
mod handshake;
pub mod presence;
mod reader;
mod replay;
pub mod typing;
mod writer;

use std::collections::HashMap;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use axum::extract::{Path, Query, State, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use futures_util::SinkExt;
use futures_util::stream::SplitSink;
use tokio::sync::mpsc;

use crate::state::AppState;

/// Frames over this many bytes close the socket with 1009.
pub const MAX_FRAME_BYTES: usize = 16 * 1024;

pub mod close {
    pub const GOING_AWAY: u16 = 1001;
    pub const TOO_BIG: u16 = 1009;
    pub const INTERNAL: u16 = 1011;
    pub const TRY_AGAIN_LATER: u16 = 1013;
    pub const UNAUTHORIZED: u16 = 4001;
    pub const FORBIDDEN: u16 = 4003;
    pub const TOO_MANY_SOCKETS: u16 = 4029;
}

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
    upgrade(ws).on_upgrade(move |socket| run(state, socket, Target::User, q))
}

async fn conversation_socket(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    upgrade(ws).on_upgrade(move |socket| run(state, socket, Target::Conversation(raw), q))
}

pub enum Target {
    /// `ws/messaging/<id>/`: the raw path segment, validated after the upgrade.
    Conversation(String),
    /// `ws/messaging/`: every conversation of the user.
    User,
}

type Sink = SplitSink<WebSocket, Message>;

/// What the reader asks the writer to send. Kept to 16 bytes: each socket's queue allocates
/// room for 32 of them up front.
enum Out {
    Frame(Box<str>),
    Close(&'static (u16, &'static str)),
}

/// Closes with `code`, giving up after a few seconds (a peer that does not read).
async fn close_now(sink: &mut Sink, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    };
    let _ = tokio::time::timeout(
        Duration::from_secs(5),
        sink.send(Message::Close(Some(frame))),
    )
    .await;
}

/// Serves one socket until it closes.
pub fn run(
    state: AppState,
    socket: WebSocket,
    target: Target,
    params: HashMap<String, String>,
) -> impl Future<Output = ()> + Send {
    // Opening holds the socket by value and awaits large futures (authentication, reads from
    // the store). Boxed, all that is freed once the socket is live, instead of sizing every
    // idle socket's task for it (an `async fn` keeps its arguments in its own state).
    let opening = Box::pin(handshake::open(state, socket, target, params));
    async move {
        if let Some(opened) = opening.await {
            live(opened).await;
        }
    }
}

/// The socket live: its reader here, its writer in a task of its own. Not an `async fn`: its
/// state would keep `opened` (and every local whose scope spans an await) for the socket's whole
/// life; the future below holds only what the reader needs.
fn live(opened: Box<handshake::Opened>) -> impl Future<Output = ()> + Send {
    let handshake::Opened {
        stream,
        mut commands,
        writer,
        sub,
        start,
        budget,
    } = *opened;
    let (out_tx, out_rx) = mpsc::channel(32);
    let last_seen = writer.last_seen();
    let mut writer = tokio::spawn(writer.run(sub, out_rx, start));
    async move {
        tokio::select! {
            () = reader::read(stream, &mut commands, out_tx, last_seen, budget) => {
                // The reader ended (client closed, or a bad frame): the writer sees its queue
                // close.
                let _ = tokio::time::timeout(Duration::from_secs(3), &mut writer).await;
            }
            _ = &mut writer => {}
        }
        commands.close();
    }
}
