//! The evaluation's rows: reading and writing the tables of migration 0007. The bids it
//! works on are the opening's (`opening::repo::read_out_bids`).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use sqlx::Row;

use super::access::Seat;
use super::types::{EvaluationTerms, Phase};
use crate::db::Tx;
use crate::draw::{self, DrawRecord, Requirement};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The evaluation row.
#[derive(Debug, Clone)]
pub(crate) struct EvalRow {
    pub phase: Phase,
    pub requirement: Requirement,
    pub draw: Option<DrawRecord>,
    pub prices: Option<Value>,
    pub report: Option<Value>,
    pub report_sha256: Option<String>,
    pub failed_reason: Option<String>,
    pub reported_at: Option<i64>,
    pub confirm_due_at: Option<i64>,
    pub awarded_at: Option<i64>,
    /// The key of this evaluation's pseudonyms (hex), see `pseudonyms`.
    pub pseudonym_key: Option<String>,
    /// What a negotiation fixed, when one did ([`final_offers`]).
    pub final_offers: Option<FinalOffers>,
}

impl EvalRow {
    /// How the ledger names a seated expert of this evaluation ([`expert_pseudonym`]).
    pub fn pseudonym(&self, expert_id: &str) -> String {
        crate::evaluation::pseudonyms::Pseudonyms::from_stored(self.pseudonym_key.as_deref())
            .expert(expert_id)
    }
}

pub(crate) fn json_col<T: serde::de::DeserializeOwned>(s: Option<String>) -> AppResult<Option<T>> {
    s.map(|s| serde_json::from_str(&s).map_err(|e| AppError::Internal(e.into())))
        .transpose()
}

const EVAL_COLUMNS: &str = "tender_id, phase, requirement, draw, prices, report, \
    report_sha256, failed_reason, reported_at, confirm_due_at, awarded_at, pseudonym_key, \
    final_offers";
/// [`EVAL_COLUMNS`] but `draw` and `report`.
const SCORING_COLUMNS: &str = "tender_id, phase, requirement, prices, report_sha256, \
    failed_reason, reported_at, confirm_due_at, awarded_at, pseudonym_key, final_offers";

pub(crate) async fn eval_row<'e, E>(exec: E, tender_id: &str) -> AppResult<Option<EvalRow>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(&format!(
        "SELECT {EVAL_COLUMNS} FROM evaluations WHERE tender_id = $1"
    ))
    .bind(tender_id)
    .fetch_optional(exec)
    .await?
    .map(|r| eval_from_row(&r))
    .transpose()
}

/// The evaluation rows of several tenders as scoring needs them, by tender id, in one read:
/// without the draw record and the report (`draw` and `report` are `None`), the two large
/// columns scores are not checked against.
pub(crate) async fn scoring_rows<'e, E>(
    exec: E,
    tender_ids: &[&str],
) -> AppResult<HashMap<String, EvalRow>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    crate::db::fetch_in(exec, tender_ids, |list| {
        format!(
            "SELECT {SCORING_COLUMNS}, NULL AS draw, NULL AS report FROM evaluations \
             WHERE tender_id IN ({list})"
        )
    })
    .await?
    .iter()
    .map(|r| Ok((r.try_get("tender_id")?, eval_from_row(r)?)))
    .collect()
}

fn eval_from_row(r: &sqlx::any::AnyRow) -> AppResult<EvalRow> {
    let phase: String = r.try_get("phase")?;
    Ok(EvalRow {
        phase: Phase::parse(&phase)
            .ok_or_else(|| anyhow::anyhow!("unknown evaluation phase {phase}"))?,
        requirement: json_col(r.try_get("requirement")?)?
            .ok_or_else(|| anyhow::anyhow!("no requirement"))?,
        draw: json_col(r.try_get("draw")?)?,
        prices: json_col(r.try_get("prices")?)?,
        report: json_col(r.try_get("report")?)?,
        report_sha256: r.try_get("report_sha256")?,
        failed_reason: r.try_get("failed_reason")?,
        reported_at: r.try_get("reported_at")?,
        confirm_due_at: r.try_get("confirm_due_at")?,
        awarded_at: r.try_get("awarded_at")?,
        pseudonym_key: r.try_get("pseudonym_key")?,
        final_offers: json_col(r.try_get("final_offers")?)?,
    })
}

