//! Headless Chromium for UI tests: installs Debian's `chromium` and `chromium-driver` when
//! they are missing (as CI does on a fresh machine), starts chromedriver on a free port,
//! and serves the real application on another.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::HttpServer;
use fantoccini::{Client, ClientBuilder, Locator};

use mmt_clinic::services::AppState;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Installs the browser once per test binary (as CI does on a fresh machine).
pub fn ensure_installed() {
    super::ensure_debian_packages(&[
        (CHROMIUM, "chromium"),
        (CHROMEDRIVER, "chromium-driver"),
        ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "fonts-wqy-microhei"),
    ]);
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A chromedriver process, stopped when dropped.
pub struct Driver {
    child: Child,
    pub port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start_driver() -> Driver {
    ensure_installed();
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting chromedriver");
    wait_for_port(port);
    Driver { child, port }
}

/// Serves the application on a free port in its own thread; returns the base URL.
pub fn serve(state: AppState) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(move || mmt_clinic::app(state.clone()))
                .workers(2)
                .listen(listener)
                .expect("listen")
                .run()
                .await
        })
    });
    wait_for_port(port);
    format!("http://127.0.0.1:{port}")
}

pub async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::map::Map::new();
    caps.insert(
        "goog:chromeOptions".to_string(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--window-size=1366,768", "--lang=zh-CN"]
        }),
    );
    ClientBuilder::rustls()
        .expect("rustls")
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("connecting to chromedriver")
}

pub async fn wait_css(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
}

/// Chromium's own network emulation (through chromedriver): `offline` cuts the page and its
/// service worker off the network, as a lost line does; `false` brings it back.
pub async fn set_offline(c: &Client, driver: &Driver, offline: bool) {
    use std::io::{Read, Write};
    let session = c.session_id().await.unwrap().expect("a WebDriver session");
    let body = serde_json::json!({"network_conditions":
        {"offline": offline, "latency": 0, "download_throughput": -1, "upload_throughput": -1}})
    .to_string();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", driver.port)).expect("chromedriver");
    write!(
        stream,
        "POST /session/{session}/chromium/network_conditions HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    // chromedriver keeps the connection open: read the head and the body its length names.
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).expect("chromedriver's answer");
        answer.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&answer);
        let Some(head_end) = text.find("\r\n\r\n") else {
            assert!(n > 0, "chromedriver closed the connection: {text}");
            continue;
        };
        let length = text[..head_end]
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap())
            })
            .unwrap_or(0);
        if answer.len() >= head_end + 4 + length || n == 0 {
            assert!(text.starts_with("HTTP/1.1 200"), "chromedriver refused the network conditions: {text}");
            return;
        }
    }
}

/// Signs in through the login page.
pub async fn sign_in(c: &Client, base: &str, username: &str, password: &str) {
    c.goto(&format!("{base}/#/login")).await.unwrap();
    for (css, value) in [("#username", username), ("#password", password)] {
        let field = wait_css(c, css).await;
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }
    wait_css(c, "#login-submit").await.click().await.unwrap();
}

/// The `data-nav` keys of the navigation, in order.
pub async fn nav_keys(c: &Client) -> Vec<String> {
    let mut keys = Vec::new();
    for a in c.find_all(Locator::Css("#main-nav a[data-nav]")).await.unwrap() {
        keys.push(a.attr("data-nav").await.unwrap().unwrap_or_default());
    }
    keys
}
