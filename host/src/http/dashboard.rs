//! The dashboard at `/`: three static files compiled into the binary (no
//! build step); the page reads the REST API and follows `/v1/stream`.

use super::AppState;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const INDEX: &str = include_str!("dashboard/index.html");
const APP_JS: &str = include_str!("dashboard/app.js");
const STYLE: &str = include_str!("dashboard/style.css");

/// Paths the dashboard serves (not part of the API document).
pub const PATHS: [&str; 3] = ["/", "/app.js", "/style.css"];

fn file(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}

pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route(
            PATHS[0],
            get(|| async { file("text/html; charset=utf-8", INDEX) }),
        )
        .route(
            PATHS[1],
            get(|| async { file("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            PATHS[2],
            get(|| async { file("text/css; charset=utf-8", STYLE) }),
        )
}
