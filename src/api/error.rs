//! One error type for every handler: a stable machine-readable code, a
//! message for people, and the HTTP status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds until a rate-limited caller may come back (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), retry_after: None }
    }

    /// 429 with the whole seconds until a request is allowed again.
    pub fn rate_limited(wait: std::time::Duration) -> Self {
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        let e =
            Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", format!("too many requests: retry in {secs} s"));
        ApiError { retry_after: Some(secs), ..e }
    }

    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} '{id}' does not exist"))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // A 503 is a state reported (not ready, database away), not a fault.
        if self.status.is_server_error() && self.status != StatusCode::SERVICE_UNAVAILABLE {
            tracing::error!(code = self.code, message = %self.message, "API error");
        }
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, "Bearer".parse().expect("a header"));
        }
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        use crate::db::Classify;
        if e.is_retry() {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "database_unavailable", e.to_string())
        } else {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
        }
    }
}

impl From<crate::access::AccessError> for ApiError {
    fn from(e: crate::access::AccessError) -> Self {
        match e {
            crate::access::AccessError::Invalid(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m),
            crate::access::AccessError::Refused(m) => ApiError::unauthorized(m),
            crate::access::AccessError::Db(db) => db.into(),
        }
    }
}

impl From<crate::tickets::StoreError> for ApiError {
    fn from(e: crate::tickets::StoreError) -> Self {
        use crate::tickets::StoreError as E;
        match e {
            E::NotFound(id) => ApiError::not_found("ticket", id.as_str()),
            E::InvalidTransition { .. } => ApiError::new(StatusCode::CONFLICT, "invalid_transition", e.to_string()),
            E::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "concurrent_update", e.to_string()),
            E::QuoteNotAccepted(_) => ApiError::new(StatusCode::CONFLICT, "quote_not_accepted", e.to_string()),
            E::NoQuoteToAccept(_) => ApiError::new(StatusCode::CONFLICT, "no_quote_to_accept", e.to_string()),
            E::ReportRequired => ApiError::new(StatusCode::CONFLICT, "report_required", e.to_string()),
            E::Invalid(_) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_record", e.to_string()),
            E::NotClosed(_) => ApiError::new(StatusCode::CONFLICT, "not_closed", e.to_string()),
            E::FollowUpExists(_) => ApiError::new(StatusCode::CONFLICT, "follow_up_exists", e.to_string()),
            E::NotHolder { .. } => ApiError::new(StatusCode::CONFLICT, "not_holder", e.to_string()),
            E::OwnCommand(how) => ApiError::bad_request(how),
            E::Moot(_) => ApiError::new(StatusCode::CONFLICT, "moot", e.to_string()),
            E::NotBookable(_) => ApiError::new(StatusCode::CONFLICT, "not_bookable", e.to_string()),
            E::BadWindow(_) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_window", e.to_string()),
            E::Db(db) => db.into(),
        }
    }
}
