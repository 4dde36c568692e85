//! The home-visit log (上门服药记录) of a site's day: each visit with its dose and volume,
//! the times of its steps, its outcome, both nurses of the check-out and of the return, and
//! a column for the patient's signature.

use chrono::NaiveDate;

use super::pdf::{A4Report, Align, Column, Table, TableRow};
use super::{chinese_date, ReportError};

pub struct VisitLine {
    pub patient_no: String,
    pub patient_name: String,
    /// "30 mg / 30 mL".
    pub dose: String,
    /// "08:10 李护士/徐护士".
    pub checkout: String,
    pub arrived: String,
    /// "已服药", "不在家", "拒服", "待出库", "已出库".
    pub outcome: String,
    pub observed: String,
    /// "17:10 李/徐" or empty.
    pub returned: String,
    pub note: Option<String>,
}

pub struct VisitLogData {
    pub clinic_name: String,
    pub site_name: String,
    pub site_code: String,
    pub date: NaiveDate,
    pub product_label: String,
    pub visits: Vec<VisitLine>,
    pub printed_at: String,
    pub printed_by: String,
}

pub fn home_visit_log_pdf(data: &VisitLogData) -> Result<Vec<u8>, ReportError> {
    let footer = format!(
        "{}（{}）{} 上门服药记录 · 打印：{} {}",
        data.site_name, data.site_code, data.date, data.printed_at, data.printed_by
    );
    let mut report = A4Report::new(&format!("上门服药记录 {} {}", data.site_code, data.date), &footer)?;
    report.subtitle(&data.clinic_name);
    report.title("美沙酮上门服药记录");
    report.subtitle(&format!("服药点：{}（{}）    日期：{}", data.site_name, data.site_code, chinese_date(data.date)));
    report.subtitle(&format!("药品：{}", data.product_label));
    report.space(2.0);
    if data.visits.is_empty() {
        report.rule();
        report.paragraph("本日无上门服药安排");
        report.rule();
    } else {
        let columns = vec![
            Column::new("序号", 10.0, Align::Center),
            Column::new("病人编号", 20.0, Align::Left),
            Column::new("姓名", 13.0, Align::Left),
            Column::new("剂量/体积", 22.0, Align::Left),
            Column::new("出库/复核", 40.0, Align::Left),
            Column::new("结果", 13.0, Align::Center),
            Column::new("服药时间", 17.0, Align::Center),
            Column::new("退回/复核", 25.0, Align::Left),
            Column::new("服药者签名", 20.0, Align::Left),
        ];
        let rows = data
            .visits
            .iter()
            .enumerate()
            .map(|(i, v)| TableRow {
                cells: vec![
                    (i + 1).to_string(),
                    v.patient_no.clone(),
                    v.patient_name.clone(),
                    v.dose.clone(),
                    v.checkout.clone(),
                    v.outcome.clone(),
                    v.observed.clone(),
                    v.returned.clone(),
                    String::new(),
                ],
                struck: false,
                note: match (v.arrived.is_empty(), &v.note) {
                    (true, None) => None,
                    (true, Some(n)) => Some(format!("备注：{n}")),
                    (false, None) => Some(format!("到达 {}", v.arrived)),
                    (false, Some(n)) => Some(format!("到达 {}；备注：{n}", v.arrived)),
                },
            })
            .collect();
        report.table(&Table { columns, row_height_mm: 8.0, rows })?;
        report.space(3.0);
        let delivered = data.visits.iter().filter(|v| v.outcome == "已服药").count();
        report.paragraph(&format!(
            "共 {} 人次，已服药 {} 人次；未服药品均须当日退回库存（双人复核）。",
            data.visits.len(),
            delivered
        ));
    }
    report.space(4.0);
    report.signature_line("上门护士：");
    report.signature_line("复核护士：");
    report.signature_line("负责人：");
    report.finish()
}
