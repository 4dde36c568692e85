//! A small A4 layout helper over printpdf: a cursor that flows titles, text, tables and
//! signature lines down portrait pages, breaking pages as needed, all in the embedded CJK font.
//!
//! Positions are kept in millimetres from the top of the page (the way a paper form is
//! measured) and converted to PDF's bottom-up points only when an operation is emitted.

use printpdf::{
    Color, FontId, Greyscale, Line, LinePoint, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFontHandle, PdfPage,
    PdfParseErrorSeverity, PdfSaveOptions, Point, Pt, Rect, TextItem,
};

use super::ReportError;

/// WenQuanYi Micro Hei cut down to GB 2312 + ASCII + punctuation (see fonts/README.md).
/// Shipped in the binary so Chinese prints on any machine; printpdf subsets it again per document.
const FONT_BYTES: &[u8] = include_bytes!("fonts/WenQuanYiMicroHei-CJK.ttf");

const PAGE_WIDTH_MM: f32 = 210.0;
const PAGE_HEIGHT_MM: f32 = 297.0;
const MARGIN_MM: f32 = 15.0;
/// Width available between the left and right margins.
const CONTENT_WIDTH_MM: f32 = PAGE_WIDTH_MM - 2.0 * MARGIN_MM;
/// Kept free above the bottom margin for the page footer.
const FOOTER_BAND_MM: f32 = 8.0;
const CONTENT_BOTTOM_MM: f32 = PAGE_HEIGHT_MM - MARGIN_MM - FOOTER_BAND_MM;

const TITLE_PT: f32 = 18.0;
const SUBTITLE_PT: f32 = 11.0;
const BODY_PT: f32 = 10.5;
const TABLE_PT: f32 = 9.0;
const FOOTER_PT: f32 = 8.0;

const MM_PER_PT: f32 = 25.4 / 72.0;
/// Inner padding between a table cell's border and its text.
const CELL_PADDING_MM: f32 = 1.5;
const HAIRLINE_PT: f32 = 0.5;
const HEADER_FILL: f32 = 0.88;
const ELLIPSIS: char = '…';

/// Horizontal placement of text within a table column.
#[derive(Debug, Clone, Copy)]
pub enum Align {
    Left,
    Center,
    Right,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub header: &'static str,
    pub width_mm: f32,
    pub align: Align,
}

impl Column {
    pub fn new(header: &'static str, width_mm: f32, align: Align) -> Self {
        Self { header, width_mm, align }
    }
}

#[derive(Debug, Clone)]
pub struct TableRow {
    pub cells: Vec<String>,
    /// Drawn with a line through it, as a reversed entry is on a paper register.
    pub struck: bool,
    /// A line of text under the row, across the whole table and wrapped to its width (e.g.
    /// the amendment of an entry corrected later). Kept on the same page as its row.
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub columns: Vec<Column>,
    pub row_height_mm: f32,
    pub rows: Vec<TableRow>,
}

/// A report being laid out. Elements are appended top to bottom; `finish` numbers the pages
/// and serialises the PDF.
pub struct A4Report {
    doc: PdfDocument,
    font: FontId,
    footer_note: String,
    /// Operations of the pages already filled.
    full_pages: Vec<Vec<Op>>,
    /// Operations of the page being filled.
    page: Vec<Op>,
    /// Distance from the top of the current page to where the next element starts.
    cursor_mm: f32,
}

impl A4Report {
    /// `footer_note` is printed at the foot of every page so a loose sheet can be put back.
    pub fn new(document_title: &str, footer_note: &str) -> Result<Self, ReportError> {
        let mut doc = PdfDocument::new(document_title);
        let font = doc.add_font(&load_font()?);
        Ok(Self {
            doc,
            font,
            footer_note: footer_note.to_owned(),
            full_pages: Vec::new(),
            page: Vec::new(),
            cursor_mm: MARGIN_MM,
        })
    }

    pub fn title(&mut self, text: &str) {
        self.centered_line(text, TITLE_PT, 1.7);
    }

    pub fn subtitle(&mut self, text: &str) {
        self.centered_line(text, SUBTITLE_PT, 1.6);
    }

    /// Body text, wrapped to the content width.
    pub fn paragraph(&mut self, text: &str) {
        let line_height = pt_to_mm(BODY_PT) * 1.7;
        for line in wrap_to_width(text, BODY_PT, CONTENT_WIDTH_MM) {
            self.ensure_space(line_height);
            let baseline = baseline_in(self.cursor_mm, line_height, BODY_PT);
            self.text(MARGIN_MM, baseline, BODY_PT, &line);
            self.cursor_mm += line_height;
        }
    }

