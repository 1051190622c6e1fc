//! Opening routes: the state, the commands (the CLI's way; browsers use the hub), the
//! signed record, and a bidder's sealed `kb` header.

use axum::extract::{Path, State};
use axum::http::Method;
use serde_json::Value;

use super::types::{Ack, BidHeader, Command, OpeningView};
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::error::{AppError, AppResult, Json};
use crate::state::AppState;

/// Everyone who can be a member of an opening (experts come in at the evaluation).
const MEMBERS: &[Role] = &[
    Role::Purchaser,
    Role::Agency,
    Role::Supplier,
    Role::Finance,
    Role::Oversight,
    Role::Admin,
];

pub fn api() -> Api {
    Api::default()
        .route(
            Method::GET,
            "/api/tenders/{id}/opening",
            Access::Roles(MEMBERS),
            view,
        )
        .route(
            Method::POST,
            "/api/tenders/{id}/opening",
            Access::Roles(MEMBERS),
            command,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/opening/messages",
            Access::Roles(MEMBERS),
            messages,
        )
        .route(
            Method::GET,
            "/api/bids/{id}/header",
            Access::Roles(&[Role::Supplier]),
            header,
        )
        .route(
            Method::POST,
            "/api/bids/{id}/decryption",
            Access::Roles(&[Role::Supplier]),
            start_decryption,
        )
}

async fn view(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<axum::Json<OpeningView>> {
    Ok(axum::Json(super::view::view(&state, &user, &id).await?))
}

/// The hall's channel as the caller may read it (docs/chat.md).
async fn messages(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Vec<crate::chat::types::MessageView>>> {
    Ok(axum::Json(super::talk::messages(&state, &user, &id).await?))
}

/// Role and membership are checked per command (docs/opening.md).
async fn command(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(cmd): Json<Value>,
) -> AppResult<axum::Json<Ack>> {
    let cmd: Command = crate::error::from_tagged(cmd)?;
    Ok(axum::Json(
        super::service::command(&state, &user, &id, cmd).await?,
    ))
}

/// The header of the caller's own bid: `kb_sealed` opens with the bidder's key only.
/// Reading it changes nothing; `POST …/decryption` is how a bidder starts decrypting.
async fn header(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<axum::Json<BidHeader>> {
    let bid = crate::bid::service::own_bid(&state, &user, &id).await?;
    Ok(axum::Json(header_of(&state, &bid).await?))
}

/// The bidder starts decrypting its bid (R-OPEN-4: the record keeps when): during the
/// decryption window the first call marks the start; the answer is the bid's header, as
/// `GET …/header` gives it.
async fn start_decryption(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<axum::Json<BidHeader>> {
    let bid = crate::bid::service::own_bid(&state, &user, &id).await?;
    let header = header_of(&state, &bid).await?;
    super::service::mark_decrypt_started(&state, &bid.id).await?;
    Ok(axum::Json(header))
}

async fn header_of(state: &AppState, bid: &crate::bid::repo::BidRow) -> AppResult<BidHeader> {
    let hash = bid.ciphertext_sha256.as_deref().ok_or(AppError::NotFound)?;
    let prefix = state
        .blobs
        .get_prefix(hash, crate::crypto::kb1::MAX_PREFIX_LEN)
        .await?
        .ok_or(AppError::NotFound)?;
    let (header, _, _) = crate::crypto::kb1::parse_header(&prefix)?;
    Ok(BidHeader {
        bid_id: bid.id.clone(),
        header,
    })
}
