//! Printable reports: the daily dispensing register, the patient dose card, the rehab
//! monthly attendance report (PDF and CSV) and the network's monthly statistics.
//!
//! Quantities arrive as integer tenths (deci-mg) and are only turned into text here,
//! so sums on the page are exact.

pub mod card;
pub mod home_visit_log;
pub mod id_card;
pub mod monthly;
pub mod pdf;
pub mod register;
pub mod rehab_attendance;
pub mod stock_ledger;

use chrono::{Datelike, NaiveDate};

/// Why a report could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("report generation failed: {0}")]
    Generation(String),
}

/// A date as written on Chinese forms: "2026年11月29日".
pub fn chinese_date(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

/// A dose in tenths of a milligram as the paper register writes it: "60", "62.5", "0.5".
pub fn format_mg(deci_mg: i64) -> String {
    let sign = if deci_mg < 0 { "-" } else { "" };
    let abs = deci_mg.unsigned_abs();
    match abs % 10 {
        0 => format!("{sign}{}", abs / 10),
        tenths => format!("{sign}{}.{tenths}", abs / 10),
    }
}

/// The volume of solution for `deci_mg` at `deci_mg_per_ml`, always with one decimal ("62.5", "6.0").
///
/// Worked in integer tenths of a mL, rounded half away from zero, so totals never carry float noise.
pub fn format_volume_ml(deci_mg: i64, deci_mg_per_ml: i64) -> Result<String, ReportError> {
    if deci_mg_per_ml <= 0 {
        return Err(ReportError::Generation(format!(
            "concentration must be positive, got {deci_mg_per_ml} deci-mg/mL"
        )));
    }
    // deci_ml = deci_mg * 10 / deci_mg_per_ml; i128 so a large day cannot overflow the product.
    let numerator = i128::from(deci_mg) * 10;
    let denominator = i128::from(deci_mg_per_ml);
    let rounded = (numerator.abs() * 2 + denominator) / (2 * denominator);
    let deci_ml = if numerator < 0 { -rounded } else { rounded };
    let sign = if deci_ml < 0 { "-" } else { "" };
    let abs = deci_ml.unsigned_abs();
    Ok(format!("{sign}{}.{}", abs / 10, abs % 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_milligrams_print_without_decimal() {
        assert_eq!(format_mg(600), "60");
        assert_eq!(format_mg(0), "0");
        assert_eq!(format_mg(1200), "120");
    }

    #[test]
    fn half_milligrams_print_one_decimal() {
        assert_eq!(format_mg(625), "62.5");
        assert_eq!(format_mg(5), "0.5");
        assert_eq!(format_mg(-25), "-2.5");
    }

    #[test]
    fn volume_at_one_mg_per_ml_equals_the_dose() {
        assert_eq!(format_volume_ml(600, 10).unwrap(), "60.0");
        assert_eq!(format_volume_ml(625, 10).unwrap(), "62.5");
    }

    #[test]
    fn volume_at_ten_mg_per_ml_is_a_tenth_of_the_dose() {
        assert_eq!(format_volume_ml(600, 100).unwrap(), "6.0");
        // 62.5 mg / 10 mg/mL = 6.25 mL, rounded half up to 6.3.
        assert_eq!(format_volume_ml(625, 100).unwrap(), "6.3");
        assert_eq!(format_volume_ml(7455, 100).unwrap(), "74.6");
    }

    #[test]
    fn dates_are_written_without_leading_zeros() {
        assert_eq!(chinese_date(NaiveDate::from_ymd_opt(2026, 3, 8).unwrap()), "2026年3月8日");
    }

    #[test]
    fn volume_refuses_a_zero_concentration() {
        assert!(format_volume_ml(600, 0).is_err());
    }
}

/// Reading generated PDFs back the way a person's tools would (poppler-utils).
#[cfg(test)]
pub(crate) mod test_support {
    use std::process::Command;

    /// Writes the PDF to a temp file (kept, so a failing layout can be opened and looked at)
    /// and returns its text as `pdftotext -layout` reads it.
    pub fn pdf_to_text(pdf: &[u8], label: &str) -> String {
        crate::test_support::ensure_debian_packages(&[("/usr/bin/pdftotext", "poppler-utils")]);
        let path = std::env::temp_dir().join(format!("mmt-report-{label}-{}.pdf", std::process::id()));
        std::fs::write(&path, pdf).expect("write test PDF");
        let output = Command::new("pdftotext")
            .arg("-layout")
            .arg(&path)
            .arg("-")
            .output()
            .expect("pdftotext (Debian poppler-utils) must be installed");
        assert!(output.status.success(), "pdftotext failed on {}", path.display());
        String::from_utf8(output.stdout).expect("pdftotext prints UTF-8")
    }

    /// pdftotext drops the narrow spaces of this font in places ("第 1 页" reads back as "第1页").
    pub fn squeeze(text: &str) -> String {
        text.chars().filter(|c| !c.is_whitespace()).collect()
    }

    /// pdftotext ends every page with a form feed.
    pub fn page_count(text: &str) -> usize {
        text.matches('\u{c}').count()
    }
}
