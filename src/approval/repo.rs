//! The approval stage's SQL.

use super::types::{ApprovalView, AttachmentView, ObjectionView};
use crate::db::Tx;

/// An approval row as the rules need it.
#[derive(Debug, sqlx::FromRow)]
pub struct ApprovalRow {
    pub id: String,
    pub plan_id: String,
    pub kind: String,
    pub method: String,
    pub status: String,
    pub publicity_ends_at: Option<i64>,
}

pub const PENDING: &str = "pending";
pub const APPROVED: &str = "approved";
pub const REFUSED: &str = "refused";

pub struct NewApproval<'a> {
    pub id: &'a str,
    pub plan_id: &'a str,
    pub kind: &'a str,
    pub method: &'a str,
    pub reasons: &'a str,
    pub sole_supplier: Option<(&'a str, &'a str)>,
    pub by: &'a str,
    pub at: i64,
    pub publicity_ends_at: Option<i64>,
}

pub async fn insert(tx: &mut Tx, a: &NewApproval<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO approvals (id, plan_id, kind, method, reasons, sole_supplier_name, \
         sole_supplier_code, status, requested_by, requested_at, publicity_ends_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(a.id)
    .bind(a.plan_id)
    .bind(a.kind)
    .bind(a.method)
    .bind(a.reasons)
    .bind(a.sole_supplier.map(|s| s.0))
    .bind(a.sole_supplier.map(|s| s.1))
    .bind(PENDING)
    .bind(a.by)
    .bind(a.at)
    .bind(a.publicity_ends_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn insert_attachment(
    tx: &mut Tx,
    approval_id: &str,
    seq: i64,
    a: &AttachmentView,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO approval_attachments (approval_id, seq, name, media_type, size, sha256) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(approval_id)
    .bind(seq)
    .bind(&a.name)
    .bind(&a.media_type)
    .bind(a.size)
    .bind(&a.sha256)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The plan's requests of `kind` that are pending or approved.
pub async fn live_of_kind(
    tx: &mut Tx,
    plan_id: &str,
    kind: &str,
) -> sqlx::Result<Vec<ApprovalRow>> {
    sqlx::query_as(
        "SELECT id, plan_id, kind, method, status, publicity_ends_at FROM approvals \
         WHERE plan_id = $1 AND kind = $2 AND status <> 'refused' ORDER BY requested_at",
    )
    .bind(plan_id)
    .bind(kind)
    .fetch_all(&mut **tx)
    .await
}

/// Locks an approval (a write to it) and reads it.
pub async fn lock(tx: &mut Tx, id: &str) -> sqlx::Result<Option<ApprovalRow>> {
    sqlx::query_as(
        "UPDATE approvals SET status = status WHERE id = $1 \
         RETURNING id, plan_id, kind, method, status, publicity_ends_at",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

pub async fn decide(
    tx: &mut Tx,
    id: &str,
    status: &str,
    by: &str,
    at: i64,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE approvals SET status = $1, decided_by = $2, decided_at = $3, \
         decision_reason = $4 WHERE id = $5",
    )
    .bind(status)
    .bind(by)
    .bind(at)
    .bind(reason)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn insert_objection(
    tx: &mut Tx,
    id: &str,
    approval_id: &str,
    supplier_org_id: &str,
    text: &str,
    at: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO approval_objections (id, approval_id, supplier_org_id, text, at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(approval_id)
    .bind(supplier_org_id)
    .bind(text)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn objections_by(tx: &mut Tx, approval_id: &str, org_id: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM approval_objections WHERE approval_id = $1 AND supplier_org_id = $2",
    )
    .bind(approval_id)
    .bind(org_id)
    .fetch_one(&mut **tx)
    .await
}

#[derive(sqlx::FromRow)]
struct Stored {
    id: String,
    plan_id: String,
    plan_code: String,
    plan_title: String,
    org_id: String,
    org_name: String,
    region_code: String,
    amount_fen: i64,
    kind: String,
    method: String,
    reasons: String,
    sole_supplier_name: Option<String>,
    sole_supplier_code: Option<String>,
    status: String,
    requested_at: i64,
    publicity_ends_at: Option<i64>,
    decided_at: Option<i64>,
    decision_reason: Option<String>,
}

const VIEW_SQL: &str =
    "SELECT a.id, a.plan_id, p.code AS plan_code, p.title AS plan_title, p.org_id, \
     o.name AS org_name, o.region_code, p.amount_fen, a.kind, a.method, a.reasons, \
     a.sole_supplier_name, a.sole_supplier_code, a.status, a.requested_at, \
     a.publicity_ends_at, a.decided_at, a.decision_reason \
     FROM approvals a JOIN procurement_plans p ON p.id = a.plan_id \
     JOIN organisations o ON o.id = p.org_id";

/// Filters of [`list`]; empty strings mean any.
#[derive(Debug, Default)]
pub struct Filter<'a> {
    pub org_id: &'a str,
    pub plan_id: &'a str,
    /// Single-source requests only (the public list of their publicity).
    pub single_source_only: bool,
}

/// Approvals with their unit, newest first (without attachments and objections), and the
/// unit each belongs to.
pub async fn list<'e, E>(exec: E, f: &Filter<'_>) -> sqlx::Result<Vec<(String, ApprovalView)>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows: Vec<Stored> = sqlx::query_as(&format!(
        "{VIEW_SQL} WHERE ($1 = '' OR p.org_id = $2) AND ($3 = '' OR a.plan_id = $4) \
         AND ($5 = 0 OR (a.kind = 'method' AND a.method = 'single_source')) \
         ORDER BY a.requested_at DESC, a.id LIMIT 500"
    ))
    .bind(f.org_id)
    .bind(f.org_id)
    .bind(f.plan_id)
    .bind(f.plan_id)
    .bind(i64::from(f.single_source_only))
    .fetch_all(exec)
    .await?;
    Ok(rows.into_iter().map(view_of).collect())
}

pub async fn one<'e, E>(exec: E, id: &str) -> sqlx::Result<Option<(String, ApprovalView)>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row: Option<Stored> = sqlx::query_as(&format!("{VIEW_SQL} WHERE a.id = $1"))
        .bind(id)
        .fetch_optional(exec)
        .await?;
    Ok(row.map(view_of))
}

fn view_of(r: Stored) -> (String, ApprovalView) {
    (
        r.org_id,
        ApprovalView {
            id: r.id,
            plan_id: r.plan_id,
            plan_code: r.plan_code,
            plan_title: r.plan_title,
            org_name: r.org_name,
            region_code: r.region_code,
            amount_fen: r.amount_fen,
            kind: r.kind,
            method: r.method,
            reasons: r.reasons,
            sole_supplier_name: r.sole_supplier_name,
            sole_supplier_code: r.sole_supplier_code,
            status: r.status,
            requested_at: r.requested_at,
            publicity_ends_at: r.publicity_ends_at,
            decided_at: r.decided_at,
            decision_reason: r.decision_reason,
            attachments: Vec::new(),
            objections: Vec::new(),
        },
    )
}

#[derive(sqlx::FromRow)]
struct AttachmentStored {
    seq: i64,
    name: String,
    media_type: String,
    size: i64,
    sha256: String,
}

pub async fn attachments<'e, E>(exec: E, approval_id: &str) -> sqlx::Result<Vec<AttachmentView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows: Vec<AttachmentStored> = sqlx::query_as(
        "SELECT seq, name, media_type, size, sha256 FROM approval_attachments \
         WHERE approval_id = $1 ORDER BY seq",
    )
    .bind(approval_id)
    .fetch_all(exec)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| AttachmentView {
            seq: r.seq,
            name: r.name,
            media_type: r.media_type,
            size: r.size,
            sha256: r.sha256,
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct ObjectionStored {
    id: String,
    supplier_name: String,
    text: String,
    at: i64,
}

pub async fn objections<'e, E>(exec: E, approval_id: &str) -> sqlx::Result<Vec<ObjectionView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows: Vec<ObjectionStored> = sqlx::query_as(
        "SELECT j.id, o.name AS supplier_name, j.text, j.at FROM approval_objections j \
         JOIN organisations o ON o.id = j.supplier_org_id WHERE j.approval_id = $1 \
         ORDER BY j.at, j.id",
    )
    .bind(approval_id)
    .fetch_all(exec)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ObjectionView {
            id: r.id,
            supplier_name: Some(r.supplier_name),
            text: r.text,
            at: r.at,
        })
        .collect())
}

