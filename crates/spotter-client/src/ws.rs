//! The WebSocket half: [`Socket`], one raw connection with typed frames, and
//! [`LiveConversation`], what an app builds on: it reconnects with exponential backoff and jitter,
//! resumes from the last message seen (`?after=`), resends unacknowledged sends with the same
//! `client_message_id`, and so yields every message exactly once, in order.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::model::Message;
use crate::rest::Client;

/// A frame from the server.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    NewMessage {
        message: Message,
        #[serde(default)]
        conversation_id: Option<i64>,
    },
    TypingIndicator {
        user_id: i64,
        is_typing: bool,
        #[serde(default)]
        conversation_id: Option<i64>,
    },
    ReadReceipt {
        reader_id: i64,
        read_at: String,
        #[serde(default)]
        conversation_id: Option<i64>,
    },
    DeliveryReceipt {
        conversation_id: i64,
        up_to_message_id: i64,
        delivered_at: String,
    },
    UnreadCount {
        unread_count: i64,
    },
    ConversationArchived {
        conversation_id: i64,
    },
    MessageEdited {
        message_id: i64,
        content: String,
        edited_at: String,
        #[serde(default)]
        conversation_id: Option<i64>,
    },
    MessageDeleted {
        message_id: i64,
        #[serde(default)]
        conversation_id: Option<i64>,
    },
    Pong,
    Ack {
        client_message_id: Option<String>,
        message: Message,
    },
    Error {
        code: String,
        detail: String,
        #[serde(default)]
        client_message_id: Option<String>,
    },
    /// To a trainer: one of their broadcasts moved on.
    BroadcastProgress {
        broadcast: crate::model::Broadcast,
    },
    /// To an author: one of their scheduled messages changed.
    ScheduledMessage {
        scheduled: crate::model::Scheduled,
    },
}

/// What a read from a socket gives.
// Frames are handled one at a time and moved out at once: boxing the large variant buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Frame(ServerFrame),
    /// A frame this client does not know (kept, not lost).
    Unknown(Value),
    /// The server closed with this code and reason.
    Closed(u16, String),
}

#[derive(Debug, thiserror::Error)]
pub enum WsError {
    #[error("websocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("bad URL: {0}")]
    Url(#[from] url::ParseError),
}

/// One raw socket.
pub struct Socket {
    inner: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Client {
    /// The socket URL for a conversation (`Some(id)`) or the per-user socket (`None`).
    pub fn socket_url(
        &self,
        conversation: Option<i64>,
        after: Option<i64>,
    ) -> Result<url::Url, url::ParseError> {
        let mut url = self.base().join(&match conversation {
            Some(id) => format!("ws/messaging/{id}/"),
            None => "ws/messaging/".to_owned(),
        })?;
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        let _ = url.set_scheme(scheme);
        {
            let mut q = url.query_pairs_mut();
            if let Some(t) = self.token() {
                q.append_pair("token", t);
            }
            if let Some(a) = after {
                q.append_pair("after", &a.to_string());
            }
        }
        Ok(url)
    }

    pub async fn socket(
        &self,
        conversation: Option<i64>,
        after: Option<i64>,
    ) -> Result<Socket, WsError> {
        Socket::connect(self.socket_url(conversation, after)?.as_str()).await
    }
}

impl Socket {
    pub async fn connect(url: &str) -> Result<Self, WsError> {
        let (inner, _) = tokio_tungstenite::connect_async(url).await?;
        Ok(Self { inner })
    }

    /// Wraps a socket connected some other way (tests tune the TCP stream).
    pub fn from_stream(inner: WebSocketStream<MaybeTlsStream<TcpStream>>) -> Self {
        Self { inner }
    }

    pub async fn send_json(&mut self, v: &Value) -> Result<(), WsError> {
        Ok(self
            .inner
            .send(WsMessage::Text(v.to_string().into()))
            .await?)
    }

    pub async fn send_raw(&mut self, m: WsMessage) -> Result<(), WsError> {
        Ok(self.inner.send(m).await?)
    }

    /// The next frame; `None` once the connection is gone without a close frame.
    pub async fn next(&mut self) -> Option<Incoming> {
        loop {
            match self.inner.next().await? {
                Ok(WsMessage::Text(t)) => {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap_or(Value::Null);
                    return Some(match serde_json::from_value::<ServerFrame>(v.clone()) {
                        Ok(f) => Incoming::Frame(f),
                        Err(_) => Incoming::Unknown(v),
                    });
                }
                Ok(WsMessage::Close(frame)) => {
                    let (code, reason) = frame.map_or((1005, String::new()), |f: CloseFrame| {
                        (u16::from(f.code), f.reason.to_string())
                    });
                    return Some(Incoming::Closed(code, reason));
                }
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.inner.close(None).await;
    }
}

/// What a [`LiveConversation`] reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// A message, each exactly once, in order.
    Message(Message),
    Typing {
        user_id: i64,
        is_typing: bool,
    },
    Read {
        reader_id: i64,
        read_at: String,
    },
    Delivered {
        up_to_message_id: i64,
    },
    /// One of our sends is stored (the optimistic copy can be replaced by `message`).
    Acked {
        client_message_id: String,
        message: Message,
    },
    /// One of our sends was refused for good (validation, archive, read-only).
    SendFailed {
        client_message_id: String,
        code: String,
        detail: String,
    },
    Connected,
    Disconnected,
    /// The server refused the socket for good (4001 token, 4003 access): no more reconnects.
    Closed {
        code: u16,
        reason: String,
    },
}

enum Command {
    Send {
        client_message_id: String,
        content: String,
    },
    Typing(bool),
    Read,
}

/// A conversation followed live, across disconnects.
pub struct LiveConversation {
    updates: mpsc::Receiver<Update>,
    commands: mpsc::UnboundedSender<Command>,
}

/// Delay before reconnect attempt `n`: exponential from 200 ms, capped at 10 s, full jitter.
pub fn backoff(attempt: u32) -> Duration {
    let cap = 200u64.saturating_mul(1 << attempt.min(6)).min(10_000);
    Duration::from_millis(cap / 2 + rand::random::<u64>() % (cap / 2 + 1))
}

impl LiveConversation {
    /// Follows `conversation` from after message `after` (`None`: from now on).
    pub async fn open(
        client: Client,
        conversation: i64,
        after: Option<i64>,
    ) -> crate::Result<Self> {
        let after = match after {
            Some(a) => a,
            None => client
                .messages_before(conversation, None, 1)
                .await?
                .results
                .first()
                .map_or(0, |m| m.id),
        };
        let (tx, updates) = mpsc::channel(1024);
        let (commands, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(client, conversation, after, tx, rx));
        Ok(Self { updates, commands })
    }

