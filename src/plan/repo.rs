//! The plan stage's SQL: budget lines, plans, their commitments to tenders, intentions.

use super::types::{
    BudgetLineInput, BudgetLineView, ExecutionRow, IntentionView, PlanInput, PlanView,
};
use crate::db::Tx;

/// A budget line as the rules need it.
#[derive(Debug, sqlx::FromRow)]
pub struct LineRow {
    pub id: String,
    pub code: String,
    pub org_id: String,
    pub year: i64,
    pub category: String,
    pub amount_fen: i64,
}

/// A plan as the rules need it.
#[derive(Debug, sqlx::FromRow)]
pub struct PlanRow {
    pub id: String,
    pub org_id: String,
    pub category: String,
    pub method: String,
    pub amount_fen: i64,
    pub imported: i64,
    pub intention_exception: Option<String>,
    pub status: String,
    pub intention_published_at: Option<i64>,
}

pub const FILED: &str = "filed";
pub const CANCELLED: &str = "cancelled";

/// Locks a budget line (a write to it) so that plans drawn from it are checked one at a time.
pub async fn lock_line(tx: &mut Tx, id: &str) -> sqlx::Result<Option<LineRow>> {
    sqlx::query_as(
        "UPDATE budget_lines SET amount_fen = amount_fen WHERE id = $1 \
         RETURNING id, code, org_id, year, category, amount_fen",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

pub async fn line_code_taken(
    tx: &mut Tx,
    org_id: &str,
    year: i32,
    code: &str,
) -> sqlx::Result<bool> {
    Ok(sqlx::query_scalar::<_, String>(
        "SELECT id FROM budget_lines WHERE org_id = $1 AND year = $2 AND code = $3",
    )
    .bind(org_id)
    .bind(i64::from(year))
    .bind(code)
    .fetch_optional(&mut **tx)
    .await?
    .is_some())
}

pub async fn insert_line(
    tx: &mut Tx,
    id: &str,
    l: &BudgetLineInput,
    by: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO budget_lines (id, org_id, year, code, title, category, funding_source, \
         amount_fen, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(&l.org_id)
    .bind(i64::from(l.year))
    .bind(l.code.trim())
    .bind(l.title.trim())
    .bind(l.category.as_str())
    .bind(l.funding_source.as_str())
    .bind(l.amount_fen)
    .bind(by)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The amounts of the live plans on a line, but `except` (a plan being changed).
pub async fn planned_on_line(tx: &mut Tx, line_id: &str, except: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM procurement_plans \
         WHERE budget_line_id = $1 AND status <> 'cancelled' AND id <> $2",
    )
    .bind(line_id)
    .bind(except)
    .fetch_one(&mut **tx)
    .await
}

#[derive(sqlx::FromRow)]
struct LineStored {
    id: String,
    org_id: String,
    org_name: String,
    region_code: String,
    year: i64,
    code: String,
    title: String,
    category: String,
    funding_source: String,
    amount_fen: i64,
    planned_fen: i64,
    created_at: i64,
}

impl From<LineStored> for BudgetLineView {
    fn from(r: LineStored) -> Self {
        BudgetLineView {
            left_fen: r.amount_fen - r.planned_fen,
            id: r.id,
            org_id: r.org_id,
            org_name: r.org_name,
            region_code: r.region_code,
            year: r.year as i32,
            code: r.code,
            title: r.title,
            category: r.category,
            funding_source: r.funding_source,
            amount_fen: r.amount_fen,
            planned_fen: r.planned_fen,
            created_at: r.created_at,
        }
    }
}

const LINE_VIEW_SQL: &str =
    "SELECT b.id, b.org_id, o.name AS org_name, o.region_code, b.year, b.code, b.title, \
     b.category, b.funding_source, b.amount_fen, b.created_at, \
     (SELECT CAST(COALESCE(SUM(p.amount_fen), 0) AS BIGINT) FROM procurement_plans p \
      WHERE p.budget_line_id = b.id AND p.status <> 'cancelled') AS planned_fen \
     FROM budget_lines b JOIN organisations o ON o.id = b.org_id";

/// Budget lines of one unit (or all, `org_id` empty) for one year (or all, `year` 0).
pub async fn lines<'e, E>(exec: E, org_id: &str, year: i32) -> sqlx::Result<Vec<BudgetLineView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows: Vec<LineStored> = sqlx::query_as(&format!(
        "{LINE_VIEW_SQL} WHERE ($1 = '' OR b.org_id = $2) AND ($3 = 0 OR b.year = $4) \
             ORDER BY b.year DESC, o.name, b.code LIMIT 1000"
    ))
    .bind(org_id)
    .bind(org_id)
    .bind(i64::from(year))
    .bind(i64::from(year))
    .fetch_all(exec)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn line<'e, E>(exec: E, id: &str) -> sqlx::Result<Option<BudgetLineView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row: Option<LineStored> = sqlx::query_as(&format!("{LINE_VIEW_SQL} WHERE b.id = $1"))
        .bind(id)
        .fetch_optional(exec)
        .await?;
    Ok(row.map(Into::into))
}

