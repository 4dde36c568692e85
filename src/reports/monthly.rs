//! The network's monthly statistics (美沙酮维持治疗月报) for doctors and admins: per site and
//! for the whole network, patients in treatment, doses, enrolments, dropouts, re-entries,
//! retention, drug tests and home visits.

use super::pdf::{A4Report, Align, Column, Table, TableRow};
use super::{format_mg, ReportError};
use crate::domain::reports::{ReportMonth, SiteFigures};

pub const TITLE: &str = "美沙酮维持治疗月报";

#[derive(Debug, Clone)]
pub struct MonthlySiteRow {
    pub site_name: String,
    pub figures: SiteFigures,
}

#[derive(Debug, Clone)]
pub struct MonthlyReportData {
    pub clinic_name: String,
    pub month: ReportMonth,
    /// e.g. "2026-12-01 09:05".
    pub generated_at: String,
    pub generated_by: String,
    pub sites: Vec<MonthlySiteRow>,
    pub total: SiteFigures,
}

const ROW_HEIGHT_MM: f32 = 7.0;

pub fn monthly_report_pdf(data: &MonthlyReportData) -> Result<Vec<u8>, ReportError> {
    let footer = format!(
        "{} · {} {} · 生成：{} {}",
        data.clinic_name,
        TITLE,
        data.month.chinese(),
        data.generated_at,
        data.generated_by
    );
    let mut report = A4Report::new(&format!("{TITLE} {}", data.month), &footer)?;
    report.subtitle(&data.clinic_name);
    report.title(TITLE);
    report.space(1.0);
    report.fields(&[
        ("统计月份", data.month.chinese()),
        ("生成时间", data.generated_at.clone()),
        ("服药点数", format!("{} 个", data.sites.len())),
        ("生成人", data.generated_by.clone()),
    ]);
    report.space(2.0);
    report.table(&figures_table(data))?;
    report.space(2.0);
    let t = &data.total;
    report.paragraph(&format!(
        "全网本月在治 {} 人，服药 {} 人次，合计 {} mg；新入组 {} 人，脱失 {} 人，重新入组 {} 人；\
         月初在治 {} 人，月末仍在治 {} 人（保持率 {}）；尿检 {} 人次、毛发检测 {} 人次，阳性率 {}；上门服药 {} 人次。",
        t.in_treatment,
        t.doses,
        format_mg(t.dose_deci_mg),
        t.new_enrolments,
        t.dropouts,
        t.reentries,
        t.active_at_start,
        t.retained,
        percent(t.retention_tenths()),
        t.urine_tests,
        t.hair_tests,
        percent(t.positive_rate_tenths()),
        t.home_visits,
    ));
    report.paragraph(
        "说明：在治、新入组、脱失、重新入组、保持率和检测按病人所属服药点统计；服药人次、剂量和上门按实际发药的服药点统计\
         （分次服药每次计一人次，已冲正的不计）。在治＝本月有在治状态下生效的医嘱或有服药记录。保持率＝月初在治者中月末仍在治的比例。\
         检测为本月采样数（拒检不计），阳性率＝阳性数 / 已出阴性或阳性结果数。",
    );
    report.keep_together(30.0);
    report.space(4.0);
    report.signature_line("填表人：");
    report.signature_line("审核人：");
    report.finish()
}

fn figures_table(data: &MonthlyReportData) -> Table {
    let columns = vec![
        Column::new("服药点", 40.0, Align::Left),
        Column::new("在治", 12.0, Align::Right),
        Column::new("服药人次", 16.0, Align::Right),
        Column::new("剂量(mg)", 20.0, Align::Right),
        Column::new("新入组", 13.0, Align::Right),
        Column::new("脱失", 10.0, Align::Right),
        Column::new("再入组", 13.0, Align::Right),
        Column::new("保持率", 13.0, Align::Right),
        Column::new("尿检", 10.0, Align::Right),
        Column::new("毛发", 10.0, Align::Right),
        Column::new("阳性率", 13.0, Align::Right),
        Column::new("上门", 10.0, Align::Right),
    ];
    let mut rows: Vec<TableRow> = data.sites.iter().map(|s| figures_row(&s.site_name, &s.figures)).collect();
    rows.push(figures_row("全网合计", &data.total));
    Table { columns, row_height_mm: ROW_HEIGHT_MM, rows }
}

fn figures_row(name: &str, f: &SiteFigures) -> TableRow {
    TableRow {
        cells: vec![
            name.to_owned(),
            f.in_treatment.to_string(),
            f.doses.to_string(),
            format_mg(f.dose_deci_mg),
            f.new_enrolments.to_string(),
            f.dropouts.to_string(),
            f.reentries.to_string(),
            percent(f.retention_tenths()),
            f.urine_tests.to_string(),
            f.hair_tests.to_string(),
            percent(f.positive_rate_tenths()),
            f.home_visits.to_string(),
        ],
        struck: false,
        note: None,
    }
}

/// "87.5%", or "—" when there is nothing to divide by.
pub fn percent(tenths: Option<u32>) -> String {
    match tenths {
        Some(t) => format!("{}.{}%", t / 10, t % 10),
        None => "—".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::test_support::{pdf_to_text, squeeze};

    fn figures(in_treatment: u32, doses: u32) -> SiteFigures {
        SiteFigures {
            in_treatment,
            doses,
            dose_deci_mg: i64::from(doses) * 625,
            new_enrolments: 2,
            dropouts: 1,
            reentries: 1,
            active_at_start: 8,
            retained: 7,
            urine_tests: 5,
            hair_tests: 1,
            tests_with_result: 3,
            positive_tests: 1,
            home_visits: 4,
        }
    }

    #[test]
    fn percentages_have_one_decimal() {
        assert_eq!(percent(Some(875)), "87.5%");
        assert_eq!(percent(Some(1000)), "100.0%");
        assert_eq!(percent(Some(0)), "0.0%");
        assert_eq!(percent(None), "—");
    }

    #[test]
    fn the_monthly_report_has_a_row_per_site_and_the_network_total() {
        let data = MonthlyReportData {
            clinic_name: "乐清市美沙酮维持治疗门诊".into(),
            month: ReportMonth::parse("2026-11").unwrap(),
            generated_at: "2026-12-01 09:05".into(),
            generated_by: "陈医生".into(),
            sites: vec![
                MonthlySiteRow { site_name: "柳市服药点".into(), figures: figures(10, 280) },
                MonthlySiteRow { site_name: "虹桥服药点".into(), figures: figures(6, 150) },
            ],
            total: figures(16, 430),
        };
        let text = pdf_to_text(&monthly_report_pdf(&data).unwrap(), "monthly");
        for expected in
            [TITLE, "2026年11月", "柳市服药点", "虹桥服药点", "全网合计", "280", "17500", "87.5%", "33.3%", "填表人："]
        {
            assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
        }
        assert!(squeeze(&text).contains("服药430人次，合计26875mg"), "{text}");
        assert!(squeeze(&text).contains("第1页/共1页"));
    }
}
