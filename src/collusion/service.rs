//! The warnings of a tender after its opening, and the supervisors' decisions.

use std::collections::BTreeMap;

use super::errors;
use super::market;
use super::minhash;
use super::numbers;
use super::office;
use super::pdftext;
use super::personnel;
use super::repo;
use super::rules::{self, Finding};
use super::similarity;
use super::types::{
    Ack, Command, LotScreens, ScreensView, Tally, WarningError, WarningView, WarningsView,
};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::ledger::{LedgerEvent, WarningDecided};
use crate::state::AppState;
use crate::tender::repo::TenderHead;
use crate::tender::types::TenderStatus;
use crate::tender::Action;

pub const MAX_REASON_CHARS: usize = 2_000;

/// Whether the tender's bids were opened: it went past its opening.
fn opened(head: &TenderHead) -> bool {
    matches!(
        head.status,
        TenderStatus::Evaluating
            | TenderStatus::Awarded
            | TenderStatus::Failed
            | TenderStatus::Cancelled
    )
}

/// Every finding of the tender's opened bids (and, once the report is written, of what
/// it set aside and who it ranked first).
fn findings(facts: &[rules::BidFacts], outcome: &rules::Outcome) -> Vec<Finding> {
    let mut out = rules::first_hand(facts);
    out.extend(rules::price_patterns(facts));
    out.extend(rules::relations(facts));
    out.extend(rules::red_flags(facts, outcome));
    out
}

/// Documents read of each bid's package: the text, PDF and Word ones, at most this many
/// per bid.
const TEXT_DOCUMENTS_PER_BID: usize = 16;

/// Tenders whose document findings are kept.
const KEPT_TENDERS: usize = 256;

/// The document findings of opened tenders, computed once: what the opening decrypted
/// does not change, and comparing 50 bids of 200 pages takes seconds (BENCHMARKS.md),
/// too long for each refresh of the supervisors' page. A run-time part (`AppState::
/// runtime`); emptied when `KEPT_TENDERS` are kept.
#[derive(Default)]
pub struct DocumentFindings(std::sync::Mutex<std::collections::HashMap<String, Vec<Finding>>>);

impl DocumentFindings {
    fn get(&self, tender_id: &str) -> Option<Vec<Finding>> {
        let kept = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        kept.get(tender_id).cloned()
    }

    fn keep(&self, tender_id: &str, found: &[Finding]) {
        let mut kept = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if kept.len() >= KEPT_TENDERS {
            kept.clear();
        }
        kept.insert(tender_id.to_string(), found.to_vec());
    }
}

/// The text of a bid's text, PDF, Word and Excel documents (through `pdftext` and `office`), the first
/// `similarity::MAX_CHARS` characters of them.
async fn bid_text(state: &AppState, docs: &[crate::ledger::Document]) -> AppResult<String> {
    let mut text = String::new();
    for d in docs
        .iter()
        .filter(|d| {
            d.media_type.starts_with("text/")
                || pdftext::is_pdf(&d.name, &d.media_type)
                || office::is_docx(&d.name, &d.media_type)
                || office::is_xlsx(&d.name, &d.media_type)
        })
        .take(TEXT_DOCUMENTS_PER_BID)
    {
        // No encoding takes more than 4 bytes a character.
        let budget = similarity::MAX_CHARS.saturating_sub(text.chars().count()) * 4;
        if budget == 0 {
            break;
        }
        let read = if d.media_type.starts_with("text/") {
            state
                .blobs
                .get_prefix(&d.sha256, budget)
                .await?
                .map(|bytes| similarity::decode_text(&bytes, &d.media_type))
        } else if let Some(path) = state.blobs.file(&d.sha256).await? {
            if pdftext::is_pdf(&d.name, &d.media_type) {
                pdftext::text(&path, budget).await
            } else {
                let (name, media) = (d.name.clone(), d.media_type.clone());
                tokio::task::spawn_blocking(move || {
                    office::office_text(&path, &name, &media, budget)
                })
                .await
                .map_err(anyhow::Error::from)?
            }
        } else {
            None
        };
        if let Some(read) = read {
            text.push_str(&read);
            text.push('\n');
        }
    }
    Ok(text)
}

