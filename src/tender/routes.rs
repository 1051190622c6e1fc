//! Tender routes: the agency's workbench and the public announcements.

use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use serde::Deserialize;

use super::methods::MethodRules;
use super::opening_key::{self, MyShare};
use super::service;
use super::types::{
    AmendmentRequest, AnnouncementView, CancelRequest, TenderInput, TenderListItem, TenderView,
};
use crate::auth::policy::MaybeUser;
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::error::{AppResult, Json};
use crate::ledger::Ledger;
use crate::state::AppState;

pub fn api() -> Api {
    const AGENCY: &[Role] = &[Role::Agency];
    const CUSTODIANS: &[Role] = &[Role::Agency, Role::Purchaser, Role::Finance];
    const READERS: &[Role] = &[
        Role::Agency,
        Role::Purchaser,
        Role::Finance,
        Role::Oversight,
        Role::Admin,
    ];
    Api::default()
        .route(
            Method::GET,
            "/api/announcements",
            Access::Public,
            announcements,
        )
        .route(
            Method::GET,
            "/api/announcements/{id}",
            Access::Public,
            announcement,
        )
        .route(Method::GET, "/api/methods", Access::Public, methods)
        .route(Method::GET, "/api/tenders", Access::Roles(READERS), list)
        .route(Method::POST, "/api/tenders", Access::Roles(AGENCY), create)
        .route(
            Method::GET,
            "/api/tenders/{id}",
            Access::Roles(READERS),
            get,
        )
        .route(
            Method::PUT,
            "/api/tenders/{id}",
            Access::Roles(AGENCY),
            update,
        )
        .route(
            Method::POST,
            "/api/tenders/{id}/publish",
            Access::Roles(AGENCY),
            publish,
        )
        .route(
            Method::POST,
            "/api/tenders/{id}/amendments",
            Access::Roles(AGENCY),
            amend,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/time-limits",
            Access::Roles(READERS),
            time_limits,
        )
        .route(
            Method::POST,
            "/api/tenders/{id}/cancel",
            Access::Roles(AGENCY),
            cancel,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/ledger",
            Access::Public,
            ledger,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/my-share",
            Access::Roles(CUSTODIANS),
            my_share,
        )
}

#[derive(Deserialize)]
struct AnnouncementQuery {
    #[serde(default)]
    region: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    q: String,
}

async fn announcements(
    State(state): State<AppState>,
    Query(q): Query<AnnouncementQuery>,
) -> AppResult<Json<Vec<TenderListItem>>> {
    Ok(Json(
        service::announcements(&state, &q.region, &q.category, q.q.trim()).await?,
    ))
}

async fn announcement(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<AnnouncementView>> {
    Ok(Json(service::announcement(&state, &id).await?))
}

/// `GET /api/methods`: the procurement methods' rules in force (docs/methods.md).
#[derive(serde::Serialize)]
struct MethodsView {
    /// The configured open-tendering threshold: a panel's `large_from`
    /// `"open_tendering_threshold"` is this budget.
    open_tendering_threshold_fen: i64,
    #[serde(flatten)]
    table: MethodRules,
}

async fn methods(State(state): State<AppState>) -> Json<MethodsView> {
    Json(MethodsView {
        open_tendering_threshold_fen: state.config.open_tendering_threshold_fen,
        table: state.runtime::<MethodRules>().clone(),
    })
}

async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<Vec<TenderListItem>>> {
    Ok(Json(service::list_for(&state, &user).await?))
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(t): Json<TenderInput>,
) -> AppResult<(StatusCode, Json<TenderView>)> {
    let view = service::create(&state, &user, t).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<TenderView>> {
    Ok(Json(service::get(&state, &user, &id).await?))
}

async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(t): Json<TenderInput>,
) -> AppResult<Json<TenderView>> {
    Ok(Json(service::update(&state, &user, &id, t).await?))
}

async fn publish(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<TenderView>> {
    Ok(Json(service::publish(&state, &user, &id).await?))
}

async fn time_limits(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<super::rules::TimeLimitsView>> {
    Ok(Json(service::time_limits(&state, &user, &id).await?))
}

async fn amend(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<AmendmentRequest>,
) -> AppResult<Json<TenderView>> {
    Ok(Json(service::amend(&state, &user, &id, req).await?))
}

async fn cancel(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<CancelRequest>,
) -> AppResult<Json<TenderView>> {
    Ok(Json(service::cancel(&state, &user, &id, req).await?))
}

async fn ledger(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
) -> AppResult<Json<Ledger>> {
    Ok(Json(service::ledger(&state, user.as_ref(), &id).await?))
}

async fn my_share(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<MyShare>> {
    Ok(Json(opening_key::my_share(&state, &user.id, &id).await?))
}
