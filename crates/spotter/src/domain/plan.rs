//! One plan for appending messages. Every way a message comes in (REST send, socket send,
//! start, and whatever batch the group commit gathers) is decided here, by one pure function:
//! each new message's position (`seq`) and `created_at`, which sends are retries of a
//! `client_message_id` already used, what each conversation's row says afterwards (preview,
//! unread counters, message count, since when the trainee has been waiting for an answer). The
//! store's backends read what the plan needs (where each
//! conversation stands, the stored retries), call [`plan`], and carry it out; none of them
//! decides anything of its own.

use std::collections::HashMap;

use crate::clock::Micros;
use crate::domain::input::{ClientMessageId, MessageBody};
use crate::domain::model::{
    ConversationId, ConversationRef, Image, Message, MessageId, Sender, UserId, preview,
};

/// One send to store: validated and authorized, its conversation known.
#[derive(Debug, Clone)]
pub struct Append {
    pub conversation: ConversationRef,
    pub sender: Sender,
    /// The text: empty only when there is an image.
    pub body: MessageBody,
    pub image: Option<Image>,
    /// With an image: the last commit time at which it may still be attached. Its upload's
    /// keys are swept once they are twice as old (`workers::orphans`), so a send that waited
    /// past this is refused ([`Appended::Expired`]) rather than stored naming files that a
    /// sweeper may be removing.
    pub image_deadline: Option<Micros>,
    pub cmid: Option<ClientMessageId>,
}

/// What identifies a retry: the same sender, conversation and `client_message_id`.
pub type ReplayKey<'a> = (ConversationId, UserId, &'a str);

impl Append {
    pub fn sender_is_trainer(&self) -> bool {
        self.conversation.trainer_id == self.sender.id
    }

    pub fn replay_key(&self) -> Option<ReplayKey<'_>> {
        self.cmid
            .as_ref()
            .map(|c| (self.conversation.id, self.sender.id, c.as_str()))
    }

    /// The message this send stored, from what was written (nothing is read back).
    pub fn message(&self, id: MessageId, seq: i64, created_at: Micros) -> Message {
        Message {
            id,
            conversation_id: self.conversation.id,
            seq,
            sender: Some(self.sender.clone()),
            content: self.body.as_str().to_owned(),
            image: self.image.clone().map(Box::new),
            client_message_id: self.cmid.as_ref().map(|c| c.as_str().to_owned()),
            created_at,
            delivered_at: None,
            read_at: None,
            edited_at: None,
            deleted_at: None,
        }
    }

    /// What the conversation list shows of this message.
    pub fn preview(&self) -> String {
        preview(self.body.as_str(), self.image.is_some(), false)
    }
}

/// Where a conversation stands before a batch (read under its lock, or the one writer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub last_message_at: Option<Micros>,
    pub message_count: i64,
    pub archived: bool,
}

/// What becomes of one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Stored as the plan's `n`th new row.
    New(usize),
    /// A retry of the `n`th new row of this same batch.
    RetryOfNew(usize),
    /// A retry of a message stored before.
    Replay(Box<Message>),
    /// The conversation is archived: nothing is stored.
    Archived,
    /// The conversation does not exist (any more).
    Gone,
    /// Its image's deadline has passed: nothing is stored.
    Expired,
}

/// A message row to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRow<'a> {
    /// The send it comes from (an index into the planned sends).
    pub send: usize,
    pub conversation_id: ConversationId,
    pub seq: i64,
    pub created_at: Micros,
    pub sender: UserId,
    pub content: &'a str,
    pub image: Option<&'a Image>,
    pub client_message_id: Option<&'a str>,
    /// Who gets the push outbox row: the other participant, if there still is one.
    pub recipient: Option<UserId>,
}

/// A conversation's row after the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counters {
    pub id: ConversationId,
    pub last_message_at: Micros,
    /// The list's preview of the newest message (`model::preview`).
    pub preview: String,
    pub message_count: i64,
    pub trainer_unread_added: i64,
    pub trainee_unread_added: i64,
    /// Since when the trainee waits for an answer (`awaiting_reply_since`).
    pub awaiting: Awaiting,
}

/// What a batch makes of a conversation's `awaiting_reply_since`: the created_at of the
/// trainee's first message after the trainer's last one (null when the newest is the
/// trainer's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaiting {
    /// Only the trainee wrote: the row's value if it has one (they were waiting already),
    /// else the first of these messages.
    Since(Micros),
    /// The trainer wrote: this value whatever the row had (`None` when the trainer's message
    /// is the newest; else the first trainee message after it).
    Reset(Option<Micros>),
}

impl Awaiting {
    fn first(sender_is_trainer: bool, at: Micros) -> Self {
        if sender_is_trainer {
            Self::Reset(None)
        } else {
            Self::Since(at)
        }
    }

