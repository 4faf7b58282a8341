//! The audit log (wire contract D6): who read, exported or erased whose data, and every
//! impersonation, append-only and tamper-evident. Each entry's `hash` is the SHA-256 of its
//! fields and of the entry before it ([`seal`]), so changing, removing or inserting an entry
//! behind Spotter's back breaks the chain from there on; [`Audit::verify`] walks it.
//!
//! What is recorded where: impersonation start and end (`domain::accounts`), the admin
//! console's reads, exports and erasures (as each of them lands). Admins read the log;
//! everyone reads the entries about themselves (who read or exported their data).

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::domain::Actor;
use crate::domain::accounts::require_role;
use crate::domain::model::{ConversationId, Role, User, UserId};
use crate::error::{Error, Result};
use crate::store::{AuditEntry, AuditFilter, NewAuditEntry, Store};

/// The actions an entry records (`action` on the wire).
pub mod action {
    pub const ADMIN_READ_CONVERSATIONS: &str = "admin.read_conversations";
    pub const ADMIN_READ_MESSAGES: &str = "admin.read_messages";
    pub const IMPERSONATION_START: &str = "impersonation.start";
    pub const IMPERSONATION_END: &str = "impersonation.end";
    pub const EXPORT: &str = "export";
    pub const ERASE: &str = "erase";
    pub const ADMIN_SEARCH_MESSAGES: &str = "admin.search_messages";
}

/// The actor of what an operator does on the command line (no account).
pub const OPERATOR: UserId = UserId(0);

/// Entries walked at once by [`Audit::verify`].
const WALK: i64 = 1_000;

