//! Accounts: authentication (token → [`Actor`], shared by the REST extractor and the socket
//! handshake), login and token rotation, the trainer's roster, impersonation, and the
//! operator's user management.

use std::net::IpAddr;
use std::sync::Arc;

use crate::auth::jwt::Subject;
use crate::auth::password::{self, Verdict};
use crate::auth::{TokenKind, TokenPair, Tokens};
use crate::clock::Clock;
use crate::domain::Actor;
use crate::domain::audit::{Audit, action};
use crate::domain::events::{Event, Publisher};
use crate::domain::model::{ConversationId, ConversationRef, Role, User, UserId};
use crate::error::{AuthFailure, Error, Result};
use crate::ratelimit::Limiter;
use crate::store::{NewUser, RefreshUse, Spend, Store, StoreError};

/// Login and refresh limits.
pub struct AuthLimits {
    /// Login and refresh, per client address.
    pub per_address: Limiter<IpAddr>,
    /// Login attempts per email: slows a password-guessing run spread over many addresses.
    pub per_email: Limiter<String>,
}

#[derive(Clone)]
pub struct Accounts {
    store: Store,
    tokens: Tokens,
    limits: Arc<AuthLimits>,
    events: Publisher,
    clock: Clock,
    /// Every impersonation's start and end is written there first.
    audit: Audit,
}

pub struct Impersonation {
    pub tokens: TokenPair,
    pub user: User,
}

pub struct NewAccount<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub role: Role,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub trainer_email: Option<&'a str>,
}

impl Accounts {
    pub fn new(
        store: Store,
        tokens: Tokens,
        limits: Arc<AuthLimits>,
        events: Publisher,
        clock: Clock,
        audit: Audit,
    ) -> Self {
        Self {
            store,
            tokens,
            limits,
            events,
            clock,
            audit,
        }
    }

    pub fn limits(&self) -> &AuthLimits {
        &self.limits
    }

    /// Verifies an access token and loads its user: the one way into every authenticated path.
    pub async fn authenticate(&self, token: &str) -> Result<Actor> {
        let claims = self
            .tokens
            .verify(token, TokenKind::Access, self.clock.now_secs())
            .map_err(Error::Unauthorized)?;
        let user = self.active_user(claims.user_id).await?;
        Ok(Actor {
            user,
            impersonating: claims.impersonating,
            original_user_id: claims.original_user_id,
        })
    }

    async fn active_user(&self, id: UserId) -> Result<User> {
        let user = self
            .store
            .user(id)
            .await?
            .ok_or(Error::Unauthorized(AuthFailure::UserNotFound))?;
        if !user.is_active {
            return Err(Error::Unauthorized(AuthFailure::UserInactive));
        }
        Ok(user)
    }

