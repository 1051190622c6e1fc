//! Obtaining the documents and their questions and answers over HTTP.

use axum::extract::{Path, State};
use axum::http::Method;

use super::service;
use super::types::{AnswerInput, HolderView, ObtainedView, QuestionInput, QuestionView};
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::error::{AppResult, Json};
use crate::state::AppState;
use crate::tender::template::TenderDocument;

pub fn api() -> Api {
    const SUPPLIER: &[Role] = &[Role::Supplier];
    const AGENCY: &[Role] = &[Role::Agency];
    const MEMBERS: &[Role] = &[
        Role::Agency,
        Role::Purchaser,
        Role::Finance,
        Role::Oversight,
        Role::Admin,
    ];
    const READERS: &[Role] = &[
        Role::Supplier,
        Role::Agency,
        Role::Purchaser,
        Role::Finance,
        Role::Oversight,
        Role::Admin,
    ];
    Api::default()
        .route(
            Method::POST,
            "/api/tenders/{id}/documents/obtain",
            Access::Roles(SUPPLIER),
            obtain,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/documents",
            Access::Roles(READERS),
            document,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/documents/mine",
            Access::Roles(SUPPLIER),
            mine,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/documents/holders",
            Access::Roles(MEMBERS),
            holders,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/questions",
            Access::Roles(READERS),
            questions,
        )
        .route(
            Method::POST,
            "/api/tenders/{id}/questions",
            Access::Roles(SUPPLIER),
            ask,
        )
        .route(
            Method::POST,
            "/api/tenders/{id}/questions/{qid}/answer",
            Access::Roles(AGENCY),
            answer,
        )
}

async fn obtain(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<ObtainedView>> {
    Ok(Json(service::obtain(&state, &user, &id).await?))
}

async fn document(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<TenderDocument>> {
    Ok(Json(service::document(&state, &user, &id).await?))
}

async fn mine(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<ObtainedView>> {
    Ok(Json(service::mine(&state, &user, &id).await?))
}

async fn holders(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<HolderView>>> {
    Ok(Json(service::holders(&state, &user, &id).await?))
}

async fn questions(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<QuestionView>>> {
    Ok(Json(service::questions(&state, &user, &id).await?))
}

async fn ask(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<QuestionInput>,
) -> AppResult<Json<QuestionView>> {
    Ok(Json(service::ask(&state, &user, &id, req).await?))
}

async fn answer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, qid)): Path<(String, String)>,
    Json(req): Json<AnswerInput>,
) -> AppResult<Json<QuestionView>> {
    Ok(Json(service::answer(&state, &user, &id, &qid, req).await?))
}