/// The files inside a bid's ZIP archives (R-COL-5 looks into them): (SHA-256, name).
async fn bid_archives(
    state: &AppState,
    docs: &[crate::ledger::Document],
) -> AppResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for d in docs
        .iter()
        .filter(|d| office::is_zip(&d.name, &d.media_type))
    {
        if let Some(path) = state.blobs.file(&d.sha256).await? {
            let name = d.name.clone();
            out.extend(
                tokio::task::spawn_blocking(move || office::archive_members(&path, &name))
                    .await
                    .map_err(anyhow::Error::from)?,
            );
        }
    }
    Ok(out)
}

/// The personnel declaration among a bid's documents, if it has one that reads.
async fn bid_people(
    state: &AppState,
    docs: &[crate::ledger::Document],
) -> AppResult<Option<crate::bid::personnel::Declaration>> {
    let Some(d) = docs
        .iter()
        .find(|d| crate::bid::personnel::is_declaration(&d.name, &d.media_type))
    else {
        return Ok(None);
    };
    let bytes = state
        .blobs
        .get_prefix(&d.sha256, crate::bid::personnel::MAX_BYTES + 1)
        .await?;
    Ok(bytes.as_deref().and_then(crate::bid::personnel::parse))
}

/// R-COL-4's similar texts, R-COL-5's shared files and R-COL-2/3's shared people, from
/// the documents the opening decrypted (`bid_text`, `bid_people`; bids read as many at
/// a time as the machine has cores, a PDF taking about half a second per 160 pages) and
/// the tender's own documents. Call only once `check` passed.
async fn document_findings(
    state: &AppState,
    tender_id: &str,
    facts: &[rules::BidFacts],
) -> AppResult<Vec<Finding>> {
    use futures_util::{StreamExt, TryStreamExt};

    let kept = state.runtime::<DocumentFindings>();
    if let Some(found) = kept.get(tender_id) {
        return Ok(found);
    }
    let mut read = crate::opening::repo::read_out_documents(&state.db.pool, tender_id).await?;
    // Owned, so that the reads are futures of their own (a stream's closure borrowing
    // them is not `Send` for every lifetime the router asks of a handler).
    let per_bid: Vec<(rules::BidFacts, Vec<crate::ledger::Document>)> = facts
        .iter()
        .map(|f| (f.clone(), read.remove(&f.bid_id).unwrap_or_default()))
        .collect();
    let at_once = std::thread::available_parallelism().map_or(2, |n| n.get());
    let read: Vec<(similarity::BidDocuments, Option<personnel::BidPeople>)> =
        futures_util::stream::iter(per_bid)
            .map(|(f, docs)| {
                let state = state.clone();
                async move {
                    let text = bid_text(&state, &docs).await?;
                    let people =
                        bid_people(&state, &docs)
                            .await?
                            .map(|declaration| personnel::BidPeople {
                                bid_id: f.bid_id.clone(),
                                org_id: f.org_id.clone(),
                                org_name: f.org_name.clone(),
                                declaration,
                            });
                    let mut files = bid_archives(&state, &docs).await?;
                    files.extend(docs.into_iter().map(|d| (d.sha256, d.name)));
                    let documents = similarity::BidDocuments {
                        bid_id: f.bid_id,
                        org_id: f.org_id,
                        org_name: f.org_name,
                        files,
                        text,
                    };
                    AppResult::Ok((documents, people))
                }
            })
            .buffered(at_once)
            .try_collect()
            .await?;
    let (bids, people): (Vec<_>, Vec<_>) = read.into_iter().unzip();
    let people: Vec<personnel::BidPeople> = people.into_iter().flatten().collect();
    let tender_text = {
        let mut conn = state.db.pool.acquire().await?;
        crate::tender::template::render_of(&mut conn, tender_id)
            .await?
            .map(|d| strings(&serde_json::to_value(d).unwrap_or_default()))
            .unwrap_or_default()
    };
    let (found, signatures) = tokio::task::spawn_blocking(move || {
        let own = similarity::own(&bids, &tender_text);
        let mut out = similarity::same_files(&bids);
        out.extend(similarity::similar_in(&bids, &own));
        out.extend(errors::shared_errors(&bids, &tender_text));
        out.extend(numbers::named_in_text(&bids, &tender_text));
        out.extend(personnel::findings(&people));
        (out, signatures_of(&bids, &own))
    })
    .await
    .map_err(anyhow::Error::from)?;
    repo::keep_signatures(&state.db.pool, tender_id, &signatures, state.clock.now_ms()).await?;
    kept.keep(tender_id, &found);
    Ok(found)
}

