//! Scheduled messages (Part D 2): written now, sent at `send_at` as an ordinary message of
//! their author. Scheduling follows a send's rules in a send's order (rate limit,
//! impersonation, fields, the conversation); the send itself, when due, follows them again as
//! the author and the conversation stand then, and a refusal becomes the message's failure.
//! Every change is told to the author's user sockets.

use std::time::Duration;

use futures_util::StreamExt as _;

use super::Coaching;
use super::later::ScheduleBody;
use crate::clock::micros;
use crate::domain::Actor;
use crate::domain::access::Purpose;
use crate::domain::events::Event;
use crate::domain::input::{ClientMessageId, MessageBody};
use crate::domain::messaging::{Later, Target};
use crate::domain::model::{ConversationId, Scheduled, ScheduledId};
use crate::error::{Error, Result};
use crate::store::{Changed, NewScheduled, Reached, ScheduledChange};

/// Pending scheduled messages one author may have.
pub const MAX_PENDING: i64 = 500;
/// Due messages claimed at once.
pub const BATCH: usize = 100;
/// Sends of one batch in flight at once (the group commit gathers them).
const SENDING: usize = 32;

/// Why a send that is due could not go: the reason kept on the scheduled message (and on a
/// broadcast's recipient). `None`: a passing failure (the database away), tried again.
pub(super) fn failure_reason(e: &Error) -> Option<&'static str> {
    Some(match e {
        Error::ArchivedConversation | Error::ArchivedHistory => "The conversation is archived.",
        Error::SenderDeactivated => "The sender's account is deactivated.",
        Error::TraineeNotAssigned => {
            "The trainee is no longer assigned to you, or their account is deactivated."
        }
        Error::NotParticipant | Error::ConversationNotFound => {
            "The conversation is no longer available."
        }
        Error::Invalid(_) | Error::Malformed(_) => "The message is not valid.",
        _ => return None,
    })
}

impl Coaching {
    /// Schedules a message in a conversation the actor may write to.
    pub async fn schedule(
        &self,
        actor: &Actor,
        conversation: ConversationId,
        body: &ScheduleBody,
    ) -> Result<Scheduled> {
        self.limit.check(actor.id()).await?;
        crate::domain::access::writable(actor)?;
        let (content, send_at) = body.validate_new(self.clock.now())?;
        let c = self
            .messaging
            .conversation(actor, conversation, Purpose::Write)
            .await?;
        let new = NewScheduled {
            conversation: c.id,
            author: actor.id(),
            content,
            send_at,
        };
        let saved = self
            .store
            .insert_scheduled(new, MAX_PENDING, self.clock.now())
            .await?
            .ok_or(Error::TooManyScheduled)?;
        self.scheduled_changed(&saved);
        self.poke();
        Ok(saved)
    }

    /// The actor's pending messages in a conversation, soonest first (an impersonating admin
    /// may look).
    pub async fn pending(
        &self,
        actor: &Actor,
        conversation: ConversationId,
    ) -> Result<Vec<Scheduled>> {
        let c = self
            .messaging
            .conversation(actor, conversation, Purpose::Read)
            .await?;
        Ok(self.store.pending_scheduled(actor.id(), c.id).await?)
    }

    /// Changes a pending message's text or time.
    pub async fn reschedule(
        &self,
        actor: &Actor,
        conversation: ConversationId,
        id: ScheduledId,
        body: &ScheduleBody,
    ) -> Result<Scheduled> {
        crate::domain::access::writable(actor)?;
        let c = self
            .messaging
            .conversation(actor, conversation, Purpose::Read)
            .await?;
        let fields = body.validate_change(self.clock.now())?;
        let change = ScheduledChange {
            id,
            conversation: c.id,
            author: actor.id(),
            content: fields.content,
            send_at: fields.send_at,
        };
        let saved = pending(
            self.store
                .change_scheduled(change, self.clock.now())
                .await?,
        )?;
        self.scheduled_changed(&saved);
        self.poke();
        Ok(saved)
    }

    /// Cancels a pending message.
    pub async fn unschedule(
        &self,
        actor: &Actor,
        conversation: ConversationId,
        id: ScheduledId,
    ) -> Result<()> {
        crate::domain::access::writable(actor)?;
        let c = self
            .messaging
            .conversation(actor, conversation, Purpose::Read)
            .await?;
        let now = self.clock.now();
        let saved = pending(
            self.store
                .cancel_scheduled(actor.id(), c.id, id, now)
                .await?,
        )?;
        self.scheduled_changed(&saved);
        Ok(())
    }

    /// Sends the scheduled messages due now (a batch of them, claimed for `lease`); how many
    /// were claimed. One that cannot be sent for good is marked failed with the reason; one
    /// that meets a passing failure stays claimed, and comes back when its lease ends.
    pub async fn send_due(&self, lease: Duration) -> Result<usize> {
        let now = self.clock.now();
        let claimed = self
            .store
            .claim_scheduled(now, now + micros(lease), BATCH as i64)
            .await?;
        let n = claimed.len();
        futures_util::stream::iter(claimed)
            .for_each_concurrent(SENDING, |s| self.send_one(s))
            .await;
        Ok(n)
    }

    async fn send_one(&self, s: Scheduled) {
        let outcome = match self.store.user(s.author_id).await {
            // The account went (and, with it, the row): nothing to send.
            Ok(None) => return,
            Ok(Some(author)) => match MessageBody::parse(&s.content) {
                Ok(body) => {
                    let cmid = ClientMessageId::own("scheduled", s.id.get());
                    let to = Later::To(Target::Id(s.conversation_id));
                    self.messaging.send_later(&author, to, body, cmid).await
                }
                Err(m) => Err(Error::Malformed(m)),
            },
            Err(e) => Err(e.into()),
        };
        let reached = match outcome {
            Ok(sent) => Reached::Sent(sent.message.id),
            Err(e) => match failure_reason(&e) {
                Some(why) => Reached::Failed(why.to_owned()),
                None => {
                    tracing::warn!(id = %s.id, error = %e, "scheduled message: will try again");
                    return;
                }
            },
        };
        match self
            .store
            .finish_scheduled(s.id, reached, self.clock.now())
            .await
        {
            Ok(Some(done)) => self.scheduled_changed(&done),
            Ok(None) => {}
            // Sent but not recorded: the lease runs out, the next attempt finds the message
            // (its key) and records it then.
            Err(e) => tracing::warn!(id = %s.id, error = %e, "scheduled message: not recorded"),
        }
    }

    fn scheduled_changed(&self, s: &Scheduled) {
        self.publish(Event::ScheduledChanged(s.clone()));
    }
}

/// A change to something pending, or why there was none.
fn pending(changed: Changed<Scheduled>) -> Result<Scheduled> {
    match changed {
        Changed::Done(s) => Ok(s),
        Changed::NotPending => Err(Error::NoLongerPending),
        Changed::NotFound => Err(Error::ScheduledNotFound),
    }
}