    /// Label/value pairs set two to a line, like the header block of a paper card.
    pub fn fields(&mut self, pairs: &[(&str, String)]) {
        let line_height = pt_to_mm(BODY_PT) * 1.9;
        let half = CONTENT_WIDTH_MM / 2.0;
        for line in pairs.chunks(2) {
            self.ensure_space(line_height);
            let baseline = baseline_in(self.cursor_mm, line_height, BODY_PT);
            for (i, (label, value)) in line.iter().enumerate() {
                let text = fit_to_width(&format!("{label}：{value}"), BODY_PT, half - 2.0);
                self.text(MARGIN_MM + half * i as f32, baseline, BODY_PT, &text);
            }
            self.cursor_mm += line_height;
        }
    }

    pub fn space(&mut self, mm: f32) {
        self.cursor_mm += mm;
    }

    /// A full-width horizontal rule, with a little air either side.
    pub fn rule(&mut self) {
        self.ensure_space(3.0);
        let y = self.cursor_mm + 1.5;
        self.line(MARGIN_MM, y, MARGIN_MM + CONTENT_WIDTH_MM, y, HAIRLINE_PT * 1.6);
        self.cursor_mm += 3.0;
    }

    /// Starts a new page, unless the current one is still blank (one form per page).
    pub fn page_break(&mut self) {
        if !self.page.is_empty() {
            self.new_page();
        }
    }

    /// Starts a new page unless `height_mm` still fits, so a block is not split across pages.
    pub fn keep_together(&mut self, height_mm: f32) {
        self.ensure_space(height_mm);
    }

    /// A ruled table; each page it runs onto starts with the header row again.
    pub fn table(&mut self, table: &Table) -> Result<(), ReportError> {
        check_table(table)?;
        // Never leave a header alone at the foot of a page.
        self.ensure_space(2.0 * table.row_height_mm);
        self.table_header(table);
        let width: f32 = table.columns.iter().map(|c| c.width_mm).sum();
        for row in &table.rows {
            let note = match &row.note {
                Some(text) => wrap_to_width(text, TABLE_PT, width - 2.0 * CELL_PADDING_MM),
                None => Vec::new(),
            };
            if !self.fits(table.row_height_mm + note_height(note.len())) {
                self.new_page();
                self.table_header(table);
            }
            self.table_row(table, row);
            if !note.is_empty() {
                self.table_note(width, &note);
            }
        }
        Ok(())
    }

    /// "<label>   签名：_______   日期：_______", tall enough to sign by hand.
    pub fn signature_line(&mut self, label: &str) {
        const HEIGHT_MM: f32 = 11.0;
        const SIGNATURE_START_MM: f32 = MARGIN_MM + 62.0;
        const DATE_START_MM: f32 = MARGIN_MM + 131.0;
        self.ensure_space(HEIGHT_MM);
        // Text near the bottom of the band leaves room above the line for a handwritten signature.
        let baseline = self.cursor_mm + HEIGHT_MM - 2.5;
        let label = fit_to_width(label, BODY_PT, SIGNATURE_START_MM - MARGIN_MM - 2.0);
        self.text(MARGIN_MM, baseline, BODY_PT, &label);
        self.blank(SIGNATURE_START_MM, DATE_START_MM - 6.0, baseline, "签名：");
        self.blank(DATE_START_MM, MARGIN_MM + CONTENT_WIDTH_MM, baseline, "日期：");
        self.cursor_mm += HEIGHT_MM;
    }

    /// Adds "第 i 页 / 共 N 页" and the footer note to every page and returns the PDF bytes.
    pub fn finish(mut self) -> Result<Vec<u8>, ReportError> {
        let mut filled = std::mem::take(&mut self.full_pages);
        filled.push(std::mem::take(&mut self.page));
        let total = filled.len();
        let baseline = PAGE_HEIGHT_MM - MARGIN_MM;
        let mut pages = Vec::with_capacity(total);
        for (index, mut ops) in filled.into_iter().enumerate() {
            let page_number = format!("第 {} 页 / 共 {} 页", index + 1, total);
            let number_x = MARGIN_MM + CONTENT_WIDTH_MM - text_width_mm(&page_number, FOOTER_PT);
            let note = fit_to_width(&self.footer_note, FOOTER_PT, CONTENT_WIDTH_MM - 40.0);
            ops.extend(self.text_ops(MARGIN_MM, baseline, FOOTER_PT, &note));
            ops.extend(self.text_ops(number_x, baseline, FOOTER_PT, &page_number));
            pages.push(PdfPage::new(Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM), ops));
        }

