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
    /// e.g. "窗口", "上门", or "离线" (given at the window while it had lost the line).
    pub kind: String,
    /// Given offline: the local time the server received it.
    pub offline_received: Option<String>,
    pub nurse_name: String,
    pub reversed: bool,
    pub reversal_reason: Option<String>,
    /// A late correction of this entry, made on a later day.
    pub amendment: Option<Amendment>,
}

impl RegisterRow {
    /// Counted in the day's total as it stood that day (a reversal happens on the day).
    fn counted_that_day(&self) -> bool {
        !self.reversed
    }

    /// Counted now: not reversed, not taken out by a confirmed late correction.
    fn counted_now(&self) -> bool {
        !self.reversed && self.amendment.as_ref().is_none_or(|a| a.confirmed_by.is_none())
    }
}

/// A late correction of a register entry, printed under the entry on a reprint.
pub struct Amendment {
    /// The day it was made: confirmed, or (while pending) requested.
    pub on: NaiveDate,
    pub reason: String,
    pub requested_by: String,
    /// The confirming doctor; `None` while the correction awaits one.
    pub confirmed_by: Option<String>,
}

/// A late correction made (confirmed) on the register's day, of a dose of an earlier day.
pub struct CorrectionMade {
    /// Local time of the confirmation, e.g. "10:20".
    pub time: String,
    pub dose_day: NaiveDate,
    pub patient_no: String,
    pub patient_name: String,
    pub dose_deci_mg: i64,
    pub reason: String,
    pub requested_by: String,
    pub confirmed_by: String,
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
    /// Late corrections made on this day (of doses of earlier days), oldest first.
    pub corrections_made: Vec<CorrectionMade>,
    /// The lot number(s) of the product in use at the site that day (批号).
    pub lot: Option<String>,
    /// The day's stock lines of the dispensing product (opening, received, dispensed, …).
    pub stock: Option<StockLines>,
    /// The audit chain's head when printed (`审计链 #seq MAC前12位`), so that the paper
    /// keeps a copy of it outside the database: `verify-audit --head` checks it later.
    pub audit_line: Option<String>,
}

/// The day's lines of the ledger for the dispensing product, in hundredths of a mL.
pub struct StockLines {
    pub opening: i64,
    pub received: i64,
    pub transfer_in: i64,
    pub dispensed: i64,
    pub home_visit_out: i64,
    pub home_visit_returned: i64,
    pub waste: i64,
    pub transfer_out: i64,
    pub adjusted: i64,
    pub expected: i64,
    /// `None` while the day is not closed.
    pub counted: Option<i64>,
}

/// Hundredths of a mL as printed: "60", "6.25", "-0.5".
pub fn format_centi_ml(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    match a % 100 {
        0 => format!("{sign}{}", a / 100),
        r if r % 10 == 0 => format!("{sign}{}.{}", a / 100, r / 10),
        r => format!("{sign}{}.{r:02}", a / 100),
    }
}

/// The exact volume of `deci_mg` at a concentration that divides evenly (1, 2, 5, 10 mg/mL);
/// otherwise rounded to a tenth.
fn volume_text(deci_mg: i64, deci_mg_per_ml: i64) -> Result<String, ReportError> {
    if deci_mg_per_ml > 0 && (deci_mg * 100) % deci_mg_per_ml == 0 {
        Ok(format_centi_ml(deci_mg * 100 / deci_mg_per_ml))
    } else {
        format_volume_ml(deci_mg, deci_mg_per_ml)
    }
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
    match &data.lot {
        Some(lot) => report.subtitle(&format!("药品：{}    批号：{}", data.product_label, lot)),
        None => report.subtitle(&format!("药品：{}", data.product_label)),
    }
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
    if !data.corrections_made.is_empty() {
        corrections_made(&mut report, &data.corrections_made)?;
    }
    if let Some(stock) = &data.stock {
        stock_lines(&mut report, stock, &data.product_label)?;
    }

    signatures(&mut report, &nurses_to_sign(data), &doctors_to_sign(data));
    if let Some(line) = &data.audit_line {
        report.space(2.0);
        report.paragraph(line);
    }
    report.finish()
}