/// An entry's hash: SHA-256 over the previous entry's hash and every field, each written out
/// unambiguously (absent fields as `-`), as lowercase hex.
pub fn seal(e: &AuditEntry) -> String {
    let opt = |v: Option<i64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
    let text = format!(
        "{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
        e.prev_hash,
        e.id,
        e.actor_id.get(),
        e.action,
        opt(e.subject_user_id.map(UserId::get)),
        opt(e.conversation_id.map(ConversationId::get)),
        e.ip.as_deref().unwrap_or("-"),
        e.created_at,
    );
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// What a walk of the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Entries checked.
    pub entries: u64,
    /// The first entry whose hash, link or position does not hold, and why.
    pub broken: Option<(i64, &'static str)>,
}

/// An entry of a person's access log, with the account of who did it (`None`: gone since).
#[derive(Debug, Clone)]
pub struct Access {
    pub entry: AuditEntry,
    pub actor: Option<User>,
}

#[derive(Clone)]
pub struct Audit {
    store: Store,
    clock: Clock,
}

impl Audit {
    pub fn new(store: Store, clock: Clock) -> Self {
        Self { store, clock }
    }

    /// Appends an entry: `actor` did `action` to `subject`'s data (in `conversation`).
    pub async fn record(
        &self,
        actor: UserId,
        action: &'static str,
        subject: Option<UserId>,
        conversation: Option<ConversationId>,
        ip: Option<String>,
    ) -> Result<AuditEntry> {
        let new = NewAuditEntry {
            actor,
            action,
            subject,
            conversation,
            ip,
        };
        Ok(self.store.append_audit(new, self.clock.now(), seal).await?)
    }

    /// A page of the log for an admin, newest first.
    pub async fn entries(
        &self,
        actor: &Actor,
        filter: AuditFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AuditEntry>, i64)> {
        require_role(actor, Role::Admin)?;
        Ok(self.store.audit_entries(filter, limit, offset).await?)
    }

    /// The entries whose subject is the caller (who read or exported their data), newest first.
    /// The person's own: an impersonation token (a trainer as their trainee, an admin as a
    /// trainer) may not read it.
    pub async fn about_me(
        &self,
        actor: &Actor,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AuditEntry>, i64)> {
        if actor.impersonating {
            return Err(Error::NotDuringImpersonation);
        }
        let filter = AuditFilter {
            subject: Some(actor.id()),
            ..AuditFilter::default()
        };
        Ok(self.store.audit_entries(filter, limit, offset).await?)
    }

    /// Erases `user`'s personal data (see [`crate::store::Audit::erase_user`]) and records it,
    /// in one transaction; then removes their profile photo from the media store. `by`: who
    /// asked ([`OPERATOR`] for the command line). `false`: no such user.
    pub async fn erase(
        &self,
        media: &crate::media::Media,
        user: UserId,
        by: UserId,
        ip: Option<String>,
    ) -> Result<bool> {
        let entry = NewAuditEntry {
            actor: by,
            action: action::ERASE,
            subject: Some(user),
            conversation: None,
            ip,
        };
        let now = self.clock.now();
        let Some((_, photo)) = self.store.erase_user(user, entry, now, seal).await? else {
            return Ok(false);
        };
        // A photo kept in the media store (an address elsewhere is not ours to remove).
        if let Some(key) = photo.filter(|k| !k.contains("://"))
            && let Err(e) = media.delete(&key).await
        {
            tracing::warn!(
                key,
                error = format!("{e:#}"),
                "erase: profile photo not removed"
            );
        }
        Ok(true)
    }

    /// [`Audit::about_me`], each entry with who did it as their account is now (`None`: gone),
    /// so the person sees a name and a role rather than a number.
    pub async fn access_log(
        &self,
        actor: &Actor,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Access>, i64)> {
        let (entries, count) = self.about_me(actor, limit, offset).await?;
        let mut actors: HashMap<UserId, Option<User>> = HashMap::new();
        let mut page = Vec::with_capacity(entries.len());
        for entry in entries {
            let who = match actors.get(&entry.actor_id) {
                Some(known) => known.clone(),
                None => {
                    let found = self.store.user(entry.actor_id).await?;
                    actors.insert(entry.actor_id, found.clone());
                    found
                }
            };
            page.push(Access { entry, actor: who });
        }
        Ok((page, count))
    }

    /// Walks the whole chain, oldest first: each entry must follow the one before (id + 1), name
    /// its hash, and hash to what it says.
    pub async fn verify(&self) -> Result<Verified> {
        let mut entries = 0;
        let (mut last_id, mut last_hash) = (0, crate::store::GENESIS.to_owned());
        loop {
            let page = self.store.audit_chain(last_id, WALK).await?;
            if page.is_empty() {
                return Ok(Verified {
                    entries,
                    broken: None,
                });
            }
            for e in page {
                let broken = if e.id != last_id + 1 {
                    Some("an entry before it is missing")
                } else if e.prev_hash != last_hash {
                    Some("it does not follow the entry before it")
                } else if seal(&e) != e.hash {
                    Some("its fields do not match its hash")
                } else {
                    None
                };
                if let Some(why) = broken {
                    return Ok(Verified {
                        entries,
                        broken: Some((e.id, why)),
                    });
                }
                entries += 1;
                last_id = e.id;
                last_hash = e.hash;
            }
        }
    }
}

/// Walks the chain of the database at `url` as it is (`spotter audit verify`): opened to read
/// only (no migration, no background work), beside a server that may be appending meanwhile;
/// what was appended after the walk passed is for the next walk.
pub async fn verify_database(url: &str) -> anyhow::Result<Verified> {
    let clock = Clock::system();
    let store = Store::open_existing(url, clock.clone())
        .await?
        .ok_or_else(|| anyhow::anyhow!("no database at {url}"))?;
    let verified = Audit::new(store.clone(), clock).verify().await;
    store.close().await;
    verified.map_err(|e| match e {
        Error::Internal(e) => e.context("reading the audit log"),
        other => anyhow::anyhow!("reading the audit log: {other}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, prev: &str) -> AuditEntry {
        let mut e = AuditEntry {
            id,
            actor_id: UserId(1),
            action: action::ADMIN_READ_MESSAGES.to_owned(),
            subject_user_id: Some(UserId(4)),
            conversation_id: Some(ConversationId(9)),
            ip: Some("127.0.0.1".to_owned()),
            created_at: 1_700_000_000_000_000,
            prev_hash: prev.to_owned(),
            hash: String::new(),
        };
        e.hash = seal(&e);
        e
    }

    #[test]
    fn a_seal_covers_every_field_and_the_entry_before() {
        let first = entry(1, crate::store::GENESIS);
        let second = entry(2, &first.hash);
        assert_eq!(first.hash.len(), 64);
        assert_ne!(first.hash, second.hash);
        let mut changed = second.clone();
        for edit in [
            |e: &mut AuditEntry| e.ip = None,
            |e: &mut AuditEntry| e.subject_user_id = Some(UserId(5)),
            |e: &mut AuditEntry| e.conversation_id = None,
            |e: &mut AuditEntry| e.created_at += 1,
            |e: &mut AuditEntry| e.action = "export".to_owned(),
            |e: &mut AuditEntry| e.prev_hash = crate::store::GENESIS.to_owned(),
        ] {
            changed.clone_from(&second);
            edit(&mut changed);
            assert_ne!(seal(&changed), second.hash);
        }
    }
}
