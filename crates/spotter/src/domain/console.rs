//! The admin console (wire contract Part D 6): admins browse every conversation and its
//! messages, read-only, search a user's messages, and find accounts. Every read of message data
//! is written to the audit log before anything is read, one entry per person whose data it
//! shows, so each of them finds it in their access log. A read that cannot be logged is refused
//! (the store's error: 503 or 500), never served unlogged.
//!
//! Who gets an entry, for what:
//! - the conversation list (`admin.read_conversations`): one entry, about the user the list is
//!   narrowed to (none for the whole list). It shows who talks with whom and when, never what
//!   they wrote (no preview), so it names no one else.
//! - a conversation's messages (`admin.read_messages`): one entry per participant, the trainee
//!   then the trainer (a deleted trainee has none), with the conversation.
//! - a search (`admin.search_messages`): one entry about the searched user (with the
//!   conversation, if narrowed to one) before the search runs, then one per other participant
//!   whose conversation shows in the page of results, with that conversation.
//! - the user finder shows accounts, not messages: not logged. Nor is reading the log itself.

use std::net::IpAddr;

use crate::domain::accounts::require_role;
use crate::domain::audit::{Audit, action};
use crate::domain::messaging::{MessagePage, Messaging, Paging};
use crate::domain::model::{Conversation, ConversationId, Role, User, UserId};
use crate::domain::{Actor, search};
use crate::error::{Error, Result};
use crate::store::Store;

/// Conversations a page, as the participants' list.
pub const CONVERSATIONS_PER_PAGE: i64 = 50;
pub const USERS_PER_PAGE: i64 = 50;

/// Only an admin, with their own token. (An admin impersonates only trainers, so an
/// impersonation token never holds the admin role; the check stands on its own all the same.)
pub fn admin_only(actor: &Actor) -> Result<()> {
    require_role(actor, Role::Admin)?;
    if actor.impersonating {
        return Err(Error::NotPermitted);
    }
    Ok(())
}

/// Whom a search result shows besides the searched user: the other participant of each
/// conversation in the page, once per conversation, in the page's order.
pub fn others_shown(user: UserId, hits: &[crate::store::Hit]) -> Vec<(UserId, ConversationId)> {
    let mut seen = Vec::new();
    for h in hits {
        let c = &h.conversation;
        let other = if c.trainer_id == user {
            c.trainee_id
        } else {
            Some(c.trainer_id)
        };
        if let Some(other) = other
            && !seen.contains(&(other, c.id))
        {
            seen.push((other, c.id));
        }
    }
    seen
}

#[derive(Clone)]
pub struct Console {
    store: Store,
    /// Reads a conversation's pages as a participant's view does.
    messaging: Messaging,
    /// Every read of message data is written there first.
    audit: Audit,
}

impl Console {
    pub fn new(store: Store, messaging: Messaging, audit: Audit) -> Self {
        Self {
            store,
            messaging,
            audit,
        }
    }

    async fn record(
        &self,
        actor: &Actor,
        action: &'static str,
        subject: Option<UserId>,
        conversation: Option<ConversationId>,
        ip: IpAddr,
    ) -> Result<()> {
        let ip = Some(ip.to_string());
        self.audit
            .record(actor.id(), action, subject, conversation, ip)
            .await?;
        Ok(())
    }

    /// A page of accounts matching `search` by name or email (not logged: no message data).
    pub async fn users(
        &self,
        actor: &Actor,
        search: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<User>, i64)> {
        admin_only(actor)?;
        if search.is_some_and(|s| s.contains('\0')) {
            // No name or email holds a NUL, and PostgreSQL would refuse the pattern.
            return Ok((Vec::new(), 0));
        }
        Ok(self.store.users(search, limit, offset).await?)
    }

    /// A page of conversations, archived ones included, newest activity first: all of them, or
    /// `user`'s; `search` on either participant's names or email. Logged first.
    pub async fn conversations(
        &self,
        actor: &Actor,
        ip: IpAddr,
        user: Option<UserId>,
        search: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Conversation>, i64)> {
        admin_only(actor)?;
        let read = action::ADMIN_READ_CONVERSATIONS;
        self.record(actor, read, user, None, ip).await?;
        if search.is_some_and(|s| s.contains('\0')) {
            return Ok((Vec::new(), 0));
        }
        Ok(self
            .store
            .all_conversations(user, search, limit, offset)
            .await?)
    }

