//! Every stable code the service answers with: error codes (API.md, RULES.md), warnings,
//! and the outcomes a use case passes back to itself. One enum, so that a misspelt code
//! is a compile error; serialized to the snake_case strings clients rely on.

use serde::Serialize;

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal ),+ $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )+
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$( ErrorCode::$variant, )+];

            /// The stable snake_case text of the code.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( ErrorCode::$variant => $text, )+
                }
            }

            pub fn parse(text: &str) -> Option<ErrorCode> {
                match text {
                    $( $text => Some(ErrorCode::$variant), )+
                    _ => None,
                }
            }
        }
    };
}

codes! {
    // The request itself.
    BadRequest = "bad_request",
    MalformedJson = "malformed_json",
    ValidationFailed = "validation_failed",
    PayloadTooLarge = "payload_too_large",
    UriTooLong = "uri_too_long",
    HeadersTooLarge = "headers_too_large",
    UnsupportedMediaType = "unsupported_media_type",
    MethodNotAllowed = "method_not_allowed",
    NotFound = "not_found",
    IdempotencyKeyReused = "idempotency_key_reused",

    // Who is asking.
    Unauthenticated = "unauthenticated",
    InvalidCredentials = "invalid_credentials",
    TooManyAttempts = "too_many_attempts",
    TooManyRequests = "too_many_requests",
    Forbidden = "forbidden",
    SiteNotAllowed = "site_not_allowed",

    // Dose orders and reviews.
    DoseAboveCeiling = "dose_above_ceiling",
    InductionRequired = "induction_required",
    InductionDoseExceeded = "induction_dose_exceeded",
    DoseStepExceeded = "dose_step_exceeded",
    IncreaseTooSoon = "increase_too_soon",
    EcgRequired = "ecg_required",
    QtcTooLong = "qtc_too_long",
    /// A warning, not a refusal: QTc 450-499 ms.
    QtcProlonged = "qtc_prolonged",
    SecondDoctorRequired = "second_doctor_required",
    AlreadyApproved = "already_approved",
    ReviewExists = "review_exists",

    // Dispensing.
    PatientNotActive = "patient_not_active",
    NoActiveOrder = "no_active_order",
    AlreadyDosedToday = "already_dosed_today",
    SplitIntervalNotElapsed = "split_interval_not_elapsed",
    IdentityNotConfirmed = "identity_not_confirmed",
    DoseWithheldIntoxicated = "dose_withheld_intoxicated",
    DoctorReviewRequired = "doctor_review_required",
    ReinductionRequired = "reinduction_required",
    DoseExceedsDue = "dose_exceeds_due",
    /// A dose given offline that the server did not record: an incident for a doctor.
    OfflineDoseConflict = "offline_dose_conflict",
    /// An incident's reason: the dose given offline arrived after its dose day had ended.
    OfflineDayEnded = "offline_day_ended",

    // Corrections.
    TwoPersonRule = "two_person_rule",
    ReversalExists = "reversal_exists",
    ReversalWindowClosed = "reversal_window_closed",
    UseReversal = "use_reversal",
    LateCorrectionExists = "late_correction_exists",
    DoseReversed = "dose_reversed",
    AlreadyConfirmed = "already_confirmed",

    // Home visits and stock.
    HomeVisitNotAuthorized = "home_visit_not_authorized",
    HomeVisitWrongState = "home_visit_wrong_state",
    HomeVisitDoseOutstanding = "home_visit_dose_outstanding",
    StockDiscrepancy = "stock_discrepancy",
    NoDispensingProduct = "no_dispensing_product",
    DayClosed = "day_closed",
    DuplicateProduct = "duplicate_product",

    // Patients, sites, staff.
    DuplicatePatient = "duplicate_patient",
    DuplicateSite = "duplicate_site",
    DuplicateUsername = "duplicate_username",

    // Drug tests, alerts, rehab cases.
    TestHasResult = "test_has_result",
    PoliceNotificationNotRequired = "police_notification_not_required",
    PoliceAlreadyNotified = "police_already_notified",
    AlertNotOpen = "alert_not_open",
    DuplicateCaseRef = "duplicate_case_ref",
    AlreadyReported = "already_reported",
    AlreadyDetained = "already_detained",
    NotDetained = "not_detained",

    // The service.
    ServiceUnavailable = "service_unavailable",
    InternalError = "internal_error",

    // Outcomes a use case passes from inside its transaction (which they roll back) to its
    // own code after it; never sent to a client.
    /// Another writer took the unique slot first.
    #[serde(skip_deserializing)] // keeps it out of the OpenAPI document
    LostRace = "lost_race",
    /// The request's idempotency key already has a stored answer.
    #[serde(skip_deserializing)]
    IdempotencyAnswered = "idempotency_answered",
}

impl ErrorCode {
    /// Whether the code only ever travels inside the service.
    pub fn is_internal(self) -> bool {
        matches!(self, ErrorCode::LostRace | ErrorCode::IdempotencyAnswered)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_serializes_to_its_text_and_parses_back() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), serde_json::json!(code.as_str()));
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert!(code.as_str().chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{code}");
        }
        assert_eq!(ErrorCode::parse("already_dosed"), None);
    }
}
