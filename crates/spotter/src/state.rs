//! What every request handler and socket shares: the configuration, the clock, the store, the
//! bus, and the domain's services wired to them. The composition root: it knows every part,
//! and no part knows it but the adapters (`http`, `ws`, `push`). Cheap to clone (one `Arc`).

use std::net::IpAddr;
use std::ops::Deref;
use std::sync::Arc;

use tokio::sync::watch;

use crate::auth::Tokens;
use crate::bus::Bus;
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::accounts::{Accounts, AuthLimits};
use crate::domain::audit::Audit;
use crate::domain::coaching::Coaching;
use crate::domain::console::Console;
use crate::domain::devices::Devices;
use crate::domain::events::Publisher;
use crate::domain::export::Exports;
use crate::domain::messaging::Messaging;
use crate::ratelimit::{Limiter, UserBucket};
use crate::store::Store;
use crate::workers::delivery::DeliveryQueue;

pub struct Shared {
    pub config: Config,
    pub clock: Clock,
    pub store: Store,
    pub bus: Bus,
    pub accounts: Accounts,
    pub messaging: Messaging,
    pub coaching: Coaching,
    /// The audit log: who read, exported or erased whose data.
    pub audit: Audit,
    /// The admin console's reads, each written to the audit log first.
    pub console: Console,
    pub devices: Devices,
    pub delivery: DeliveryQueue,
    pub push: crate::push::Push,
    /// Where images go.
    pub media: crate::media::Media,
    /// The one bucket of send, start, edit, delete and search per user (REST, socket, nodes).
    pub send_limit: Arc<UserBucket>,
    pub auth_limits: Arc<AuthLimits>,
    /// Flips to `true` when the server begins to stop: sockets close with 1001.
    pub shutdown: watch::Sender<bool>,
    /// Exports: checked, limited and audited before their first byte.
    pub exports: Exports,
}

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The parts a state is made of, built by `startup`.
pub struct Parts {
    pub config: Config,
    pub clock: Clock,
    pub store: Store,
    pub bus: Bus,
    pub tokens: Tokens,
    pub push: crate::push::Push,
    pub media: crate::media::Media,
}

impl AppState {
    /// Wires the domain's services to the store, the bus and the clock, and starts the
    /// delivered-receipts worker.
    pub fn new(parts: Parts) -> Self {
        let Parts {
            config,
            clock,
            store,
            bus,
            tokens,
            push,
            media,
        } = parts;
        let events: Publisher = Arc::new(bus.clone());
        let send_limit = Arc::new(UserBucket::new(
            config.send_rate_per_minute,
            &clock,
            bus.redis().cloned(),
        ));
        let auth_limits = Arc::new(AuthLimits {
            per_address: Limiter::<IpAddr>::per_minute(config.auth_rate_per_minute, &clock),
            per_email: Limiter::per_minute(10, &clock),
        });
        let messaging = Messaging::new(
            store.clone(),
            events.clone(),
            send_limit.clone(),
            clock.clone(),
            media.clone(),
            config.media_orphan_grace(),
        );
        let audit = Audit::new(store.clone(), clock.clone());
        let exports = Exports::new(store.clone(), audit.clone(), clock.clone());
        let accounts = Accounts::new(
            store.clone(),
            tokens,
            auth_limits.clone(),
            events.clone(),
            clock.clone(),
            audit.clone(),
        );
        let devices = Devices::new(store.clone(), clock.clone());
        let coaching = Coaching::new(
            store.clone(),
            clock.clone(),
            messaging.clone(),
            send_limit.clone(),
            events.clone(),
        );
        let console = Console::new(store.clone(), messaging.clone(), audit.clone());
        let delivery = DeliveryQueue::start(store.clone(), events, clock.clone());
        let (shutdown, _) = watch::channel(false);
        Self(Arc::new(Shared {
            config,
            clock,
            store,
            bus,
            accounts,
            messaging,
            coaching,
            audit,
            console,
            devices,
            delivery,
            push,
            media,
            send_limit,
            auth_limits,
            shutdown,
            exports,
        }))
    }

    /// Forgets idle rate-limit keys so their memory stays bounded by recent activity.
    pub fn forget_idle_limits(&self) {
        self.send_limit.forget_idle();
        self.auth_limits.per_address.forget_idle();
        self.auth_limits.per_email.forget_idle();
        self.exports.forget_idle();
    }
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