/// "更正记录": the late corrections made today, each with the day it corrects.
fn corrections_made(report: &mut A4Report, made: &[CorrectionMade]) -> Result<(), ReportError> {
    report.space(4.0);
    report.keep_together(30.0);
    report.paragraph("更正记录（本日确认的事后更正，所更正的是以前各日的发药记录）");
    let columns = vec![
        Column::new("确认时间", 18.0, Align::Center),
        Column::new("原发药日期", 26.0, Align::Center),
        Column::new("病人编号", 28.0, Align::Left),
        Column::new("姓名", 22.0, Align::Left),
        Column::new("剂量(mg)", 18.0, Align::Right),
        Column::new("申请人", 34.0, Align::Left),
        Column::new("确认医生", 34.0, Align::Left),
    ];
    let rows = made
        .iter()
        .map(|c| TableRow {
            cells: vec![
                c.time.clone(),
                c.dose_day.format("%Y-%m-%d").to_string(),
                c.patient_no.clone(),
                c.patient_name.clone(),
                format_mg(c.dose_deci_mg),
                c.requested_by.clone(),
                c.confirmed_by.clone(),
            ],
            struck: false,
            note: Some(format!("更正原因：{}", c.reason)),
        })
        .collect();
    report.table(&Table { columns, row_height_mm: ROW_HEIGHT_MM, rows })?;
    report.space(1.5);
    let total: i64 = made.iter().map(|c| c.dose_deci_mg).sum();
    report.paragraph(&format!(
        "本日更正 {} 笔，共 {} mg，已从原发药日期的合计中扣除；原日登记簿重印时以划线及更正说明显示。",
        made.len(),
        format_mg(total)
    ));
    Ok(())
}

/// "当日库存": the day's movements of the dispensing product, as the ledger has them.
fn stock_lines(report: &mut A4Report, s: &StockLines, product: &str) -> Result<(), ReportError> {
    report.space(4.0);
    report.keep_together(60.0);
    report.paragraph(&format!("当日库存（{product}，单位 mL）"));
    let columns = vec![
        Column::new("期初", 16.0, Align::Right),
        Column::new("入库", 15.0, Align::Right),
        Column::new("调入", 13.0, Align::Right),
        Column::new("窗口发药", 19.0, Align::Right),
        Column::new("上门出库", 19.0, Align::Right),
        Column::new("上门退回", 19.0, Align::Right),
        Column::new("损耗", 13.0, Align::Right),
        Column::new("调出", 13.0, Align::Right),
        Column::new("调整", 13.0, Align::Right),
        Column::new("账面结存", 20.0, Align::Right),
        Column::new("实点结存", 20.0, Align::Right),
    ];
    let f = format_centi_ml;
    let row = TableRow {
        cells: vec![
            f(s.opening),
            f(s.received),
            f(s.transfer_in),
            f(s.dispensed),
            f(s.home_visit_out),
            f(s.home_visit_returned),
            f(s.waste),
            f(s.transfer_out),
            f(s.adjusted),
            f(s.expected),
            s.counted.map_or_else(|| "未日结".to_string(), f),
        ],
        struck: false,
        note: None,
    };
    report.table(&Table { columns, row_height_mm: ROW_HEIGHT_MM, rows: vec![row] })
}

fn register_table(rows: &[RegisterRow]) -> Table {
    let columns = vec![
        Column::new("序号", 10.0, Align::Center),
        Column::new("时间", 12.0, Align::Center),
        Column::new("病人编号", 23.0, Align::Left),
        Column::new("姓名", 17.0, Align::Left),
        Column::new("剂量(mg)", 16.0, Align::Right),
        Column::new("次序", 13.0, Align::Center),
        Column::new("方式", 11.0, Align::Center),
        Column::new("发药护士", 18.0, Align::Left),
        Column::new("服药者签名", 24.0, Align::Left),
        Column::new("备注", 36.0, Align::Left),
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
                String::new(),
                remark(row),
            ],
            struck: !row.counted_now(),
            note: row.amendment.as_ref().map(amendment_line),
        })
        .collect();
    Table { columns, row_height_mm: ROW_HEIGHT_MM, rows }
}

fn remark(row: &RegisterRow) -> String {
    match (row.reversed, &row.reversal_reason, &row.amendment) {
        (true, Some(reason), _) => format!("已冲正：{reason}"),
        (true, None, _) => "已冲正".to_owned(),
        (false, _, Some(a)) if a.confirmed_by.is_some() => "已事后更正（见下行）".to_owned(),
        (false, _, Some(_)) => "更正待确认（见下行）".to_owned(),
        (false, _, None) => row.offline_received.as_ref().map_or_else(String::new, |t| format!("离线发药，{t}上传")),
    }
}

