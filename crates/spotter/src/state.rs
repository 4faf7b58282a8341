//! What every request handler and socket shares: the database, the token keys, the limits, the
//! event bus. Cheap to clone (one `Arc`).

use std::net::IpAddr;
use std::ops::Deref;
use std::sync::Arc;

use tokio::sync::watch;

use crate::auth::Tokens;
use crate::bus::Bus;
use crate::config::Config;
use crate::domain::delivery::DeliveryQueue;
use crate::domain::model::UserId;
use crate::ratelimit::Limiter;
use crate::store::Db;

pub struct Limits {
    /// Sends and starts, per user (REST and socket alike).
    pub send: Limiter<UserId>,
    /// Login and refresh, per client address.
    pub auth_addr: Limiter<IpAddr>,
    /// Login attempts per email: slows a password-guessing run spread over many addresses.
    pub login_email: Limiter<String>,
}

pub struct Shared {
    pub config: Config,
    pub db: Db,
    pub tokens: Tokens,
    pub limits: Limits,
    pub bus: Bus,
    pub delivery: DeliveryQueue,
    pub push: crate::push::Push,
    /// Group commit of sends (see `domain::committer`).
    pub committer: crate::domain::committer::Committer,
    /// Flips to `true` when the server begins to stop: sockets close with 1001.
    pub shutdown: watch::Sender<bool>,
}

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(
        config: Config,
        db: Db,
        tokens: Tokens,
        bus: Bus,
        delivery: DeliveryQueue,
        push: crate::push::Push,
    ) -> Self {
        let limits = Limits {
            send: Limiter::per_minute(config.send_rate_per_minute),
            auth_addr: Limiter::per_minute(config.auth_rate_per_minute),
            login_email: Limiter::per_minute(10),
        };
        let (shutdown, _) = watch::channel(false);
        let committer = crate::domain::committer::Committer::start(db.clone(), bus.clone());
        Self(Arc::new(Shared {
            config,
            db,
            tokens,
            limits,
            bus,
            delivery,
            push,
            committer,
            shutdown,
        }))
    }
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
