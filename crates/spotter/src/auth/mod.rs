//! Credentials: JWTs compatible with the host platform's SimpleJWT, and Argon2id passwords.

pub mod jwt;
pub mod password;

pub use jwt::{Claims, TokenKind, TokenPair, Tokens};
