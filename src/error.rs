//! `AppError`: what a use case answers when it refuses or fails, with a stable code
//! (API.md). It maps once to an HTTP response. The cause of an internal error goes to the
//! log, never to the client: causes may hold patient data.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::Value;

use crate::domain::RuleViolation;

pub use crate::domain::codes::ErrorCode;

/// The HTTP status of each code: the one place it is decided.
pub fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode::*;
    match code {
        BadRequest | MalformedJson => StatusCode::BAD_REQUEST,
        Unauthenticated | InvalidCredentials => StatusCode::UNAUTHORIZED,
        Forbidden | SiteNotAllowed => StatusCode::FORBIDDEN,
        NotFound => StatusCode::NOT_FOUND,
        MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        UriTooLong => StatusCode::URI_TOO_LONG,
        UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        TooManyAttempts | TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        AlreadyDosedToday
        | AlreadyApproved
        | ReviewExists
        | ReversalExists
        | LateCorrectionExists
        | DoseReversed
        | AlreadyConfirmed
        | DuplicatePatient
        | DuplicateSite
        | DuplicateUsername
        | TestHasResult
        | PoliceAlreadyNotified
        | AlertNotOpen
        | DuplicateCaseRef
        | AlreadyReported
        | AlreadyDetained
        | NotDetained
        | HomeVisitWrongState
        | DayClosed
        | OfflineDoseConflict
        | OfflineDayEnded
        | DuplicateProduct
        | LostRace
        | IdempotencyAnswered => StatusCode::CONFLICT,
        ValidationFailed
        | IdempotencyKeyReused
        | DoseAboveCeiling
        | InductionRequired
        | InductionDoseExceeded
        | DoseStepExceeded
        | IncreaseTooSoon
        | EcgRequired
        | QtcTooLong
        | QtcProlonged
        | SecondDoctorRequired
        | PatientNotActive
        | NoActiveOrder
        | SplitIntervalNotElapsed
        | IdentityNotConfirmed
        | DoseWithheldIntoxicated
        | DoctorReviewRequired
        | ReinductionRequired
        | DoseExceedsDue
        | TwoPersonRule
        | ReversalWindowClosed
        | UseReversal
        | PoliceNotificationNotRequired
        | HomeVisitNotAuthorized
        | HomeVisitDoseOutstanding
        | StockDiscrepancy
        | NoDispensingProduct => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// What `Retry-After` says when the database does not answer.
pub const UNAVAILABLE_RETRY_SECONDS: u64 = 2;

#[derive(Debug, Clone)]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Value,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), details: Value::Null }
    }

    pub fn status(&self) -> StatusCode {
        status_of(self.code)
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn unauthenticated() -> Self {
        Self::new(ErrorCode::Unauthenticated, "Please sign in again.")
    }

    pub fn invalid_credentials() -> Self {
        Self::new(ErrorCode::InvalidCredentials, "Wrong username or password.")
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound, "Not found.")
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationFailed, message)
    }

    /// A field-specific validation error.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::validation(format!("{field}: {message}")).with_details(serde_json::json!({ "field": field }))
    }

    pub fn too_many_attempts() -> Self {
        Self::new(
            ErrorCode::TooManyAttempts,
            "Too many failed sign-in attempts. Wait 15 minutes or ask an administrator.",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(ErrorCode::ServiceUnavailable, "The database is not answering. Try again shortly.")
            .with_details(serde_json::json!({ "retry_after_seconds": UNAVAILABLE_RETRY_SECONDS }))
    }

    /// The service took longer than its time limit for a request.
    pub fn timed_out() -> Self {
        Self::new(ErrorCode::ServiceUnavailable, "The service is too busy to answer in time. Try again shortly.")
            .with_details(serde_json::json!({ "retry_after_seconds": UNAVAILABLE_RETRY_SECONDS }))
    }

    /// Seconds a client should wait before trying again (`Retry-After`): for 503 and 429.
    pub fn retry_after(&self) -> Option<u64> {
        let given = self.details.get("retry_after_seconds").and_then(Value::as_u64);
        match self.code {
            ErrorCode::ServiceUnavailable => Some(given.unwrap_or(UNAVAILABLE_RETRY_SECONDS)),
            ErrorCode::TooManyRequests => Some(given.unwrap_or(1)),
            _ => given,
        }
    }

    /// An internal failure. `cause` is logged here and never sent to the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error");
        Self::internal_silent()
    }

    /// An internal failure whose cause was already logged.
    pub fn internal_silent() -> Self {
        Self::new(ErrorCode::InternalError, "Something went wrong on our side. Please try again.")
    }

    /// The generic body for a bare HTTP status (used for responses actix builds itself).
    pub fn for_status(status: StatusCode) -> Self {
        match status.as_u16() {
            400 => Self::new(ErrorCode::BadRequest, "The request could not be read."),
            401 => Self::unauthenticated(),
            403 => Self::forbidden("You are not allowed to do this."),
            404 => Self::not_found(),
            405 => Self::new(ErrorCode::MethodNotAllowed, "This method is not allowed here."),
            413 => Self::payload_too_large(),
            414 => Self::uri_too_long(),
            415 => Self::unsupported_media_type(),
            429 => Self::new(ErrorCode::TooManyRequests, "Too many requests."),
            431 => Self::headers_too_large(),
            503 => Self::unavailable(),
            s if (400..500).contains(&s) => Self::new(ErrorCode::BadRequest, "The request could not be read."),
            _ => Self::internal_silent(),
        }
    }

    pub fn payload_too_large() -> Self {
        Self::new(ErrorCode::PayloadTooLarge, "The request body is too large.")
    }

    pub fn uri_too_long() -> Self {
        Self::new(ErrorCode::UriTooLong, "The address (path and query) is too long.")
    }

    pub fn headers_too_large() -> Self {
        Self::new(ErrorCode::HeadersTooLarge, "The request's headers are too large or too many.")
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(ErrorCode::UnsupportedMediaType, "Send the body as application/json.")
    }
}

