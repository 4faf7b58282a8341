//! The client's frames: each handled through [`Commands`] (the domain's rules), its reply
//! queued for the writer. A frame budget caps how fast a client may talk; frames over the
//! budget are dropped, with a notice at most once a second.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::extract::ws::{Message, WebSocket};
use futures_util::StreamExt;
use futures_util::stream::SplitStream;
use tokio::sync::mpsc;

use super::commands::{Commands, error_frame};
use super::{MAX_FRAME_BYTES, Out, close};
use crate::clock::Micros;
use crate::ratelimit::Budget;

/// The close a reader asks for when a frame is over the size limit.
const CLOSE_TOO_BIG: (u16, &str) = (close::TOO_BIG, "frame too large");
/// Throttling notices, at most one per this long.
const NOTICE_EVERY: Micros = 1_000_000;

fn is_too_big(e: axum::Error) -> bool {
    e.into_inner()
        .downcast::<tungstenite::Error>()
        .is_ok_and(|e| matches!(*e, tungstenite::Error::Capacity(_)))
}

/// Reads until the client closes (or breaks the rules); `last_seen` is when it last spoke.
pub async fn read(
    mut stream: SplitStream<WebSocket>,
    commands: &mut Commands,
    out: mpsc::Sender<Out>,
    last_seen: Arc<AtomicI64>,
    budget: Budget,
) {
    let mut last_notice: Option<Micros> = None;
    while let Some(msg) = stream.next().await {
        let now = commands.clock().now();
        last_seen.store(now, Ordering::Relaxed);
        let reply = match msg {
            Ok(Message::Text(text)) => {
                if text.len() > MAX_FRAME_BYTES {
                    let _ = out.send(Out::Close(&CLOSE_TOO_BIG)).await;
                    return;
                }
                if !budget.take() {
                    // Dropped; say so at most once a second, so a flood cannot make us flood back.
                    if last_notice.is_some_and(|t| now - t < NOTICE_EVERY) {
                        continue;
                    }
                    last_notice = Some(now);
                    Some(error_frame(
                        "throttled",
                        "Too many frames; slow down.",
                        None,
                    ))
                } else {
                    // Boxed: handling a command awaits the store, a large future that would
                    // otherwise be part of every idle socket's task.
                    Box::pin(commands.handle(text.as_str())).await
                }
            }
            Ok(Message::Binary(_)) => Some(error_frame(
                "malformed",
                "Binary frames are not supported; send JSON text.",
                None,
            )),
            Ok(Message::Close(_)) => return,
            Ok(Message::Ping(_) | Message::Pong(_)) => None,
            Err(e) => {
                if is_too_big(e) {
                    let _ = out.send(Out::Close(&CLOSE_TOO_BIG)).await;
                }
                return;
            }
        };
        if let Some(reply) = reply
            && out.send(Out::Frame(reply.into())).await.is_err()
        {
            return;
        }
    }
}
