//! Ratings over HTTP: each party of an accepted contract rates the others; the
//! supervisors read them all; everyone reads the aggregates it may.

use axum::extract::{Path, State};
use axum::http::Method;

use super::service;
use super::types::{Ack, Command, RatingsView, Summary};
use crate::auth::policy::MaybeUser;
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::error::{AppResult, Json};
use crate::state::AppState;

pub fn api() -> Api {
    Api::default()
        .route(
            Method::GET,
            "/api/tenders/{id}/ratings",
            Access::Public,
            view,
        )
        .route(
            Method::POST,
            "/api/tenders/{id}/ratings",
            Access::Roles(&[Role::Purchaser, Role::Agency, Role::Supplier, Role::Expert]),
            command,
        )
        .route(Method::GET, "/api/ratings", Access::AnyUser, summaries)
}

async fn view(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
) -> AppResult<Json<RatingsView>> {
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

async fn summaries(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<Vec<Summary>>> {
    Ok(Json(service::summaries(&state, &user).await?))
}
