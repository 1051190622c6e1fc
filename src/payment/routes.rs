//! Payments over HTTP: the parties and the supervisors read them; the supplier requests;
//! the purchasing unit approves, rejects and records payments.

use axum::extract::{Path, State};
use axum::http::Method;

use super::service;
use super::types::{Ack, Command, PaymentsView};
use crate::auth::policy::MaybeUser;
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::error::{AppResult, Json};
use crate::state::AppState;

pub fn api() -> Api {
    Api::default()
        .route(
            Method::GET,
            "/api/tenders/{id}/payments",
            Access::Public,
            view,
        )
        .route(
            Method::POST,
            "/api/tenders/{id}/payments",
            Access::Roles(&[Role::Purchaser, Role::Supplier]),
            command,
        )
}

async fn view(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
) -> AppResult<Json<PaymentsView>> {
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
