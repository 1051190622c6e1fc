//! Analytics over HTTP: finance, oversight and the administrator read the city (any
//! region, any purchasing unit); a purchaser its own unit only. JSON, and the same figures
//! as CSV and as an Excel workbook (`rust_xlsxwriter`).

use axum::extract::{Query, State};
use axum::http::{header, Method};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::figures::{self, Figures};
use super::repo::{self, Filter};
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::calendar::Deadlines;
use crate::error::{AppError, AppResult, Json};
use crate::state::AppState;

const READERS: &[Role] = &[Role::Finance, Role::Oversight, Role::Admin, Role::Purchaser];

pub fn api() -> Api {
    Api::default()
        .route(Method::GET, "/api/analytics", Access::Roles(READERS), view)
        .returns::<AnalyticsView>()
        .route(
            Method::GET,
            "/api/analytics.csv",
            Access::Roles(READERS),
            csv,
        )
        .route(
            Method::GET,
            "/api/analytics.xlsx",
            Access::Roles(READERS),
            xlsx,
        )
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilterQuery {
    #[serde(default)]
    region: String,
    #[serde(default)]
    purchaser: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct AnalyticsView {
    pub region: Option<String>,
    pub purchaser: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub figures: Figures,
}

/// The filter as asked, checked; a purchaser's is its own unit whatever it asks.
async fn filter(state: &AppState, user: &CurrentUser, q: FilterQuery) -> AppResult<Filter> {
    let some = |s: String| {
        let s = s.trim().to_string();
        (!s.is_empty()).then_some(s)
    };
    let day = |field: &str, s: Option<String>| match s {
        Some(d) if chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").is_err() => Err(
            AppError::field(field, "日期格式为 YYYY-MM-DD / a day, YYYY-MM-DD"),
        ),
        other => Ok(other),
    };
    let region = some(q.region);
    if let Some(code) = &region {
        let known = repo::regions(&state.db.pool)
            .await?
            .iter()
            .any(|(c, _, _)| c == code);
        if !known {
            return Err(AppError::field("region", "未知的行政区划 / unknown region"));
        }
    }
    let purchaser = if user.role == Role::Purchaser {
        // Its own unit, never the city (a purchaser always has one; without, nothing).
        Some(user.org_id.clone().ok_or(AppError::Forbidden)?)
    } else {
        some(q.purchaser)
    };
    Ok(Filter {
        region,
        purchaser,
        from: day("from", some(q.from))?,
        to: day("to", some(q.to))?,
    })
}

async fn compute(state: &AppState, f: &Filter) -> AppResult<Figures> {
    let pool = &state.db.pool;
    let tenders = repo::tenders(pool, f, state.runtime::<Deadlines>()).await?;
    let planned = repo::planned_fen(pool, f).await?;
    let regions: Vec<(String, String)> = repo::regions(pool)
        .await?
        .into_iter()
        .map(|(code, zh, _)| (code, zh))
        .collect();
    Ok(figures::figures(
        &tenders,
        planned,
        &regions,
        state.clock.now_ms(),
    ))
}

async fn view(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<FilterQuery>,
) -> AppResult<Json<AnalyticsView>> {
    let f = filter(&state, &user, q).await?;
    let figures = compute(&state, &f).await?;
    Ok(Json(AnalyticsView {
        region: f.region,
        purchaser: f.purchaser,
        from: f.from,
        to: f.to,
        figures,
    }))
}

async fn csv(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<FilterQuery>,
) -> AppResult<Response> {
    let f = filter(&state, &user, q).await?;
    let figures = compute(&state, &f).await?;
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(["section", "figure", "value"])
        .map_err(anyhow::Error::from)?;
    for row in figures::csv_rows(&figures) {
        w.write_record(&row).map_err(anyhow::Error::from)?;
    }
    let body = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(download(
        body,
        "text/csv; charset=utf-8",
        "kaibiao-analytics.csv",
    ))
}

/// The same rows as the CSV in an Excel workbook (one sheet, numbers as numbers).
async fn xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<FilterQuery>,
) -> AppResult<Response> {
    let f = filter(&state, &user, q).await?;
    let figures = compute(&state, &f).await?;
    let body = workbook(&figures).map_err(anyhow::Error::from)?;
    Ok(download(
        body,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "kaibiao-analytics.xlsx",
    ))
}

/// A file to save: its bytes, type and name.
fn download(body: Vec<u8>, media_type: &'static str, name: &str) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    (
        [
            (header::CONTENT_TYPE, media_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

fn workbook(figures: &Figures) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    // The same figures give the same bytes: no creation time of the moment asked (the
    // public walk compares downloads before and after the bids; docs/analytics.md).
    let fixed = rust_xlsxwriter::ExcelDateTime::from_ymd(2000, 1, 1)?;
    book.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&fixed));
    let sheet = book.add_worksheet();
    sheet.set_name("analytics")?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (col, title) in ["section", "figure", "value"].iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *title, &bold)?;
    }
    for (i, [section, name, value]) in figures::csv_rows(figures).iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write_string(row, 0, section)?;
        sheet.write_string(row, 1, name)?;
        // Integers (fen, counts, basis points), all below 2^53: exact as numbers.
        sheet.write_number(row, 2, value.parse::<i64>().unwrap_or_default() as f64)?;
    }
    sheet.set_column_width(0, 18)?;
    sheet.set_column_width(1, 28)?;
    sheet.set_column_width(2, 18)?;
    book.save_to_buffer()
}
