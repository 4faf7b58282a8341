//! Editing and deleting a message after it was sent (contract Part C): the author only; edits
//! within 15 minutes, deletes at any age. Checks run in the contract's order; the change is
//! published to both participants' sockets (the actor's too) once it is stored. No push.

use std::time::Duration;

use super::Messaging;
use crate::clock::micros;
use crate::domain::Actor;
use crate::domain::access::Purpose;
use crate::domain::events::Event;
use crate::domain::model::{ConversationId, ConversationRef, Image, Message, MessageId, preview};
use crate::error::{Change, Error, Result};
use crate::store::{Deletion, Edit};

/// How long after sending a message its author may still edit it (15:00 exactly still may).
pub const EDIT_WINDOW: Duration = Duration::from_secs(15 * 60);

/// A message deleted, and the image it had (removed from the media store already).
pub struct Deleted {
    pub message_id: MessageId,
    pub image: Option<Image>,
}

impl Messaging {
    /// The conversation and the message `actor` wants to change: the checks every change
    /// shares, in the contract's order (rate limit, read-only token, then `validate`'s field
    /// errors, conversation, participant, message, author, not deleted).
    async fn changing(
        &self,
        actor: &Actor,
        ids: (ConversationId, MessageId),
        change: Change,
        validate: impl FnOnce() -> Result<()>,
    ) -> Result<(ConversationRef, Message)> {
        self.limit.check(actor.id()).await?;
        if actor.impersonating {
            return Err(Error::ReadOnlyChange(change));
        }
        validate()?;
        // Archive is not checked: the original lets an author fix or remove a message of an
        // archived conversation they can still see.
        let conversation = self.conversation(actor, ids.0, Purpose::Change).await?;
        let message = self
            .store
            .message(conversation.id, ids.1)
            .await?
            .ok_or(Error::MessageNotFound)?;
        if message.sender_id() != Some(actor.id()) {
            return Err(Error::NotAuthor(change));
        }
        if message.is_deleted() {
            return Err(Error::MessageDeleted(change));
        }
        Ok((conversation, message))
    }

    /// Replaces the text of one of `actor`'s messages; the whole message after the edit.
    pub async fn edit(
        &self,
        actor: &Actor,
        ids: (ConversationId, MessageId),
        content: Result<String>,
    ) -> Result<Message> {
        let mut text = None;
        let (conversation, message) = self
            .changing(actor, ids, Change::Edit, || {
                text = Some(content?);
                Ok(())
            })
            .await?;
        let content = text.unwrap_or_default();
        let now = self.clock.now();
        if now - message.created_at > micros(EDIT_WINDOW) {
            return Err(Error::EditWindowExpired);
        }
        if content.is_empty() && message.image.is_none() {
            return Err(Error::EmptyTextOnly);
        }
        let edit = Edit {
            conversation: conversation.id,
            message: message.id,
            seq: message.seq,
            preview: preview(&content, message.image.is_some(), false),
            content: content.clone(),
        };
        if !self.store.edit_message(edit, now).await? {
            // Deleted between the check and the write.
            return Err(Error::MessageDeleted(Change::Edit));
        }
        self.events.publish(Event::Edited {
            conversation,
            message_id: message.id,
            content: content.clone(),
            edited_at: now,
        });
        Ok(Message {
            content,
            edited_at: Some(now),
            ..message
        })
    }

    /// Deletes one of `actor`'s messages: it stays in place as a tombstone.
    pub async fn delete(&self, actor: &Actor, ids: (ConversationId, MessageId)) -> Result<Deleted> {
        let (conversation, message) = self.changing(actor, ids, Change::Delete, || Ok(())).await?;
        let deletion = Deletion {
            conversation: conversation.id,
            message: message.id,
            seq: message.seq,
        };
        let now = self.clock.now();
        let image = self
            .store
            .delete_message(deletion, now)
            .await?
            .ok_or(Error::MessageDeleted(Change::Delete))?;
        self.events.publish(Event::Deleted {
            conversation,
            message_id: message.id,
        });
        if let Some(i) = &image {
            self.media.remove(&i.key, i.thumbnail.as_deref()).await;
        }
        Ok(Deleted {
            message_id: message.id,
            image,
        })
    }
}
