//! The web UI: `static/` embedded in the binary at compile time, so the service is one
//! file and works from any directory. `MMT_STATIC_DIR` serves it from disk instead while
//! developing the UI.

use std::borrow::Cow;
use std::path::{Component, Path};

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

use crate::error::AppError;
use crate::services::AppState;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Assets;

/// A relative path inside `static/`, refusing anything that climbs out.
fn safe_relative(path: &str) -> Option<String> {
    let trimmed = path.trim_start_matches('/');
    let candidate = if trimmed.is_empty() { "index.html" } else { trimmed };
    let ok = Path::new(candidate).components().all(|c| matches!(c, Component::Normal(_)));
    ok.then(|| candidate.to_string())
}

fn load(state: &AppState, rel: &str) -> Option<Cow<'static, [u8]>> {
    match &state.config.static_dir {
        Some(dir) => std::fs::read(dir.join(rel)).ok().map(Cow::Owned),
        None => Assets::get(rel).map(|f| f.data),
    }
}

/// Serves UI files for GET/HEAD outside `/api`; everything else is a JSON 404.
pub async fn serve(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let path = req.path();
    if path.starts_with("/api/") || path == "/api" {
        return Err(AppError::not_found());
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Err(AppError::not_found());
    }
    let rel = safe_relative(path).ok_or_else(AppError::not_found)?;
    let body = load(&state, &rel).ok_or_else(AppError::not_found)?;
    let mime = mime_guess::from_path(&rel).first_or_octet_stream();
    let cache = if rel.ends_with(".html") { "no-cache" } else { "public, max-age=300" };
    Ok(HttpResponse::Ok()
        .content_type(mime.as_ref())
        .insert_header(("Cache-Control", cache))
        .insert_header((
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; \
             connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ))
        .insert_header(("X-Frame-Options", "DENY"))
        .body(body.into_owned()))
}

#[cfg(test)]
mod tests {
    use super::safe_relative;

    #[test]
    fn paths_cannot_climb_out_of_static() {
        assert_eq!(safe_relative("/").as_deref(), Some("index.html"));
        assert_eq!(safe_relative("/js/app.js").as_deref(), Some("js/app.js"));
        assert_eq!(safe_relative("/../Cargo.toml"), None);
        assert_eq!(safe_relative("/js/../../etc/passwd"), None);
    }
}
