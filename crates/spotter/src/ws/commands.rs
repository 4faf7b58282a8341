//! What a client may say on a socket: `ping`, `typing`, `send`, `read`, `focus`. A frame is
//! first parsed into a [`Command`] by [`parse_frame`], a pure function (no I/O, no state: it is
//! fuzzed by `fuzz/fuzz_targets/frame.rs`); [`Commands::handle`] then executes it through the
//! same domain functions as REST, so the rules (rate limit, impersonation, archive, validation)
//! are the same; failures answer an error frame and the socket stays open.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use super::presence::Presence;
use crate::domain::Actor;
use crate::domain::access::{self, Purpose};
use crate::domain::input::SendBody;
use crate::domain::messaging::{Messaging, Target};
use crate::domain::model::{ConversationId, ConversationRef};
use crate::error::{Error, msg};
use crate::state::AppState;
use crate::wire::MessageJson;
use crate::wire::frames::ServerFrame;

/// What [`parse_frame`] needs to know of its socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameContext {
    /// A conversation socket's conversation; `None` on a user socket, whose frames name theirs.
    pub fixed: Option<i64>,
    /// The socket's user may not write (`domain::access::writable` said no).
    pub read_only: bool,
}

/// A frame, parsed: the command and the `client_message_id` its error frames echo (whatever
/// JSON the client put there, as the server has always echoed it).
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub command: Command,
    pub client_message_id: Option<Value>,
}

/// A client frame as a typed command. `conversation_id` is the socket's own on a conversation
/// socket, else the frame's.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Answered `{"type":"pong"}`.
    Ping,
    Typing {
        conversation_id: i64,
        is_typing: bool,
    },
    /// The draft's fields as sent: `domain::messaging` validates them after its rate limit and
    /// impersonation checks, in the contract's order (REST does the same).
    Send {
        conversation_id: i64,
        content: Option<Value>,
    },
    Read {
        conversation_id: i64,
    },
    /// The conversation a user socket shows now (`None`: none). On a conversation socket it is
    /// always `None` and changes nothing (that socket always shows its conversation).
    Focus {
        conversation_id: Option<i64>,
    },
}

const MALFORMED: &str = "Frames are JSON objects with a \"type\".";

pub fn error_frame(code: &str, detail: &str, client_message_id: Option<&Value>) -> String {
    ServerFrame::Error {
        code,
        detail,
        client_message_id,
    }
    .to_json()
}

fn from_error(e: &Error, client_message_id: Option<&Value>) -> String {
    error_frame(e.code(), &e.detail(), client_message_id)
}

/// Parses one text frame into a command, or answers the exact error frame the server sends
/// for it (the socket stays open either way). Pure: the same text and context always give the
/// same answer, and it never panics.
pub fn parse_frame(text: &str, ctx: FrameContext) -> Result<Frame, String> {
    let frame: Value = match serde_json::from_str(text) {
        Ok(v @ Value::Object(_)) => v,
        _ => return Err(error_frame("malformed", MALFORMED, None)),
    };
    let cmid = frame.get("client_message_id");
    let command = match frame.get("type").and_then(Value::as_str) {
        Some("ping") => Ok(Command::Ping),
        Some("typing") => typing_command(&frame, ctx),
        Some("send") => conversation_of(&frame, ctx).map(|conversation_id| Command::Send {
            conversation_id,
            content: frame.get("content").cloned(),
        }),
        Some("read") => {
            conversation_of(&frame, ctx).map(|conversation_id| Command::Read { conversation_id })
        }
        Some("focus") => focus_command(&frame, ctx),
        Some(other) => {
            let detail = format!(
                "Unknown frame type \"{}\".",
                other.chars().take(40).collect::<String>()
            );
            return Err(error_frame("unknown_type", &detail, None));
        }
        None => return Err(error_frame("malformed", MALFORMED, None)),
    };
    match command {
        Ok(command) => Ok(Frame {
            command,
            client_message_id: cmid.cloned(),
        }),
        Err(e) => Err(from_error(&e, cmid)),
    }
}

/// The conversation a frame is about: the socket's own, or the frame's `conversation_id`.
fn conversation_of(frame: &Value, ctx: FrameContext) -> Result<i64, Error> {
    match ctx.fixed {
        Some(id) => Ok(id),
        None => frame
            .get("conversation_id")
            .and_then(Value::as_i64)
            .ok_or_else(|| Error::field("conversation_id", msg::REQUIRED)),
    }
}

