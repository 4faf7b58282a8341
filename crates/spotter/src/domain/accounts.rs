//! Accounts: login and token rotation, the trainer's roster, impersonation, and the operator's
//! user management. Authentication itself (token → [`Actor`]) lives here too, shared by the
//! REST extractor and the socket handshake.

use std::net::IpAddr;

use crate::auth::jwt::Subject;
use crate::auth::{TokenKind, TokenPair, password};
use crate::clock::now_micros;
use crate::domain::model::{ConversationId, ConversationRef, Role, User, UserId};
use crate::domain::{Actor, events};
use crate::error::{AuthFailure, Error, Result};
use crate::state::AppState;
use crate::store::{self, conversations, tokens, users};

/// Verifies an access token and loads its user: the one way into every authenticated path.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Actor> {
    let claims = state
        .tokens
        .verify(token, TokenKind::Access)
        .map_err(Error::Unauthorized)?;
    let user = users::by_id(&state.db, claims.user_id)
        .await?
        .ok_or(Error::Unauthorized(AuthFailure::UserNotFound))?;
    if !user.is_active {
        return Err(Error::Unauthorized(AuthFailure::UserInactive));
    }
    Ok(Actor {
        user,
        impersonating: claims.impersonating,
        original_user_id: claims.original_user_id,
    })
}

pub async fn login(
    state: &AppState,
    addr: IpAddr,
    email: &str,
    password: &str,
) -> Result<TokenPair> {
    state.limits.auth_addr.check(&addr)?;
    state
        .limits
        .login_email
        .check(&email.trim().to_lowercase())?;
    let found = users::by_email_with_hash(state.db.pool(), email).await?;
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, password::decoy().to_owned()),
    };
    let ok = password::verify(password.to_owned(), hash).await;
    match user {
        Some(user) if ok && user.is_active => Ok(issue(state, &user, false, None, None)?),
        _ => Err(Error::Unauthorized(AuthFailure::BadCredentials)),
    }
}

fn issue(
    state: &AppState,
    user: &User,
    impersonating: bool,
    original: Option<UserId>,
    family: Option<String>,
) -> Result<TokenPair> {
    Ok(state.tokens.issue(&Subject {
        user_id: user.id,
        impersonating,
        original_user_id: original,
        family,
    })?)
}

/// Rotates a refresh token: the old one is spent, a new pair of the same chain comes back. A
/// spent token presented again means it was copied: the whole chain is revoked.
pub async fn refresh(state: &AppState, addr: IpAddr, refresh: &str) -> Result<TokenPair> {
    state.limits.auth_addr.check(&addr)?;
    let claims = state
        .tokens
        .verify(refresh, TokenKind::Refresh)
        .map_err(Error::Unauthorized)?;
    let user = users::by_id(&state.db, claims.user_id)
        .await?
        .ok_or(Error::Unauthorized(AuthFailure::UserNotFound))?;
    if !user.is_active {
        return Err(Error::Unauthorized(AuthFailure::UserInactive));
    }
    let now = now_micros();
    let mut w = state.db.begin_write().await?;
    if tokens::family_revoked(&mut w.tx, &claims.family).await? {
        return Err(Error::Unauthorized(AuthFailure::Revoked));
    }
    if !tokens::spend(&mut w.tx, &claims.jti, &claims.family, user.id, now).await? {
        tokens::revoke_family(&mut w.tx, &claims.family, now).await?;
        w.commit().await?;
        tracing::warn!(user = user.id, "refresh token reused: token family revoked");
        return Err(Error::Unauthorized(AuthFailure::Revoked));
    }
    w.commit().await?;
    issue(
        state,
        &user,
        claims.impersonating,
        claims.original_user_id,
        Some(claims.family),
    )
}

/// A trainee of this trainer, or 404.
pub async fn own_trainee(state: &AppState, trainer: &Actor, trainee_id: UserId) -> Result<User> {
    require_role(trainer, Role::Trainer)?;
    match users::by_id(&state.db, trainee_id).await? {
        Some(u) if u.role == Role::Trainee && u.parent_trainer_id == Some(trainer.id()) => Ok(u),
        _ => Err(Error::NotFoundDetail),
    }
}

pub fn require_role(actor: &Actor, role: Role) -> Result<()> {
    if actor.role() == role {
        Ok(())
    } else {
        Err(Error::PermissionDenied(
            "You do not have permission to perform this action.",
        ))
    }
}

