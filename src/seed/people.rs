//! Synthetic but realistic people for the demo network and the benchmarks: Chinese names,
//! valid resident id numbers, and placeholder photos. Seeded, so runs are reproducible.

use std::io::Write;

use chrono::{Datelike, Duration, NaiveDate};
use rand::rngs::StdRng;
use rand::Rng;

use crate::domain::resident_id;

const SURNAMES: &[&str] = &[
    "陈", "王", "李", "张", "刘", "林", "黄", "吴", "周", "徐", "郑", "叶", "赵", "潘", "朱", "胡", "金", "施", "杨",
    "蔡", "卢", "虞", "倪", "项", "池", "章", "郭", "何", "高", "谢",
];
const GIVEN: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "建", "国", "华", "平", "海", "东", "林", "峰", "辉",
    "鹏", "飞", "文", "志", "新", "永", "红", "芳", "丽", "敏", "静", "燕", "霞", "娟", "英", "秀", "兰", "洁", "琴",
    "晓", "春", "宏", "俊", "利", "成", "德", "荣", "忠", "良", "彬", "浩",
];

/// A plausible two- or three-character name.
pub fn name(rng: &mut StdRng) -> String {
    let mut n = SURNAMES[rng.gen_range(0..SURNAMES.len())].to_string();
    let len = if rng.gen_bool(0.7) { 2 } else { 1 };
    for _ in 0..len {
        n.push_str(GIVEN[rng.gen_range(0..GIVEN.len())]);
    }
    n
}

