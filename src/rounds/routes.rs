//! The rounds over HTTP: the view, the commands (as over the hub), the open round's slot,
//! sealing an offer and reading one's own offer's header.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::Method;

use super::service;
use super::types::{Ack, Command, OfferSlot, OfferView, RoundsView};
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::error::{AppResult, Json};
use crate::state::AppState;

pub fn api() -> Api {
    const SUPPLIER: &[Role] = &[Role::Supplier];
    const MEMBERS: &[Role] = &[
        Role::Agency,
        Role::Purchaser,
        Role::Supplier,
        Role::Expert,
        Role::Finance,
        Role::Oversight,
        Role::Admin,
    ];
    Api::default()
        .route(
            Method::GET,
            "/api/tenders/{id}/rounds",
            Access::Roles(MEMBERS),
            view,
        )
        .route(
            Method::POST,
            "/api/tenders/{id}/rounds",
            Access::Roles(MEMBERS),
            command,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/rounds/slot",
            Access::Roles(SUPPLIER),
            slot,
        )
        .route(
            Method::PUT,
            "/api/offers/{id}",
            Access::Roles(SUPPLIER),
            seal,
        )
        .route(
            Method::GET,
            "/api/offers/{id}/header",
            Access::Roles(SUPPLIER),
            header,
        )
}

async fn view(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<RoundsView>> {
    Ok(Json(service::view(&state, &user, &id).await?))
}

async fn command(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<serde_json::Value>,
) -> AppResult<Json<Ack>> {
    let c: Command = crate::error::from_tagged(body)?;
    Ok(Json(service::command(&state, &user, &id, c).await?))
}

async fn slot(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<OfferSlot>> {
    Ok(Json(service::slot(&state, &user, &id).await?))
}

/// `PUT /api/offers/{id}` with the whole sealed container as the body.
async fn seal(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Body,
) -> AppResult<Json<OfferView>> {
    Ok(Json(service::seal(&state, &user, &id, body).await?))
}

async fn header(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    Ok(Json(service::header(&state, &user, &id).await?))
}
