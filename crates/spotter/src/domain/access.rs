//! Who may do what with a conversation: one place for the rules that REST and the socket both
//! apply (the socket keeps no copies of its own).

use crate::domain::Actor;
use crate::domain::model::{ConversationRef, Role, User};
use crate::error::{Error, Result};

/// What the caller wants with a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Read its history or mark it read: an archived one stays readable for its trainer (the
    /// history is kept), not for the trainee.
    Read,
    /// Follow it live on a socket: only while it is not archived.
    Follow,
    /// Send to it, or show typing in it: only while it is not archived.
    Write,
    /// Edit or delete one's own message in it: archive is not checked (as the original).
    Change,
}

/// The conversation, if `actor` may use it for `purpose`; else the contract's refusal, checked
/// in its order (exists, participant, archived).
pub fn conversation(
    found: Option<ConversationRef>,
    actor: &Actor,
    purpose: Purpose,
) -> Result<ConversationRef> {
    let c = found.ok_or(Error::ConversationNotFound)?;
    if !c.is_participant(actor.id()) {
        return Err(Error::NotParticipant);
    }
    if c.is_archived() {
        match purpose {
            Purpose::Read if c.trainer_id == actor.id() => {}
            Purpose::Read | Purpose::Follow => return Err(Error::ArchivedHistory),
            Purpose::Write => return Err(Error::ArchivedConversation),
            Purpose::Change => {}
        }
    }
    Ok(c)
}

/// An impersonation token is read-only: it may look, never send, start or type.
pub fn writable(actor: &Actor) -> Result<()> {
    if actor.impersonating {
        Err(Error::ReadOnly)
    } else {
        Ok(())
    }
}

/// A trainer may start a conversation only with an active trainee of their own.
pub fn may_start_with(trainer: &Actor, trainee: Option<&User>) -> Result<()> {
    let assigned = trainee.is_some_and(|t| {
        t.role == Role::Trainee && t.is_active && t.parent_trainer_id == Some(trainer.id())
    });
    if assigned {
        Ok(())
    } else {
        Err(Error::TraineeNotAssigned)
    }
}

/// Only trainers start conversations (checked before impersonation, as the original does).
pub fn is_trainer(actor: &Actor) -> Result<()> {
    if actor.role() == Role::Trainer {
        Ok(())
    } else {
        Err(Error::OnlyTrainersStart)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{ConversationId, UserId};

    fn actor(id: i64, role: Role) -> Actor {
        Actor {
            user: User {
                id: UserId(id),
                email: format!("{id}@x.io"),
                first_name: String::new(),
                last_name: String::new(),
                role,
                parent_trainer_id: (role == Role::Trainee).then_some(UserId(1)),
                profile_image: None,
                is_active: true,
                created_at: 0,
            },
            impersonating: false,
            original_user_id: None,
        }
    }

    fn conv(archived: bool) -> ConversationRef {
        ConversationRef {
            id: ConversationId(9),
            trainer_id: UserId(1),
            trainee_id: Some(UserId(2)),
            archived_at: archived.then_some(5),
        }
    }

    #[test]
    fn a_missing_conversation_is_404_and_a_stranger_403_whatever_the_purpose() {
        let stranger = actor(3, Role::Trainee);
        for purpose in [Purpose::Read, Purpose::Follow, Purpose::Write] {
            assert!(matches!(
                conversation(None, &stranger, purpose),
                Err(Error::ConversationNotFound)
            ));
            assert!(matches!(
                conversation(Some(conv(true)), &stranger, purpose),
                Err(Error::NotParticipant)
            ));
        }
    }

    #[test]
    fn an_archived_conversation_stays_readable_for_its_trainer_only() {
        let (trainer, trainee) = (actor(1, Role::Trainer), actor(2, Role::Trainee));
        assert!(conversation(Some(conv(true)), &trainer, Purpose::Read).is_ok());
        assert!(matches!(
            conversation(Some(conv(true)), &trainee, Purpose::Read),
            Err(Error::ArchivedHistory)
        ));
        assert!(matches!(
            conversation(Some(conv(true)), &trainer, Purpose::Follow),
            Err(Error::ArchivedHistory)
        ));
        assert!(matches!(
            conversation(Some(conv(true)), &trainer, Purpose::Write),
            Err(Error::ArchivedConversation)
        ));
        assert!(conversation(Some(conv(false)), &trainee, Purpose::Write).is_ok());
    }

    #[test]
    fn an_impersonation_token_writes_nothing() {
        let mut a = actor(1, Role::Trainer);
        assert!(writable(&a).is_ok());
        a.impersonating = true;
        assert!(matches!(writable(&a), Err(Error::ReadOnly)));
    }

    #[test]
    fn a_trainer_starts_only_with_an_active_trainee_of_their_own() {
        let trainer = actor(1, Role::Trainer);
        let mut trainee = actor(2, Role::Trainee).user;
        assert!(may_start_with(&trainer, Some(&trainee)).is_ok());
        assert!(may_start_with(&trainer, None).is_err());
        trainee.is_active = false;
        assert!(may_start_with(&trainer, Some(&trainee)).is_err());
        trainee.is_active = true;
        trainee.parent_trainer_id = Some(UserId(7));
        assert!(may_start_with(&trainer, Some(&trainee)).is_err());
        assert!(matches!(
            is_trainer(&actor(2, Role::Trainee)),
            Err(Error::OnlyTrainersStart)
        ));
    }
}
