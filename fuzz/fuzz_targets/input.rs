//! Arbitrary JSON through the edge validators: `domain::input` (`MessageBody::from_json`,
//! `ClientMessageId::from_json`, `required_id`, `required_text`) and the device body parser
//! `domain::devices::parse` (and `parse_for_delete`). The JSON is built from the fuzzer's bytes
//! (`Arbitrary`), with the field names these parsers read, so every branch is reachable.
//!
//! Invariants: never panics; each validator agrees with a plain model of its rule (a body is
//! trimmed, 1 to 2000 characters; an idempotency key 1 to 64; no accepted text holds a NUL,
//! which PostgreSQL refuses); a refused device body is a 400 naming its fields.

#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Number, Value};
use spotter::domain::devices;
use spotter::domain::model::Platform;
use spotter::domain::input::{
    ClientMessageId, MAX_CLIENT_ID_CHARS, MAX_MESSAGE_CHARS, MessageBody, NULL_CHARACTERS,
    required_id, required_text,
};
use spotter::domain::model::{PREVIEW_CHARS, preview};
use spotter::error::{Error, msg};

#[derive(Arbitrary, Debug)]
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Unsigned(u64),
    Float(f64),
    Text(Text),
    Array(Vec<Json>),
    Object(Vec<(Key, Json)>),
}

/// Strings, biased towards what the validators look at: blanks, NUL, lengths at the limits,
/// URLs and base64url.
#[derive(Arbitrary, Debug)]
enum Text {
    Any(String),
    Padded(u8, String, u8),
    Repeat(char, u16),
    Url(bool, String),
    Base64(u8),
    Known(Word),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Word {
    Ios,
    Android,
    Web,
    Webpush,
    Nul,
    Blank,
}

#[derive(Arbitrary, Debug)]
enum Key {
    Content,
    ClientMessageId,
    Platform,
    Token,
    Subscription,
    Endpoint,
    Keys,
    P256dh,
    Auth,
    Email,
    Other(String),
}

impl Key {
    fn name(self) -> String {
        match self {
            Key::Content => "content",
            Key::ClientMessageId => "client_message_id",
            Key::Platform => "platform",
            Key::Token => "token",
            Key::Subscription => "subscription",
            Key::Endpoint => "endpoint",
            Key::Keys => "keys",
            Key::P256dh => "p256dh",
            Key::Auth => "auth",
            Key::Email => "email",
            Key::Other(s) => return s,
        }
        .to_owned()
    }
}

impl Text {
    fn string(self) -> String {
        match self {
            Text::Any(s) => s,
            Text::Padded(l, s, r) => {
                let pad = |n: u8| " \t\n\r\u{3000}".chars().cycle().take(n as usize % 8);
                pad(l).chain(s.chars()).chain(pad(r)).collect()
            }
            Text::Repeat(c, n) => std::iter::repeat_n(c, n as usize % 2100).collect(),
            Text::Url(https, rest) => {
                format!("{}://{rest}", if https { "https" } else { "http" })
            }
            Text::Base64(n) => "AbZz09-_".chars().cycle().take(n as usize % 300).collect(),
            Text::Known(w) => match w {
                Word::Ios => "ios",
                Word::Android => "android",
                Word::Web => "web",
                Word::Webpush => "webpush",
                Word::Nul => "a\u{0}b",
                Word::Blank => " \t ",
            }
            .to_owned(),
        }
    }
}

impl Json {
    fn value(self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(b),
            Json::Int(n) => Value::from(n),
            Json::Unsigned(n) => Value::from(n),
            Json::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
            Json::Text(t) => Value::String(t.string()),
            Json::Array(items) => Value::Array(items.into_iter().map(Json::value).collect()),
            Json::Object(fields) => Value::Object(
                fields
                    .into_iter()
                    .map(|(k, v)| (k.name(), v.value()))
                    .collect::<Map<_, _>>(),
            ),
        }
    }
}

/// DRF's `CharField` as the model: the text a string or number stands for.
fn model_text(v: Option<&Value>) -> Option<Result<String, ()>> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(Ok(s.clone())),
        Some(Value::Number(n)) => Some(Ok(n.to_string())),
        Some(_) => Some(Err(())),
    }
}

fn check_body(v: Option<&Value>) {
    let got = MessageBody::from_json(v);
    match (model_text(v), &got) {
        (None, Err(m)) => assert_eq!(m, msg::REQUIRED),
        (Some(Err(())), Err(m)) => assert_eq!(m, msg::NOT_A_STRING),
        (Some(Ok(s)), Err(m)) if s.contains('\0') => assert_eq!(m, NULL_CHARACTERS),
        (Some(Ok(s)), Err(m)) if s.trim().is_empty() => assert_eq!(m, msg::BLANK),
        (Some(Ok(s)), Err(m)) => {
            assert!(
                s.trim().chars().count() > MAX_MESSAGE_CHARS,
                "{s:?} refused: {m}"
            );
            assert!(m.contains("2000"), "{m}");
        }
        (Some(Ok(s)), Ok(body)) => {
            let b = body.as_str();
            assert_eq!(b, s.trim(), "a body is the trimmed text");
            assert_eq!(b, b.trim());
            assert!((1..=MAX_MESSAGE_CHARS).contains(&b.chars().count()));
            assert!(!b.contains('\0'));
            let preview = preview(body.as_str(), false, false);
            assert!(b.starts_with(&preview));
            assert_eq!(
                preview.chars().count(),
                b.chars().count().min(PREVIEW_CHARS)
            );
        }
        (model, got) => panic!("{v:?}: model {model:?}, got {got:?}"),
    }
}

