//! A saved reply as a client writes one: the title is what the dashboard's `/` picker finds it
//! by, so it is short and one of a kind (without regard to case) per trainer; the content is
//! inserted into the message box, so it obeys a message's rule and could always be sent as is.

use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::input::{Fields, MessageBody, as_text};
use crate::error::{Error, msg};

pub const MAX_TITLE_CHARS: usize = 100;

/// A saved reply's title: trimmed, 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateTitle(String);

impl TemplateTitle {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        if chars == 0 {
            Err(msg::BLANK.to_owned())
        } else if chars > MAX_TITLE_CHARS {
            Err(format!(
                "Ensure this field has no more than {MAX_TITLE_CHARS} characters."
            ))
        } else {
            Ok(Self(trimmed.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What makes two titles the same, and orders the list: the title lower-cased (by Rust,
    /// so that both backends agree beyond ASCII).
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// The body of a POST (both fields required) or a PATCH (any subset) of `templates/`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TemplateBody {
    /// Trimmed; 1 to 100 characters; unique among the trainer's saved replies, whatever the
    /// case.
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    #[serde(default)]
    pub title: Option<Value>,
    /// As a message's content: trimmed, 1 to 2000 characters.
    #[schema(value_type = String, min_length = 1, max_length = 2000)]
    #[serde(default)]
    pub content: Option<Value>,
}

/// A saved reply's fields as validated: `None` for a field a PATCH leaves alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateFields {
    pub title: Option<TemplateTitle>,
    pub content: Option<MessageBody>,
}

fn title(v: Option<&Value>) -> Result<TemplateTitle, String> {
    match as_text(v)? {
        None => Err(msg::REQUIRED.to_owned()),
        Some(s) => TemplateTitle::parse(&s),
    }
}

/// A field a PATCH names: null is refused (as DRF does), absent means unchanged.
fn given<T>(
    v: Option<&Value>,
    parse: fn(Option<&Value>) -> Result<T, String>,
) -> Result<Option<T>, String> {
    match v {
        None => Ok(None),
        Some(Value::Null) => Err(msg::NOT_NULL.to_owned()),
        Some(v) => parse(Some(v)).map(Some),
    }
}

impl TemplateBody {
    /// A PATCH body as sent: a field given as null stays null (to be refused), where serde
    /// would take it for an absent one.
    pub fn from_object(body: &Value) -> Self {
        Self {
            title: body.get("title").cloned(),
            content: body.get("content").cloned(),
        }
    }

    /// Both fields, required; every bad field reported at once.
    pub fn validate_new(&self) -> Result<(TemplateTitle, MessageBody), Error> {
        let mut fields = Fields::default();
        let t = fields.take("title", title(self.title.as_ref()));
        let c = fields.take("content", MessageBody::from_json(self.content.as_ref()));
        fields.finish()?;
        match (t, c) {
            (Some(t), Some(c)) => Ok((t, c)),
            _ => Err(Error::Malformed("Invalid saved reply.".to_owned())),
        }
    }

    /// The fields a PATCH names.
    pub fn validate_change(&self) -> Result<TemplateFields, Error> {
        let mut fields = Fields::default();
        let title = fields
            .take("title", given(self.title.as_ref(), title))
            .flatten();
        let content = fields
            .take(
                "content",
                given(self.content.as_ref(), MessageBody::from_json),
            )
            .flatten();
        fields.finish()?;
        Ok(TemplateFields { title, content })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> TemplateBody {
        TemplateBody::from_object(&v)
    }

    #[test]
    fn a_title_is_trimmed_and_its_key_lower_cased() {
        let t = TemplateTitle::parse("  Monday Check-In ").unwrap();
        assert_eq!(
            (t.as_str(), t.key().as_str()),
            ("Monday Check-In", "monday check-in")
        );
        assert_eq!(TemplateTitle::parse("ÜBUNG").unwrap().key(), "übung");
    }

    #[test]
    fn a_title_of_101_chars_is_rejected_and_100_pass() {
        assert!(TemplateTitle::parse(&"é".repeat(100)).is_ok());
        assert_eq!(
            TemplateTitle::parse(&"é".repeat(101)).unwrap_err(),
            "Ensure this field has no more than 100 characters."
        );
    }

    #[test]
    fn a_new_reply_needs_both_fields_and_names_every_bad_one() {
        let Err(Error::Invalid(f)) = body(json!({"title": "  "})).validate_new() else {
            panic!("refused");
        };
        assert_eq!(f["title"], [msg::BLANK]);
        assert_eq!(f["content"], [msg::REQUIRED]);
        let (t, c) = body(json!({"title": "Hi", "content": " Hello "}))
            .validate_new()
            .unwrap();
        assert_eq!((t.as_str(), c.as_str()), ("Hi", "Hello"));
    }

    #[test]
    fn a_change_takes_any_subset_but_not_null() {
        let none = body(json!({})).validate_change().unwrap();
        assert_eq!(
            none,
            TemplateFields {
                title: None,
                content: None
            }
        );
        let Err(Error::Invalid(f)) = body(json!({"content": null})).validate_change() else {
            panic!("refused");
        };
        assert_eq!(f["content"], [msg::NOT_NULL]);
        let c = body(json!({"content": "x".repeat(2001)})).validate_change();
        assert!(matches!(c, Err(Error::Invalid(_))));
    }
}
