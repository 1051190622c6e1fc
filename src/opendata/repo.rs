//! What a release is built from, read from the stages' tables: only what the platform has
//! made public.

use std::collections::HashMap;

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

fn party_of(r: &sqlx::any::AnyRow, id: &str, name: &str, code: &str) -> sqlx::Result<Party> {
    Ok(Party {
        org_id: r.try_get(id)?,
        name: r.try_get(name)?,
        credit_code: r.try_get(code)?,
    })
}

fn json(s: Option<String>) -> Value {
    s.and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

/// Everything public about the published tender `id`.
pub async fn public(pool: &sqlx::AnyPool, id: &str) -> sqlx::Result<Public> {
    publics(pool, &[id.to_string()])
        .await?
        .pop()
        .ok_or(sqlx::Error::RowNotFound)
}

/// How many tenders [`publics`] reads with one query per table.
const CHUNK: usize = crate::db::IDS_PER_STATEMENT;

/// Everything public about the published tenders `ids`, in their order: one query per
/// table for up to [`CHUNK`] of them (not per tender), so a page or the bulk download
/// costs a few round trips whatever the tenders hold.
pub async fn publics(pool: &sqlx::AnyPool, ids: &[String]) -> sqlx::Result<Vec<Public>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        out.extend(chunk_publics(pool, chunk).await?);
    }
    Ok(out)
}

