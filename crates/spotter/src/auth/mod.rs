//! Credentials: JWTs compatible with the host platform's SimpleJWT, and passwords: Argon2id,
//! plus the Django hashes of users imported from the original platform.

pub mod django;
pub mod jwt;
pub mod password;

pub use jwt::{Claims, TokenKind, TokenPair, Tokens};
