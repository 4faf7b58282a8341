//! # spotter-client
//!
//! A typed client of Spotter's API, used by the server's integration tests, the load generator
//! and any Rust app.
//! - [`rest`]: one method per REST endpoint, typed answers and errors.
//! - [`model`]: the contract's JSON shapes, written independently of the server.

pub mod model;
pub mod rest;

pub use model::*;
pub use rest::{Client, Error, Raw, Result};
