//! The daily dispensing register (发药登记簿): every dose handed out at one site on one day,
//! with totals and the signature lines the paper register carries.

use chrono::NaiveDate;

use super::pdf::{A4Report, Align, Column, Table, TableRow};
use super::{chinese_date, format_mg, format_volume_ml, ReportError};

pub struct RegisterRow {
    /// Local time of day, e.g. "08:10".
    pub time: String,
    pub patient_no: String,
    pub patient_name: String,
    /// Tenths of a milligram.
    pub dose_deci_mg: i64,
    /// 1 or 2: first or second portion of a split dose.
    pub portion: u8,
    /// e.g. "窗口" or "上门".
    pub kind: String,
    pub nurse_name: String,
    pub reversed: bool,
    pub reversal_reason: Option<String>,
}

pub struct RegisterData {
    /// Network name, e.g. "乐清市美沙酮维持治疗门诊".
    pub clinic_name: String,
    pub site_name: String,
    pub site_code: String,
    pub date: NaiveDate,
    /// e.g. "2026-11-29 17:05".
    pub printed_at: String,
    pub printed_by: String,
    /// e.g. "盐酸美沙酮口服溶液 1 mg/mL".
    pub product_label: String,
    /// 10 = 1 mg/mL.
    pub concentration_deci_mg_per_ml: i64,
    pub rows: Vec<RegisterRow>,
    /// Display names of every nurse who dispensed that day.
    pub nurses: Vec<String>,
    /// The audit chain's head when printed (`审计链 #seq MAC前12位`), so that the paper
    /// keeps a copy of it outside the database: `verify-audit --head` checks it later.
    pub audit_line: Option<String>,
}

const ROW_HEIGHT_MM: f32 = 7.0;

pub fn dispensing_register_pdf(data: &RegisterData) -> Result<Vec<u8>, ReportError> {
    let date = chinese_date(data.date);
    let footer = format!(
        "{}（{}）{} 发药登记簿 · 打印：{} {}",
        data.site_name, data.site_code, date, data.printed_at, data.printed_by
    );
    let mut report = A4Report::new(&format!("发药登记簿 {} {}", data.site_code, data.date), &footer)?;

    report.subtitle(&data.clinic_name);
    report.title("美沙酮口服溶液发药登记簿");
    report.subtitle(&format!("服药点：{}（{}）    日期：{}", data.site_name, data.site_code, date));
    report.subtitle(&format!("药品：{}", data.product_label));
    report.space(2.0);

    if data.rows.is_empty() {
        report.rule();
        report.paragraph("本日无发药记录");
        report.rule();
    } else {
        report.table(&register_table(&data.rows))?;
        report.space(3.0);
        totals(&mut report, data)?;
    }

    signatures(&mut report, &nurses_to_sign(data));
    if let Some(line) = &data.audit_line {
        report.space(2.0);
        report.paragraph(line);
    }
    report.finish()
}

fn register_table(rows: &[RegisterRow]) -> Table {
    let columns = vec![
        Column::new("序号", 10.0, Align::Center),
        Column::new("时间", 13.0, Align::Center),
        Column::new("病人编号", 25.0, Align::Left),
        Column::new("姓名", 19.0, Align::Left),
        Column::new("剂量(mg)", 17.0, Align::Right),
        Column::new("次序", 14.0, Align::Center),
        Column::new("方式", 12.0, Align::Center),
        Column::new("发药护士", 19.0, Align::Left),
        Column::new("备注", 51.0, Align::Left),
    ];
    let rows = rows
        .iter()
        .enumerate()
        .map(|(i, row)| TableRow {
            cells: vec![
                (i + 1).to_string(),
                row.time.clone(),
                row.patient_no.clone(),
                row.patient_name.clone(),
                format_mg(row.dose_deci_mg),
                format!("第{}次", row.portion),
                row.kind.clone(),
                row.nurse_name.clone(),
                remark(row),
            ],
            struck: row.reversed,
        })
        .collect();
    Table { columns, row_height_mm: ROW_HEIGHT_MM, rows }
}

fn remark(row: &RegisterRow) -> String {
    match (row.reversed, &row.reversal_reason) {
        (false, _) => String::new(),
        (true, Some(reason)) => format!("已冲正：{reason}"),
        (true, None) => "已冲正".to_owned(),
    }
}

/// Counts and sums only what was actually given: reversed rows stay visible but do not count.
fn totals(report: &mut A4Report, data: &RegisterData) -> Result<(), ReportError> {
    let given: Vec<&RegisterRow> = data.rows.iter().filter(|r| !r.reversed).collect();
    let total_deci_mg: i64 = given.iter().map(|r| r.dose_deci_mg).sum();
    let volume = format_volume_ml(total_deci_mg, data.concentration_deci_mg_per_ml)?;
    let reversed = data.rows.len() - given.len();

    report.keep_together(20.0);
    report.paragraph(&format!(
        "发药人次：{}    合计 {} mg    折合 {} mL",
        given.len(),
        format_mg(total_deci_mg),
        volume
    ));
    if reversed > 0 {
        report.paragraph(&format!("另有已冲正 {reversed} 笔（表中划线），不计入合计。"));
    }
    Ok(())
}

