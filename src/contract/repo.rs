//! What the alerts read of the contracts (migration 0025): per tender with a published
//! result, when its contracts were all signed; per contract, when published and filed.

/// A tender whose result was published since `since`: its award letters' instant and,
/// once every contract of it is signed, the last signature's.
#[derive(Debug, sqlx::FromRow)]
pub struct Signing {
    pub tender_id: String,
    pub title: String,
    pub purchaser_org_id: String,
    pub letter_at: i64,
    pub signed_at: Option<i64>,
}

pub async fn signings_since<'e, E>(exec: E, since: i64, limit: i64) -> sqlx::Result<Vec<Signing>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(
        "SELECT r.tender_id, t.title, t.purchaser_org_id, r.published_at AS letter_at, \
         CASE WHEN COUNT(c.id) > 0 AND COUNT(c.signed_at) = COUNT(c.id) \
              THEN MAX(c.signed_at) ELSE NULL END AS signed_at \
         FROM result_notices r JOIN tenders t ON t.id = r.tender_id \
         LEFT JOIN contracts c ON c.tender_id = r.tender_id \
         WHERE r.published_at >= $1 \
         GROUP BY r.tender_id, t.title, t.purchaser_org_id, r.published_at \
         ORDER BY r.published_at DESC, r.tender_id LIMIT $2",
    )
    .bind(since)
    .bind(limit)
    .fetch_all(exec)
    .await
}

/// A contract signed since `since`, with its publication and filing.
#[derive(Debug, sqlx::FromRow)]
pub struct Signed {
    pub id: String,
    pub tender_id: String,
    pub title: String,
    pub purchaser_org_id: String,
    pub signed_at: i64,
    pub published_at: Option<i64>,
    pub filed_at: Option<i64>,
}

pub async fn signed_since<'e, E>(exec: E, since: i64, limit: i64) -> sqlx::Result<Vec<Signed>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(
        "SELECT c.id, c.tender_id, t.title, c.purchaser_org_id, c.signed_at, c.published_at, \
         c.filed_at FROM contracts c JOIN tenders t ON t.id = c.tender_id \
         WHERE c.signed_at IS NOT NULL AND c.signed_at >= $1 \
         ORDER BY c.signed_at DESC, c.id LIMIT $2",
    )
    .bind(since)
    .bind(limit)
    .fetch_all(exec)
    .await
}

/// What the later stages (acceptance, payment) read of a contract: its parties, amount
/// with its supplements, terms, and whether both signed.
#[derive(Debug, Clone)]
pub struct Facts {
    pub id: String,
    pub tender_id: String,
    pub lot_no: i64,
    pub purchaser_org_id: String,
    pub supplier_org_id: String,
    /// The original amount and the supplementary contracts' total (R-CON-4).
    pub amount_fen: i64,
    pub supplements_fen: i64,
    pub document: serde_json::Value,
    pub signed_at: Option<i64>,
}

impl Facts {
    /// What the purchaser owes in all: the contract and its supplements.
    pub fn payable_fen(&self) -> i64 {
        self.amount_fen.saturating_add(self.supplements_fen)
    }

    /// Whether the supplier is an SME (R-PAY-1).
    pub fn sme(&self) -> bool {
        self.document["sme"] == true
    }

    /// `user` is a purchaser of the contract's purchasing unit.
    pub fn purchaser_is(&self, user: &crate::auth::CurrentUser) -> bool {
        user.role == crate::auth::Role::Purchaser
            && user.org_id.as_deref() == Some(self.purchaser_org_id.as_str())
    }

    /// `user` is a supplier user of the contract's supplier.
    pub fn supplier_is(&self, user: &crate::auth::CurrentUser) -> bool {
        user.role == crate::auth::Role::Supplier
            && user.org_id.as_deref() == Some(self.supplier_org_id.as_str())
    }

    /// Days after acceptance the contract gives the purchaser to pay.
    pub fn payment_days(&self) -> i64 {
        super::rules::payment_days(&self.document)
    }
}

const FACTS_SQL: &str = "SELECT c.id, c.tender_id, c.lot_no, c.purchaser_org_id, \
     c.supplier_org_id, c.amount_fen, c.document, c.signed_at, \
     CAST(COALESCE((SELECT SUM(s.amount_fen) FROM contract_supplements s \
                    WHERE s.contract_id = c.id), 0) AS BIGINT) AS supplements_fen \
     FROM contracts c";

fn facts_of(r: &sqlx::any::AnyRow) -> sqlx::Result<Facts> {
    use sqlx::Row;
    let document: String = r.try_get("document")?;
    Ok(Facts {
        id: r.try_get("id")?,
        tender_id: r.try_get("tender_id")?,
        lot_no: r.try_get("lot_no")?,
        purchaser_org_id: r.try_get("purchaser_org_id")?,
        supplier_org_id: r.try_get("supplier_org_id")?,
        amount_fen: r.try_get("amount_fen")?,
        supplements_fen: r.try_get("supplements_fen")?,
        document: serde_json::from_str(&document).map_err(|e| sqlx::Error::Decode(e.into()))?,
        signed_at: r.try_get("signed_at")?,
    })
}

/// The contract `id`, if there is one.
pub async fn facts<'e, E>(exec: E, id: &str) -> sqlx::Result<Option<Facts>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(&format!("{FACTS_SQL} WHERE c.id = $1"))
        .bind(id)
        .fetch_optional(exec)
        .await?
        .as_ref()
        .map(facts_of)
        .transpose()
}

/// The contract `id` if it is the tender's (another tender's is none).
pub async fn of_tender<'e, E>(exec: E, tender_id: &str, id: &str) -> sqlx::Result<Option<Facts>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(facts(exec, id).await?.filter(|c| c.tender_id == tender_id))
}

/// The signed contracts of a tender, by lot.
pub async fn signed_of_tender<'e, E>(exec: E, tender_id: &str) -> sqlx::Result<Vec<Facts>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(&format!(
        "{FACTS_SQL} WHERE c.tender_id = $1 AND c.signed_at IS NOT NULL ORDER BY c.lot_no"
    ))
    .bind(tender_id)
    .fetch_all(exec)
    .await?
    .iter()
    .map(facts_of)
    .collect()
}
