//! The alerts' SQL: alerts made once per deadline and stage, their recipients, and who
//! read them.

use super::types::{AlertView, Audience, Stage, SubjectView};
use crate::db::Tx;

/// Who is reading: an alert is theirs when addressed to them, to their organisation (and
/// their role in it, if one is named) or to their role.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    pub user_id: &'a str,
    /// Empty for a user of no organisation.
    pub org_id: &'a str,
    pub role: &'a str,
}

/// The ids of the alerts `Reader` may see, as a subquery whose four placeholders start at
/// `$first` (bound in this order: user, organisation, role, role).
fn visible_ids(first: usize) -> String {
    let (a, b, c, d) = (first, first + 1, first + 2, first + 3);
    format!(
        "SELECT alert_id FROM alert_recipients WHERE user_id = ${a} \
         UNION SELECT alert_id FROM alert_recipients WHERE user_id = '' AND org_id <> '' \
           AND org_id = ${b} AND (role = '' OR role = ${c}) \
         UNION SELECT alert_id FROM alert_recipients WHERE user_id = '' AND org_id = '' \
           AND role = ${d}"
    )
}

type QueryAs<'q, T> = sqlx::query::QueryAs<'q, sqlx::Any, T, sqlx::any::AnyArguments<'q>>;

fn bind_reader_as<'q, T>(q: QueryAs<'q, T>, r: Reader<'q>) -> QueryAs<'q, T> {
    q.bind(r.user_id).bind(r.org_id).bind(r.role).bind(r.role)
}

/// Of these deadline keys, the (key, stage) pairs that already have their alert.
pub async fn existing<'e, E>(exec: E, keys: &[&str]) -> sqlx::Result<Vec<(String, String)>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=keys.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT deadline_key, stage FROM alerts WHERE deadline_key IN ({})",
        marks.join(", ")
    );
    let mut q = sqlx::query_as(&sql);
    for k in keys {
        q = q.bind(*k);
    }
    q.fetch_all(exec).await
}

/// An alert to make.
pub struct NewAlert<'a> {
    pub id: &'a str,
    pub key: &'a str,
    pub stage: Stage,
    pub rule_code: &'a str,
    pub rule_name: &'a str,
    pub subject_kind: &'a str,
    pub subject_id: &'a str,
    pub subject_title: &'a str,
    pub link: &'a str,
    pub due_at: i64,
    pub title_zh: &'a str,
    pub title_en: &'a str,
    pub created_at: i64,
}

/// Makes the alert with its recipients, unless its (key, stage) has one already (made by
/// another node, or before a restart): then nothing is written and `false` returned.
pub async fn insert(tx: &mut Tx, a: &NewAlert<'_>, to: &[Audience]) -> sqlx::Result<bool> {
    let made = sqlx::query(
        "INSERT INTO alerts (id, deadline_key, stage, rule_code, rule_name, subject_kind, \
         subject_id, subject_title, link, due_at, title_zh, title_en, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (deadline_key, stage) DO NOTHING",
    )
    .bind(a.id)
    .bind(a.key)
    .bind(a.stage.as_str())
    .bind(a.rule_code)
    .bind(a.rule_name)
    .bind(a.subject_kind)
    .bind(a.subject_id)
    .bind(a.subject_title)
    .bind(a.link)
    .bind(a.due_at)
    .bind(a.title_zh)
    .bind(a.title_en)
    .bind(a.created_at)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if made == 0 {
        return Ok(false);
    }
    for audience in to {
        let (user, org, role) = match audience {
            Audience::User(id) => (id.as_str(), "", ""),
            Audience::Org { org_id, role } => {
                ("", org_id.as_str(), role.map_or("", |r| r.as_str()))
            }
            Audience::Role(role) => ("", "", role.as_str()),
        };
        sqlx::query(
            "INSERT INTO alert_recipients (alert_id, user_id, org_id, role) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (alert_id, user_id, org_id, role) DO NOTHING",
        )
        .bind(a.id)
        .bind(user)
        .bind(org)
        .bind(role)
        .execute(&mut **tx)
        .await?;
    }
    Ok(true)
}