    /// After one more message of the batch.
    fn then(self, sender_is_trainer: bool, at: Micros) -> Self {
        match (self, sender_is_trainer) {
            (_, true) => Self::Reset(None),
            (Self::Reset(None), false) => Self::Reset(Some(at)),
            (kept, false) => kept,
        }
    }

    /// As the store's write takes it: whether to replace the row's value, and the value.
    pub fn as_columns(self) -> (bool, Option<Micros>) {
        match self {
            Self::Since(at) => (false, Some(at)),
            Self::Reset(at) => (true, at),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<'a> {
    /// One per planned send, in order.
    pub decisions: Vec<Decision>,
    /// The rows to insert, in order (so ids grow with `seq` within a conversation).
    pub rows: Vec<NewRow<'a>>,
    /// One per conversation that gets a new message, by id.
    pub counters: Vec<Counters>,
}

/// What storing a send came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    New(Message),
    /// A retry: the message first stored with this idempotency key.
    Replay(Message),
    Archived,
    Gone,
    /// The send waited too long after its image was stored ([`Append::image_deadline`]).
    Expired,
}

/// The replay keys a batch needs looked up before it can be planned.
pub fn replay_keys<'a>(sends: &[&'a Append]) -> Vec<ReplayKey<'a>> {
    sends.iter().filter_map(|a| a.replay_key()).collect()
}

/// Decides a batch. `positions` says where each conversation stands (a missing one is gone);
/// `stored` holds the messages already stored under the batch's replay keys; `now` is the
/// commit's time.
///
/// - Within a conversation, positions follow on without gaps, and `created_at` never goes
///   backwards, even if the clocks of two nodes differ: a message gets `now`, or one
///   microsecond after the conversation's newest message when that is not earlier.
/// - A retry (same sender, conversation and key) gets the stored message, or the one this
///   batch stores for the first use of the key; it is never stored twice.
/// - Unread counters count a message for the side that did not send it.
/// - A send whose image's deadline is before `now` is not stored (a retry of a stored message
///   is still answered with it: the new upload was not needed).
pub fn plan<'a>(
    sends: &[&'a Append],
    positions: &HashMap<ConversationId, Position>,
    stored: &[Message],
    now: Micros,
) -> Plan<'a> {
    let mut at: HashMap<ConversationId, Position> = HashMap::new();
    let mut first_use: HashMap<ReplayKey<'a>, usize> = HashMap::new();
    let mut counters: Vec<Counters> = Vec::new();
    let mut counter_of: HashMap<ConversationId, usize> = HashMap::new();
    let mut plan = Plan {
        decisions: Vec::with_capacity(sends.len()),
        rows: Vec::with_capacity(sends.len()),
        counters: Vec::new(),
    };
    for (i, a) in sends.iter().enumerate() {
        let id = a.conversation.id;
        let Some(position) = at.get(&id).or_else(|| positions.get(&id)).copied() else {
            plan.decisions.push(Decision::Gone);
            continue;
        };
        if position.archived {
            plan.decisions.push(Decision::Archived);
            continue;
        }
        if let Some(key) = a.replay_key() {
            if let Some(&n) = first_use.get(&key) {
                plan.decisions.push(Decision::RetryOfNew(n));
                continue;
            }
            if let Some(m) = stored.iter().find(|m| {
                m.conversation_id == key.0
                    && m.sender_id() == Some(key.1)
                    && m.client_message_id.as_deref() == Some(key.2)
            }) {
                plan.decisions.push(Decision::Replay(Box::new(m.clone())));
                continue;
            }
        }
        if a.image_deadline.is_some_and(|deadline| now > deadline) {
            plan.decisions.push(Decision::Expired);
            continue;
        }
        if let Some(key) = a.replay_key() {
            first_use.insert(key, plan.rows.len());
        }
        let created_at = match position.last_message_at {
            Some(last) if last >= now => last + 1,
            _ => now,
        };
        let seq = position.message_count + 1;
        at.insert(
            id,
            Position {
                last_message_at: Some(created_at),
                message_count: seq,
                archived: false,
            },
        );
        let sender_is_trainer = a.sender_is_trainer();
        match counter_of.get(&id).map(|&k| &mut counters[k]) {
            Some(c) => {
                c.last_message_at = created_at;
                c.message_count = seq;
                c.preview = a.preview();
                c.trainee_unread_added += i64::from(sender_is_trainer);
                c.trainer_unread_added += i64::from(!sender_is_trainer);
                c.awaiting = c.awaiting.then(sender_is_trainer, created_at);
            }
            None => {
                counter_of.insert(id, counters.len());
                counters.push(Counters {
                    id,
                    last_message_at: created_at,
                    preview: a.preview(),
                    message_count: seq,
                    trainer_unread_added: i64::from(!sender_is_trainer),
                    trainee_unread_added: i64::from(sender_is_trainer),
                    awaiting: Awaiting::first(sender_is_trainer, created_at),
                });
            }
        }
        plan.decisions.push(Decision::New(plan.rows.len()));
        plan.rows.push(NewRow {
            send: i,
            conversation_id: id,
            seq,
            created_at,
            sender: a.sender.id,
            content: a.body.as_str(),
            image: a.image.as_ref(),
            client_message_id: a.cmid.as_ref().map(ClientMessageId::as_str),
            recipient: a.conversation.other_party(a.sender.id),
        });
    }
    counters.sort_by_key(|c| c.id);
    plan.counters = counters;
    plan
}

