//! The one error type of Spotter. Domain functions, the HTTP handlers and the WebSocket all
//! speak it; `http::error` turns it into the contract's status and JSON, `ws` into error
//! frames. Each variant says what happened; the contract's exact words live here, once.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::store::StoreError;

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

    // The messaging rules, answered `{"error": ...}` as the original's messaging API does.
    /// An impersonation token is read-only: no send, start or typing (403).
    #[error("read-only token")]
    ReadOnly,
    /// 404.
    #[error("no such conversation")]
    ConversationNotFound,
    /// 403: the caller does not take part in the conversation.
    #[error("not a participant")]
    NotParticipant,
    /// 403: the trainee of an archived conversation has lost its history.
    #[error("archived conversation")]
    ArchivedHistory,
    /// 400: an archived conversation takes no new messages.
    #[error("archived conversation takes no messages")]
    ArchivedConversation,
    /// 403: only a trainer starts conversations.
    #[error("only trainers start conversations")]
    OnlyTrainersStart,
    /// 400: the trainee is not the trainer's (or not an active trainee at all).
    #[error("trainee not assigned")]
    TraineeNotAssigned,
    /// 403: an impersonation token may not edit or delete.
    #[error("read-only token may not {0:?}")]
    ReadOnlyChange(Change),
    /// 400: no such message in this conversation.
    #[error("no such message")]
    MessageNotFound,
    /// 403: only the author edits or deletes a message.
    #[error("not the author")]
    NotAuthor(Change),
    /// 400: a deleted message cannot be edited, nor deleted again.
    #[error("message deleted")]
    MessageDeleted(Change),
    /// 400: edits are allowed for 15 minutes.
    #[error("edit window expired")]
    EditWindowExpired,
    /// 400: a message without an image needs text.
    #[error("empty text-only message")]
    EmptyTextOnly,
    /// 400: the image's declared type (or its bytes) is not JPEG, PNG or WebP.
    #[error("unsupported image type")]
    UnsupportedImage,
    /// 400: the image is over 5 MiB.
    #[error("image too large")]
    ImageTooLarge,
    /// 400: neither text nor image.
    #[error("empty message")]
    EmptyMessage,
    /// 400: a search without a query.
    #[error("search query required")]
    SearchQueryRequired,
    /// 400: a search query under 2 characters.
    #[error("search query too short")]
    SearchQueryTooShort,
    /// 400: admins do not search messages (they take part in no conversation).
    #[error("admins cannot search")]
    SearchNotForAdmins,
    /// 403: saved replies are a trainer's.
    #[error("only trainers have saved replies")]
    OnlyTrainersHaveReplies,
    /// 404: no such saved reply of the caller's.
    #[error("no such saved reply")]
    TemplateNotFound,
    /// 400: the trainer keeps as many saved replies as allowed.
    #[error("too many saved replies")]
    TooManyTemplates,
    /// 403: broadcasts are a trainer's.
    #[error("only trainers broadcast")]
    OnlyTrainersBroadcast,
    /// 404: no such broadcast of the caller's.
    #[error("no such broadcast")]
    BroadcastNotFound,
    /// 400: only a scheduled broadcast that no node has begun can be cancelled.
    #[error("broadcast no longer scheduled")]
    BroadcastNotScheduled,
    /// 404: no such scheduled message of the caller's in that conversation.
    #[error("no such scheduled message")]
    ScheduledNotFound,
    /// 400: a scheduled message that was sent, cancelled, failed or is being sent.
    #[error("scheduled message no longer pending")]
    NoLongerPending,
    /// 400: the author has as many pending scheduled messages as allowed.
    #[error("too many scheduled messages")]
    TooManyScheduled,
    /// A send for someone whose account was deactivated since (a scheduled message, a
    /// broadcast): recorded as its failure, never answered to a request.
    #[error("sender deactivated")]
    SenderDeactivated,

    // The platform's other endpoints, answered `{"detail": ...}` (DRF's shape).
    /// 403: the caller's role may not do this.
    #[error("not permitted")]
    NotPermitted,
    /// 403: impersonation cannot nest.
    #[error("already impersonating")]
    AlreadyImpersonating,
    /// 403: ending an impersonation that is not one.
    #[error("not impersonating")]
    NotImpersonating,
    /// 403: a roster change with a read-only token.
    #[error("not allowed during impersonation")]
    NotDuringImpersonation,
    /// 404 `{"detail": "Not found."}`: no such resource for this caller.
    #[error("not found")]
    NotFound,
    /// 404 `{"detail": "Invalid page."}`.
    #[error("invalid page")]
    InvalidPage,
    /// 400 (operator commands): a trainee can only be assigned to a trainer.
    #[error("bad assignment")]
    BadAssignment,
    /// 400 with `{"field": ["..."]}`.
    #[error("invalid fields: {0:?}")]
    Invalid(FieldErrors),
    /// 400 with `{"detail": ...}`: the body is not JSON, or not an object, or contradicts itself.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// 415: a body that is neither JSON nor (where taken) a multipart form.
    #[error("unsupported media type {0}")]
    UnsupportedMediaType(String),
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

