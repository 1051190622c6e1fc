//! What a release is built from, read from the stages' tables: only what the platform has
//! made public.

use serde_json::Value;
use sqlx::Row;

/// A published tender.
#[derive(Debug, Clone)]
pub struct Tender {
    pub id: String,
    pub code: String,
    pub title: String,
    pub description: String,
    pub status: String,
    pub method: String,
    pub category: String,
    pub region_code: String,
    pub bid_deadline: i64,
    pub published_at: i64,
    pub updated_at: i64,
    pub buyer: Party,
    pub procuring_entity: Party,
    pub lots: Vec<Lot>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub org_id: String,
    pub name: String,
    pub credit_code: String,
}

#[derive(Debug, Clone)]
pub struct Lot {
    pub lot_no: i64,
    pub name: String,
    pub budget_fen: i64,
}

/// A bid as the closed opening read it out (or set it aside).
#[derive(Debug, Clone)]
pub struct Bid {
    pub id: String,
    pub lot_no: i64,
    pub bidder: Party,
    /// read_out, or why it was not.
    pub result: String,
    pub price_fen: Option<i64>,
}

/// What the opening made public, once it closed.
#[derive(Debug, Clone)]
pub struct Opening {
    pub closed_at: i64,
    pub bids: Vec<Bid>,
}

/// The result notice, once published: each awarded lot's winner and price.
#[derive(Debug, Clone)]
pub struct Notice {
    pub published_at: i64,
    pub winners: Vec<(i64, Party, i64)>,
}

/// A published contract with its payments made (amount, day).
#[derive(Debug, Clone)]
pub struct Contract {
    pub id: String,
    pub lot_no: i64,
    pub supplier: Party,
    pub amount_fen: i64,
    pub document: Value,
    pub signed_at: Option<i64>,
    pub published_at: i64,
    pub payments: Vec<(String, i64, String)>,
}

/// Everything public about one tender.
#[derive(Debug, Clone)]
pub struct Public {
    pub tender: Tender,
    pub opening: Option<Opening>,
    pub notice: Option<Notice>,
    pub contracts: Vec<Contract>,
}

const PUBLISHED: &str = "published_at IS NOT NULL AND status <> 'draft'";

/// How many tenders are published.
pub async fn count<'e, E>(exec: E) -> sqlx::Result<i64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM tenders WHERE {PUBLISHED}"))
        .fetch_one(exec)
        .await
}

/// The published tenders' ids, the first published first, `limit` from `offset`.
pub async fn page(pool: &sqlx::AnyPool, offset: i64, limit: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(&format!(
        "SELECT id FROM tenders WHERE {PUBLISHED} ORDER BY published_at, id LIMIT $1 OFFSET $2"
    ))
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
}

/// A published tender's id by its id or code.
pub async fn find(pool: &sqlx::AnyPool, id_or_code: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(&format!(
        "SELECT id FROM tenders WHERE (id = $1 OR code = $2) AND {PUBLISHED}"
    ))
    .bind(id_or_code)
    .bind(id_or_code)
    .fetch_optional(pool)
    .await
}

async fn party(pool: &sqlx::AnyPool, org_id: &str) -> sqlx::Result<Party> {
    let r = sqlx::query("SELECT name, credit_code FROM organisations WHERE id = $1")
        .bind(org_id)
        .fetch_one(pool)
        .await?;
    Ok(Party {
        org_id: org_id.to_string(),
        name: r.try_get("name")?,
        credit_code: r.try_get("credit_code")?,
    })
}