/// The approved kinds of a plan.
pub async fn approved_kinds(tx: &mut Tx, plan_id: &str) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT kind FROM approvals WHERE plan_id = $1 AND status = 'approved'")
        .bind(plan_id)
        .fetch_all(&mut **tx)
        .await
}

/// A single-source request still pending whose publicity ends by a time (finance decides
/// after it), for the alerts.
#[derive(Debug, sqlx::FromRow)]
pub struct PublicisedPending {
    pub id: String,
    pub plan_title: String,
    pub publicity_ends_at: i64,
}

/// Pending requests whose publicity ends at or before `until`, the latest first, at most
/// `limit`.
pub async fn publicised_pending<'e, E>(
    exec: E,
    until: i64,
    limit: i64,
) -> sqlx::Result<Vec<PublicisedPending>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(
        "SELECT a.id, p.title AS plan_title, a.publicity_ends_at FROM approvals a \
         JOIN procurement_plans p ON p.id = a.plan_id \
         WHERE a.status = $1 AND a.publicity_ends_at IS NOT NULL AND a.publicity_ends_at <= $2 \
         ORDER BY a.publicity_ends_at DESC, a.id LIMIT $3",
    )
    .bind(PENDING)
    .bind(until)
    .bind(limit)
    .fetch_all(exec)
    .await
}
