//! Ledger SQL. `append` and `append_bid` must run inside the caller's transaction, after
//! the tender row is locked (written) in it, so each chain has a single writer.

use std::collections::HashMap;

use sqlx::Row;

use super::{event_hash, register_id, Event, Kind, Ledger, LedgerEvent, Register, GENESIS};
use crate::db::Tx;

/// The chains: a tender's ledger and its bid register, and a plan's chain (its intention,
/// approvals and what tenders drew from it), which starts before any tender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chain {
    Tender,
    BidRegister,
    Plan,
    /// The supervisors' decisions on a tender's collusion warnings (src/collusion).
    Warnings,
}

impl Chain {
    fn table(self) -> &'static str {
        match self {
            Chain::Tender => "ledger_events",
            Chain::BidRegister => "bid_register_events",
            Chain::Plan => "plan_events",
            Chain::Warnings => "warning_events",
        }
    }

    /// The column naming the chain's owner.
    fn owner(self) -> &'static str {
        match self {
            Chain::Tender | Chain::BidRegister | Chain::Warnings => "tender_id",
            Chain::Plan => "plan_id",
        }
    }

    fn hash_id(self, owner_id: &str) -> String {
        match self {
            Chain::Tender => owner_id.to_string(),
            Chain::BidRegister => register_id(owner_id),
            Chain::Plan => plan_chain_id(owner_id),
            Chain::Warnings => warnings_chain_id(owner_id),
        }
    }
}

/// The id a plan's chain is hashed under (and served as, so that `kaibiao verify` checks
/// it as it checks a tender's).
pub fn plan_chain_id(plan_id: &str) -> String {
    format!("plan:{plan_id}")
}

/// Appends an event to the tender's ledger.
pub async fn append(
    tx: &mut Tx,
    tender_id: &str,
    at: i64,
    actor: &str,
    event: &LedgerEvent,
) -> sqlx::Result<Event> {
    append_to(Chain::Tender, tx, tender_id, at, actor, event).await
}

/// Appends an event to the tender's bid register (receipts and withdrawals of bids).
pub async fn append_bid(
    tx: &mut Tx,
    tender_id: &str,
    at: i64,
    actor: &str,
    event: &LedgerEvent,
) -> sqlx::Result<Event> {
    append_to(Chain::BidRegister, tx, tender_id, at, actor, event).await
}

/// The id a tender's warnings chain is hashed under.
pub fn warnings_chain_id(tender_id: &str) -> String {
    format!("{tender_id}/warnings")
}

/// Appends a decision to the tender's warnings chain; the caller holds the tender's lock.
pub async fn append_warning(
    tx: &mut Tx,
    tender_id: &str,
    at: i64,
    actor: &str,
    event: &LedgerEvent,
) -> sqlx::Result<Event> {
    append_to(Chain::Warnings, tx, tender_id, at, actor, event).await
}

/// A tender's warnings chain, as a ledger whose id is [`warnings_chain_id`].
pub async fn load_warnings<'e, E>(exec: E, tender_id: &str) -> anyhow::Result<Ledger>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    load_chain(exec, Chain::Warnings, tender_id).await
}

/// Appends an event to a plan's chain; the caller holds the plan's row lock.
pub async fn append_plan(
    tx: &mut Tx,
    plan_id: &str,
    at: i64,
    actor: &str,
    event: &LedgerEvent,
) -> sqlx::Result<Event> {
    append_to(Chain::Plan, tx, plan_id, at, actor, event).await
}

/// A plan's whole chain, as a ledger whose id is [`plan_chain_id`].
pub async fn load_plan<'e, E>(exec: E, plan_id: &str) -> anyhow::Result<Ledger>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    load_chain(exec, Chain::Plan, plan_id).await
}

/// A whole chain of its own (a plan's, a tender's warnings), as a ledger under the id it
/// is hashed under.
async fn load_chain<'e, E>(exec: E, chain: Chain, owner_id: &str) -> anyhow::Result<Ledger>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let events = events_since(exec, chain, owner_id, 0).await?;
    Ok(Ledger {
        tender_id: chain.hash_id(owner_id),
        head: head_of(&events),
        events,
        withheld_until: None,
        bid_register: None,
        actors: Default::default(),
    })
}

/// The tender chain's last event, `(seq, hash)`; `None` before its first. Inside the
/// transaction that will sign or append after it, so nothing slips in between.
pub async fn head(
    conn: &mut sqlx::AnyConnection,
    tender_id: &str,
) -> sqlx::Result<Option<(i64, String)>> {
    last_of(Chain::Tender, conn, tender_id).await
}

