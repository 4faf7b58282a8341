//! What a notification says. The original's title and body (`New message from <first last>`,
//! the first 100 characters), coalesced ("3 new messages from Ana Lima"), or content-free when
//! previews are off; the badge is the recipient's unread count.

use serde::{Deserialize, Serialize};

use crate::domain::model::{ConversationId, Message, User, UserId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Data {
    #[serde(rename = "type")]
    pub kind: String,
    /// Ids as strings, as the original sent them (FCM data values are strings).
    pub conversation_id: String,
    pub sender_id: String,
}

/// The notification, as the Web Push payload carries it (FCM renders the same fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub title: String,
    pub body: String,
    pub data: Data,
    pub badge: i64,
}

/// Builds the notification for `unread` messages (oldest first) from `sender`.
pub fn render(
    conversation: ConversationId,
    sender: &User,
    unread: &[Message],
    badge: i64,
    preview: bool,
) -> Notification {
    let n = unread.len();
    let latest = unread.last().map(Message::preview).unwrap_or_default();
    let (title, body) = if preview {
        let name = sender.display_name();
        let title = if n > 1 {
            format!("{n} new messages from {name}")
        } else {
            format!("New message from {name}")
        };
        (title, latest)
    } else {
        let title = if n > 1 {
            format!("{n} new messages")
        } else {
            "New message".to_owned()
        };
        (title, "New message".to_owned())
    };
    Notification {
        title,
        body,
        data: data(conversation, sender.id),
        badge,
    }
}

pub fn data(conversation: ConversationId, sender: UserId) -> Data {
    Data {
        kind: "direct_message".to_owned(),
        conversation_id: conversation.to_string(),
        sender_id: sender.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::Role;

    fn user(first: &str, last: &str) -> User {
        User {
            id: UserId(7),
            email: "ana@example.com".into(),
            first_name: first.into(),
            last_name: last.into(),
            role: Role::Trainee,
            parent_trainer_id: None,
            profile_image: None,
            is_active: true,
            created_at: 0,
        }
    }

    fn msg(content: &str) -> Message {
        Message {
            id: crate::domain::model::MessageId(1),
            conversation_id: ConversationId(3),
            seq: 1,
            sender: None,
            content: content.into(),
            image: None,
            client_message_id: None,
            created_at: 0,
            delivered_at: None,
            read_at: None,
            edited_at: None,
            deleted_at: None,
        }
    }

    #[test]
    fn one_message_has_the_originals_title_and_a_100_char_body() {
        let n = render(
            ConversationId(3),
            &user("Ana", "Lima"),
            &[msg(&"é".repeat(150))],
            4,
            true,
        );
        assert_eq!(n.title, "New message from Ana Lima");
        assert_eq!(n.body.chars().count(), 100);
        assert_eq!(
            n.data,
            Data {
                kind: "direct_message".into(),
                conversation_id: "3".into(),
                sender_id: "7".into()
            }
        );
        assert_eq!(n.badge, 4);
    }

    #[test]
    fn a_sender_without_a_name_is_shown_by_email() {
        assert_eq!(
            render(ConversationId(3), &user("", " "), &[msg("hi")], 1, true).title,
            "New message from ana@example.com"
        );
    }

    #[test]
    fn a_burst_becomes_one_notification_with_the_latest_text() {
        let n = render(
            ConversationId(3),
            &user("Ana", "Lima"),
            &[msg("one"), msg("two"), msg("three")],
            3,
            true,
        );
        assert_eq!(
            (n.title.as_str(), n.body.as_str()),
            ("3 new messages from Ana Lima", "three")
        );
    }

    #[test]
    fn without_previews_nothing_of_the_message_or_sender_shows() {
        let n = render(
            ConversationId(3),
            &user("Ana", "Lima"),
            &[msg("secret plan")],
            1,
            false,
        );
        assert_eq!(
            (n.title.as_str(), n.body.as_str()),
            ("New message", "New message")
        );
        assert!(!format!("{n:?}").contains("secret") && !n.title.contains("Ana"));
    }
}
