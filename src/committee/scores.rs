//! Scores by group commit. Experts score at once: a panel of seven on every bid, hundreds
//! of panels in the same hour. A transaction per score would queue them behind the
//! database's writer, each holding its tender's lock across a dozen round trips. Instead
//! one writer per node takes every score waiting into one transaction: it locks the
//! tenders and reads their phases, terms, panels and who has scored, one statement per
//! table for all of them; checks each score as before, in the order they arrived; writes
//! all items in multi-row statements and each score as its own ledger event; and answers
//! each expert after the commit.
//!
//! Everything a score is checked against is read inside that transaction, after the locks,
//! so the other commands (a transaction of their own each) need not know of the writer:
//! between batches it keeps what it read of a tender only as long as nobody else has locked
//! the tender (its version, [`Kept`]). A batch that fails as a whole (a lost connection, a
//! deadlock between nodes) runs again one score at a time, so that one expert's fault
//! never becomes another's.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::json;
use sqlx::Row;
use tokio::sync::{mpsc, oneshot, watch, Mutex};

use super::access::{self, Seat};
use super::repo::{self, EvalRow};
use super::rules::{check_band, fmt_score, parse_score};
use super::service::{scoring_from, scoring_seat};
use super::types::{Ack, EvalRoomError, EvaluationTerms};
use crate::auth::{CurrentUser, Role};
use crate::crypto::sha256_hex;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::{self, canonical_json, Event, LedgerEvent};
use crate::state::AppState;
use crate::tender::repo::{self as tender_repo, Locked};

/// Scores waiting for the writer, at most; a submission beyond waits for room.
const QUEUE: usize = 8192;
/// Scores in one transaction, at most.
const BATCH: usize = 2048;

/// One expert's scores for one bid: the `score` command.
#[derive(Debug, Clone)]
pub struct Submission {
    pub user: CurrentUser,
    pub tender_id: String,
    pub bid_id: String,
    pub items: BTreeMap<String, String>,
    pub bands: BTreeMap<String, String>,
    /// When it was asked, by the asking state's clock: the time of its rows and event.
    pub at: i64,
}

struct Job {
    sub: Submission,
    reply: oneshot::Sender<AppResult<Ack>>,
}

/// The node's score writer (a run-time part, [`AppState::runtime`]): the queue, and its
/// receiving end until [`start`] takes it.
pub struct Writer {
    queue: mpsc::Sender<Job>,
    waiting: Mutex<Option<mpsc::Receiver<Job>>>,
}

impl Default for Writer {
    fn default() -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        Writer {
            queue,
            waiting: Mutex::new(Some(waiting)),
        }
    }
}

/// Starts the node's writer; it runs until `stop` turns true.
pub async fn start(state: &AppState, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    let Some(mut waiting) = state.runtime::<Writer>().waiting.lock().await.take() else {
        return Ok(());
    };
    let state = state.clone();
    let measured = Measured::register(&state.metrics.registry)?;
    tokio::spawn(async move {
        let mut jobs = Vec::with_capacity(BATCH);
        let mut kept = Kept::default();
        loop {
            tokio::select! {
                n = waiting.recv_many(&mut jobs, BATCH) => if n == 0 { break },
                _ = stop.wait_for(|s| *s) => break,
            }
            let started = std::time::Instant::now();
            measured.size.observe(jobs.len() as f64);
            run(&state, &mut kept, std::mem::take(&mut jobs)).await;
            measured.seconds.observe(started.elapsed().as_secs_f64());
        }
    });
    Ok(())
}

/// The batches on `/metrics`: how many scores each took and how long it held them. The
/// scores of a burst wait for at most the batch before theirs and their own.
struct Measured {
    size: prometheus::Histogram,
    seconds: prometheus::Histogram,
}

impl Measured {
    fn register(registry: &prometheus::Registry) -> anyhow::Result<Measured> {
        let size = prometheus::Histogram::with_opts(
            prometheus::HistogramOpts::new("score_batch_size", "Scores per group commit")
                .buckets(prometheus::exponential_buckets(1.0, 4.0, 7)?),
        )?;
        let seconds = prometheus::Histogram::with_opts(
            prometheus::HistogramOpts::new(
                "score_batch_seconds",
                "Time from a batch taken to its experts answered",
            )
            .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0]),
        )?;
        registry.register(Box::new(size.clone()))?;
        registry.register(Box::new(seconds.clone()))?;
        Ok(Measured { size, seconds })
    }
}