pub async fn trainees(
    state: &AppState,
    trainer: &Actor,
    search: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<User>, i64)> {
    require_role(trainer, Role::Trainer)?;
    if search.is_some_and(|s| s.contains('\0')) {
        // No stored name or email holds a NUL (input refuses it), and PostgreSQL would refuse
        // the pattern: nothing matches.
        return Ok((Vec::new(), 0));
    }
    Ok(users::trainees_of(state.db.pool(), trainer.id(), search, limit, offset).await?)
}

/// Unlinks a trainee and archives their conversation (history kept). Read-only tokens may not.
pub async fn remove_trainee(
    state: &AppState,
    trainer: &Actor,
    trainee_id: UserId,
) -> Result<Option<ConversationId>> {
    let trainee = own_trainee(state, trainer, trainee_id).await?;
    if trainer.impersonating {
        return Err(Error::PermissionDenied(
            "This action is not allowed during impersonation.",
        ));
    }
    let mut w = state.db.begin_write().await?;
    users::set_trainer(&mut w.tx, trainee.id, None).await?;
    let archived =
        conversations::archive_pair(&mut w.tx, trainer.id(), trainee.id, now_micros()).await?;
    w.commit().await?;
    if let Some(id) = archived {
        let conv = ConversationRef {
            id,
            trainer_id: trainer.id(),
            trainee_id: Some(trainee.id),
            archived_at: Some(now_micros()),
        };
        state.bus.publish(events::archived(&conv));
    }
    Ok(archived)
}

/// (Re)assigns a trainee to a trainer; an operator action.
pub async fn assign(state: &AppState, trainee: &User, trainer: &User) -> Result<()> {
    if trainee.role != Role::Trainee || trainer.role != Role::Trainer {
        return Err(Error::Rejected(
            "Only a trainee can be assigned, and only to a trainer.",
        ));
    }
    let mut w = state.db.begin_write().await?;
    users::set_trainer(&mut w.tx, trainee.id, Some(trainer.id)).await?;
    w.commit().await?;
    Ok(())
}

pub struct Impersonation {
    pub tokens: TokenPair,
    pub user: User,
}

/// A trainer acting as their trainee, or an admin as a trainer: read-only tokens for `target`.
pub async fn impersonate(state: &AppState, actor: &Actor, target: UserId) -> Result<Impersonation> {
    if actor.impersonating {
        return Err(Error::PermissionDenied(
            "Already impersonating; end it first.",
        ));
    }
    let user = match actor.role() {
        Role::Trainer => own_trainee(state, actor, target).await?,
        Role::Admin => match users::by_id(&state.db, target).await? {
            Some(u) if u.role == Role::Trainer => u,
            _ => return Err(Error::NotFoundDetail),
        },
        Role::Trainee => {
            return Err(Error::PermissionDenied(
                "You do not have permission to perform this action.",
            ));
        }
    };
    if !user.is_active {
        return Err(Error::NotFoundDetail);
    }
    let tokens = issue(state, &user, true, Some(actor.id()), None)?;
    Ok(Impersonation { tokens, user })
}

/// Ends an impersonation: fresh tokens of the original user, who must hold `role`.
pub async fn end_impersonation(
    state: &AppState,
    actor: &Actor,
    role: Role,
) -> Result<Impersonation> {
    let original = match (actor.impersonating, actor.original_user_id) {
        (true, Some(id)) => users::by_id(&state.db, id).await?,
        _ => return Err(Error::PermissionDenied("Not currently impersonating.")),
    };
    let Some(user) = original.filter(|u| u.role == role && u.is_active) else {
        return Err(Error::PermissionDenied(
            "You do not have permission to perform this action.",
        ));
    };
    let tokens = issue(state, &user, false, None, None)?;
    Ok(Impersonation { tokens, user })
}

pub struct NewAccount<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub role: Role,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub trainer_email: Option<&'a str>,
}

/// Creates a user (the operator's `spotter user add`, and the demo data).
pub async fn create_user(state: &AppState, a: &NewAccount<'_>) -> Result<UserId> {
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
        Some(t) => match users::by_email(state.db.pool(), t).await? {
            Some(u) if u.role == Role::Trainer => Some(u.id),
            _ => return Err(Error::field("trainer_email", "No trainer with this email.")),
        },
    };
    let hash = password::hash(a.password.to_owned()).await?;
    let new = users::NewUser {
        email: &email,
        password_hash: &hash,
        first_name: a.first_name.trim(),
        last_name: a.last_name.trim(),
        role: a.role,
        parent_trainer_id: parent,
    };
    users::insert(state.db.pool(), &new).await.map_err(|e| {
        if store::is_unique_violation(&e) {
            Error::field("email", "A user with this email already exists.")
        } else {
            e.into()
        }
    })
}