/// The MinHash signature of each bidder's own text with `similarity::MIN_SHARED`
/// shingles or more (fewer could never make a warning), under its first bid.
fn signatures_of(bids: &[similarity::BidDocuments], own: &similarity::Own) -> Vec<repo::Signature> {
    own.sets()
        .iter()
        .filter(|(_, set)| set.len() >= similarity::MIN_SHARED)
        .filter_map(|(org, set)| {
            let bid = bids.iter().find(|b| b.org_id == *org)?;
            Some(repo::Signature {
                org_id: org.to_string(),
                bid_id: bid.bid_id.clone(),
                shingles: set.len() as i64,
                rows: minhash::signature(set)?,
            })
        })
        .collect()
}

/// Warnings a bidder's own text shown per other tender: the most alike first.
const ACROSS_PER_BIDDER: usize = 10;

/// R-COL-4 across tenders: this tender's bidders whose own text is alike (estimated from
/// the signatures, `similarity::THRESHOLD` or more, the bands the city's common text
/// makes set apart) another bidder's in another opened tender — one hand writing for
/// several firms. Read on each view, so that a tender opened
/// later is found from the earlier one too.
async fn across_tenders(
    state: &AppState,
    tender_id: &str,
    facts: &[rules::BidFacts],
) -> AppResult<Vec<Finding>> {
    let (mine, others) = repo::candidates(&state.db.pool, tender_id).await?;
    if others.is_empty() {
        return Ok(Vec::new());
    }
    let keys = mine
        .iter()
        .map(|m| &m.2)
        .chain(others.iter().map(|c| &c.rows))
        .flat_map(|rows| minhash::bands(rows))
        .collect();
    let crowded = repo::crowded(&state.db.pool, &keys).await?;
    let mut out = Vec::new();
    for (org, bid, rows) in &mine {
        let name = facts
            .iter()
            .find(|f| f.org_id == *org)
            .map_or("", |f| f.org_name.as_str());
        let mut alike: Vec<(f64, &repo::Candidate)> = others
            .iter()
            .filter(|c| c.my_org == *org)
            .map(|c| (minhash::estimate_apart(rows, &c.rows, &crowded), c))
            .filter(|(j, _)| *j >= minhash::THRESHOLD)
            .collect();
        alike.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (j, c) in alike.into_iter().take(ACROSS_PER_BIDDER) {
            let rounded = (j * 100.0).round() / 100.0;
            out.push(Finding {
                rule: "R-COL-4",
                kind: "similar_across_tenders",
                bids: vec![bid.clone()],
                evidence: serde_json::json!({
                    "value": format!("{} {}", c.code, c.org_name),
                    "similarity": rounded,
                    "tender": {"id": c.tender_id, "code": c.code, "title": c.title},
                    "other_bid_id": c.bid_id,
                    "bidders": [name, c.org_name.as_str()],
                }),
                weight: (40.0 + 40.0 * j).min(80.0) as u32,
            });
        }
    }
    Ok(out)
}

/// Whether an opened tender's texts are being read for their signatures (`index_due`).
#[derive(Default)]
pub struct Indexing(std::sync::atomic::AtomicBool);

/// The due work of the warnings: one opened tender's texts read for their signatures at
/// a time, in a task of its own (a tender of PDFs takes seconds; the deadlines' loop must
/// not wait), so that a later tender is compared with it whether or not a supervisor read
/// its warnings.
pub async fn index_due(state: &AppState) -> anyhow::Result<()> {
    use std::sync::atomic::Ordering;
    let running = &state.runtime::<Indexing>().0;
    if running.load(Ordering::Acquire) {
        return Ok(());
    }
    let Some(tender_id) = repo::unindexed(&state.db.pool).await? else {
        return Ok(());
    };
    if running.swap(true, Ordering::AcqRel) {
        return Ok(());
    }
    let state = state.clone();
    tokio::spawn(async move {
        let read = async {
            let facts = repo::facts(&state.db.pool, &tender_id).await?;
            document_findings(&state, &tender_id, &facts).await?;
            AppResult::Ok(())
        };
        if let Err(e) = read.await {
            tracing::error!(tender = %tender_id, error = ?e, "reading an opened tender's texts failed");
        }
        // Marked read whatever came of it (its findings kept before, or a document that
        // could not be read), so that the due work moves on rather than retrying each
        // tick; a supervisor's read of its warnings keeps the signatures when it succeeds.
        if let Err(e) =
            repo::keep_signatures(&state.db.pool, &tender_id, &[], state.clock.now_ms()).await
        {
            tracing::error!(tender = %tender_id, error = ?e, "marking an opened tender read failed");
        }
        state
            .runtime::<Indexing>()
            .0
            .store(false, Ordering::Release);
    });
    Ok(())
}

