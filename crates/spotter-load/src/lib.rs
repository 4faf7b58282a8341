//! # spotter-load
//!
//! Load generator for Spotter, built on `spotter-client`. Seven scenarios, each bounded in time
//! and count, aimed only at loopback (127.0.0.0/8 or `localhost`), stopping by itself:
//!
//! - [`chat`]: trainer–trainee pairs on sockets, each side sending on a fixed (open-loop)
//!   timetable over REST or the socket; send→deliver latency from the *scheduled* send time,
//!   loss and duplicate counting, server RSS and CPU time.
//! - [`idle`]: many authenticated open sockets; server memory per connection and kernel socket
//!   memory.
//! - [`history`]: paging through a long conversation with `?before=` cursors.
//! - [`list`]: the conversation list and unread count of a trainer with many trainees.
//! - [`search`]: searching a long history (many conversations, a million messages) by query
//!   kind: rare, common, no match, two characters.
//! - [`upload`]: photo sends by size (100 KiB, 1 MiB, 5 MiB JPEGs): time to the 201, server
//!   CPU per upload.
//! - [`broadcast`]: one trainer's broadcast to many trainees on live sockets: time to the 202,
//!   to the `done` progress frame, to each trainee's socket; exactly one copy each, first name
//!   filled in; optionally beside the chat load.
//!
//! The `spotter-load` binary is a thin command line over these functions; the integration
//! test calls them directly.

pub mod broadcast;
pub mod chat;
pub mod hist;
pub mod history;
pub mod idle;
pub mod list;
pub mod net;
pub mod procfs;
pub mod report;
pub mod search;
pub mod setup;
pub mod upload;

pub use setup::{Setup, UsersSource};
