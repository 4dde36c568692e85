//! The patient card (服药卡): one credit-card-sized card (ID-1, 85.6 × 54 mm) with the photo,
//! name, patient number as a Code 128 barcode and a QR code (both read by the dosing
//! window's scanner field: they hold the patient number and nothing else), home site and
//! issue date. Printed alone on a card-sized page, or ten to an A4 sheet with cut lines for
//! printing a whole site's cards at once.
//!
//! Barcode and QR are drawn as vector rectangles, so they stay sharp at any printer
//! resolution; the encoders are the `barcoders` (Code 128) and `qrcode` crates.

use printpdf::{
    Color, FontId, Greyscale, Mm, Op, PaintMode, PdfDocument, PdfFontHandle, PdfPage, PdfParseErrorSeverity,
    PdfSaveOptions, Point, Pt, RawImage, RawImageData, RawImageFormat, Rect, Rgb, TextItem, XObjectTransform,
};

use super::pdf::{fit_to_width, load_font, text_width_mm};
use super::{chinese_date, ReportError};

/// ID-1 (credit card) size.
pub const CARD_WIDTH_MM: f32 = 85.6;
pub const CARD_HEIGHT_MM: f32 = 54.0;

const A4_WIDTH_MM: f32 = 210.0;
const A4_HEIGHT_MM: f32 = 297.0;
const SHEET_COLUMNS: usize = 2;
const SHEET_ROWS: usize = 5;
/// Cards on one A4 sheet.
pub const CARDS_PER_SHEET: usize = SHEET_COLUMNS * SHEET_ROWS;

const PHOTO_WIDTH_MM: f32 = 20.0;
const PHOTO_HEIGHT_MM: f32 = 25.0;
const PAD_MM: f32 = 3.0;
const BARCODE_HEIGHT_MM: f32 = 9.0;
const BARCODE_WIDTH_MM: f32 = 52.0;
const QR_SIZE_MM: f32 = 17.0;

pub struct CardFace {
    pub clinic_name: String,
    pub patient_no: String,
    pub name: String,
    pub home_site_name: String,
    pub issued_on: chrono::NaiveDate,
    /// The patient's photo as PNG, if one was uploaded as PNG (others print a frame).
    pub photo_png: Option<Vec<u8>>,
}

/// One card on a card-sized page.
pub fn card_pdf(card: &CardFace) -> Result<Vec<u8>, ReportError> {
    let mut doc = PdfDocument::new(&format!("服药卡 {}", card.patient_no));
    let font = doc.add_font(&load_font()?);
    let mut ops = Vec::new();
    draw_card(&mut doc, &font, &mut ops, card, 0.0, 0.0, CARD_HEIGHT_MM)?;
    save(doc, vec![PdfPage::new(Mm(CARD_WIDTH_MM), Mm(CARD_HEIGHT_MM), ops)])
}

/// Cards ten to an A4 sheet (two columns of five), with thin cut lines around each.
pub fn card_sheets_pdf(title: &str, cards: &[CardFace]) -> Result<Vec<u8>, ReportError> {
    let mut doc = PdfDocument::new(title);
    let font = doc.add_font(&load_font()?);
    let left = (A4_WIDTH_MM - SHEET_COLUMNS as f32 * CARD_WIDTH_MM) / 2.0;
    let top = (A4_HEIGHT_MM - SHEET_ROWS as f32 * CARD_HEIGHT_MM) / 2.0;
    let mut pages = Vec::new();
    for sheet in cards.chunks(CARDS_PER_SHEET).chain(cards.is_empty().then_some(&[][..])) {
        let mut ops = Vec::new();
        for (i, card) in sheet.iter().enumerate() {
            let x = left + (i % SHEET_COLUMNS) as f32 * CARD_WIDTH_MM;
            let y = top + (i / SHEET_COLUMNS) as f32 * CARD_HEIGHT_MM;
            draw_card(&mut doc, &font, &mut ops, card, x, y, A4_HEIGHT_MM)?;
        }
        pages.push(PdfPage::new(Mm(A4_WIDTH_MM), Mm(A4_HEIGHT_MM), ops));
    }
    save(doc, pages)
}