/// Every text of a JSON value, one a line.
fn strings(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => format!("{s}\n"),
        serde_json::Value::Array(a) => a.iter().map(strings).collect(),
        serde_json::Value::Object(o) => o.values().map(strings).collect(),
        _ => String::new(),
    }
}

/// The supervisors only, after the opening: anyone else `FORBIDDEN` at the route (suppliers
/// and the public never), before the opening `WARNINGS_NOT_YET`.
fn check(user: &CurrentUser, head: &TenderHead) -> AppResult<()> {
    if !user.role.is_supervisor() {
        return Err(AppError::Forbidden);
    }
    if !opened(head) {
        return Err(WarningError::NotOpened.into());
    }
    Ok(())
}

/// The read-out bids of an opened tender and every finding about them, the documents'
/// included. Call only once `check` passed (or the tender is known opened).
async fn every_finding(
    state: &AppState,
    tender_id: &str,
) -> AppResult<(Vec<rules::BidFacts>, Vec<Finding>)> {
    let pool = &state.db.pool;
    let facts = repo::facts(pool, tender_id).await?;
    let outcome = repo::outcome(pool, tender_id).await?;
    let documents = document_findings(state, tender_id, &facts).await?;
    let mut found = findings(&facts, &outcome);
    found.extend(documents);
    found.extend(across_tenders(state, tender_id, &facts).await?);
    Ok((facts, found))
}

async fn decisions(
    state: &AppState,
    tender_id: &str,
) -> AppResult<BTreeMap<String, repo::Decision>> {
    Ok(repo::decisions(&state.db.pool, tender_id)
        .await?
        .into_iter()
        .map(|d| (d.warning_key.clone(), d))
        .collect())
}

/// How many of a tender's warnings are undecided and how many were confirmed, for the
/// supervisors' console: `None` before the opening (nothing is computed then).
pub async fn tally(
    state: &AppState,
    user: &CurrentUser,
    head: &TenderHead,
) -> AppResult<Option<Tally>> {
    if !user.role.is_supervisor() {
        return Err(AppError::Forbidden);
    }
    if !opened(head) {
        return Ok(None);
    }
    let (_, found) = every_finding(state, &head.id).await?;
    let decisions = decisions(state, &head.id).await?;
    let mut t = Tally::default();
    for f in &found {
        match decisions.get(&f.key()).map(|d| d.status.as_str()) {
            None => t.open += 1,
            Some("confirmed") => t.confirmed += 1,
            Some(_) => t.dismissed += 1,
        }
    }
    Ok(Some(t))
}

pub async fn view(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
) -> AppResult<WarningsView> {
    let pool = &state.db.pool;
    let head = crate::tender::repo::published_head(pool, tender_id).await?;
    check(user, &head)?;
    let (facts, found) = every_finding(state, tender_id).await?;
    let decisions = decisions(state, tender_id).await?;
    let warnings = found
        .into_iter()
        .map(|f| {
            let key = f.key();
            let d = decisions.get(&key);
            WarningView {
                status: d.map_or("open".into(), |d| d.status.clone()),
                reason: d.map(|d| d.reason.clone()),
                decided_at: d.map(|d| d.decided_at),
                key,
                finding: f,
            }
        })
        .collect();
    let mut lots: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for b in facts.iter().filter(|b| b.price_fen > 0) {
        lots.entry(b.lot_no).or_default().push(b.price_fen);
    }
    let screens = lots
        .into_iter()
        .filter_map(|(lot_no, prices)| {
            rules::screens(&prices).map(|screens| LotScreens { lot_no, screens })
        })
        .collect();
    Ok(WarningsView {
        tender_id: tender_id.to_string(),
        warnings,
        screens,
        ledger: crate::ledger::repo::load_warnings(pool, tender_id).await?,
    })
}