/// Checked in this order: read-only socket, `is_typing`, the conversation.
fn typing_command(frame: &Value, ctx: FrameContext) -> Result<Command, Error> {
    if ctx.read_only {
        return Err(Error::ReadOnly);
    }
    let Some(is_typing) = frame.get("is_typing").and_then(Value::as_bool) else {
        return Err(Error::field("is_typing", "Must be true or false."));
    };
    Ok(Command::Typing {
        conversation_id: conversation_of(frame, ctx)?,
        is_typing,
    })
}

/// A conversation socket ignores the frame's fields; a user socket takes an integer or null.
fn focus_command(frame: &Value, ctx: FrameContext) -> Result<Command, Error> {
    let conversation_id = match (ctx.fixed, frame.get("conversation_id")) {
        (Some(_), _) | (None, None | Some(Value::Null)) => None,
        (None, Some(v)) => Some(
            v.as_i64()
                .ok_or_else(|| Error::field("conversation_id", msg::NOT_AN_INTEGER))?,
        ),
    };
    Ok(Command::Focus { conversation_id })
}

/// A socket's commands, carried out through the domain's messaging service.
pub struct Commands {
    /// The shared state (one pointer: every socket holds a `Commands`).
    state: AppState,
    actor: Actor,
    /// The conversation of a conversation socket; `None` on a user socket, whose frames name
    /// their conversation.
    fixed: Option<ConversationRef>,
    /// Conversations this user socket may write to or show (checked once, then remembered).
    allowed: HashMap<ConversationId, ConversationRef>,
    /// Conversations where this socket's user is shown typing: cleared when the socket closes.
    typing: HashSet<ConversationId>,
    presence: Arc<Presence>,
}

impl Commands {
    pub fn new(
        state: AppState,
        actor: Actor,
        fixed: Option<ConversationRef>,
        presence: Arc<Presence>,
    ) -> Self {
        Self {
            state,
            actor,
            fixed,
            allowed: HashMap::new(),
            typing: HashSet::new(),
            presence,
        }
    }

    fn messaging(&self) -> &Messaging {
        &self.state.messaging
    }

    /// The state's clock.
    pub fn clock(&self) -> &crate::clock::Clock {
        &self.state.clock
    }

    /// What [`parse_frame`] needs to know of this socket.
    pub fn context(&self) -> FrameContext {
        FrameContext {
            fixed: self.fixed.map(|c| c.id.get()),
            read_only: access::writable(&self.actor).is_err(),
        }
    }

