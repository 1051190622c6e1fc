//! Bid documents read in the evaluation room (docs/evaluation.md, "Reading documents"):
//! a PDF page by page as images rendered by poppler, images and plain text as they are,
//! with a search over the text; nothing a browser would save as the file. Every opening of
//! a document is kept with who opened it (an expert by seat), for supervisors.

use serde::Serialize;
use sqlx::Row;

use super::access::{self, Member};
use super::types::EvalRoomError;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Pages shown of a PDF, and read for the search.
pub const MAX_PAGES: u32 = 500;
/// Resolution of a rendered page.
const DPI: u32 = 110;
/// The most of a text document shown, and of an image.
const MAX_TEXT: usize = 2 << 20;
const MAX_IMAGE: usize = 20 << 20;
/// The longest search, in characters, and the most hits answered.
const MAX_QUERY: usize = 100;
const MAX_HITS: usize = 100;

/// Bytes of rendered pages kept in memory, the least recently read dropped first.
const CACHE_BYTES: usize = 64 << 20;

/// Rendered PDF pages and page counts, by the document's SHA-256 (content-addressed, so
/// never stale): a panel paging through the same document renders each page once. One
/// per process, shared by every tender's room.
struct Rendered {
    pages: lru::LruCache<(String, u32), std::sync::Arc<[u8]>>,
    counts: lru::LruCache<String, u32>,
    bytes: usize,
}

fn rendered() -> &'static std::sync::Mutex<Rendered> {
    static R: std::sync::OnceLock<std::sync::Mutex<Rendered>> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        std::sync::Mutex::new(Rendered {
            pages: lru::LruCache::unbounded(),
            counts: lru::LruCache::new(std::num::NonZeroUsize::new(4096).expect("non-zero")),
            bytes: 0,
        })
    })
}

fn lock() -> std::sync::MutexGuard<'static, Rendered> {
    rendered().lock().unwrap_or_else(|e| e.into_inner())
}

/// The page count of the PDF `sha256`, from the cache or poppler.
async fn pdf_pages(state: &AppState, sha256: &str) -> AppResult<u32> {
    if let Some(n) = lock().counts.get(sha256) {
        return Ok(*n);
    }
    let n = crate::pdf::page_count(&file_of(state, sha256).await?)
        .await
        .map_err(unreadable)?;
    lock().counts.put(sha256.to_string(), n);
    Ok(n)
}

/// Page `page` of the PDF `sha256` as PNG, from the cache or rendered now (and kept).
async fn pdf_page(state: &AppState, sha256: &str, page: u32) -> AppResult<Vec<u8>> {
    let key = (sha256.to_string(), page);
    if let Some(png) = lock().pages.get(&key) {
        return Ok(png.to_vec());
    }
    let png = crate::pdf::render_page(&file_of(state, sha256).await?, page, DPI)
        .await
        .map_err(unreadable)?;
    if png.len() <= CACHE_BYTES / 8 {
        let mut r = lock();
        if let Some(old) = r.pages.put(key, png.as_slice().into()) {
            r.bytes -= old.len();
        }
        r.bytes += png.len();
        while r.bytes > CACHE_BYTES {
            let Some((_, dropped)) = r.pages.pop_lru() else {
                break;
            };
            r.bytes -= dropped.len();
        }
    }
    Ok(png)
}

/// A document as the reader opens it.
#[derive(Debug, Clone, Serialize)]
pub struct Outline {
    pub sha256: String,
    pub name: String,
    pub media_type: String,
    /// pdf | image | text
    pub kind: &'static str,
    pub pages: u32,
}

/// A page where the search found the words, with the words in their line.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub page: u32,
    pub snippet: String,
}

/// One opening of a document (`GET …/evaluation/document-reads`, supervisors).
#[derive(Debug, Clone, Serialize)]
pub struct ReadView {
    /// The expert's seat; `null` for anyone else.
    pub seat: Option<i64>,
    /// The reader's role.
    pub role: String,
    pub name: String,
    pub sha256: String,
    pub at: i64,
}

fn kind(name: &str, media_type: &str) -> Option<&'static str> {
    let media = media_type.split(';').next().unwrap_or("").trim();
    if crate::pdf::is_pdf(name, media_type) {
        Some("pdf")
    } else if media == "image/png" || media == "image/jpeg" {
        Some("image")
    } else if media == "text/plain" {
        Some("text")
    } else {
        None
    }
}

/// The document `sha256` read out in the tender's opening, for a member of the evaluation
/// (an expert only once seated), with its viewable kind.
async fn find(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    sha256: &str,
) -> AppResult<(Member, crate::ledger::Document, &'static str)> {
    let m = super::view::document_reader(state, user, tender_id).await?;
    let d = super::view::read_out_document(state, tender_id, sha256).await?;
    let kind = kind(&d.name, &d.media_type).ok_or(EvalRoomError::NotViewable)?;
    Ok((m, d, kind))
}

async fn file_of(state: &AppState, sha256: &str) -> AppResult<crate::blob::BlobFile> {
    state.blobs.file(sha256).await?.ok_or(AppError::NotFound)
}

