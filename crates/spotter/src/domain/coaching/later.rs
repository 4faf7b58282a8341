//! What a client writes to send something later: a scheduled message's body and a broadcast's,
//! validated into typed drafts. Times are ISO 8601 with an offset (`Z` or `+02:00`); a
//! `send_at` must lie in the future and at most 366 days ahead of the server's clock.

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use crate::clock::Micros;
use crate::domain::input::{ClientMessageId, Fields, MessageBody, required_id};
use crate::domain::model::UserId;
use crate::error::{Error, msg};

/// How far ahead something may be scheduled.
pub const MAX_AHEAD_DAYS: i64 = 366;
/// Recipients one broadcast may name: far above any trainer's roster, and a bound on one
/// request's work.
pub const MAX_RECIPIENTS: usize = 10_000;

const DAY: Micros = 86_400_000_000;

/// The placeholder a broadcast fills in for each trainee.
pub const FIRST_NAME: &str = "{first_name}";

const TIME_FORMAT: &str = "Datetime has wrong format. Use one of these formats instead: \
    YYYY-MM-DDThh:mm[:ss[.uuuuuu]]Z or with an offset such as +02:00.";

/// An ISO 8601 time with its offset, as microseconds since the epoch.
pub fn parse_time(raw: &str) -> Result<Micros, String> {
    let t = OffsetDateTime::parse(raw.trim(), &Rfc3339).map_err(|_| TIME_FORMAT.to_owned())?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000).map_err(|_| TIME_FORMAT.to_owned())
}

/// A `send_at` as given: a time in the future, at most [`MAX_AHEAD_DAYS`] ahead of `now`.
pub fn send_at(v: Option<&Value>, now: Micros) -> Result<Micros, String> {
    let raw = match v {
        None | Some(Value::Null) => return Err(msg::REQUIRED.to_owned()),
        Some(Value::String(s)) => s,
        Some(_) => return Err(TIME_FORMAT.to_owned()),
    };
    let at = parse_time(raw)?;
    if at <= now {
        Err("Must be in the future.".to_owned())
    } else if at > now + MAX_AHEAD_DAYS * DAY {
        Err(format!(
            "Must be at most {MAX_AHEAD_DAYS} days in the future."
        ))
    } else {
        Ok(at)
    }
}

/// The body of `POST conversations/<id>/scheduled/`, or (any subset) of its PATCH.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ScheduleBody {
    /// As a message's content: trimmed, 1 to 2000 characters.
    #[schema(value_type = String, min_length = 1, max_length = 2000)]
    #[serde(default)]
    pub content: Option<Value>,
    /// ISO 8601 with an offset; in the future, at most 366 days ahead.
    #[schema(value_type = String, format = DateTime)]
    #[serde(default)]
    pub send_at: Option<Value>,
}

/// A scheduled message's fields as validated; `None`: a PATCH leaves it alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleFields {
    pub content: Option<MessageBody>,
    pub send_at: Option<Micros>,
}

impl ScheduleBody {
    /// A PATCH body as sent (a field given as null stays null, to be refused).
    pub fn from_object(body: &Value) -> Self {
        Self {
            content: body.get("content").cloned(),
            send_at: body.get("send_at").cloned(),
        }
    }

    /// Both fields, required.
    pub fn validate_new(&self, now: Micros) -> Result<(MessageBody, Micros), Error> {
        let mut fields = Fields::default();
        let c = fields.take("content", MessageBody::from_json(self.content.as_ref()));
        let s = fields.take("send_at", send_at(self.send_at.as_ref(), now));
        fields.finish()?;
        c.zip(s)
            .ok_or_else(|| Error::Malformed("Invalid scheduled message.".to_owned()))
    }

    /// The fields a PATCH names (at least one).
    pub fn validate_change(&self, now: Micros) -> Result<ScheduleFields, Error> {
        let mut fields = Fields::default();
        let content = match &self.content {
            None => None,
            Some(v) => fields.take("content", MessageBody::from_json(Some(v))),
        };
        let send_at = match &self.send_at {
            None => None,
            Some(v) => fields.take("send_at", send_at(Some(v), now)),
        };
        fields.finish()?;
        if self.content.is_none() && self.send_at.is_none() {
            return Err(Error::Malformed(
                "Give \"content\", \"send_at\" or both.".to_owned(),
            ));
        }
        Ok(ScheduleFields { content, send_at })
    }
}

/// The body of `POST broadcasts/`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct BroadcastBody {
    /// The text, `{first_name}` filled in for each trainee; once filled in, trimmed, 1 to
    /// 2000 characters.
    #[schema(value_type = String, min_length = 1, max_length = 2000)]
    #[serde(default)]
    pub content: Option<Value>,
    /// The trainer's trainees to reach (ids, at least one), or `"all"`: every active trainee.
    #[schema(value_type = AudienceSchema)]
    #[serde(default)]
    pub trainee_ids: Option<Value>,
    /// Optional idempotency key, 1 to 64 characters: a retry answers the first broadcast.
    #[schema(value_type = Option<String>, max_length = 64)]
    #[serde(default)]
    pub client_broadcast_id: Option<Value>,
    /// When to send (ISO 8601 with an offset; in the future, at most 366 days ahead); absent
    /// or null: now.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default)]
    pub send_at: Option<Value>,
}

