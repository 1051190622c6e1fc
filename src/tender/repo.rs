//! Tender SQL. Writers first call [`lock`], which bumps the row's version: that write
//! takes the row lock (PostgreSQL) inside the caller's transaction, so the ledger append
//! that follows has a single writer per tender. The lock leaves `updated_at` alone: bids
//! lock the tender too, and a time that moved with each of them would tell its members
//! when bids came in. Changes to the tender itself [`touch`] it.

use sqlx::Row;

use super::types::{
    AmendmentView, CustodianView, LotInput, LotView, TenderInput, TenderListItem, TenderStatus,
    TenderView,
};
use crate::db::Tx;
use crate::money::Money;

/// The fields that rules look at, read while holding the row lock.
#[derive(Debug, Clone)]
pub struct TenderHead {
    pub id: String,
    pub status: TenderStatus,
    pub agency_org_id: String,
    pub purchaser_org_id: String,
    pub bid_deadline: i64,
    pub clarify_deadline: i64,
    /// The bid deposit each supplier records before bidding (R-DEP-1), if any.
    pub deposit_fen: Option<Money>,
}

impl TenderHead {
    /// Who has bid, and how many, is secret from all but supervisors until the bid
    /// deadline (GPL art. 22, R-DOC-3): the ledger's bid register, bidders in presence, the
    /// names of bidders among the ledger's actors. The one place that says when it ends.
    pub fn bids_secret(&self, now_ms: i64) -> bool {
        now_ms < self.bid_deadline
    }

    /// Experts' names are secret from all but supervisors until the award (R-EVAL-2).
    pub fn experts_secret(&self) -> bool {
        self.status != TenderStatus::Awarded
    }
}

/// The tender as anyone may know of it once published: a draft, or no such tender, is
/// `NOT_FOUND` alike.
pub async fn published_head<'e, E>(exec: E, id: &str) -> crate::error::AppResult<TenderHead>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    match head(exec, id).await? {
        Some(h) if h.status != TenderStatus::Draft => Ok(h),
        _ => Err(crate::error::AppError::NotFound),
    }
}

/// The columns [`head_from_row`] reads: what [`head`] selects and the locks return.
const HEAD_COLUMNS: &str =
    "id, status, agency_org_id, purchaser_org_id, bid_deadline, clarify_deadline, deposit_fen";