    /// A page of a conversation's messages (archived or not, deleted ones as tombstones), once
    /// the read is logged about each participant.
    pub async fn messages(
        &self,
        actor: &Actor,
        ip: IpAddr,
        id: ConversationId,
        paging: Paging,
    ) -> Result<MessagePage> {
        admin_only(actor)?;
        let c = self
            .store
            .conversation_ref(id)
            .await?
            .ok_or(Error::ConversationNotFound)?;
        for subject in c.trainee_id.into_iter().chain([c.trainer_id]) {
            let read = action::ADMIN_READ_MESSAGES;
            self.record(actor, read, Some(subject), Some(id), ip)
                .await?;
        }
        self.messaging.page(id, paging).await
    }

    /// A page of `user`'s messages containing `q`, over the conversations they can search
    /// themselves (live ones), as their own search pages (20 a page, a bad page is the first,
    /// past the end the last). Logged about `user` before the search, and about each other
    /// participant the page shows before it is answered.
    pub async fn search(
        &self,
        actor: &Actor,
        ip: IpAddr,
        user: UserId,
        q: Option<&str>,
        page: Option<&str>,
        conversation: Option<ConversationId>,
    ) -> Result<search::Found> {
        admin_only(actor)?;
        let text = search::text(q)?;
        let subject = self.store.user(user).await?.ok_or(Error::NotFound)?;
        let searched = action::ADMIN_SEARCH_MESSAGES;
        self.record(actor, searched, Some(user), conversation, ip)
            .await?;
        let mut page = search::page_number(page);
        if text.contains('\0') {
            // As a user's own search: nothing holds NUL, and PostgreSQL cannot be asked.
            return Ok(search::Found {
                hits: Vec::new(),
                count: 0,
                num_pages: 1,
                page: 1,
            });
        }
        let as_user = Actor {
            user: subject,
            impersonating: false,
            original_user_id: None,
        };
        let mut query = search::store_query(&as_user, text, conversation, page);
        let (mut hits, mut count) = self.store.search(query.clone()).await?;
        if page > search::num_pages(count) {
            page = search::num_pages(count);
            query.offset = (page - 1) * search::RESULTS_PER_PAGE;
            (hits, count) = self.store.search(query).await?;
        }
        for (other, conversation) in others_shown(user, &hits) {
            self.record(actor, searched, Some(other), Some(conversation), ip)
                .await?;
        }
        Ok(search::Found {
            hits,
            num_pages: search::num_pages(count),
            count,
            page,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{ConversationRef, Message, MessageId, User};
    use crate::store::Hit;

    fn user(id: i64, role: Role) -> User {
        User {
            id: UserId(id),
            email: format!("{id}@x.io"),
            first_name: String::new(),
            last_name: String::new(),
            role,
            parent_trainer_id: None,
            profile_image: None,
            is_active: true,
            created_at: 0,
        }
    }

    fn hit(conversation: i64, trainer: i64, trainee: Option<i64>) -> Hit {
        Hit {
            message: Message {
                id: MessageId(1),
                conversation_id: ConversationId(conversation),
                seq: 1,
                sender: None,
                content: String::new(),
                image: None,
                client_message_id: None,
                created_at: 0,
                delivered_at: None,
                read_at: None,
                edited_at: None,
                deleted_at: None,
            },
            conversation: ConversationRef {
                id: ConversationId(conversation),
                trainer_id: UserId(trainer),
                trainee_id: trainee.map(UserId),
                archived_at: None,
            },
            trainer_name: (String::new(), String::new()),
            trainee_name: None,
        }
    }

    #[test]
    fn only_an_admin_with_their_own_token_uses_the_console() {
        let mut a = Actor {
            user: user(1, Role::Admin),
            impersonating: false,
            original_user_id: None,
        };
        assert!(admin_only(&a).is_ok());
        a.impersonating = true;
        assert!(matches!(admin_only(&a), Err(Error::NotPermitted)));
        for role in [Role::Trainer, Role::Trainee, Role::Ambassador] {
            a.user.role = role;
            a.impersonating = false;
            assert!(matches!(admin_only(&a), Err(Error::NotPermitted)));
        }
    }

    #[test]
    fn a_search_names_each_other_participant_once_per_conversation() {
        // A trainer's search: each trainee once, a deleted trainee not at all.
        let hits = [
            hit(7, 1, Some(4)),
            hit(8, 1, None),
            hit(7, 1, Some(4)),
            hit(9, 1, Some(5)),
        ];
        assert_eq!(
            others_shown(UserId(1), &hits),
            [
                (UserId(4), ConversationId(7)),
                (UserId(5), ConversationId(9))
            ]
        );
        // A trainee's search: their trainer.
        assert_eq!(
            others_shown(UserId(4), &[hit(7, 1, Some(4))]),
            [(UserId(1), ConversationId(7))]
        );
    }
}