fn unreadable(e: crate::pdf::RunError) -> AppError {
    match e {
        crate::pdf::RunError::Missing(e) => AppError::Internal(anyhow::anyhow!(
            "poppler-utils is needed to show PDF documents: {e}"
        )),
        crate::pdf::RunError::Failed => EvalRoomError::NotViewable.into(),
    }
}

/// Opens a document in the reader: its kind and number of pages. The opening is kept.
pub async fn outline(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    sha256: &str,
) -> AppResult<Outline> {
    let (m, d, kind) = find(state, user, tender_id, sha256).await?;
    let pages = match kind {
        "pdf" => pdf_pages(state, sha256).await?.min(MAX_PAGES),
        _ => 1,
    };
    sqlx::query(
        "INSERT INTO evaluation_document_reads (tender_id, user_id, seat, sha256, read_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tender_id)
    .bind(&user.id)
    .bind(m.expert().map(|s| s.seat))
    .bind(sha256)
    .bind(state.clock.now_ms())
    .execute(&state.db.pool)
    .await?;
    Ok(Outline {
        sha256: d.sha256,
        name: d.name,
        media_type: d.media_type,
        kind,
        pages,
    })
}

/// Page `page` (from 1, as the path gives it): a PDF's rendered as PNG, an image as it is,
/// a text as UTF-8. Returns the content type and the bytes.
pub async fn page(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    sha256: &str,
    page: &str,
) -> AppResult<(&'static str, Vec<u8>)> {
    let (_, d, kind) = find(state, user, tender_id, sha256).await?;
    let out_of_range = || AppError::field("page", "没有这一页 / no such page");
    let page: u32 = page.parse().map_err(|_| out_of_range())?;
    match kind {
        "pdf" => {
            let pages = pdf_pages(state, sha256).await?;
            if page == 0 || page > pages.min(MAX_PAGES) {
                return Err(out_of_range());
            }
            let png = pdf_page(state, sha256, page).await?;
            Ok(("image/png", png))
        }
        _ if page != 1 => Err(out_of_range()),
        "image" => {
            let bytes = state
                .blobs
                .get_prefix(sha256, MAX_IMAGE + 1)
                .await?
                .ok_or(AppError::NotFound)?;
            if bytes.len() > MAX_IMAGE {
                return Err(EvalRoomError::NotViewable.into());
            }
            let media = if d.media_type.starts_with("image/png") {
                "image/png"
            } else {
                "image/jpeg"
            };
            Ok((media, bytes))
        }
        _ => {
            let bytes = state
                .blobs
                .get_prefix(sha256, MAX_TEXT)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok((
                "text/plain; charset=utf-8",
                String::from_utf8_lossy(&bytes).into_owned().into_bytes(),
            ))
        }
    }
}

/// The pages of a document where `q` occurs (case-insensitive), each with its line.
pub async fn search(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    sha256: &str,
    q: &str,
) -> AppResult<Vec<Hit>> {
    let (_, _, kind) = find(state, user, tender_id, sha256).await?;
    let q = crate::error::required_text("q", q, MAX_QUERY)?.to_lowercase();
    let text = match kind {
        "pdf" => crate::pdf::text(&file_of(state, sha256).await?, MAX_PAGES, 64 << 20)
            .await
            .map_err(unreadable)?,
        "text" => {
            let bytes = state
                .blobs
                .get_prefix(sha256, MAX_TEXT)
                .await?
                .ok_or(AppError::NotFound)?;
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => return Ok(Vec::new()),
    };
    // pdftotext ends each page with a form feed.
    let mut hits = Vec::new();
    for (i, page) in text.split('\u{c}').enumerate() {
        for line in page.lines() {
            if hits.len() >= MAX_HITS {
                return Ok(hits);
            }
            if line.to_lowercase().contains(&q) {
                hits.push(Hit {
                    page: i as u32 + 1,
                    snippet: line.trim().chars().take(120).collect(),
                });
            }
        }
    }
    Ok(hits)
}

/// Who opened which document of the tender, latest first (supervisors).
pub async fn reads(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
) -> AppResult<Vec<ReadView>> {
    let m = access::member(state, user, tender_id).await?;
    if !m.supervisor {
        return Err(AppError::Forbidden);
    }
    let names: std::collections::BTreeMap<String, String> =
        crate::opening::repo::read_out_documents(&state.db.pool, tender_id)
            .await?
            .into_values()
            .flatten()
            .map(|d| (d.sha256, d.name))
            .collect();
    let rows = sqlx::query(
        "SELECT r.seat, u.role, r.sha256, r.read_at FROM evaluation_document_reads r \
         JOIN users u ON u.id = r.user_id WHERE r.tender_id = $1 \
         ORDER BY r.read_at DESC LIMIT 1000",
    )
    .bind(tender_id)
    .fetch_all(&state.db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            let sha256: String = r.try_get("sha256")?;
            Ok(ReadView {
                seat: r.try_get("seat")?,
                role: r.try_get("role")?,
                name: names.get(&sha256).cloned().unwrap_or_default(),
                sha256,
                at: r.try_get("read_at")?,
            })
        })
        .collect()
}
