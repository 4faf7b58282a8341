//! HS256 JWTs in SimpleJWT's shape (`token_type`, `exp`, `iat`, `jti`, `user_id`), so tokens
//! that the host platform signs with the same secret work here, and ours work there.
//!
//! Spotter adds `fam` (the login a refresh chain descends from, for revoking a stolen chain) and
//! carries `impersonating` / `original_user_id` through refreshes.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::model::UserId;
use crate::error::AuthFailure;

pub const ACCESS_TTL_SECS: i64 = 60 * 60;
pub const REFRESH_TTL_SECS: i64 = 7 * 24 * 60 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

/// The claims of a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub kind: TokenKind,
    pub user_id: UserId,
    pub jti: String,
    pub exp: i64,
    /// Read-only for messaging: a trainer or admin acting as someone else.
    pub impersonating: bool,
    pub original_user_id: Option<UserId>,
    /// The refresh chain this token belongs to; a foreign token's own `jti`.
    pub family: String,
}

/// The JSON body of a token as it travels. `user_id` may be an integer or, from newer
/// SimpleJWT, a string; both are read.
#[derive(Debug, Serialize, Deserialize)]
struct Wire {
    token_type: String,
    exp: i64,
    iat: i64,
    jti: String,
    user_id: serde_json::Value,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    impersonating: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    original_user_id: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fam: Option<String>,
    /// Not before (unix seconds), when a foreign issuer set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<i64>,
}