    pub async fn login(&self, addr: IpAddr, email: &str, password: &str) -> Result<TokenPair> {
        self.limits.per_address.check(&addr)?;
        self.limits.per_email.check(&email.trim().to_lowercase())?;
        let found = self.store.login_record(email).await?;
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), hash),
            None => (None, password::decoy().to_owned()),
        };
        let verdict = password::check(password.to_owned(), hash.clone()).await;
        match user {
            Some(user) if verdict.matched() && user.is_active => {
                if verdict == Verdict::MatchOutdated {
                    self.rehash(user.id, password, &hash).await;
                }
                self.issue(&user, false, None, None)
            }
            _ => Err(Error::Unauthorized(AuthFailure::BadCredentials)),
        }
    }

    /// Replaces a hash Spotter does not write (an imported user's Django hash) with its own,
    /// unless the password changed meanwhile. The login has succeeded already: a failure here
    /// only means the old hash is checked again next time.
    async fn rehash(&self, user: UserId, password: &str, old: &str) {
        let new = match password::hash(password.to_owned()).await {
            Ok(new) => new,
            Err(e) => {
                tracing::warn!(%user, error = %e, "re-hashing a password failed");
                return;
            }
        };
        match self.store.replace_password_hash(user, old, &new).await {
            Ok(true) => tracing::info!(%user, "password re-hashed to Argon2id"),
            Ok(false) => tracing::info!(%user, "password changed meanwhile: not re-hashed"),
            Err(e) => tracing::warn!(%user, error = %e, "storing a re-hashed password failed"),
        }
    }

    fn issue(
        &self,
        user: &User,
        impersonating: bool,
        original: Option<UserId>,
        family: Option<String>,
    ) -> Result<TokenPair> {
        let subject = Subject {
            user_id: user.id,
            impersonating,
            original_user_id: original,
            family,
        };
        Ok(self.tokens.issue(&subject, self.clock.now_secs())?)
    }

    /// Rotates a refresh token: the old one is spent, a new pair of the same chain comes back.
    /// A spent token presented again means it was copied: the whole chain is revoked.
    pub async fn refresh(&self, addr: IpAddr, refresh: &str) -> Result<TokenPair> {
        self.limits.per_address.check(&addr)?;
        let claims = self
            .tokens
            .verify(refresh, TokenKind::Refresh, self.clock.now_secs())
            .map_err(Error::Unauthorized)?;
        let user = self.active_user(claims.user_id).await?;
        let spent = RefreshUse {
            jti: &claims.jti,
            family: &claims.family,
            user: user.id,
        };
        match self.store.spend_refresh(&spent, self.clock.now()).await? {
            Spend::Fresh => {}
            Spend::Revoked => return Err(Error::Unauthorized(AuthFailure::Revoked)),
            Spend::Replayed => {
                tracing::warn!(user = %user.id, "refresh token reused: token family revoked");
                return Err(Error::Unauthorized(AuthFailure::Revoked));
            }
        }
        self.issue(
            &user,
            claims.impersonating,
            claims.original_user_id,
            Some(claims.family),
        )
    }

    /// A trainee of this trainer, or 404.
    pub async fn own_trainee(&self, trainer: &Actor, trainee: UserId) -> Result<User> {
        require_role(trainer, Role::Trainer)?;
        match self.store.user(trainee).await? {
            Some(u) if u.role == Role::Trainee && u.parent_trainer_id == Some(trainer.id()) => {
                Ok(u)
            }
            _ => Err(Error::NotFound),
        }
    }

    pub async fn trainees(
        &self,
        trainer: &Actor,
        search: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<User>, i64)> {
        require_role(trainer, Role::Trainer)?;
        if search.is_some_and(|s| s.contains('\0')) {
            // No stored name or email holds a NUL (input refuses it), and PostgreSQL would
            // refuse the pattern: nothing matches.
            return Ok((Vec::new(), 0));
        }
        Ok(self
            .store
            .trainees(trainer.id(), search, limit, offset)
            .await?)
    }

    /// Unlinks a trainee and archives their conversation (history kept). Read-only tokens may
    /// not.
    pub async fn remove_trainee(
        &self,
        trainer: &Actor,
        trainee: UserId,
    ) -> Result<Option<ConversationId>> {
        let trainee = self.own_trainee(trainer, trainee).await?;
        if trainer.impersonating {
            return Err(Error::NotDuringImpersonation);
        }
        let now = self.clock.now();
        let archived = self.store.unassign(trainer.id(), trainee.id, now).await?;
        if let Some(id) = archived {
            self.events.publish(Event::Archived {
                conversation: ConversationRef {
                    id,
                    trainer_id: trainer.id(),
                    trainee_id: Some(trainee.id),
                    archived_at: Some(now),
                },
            });
        }
        Ok(archived)
    }

    /// (Re)assigns a trainee to a trainer; an operator action.
    pub async fn assign(&self, trainee: &User, trainer: &User) -> Result<()> {
        if trainee.role != Role::Trainee || trainer.role != Role::Trainer {
            return Err(Error::BadAssignment);
        }
        Ok(self.store.assign(trainee.id, trainer.id).await?)
    }

    /// A trainer acting as their trainee, or an admin as a trainer: read-only tokens for
    /// `target`, once the start is in the audit log (from `ip`).
    pub async fn impersonate(
        &self,
        actor: &Actor,
        target: UserId,
        ip: IpAddr,
    ) -> Result<Impersonation> {
        if actor.impersonating {
            return Err(Error::AlreadyImpersonating);
        }
        let user = match actor.role() {
            Role::Trainer => self.own_trainee(actor, target).await?,
            Role::Admin => match self.store.user(target).await? {
                Some(u) if u.role == Role::Trainer => u,
                _ => return Err(Error::NotFound),
            },
            Role::Trainee | Role::Ambassador => return Err(Error::NotPermitted),
        };
        if !user.is_active {
            return Err(Error::NotFound);
        }
        let start = action::IMPERSONATION_START;
        self.audit
            .record(actor.id(), start, Some(user.id), None, Some(ip.to_string()))
            .await?;
        let tokens = self.issue(&user, true, Some(actor.id()), None)?;
        Ok(Impersonation { tokens, user })
    }

    /// Ends an impersonation: fresh tokens of the original user, who must hold `role`, once the
    /// end is in the audit log.
    pub async fn end_impersonation(
        &self,
        actor: &Actor,
        role: Role,
        ip: IpAddr,
    ) -> Result<Impersonation> {
        let original = match (actor.impersonating, actor.original_user_id) {
            (true, Some(id)) => self.store.user(id).await?,
            _ => return Err(Error::NotImpersonating),
        };
        let Some(user) = original.filter(|u| u.role == role && u.is_active) else {
            return Err(Error::NotPermitted);
        };
        let end = action::IMPERSONATION_END;
        self.audit
            .record(user.id, end, Some(actor.id()), None, Some(ip.to_string()))
            .await?;
        let tokens = self.issue(&user, false, None, None)?;
        Ok(Impersonation { tokens, user })
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        Ok(self.store.user_by_email(email).await?)
    }

    /// Creates a user (the operator's `spotter user add`, and the demo data).
    pub async fn create_user(&self, a: &NewAccount<'_>) -> Result<UserId> {
        let email = a.email.trim().to_lowercase();
        if !email.contains('@') || email.len() > 254 {
            return Err(Error::field("email", "Enter a valid email address."));
        }
        if a.password.chars().count() < 8 {
            return Err(Error::field(
                "password",
                "Ensure this field has at least 8 characters.",
            ));
        }
        let parent = match a.trainer_email {
            None => None,
            Some(_) if a.role != Role::Trainee => {
                return Err(Error::field(
                    "trainer_email",
                    "Only a trainee has a trainer.",
                ));
            }
            Some(t) => match self.store.user_by_email(t).await? {
                Some(u) if u.role == Role::Trainer => Some(u.id),
                _ => return Err(Error::field("trainer_email", "No trainer with this email.")),
            },
        };
        let hash = password::hash(a.password.to_owned()).await?;
        let new = NewUser {
            email: &email,
            password_hash: &hash,
            first_name: a.first_name.trim(),
            last_name: a.last_name.trim(),
            role: a.role,
            parent_trainer_id: parent,
        };
        self.store
            .insert_user(&new, self.clock.now())
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => {
                    Error::field("email", "A user with this email already exists.")
                }
                other => other.into(),
            })
    }
}

pub fn require_role(actor: &Actor, role: Role) -> Result<()> {
    if actor.role() == role {
        Ok(())
    } else {
        Err(Error::NotPermitted)
    }
}
