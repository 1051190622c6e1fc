//! Login, logout, bearer tokens, the current user, and the audit log.

use axum::extract::State;
use axum::http::Method;
use axum::response::IntoResponse;
use axum_extra::extract::cookie::{Cookie, SameSite};
use axum_extra::extract::CookieJar;

use super::policy::{Access, Api, SESSION_COOKIE};
use super::repo;
use super::service;
use super::types::{ClientInfo, CurrentUser, LoginRequest, Role, SessionView, TokenRequest};
use crate::error::{AppError, AppResult, Json};
use crate::state::AppState;

pub fn api() -> Api {
    const AUDITORS: &[Role] = Role::SUPERVISORS;
    Api::default()
        .route(Method::POST, "/api/auth/login", Access::Public, login)
        .route(Method::POST, "/api/auth/logout", Access::AnyUser, logout)
        .route(Method::POST, "/api/auth/tokens", Access::Public, token)
        .route(
            Method::POST,
            "/api/auth/challenge",
            Access::Public,
            challenge,
        )
        .route(Method::GET, "/api/me", Access::AnyUser, me)
        .route(Method::GET, "/api/audit", Access::Roles(AUDITORS), audit)
}

async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    jar: CookieJar,
    Json(req): Json<LoginRequest>,
) -> AppResult<impl IntoResponse> {
    let (token, view) = service::login(
        &state,
        &req.username,
        &req.password,
        req.key_proof.as_ref(),
        &client,
    )
    .await?;
    let cookie = Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.tls.is_some())
        .max_age(time_from_mins(state.config.session_ttl_mins))
        .build();
    Ok((jar.add(cookie), Json(view)))
}

#[derive(serde::Deserialize)]
struct ChallengeRequest {
    username: String,
}

/// A challenge to sign with the device key (see `KeyProof`); the same answer whether or
/// not the user exists.
async fn challenge(
    State(state): State<AppState>,
    Json(req): Json<ChallengeRequest>,
) -> AppResult<Json<serde_json::Value>> {
    service::check_credentials(&req.username, "")?;
    let now = state.clock.now_ms();
    Ok(Json(serde_json::json!({
        "challenge": service::login_challenge(&req.username, now),
        "expires_at": now + service::CHALLENGE_TTL_MS,
        "sign": service::login_proof_message(&req.username, "<challenge>"),
    })))
}

fn time_from_mins(m: i64) -> cookie::time::Duration {
    cookie::time::Duration::minutes(m)
}

async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    jar: CookieJar,
) -> AppResult<impl IntoResponse> {
    service::logout(&state, &user, &client).await?;
    Ok((
        jar.remove(Cookie::build(SESSION_COOKIE).path("/")),
        Json(serde_json::json!({"ok": true})),
    ))
}

async fn token(
    State(state): State<AppState>,
    client: ClientInfo,
    Json(req): Json<TokenRequest>,
) -> AppResult<impl IntoResponse> {
    let t = service::issue_token(
        &state,
        &req.username,
        &req.password,
        req.label.as_deref(),
        req.key_proof.as_ref(),
        &client,
    )
    .await?;
    Ok(Json(t))
}

async fn me(State(state): State<AppState>, user: CurrentUser) -> AppResult<Json<SessionView>> {
    let view = repo::user_view(&state.db.pool, &user.id)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    Ok(Json(SessionView {
        user: view,
        csrf_token: user.csrf_token,
        expires_at: user.expires_at,
    }))
}

async fn audit(State(state): State<AppState>) -> AppResult<Json<Vec<repo::AuditEntry>>> {
    Ok(Json(repo::audit_list(&state.db.pool, 500).await?))
}
