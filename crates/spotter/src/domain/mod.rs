//! The rules of the contract, in plain async functions over the store. HTTP handlers and the
//! WebSocket call these same functions, so a rule (who may send, what archive means, what
//! counts as unread) is written once.

pub mod accounts;
pub mod committer;
pub mod delivery;
pub mod devices;
pub mod events;
pub mod input;
pub mod messaging;
pub mod model;

use model::{Role, User, UserId};

/// Who is acting: the authenticated user, and whether through an impersonation token.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: User,
    /// Read-only for messaging: send, start and typing are refused.
    pub impersonating: bool,
    pub original_user_id: Option<UserId>,
}

impl Actor {
    pub fn id(&self) -> UserId {
        self.user.id
    }

    pub fn role(&self) -> Role {
        self.user.role
    }
}