pub async fn lock(tx: &mut Tx, id: &str) -> sqlx::Result<Option<TenderHead>> {
    let row = sqlx::query(&format!(
        "UPDATE tenders SET version = version + 1 WHERE id = $1 RETURNING {HEAD_COLUMNS}"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| head_from_row(&r)).transpose()
}

/// A tender locked by [`lock_many`]: its head, and its row's version before the lock and
/// after it.
pub struct Locked {
    pub head: TenderHead,
    pub before: i64,
    pub after: i64,
}

/// Locks several tenders at once, for the node's score writer: the heads of those that
/// exist. On PostgreSQL the lock is the rows' `UPDATE`, their version one up, as [`lock`]
/// takes it. On SQLite the caller's `BEGIN IMMEDIATE` holds the whole database already
/// (and one node writes to it): the rows are read, not rewritten — a tender's row is
/// large, and rewriting the 200 of a score batch was most of its commit. A later lock
/// whose `before` is this one's `after` knows that no other writer has locked (and so
/// changed) the tender in between, on any node.
pub async fn lock_many(tx: &mut Tx, ids: &[&str]) -> sqlx::Result<Vec<Locked>> {
    let read_only = crate::db::Backend::of(tx) == crate::db::Backend::Sqlite;
    let rows = crate::db::fetch_in(&mut **tx, ids, |list| match read_only {
        true => format!("SELECT {HEAD_COLUMNS}, version FROM tenders WHERE id IN ({list})"),
        false => format!(
            "UPDATE tenders SET version = version + 1 WHERE id IN ({list}) \
             RETURNING {HEAD_COLUMNS}, version"
        ),
    })
    .await?;
    rows.iter()
        .map(|r| {
            let after: i64 = r.try_get("version")?;
            Ok(Locked {
                head: head_from_row(r)?,
                before: if read_only { after } else { after - 1 },
                after,
            })
        })
        .collect()
}

/// The plan the tender was created from, if any.
pub async fn plan_id(tx: &mut Tx, id: &str) -> sqlx::Result<Option<String>> {
    Ok(
        sqlx::query_scalar::<_, Option<String>>("SELECT plan_id FROM tenders WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .flatten(),
    )
}

/// The tender's method and its evaluation terms as stored (JSON), for the method's rules.
pub async fn method_and_terms(
    tx: &mut Tx,
    id: &str,
) -> sqlx::Result<Option<(String, Option<String>)>> {
    let row = sqlx::query("SELECT method, eval_terms FROM tenders WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| Ok((r.try_get("method")?, r.try_get("eval_terms")?)))
        .transpose()
}

/// Records that the tender itself (not its bids) changed at `now`.
pub async fn touch(tx: &mut Tx, id: &str, now: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE tenders SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn head_from_row(r: &sqlx::any::AnyRow) -> sqlx::Result<TenderHead> {
    let status: String = r.try_get("status")?;
    Ok(TenderHead {
        id: r.try_get("id")?,
        status: TenderStatus::parse(&status)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown status {status}").into()))?,
        agency_org_id: r.try_get("agency_org_id")?,
        purchaser_org_id: r.try_get("purchaser_org_id")?,
        bid_deadline: r.try_get("bid_deadline")?,
        clarify_deadline: r.try_get("clarify_deadline")?,
        deposit_fen: r.try_get::<Option<i64>, _>("deposit_fen")?.map(Money),
    })
}

pub async fn head<'e, E>(exec: E, id: &str) -> sqlx::Result<Option<TenderHead>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(&format!("SELECT {HEAD_COLUMNS} FROM tenders WHERE id = $1"))
        .bind(id)
        .fetch_optional(exec)
        .await?
        .as_ref()
        .map(head_from_row)
        .transpose()
}

#[allow(clippy::too_many_arguments)]
pub async fn insert(
    tx: &mut Tx,
    id: &str,
    code: &str,
    agency_org_id: &str,
    created_by: &str,
    t: &TenderInput,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO tenders (id, code, title, region_code, purchaser_org_id, agency_org_id, \
         category, method, status, description, clarify_deadline, bid_deadline, \
         decrypt_window_mins, custodian_threshold, created_by, created_at, updated_at, version, \
         plan_id, deposit_fen, reading_order) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 0, \
         $18, $19, $20)",
    )
    .bind(id)
    .bind(code)
    .bind(t.title.trim())
    .bind(&t.region_code)
    .bind(&t.purchaser_org_id)
    .bind(agency_org_id)
    .bind(t.category.as_str())
    .bind(t.method.as_str())
    .bind(TenderStatus::Draft.as_str())
    .bind(&t.description)
    .bind(t.clarify_deadline)
    .bind(t.bid_deadline)
    .bind(t.decrypt_window_mins)
    .bind(t.custodian_threshold)
    .bind(created_by)
    .bind(now)
    .bind(now)
    .bind(t.plan_id.as_deref())
    .bind(t.deposit_fen.map(Money::fen))
    .bind(t.reading_order.as_str())
    .execute(&mut **tx)
    .await?;
    replace_lots(tx, id, &t.lots).await?;
    set_eval_terms(tx, id, t).await?;
    replace_custodians(tx, id, &t.custodian_ids).await
}

/// Rewrites a draft's editable fields (after [`lock`]).
pub async fn update_draft(tx: &mut Tx, id: &str, t: &TenderInput) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE tenders SET title = $1, region_code = $2, purchaser_org_id = $3, category = $4, \
         method = $5, description = $6, clarify_deadline = $7, bid_deadline = $8, \
         decrypt_window_mins = $9, custodian_threshold = $10, plan_id = $11, deposit_fen = $12, \
         reading_order = $13 WHERE id = $14",
    )
    .bind(t.title.trim())
    .bind(&t.region_code)
    .bind(&t.purchaser_org_id)
    .bind(t.category.as_str())
    .bind(t.method.as_str())
    .bind(&t.description)
    .bind(t.clarify_deadline)
    .bind(t.bid_deadline)
    .bind(t.decrypt_window_mins)
    .bind(t.custodian_threshold)
    .bind(t.plan_id.as_deref())
    .bind(t.deposit_fen.map(Money::fen))
    .bind(t.reading_order.as_str())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    replace_lots(tx, id, &t.lots).await?;
    set_eval_terms(tx, id, t).await?;
    replace_custodians(tx, id, &t.custodian_ids).await
}

