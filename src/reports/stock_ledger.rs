//! The controlled-substance ledger (麻醉药品专用账册) of a site and product over a period,
//! in the register's layout: date, entry, in, out, balance, and both staff names.

use chrono::NaiveDate;

use super::pdf::{A4Report, Align, Column, Table, TableRow};
use super::register::format_centi_ml;
use super::{chinese_date, ReportError};

pub struct LedgerLine {
    pub date: NaiveDate,
    /// Local time, "08:10".
    pub time: String,
    /// e.g. "入库", "窗口发药".
    pub entry: String,
    pub detail: String,
    /// Hundredths of a mL.
    pub in_cml: i64,
    pub out_cml: i64,
    pub balance_cml: i64,
    pub entered_by: String,
    pub confirmed_by: String,
}

pub struct LedgerData {
    pub clinic_name: String,
    pub site_name: String,
    pub site_code: String,
    /// "美沙酮口服溶液 1 mg/mL": the concentration beside every volume.
    pub product_label: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub opening_cml: i64,
    pub closing_cml: i64,
    pub lines: Vec<LedgerLine>,
    pub printed_at: String,
    pub printed_by: String,
}

pub fn stock_ledger_pdf(data: &LedgerData) -> Result<Vec<u8>, ReportError> {
    let footer = format!(
        "{}（{}）专用账册 {}至{} · 打印：{} {}",
        data.site_name, data.site_code, data.from, data.to, data.printed_at, data.printed_by
    );
    let mut report = A4Report::new(&format!("专用账册 {} {}—{}", data.site_code, data.from, data.to), &footer)?;
    report.subtitle(&data.clinic_name);
    report.title("麻醉药品专用账册（美沙酮口服溶液）");
    report.subtitle(&format!("服药点：{}（{}）    药品：{}", data.site_name, data.site_code, data.product_label));
    report.subtitle(&format!("期间：{} 至 {}    单位：mL", chinese_date(data.from), chinese_date(data.to)));
    report.space(2.0);
    let columns = vec![
        Column::new("日期", 19.0, Align::Center),
        Column::new("时间", 11.0, Align::Center),
        Column::new("摘要", 17.0, Align::Left),
        Column::new("说明", 45.0, Align::Left),
        Column::new("收入", 16.0, Align::Right),
        Column::new("发出", 16.0, Align::Right),
        Column::new("结存", 18.0, Align::Right),
        Column::new("经手人", 19.0, Align::Left),
        Column::new("复核人", 19.0, Align::Left),
    ];
    let mut rows = vec![TableRow {
        cells: vec![
            data.from.format("%m-%d").to_string(),
            String::new(),
            "期初结存".into(),
            String::new(),
            String::new(),
            String::new(),
            format_centi_ml(data.opening_cml),
            String::new(),
            String::new(),
        ],
        struck: false,
        note: None,
    }];
    let blank_if_zero = |v: i64| if v == 0 { String::new() } else { format_centi_ml(v) };
    rows.extend(data.lines.iter().map(|l| TableRow {
        cells: vec![
            l.date.format("%m-%d").to_string(),
            l.time.clone(),
            l.entry.clone(),
            l.detail.clone(),
            blank_if_zero(l.in_cml),
            blank_if_zero(l.out_cml),
            format_centi_ml(l.balance_cml),
            l.entered_by.clone(),
            l.confirmed_by.clone(),
        ],
        struck: false,
        note: None,
    }));
    report.table(&Table { columns, row_height_mm: 7.0, rows })?;
    report.space(3.0);
    let total_in: i64 = data.lines.iter().map(|l| l.in_cml).sum();
    let total_out: i64 = data.lines.iter().map(|l| l.out_cml).sum();
    report.keep_together(50.0);
    report.paragraph(&format!(
        "期初 {} mL + 收入 {} mL - 发出 {} mL = 期末结存 {} mL（{}）",
        format_centi_ml(data.opening_cml),
        format_centi_ml(total_in),
        format_centi_ml(total_out),
        format_centi_ml(data.closing_cml),
        data.product_label
    ));
    report.space(4.0);
    report.signature_line("保管人：");
    report.signature_line("复核人：");
    report.signature_line("负责人：");
    report.finish()
}