/// A valid resident id number of 乐清 (330382) for a birth date; `seq` picks the sequence
/// (its parity gives the sex).
pub fn id_number(birth: NaiveDate, seq: u32, male: bool) -> String {
    let seq = (seq % 500) * 2 + u32::from(male);
    let first17 = format!("330382{:04}{:02}{:02}{:03}", birth.year(), birth.month(), birth.day(), seq);
    let check = resident_id::check_char(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

/// A generated id number no enrolled patient has yet (sequence `seq`, stepping on a clash).
pub fn free_id_number(
    conn: &mut crate::db::DbConn,
    birth: NaiveDate,
    seq: u32,
    male: bool,
) -> crate::db::QueryResult<String> {
    let mut candidate = id_number(birth, seq, male);
    let mut attempt = 1;
    while crate::db::patients::find_by_id_number(conn, &candidate)?.is_some() {
        candidate = id_number(birth, seq + attempt * 7919, male);
        attempt += 1;
    }
    Ok(candidate)
}

/// A mainland mobile number: 11 digits, starting 13–19.
pub fn mobile_number(rng: &mut StdRng) -> String {
    format!("1{}{:09}", rng.gen_range(3..=9), rng.gen_range(0..1_000_000_000u64))
}

/// A birth date for an adult patient (ages 22 to 62).
pub fn birth_date(rng: &mut StdRng, today: NaiveDate) -> NaiveDate {
    today - Duration::days(rng.gen_range(22 * 365..62 * 365))
}

/// The first letter of a name character's pinyin (the characters `name` draws from).
fn pinyin_initial(c: char) -> char {
    const TABLE: &[(&str, char)] = &[
        ("陈池蔡超春成", 'C'),
        ("王吴伟文", 'W'),
        ("李刘林卢磊丽兰利良", 'L'),
        ("张周郑赵朱章志忠", 'Z'),
        ("黄胡何华海辉红宏浩", 'H'),
        ("徐项谢新霞秀晓", 'X'),
        ("叶杨虞勇永燕英", 'Y'),
        ("潘平鹏", 'P'),
        ("金军杰建静娟洁俊", 'J'),
        ("施", 'S'),
        ("倪", 'N'),
        ("郭高国", 'G'),
        ("强琴", 'Q'),
        ("涛", 'T'),
        ("斌彬", 'B'),
        ("明敏", 'M'),
        ("东德", 'D'),
        ("峰飞芳", 'F'),
        ("荣", 'R'),
    ];
    TABLE.iter().find(|(chars, _)| chars.contains(c)).map(|(_, l)| *l).unwrap_or('X')
}

/// The initials of a name: its surname's and first given character's pinyin initials.
pub fn initials(name: &str) -> String {
    name.chars().take(2).map(pinyin_initial).collect()
}

/// 5 × 7 capital letters, one row per byte (bit 4 = leftmost column).
fn glyph(letter: char) -> [u8; 7] {
    match letter {
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x19, 0x15, 0x13, 0x11, 0x11, 0x11],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        _ => [0; 7],
    }
}

/// A placeholder portrait that tells patients apart at a glance: the initials of the name
/// (pinyin) in white on a ground of the patient's own colour, as PNG.
pub fn placeholder_photo(rng: &mut StdRng, name: &str) -> Vec<u8> {
    const W: u32 = 90;
    const H: u32 = 112;
    const SCALE: u32 = 6;
    // A strong colour from a hue wheel (twelve hues, two shades): dark enough for white.
    // Six draws, as the silhouette placeholder before it took, so that the rest of the demo
    // (drawn from the same generator) stays the same.
    let draws: [u32; 6] = [
        rng.gen_range(170..230u8).into(),
        rng.gen_range(170..230u8).into(),
        rng.gen_range(190..240u8).into(),
        rng.gen_range(60..110u8).into(),
        rng.gen_range(60..100u8).into(),
        rng.gen_range(70..120u8).into(),
    ];
    let hue = ((draws[0] + draws[1] + draws[2]) % 12) as f32 * 30.0;
    let shade = if (draws[3] + draws[4] + draws[5]).is_multiple_of(2) { 0.45 } else { 0.32 };
    let bg = hsl_to_rgb(hue, 0.55, shade);
    let letters: Vec<char> = initials(name).chars().collect();
    let text_w = letters.len() as u32 * 6 * SCALE - SCALE;
    let (x0, y0) = ((W - text_w) / 2, (H - 7 * SCALE) / 2);
    let mut raw = Vec::with_capacity(((W * 3 + 1) * H) as usize);
    for y in 0..H {
        raw.push(0); // filter: none
        for x in 0..W {
            let ink = x >= x0 && y >= y0 && y < y0 + 7 * SCALE && {
                let (cx, row) = ((x - x0) / SCALE, ((y - y0) / SCALE) as usize);
                let (letter, col) = ((cx / 6) as usize, cx % 6);
                col < 5 && letters.get(letter).is_some_and(|l| glyph(*l)[row] & (0x10 >> col) != 0)
            };
            raw.extend_from_slice(if ink { &[255, 255, 255] } else { &bg });
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = z.write_all(&raw);
    let data = z.finish().unwrap_or_default();
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&W.to_be_bytes());
    ihdr.extend_from_slice(&H.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &data);
    chunk(&mut png, b"IEND", &[]);
    png
}

fn hsl_to_rgb(h: f32, s: f32, l: f32) -> [u8; 3] {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let m = l - c / 2.0;
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    [((r + m) * 255.0) as u8, ((g + m) * 255.0) as u8, ((b + m) * 255.0) as u8]
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn generated_id_numbers_validate_with_their_birth_date_and_sex() {
        let birth = NaiveDate::from_ymd_opt(1979, 3, 8).unwrap();
        for (seq, male) in [(1, true), (2, false), (777, true)] {
            let id = resident_id::parse(&id_number(birth, seq, male)).unwrap();
            assert_eq!((id.birth_date, id.male), (birth, male));
        }
    }

    #[test]
    fn placeholder_photos_are_pngs_the_upload_check_accepts() {
        let mut rng = StdRng::seed_from_u64(7);
        let png = placeholder_photo(&mut rng, "张伟");
        assert_eq!(crate::services::patients::sniff_image(&png), Ok(("image/png", 90, 112)));
        assert!(png.len() < 4000, "{} bytes", png.len());
        // Two patients' placeholders differ by their initials, even on the same ground.
        let mut same = StdRng::seed_from_u64(7);
        assert_ne!(placeholder_photo(&mut same, "李娜"), png);
    }

    #[test]
    fn every_name_character_has_its_initial() {
        for c in SURNAMES.iter().chain(GIVEN).flat_map(|s| s.chars()) {
            let letter = pinyin_initial(c);
            assert!(letter != 'X' || "徐项谢新霞秀晓".contains(c), "{c}");
            assert_ne!(glyph(letter), [0; 7], "{c} -> {letter}");
        }
    }

    #[test]
    fn mobile_numbers_have_eleven_digits() {
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..100 {
            let n = mobile_number(&mut rng);
            assert!(n.len() == 11 && n.starts_with('1') && n.chars().all(|c| c.is_ascii_digit()), "{n}");
        }
    }

    #[test]
    fn names_are_two_or_three_characters() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..50 {
            let n = name(&mut rng).chars().count();
            assert!((2..=3).contains(&n));
        }
    }
}
