//! Bid submission routes (suppliers only; every bid route checks the bid is the caller's
//! organisation's).

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};

use super::service;
use super::types::{BidView, CompleteBidRequest, OffsetQuery, StartBidRequest, StartBidResponse};
use crate::auth::types::ClientInfo;
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::error::{AppResult, Json};
use crate::state::AppState;

pub fn api() -> Api {
    const SUPPLIER: &[Role] = &[Role::Supplier];
    Api::default()
        .route(
            Method::POST,
            "/api/tenders/{id}/bids",
            Access::Roles(SUPPLIER),
            start,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/bids/mine",
            Access::Roles(SUPPLIER),
            mine,
        )
        .route(
            Method::GET,
            "/api/bids/{id}",
            Access::Roles(SUPPLIER),
            status,
        )
        .route(
            Method::PUT,
            "/api/bids/{id}/content",
            Access::Roles(SUPPLIER),
            upload,
        )
        .route(
            Method::POST,
            "/api/bids/{id}/complete",
            Access::Roles(SUPPLIER),
            complete,
        )
        .route(
            Method::POST,
            "/api/bids/{id}/withdraw",
            Access::Roles(SUPPLIER),
            withdraw,
        )
}

async fn start(
    State(state): State<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    Path(id): Path<String>,
    Json(req): Json<StartBidRequest>,
) -> AppResult<(StatusCode, Json<StartBidResponse>)> {
    let r = service::start(&state, &user, &id, req, &client).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

async fn mine(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<BidView>>> {
    Ok(Json(service::mine(&state, &user, &id).await?))
}

async fn status(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<BidView>> {
    Ok(Json(service::status(&state, &user, &id).await?))
}

/// `PUT /api/bids/{id}/content?offset=N` with raw bytes: the next chunk of the container.
async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<OffsetQuery>,
    body: Body,
) -> AppResult<Json<BidView>> {
    Ok(Json(
        service::append(&state, &user, &id, q.offset, body).await?,
    ))
}

async fn complete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<CompleteBidRequest>,
) -> AppResult<Json<BidView>> {
    Ok(Json(service::complete(&state, &user, &id, req).await?))
}

async fn withdraw(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<BidView>> {
    Ok(Json(service::withdraw(&state, &user, &id).await?))
}
