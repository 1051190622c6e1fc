//! The text of PDF documents for R-COL-4, read by poppler's `pdftotext` in a child
//! process: the parser of a file a bidder made runs outside the server's memory, under a
//! time limit, and its output is read only up to what the comparison uses. Without the
//! program (Debian's `poppler-utils`) PDFs are compared by digest only (R-COL-5), and the
//! server says so once in its log.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::AsyncReadExt;

/// The program, looked up on `PATH`.
pub const PROGRAM: &str = "pdftotext";
/// Pages read of each document.
pub const MAX_PAGES: u32 = 300;
/// How long one document may take.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// Whether a document is a PDF, by its media type or its name.
pub fn is_pdf(name: &str, media_type: &str) -> bool {
    media_type.split(';').next().map(str::trim) == Some("application/pdf")
        || name.to_ascii_lowercase().ends_with(".pdf")
}

static MISSING_SAID: AtomicBool = AtomicBool::new(false);

/// The text of the PDF at `path` (UTF-8, pages in order), at most `max_bytes` of it;
/// `None` when it cannot be read (not a PDF, encrypted, too slow, no program).
pub async fn text(path: &Path, max_bytes: usize) -> Option<String> {
    let child = tokio::process::Command::new(PROGRAM)
        .args(["-q", "-enc", "UTF-8", "-l", &MAX_PAGES.to_string()])
        .arg(path)
        .arg("-")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            if !MISSING_SAID.swap(true, Ordering::Relaxed) {
                tracing::warn!(error = %e, "{PROGRAM} is not available: PDF documents are compared by digest only (install poppler-utils)");
            }
            return None;
        }
    };
    let mut out = child.stdout.take()?;
    let read = async {
        let mut buf = Vec::new();
        let mut limited = (&mut out).take(max_bytes as u64);
        limited.read_to_end(&mut buf).await.ok()?;
        Some(buf)
    };
    let bytes = tokio::time::timeout(TIMEOUT, read).await.ok().flatten();
    // Whatever is left unread is not wanted: the child is stopped and reaped.
    let _ = child.start_kill();
    let _ = tokio::time::timeout(Duration::from_secs(1), child.wait()).await;
    // A cut inside the last character loses only that character.
    let text = String::from_utf8_lossy(&bytes?).into_owned();
    (!text.trim().is_empty()).then_some(text)
}