        let mut warnings = Vec::new();
        let bytes = self.doc.with_pages(pages).save(&PdfSaveOptions::default(), &mut warnings);
        // printpdf reports problems (e.g. a font it could not embed) as warnings and still
        // returns bytes; a register with missing text must not reach the printer.
        if let Some(error) = warnings.iter().find(|w| w.severity == PdfParseErrorSeverity::Error) {
            return Err(ReportError::Generation(format!("PDF serialisation: {}", error.msg)));
        }
        Ok(bytes)
    }

    /// "caption：" followed by a ruled blank up to `end_x`, like a blank to fill in on a form.
    fn blank(&mut self, x: f32, end_x: f32, baseline: f32, caption: &str) {
        self.text(x, baseline, BODY_PT, caption);
        let line_start = x + text_width_mm(caption, BODY_PT);
        // Just under the baseline, so handwriting sits on it.
        self.line(line_start, baseline + 0.8, end_x, baseline + 0.8, HAIRLINE_PT);
    }

    fn centered_line(&mut self, text: &str, size_pt: f32, leading: f32) {
        let line_height = pt_to_mm(size_pt) * leading;
        self.ensure_space(line_height);
        let text = fit_to_width(text, size_pt, CONTENT_WIDTH_MM);
        let x = MARGIN_MM + (CONTENT_WIDTH_MM - text_width_mm(&text, size_pt)) / 2.0;
        let baseline = baseline_in(self.cursor_mm, line_height, size_pt);
        self.text(x, baseline, size_pt, &text);
        self.cursor_mm += line_height;
    }

    fn table_header(&mut self, table: &Table) {
        let top = self.cursor_mm;
        let height = table.row_height_mm;
        self.page.push(Op::SetFillColor { col: grey(HEADER_FILL) });
        self.cell_borders(table, top, height, PaintMode::FillStroke);
        self.page.push(Op::SetFillColor { col: grey(0.0) });
        let baseline = baseline_in(top, height, TABLE_PT);
        let mut x = MARGIN_MM;
        for column in &table.columns {
            self.cell_text(x, column.width_mm, baseline, Align::Center, column.header);
            x += column.width_mm;
        }
        self.cursor_mm += height;
    }

    fn table_row(&mut self, table: &Table, row: &TableRow) {
        let top = self.cursor_mm;
        let height = table.row_height_mm;
        self.cell_borders(table, top, height, PaintMode::Stroke);
        let baseline = baseline_in(top, height, TABLE_PT);
        let mut x = MARGIN_MM;
        for (column, cell) in table.columns.iter().zip(&row.cells) {
            self.cell_text(x, column.width_mm, baseline, column.align, cell);
            x += column.width_mm;
        }
        if row.struck {
            // Through the middle of the glyphs, not the middle of the cell, so it reads as struck text.
            let y = baseline - pt_to_mm(TABLE_PT) * 0.35;
            let right = MARGIN_MM + table.columns.iter().map(|c| c.width_mm).sum::<f32>();
            self.line(MARGIN_MM + 0.8, y, right - 0.8, y, HAIRLINE_PT * 1.6);
        }
        self.cursor_mm += height;
    }

    /// The lines of a row's note in one ruled band the width of the table.
    fn table_note(&mut self, width: f32, lines: &[String]) {
        let top = self.cursor_mm;
        let height = note_height(lines.len());
        self.page.push(Op::SetOutlineThickness { pt: Pt(HAIRLINE_PT) });
        let rect = Rect {
            mode: Some(PaintMode::Stroke),
            ..Rect::from_xywh(
                mm_to_pt(MARGIN_MM),
                mm_to_pt(PAGE_HEIGHT_MM - top - height),
                mm_to_pt(width),
                mm_to_pt(height),
            )
        };
        self.page.push(Op::DrawRectangle { rectangle: rect });
        for (i, line) in lines.iter().enumerate() {
            let band_top = top + NOTE_PADDING_MM + i as f32 * note_line_mm();
            let baseline = baseline_in(band_top, note_line_mm(), TABLE_PT);
            self.text(MARGIN_MM + CELL_PADDING_MM, baseline, TABLE_PT, line);
        }
        self.cursor_mm += height;
    }

    fn cell_borders(&mut self, table: &Table, top: f32, height: f32, mode: PaintMode) {
        self.page.push(Op::SetOutlineThickness { pt: Pt(HAIRLINE_PT) });
        let mut x = MARGIN_MM;
        for column in &table.columns {
            let rect = Rect {
                mode: Some(mode),
                ..Rect::from_xywh(
                    mm_to_pt(x),
                    mm_to_pt(PAGE_HEIGHT_MM - top - height),
                    mm_to_pt(column.width_mm),
                    mm_to_pt(height),
                )
            };
            self.page.push(Op::DrawRectangle { rectangle: rect });
            x += column.width_mm;
        }
    }

    fn cell_text(&mut self, left: f32, width: f32, baseline: f32, align: Align, text: &str) {
        let inner = width - 2.0 * CELL_PADDING_MM;
        let text = fit_to_width(text, TABLE_PT, inner);
        let slack = inner - text_width_mm(&text, TABLE_PT);
        let x = left
            + CELL_PADDING_MM
            + match align {
                Align::Left => 0.0,
                Align::Center => slack / 2.0,
                Align::Right => slack,
            };
        self.text(x, baseline, TABLE_PT, &text);
    }

    fn fits(&self, height_mm: f32) -> bool {
        self.cursor_mm + height_mm <= CONTENT_BOTTOM_MM
    }

    fn ensure_space(&mut self, height_mm: f32) {
        if !self.fits(height_mm) {
            self.new_page();
        }
    }

    fn new_page(&mut self) {
        self.full_pages.push(std::mem::take(&mut self.page));
        self.cursor_mm = MARGIN_MM;
    }

    fn text(&mut self, x_mm: f32, baseline_mm: f32, size_pt: f32, text: &str) {
        let ops = self.text_ops(x_mm, baseline_mm, size_pt, text);
        self.page.extend(ops);
    }

    fn text_ops(&self, x_mm: f32, baseline_mm: f32, size_pt: f32, text: &str) -> [Op; 5] {
        [
            Op::StartTextSection,
            Op::SetFont { font: PdfFontHandle::External(self.font.clone()), size: Pt(size_pt) },
            Op::SetTextCursor { pos: Point::new(Mm(x_mm), Mm(PAGE_HEIGHT_MM - baseline_mm)) },
            Op::ShowText { items: vec![TextItem::Text(text.to_owned())] },
            Op::EndTextSection,
        ]
    }

    fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, thickness_pt: f32) {
        let point = |x: f32, y: f32| LinePoint { p: Point::new(Mm(x), Mm(PAGE_HEIGHT_MM - y)), bezier: false };
        self.page.push(Op::SetOutlineThickness { pt: Pt(thickness_pt) });
        self.page.push(Op::DrawLine { line: Line { points: vec![point(x1, y1), point(x2, y2)], is_closed: false } });
    }
}

