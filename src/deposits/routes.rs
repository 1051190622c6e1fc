//! Recording, listing and refunding deposits over HTTP.

use axum::extract::{Path, State};
use axum::http::Method;

use super::service;
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::deposit::types::{DepositInput, DepositView, RefundInput};
use crate::error::{AppResult, Json};
use crate::state::AppState;

pub fn api() -> Api {
    const SUPPLIER: &[Role] = &[Role::Supplier];
    const AGENCY: &[Role] = &[Role::Agency];
    const MEMBERS: &[Role] = &[
        Role::Agency,
        Role::Purchaser,
        Role::Finance,
        Role::Oversight,
        Role::Admin,
    ];
    Api::default()
        .route(
            Method::POST,
            "/api/tenders/{id}/deposit",
            Access::Roles(SUPPLIER),
            record,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/deposit/mine",
            Access::Roles(SUPPLIER),
            mine,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/deposits",
            Access::Roles(MEMBERS),
            list,
        )
        .route(
            Method::POST,
            "/api/tenders/{id}/deposits/{org_id}/refund",
            Access::Roles(AGENCY),
            refund,
        )
}

async fn record(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<DepositInput>,
) -> AppResult<Json<DepositView>> {
    Ok(Json(service::record(&state, &user, &id, req).await?))
}

async fn mine(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<DepositView>> {
    Ok(Json(service::mine(&state, &user, &id).await?))
}

async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<DepositView>>> {
    Ok(Json(service::list(&state, &user, &id).await?))
}

async fn refund(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, org_id)): Path<(String, String)>,
    Json(req): Json<RefundInput>,
) -> AppResult<Json<DepositView>> {
    Ok(Json(
        service::refund(&state, &user, &id, &org_id, req).await?,
    ))
}
