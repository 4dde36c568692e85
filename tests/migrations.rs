//! The two backends' migrations must not drift apart.

use std::collections::BTreeSet;
use std::path::Path;

fn folders(backend: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn both_backends_have_the_same_migration_folders() {
    let sqlite = folders("sqlite");
    let postgres = folders("postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres, "migrations/sqlite and migrations/postgres differ");
}

#[test]
fn every_migration_has_up_and_down() {
    for backend in ["sqlite", "postgres"] {
        for folder in folders(backend) {
            for file in ["up.sql", "down.sql"] {
                let path =
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend).join(&folder).join(file);
                assert!(path.is_file(), "{} is missing", path.display());
            }
        }
    }
}