fn save(doc: PdfDocument, pages: Vec<PdfPage>) -> Result<Vec<u8>, ReportError> {
    let mut doc = doc;
    let mut warnings = Vec::new();
    let bytes = doc.with_pages(pages).save(&PdfSaveOptions::default(), &mut warnings);
    if let Some(error) = warnings.iter().find(|w| w.severity == PdfParseErrorSeverity::Error) {
        return Err(ReportError::Generation(format!("PDF serialisation: {}", error.msg)));
    }
    Ok(bytes)
}

/// Lays out one card with its top-left corner at (`x`, `y`) mm from the page's top-left;
/// `page_height` turns top-down millimetres into PDF's bottom-up points.
fn draw_card(
    doc: &mut PdfDocument,
    font: &FontId,
    ops: &mut Vec<Op>,
    card: &CardFace,
    x: f32,
    y: f32,
    page_height: f32,
) -> Result<(), ReportError> {
    let pen = Pen { font, page_height };
    // The card's edge (the cut line on a sheet).
    ops.push(Op::SetOutlineColor { col: grey(0.6) });
    ops.push(Op::SetOutlineThickness { pt: Pt(0.4) });
    ops.push(Op::DrawRectangle { rectangle: pen.rect(x, y, CARD_WIDTH_MM, CARD_HEIGHT_MM, PaintMode::Stroke) });
    // Header band.
    ops.push(Op::SetFillColor { col: Color::Rgb(Rgb::new(0.05, 0.18, 0.31, None)) });
    ops.push(Op::DrawRectangle { rectangle: pen.rect(x, y, CARD_WIDTH_MM, 8.0, PaintMode::Fill) });
    ops.push(Op::SetFillColor { col: grey(1.0) });
    let header =
        fit_to_width(&format!("{} · 美沙酮维持治疗服药卡", card.clinic_name), 8.0, CARD_WIDTH_MM - 2.0 * PAD_MM);
    pen.text(ops, x + PAD_MM, y + 5.5, 8.0, &header);
    ops.push(Op::SetFillColor { col: grey(0.0) });

    // Photo, left.
    let (px, py) = (x + PAD_MM, y + 10.5);
    match card.photo_png.as_deref().and_then(decode_png) {
        Some(image) => {
            let dpi = image.width as f32 / (PHOTO_WIDTH_MM / 25.4);
            let shown_height = image.height as f32 / dpi * 25.4;
            let id = doc.add_image(&image);
            ops.push(Op::UseXobject {
                id,
                transform: XObjectTransform {
                    translate_x: Some(Mm(px).into()),
                    translate_y: Some(Mm(page_height - py - shown_height.min(PHOTO_HEIGHT_MM)).into()),
                    dpi: Some(dpi),
                    ..Default::default()
                },
            });
        }
        None => pen.text(ops, px + 6.0, py + 14.0, 8.0, "照片"),
    }
    ops.push(Op::SetOutlineColor { col: grey(0.3) });
    ops.push(Op::DrawRectangle { rectangle: pen.rect(px, py, PHOTO_WIDTH_MM, PHOTO_HEIGHT_MM, PaintMode::Stroke) });

    // Who, right of the photo.
    let tx = px + PHOTO_WIDTH_MM + 3.0;
    let width = CARD_WIDTH_MM - (tx - x) - PAD_MM;
    pen.text(ops, tx, y + 16.0, 14.0, &fit_to_width(&card.name, 14.0, width));
    pen.text(ops, tx, y + 22.0, 9.0, &format!("编号 {}", card.patient_no));
    pen.text(
        ops,
        tx,
        y + 27.0,
        8.0,
        &fit_to_width(&format!("服药点 {}", card.home_site_name), 8.0, width - QR_SIZE_MM),
    );
    pen.text(ops, tx, y + 31.5, 7.0, &format!("发卡 {}", chinese_date(card.issued_on)));

    // QR, top right under the header; barcode along the bottom with its number under it.
    let qr = qrcode::QrCode::with_error_correction_level(card.patient_no.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| ReportError::Generation(format!("QR code: {e}")))?;
    let modules = qr.width();
    let module = QR_SIZE_MM / modules as f32;
    let (qx, qy) = (x + CARD_WIDTH_MM - PAD_MM - QR_SIZE_MM, y + 18.5);
    for (i, colour) in qr.to_colors().iter().enumerate() {
        if *colour == qrcode::Color::Dark {
            let (col, row) = (i % modules, i / modules);
            ops.push(Op::DrawRectangle {
                rectangle: pen.rect(
                    qx + col as f32 * module,
                    qy + row as f32 * module,
                    module,
                    module,
                    PaintMode::Fill,
                ),
            });
        }
    }

    let bars = barcoders::sym::code128::Code128::new(format!("Ɓ{}", card.patient_no))
        .map_err(|e| ReportError::Generation(format!("Code 128: {e}")))?
        .encode();
    let bar = BARCODE_WIDTH_MM / bars.len() as f32;
    let (bx, by) = (px, y + CARD_HEIGHT_MM - PAD_MM - BARCODE_HEIGHT_MM - 3.0);
    let mut i = 0;
    while i < bars.len() {
        // One rectangle per run of dark modules.
        if bars[i] == 1 {
            let start = i;
            while i < bars.len() && bars[i] == 1 {
                i += 1;
            }
            let w = (i - start) as f32 * bar;
            ops.push(Op::DrawRectangle {
                rectangle: pen.rect(bx + start as f32 * bar, by, w, BARCODE_HEIGHT_MM, PaintMode::Fill),
            });
        } else {
            i += 1;
        }
    }
    let number_x = bx + (BARCODE_WIDTH_MM - text_width_mm(&card.patient_no, 7.0)) / 2.0;
    pen.text(ops, number_x, by + BARCODE_HEIGHT_MM + 2.6, 7.0, &card.patient_no);
    Ok(())
}

