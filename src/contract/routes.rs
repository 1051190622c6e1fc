//! Contracts over HTTP: published ones are public; the parties, the agency and the
//! supervisors read all; the purchaser drafts, adjusts, publishes and files; both parties
//! sign.

use axum::extract::{Path, State};
use axum::http::Method;

use super::rules::ContractBundle;
use super::service;
use super::types::{Ack, Command, ContractsView};
use crate::auth::policy::MaybeUser;
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::error::{AppResult, Json};
use crate::state::AppState;

pub fn api() -> Api {
    Api::default()
        .route(
            Method::GET,
            "/api/tenders/{id}/contracts",
            Access::Public,
            view,
        )
        .route(
            Method::POST,
            "/api/tenders/{id}/contracts",
            Access::Roles(&[Role::Purchaser, Role::Supplier]),
            command,
        )
        .route(
            Method::GET,
            "/api/contracts/{id}/bundle",
            Access::Public,
            bundle,
        )
}

async fn view(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
) -> AppResult<Json<ContractsView>> {
    Ok(Json(service::view(&state, user.as_ref(), &id).await?))
}

async fn bundle(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
) -> AppResult<Json<ContractBundle>> {
    Ok(Json(service::bundle(&state, user.as_ref(), &id).await?))
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
