//! The people's pages, embedded in the binary and served by the engine (no
//! CDN, no network fetch at run time, no Node to build): the dispatcher
//! console at `/`, the engineer's phone view at `/field`, the customer's
//! page at `/track?code=...`, and their scripts, styles and the one string
//! catalogue per language under `/ui/`. The pages are plain files over the
//! JSON API; every datum they show comes through it with the caller's rights.

use super::extract::Path;
use super::{ApiError, AppState};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// An embedded file: its name under `/ui/`, media type and content.
struct File {
    name: &'static str,
    media: &'static str,
    body: &'static str,
}

macro_rules! files {
    ($($name:literal => $media:expr),* $(,)?) => {
        &[$(File { name: $name, media: $media, body: include_str!(concat!("ui/", $name)) }),*]
    };
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const JSON: &str = "application/json";

static FILES: &[File] = files! {
    "console.html" => HTML,
    "field.html" => HTML,
    "track.html" => HTML,
    "report.html" => HTML,
    "app.css" => "text/css; charset=utf-8",
    "common.js" => JS,
    "console.js" => JS,
    "chart.js" => JS,
    "map.js" => JS,
    "words.js" => JS,
    "field.js" => JS,
    "track.js" => JS,
    "report.js" => JS,
    "en.json" => JSON,
    "zh-CN.json" => JSON,
};

/// The scripts' text, for tests that check what the pages call.
#[cfg(test)]
pub(super) fn scripts() -> impl Iterator<Item = &'static str> {
    FILES.iter().filter(|f| f.media == JS).map(|f| f.body)
}

fn serve(f: &File) -> Response {
    let headers = [
        (header::CONTENT_TYPE, f.media),
        (header::CACHE_CONTROL, "no-cache"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    (headers, f.body).into_response()
}

fn page(name: &str, tiles: &str) -> Response {
    let f = FILES.iter().find(|f| f.name == name && f.media == HTML);
    let Some(f) = f else { return ApiError::not_found("page", name).into_response() };
    // Scripts only from this origin (style attributes place the timeline's
    // bars); map tiles may come from the configured tile server (img-src);
    // nothing else leaves the page.
    // A tile origin that is no plain source (a `{s}` host, a space, a `;`)
    // is left out: the map then stays drawn; the policy is never dropped.
    let origin = tile_origin(tiles);
    let plain = origin.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:/[]".contains(&b));
    let policy = |images: &str| {
        format!(
            "default-src 'self'; img-src 'self' data: {images}; style-src 'self' 'unsafe-inline'; \
             script-src 'self'; frame-ancestors 'none'"
        )
    };
    let mut r = serve(f);
    if let Ok(v) = policy(if plain { origin } else { "" }).parse() {
        r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    r
}

/// The scheme and host of the tile URL template, for the page's policy.
fn tile_origin(tiles: &str) -> &str {
    let rest = tiles.find("://").map_or(0, |i| i + 3);
    tiles.get(..rest + tiles[rest..].find('/').unwrap_or(tiles.len() - rest)).unwrap_or("")
}

pub async fn console(State(s): State<AppState>) -> Response {
    page("console.html", &s.map_tiles)
}

pub async fn field(State(s): State<AppState>) -> Response {
    page("field.html", &s.map_tiles)
}

pub async fn track(State(s): State<AppState>) -> Response {
    page("track.html", &s.map_tiles)
}

pub async fn report(State(s): State<AppState>) -> Response {
    page("report.html", &s.map_tiles)
}

/// A script, style or catalogue; `settings.json` holds the tile URL.
pub async fn file(State(s): State<AppState>, Path(name): Path<String>) -> Result<Response, ApiError> {
    if name == "settings.json" {
        let settings = serde_json::json!({ "map_tiles": s.map_tiles, "languages": crate::rules::LANGUAGES });
        return Ok(axum::Json(settings).into_response());
    }
    FILES
        .iter()
        .find(|f| f.name == name && f.media != HTML)
        .map(serve)
        .ok_or_else(|| ApiError::not_found("file", &name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tile_origin_is_scheme_and_host() {
        assert_eq!(tile_origin("https://tile.example.org/{z}/{x}/{y}.png"), "https://tile.example.org");
        assert_eq!(tile_origin("http://10.0.0.5:8081/t/{z}/{x}/{y}.png"), "http://10.0.0.5:8081");
        assert_eq!(tile_origin(""), "");
    }

    #[test]
    fn every_catalogue_has_every_key_of_the_english_one() {
        let keys = |lang: &str| -> std::collections::BTreeSet<String> {
            let f = FILES.iter().find(|f| f.name == format!("{lang}.json")).expect("catalogue");
            let v: serde_json::Value = serde_json::from_str(f.body).expect("catalogue is JSON");
            v.as_object().expect("an object").keys().cloned().collect()
        };
        let en = keys("en");
        for lang in crate::rules::LANGUAGES {
            let theirs = keys(lang);
            let missing: Vec<_> = en.difference(&theirs).collect();
            assert!(missing.is_empty(), "{lang} lacks {missing:?}");
        }
    }
}