/// A change to a message after it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Edit,
    Delete,
}

/// The contract's field messages, shared by every validator (REST bodies and socket frames).
pub mod msg {
    pub const REQUIRED: &str = "This field is required.";
    pub const BLANK: &str = "This field may not be blank.";
    pub const NOT_A_STRING: &str = "Not a valid string.";
    pub const NOT_AN_INTEGER: &str = "A valid integer is required.";
    pub const NOT_NULL: &str = "This field may not be null.";
}

/// Which JSON shape an error answers with.
pub enum Shape {
    /// `{"error": message}`: the messaging rules.
    Error(&'static str),
    /// `{"detail": message}` (and SimpleJWT's `code` for authentication failures).
    Detail(Cow<'static, str>),
    /// `{"field": ["message", ...]}`.
    Fields,
}

impl Error {
    /// A single-field validation error.
    pub fn field(name: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(name, vec![message.into()]);
        Self::Invalid(errors)
    }

    /// The answer's shape and words.
    pub fn shape(&self) -> Shape {
        let rule = |m| Shape::Error(m);
        let detail = |m: &'static str| Shape::Detail(Cow::Borrowed(m));
        match self {
            Self::ReadOnly => rule("Cannot send messages during impersonation."),
            Self::ConversationNotFound => rule("Conversation not found."),
            Self::NotParticipant => rule("You do not have access to this conversation."),
            Self::ArchivedHistory => rule("This conversation has been archived."),
            Self::ArchivedConversation => rule("Cannot send messages in an archived conversation."),
            Self::OnlyTrainersStart => rule("Only trainers can start conversations."),
            Self::TraineeNotAssigned => rule("Trainee not found or not assigned to you."),
            Self::ReadOnlyChange(Change::Edit) => {
                rule("Cannot edit messages during impersonation.")
            }
            Self::ReadOnlyChange(Change::Delete) => {
                rule("Cannot delete messages during impersonation.")
            }
            Self::MessageNotFound => rule("Message not found."),
            Self::NotAuthor(Change::Edit) => rule("You can only edit your own messages."),
            Self::NotAuthor(Change::Delete) => rule("You can only delete your own messages."),
            Self::MessageDeleted(Change::Edit) => rule("Message has been deleted."),
            Self::MessageDeleted(Change::Delete) => rule("Message has already been deleted."),
            Self::EditWindowExpired => rule("Edit window has expired."),
            Self::EmptyTextOnly => rule("Content cannot be empty for a text-only message."),
            Self::UnsupportedImage => rule("Only JPEG, PNG, and WebP images are supported."),
            Self::ImageTooLarge => rule("Image must be under 5MB."),
            Self::EmptyMessage => rule("Message must contain text or an image."),
            Self::SearchQueryRequired => rule("Search query is required."),
            Self::SearchQueryTooShort => rule("Search query must be at least 2 characters."),
            Self::SearchNotForAdmins => rule("Only trainers and trainees can search messages."),
            Self::OnlyTrainersHaveReplies => rule("Only trainers have saved replies."),
            Self::TemplateNotFound => rule("Saved reply not found."),
            Self::TooManyTemplates => rule(TOO_MANY_TEMPLATES),
            Self::OnlyTrainersBroadcast => rule("Only trainers can send broadcasts."),
            Self::BroadcastNotFound => rule("Broadcast not found."),
            Self::BroadcastNotScheduled => rule("This broadcast is no longer scheduled."),
            Self::ScheduledNotFound => rule("Scheduled message not found."),
            Self::NoLongerPending => rule("This message is no longer pending."),
            Self::TooManyScheduled => rule(TOO_MANY_SCHEDULED),
            Self::SenderDeactivated => rule("The sender's account is deactivated."),
            Self::UnsupportedMediaType(t) => Shape::Detail(Cow::Owned(format!(
                "Unsupported media type \"{t}\" in request."
            ))),
            Self::Unauthorized(f) => detail(f.detail()),
            Self::NotPermitted => detail("You do not have permission to perform this action."),
            Self::AlreadyImpersonating => detail("Already impersonating; end it first."),
            Self::NotImpersonating => detail("Not currently impersonating."),
            Self::NotDuringImpersonation => {
                detail("This action is not allowed during impersonation.")
            }
            Self::NotFound => detail("Not found."),
            Self::InvalidPage => detail("Invalid page."),
            Self::BadAssignment => detail("Only a trainee can be assigned, and only to a trainer."),
            Self::Invalid(_) => Shape::Fields,
            Self::Malformed(m) => Shape::Detail(Cow::Owned(m.clone())),
            Self::PayloadTooLarge => detail("Request body is too large."),
            Self::MethodNotAllowed => detail("Method not allowed."),
            Self::Throttled { wait_secs } => Shape::Detail(Cow::Owned(throttle_detail(*wait_secs))),
            Self::Unavailable(_) => detail("Service temporarily unavailable, try again shortly."),
            Self::StorageFull(_) => {
                detail("The server is out of storage space; nothing was saved. Try again later.")
            }
            Self::Internal(_) => detail("Internal server error."),
        }
    }

    /// A short machine-readable code, used in WebSocket error frames and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized(_) => "unauthorized",
            Self::ReadOnly | Self::ReadOnlyChange(_) => "read_only",
            Self::NotAuthor(_) => "forbidden",
            Self::MessageNotFound => "not_found",
            Self::MessageDeleted(_) => "deleted",
            Self::EditWindowExpired => "edit_window_expired",
            Self::EmptyTextOnly
            | Self::UnsupportedImage
            | Self::ImageTooLarge
            | Self::EmptyMessage
            | Self::SearchQueryRequired
            | Self::SearchQueryTooShort => "invalid",
            Self::SearchNotForAdmins | Self::TooManyTemplates => "rejected",
            Self::OnlyTrainersHaveReplies => "forbidden",
            Self::TemplateNotFound | Self::BroadcastNotFound | Self::ScheduledNotFound => {
                "not_found"
            }
            Self::OnlyTrainersBroadcast => "forbidden",
            Self::BroadcastNotScheduled | Self::NoLongerPending | Self::TooManyScheduled => {
                "rejected"
            }
            Self::SenderDeactivated => "inactive",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::ArchivedHistory | Self::ArchivedConversation => "archived",
            Self::NotParticipant
            | Self::OnlyTrainersStart
            | Self::NotPermitted
            | Self::AlreadyImpersonating
            | Self::NotImpersonating
            | Self::NotDuringImpersonation => "forbidden",
            Self::ConversationNotFound | Self::NotFound | Self::InvalidPage => "not_found",
            Self::TraineeNotAssigned | Self::BadAssignment => "rejected",
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
        match (self, self.shape()) {
            (Self::Invalid(fields), _) => fields
                .iter()
                .map(|(k, v)| format!("{k}: {}", v.join(" ")))
                .collect::<Vec<_>>()
                .join("; "),
            (_, Shape::Error(m)) => m.to_owned(),
            (_, Shape::Detail(m)) => m.into_owned(),
            (_, Shape::Fields) => String::new(),
        }
    }
}

/// The cap's answer, with the cap in it.
const TOO_MANY_TEMPLATES: &str =
    "You can keep at most 200 saved replies. Delete one to save another.";

/// The cap on pending scheduled messages, with the cap in it.
const TOO_MANY_SCHEDULED: &str =
    "You can have at most 500 scheduled messages waiting. Cancel one to schedule another.";

pub fn throttle_detail(wait_secs: u64) -> String {
    format!("Request was throttled. Expected available in {wait_secs} seconds.")
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            // The database is away or overloaded: the client should retry, and must not hang
            // (503 quickly rather than a slow 500).
            StoreError::Unavailable(m) => Self::Unavailable(m),
            StoreError::Full(m) => Self::StorageFull(m),
            other => Self::Internal(anyhow::Error::new(other).context("database")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_only_answer_is_the_same_for_send_and_start() {
        let e = Error::ReadOnly;
        assert_eq!(e.code(), "read_only");
        assert_eq!(e.detail(), "Cannot send messages during impersonation.");
    }

    #[test]
    fn field_errors_read_as_one_sentence_per_field() {
        let mut fields = FieldErrors::new();
        fields.insert("content", vec![msg::BLANK.into()]);
        fields.insert("trainee_id", vec![msg::REQUIRED.into()]);
        assert_eq!(
            Error::Invalid(fields).detail(),
            "content: This field may not be blank.; trainee_id: This field is required."
        );
    }

    #[test]
    fn a_database_that_is_away_is_503_and_a_full_one_507() {
        assert!(matches!(
            Error::from(StoreError::Unavailable("gone".into())),
            Error::Unavailable(_)
        ));
        assert!(matches!(
            Error::from(StoreError::Full("disk".into())),
            Error::StorageFull(_)
        ));
        assert!(matches!(
            Error::from(StoreError::Conflict("email".into())),
            Error::Internal(_)
        ));
    }
}
