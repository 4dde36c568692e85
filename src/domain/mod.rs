//! The rules of RULES.md as pure functions over plain data. Nothing here touches the
//! database, the clock, or HTTP: every function is unit-tested on its own.

pub mod alerts;
pub mod audit;
pub mod codes;
pub mod corrections;
pub mod dates;
pub mod dispensing;
pub mod drug_tests;
pub mod home_visits;
pub mod offline;
pub mod orders;
pub mod patients;
pub mod quantity;
pub mod rate;
pub mod rehab;
pub mod reports;
pub mod resident_id;
pub mod rules;
pub mod signin;
pub mod sites;
pub mod staff;
pub mod stock;

/// Defines an enum of stable snake_case names with `ALL`, `as_str` and `parse`: the shape
/// every stored or sent kind, status and state takes.
#[macro_export]
macro_rules! named_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )+
        }

        // Written out rather than derived: the derive does not see a `rename` made by this
        // macro and documented the Rust names ("Clinic") instead of the names sent ("clinic").
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$( $text ),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$( $name::$variant, )+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $( $text => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// `Display` as the stable name, for enums with their own `as_str`.
macro_rules! display_as_str {
    ($($ty:ty),+ $(,)?) => {
        $(
            impl std::fmt::Display for $ty {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }
        )+
    };
}

display_as_str!(
    alerts::AlertKind,
    dispensing::PatientStatus,
    dispensing::IntoxicationCheck,
    orders::Phase,
    rehab::CaseKind,
    rehab::CaseEventKind,
    staff::Role,
    drug_tests::TestKind,
    drug_tests::TestResult,
);

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
