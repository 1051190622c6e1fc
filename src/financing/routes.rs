//! Financing over HTTP: the supplier applies, the bank decides and reads its cases, the
//! contract's parties and the supervisors read the tender's applications.

use axum::extract::{Path, State};
use axum::http::Method;

use super::service;
use super::types::{Ack, Bank, BankCase, Command, TenderFinancing};
use crate::auth::policy::MaybeUser;
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::error::{AppResult, Json};
use crate::state::AppState;

pub fn api() -> Api {
    const BANK: &[Role] = &[Role::Bank];
    Api::default()
        .route(
            Method::GET,
            "/api/tenders/{id}/financing",
            Access::Public,
            tender_view,
        )
        .route(
            Method::POST,
            "/api/tenders/{id}/financing",
            Access::Roles(&[Role::Supplier, Role::Bank]),
            command,
        )
        .route(Method::GET, "/api/financing", Access::Roles(BANK), cases)
        .route(Method::GET, "/api/financing/{id}", Access::Roles(BANK), one)
        .route(Method::GET, "/api/banks", Access::AnyUser, banks)
}

async fn tender_view(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
) -> AppResult<Json<TenderFinancing>> {
    Ok(Json(
        service::tender_view(&state, user.as_ref(), &id).await?,
    ))
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

async fn cases(State(state): State<AppState>, user: CurrentUser) -> AppResult<Json<Vec<BankCase>>> {
    Ok(Json(service::cases(&state, &user).await?))
}

async fn one(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<BankCase>> {
    Ok(Json(service::one_case(&state, &user, &id).await?))
}

async fn banks(State(state): State<AppState>, _user: CurrentUser) -> AppResult<Json<Vec<Bank>>> {
    Ok(Json(service::banks(&state).await?))
}