async fn last_of(
    chain: Chain,
    conn: &mut sqlx::AnyConnection,
    tender_id: &str,
) -> sqlx::Result<Option<(i64, String)>> {
    let (table, owner) = (chain.table(), chain.owner());
    sqlx::query_as(&format!(
        "SELECT seq, hash FROM {table} WHERE {owner} = $1 ORDER BY seq DESC LIMIT 1"
    ))
    .bind(tender_id)
    .fetch_optional(conn)
    .await
}

async fn append_to(
    chain: Chain,
    tx: &mut Tx,
    owner_id: &str,
    at: i64,
    actor: &str,
    event: &LedgerEvent,
) -> sqlx::Result<Event> {
    let mut appended = append_all(chain, tx, &[(owner_id, at, actor, event)]).await?;
    Ok(appended.remove(0))
}

/// Appends events to the ledgers of one or more tenders, each its own event, in the order
/// given: one read of the heads and one statement per [`crate::db::ROWS_PER_INSERT`]
/// events, however many there are. The caller holds each tender's lock, as for [`append`].
pub async fn append_many(
    tx: &mut Tx,
    events: &[(&str, i64, &str, &LedgerEvent)],
) -> sqlx::Result<Vec<Event>> {
    append_all(Chain::Tender, tx, events).await
}

/// The last `(seq, hash)` of each of the chains `owners` that has one.
async fn heads_of(
    chain: Chain,
    tx: &mut Tx,
    owners: &[&str],
) -> sqlx::Result<HashMap<String, (i64, String)>> {
    if let [one] = owners {
        let last = last_of(chain, tx, one).await?;
        return Ok(last.map(|h| (one.to_string(), h)).into_iter().collect());
    }
    let (table, owner) = (chain.table(), chain.owner());
    crate::db::fetch_in(&mut **tx, owners, |list| {
        format!(
            "SELECT t.{owner}, t.seq, t.hash FROM {table} t JOIN (SELECT {owner} AS o, \
             MAX(seq) AS m FROM {table} WHERE {owner} IN ({list}) GROUP BY {owner}) h \
             ON t.{owner} = h.o AND t.seq = h.m"
        )
    })
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?))))
    .collect()
}

async fn append_all(
    chain: Chain,
    tx: &mut Tx,
    events: &[(&str, i64, &str, &LedgerEvent)],
) -> sqlx::Result<Vec<Event>> {
    if events.is_empty() {
        // Nothing to read either (and `IN ()` is no SQL to PostgreSQL).
        return Ok(Vec::new());
    }
    let mut owners: Vec<&str> = events.iter().map(|e| e.0).collect();
    owners.sort_unstable();
    owners.dedup();
    let mut heads = heads_of(chain, tx, &owners).await?;
    let mut out = Vec::with_capacity(events.len());
    for &(owner_id, at, actor, event) in events {
        let kind = event.kind();
        let body = event.body().map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let (seq, prev_hash) = match heads.remove(owner_id) {
            Some((seq, hash)) => (seq + 1, hash),
            None => (1, GENESIS.to_string()),
        };
        let hash = event_hash(
            &chain.hash_id(owner_id),
            seq,
            at,
            kind.as_str(),
            actor,
            &body,
            &prev_hash,
        );
        heads.insert(owner_id.to_string(), (seq, hash.clone()));
        out.push((
            owner_id,
            Event {
                seq,
                at,
                kind: kind.to_string(),
                actor: actor.to_string(),
                body,
                prev_hash,
                hash,
            },
        ));
    }
    let (table, owner) = (chain.table(), chain.owner());
    for rows in out.chunks(crate::db::ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO {table} ({owner}, seq, at, kind, actor, body, prev_hash, hash) VALUES {}",
            crate::db::row_placeholders(tx, rows.len(), 8)
        );
        let mut insert = sqlx::query(&sql);
        for (owner_id, e) in rows {
            insert = insert
                .bind(*owner_id)
                .bind(e.seq)
                .bind(e.at)
                .bind(e.kind.as_str())
                .bind(e.actor.as_str())
                .bind(super::canonical_json(&e.body))
                .bind(e.prev_hash.as_str())
                .bind(e.hash.as_str());
        }
        insert.execute(&mut **tx).await?;
    }
    Ok(out.into_iter().map(|(_, e)| e).collect())
}

async fn events_since<'e, E>(
    exec: E,
    chain: Chain,
    tender_id: &str,
    since: i64,
) -> anyhow::Result<Vec<Event>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT seq, at, kind, actor, body, prev_hash, hash FROM {} \
         WHERE {} = $1 AND seq > $2 ORDER BY seq",
        chain.table(),
        chain.owner()
    ))
    .bind(tender_id)
    .bind(since)
    .fetch_all(exec)
    .await?;
    let mut events = Vec::with_capacity(rows.len());
    for r in rows {
        events.push(Event {
            seq: r.try_get("seq")?,
            at: r.try_get("at")?,
            kind: r.try_get("kind")?,
            actor: r.try_get("actor")?,
            body: serde_json::from_str(&r.try_get::<String, _>("body")?)?,
            prev_hash: r.try_get("prev_hash")?,
            hash: r.try_get("hash")?,
        });
    }
    Ok(events)
}