/// The amendment printed under a corrected entry: when, why, who asked, who confirmed.
fn amendment_line(a: &Amendment) -> String {
    match &a.confirmed_by {
        Some(doctor) => format!(
            "↑ 事后更正（{}确认）：{}。申请人：{}；确认医生：{}。本笔已从合计中扣除。",
            chinese_date(a.on),
            a.reason,
            a.requested_by,
            doctor
        ),
        None => format!(
            "↑ 更正申请（{}提出，待医生确认，尚未生效）：{}。申请人：{}。",
            chinese_date(a.on),
            a.reason,
            a.requested_by
        ),
    }
}

/// Counts and sums only what was actually given: reversed rows stay visible but do not count.
/// After a late correction both totals are printed: the day's as registered on the day, and
/// the corrected one.
fn totals(report: &mut A4Report, data: &RegisterData) -> Result<(), ReportError> {
    let given: Vec<&RegisterRow> = data.rows.iter().filter(|r| r.counted_that_day()).collect();
    let now: Vec<&RegisterRow> = data.rows.iter().filter(|r| r.counted_now()).collect();
    let line = |rows: &[&RegisterRow]| -> Result<String, ReportError> {
        let total_deci_mg: i64 = rows.iter().map(|r| r.dose_deci_mg).sum();
        let volume = volume_text(total_deci_mg, data.concentration_deci_mg_per_ml)?;
        Ok(format!("发药人次：{}    合计 {} mg    折合 {} mL", rows.len(), format_mg(total_deci_mg), volume))
    };
    let reversed = data.rows.len() - given.len();
    let corrected = given.len() - now.len();

    report.keep_together(25.0);
    if corrected == 0 {
        report.paragraph(&line(&given)?);
    } else {
        report.paragraph(&format!("原合计（当日登记）：{}", line(&given)?));
        report.paragraph(&format!("更正后合计（扣除事后更正 {corrected} 笔）：{}", line(&now)?));
    }
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

/// The doctors who confirmed the day's late corrections sign for them.
fn doctors_to_sign(data: &RegisterData) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for c in &data.corrections_made {
        if !c.confirmed_by.is_empty() && !names.contains(&c.confirmed_by.as_str()) {
            names.push(&c.confirmed_by);
        }
    }
    names
}

