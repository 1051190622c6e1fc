//! Serving a document a user uploaded (a bid's document, an approval's attachment) so that
//! it can never run in the platform's origin: sandboxed, never sniffed, not cached, shown
//! inline only when a browser shows that type safely, else a download.

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// Types a browser may show inline; anything else is a download.
const INLINE: &[&str] = &["application/pdf", "image/png", "image/jpeg", "text/plain"];

pub fn document(name: &str, media_type: &str, size: u64, body: Body) -> Response {
    let inline = INLINE.contains(&media_type);
    let disposition = format!(
        "{}; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        percent(name)
    );
    let content_type = if inline {
        media_type.to_string()
    } else {
        "application/octet-stream".into()
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
            (
                header::CONTENT_SECURITY_POLICY,
                "sandbox; frame-ancestors 'self'".into(),
            ),
            (header::CACHE_CONTROL, "private, no-store".into()),
            (header::CONTENT_LENGTH, size.to_string()),
        ],
        body,
    )
        .into_response()
}

/// RFC 5987 percent-encoding of a file name.
fn percent(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
