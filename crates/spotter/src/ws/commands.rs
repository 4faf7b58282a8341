//! What a client may say on a socket: `ping`, `typing`, `send`, `read`. Each goes through the
//! same domain functions as REST, so the rules (rate limit, impersonation, archive, validation)
//! are the same; failures answer an error frame and the socket stays open.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use crate::domain::messaging::{self, Draft};
use crate::domain::model::{ConversationId, ConversationRef};
use crate::domain::{Actor, events};
use crate::error::{Error, msg};
use crate::state::AppState;
use crate::wire::MessageJson;

/// A socket's command context.
pub struct Commands {
    pub state: AppState,
    pub actor: Actor,
    /// The conversation of a conversation socket; `None` on a user socket, whose frames name
    /// their conversation.
    pub fixed: Option<ConversationRef>,
    /// Conversations this user socket may type in (checked once, then remembered).
    allowed: HashMap<ConversationId, ConversationRef>,
    /// Conversations where this socket's user is shown typing: cleared when the socket closes.
    pub typing: HashSet<ConversationId>,
    /// The conversation a user socket says it shows (0: none), shared with the writer, which
    /// refreshes its presence with each ping.
    pub focus: std::sync::Arc<std::sync::atomic::AtomicI64>,
    /// This socket's name in the cross-node presence set.
    pub socket_id: String,
    pub presence_ttl: std::time::Duration,
}

pub fn error_frame(code: &str, detail: &str, client_message_id: Option<&Value>) -> String {
    let mut v = json!({"type": "error", "code": code, "detail": detail});
    if let Some(id) = client_message_id {
        v["client_message_id"] = id.clone();
    }
    v.to_string()
}

fn from_error(e: &Error, client_message_id: Option<&Value>) -> String {
    error_frame(e.code(), &e.detail(), client_message_id)
}

impl Commands {
    pub fn new(
        state: AppState,
        actor: Actor,
        fixed: Option<ConversationRef>,
        socket_id: String,
        presence_ttl: std::time::Duration,
    ) -> Self {
        Self {
            state,
            actor,
            fixed,
            allowed: HashMap::new(),
            typing: HashSet::new(),
            focus: Default::default(),
            socket_id,
            presence_ttl,
        }
    }

    /// A user socket shows `conversation` now (`None`: none). While it does, its user gets no
    /// push for that conversation, as if a conversation socket were open.
    async fn set_focus(&mut self, frame: &Value) -> Result<(), Error> {
        use std::sync::atomic::Ordering;
        if self.fixed.is_some() {
            return Ok(()); // a conversation socket always shows its conversation
        }
        let next = match frame.get("conversation_id") {
            None | Some(Value::Null) => 0,
            Some(v) => {
                let id = v
                    .as_i64()
                    .ok_or_else(|| Error::field("conversation_id", msg::NOT_AN_INTEGER))?;
                if !self.allowed.contains_key(&id) {
                    let c = messaging::visible(&self.state, &self.actor, id, true).await?;
                    self.allowed.insert(id, c);
                }
                id
            }
        };
        let previous = self.focus.swap(next, Ordering::AcqRel);
        if previous == next {
            return Ok(());
        }
        let (bus, me) = (&self.state.bus, self.actor.id());
        if previous != 0 {
            bus.hub().focus(me, previous, false);
            bus.set_reading(me, previous, &self.socket_id, None);
        }
        if next != 0 {
            bus.hub().focus(me, next, true);
            bus.set_reading(me, next, &self.socket_id, Some(self.presence_ttl));
        }
        Ok(())
    }

    /// The socket is closing: it shows nothing any more.
    pub async fn clear_focus(&mut self) {
        let _ = self.set_focus(&Value::Null).await;
    }

    /// The conversation a frame is about: the socket's own, or the frame's `conversation_id`.
    fn conversation_id(&self, frame: &Value) -> Result<ConversationId, Error> {
        if let Some(c) = &self.fixed {
            return Ok(c.id);
        }
        frame
            .get("conversation_id")
            .and_then(Value::as_i64)
            .ok_or_else(|| Error::field("conversation_id", msg::REQUIRED))
    }

    /// Handles one text frame; returns the reply frame, if any.
    pub async fn handle(&mut self, text: &str) -> Option<String> {
        let frame: Value = match serde_json::from_str(text) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                return Some(error_frame(
                    "malformed",
                    "Frames are JSON objects with a \"type\".",
                    None,
                ));
            }
        };
        let cmid = frame.get("client_message_id");
        let result = match frame.get("type").and_then(Value::as_str) {
            Some("ping") => return Some(r#"{"type":"pong"}"#.to_owned()),
            Some("typing") => self.typing(&frame).await.map(|()| None),
            Some("send") => self.send(&frame).await.map(Some),
            Some("read") => self.read(&frame).await.map(|()| None),
            Some("focus") => self.set_focus(&frame).await.map(|()| None),
            Some(other) => {
                let detail = format!(
                    "Unknown frame type \"{}\".",
                    other.chars().take(40).collect::<String>()
                );
                return Some(error_frame("unknown_type", &detail, None));
            }
            None => {
                return Some(error_frame(
                    "malformed",
                    "Frames are JSON objects with a \"type\".",
                    None,
                ));
            }
        };
        match result {
            Ok(reply) => reply,
            Err(e) => {
                if let Error::Internal(cause) = &e {
                    tracing::error!(error = ?cause, "socket command failed");
                }
                Some(from_error(&e, cmid))
            }
        }
    }

    async fn typing(&mut self, frame: &Value) -> Result<(), Error> {
        if self.actor.impersonating {
            return Err(Error::Forbidden(msg::IMPERSONATION_SEND));
        }
        let Some(is_typing) = frame.get("is_typing").and_then(Value::as_bool) else {
            return Err(Error::field("is_typing", "Must be true or false."));
        };
        let id = self.conversation_id(frame)?;
        let conv = match (self.fixed, self.allowed.get(&id)) {
            (Some(c), _) | (None, Some(&c)) => c,
            (None, None) => {
                let c = messaging::visible(&self.state, &self.actor, id, true).await?;
                self.allowed.insert(id, c);
                c
            }
        };
        if conv.is_archived() {
            return Err(Error::Rejected(msg::ARCHIVED_SEND));
        }
        if is_typing {
            self.typing.insert(id);
        } else {
            self.typing.remove(&id);
        }
        self.state
            .bus
            .publish(events::typing(&conv, self.actor.id(), is_typing));
        Ok(())
    }

    async fn send(&mut self, frame: &Value) -> Result<String, Error> {
        let id = self.conversation_id(frame)?;
        let sent = messaging::send(&self.state, &self.actor, id, &Draft::from_json(frame)).await?;
        if self.typing.remove(&id) {
            self.state
                .bus
                .publish(events::typing(&sent.conversation, self.actor.id(), false));
        }
        Ok(json!({
            "type": "ack",
            "client_message_id": sent.message.client_message_id,
            "message": MessageJson::from(&sent.message),
        })
        .to_string())
    }

    async fn read(&mut self, frame: &Value) -> Result<(), Error> {
        let id = self.conversation_id(frame)?;
        messaging::mark_read(&self.state, &self.actor, id).await?;
        Ok(())
    }

    /// The socket is closing: whoever sees this user typing sees them stop.
    pub async fn stop_typing(&mut self) {
        for id in std::mem::take(&mut self.typing) {
            if let Some(&conv) = self.fixed.as_ref().or(self.allowed.get(&id)) {
                self.state
                    .bus
                    .publish(events::typing(&conv, self.actor.id(), false));
            }
        }
    }
}
