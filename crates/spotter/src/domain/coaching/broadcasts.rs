//! Broadcasts (Part D 1): one text to many of a trainer's trainees, each getting an ordinary
//! message in their own conversation (started if there is none), `{first_name}` filled in.
//!
//! A broadcast is durable work: the request records it and its recipients in one transaction
//! and answers 202; a node's dispatcher (`workers::dispatch`) claims it when due, with a lease,
//! and fans it out a chunk at a time, recording after each chunk who was reached. Exactly once
//! per recipient does not rest on the lease: every message of broadcast N carries the key
//! `spotter-broadcast-N` in its conversation, so a second attempt at a recipient (the first
//! node died after the commit but before the record, or its lease ran out and another node took
//! over) is a replay that stores nothing and answers the first message. The chunks go through
//! the group commit like any send, so a broadcast to many is a few transactions, with pushes
//! following the usual rules; it took one slot of the rate limit when it was requested.

use std::time::Duration;

use futures_util::StreamExt as _;

use super::Coaching;
use super::later::{Audience, BroadcastBody, MAX_RECIPIENTS, personalise};
use super::scheduled::failure_reason;
use crate::clock::micros;
use crate::domain::Actor;
use crate::domain::access;
use crate::domain::events::Event;
use crate::domain::input::ClientMessageId;
use crate::domain::messaging::{Later, Target};
use crate::domain::model::{Broadcast, BroadcastFailure, BroadcastId, Role, User, UserId};
use crate::error::{Error, Result};
use crate::store::{BroadcastTarget, Changed, NewBroadcast, Reached};

/// Recipients taken at once: one group commit's worth of sends, then one record of them.
pub const CHUNK: usize = 100;

/// How fast a broadcast goes: `chunk` recipients at a time, each chunk taking `every` at
/// least.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    pub chunk: usize,
    pub every: Duration,
}

impl Pace {
    /// At most `n` messages a second (0: unpaced, [`CHUNK`] at a time).
    pub fn per_second(n: u32) -> Self {
        match n {
            0 => Self {
                chunk: CHUNK,
                every: Duration::ZERO,
            },
            n => Self {
                chunk: (n as usize).min(CHUNK),
                every: Duration::from_secs_f64((n as usize).min(CHUNK) as f64 / f64::from(n)),
            },
        }
    }
}

/// Only trainers broadcast.
fn broadcaster(actor: &Actor) -> Result<()> {
    if actor.role() == Role::Trainer {
        Ok(())
    } else {
        Err(Error::OnlyTrainersBroadcast)
    }
}

impl Coaching {
    /// Records a broadcast (checks in order: role, rate limit, impersonation, fields, the
    /// recipients); `false` when a `client_broadcast_id` already used answered the first one.
    pub async fn broadcast(
        &self,
        actor: &Actor,
        body: &BroadcastBody,
    ) -> Result<(Broadcast, bool)> {
        broadcaster(actor)?;
        self.limit.check(actor.id()).await?;
        access::writable(actor)?;
        let draft = body.validate(self.clock.now())?;
        let (roster, _) = self
            .store
            .trainees(actor.id(), None, MAX_RECIPIENTS as i64 + 1, 0)
            .await?;
        let roster: Vec<User> = roster
            .into_iter()
            .filter(|t| access::may_start_with(actor, Some(t)).is_ok())
            .collect();
        let recipients: Vec<&User> = match &draft.audience {
            Audience::All => roster.iter().collect(),
            Audience::Trainees(ids) => ids
                .iter()
                .map(|id| {
                    roster
                        .iter()
                        .find(|t| t.id == *id)
                        .ok_or(Error::TraineeNotAssigned)
                })
                .collect::<Result<_>>()?,
        };
        if recipients.is_empty() {
            return Err(Error::field(
                "trainee_ids",
                "You have no active trainees to send to.",
            ));
        }
        if let Some(t) = recipients
            .iter()
            .find(|t| personalise(&draft.content, &t.first_name).is_err())
        {
            return Err(Error::field(
                "content",
                format!(
                    "Too long once {{first_name}} is filled in for {}.",
                    t.display_name()
                ),
            ));
        }
        let new = NewBroadcast {
            trainer: actor.id(),
            content: draft.content,
            client_broadcast_id: draft.client_broadcast_id.map(|c| c.as_str().to_owned()),
            send_at: draft.send_at,
            recipients: recipients.iter().map(|t| t.id).collect(),
        };
        let (saved, created) = self.store.insert_broadcast(new, self.clock.now()).await?;
        if created {
            self.broadcast_changed(&saved);
            self.poke();
        }
        Ok((saved, created))
    }

