//! REST integration tests: a real server per test, through HTTP, each on SQLite and PostgreSQL.

#[path = "../common/mod.rs"]
mod helpers;

mod access;
mod admin_console;
mod adopted;
mod attacks;
mod audit;
mod auth;
mod changes;
mod coaching;
mod devices;
mod export;
mod fuzzed;
mod hostile;
mod images;
mod later;
mod matrix;
mod messaging;
mod ops;
mod orphans;
mod paging;
mod preferences;
mod retention;
mod rules;
mod search;
mod trainer;
