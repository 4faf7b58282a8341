//! # Spotter
//!
//! 1:1 messaging between fitness trainers and their trainees: a REST + WebSocket server that
//! answers the original platform's apps to the letter and adds what a serious messenger needs
//! (`docs/api.md`).
//!
//! # Layout
//! A request flows top to bottom; each layer knows only the ones below it.
//! - [`http`]: one module per resource (`auth`, `messaging`, `templates`, `broadcasts`,
//!   `scheduled`, `trainer`, `admin`, `console`, `audit`, `export`, `devices`, `ops`), thin
//!   handlers; extractors for auth, JSON bodies and ids; the web dashboard.
//! - [`ws`]: the sockets (per conversation; per user): handshake, reader, writer, replay,
//!   presence, commands (send, read, typing) through the same domain services as REST.
//! - [`domain`]: the rules, standing alone (the store, an event publisher, the limits and the
//!   clock are all it knows): [`domain::access`] who may do what, [`domain::plan`] how
//!   messages are appended, the services (`messaging`, `accounts`, `devices`, `coaching`:
//!   broadcasts and scheduled messages, saved replies, needs reply; `audit`, `export`, the
//!   admin `console`, whose every read is in the audit log first), the events
//!   they publish, [`domain::input`] raw input into newtypes.
//! - [`store`]: two explicit backends behind one seam, [`store::sqlite`] (rusqlite) and
//!   [`store::postgres`] (sqlx `PgPool`), and the group commit of sends.
//! - Beside them: [`bus`] turns domain events into socket frames, to this node's sockets and,
//!   with Redis, every node's; [`push`] is the outbox worker (FCM HTTP v1, Web Push);
//!   [`media`] checks, stores and signs message images; [`workers`] writes delivered
//!   receipts, dispatches scheduled messages and broadcasts when due (leased claims, every
//!   node), sweeps uploads whose message never committed, and purges past retention.
//! - [`clock`]: the one clock; [`auth`]: tokens and passwords; [`error`]: the one error type
//!   (`http::error` maps it to status and JSON); [`wire`]: the contract's JSON and frames;
//!   [`state`]: where the parts are wired; [`startup`]: build → port → run-until-stopped, used
//!   by `main` and the tests alike; [`backup`]: the operator's copy of a SQLite data folder.

pub mod auth;
pub mod backup;
pub mod bus;
pub mod clock;
pub mod config;
pub mod demo;
pub mod domain;
pub mod error;
pub mod http;
pub mod import;
pub mod media;
pub mod metrics;
pub mod push;
pub mod ratelimit;
pub mod serve;
pub mod startup;
pub mod state;
pub mod store;
pub mod wire;
pub mod workers;
pub mod ws;

pub use config::Config;
pub use startup::Application;