/// Every nurse named in the day's rows signs, even if the caller's list missed one:
/// an entry without its nurse's signature line could not be countersigned.
fn nurses_to_sign(data: &RegisterData) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    let listed = data.nurses.iter().map(String::as_str);
    let from_rows = data.rows.iter().map(|r| r.nurse_name.as_str());
    for name in listed.chain(from_rows) {
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

fn signatures(report: &mut A4Report, nurses: &[&str]) {
    // Start on a fresh page rather than leave one or two lines stranded at the foot of this one.
    report.keep_together(35.0);
    report.space(4.0);
    for nurse in nurses {
        report.signature_line(&format!("发药护士：{nurse}"));
    }
    report.signature_line("复核人：");
    report.signature_line("负责人：");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::test_support::{page_count, pdf_to_text, squeeze};
    use std::time::Instant;

    const NAMES: [&str; 8] = ["王建国", "李秀英", "张伟", "陈晓东", "刘海燕", "黄志强", "周丽娟", "吴国平"];
    const NURSES: [&str; 3] = ["赵敏", "钱芳", "孙丽华"];

    fn row(i: usize) -> RegisterRow {
        RegisterRow {
            time: format!("{:02}:{:02}", 7 + i / 12, (i * 5) % 60),
            patient_no: format!("YQ02-{:04}", 101 + i),
            patient_name: NAMES[i % NAMES.len()].to_owned(),
            // Every fourth dose has a half milligram, as after a taper step.
            dose_deci_mg: if i % 4 == 1 { 625 } else { 600 + 50 * (i as i64 % 3) },
            portion: if i % 10 == 9 { 2 } else { 1 },
            kind: if i % 7 == 6 { "上门" } else { "窗口" }.to_owned(),
            nurse_name: NURSES[i % NURSES.len()].to_owned(),
            reversed: false,
            reversal_reason: None,
        }
    }

    fn day(rows: Vec<RegisterRow>) -> RegisterData {
        RegisterData {
            clinic_name: "乐清市美沙酮维持治疗门诊".to_owned(),
            site_name: "虹桥服药点".to_owned(),
            site_code: "YQ02".to_owned(),
            date: NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
            printed_at: "2026-11-29 17:05".to_owned(),
            printed_by: "钱芳".to_owned(),
            product_label: "盐酸美沙酮口服溶液 1 mg/mL".to_owned(),
            concentration_deci_mg_per_ml: 10,
            rows,
            nurses: NURSES.iter().map(|n| n.to_string()).collect(),
            audit_line: Some("审计链 #1234 3fa2b9c01d2e".to_owned()),
        }
    }

    /// 80 rows fill three pages; row 3 is reversed.
    fn busy_day() -> RegisterData {
        let mut rows: Vec<RegisterRow> = (0..80).map(row).collect();
        rows[3].reversed = true;
        rows[3].reversal_reason = Some("剂量录入错误".to_owned());
        day(rows)
    }

    #[test]
    fn register_prints_names_doses_totals_and_signatures() {
        let data = busy_day();
        let started = Instant::now();
        let pdf = dispensing_register_pdf(&data).unwrap();
        println!("80-row register: {:?}, {} bytes", started.elapsed(), pdf.len());

        assert!(pdf.len() < 300 * 1024, "register is {} bytes; is the font being subset?", pdf.len());
        let text = pdf_to_text(&pdf, "register");
        assert_eq!(page_count(&text), 3);
        for expected in
            ["美沙酮口服溶液发药登记簿", "虹桥服药点", "2026年11月29日", "王建国", "YQ02-0101", "62.5", "第2次", "合计"]
        {
            assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
        }
        assert!(text.contains("已冲正：剂量录入错误"), "reversal remark missing");
        for nurse in NURSES {
            assert!(text.contains(&format!("发药护士：{nurse}")), "signature line for {nurse} missing");
        }
        assert!(text.contains("复核人：") && text.contains("负责人："));
        assert!(squeeze(&text).contains("第3页/共3页"), "page numbers missing");
        assert!(text.contains("审计链 #1234 3fa2b9c01d2e"), "the audit chain's head is missing");
    }

    #[test]
    fn totals_leave_out_the_reversed_row() {
        let data = busy_day();
        let given: i64 = data.rows.iter().filter(|r| !r.reversed).map(|r| r.dose_deci_mg).sum();
        let pdf = dispensing_register_pdf(&data).unwrap();
        let text = pdf_to_text(&pdf, "register-totals");
        assert!(text.contains("发药人次：79"), "count should exclude the reversed row");
        let expected = format!("合计 {} mg", format_mg(given));
        assert!(text.contains(&expected), "{expected:?} missing");
        assert!(text.contains(&format!("折合 {} mL", format_volume_ml(given, 10).unwrap())));
    }

    #[test]
    fn forty_row_register_generation_time() {
        let data = day((0..40).map(row).collect());
        let started = Instant::now();
        let pdf = dispensing_register_pdf(&data).unwrap();
        println!("40-row register: {:?}, {} bytes", started.elapsed(), pdf.len());
    }

    #[test]
    fn empty_day_says_so_and_keeps_the_signature_lines() {
        let mut data = day(Vec::new());
        data.nurses = vec!["赵敏".to_owned()];
        let pdf = dispensing_register_pdf(&data).unwrap();
        let text = pdf_to_text(&pdf, "register-empty");
        assert!(text.contains("本日无发药记录"));
        assert!(text.contains("发药护士：赵敏"));
        assert!(text.contains("复核人："));
        assert!(!text.contains("合计"), "an empty day has no totals block");
    }

    #[test]
    fn a_nurse_missing_from_the_list_still_gets_a_signature_line() {
        let mut data = day((0..3).map(row).collect());
        data.nurses = vec!["赵敏".to_owned()];
        assert_eq!(nurses_to_sign(&data), vec!["赵敏", "钱芳", "孙丽华"]);
    }

    #[test]
    fn a_zero_concentration_is_an_error_not_a_panic() {
        let mut data = day((0..3).map(row).collect());
        data.concentration_deci_mg_per_ml = 0;
        assert!(dispensing_register_pdf(&data).is_err());
    }
}
