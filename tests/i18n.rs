//! The UI's two string tables hold the same keys, and each key the same placeholders, so
//! that switching the language never shows a raw key or a missing name.

use std::collections::{BTreeMap, BTreeSet};

/// `"key": "text",` lines of a string table, as key → placeholders (`{name}`) of its text.
fn table(path: &str) -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut keys = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix('"') else { continue };
        let Some((key, value)) = rest.split_once("\":") else { continue };
        let placeholders = value
            .split('{')
            .skip(1)
            .filter_map(|part| part.split_once('}').map(|(name, _)| name.to_string()))
            .filter(|name| name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .collect();
        assert!(keys.insert(key.to_string(), placeholders).is_none(), "{path}:{}: {key} appears twice", n + 1);
    }
    keys
}

#[test]
fn both_languages_have_the_same_keys_and_placeholders() {
    let zh = table("static/i18n/zh-CN.js");
    let en = table("static/i18n/en.js");
    assert!(zh.len() > 100, "{} keys read from zh-CN.js", zh.len());
    let only_zh: Vec<_> = zh.keys().filter(|k| !en.contains_key(*k)).collect();
    let only_en: Vec<_> = en.keys().filter(|k| !zh.contains_key(*k)).collect();
    assert!(only_zh.is_empty() && only_en.is_empty(), "only in zh-CN: {only_zh:?}; only in en: {only_en:?}");
    // Keys whose languages word the same thing from different values the code passes all
    // of (English names the month, Chinese numbers it).
    const WORDED_DIFFERENTLY: [&str; 1] = ["common.day_month"];
    for (key, names) in zh.iter().filter(|(k, _)| !WORDED_DIFFERENTLY.contains(&k.as_str())) {
        assert_eq!(Some(names), en.get(key), "{key}: the placeholders differ");
    }
}
