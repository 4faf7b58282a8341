//! # spotter-client
//!
//! A typed client of Spotter's API, used by the server's integration tests, the load generator
//! and any Rust app.
//! - [`rest`]: one method per REST endpoint, typed answers and errors.
//! - [`ws`]: a raw socket with typed frames, and [`LiveConversation`]: reconnect with backoff,
//!   resume, optimistic sends reconciled by `client_message_id`: every message once, in order.
//! - [`model`]: the contract's JSON shapes, written independently of the server.

pub mod model;
pub mod rest;
pub mod ws;

pub use model::*;
pub use rest::{Client, Error, Raw, Result};
pub use ws::{Incoming, LiveConversation, ServerFrame, Socket, Update};
