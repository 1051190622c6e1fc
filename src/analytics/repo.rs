//! What the figures are made of: per published tender in scope, its lots' budgets, the
//! plan money it committed, the opening's read-out bids per lot, the awards with the
//! winners' sizes, the signed contracts and the payments made.

use sqlx::Row;

/// Which tenders count: by region, purchasing unit and day of publication (CST,
/// `YYYY-MM-DD`, both ends included).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub region: Option<String>,
    pub purchaser: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// One tender's facts.
#[derive(Debug, Clone, Default)]
pub struct TenderFacts {
    pub id: String,
    pub region_code: String,
    /// goods, services or works.
    pub category: String,
    /// Whether the tender is reserved for SMEs (R-POL-1), as its evaluation terms say.
    pub reserved_for_sme: bool,
    pub status: String,
    pub budget_fen: i64,
    pub committed_fen: i64,
    /// Per opened lot, the bids read out (none: not opened).
    pub read_out_per_lot: Vec<i64>,
    pub awards: Vec<Award>,
    pub contracted_fen: i64,
    pub paid_fen: i64,
    /// The read-out bidders: organisation id and registered size.
    pub bidders: Vec<(String, Option<String>)>,
    pub experts: ExpertFacts,
    /// The price deductions the evaluation report applied (R-POL-2, R-POL-5): kind and
    /// amount.
    pub deductions: Vec<(String, i64)>,
}

/// An awarded lot.
#[derive(Debug, Clone, Default)]
pub struct Award {
    /// The lot's budget and the winning price.
    pub budget_fen: i64,
    pub price_fen: i64,
    pub org_id: String,
    /// The winner's registered size.
    pub size: Option<String>,
    /// The winner's declared status in its read-out sheet: `prison` or
    /// `disability_welfare` (R-POL-3).
    pub special: Option<String>,
}

/// The evaluation panel of a tender.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpertFacts {
    pub invitations: i64,
    pub declines: i64,
    /// Scores given, and those outside the panel's range that needed a reason (R-EVAL-5).
    pub scores: i64,
    pub outlier_scores: i64,
    /// Per seated expert who scored: minutes from accepting to the last score given.
    pub minutes_to_score: Vec<i64>,
}

fn in_period(published_at: i64, f: &Filter) -> bool {
    crate::calendar::day_within(
        published_at,
        f.from.as_deref().unwrap_or_default(),
        f.to.as_deref().unwrap_or_default(),
    )
}

/// Binds the filter's region and purchasing unit to `$1`–`$4` (each twice: empty means
/// any).
fn scoped<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    f: &Filter,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let region = f.region.clone().unwrap_or_default();
    let purchaser = f.purchaser.clone().unwrap_or_default();
    q.bind(region.clone())
        .bind(region)
        .bind(purchaser.clone())
        .bind(purchaser)
}

async fn sum(pool: &sqlx::AnyPool, sql: &str, id: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(sql).bind(id).fetch_one(pool).await
}

/// The published tenders the filter selects, with their facts.
pub async fn tenders(pool: &sqlx::AnyPool, f: &Filter) -> sqlx::Result<Vec<TenderFacts>> {
    let rows = scoped(
        sqlx::query(
            "SELECT id, region_code, purchaser_org_id, status, published_at, category, eval_terms \
             FROM tenders \
             WHERE published_at IS NOT NULL AND status <> 'draft' \
             AND ($1 = '' OR region_code = $2) AND ($3 = '' OR purchaser_org_id = $4) \
             ORDER BY published_at, id",
        ),
        f,
    )
    .fetch_all(pool)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let published_at: i64 = r.try_get("published_at")?;
        if !in_period(published_at, f) {
            continue;
        }
        let id: String = r.try_get("id")?;
        let lots: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT lot_no, budget_fen FROM tender_lots WHERE tender_id = $1 ORDER BY lot_no",
        )
        .bind(&id)
        .fetch_all(pool)
        .await?;
        let opened: Option<String> = sqlx::query_scalar(
            "SELECT phase FROM openings WHERE tender_id = $1 AND phase = 'closed'",
        )
        .bind(&id)
        .fetch_optional(pool)
        .await?;
        let mut read_out_per_lot = Vec::new();
        if opened.is_some() {
            for (lot_no, _) in &lots {
                read_out_per_lot.push(
                    sqlx::query_scalar::<_, i64>(
                        "SELECT COUNT(*) FROM opening_bids WHERE tender_id = $1 AND lot_no = $2 \
                         AND result = 'read_out'",
                    )
                    .bind(&id)
                    .bind(lot_no)
                    .fetch_one(pool)
                    .await?,
                );
            }
        }
        let mut awards = Vec::new();
        let notice: Option<String> =
            sqlx::query_scalar("SELECT notice FROM result_notices WHERE tender_id = $1")
                .bind(&id)
                .fetch_optional(pool)
                .await?;
        if let Some(text) = notice {
            let signed: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            for w in crate::award::notice::winners(&signed["document"]) {
                let budget = lots.iter().find(|l| l.0 == w.lot_no).map_or(0, |l| l.1);
                let size: Option<String> =
                    sqlx::query_scalar("SELECT enterprise_size FROM organisations WHERE id = $1")
                        .bind(&w.org_id)
                        .fetch_one(pool)
                        .await?;
                let sheet: Option<String> = sqlx::query_scalar(
                    "SELECT sheet FROM opening_bids WHERE tender_id = $1 AND bidder_org_id = $2 \
                     AND lot_no = $3 AND result = 'read_out'",
                )
                .bind(&id)
                .bind(&w.org_id)
                .bind(w.lot_no)
                .fetch_optional(pool)
                .await?
                .flatten();
                let special = sheet
                    .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
                    .and_then(|s| s["special_status"].as_str().map(str::to_string));
                awards.push(Award {
                    budget_fen: budget,
                    price_fen: w.price_fen,
                    org_id: w.org_id.clone(),
                    size,
                    special,
                });
            }
        }
        out.push(TenderFacts {
            region_code: r.try_get("region_code")?,
            category: r.try_get("category")?,
            reserved_for_sme: r
                .try_get::<Option<String>, _>("eval_terms")?
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .is_some_and(|t| t["reserved_for_sme"] == true),
            status: r.try_get("status")?,
            budget_fen: lots.iter().map(|l| l.1).sum(),
            committed_fen: sum(
                pool,
                "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM plan_commitments \
                 WHERE tender_id = $1",
                &id,
            )
            .await?,
            read_out_per_lot,
            awards,
            contracted_fen: sum(
                pool,
                "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM contracts \
                 WHERE tender_id = $1 AND signed_at IS NOT NULL",
                &id,
            )
            .await?,
            paid_fen: sum(
                pool,
                "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM payment_requests \
                 WHERE tender_id = $1 AND status = 'paid'",
                &id,
            )
            .await?,
            bidders: sqlx::query_as(
                "SELECT DISTINCT ob.bidder_org_id, o.enterprise_size FROM opening_bids ob \
                 JOIN organisations o ON o.id = ob.bidder_org_id \
                 WHERE ob.tender_id = $1 AND ob.result = 'read_out'",
            )
            .bind(&id)
            .fetch_all(pool)
            .await?,
            experts: experts(pool, &id).await?,
            deductions: deductions(pool, &id).await?,
            id,
        });
    }
    Ok(out)
}

