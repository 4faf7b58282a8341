//! Exports (wire contract D5): everything a user wrote and received, for them to take away, or
//! for an admin to hand over. The rules live here: who may export whose data, how often, that
//! every export is in the audit log before its first byte leaves, and how the data is read
//! (conversation by conversation, page by page, so a history of any length is never held at
//! once). How it is written out (JSON, CSV) is `wire::export`'s; streaming it is `http::export`'s.

use std::net::IpAddr;

use crate::clock::{Clock, Micros};
use crate::domain::Actor;
use crate::domain::accounts::require_role;
use crate::domain::audit::{Audit, action};
use crate::domain::model::{
    Conversation, ConversationId, Message, Role, User, UserId, UserSummary,
};
use crate::error::{Error, Result};
use crate::ratelimit::Limiter;
use crate::store::{Range, Store};

/// Exports each caller may start an hour (a burst of as many, then one every 6 minutes).
pub const PER_HOUR: u32 = 10;
/// Conversations read at once.
const CONVERSATIONS_PAGE: i64 = 100;
/// Messages read at once: a page is rendered and sent before the next is read.
const MESSAGES_PAGE: i64 = 500;

/// How the export is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

impl Format {
    /// `?format=`: `json` (also when absent) or `csv`; anything else is a 400 on `format`.
    pub fn parse(raw: Option<&str>) -> Result<Self> {
        match raw {
            None | Some("json") => Ok(Self::Json),
            Some("csv") => Ok(Self::Csv),
            Some(other) => Err(Error::field(
                "format",
                format!("\"{other}\" is not a valid choice."),
            )),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "csv",
        }
    }
}

/// Whose data an export is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whose {
    /// The caller's own (any role).
    Own,
    /// Another user's, for an admin.
    User(UserId),
}

/// Starts exports: checks, limits and records them.
pub struct Exports {
    store: Store,
    audit: Audit,
    clock: Clock,
    /// Per caller: an export reads a whole history, far more than a send's slot is worth.
    limit: Limiter<UserId>,
}

impl Exports {
    pub fn new(store: Store, audit: Audit, clock: Clock) -> Self {
        let limit = Limiter::per_hour(PER_HOUR, &clock);
        Self {
            store,
            audit,
            clock,
            limit,
        }
    }

    /// Checks that `actor` may export `whose` data now, records the export in the audit log,
    /// and hands back the reader. Nothing has been sent yet: if the entry cannot be written,
    /// this fails and no data leaves.
    pub async fn start(&self, actor: &Actor, whose: Whose, ip: IpAddr) -> Result<Export> {
        // Data leaving the system must be the real user's act, not a viewer's.
        if actor.impersonating {
            return Err(Error::NotDuringImpersonation);
        }
        let user = match whose {
            Whose::Own => actor.user.clone(),
            Whose::User(id) => {
                require_role(actor, Role::Admin)?;
                self.store.user(id).await?.ok_or(Error::NotFound)?
            }
        };
        self.limit.check(&actor.id())?;
        self.audit
            .record(
                actor.id(),
                action::EXPORT,
                Some(user.id),
                None,
                Some(ip.to_string()),
            )
            .await?;
        Ok(Export {
            user,
            exported_at: self.clock.now(),
            store: self.store.clone(),
        })
    }

    /// Forgets idle callers' budgets (memory bounded by recent activity).
    pub fn forget_idle(&self) {
        self.limit.forget_idle();
    }
}

/// One export under way: whose data, when, and the reads that walk it. Not a snapshot:
/// messages sent while it runs are in it if their conversation has not been written yet.
pub struct Export {
    pub user: User,
    pub exported_at: Micros,
    store: Store,
}

impl Export {
    /// The next page of the user's conversations after `after` (by id; empty at the end).
    pub async fn conversations(&self, after: ConversationId) -> Result<Vec<Conversation>> {
        Ok(self
            .store
            .export_conversations(self.user.id, after, CONVERSATIONS_PAGE)
            .await?)
    }

    /// The next page of a conversation's messages after position `seq`, oldest first (empty at
    /// the end). Deleted ones are in it: `wire` shows them as tombstones.
    pub async fn messages(&self, conversation: ConversationId, seq: i64) -> Result<Vec<Message>> {
        let range = Range::AfterSeq {
            seq,
            limit: MESSAGES_PAGE,
        };
        Ok(self.store.messages(conversation, range).await?)
    }

    /// The other side of a conversation, from the exported user's: `None` for a deleted
    /// trainee.
    pub fn other<'c>(&self, c: &'c Conversation) -> Option<&'c UserSummary> {
        if c.trainer.id == self.user.id {
            c.trainee.as_ref()
        } else {
            Some(&c.trainer)
        }
    }

    /// The attachment's file name: `spotter-export-<user id>-<YYYY-MM-DD>.<ext>`.
    pub fn file_name(&self, format: Format) -> String {
        let day = crate::wire::to_wire(self.exported_at);
        format!(
            "spotter-export-{}-{}.{}",
            self.user.id.get(),
            day.get(..10).unwrap_or(&day),
            format.extension()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absent_format_is_json() {
        assert_eq!(Format::parse(None).unwrap(), Format::Json);
        assert_eq!(Format::parse(Some("csv")).unwrap(), Format::Csv);
    }

    #[test]
    fn an_unknown_format_is_not_a_valid_choice() {
        let Err(Error::Invalid(fields)) = Format::parse(Some("xml")) else {
            panic!("xml accepted");
        };
        assert_eq!(fields["format"], vec!["\"xml\" is not a valid choice."]);
        assert!(Format::parse(Some("JSON")).is_err());
    }
}
