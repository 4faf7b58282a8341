//! Ids as types of their own, so a user id cannot be passed where a conversation id is meant.
//! On the wire and in the database each is a plain 64-bit integer (`#[serde(transparent)]`; the
//! store's backends teach their drivers the same, in `store::*::convert`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize,
            Deserialize, ToSchema,
        )]
        #[serde(transparent)]
        #[schema(value_type = i64)]
        pub struct $name(pub i64);

        impl $name {
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                Self(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }
    )*};
}

ids! {
    /// A user (any role).
    UserId,
    /// A conversation: one per (trainer, trainee) pair.
    ConversationId,
    /// A message; within a conversation, ids grow in commit order.
    MessageId,
    /// A registered push device (an FCM token or a Web Push subscription).
    DeviceId,
    /// A trainer's saved reply.
    TemplateId,
    /// One message to many of a trainer's trainees.
    BroadcastId,
    /// A message to be sent later.
    ScheduledId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_a_bare_integer_on_the_wire() {
        assert_eq!(serde_json::to_string(&UserId(7)).unwrap(), "7");
        assert_eq!(
            serde_json::from_str::<ConversationId>("12").unwrap(),
            ConversationId(12)
        );
        assert_eq!("42".parse::<MessageId>().unwrap(), MessageId(42));
        assert_eq!(DeviceId(3).to_string(), "3");
    }
}