/// Submits one score and waits for its answer, given after the commit that holds it.
pub async fn submit(state: &AppState, sub: Submission) -> AppResult<Ack> {
    let (reply, answer) = oneshot::channel();
    let stopped = || AppError::Internal(anyhow::anyhow!("the score writer has stopped"));
    state
        .runtime::<Writer>()
        .queue
        .send(Job { sub, reply })
        .await
        .map_err(|_| stopped())?;
    answer.await.map_err(|_| stopped())?
}

/// Runs a batch and answers each job; a batch that fails as a whole runs again one score
/// at a time.
async fn run(state: &AppState, kept: &mut Kept, jobs: Vec<Job>) {
    let subs: Vec<&Submission> = jobs.iter().map(|j| &j.sub).collect();
    match batch(state, kept, &subs).await {
        Ok(done) => {
            for (job, answer) in jobs.into_iter().zip(done.answers) {
                let _ = job.reply.send(answer);
            }
            tell_rooms(state, &done.appended);
        }
        Err(err) if jobs.len() == 1 => {
            if let Some(job) = jobs.into_iter().next() {
                let _ = job.reply.send(Err(err));
            }
        }
        Err(err) => {
            tracing::warn!(scores = jobs.len(), error = %err, "score batch failed; one at a time");
            for job in jobs {
                match batch(state, kept, &[&job.sub]).await {
                    Ok(mut done) => {
                        let _ = job.reply.send(done.answers.remove(0));
                        tell_rooms(state, &done.appended);
                    }
                    Err(err) => {
                        let _ = job.reply.send(Err(err));
                    }
                }
            }
        }
    }
}

/// The rooms are handed the events a batch appended (it changes nothing else they show),
/// after its experts have their answers: an expert waits for the answer, a watcher for
/// the event, and the answer is the shorter to send.
fn tell_rooms(state: &AppState, appended: &BTreeMap<String, Vec<Event>>) {
    for (tender_id, events) in appended {
        state.rooms.appended(tender_id, events);
    }
}

/// A committed batch: each score's answer, in order, and the events appended, by tender.
struct Done {
    answers: Vec<AppResult<Ack>>,
    appended: BTreeMap<String, Vec<Event>>,
}

/// What one tender's scores are checked against, read under its lock.
struct Tender {
    eval: EvalRow,
    terms: EvaluationTerms,
    compliant: BTreeSet<String>,
    /// (bid, expert) pairs with scores already.
    scored: BTreeSet<(String, String)>,
    /// The drawn experts' seats, by user id.
    panel: HashMap<String, Seat>,
}

/// The tenders in their scoring phase as the writer left them after its last commit,
/// each with the version its row had then. Every writer of a tender locks it first
/// ([`tender_repo::lock`], on any node), moving the version on, so a tender found at the
/// same version by the next batch's lock ([`Locked::before`]) has not changed since: its
/// rows need not be read again (the evaluation row's JSON, the terms, the panel and the
/// scores, for hundreds of tenders a batch). Any other is read again.
#[derive(Default)]
struct Kept(HashMap<String, (i64, Tender)>);

/// Tenders kept, at most; past that the writer starts again from none.
const KEPT: usize = 4096;

/// A checked score, to be written.
struct Accepted {
    at: i64,
    tender_id: String,
    bid_id: String,
    seat: Seat,
    items: BTreeMap<String, i64>,
    digest: String,
    actor: String,
}