pub async fn insert_plan(
    tx: &mut Tx,
    id: &str,
    code: &str,
    line: &LineRow,
    p: &PlanInput,
    by: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO procurement_plans (id, code, budget_line_id, org_id, title, method, \
         amount_fen, imported, expected_month, intention_exception, exception_reason, status, \
         created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(id)
    .bind(code)
    .bind(&line.id)
    .bind(&line.org_id)
    .bind(p.title.trim())
    .bind(p.method.as_str())
    .bind(p.amount_fen)
    .bind(i64::from(p.imported))
    .bind(p.expected_month.trim())
    .bind(p.intention_exception.map(|e| e.as_str()))
    .bind(p.exception_reason.trim())
    .bind(FILED)
    .bind(by)
    .bind(now)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

const PLAN_ROW_SQL: &str =
    "p.id, p.org_id, b.category, p.method, p.amount_fen, p.imported, p.intention_exception, \
     p.status, i.published_at AS intention_published_at \
     FROM procurement_plans p JOIN budget_lines b ON b.id = p.budget_line_id \
     LEFT JOIN procurement_intentions i ON i.plan_id = p.id";

/// Locks a plan (a write to it) and reads it, so that what tenders draw from it is checked
/// one at a time.
pub async fn lock_plan(tx: &mut Tx, id: &str, now: i64) -> sqlx::Result<Option<PlanRow>> {
    let touched = sqlx::query("UPDATE procurement_plans SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if touched == 0 {
        return Ok(None);
    }
    sqlx::query_as(&format!("SELECT {PLAN_ROW_SQL} WHERE p.id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

pub async fn set_status(tx: &mut Tx, id: &str, status: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE procurement_plans SET status = $1 WHERE id = $2")
        .bind(status)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// What the tenders but `except` have drawn from a plan.
pub async fn committed(tx: &mut Tx, plan_id: &str, except_tender: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM plan_commitments \
         WHERE plan_id = $1 AND tender_id <> $2",
    )
    .bind(plan_id)
    .bind(except_tender)
    .fetch_one(&mut **tx)
    .await
}

/// Records what `tender_id` draws from `plan_id` (0 releases it).
pub async fn set_commitment(
    tx: &mut Tx,
    plan_id: &str,
    tender_id: &str,
    amount_fen: i64,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM plan_commitments WHERE plan_id = $1 AND tender_id = $2")
        .bind(plan_id)
        .bind(tender_id)
        .execute(&mut **tx)
        .await?;
    if amount_fen > 0 {
        sqlx::query(
            "INSERT INTO plan_commitments (plan_id, tender_id, amount_fen) VALUES ($1, $2, $3)",
        )
        .bind(plan_id)
        .bind(tender_id)
        .bind(amount_fen)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub async fn tender_count(tx: &mut Tx, plan_id: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM plan_commitments WHERE plan_id = $1")
        .bind(plan_id)
        .fetch_one(&mut **tx)
        .await
}

#[derive(sqlx::FromRow)]
struct PlanStored {
    id: String,
    code: String,
    budget_line_id: String,
    budget_line_code: String,
    org_id: String,
    org_name: String,
    region_code: String,
    year: i64,
    title: String,
    category: String,
    method: String,
    amount_fen: i64,
    imported: i64,
    expected_month: String,
    intention_exception: Option<String>,
    exception_reason: String,
    status: String,
    committed_fen: i64,
    created_at: i64,
    intention_id: Option<String>,
    intention_description: Option<String>,
    intention_published_at: Option<i64>,
}

const PLAN_VIEW_SQL: &str =
    "SELECT p.id, p.code, p.budget_line_id, b.code AS budget_line_code, p.org_id, \
     o.name AS org_name, o.region_code, b.year, p.title, b.category, p.method, p.amount_fen, \
     p.imported, p.expected_month, p.intention_exception, p.exception_reason, p.status, \
     p.created_at, i.id AS intention_id, i.description AS intention_description, \
     i.published_at AS intention_published_at, \
     (SELECT CAST(COALESCE(SUM(c.amount_fen), 0) AS BIGINT) FROM plan_commitments c \
      WHERE c.plan_id = p.id) AS committed_fen \
     FROM procurement_plans p JOIN budget_lines b ON b.id = p.budget_line_id \
     JOIN organisations o ON o.id = p.org_id \
     LEFT JOIN procurement_intentions i ON i.plan_id = p.id";

impl From<PlanStored> for PlanView {
    fn from(r: PlanStored) -> Self {
        let intention = match (r.intention_id, r.intention_published_at) {
            (Some(id), Some(published_at)) => Some(IntentionView {
                id,
                plan_id: r.id.clone(),
                org_name: r.org_name.clone(),
                region_code: r.region_code.clone(),
                title: r.title.clone(),
                description: r.intention_description.unwrap_or_default(),
                category: r.category.clone(),
                budget_fen: r.amount_fen,
                expected_month: r.expected_month.clone(),
                published_at,
                announcements: Vec::new(),
            }),
            _ => None,
        };
        PlanView {
            left_fen: r.amount_fen - r.committed_fen,
            id: r.id,
            code: r.code,
            budget_line_id: r.budget_line_id,
            budget_line_code: r.budget_line_code,
            org_id: r.org_id,
            org_name: r.org_name,
            region_code: r.region_code,
            year: r.year as i32,
            title: r.title,
            category: r.category,
            method: r.method,
            amount_fen: r.amount_fen,
            imported: r.imported != 0,
            expected_month: r.expected_month,
            intention_exception: r.intention_exception,
            exception_reason: r.exception_reason,
            status: r.status,
            committed_fen: r.committed_fen,
            intention,
            publishable_from: None,
            created_at: r.created_at,
        }
    }
}

pub async fn plan<'e, E>(exec: E, id: &str) -> sqlx::Result<Option<PlanView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    plan_where(exec, "p.id", id).await
}

/// The plan whose intention is `intention_id`.
pub async fn plan_of_intention<'e, E>(exec: E, intention_id: &str) -> sqlx::Result<Option<PlanView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    plan_where(exec, "i.id", intention_id).await
}

async fn plan_where<'e, E>(exec: E, column: &str, id: &str) -> sqlx::Result<Option<PlanView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row: Option<PlanStored> = sqlx::query_as(&format!("{PLAN_VIEW_SQL} WHERE {column} = $1"))
        .bind(id)
        .fetch_optional(exec)
        .await?;
    Ok(row.map(Into::into))
}

/// Plans of one unit (or all, `org_id` empty), newest first.
pub async fn plans<'e, E>(exec: E, org_id: &str) -> sqlx::Result<Vec<PlanView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows: Vec<PlanStored> = sqlx::query_as(&format!(
        "{PLAN_VIEW_SQL} WHERE ($1 = '' OR p.org_id = $2) ORDER BY p.created_at DESC, p.id \
         LIMIT 1000"
    ))
    .bind(org_id)
    .bind(org_id)
    .fetch_all(exec)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn insert_intention(
    tx: &mut Tx,
    id: &str,
    plan_id: &str,
    description: &str,
    by: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO procurement_intentions (id, plan_id, description, published_by, \
         published_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(plan_id)
    .bind(description)
    .bind(by)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Published intentions, newest first, whose title or description contains `q` (empty:
/// all), of one region (empty: all).
pub async fn intentions(
    pool: &sqlx::AnyPool,
    q: &str,
    region: &str,
) -> sqlx::Result<Vec<IntentionView>> {
    let like = format!("%{q}%");
    let rows: Vec<PlanStored> = sqlx::query_as(&format!(
        "{PLAN_VIEW_SQL} WHERE i.id IS NOT NULL AND p.status <> 'cancelled' \
         AND ($1 = '' OR p.title LIKE $2 OR i.description LIKE $3) \
         AND ($4 = '' OR o.region_code = $5) \
         ORDER BY i.published_at DESC, p.id LIMIT 200"
    ))
    .bind(q)
    .bind(&like)
    .bind(&like)
    .bind(region)
    .bind(region)
    .fetch_all(pool)
    .await?;
    let mut out: Vec<IntentionView> = rows
        .into_iter()
        .filter_map(|r| PlanView::from(r).intention)
        .collect();
    if out.is_empty() {
        return Ok(out);
    }
    // The published tenders of those plans, in one query.
    let marks: Vec<String> = (1..=out.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT plan_id, id, code, title FROM tenders \
         WHERE published_at IS NOT NULL AND plan_id IN ({}) ORDER BY published_at, id",
        marks.join(", ")
    );
    let mut query = sqlx::query_as::<_, super::types::IntentionAnnouncement>(&sql);
    for i in &out {
        query = query.bind(i.plan_id.clone());
    }
    let announcements = query.fetch_all(pool).await?;
    for i in &mut out {
        i.announcements = announcements
            .iter()
            .filter(|a| a.plan_id == i.plan_id)
            .cloned()
            .collect();
    }
    Ok(out)
}

/// Budget execution for a year, grouped by `unit`, `region` or `category`: each group's
/// budget, what plans drew from it and what tenders drew from those plans.
pub async fn execution<'e, E>(exec: E, year: i32, group: Group) -> sqlx::Result<Vec<ExecutionRow>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let (key, name, join) = match group {
        Group::Unit => ("o.id", "o.name", ""),
        Group::Region => (
            "r.code",
            "r.name_zh",
            "JOIN regions r ON r.code = o.region_code",
        ),
        Group::Category => ("x.category", "x.category", ""),
    };
    sqlx::query_as(&format!(
        "SELECT {key} AS key, {name} AS name, \
         CAST(SUM(x.amount_fen) AS BIGINT) AS budget_fen, \
         CAST(SUM(x.planned_fen) AS BIGINT) AS planned_fen, \
         CAST(SUM(x.committed_fen) AS BIGINT) AS committed_fen \
         FROM (SELECT b.org_id, b.category, b.amount_fen, \
           (SELECT COALESCE(SUM(p.amount_fen), 0) FROM procurement_plans p \
            WHERE p.budget_line_id = b.id AND p.status <> 'cancelled') AS planned_fen, \
           (SELECT COALESCE(SUM(c.amount_fen), 0) FROM plan_commitments c \
            JOIN procurement_plans p ON p.id = c.plan_id WHERE p.budget_line_id = b.id) \
            AS committed_fen \
           FROM budget_lines b WHERE b.year = $1) x \
         JOIN organisations o ON o.id = x.org_id {join} \
         GROUP BY {key}, {name} ORDER BY {key}"
    ))
    .bind(i64::from(year))
    .fetch_all(exec)
    .await
}

/// How budget execution is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    Unit,
    Region,
    Category,
}

/// A filed plan's published intention, for the alerts (R-PLAN-1: from when its tender may
/// be published).
#[derive(Debug, sqlx::FromRow)]
pub struct PublishedIntention {
    pub plan_id: String,
    pub title: String,
    pub org_id: String,
    pub published_at: i64,
}

/// Intentions published from `from` to `to` of filed plans that record no exception, the
/// latest first, at most `limit`.
pub async fn intentions_published_between<'e, E>(
    exec: E,
    from: i64,
    to: i64,
    limit: i64,
) -> sqlx::Result<Vec<PublishedIntention>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(
        "SELECT p.id AS plan_id, p.title, p.org_id, i.published_at \
         FROM procurement_intentions i JOIN procurement_plans p ON p.id = i.plan_id \
         WHERE i.published_at >= $1 AND i.published_at <= $2 AND p.status = $3 \
         AND p.intention_exception IS NULL ORDER BY i.published_at DESC, p.id LIMIT $4",
    )
    .bind(from)
    .bind(to)
    .bind(FILED)
    .bind(limit)
    .fetch_all(exec)
    .await
}
