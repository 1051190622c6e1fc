//! Supplier registration, the commitment and credit records over HTTP.

use axum::extract::State;
use axum::http::{Method, StatusCode};

use super::service;
use super::types::{
    CommitmentView, CreditCheckView, CreditRecordInput, CreditRecordView, RegisterRequest,
    RegisteredView, SignRequest,
};
use crate::auth::types::ClientInfo;
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::error::{AppResult, Json};
use crate::state::AppState;

pub fn api() -> Api {
    const SUPPLIER: &[Role] = &[Role::Supplier];
    const FINANCE: &[Role] = &[Role::Finance, Role::Admin];
    const READERS: &[Role] = &[Role::Supplier, Role::Finance, Role::Oversight, Role::Admin];
    Api::default()
        .route(
            Method::POST,
            "/api/suppliers/register",
            Access::Public,
            register,
        )
        .route(
            Method::GET,
            "/api/suppliers/me/commitment",
            Access::Roles(SUPPLIER),
            commitment,
        )
        .route(
            Method::POST,
            "/api/suppliers/me/commitment",
            Access::Roles(SUPPLIER),
            sign,
        )
        .route(
            Method::GET,
            "/api/suppliers/me/identity",
            Access::Roles(SUPPLIER),
            identity,
        )
        .route(
            Method::PUT,
            "/api/suppliers/me/identity",
            Access::Roles(SUPPLIER),
            declare_identity,
        )
        .route(
            Method::GET,
            "/api/suppliers/me/credit-checks",
            Access::Roles(SUPPLIER),
            checks,
        )
        .route(
            Method::GET,
            "/api/credit-records",
            Access::Roles(READERS),
            records,
        )
        .route(
            Method::POST,
            "/api/credit-records",
            Access::Roles(FINANCE),
            record,
        )
}

async fn register(
    State(state): State<AppState>,
    client: ClientInfo,
    Json(req): Json<RegisterRequest>,
) -> AppResult<(StatusCode, Json<RegisteredView>)> {
    let v = service::register(&state, req, &client).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

async fn identity(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<super::identity::IdentityView>> {
    Ok(Json(super::identity::mine(&state, &user).await?))
}

async fn declare_identity(
    State(state): State<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    Json(req): Json<super::identity::IdentityInput>,
) -> AppResult<Json<super::identity::IdentityView>> {
    Ok(Json(
        super::identity::declare(&state, &user, &req, &client).await?,
    ))
}

async fn commitment(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<CommitmentView>> {
    Ok(Json(service::commitment(&state, &user).await?))
}

async fn sign(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(req): Json<SignRequest>,
) -> AppResult<Json<CommitmentView>> {
    Ok(Json(service::sign(&state, &user, req).await?))
}

async fn checks(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<Vec<CreditCheckView>>> {
    Ok(Json(service::my_checks(&state, &user).await?))
}

async fn records(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<Vec<CreditRecordView>>> {
    Ok(Json(service::records(&state, &user).await?))
}

async fn record(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(req): Json<CreditRecordInput>,
) -> AppResult<(StatusCode, Json<CreditRecordView>)> {
    let v = service::record(&state, &user, req).await?;
    Ok((StatusCode::CREATED, Json(v)))
}