pub(crate) async fn set_phase(tx: &mut Tx, tender_id: &str, phase: Phase) -> sqlx::Result<()> {
    sqlx::query("UPDATE evaluations SET phase = $1 WHERE tender_id = $2")
        .bind(phase.as_str())
        .bind(tender_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(crate) async fn terms<'e, E>(exec: E, tender_id: &str) -> AppResult<Option<EvaluationTerms>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let t: Option<String> = sqlx::query_scalar("SELECT eval_terms FROM tenders WHERE id = $1")
        .bind(tender_id)
        .fetch_one(exec)
        .await?;
    json_col(t)
}

/// The evaluation terms of several tenders (those that have them), by tender id.
pub(crate) async fn terms_of<'e, E>(
    exec: E,
    tender_ids: &[&str],
) -> AppResult<HashMap<String, EvaluationTerms>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = crate::db::fetch_in(exec, tender_ids, |list| {
        format!(
            "SELECT id, eval_terms FROM tenders WHERE id IN ({list}) AND eval_terms IS NOT NULL"
        )
    })
    .await?;
    let mut out = HashMap::new();
    for r in rows {
        if let Some(t) = json_col(r.try_get("eval_terms")?)? {
            out.insert(r.try_get("id")?, t);
        }
    }
    Ok(out)
}

/// The seated panel by seat with the experts' names: public once the winner is confirmed
/// (the result notice names them); never to be shown before.
pub(crate) async fn seated_names<'e, E>(exec: E, tender_id: &str) -> AppResult<Vec<(i64, String)>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT p.seat, e.name FROM evaluation_panel p JOIN experts e ON e.id = p.expert_id \
         WHERE p.tender_id = $1 AND p.status = 'accepted' ORDER BY p.seat",
    )
    .bind(tender_id)
    .fetch_all(exec)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("seat")?, r.try_get("name")?)))
    .collect()
}

/// The seated experts (accepted their seats): (expert id, name), by seat.
pub(crate) async fn seated_experts<'e, E>(
    exec: E,
    tender_id: &str,
) -> AppResult<Vec<(String, String)>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT p.expert_id, e.name FROM evaluation_panel p JOIN experts e ON e.id = p.expert_id \
         WHERE p.tender_id = $1 AND p.status = 'accepted' ORDER BY p.seat",
    )
    .bind(tender_id)
    .fetch_all(exec)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("expert_id")?, r.try_get("name")?)))
    .collect()
}

pub(crate) async fn panel<'e, E>(exec: E, tender_id: &str) -> AppResult<Vec<Seat>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT expert_id, seat, status FROM evaluation_panel WHERE tender_id = $1 \
         ORDER BY seat, invited_at",
    )
    .bind(tender_id)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Seat {
                expert_id: r.try_get("expert_id")?,
                seat: r.try_get("seat")?,
                status: r.try_get("status")?,
            })
        })
        .collect()
}

/// bid → (pass, reason) of the qualification review.
pub(crate) async fn qualification<'e, E>(
    exec: E,
    tender_id: &str,
) -> AppResult<BTreeMap<String, (bool, String)>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT bid_id, pass, reason FROM evaluation_qualification WHERE tender_id = $1",
    )
    .bind(tender_id)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("bid_id")?,
                (r.try_get::<i64, _>("pass")? != 0, r.try_get("reason")?),
            ))
        })
        .collect()
}

/// (bid, expert) → (pass, reason) of the compliance review.
pub(crate) async fn reviews<'e, E>(
    exec: E,
    tender_id: &str,
) -> AppResult<BTreeMap<(String, String), (bool, String)>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT bid_id, expert_id, pass, reason FROM evaluation_reviews WHERE tender_id = $1",
    )
    .bind(tender_id)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                (r.try_get("bid_id")?, r.try_get("expert_id")?),
                (r.try_get::<i64, _>("pass")? != 0, r.try_get("reason")?),
            ))
        })
        .collect()
}

/// (bid, expert) → the verdict per criterion of the tender's checklist, for reviews given
/// under one.
pub(crate) async fn review_checks<'e, E>(
    exec: E,
    tender_id: &str,
) -> AppResult<BTreeMap<(String, String), BTreeMap<String, super::types::Check>>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT bid_id, expert_id, checks FROM evaluation_reviews \
         WHERE tender_id = $1 AND checks IS NOT NULL",
    )
    .bind(tender_id)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            let checks: String = r.try_get("checks")?;
            let checks = serde_json::from_str(&checks).map_err(anyhow::Error::from)?;
            Ok(((r.try_get("bid_id")?, r.try_get("expert_id")?), checks))
        })
        .collect()
}