fn check_client_id(v: Option<&Value>) {
    let got = ClientMessageId::from_json(v);
    match (model_text(v), &got) {
        (None, Ok(None)) => {}
        (Some(Err(())), Err(m)) => assert_eq!(m, msg::NOT_A_STRING),
        (Some(Ok(s)), Err(m)) if s.contains('\0') => assert_eq!(m, NULL_CHARACTERS),
        (Some(Ok(s)), Err(m)) if s.is_empty() => assert_eq!(m, msg::BLANK),
        (Some(Ok(s)), Err(m)) => {
            assert!(
                s.chars().count() > MAX_CLIENT_ID_CHARS,
                "{s:?} refused: {m}"
            );
        }
        (Some(Ok(s)), Ok(Some(id))) => {
            assert_eq!(id.as_str(), s, "a key is kept as sent");
            assert!((1..=MAX_CLIENT_ID_CHARS).contains(&id.as_str().chars().count()));
            assert!(!id.as_str().contains('\0'));
        }
        (model, got) => panic!("{v:?}: model {model:?}, got {got:?}"),
    }
}

fn check_id(v: Option<&Value>) {
    let want = match v {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match (required_id(v), want) {
        (Ok(id), Some(w)) => assert_eq!(id, w),
        (Err(m), None) => {
            let required = matches!(v, None | Some(Value::Null));
            assert_eq!(
                m,
                if required {
                    msg::REQUIRED
                } else {
                    msg::NOT_AN_INTEGER
                }
            );
        }
        (got, want) => panic!("{v:?}: want {want:?}, got {got:?}"),
    }
}

fn check_text(v: Option<&Value>) {
    match (model_text(v), required_text(v)) {
        (None, Err(m)) => assert_eq!(m, msg::REQUIRED),
        (Some(Err(())), Err(m)) => assert_eq!(m, msg::NOT_A_STRING),
        (Some(Ok(s)), Err(m)) if s.contains('\0') => assert_eq!(m, NULL_CHARACTERS),
        (Some(Ok(s)), Err(m)) => {
            assert!(s.trim().is_empty(), "{s:?} refused: {m}");
            assert_eq!(m, msg::BLANK);
        }
        (Some(Ok(s)), Ok(t)) => {
            assert_eq!(t, s, "kept as sent");
            assert!(!t.trim().is_empty() && !t.contains('\0'));
        }
        (model, got) => panic!("{v:?}: model {model:?}, got {got:?}"),
    }
}

fn is_base64url(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'='))
}

fn check_device(body: &Value, for_delete: bool) {
    // What the HTTP layer parses a body object into (unknown fields ignored).
    let Ok(parsed) = serde_json::from_value::<devices::DeviceBody>(body.clone()) else {
        return;
    };
    let got = if for_delete {
        devices::parse_for_delete(&parsed)
    } else {
        devices::parse(&parsed)
    };
    match got {
        Ok(spec) => {
            assert!(!spec.token.trim().is_empty() && !spec.token.contains('\0'));
            match spec.platform.map_or("", Platform::as_str) {
                "ios" | "android" | "web" => {
                    assert!(spec.token.chars().count() <= 4096);
                    assert!(spec.p256dh.is_none() && spec.auth.is_none());
                }
                "webpush" => {
                    let url = &spec.token;
                    assert!(
                        url.starts_with("https://") || url.starts_with("http://"),
                        "{url}"
                    );
                    assert!(url.len() <= 4096 && !url.chars().any(char::is_whitespace));
                    let (p, a) = (spec.p256dh.unwrap(), spec.auth.unwrap());
                    assert!(is_base64url(&p) && p.len() <= 256, "{p:?}");
                    assert!(is_base64url(&a) && a.len() <= 64, "{a:?}");
                }
                // DELETE may name the token alone.
                "" => assert!(for_delete && parsed.platform.is_none()),
                other => panic!("platform {other:?} accepted"),
            }
        }
        Err(Error::Invalid(fields)) => {
            assert!(!fields.is_empty());
            assert!(fields.values().all(|m| !m.is_empty()));
        }
        Err(e) => panic!("{body}: a device body is refused with 400 and fields, got {e:?}"),
    }
}

fn check_all(v: Option<&Value>) {
    check_body(v);
    check_client_id(v);
    check_id(v);
    check_text(v);
}

fuzz_target!(|json: Json| {
    let value = json.value();
    check_all(None);
    check_all(Some(&value));
    if let Some(fields) = value.as_object() {
        for v in fields.values() {
            check_all(Some(v));
        }
    }
    check_device(&value, false);
    check_device(&value, true);
});
