//! The layers of the house, checked: the domain (the rules) uses nothing of the database,
//! the services or HTTP, and no handler writes SQL.

fn sources(dir: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(path.to_str().unwrap()));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
        }
    }
    out
}

#[test]
fn the_domain_depends_on_no_other_layer() {
    let files = sources("src/domain");
    assert!(files.len() > 10);
    for (path, text) in files {
        for forbidden in ["crate::db", "crate::services", "crate::http", "crate::seed", "diesel", "actix"] {
            assert!(!text.contains(forbidden), "{path} uses {forbidden}");
        }
    }
}

#[test]
fn handlers_reach_the_database_only_through_the_services() {
    for (path, text) in sources("src/http") {
        for forbidden in ["crate::db", "diesel::"] {
            assert!(!text.contains(forbidden), "{path} uses {forbidden}");
        }
    }
}