/// `trainee_ids` as the OpenAPI document shows it (the body itself is checked by hand, so that
/// each mistake gets its own message).
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum AudienceSchema {
    /// Some of the trainer's trainees (at least one).
    Ids(Vec<i64>),
    /// Every active trainee.
    All(AllTrainees),
}

/// The word `"all"`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum AllTrainees {
    All,
}

/// Who a broadcast is for, as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    All,
    /// Distinct ids, in the order given.
    Trainees(Vec<UserId>),
}

/// A broadcast as validated (the recipients not yet checked against the roster).
#[derive(Debug, Clone)]
pub struct BroadcastDraft {
    /// As written (trimmed), the placeholder still in.
    pub content: String,
    pub audience: Audience,
    pub client_broadcast_id: Option<ClientMessageId>,
    pub send_at: Option<Micros>,
}

fn audience(v: Option<&Value>) -> Result<Audience, String> {
    match v {
        None | Some(Value::Null) => Err(msg::REQUIRED.to_owned()),
        Some(Value::String(s)) if s == "all" => Ok(Audience::All),
        Some(Value::Array(items)) => {
            if items.is_empty() {
                return Err("This list may not be empty.".to_owned());
            }
            if items.len() > MAX_RECIPIENTS {
                return Err(format!(
                    "Ensure this field has no more than {MAX_RECIPIENTS} elements."
                ));
            }
            let mut ids: Vec<UserId> = Vec::with_capacity(items.len());
            for item in items {
                let id = UserId(required_id(Some(item))?);
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            Ok(Audience::Trainees(ids))
        }
        Some(_) => Err("Expected a list of trainee ids, or \"all\".".to_owned()),
    }
}

impl BroadcastBody {
    pub fn validate(&self, now: Micros) -> Result<BroadcastDraft, Error> {
        let mut fields = Fields::default();
        // The text as written must be a valid message; each filled-in copy is checked again
        // once the names are known (`personalise`).
        let content = fields.take("content", MessageBody::from_json(self.content.as_ref()));
        let audience = fields.take("trainee_ids", audience(self.trainee_ids.as_ref()));
        let client_broadcast_id = fields
            .take(
                "client_broadcast_id",
                ClientMessageId::from_json(self.client_broadcast_id.as_ref()),
            )
            .flatten();
        let send_at = match &self.send_at {
            None | Some(Value::Null) => None,
            Some(v) => fields.take("send_at", send_at(Some(v), now)),
        };
        fields.finish()?;
        match (content, audience) {
            (Some(content), Some(audience)) => Ok(BroadcastDraft {
                content: content.as_str().to_owned(),
                audience,
                client_broadcast_id,
                send_at,
            }),
            _ => Err(Error::Malformed("Invalid broadcast.".to_owned())),
        }
    }
}

/// A broadcast's text for one trainee: `{first_name}` replaced by theirs (trimmed), then
/// validated as a message (a long name may take it over the limit).
pub fn personalise(content: &str, first_name: &str) -> Result<MessageBody, String> {
    let text = content.replace(FIRST_NAME, first_name.trim());
    MessageBody::parse(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: Micros = 1_780_000_000_000_000;

    #[test]
    fn send_at_is_a_future_time_within_366_days() {
        let at = |s: &str| send_at(Some(&json!(s)), NOW);
        assert_eq!(at("2026-05-28T20:26:41Z"), Ok(1_780_000_001_000_000));
        assert_eq!(at("2026-05-28T22:26:41+02:00"), Ok(1_780_000_001_000_000));
        assert_eq!(
            at("2026-05-28T20:26:40Z"),
            Err("Must be in the future.".into())
        );
        assert!(at("2027-05-30T20:26:41Z").unwrap_err().contains("366 days"));
        assert!(
            at("tomorrow")
                .unwrap_err()
                .starts_with("Datetime has wrong format")
        );
        assert!(at("2026-05-28T20:26:41").is_err(), "an offset is required");
        assert_eq!(send_at(Some(&json!(12)), NOW), Err(TIME_FORMAT.to_owned()));
        assert_eq!(send_at(None, NOW), Err(msg::REQUIRED.to_owned()));
    }

    #[test]
    fn a_broadcast_names_its_trainees_or_all() {
        let body = |v: Value| BroadcastBody {
            content: Some(json!("Hi {first_name}")),
            trainee_ids: Some(v),
            ..Default::default()
        };
        let d = body(json!([3, "4", 3])).validate(NOW).unwrap();
        assert_eq!(d.audience, Audience::Trainees(vec![UserId(3), UserId(4)]));
        assert_eq!(
            body(json!("all")).validate(NOW).unwrap().audience,
            Audience::All
        );
        for bad in [json!([]), json!("some"), json!([1, "x"]), json!({})] {
            let Err(Error::Invalid(f)) = body(bad.clone()).validate(NOW) else {
                panic!("{bad} accepted");
            };
            assert!(f.contains_key("trainee_ids"), "{bad}");
        }
    }

    #[test]
    fn a_name_is_filled_in_and_the_result_checked() {
        assert_eq!(
            personalise("Hi {first_name}, see you {first_name}!", " Ana ")
                .unwrap()
                .as_str(),
            "Hi Ana, see you Ana!"
        );
        assert_eq!(personalise("{first_name}  ", "").unwrap_err(), msg::BLANK);
        let long = "x".repeat(1995);
        assert!(personalise(&format!("{long}{{first_name}}"), "Maximilian").is_err());
    }
}
