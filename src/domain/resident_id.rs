//! The 18-character PRC resident identity number (GB 11643-1999): 6 digits of region,
//! 8 of birth date, 3 of sequence (odd for men), and an ISO 7064 MOD 11-2 check character.

use chrono::NaiveDate;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentId {
    /// Normalized: upper-case `X`.
    pub number: String,
    pub birth_date: NaiveDate,
    pub male: bool,
}

/// Parses and validates an id number, with a message a clerk can act on.
pub fn parse(raw: &str) -> Result<ResidentId, &'static str> {
    let number = raw.trim().to_ascii_uppercase();
    if number.chars().count() != 18 {
        return Err("must be 18 characters");
    }
    let chars: Vec<char> = number.chars().collect();
    if !chars[..17].iter().all(|c| c.is_ascii_digit()) {
        return Err("the first 17 characters must be digits");
    }
    let sum: u32 = chars[..17].iter().zip(WEIGHTS).map(|(c, w)| c.to_digit(10).unwrap_or(0) * w).sum();
    if chars[17] != CHECK_CHARS[(sum % 11) as usize] {
        return Err("the check digit does not match: please re-type the number");
    }
    let birth: String = chars[6..14].iter().collect();
    let birth_date =
        NaiveDate::parse_from_str(&birth, "%Y%m%d").map_err(|_| "the birth date inside the number is not a date")?;
    let male = chars[16].to_digit(10).is_some_and(|d| d % 2 == 1);
    Ok(ResidentId { number, birth_date, male })
}

/// Computes the check character for 17 digits (used to build valid test and demo numbers).
pub fn check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 || !first17.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = first17.chars().zip(WEIGHTS).map(|(c, w)| c.to_digit(10).unwrap_or(0) * w).sum();
    Some(CHECK_CHARS[(sum % 11) as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_number_parses_with_its_birth_date_and_sex() {
        // The standard's own example.
        let id = parse("11010519491231002X").unwrap();
        assert_eq!(id.birth_date, NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
        assert!(!id.male);
    }

    #[test]
    fn a_lower_case_x_is_accepted_and_normalized() {
        assert_eq!(parse("11010519491231002x").unwrap().number, "11010519491231002X");
    }

    #[test]
    fn a_wrong_check_digit_is_refused() {
        assert_eq!(parse("110105194912310021"), Err("the check digit does not match: please re-type the number"));
    }

    #[test]
    fn wrong_length_or_letters_are_refused() {
        assert!(parse("11010519491231002").is_err());
        assert!(parse("1101051949123100200").is_err());
        assert!(parse("1101051949123A002X").is_err());
    }

    #[test]
    fn an_impossible_birth_date_is_refused() {
        let first17 = "33038219990230001";
        let id = format!("{first17}{}", check_char(first17).unwrap());
        assert_eq!(parse(&id), Err("the birth date inside the number is not a date"));
    }

    #[test]
    fn generated_numbers_validate() {
        let first17 = "33038219850612003";
        let id = format!("{first17}{}", check_char(first17).unwrap());
        let parsed = parse(&id).unwrap();
        assert!(parsed.male);
        assert_eq!(parsed.birth_date, NaiveDate::from_ymd_opt(1985, 6, 12).unwrap());
    }
}