impl From<RuleViolation> for AppError {
    fn from(v: RuleViolation) -> Self {
        AppError { code: v.code, message: v.message, details: v.details }
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
            // The database went away, restarts, or kept us waiting past the time limit:
            // the client may try again (503 with Retry-After), never a 500.
            other if database_unavailable(&other) => {
                tracing::warn!(cause = %with_causes(&other), "database unavailable");
                AppError::unavailable()
            }
            // With every cause: a stored value that does not parse names its table,
            // column and value only in the error's source.
            other => AppError::internal(format!("database: {}", with_causes(&other))),
        }
    }
}

/// Does this error mean the database is not answering now (its server gone, restarting, a
/// lock held past the time limit), rather than a defect or a refusal of the data?
pub fn database_unavailable(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        Error::BrokenTransactionManager => true,
        Error::DatabaseError(_, info) => {
            let m = info.message();
            // SQLite: another process holds the lock past busy_timeout, or the file
            // cannot be read just now.
            m.contains("database is locked")
                || m.contains("database table is locked")
                || m.contains("unable to open database file")
                || m.contains("disk I/O error")
                // PostgreSQL: the server went away, is shutting down or starting, or a
                // wait passed lock_timeout / statement_timeout.
                || m.contains("server closed the connection")
                || m.contains("terminating connection")
                || m.contains("the database system is")
                || m.contains("connection to server")
                || m.contains("no connection to the server")
                || m.contains("could not receive data from server")
                || m.contains("could not send data to server")
                || m.contains("canceling statement due to lock timeout")
                || m.contains("canceling statement due to statement timeout")
                || m.contains("SSL connection has been closed")
        }
        _ => false,
    }
}

/// An error and its chain of causes, in one line.
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
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
    pub code: ErrorCode,
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
            code: self.code,
            message: self.message.clone(),
            details: self.details.clone(),
        }})
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        if self.code.is_internal() {
            // A use case let an outcome meant for itself escape: a defect, never an answer.
            return AppError::internal(format!("an internal outcome reached a client: {}", self.code)).error_response();
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header(("Cache-Control", "no-store"));
        if let Some(seconds) = self.retry_after() {
            response.insert_header((actix_web::http::header::RETRY_AFTER, seconds.to_string()));
        }
        if self.status() == StatusCode::UNAUTHORIZED {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        response.json(ErrorBody {
            error: ErrorDetail { code: self.code, message: self.message.clone(), details: self.details.clone() },
        })
    }
}