fn signatures(report: &mut A4Report, nurses: &[&str], doctors: &[&str]) {
    // Start on a fresh page rather than leave one or two lines stranded at the foot of this one.
    report.keep_together(35.0);
    report.space(4.0);
    for nurse in nurses {
        report.signature_line(&format!("发药护士：{nurse}"));
    }
    for doctor in doctors {
        report.signature_line(&format!("更正确认医生：{doctor}"));
    }
    report.signature_line("复核人：");
    report.signature_line("负责人：");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::test_support::{page_count, pdf_to_text, squeeze};

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
            offline_received: None,
            nurse_name: NURSES[i % NURSES.len()].to_owned(),
            reversed: false,
            reversal_reason: None,
            amendment: None,
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
            corrections_made: Vec::new(),
            lot: Some("20261101".to_owned()),
            stock: Some(StockLines {
                opening: 120_000,
                received: 50_000,
                transfer_in: 0,
                dispensed: 30_000,
                home_visit_out: 6_000,
                home_visit_returned: 3_000,
                waste: 125,
                transfer_out: 0,
                adjusted: 0,
                expected: 136_875,
                counted: Some(136_850),
            }),
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
        let pdf = dispensing_register_pdf(&data).unwrap();

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
        assert!(text.contains(&format!("折合 {} mL", volume_text(given, 10).unwrap())));
    }

    /// 11月29日's register reprinted after row 2 was corrected on 12月1日 and a correction
    /// of row 5 awaits a doctor.
    fn reprint_after_a_late_correction() -> RegisterData {
        let mut data = day((0..6).map(row).collect());
        data.rows[2].amendment = Some(Amendment {
            on: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            reason: "记在了同名患者名下".to_owned(),
            requested_by: "钱芳".to_owned(),
            confirmed_by: Some("陈医生".to_owned()),
        });
        data.rows[5].amendment = Some(Amendment {
            on: NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
            reason: "剂量抄错".to_owned(),
            requested_by: "赵敏".to_owned(),
            confirmed_by: None,
        });
        data
    }

    #[test]
    fn a_reprint_keeps_the_corrected_row_struck_with_its_amendment_and_both_totals() {
        let data = reprint_after_a_late_correction();
        let original: i64 = data.rows.iter().map(|r| r.dose_deci_mg).sum();
        let corrected = original - data.rows[2].dose_deci_mg;
        let table = register_table(&data.rows);
        assert!(table.rows[2].struck, "the confirmed correction strikes its row");
        assert!(!table.rows[5].struck, "a pending correction changes nothing yet");

        let text = squeeze(&pdf_to_text(&dispensing_register_pdf(&data).unwrap(), "register-amended"));
        // The row itself is still there, and under it the amendment: date, reason, both names.
        assert!(text.contains(&squeeze(&data.rows[2].patient_no)));
        for expected in [
            "事后更正（2026年12月1日确认）：记在了同名患者名下。申请人：钱芳；确认医生：陈医生。",
            "更正申请（2026年12月2日提出，待医生确认，尚未生效）：剂量抄错。申请人：赵敏。",
            &format!("原合计（当日登记）：发药人次：6合计{}mg", format_mg(original)),
            &format!("更正后合计（扣除事后更正1笔）：发药人次：5合计{}mg", format_mg(corrected)),
        ] {
            assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
        }
        assert!(!text.contains("更正记录"), "no corrections were made on this day");
    }

    #[test]
    fn the_register_of_the_day_lists_the_corrections_made_that_day_and_their_doctors_sign() {
        let mut data = day((0..2).map(row).collect());
        data.corrections_made = vec![CorrectionMade {
            time: "10:20".to_owned(),
            dose_day: NaiveDate::from_ymd_opt(2026, 9, 4).unwrap(),
            patient_no: "YQ02-0999".to_owned(),
            patient_name: "欧阳喆".to_owned(),
            dose_deci_mg: 200,
            reason: "记在了同名患者名下".to_owned(),
            requested_by: "钱芳".to_owned(),
            confirmed_by: "陈医生".to_owned(),
        }];
        let text = pdf_to_text(&dispensing_register_pdf(&data).unwrap(), "register-corrections-made");
        let squeezed = squeeze(&text);
        for expected in
            ["更正记录", "2026-09-04", "YQ02-0999", "欧阳喆", "更正原因：记在了同名患者名下", "更正确认医生：陈医生"]
        {
            assert!(squeezed.contains(&squeeze(expected)), "{expected:?} missing from:\n{text}");
        }
        let line = text.lines().find(|l| l.contains("YQ02-0999")).unwrap();
        assert!(line.contains("20") && line.contains("钱芳") && line.contains("陈医生"), "{line}");
        // Today's own totals are not touched by a correction of another day.
        assert!(squeezed.contains("发药人次：2"), "{text}");
        assert!(!squeezed.contains("更正后合计"), "{text}");
    }

    #[test]
    fn an_empty_day_still_lists_its_corrections() {
        let mut data = day(Vec::new());
        data.corrections_made = vec![CorrectionMade {
            time: "10:20".to_owned(),
            dose_day: NaiveDate::from_ymd_opt(2026, 9, 4).unwrap(),
            patient_no: "YQ02-0999".to_owned(),
            patient_name: "欧阳喆".to_owned(),
            dose_deci_mg: 200,
            reason: "重复登记".to_owned(),
            requested_by: "钱芳".to_owned(),
            confirmed_by: "陈医生".to_owned(),
        }];
        let text = squeeze(&pdf_to_text(&dispensing_register_pdf(&data).unwrap(), "register-empty-corrections"));
        assert!(text.contains("本日无发药记录") && text.contains("更正记录") && text.contains("YQ02-0999"), "{text}");
    }

    #[test]
    fn a_forty_row_day_prints_on_two_pages_with_the_font_subset() {
        let data = day((0..40).map(row).collect());
        let pdf = dispensing_register_pdf(&data).unwrap();
        assert!(pdf.len() < 150 * 1024, "{} bytes: is the font being subset?", pdf.len());
        assert_eq!(page_count(&pdf_to_text(&pdf, "register-40")), 2);
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
