//! Staff roles and what each may do.

use serde::{Deserialize, Serialize};

use super::codes::ErrorCode;
use super::RuleViolation;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Doctor,
    Nurse,
    RehabWorker,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Doctor, Role::Nurse, Role::RehabWorker];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Doctor => "doctor",
            Role::Nurse => "nurse",
            Role::RehabWorker => "rehab_worker",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Clinical staff see doses, orders and clinical notes; rehab workers never do.
    pub fn is_clinical(self) -> bool {
        matches!(self, Role::Doctor | Role::Nurse)
    }

    /// Whether staff of this role work at sites (and so must be assigned to some).
    pub fn works_at_sites(self) -> bool {
        matches!(self, Role::Doctor | Role::Nurse)
    }

    /// Whether staff of this role follow townships' community-rehab cases.
    pub fn follows_townships(self) -> bool {
        matches!(self, Role::RehabWorker)
    }
}

/// Usernames: 3–32 characters of ASCII letters, digits, `.`, `_`, `-`; compared in
/// lower case so that `Nurse.Li` and `nurse.li` are one account.
pub fn normalize_username(raw: &str) -> Result<String, &'static str> {
    let name = raw.trim().to_ascii_lowercase();
    if name.len() < 3 || name.len() > 32 {
        return Err("username must be 3 to 32 characters");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        return Err("username may contain only letters, digits, '.', '_' and '-'");
    }
    Ok(name)
}

/// Minimum password policy: at least 10 characters, not all one class of character.
pub fn check_password_strength(password: &str) -> Result<(), &'static str> {
    if password.chars().count() < 10 {
        return Err("password must be at least 10 characters");
    }
    if password.chars().count() > 128 {
        return Err("password must be at most 128 characters");
    }
    let has_letter = password.chars().any(|c| c.is_alphabetic());
    let has_other = password.chars().any(|c| !c.is_alphabetic());
    if !(has_letter && has_other) {
        return Err("password must mix letters with digits or symbols");
    }
    Ok(())
}

/// The two-person rule (reversals, home-visit check-outs and returns, stock entries, day
/// closes): the confirming person is not the one who entered.
pub fn check_second_person(entered_by: &str, confirming: &str, what: &str) -> Result<(), RuleViolation> {
    if entered_by == confirming {
        return Err(RuleViolation::new(
            ErrorCode::TwoPersonRule,
            format!("You entered this {what}; a second, different staff member must confirm it."),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_same_person_cannot_confirm() {
        assert_eq!(check_second_person("a", "a", "receipt").unwrap_err().code, ErrorCode::TwoPersonRule);
        assert!(check_second_person("a", "b", "receipt").is_ok());
    }

    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("superuser"), None);
    }

    #[test]
    fn only_doctors_and_nurses_are_clinical() {
        assert!(Role::Doctor.is_clinical());
        assert!(Role::Nurse.is_clinical());
        assert!(!Role::Admin.is_clinical());
        assert!(!Role::RehabWorker.is_clinical());
    }

    #[test]
    fn usernames_are_trimmed_and_lower_cased() {
        assert_eq!(normalize_username("  Nurse.Li ").as_deref(), Ok("nurse.li"));
    }

    #[test]
    fn usernames_out_of_bounds_are_refused() {
        assert!(normalize_username("ab").is_err());
        assert!(normalize_username(&"a".repeat(33)).is_err());
        assert!(normalize_username("abc").is_ok());
        assert!(normalize_username(&"a".repeat(32)).is_ok());
        assert!(normalize_username("li wei").is_err());
        assert!(normalize_username("李伟").is_err());
    }

    #[test]
    fn weak_passwords_are_refused() {
        assert!(check_password_strength("short1").is_err());
        assert!(check_password_strength("onlyletters").is_err());
        assert!(check_password_strength("1234567890").is_err());
        assert!(check_password_strength("letters-and-1").is_ok());
        assert!(check_password_strength("美沙酮门诊部密码2026").is_ok());
    }
}