fn id_from_json(v: &serde_json::Value) -> Option<UserId> {
    match v {
        serde_json::Value::Number(n) => n.as_i64().map(UserId),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A fresh access + refresh pair.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access: String,
    pub refresh: String,
}

/// Who a new pair is for.
#[derive(Debug, Clone)]
pub struct Subject {
    pub user_id: UserId,
    pub impersonating: bool,
    pub original_user_id: Option<UserId>,
    /// Keep the chain of the token being refreshed; `None` starts a new one.
    pub family: Option<String>,
}

/// Signs and verifies tokens with the one shared secret.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl Tokens {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // `exp` must be present; it and `nbf` are checked in `verify` against Spotter's clock
        // (SimpleJWT's default: no leeway), not the library's reading of the system time.
        validation.leeway = 0;
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    fn sign(&self, kind: TokenKind, s: &Subject, family: &str, now: i64) -> anyhow::Result<String> {
        let ttl = match kind {
            TokenKind::Access => ACCESS_TTL_SECS,
            TokenKind::Refresh => REFRESH_TTL_SECS,
        };
        let wire = Wire {
            token_type: kind.as_str().to_owned(),
            exp: now + ttl,
            iat: now,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            user_id: s.user_id.get().into(),
            impersonating: s.impersonating,
            original_user_id: s.original_user_id.map(|id| id.get().into()),
            fam: Some(family.to_owned()),
            nbf: None,
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &wire,
            &self.encoding,
        )?)
    }

    /// A fresh pair for `subject`, issued at `now` (unix seconds).
    pub fn issue(&self, subject: &Subject, now: i64) -> anyhow::Result<TokenPair> {
        let family = subject
            .family
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        Ok(TokenPair {
            access: self.sign(TokenKind::Access, subject, &family, now)?,
            refresh: self.sign(TokenKind::Refresh, subject, &family, now)?,
        })
    }

    /// Verifies signature, algorithm, `exp` and `nbf` at `now` (unix seconds), and that the
    /// token is of `kind`.
    pub fn verify(&self, token: &str, kind: TokenKind, now: i64) -> Result<Claims, AuthFailure> {
        let data = jsonwebtoken::decode::<Wire>(token.trim(), &self.decoding, &self.validation)
            .map_err(|_| AuthFailure::InvalidToken)?;
        let w = data.claims;
        if w.exp < now || w.nbf.is_some_and(|nbf| nbf > now) {
            return Err(AuthFailure::InvalidToken);
        }
        if w.token_type != kind.as_str() || w.jti.is_empty() {
            return Err(AuthFailure::InvalidToken);
        }
        let user_id = id_from_json(&w.user_id).ok_or(AuthFailure::InvalidToken)?;
        let original_user_id = match &w.original_user_id {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(id_from_json(v).ok_or(AuthFailure::InvalidToken)?),
        };
        Ok(Claims {
            kind,
            user_id,
            family: w.fam.unwrap_or_else(|| w.jti.clone()),
            jti: w.jti,
            exp: w.exp,
            impersonating: w.impersonating,
            original_user_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn subject(id: i64) -> Subject {
        Subject {
            user_id: UserId(id),
            impersonating: false,
            original_user_id: None,
            family: None,
        }
    }

    #[test]
    fn an_issued_access_token_verifies_as_access_only() {
        let t = Tokens::new(b"k");
        let pair = t.issue(&subject(7), NOW).unwrap();
        assert_eq!(
            t.verify(&pair.access, TokenKind::Access, NOW)
                .unwrap()
                .user_id,
            UserId(7)
        );
        assert_eq!(
            t.verify(&pair.access, TokenKind::Refresh, NOW),
            Err(AuthFailure::InvalidToken)
        );
        assert_eq!(
            t.verify(&pair.refresh, TokenKind::Refresh, NOW)
                .unwrap()
                .user_id,
            UserId(7)
        );
    }

    #[test]
    fn a_string_user_id_is_accepted() {
        let t = Tokens::new(b"k");
        let now = NOW;
        let wire = serde_json::json!({"token_type": "access", "exp": now + 60, "iat": now, "jti": "j", "user_id": "2"});
        let tok = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &wire,
            &EncodingKey::from_secret(b"k"),
        )
        .unwrap();
        let claims = t.verify(&tok, TokenKind::Access, NOW).unwrap();
        assert_eq!(claims.user_id, UserId(2));
        assert_eq!(claims.family, "j");
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let pair = Tokens::new(b"other").issue(&subject(1), NOW).unwrap();
        assert_eq!(
            Tokens::new(b"k").verify(&pair.access, TokenKind::Access, NOW),
            Err(AuthFailure::InvalidToken)
        );
    }

    #[test]
    fn a_token_with_alg_none_is_refused() {
        let t = Tokens::new(b"k");
        let now = NOW;
        let b64 = |v: serde_json::Value| {
            let s = serde_json::to_vec(&v).unwrap();
            base64url(&s)
        };
        let tok = format!(
            "{}.{}.",
            b64(serde_json::json!({"alg": "none", "typ": "JWT"})),
            b64(
                serde_json::json!({"token_type": "access", "exp": now + 60, "iat": now, "jti": "j", "user_id": 1})
            )
        );
        assert_eq!(
            t.verify(&tok, TokenKind::Access, NOW),
            Err(AuthFailure::InvalidToken)
        );
    }

    #[test]
    fn a_token_is_refused_after_its_exp_and_before_its_nbf_on_the_given_clock() {
        let sign = |claims: serde_json::Value| {
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims,
                &EncodingKey::from_secret(b"k"),
            )
            .unwrap()
        };
        let t = Tokens::new(b"k");
        let tok = sign(
            serde_json::json!({"token_type": "access", "exp": NOW, "iat": NOW - 100, "jti": "j", "user_id": 1}),
        );
        assert!(
            t.verify(&tok, TokenKind::Access, NOW).is_ok(),
            "valid up to its exp"
        );
        assert_eq!(
            t.verify(&tok, TokenKind::Access, NOW + 1),
            Err(AuthFailure::InvalidToken)
        );
        let early = sign(
            serde_json::json!({"token_type": "access", "exp": NOW + 60, "nbf": NOW + 10, "iat": NOW, "jti": "j", "user_id": 1}),
        );
        assert_eq!(
            t.verify(&early, TokenKind::Access, NOW),
            Err(AuthFailure::InvalidToken)
        );
        assert!(t.verify(&early, TokenKind::Access, NOW + 10).is_ok());
    }

    /// Unpadded base64url, enough for a test token.
    fn base64url(bytes: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b))
                << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }
}