/// One expert's score of one item of one bid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScoreRow {
    pub bid_id: String,
    pub expert_id: String,
    pub item: String,
    /// Hundredths of a point, out of 100.
    pub score: i64,
    pub outlier_reason: Option<String>,
}

pub(crate) async fn scores<'e, E>(exec: E, tender_id: &str) -> AppResult<Vec<ScoreRow>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT bid_id, expert_id, item, score, outlier_reason FROM evaluation_scores \
         WHERE tender_id = $1 ORDER BY bid_id, expert_id, item",
    )
    .bind(tender_id)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ScoreRow {
                bid_id: r.try_get("bid_id")?,
                expert_id: r.try_get("expert_id")?,
                item: r.try_get("item")?,
                score: r.try_get("score")?,
                outlier_reason: r.try_get("outlier_reason")?,
            })
        })
        .collect()
}

/// The pool as the draw sees it: ids, specialties, region, employer, ties, active.
pub(crate) async fn pool(tx: &mut Tx) -> AppResult<Vec<draw::Candidate>> {
    let rows = sqlx::query(
        "SELECT id, specialties, region_code, employer_org_id, ties, active FROM experts ORDER BY id",
    )
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| {
            let specialties: String = r.try_get("specialties")?;
            let ties: String = r.try_get("ties")?;
            Ok(draw::Candidate {
                id: r.try_get("id")?,
                specialties: serde_json::from_str(&specialties).map_err(anyhow::Error::from)?,
                region: r.try_get("region_code")?,
                employer_org_id: r.try_get("employer_org_id")?,
                ties: serde_json::from_str(&ties).map_err(anyhow::Error::from)?,
                active: r.try_get::<i64, _>("active")? != 0,
            })
        })
        .collect()
}

pub(crate) async fn ledger_head(tx: &mut Tx, tender_id: &str) -> AppResult<String> {
    let head = crate::ledger::repo::head(tx, tender_id).await?;
    let (_, hash) = head.ok_or_else(|| anyhow::anyhow!("tender without ledger"))?;
    Ok(hash)
}

pub(crate) async fn invite(
    tx: &mut Tx,
    tender_id: &str,
    expert_id: &str,
    seat: i64,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO evaluation_panel (tender_id, expert_id, seat, status, invited_at) \
         VALUES ($1, $2, $3, 'invited', $4)",
    )
    .bind(tender_id)
    .bind(expert_id)
    .bind(seat)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A clarification as stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Clarification {
    pub id: String,
    pub bid_id: String,
    pub question: String,
    pub asked_at: i64,
    pub answer: Option<String>,
    pub answered_at: Option<i64>,
}

pub(crate) async fn clarifications<'e, E>(exec: E, tender_id: &str) -> AppResult<Vec<Clarification>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT id, bid_id, question, asked_at, answer, answered_at FROM clarifications \
         WHERE tender_id = $1 ORDER BY asked_at, id",
    )
    .bind(tender_id)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Clarification {
                id: r.try_get("id")?,
                bid_id: r.try_get("bid_id")?,
                question: r.try_get("question")?,
                asked_at: r.try_get("asked_at")?,
                answer: r.try_get("answer")?,
                answered_at: r.try_get("answered_at")?,
            })
        })
        .collect()
}

pub(crate) async fn category_and_date(
    tx: &mut Tx,
    tender_id: &str,
) -> AppResult<(crate::tender::types::Category, chrono::NaiveDate)> {
    let r = sqlx::query("SELECT category, published_at FROM tenders WHERE id = $1")
        .bind(tender_id)
        .fetch_one(&mut **tx)
        .await?;
    let cat: String = r.try_get("category")?;
    let category: crate::tender::types::Category =
        serde_json::from_value(Value::String(cat)).map_err(anyhow::Error::from)?;
    let published: Option<i64> = r.try_get("published_at")?;
    let date = chrono::DateTime::from_timestamp_millis(published.unwrap_or(0))
        .unwrap_or_default()
        .with_timezone(&crate::clock::cst())
        .date_naive();
    Ok((category, date))
}

/// R-OPEN-2, R-EVAL-3: the least number of qualified bids the evaluation goes on with, the
/// tender method's minimum (`tender::service::min_suppliers`).
pub(crate) async fn min_bids(tx: &mut Tx, state: &AppState, tender_id: &str) -> AppResult<i64> {
    crate::tender::service::min_suppliers(state, tx, tender_id).await
}