pub(super) fn load_font() -> Result<ParsedFont, ReportError> {
    let mut warnings = Vec::new();
    ParsedFont::from_bytes(FONT_BYTES, 0, &mut warnings)
        .ok_or_else(|| ReportError::Generation(format!("embedded CJK font could not be parsed: {warnings:?}")))
}

fn check_table(table: &Table) -> Result<(), ReportError> {
    if !(table.row_height_mm > 0.0 && table.row_height_mm < CONTENT_BOTTOM_MM - MARGIN_MM) {
        return Err(ReportError::Generation(format!(
            "table row height {} mm does not fit a page",
            table.row_height_mm
        )));
    }
    let width: f32 = table.columns.iter().map(|c| c.width_mm).sum();
    if width > CONTENT_WIDTH_MM + 0.01 {
        return Err(ReportError::Generation(format!("table is {width} mm wide, page allows {CONTENT_WIDTH_MM} mm")));
    }
    if let Some(row) = table.rows.iter().find(|r| r.cells.len() != table.columns.len()) {
        return Err(ReportError::Generation(format!(
            "table row has {} cells for {} columns",
            row.cells.len(),
            table.columns.len()
        )));
    }
    Ok(())
}

/// Padding above and below the lines of a row's note.
const NOTE_PADDING_MM: f32 = 0.8;

fn note_line_mm() -> f32 {
    pt_to_mm(TABLE_PT) * 1.5
}

/// Height of a row's note of `lines` lines (0 for none).
fn note_height(lines: usize) -> f32 {
    if lines == 0 {
        0.0
    } else {
        lines as f32 * note_line_mm() + 2.0 * NOTE_PADDING_MM
    }
}

