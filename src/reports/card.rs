//! A patient's dose history (服药记录): who the patient is, the current order, and every dose taken.

use chrono::NaiveDate;

use super::pdf::{A4Report, Align, Column, Table, TableRow};
use super::{chinese_date, format_mg, ReportError};

pub struct CardDose {
    pub date: NaiveDate,
    pub time: String,
    /// Tenths of a milligram.
    pub dose_deci_mg: i64,
    pub site_name: String,
    pub nurse_name: String,
    pub reversed: bool,
    /// Taken out by a confirmed late correction: struck through like a reversal.
    pub corrected: bool,
}

impl CardDose {
    fn counts(&self) -> bool {
        !self.reversed && !self.corrected
    }
}

pub struct PatientCardData {
    pub clinic_name: String,
    pub patient_no: String,
    pub name: String,
    /// "男" / "女".
    pub sex: String,
    pub birth_date: NaiveDate,
    pub home_site_name: String,
    pub enrolled_on: NaiveDate,
    /// Already translated, e.g. "在治".
    pub status: String,
    /// e.g. "每日 60 mg（维持期），自 2026-11-01 起".
    pub current_order: Option<String>,
    pub printed_at: String,
    /// Oldest first.
    pub doses: Vec<CardDose>,
}

const ROW_HEIGHT_MM: f32 = 7.0;

pub fn patient_card_pdf(data: &PatientCardData) -> Result<Vec<u8>, ReportError> {
    let footer =
        format!("{} · 服药记录 {} {} · 打印：{}", data.clinic_name, data.patient_no, data.name, data.printed_at);
    let mut report = A4Report::new(&format!("服药记录 {}", data.patient_no), &footer)?;

    report.subtitle(&data.clinic_name);
    report.title("美沙酮维持治疗服药记录");
    report.space(2.0);
    report.rule();
    report.fields(&[
        ("编号", data.patient_no.clone()),
        ("姓名", data.name.clone()),
        ("性别", data.sex.clone()),
        ("出生日期", chinese_date(data.birth_date)),
        ("服药点", data.home_site_name.clone()),
        ("入组日期", chinese_date(data.enrolled_on)),
        ("状态", data.status.clone()),
    ]);
    report.paragraph(&format!("当前医嘱：{}", data.current_order.as_deref().unwrap_or("无")));
    report.rule();
    report.space(2.0);

    if data.doses.is_empty() {
        report.paragraph("尚无服药记录");
    } else {
        report.table(&dose_table(&data.doses))?;
        report.space(2.0);
        summary(&mut report, &data.doses);
    }
    report.finish()
}

/// Doses actually taken; reversed or late-corrected entries stay on the card, struck
/// through, but do not count.
fn summary(report: &mut A4Report, doses: &[CardDose]) {
    let taken: Vec<&CardDose> = doses.iter().filter(|d| d.counts()).collect();
    let total_deci_mg: i64 = taken.iter().map(|d| d.dose_deci_mg).sum();
    report.paragraph(&format!("本卡所列服药 {} 次，合计 {} mg", taken.len(), format_mg(total_deci_mg)));
    if doses.iter().any(|d| d.corrected) {
        report.paragraph("注：划线的记录已冲正或经事后更正，未计入服药。");
    } else if taken.len() < doses.len() {
        report.paragraph("注：划线的记录已冲正，未计入服药。");
    }
}

fn dose_table(doses: &[CardDose]) -> Table {
    let columns = vec![
        Column::new("日期", 30.0, Align::Center),
        Column::new("时间", 20.0, Align::Center),
        Column::new("剂量(mg)", 24.0, Align::Right),
        Column::new("服药点", 70.0, Align::Left),
        Column::new("护士", 36.0, Align::Left),
    ];
    let rows = doses
        .iter()
        .map(|dose| TableRow {
            cells: vec![
                dose.date.format("%Y-%m-%d").to_string(),
                dose.time.clone(),
                format_mg(dose.dose_deci_mg),
                dose.site_name.clone(),
                dose.nurse_name.clone(),
            ],
            struck: !dose.counts(),
            note: None,
        })
        .collect();
    Table { columns, row_height_mm: ROW_HEIGHT_MM, rows }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::test_support::{page_count, pdf_to_text, squeeze};

    fn card(dose_count: usize) -> PatientCardData {
        let start = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        let doses = (0..dose_count)
            .map(|i| CardDose {
                date: start + chrono::Days::new(i as u64),
                time: format!("08:{:02}", (i * 7) % 60),
                dose_deci_mg: if i < 30 { 600 } else { 625 },
                site_name: if i % 9 == 8 { "柳市服药点" } else { "虹桥服药点" }.to_owned(),
                nurse_name: ["赵敏", "钱芳"][i % 2].to_owned(),
                reversed: i == 5,
                corrected: false,
            })
            .collect();
        PatientCardData {
            clinic_name: "乐清市美沙酮维持治疗门诊".to_owned(),
            patient_no: "YQ02-0137".to_owned(),
            name: "陈晓东".to_owned(),
            sex: "男".to_owned(),
            birth_date: NaiveDate::from_ymd_opt(1975, 3, 8).unwrap(),
            home_site_name: "虹桥服药点".to_owned(),
            enrolled_on: NaiveDate::from_ymd_opt(2019, 6, 17).unwrap(),
            status: "在治".to_owned(),
            current_order: Some("每日 62.5 mg（维持期），自 2026-11-01 起".to_owned()),
            printed_at: "2026-11-29 17:05".to_owned(),
            doses,
        }
    }

    #[test]
    fn card_prints_patient_block_and_three_pages_of_doses() {
        let data = card(90);
        let pdf = patient_card_pdf(&data).unwrap();

        assert!(pdf.len() < 300 * 1024, "card is {} bytes; is the font being subset?", pdf.len());
        let text = pdf_to_text(&pdf, "card");
        assert_eq!(page_count(&text), 3);
        for expected in [
            "美沙酮维持治疗服药记录",
            "姓名：陈晓东",
            "编号：YQ02-0137",
            "出生日期：1975年3月8日",
            "状态：在治",
            "每日 62.5 mg（维持期）",
            "2026-09-01",
            "62.5",
            "柳市服药点",
            "钱芳",
            "划线的记录已冲正",
            // 90 doses, the sixth reversed: 29 × 60 mg + 60 × 62.5 mg.
            "本卡所列服药 89 次，合计 5490 mg",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
        }
        assert!(squeeze(&text).contains("第3页/共3页"), "page numbers missing");
    }

    #[test]
    fn card_without_order_or_doses_says_so() {
        let mut data = card(0);
        data.current_order = None;
        let text = pdf_to_text(&patient_card_pdf(&data).unwrap(), "card-empty");
        assert!(text.contains("当前医嘱：无"));
        assert!(text.contains("尚无服药记录"));
    }
}