    /// Handles one text frame; returns the reply frame, if any.
    pub async fn handle(&mut self, text: &str) -> Option<String> {
        let frame = match parse_frame(text, self.context()) {
            Ok(frame) => frame,
            Err(reply) => return Some(reply),
        };
        let cmid = frame.client_message_id.as_ref();
        let result = match frame.command {
            Command::Ping => return Some(ServerFrame::Pong.to_json()),
            Command::Typing {
                conversation_id,
                is_typing,
            } => self
                .typing(ConversationId(conversation_id), is_typing)
                .await
                .map(|()| None),
            Command::Send {
                conversation_id,
                content,
            } => {
                let body = SendBody {
                    content,
                    client_message_id: cmid.cloned(),
                };
                self.send(ConversationId(conversation_id), &body)
                    .await
                    .map(Some)
            }
            Command::Read { conversation_id } => self
                .messaging()
                .mark_read(&self.actor, ConversationId(conversation_id))
                .await
                .map(|_| None),
            Command::Focus { conversation_id } => self
                .focus(conversation_id.map(ConversationId))
                .await
                .map(|()| None),
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

    /// The conversation, from this socket's own or its memory, else checked for `purpose`.
    async fn known(
        &mut self,
        id: ConversationId,
        purpose: Purpose,
    ) -> Result<ConversationRef, Error> {
        if let Some(c) = self.fixed.filter(|c| c.id == id) {
            return Ok(c);
        }
        if let Some(c) = self.allowed.get(&id) {
            return Ok(*c);
        }
        let c = self
            .messaging()
            .conversation(&self.actor, id, purpose)
            .await?;
        self.allowed.insert(id, c);
        Ok(c)
    }

    async fn focus(&mut self, conversation: Option<ConversationId>) -> Result<(), Error> {
        if self.fixed.is_some() {
            return Ok(()); // a conversation socket always shows its conversation
        }
        if let Some(id) = conversation {
            self.known(id, Purpose::Read).await?;
        }
        self.presence.focus(conversation);
        Ok(())
    }

    async fn typing(&mut self, id: ConversationId, is_typing: bool) -> Result<(), Error> {
        let c = self.known(id, Purpose::Read).await?;
        self.messaging().typing(&self.actor, c, is_typing)?;
        if is_typing {
            self.typing.insert(id);
        } else {
            self.typing.remove(&id);
        }
        Ok(())
    }

    async fn send(&mut self, id: ConversationId, body: &SendBody) -> Result<String, Error> {
        // This socket's own conversation, or one it checked before: no lookup per message.
        let target = match self
            .fixed
            .filter(|c| c.id == id)
            .or_else(|| self.allowed.get(&id).copied())
        {
            Some(c) => Target::Known(c),
            None => Target::Id(id),
        };
        let sent = self
            .messaging()
            .send(&self.actor, target, body, None)
            .await?;
        self.allowed.entry(id).or_insert(sent.conversation);
        if self.typing.remove(&id) {
            let _ = self
                .messaging()
                .typing(&self.actor, sent.conversation, false);
        }
        Ok(ServerFrame::Ack {
            client_message_id: sent.message.client_message_id.as_deref(),
            message: MessageJson::new(&sent.message, self.state.bus.urls()),
        }
        .to_json())
    }

    /// The socket is closing: whoever sees this user typing sees them stop, and the socket
    /// shows nothing any more.
    pub fn close(&mut self) {
        for id in std::mem::take(&mut self.typing) {
            let conversation = self
                .fixed
                .filter(|c| c.id == id)
                .or_else(|| self.allowed.get(&id).copied());
            if let Some(c) = conversation {
                let _ = self.messaging().typing(&self.actor, c, false);
            }
        }
        self.presence.leave();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const USER: FrameContext = FrameContext {
        fixed: None,
        read_only: false,
    };
    const CONVERSATION: FrameContext = FrameContext {
        fixed: Some(7),
        read_only: false,
    };

    fn command(text: &str, ctx: FrameContext) -> Command {
        parse_frame(text, ctx).expect("a command").command
    }

    fn error(text: &str, ctx: FrameContext) -> Value {
        serde_json::from_str(&parse_frame(text, ctx).expect_err("an error frame")).unwrap()
    }

    #[test]
    fn frames_that_are_not_json_objects_with_a_type_are_malformed() {
        for text in ["not json", "[1,2]", "\"ping\"", "{}", r#"{"type": 1}"#, ""] {
            let e = error(text, USER);
            assert_eq!(e["code"], "malformed", "{text}");
            assert_eq!(e["detail"], MALFORMED);
        }
    }

    #[test]
    fn an_unknown_type_is_named_up_to_40_characters() {
        let e = error(&format!(r#"{{"type": "{}"}}"#, "x".repeat(100)), USER);
        assert_eq!(e["code"], "unknown_type");
        assert_eq!(
            e["detail"],
            format!("Unknown frame type \"{}\".", "x".repeat(40))
        );
    }

    #[test]
    fn a_conversation_socket_uses_its_own_conversation() {
        let text = r#"{"type": "send", "content": "hi", "conversation_id": 99}"#;
        assert_eq!(
            command(text, CONVERSATION),
            Command::Send {
                conversation_id: 7,
                content: Some(json!("hi")),
            }
        );
        assert_eq!(
            command(text, USER),
            Command::Send {
                conversation_id: 99,
                content: Some(json!("hi")),
            }
        );
        let e = error(r#"{"type": "read", "client_message_id": [1]}"#, USER);
        assert_eq!(e["code"], "invalid");
        assert_eq!(e["client_message_id"], json!([1]), "echoed as sent");
    }

    #[test]
    fn typing_checks_read_only_then_is_typing_then_the_conversation() {
        let ro = FrameContext {
            read_only: true,
            ..USER
        };
        assert_eq!(error(r#"{"type": "typing"}"#, ro)["code"], "read_only");
        let e = error(r#"{"type": "typing", "is_typing": "yes"}"#, USER);
        assert_eq!(e["detail"], "is_typing: Must be true or false.");
        let e = error(r#"{"type": "typing", "is_typing": true}"#, USER);
        assert_eq!(e["detail"], "conversation_id: This field is required.");
    }

    #[test]
    fn focus_takes_an_id_or_null_and_is_fixed_on_a_conversation_socket() {
        let focus = |id| Command::Focus {
            conversation_id: id,
        };
        assert_eq!(command(r#"{"type": "focus"}"#, USER), focus(None));
        let null = r#"{"type": "focus", "conversation_id": null}"#;
        assert_eq!(command(null, USER), focus(None));
        let three = r#"{"type": "focus", "conversation_id": 3}"#;
        assert_eq!(command(three, USER), focus(Some(3)));
        let junk = r#"{"type": "focus", "conversation_id": "x"}"#;
        assert_eq!(error(junk, USER)["code"], "invalid");
        assert_eq!(command(junk, CONVERSATION), focus(None));
    }
}