fn head_of(events: &[Event]) -> String {
    events
        .last()
        .map(|e| e.hash.clone())
        .unwrap_or_else(|| GENESIS.to_string())
}

/// The tender's whole ledger, without its bid register.
pub async fn load<'e, E>(exec: E, tender_id: &str) -> anyhow::Result<Ledger>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let events = events_since(exec, Chain::Tender, tender_id, 0).await?;
    Ok(Ledger {
        tender_id: tender_id.to_string(),
        head: head_of(&events),
        events,
        withheld_until: None,
        bid_register: None,
        actors: Default::default(),
    })
}

/// The tender's ledger events after seq `since` (the hub's live stream).
pub async fn load_since<'e, E>(exec: E, tender_id: &str, since: i64) -> anyhow::Result<Vec<Event>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    events_since(exec, Chain::Tender, tender_id, since).await
}

/// The bid register's events after seq `since`.
pub async fn register_since<'e, E>(
    exec: E,
    tender_id: &str,
    since: i64,
) -> anyhow::Result<Vec<Event>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    events_since(exec, Chain::BidRegister, tender_id, since).await
}

/// The whole bid register.
pub async fn register<'e, E>(exec: E, tender_id: &str) -> anyhow::Result<Register>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let events = register_since(exec, tender_id, 0).await?;
    Ok(Register {
        head: head_of(&events),
        events,
    })
}

/// The last seq of the tender's ledger (0 when empty).
pub async fn head_seq<'e, E>(exec: E, tender_id: &str) -> sqlx::Result<i64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    last_seq(exec, Chain::Tender, tender_id).await
}

/// The last seq of the tender's bid register (0 when empty).
pub async fn register_seq<'e, E>(exec: E, tender_id: &str) -> sqlx::Result<i64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    last_seq(exec, Chain::BidRegister, tender_id).await
}

/// The last seq of each tender's ledger and bid register, for the tenders of `ids` that
/// have one (a tender absent from a map has no event in that chain): two statements per
/// [`crate::db::IDS_PER_STATEMENT`] tenders.
pub async fn last_seqs(
    pool: &sqlx::AnyPool,
    ids: &[&str],
) -> sqlx::Result<(HashMap<String, i64>, HashMap<String, i64>)> {
    let mut heads = (HashMap::new(), HashMap::new());
    for chunk in ids.chunks(crate::db::IDS_PER_STATEMENT) {
        for (chain, into) in [
            (Chain::Tender, &mut heads.0),
            (Chain::BidRegister, &mut heads.1),
        ] {
            let rows = crate::db::fetch_in(pool, chunk, |list| {
                format!(
                    "SELECT tender_id, MAX(seq) FROM {} WHERE tender_id IN ({list}) \
                     GROUP BY tender_id",
                    chain.table()
                )
            })
            .await?;
            for r in rows {
                into.insert(r.try_get(0)?, r.try_get(1)?);
            }
        }
    }
    Ok(heads)
}

/// The hash of the tender chain's latest event of `kind`, if it has one.
pub async fn hash_of_last<'e, E>(
    exec: E,
    tender_id: &str,
    kind: Kind,
) -> sqlx::Result<Option<String>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_scalar(
        "SELECT hash FROM ledger_events WHERE tender_id = $1 AND kind = $2 \
         ORDER BY seq DESC LIMIT 1",
    )
    .bind(tender_id)
    .bind(kind.as_str())
    .fetch_optional(exec)
    .await
}

/// When the tender's ledger last recorded an event of one of `kinds` (the award, the
/// end of a failed tender), if it did.
pub async fn last_at<'e, E>(exec: E, tender_id: &str, kinds: &[Kind]) -> sqlx::Result<Option<i64>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let names: Vec<String> = kinds.iter().map(|k| format!("'{}'", k.as_str())).collect();
    sqlx::query_scalar::<_, Option<i64>>(&format!(
        "SELECT MAX(at) FROM ledger_events WHERE tender_id = $1 AND kind IN ({})",
        names.join(", ")
    ))
    .bind(tender_id)
    .fetch_one(exec)
    .await
}

async fn last_seq<'e, E>(exec: E, chain: Chain, tender_id: &str) -> sqlx::Result<i64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_scalar::<_, i64>(&format!(
        "SELECT COALESCE(MAX(seq), 0) FROM {} WHERE tender_id = $1",
        chain.table()
    ))
    .bind(tender_id)
    .fetch_one(exec)
    .await
}