/// A tender's panel: invitations, declines, scores, outliers, minutes to score.
async fn experts(pool: &sqlx::AnyPool, id: &str) -> sqlx::Result<ExpertFacts> {
    let seats: Vec<(String, String, Option<i64>)> = sqlx::query_as(
        "SELECT expert_id, status, responded_at FROM evaluation_panel WHERE tender_id = $1",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let scores: Vec<(String, Option<String>, i64)> = sqlx::query_as(
        "SELECT expert_id, outlier_reason, at FROM evaluation_scores WHERE tender_id = $1",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let mut minutes_to_score = Vec::new();
    for (expert, status, responded_at) in &seats {
        let last = scores.iter().filter(|s| &s.0 == expert).map(|s| s.2).max();
        if let (true, Some(accepted), Some(last)) = (status == "accepted", responded_at, last) {
            minutes_to_score.push((last - accepted).max(0) / 60_000);
        }
    }
    Ok(ExpertFacts {
        invitations: seats.len() as i64,
        declines: seats.iter().filter(|s| s.1 == "declined").count() as i64,
        scores: scores.len() as i64,
        outlier_scores: scores.iter().filter(|s| s.1.is_some()).count() as i64,
        minutes_to_score,
    })
}

/// The deductions of the tender's evaluation report: each evaluated bid's price's.
async fn deductions(pool: &sqlx::AnyPool, id: &str) -> sqlx::Result<Vec<(String, i64)>> {
    let report: Option<String> =
        sqlx::query_scalar("SELECT report FROM evaluations WHERE tender_id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
            .flatten();
    let report: serde_json::Value = report
        .and_then(|r| serde_json::from_str(&r).ok())
        .unwrap_or_default();
    let mut out = Vec::new();
    for lot in report["lots"].as_array().into_iter().flatten() {
        for bid in lot["result"]["bids"].as_array().into_iter().flatten() {
            for d in bid["price"]["deductions"].as_array().into_iter().flatten() {
                out.push((
                    d["kind"].as_str().unwrap_or_default().to_string(),
                    d["amount_fen"].as_i64().unwrap_or_default(),
                ));
            }
        }
    }
    Ok(out)
}

/// The procurement plans in scope: by the planning unit's region and id, and the month
/// they expect to buy in within the period. Their total is the money planned.
pub async fn planned_fen(pool: &sqlx::AnyPool, f: &Filter) -> sqlx::Result<i64> {
    let rows = scoped(
        sqlx::query(
            "SELECT p.amount_fen, p.expected_month FROM procurement_plans p \
             JOIN organisations o ON o.id = p.org_id \
             WHERE ($1 = '' OR o.region_code = $2) AND ($3 = '' OR p.org_id = $4)",
        ),
        f,
    )
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get::<i64, _>("amount_fen")?,
            r.try_get::<String, _>("expected_month")?,
        ))
    })
    .collect::<sqlx::Result<Vec<_>>>()?;
    let month = |d: &Option<String>| d.as_deref().map(|d| d.get(..7).unwrap_or(d).to_string());
    let (from, to) = (month(&f.from), month(&f.to));
    Ok(rows
        .into_iter()
        .filter(|(_, m)| {
            from.as_deref().is_none_or(|from| m.as_str() >= from)
                && to.as_deref().is_none_or(|to| m.as_str() <= to)
        })
        .map(|(fen, _)| fen)
        .sum())
}

/// The regions, in their order: code and Chinese and English names.
pub async fn regions(pool: &sqlx::AnyPool) -> sqlx::Result<Vec<(String, String, String)>> {
    sqlx::query_as("SELECT code, name_zh, name_en FROM regions ORDER BY sort")
        .fetch_all(pool)
        .await
}
