//! The text of PDF documents for R-COL-4, read by poppler's `pdftotext` in a child
//! process: the parser of a file a bidder made runs outside the server's memory, under a
//! time limit, and its output is read only up to what the comparison uses. Without the
//! program (Debian's `poppler-utils`) PDFs are compared by digest only (R-COL-5), and the
//! server says so once in its log.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Pages read of each document.
pub const MAX_PAGES: u32 = 300;

pub use crate::pdf::is_pdf;

static MISSING_SAID: AtomicBool = AtomicBool::new(false);

/// The text of the PDF at `path` (UTF-8, pages in order), at most `max_bytes` of it;
/// `None` when it cannot be read (not a PDF, encrypted, too slow, no program).
pub async fn text(path: &Path, max_bytes: usize) -> Option<String> {
    match crate::pdf::text(path, MAX_PAGES, max_bytes).await {
        Ok(text) => (!text.trim().is_empty()).then_some(text),
        Err(crate::pdf::RunError::Missing(e)) => {
            if !MISSING_SAID.swap(true, Ordering::Relaxed) {
                tracing::warn!(error = %e, "pdftotext is not available: PDF documents are compared by digest only (install poppler-utils)");
            }
            None
        }
        Err(crate::pdf::RunError::Failed) => None,
    }
}
