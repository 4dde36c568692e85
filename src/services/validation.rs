//! Free text a client sends, checked at the edge of every use case.

use crate::error::{AppError, AppResult};

/// Trimmed text of 1..=max characters without control characters.
pub fn clean_text(field: &str, value: &str, max: usize) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(AppError::invalid_field(field, "must not be empty"));
    }
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(AppError::invalid_field(field, format!("must be at most {max} characters of text")));
    }
    Ok(v.to_string())
}

/// Optional text: absent or blank is none; otherwise as [`clean_text`].
pub fn clean_optional(field: &str, value: Option<&str>, max: usize) -> AppResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => clean_text(field, v, max).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(clean_text("note", "  已电话联系 ", 10).unwrap(), "已电话联系");
        assert_eq!(clean_text("note", "   ", 10).unwrap_err().details["field"], "note");
        assert!(clean_text("note", "一二三四五六七八九十十", 10).is_err());
        assert!(clean_text("note", "a\u{0}b", 10).is_err());
        assert_eq!(clean_optional("note", Some("  "), 10).unwrap(), None);
        assert_eq!(clean_optional("note", None, 10).unwrap(), None);
        assert_eq!(clean_optional("note", Some(" x "), 10).unwrap().as_deref(), Some("x"));
    }
}
