//! The rehab monthly attendance report (社区戒毒/康复人员美沙酮维持治疗月度服药情况): per
//! township, each rehab case open in the month with its days by attendance status, the
//! alerts opened and the tests taken — as a printable PDF and as CSV. Never a dose in mg:
//! the reader is a rehab worker.

use chrono::NaiveDate;

use super::pdf::{A4Report, Align, Column, Table, TableRow};
use super::ReportError;
use crate::domain::alerts::AlertKind;
use crate::domain::drug_tests::{TestKind, TestResult};
use crate::domain::rehab::CaseKind;
use crate::domain::reports::{AttendanceFigures, ReportMonth};

pub const TITLE: &str = "社区戒毒/康复人员美沙酮维持治疗月度服药情况";

/// The CSV's columns, in order.
pub const CSV_COLUMNS: [&str; 16] = [
    "month",
    "township",
    "case_ref",
    "case_id",
    "patient_no",
    "patient_name",
    "case_kind",
    "days_dosed",
    "home_visit_days",
    "missed_days",
    "excused_days",
    "withheld_days",
    "longest_missed_run",
    "alerts_opened",
    "alert_kinds",
    "tests",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseAlert {
    /// The local day it was opened.
    pub opened_on: NaiveDate,
    pub kind: AlertKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseTest {
    pub sampled_on: NaiveDate,
    pub kind: TestKind,
    pub result: TestResult,
}

/// One case's line.
#[derive(Debug, Clone)]
pub struct CaseLine {
    pub case_id: String,
    pub case_ref: Option<String>,
    pub patient_no: String,
    pub patient_name: String,
    pub kind: CaseKind,
    pub days: AttendanceFigures,
    /// Opened in the month, oldest first.
    pub alerts: Vec<CaseAlert>,
    /// Sampled in the month, oldest first.
    pub tests: Vec<CaseTest>,
}

#[derive(Debug, Clone)]
pub struct TownshipSection {
    pub township: String,
    pub cases: Vec<CaseLine>,
}

#[derive(Debug, Clone)]
pub struct RehabAttendanceData {
    pub clinic_name: String,
    pub month: ReportMonth,
    /// e.g. "2026-12-01 09:05".
    pub generated_at: String,
    pub generated_by: String,
    pub sections: Vec<TownshipSection>,
}

const ROW_HEIGHT_MM: f32 = 7.0;

/// The report as an A4 PDF: one form per township, each with its own signature lines.
pub fn rehab_attendance_pdf(data: &RehabAttendanceData) -> Result<Vec<u8>, ReportError> {
    let footer = format!(
        "{} · 社区戒毒/康复人员月度服药情况 {} · 生成：{} {}",
        data.clinic_name,
        data.month.chinese(),
        data.generated_at,
        data.generated_by
    );
    let mut report = A4Report::new(&format!("社区戒毒康复人员月度服药情况 {}", data.month), &footer)?;
    for (i, section) in data.sections.iter().enumerate() {
        if i > 0 {
            report.page_break();
        }
        township_form(&mut report, data, section)?;
    }
    report.finish()
}

fn township_form(
    report: &mut A4Report,
    data: &RehabAttendanceData,
    section: &TownshipSection,
) -> Result<(), ReportError> {
    report.subtitle(&data.clinic_name);
    report.title(TITLE);
    report.space(1.0);
    report.fields(&[
        ("统计月份", data.month.chinese()),
        ("乡镇（街道）", section.township.clone()),
        ("生成时间", data.generated_at.clone()),
        ("在册人数", format!("{} 人", section.cases.len())),
    ]);
    report.space(2.0);
    if section.cases.is_empty() {
        report.rule();
        report.paragraph("本月本乡镇（街道）无在册的社区戒毒/社区康复人员。");
        report.rule();
    } else {
        report.table(&case_table(&section.cases))?;
        report.space(2.0);
        report.paragraph(
            "说明：服药、上门、漏服、免计、暂缓均为本月天数。上门＝上门送药并看服；免计＝住院、羁押、\
             在他处服药等不计漏服的日子；暂缓＝因醉酒或镇静未予发药。最长连漏＝本月内最长连续漏服天数\
             （暂缓日计入，免计日不计入也不中断）。预警为本月新开的预警，检测为本月采样的检测。",
        );
        let details = detail_table(&section.cases);
        if !details.rows.is_empty() {
            report.space(3.0);
            report.keep_together(3.0 * ROW_HEIGHT_MM);
            report.paragraph("预警与检测明细");
            report.table(&details)?;
        }
    }
    report.keep_together(30.0);
    report.space(4.0);
    report.signature_line("填表人：");
    report.signature_line("审核人：");
    Ok(())
}

fn case_table(cases: &[CaseLine]) -> Table {
    let columns = vec![
        Column::new("案件编号", 28.0, Align::Left),
        Column::new("病人编号", 18.0, Align::Left),
        Column::new("姓名", 14.0, Align::Left),
        Column::new("类别", 16.0, Align::Center),
        Column::new("服药", 9.5, Align::Right),
        Column::new("上门", 9.5, Align::Right),
        Column::new("漏服", 9.5, Align::Right),
        Column::new("免计", 9.5, Align::Right),
        Column::new("暂缓", 9.5, Align::Right),
        Column::new("最长连漏", 16.0, Align::Right),
        Column::new("预警", 22.0, Align::Left),
        Column::new("检测", 18.5, Align::Left),
    ];
    let rows = cases
        .iter()
        .map(|c| TableRow {
            cells: vec![
                c.case_ref.clone().unwrap_or_else(|| "未登记".to_owned()),
                c.patient_no.clone(),
                c.patient_name.clone(),
                c.kind.zh().to_owned(),
                c.days.dosed.to_string(),
                c.days.home_visit.to_string(),
                c.days.missed.to_string(),
                c.days.excused.to_string(),
                c.days.withheld.to_string(),
                c.days.longest_missed_run.to_string(),
                alerts_cell(&c.alerts),
                tests_cell(&c.tests),
            ],
            struck: false,
            note: None,
        })
        .collect();
    Table { columns, row_height_mm: ROW_HEIGHT_MM, rows }
}

/// "0", or "2 漏服/阳性": the count and the kinds, each kind once.
fn alerts_cell(alerts: &[CaseAlert]) -> String {
    if alerts.is_empty() {
        return "0".into();
    }
    let kinds: Vec<&str> = distinct(alerts.iter().map(|a| a.kind)).into_iter().map(alert_short).collect();
    format!("{} {}", alerts.len(), kinds.join("/"))
}

/// "—", or "尿阴/发阳": each test as kind and result in one character each.
fn tests_cell(tests: &[CaseTest]) -> String {
    if tests.is_empty() {
        return "—".into();
    }
    let short = |t: &CaseTest| {
        let kind = match t.kind {
            TestKind::Urine => "尿",
            TestKind::Hair => "发",
        };
        let result = match t.result {
            TestResult::Negative => "阴",
            TestResult::Positive => "阳",
            TestResult::Refused => "拒",
            TestResult::Pending => "待",
        };
        format!("{kind}{result}")
    };
    tests.iter().map(short).collect::<Vec<_>>().join("/")
}

/// Every alert and test of the section, a line each, so nothing is lost to a narrow cell.
fn detail_table(cases: &[CaseLine]) -> Table {
    let columns = vec![
        Column::new("病人编号", 22.0, Align::Left),
        Column::new("姓名", 22.0, Align::Left),
        Column::new("日期", 26.0, Align::Center),
        Column::new("项目", 30.0, Align::Center),
        Column::new("结果/内容", 80.0, Align::Left),
    ];
    let mut rows = Vec::new();
    for c in cases {
        let mut lines: Vec<(NaiveDate, &str, &str)> = c
            .alerts
            .iter()
            .map(|a| (a.opened_on, "预警", alert_long(a.kind)))
            .chain(c.tests.iter().map(|t| (t.sampled_on, t.kind.zh(), result_label(t.result))))
            .collect();
        lines.sort_by_key(|(date, _, _)| *date);
        for (date, what, text) in lines {
            rows.push(TableRow {
                cells: vec![
                    c.patient_no.clone(),
                    c.patient_name.clone(),
                    date.format("%Y-%m-%d").to_string(),
                    what.to_owned(),
                    text.to_owned(),
                ],
                struck: false,
                note: None,
            });
        }
    }
    Table { columns, row_height_mm: ROW_HEIGHT_MM, rows }
}

fn distinct<T: PartialEq + Copy>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

fn alert_short(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::MissedDoses => "漏服",
        AlertKind::Dropout => "脱失",
        AlertKind::PositiveTest => "阳性",
        AlertKind::TestRefused => "拒检",
        AlertKind::RehabReportOverdue => "逾期报到",
        AlertKind::SeriousBreach => "严重违规",
    }
}

fn alert_long(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::MissedDoses => "连续漏服",
        AlertKind::Dropout => "脱失",
        AlertKind::PositiveTest => "检测阳性",
        AlertKind::TestRefused => "拒绝检测",
        AlertKind::RehabReportOverdue => "逾期未报到",
        AlertKind::SeriousBreach => "严重违反协议",
    }
}

