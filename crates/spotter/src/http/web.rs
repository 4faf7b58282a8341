//! The web dashboard: the single-page app built into `web/dist`, embedded in release builds
//! (read from disk in debug builds). Any path that is not the API, a socket or an operations
//! endpoint answers `index.html`, so the app's own routes (`/messages`, `/trainees/7`) load.
//! `SPOTTER_WEB_DIR` serves a dashboard build from another folder instead (a dashboard built
//! apart from the binary, or a worktree's own build while developing).

use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::error::Error;

#[derive(RustEmbed)]
#[folder = "../../web/dist"]
#[allow_missing = true]
struct Assets;

/// The folder named by `SPOTTER_WEB_DIR`, read once.
fn web_dir() -> Option<&'static std::path::Path> {
    static DIR: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    DIR.get_or_init(|| std::env::var_os("SPOTTER_WEB_DIR").map(Into::into))
        .as_deref()
}

/// A file of the dashboard: from `SPOTTER_WEB_DIR` when set (never outside it), else embedded.
fn asset(file: &str) -> Option<Vec<u8>> {
    match web_dir() {
        Some(dir) => {
            let relative = std::path::Path::new(file);
            let plain = relative
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
            plain.then(|| std::fs::read(dir.join(relative)).ok()).flatten()
        }
        None => Assets::get(file).map(|a| a.data.into_owned()),
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn is_api(path: &str) -> bool {
    ["/api/", "/ws/", "/healthz", "/readyz", "/metrics"]
        .iter()
        .any(|p| path.starts_with(p))
}

/// Whether the dashboard bundle is present (tests assert it is, in CI).
pub fn bundle_present() -> bool {
    asset("index.html").is_some()
}

pub async fn serve(uri: Uri) -> Response {
    let path = uri.path();
    if is_api(path) {
        return Error::NotFound.into_response();
    }
    let file = path.trim_start_matches('/');
    if let Some(data) = (!file.is_empty()).then(|| asset(file)).flatten() {
        // Vite names bundles by content hash: cache them for good; everything else revalidates.
        let cache = if file.starts_with("assets/") {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        return (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(content_type(file)),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            ],
            data,
        )
            .into_response();
    }
    match asset("index.html") {
        Some(index) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            index,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            "The web dashboard is not built: run scripts/web-build.sh (the API works without it).",
        )
            .into_response(),
    }
}
