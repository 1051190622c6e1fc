//! Acceptance over HTTP: the parties, the supervisors and the panel read it; the
//! purchasing unit records and signs, and each member of the panel (an expert, the
//! agency's staff) signs; the supplier answers a failed round.

use axum::extract::{Path, State};
use axum::http::Method;

use super::service;
use super::types::{AcceptanceOverview, Ack, Command};
use crate::auth::policy::MaybeUser;
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::error::{AppResult, Json};
use crate::state::AppState;

pub fn api() -> Api {
    Api::default()
        .route(
            Method::GET,
            "/api/tenders/{id}/acceptance",
            Access::Public,
            view,
        )
        .route(
            Method::POST,
            "/api/tenders/{id}/acceptance",
            Access::Roles(&[Role::Purchaser, Role::Supplier, Role::Expert, Role::Agency]),
            command,
        )
        .route(
            Method::GET,
            "/api/acceptances/{id}/evidence/{seq}",
            Access::Roles(&[
                Role::Purchaser,
                Role::Supplier,
                Role::Expert,
                Role::Agency,
                Role::Finance,
                Role::Oversight,
                Role::Admin,
            ]),
            evidence,
        )
}

async fn view(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
) -> AppResult<Json<AcceptanceOverview>> {
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

async fn evidence(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, seq)): Path<(String, i64)>,
) -> AppResult<axum::response::Response> {
    let (a, bytes) = service::evidence(&state, &user, &id, seq).await?;
    Ok(crate::download::document(
        &a.name,
        &a.media_type,
        bytes.len() as u64,
        axum::body::Body::from(bytes),
    ))
}
