//! Coaching tools (wire contract Part D): broadcasts and scheduled messages (`broadcasts`,
//! `scheduled`: recorded here, sent when due by `workers::dispatch`), a trainer's saved
//! replies, the "needs reply" inbox and the response-time figures. Saved replies are the trainer's own (a trainee, an admin or
//! an ambassador has none) and, like every write, refused to a read-only impersonation token.
//! The inbox reads only conversation rows: what it sorts by (`awaiting_reply_since`) is kept by
//! each send's transaction (`domain::plan`).

mod broadcasts;
mod figures;
mod later;
mod scheduled;
mod template;

pub use broadcasts::{CHUNK, Pace};
pub use figures::{WINDOWS, days, quantile_seconds};
pub use later::{
    Audience, BroadcastBody, BroadcastDraft, FIRST_NAME, MAX_AHEAD_DAYS, MAX_RECIPIENTS,
    ScheduleBody, ScheduleFields, parse_time, personalise,
};
pub use scheduled::{BATCH, MAX_PENDING};
pub use template::{MAX_TITLE_CHARS, TemplateBody, TemplateFields, TemplateTitle};

use std::sync::Arc;

use tokio::sync::watch;

use crate::clock::{Clock, Micros};
use crate::domain::Actor;
use crate::domain::access;
use crate::domain::accounts::require_role;
use crate::domain::events::{Event, Publisher};
use crate::domain::messaging::Messaging;
use crate::domain::model::{Conversation, Role, Template, TemplateId};
use crate::error::{Error, Result};
use crate::ratelimit::UserBucket;
use crate::store::{Store, StoreError, TemplateWrite};

/// How many saved replies a trainer may keep: far more than a picker can show usefully, and a
/// bound on what one account can store.
pub const MAX_TEMPLATES: i64 = 200;

const DAY: Micros = 86_400_000_000;

/// The figures of `GET /api/trainer/messaging-stats/`.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub conversations: i64,
    pub messages_received: i64,
    pub messages_sent: i64,
    pub median_first_response_seconds: Option<f64>,
    pub p90_first_response_seconds: Option<f64>,
    pub waiting_now: i64,
}

#[derive(Clone)]
pub struct Coaching {
    store: Store,
    clock: Clock,
    /// Sends scheduled messages and each broadcast's messages when due.
    messaging: Messaging,
    /// The send bucket: scheduling and broadcasting take one slot each.
    limit: Arc<UserBucket>,
    events: Publisher,
    /// Bumped when something new may be due sooner than the dispatcher thinks (this node's
    /// dispatcher wakes at once; other nodes find it on their next look, within a second).
    wake: Arc<watch::Sender<u64>>,
}

/// Only trainers have saved replies.
fn keeps_replies(actor: &Actor) -> Result<()> {
    if actor.role() == Role::Trainer {
        Ok(())
    } else {
        Err(Error::OnlyTrainersHaveReplies)
    }
}

/// A unique title refused by the database (two requests at once included) is the client's
/// error, on the field.
fn title_taken(e: StoreError) -> Error {
    match e {
        StoreError::Conflict(_) => {
            Error::field("title", "You already have a saved reply with this title.")
        }
        other => other.into(),
    }
}

impl Coaching {
    pub fn new(
        store: Store,
        clock: Clock,
        messaging: Messaging,
        limit: Arc<UserBucket>,
        events: Publisher,
    ) -> Self {
        Self {
            store,
            clock,
            messaging,
            limit,
            events,
            wake: Arc::new(watch::Sender::new(0)),
        }
    }

    /// Changes whenever something may have become due sooner (for `workers::dispatch`).
    pub fn wakes(&self) -> watch::Receiver<u64> {
        self.wake.subscribe()
    }

    fn poke(&self) {
        self.wake.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn publish(&self, event: Event) {
        self.events.publish(event);
    }

    /// The trainer's saved replies, by title (an impersonating admin may look).
    pub async fn templates(&self, actor: &Actor) -> Result<Vec<Template>> {
        keeps_replies(actor)?;
        Ok(self.store.templates(actor.id()).await?)
    }

    /// Saves a reply: role, impersonation, fields, then the title's uniqueness and the cap.
    pub async fn create_template(&self, actor: &Actor, body: &TemplateBody) -> Result<Template> {
        keeps_replies(actor)?;
        access::writable(actor)?;
        let (title, content) = body.validate_new()?;
        let new = TemplateWrite {
            trainer: actor.id(),
            title: Some(title),
            content: Some(content),
        };
        self.store
            .insert_template(new, MAX_TEMPLATES, self.clock.now())
            .await
            .map_err(title_taken)?
            .ok_or(Error::TooManyTemplates)
    }

    /// Changes the fields a PATCH names of one of the trainer's replies.
    pub async fn update_template(
        &self,
        actor: &Actor,
        id: TemplateId,
        body: &TemplateBody,
    ) -> Result<Template> {
        keeps_replies(actor)?;
        access::writable(actor)?;
        let TemplateFields { title, content } = body.validate_change()?;
        let change = TemplateWrite {
            trainer: actor.id(),
            title,
            content,
        };
        self.store
            .update_template(id, change, self.clock.now())
            .await
            .map_err(title_taken)?
            .ok_or(Error::TemplateNotFound)
    }

    pub async fn delete_template(&self, actor: &Actor, id: TemplateId) -> Result<()> {
        keeps_replies(actor)?;
        access::writable(actor)?;
        if self.store.delete_template(actor.id(), id).await? {
            Ok(())
        } else {
            Err(Error::TemplateNotFound)
        }
    }

    /// A page of the trainer's conversations waiting for their answer, longest waiting first.
    pub async fn needing_reply(
        &self,
        actor: &Actor,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Conversation>, i64)> {
        require_role(actor, Role::Trainer)?;
        Ok(self.store.needing_reply(actor.id(), limit, offset).await?)
    }

    /// The figures of the last `days` days (`?days=` as sent: one of [`WINDOWS`]).
    pub async fn figures(&self, actor: &Actor, days: Option<&str>) -> Result<Figures> {
        require_role(actor, Role::Trainer)?;
        let days = figures::days(days)?;
        let since = self.clock.now() - days * DAY;
        let mut w = self.store.window(actor.id(), since).await?;
        Ok(Figures {
            conversations: w.conversations,
            messages_received: w.received,
            messages_sent: w.sent,
            median_first_response_seconds: quantile_seconds(&mut w.first_responses, 0.5),
            p90_first_response_seconds: quantile_seconds(&mut w.first_responses, 0.9),
            waiting_now: w.waiting_now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_s_answer_names_the_cap() {
        assert!(
            Error::TooManyTemplates
                .detail()
                .contains(&format!(" {MAX_TEMPLATES} "))
        );
    }
}
