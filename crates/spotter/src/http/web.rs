//! The web dashboard: the single-page app built into `web/dist`, embedded in release builds
//! (read from disk in debug builds). Any path that is not the API, a socket or an operations
//! endpoint answers `index.html`, so the app's own routes (`/messages`, `/trainees/7`) load.
//! The `web_dir` setting serves a dashboard build from another folder instead (one built apart
//! from the binary, or a worktree's own build while developing).

use std::path::Path;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::error::Error;
use crate::state::AppState;

#[derive(RustEmbed)]
#[folder = "../../web/dist"]
#[allow_missing = true]
struct Assets;

/// A file of the dashboard: from `web_dir` when set (never outside it), else embedded.
fn asset(web_dir: Option<&Path>, file: &str) -> Option<Vec<u8>> {
    match web_dir {
        Some(dir) => {
            let relative = std::path::Path::new(file);
            let plain = relative
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
            plain
                .then(|| std::fs::read(dir.join(relative)).ok())
                .flatten()
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
pub fn bundle_present(web_dir: Option<&Path>) -> bool {
    asset(web_dir, "index.html").is_some()
}

pub async fn serve(State(state): State<AppState>, uri: Uri) -> Response {
    let web_dir = state.config.web_dir.as_deref();
    let path = uri.path();
    if is_api(path) {
        return Error::NotFound.into_response();
    }
    let file = path.trim_start_matches('/');
    if let Some(data) = (!file.is_empty()).then(|| asset(web_dir, file)).flatten() {
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
    match asset(web_dir, "index.html") {
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