#[derive(sqlx::FromRow)]
struct Stored {
    id: String,
    stage: String,
    rule_code: String,
    rule_name: String,
    subject_kind: String,
    subject_id: String,
    subject_title: String,
    link: String,
    due_at: i64,
    title_zh: String,
    title_en: String,
    created_at: i64,
    read_at: Option<i64>,
}

const COLUMNS: &str = "a.id, a.stage, a.rule_code, a.rule_name, a.subject_kind, a.subject_id, \
     a.subject_title, a.link, a.due_at, a.title_zh, a.title_en, a.created_at";

fn view_of(r: Stored) -> Option<AlertView> {
    Some(AlertView {
        id: r.id,
        stage: Stage::parse(&r.stage)?,
        rule: r.rule_code,
        rule_name: r.rule_name,
        subject: SubjectView {
            kind: r.subject_kind,
            id: r.subject_id,
            title: r.subject_title,
        },
        link: r.link,
        due_at: r.due_at,
        title_zh: r.title_zh,
        title_en: r.title_en,
        created_at: r.created_at,
        read_at: r.read_at,
    })
}

/// The reader's alerts, newest first, at most `limit`; only the unread with `unread_only`.
pub async fn list<'e, E>(
    exec: E,
    reader: Reader<'_>,
    unread_only: bool,
    limit: i64,
) -> sqlx::Result<Vec<AlertView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!(
        "SELECT {COLUMNS}, r.read_at FROM alerts a \
         LEFT JOIN alert_reads r ON r.alert_id = a.id AND r.user_id = $1 \
         WHERE a.id IN ({}) AND ($6 = 0 OR r.read_at IS NULL) \
         ORDER BY a.created_at DESC, a.id DESC LIMIT $7",
        visible_ids(2)
    );
    let q = sqlx::query_as::<_, Stored>(&sql).bind(reader.user_id);
    let rows = bind_reader_as(q, reader)
        .bind(i64::from(unread_only))
        .bind(limit)
        .fetch_all(exec)
        .await?;
    Ok(rows.into_iter().filter_map(view_of).collect())
}

/// How many of the reader's alerts are unread.
pub async fn unread<'e, E>(exec: E, reader: Reader<'_>) -> sqlx::Result<i64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!(
        "SELECT COUNT(*) FROM alerts a WHERE a.id IN ({}) AND NOT EXISTS \
         (SELECT 1 FROM alert_reads r WHERE r.alert_id = a.id AND r.user_id = $5)",
        visible_ids(1)
    );
    let q = sqlx::query_scalar(&sql)
        .bind(reader.user_id)
        .bind(reader.org_id)
        .bind(reader.role)
        .bind(reader.role)
        .bind(reader.user_id);
    q.fetch_one(exec).await
}

/// One of the reader's alerts; `None` when it does not exist or is not theirs.
pub async fn one<'e, E>(exec: E, reader: Reader<'_>, id: &str) -> sqlx::Result<Option<AlertView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!(
        "SELECT {COLUMNS}, r.read_at FROM alerts a \
         LEFT JOIN alert_reads r ON r.alert_id = a.id AND r.user_id = $1 \
         WHERE a.id IN ({}) AND a.id = $6",
        visible_ids(2)
    );
    let q = sqlx::query_as::<_, Stored>(&sql).bind(reader.user_id);
    let row = bind_reader_as(q, reader)
        .bind(id)
        .fetch_optional(exec)
        .await?;
    Ok(row.and_then(view_of))
}

/// Marks the alert read by `user_id` at `at`, unless it was already.
pub async fn mark_read<'e, E>(exec: E, id: &str, user_id: &str, at: i64) -> sqlx::Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let q = sqlx::query(
        "INSERT INTO alert_reads (alert_id, user_id, read_at) VALUES ($1, $2, $3) \
         ON CONFLICT (alert_id, user_id) DO NOTHING",
    );
    q.bind(id).bind(user_id).bind(at).execute(exec).await?;
    Ok(())
}
