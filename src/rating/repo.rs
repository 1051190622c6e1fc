//! The ratings and their scores per criterion (migration 0027).

use std::collections::BTreeMap;

use sqlx::Row;

use super::types::{RatingView, Summary};

const RATING_SQL: &str = "SELECT r.id, r.contract_id, r.rater_party, r.rater, r.ratee_party, \
     r.ratee, r.scores, r.mean_centi, r.comment, r.rated_at, \
     COALESCE(ro.name, re.name, '') AS rater_name, COALESCE(eo.name, ee.name, '') AS ratee_name \
     FROM ratings r \
     LEFT JOIN organisations ro ON ro.id = r.rater \
     LEFT JOIN experts re ON re.id = r.rater \
     LEFT JOIN organisations eo ON eo.id = r.ratee \
     LEFT JOIN experts ee ON ee.id = r.ratee";

fn rating(r: &sqlx::any::AnyRow) -> sqlx::Result<RatingView> {
    let scores: String = r.try_get("scores")?;
    Ok(RatingView {
        id: r.try_get("id")?,
        contract_id: r.try_get("contract_id")?,
        rater_party: r.try_get("rater_party")?,
        rater: r.try_get("rater")?,
        rater_name: r.try_get("rater_name")?,
        ratee_party: r.try_get("ratee_party")?,
        ratee: r.try_get("ratee")?,
        ratee_name: r.try_get("ratee_name")?,
        scores: serde_json::from_str(&scores).map_err(|e| sqlx::Error::Decode(e.into()))?,
        mean_centi: r.try_get("mean_centi")?,
        comment: r.try_get("comment")?,
        rated_at: r.try_get("rated_at")?,
    })
}

/// The ratings of a tender's contracts, the first given first.
pub async fn of_tender<'e, E>(exec: E, tender_id: &str) -> sqlx::Result<Vec<RatingView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(&format!(
        "{RATING_SQL} WHERE r.tender_id = $1 ORDER BY r.rated_at, r.id"
    ))
    .bind(tender_id)
    .fetch_all(exec)
    .await?
    .iter()
    .map(rating)
    .collect()
}

/// `sql` with the subjects bound to its `$1…$n`.
fn bound<'q>(
    sql: &'q str,
    subjects: Option<&'q [String]>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut q = sqlx::query(sql);
    for s in subjects.into_iter().flatten() {
        q = q.bind(s.as_str());
    }
    q
}

/// Most subjects a summary lists (the city's organisations and experts fit).
pub const SUMMARY_LIMIT: i64 = 5_000;

/// The aggregates per rated organisation or expert; `subjects` limits them to these.
pub async fn summaries<'e, E>(exec: E, subjects: Option<&[String]>) -> sqlx::Result<Vec<Summary>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any> + Copy,
{
    let filter = match subjects {
        Some([]) => return Ok(Vec::new()),
        Some(list) => format!(
            "WHERE s.ratee IN ({})",
            (1..=list.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => String::new(),
    };
    let totals_sql = format!(
        "SELECT s.ratee_party, s.ratee, COALESCE(o.name, e.name, '') AS name, COUNT(*) AS n, \
         CAST(SUM(s.mean_centi) AS BIGINT) AS total FROM ratings s \
         LEFT JOIN organisations o ON o.id = s.ratee LEFT JOIN experts e ON e.id = s.ratee \
         {filter} GROUP BY s.ratee_party, s.ratee, o.name, e.name \
         ORDER BY s.ratee_party, s.ratee LIMIT {SUMMARY_LIMIT}"
    );
    let totals = bound(&totals_sql, subjects).fetch_all(exec).await?;
    let criteria_sql = format!(
        "SELECT s.ratee_party, s.ratee, s.criterion, COUNT(*) AS n, \
         CAST(SUM(s.score) AS BIGINT) AS total FROM rating_scores s {filter} \
         GROUP BY s.ratee_party, s.ratee, s.criterion"
    );
    let per_criterion = bound(&criteria_sql, subjects).fetch_all(exec).await?;
    let mut criteria: BTreeMap<(String, String), BTreeMap<String, i64>> = BTreeMap::new();
    for r in per_criterion {
        let n: i64 = r.try_get("n")?;
        let total: i64 = r.try_get("total")?;
        criteria
            .entry((r.try_get("ratee_party")?, r.try_get("ratee")?))
            .or_default()
            .insert(r.try_get("criterion")?, (total * 100 + n / 2) / n.max(1));
    }
    totals
        .iter()
        .map(|r| {
            let n: i64 = r.try_get("n")?;
            let total: i64 = r.try_get("total")?;
            let key: (String, String) = (r.try_get("ratee_party")?, r.try_get("ratee")?);
            Ok(Summary {
                criteria: criteria.remove(&key).unwrap_or_default(),
                party: key.0,
                subject: key.1,
                name: r.try_get("name")?,
                count: n,
                mean_centi: (total + n / 2) / n.max(1),
            })
        })
        .collect()
}
