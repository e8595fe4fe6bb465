//! The responses and request checks every web surface uses: an HTML page
//! that is never cached or framed, a 303 redirect, the `Origin` check on a
//! POST, a table as CSV (with a BOM, so a Chinese Excel opens it right) or
//! as an Excel workbook, and `/lang`'s language cookie.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::xlsx;
use crate::zip::ZipError;

/// A redirect (303, so a POST becomes a GET).
pub fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// An HTML page with `status`: never cached, never in a frame.
pub fn html_page(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        body,
    )
        .into_response()
}

/// A POST's `Origin`, when the browser sends one, must be this server.
pub fn origin_ok(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    origin
        .to_str()
        .is_ok_and(|o| o == format!("http://{host}") || o == format!("https://{host}"))
}

/// A CSV text field: one a spreadsheet would read as a formula (starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return: a resource named
/// `=HYPERLINK(…)` would become a link) is prefixed with `'`, so it opens
/// as the text it is; then quoted when it holds a comma, a quote or a line
/// break. Numbers are written by the caller, never through here.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// A table to download as CSV: UTF-8 with a byte-order mark, the header,
/// then the rows as the page shows them.
pub fn csv_download(name: &str, sheet: &xlsx::Sheet) -> Response {
    use std::fmt::Write;
    let mut out = String::from("\u{feff}");
    let head: Vec<String> = sheet.head.iter().map(|h| csv_field(h)).collect();
    let _ = writeln!(out, "{}", head.join(","));
    for row in &sheet.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c {
                xlsx::Cell::Text(t) => csv_field(t),
                xlsx::Cell::Number(n) => format!("{n}"),
            })
            .collect();
        let _ = writeln!(out, "{}", cells.join(","));
    }
    download("text/csv; charset=utf-8", name, out.into_bytes())
}

/// An Excel workbook to download, or why it could not be made (the surface
/// words that).
pub fn xlsx_download(name: &str, sheets: &[xlsx::Sheet]) -> Result<Response, ZipError> {
    let bytes = xlsx::workbook(sheets)?;
    Ok(download(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        name,
        bytes,
    ))
}

fn download(kind: &str, name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

/// `/lang?to=en|zh`'s answer: the language cookie (a year), then `back`.
pub fn set_lang(to: &str, back: &str) -> Response {
    let v = if to == "en" { "en" } else { "zh" };
    let mut r = see_other(back);
    if let Ok(c) = HeaderValue::from_str(&format!(
        "lang={v}; Path=/; Max-Age=31536000; SameSite=Strict"
    )) {
        r.headers_mut().insert(header::SET_COOKIE, c);
    }
    r
}

/// The style sheet's response (`/assets/dashboard.css`).
pub fn css() -> Response {
    asset("text/css; charset=utf-8", crate::assets::CSS)
}

/// A static asset, cached for an hour.
pub fn asset(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_foreign_origin_is_refused_and_none_is_allowed() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("centre:8080"));
        assert!(origin_ok(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://centre:8080"),
        );
        assert!(origin_ok(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(!origin_ok(&h));
    }

    #[test]
    fn a_csv_field_is_quoted_only_when_it_must_be() {
        assert_eq!(csv_field("王秀英"), "王秀英");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn a_field_a_spreadsheet_would_run_opens_as_text() {
        assert_eq!(
            csv_field("=HYPERLINK(\"http://x\",\"Open\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"Open\"\")\""
        );
        for risky in ["+1", "-1+2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(
                csv_field(risky).trim_start_matches('"').starts_with('\''),
                "{risky:?}"
            );
        }
        assert_eq!(csv_field("王秀英 = 1"), "王秀英 = 1");
    }
}