async fn set_eval_terms(tx: &mut Tx, id: &str, t: &TenderInput) -> sqlx::Result<()> {
    let terms = t
        .evaluation
        .as_ref()
        .map(|e| serde_json::to_string(e).unwrap_or_default());
    sqlx::query("UPDATE tenders SET eval_terms = $1 WHERE id = $2")
        .bind(terms)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn replace_lots(tx: &mut Tx, id: &str, lots: &[LotInput]) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM tender_lots WHERE tender_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    for (i, lot) in lots.iter().enumerate() {
        sqlx::query(
            "INSERT INTO tender_lots (tender_id, lot_no, name, budget_fen) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(i as i64 + 1)
        .bind(lot.name.trim())
        .bind(lot.budget_fen.fen())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn replace_custodians(tx: &mut Tx, id: &str, users: &[String]) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM tender_custodians WHERE tender_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    for (i, u) in users.iter().enumerate() {
        sqlx::query(
            "INSERT INTO tender_custodians (tender_id, position, user_id) VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(i as i64 + 1)
        .bind(u)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub async fn set_status(
    tx: &mut Tx,
    id: &str,
    status: TenderStatus,
    published_at: Option<i64>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE tenders SET status = $1, published_at = COALESCE($2, published_at) WHERE id = $3",
    )
    .bind(status.as_str())
    .bind(published_at)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Applies an amendment's scalar changes (lots go through [`replace_lots`]).
pub async fn apply_amendment(
    tx: &mut Tx,
    id: &str,
    title: &str,
    description: &str,
    clarify_deadline: i64,
    bid_deadline: i64,
    decrypt_window_mins: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE tenders SET title = $1, description = $2, clarify_deadline = $3, \
         bid_deadline = $4, decrypt_window_mins = $5 WHERE id = $6",
    )
    .bind(title)
    .bind(description)
    .bind(clarify_deadline)
    .bind(bid_deadline)
    .bind(decrypt_window_mins)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn insert_amendment(
    tx: &mut Tx,
    id: &str,
    at: i64,
    actor: &str,
    reason: &str,
    changes: &serde_json::Value,
) -> sqlx::Result<i64> {
    let r = sqlx::query(
        "SELECT COALESCE(MAX(seq), 0) AS n FROM tender_amendments WHERE tender_id = $1",
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    let seq = r.try_get::<i64, _>("n")? + 1;
    sqlx::query(
        "INSERT INTO tender_amendments (tender_id, seq, at, actor, reason, changes) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(seq)
    .bind(at)
    .bind(actor)
    .bind(reason)
    .bind(changes.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(seq)
}

const VIEW_SQL: &str =
    "SELECT t.id, t.code, t.title, t.status, t.region_code, r.name_zh AS region_name, \
     t.purchaser_org_id, p.name AS purchaser_name, t.agency_org_id, a.name AS agency_name, \
     t.category, t.method, t.description, t.clarify_deadline, t.bid_deadline, \
     t.decrypt_window_mins, t.custodian_threshold, t.created_at, t.updated_at, t.published_at, \
     t.plan_id, t.deposit_fen, t.reading_order, \
     (SELECT CAST(COALESCE(SUM(l.budget_fen), 0) AS BIGINT) FROM tender_lots l \
      WHERE l.tender_id = t.id) AS budget_total_fen \
     FROM tenders t JOIN regions r ON r.code = t.region_code \
     JOIN organisations p ON p.id = t.purchaser_org_id \
     JOIN organisations a ON a.id = t.agency_org_id";

fn status_of(r: &sqlx::any::AnyRow) -> sqlx::Result<TenderStatus> {
    let s: String = r.try_get("status")?;
    TenderStatus::parse(&s).ok_or_else(|| sqlx::Error::Decode(format!("unknown status {s}").into()))
}

fn list_item(r: &sqlx::any::AnyRow) -> sqlx::Result<TenderListItem> {
    let status = status_of(r)?;
    Ok(TenderListItem {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        title: r.try_get("title")?,
        status,
        status_name: status.name_zh(),
        region_code: r.try_get("region_code")?,
        region_name: r.try_get("region_name")?,
        purchaser_name: r.try_get("purchaser_name")?,
        agency_name: r.try_get("agency_name")?,
        category: r.try_get("category")?,
        method: r.try_get("method")?,
        budget_total_fen: Money(r.try_get("budget_total_fen")?),
        bid_deadline: r.try_get("bid_deadline")?,
        published_at: r.try_get("published_at")?,
    })
}

pub async fn view(conn: &mut sqlx::AnyConnection, id: &str) -> sqlx::Result<Option<TenderView>> {
    let Some(r) = sqlx::query(&format!("{VIEW_SQL} WHERE t.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let status = status_of(&r)?;
    let lots = sqlx::query(
        "SELECT lot_no, name, budget_fen FROM tender_lots WHERE tender_id = $1 ORDER BY lot_no",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|l| {
        Ok(LotView {
            lot_no: l.try_get("lot_no")?,
            name: l.try_get("name")?,
            budget_fen: Money(l.try_get("budget_fen")?),
        })
    })
    .collect::<sqlx::Result<Vec<_>>>()?;
    let custodians = sqlx::query(
        "SELECT c.position, c.user_id, u.display_name, u.role FROM tender_custodians c \
         JOIN users u ON u.id = c.user_id WHERE c.tender_id = $1 ORDER BY c.position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|c| {
        Ok(CustodianView {
            position: c.try_get("position")?,
            user_id: c.try_get("user_id")?,
            display_name: c.try_get("display_name")?,
            role: c.try_get("role")?,
        })
    })
    .collect::<sqlx::Result<Vec<_>>>()?;
    let amendments = sqlx::query(
        "SELECT seq, at, reason, changes FROM tender_amendments WHERE tender_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|a| {
        let changes: String = a.try_get("changes")?;
        Ok(AmendmentView {
            seq: a.try_get("seq")?,
            at: a.try_get("at")?,
            reason: a.try_get("reason")?,
            changes: serde_json::from_str(&changes).unwrap_or(serde_json::Value::Null),
        })
    })
    .collect::<sqlx::Result<Vec<_>>>()?;
    let evaluation: Option<String> =
        sqlx::query_scalar("SELECT eval_terms FROM tenders WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
    let category: String = r.try_get("category")?;
    let published_at: Option<i64> = r.try_get("published_at")?;
    let created_at: i64 = r.try_get("created_at")?;
    let announced_on = chrono::DateTime::from_timestamp_millis(published_at.unwrap_or(created_at))
        .unwrap_or_default()
        .with_timezone(&crate::clock::cst())
        .date_naive();
    Ok(Some(TenderView {
        evaluation: evaluation.and_then(|e| serde_json::from_str(&e).ok()),
        preferences: super::types::Preference::for_tender(&category, announced_on),
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        title: r.try_get("title")?,
        status,
        status_name: status.name_zh(),
        region_code: r.try_get("region_code")?,
        region_name: r.try_get("region_name")?,
        purchaser_org_id: r.try_get("purchaser_org_id")?,
        purchaser_name: r.try_get("purchaser_name")?,
        agency_org_id: r.try_get("agency_org_id")?,
        agency_name: r.try_get("agency_name")?,
        category: r.try_get("category")?,
        method: r.try_get("method")?,
        description: r.try_get("description")?,
        lots,
        budget_total_fen: Money(r.try_get("budget_total_fen")?),
        deposit_fen: r.try_get::<Option<i64>, _>("deposit_fen")?.map(Money),
        clarify_deadline: r.try_get("clarify_deadline")?,
        bid_deadline: r.try_get("bid_deadline")?,
        decrypt_window_mins: r.try_get("decrypt_window_mins")?,
        reading_order: super::types::ReadingOrder::parse(&r.try_get::<String, _>("reading_order")?)
            .unwrap_or_default(),
        custodian_threshold: r.try_get("custodian_threshold")?,
        custodians,
        amendments,
        plan_id: r.try_get("plan_id")?,
        opening_key: super::opening_key::view(&mut *conn, id).await?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        published_at: r.try_get("published_at")?,
    }))
}

/// Filters for lists; empty strings mean "any".
#[derive(Debug, Default)]
pub struct ListFilter<'a> {
    pub agency_org_id: &'a str,
    pub purchaser_org_id: &'a str,
    pub region_code: &'a str,
    pub category: &'a str,
    pub title_like: &'a str,
    pub public_only: bool,
}

pub async fn list(pool: &sqlx::AnyPool, f: &ListFilter<'_>) -> sqlx::Result<Vec<TenderListItem>> {
    let sql = format!(
        "{VIEW_SQL} WHERE ($1 = '' OR t.agency_org_id = $2) AND ($3 = '' OR t.purchaser_org_id = $4) \
         AND ($5 = '' OR t.region_code = $6) AND ($7 = '' OR t.category = $8) \
         AND ($9 = '' OR t.title LIKE $10) AND ($11 = 0 OR t.status <> 'draft') \
         ORDER BY COALESCE(t.published_at, t.created_at) DESC, t.id LIMIT 500"
    );
    let like = format!("%{}%", f.title_like);
    let rows = sqlx::query(&sql)
        .bind(f.agency_org_id)
        .bind(f.agency_org_id)
        .bind(f.purchaser_org_id)
        .bind(f.purchaser_org_id)
        .bind(f.region_code)
        .bind(f.region_code)
        .bind(f.category)
        .bind(f.category)
        .bind(f.title_like)
        .bind(like)
        .bind(i64::from(f.public_only))
        .fetch_all(pool)
        .await?;
    rows.iter().map(list_item).collect()
}
