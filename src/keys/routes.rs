//! Keys and certificates: registration, listing, revocation, and the public CA material.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};

use super::service;
use crate::auth::{Access, Api, CurrentUser};
use crate::error::{AppResult, Json};
use crate::pki::repo;
use crate::pki::types::{KeyView, PlatformCerts, RegisterKeyRequest, RevokeKeyRequest, RevokedKey};
use crate::state::AppState;

pub fn api() -> Api {
    Api::default()
        .route(
            Method::GET,
            "/api/pki/certificates",
            Access::Public,
            platform,
        )
        .route(Method::GET, "/api/pki/revoked", Access::Public, revoked)
        .route(Method::GET, "/api/keys", Access::AnyUser, mine)
        .route(Method::POST, "/api/keys", Access::AnyUser, register)
        .route(
            Method::POST,
            "/api/keys/{id}/revoke",
            Access::AnyUser,
            revoke,
        )
}

async fn platform(State(state): State<AppState>) -> Json<PlatformCerts> {
    Json(PlatformCerts {
        ca_pem: state.pki.ca_pem.clone(),
        signer_pem: state.pki.signer_pem.clone(),
        signer_public_key: crate::crypto::b64url::encode(&state.pki.signer_public),
    })
}

async fn revoked(State(state): State<AppState>) -> AppResult<Json<Vec<RevokedKey>>> {
    Ok(Json(repo::revoked(&state.db.pool).await?))
}

async fn mine(State(state): State<AppState>, user: CurrentUser) -> AppResult<Json<Vec<KeyView>>> {
    Ok(Json(repo::for_user(&state.db.pool, &user.id).await?))
}

async fn register(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(req): Json<RegisterKeyRequest>,
) -> AppResult<(StatusCode, Json<KeyView>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::register(&state, &user, req).await?),
    ))
}

async fn revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<RevokeKeyRequest>,
) -> AppResult<Json<KeyView>> {
    Ok(Json(
        service::revoke(&state, &user, &id, &req.reason).await?,
    ))
}
