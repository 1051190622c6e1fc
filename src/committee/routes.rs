//! Evaluation routes: the per-member view, the commands (browsers use the hub; bidders
//! answer clarifications here), others' scores once one's own are in, a bidder's
//! clarifications, the signed report, and the signed opening record (its readers include
//! the panel).

use axum::extract::{Path, Query, State};
use axum::http::Method;
use serde::Deserialize;
use serde_json::Value;

use super::report::ReportBundle;
use super::types::{Ack, BidScores, Command, EvaluationView, OwnClarifications};
use crate::auth::{Access, Api, CurrentUser, Role};
use crate::error::{AppResult, Json};
use crate::state::AppState;

/// Members of an evaluation (experts are checked against the panel per request).
const MEMBERS: &[Role] = &[
    Role::Purchaser,
    Role::Agency,
    Role::Expert,
    Role::Finance,
    Role::Oversight,
    Role::Admin,
];

/// Commands: members, and suppliers for their answers to clarifications.
const COMMANDERS: &[Role] = &[
    Role::Purchaser,
    Role::Agency,
    Role::Expert,
    Role::Supplier,
    Role::Finance,
    Role::Oversight,
    Role::Admin,
];

pub fn api() -> Api {
    Api::default()
        .route(
            Method::GET,
            "/api/tenders/{id}/evaluation",
            Access::Roles(MEMBERS),
            view,
        )
        .route(
            Method::POST,
            "/api/tenders/{id}/evaluation",
            Access::Roles(COMMANDERS),
            command,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/evaluation/messages",
            Access::Roles(MEMBERS),
            messages,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/evaluation/scores",
            Access::Roles(MEMBERS),
            scores,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/evaluation/report",
            Access::Roles(COMMANDERS),
            report,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/evaluation/documents/{sha256}",
            Access::Roles(MEMBERS),
            document,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/evaluation/documents/{sha256}/outline",
            Access::Roles(MEMBERS),
            outline,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/evaluation/documents/{sha256}/pages/{page}",
            Access::Roles(MEMBERS),
            page,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/evaluation/documents/{sha256}/search",
            Access::Roles(MEMBERS),
            search,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/evaluation/document-reads",
            Access::Roles(&[Role::Finance, Role::Oversight, Role::Admin]),
            document_reads,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/clarifications",
            Access::Roles(&[Role::Supplier]),
            clarifications,
        )
        .route(
            Method::GET,
            "/api/tenders/{id}/opening/record",
            // The opening's members, and the experts who evaluate the tender.
            Access::Roles(COMMANDERS),
            opening_record,
        )
}

/// The signed opening record. Served here, not by the opening's routes, because its
/// readers include this stage's seated experts (who read what was opened and read out),
/// and an earlier stage knows nothing of a later one.
async fn opening_record(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<axum::Json<crate::opening::record::RecordBundle>> {
    if user.role == Role::Expert {
        let m = super::access::member(&state, &user, &id).await?;
        if m.expert().is_none() {
            return Err(super::types::EvalRoomError::NotOnPanel.into());
        }
    } else {
        crate::opening::access::member(&state, &user, &id).await?;
    }
    Ok(axum::Json(
        crate::opening::record::bundle(&state, &user, &id).await?,
    ))
}

/// The panel's channel (docs/chat.md).
async fn messages(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Vec<crate::chat::types::MessageView>>> {
    Ok(axum::Json(
        super::service::messages(&state, &user, &id).await?,
    ))
}

async fn view(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<axum::Json<EvaluationView>> {
    Ok(axum::Json(super::view::view(&state, &user, &id).await?))
}

/// Role and membership are checked per command (docs/evaluation.md).
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

#[derive(Deserialize)]
struct BidQuery {
    bid_id: Option<String>,
}

async fn scores(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<BidQuery>,
) -> AppResult<axum::Json<BidScores>> {
    Ok(axum::Json(
        super::view::bid_scores(&state, &user, &id, q.bid_id.as_deref()).await?,
    ))
}

async fn report(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<axum::Json<ReportBundle>> {
    Ok(axum::Json(super::report::bundle(&state, &user, &id).await?))
}

async fn document(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, sha256)): Path<(String, String)>,
) -> AppResult<axum::response::Response> {
    let (name, media_type, size, parts) =
        super::view::document(&state, &user, &id, &sha256).await?;
    Ok(crate::download::document(
        &name,
        &media_type,
        size,
        axum::body::Body::from_stream(parts),
    ))
}

/// Opens a document in the room's reader (the opening is kept).
async fn outline(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, sha256)): Path<(String, String)>,
) -> AppResult<axum::Json<super::reader::Outline>> {
    Ok(axum::Json(
        super::reader::outline(&state, &user, &id, &sha256).await?,
    ))
}

/// One page, as an image (or text) shown in the page: never the file itself.
async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, sha256, page)): Path<(String, String, String)>,
) -> AppResult<axum::response::Response> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let (content_type, bytes) = super::reader::page(&state, &user, &id, &sha256, &page).await?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, "inline"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CONTENT_SECURITY_POLICY, "sandbox"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

async fn search(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, sha256)): Path<(String, String)>,
    Query(q): Query<SearchQuery>,
) -> AppResult<axum::Json<Vec<super::reader::Hit>>> {
    Ok(axum::Json(
        super::reader::search(&state, &user, &id, &sha256, &q.q).await?,
    ))
}

/// Who opened which document in the reader (supervisors).
async fn document_reads(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Vec<super::reader::ReadView>>> {
    Ok(axum::Json(super::reader::reads(&state, &user, &id).await?))
}

async fn clarifications(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<axum::Json<OwnClarifications>> {
    Ok(axum::Json(
        super::view::own_clarifications(&state, &user, &id).await?,
    ))
}
