//! The dashboard at `/`: an HTML page, its script and its style compiled into
//! the binary (no build step) and served as one document, so that one
//! request (with `?token=` beyond loopback) loads it all. The page reads the
//! REST API and follows `/v1/stream`.

use super::AppState;
use axum::Router;
use axum::http::header;
use axum::routing::get;
use std::sync::LazyLock;

const INDEX: &str = include_str!("dashboard/index.html");
const APP_JS: &str = include_str!("dashboard/app.js");
const STYLE: &str = include_str!("dashboard/style.css");

/// The page with its style and script inlined.
static PAGE: LazyLock<String> = LazyLock::new(|| {
    INDEX
        .replace(
            r#"<link rel="stylesheet" href="style.css">"#,
            &format!("<style>\n{STYLE}</style>"),
        )
        .replace(
            r#"<script src="app.js"></script>"#,
            &format!("<script>\n{APP_JS}</script>"),
        )
});

/// The dashboard's path (not part of the API document).
pub const PATH: &str = "/";

pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router.route(
        PATH,
        get(|| async {
            (
                [
                    (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                PAGE.as_str(),
            )
        }),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_page_inlines_its_style_and_script() {
        let page = super::PAGE.as_str();
        assert!(page.contains("<style>") && page.contains("--fg:"));
        assert!(page.contains("<script>") && page.contains("function connect()"));
        assert!(!page.contains("src=\"app.js\"") && !page.contains("href=\"style.css\""));
    }
}
