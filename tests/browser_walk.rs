//! Every page of the demo network in Chinese, as each role sees it at 1366×768: no English
//! word, code, "null", "undefined" or raw id left on the screen, and nothing hidden to the
//! side (the order tables with pending orders included). With
//! `MMT_SCREENSHOTS=/some/dir` each page is also saved there as a PNG, to be looked at.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::browser::*;
use common::*;
use fantoccini::{Client, Locator};
use mmt_clinic::seed::demo;
use mmt_clinic::services::AppState;
use serde_json::Value;

/// Latin words that are the clinic's own vocabulary in Chinese text too.
const ALLOWED: &[&str] =
    &["mg", "ml", "qtc", "ecg", "pdf", "csv", "json", "ms", "mmt", "english", "jpeg", "png", "mb", "esc"];

/// Words of Latin letters (two or more) outside the allow-list, and raw values.
fn leftovers(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut word = String::new();
    let mut flush = |word: &mut String| {
        if word.chars().count() >= 2 && !ALLOWED.contains(&word.to_lowercase().as_str()) {
            found.insert(word.clone());
        }
        word.clear();
    };
    for ch in text.chars() {
        if ch.is_ascii_alphabetic() {
            word.push(ch);
        } else {
            flush(&mut word);
        }
    }
    flush(&mut word);
    // A UUID (a raw id) anywhere.
    let bytes: Vec<char> = text.chars().collect();
    for start in 0..bytes.len() {
        let candidate: String = bytes[start..].iter().take(36).collect();
        if candidate.len() == 36 && is_uuid(&candidate) {
            found.insert(candidate);
        }
    }
    found
}

fn is_uuid(s: &str) -> bool {
    s.char_indices().all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
}

#[test]
fn the_leftover_finder_finds_what_it_should() {
    assert!(leftovers("发药 30 mg，QTc 480 ms，ECG 检查，导出 PDF / CSV").is_empty());
    assert_eq!(leftovers("状态：null"), BTreeSet::from(["null".to_string()]));
    assert_eq!(leftovers("undefined 天"), BTreeSet::from(["undefined".to_string()]));
    assert!(leftovers("auth.login 登录").contains("auth"));
    assert!(leftovers("病例 0195d3f2-7a1c-7c3e-9a7b-1f2e3d4c5b6a").contains("0195d3f2-7a1c-7c3e-9a7b-1f2e3d4c5b6a"));
}

async fn demo_server() -> (TestDb, String, AppState) {
    let db = TestDb::new();
    let state = AppState::start(config_for(&db, &Options::default())).await.unwrap();
    demo::load(&state).await.unwrap();
    let base = serve(state.clone());
    (db, base, state)
}

/// Visible text of the page, with the values of form controls and the options of selects
/// (a select shows one option, but every one of them is read in Chinese).
async fn page_text(c: &Client) -> String {
    let script = r##"
        const main = document.querySelector("main") ?? document.body;
        // Text marked translate="no" (user names, site codes, case numbers, hashes) is
        // what it is in every language.
        let body = document.body.innerText;
        for (const el of document.querySelectorAll("[translate=no]")) if (el.innerText) body = body.split(el.innerText).join(" ");
        const parts = [body];
        for (const el of main.querySelectorAll("option, [title], [placeholder], [aria-label]")) {
          if (el.closest("[translate=no]")) continue;
          if (el.tagName === "OPTION") parts.push(el.textContent);
          for (const a of ["title", "placeholder", "aria-label"]) if (el.getAttribute(a)) parts.push(el.getAttribute(a));
        }
        for (const el of main.querySelectorAll("input[type=text], input:not([type]), textarea")) parts.push(el.value);
        return parts.join("\n");
    "##;
    match c.execute(script, vec![]).await.unwrap() {
        Value::String(s) => s,
        other => panic!("{other:?}"),
    }
}

