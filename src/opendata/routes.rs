//! Open data over HTTP, public: the releases a page at a time, one tender's, and all of
//! them as JSON lines for a bulk download; the records (each tender's release linked and
//! compiled) a page at a time and one tender's.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::{release, repo};
use crate::auth::{Access, Api};
use crate::error::{AppError, AppResult, Json};
use crate::state::AppState;

/// Releases per page of `GET /api/ocds/releases`.
pub const PAGE_SIZE: i64 = 100;

/// How long one bulk download serves every client before it is made again.
pub const BULK_FRESH_MS: i64 = 60_000;

/// The last bulk download and when it was made (a runtime): anyone may ask for it, so it
/// is made at most once a minute, by one request while the others wait for it.
#[derive(Default)]
pub struct BulkCache(tokio::sync::Mutex<Option<(i64, bytes::Bytes)>>);

pub fn api() -> Api {
    Api::default()
        .route(Method::GET, "/api/ocds/releases", Access::Public, releases)
        .route(Method::GET, "/api/ocds/releases/{id}", Access::Public, one)
        .route(Method::GET, "/api/ocds/records", Access::Public, records)
        .route(
            Method::GET,
            "/api/ocds/records/{id}",
            Access::Public,
            one_record,
        )
        .route(Method::GET, "/api/ocds/bulk.jsonl", Access::Public, bulk)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    #[serde(default)]
    page: Option<u32>,
}

/// The address this request came to, for the package's `uri` and `links.next`.
fn base(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.len() <= 255 && h.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or("localhost");
    let scheme = if state.config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// A page of the published tenders at `path` (`/api/ocds/releases` or `…/records`):
/// their ids, the address the request came to, the page's and the next page's.
struct Page {
    ids: Vec<String>,
    base: String,
    uri: String,
    next: Option<String>,
}

async fn page_of(
    state: &AppState,
    headers: &HeaderMap,
    q: &PageQuery,
    path: &str,
) -> AppResult<Page> {
    let page = i64::from(q.page.unwrap_or(1));
    if !(1..=1_000_000).contains(&page) {
        return Err(AppError::field("page", "页码从 1 开始 / pages start at 1"));
    }
    let pool = &state.db.pool;
    let total = repo::count(pool).await?;
    let ids = repo::page(pool, (page - 1) * PAGE_SIZE, PAGE_SIZE).await?;
    let base = base(state, headers);
    Ok(Page {
        ids,
        uri: format!("{base}{path}?page={page}"),
        next: (page * PAGE_SIZE < total).then(|| format!("{base}{path}?page={}", page + 1)),
        base,
    })
}

async fn releases(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> AppResult<Json<Value>> {
    let page = page_of(&state, &headers, &q, "/api/ocds/releases").await?;
    let releases = repo::publics(&state.db.pool, &page.ids)
        .await?
        .iter()
        .map(release::release)
        .collect();
    Ok(Json(release::package(
        &page.uri,
        state.clock.now_ms(),
        releases,
        page.next,
    )))
}

async fn one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let pool = &state.db.pool;
    let id = repo::find(pool, &id).await?.ok_or(AppError::NotFound)?;
    let r = release::release(&repo::public(pool, &id).await?);
    let uri = format!(
        "{}/api/ocds/releases/{}",
        base(&state, &headers),
        r["tender"]["id"].as_str().unwrap_or(&id)
    );
    Ok(Json(release::package(
        &uri,
        state.clock.now_ms(),
        vec![r],
        None,
    )))
}

/// The record package at `uri` of `publics`, each record linking its release's package at
/// `base` (the packages it names).
fn record_package(
    state: &AppState,
    base: &str,
    uri: &str,
    publics: &[repo::Public],
    next: Option<String>,
) -> Value {
    let packages: Vec<String> = publics
        .iter()
        .map(|p| format!("{base}/api/ocds/releases/{}", p.tender.code))
        .collect();
    let records = publics
        .iter()
        .zip(&packages)
        .map(|(p, url)| release::record(release::release(p), url))
        .collect();
    release::record_package(uri, state.clock.now_ms(), records, packages, next)
}

async fn records(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> AppResult<Json<Value>> {
    let page = page_of(&state, &headers, &q, "/api/ocds/records").await?;
    let publics = repo::publics(&state.db.pool, &page.ids).await?;
    Ok(Json(record_package(
        &state, &page.base, &page.uri, &publics, page.next,
    )))
}

async fn one_record(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let pool = &state.db.pool;
    let id = repo::find(pool, &id).await?.ok_or(AppError::NotFound)?;
    let public = repo::public(pool, &id).await?;
    let base = base(&state, &headers);
    let uri = format!("{base}/api/ocds/records/{}", public.tender.code);
    Ok(Json(record_package(&state, &base, &uri, &[public], None)))
}

/// Every published tender's release, one JSON object a line (`application/x-ndjson`),
/// at most `BULK_FRESH_MS` old.
async fn bulk(State(state): State<AppState>) -> AppResult<Response> {
    let now = state.clock.now_ms();
    let mut cached = state.runtime::<BulkCache>().0.lock().await;
    let body = match cached.as_ref() {
        Some((made, body)) if now - made < BULK_FRESH_MS && now >= *made => body.clone(),
        _ => {
            let body = bytes::Bytes::from(bulk_lines(&state).await?);
            *cached = Some((now, body.clone()));
            body
        }
    };
    drop(cached);
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"kaibiao-releases.jsonl\"",
            ),
        ],
        body,
    )
        .into_response())
}

/// How many tenders the bulk download reads at a time.
const BULK_PAGE: i64 = 500;

/// The releases as JSON lines, read [`BULK_PAGE`] tenders at a time.
async fn bulk_lines(state: &AppState) -> AppResult<Vec<u8>> {
    let pool = &state.db.pool;
    let mut body = Vec::new();
    let mut offset = 0;
    loop {
        let ids = repo::page(pool, offset, BULK_PAGE).await?;
        for public in repo::publics(pool, &ids).await? {
            serde_json::to_writer(&mut body, &release::release(&public))
                .map_err(anyhow::Error::from)?;
            body.push(b'\n');
        }
        if (ids.len() as i64) < BULK_PAGE {
            break;
        }
        offset += BULK_PAGE;
    }
    Ok(body)
}
