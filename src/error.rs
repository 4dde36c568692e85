//! `AppError`: what a use case answers when it refuses or fails, with a stable code
//! (API.md). It maps once to an HTTP response. The cause of an internal error goes to the
//! log, never to the client: causes may hold patient data.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::Value;

use crate::domain::RuleViolation;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadRequest,
    Unauthenticated,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UriTooLong,
    UnsupportedMediaType,
    Unprocessable,
    TooManyRequests,
    HeadersTooLarge,
    Unavailable,
    Internal,
}

impl ErrorKind {
    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::UriTooLong => StatusCode::URI_TOO_LONG,
            ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AppError {
    pub kind: ErrorKind,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        Self { kind, code, message: message.into(), details: Value::Null }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn unauthenticated() -> Self {
        Self::new(ErrorKind::Unauthenticated, "unauthenticated", "Please sign in again.")
    }

    pub fn invalid_credentials() -> Self {
        Self::new(ErrorKind::Unauthenticated, "invalid_credentials", "Wrong username or password.")
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, "forbidden", message)
    }

    pub fn not_found() -> Self {
        Self::new(ErrorKind::NotFound, "not_found", "Not found.")
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unprocessable, "validation_failed", message)
    }

    /// A field-specific validation error.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::validation(format!("{field}: {message}")).with_details(serde_json::json!({ "field": field }))
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, code, message)
    }

    pub fn too_many_attempts() -> Self {
        Self::new(
            ErrorKind::TooManyRequests,
            "too_many_attempts",
            "Too many failed sign-in attempts. Wait 15 minutes or ask an administrator.",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(ErrorKind::Unavailable, "service_unavailable", "The database is not answering. Try again shortly.")
    }

    /// An internal failure. `cause` is logged here and never sent to the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error");
        Self::internal_silent()
    }

    /// An internal failure whose cause was already logged.
    pub fn internal_silent() -> Self {
        Self::new(ErrorKind::Internal, "internal_error", "Something went wrong on our side. Please try again.")
    }

    /// The generic body for a bare HTTP status (used for responses actix builds itself).
    pub fn for_status(status: StatusCode) -> Self {
        match status.as_u16() {
            400 => Self::new(ErrorKind::BadRequest, "bad_request", "The request could not be read."),
            401 => Self::unauthenticated(),
            403 => Self::forbidden("You are not allowed to do this."),
            404 => Self::not_found(),
            405 => Self::new(ErrorKind::MethodNotAllowed, "method_not_allowed", "This method is not allowed here."),
            413 => Self::payload_too_large(),
            414 => Self::uri_too_long(),
            415 => Self::unsupported_media_type(),
            429 => Self::new(ErrorKind::TooManyRequests, "too_many_requests", "Too many requests."),
            431 => Self::headers_too_large(),
            503 => Self::unavailable(),
            s if (400..500).contains(&s) => {
                Self::new(ErrorKind::BadRequest, "bad_request", "The request could not be read.")
            }
            _ => Self::internal_silent(),
        }
    }

    pub fn payload_too_large() -> Self {
        Self::new(ErrorKind::PayloadTooLarge, "payload_too_large", "The request body is too large.")
    }

    pub fn uri_too_long() -> Self {
        Self::new(ErrorKind::UriTooLong, "uri_too_long", "The address (path and query) is too long.")
    }

    pub fn headers_too_large() -> Self {
        Self::new(ErrorKind::HeadersTooLarge, "headers_too_large", "The request's headers are too large or too many.")
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(ErrorKind::UnsupportedMediaType, "unsupported_media_type", "Send the body as application/json.")
    }
}

impl From<RuleViolation> for AppError {
    fn from(v: RuleViolation) -> Self {
        let kind = match v.code {
            "site_not_allowed" | "forbidden" => ErrorKind::Forbidden,
            "already_dosed_today" => ErrorKind::Conflict,
            _ => ErrorKind::Unprocessable,
        };
        AppError { kind, code: v.code, message: v.message, details: v.details }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => AppError::not_found(),
            // PostgreSQL refuses text with a NUL character (SQLite stores it); either way it
            // is the client's input, not our failure.
            diesel::result::Error::DatabaseError(_, info) if info.message().contains("invalid byte sequence") => {
                AppError::validation("Text must not contain NUL characters.")
            }
            other => AppError::internal(format!("database: {other}")),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        tracing::error!(cause = %e, "database pool");
        AppError::unavailable()
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        if e.is_panic() {
            tracing::error!("a database task panicked");
            AppError::internal_silent()
        } else {
            AppError::internal("a database task was cancelled")
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AppError {}

/// The JSON error body of API.md.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable snake_case code (API.md, RULES.md).
    pub code: String,
    /// What happened and what to do next, in words.
    pub message: String,
    #[schema(value_type = Object)]
    #[serde(skip_serializing_if = "Value::is_null")]
    pub details: Value,
}

impl AppError {
    /// The body this error answers with, as JSON (for a stored, replayable answer).
    pub fn body(&self) -> Value {
        serde_json::json!({"error": ErrorDetail {
            code: self.code.to_string(),
            message: self.message.clone(),
            details: self.details.clone(),
        }})
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.kind.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header(("Cache-Control", "no-store"));
        if self.kind == ErrorKind::Unauthenticated {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        response.json(ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message.clone(),
                details: self.details.clone(),
            },
        })
    }
}
