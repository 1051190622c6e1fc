//! What the warnings read of the bids (recorded at sealing), their deposits (the paying
//! account) and the opening (the read-out prices), and the supervisors' decisions (migration 0030).

use sqlx::Row;

use super::rules::{BidFacts, Owner};

/// A text column of a LEFT JOIN: empty when the row has none.
fn text(r: &sqlx::any::AnyRow, column: &str) -> sqlx::Result<String> {
    Ok(r.try_get::<Option<String>, _>(column)?.unwrap_or_default())
}

/// The read-out bids of a tender with what their sealing recorded; who stands behind each
/// bidder as declared at the deadline (`sealed_identities`; tenders sealed before it was
/// kept read the declarations as they are now).
pub async fn facts<'e, E>(exec: E, tender_id: &str) -> sqlx::Result<Vec<BidFacts>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT ob.bid_id, ob.bidder_org_id, o.name, ob.lot_no, ob.sheet, b.device_fingerprint, \
         b.client_ip, b.user_agent, b.documents_meta, b.bidder_key_id, d.account_no, \
         o.credit_code, \
         CASE WHEN s.org_id IS NULL THEN i.legal_rep_name ELSE s.legal_rep_name END AS legal_rep_name, \
         CASE WHEN s.org_id IS NULL THEN i.legal_rep_tag ELSE s.legal_rep_tag END AS legal_rep_tag, \
         CASE WHEN s.org_id IS NULL THEN i.controller_name ELSE s.controller_name END AS controller_name, \
         CASE WHEN s.org_id IS NULL THEN i.controller_key ELSE s.controller_key END AS controller_key \
         FROM opening_bids ob JOIN bids b ON b.id = ob.bid_id \
         JOIN organisations o ON o.id = ob.bidder_org_id \
         LEFT JOIN bid_deposits d ON d.tender_id = ob.tender_id AND d.org_id = ob.bidder_org_id \
         LEFT JOIN sealed_identities s ON s.tender_id = ob.tender_id AND s.org_id = ob.bidder_org_id \
         LEFT JOIN org_identities i ON i.org_id = ob.bidder_org_id \
         WHERE ob.tender_id = $1 AND ob.result = 'read_out' ORDER BY ob.position",
    )
    .bind(tender_id)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            let sheet: Option<String> = r.try_get("sheet")?;
            let sheet: serde_json::Value = sheet
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default();
            let meta: String = r.try_get("documents_meta")?;
            let meta: serde_json::Value = serde_json::from_str(&meta).unwrap_or_default();
            let creators = meta
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|d| {
                    ["creator", "author", "creation_id", "machine"]
                        .into_iter()
                        .filter_map(|k| d[k].as_str())
                        .map(|v| v.chars().take(200).collect::<String>())
                        .collect::<Vec<_>>()
                })
                .collect();
            Ok(BidFacts {
                bid_id: r.try_get("bid_id")?,
                org_id: r.try_get("bidder_org_id")?,
                org_name: r.try_get("name")?,
                lot_no: r.try_get("lot_no")?,
                price_fen: sheet["total_price_fen"].as_i64().unwrap_or_default(),
                device_fingerprint: r.try_get("device_fingerprint")?,
                client_ip: r.try_get("client_ip")?,
                user_agent: r.try_get("user_agent")?,
                creators,
                bidder_key_id: r.try_get("bidder_key_id")?,
                deposit_account: r.try_get("account_no")?,
                owner: Owner {
                    credit_code: r.try_get("credit_code")?,
                    legal_rep_name: text(r, "legal_rep_name")?,
                    legal_rep_tag: text(r, "legal_rep_tag")?,
                    controller_name: text(r, "controller_name")?,
                    controller_key: text(r, "controller_key")?,
                },
            })
        })
        .collect()
}

/// A decision on a warning.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Decision {
    pub warning_key: String,
    pub status: String,
    pub reason: String,
    pub decided_at: i64,
}

pub async fn decisions<'e, E>(exec: E, tender_id: &str) -> sqlx::Result<Vec<Decision>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(
        "SELECT warning_key, status, reason, decided_at FROM collusion_decisions \
         WHERE tender_id = $1",
    )
    .bind(tender_id)
    .fetch_all(exec)
    .await
}

/// A confirmed warning as the committee is told of it (O87 art 37: the bids concerned are
/// invalid): the rule, what was found, the bids, the supervisors' reason.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Confirmed {
    pub rule: String,
    pub kind: String,
    pub bids: Vec<String>,
    pub reason: String,
    pub decided_at: i64,
}

pub async fn confirmed<'e, E>(exec: E, tender_id: &str) -> sqlx::Result<Vec<Confirmed>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT rule, kind, bids, reason, decided_at FROM collusion_decisions \
         WHERE tender_id = $1 AND status = 'confirmed' ORDER BY decided_at, warning_key",
    )
    .bind(tender_id)
    .fetch_all(exec)
    .await?
    .iter()
    .map(|r| {
        let bids: String = r.try_get("bids")?;
        Ok(Confirmed {
            rule: r.try_get("rule")?,
            kind: r.try_get("kind")?,
            bids: serde_json::from_str(&bids).map_err(|e| sqlx::Error::Decode(e.into()))?,
            reason: r.try_get("reason")?,
            decided_at: r.try_get("decided_at")?,
        })
    })
    .collect()
}