pub async fn command(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    cmd: Command,
) -> AppResult<Ack> {
    let (key, reason, confirmed) = match cmd {
        Command::Confirm { key, reason } => (key, reason, true),
        Command::Dismiss { key, reason } => (key, reason, false),
    };
    let reason = reason.trim().to_string();
    let n = reason.chars().count();
    if n == 0 || n > MAX_REASON_CHARS {
        return Err(AppError::field(
            "reason",
            "须说明理由（2,000 字以内）/ a reason is required (2,000 characters)",
        ));
    }
    // The documents' findings first, outside the transaction: what the opening
    // decrypted does not change.
    let head = crate::tender::repo::published_head(&state.db.pool, tender_id).await?;
    check(user, &head)?;
    let facts = repo::facts(&state.db.pool, tender_id).await?;
    let documents = document_findings(state, tender_id, &facts).await?;
    let mut a = Action::begin(state, tender_id).await?;
    let (tx, head, now) = (&mut a.tx, &a.head, a.now);
    check(user, head)?;
    let facts = repo::facts(&mut **tx, tender_id).await?;
    let outcome = repo::outcome(&mut **tx, tender_id).await?;
    let finding = findings(&facts, &outcome)
        .into_iter()
        .chain(documents)
        .find(|f| f.key() == key)
        .ok_or(AppError::NotFound)?;
    let decided: Option<String> = sqlx::query_scalar(
        "SELECT status FROM collusion_decisions WHERE tender_id = $1 AND warning_key = $2",
    )
    .bind(tender_id)
    .bind(&key)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(status) = decided {
        return Err(AppError::IllegalTransition {
            from: status,
            action: if confirmed { "confirm" } else { "dismiss" },
        });
    }
    let status = if confirmed { "confirmed" } else { "dismissed" };
    sqlx::query(
        "INSERT INTO collusion_decisions (tender_id, warning_key, rule, kind, bids, status, \
         reason, decided_by, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(tender_id)
    .bind(&key)
    .bind(finding.rule)
    .bind(finding.kind)
    .bind(serde_json::to_string(&finding.bids).map_err(anyhow::Error::from)?)
    .bind(status)
    .bind(&reason)
    .bind(&user.id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let event = WarningDecided {
        key: key.clone(),
        rule: finding.rule.into(),
        kind: finding.kind.into(),
        bids: finding.bids.clone(),
        confirmed,
        reason_sha256: crate::crypto::sha256_hex(reason.as_bytes()),
    };
    crate::ledger::repo::append_warning(
        tx,
        tender_id,
        now,
        &user.id,
        &LedgerEvent::WarningDecided(event),
    )
    .await?;
    a.commit(state).await?;
    Ok(Ack {
        key,
        status: status.into(),
    })
}

/// The flags that compare across the city's evaluated tenders (R024, R058, R038, bid
/// rotation), with the names of the organisations and tenders they name: the
/// supervisors'.
pub async fn screens(state: &AppState, user: &CurrentUser) -> AppResult<ScreensView> {
    if !user.role.is_supervisor() {
        return Err(AppError::Forbidden);
    }
    let pool = &state.db.pool;
    let processes = repo::processes(pool).await?;
    let flags = rules::cross_flags(&processes);
    let market = market::market(&processes);
    let mut orgs: std::collections::BTreeSet<&str> = Default::default();
    let mut tenders: std::collections::BTreeSet<&str> = Default::default();
    for f in flags.r024.iter().chain(&flags.r058) {
        tenders.insert(&f.tender_id);
        orgs.extend(f.bidders.iter().map(String::as_str));
    }
    orgs.extend(flags.r038.iter().map(|f| f.org_id.as_str()));
    for r in &flags.rotation {
        tenders.extend(r.processes.iter().map(String::as_str));
        orgs.extend(r.bidders.iter().map(String::as_str));
    }
    for e in &market.co_bidding {
        tenders.extend(e.tenders.iter().map(String::as_str));
        orgs.extend(e.bidders.iter().map(String::as_str));
    }
    for w in &market.win_rates {
        orgs.insert(&w.org_id);
        if w.group == "buyer" {
            orgs.insert(&w.key);
        }
    }
    let names = repo::names(pool, &orgs).await?;
    let tenders = repo::tender_refs(pool, &tenders).await?;
    Ok(ScreensView {
        flags,
        names,
        tenders,
        market,
    })
}
