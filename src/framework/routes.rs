//! The framework agreement over HTTP.

use axum::extract::{Path, State};
use axum::http::Method;

use super::service;
use super::types::{Ack, Command, FrameworkView};
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::error::{AppResult, Json};
use crate::state::AppState;

pub fn api() -> Api {
    const WRITERS: &[Role] = &[Role::Agency, Role::Purchaser];
    const READERS: &[Role] = &[
        Role::Agency,
        Role::Purchaser,
        Role::Supplier,
        Role::Finance,
        Role::Oversight,
        Role::Admin,
    ];
    Api::default()
        .route(
            Method::GET,
            "/api/tenders/{id}/framework",
            Access::Roles(READERS),
            view,
        )
        .route(
            Method::POST,
            "/api/tenders/{id}/framework",
            Access::Roles(WRITERS),
            command,
        )
}

async fn view(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<FrameworkView>> {
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
