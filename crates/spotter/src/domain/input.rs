//! Validation at the edge: request bodies and socket frames are parsed into the types below
//! (the same types `/api/openapi.json` describes), whose fields hold the JSON as sent; the
//! validators then turn them into domain newtypes or DRF-shaped field errors, in the contract's
//! order. REST bodies and socket frames go through the same parsers, so both refuse the same
//! input with the same words.

use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::model::UserId;
use crate::error::{Error, FieldErrors, msg};

pub const MAX_MESSAGE_CHARS: usize = 2000;
pub const MAX_CLIENT_ID_CHARS: usize = 64;
/// The largest image a message may carry: 5 MiB (exactly that passes).
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// An image part of a multipart send or start, as uploaded: its declared type and its bytes,
/// read with a cap (`too_large`: the part went over [`MAX_IMAGE_BYTES`]; its bytes were not
/// kept).
#[derive(Debug, Clone)]
pub struct Upload {
    pub declared: String,
    pub bytes: bytes::Bytes,
    pub too_large: bool,
}

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
pub(crate) fn as_text(v: Option<&Value>) -> Result<Option<String>, String> {
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

    /// No text: a message that is an image alone.
    pub fn empty() -> Self {
        Self(String::new())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How the key of each message of a broadcast begins (`ClientMessageId::own`).
pub const BROADCAST_KEY_PREFIX: &str = "spotter-broadcast-";

/// The client's idempotency key for a send: 1 to 64 characters, optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMessageId(String);

impl ClientMessageId {
    pub fn parse(s: &str) -> Result<Self, String> {
        let chars = s.chars().count();
        if chars == 0 {
            Err(msg::BLANK.to_owned())
        } else if chars > MAX_CLIENT_ID_CHARS {
            Err(format!(
                "Ensure this field has no more than {MAX_CLIENT_ID_CHARS} characters."
            ))
        } else {
            Ok(Self(s.to_owned()))
        }
    }

    pub fn from_json(v: Option<&Value>) -> Result<Option<Self>, String> {
        as_text(v)?.map(|s| Self::parse(&s)).transpose()
    }

    /// Spotter's own key for a send it makes itself (`spotter-scheduled-<id>`,
    /// `spotter-broadcast-<id>`), short and well-formed by construction.
    pub(crate) fn own(kind: &str, id: i64) -> Self {
        Self(format!("spotter-{kind}-{id}"))
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

/// A message as a client sends it: the body of `send/`, and the fields of a socket's `send`
/// frame.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SendBody {
    /// Trimmed; 1 to 2000 characters, not blank, no NUL. Numbers are taken as their text.
    #[schema(value_type = String, min_length = 1, max_length = 2000)]
    #[serde(default)]
    pub content: Option<Value>,
    /// Optional idempotency key, 1 to 64 characters, no NUL: a retry returns the first message
    /// (200).
    #[schema(value_type = Option<String>, min_length = 1, max_length = 64)]
    #[serde(default)]
    pub client_message_id: Option<Value>,
}

/// A send, validated: the body and the idempotency key. The image, if any, is stored once the
/// conversation's checks pass.
pub struct Draft {
    /// Empty only when there is an image.
    pub body: MessageBody,
    pub cmid: Option<ClientMessageId>,
}

/// The image checks, after the field errors and in the contract's order: the declared type,
/// the size (and, Spotter's addition, the bytes' magic number); then a message needs text or
/// an image.
fn complete(body: Option<MessageBody>, upload: Option<&Upload>) -> Result<MessageBody, Error> {
    if let Some(u) = upload {
        if !crate::media::declared_ok(&u.declared) {
            return Err(Error::UnsupportedImage);
        }
        if u.too_large || u.bytes.len() > MAX_IMAGE_BYTES {
            return Err(Error::ImageTooLarge);
        }
        // The bytes must be what the part claims: a mismatch is the same answer as a wrong type.
        if !crate::media::accepts(&u.declared, &u.bytes) {
            return Err(Error::UnsupportedImage);
        }
    }
    match (body, upload) {
        (Some(b), _) => Ok(b),
        (None, Some(_)) => Ok(MessageBody::empty()),
        (None, None) => Err(Error::EmptyMessage),
    }
}

impl SendBody {
    /// Validates both fields, collecting their errors into `fields`. Content is optional: a
    /// message may be an image alone (absent or null content; `""` is blank, as in the
    /// original).
    fn take(&self, fields: &mut Fields) -> (Option<MessageBody>, Option<ClientMessageId>) {
        let body = match self.content.as_ref() {
            None | Some(Value::Null) => None,
            given => fields.take("content", MessageBody::from_json(given)),
        };
        let cmid = fields
            .take(
                "client_message_id",
                ClientMessageId::from_json(self.client_message_id.as_ref()),
            )
            .flatten();
        (body, cmid)
    }

    /// Validates the fields, then `upload`'s type and size, in the contract's order.
    pub fn validate(&self, upload: Option<&Upload>) -> Result<Draft, Error> {
        let mut fields = Fields::default();
        let (body, cmid) = self.take(&mut fields);
        fields.finish()?;
        Ok(Draft {
            body: complete(body, upload)?,
            cmid,
        })
    }
}

/// The body of an edit (PATCH of a message): its new text.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct EditBody {
    /// Required (null refused); trimmed; may be blank when the message has an image; at most
    /// 2000 characters.
    #[schema(value_type = String, max_length = 2000)]
    #[serde(default)]
    pub content: Option<Value>,
}

impl EditBody {
    /// The new text from the body as sent (`None`: the key is absent; JSON null is refused
    /// apart, as DRF does).
    pub fn validate(body: &Value) -> Result<String, Error> {
        let text = match body.get("content") {
            None => Err(msg::REQUIRED.to_owned()),
            Some(Value::Null) => Err(msg::NOT_NULL.to_owned()),
            Some(v) => as_text(Some(v)).map(Option::unwrap_or_default),
        }
        .and_then(|s| {
            let trimmed = s.trim();
            if trimmed.chars().count() > MAX_MESSAGE_CHARS {
                Err(format!(
                    "Ensure this field has no more than {MAX_MESSAGE_CHARS} characters."
                ))
            } else {
                Ok(trimmed.to_owned())
            }
        });
        text.map_err(|m| Error::field("content", m))
    }
}

/// The body of `conversations/start/`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct StartBody {
    /// One of the trainer's trainees (an integer, or a string of digits).
    #[schema(value_type = i64)]
    #[serde(default)]
    pub trainee_id: Option<Value>,
    /// The first message: as `content` of a send.
    #[schema(value_type = String, min_length = 1, max_length = 2000)]
    #[serde(default)]
    pub content: Option<Value>,
    #[schema(value_type = Option<String>, min_length = 1, max_length = 64)]
    #[serde(default)]
    pub client_message_id: Option<Value>,
}

impl StartBody {
    /// Validates every field, reporting all bad ones at once; then `upload` as a send does.
    pub fn validate(&self, upload: Option<&Upload>) -> Result<(UserId, Draft), Error> {
        let mut fields = Fields::default();
        let trainee = fields.take("trainee_id", required_id(self.trainee_id.as_ref()));
        let send = SendBody {
            content: self.content.clone(),
            client_message_id: self.client_message_id.clone(),
        };
        let (body, cmid) = send.take(&mut fields);
        fields.finish()?;
        let trainee = trainee.ok_or_else(|| Error::field("trainee_id", msg::REQUIRED))?;
        Ok((
            UserId(trainee),
            Draft {
                body: complete(body, upload)?,
                cmid,
            },
        ))
    }
}

/// The body of a login.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct LoginBody {
    /// Not blank, no NUL.
    #[schema(value_type = String, min_length = 1)]
    #[serde(default)]
    pub email: Option<Value>,
    #[schema(value_type = String, min_length = 1)]
    #[serde(default)]
    pub password: Option<Value>,
}

impl LoginBody {
    /// `(email, password)`, both present and not blank.
    pub fn validate(&self) -> Result<(String, String), Error> {
        let mut fields = Fields::default();
        let email = fields.take("email", required_text(self.email.as_ref()));
        let password = fields.take("password", required_text(self.password.as_ref()));
        fields.finish()?;
        match (email, password) {
            (Some(e), Some(p)) => Ok((e, p)),
            _ => Err(Error::field("email", msg::REQUIRED)),
        }
    }
}

/// The body of a token refresh.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RefreshBody {
    #[schema(value_type = String, min_length = 1)]
    #[serde(default)]
    pub refresh: Option<Value>,
}

impl RefreshBody {
    pub fn validate(&self) -> Result<String, Error> {
        required_text(self.refresh.as_ref()).map_err(|m| Error::field("refresh", m))
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
    fn the_preview_is_the_first_100_characters_or_says_what_is_there() {
        use crate::domain::model::preview;
        assert_eq!(preview(&"ü".repeat(150), false, false).chars().count(), 100);
        assert_eq!(preview("", true, false), "Sent a photo");
        assert_eq!(preview("look", true, false), "look");
        assert_eq!(preview("gone", true, true), "This message was deleted");
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
