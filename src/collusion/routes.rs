//! Collusion warnings over HTTP: the supervisors', after the opening.

use axum::extract::{Path, State};
use axum::http::Method;

use super::service;
use super::types::{Ack, Command, WarningsView};
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::error::{AppResult, Json};
use crate::state::AppState;

pub fn api() -> Api {
    Api::default()
        .route(
            Method::GET,
            "/api/tenders/{id}/warnings",
            Access::Roles(Role::SUPERVISORS),
            view,
        )
        .route(
            Method::POST,
            "/api/tenders/{id}/warnings",
            Access::Roles(Role::SUPERVISORS),
            command,
        )
        .route(
            Method::GET,
            "/api/screens",
            Access::Roles(Role::SUPERVISORS),
            screens,
        )
}

/// The red flags across the city's evaluated tenders.
async fn screens(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<super::types::ScreensView>> {
    Ok(Json(service::screens(&state, &user).await?))
}

async fn view(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<WarningsView>> {
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
