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

/// A placeholder portrait: a soft background with a head-and-shoulders silhouette, as PNG.
pub fn placeholder_photo(rng: &mut StdRng) -> Vec<u8> {
    const W: u32 = 90;
    const H: u32 = 112;
    let bg = [rng.gen_range(170..230u8), rng.gen_range(170..230u8), rng.gen_range(190..240u8)];
    let fg = [rng.gen_range(60..110u8), rng.gen_range(60..100u8), rng.gen_range(70..120u8)];
    let mut raw = Vec::with_capacity(((W * 3 + 1) * H) as usize);
    for y in 0..H {
        raw.push(0); // filter: none
        for x in 0..W {
            let (fx, fy) = (x as f32 - 45.0, y as f32);
            let head = (fx / 19.0).powi(2) + ((fy - 42.0) / 24.0).powi(2) <= 1.0;
            let shoulders = fy > 72.0 && (fx / 40.0).powi(2) + ((fy - 118.0) / 46.0).powi(2) <= 1.0;
            raw.extend_from_slice(if head || shoulders { &fg } else { &bg });
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
        let png = placeholder_photo(&mut rng);
        assert_eq!(crate::services::patients::sniff_image(&png), Ok(("image/png", 90, 112)));
        assert!(png.len() < 4000, "{} bytes", png.len());
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
