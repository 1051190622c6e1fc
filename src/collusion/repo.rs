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
         b.client_ip, ob.decrypt_ip, h.client_ip AS download_ip, \
         b.user_agent, b.documents_meta, b.bidder_key_id, d.account_no, \
         o.credit_code, \
         CASE WHEN s.org_id IS NULL THEN i.legal_rep_name ELSE s.legal_rep_name END AS legal_rep_name, \
         CASE WHEN s.org_id IS NULL THEN i.legal_rep_tag ELSE s.legal_rep_tag END AS legal_rep_tag, \
         CASE WHEN s.org_id IS NULL THEN i.controller_name ELSE s.controller_name END AS controller_name, \
         CASE WHEN s.org_id IS NULL THEN i.controller_key ELSE s.controller_key END AS controller_key \
         FROM opening_bids ob JOIN bids b ON b.id = ob.bid_id \
         JOIN organisations o ON o.id = ob.bidder_org_id \
         LEFT JOIN bid_deposits d ON d.tender_id = ob.tender_id AND d.org_id = ob.bidder_org_id \
         LEFT JOIN document_holders h ON h.tender_id = ob.tender_id AND h.org_id = ob.bidder_org_id \
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
                other_ips: [text(r, "decrypt_ip")?, text(r, "download_ip")?]
                    .into_iter()
                    .filter(|ip| !ip.is_empty())
                    .collect(),
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
        "SELECT e.tender_id, e.report, t.purchaser_org_id, t.agency_org_id, t.region_code \
         FROM evaluations e \
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
                region: r.try_get("region_code")?,
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

/// A bidder's MinHash signature in an opened tender (`minhash`), to keep.
pub struct Signature {
    pub org_id: String,
    pub bid_id: String,
    pub shingles: i64,
    pub rows: Vec<u32>,
}

/// Keeps the signatures of an opened tender's bidders with their band keys, and marks the
/// tender read; what is kept already stays (two readers at once keep one copy).
pub async fn keep_signatures(
    pool: &sqlx::AnyPool,
    tender_id: &str,
    signatures: &[Signature],
    now: i64,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    for s in signatures {
        sqlx::query(
            "INSERT INTO text_signatures (tender_id, org_id, bid_id, shingles, signature) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(tender_id)
        .bind(&s.org_id)
        .bind(&s.bid_id)
        .bind(s.shingles)
        .bind(super::minhash::to_text(&s.rows))
        .execute(&mut *tx)
        .await?;
        let bands = super::minhash::bands(&s.rows);
        let values: Vec<String> = (0..bands.len())
            .map(|i| format!("(${}, $1, $2)", i + 3))
            .collect();
        let sql = format!(
            "INSERT INTO text_bands (band, tender_id, org_id) VALUES {} ON CONFLICT DO NOTHING",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(tender_id).bind(&s.org_id);
        for b in bands {
            q = q.bind(b);
        }
        q.execute(&mut *tx).await?;
    }
    sqlx::query(
        "INSERT INTO text_indexed (tender_id, indexed_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(tender_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// One opened tender whose texts were not yet read for signatures: past its opening with
/// bids read out (a tender cancelled before its opening has none).
pub async fn unindexed(pool: &sqlx::AnyPool) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT t.id FROM tenders t \
         WHERE t.status IN ('evaluating', 'awarded', 'failed', 'cancelled') \
         AND EXISTS (SELECT 1 FROM opening_bids ob WHERE ob.tender_id = t.id AND ob.result = 'read_out') \
         AND NOT EXISTS (SELECT 1 FROM text_indexed x WHERE x.tender_id = t.id) \
         ORDER BY t.id LIMIT 1",
    )
    .fetch_optional(pool)
    .await
}

/// A bidder of another opened tender whose signature shares a band with one of this
/// tender's bidders.
pub struct Candidate {
    pub my_org: String,
    pub tender_id: String,
    pub code: String,
    pub title: String,
    pub org_name: String,
    pub bid_id: String,
    pub rows: Vec<u32>,
}

/// Candidates most bands can give: beyond them a tender is compared no further.
pub const CANDIDATE_LIMIT: i64 = 2_000;

/// This tender's kept signatures (org, bid, rows), and the other bidders of other opened
/// tenders sharing `minhash::MIN_SHARED_BANDS` bands or more with one of them that no
/// crowd shares (`minhash::CROWD`).
pub async fn candidates(
    pool: &sqlx::AnyPool,
    tender_id: &str,
) -> sqlx::Result<(Vec<(String, String, Vec<u32>)>, Vec<Candidate>)> {
    let mine = sqlx::query(
        "SELECT org_id, bid_id, signature FROM text_signatures WHERE tender_id = $1 ORDER BY org_id",
    )
    .bind(tender_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        let sig: String = r.try_get("signature")?;
        Ok((
            r.try_get("org_id")?,
            r.try_get("bid_id")?,
            super::minhash::from_text(&sig).unwrap_or_default(),
        ))
    })
    .collect::<sqlx::Result<Vec<_>>>()?;
    let rows = sqlx::query(
        "SELECT m.org_id AS my_org, s.tender_id, s.bid_id, s.signature, t.code, t.title, \
         o.name FROM text_bands m JOIN text_bands x ON x.band = m.band \
         JOIN text_signatures s ON s.tender_id = x.tender_id AND s.org_id = x.org_id \
         JOIN tenders t ON t.id = s.tender_id JOIN organisations o ON o.id = s.org_id \
         WHERE m.tender_id = $1 AND x.tender_id <> $1 AND x.org_id <> m.org_id \
         AND (SELECT COUNT(DISTINCT c.org_id) FROM text_bands c WHERE c.band = m.band) <= $3 \
         GROUP BY m.org_id, s.tender_id, s.bid_id, s.signature, t.code, t.title, o.name \
         HAVING COUNT(*) >= $4 \
         ORDER BY s.tender_id, s.bid_id, m.org_id LIMIT $2",
    )
    .bind(tender_id)
    .bind(CANDIDATE_LIMIT)
    .bind(super::minhash::CROWD as i64)
    .bind(super::minhash::MIN_SHARED_BANDS as i64)
    .fetch_all(pool)
    .await?;
    let others = rows
        .iter()
        .map(|r| {
            let sig: String = r.try_get("signature")?;
            Ok(Candidate {
                my_org: r.try_get("my_org")?,
                tender_id: r.try_get("tender_id")?,
                code: r.try_get("code")?,
                title: r.try_get("title")?,
                org_name: r.try_get("name")?,
                bid_id: r.try_get("bid_id")?,
                rows: super::minhash::from_text(&sig).unwrap_or_default(),
            })
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
    Ok((mine, others))
}

/// Which of `keys` more than `minhash::CROWD` organisations share across the city.
pub async fn crowded(
    pool: &sqlx::AnyPool,
    keys: &std::collections::BTreeSet<i64>,
) -> sqlx::Result<std::collections::HashSet<i64>> {
    let keys: Vec<i64> = keys.iter().copied().collect();
    let mut out = std::collections::HashSet::new();
    for chunk in keys.chunks(500) {
        let places: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT band FROM text_bands WHERE band IN ({}) GROUP BY band \
             HAVING COUNT(DISTINCT org_id) > $1",
            places.join(", ")
        );
        let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(super::minhash::CROWD as i64);
        for k in chunk {
            q = q.bind(*k);
        }
        out.extend(q.fetch_all(pool).await?);
    }
    Ok(out)
}