/// A report's confirmation by the purchaser (R-EVAL-10), for the alerts: still awaited,
/// or made by the deadline itself (`awarded_at` at or after `confirm_due_at`).
#[derive(Debug, sqlx::FromRow)]
pub struct Confirmation {
    pub tender_id: String,
    pub title: String,
    pub purchaser_org_id: String,
    pub phase: String,
    pub confirm_due_at: i64,
    pub awarded_at: Option<i64>,
}

impl Confirmation {
    /// Awarded: by the deadline, since only those are read.
    pub fn awarded(&self) -> bool {
        self.phase == Phase::Awarded.as_str()
    }
}

/// Reports awaiting confirmation due by `until`, and those the deadline confirmed since
/// `late_since`; the latest deadline first, at most `limit`.
pub async fn confirmations<'e, E>(
    exec: E,
    until: i64,
    late_since: i64,
    limit: i64,
) -> sqlx::Result<Vec<Confirmation>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(
        "SELECT e.tender_id, t.title, t.purchaser_org_id, e.phase, e.confirm_due_at, \
         e.awarded_at FROM evaluations e JOIN tenders t ON t.id = e.tender_id \
         WHERE e.confirm_due_at IS NOT NULL AND ((e.phase = $1 AND e.confirm_due_at <= $2) \
         OR (e.phase = $3 AND e.awarded_at >= e.confirm_due_at AND e.awarded_at >= $4)) \
         ORDER BY e.confirm_due_at DESC, e.tender_id LIMIT $5",
    )
    .bind(Phase::Reported.as_str())
    .bind(until)
    .bind(Phase::Awarded.as_str())
    .bind(late_since)
    .bind(limit)
    .fetch_all(exec)
    .await
}

/// The final offers a negotiation fixed (`evaluations.final_offers`), by bid: the sheet
/// that replaces the response's for the evaluation, `None` for a bidder that is out.
/// `None` when the tender has had no negotiation (or it is not finished).
pub type FinalOffers = BTreeMap<String, Option<crate::bid::package::OpeningSheet>>;

pub async fn final_offers<'e, E>(exec: E, tender_id: &str) -> AppResult<Option<FinalOffers>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let stored: Option<Option<String>> =
        sqlx::query_scalar("SELECT final_offers FROM evaluations WHERE tender_id = $1")
            .bind(tender_id)
            .fetch_optional(exec)
            .await?;
    json_col(stored.flatten())
}

/// Records the final offers a negotiation fixed (the rounds stage, when its final round is
/// read), in the caller's transaction.
pub async fn set_final_offers(tx: &mut Tx, tender_id: &str, offers: &FinalOffers) -> AppResult<()> {
    let json = serde_json::to_string(offers).map_err(anyhow::Error::from)?;
    sqlx::query("UPDATE evaluations SET final_offers = $1 WHERE tender_id = $2")
        .bind(json)
        .bind(tender_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The bids the evaluation prices: the bids read out, each with its final offer's sheet
/// when a negotiation fixed one, those out of the negotiation left out.
pub fn priced(
    bids: Vec<crate::opening::types::ReadOutBid>,
    finals: Option<&FinalOffers>,
) -> Vec<crate::opening::types::ReadOutBid> {
    let Some(finals) = finals else {
        return bids;
    };
    bids.into_iter()
        .filter_map(|mut b| match finals.get(&b.bid_id) {
            Some(Some(sheet)) => {
                b.sheet = sheet.clone();
                Some(b)
            }
            Some(None) => None,
            // Not in the negotiation (not compliant): unchanged, and not priced anyway.
            None => Some(b),
        })
        .collect()
}

/// How the ledger names a seated expert of this tender until the award: by this
/// evaluation's pseudonym, never an id that would follow the expert (R-EVAL-2).
pub(crate) async fn expert_pseudonym<'e, E>(
    exec: E,
    tender_id: &str,
    expert_id: &str,
) -> AppResult<String>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let key: Option<Option<String>> =
        sqlx::query_scalar("SELECT pseudonym_key FROM evaluations WHERE tender_id = $1")
            .bind(tender_id)
            .fetch_optional(exec)
            .await?;
    Ok(
        crate::evaluation::pseudonyms::Pseudonyms::from_stored(key.flatten().as_deref())
            .expert(expert_id),
    )
}
