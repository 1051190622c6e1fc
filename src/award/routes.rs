//! The result over HTTP: the notice is public once published; the agency publishes it.

use axum::extract::{Path, State};
use axum::http::Method;

use super::service;
use super::types::{Ack, Command, ResultView};
use crate::auth::policy::MaybeUser;
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::error::{AppResult, Json};
use crate::state::AppState;

pub fn api() -> Api {
    Api::default()
        .route(
            Method::GET,
            "/api/tenders/{id}/result",
            Access::Public,
            view,
        )
        .route(
            Method::POST,
            "/api/tenders/{id}/result",
            Access::Roles(&[Role::Agency]),
            command,
        )
}

async fn view(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
) -> AppResult<Json<ResultView>> {
    Ok(Json(service::view(&state, user.as_ref(), &id).await?))
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
