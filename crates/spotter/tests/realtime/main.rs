//! Real-time tests through real sockets: a real WebSocket client against a real server (two
//! real nodes and the real Redis for the cross-node cases).

#[path = "../common/mod.rs"]
mod helpers;

mod abuse;
mod frames;
mod nodes;
mod resume;
mod sockets;

use std::time::Duration;

use spotter_client::{Incoming, ServerFrame, Socket};

/// The next frame matching `pred`, skipping others; panics after 10 s (generous: CI machines
/// are loaded; a frame normally comes in milliseconds).
pub async fn until(sock: &mut Socket, mut pred: impl FnMut(&ServerFrame) -> bool) -> ServerFrame {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let next = tokio::time::timeout_at(deadline, sock.next())
            .await
            .expect("timed out waiting for a frame");
        match next {
            Some(Incoming::Frame(f)) if pred(&f) => return f,
            Some(Incoming::Frame(_) | Incoming::Unknown(_)) => continue,
            other => panic!("socket ended while waiting: {other:?}"),
        }
    }
}

/// The close code, skipping frames before it; panics after 5 s.
pub async fn closed(sock: &mut Socket) -> u16 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, sock.next())
            .await
            .expect("timed out waiting for close")
        {
            Some(Incoming::Closed(code, _)) => return code,
            Some(_) => continue,
            None => panic!("connection dropped without a close frame"),
        }
    }
}

/// The ids of the `new_message` frames that come, in order, up to `last`.
pub async fn messages_until(sock: &mut Socket, last: i64) -> Vec<i64> {
    let mut got = Vec::new();
    while got.last() != Some(&last) {
        if let ServerFrame::NewMessage { message, .. } =
            until(sock, |f| matches!(f, ServerFrame::NewMessage { .. })).await
        {
            got.push(message.id);
        }
    }
    got
}

pub use helpers::{eventually, live, quiet, round_trip};
