//! The documents that say what the service does say it of the code as it is:
//! docs/clinical-rules.md names every rule parameter and every error code, and the README
//! lists every demo account and points only at documents in the repository.

use mmt_clinic::domain::codes::ErrorCode;
use mmt_clinic::domain::rules::RuleSet;

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn the_clinical_rules_document_names_every_parameter_and_every_code() {
    let doc = read("docs/clinical-rules.md");
    let rules = serde_json::to_value(RuleSet::default()).unwrap();
    for (key, value) in rules.as_object().unwrap() {
        let row =
            doc.lines().find(|l| l.contains(&format!("`{key}`"))).unwrap_or_else(|| panic!("{key} is not documented"));
        let shown = if key == "day_close_tolerance_deci_ml" {
            format!("{:.1} mL", value.as_f64().unwrap() / 10.0)
        } else {
            value.to_string()
        };
        assert!(row.contains(&shown), "{key}: the default {shown} is not in {row}");
    }
    for code in ErrorCode::ALL.iter().filter(|c| !c.is_internal()) {
        assert!(doc.contains(&format!("`{}`", code.as_str())), "{code} is not documented");
    }
}

#[test]
fn the_readme_lists_every_demo_account_and_only_documents_that_exist() {
    let readme = read("README.md");
    let demo = read("src/seed/demo.rs");
    // The demo's staff table: ("username", "名字", Role::…, …).
    for line in demo.lines().filter(|l| l.trim_start().starts_with("(\"") && l.contains("Role::")) {
        let username = line.trim_start().trim_start_matches("(\"").split('"').next().unwrap();
        assert!(readme.contains(&format!("`{username}`")), "the README does not list the demo account {username}");
    }
    for link in readme.split("](").skip(1).map(|rest| rest.split(')').next().unwrap()) {
        if link.starts_with("http") {
            continue;
        }
        assert!(std::path::Path::new(&format!("{}/{link}", env!("CARGO_MANIFEST_DIR"))).exists(), "{link}");
    }
    for absent in ["RULES.md", "DESIGN.md", "API.md", "STYLE.md", "PATHS.md"] {
        assert!(!readme.contains(absent), "the README points at {absent}, which is not in the repository");
    }
}