/// What the stored evaluation report says of the bids (none before it is written).
pub async fn outcome<'e, E>(exec: E, tender_id: &str) -> sqlx::Result<super::rules::Outcome>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let report: Option<Option<String>> =
        sqlx::query_scalar("SELECT report FROM evaluations WHERE tender_id = $1")
            .bind(tender_id)
            .fetch_optional(exec)
            .await?;
    Ok(report
        .flatten()
        .and_then(|r| serde_json::from_str::<serde_json::Value>(&r).ok())
        .map(|r| outcome_of(&r))
        .unwrap_or_default())
}

/// What a stored report says: the bids set aside, each lot's first-ranked bid, the lots
/// awarded on price alone.
fn outcome_of(r: &serde_json::Value) -> super::rules::Outcome {
    let mut out = super::rules::Outcome::default();
    for q in r["qualification"].as_array().into_iter().flatten() {
        if q["pass"] == false {
            out.disqualified
                .extend(q["bid_id"].as_str().map(String::from));
        }
    }
    for c in r["compliance"].as_array().into_iter().flatten() {
        if c["compliant"] == false {
            out.disqualified
                .extend(c["bid_id"].as_str().map(String::from));
        }
    }
    for lot in r["lots"].as_array().into_iter().flatten() {
        let no = lot["lot_no"].as_i64().unwrap_or(1);
        for i in lot["invalid"].as_array().into_iter().flatten() {
            out.disqualified
                .extend(i["bid_id"].as_str().map(String::from));
        }
        if let Some(w) = lot["result"]["ranking"][0]["bidder"].as_str() {
            out.winners.insert(no, w.to_string());
        }
        if lot["result"]["method"] == "lowest_evaluated_price" {
            out.price_only.insert(no);
        }
    }
    out
}

/// Most evaluated tenders the screens across tenders read (the newest).
pub const PROCESS_LIMIT: i64 = 5_000;

/// Every lot of the tenders whose evaluation report is written, as the screens across
/// tenders read them.
pub async fn processes(pool: &sqlx::AnyPool) -> sqlx::Result<Vec<super::rules::Process>> {
    let rows = sqlx::query(
        "SELECT e.tender_id, e.report, t.purchaser_org_id, t.agency_org_id FROM evaluations e \
         JOIN tenders t ON t.id = e.tender_id WHERE e.report IS NOT NULL \
         ORDER BY e.reported_at DESC, e.tender_id LIMIT $1",
    )
    .bind(PROCESS_LIMIT)
    .fetch_all(pool)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let tender_id: String = r.try_get("tender_id")?;
        let report: String = r.try_get("report")?;
        let Ok(report) = serde_json::from_str::<serde_json::Value>(&report) else {
            continue;
        };
        let outcome = outcome_of(&report);
        let facts = facts(pool, &tender_id).await?;
        let mut lots: std::collections::BTreeMap<i64, Vec<_>> = Default::default();
        for b in &facts {
            lots.entry(b.lot_no).or_default().push((
                b.bid_id.clone(),
                b.org_id.clone(),
                b.price_fen,
                outcome.disqualified.contains(&b.bid_id),
            ));
        }
        for (lot_no, bids) in lots {
            out.push(super::rules::Process {
                tender_id: tender_id.clone(),
                lot_no,
                buyer: r.try_get("purchaser_org_id")?,
                procuring_entity: r.try_get("agency_org_id")?,
                bids,
                winner: outcome.winners.get(&lot_no).cloned(),
            });
        }
    }
    Ok(out)
}

/// The names of organisations `ids` (those that exist).
pub async fn names(
    pool: &sqlx::AnyPool,
    ids: &std::collections::BTreeSet<&str>,
) -> sqlx::Result<std::collections::BTreeMap<String, String>> {
    let mut out = std::collections::BTreeMap::new();
    for id in ids {
        let name: Option<String> =
            sqlx::query_scalar("SELECT name FROM organisations WHERE id = $1")
                .bind(*id)
                .fetch_optional(pool)
                .await?;
        if let Some(name) = name {
            out.insert((*id).to_string(), name);
        }
    }
    Ok(out)
}

/// The codes and titles of tenders `ids` (those that exist).
pub async fn tender_refs(
    pool: &sqlx::AnyPool,
    ids: &std::collections::BTreeSet<&str>,
) -> sqlx::Result<std::collections::BTreeMap<String, super::types::TenderRef>> {
    let mut out = std::collections::BTreeMap::new();
    for id in ids {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT code, title FROM tenders WHERE id = $1")
                .bind(*id)
                .fetch_optional(pool)
                .await?;
        if let Some((code, title)) = row {
            out.insert((*id).to_string(), super::types::TenderRef { code, title });
        }
    }
    Ok(out)
}
