//! # Spotter
//!
//! 1:1 messaging between fitness trainers and their trainees: a REST + WebSocket server that
//! answers the original platform's apps to the letter (`spec/wire-contract.md`, Part A) and
//! adds what a serious messenger needs (Part B).
//!
//! # Layout
//! A request flows top to bottom:
//! - [`http`]: one module per resource (`auth`, `messaging`, `trainer`, `admin`, `devices`,
//!   `ops`), thin handlers; extractors for auth, JSON bodies and ids; the web dashboard.
//! - [`domain`]: the contract's rules as plain functions (`messaging`, `accounts`, `devices`),
//!   shared by REST and the socket; [`domain::input`] validates raw input into newtypes.
//! - [`ws`]: the sockets (per conversation, Part A; per user, Part B 4): auth, resume, live
//!   events, commands (send, read, typing) through the same domain functions as REST.
//! - [`bus`]: events after commit, to this node's sockets ([`bus::Hub`]) and, with Redis, to
//!   every node's.
//! - [`push`]: the outbox worker; FCM HTTP v1 and Web Push (RFC 8291/8292) providers.
//! - [`store`]: all SQL, one set of statements for SQLite and PostgreSQL (sqlx `Any`).
//! - [`auth`]: SimpleJWT-compatible tokens and Argon2id passwords.
//! - [`error`]: the one error type; `http::error` maps it to status and JSON.
//! - [`wire`]: the JSON shapes of the contract.
//! - [`startup`]: build → port → run-until-stopped, used by `main` and the tests alike.

pub mod auth;
pub mod bus;
pub mod clock;
pub mod config;
pub mod demo;
pub mod domain;
pub mod error;
pub mod http;
pub mod metrics;
pub mod push;
pub mod ratelimit;
pub mod serve;
pub mod startup;
pub mod state;
pub mod store;
pub mod wire;
pub mod ws;

pub use config::Config;
pub use startup::Application;
