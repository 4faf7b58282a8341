//! Arbitrary bytes as a socket text frame, through `ws::commands::parse_frame`: what
//! `Commands::handle` parses before it touches any state. The first byte picks the socket
//! (conversation or user socket, read-only or not); the rest is the frame.
//!
//! Invariants: never panics; pure (the same answer twice); an error answer is one JSON error
//! frame with a known code, which echoes the frame's `client_message_id` as parsed when the
//! command was recognised; a command is exactly what the frame says (type, fields, the socket's
//! own conversation on a conversation socket); no answer is much larger than the frame.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use spotter::ws::commands::{Command, Frame, FrameContext, parse_frame};

const FIXED: i64 = 7;
const KNOWN: [&str; 5] = ["ping", "typing", "send", "read", "focus"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let ctx = FrameContext {
        fixed: (selector & 1 == 1).then_some(FIXED),
        read_only: selector & 2 == 2,
    };
    // A text frame is UTF-8: the socket layer refuses anything else before the server sees it.
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let answer = parse_frame(text, ctx);
    assert_eq!(answer, parse_frame(text, ctx), "parse_frame is pure");

    let parsed: Option<Value> = serde_json::from_str(text).ok();
    let object = parsed.as_ref().and_then(Value::as_object);
    let kind = object.and_then(|o| o.get("type")).and_then(Value::as_str);
    let cmid = object.and_then(|o| o.get("client_message_id"));
    let conversation = || match ctx.fixed {
        Some(id) => Some(id),
        None => object?.get("conversation_id")?.as_i64(),
    };

    match answer {
        Err(text_reply) => {
            assert!(
                text_reply.len() <= 8 * text.len() + 256,
                "an error frame of {} bytes for {} bytes",
                text_reply.len(),
                text.len()
            );
            let reply: Value = serde_json::from_str(&text_reply).expect("error frames are JSON");
            assert_eq!(reply["type"], "error", "{reply}");
            assert!(reply["detail"].is_string(), "{reply}");
            let code = reply["code"].as_str().expect("a code");
            match code {
                "malformed" => assert!(kind.is_none(), "{text:?} -> {reply}"),
                "unknown_type" => {
                    let kind = kind.expect("a string type");
                    assert!(!KNOWN.contains(&kind), "{text:?} -> {reply}");
                    let detail = reply["detail"].as_str().unwrap_or_default();
                    assert!(detail.chars().count() <= 40 + 22, "{detail:?}");
                }
                "read_only" => assert!(kind == Some("typing") && ctx.read_only),
                "invalid" => assert!(KNOWN.contains(&kind.unwrap_or_default())),
                other => panic!("unexpected error code {other:?} for {text:?}"),
            }
            // The echo is the value as sent: numbers too, to the last digit (serde_json's
            // `float_roundtrip`; regressions/frame/float-echo-20e-116 read one ulp off without
            // it).
            match cmid.filter(|_| !matches!(code, "malformed" | "unknown_type")) {
                Some(id) => assert_eq!(reply.get("client_message_id"), Some(id), "{reply}"),
                None => assert!(reply.get("client_message_id").is_none(), "{reply}"),
            }
        }
        Ok(Frame {
            command,
            client_message_id,
        }) => {
            let object = object.expect("only a JSON object parses");
            assert_eq!(client_message_id.as_ref(), cmid);
            match command {
                Command::Ping => assert_eq!(kind, Some("ping")),
                Command::Typing {
                    conversation_id,
                    is_typing,
                } => {
                    assert_eq!(kind, Some("typing"));
                    assert!(!ctx.read_only, "a read-only socket may not type");
                    assert_eq!(
                        Some(is_typing),
                        object.get("is_typing").and_then(Value::as_bool)
                    );
                    assert_eq!(Some(conversation_id), conversation());
                }
                Command::Send {
                    conversation_id,
                    content,
                } => {
                    assert_eq!(kind, Some("send"));
                    assert_eq!(content.as_ref(), object.get("content"));
                    assert_eq!(Some(conversation_id), conversation());
                }
                Command::Read { conversation_id } => {
                    assert_eq!(kind, Some("read"));
                    assert_eq!(Some(conversation_id), conversation());
                }
                Command::Focus { conversation_id } => {
                    assert_eq!(kind, Some("focus"));
                    if ctx.fixed.is_some() {
                        assert_eq!(
                            conversation_id, None,
                            "a conversation socket's focus is fixed"
                        );
                    } else {
                        assert_eq!(
                            conversation_id,
                            object.get("conversation_id").and_then(Value::as_i64)
                        );
                    }
                }
            }
        }
    }
});
