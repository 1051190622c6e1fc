//! Budget lines, plans and intentions over HTTP, each route with its access.

use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use serde::Deserialize;

use super::repo::Group;
use super::service;
use super::types::{
    BudgetLineInput, BudgetLineView, ExecutionRow, IntentionInput, IntentionView, PlanInput,
    PlanView,
};
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::error::{AppResult, Json};
use crate::state::AppState;

pub fn api() -> Api {
    const FINANCE: &[Role] = &[Role::Finance];
    const PURCHASER: &[Role] = &[Role::Purchaser];
    const READERS: &[Role] = &[
        Role::Purchaser,
        Role::Agency,
        Role::Finance,
        Role::Oversight,
        Role::Admin,
    ];
    const SUPERVISORS: &[Role] = Role::SUPERVISORS;
    Api::default()
        .route(Method::GET, "/api/intentions", Access::Public, intentions)
        .route(
            Method::GET,
            "/api/intentions/{id}",
            Access::Public,
            intention,
        )
        .route(
            Method::GET,
            "/api/budget-lines",
            Access::Roles(READERS),
            lines,
        )
        .route(
            Method::POST,
            "/api/budget-lines",
            Access::Roles(FINANCE),
            create_line,
        )
        .route(
            Method::GET,
            "/api/budget-execution",
            Access::Roles(SUPERVISORS),
            execution,
        )
        .route(Method::GET, "/api/plans", Access::Roles(READERS), plans)
        .route(
            Method::POST,
            "/api/plans",
            Access::Roles(PURCHASER),
            create_plan,
        )
        .route(Method::GET, "/api/plans/{id}", Access::Roles(READERS), plan)
        .route(
            Method::GET,
            "/api/plans/{id}/ledger",
            Access::Roles(READERS),
            plan_ledger,
        )
        .route(
            Method::POST,
            "/api/plans/{id}/intention",
            Access::Roles(PURCHASER),
            publish_intention,
        )
        .route(
            Method::POST,
            "/api/plans/{id}/cancel",
            Access::Roles(PURCHASER),
            cancel_plan,
        )
}

#[derive(Deserialize)]
struct YearQuery {
    #[serde(default)]
    year: i32,
}

async fn lines(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<YearQuery>,
) -> AppResult<Json<Vec<BudgetLineView>>> {
    Ok(Json(service::lines(&state, &user, q.year).await?))
}

async fn create_line(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(req): Json<BudgetLineInput>,
) -> AppResult<(StatusCode, Json<BudgetLineView>)> {
    let line = service::create_line(&state, &user, req).await?;
    Ok((StatusCode::CREATED, Json(line)))
}

#[derive(Deserialize)]
struct ExecutionQuery {
    /// The budget year; the current one when absent.
    #[serde(default)]
    year: i32,
    #[serde(default = "by_unit")]
    group: Group,
}

fn by_unit() -> Group {
    Group::Unit
}

async fn execution(
    State(state): State<AppState>,
    Query(q): Query<ExecutionQuery>,
) -> AppResult<Json<Vec<ExecutionRow>>> {
    Ok(Json(service::execution(&state, q.year, q.group).await?))
}

async fn plans(State(state): State<AppState>, user: CurrentUser) -> AppResult<Json<Vec<PlanView>>> {
    Ok(Json(service::plans(&state, &user).await?))
}

async fn create_plan(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(req): Json<PlanInput>,
) -> AppResult<(StatusCode, Json<PlanView>)> {
    let plan = service::create_plan(&state, &user, req).await?;
    Ok((StatusCode::CREATED, Json(plan)))
}

async fn plan(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<PlanView>> {
    Ok(Json(service::plan(&state, &user, &id).await?))
}

async fn plan_ledger(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<crate::ledger::Ledger>> {
    Ok(Json(service::ledger(&state, &user, &id).await?))
}

async fn publish_intention(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<IntentionInput>,
) -> AppResult<Json<PlanView>> {
    Ok(Json(
        service::publish_intention(&state, &user, &id, req).await?,
    ))
}

async fn cancel_plan(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<PlanView>> {
    Ok(Json(service::cancel_plan(&state, &user, &id).await?))
}

#[derive(Deserialize)]
struct IntentionQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    region: String,
}

async fn intentions(
    State(state): State<AppState>,
    Query(q): Query<IntentionQuery>,
) -> AppResult<Json<Vec<IntentionView>>> {
    Ok(Json(service::intentions(&state, &q.q, &q.region).await?))
}

async fn intention(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<IntentionView>> {
    Ok(Json(service::intention(&state, &id).await?))
}
