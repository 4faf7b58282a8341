//! The rules of the contract, standing alone: they know the store, an event publisher, the
//! limits and the clock, and nothing of HTTP, sockets or drivers. REST handlers and the socket
//! call these same services, so a rule (who may send, what archive means, what counts as
//! unread) is written once.
//!
//! - [`model`], [`ids`]: the records; [`input`]: raw input validated into newtypes.
//! - [`access`]: who may see, follow, write to or start a conversation.
//! - [`plan`]: the one pure function that decides how messages are appended.
//! - [`events`]: what happened, for whoever listens (`bus` turns it into socket frames).
//! - [`messaging`], [`accounts`], [`devices`], [`coaching`] (saved replies, needs reply,
//!   response times): the services; [`search`]: its rules; [`export`]: who may take what
//!   data away, recorded in [`audit`].
//! - [`audit`]: the append-only log of who read, exported or erased whose data; [`console`]:
//!   the admin console's reads, each logged there first.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod coaching;
pub mod console;
pub mod devices;
pub mod events;
pub mod export;
pub mod ids;
pub mod input;
pub mod messaging;
pub mod model;
pub mod plan;
pub mod search;

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
