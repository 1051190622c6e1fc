//! Evaluation routes: the per-member view, the commands (browsers use the hub; bidders
//! answer clarifications here), others' scores once one's own are in, a bidder's
//! clarifications, and the signed report.

use axum::extract::{Path, Query, State};
use axum::http::Method;
use serde::Deserialize;
use serde_json::Value;

use super::report::ReportBundle;
use super::types::Command;
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::error::{AppResult, Json};
use crate::state::AppState;

/// Members of an evaluation (experts are checked against the panel per request).
const MEMBERS: &[Role] = &[
    Role::Purchaser,
    Role::Agency,
    Role::Expert,
    Role::Finance,
    Role::Oversight,
    Role::Admin,
];

/// Commands: members, and suppliers for their answers to clarifications.
const COMMANDERS: &[Role] = &[
    Role::Purchaser,
    Role::Agency,
    Role::Expert,
    Role::Supplier,
    Role::Finance,
    Role::Oversight,
    Role::Admin,
];

pub fn api() -> Api {
    Api::default()
        .route(
            Method::GET,
            "/api/tenders/{id}/evaluation",
            Access::Roles(MEMBERS),
            view,
        )
        .route(
            Method::POST,
            "/api/tenders/{id}/evaluation",
            Access::Roles(COMMANDERS),
            command,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/evaluation/scores",
            Access::Roles(MEMBERS),
            scores,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/evaluation/report",
            Access::Roles(COMMANDERS),
            report,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/clarifications",
            Access::Roles(&[Role::Supplier]),
            clarifications,
        )
}

async fn view(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    Ok(axum::Json(super::view::view(&state, &user, &id).await?))
}

/// Role and membership are checked per command (docs/evaluation.md).
async fn command(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(cmd): Json<Command>,
) -> AppResult<axum::Json<Value>> {
    Ok(axum::Json(
        super::service::command(&state, &user, &id, cmd).await?,
    ))
}

#[derive(Deserialize)]
struct BidQuery {
    bid_id: Option<String>,
}

async fn scores(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<BidQuery>,
) -> AppResult<axum::Json<Value>> {
    Ok(axum::Json(
        super::view::bid_scores(&state, &user, &id, q.bid_id.as_deref()).await?,
    ))
}

async fn report(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<axum::Json<ReportBundle>> {
    Ok(axum::Json(super::report::bundle(&state, &user, &id).await?))
}

async fn clarifications(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    Ok(axum::Json(
        super::view::own_clarifications(&state, &user, &id).await?,
    ))
}
