//! Approval requests, objections and decisions over HTTP, each route with its access.

use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use serde::Deserialize;

use super::service;
use super::types::{ApprovalInput, ApprovalView, DecisionInput, ObjectionInput};
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::error::{AppResult, Json};
use crate::state::AppState;

pub fn api() -> Api {
    const PURCHASER: &[Role] = &[Role::Purchaser];
    const FINANCE: &[Role] = &[Role::Finance];
    const SUPPLIER: &[Role] = &[Role::Supplier];
    const READERS: &[Role] = &[
        Role::Purchaser,
        Role::Agency,
        Role::Finance,
        Role::Oversight,
        Role::Admin,
    ];
    Api::default()
        .route(
            Method::GET,
            "/api/single-source-notices",
            Access::Public,
            notices,
        )
        .route(
            Method::GET,
            "/api/single-source-notices/{id}",
            Access::Public,
            notice,
        )
        .route(
            Method::POST,
            "/api/plans/{id}/approvals",
            Access::Roles(PURCHASER),
            request,
        )
        .route(Method::GET, "/api/approvals", Access::Roles(READERS), list)
        .route(
            Method::GET,
            "/api/approvals/{id}",
            Access::Roles(READERS),
            one,
        )
        .route(
            Method::GET,
            "/api/approvals/{id}/attachments/{seq}",
            Access::Roles(READERS),
            attachment,
        )
        .route(
            Method::POST,
            "/api/approvals/{id}/decision",
            Access::Roles(FINANCE),
            decide,
        )
        .route(
            Method::POST,
            "/api/approvals/{id}/objections",
            Access::Roles(SUPPLIER),
            object,
        )
}

async fn request(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(plan_id): Path<String>,
    Json(req): Json<ApprovalInput>,
) -> AppResult<(StatusCode, Json<ApprovalView>)> {
    let v = service::request(&state, &user, &plan_id, req).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    plan: String,
}

async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<Vec<ApprovalView>>> {
    Ok(Json(service::list(&state, &user, &q.plan).await?))
}

async fn one(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<ApprovalView>> {
    Ok(Json(service::one(&state, &user, &id).await?))
}

async fn attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, seq)): Path<(String, i64)>,
) -> AppResult<axum::response::Response> {
    let (a, bytes) = service::attachment(&state, &user, &id, seq).await?;
    Ok(crate::download::document(
        &a.name,
        &a.media_type,
        bytes.len() as u64,
        axum::body::Body::from(bytes),
    ))
}

async fn decide(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<DecisionInput>,
) -> AppResult<Json<ApprovalView>> {
    Ok(Json(service::decide(&state, &user, &id, req).await?))
}

async fn object(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<ObjectionInput>,
) -> AppResult<Json<ApprovalView>> {
    Ok(Json(service::object(&state, &user, &id, req).await?))
}

async fn notices(State(state): State<AppState>) -> AppResult<Json<Vec<ApprovalView>>> {
    Ok(Json(service::notices(&state).await?))
}

async fn notice(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<ApprovalView>> {
    Ok(Json(service::notice(&state, &id).await?))
}