/// Waits until the page has stopped loading (no "加载中", no busy region) for a moment.
async fn settle(c: &Client) {
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let busy = c
            .execute(
                "return document.querySelector('[aria-busy=\"true\"]') !== null || document.body.innerText.includes('加载中')",
                vec![],
            )
            .await
            .unwrap();
        if busy == Value::Bool(false) {
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
}

async fn look_at(c: &Client, who: &str, page: &str, problems: &mut Vec<String>) {
    settle(c).await;
    if let Ok(dir) = std::env::var("MMT_SCREENSHOTS") {
        let png = c.screenshot().await.unwrap();
        std::fs::write(format!("{dir}/{who}-{}.png", page.replace(['/', '?', '='], "_")), png).unwrap();
    }
    let text = page_text(c).await;
    let found = leftovers(&text);
    if !found.is_empty() {
        problems.push(format!("{who} {page}: {found:?}"));
    }
    // Nothing scrolls sideways at 1366 px: not the page, not the order tables.
    let hidden = c
        .execute(
            "const page = document.documentElement;
             const tables = ['orders-table', 'pending-table'].map((id) => document.getElementById(id)?.parentElement).filter(Boolean);
             return Math.max(page.scrollWidth - page.clientWidth, ...tables.map((w) => w.scrollWidth - w.clientWidth));",
            vec![],
        )
        .await
        .unwrap();
    if hidden.as_i64() != Some(0) {
        problems.push(format!("{who} {page}: {hidden} px hidden to the side"));
    }
}

async fn nav_paths(c: &Client) -> Vec<String> {
    let mut out = Vec::new();
    for a in c.find_all(Locator::Css("#main-nav a[data-nav]")).await.unwrap() {
        out.push(a.attr("href").await.unwrap().unwrap_or_default());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_in_chinese_as_every_role_has_no_english_or_raw_values_left() {
    let driver = start_driver();
    let (_db, base, _state) = demo_server().await;
    let mut problems = Vec::new();
    for (who, password) in [
        ("nurse.li", demo::DEMO_PASSWORD),
        ("dr.chen", demo::DEMO_PASSWORD),
        ("sg.zhang", demo::DEMO_PASSWORD),
        ("admin", ADMIN_PASSWORD),
    ] {
        let c = browser(&driver).await;
        sign_in(&c, &base, who, password).await;
        wait_css(&c, "#main-nav a[data-nav]").await;
        for path in nav_paths(&c).await {
            c.goto(&format!("{base}/{path}")).await.unwrap();
            look_at(&c, who, &path, &mut problems).await;
        }
        match who {
            "nurse.li" => {
                // A patient at the window: the first one of the queue.
                c.goto(&format!("{base}/#/dispensing")).await.unwrap();
                if let Ok(first) = c
                    .wait()
                    .at_most(Duration::from_secs(10))
                    .for_element(Locator::Css("#queue li[data-patient-id]"))
                    .await
                {
                    first.click().await.unwrap();
                    wait_css(&c, "#decision:not([hidden])").await;
                    look_at(&c, who, "#/dispensing-patient", &mut problems).await;
                }
            }
            "dr.chen" => {
                // A patient's page: one with alerts, from the alerts page.
                c.goto(&format!("{base}/#/alerts")).await.unwrap();
                let link = wait_css(&c, "#alerts-list .alert-patient a").await;
                link.click().await.unwrap();
                wait_css(&c, "#patient-alerts-section").await;
                look_at(&c, who, "#/patient", &mut problems).await;
                // A patient with an order waiting for a second doctor: the order table, its
                // longest rows included, fits 1366 px without sideways scrolling.
                c.goto(&format!("{base}/#/orders")).await.unwrap();
                let link = wait_css(&c, "tr[data-status=\"pending_approval\"] td a").await;
                link.click().await.unwrap();
                wait_css(&c, "#orders-table tr[data-status=\"pending_approval\"]").await;
                look_at(&c, who, "#/patient-pending-order", &mut problems).await;
            }
            "admin" => {
                for path in ["#/alerts?status=all"] {
                    c.goto(&format!("{base}/{path}")).await.unwrap();
                    look_at(&c, who, path, &mut problems).await;
                }
            }
            _ => {}
        }
        c.close().await.unwrap();
    }
    assert!(problems.is_empty(), "English or raw values on the Chinese screens:\n{}", problems.join("\n"));
}

/// The doctor's tests due: a work list in three groups with their counts in the tabs, a
/// page at a time, and no form until a result is to be entered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tests_work_list_shows_its_groups_with_counts_a_page_at_a_time() {
    let driver = start_driver();
    let (_db, base, _state) = demo_server().await;
    let c = browser(&driver).await;
    sign_in(&c, &base, "dr.chen", demo::DEMO_PASSWORD).await;
    wait_css(&c, "#main-nav a[data-nav=\"tests\"]").await.click().await.unwrap();
    wait_css(&c, "#due-tab-overdue[data-count]").await;
    let mut counts = Vec::new();
    for group in ["overdue", "this_week", "upcoming"] {
        let tab = wait_css(&c, &format!("#due-tab-{group}")).await;
        let n: usize = tab.attr("data-count").await.unwrap().unwrap().parse().unwrap();
        assert!(tab.text().await.unwrap().contains(&n.to_string()));
        tab.click().await.unwrap();
        wait_css(&c, &format!("#due-tab-{group}[aria-selected=\"true\"]")).await;
        let rows = c.find_all(Locator::Css("#due-tests-body tr")).await.unwrap();
        assert!(rows.len() <= 20 && rows.len() == n.min(20), "{group}: {} rows of {n}", rows.len());
        for r in &rows {
            assert_eq!(r.attr("data-group").await.unwrap().as_deref(), Some(group));
        }
        counts.push(n);
    }
    assert!(counts.iter().all(|n| *n > 0), "every group has work in the demo: {counts:?}");
    // No form in the list until asked for.
    assert!(c.find(Locator::Css("#due-tests-body select.test-result")).await.is_err());
    c.close().await.unwrap();
}