fn json(s: Option<String>) -> Value {
    s.and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

/// Everything public about the published tender `id`.
pub async fn public(pool: &sqlx::AnyPool, id: &str) -> sqlx::Result<Public> {
    let r = sqlx::query(
        "SELECT id, code, title, description, status, method, category, region_code, \
         bid_deadline, published_at, updated_at, purchaser_org_id, agency_org_id \
         FROM tenders WHERE id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await?;
    let lots = sqlx::query(
        "SELECT lot_no, name, budget_fen FROM tender_lots WHERE tender_id = $1 ORDER BY lot_no",
    )
    .bind(id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|l| {
        Ok(Lot {
            lot_no: l.try_get("lot_no")?,
            name: l.try_get("name")?,
            budget_fen: l.try_get("budget_fen")?,
        })
    })
    .collect::<sqlx::Result<Vec<_>>>()?;
    let tender = Tender {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        title: r.try_get("title")?,
        description: r.try_get("description")?,
        status: r.try_get("status")?,
        method: r.try_get("method")?,
        category: r.try_get("category")?,
        region_code: r.try_get("region_code")?,
        bid_deadline: r.try_get("bid_deadline")?,
        published_at: r
            .try_get::<Option<i64>, _>("published_at")?
            .unwrap_or_default(),
        updated_at: r.try_get("updated_at")?,
        buyer: party(pool, &r.try_get::<String, _>("purchaser_org_id")?).await?,
        procuring_entity: party(pool, &r.try_get::<String, _>("agency_org_id")?).await?,
        lots,
    };

    // The bids, once the opening closed (its record is public from then on).
    let closed: Option<Option<i64>> = sqlx::query_scalar(
        "SELECT closed_at FROM openings WHERE tender_id = $1 AND phase = 'closed'",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let opening = match closed {
        Some(closed_at) => {
            let rows = sqlx::query(
                "SELECT bid_id, bidder_org_id, lot_no, result, sheet FROM opening_bids \
                 WHERE tender_id = $1 ORDER BY position",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            let mut bids = Vec::new();
            for b in rows {
                let sheet = json(b.try_get("sheet")?);
                bids.push(Bid {
                    id: b.try_get("bid_id")?,
                    lot_no: b.try_get("lot_no")?,
                    bidder: party(pool, &b.try_get::<String, _>("bidder_org_id")?).await?,
                    result: b.try_get("result")?,
                    price_fen: sheet["total_price_fen"].as_i64(),
                });
            }
            Some(Opening {
                closed_at: closed_at.unwrap_or_default(),
                bids,
            })
        }
        None => None,
    };

    let notice =
        match sqlx::query("SELECT notice, published_at FROM result_notices WHERE tender_id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
        {
            Some(n) => {
                let signed = json(n.try_get("notice")?); // the document and the platform's signature
                let mut winners = Vec::new();
                for w in crate::award::notice::winners(&signed["document"]) {
                    winners.push((w.lot_no, party(pool, &w.org_id).await?, w.price_fen));
                }
                Some(Notice {
                    published_at: n.try_get("published_at")?,
                    winners,
                })
            }
            None => None,
        };

    let rows = sqlx::query(
        "SELECT id, lot_no, supplier_org_id, amount_fen, document, signed_at, published_at \
         FROM contracts WHERE tender_id = $1 AND published_at IS NOT NULL ORDER BY lot_no",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let mut contracts = Vec::new();
    for c in rows {
        let cid: String = c.try_get("id")?;
        let payments = sqlx::query(
            "SELECT id, amount_fen, paid_on FROM payment_requests \
             WHERE contract_id = $1 AND status = 'paid' ORDER BY paid_at",
        )
        .bind(&cid)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|p| {
            Ok((
                p.try_get("id")?,
                p.try_get("amount_fen")?,
                p.try_get("paid_on")?,
            ))
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
        contracts.push(Contract {
            lot_no: c.try_get("lot_no")?,
            supplier: party(pool, &c.try_get::<String, _>("supplier_org_id")?).await?,
            amount_fen: c.try_get("amount_fen")?,
            document: json(c.try_get("document")?),
            signed_at: c.try_get("signed_at")?,
            published_at: c.try_get("published_at")?,
            payments,
            id: cid,
        });
    }
    Ok(Public {
        tender,
        opening,
        notice,
        contracts,
    })
}
