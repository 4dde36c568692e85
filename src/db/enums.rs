//! Domain enums stored as text columns. One generic mapping, on each enum's own
//! `as_str`/`parse`: written as its text, read back through `parse`, and a stored value
//! that does not parse is an error naming where it was stored and what it held — never a
//! guess. (The domain stays free of diesel: the impls live here.)

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, Queryable};
use diesel::expression::AsExpression;
use diesel::internal::derives::as_expression::Bound;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{Nullable, Text};

use super::MultiBackend;

/// A domain enum kept in a text column.
pub trait TextEnum: Sized + Copy + std::fmt::Debug + 'static {
    /// The enum's name, for the error.
    const NAME: &'static str;
    /// The table.column (or columns) it is stored in, for the error.
    const STORED_IN: &'static str;
    fn to_text(self) -> &'static str;
    fn from_text(text: &str) -> Option<Self>;
}

/// The error of a stored value that is not one of the enum's.
#[derive(Debug)]
pub struct UnknownStoredValue {
    pub stored_in: &'static str,
    pub enum_name: &'static str,
    pub value: String,
}

impl std::fmt::Display for UnknownStoredValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} holds {:?}, which is not a {}", self.stored_in, self.value, self.enum_name)
    }
}

impl std::error::Error for UnknownStoredValue {}

/// Reads a stored text as `T`.
pub fn from_stored<T: TextEnum>(text: &str) -> deserialize::Result<T> {
    T::from_text(text).ok_or_else(|| {
        // Enum columns hold codes, not people; still, only the first characters of a value
        // that does not belong there reach the log.
        let value: String = text.chars().take(40).collect();
        Box::new(UnknownStoredValue { stored_in: T::STORED_IN, enum_name: T::NAME, value }) as _
    })
}

/// Implements the diesel traits for text enums: `text_enum!(Type, "table.column")`.
macro_rules! text_enum {
    ($ty:ty, $stored_in:literal) => {
        impl TextEnum for $ty {
            const NAME: &'static str = stringify!($ty);
            const STORED_IN: &'static str = $stored_in;
            fn to_text(self) -> &'static str {
                self.as_str()
            }
            fn from_text(text: &str) -> Option<Self> {
                <$ty>::parse(text)
            }
        }

        impl FromSql<Text, MultiBackend> for $ty {
            fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, MultiBackend>>::from_sql(bytes)?;
                from_stored(&text)
            }
        }

        impl ToSql<Text, MultiBackend> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                <str as ToSql<Text, MultiBackend>>::to_sql(self.to_text(), out)
            }
        }

        impl ToSql<Nullable<Text>, MultiBackend> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                <str as ToSql<Text, MultiBackend>>::to_sql(self.to_text(), out)
            }
        }

        #[cfg(feature = "sqlite")]
        impl FromSql<Text, diesel::sqlite::Sqlite> for $ty {
            fn from_sql(bytes: <diesel::sqlite::Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, diesel::sqlite::Sqlite>>::from_sql(bytes)?;
                from_stored(&text)
            }
        }

        #[cfg(feature = "sqlite")]
        impl ToSql<Text, diesel::sqlite::Sqlite> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, diesel::sqlite::Sqlite>) -> serialize::Result {
                <str as ToSql<Text, diesel::sqlite::Sqlite>>::to_sql(self.to_text(), out)
            }
        }

        #[cfg(feature = "sqlite")]
        impl ToSql<Nullable<Text>, diesel::sqlite::Sqlite> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, diesel::sqlite::Sqlite>) -> serialize::Result {
                <str as ToSql<Text, diesel::sqlite::Sqlite>>::to_sql(self.to_text(), out)
            }
        }

        #[cfg(feature = "postgres")]
        impl ToSql<Nullable<Text>, diesel::pg::Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, diesel::pg::Pg>) -> serialize::Result {
                <str as ToSql<Text, diesel::pg::Pg>>::to_sql(self.to_text(), out)
            }
        }

        #[cfg(feature = "postgres")]
        impl FromSql<Text, diesel::pg::Pg> for $ty {
            fn from_sql(bytes: <diesel::pg::Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, diesel::pg::Pg>>::from_sql(bytes)?;
                from_stored(&text)
            }
        }

        #[cfg(feature = "postgres")]
        impl ToSql<Text, diesel::pg::Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, diesel::pg::Pg>) -> serialize::Result {
                <str as ToSql<Text, diesel::pg::Pg>>::to_sql(self.to_text(), out)
            }
        }

        /// In the audit chain's row digests as its text, exactly as a text column.
        impl crate::domain::audit::CanonicalField for $ty {
            fn feed(&self, d: &mut crate::domain::audit::RowDigester) {
                self.to_text().feed(d);
            }
        }

        // On either backend's own connection as well (the dose path's statements run there).
        impl<DB: Backend> Queryable<Text, DB> for $ty
        where
            $ty: FromSql<Text, DB>,
        {
            type Row = Self;
            fn build(row: Self) -> deserialize::Result<Self> {
                Ok(row)
            }
        }

        impl AsExpression<Text> for $ty {
            type Expression = Bound<Text, Self>;
            fn as_expression(self) -> Self::Expression {
                Bound::new(self)
            }
        }

        impl<'a> AsExpression<Text> for &'a $ty {
            type Expression = Bound<Text, Self>;
            fn as_expression(self) -> Self::Expression {
                Bound::new(self)
            }
        }

        impl AsExpression<Nullable<Text>> for $ty {
            type Expression = Bound<Nullable<Text>, Self>;
            fn as_expression(self) -> Self::Expression {
                Bound::new(self)
            }
        }

        impl<'a> AsExpression<Nullable<Text>> for &'a $ty {
            type Expression = Bound<Nullable<Text>, Self>;
            fn as_expression(self) -> Self::Expression {
                Bound::new(self)
            }
        }
    };
}

use crate::domain::alerts::{AlertKind, SweepCause};
use crate::domain::dispensing::{DoseKind, IntoxicationCheck, PatientStatus};
use crate::domain::drug_tests::{TestKind, TestResult};
use crate::domain::home_visits::{Outcome, Step};
use crate::domain::orders::Phase;
use crate::domain::patients::{AbsenceReason, Sex};
use crate::domain::rehab::{BasisKind, CaseEventKind, CaseKind};
use crate::domain::sites::SiteKind;
use crate::domain::staff::Role;
use crate::domain::stock::EntryKind;

text_enum!(SiteKind, "sites.kind");
text_enum!(Role, "staff.role");
text_enum!(Sex, "patients.sex");
text_enum!(PatientStatus, "patients.status or patient_status_changes.from_status/to_status");
text_enum!(Phase, "orders.phase");
text_enum!(AbsenceReason, "absences.reason");
text_enum!(DoseKind, "doses.kind");
text_enum!(IntoxicationCheck, "doses.intoxication_check or withheld_doses.intoxication_check");
text_enum!(CaseKind, "rehab_cases.kind");
text_enum!(CaseEventKind, "rehab_case_events.kind");
text_enum!(BasisKind, "disclosures.basis");
text_enum!(TestKind, "drug_tests.kind");
text_enum!(TestResult, "test_results.result");
text_enum!(AlertKind, "alerts.kind");
text_enum!(SweepCause, "sweep_runs.cause");
text_enum!(Step, "home_visit_steps.step");
text_enum!(Outcome, "home_visit_steps.outcome");
text_enum!(EntryKind, "stock_entries.kind");
