//! Regions, organisations, users and the expert pool.

use axum::extract::{Query, State};
use axum::http::Method;
use serde::Deserialize;

use super::types::{
    CreateOrgRequest, CreateUserRequest, ExpertView, OrgView, RegionView, UserListItem,
};
use super::{repo, service};
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::error::{AppResult, Json};
use crate::state::AppState;

pub fn api() -> Api {
    const ADMIN: &[Role] = &[Role::Admin];
    const USER_READERS: &[Role] = &[Role::Admin, Role::Agency, Role::Finance, Role::Oversight];
    const POOL_READERS: &[Role] = Role::SUPERVISORS;
    Api::default()
        .route(Method::GET, "/api/regions", Access::Public, regions)
        .route(
            Method::GET,
            "/api/organisations",
            Access::AnyUser,
            list_orgs,
        )
        .route(
            Method::POST,
            "/api/organisations",
            Access::Roles(ADMIN),
            create_org,
        )
        .route(
            Method::GET,
            "/api/users",
            Access::Roles(USER_READERS),
            list_users,
        )
        .route(
            Method::POST,
            "/api/users",
            Access::Roles(ADMIN),
            create_user,
        )
        .route(
            Method::GET,
            "/api/experts",
            Access::Roles(POOL_READERS),
            experts,
        )
}

async fn regions(State(state): State<AppState>) -> AppResult<Json<Vec<RegionView>>> {
    Ok(Json(repo::regions(&state.db.pool).await?))
}

#[derive(Deserialize)]
struct OrgQuery {
    kind: Option<String>,
}

async fn list_orgs(
    State(state): State<AppState>,
    Query(q): Query<OrgQuery>,
) -> AppResult<Json<Vec<OrgView>>> {
    Ok(Json(repo::orgs(&state.db.pool, q.kind.as_deref()).await?))
}

async fn create_org(
    State(state): State<AppState>,
    Json(req): Json<CreateOrgRequest>,
) -> AppResult<(axum::http::StatusCode, Json<OrgView>)> {
    let org = service::create_org(&state, req).await?;
    Ok((axum::http::StatusCode::CREATED, Json(org)))
}

#[derive(Deserialize)]
struct UserQuery {
    role: Option<String>,
    org: Option<String>,
}

async fn list_users(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<UserQuery>,
) -> AppResult<Json<Vec<UserListItem>>> {
    let users = repo::users(&state.db.pool, q.role.as_deref(), q.org.as_deref()).await?;
    Ok(Json(service::visible_users(&user, users)))
}

async fn create_user(
    State(state): State<AppState>,
    Json(req): Json<CreateUserRequest>,
) -> AppResult<(axum::http::StatusCode, Json<UserListItem>)> {
    let user = service::create_user(&state, req).await?;
    Ok((axum::http::StatusCode::CREATED, Json(user)))
}

async fn experts(State(state): State<AppState>) -> AppResult<Json<Vec<ExpertView>>> {
    Ok(Json(repo::experts(&state.db.pool).await?))
}