fn result_label(result: TestResult) -> &'static str {
    match result {
        TestResult::Negative => "阴性",
        TestResult::Positive => "阳性",
        TestResult::Refused => "拒绝检测",
        TestResult::Pending => "待出结果",
    }
}

/// The report as CSV (UTF-8, header row of [`CSV_COLUMNS`], one row per case): the same
/// figures as the PDF, with kinds and results as the API's codes.
pub fn rehab_attendance_csv(data: &RehabAttendanceData) -> Result<String, ReportError> {
    let fail = |e: csv::Error| ReportError::Generation(format!("CSV: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_COLUMNS).map_err(fail)?;
    let month = data.month.to_string();
    for section in &data.sections {
        for c in &section.cases {
            let kinds: Vec<&str> =
                distinct(c.alerts.iter().map(|a| a.kind)).into_iter().map(AlertKind::as_str).collect();
            let tests: Vec<String> =
                c.tests.iter().map(|t| format!("{} {} {}", t.sampled_on, t.kind.as_str(), t.result.as_str())).collect();
            w.write_record([
                month.as_str(),
                section.township.as_str(),
                c.case_ref.as_deref().unwrap_or(""),
                c.case_id.as_str(),
                c.patient_no.as_str(),
                c.patient_name.as_str(),
                c.kind.as_str(),
                &c.days.dosed.to_string(),
                &c.days.home_visit.to_string(),
                &c.days.missed.to_string(),
                &c.days.excused.to_string(),
                &c.days.withheld.to_string(),
                &c.days.longest_missed_run.to_string(),
                &c.alerts.len().to_string(),
                &kinds.join(";"),
                &tests.join("; "),
            ])
            .map_err(fail)?;
        }
    }
    let bytes = w.into_inner().map_err(|e| ReportError::Generation(format!("CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| ReportError::Generation(format!("CSV: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::test_support::{page_count, pdf_to_text, squeeze};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn line(i: usize) -> CaseLine {
        CaseLine {
            case_id: format!("case-{i}"),
            case_ref: Some(format!("SJ2026-{:03}", i + 1)),
            patient_no: format!("{}", 101 + i),
            patient_name: ["陈晓东", "欧阳喆", "王建国"][i % 3].to_owned(),
            kind: if i.is_multiple_of(2) { CaseKind::CommunityDetox } else { CaseKind::CommunityRehab },
            days: AttendanceFigures {
                dosed: 20,
                home_visit: 1,
                missed: 4,
                excused: 3,
                withheld: 1,
                longest_missed_run: 3,
            },
            alerts: vec![
                CaseAlert { opened_on: d("2026-11-08"), kind: AlertKind::MissedDoses },
                CaseAlert { opened_on: d("2026-11-15"), kind: AlertKind::PositiveTest },
            ],
            tests: vec![
                CaseTest { sampled_on: d("2026-11-15"), kind: TestKind::Urine, result: TestResult::Positive },
                CaseTest { sampled_on: d("2026-11-25"), kind: TestKind::Hair, result: TestResult::Pending },
            ],
        }
    }

    fn data(sections: Vec<TownshipSection>) -> RehabAttendanceData {
        RehabAttendanceData {
            clinic_name: "乐清市美沙酮维持治疗门诊".into(),
            month: ReportMonth::parse("2026-11").unwrap(),
            generated_at: "2026-12-01 09:05".into(),
            generated_by: "张社工".into(),
            sections,
        }
    }

    #[test]
    fn each_township_gets_its_own_signed_form() {
        let pdf = rehab_attendance_pdf(&data(vec![
            TownshipSection { township: "柳市镇".into(), cases: (0..3).map(line).collect() },
            TownshipSection { township: "虹桥镇".into(), cases: Vec::new() },
        ]))
        .unwrap();
        let text = pdf_to_text(&pdf, "rehab-attendance");
        assert_eq!(page_count(&text), 2, "{text}");
        for expected in [TITLE, "2026年11月", "柳市镇", "虹桥镇", "陈晓东", "SJ2026-001", "社区康复", "尿阳/发待"]
        {
            assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
        }
        assert!(text.contains("检测阳性") && text.contains("待出结果"), "details missing:\n{text}");
        assert!(text.contains("无在册"), "the empty township says so:\n{text}");
        assert_eq!(text.matches("填表人：").count(), 2);
        assert_eq!(text.matches("审核人：").count(), 2);
        assert!(squeeze(&text).contains("2漏服/阳性"), "alerts cell:\n{text}");
        assert!(squeeze(&text).contains("第2页/共2页"));
        assert!(!text.contains("mg"), "a rehab worker's report never shows mg");
    }

    #[test]
    fn forty_cases_run_onto_more_pages_with_the_header_repeated() {
        let pdf = rehab_attendance_pdf(&data(vec![TownshipSection {
            township: "柳市镇".into(),
            cases: (0..40).map(line).collect(),
        }]))
        .unwrap();
        let text = pdf_to_text(&pdf, "rehab-attendance-long");
        assert!(page_count(&text) >= 3, "{text}");
        assert!(text.matches("最长连漏").count() >= 2, "header not repeated");
    }

    #[test]
    fn csv_has_a_header_and_a_row_per_case_with_the_same_figures() {
        let csv = rehab_attendance_csv(&data(vec![TownshipSection {
            township: "柳市镇".into(),
            cases: vec![line(0), line(1)],
        }]))
        .unwrap();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), CSV_COLUMNS);
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        let row = &rows[1];
        assert_eq!(&row[0], "2026-11");
        assert_eq!(&row[1], "柳市镇");
        assert_eq!(&row[5], "欧阳喆");
        assert_eq!(&row[6], "community_rehab");
        assert_eq!(row.iter().skip(7).take(6).collect::<Vec<_>>(), ["20", "1", "4", "3", "1", "3"]);
        assert_eq!(&row[13], "2");
        assert_eq!(&row[14], "missed_doses;positive_test");
        assert_eq!(&row[15], "2026-11-15 urine positive; 2026-11-25 hair pending");
    }
}
