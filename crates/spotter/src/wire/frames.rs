//! Every frame the server writes on a socket, as one typed enum (`{"type": ...}` first, then
//! the fields in the order below). Serialised once per event, whatever the number of sockets.

use serde::Serialize;
use serde_json::Value;

use super::{BroadcastJson, MessageJson, ScheduledJson};
use crate::domain::model::{ConversationId, MessageId, UserId};

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    /// A message, to both participants (the sender too: clients de-duplicate by `id`).
    NewMessage {
        conversation_id: ConversationId,
        message: MessageJson,
    },
    /// Never to the typist.
    TypingIndicator {
        conversation_id: ConversationId,
        user_id: UserId,
        is_typing: bool,
    },
    ReadReceipt {
        conversation_id: ConversationId,
        reader_id: UserId,
        read_at: String,
    },
    /// To the sender: the recipient's live socket has the messages up to `up_to_message_id`.
    DeliveryReceipt {
        conversation_id: ConversationId,
        up_to_message_id: MessageId,
        delivered_at: String,
    },
    /// A user socket's unread badge.
    UnreadCount {
        unread_count: i64,
    },
    ConversationArchived {
        conversation_id: ConversationId,
    },
    MessageEdited {
        conversation_id: ConversationId,
        message_id: MessageId,
        content: &'a str,
        edited_at: String,
    },
    MessageDeleted {
        conversation_id: ConversationId,
        message_id: MessageId,
    },
    /// The answer to a `send` frame.
    Ack {
        client_message_id: Option<&'a str>,
        message: MessageJson,
    },
    /// A frame that failed; the socket stays open. `client_message_id` echoes whatever JSON
    /// the client's frame carried there.
    Error {
        code: &'a str,
        detail: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_message_id: Option<&'a Value>,
    },
    Pong,
    /// To a trainer's user sockets: one of their broadcasts moved on.
    BroadcastProgress {
        broadcast: BroadcastJson,
    },
    /// To an author's user sockets: one of their scheduled messages changed.
    ScheduledMessage {
        scheduled: ScheduledJson,
    },
}

impl ServerFrame<'_> {
    pub fn to_json(&self) -> String {
        // Serialising these types cannot fail: no map has non-string keys.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_their_type_first_and_errors_echo_only_what_came() {
        assert_eq!(ServerFrame::Pong.to_json(), r#"{"type":"pong"}"#);
        assert_eq!(
            ServerFrame::UnreadCount { unread_count: 3 }.to_json(),
            r#"{"type":"unread_count","unread_count":3}"#
        );
        let e = ServerFrame::Error {
            code: "invalid",
            detail: "bad",
            client_message_id: None,
        };
        assert_eq!(
            e.to_json(),
            r#"{"type":"error","code":"invalid","detail":"bad"}"#
        );
        let cmid = serde_json::json!([1]);
        let e = ServerFrame::Error {
            code: "invalid",
            detail: "bad",
            client_message_id: Some(&cmid),
        };
        assert!(e.to_json().ends_with(r#""client_message_id":[1]}"#));
    }
}