async fn chunk_publics(pool: &sqlx::AnyPool, ids: &[String]) -> sqlx::Result<Vec<Public>> {
    let mut lots: HashMap<String, Vec<Lot>> = HashMap::new();
    for l in crate::db::fetch_in(pool, ids, |list| {
        format!(
            "SELECT tender_id, lot_no, name, budget_fen FROM tender_lots \
             WHERE tender_id IN ({list}) ORDER BY tender_id, lot_no"
        )
    })
    .await?
    {
        lots.entry(l.try_get("tender_id")?).or_default().push(Lot {
            lot_no: l.try_get("lot_no")?,
            name: l.try_get("name")?,
            budget_fen: l.try_get("budget_fen")?,
        });
    }

    // The bids, once the opening closed (its record is public from then on).
    let mut openings: HashMap<String, Opening> = HashMap::new();
    for o in crate::db::fetch_in(pool, ids, |list| {
        format!(
            "SELECT tender_id, closed_at FROM openings \
             WHERE phase = 'closed' AND tender_id IN ({list})"
        )
    })
    .await?
    {
        openings.insert(
            o.try_get("tender_id")?,
            Opening {
                closed_at: o
                    .try_get::<Option<i64>, _>("closed_at")?
                    .unwrap_or_default(),
                bids: Vec::new(),
            },
        );
    }
    if !openings.is_empty() {
        for b in crate::db::fetch_in(pool, ids, |list| {
            format!(
                "SELECT ob.tender_id, ob.bid_id, ob.bidder_org_id, ob.lot_no, ob.result, \
                 ob.sheet, o.name, o.credit_code FROM opening_bids ob \
                 JOIN organisations o ON o.id = ob.bidder_org_id \
                 WHERE ob.tender_id IN ({list}) ORDER BY ob.tender_id, ob.position"
            )
        })
        .await?
        {
            let Some(opening) = openings.get_mut(&b.try_get::<String, _>("tender_id")?) else {
                continue;
            };
            opening.bids.push(Bid {
                id: b.try_get("bid_id")?,
                lot_no: b.try_get("lot_no")?,
                bidder: party_of(&b, "bidder_org_id", "name", "credit_code")?,
                result: b.try_get("result")?,
                price_fen: json(b.try_get("sheet")?)["total_price_fen"].as_i64(),
            });
        }
    }

    // The result notices (the document and the platform's signature), their winners named.
    let mut notices: HashMap<String, (i64, Vec<crate::award::notice::Winner>)> = HashMap::new();
    for n in crate::db::fetch_in(pool, ids, |list| {
        format!(
            "SELECT tender_id, notice, published_at FROM result_notices \
             WHERE tender_id IN ({list})"
        )
    })
    .await?
    {
        let signed = json(n.try_get("notice")?);
        notices.insert(
            n.try_get("tender_id")?,
            (
                n.try_get("published_at")?,
                crate::award::notice::winners(&signed["document"]),
            ),
        );
    }
    let winners: Vec<String> = notices
        .values()
        .flat_map(|n| n.1.iter().map(|w| w.org_id.clone()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut parties: HashMap<String, Party> = HashMap::new();
    for chunk in winners.chunks(CHUNK) {
        for r in crate::db::fetch_in(pool, chunk, |list| {
            format!("SELECT id, name, credit_code FROM organisations WHERE id IN ({list})")
        })
        .await?
        {
            let p = party_of(&r, "id", "name", "credit_code")?;
            parties.insert(p.org_id.clone(), p);
        }
    }

    // Published contracts, with the payments made.
    let mut payments: HashMap<String, Vec<(String, i64, String)>> = HashMap::new();
    for p in crate::db::fetch_in(pool, ids, |list| {
        format!(
            "SELECT contract_id, id, amount_fen, paid_on FROM payment_requests \
             WHERE status = 'paid' AND tender_id IN ({list}) ORDER BY paid_at, id"
        )
    })
    .await?
    {
        payments
            .entry(p.try_get("contract_id")?)
            .or_default()
            .push((
                p.try_get("id")?,
                p.try_get("amount_fen")?,
                p.try_get("paid_on")?,
            ));
    }
    let mut contracts: HashMap<String, Vec<Contract>> = HashMap::new();
    for c in crate::db::fetch_in(pool, ids, |list| {
        format!(
            "SELECT c.tender_id, c.id, c.lot_no, c.supplier_org_id, c.amount_fen, c.document, \
             c.signed_at, c.published_at, o.name, o.credit_code FROM contracts c \
             JOIN organisations o ON o.id = c.supplier_org_id \
             WHERE c.published_at IS NOT NULL AND c.tender_id IN ({list}) \
             ORDER BY c.tender_id, c.lot_no"
        )
    })
    .await?
    {
        let id: String = c.try_get("id")?;
        contracts
            .entry(c.try_get("tender_id")?)
            .or_default()
            .push(Contract {
                lot_no: c.try_get("lot_no")?,
                supplier: party_of(&c, "supplier_org_id", "name", "credit_code")?,
                amount_fen: c.try_get("amount_fen")?,
                document: json(c.try_get("document")?),
                signed_at: c.try_get("signed_at")?,
                published_at: c.try_get("published_at")?,
                payments: payments.remove(&id).unwrap_or_default(),
                id,
            });
    }

    let mut tenders: HashMap<String, Public> = HashMap::new();
    for r in crate::db::fetch_in(pool, ids, |list| {
        format!(
            "SELECT t.id, t.code, t.title, t.description, t.status, t.method, t.category, \
             t.region_code, t.bid_deadline, t.published_at, t.updated_at, \
             t.purchaser_org_id, b.name AS buyer_name, b.credit_code AS buyer_code, \
             t.agency_org_id, a.name AS agency_name, a.credit_code AS agency_code \
             FROM tenders t JOIN organisations b ON b.id = t.purchaser_org_id \
             JOIN organisations a ON a.id = t.agency_org_id WHERE t.id IN ({list})"
        )
    })
    .await?
    {
        let id: String = r.try_get("id")?;
        let notice = match notices.remove(&id) {
            Some((published_at, winners)) => Some(Notice {
                published_at,
                winners: winners
                    .into_iter()
                    .map(|w| {
                        let party = parties
                            .get(&w.org_id)
                            .cloned()
                            .ok_or(sqlx::Error::RowNotFound)?;
                        Ok((w.lot_no, party, w.price_fen))
                    })
                    .collect::<sqlx::Result<Vec<_>>>()?,
            }),
            None => None,
        };
        let tender = Tender {
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
            buyer: party_of(&r, "purchaser_org_id", "buyer_name", "buyer_code")?,
            procuring_entity: party_of(&r, "agency_org_id", "agency_name", "agency_code")?,
            lots: lots.remove(&id).unwrap_or_default(),
            id: id.clone(),
        };
        tenders.insert(
            id.clone(),
            Public {
                tender,
                opening: openings.remove(&id),
                notice,
                contracts: contracts.remove(&id).unwrap_or_default(),
            },
        );
    }
    ids.iter()
        .map(|id| tenders.remove(id).ok_or(sqlx::Error::RowNotFound))
        .collect()
}
