//! [`Error`] as an HTTP answer: the contract's status and JSON body. Server-side failures are
//! logged here, once, with their cause; the client sees an opaque message.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{Error, Shape};

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::ReadOnly
            | Self::ReadOnlyChange(_)
            | Self::NotAuthor(_)
            | Self::NotParticipant
            | Self::ArchivedHistory
            | Self::OnlyTrainersStart
            | Self::OnlyTrainersHaveReplies
            | Self::OnlyTrainersBroadcast
            | Self::NotPermitted
            | Self::AlreadyImpersonating
            | Self::NotImpersonating
            | Self::NotDuringImpersonation => StatusCode::FORBIDDEN,
            Self::ConversationNotFound
            | Self::TemplateNotFound
            | Self::BroadcastNotFound
            | Self::ScheduledNotFound
            | Self::NotFound
            | Self::InvalidPage => StatusCode::NOT_FOUND,
            Self::ArchivedConversation
            | Self::TraineeNotAssigned
            | Self::BadAssignment
            | Self::Invalid(_)
            | Self::Malformed(_)
            | Self::MessageNotFound
            | Self::MessageDeleted(_)
            | Self::EditWindowExpired
            | Self::EmptyTextOnly
            | Self::UnsupportedImage
            | Self::ImageTooLarge
            | Self::EmptyMessage
            | Self::SearchQueryRequired
            | Self::SearchQueryTooShort
            | Self::SearchNotForAdmins
            | Self::TooManyTemplates
            | Self::BroadcastNotScheduled
            | Self::NoLongerPending
            | Self::TooManyScheduled
            | Self::SenderDeactivated => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::StorageFull(_) => StatusCode::INSUFFICIENT_STORAGE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn body(&self) -> serde_json::Value {
        match (self, self.shape()) {
            (Self::Unauthorized(f), _) => json!({"detail": f.detail(), "code": f.code()}),
            (Self::Invalid(fields), _) => json!(fields),
            (_, Shape::Error(m)) => json!({"error": m}),
            (_, Shape::Detail(m)) => json!({"detail": m}),
            (_, Shape::Fields) => json!({}),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(e) => tracing::error!(error = ?e, "request failed"),
            Self::Unavailable(e) => tracing::warn!(error = %e, "database unavailable"),
            Self::StorageFull(e) => tracing::error!(error = %e, "database storage full"),
            _ => {}
        }
        let mut response = (self.status(), Json(self.body())).into_response();
        let headers = response.headers_mut();
        match &self {
            Self::Throttled { wait_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*wait_secs));
            }
            Self::Unauthorized(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"api\""),
                );
            }
            Self::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}
