//! The one error type of Spotter. Domain functions, the HTTP handlers and the WebSocket all
//! speak it; `http::error` turns it into the contract's JSON answers and `ws` into error frames,
//! so no handler repeats a status-mapping `match`.

use std::borrow::Cow;
use std::collections::BTreeMap;

/// Field-level validation errors, shaped like Django REST Framework's: `{"field": ["msg"]}`.
pub type FieldErrors = BTreeMap<&'static str, Vec<Cow<'static, str>>>;

/// Why a request could not be authenticated; each answers 401 (REST) or closes 4001 (socket).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `Authorization` header (or no `?token=`).
    Missing,
    /// Bad signature, wrong algorithm, expired, not yet valid, wrong token type, bad claims.
    InvalidToken,
    /// A refresh token that was already spent, or whose family was revoked.
    Revoked,
    /// The token names a user who does not exist (any more).
    UserNotFound,
    /// The user was deactivated.
    UserInactive,
    /// Wrong email or password at login.
    BadCredentials,
}

impl AuthFailure {
    pub fn detail(self) -> &'static str {
        match self {
            Self::Missing => "Authentication credentials were not provided.",
            Self::InvalidToken => "Given token not valid for any token type",
            Self::Revoked => "Token is blacklisted",
            Self::UserNotFound => "User not found",
            Self::UserInactive => "User is inactive",
            Self::BadCredentials => "No active account found with the given credentials",
        }
    }

    /// SimpleJWT's `code` field, which the original apps may read.
    pub fn code(self) -> &'static str {
        match self {
            Self::Missing => "not_authenticated",
            Self::InvalidToken | Self::Revoked => "token_not_valid",
            Self::UserNotFound => "user_not_found",
            Self::UserInactive => "user_inactive",
            Self::BadCredentials => "no_active_account",
        }
    }
}

/// Every failure a request can meet. Client errors carry the contract's exact message; the
/// server's own failures are logged with context and answer an opaque body.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unauthenticated: {0:?}")]
    Unauthorized(AuthFailure),
    /// 403 with `{"error": ...}` (the messaging endpoints' shape).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// 403 with `{"detail": ...}` (the platform endpoints' shape, DRF's default).
    #[error("permission denied: {0}")]
    PermissionDenied(&'static str),
    /// 404 with `{"error": ...}`.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// 404 with DRF's `{"detail": "Not found."}`.
    #[error("not found")]
    NotFoundDetail,
    /// 404 with `{"detail": "Invalid page."}`.
    #[error("invalid page")]
    InvalidPage,
    /// 400 with `{"error": ...}`: a request that is well-formed but breaks a rule.
    #[error("rejected: {0}")]
    Rejected(&'static str),
    /// 400 with `{"field": ["..."]}`.
    #[error("invalid fields: {0:?}")]
    Invalid(FieldErrors),
    /// 400 with `{"detail": ...}`: the body is not JSON, or not an object.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// 413: the body is over the limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 405 for a method the route does not take.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 429 with `Retry-After`.
    #[error("throttled for {wait_secs}s")]
    Throttled { wait_secs: u64 },
    /// 507: the database's disk is full. Nothing was stored; the client may retry later.
    #[error("storage full: {0}")]
    StorageFull(String),
    /// 503: the database cannot be reached right now; the client may retry.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The contract's messages, in one place so REST, the socket and the tests agree.
pub mod msg {
    pub const CONVERSATION_NOT_FOUND: &str = "Conversation not found.";
    pub const NO_ACCESS: &str = "You do not have access to this conversation.";
    pub const IMPERSONATION_SEND: &str = "Cannot send messages during impersonation.";
    pub const IMPERSONATION_START: &str = "Cannot start conversations during impersonation.";
    pub const ARCHIVED_SEND: &str = "Cannot send messages in an archived conversation.";
    pub const ARCHIVED_READ: &str = "This conversation has been archived.";
    pub const ONLY_TRAINERS: &str = "Only trainers can start conversations.";
    pub const TRAINEE_NOT_ASSIGNED: &str = "Trainee not found or not assigned to you.";
    pub const REQUIRED: &str = "This field is required.";
    pub const BLANK: &str = "This field may not be blank.";
    pub const NOT_A_STRING: &str = "Not a valid string.";
    pub const NOT_AN_INTEGER: &str = "A valid integer is required.";
}

impl Error {
    /// A single-field validation error.
    pub fn field(name: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(name, vec![message.into()]);
        Self::Invalid(errors)
    }

    /// A short machine-readable code, used in WebSocket error frames and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(m) if *m == msg::IMPERSONATION_SEND => "read_only",
            Self::Forbidden(m) if *m == msg::ARCHIVED_READ => "archived",
            Self::Forbidden(_) | Self::PermissionDenied(_) => "forbidden",
            Self::NotFound(_) | Self::NotFoundDetail | Self::InvalidPage => "not_found",
            Self::Rejected(m) if *m == msg::ARCHIVED_SEND => "archived",
            Self::Rejected(_) => "rejected",
            Self::Invalid(_) => "invalid",
            Self::Malformed(_) => "malformed",
            Self::PayloadTooLarge => "too_large",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Throttled { .. } => "throttled",
            Self::Unavailable(_) => "unavailable",
            Self::StorageFull(_) => "storage_full",
            Self::Internal(_) => "internal",
        }
    }

    /// A human-readable sentence, for error frames and logs.
    pub fn detail(&self) -> String {
        match self {
            Self::Unauthorized(f) => f.detail().to_owned(),
            Self::Forbidden(m)
            | Self::PermissionDenied(m)
            | Self::NotFound(m)
            | Self::Rejected(m) => (*m).to_owned(),
            Self::NotFoundDetail => "Not found.".to_owned(),
            Self::InvalidPage => "Invalid page.".to_owned(),
            Self::Invalid(fields) => fields
                .iter()
                .map(|(k, v)| format!("{k}: {}", v.join(" ")))
                .collect::<Vec<_>>()
                .join("; "),
            Self::Malformed(m) => m.clone(),
            Self::PayloadTooLarge => "Request body is too large.".to_owned(),
            Self::MethodNotAllowed => "Method not allowed.".to_owned(),
            Self::Throttled { wait_secs } => throttle_detail(*wait_secs),
            Self::Unavailable(_) => {
                "Service temporarily unavailable, try again shortly.".to_owned()
            }
            Self::StorageFull(_) => {
                "The server is out of storage space; nothing was saved. Try again later.".to_owned()
            }
            Self::Internal(_) => "Internal server error.".to_owned(),
        }
    }
}

pub fn throttle_detail(wait_secs: u64) -> String {
    format!("Request was throttled. Expected available in {wait_secs} seconds.")
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            // The pool could not hand out a connection in time, or the server went away: the
            // client should retry, and must not hang (503 quickly rather than a slow 500).
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Self::Unavailable(e.to_string())
            }
            // SQLITE_FULL (13) and PostgreSQL's disk_full (53100): say so, rather than a 500.
            sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("13" | "53100")) => {
                Self::StorageFull(db.message().to_owned())
            }
            _ => Self::Internal(anyhow::Error::new(e).context("database")),
        }
    }
}
