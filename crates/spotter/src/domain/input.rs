//! Validation at the edge: raw JSON values become domain newtypes or DRF-shaped field errors.
//! REST bodies and socket frames go through the same parsers, so both refuse the same input with
//! the same words.

use serde_json::Value;

use crate::error::{Error, FieldErrors, msg};

pub const MAX_MESSAGE_CHARS: usize = 2000;
pub const MAX_CLIENT_ID_CHARS: usize = 64;
/// The preview on a conversation: the first 100 characters of the latest message.
pub const PREVIEW_CHARS: usize = 100;

/// Collects field errors across several fields, so one answer names every bad field.
#[derive(Default)]
pub struct Fields(FieldErrors);

impl Fields {
    pub fn take<T>(&mut self, name: &'static str, r: Result<T, String>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(m) => {
                self.0.entry(name).or_default().push(m.into());
                None
            }
        }
    }

    pub fn finish(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self.0))
        }
    }
}

/// DRF's `ProhibitNullCharactersValidator`, which every `CharField` runs. PostgreSQL refuses
/// NUL in text, so such a string must never reach the store.
pub const NULL_CHARACTERS: &str = "Null characters are not allowed.";

/// DRF's `CharField`: strings without NUL, and numbers turned to text; anything else is not a
/// string.
fn as_text(v: Option<&Value>) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.contains('\0') => Err(NULL_CHARACTERS.to_owned()),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(msg::NOT_A_STRING.to_owned()),
    }
}

/// A message's content: trimmed, 1 to 2000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        if chars == 0 {
            Err(msg::BLANK.to_owned())
        } else if chars > MAX_MESSAGE_CHARS {
            Err(format!(
                "Ensure this field has no more than {MAX_MESSAGE_CHARS} characters."
            ))
        } else {
            Ok(Self(trimmed.to_owned()))
        }
    }

    pub fn from_json(v: Option<&Value>) -> Result<Self, String> {
        match as_text(v)? {
            None => Err(msg::REQUIRED.to_owned()),
            Some(s) => Self::parse(&s),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 100 characters, as the conversation list shows them.
    pub fn preview(&self) -> String {
        self.0.chars().take(PREVIEW_CHARS).collect()
    }
}

/// The client's idempotency key for a send: 1 to 64 characters, optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMessageId(String);

impl ClientMessageId {
    pub fn from_json(v: Option<&Value>) -> Result<Option<Self>, String> {
        let Some(s) = as_text(v)? else {
            return Ok(None);
        };
        let chars = s.chars().count();
        if chars == 0 {
            Err(msg::BLANK.to_owned())
        } else if chars > MAX_CLIENT_ID_CHARS {
            Err(format!(
                "Ensure this field has no more than {MAX_CLIENT_ID_CHARS} characters."
            ))
        } else {
            Ok(Some(Self(s)))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A required integer id field (DRF's `IntegerField`: numbers, or strings of digits).
pub fn required_id(v: Option<&Value>) -> Result<i64, String> {
    match v {
        None | Some(Value::Null) => Err(msg::REQUIRED.to_owned()),
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| msg::NOT_AN_INTEGER.to_owned()),
        Some(Value::String(s)) => s.trim().parse().map_err(|_| msg::NOT_AN_INTEGER.to_owned()),
        Some(_) => Err(msg::NOT_AN_INTEGER.to_owned()),
    }
}

/// A required string field (login's email and password).
pub fn required_text(v: Option<&Value>) -> Result<String, String> {
    match as_text(v)? {
        None => Err(msg::REQUIRED.to_owned()),
        Some(s) if s.trim().is_empty() => Err(msg::BLANK.to_owned()),
        Some(s) => Ok(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_body_is_trimmed() {
        assert_eq!(MessageBody::parse("  hi \n").unwrap().as_str(), "hi");
    }

    #[test]
    fn a_blank_body_is_rejected() {
        assert_eq!(MessageBody::parse(" \n\t ").unwrap_err(), msg::BLANK);
    }

    #[test]
    fn a_body_of_2000_chars_is_accepted_and_2001_rejected() {
        assert!(MessageBody::parse(&"é".repeat(2000)).is_ok());
        assert!(MessageBody::parse(&"é".repeat(2001)).is_err());
    }

    #[test]
    fn trailing_spaces_do_not_count_towards_the_limit() {
        assert!(MessageBody::parse(&format!("{}   ", "a".repeat(2000))).is_ok());
    }

    #[test]
    fn a_missing_body_is_required_and_a_list_is_not_a_string() {
        assert_eq!(MessageBody::from_json(None).unwrap_err(), msg::REQUIRED);
        assert_eq!(
            MessageBody::from_json(Some(&json!([1]))).unwrap_err(),
            msg::NOT_A_STRING
        );
        assert_eq!(
            MessageBody::from_json(Some(&json!(42))).unwrap().as_str(),
            "42"
        );
    }

    #[test]
    fn null_characters_are_refused_in_every_text_field() {
        let nul = json!("a\u{0}b");
        assert_eq!(
            MessageBody::from_json(Some(&nul)).unwrap_err(),
            NULL_CHARACTERS
        );
        assert_eq!(
            ClientMessageId::from_json(Some(&nul)).unwrap_err(),
            NULL_CHARACTERS
        );
        assert_eq!(required_text(Some(&nul)).unwrap_err(), NULL_CHARACTERS);
    }

    #[test]
    fn the_preview_is_the_first_100_characters() {
        let body = MessageBody::parse(&"ü".repeat(150)).unwrap();
        assert_eq!(body.preview().chars().count(), 100);
    }

    #[test]
    fn a_client_message_id_is_1_to_64_chars() {
        assert!(ClientMessageId::from_json(None).unwrap().is_none());
        assert!(
            ClientMessageId::from_json(Some(&json!("a".repeat(64))))
                .unwrap()
                .is_some()
        );
        assert!(ClientMessageId::from_json(Some(&json!("a".repeat(65)))).is_err());
        assert!(ClientMessageId::from_json(Some(&json!(""))).is_err());
    }

    #[test]
    fn an_id_may_be_a_number_or_digits() {
        assert_eq!(required_id(Some(&json!(5))).unwrap(), 5);
        assert_eq!(required_id(Some(&json!("5"))).unwrap(), 5);
        assert!(required_id(Some(&json!("x"))).is_err());
        assert!(required_id(Some(&json!(1.5))).is_err());
        assert_eq!(required_id(None).unwrap_err(), msg::REQUIRED);
    }
}