struct Pen<'a> {
    font: &'a FontId,
    page_height: f32,
}

impl Pen<'_> {
    fn rect(&self, x: f32, y: f32, w: f32, h: f32, mode: PaintMode) -> Rect {
        Rect {
            mode: Some(mode),
            ..Rect::from_xywh(Mm(x).into(), Mm(self.page_height - y - h).into(), Mm(w).into(), Mm(h).into())
        }
    }

    fn text(&self, ops: &mut Vec<Op>, x: f32, baseline: f32, size: f32, text: &str) {
        ops.extend([
            Op::StartTextSection,
            Op::SetFont { font: PdfFontHandle::External(self.font.clone()), size: Pt(size) },
            Op::SetTextCursor { pos: Point::new(Mm(x), Mm(self.page_height - baseline)) },
            Op::ShowText { items: vec![TextItem::Text(text.to_owned())] },
            Op::EndTextSection,
        ]);
    }
}

fn grey(level: f32) -> Color {
    Color::Greyscale(Greyscale::new(level, None))
}

/// An 8-bit PNG as RGB pixels (alpha dropped onto white); `None` for anything else.
fn decode_png(bytes: &[u8]) -> Option<RawImage> {
    let mut decoder = png::Decoder::new(bytes);
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().ok()?;
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).ok()?;
    let data = &buf[..info.buffer_size()];
    let rgb: Vec<u8> = match info.color_type {
        png::ColorType::Rgb => data.to_vec(),
        png::ColorType::Rgba => data
            .chunks_exact(4)
            .flat_map(|p| {
                let a = u16::from(p[3]);
                let mix = |c: u8| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8;
                [mix(p[0]), mix(p[1]), mix(p[2])]
            })
            .collect(),
        png::ColorType::Grayscale => data.iter().flat_map(|g| [*g, *g, *g]).collect(),
        png::ColorType::GrayscaleAlpha => data.chunks_exact(2).flat_map(|p| [p[0], p[0], p[0]]).collect(),
        png::ColorType::Indexed => return None,
    };
    Some(RawImage {
        pixels: RawImageData::U8(rgb),
        width: info.width as usize,
        height: info.height as usize,
        data_format: RawImageFormat::RGB8,
        tag: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(no: &str) -> CardFace {
        CardFace {
            clinic_name: "乐清市美沙酮门诊".into(),
            patient_no: no.into(),
            name: "张三".into(),
            home_site_name: "柳市服药点".into(),
            issued_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            photo_png: None,
        }
    }

    #[test]
    fn a_card_is_one_card_sized_page_and_a_sheet_holds_ten() {
        let one = card_pdf(&face("10000001")).unwrap();
        assert!(one.starts_with(b"%PDF"));
        let cards: Vec<CardFace> = (0..11).map(|i| face(&format!("100000{i:02}"))).collect();
        assert!(card_sheets_pdf("服药卡", &cards).unwrap().starts_with(b"%PDF"));
        assert!(card_sheets_pdf("服药卡", &[]).unwrap().starts_with(b"%PDF"), "an empty site prints an empty sheet");
    }
}
