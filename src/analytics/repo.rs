//! What the figures are made of: per published tender in scope, its lots' budgets, the
//! plan money it committed, the opening's read-out bids per lot, the awards with the
//! winners' sizes, the signed contracts and the payments made.

use std::collections::{BTreeMap, HashMap};

use sqlx::Row;

use crate::calendar::deadlines::DeadlineRule;
use crate::calendar::Deadlines;

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
    /// The deadlines of its stages that have started (docs/alerts.md's rules).
    pub deadlines: Vec<Timed>,
}

/// A deadline: its rule, when it falls due, and when it was met (none: not yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timed {
    pub rule: DeadlineRule,
    pub due_at: i64,
    pub done_at: Option<i64>,
}

/// The deadlines whose instant the stage stored when it started them: the rule, and a
/// query of the tender, the instant and when it was met.
const STORED: [(DeadlineRule, &str); 5] = [
    (
        DeadlineRule::WinnerConfirmation,
        "SELECT e.tender_id, e.confirm_due_at, e.awarded_at FROM evaluations e \
         JOIN tenders t ON t.id = e.tender_id WHERE e.confirm_due_at IS NOT NULL \
         AND e.phase <> 'failed'",
    ),
    (
        DeadlineRule::QuestionReply,
        "SELECT q.tender_id, q.reply_due_at, q.answered_at FROM tender_questions q \
         JOIN tenders t ON t.id = q.tender_id WHERE 1 = 1",
    ),
    (
        DeadlineRule::ChallengeReply,
        "SELECT c.tender_id, c.reply_due_at, c.replied_at FROM challenges c \
         JOIN tenders t ON t.id = c.tender_id WHERE 1 = 1",
    ),
    (
        DeadlineRule::ComplaintExamination,
        "SELECT p.tender_id, p.examine_due_at, COALESCE(p.accepted_at, p.decided_at) \
         FROM complaints p JOIN tenders t ON t.id = p.tender_id \
         WHERE p.examine_due_at IS NOT NULL",
    ),
    (
        DeadlineRule::ComplaintDecision,
        "SELECT p.tender_id, p.decision_due_at, p.decided_at FROM complaints p \
         JOIN tenders t ON t.id = p.tender_id WHERE p.decision_due_at IS NOT NULL",
    ),
];

/// The deadlines the calendar counts from a stored start: the rule, and a query of the
/// tender, the start and when it was met.
const COUNTED: [(DeadlineRule, &str); 4] = [
    (
        DeadlineRule::ResultAnnouncement,
        "SELECT e.tender_id, e.awarded_at, n.published_at FROM evaluations e \
         JOIN tenders t ON t.id = e.tender_id \
         LEFT JOIN result_notices n ON n.tender_id = e.tender_id \
         WHERE e.awarded_at IS NOT NULL",
    ),
    (
        DeadlineRule::ContractSigning,
        "SELECT c.tender_id, c.award_letter_at, c.signed_at FROM contracts c \
         JOIN tenders t ON t.id = c.tender_id WHERE 1 = 1",
    ),
    (
        DeadlineRule::ContractPublication,
        "SELECT c.tender_id, c.signed_at, c.published_at FROM contracts c \
         JOIN tenders t ON t.id = c.tender_id WHERE c.signed_at IS NOT NULL",
    ),
    (
        DeadlineRule::ContractFiling,
        "SELECT c.tender_id, c.signed_at, c.filed_at FROM contracts c \
         JOIN tenders t ON t.id = c.tender_id WHERE c.signed_at IS NOT NULL",
    ),
];