/// One transaction for `subs`: each gets its own answer, an error that concerns it alone
/// (a wrong item, a second submission) included; `Err` when the transaction fails. Each
/// table is read once for all the batch's tenders not [`Kept`], so a burst costs a dozen
/// statements at most.
async fn batch(state: &AppState, kept: &mut Kept, subs: &[&Submission]) -> AppResult<Done> {
    let mut tx = state.db.begin().await?;
    let mut by_tender: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, s) in subs.iter().enumerate() {
        by_tender.entry(s.tender_id.as_str()).or_default().push(i);
    }
    let ids: Vec<&str> = by_tender.keys().copied().collect();
    let heads: HashMap<String, Locked> = tender_repo::lock_many(&mut tx, &ids)
        .await?
        .into_iter()
        .map(|l| (l.head.id.clone(), l))
        .collect();
    // A tender taken out of `kept` goes back only after the commit.
    let mut ready: HashMap<String, Tender> = HashMap::new();
    let mut stale: Vec<&str> = Vec::new();
    for id in &ids {
        let Some(locked) = heads.get(*id) else {
            continue;
        };
        match kept.0.remove(*id) {
            Some((was, tender)) if was == locked.before => {
                ready.insert(id.to_string(), tender);
            }
            _ => stale.push(id),
        }
    }
    // Read: the stale tenders' rows; those not scoring keep theirs to tell each score why.
    let mut refused = HashMap::new();
    let mut panels = HashMap::new();
    if !stale.is_empty() {
        let mut evals = repo::scoring_rows(&mut *tx, &stale).await?;
        let mut terms = repo::terms_of(&mut *tx, &stale).await?;
        panels = access::panels(&mut *tx, &stale).await?;
        let mut scored = scored_of(&mut tx, &stale).await?;
        for id in stale {
            let (e, t) = (evals.remove(id), terms.remove(id));
            match scoring_from(&heads[id].head, e.clone(), t.clone(), "score") {
                Ok((eval, terms, compliant)) => {
                    let tender = Tender {
                        eval,
                        terms,
                        compliant,
                        scored: scored.remove(id).unwrap_or_default(),
                        panel: panels.remove(id).unwrap_or_default(),
                    };
                    ready.insert(id.to_string(), tender);
                }
                Err(_) => {
                    refused.insert(id, (e, t));
                }
            }
        }
    }
    let mut answers: Vec<Option<AppResult<Ack>>> = subs.iter().map(|_| None).collect();
    let mut accepted: Vec<Accepted> = Vec::new();
    let mut done: Vec<(String, Tender)> = Vec::new();
    for (tender_id, idx) in &by_tender {
        let Some(Locked { head, .. }) = heads.get(*tender_id) else {
            for &i in idx {
                answers[i] = Some(Err(AppError::NotFound));
            }
            continue;
        };
        let mut tender = ready.remove(*tender_id);
        let panel = panels.remove(*tender_id).unwrap_or_default();
        for &i in idx {
            let s = subs[i];
            // Who asks first: someone not on the panel learns nothing of its phase.
            let seats = tender.as_ref().map_or(&panel, |t| &t.panel);
            let seat = match seat(&mut tx, seats, &s.user, tender_id).await? {
                Ok(seat) => seat,
                Err(refused) => {
                    answers[i] = Some(Err(refused));
                    continue;
                }
            };
            let mut m = access::of(&s.user, head);
            m.seat = seat;
            let answer = match (scoring_seat(&m), &mut tender) {
                (Err(refused), _) => Err(refused),
                (Ok(seat), Some(tender)) => check(tender, seat, s).map(|a| {
                    let ack = Ack::Scored {
                        bid_id: a.bid_id.clone(),
                        sha256: a.digest.clone(),
                    };
                    accepted.push(a);
                    ack
                }),
                // The phase or the terms refuse every score of the tender; each is told
                // why (read again: an error is not copied).
                (Ok(_), None) => {
                    let (e, t) = refused.get(tender_id).cloned().unwrap_or_default();
                    Err(scoring_from(head, e, t, "score")
                        .err()
                        .unwrap_or_else(|| AppError::Internal(anyhow::anyhow!("refusal changed"))))
                }
            };
            answers[i] = Some(answer);
        }
        if let Some(tender) = tender {
            done.push((tender_id.to_string(), tender));
        }
    }
    let appended = write(&mut tx, &accepted).await?;
    tx.commit().await?;
    if kept.0.len() + done.len() > KEPT {
        kept.0.clear();
    }
    for (id, tender) in done {
        let version = heads[&id].after;
        kept.0.insert(id, (version, tender));
    }
    for a in &accepted {
        tracing::info!(tender = %a.tender_id, command = "score", "evaluation command");
    }
    let answers = answers
        .into_iter()
        .map(|a| a.unwrap_or_else(|| Err(AppError::Internal(anyhow::anyhow!("unanswered")))))
        .collect();
    Ok(Done { answers, appended })
}

/// The (bid, expert) pairs already scored, by tender.
async fn scored_of(
    tx: &mut Tx,
    ids: &[&str],
) -> AppResult<HashMap<String, BTreeSet<(String, String)>>> {
    let rows = crate::db::fetch_in(&mut **tx, ids, |list| {
        format!(
            "SELECT DISTINCT tender_id, bid_id, expert_id FROM evaluation_scores \
             WHERE tender_id IN ({list})"
        )
    })
    .await?;
    let mut out: HashMap<String, BTreeSet<(String, String)>> = HashMap::new();
    for r in rows {
        let pair = (r.try_get("bid_id")?, r.try_get("expert_id")?);
        out.entry(r.try_get("tender_id")?).or_default().insert(pair);
    }
    Ok(out)
}

