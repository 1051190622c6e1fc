//! Challenges and complaints over HTTP: the decisions are public; bidders challenge and
//! complain, the tender's agency and purchaser answer, finance handles complaints.

use axum::extract::{Path, State};
use axum::http::Method;

use super::service;
use super::types::{Ack, ChallengesView, Command};
use crate::auth::policy::MaybeUser;
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::error::{AppResult, Json};
use crate::state::AppState;

pub fn api() -> Api {
    const WRITERS: &[Role] = &[Role::Supplier, Role::Agency, Role::Purchaser, Role::Finance];
    Api::default()
        .route(
            Method::GET,
            "/api/tenders/{id}/challenges",
            Access::Public,
            view,
        )
        .route(
            Method::POST,
            "/api/tenders/{id}/challenges",
            Access::Roles(WRITERS),
            command,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/challenges/{item}/evidence/{seq}",
            Access::AnyUser,
            evidence,
        )
}

/// An evidence file of a challenge or complaint, to whoever reads its grounds.
async fn evidence(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, item, seq)): Path<(String, String, i64)>,
) -> AppResult<axum::response::Response> {
    let (a, bytes) = service::evidence(&state, &user, &id, &item, seq).await?;
    Ok(crate::download::document(
        &a.name,
        &a.media_type,
        bytes.len() as u64,
        axum::body::Body::from(bytes),
    ))
}

async fn view(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
) -> AppResult<Json<ChallengesView>> {
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
