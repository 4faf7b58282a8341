//! Where each domain event goes, and the frame its sockets get: the contract's frames, with
//! `conversation_id` added so one frame serves conversation and user sockets alike.

use std::sync::Arc;

use super::{Event, Kind, Topic};
use crate::domain::events::Event as Happened;
use crate::domain::model::{ConversationRef, Message};
use crate::wire::frames::ServerFrame;
use crate::wire::{MediaUrls, MessageJson, to_wire};

/// The conversation's sockets and every socket of each participant.
fn participants(c: &ConversationRef) -> Vec<Topic> {
    let mut topics = vec![Topic::Conversation(c.id)];
    topics.extend(c.participants().map(Topic::User));
    topics
}

/// Where a new message goes: [`participants`], except the user sockets of the author of a
/// broadcast. A broadcast to thousands would flood the trainer's user sockets with as many
/// echoes (and close a slow one with 1013); they get its `broadcast_progress` instead, and a
/// conversation socket of the trainer still gets the message (one per conversation). A later
/// message in such a conversation fills the gap from the store, as after any missed event.
fn message_topics(c: &ConversationRef, m: &Message) -> Vec<Topic> {
    let mut topics = participants(c);
    if is_broadcast(m)
        && let Some(author) = m.sender_id()
    {
        topics.retain(|t| *t != Topic::User(author));
    }
    topics
}

/// Whether a message is one recipient's copy of a broadcast (Spotter's own key).
fn is_broadcast(m: &Message) -> bool {
    m.client_message_id
        .as_deref()
        .is_some_and(|k| k.starts_with(crate::domain::input::BROADCAST_KEY_PREFIX))
}

fn frame(f: &ServerFrame<'_>) -> Arc<str> {
    Arc::from(f.to_json())
}

/// The `new_message` frame of a message (also what a socket writes when it replays one).
pub fn new_message(m: &Message, urls: &dyn MediaUrls) -> String {
    ServerFrame::NewMessage {
        conversation_id: m.conversation_id,
        message: MessageJson::new(m, urls),
    }
    .to_json()
}

/// Who gets `happened`, and how it reads on their sockets.
pub fn route(happened: &Happened, urls: &dyn MediaUrls) -> Event {
    let (topics, exclude_user, kind, frame) = match happened {
        Happened::MessageSent {
            conversation,
            message,
        } => (
            message_topics(conversation, message),
            None,
            Kind::NewMessage {
                conversation_id: conversation.id,
                message_id: message.id,
                seq: message.seq,
                sender_id: message.sender_id(),
                created_at: message.created_at,
            },
            Arc::from(new_message(message, urls)),
        ),
        Happened::Read {
            conversation,
            reader,
            at,
        } => (
            participants(conversation),
            None,
            Kind::ReadReceipt {
                conversation_id: conversation.id,
                reader_id: *reader,
            },
            frame(&ServerFrame::ReadReceipt {
                conversation_id: conversation.id,
                reader_id: *reader,
                read_at: to_wire(*at),
            }),
        ),
        Happened::Typing {
            conversation,
            typist,
            is_typing,
        } => (
            participants(conversation),
            Some(*typist),
            Kind::Typing {
                conversation_id: conversation.id,
                user_id: *typist,
                is_typing: *is_typing,
            },
            frame(&typing(conversation.id, *typist, *is_typing)),
        ),
        Happened::Delivered {
            conversation,
            recipient,
            sender,
            up_to,
            at,
        } => (
            vec![Topic::Conversation(*conversation), Topic::User(*sender)],
            Some(*recipient),
            Kind::DeliveryReceipt {
                conversation_id: *conversation,
            },
            frame(&ServerFrame::DeliveryReceipt {
                conversation_id: *conversation,
                up_to_message_id: *up_to,
                delivered_at: to_wire(*at),
            }),
        ),
        Happened::Archived { conversation } => (
            participants(conversation),
            None,
            Kind::Archived {
                conversation_id: conversation.id,
            },
            frame(&ServerFrame::ConversationArchived {
                conversation_id: conversation.id,
            }),
        ),
        Happened::Edited {
            conversation,
            message_id,
            content,
            edited_at,
        } => (
            participants(conversation),
            None,
            Kind::Changed {
                conversation_id: conversation.id,
            },
            frame(&ServerFrame::MessageEdited {
                conversation_id: conversation.id,
                message_id: *message_id,
                content,
                edited_at: to_wire(*edited_at),
            }),
        ),
        Happened::Deleted {
            conversation,
            message_id,
        } => (
            participants(conversation),
            None,
            Kind::Changed {
                conversation_id: conversation.id,
            },
            frame(&ServerFrame::MessageDeleted {
                conversation_id: conversation.id,
                message_id: *message_id,
            }),
        ),
        Happened::BroadcastChanged(b) => (
            vec![Topic::User(b.trainer_id)],
            None,
            Kind::Own,
            frame(&ServerFrame::BroadcastProgress {
                broadcast: b.into(),
            }),
        ),
        Happened::ScheduledChanged(s) => (
            vec![Topic::User(s.author_id)],
            None,
            Kind::Own,
            frame(&ServerFrame::ScheduledMessage {
                scheduled: s.into(),
            }),
        ),
    };
    Event {
        topics,
        exclude_user,
        kind,
        frame,
        published_at: 0,
    }
}

/// A typing indicator's frame (also what a socket writes when one expires).
pub fn typing(
    conversation_id: crate::domain::model::ConversationId,
    user_id: crate::domain::model::UserId,
    is_typing: bool,
) -> ServerFrame<'static> {
    ServerFrame::TypingIndicator {
        conversation_id,
        user_id,
        is_typing,
    }
}
