//! Opening a socket: authenticate (4001), authorize (4003), the per-user cap (4029), where its
//! cursors start, subscribe. Replay then live without a gap or a duplicate starts here: the hub
//! subscription is made *before* the store is read (see [`super::replay`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use futures_util::stream::SplitStream;
use futures_util::{SinkExt, StreamExt};

use super::commands::{Commands, error_frame};
use super::presence::Presence;
use super::replay::Start;
use super::writer::Writer;
use super::{Sink, Target, close, close_now};
use crate::bus::{Subscription, Topic};
use crate::domain::Actor;
use crate::domain::access::Purpose;
use crate::domain::model::{ConversationId, ConversationRef, MessageId};
use crate::error::Error;
use crate::ratelimit::Budget;
use crate::state::AppState;

/// A socket that passed authentication and authorization, subscribed, ready to go live.
pub struct Opened {
    pub stream: SplitStream<WebSocket>,
    pub commands: Commands,
    pub writer: Writer,
    pub sub: Subscription,
    pub start: Start,
    /// Frames the client may send (per second, with bursts).
    pub budget: Budget,
}

/// Authenticates, authorizes and subscribes; `None` when the socket was closed instead.
pub async fn open(
    state: AppState,
    socket: WebSocket,
    target: Target,
    params: HashMap<String, String>,
) -> Option<Box<Opened>> {
    let (mut sink, stream) = socket.split();
    let actor = authenticate(&state, &mut sink, params.get("token")).await?;
    let fixed = match target {
        Target::User => None,
        Target::Conversation(raw) => match authorize(&state, &actor, &raw).await {
            Ok(c) => Some(c),
            Err(code) => {
                let reason = if code == close::FORBIDDEN {
                    "no access to this conversation"
                } else {
                    "try again"
                };
                close_now(&mut sink, code, reason).await;
                return None;
            }
        },
    };
    if state.bus.hub().sockets_of(actor.id()) >= state.config.ws_max_sockets_per_user {
        let reason = "too many open sockets for this user";
        close_now(&mut sink, close::TOO_MANY_SOCKETS, reason).await;
        return None;
    }
    let after = match (fixed, params.get("after")) {
        (Some(_), Some(raw)) => match raw.parse::<i64>() {
            Ok(id) if id >= 0 => Some(MessageId(id)),
            _ => {
                let reply = error_frame("invalid", "after must be a message id", None);
                let _ = sink.send(Message::Text(reply.into())).await;
                None
            }
        },
        _ => None,
    };
    // Where a socket without `?after=` starts, read *before* subscribing: a message committed in
    // between is then beyond this point, and the writer's first fill reads it from the store
    // (read after subscribing, it could be counted as seen while its event was skipped).
    let start = match (fixed, after) {
        (Some(_), Some(after)) => Ok(Start::After(after)),
        (Some(c), None) => state
            .store
            .message_count(c.id)
            .await
            .map(|n| Start::Ends(vec![(c.id, n)])),
        (None, _) => state
            .store
            .message_counts(actor.id())
            .await
            .map(Start::Ends),
    };
    let Ok(start) = start else {
        close_now(&mut sink, close::INTERNAL, "try again").await;
        return None;
    };
    let topic = fixed.map_or(Topic::User(actor.id()), |c| Topic::Conversation(c.id));
    let sub = state
        .bus
        .hub()
        .subscribe(topic, actor.id(), state.config.ws_queue);
    let presence_ttl = Duration::from_secs(state.config.ws_ping_secs.max(1) * 3);
    let presence = Arc::new(Presence::new(
        state.clone(),
        actor.id(),
        fixed.map(|c| c.id),
        presence_ttl,
    ));
    let budget = Budget::per_second(state.config.ws_frames_per_second, &state.clock);
    let commands = Commands::new(state.clone(), actor.clone(), fixed, presence.clone());
    let writer = Writer::new(state, actor.id(), fixed, sink, sub.lag.clone(), presence);
    Some(Box::new(Opened {
        stream,
        commands,
        writer,
        sub,
        start,
        budget,
    }))
}

/// The socket's user, or `None` once it is closed with 4001 (or 1011 if the store is away).
async fn authenticate(state: &AppState, sink: &mut Sink, token: Option<&String>) -> Option<Actor> {
    let Some(token) = token else {
        close_now(sink, close::UNAUTHORIZED, "token missing").await;
        return None;
    };
    match state.accounts.authenticate(token).await {
        Ok(actor) => Some(actor),
        Err(Error::Unauthorized(_)) => {
            close_now(sink, close::UNAUTHORIZED, "token invalid or expired").await;
            None
        }
        Err(_) => {
            close_now(sink, close::INTERNAL, "try again").await;
            None
        }
    }
}

/// The conversation a socket may follow (the domain's rule), or the close code: 4003 when it
/// may not, 1011 when the store could not say.
async fn authorize(state: &AppState, actor: &Actor, raw: &str) -> Result<ConversationRef, u16> {
    let Ok(id) = raw.parse::<i64>() else {
        return Err(close::FORBIDDEN);
    };
    match state
        .messaging
        .conversation(actor, ConversationId(id), Purpose::Follow)
        .await
    {
        Ok(c) => Ok(c),
        Err(Error::Internal(_) | Error::Unavailable(_) | Error::StorageFull(_)) => {
            Err(close::INTERNAL)
        }
        Err(_) => Err(close::FORBIDDEN),
    }
}
