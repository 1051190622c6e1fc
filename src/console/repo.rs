//! What the console reads: the tenders in scope with their rooms' phases, the open
//! challenges and complaints, and the lists its filter offers.

use sqlx::Row;

use super::types::{Choice, Filter, TenderRef};

/// Statuses whose rooms are live: bids closed, being opened, being evaluated (or
/// negotiated).
pub const LIVE: [&str; 3] = ["sealed", "opening", "evaluating"];

/// A tender in scope with what its rooms' phases are made of.
#[derive(Debug, Clone)]
pub struct Scoped {
    pub tender: TenderRef,
    pub opening_phase: Option<String>,
    pub decrypt_ends_at: Option<i64>,
    pub confirm_ends_at: Option<i64>,
    pub evaluation_phase: Option<String>,
    pub negotiation: Option<String>,
    /// The latest offer round's status (`open`, `decrypting`, `revealed`).
    pub round_status: Option<String>,
}

const SELECT: &str = "SELECT t.id, t.code, t.title, t.region_code, g.name_zh AS region_name, \
     t.purchaser_org_id, p.name AS purchaser, t.agency_org_id, a.name AS agency, t.method, \
     t.category, t.status, t.bid_deadline, t.published_at, o.phase AS opening_phase, \
     o.decrypt_ends_at, o.confirm_ends_at, e.phase AS evaluation_phase, n.status AS negotiation, \
     (SELECT r.status FROM offer_rounds r WHERE r.tender_id = t.id \
       ORDER BY r.round_no DESC LIMIT 1) AS round_status \
     FROM tenders t JOIN regions g ON g.code = t.region_code \
     JOIN organisations p ON p.id = t.purchaser_org_id \
     JOIN organisations a ON a.id = t.agency_org_id \
     LEFT JOIN openings o ON o.tender_id = t.id \
     LEFT JOIN evaluations e ON e.tender_id = t.id \
     LEFT JOIN negotiations n ON n.tender_id = t.id \
     WHERE t.published_at IS NOT NULL AND t.status <> 'draft' \
     AND ($1 = '' OR t.region_code = $2) AND ($3 = '' OR t.purchaser_org_id = $4) \
     AND ($5 = '' OR t.agency_org_id = $6) AND ($7 = '' OR t.method = $8) \
     AND ($9 = '' OR t.category = $10)";

/// The tenders in scope that are live, or whose id is among `also` (rooms someone is
/// in, alerts' and disputes' tenders), in the order of their bid deadlines.
pub async fn tenders(
    pool: &sqlx::AnyPool,
    f: &Filter,
    also: &[String],
) -> sqlx::Result<Vec<Scoped>> {
    let mut sql = format!("{SELECT} AND (t.status IN ('sealed', 'opening', 'evaluating')");
    for i in 0..also.len() {
        sql.push_str(&format!(" OR t.id = ${}", 11 + i));
    }
    sql.push_str(") ORDER BY t.bid_deadline, t.id");
    let mut q = sqlx::query(&sql);
    for v in [&f.region, &f.purchaser, &f.agency, &f.method, &f.category] {
        q = q.bind(v.clone()).bind(v.clone());
    }
    for id in also {
        q = q.bind(id.clone());
    }
    let rows = q.fetch_all(pool).await?;
    let mut out = Vec::new();
    for r in rows {
        let published_at: i64 = r.try_get("published_at")?;
        if !crate::calendar::day_within(published_at, &f.from, &f.to) {
            continue;
        }
        out.push(Scoped {
            tender: TenderRef {
                id: r.try_get("id")?,
                code: r.try_get("code")?,
                title: r.try_get("title")?,
                region_code: r.try_get("region_code")?,
                region_name: r.try_get("region_name")?,
                purchaser_org_id: r.try_get("purchaser_org_id")?,
                purchaser: r.try_get("purchaser")?,
                agency_org_id: r.try_get("agency_org_id")?,
                agency: r.try_get("agency")?,
                method: r.try_get("method")?,
                category: r.try_get("category")?,
                status: r.try_get("status")?,
                bid_deadline: r.try_get("bid_deadline")?,
                published_at,
            },
            opening_phase: r.try_get("opening_phase")?,
            decrypt_ends_at: r.try_get("decrypt_ends_at")?,
            confirm_ends_at: r.try_get("confirm_ends_at")?,
            evaluation_phase: r.try_get("evaluation_phase")?,
            negotiation: r.try_get("negotiation")?,
            round_status: r.try_get("round_status")?,
        });
    }
    Ok(out)
}

/// Per tender, its challenges and complaints still open (unanswered, undecided).
pub async fn disputes(pool: &sqlx::AnyPool) -> sqlx::Result<Vec<(String, i64, i64)>> {
    sqlx::query_as(
        "SELECT tender_id, CAST(SUM(c) AS BIGINT), CAST(SUM(k) AS BIGINT) FROM ( \
           SELECT tender_id, 1 AS c, 0 AS k FROM challenges WHERE status = 'open' \
           UNION ALL \
           SELECT tender_id, 0 AS c, 1 AS k FROM complaints WHERE status IN ('filed', 'accepted') \
         ) d GROUP BY tender_id ORDER BY tender_id",
    )
    .fetch_all(pool)
    .await
}

/// The regions, and the purchasing units and agencies of published tenders, for the
/// filter's lists.
pub async fn choices(pool: &sqlx::AnyPool) -> sqlx::Result<[Vec<Choice>; 3]> {
    let regions = sqlx::query_as("SELECT code AS id, name_zh AS name FROM regions ORDER BY sort")
        .fetch_all(pool)
        .await?;
    let orgs = |column: &str| {
        format!(
            "SELECT DISTINCT o.id, o.name FROM tenders t JOIN organisations o ON o.id = t.{column} \
             WHERE t.published_at IS NOT NULL ORDER BY o.name, o.id"
        )
    };
    let purchasers = sqlx::query_as(&orgs("purchaser_org_id"))
        .fetch_all(pool)
        .await?;
    let agencies = sqlx::query_as(&orgs("agency_org_id"))
        .fetch_all(pool)
        .await?;
    Ok([regions, purchasers, agencies])
}