impl Plan<'_> {
    /// Each send's outcome, once the rows are stored with these ids (in row order).
    pub fn outcomes(&self, sends: &[&Append], ids: &[MessageId]) -> Vec<Appended> {
        let stored = |n: usize| {
            let row = &self.rows[n];
            sends[row.send].message(ids[n], row.seq, row.created_at)
        };
        self.decisions
            .iter()
            .map(|d| match d {
                Decision::New(n) => Appended::New(stored(*n)),
                Decision::RetryOfNew(n) => Appended::Replay(stored(*n)),
                Decision::Replay(m) => Appended::Replay((**m).clone()),
                Decision::Archived => Appended::Archived,
                Decision::Gone => Appended::Gone,
                Decision::Expired => Appended::Expired,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRAINER: UserId = UserId(1);
    const TRAINEE: UserId = UserId(2);

    fn conversation(id: i64) -> ConversationRef {
        ConversationRef {
            id: ConversationId(id),
            trainer_id: TRAINER,
            trainee_id: Some(TRAINEE),
            archived_at: None,
        }
    }

    fn send(conv: i64, from: UserId, text: &str, cmid: Option<&str>) -> Append {
        Append {
            conversation: conversation(conv),
            sender: Sender {
                id: from,
                first_name: "F".into(),
                last_name: "L".into(),
                profile_image: None,
            },
            body: MessageBody::parse(text).unwrap(),
            image: None,
            image_deadline: None,
            cmid: cmid.map(|c| ClientMessageId::parse(c).unwrap()),
        }
    }

    fn at(count: i64, last: Option<Micros>) -> Position {
        Position {
            last_message_at: last,
            message_count: count,
            archived: false,
        }
    }

    fn positions(list: &[(i64, Position)]) -> HashMap<ConversationId, Position> {
        list.iter()
            .map(|(id, p)| (ConversationId(*id), *p))
            .collect()
    }

    #[test]
    fn positions_follow_on_per_conversation_without_gaps() {
        let sends = [
            send(1, TRAINER, "a", None),
            send(2, TRAINEE, "b", None),
            send(1, TRAINEE, "c", None),
        ];
        let refs: Vec<&Append> = sends.iter().collect();
        let p = plan(
            &refs,
            &positions(&[(1, at(4, None)), (2, at(0, None))]),
            &[],
            100,
        );
        let seqs: Vec<(i64, i64)> = p
            .rows
            .iter()
            .map(|r| (r.conversation_id.get(), r.seq))
            .collect();
        assert_eq!(seqs, [(1, 5), (2, 1), (1, 6)]);
        assert_eq!(
            p.decisions,
            [Decision::New(0), Decision::New(1), Decision::New(2)]
        );
    }

    #[test]
    fn created_at_never_goes_backwards_within_a_conversation() {
        let sends = [send(1, TRAINER, "a", None), send(1, TRAINER, "b", None)];
        let refs: Vec<&Append> = sends.iter().collect();
        // Another node's clock was ahead: the newest message is later than our "now".
        let p = plan(&refs, &positions(&[(1, at(1, Some(500)))]), &[], 100);
        let times: Vec<Micros> = p.rows.iter().map(|r| r.created_at).collect();
        assert_eq!(times, [501, 502]);
        // Behind "now": the messages get "now", then one microsecond after.
        let p = plan(&refs, &positions(&[(1, at(1, Some(50)))]), &[], 100);
        let times: Vec<Micros> = p.rows.iter().map(|r| r.created_at).collect();
        assert_eq!(times, [100, 101]);
        assert_eq!(p.counters[0].last_message_at, 101);
    }

    #[test]
    fn a_retry_in_the_same_batch_or_of_a_stored_message_is_not_stored_again() {
        let sends = [
            send(1, TRAINER, "first", Some("k1")),
            send(1, TRAINER, "again", Some("k1")),
            send(1, TRAINER, "old", Some("k0")),
            // The same key from the other participant is another message.
            send(1, TRAINEE, "theirs", Some("k1")),
        ];
        let refs: Vec<&Append> = sends.iter().collect();
        let stored = sends[2].message(MessageId(9), 3, 7);
        let p = plan(
            &refs,
            &positions(&[(1, at(3, Some(7)))]),
            std::slice::from_ref(&stored),
            100,
        );
        assert_eq!(
            p.decisions,
            [
                Decision::New(0),
                Decision::RetryOfNew(0),
                Decision::Replay(Box::new(stored)),
                Decision::New(1)
            ]
        );
        let out = p.outcomes(&refs, &[MessageId(10), MessageId(11)]);
        match (&out[0], &out[1]) {
            (Appended::New(a), Appended::Replay(b)) => assert_eq!(a, b),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn archived_and_missing_conversations_store_nothing() {
        let sends = [send(1, TRAINER, "a", None), send(2, TRAINER, "b", None)];
        let refs: Vec<&Append> = sends.iter().collect();
        let archived = Position {
            archived: true,
            ..at(0, None)
        };
        let p = plan(&refs, &positions(&[(1, archived)]), &[], 100);
        assert_eq!(p.decisions, [Decision::Archived, Decision::Gone]);
        assert!(p.rows.is_empty() && p.counters.is_empty());
    }

    #[test]
    fn an_image_past_its_deadline_is_not_stored_but_a_retry_still_gets_its_message() {
        let photo = |text: &str, cmid: Option<&str>, deadline: Micros| Append {
            image: Some(Image {
                key: "message_images/a.jpg".into(),
                thumbnail: Some("message_images/thumbnails/a.jpg".into()),
                width: Some(1),
                height: Some(1),
            }),
            image_deadline: Some(deadline),
            ..send(1, TRAINER, text, cmid)
        };
        let sends = [
            photo("late", None, 99),
            photo("on time", None, 100),
            photo("retry", Some("k"), 99),
        ];
        let refs: Vec<&Append> = sends.iter().collect();
        let stored = sends[2].message(MessageId(9), 1, 7);
        let p = plan(
            &refs,
            &positions(&[(1, at(1, Some(7)))]),
            std::slice::from_ref(&stored),
            100,
        );
        assert_eq!(
            p.decisions,
            [
                Decision::Expired,
                Decision::New(0),
                Decision::Replay(Box::new(stored))
            ]
        );
        assert_eq!(p.rows[0].seq, 2, "the expired send took no position");
        assert_eq!(p.outcomes(&refs, &[MessageId(10)])[0], Appended::Expired);
    }

    #[test]
    fn unread_counts_go_to_the_side_that_did_not_send_and_the_preview_is_the_newest() {
        let long = "x".repeat(150);
        let sends = [
            send(1, TRAINER, "one", None),
            send(1, TRAINER, "two", None),
            send(1, TRAINEE, &long, None),
        ];
        let refs: Vec<&Append> = sends.iter().collect();
        let p = plan(&refs, &positions(&[(1, at(0, None))]), &[], 100);
        let c = &p.counters[0];
        assert_eq!((c.trainee_unread_added, c.trainer_unread_added), (2, 1));
        assert_eq!(c.message_count, 3);
        assert_eq!(c.preview, "x".repeat(100));
        // The trainee's message after the trainer's last one starts the wait.
        assert_eq!(c.awaiting, Awaiting::Reset(Some(102)));
        // Each row's push goes to the other participant.
        let recipients: Vec<Option<UserId>> = p.rows.iter().map(|r| r.recipient).collect();
        assert_eq!(recipients, [Some(TRAINEE), Some(TRAINEE), Some(TRAINER)]);
    }

    #[test]
    fn the_wait_starts_at_the_trainee_s_first_message_and_ends_with_the_trainer_s() {
        let awaiting = |who: &[UserId]| {
            let sends: Vec<Append> = who.iter().map(|&w| send(1, w, "m", None)).collect();
            let refs: Vec<&Append> = sends.iter().collect();
            plan(&refs, &positions(&[(1, at(0, None))]), &[], 100).counters[0].awaiting
        };
        // Trainee only: kept if the row was waiting already, else from the first (100).
        assert_eq!(awaiting(&[TRAINEE, TRAINEE]), Awaiting::Since(100));
        assert_eq!(Awaiting::Since(100).as_columns(), (false, Some(100)));
        // The trainer's message last: nobody waits.
        assert_eq!(awaiting(&[TRAINEE, TRAINER]), Awaiting::Reset(None));
        assert_eq!(Awaiting::Reset(None).as_columns(), (true, None));
        // After the trainer's message, from the trainee's first message since.
        assert_eq!(
            awaiting(&[TRAINEE, TRAINER, TRAINEE, TRAINEE]),
            Awaiting::Reset(Some(102))
        );
    }
}
