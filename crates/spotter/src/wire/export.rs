//! The export's two shapes (wire contract D5), written piece by piece into a buffer so the
//! document never exists whole: JSON, `{"user", "exported_at", "conversations": [{"id",
//! "other_participant", "messages": [Message, …]}]}` with each message exactly as the API shows
//! one ([`MessageJson`]); CSV, a header row and a row per message.
//!
//! CSV is quoted by hand, per RFC 4180 (CRLF line ends; a field with a comma, a quote, CR or LF
//! is quoted, its quotes doubled): nine fixed columns and one rule, shorter than a dependency's
//! setup, and tested below. Content is written as the user wrote it: a cell starting with `=`
//! stays as it is (spreadsheets that evaluate it are warned about in `docs/api.md`); altering it
//! would make the export differ from the messages.

use std::io::Write;

use serde::Serialize;
use utoipa::ToSchema;

use crate::clock::Micros;
use crate::domain::model::{ConversationId, Message, User, UserSummary};
use crate::wire::{MediaUrls, MessageJson, UserJson, UserSummaryJson, to_wire, to_wire_opt};

/// The JSON document an export streams (its schema; it is written in pieces, never built).
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportJson {
    /// The user whose data this is.
    pub user: UserJson,
    pub exported_at: String,
    /// Every conversation the user takes part in, archived ones too, by id.
    pub conversations: Vec<ExportConversationJson>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportConversationJson {
    pub id: ConversationId,
    /// The other side; null for a deleted account.
    pub other_participant: Option<UserSummaryJson>,
    /// Oldest first (by `seq`); deleted ones as tombstones.
    pub messages: Vec<MessageJson>,
}

/// The CSV's header row.
pub const CSV_HEADER: &str = "conversation_id,message_id,sender_id,sender_name,created_at,edited_at,is_deleted,content,image\r\n";

fn json(out: &mut Vec<u8>, value: &impl Serialize) {
    // Writing into a Vec cannot fail, and these types always serialize.
    serde_json::to_writer(out, value).expect("serializable");
}

/// `{"user":…,"exported_at":…,"conversations":[`
pub fn json_head(out: &mut Vec<u8>, user: &User, exported_at: Micros, urls: &dyn MediaUrls) {
    out.extend_from_slice(b"{\"user\":");
    json(out, &UserJson::new(user, urls));
    out.extend_from_slice(b",\"exported_at\":");
    json(out, &to_wire(exported_at));
    out.extend_from_slice(b",\"conversations\":[");
}

/// `{"id":…,"other_participant":…,"messages":[`, after a comma unless it is the first.
pub fn json_conversation(
    out: &mut Vec<u8>,
    first: bool,
    id: ConversationId,
    other: Option<&UserSummary>,
    urls: &dyn MediaUrls,
) {
    if !first {
        out.push(b',');
    }
    out.extend_from_slice(b"{\"id\":");
    json(out, &id);
    out.extend_from_slice(b",\"other_participant\":");
    json(out, &other.map(|u| UserSummaryJson::new(u, urls)));
    out.extend_from_slice(b",\"messages\":[");
}

/// One message as the API shows it, after a comma unless it is the first.
pub fn json_message(out: &mut Vec<u8>, first: bool, m: &Message, urls: &dyn MediaUrls) {
    if !first {
        out.push(b',');
    }
    json(out, &MessageJson::new(m, urls));
}

/// Closes a conversation (`]}`) or the document (`]}` as well).
pub fn json_close(out: &mut Vec<u8>) {
    out.extend_from_slice(b"]}");
}

/// One CSV row: the message's fields as [`MessageJson`] has them (a tombstone's content and
/// image empty, the image a signed link), an absent value empty.
pub fn csv_row(out: &mut Vec<u8>, m: &Message, urls: &dyn MediaUrls) {
    let j = MessageJson::new(m, urls);
    let sender_id = j.sender.as_ref().map(|s| s.id.get().to_string());
    let sender_name = j.sender.as_ref().map(|s| {
        format!("{} {}", s.first_name, s.last_name)
            .trim()
            .to_owned()
    });
    let edited = to_wire_opt(m.edited_at);
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{},{},", j.conversation_id.get(), j.id.get());
    for (i, field) in [
        sender_id.as_deref().unwrap_or(""),
        sender_name.as_deref().unwrap_or(""),
        &j.created_at,
        edited.as_deref().unwrap_or(""),
        if j.is_deleted { "true" } else { "false" },
        &j.content,
        j.image.as_deref().unwrap_or(""),
    ]
    .into_iter()
    .enumerate()
    {
        if i > 0 {
            out.push(b',');
        }
        csv_field(out, field);
    }
    out.extend_from_slice(b"\r\n");
}

/// A field per RFC 4180: as it is, or quoted with its quotes doubled when it holds a comma, a
/// quote, CR or LF.
fn csv_field(out: &mut Vec<u8>, field: &str) {
    if field.contains([',', '"', '\r', '\n']) {
        out.push(b'"');
        out.extend_from_slice(field.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(field.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(s: &str) -> String {
        let mut out = Vec::new();
        csv_field(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_plain_field_is_written_as_it_is() {
        assert_eq!(field("see you at 7"), "see you at 7");
        assert_eq!(field(""), "");
    }

    #[test]
    fn a_field_with_commas_quotes_or_line_breaks_is_quoted_with_quotes_doubled() {
        assert_eq!(field("squats, lunges"), "\"squats, lunges\"");
        assert_eq!(field("the \"easy\" set"), "\"the \"\"easy\"\" set\"");
        assert_eq!(field("one\ntwo"), "\"one\ntwo\"");
        assert_eq!(field("one\r\ntwo"), "\"one\r\ntwo\"");
    }

    #[test]
    fn the_header_names_the_contracts_nine_columns() {
        assert_eq!(CSV_HEADER.trim_end().split(',').count(), 9);
        assert!(CSV_HEADER.ends_with("\r\n"));
    }
}
