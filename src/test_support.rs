//! What the tests of this crate and its integration tests share outside the service: the
//! tools they read its output with. Not part of the service.

/// Installs the Debian packages whose files are missing, once per test binary. A machine
/// where this fails fails the test: a check that silently skips proves nothing.
pub fn ensure_debian_packages(needed: &[(&str, &str)]) {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let missing: Vec<&str> =
        needed.iter().filter(|(path, _)| !std::path::Path::new(path).exists()).map(|(_, pkg)| *pkg).collect();
    if missing.is_empty() {
        return;
    }
    eprintln!("installing {} (Debian packages) for the tests", missing.join(" "));
    let status = std::process::Command::new("sh")
        .args([
            "-c",
            &format!(
                "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq {}",
                missing.join(" ")
            ),
        ])
        .status()
        .expect("running apt-get");
    assert!(status.success(), "could not install {}; install them and re-run", missing.join(" "));
}
