//! The rules of RULES.md as pure functions over plain data. Nothing here touches the
//! database, the clock, or HTTP: every function is unit-tested on its own.

pub mod alerts;
pub mod audit;
pub mod codes;
pub mod corrections;
pub mod dates;
pub mod dispensing;
pub mod orders;
pub mod quantity;
pub mod rehab;
pub mod reports;
pub mod resident_id;
pub mod rules;
pub mod signin;
pub mod staff;
pub mod tests;

/// A rule that refused an action: a stable code (API.md) and words a nurse or doctor can
/// act on.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleViolation {
    pub code: codes::ErrorCode,
    pub message: String,
    pub details: serde_json::Value,
}

impl RuleViolation {
    pub fn new(code: codes::ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), details: serde_json::Value::Null }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}
