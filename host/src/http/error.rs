//! Every error the REST API and the stream answer with, in one shape:
//! `{"error": {"code": "invalid", "message": "...", "field": "data.progress"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable, machine-readable: `invalid`, `not_found`, `too_large`,
    /// `request_timeout`, `no_channels`, `store_error`, `unauthorized`,
    /// `method_not_allowed`, `not_retryable`, `in_flight`, `unavailable`.
    pub code: &'static str,
    /// What went wrong and what to do about it (secrets redacted).
    pub message: String,
    /// The dotted path of the offending field, when there is one.
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: crate::redact::redact(&message.into()),
            field: None,
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let mut e = ApiError::new(StatusCode::BAD_REQUEST, "invalid", message);
        e.field = (!field.is_empty()).then(|| field.to_string());
        e
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// An operation's refusal, said with `message`: each kind of
    /// [`OpError`] has one status and code on every route.
    pub fn from_op(e: crate::ops::OpError, message: String) -> Self {
        use crate::ops::OpError;
        match e {
            OpError::Invalid { field, .. } => ApiError::invalid(&field, message),
            OpError::UnknownChannel { .. } => ApiError::invalid("channels", message),
            OpError::NoChannels => ApiError::new(StatusCode::CONFLICT, "no_channels", message),
            // Nothing was written: the client may try again once the store is back.
            OpError::Store(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store_error", message)
            }
            OpError::NoSuchRun(_)
            | OpError::NoSuchDelivery(_)
            | OpError::NoSuchWatcher(_)
            | OpError::NoSuchAsk(_) => ApiError::not_found(message),
            OpError::Busy(_) => ApiError::new(StatusCode::CONFLICT, "in_flight", message),
            OpError::NotRetryable { in_flight, .. } => {
                let code = if in_flight {
                    "in_flight"
                } else {
                    "not_retryable"
                };
                ApiError::new(StatusCode::CONFLICT, code, message)
            }
        }
    }

    pub fn store(e: impl std::fmt::Display) -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "store_error",
            format!("the event store failed: {e}"),
        )
    }

    pub fn body(&self) -> serde_json::Value {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(f) = &self.field {
            error["field"] = json!(f);
        }
        json!({ "error": error })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}
