//! The events each domain action publishes after its commit, and their frames (Part A's
//! socket frames, with `conversation_id` added so one frame serves conversation and user sockets).

use std::sync::Arc;

use serde_json::json;

use crate::bus::{Event, Kind, Topic};
use crate::clock::{Micros, to_wire};
use crate::domain::model::{ConversationRef, Message, MessageId, UserId};
use crate::wire::MessageJson;

fn participants(c: &ConversationRef) -> Vec<Topic> {
    let mut topics = vec![Topic::Conversation(c.id), Topic::User(c.trainer_id)];
    if let Some(t) = c.trainee_id {
        topics.push(Topic::User(t));
    }
    topics
}

fn frame(v: serde_json::Value) -> Arc<str> {
    Arc::from(v.to_string())
}

/// To both participants, the sender too (clients de-duplicate by id).
pub fn new_message(c: &ConversationRef, m: &Message) -> Event {
    Event {
        topics: participants(c),
        exclude_user: None,
        kind: Kind::NewMessage {
            conversation_id: c.id,
            message_id: m.id,
            seq: m.seq,
            sender_id: m.sender.as_ref().map_or(0, |s| s.id),
            created_at: m.created_at,
        },
        published_at: 0,
        frame: new_message_frame(c.id, m),
    }
}

pub fn new_message_frame(conversation_id: i64, m: &Message) -> Arc<str> {
    frame(
        json!({"type": "new_message", "conversation_id": conversation_id, "message": MessageJson::from(m)}),
    )
}

pub fn read_receipt(c: &ConversationRef, reader: UserId, read_at: Micros) -> Event {
    Event {
        topics: participants(c),
        exclude_user: None,
        kind: Kind::ReadReceipt {
            conversation_id: c.id,
            reader_id: reader,
        },
        published_at: 0,
        frame: frame(
            json!({"type": "read_receipt", "conversation_id": c.id, "reader_id": reader, "read_at": to_wire(read_at)}),
        ),
    }
}

/// Never back to the typist.
pub fn typing(c: &ConversationRef, typist: UserId, is_typing: bool) -> Event {
    Event {
        topics: participants(c),
        exclude_user: Some(typist),
        kind: Kind::Typing {
            conversation_id: c.id,
            user_id: typist,
            is_typing,
        },
        published_at: 0,
        frame: typing_frame(c.id, typist, is_typing),
    }
}

pub fn typing_frame(conversation_id: i64, typist: UserId, is_typing: bool) -> Arc<str> {
    frame(
        json!({"type": "typing_indicator", "conversation_id": conversation_id, "user_id": typist, "is_typing": is_typing}),
    )
}

/// To the sender: the recipient's live socket has the messages up to `up_to`.
pub fn delivery_receipt(
    conversation_id: i64,
    recipient: UserId,
    sender: UserId,
    up_to: MessageId,
    at: Micros,
) -> Event {
    Event {
        topics: vec![Topic::Conversation(conversation_id), Topic::User(sender)],
        exclude_user: Some(recipient),
        kind: Kind::DeliveryReceipt { conversation_id },
        published_at: 0,
        frame: frame(json!({
            "type": "delivery_receipt", "conversation_id": conversation_id,
            "up_to_message_id": up_to, "delivered_at": to_wire(at),
        })),
    }
}

pub fn archived(c: &ConversationRef) -> Event {
    Event {
        topics: participants(c),
        exclude_user: None,
        kind: Kind::Archived {
            conversation_id: c.id,
        },
        published_at: 0,
        frame: frame(json!({"type": "conversation_archived", "conversation_id": c.id})),
    }
}
