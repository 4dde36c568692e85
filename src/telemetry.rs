//! Logging. Logs never contain names, id numbers or doses: handlers log routes and status,
//! use cases log ids and outcomes.

use tracing_subscriber::EnvFilter;

/// `MMT_LOG` sets the filter (default `info`); `MMT_LOG_FORMAT=json` writes JSON lines.
pub fn init() {
    let filter = EnvFilter::try_from_env("MMT_LOG").unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    let json = std::env::var("MMT_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = if json { builder.json().try_init() } else { builder.try_init() };
    // A second init (tests) keeps the first subscriber.
    let _ = result;
    install_panic_hook();
}

/// Panic messages can quote data (an `expect` on a value); log only where it happened and
/// a message that is a fixed string.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        let message = info.payload().downcast_ref::<&'static str>().copied().unwrap_or("(message withheld)");
        tracing::error!(%location, message, "panic");
    }));
}