    pub async fn next(&mut self) -> Option<Update> {
        self.updates.recv().await
    }

    /// Sends (optimistically): returns the `client_message_id` that the ack will carry. Kept and
    /// resent across reconnects until acknowledged; the server stores it once.
    pub fn send(&self, content: &str) -> String {
        let id = format!(
            "c-{:016x}{:016x}",
            rand::random::<u64>(),
            rand::random::<u64>()
        );
        let _ = self.commands.send(Command::Send {
            client_message_id: id.clone(),
            content: content.to_owned(),
        });
        id
    }

    pub fn typing(&self, is_typing: bool) {
        let _ = self.commands.send(Command::Typing(is_typing));
    }

    pub fn mark_read(&self) {
        let _ = self.commands.send(Command::Read);
    }
}

async fn run(
    client: Client,
    conversation: i64,
    mut last_id: i64,
    tx: mpsc::Sender<Update>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let mut pending: VecDeque<(String, String)> = VecDeque::new();
    let mut attempt = 0;
    loop {
        let url = match client.socket_url(Some(conversation), Some(last_id)) {
            Ok(u) => u,
            Err(_) => return,
        };
        let mut socket = match Socket::connect(url.as_str()).await {
            Ok(s) => s,
            Err(_) => {
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
                continue;
            }
        };
        attempt = 0;
        if tx.send(Update::Connected).await.is_err() {
            return;
        }
        for (id, content) in &pending {
            let _ = socket
                .send_json(&json!({"type": "send", "content": content, "client_message_id": id}))
                .await;
        }
        loop {
            tokio::select! {
                incoming = socket.next() => {
                    let Some(incoming) = incoming else { break };
                    let update = match incoming {
                        Incoming::Frame(ServerFrame::NewMessage { message, .. }) => {
                            if message.id <= last_id {
                                continue;
                            }
                            last_id = message.id;
                            if let Some(cmid) = &message.client_message_id {
                                pending.retain(|(id, _)| id != cmid);
                            }
                            Update::Message(message)
                        }
                        Incoming::Frame(ServerFrame::Ack { client_message_id, message }) => {
                            let id = client_message_id.unwrap_or_default();
                            pending.retain(|(p, _)| *p != id);
                            Update::Acked { client_message_id: id, message }
                        }
                        Incoming::Frame(ServerFrame::Error { code, detail, client_message_id: Some(id) }) => {
                            if code == "throttled" || code == "unavailable" || code == "internal" {
                                continue; // kept in `pending`: resent on the next connection
                            }
                            pending.retain(|(p, _)| *p != id);
                            Update::SendFailed { client_message_id: id, code, detail }
                        }
                        Incoming::Frame(ServerFrame::TypingIndicator { user_id, is_typing, .. }) => Update::Typing { user_id, is_typing },
                        Incoming::Frame(ServerFrame::ReadReceipt { reader_id, read_at, .. }) => Update::Read { reader_id, read_at },
                        Incoming::Frame(ServerFrame::DeliveryReceipt { up_to_message_id, .. }) => Update::Delivered { up_to_message_id },
                        Incoming::Closed(code, reason) if code == 4001 || code == 4003 => {
                            let _ = tx.send(Update::Closed { code, reason }).await;
                            return;
                        }
                        Incoming::Closed(..) => break,
                        _ => continue,
                    };
                    if tx.send(update).await.is_err() {
                        return;
                    }
                }
                command = commands.recv() => {
                    let frame = match command {
                        None => { socket.close().await; return; }
                        Some(Command::Send { client_message_id, content }) => {
                            let f = json!({"type": "send", "content": content, "client_message_id": client_message_id});
                            pending.push_back((client_message_id, content));
                            f
                        }
                        Some(Command::Typing(t)) => json!({"type": "typing", "is_typing": t}),
                        Some(Command::Read) => json!({"type": "read"}),
                    };
                    if socket.send_json(&frame).await.is_err() {
                        break;
                    }
                }
            }
        }
        if tx.send(Update::Disconnected).await.is_err() {
            return;
        }
        tokio::time::sleep(backoff(attempt)).await;
        attempt += 1;
    }
}
