//! The console over HTTP: `GET /api/console` with the filter as query parameters.

use axum::extract::{Query, State};
use axum::http::Method;

use super::service;
use super::types::{ConsoleView, Filter};
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::error::{AppResult, Json};
use crate::state::AppState;

pub fn api() -> Api {
    Api::default()
        .route(
            Method::GET,
            "/api/console",
            Access::Roles(Role::SUPERVISORS),
            view,
        )
        .returns::<ConsoleView>()
}

async fn view(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(filter): Query<Filter>,
) -> AppResult<Json<ConsoleView>> {
    Ok(Json(service::view(&state, &user, filter).await?))
}