fn grey(level: f32) -> Color {
    Color::Greyscale(Greyscale::new(level, None))
}

fn pt_to_mm(pt: f32) -> f32 {
    pt * MM_PER_PT
}

fn mm_to_pt(mm: f32) -> Pt {
    Mm(mm).into()
}

/// Baseline that centres a line of CJK glyphs in a band starting at `top` (their body sits
/// about 0.35 em above the baseline).
fn baseline_in(top: f32, height: f32, size_pt: f32) -> f32 {
    top + height / 2.0 + pt_to_mm(size_pt) * 0.35
}

/// Estimated advance of a character in em. Exact metrics are not needed for clipping and
/// alignment; this font sets hanzi and full-width forms at one em, letters and digits at
/// about 0.55 em, and spaces and ASCII punctuation at about a quarter em.
fn char_width_em(c: char) -> f32 {
    if c == ' ' || c.is_ascii_punctuation() {
        0.3
    } else if c.is_ascii() {
        0.55
    } else {
        1.0
    }
}

pub(super) fn text_width_mm(text: &str, size_pt: f32) -> f32 {
    text.chars().map(char_width_em).sum::<f32>() * pt_to_mm(size_pt)
}

/// `text` unchanged if it fits in `max_mm`, else cut and ended with "…".
pub(super) fn fit_to_width(text: &str, size_pt: f32, max_mm: f32) -> String {
    if text_width_mm(text, size_pt) <= max_mm {
        return text.to_owned();
    }
    let budget = max_mm - char_width_em(ELLIPSIS) * pt_to_mm(size_pt);
    let mut used = 0.0;
    let mut cut: String = text
        .chars()
        .take_while(|&c| {
            used += char_width_em(c) * pt_to_mm(size_pt);
            used <= budget
        })
        .collect();
    cut.push(ELLIPSIS);
    cut
}

/// Greedy wrap by character; Chinese has no spaces to break at, and the odd split ASCII word is acceptable here.
fn wrap_to_width(text: &str, size_pt: f32, max_mm: f32) -> Vec<String> {
    let mut lines = vec![String::new()];
    let mut used = 0.0;
    for c in text.chars() {
        let width = char_width_em(c) * pt_to_mm(size_pt);
        if used + width > max_mm && used > 0.0 {
            lines.push(String::new());
            used = 0.0;
        }
        if let Some(line) = lines.last_mut() {
            line.push(c);
        }
        used += width;
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_not_clipped() {
        assert_eq!(fit_to_width("张三", TABLE_PT, 20.0), "张三");
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis_and_fits() {
        let cut = fit_to_width("已冲正：剂量录入错误，护士当场发现并重新发放", TABLE_PT, 30.0);
        assert!(cut.ends_with(ELLIPSIS), "{cut}");
        assert!(text_width_mm(&cut, TABLE_PT) <= 30.0, "{cut}");
    }

    #[test]
    fn ascii_is_estimated_narrower_than_hanzi() {
        assert!(text_width_mm("AB12", BODY_PT) < text_width_mm("美沙酮", BODY_PT));
    }

    #[test]
    fn wrapped_lines_each_fit() {
        let text = "每日 60 mg（维持期），自 2026-11-01 起；".repeat(6);
        let lines = wrap_to_width(&text, BODY_PT, CONTENT_WIDTH_MM);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| text_width_mm(l, BODY_PT) <= CONTENT_WIDTH_MM));
        assert_eq!(lines.concat(), text);
    }

    /// Guards against swapping in a font without Latin digits (Droid Sans Fallback): every number would vanish.
    #[test]
    fn embedded_font_has_digits_latin_and_the_report_hanzi() {
        let font = load_font().unwrap();
        let needed = ('0'..='9')
            .chain('A'..='Z')
            .chain('a'..='z')
            .chain("美沙酮登记簿序号剂量冲正签名：（）…更正记录事后划线扣除↑；。".chars());
        let missing: String = needed.filter(|&c| font.lookup_glyph_index(c as u32).is_none()).collect();
        assert!(missing.is_empty(), "font lacks {missing:?}");
    }

    #[test]
    fn a_table_wider_than_the_page_is_refused() {
        let mut report = A4Report::new("t", "").unwrap();
        let table = Table { columns: vec![Column::new("宽", 200.0, Align::Left)], row_height_mm: 7.0, rows: vec![] };
        assert!(report.table(&table).is_err());
    }
}
