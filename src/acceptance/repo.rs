//! The acceptance reports and remedies (migration 0026), and what payment reads of them.

use serde_json::Value;
use sqlx::Row;

use super::types::RemedyView;

/// One round's report as stored.
#[derive(Debug, Clone)]
pub struct Report {
    pub id: String,
    pub contract_id: String,
    pub tender_id: String,
    pub round: i64,
    pub document: Value,
    pub document_sha256: String,
    /// draft | passed | failed
    pub status: String,
    pub recorded_at: i64,
    pub signed_at: Option<i64>,
}

const REPORT_SQL: &str = "SELECT id, contract_id, tender_id, round, document, document_sha256, \
     status, recorded_at, signed_at FROM acceptances";

fn report(r: &sqlx::any::AnyRow) -> sqlx::Result<Report> {
    let document: String = r.try_get("document")?;
    Ok(Report {
        id: r.try_get("id")?,
        contract_id: r.try_get("contract_id")?,
        tender_id: r.try_get("tender_id")?,
        round: r.try_get("round")?,
        document: serde_json::from_str(&document).map_err(|e| sqlx::Error::Decode(e.into()))?,
        document_sha256: r.try_get("document_sha256")?,
        status: r.try_get("status")?,
        recorded_at: r.try_get("recorded_at")?,
        signed_at: r.try_get("signed_at")?,
    })
}

pub async fn one<'e, E>(exec: E, id: &str) -> sqlx::Result<Option<Report>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(&format!("{REPORT_SQL} WHERE id = $1"))
        .bind(id)
        .fetch_optional(exec)
        .await?
        .as_ref()
        .map(report)
        .transpose()
}

/// A contract's rounds, the first first.
pub async fn rounds<'e, E>(exec: E, contract_id: &str) -> sqlx::Result<Vec<Report>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(&format!(
        "{REPORT_SQL} WHERE contract_id = $1 ORDER BY round"
    ))
    .bind(contract_id)
    .fetch_all(exec)
    .await?
    .iter()
    .map(report)
    .collect()
}

pub async fn remedy<'e, E>(exec: E, acceptance_id: &str) -> sqlx::Result<Option<RemedyView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT opened_at, reply, replied_at, closed_at FROM acceptance_remedies \
         WHERE acceptance_id = $1",
    )
    .bind(acceptance_id)
    .fetch_optional(exec)
    .await?
    .map(|r| {
        Ok(RemedyView {
            opened_at: r.try_get("opened_at")?,
            reply: r.try_get("reply")?,
            replied_at: r.try_get("replied_at")?,
            closed_at: r.try_get("closed_at")?,
        })
    })
    .transpose()
}

/// When the contract passed acceptance (its passed report's signature), if it has.
pub async fn accepted_at<'e, E>(exec: E, contract_id: &str) -> sqlx::Result<Option<i64>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_scalar(
        "SELECT signed_at FROM acceptances WHERE contract_id = $1 AND status = 'passed'",
    )
    .bind(contract_id)
    .fetch_optional(exec)
    .await
    .map(Option::flatten)
}

/// One signer of a report (migration 0032): the purchaser or a member of the panel.
#[derive(Debug, Clone)]
pub struct Signer {
    pub user_id: String,
    pub name: String,
    /// purchaser | member
    pub kind: String,
    pub key_id: Option<String>,
    pub signature: Option<String>,
    pub signed_at: Option<i64>,
}

/// A report's signers: the purchaser first (once it signed), then the panel in order.
pub async fn signers<'e, E>(exec: E, acceptance_id: &str) -> sqlx::Result<Vec<Signer>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT s.user_id, u.display_name, s.kind, s.key_id, s.signature, s.signed_at \
         FROM acceptance_signers s JOIN users u ON u.id = s.user_id \
         WHERE s.acceptance_id = $1 ORDER BY s.position",
    )
    .bind(acceptance_id)
    .fetch_all(exec)
    .await?
    .iter()
    .map(|r| {
        Ok(Signer {
            user_id: r.try_get("user_id")?,
            name: r.try_get("display_name")?,
            kind: r.try_get("kind")?,
            key_id: r.try_get("key_id")?,
            signature: r.try_get("signature")?,
            signed_at: r.try_get("signed_at")?,
        })
    })
    .collect()
}

/// The contracts on whose acceptance panel `user_id` sits, in any round.
pub async fn member_of<'e, E>(exec: E, user_id: &str) -> sqlx::Result<Vec<String>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_scalar(
        "SELECT DISTINCT a.contract_id FROM acceptance_signers s \
         JOIN acceptances a ON a.id = s.acceptance_id \
         WHERE s.user_id = $1 AND s.kind = 'member'",
    )
    .bind(user_id)
    .fetch_all(exec)
    .await
}

/// The draft reports waiting for `user_id`'s signature as a member of their panel.
pub async fn to_sign<'e, E>(exec: E, user_id: &str) -> sqlx::Result<Vec<super::types::ToSign>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT a.tender_id, a.id, a.document, a.round, a.recorded_at \
         FROM acceptance_signers s JOIN acceptances a ON a.id = s.acceptance_id \
         WHERE s.user_id = $1 AND s.kind = 'member' AND s.signed_at IS NULL \
         AND a.status = 'draft' ORDER BY a.recorded_at LIMIT 100",
    )
    .bind(user_id)
    .fetch_all(exec)
    .await?
    .iter()
    .map(|r| {
        let document: String = r.try_get("document")?;
        let document: Value =
            serde_json::from_str(&document).map_err(|e| sqlx::Error::Decode(e.into()))?;
        Ok(super::types::ToSign {
            tender_id: r.try_get("tender_id")?,
            acceptance_id: r.try_get("id")?,
            contract_no: document["contract_no"].clone(),
            round: r.try_get("round")?,
            recorded_at: r.try_get("recorded_at")?,
        })
    })
    .collect()
}

/// Whether a round of acceptance has taken effect (passed or failed): the delivery is on
/// record, signed.
pub async fn delivered<'e, E>(exec: E, contract_id: &str) -> sqlx::Result<bool>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM acceptances WHERE contract_id = $1 AND status <> 'draft'",
    )
    .bind(contract_id)
    .fetch_one(exec)
    .await?;
    Ok(n > 0)
}