/// R-DEP-1's deadlines: per tender that ended (awarded, failed, cancelled) with deposits,
/// the tender, when it ended (the ledger's last ending event, as the deposits page and
/// the alerts count it) and, once every deposit is refunded, the last refund.
fn deposit_returns_sql() -> String {
    use crate::deposits::service::{ENDED, ENDINGS};
    let quoted = |names: &[&str]| {
        names
            .iter()
            .map(|n| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let endings: Vec<&str> = ENDINGS.iter().map(|k| k.as_str()).collect();
    let ended: Vec<&str> = ENDED.iter().map(|s| s.as_str()).collect();
    format!(
        "SELECT t.id, (SELECT MAX(l.at) FROM ledger_events l \
              WHERE l.tender_id = t.id AND l.kind IN ({})), \
         CASE WHEN EXISTS (SELECT 1 FROM bid_deposits d \
                  WHERE d.tender_id = t.id AND d.refunded_at IS NULL) THEN NULL \
              ELSE (SELECT MAX(d.refunded_at) FROM bid_deposits d WHERE d.tender_id = t.id) END \
         FROM tenders t WHERE t.status IN ({}) \
         AND EXISTS (SELECT 1 FROM bid_deposits d WHERE d.tender_id = t.id)",
        quoted(&endings),
        quoted(&ended)
    )
}

/// The rules whose timeliness the analytics show, in the order of the stages: those of
/// [`STORED`] and [`COUNTED`], R-DEP-1 (deposits returned) and R-PAY-1 (an SME paid under
/// its contract's own term from acceptance).
pub fn timed_rules() -> Vec<DeadlineRule> {
    let mut rules: Vec<DeadlineRule> = STORED
        .iter()
        .chain(&COUNTED)
        .map(|r| r.0)
        .chain([DeadlineRule::DepositReturn, DeadlineRule::SmePayment])
        .collect();
    rules.sort();
    rules
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

/// The condition every query below puts on the tenders `t`: published, in the filter's
/// region and purchasing unit (`$1`–`$4`, see [`scoped`]). The period is applied to the
/// tenders' rows, and the other tables' rows kept only for the tenders kept.
const IN_SCOPE: &str = "t.published_at IS NOT NULL AND t.status <> 'draft' \
     AND ($1 = '' OR t.region_code = $2) AND ($3 = '' OR t.purchaser_org_id = $4)";

/// Rows of `sql` (which selects the tender's id first and joins `tenders t` under
/// [`IN_SCOPE`]) for the tenders in `index`, each with the position of its tender.
async fn rows_of(
    pool: &sqlx::AnyPool,
    f: &Filter,
    index: &HashMap<String, usize>,
    sql: &str,
) -> sqlx::Result<Vec<(usize, sqlx::any::AnyRow)>> {
    let rows = scoped(sqlx::query(sql), f).fetch_all(pool).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id: String = r.try_get(0)?;
        if let Some(&i) = index.get(&id) {
            out.push((i, r));
        }
    }
    Ok(out)
}

/// The published tenders the filter selects, with their facts: one query per table for
/// all of them (not per tender), so the answer's time grows with the rows, not the round
/// trips.
pub async fn tenders(
    pool: &sqlx::AnyPool,
    f: &Filter,
    deadlines: &Deadlines,
) -> sqlx::Result<Vec<TenderFacts>> {
    let rows = scoped(
        sqlx::query(&format!(
            "SELECT t.id, t.region_code, t.status, t.published_at, t.category, t.eval_terms \
             FROM tenders t WHERE {IN_SCOPE} ORDER BY t.published_at, t.id"
        )),
        f,
    )
    .fetch_all(pool)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        if !in_period(r.try_get("published_at")?, f) {
            continue;
        }
        out.push(TenderFacts {
            id: r.try_get("id")?,
            region_code: r.try_get("region_code")?,
            category: r.try_get("category")?,
            reserved_for_sme: r
                .try_get::<Option<String>, _>("eval_terms")?
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .is_some_and(|t| t["reserved_for_sme"] == true),
            status: r.try_get("status")?,
            ..TenderFacts::default()
        });
    }
    let index: HashMap<String, usize> = out
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.clone(), i))
        .collect();

    // The lots and their budgets.
    let mut lots: Vec<Vec<(i64, i64)>> = vec![Vec::new(); out.len()];
    for (i, r) in rows_of(
        pool,
        f,
        &index,
        &format!(
            "SELECT l.tender_id, l.lot_no, l.budget_fen FROM tender_lots l \
             JOIN tenders t ON t.id = l.tender_id WHERE {IN_SCOPE} ORDER BY l.tender_id, l.lot_no"
        ),
    )
    .await?
    {
        lots[i].push((r.try_get(1)?, r.try_get(2)?));
    }
    for (t, lots) in out.iter_mut().zip(&lots) {
        t.budget_fen = lots.iter().map(|l| l.1).sum();
    }

    // Money per tender: committed from plans, contracted (signed), paid.
    for (sql, set) in [
        (
            "SELECT c.tender_id, CAST(SUM(c.amount_fen) AS BIGINT) FROM plan_commitments c \
             JOIN tenders t ON t.id = c.tender_id",
            (|t: &mut TenderFacts, v| t.committed_fen = v) as fn(&mut TenderFacts, i64),
        ),
        (
            "SELECT c.tender_id, CAST(SUM(c.amount_fen) AS BIGINT) FROM contracts c \
             JOIN tenders t ON t.id = c.tender_id AND c.signed_at IS NOT NULL",
            |t, v| t.contracted_fen = v,
        ),
        (
            "SELECT p.tender_id, CAST(SUM(p.amount_fen) AS BIGINT) FROM payment_requests p \
             JOIN tenders t ON t.id = p.tender_id AND p.status = 'paid'",
            |t, v| t.paid_fen = v,
        ),
    ] {
        let sql = format!("{sql} WHERE {IN_SCOPE} GROUP BY 1");
        for (i, r) in rows_of(pool, f, &index, &sql).await? {
            set(&mut out[i], r.try_get(1)?);
        }
    }

    // The openings closed, and each read-out bid: its lot, bidder, the bidder's registered
    // size and its sheet (for a winner's declared status).
    let mut closed = vec![false; out.len()];
    for (i, _) in rows_of(
        pool,
        f,
        &index,
        &format!(
            "SELECT o.tender_id FROM openings o JOIN tenders t ON t.id = o.tender_id \
             WHERE o.phase = 'closed' AND {IN_SCOPE}"
        ),
    )
    .await?
    {
        closed[i] = true;
    }
    let mut sheets: HashMap<(usize, String, i64), Option<String>> = HashMap::new();
    let mut per_lot: HashMap<(usize, i64), i64> = HashMap::new();
    let mut bidders: Vec<BTreeMap<String, Option<String>>> = vec![BTreeMap::new(); out.len()];
    for (i, r) in rows_of(
        pool,
        f,
        &index,
        &format!(
            "SELECT ob.tender_id, ob.lot_no, ob.bidder_org_id, o.enterprise_size, ob.sheet \
             FROM opening_bids ob JOIN tenders t ON t.id = ob.tender_id \
             JOIN organisations o ON o.id = ob.bidder_org_id \
             WHERE ob.result = 'read_out' AND {IN_SCOPE}"
        ),
    )
    .await?
    {
        let lot: i64 = r.try_get(1)?;
        let org: String = r.try_get(2)?;
        *per_lot.entry((i, lot)).or_default() += 1;
        bidders[i].insert(org.clone(), r.try_get(3)?);
        sheets.insert((i, org, lot), r.try_get(4)?);
    }
    for (i, t) in out.iter_mut().enumerate() {
        if closed[i] {
            t.read_out_per_lot = lots[i]
                .iter()
                .map(|(lot, _)| per_lot.get(&(i, *lot)).copied().unwrap_or_default())
                .collect();
        }
        t.bidders = std::mem::take(&mut bidders[i]).into_iter().collect();
    }

    // The awards of the result notices, with the winners' sizes.
    let notices = rows_of(
        pool,
        f,
        &index,
        &format!(
            "SELECT n.tender_id, n.notice FROM result_notices n \
             JOIN tenders t ON t.id = n.tender_id WHERE {IN_SCOPE}"
        ),
    )
    .await?;
    if !notices.is_empty() {
        let sizes: HashMap<String, Option<String>> =
            sqlx::query_as("SELECT id, enterprise_size FROM organisations WHERE kind = 'supplier'")
                .fetch_all(pool)
                .await?
                .into_iter()
                .collect();
        for (i, r) in notices {
            let text: String = r.try_get(1)?;
            let signed: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            for w in crate::award::notice::winners(&signed["document"]) {
                let budget = lots[i].iter().find(|l| l.0 == w.lot_no).map_or(0, |l| l.1);
                let special = sheets
                    .get(&(i, w.org_id.clone(), w.lot_no))
                    .cloned()
                    .flatten()
                    .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
                    .and_then(|s| s["special_status"].as_str().map(str::to_string));
                out[i].awards.push(Award {
                    budget_fen: budget,
                    price_fen: w.price_fen,
                    size: sizes.get(&w.org_id).cloned().flatten(),
                    org_id: w.org_id,
                    special,
                });
            }
        }
    }

    // The panels: seats, and per expert the scores given, those outside the range, and
    // the last one's time.
    let mut seats: Vec<Vec<(String, String, Option<i64>)>> = vec![Vec::new(); out.len()];
    for (i, r) in rows_of(
        pool,
        f,
        &index,
        &format!(
            "SELECT p.tender_id, p.expert_id, p.status, p.responded_at FROM evaluation_panel p \
             JOIN tenders t ON t.id = p.tender_id WHERE {IN_SCOPE}"
        ),
    )
    .await?
    {
        seats[i].push((r.try_get(1)?, r.try_get(2)?, r.try_get(3)?));
    }
    let mut scored: Vec<HashMap<String, (i64, i64, i64)>> = vec![HashMap::new(); out.len()];
    for (i, r) in rows_of(
        pool,
        f,
        &index,
        &format!(
            "SELECT s.tender_id, s.expert_id, COUNT(*), \
             CAST(SUM(CASE WHEN s.outlier_reason IS NULL THEN 0 ELSE 1 END) AS BIGINT), \
             CAST(MAX(s.at) AS BIGINT) FROM evaluation_scores s \
             JOIN tenders t ON t.id = s.tender_id WHERE {IN_SCOPE} GROUP BY 1, 2"
        ),
    )
    .await?
    {
        scored[i].insert(r.try_get(1)?, (r.try_get(2)?, r.try_get(3)?, r.try_get(4)?));
    }
    for (i, t) in out.iter_mut().enumerate() {
        t.experts = experts(&seats[i], &scored[i]);
    }

    // The deductions of the evaluation reports.
    for (i, r) in rows_of(
        pool,
        f,
        &index,
        &format!(
            "SELECT e.tender_id, e.report FROM evaluations e \
             JOIN tenders t ON t.id = e.tender_id WHERE e.report IS NOT NULL AND {IN_SCOPE}"
        ),
    )
    .await?
    {
        out[i].deductions = deductions(r.try_get::<Option<String>, _>(1)?);
    }

    // The deadlines of the stages, stored or counted by the calendar.
    let queries = STORED
        .iter()
        .map(|&(rule, sql)| (rule, sql, false))
        .chain(COUNTED.iter().map(|&(rule, sql)| (rule, sql, true)));
    for (rule, sql, counted) in queries {
        for (i, r) in rows_of(pool, f, &index, &format!("{sql} AND {IN_SCOPE}")).await? {
            let at: i64 = r.try_get(1)?;
            out[i].deadlines.push(Timed {
                rule,
                due_at: if counted { deadlines.due(rule, at) } else { at },
                done_at: r.try_get(2)?,
            });
        }
    }
    let sql = format!("{} AND {IN_SCOPE}", deposit_returns_sql());
    for (i, r) in rows_of(pool, f, &index, &sql).await? {
        // (A tender ended before its ending was an event of the ledger: no start.)
        if let Some(ended) = r.try_get::<Option<i64>, _>(1)? {
            out[i].deadlines.push(Timed {
                rule: DeadlineRule::DepositReturn,
                due_at: deadlines.due(DeadlineRule::DepositReturn, ended),
                done_at: r.try_get(2)?,
            });
        }
    }
    let sql = format!(
        "SELECT c.tender_id, c.id AS contract_id, {} AND {IN_SCOPE}",
        crate::payment::repo::OWED_SQL
    );
    for (i, r) in rows_of(pool, f, &index, &sql).await? {
        let owed: crate::payment::repo::Owed = sqlx::FromRow::from_row(&r)?;
        let document = serde_json::from_str(&owed.document).unwrap_or_default();
        if let Some(due_at) = crate::payment::rules::sme_due(deadlines, &document, owed.accepted_at)
        {
            out[i].deadlines.push(Timed {
                rule: DeadlineRule::SmePayment,
                due_at,
                done_at: owed.settled_at(),
            });
        }
    }
    Ok(out)
}

/// A tender's panel from its seats (expert, status, when answered) and per expert its
/// scores (given, outside the range, the last one's time).
fn experts(
    seats: &[(String, String, Option<i64>)],
    scored: &HashMap<String, (i64, i64, i64)>,
) -> ExpertFacts {
    let mut minutes_to_score = Vec::new();
    for (expert, status, responded_at) in seats {
        if let (true, Some(accepted), Some((_, _, last))) =
            (status == "accepted", responded_at, scored.get(expert))
        {
            minutes_to_score.push((last - accepted).max(0) / 60_000);
        }
    }
    ExpertFacts {
        invitations: seats.len() as i64,
        declines: seats.iter().filter(|s| s.1 == "declined").count() as i64,
        scores: scored.values().map(|s| s.0).sum(),
        outlier_scores: scored.values().map(|s| s.1).sum(),
        minutes_to_score,
    }
}

/// The deductions of an evaluation report: each evaluated bid's price's.
fn deductions(report: Option<String>) -> Vec<(String, i64)> {
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
    out
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