    /// A page of the trainer's broadcasts, newest first.
    pub async fn broadcasts(
        &self,
        actor: &Actor,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Broadcast>, i64)> {
        broadcaster(actor)?;
        Ok(self.store.broadcasts(actor.id(), limit, offset).await?)
    }

    /// One of the trainer's broadcasts, with who it could not reach.
    pub async fn broadcast_detail(
        &self,
        actor: &Actor,
        id: BroadcastId,
    ) -> Result<(Broadcast, Vec<BroadcastFailure>)> {
        broadcaster(actor)?;
        self.store
            .broadcast(actor.id(), id)
            .await?
            .ok_or(Error::BroadcastNotFound)
    }

    /// Cancels a scheduled broadcast no node has begun.
    pub async fn cancel_broadcast(&self, actor: &Actor, id: BroadcastId) -> Result<()> {
        broadcaster(actor)?;
        access::writable(actor)?;
        match self
            .store
            .cancel_broadcast(actor.id(), id, self.clock.now())
            .await?
        {
            Changed::Done(b) => {
                self.broadcast_changed(&b);
                Ok(())
            }
            Changed::NotPending => Err(Error::BroadcastNotScheduled),
            Changed::NotFound => Err(Error::BroadcastNotFound),
        }
    }

    /// Claims the broadcast due longest ago (for `lease`) and fans it out, chunk by chunk;
    /// whether there was one, paced (so that a large broadcast may leave room for live chat). A recipient that
    /// meets a passing failure stays pending: the broadcast comes back when its lease ends.
    pub async fn fan_out_next(&self, lease: Duration, pace: Pace) -> Result<bool> {
        let now = self.clock.now();
        let Some(mut b) = self.store.claim_broadcast(now, now + micros(lease)).await? else {
            return Ok(false);
        };
        self.broadcast_changed(&b);
        let trainer = self.store.user(b.trainer_id).await?;
        loop {
            let started = self.clock.now();
            let targets = self
                .store
                .broadcast_targets(b.id, b.trainer_id, pace.chunk as i64)
                .await?;
            let wanted = targets.len();
            let reached: Vec<(UserId, Reached)> = futures_util::stream::iter(targets)
                .map(|t| self.reach(trainer.as_ref(), &b, t))
                .buffer_unordered(pace.chunk)
                .filter_map(|r| async move { r })
                .collect()
                .await;
            let retry = reached.len() < wanted;
            let now = self.clock.now();
            match self
                .store
                .record_broadcast(b.id, reached, now + micros(lease), now)
                .await?
            {
                Some(moved) => {
                    b = moved;
                    self.broadcast_changed(&b);
                }
                // Cancelled or finished elsewhere meanwhile.
                None => return Ok(true),
            }
            if retry || wanted == 0 || b.state != crate::domain::model::BroadcastState::Sending {
                return Ok(true);
            }
            if !pace.every.is_zero() {
                self.clock.sleep_until(started + micros(pace.every)).await;
            }
        }
    }

    /// Sends the broadcast to one recipient; `None` for a passing failure (left pending).
    async fn reach(
        &self,
        trainer: Option<&User>,
        b: &Broadcast,
        t: BroadcastTarget,
    ) -> Option<(UserId, Reached)> {
        let failed = |why: &str| Some((t.trainee_id, Reached::Failed(why.to_owned())));
        let Some(trainer) = trainer else {
            return failed("The trainer's account no longer exists.");
        };
        let Some(trainee) = &t.trainee else {
            return failed("The trainee's account no longer exists.");
        };
        let Ok(body) = personalise(&b.content, &trainee.first_name) else {
            return failed("The message is too long once the name is filled in.");
        };
        let cmid = ClientMessageId::own("broadcast", b.id.get());
        let to = match t.conversation {
            Some(c) if c.archived_at.is_none() => Later::To(Target::Known(c)),
            // None yet, or archived: a start creates it, or un-archives it for a trainee
            // assigned again (one no longer assigned is refused).
            _ => Later::Start(trainee),
        };
        match self.messaging.send_later(trainer, to, body, cmid).await {
            Ok(sent) => Some((t.trainee_id, Reached::Sent(sent.message.id))),
            Err(e) => match failure_reason(&e) {
                Some(why) => failed(why),
                None => {
                    tracing::warn!(broadcast = %b.id, trainee = %t.trainee_id, error = %e,
                        "broadcast: will try again");
                    None
                }
            },
        }
    }

    fn broadcast_changed(&self, b: &Broadcast) {
        self.publish(Event::BroadcastChanged(b.clone()));
    }
}