/// The user's seat as `access::seat_of` reads it: `Ok(None)` for a user who is no expert,
/// NOT_ON_PANEL for an expert not drawn for the tender.
async fn seat(
    tx: &mut Tx,
    panel: &HashMap<String, Seat>,
    user: &CurrentUser,
    tender_id: &str,
) -> AppResult<AppResult<Option<Seat>>> {
    if user.role != Role::Expert {
        return Ok(Ok(None));
    }
    if let Some(seat) = panel.get(&user.id) {
        return Ok(Ok(Some(seat.clone())));
    }
    Ok(match access::seat_of(&mut **tx, user, tender_id).await? {
        Some(None) => Err(EvalRoomError::NotOnPanel.into()),
        seat => Ok(seat.flatten()),
    })
}

/// Checks one score against the tender as read (and the scores accepted before it in the
/// batch): the bid, every item once and within its band, not scored before.
fn check(tender: &mut Tender, seat: Seat, s: &Submission) -> AppResult<Accepted> {
    let bid_id = s.bid_id.as_str();
    if !tender.compliant.contains(bid_id) {
        return Err(EvalRoomError::BidNotEvaluated.into());
    }
    let terms = &tender.terms;
    for name in s.items.keys().chain(s.bands.keys()) {
        if !terms.items.iter().any(|i| &i.name == name) {
            return Err(EvalRoomError::UnknownItem { item: name.clone() }.into());
        }
    }
    let mut items = BTreeMap::new();
    for i in &terms.items {
        let v = s
            .items
            .get(&i.name)
            .ok_or_else(|| EvalRoomError::MissingItem {
                item: i.name.clone(),
            })?;
        let score = parse_score(&i.name, v)?;
        check_band(i, score, s.bands.get(&i.name).map(String::as_str))?;
        items.insert(i.name.clone(), score);
    }
    // A second submission for the same bid changes nothing (the table's key would refuse
    // its rows as well).
    if !items.is_empty()
        && !tender
            .scored
            .insert((bid_id.to_string(), seat.expert_id.clone()))
    {
        return Err(EvalRoomError::AlreadyScored.into());
    }
    let shown: BTreeMap<&String, String> = items.iter().map(|(k, v)| (k, fmt_score(*v))).collect();
    let digest = sha256_hex(
        canonical_json(&json!({ "bid_id": bid_id, "expert_id": seat.expert_id, "items": shown }))
            .as_bytes(),
    );
    Ok(Accepted {
        at: s.at,
        tender_id: s.tender_id.clone(),
        bid_id: bid_id.to_string(),
        actor: tender.eval.pseudonym(&seat.expert_id),
        seat,
        items,
        digest,
    })
}

/// The accepted scores' rows, and one `scores_submitted` event each, in arrival order per
/// tender; the events as appended, by tender.
async fn write(tx: &mut Tx, accepted: &[Accepted]) -> AppResult<BTreeMap<String, Vec<Event>>> {
    let rows: Vec<(&Accepted, &String, i64)> = accepted
        .iter()
        .flat_map(|a| a.items.iter().map(move |(item, s)| (a, item, *s)))
        .collect();
    for chunk in rows.chunks(crate::db::ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO evaluation_scores (tender_id, bid_id, expert_id, item, score, at) \
             VALUES {}",
            crate::db::row_placeholders(tx, chunk.len(), 6)
        );
        let mut insert = sqlx::query(&sql);
        for (a, item, s) in chunk {
            insert = insert
                .bind(a.tender_id.as_str())
                .bind(a.bid_id.as_str())
                .bind(a.seat.expert_id.as_str())
                .bind(item.as_str())
                .bind(*s)
                .bind(a.at);
        }
        insert.execute(&mut **tx).await?;
    }
    let events: Vec<LedgerEvent> = accepted
        .iter()
        .map(|a| {
            LedgerEvent::ScoresSubmitted(ledger::ScoresSubmitted {
                seat: a.seat.seat,
                bid_id: a.bid_id.clone(),
                sha256: a.digest.clone(),
            })
        })
        .collect();
    let appends: Vec<(&str, i64, &str, &LedgerEvent)> = accepted
        .iter()
        .zip(&events)
        .map(|(a, e)| (a.tender_id.as_str(), a.at, a.actor.as_str(), e))
        .collect();
    let mut by_tender: BTreeMap<String, Vec<Event>> = BTreeMap::new();
    for (a, e) in accepted
        .iter()
        .zip(ledger::repo::append_many(tx, &appends).await?)
    {
        by_tender.entry(a.tender_id.clone()).or_default().push(e);
    }
    Ok(by_tender)
}
