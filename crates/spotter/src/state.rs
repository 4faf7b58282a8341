//! What every request handler and socket shares: the database, the token keys, the limits, the
//! event bus. Cheap to clone (one `Arc`).

use std::net::IpAddr;
use std::ops::Deref;
use std::sync::Arc;

use crate::auth::Tokens;
use crate::config::Config;
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
}

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(config: Config, db: Db, tokens: Tokens) -> Self {
        let limits = Limits {
            send: Limiter::per_minute(config.send_rate_per_minute),
            auth_addr: Limiter::per_minute(config.auth_rate_per_minute),
            login_email: Limiter::per_minute(10),
        };
        Self(Arc::new(Shared {
            config,
            db,
            tokens,
            limits,
        }))
    }
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
