//! The inbox over HTTP: every logged-in user reads their own alerts.

use axum::extract::{Path, Query, State};
use axum::http::Method;
use serde::Deserialize;

use super::service;
use super::types::{AlertCount, AlertView};
use crate::auth::{Access, Api, CurrentUser};
use crate::error::{AppError, AppResult, Json};
use crate::state::AppState;

pub fn api() -> Api {
    Api::default()
        .route(Method::GET, "/api/alerts", Access::AnyUser, list)
        .returns::<Vec<AlertView>>()
        .route(Method::GET, "/api/alerts/count", Access::AnyUser, count)
        .returns::<AlertCount>()
        .route(Method::POST, "/api/alerts/{id}/read", Access::AnyUser, read)
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    unread: Option<String>,
    #[serde(default)]
    limit: Option<String>,
}

fn flag(field: &str, v: Option<&str>) -> AppResult<bool> {
    match v.unwrap_or("") {
        "" | "0" | "false" => Ok(false),
        "1" | "true" => Ok(true),
        _ => Err(AppError::field(field, "取 1 或 0 / 1 or 0")),
    }
}

fn limit(v: Option<&str>) -> AppResult<i64> {
    let Some(v) = v.filter(|v| !v.is_empty()) else {
        return Ok(service::DEFAULT_LIMIT);
    };
    v.parse::<i64>()
        .ok()
        .filter(|n| (1..=service::MAX_LIMIT).contains(n))
        .ok_or_else(|| {
            let max = service::MAX_LIMIT;
            AppError::field("limit", format!("1 至 {max} / 1 to {max}"))
        })
}

async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<Vec<AlertView>>> {
    let unread = flag("unread", q.unread.as_deref())?;
    let limit = limit(q.limit.as_deref())?;
    Ok(Json(service::list(&state, &user, unread, limit).await?))
}

async fn count(State(state): State<AppState>, user: CurrentUser) -> AppResult<Json<AlertCount>> {
    Ok(Json(service::count(&state, &user).await?))
}

async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<AlertView>> {
    Ok(Json(service::read(&state, &user, &id).await?))
}
