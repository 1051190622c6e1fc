//! Publishing the result: the notice and the letters built from the evaluation's signed
//! report, signed by the platform, stored, and recorded in the tender's ledger by digest.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use sqlx::Row;

use super::notice::{self, SignedDocument};
use super::repo;
use super::types::{Ack, Command, ResultView};
use crate::auth::{CurrentUser, Role};
use crate::calendar::deadlines::DeadlineRule;
use crate::calendar::Deadlines;
use crate::committee::types::Phase;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::repo::append;
use crate::ledger::{canonical_json, LedgerEvent, LetterRef, ResultPublished};
use crate::opening::types::ReadOutBid;
use crate::state::AppState;
use crate::tender::repo::TenderHead;
use crate::tender::Action;

pub async fn command(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    cmd: Command,
) -> AppResult<Ack> {
    let mut a = Action::begin(state, tender_id).await?;
    if !crate::committee::access::of(user, &a.head).host {
        return Err(AppError::Forbidden);
    }
    let ack = match cmd {
        Command::Publish {} => publish(state, &mut a.tx, user, &a.head, a.now).await?,
    };
    a.commit(state).await?;
    Ok(ack)
}

/// The evaluation's award, or `ILLEGAL_TRANSITION` from where the tender is.
async fn awarded(tx: &mut Tx, head: &TenderHead) -> AppResult<(Value, i64)> {
    let e = crate::committee::repo::eval_row(&mut **tx, &head.id).await?;
    match e {
        Some(e) if e.phase == Phase::Awarded => Ok((
            e.report
                .ok_or_else(|| anyhow::anyhow!("awarded without a report"))?,
            e.awarded_at
                .ok_or_else(|| anyhow::anyhow!("awarded without a time"))?,
        )),
        _ => Err(AppError::IllegalTransition {
            from: head.status.as_str().to_string(),
            action: "publish_result",
        }),
    }
}

/// The platform signs `document` (its canonical JSON).
fn sign(state: &AppState, document: Value) -> AppResult<SignedDocument> {
    let message = canonical_json(&document);
    let signature = state.pki.sign(message.as_bytes())?;
    Ok(SignedDocument {
        document_sha256: notice::digest(&document),
        document,
        signature: crate::crypto::b64url::encode(&signature),
        signer_pem: state.pki.signer_pem.clone(),
        ca_pem: state.pki.ca_pem.clone(),
    })
}

async fn publish(
    state: &AppState,
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    now: i64,
) -> AppResult<Ack> {
    let (report, awarded_at) = awarded(tx, head).await?;
    if repo::notice(&mut **tx, &head.id).await?.is_some() {
        return Err(AppError::IllegalTransition {
            from: "published".into(),
            action: "publish_result",
        });
    }
    let deadlines = state.runtime::<Deadlines>();
    let publicity_ends_at = deadlines.due(DeadlineRule::ResultPublicity, now);
    let facts = Facts::read(tx, head, report).await?;
    let notice_doc = sign(state, facts.notice(awarded_at, now, publicity_ends_at))?;
    sqlx::query(
        "INSERT INTO result_notices (tender_id, notice, notice_sha256, published_by, \
         published_at, publicity_ends_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&head.id)
    .bind(serde_json::to_string(&notice_doc).map_err(anyhow::Error::from)?)
    .bind(&notice_doc.document_sha256)
    .bind(&user.id)
    .bind(now)
    .bind(publicity_ends_at)
    .execute(&mut **tx)
    .await?;
    let contract_due_at = deadlines.due(DeadlineRule::ContractSigning, now);
    let mut letters = Vec::new();
    for (org, name) in facts.bidders() {
        let doc = facts.letter(
            &org,
            &name,
            &notice_doc.document_sha256,
            now,
            contract_due_at,
        );
        let kind = if doc["type"] == "award_letter" {
            "award"
        } else {
            "result"
        };
        let letter = sign(state, doc)?;
        sqlx::query(
            "INSERT INTO result_letters (tender_id, org_id, kind, letter, letter_sha256) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&head.id)
        .bind(&org)
        .bind(kind)
        .bind(serde_json::to_string(&letter).map_err(anyhow::Error::from)?)
        .bind(&letter.document_sha256)
        .execute(&mut **tx)
        .await?;
        letters.push(LetterRef {
            org_id: org,
            kind: kind.into(),
            letter_sha256: letter.document_sha256,
        });
    }
    let n = letters.len();
    let event = ResultPublished {
        notice_sha256: notice_doc.document_sha256.clone(),
        publicity_ends_at,
        letters,
    };
    append(
        tx,
        &head.id,
        now,
        &user.id,
        &LedgerEvent::ResultPublished(event),
    )
    .await?;
    Ok(Ack {
        notice_sha256: notice_doc.document_sha256,
        letters: n,
        publicity_ends_at,
    })
}

/// What the notice and the letters are made of.
struct Facts {
    tender: Value,
    lots: BTreeMap<i64, (String, i64)>,
    bids: Vec<ReadOutBid>,
    panel: Vec<(i64, String)>,
    /// The evaluation's signed report.
    report: Value,
}

/// A lot's outcome for one bid, from the report: (rank, of how many ranked, points as
/// written, price offered, evaluated price).
struct Standing {
    rank: Option<i64>,
    ranked: usize,
    score: Option<String>,
    price_fen: Option<i64>,
    evaluated_fen: Option<i64>,
}

fn report_lot(report: &Value, lot_no: i64) -> Option<&Value> {
    report["lots"]
        .as_array()?
        .iter()
        .find(|l| l["lot_no"] == lot_no)
}

fn standing(report: &Value, lot_no: i64, bid_id: &str) -> Standing {
    let lot = report_lot(report, lot_no);
    let ranking = lot
        .and_then(|l| l["result"]["ranking"].as_array())
        .cloned()
        .unwrap_or_default();
    let entry = ranking.iter().find(|r| r["bidder"] == bid_id);
    let bid = lot
        .and_then(|l| l["result"]["bids"].as_array())
        .and_then(|b| b.iter().find(|b| b["bidder"] == bid_id));
    Standing {
        rank: entry.and_then(|e| e["rank"].as_i64()),
        ranked: ranking.len(),
        score: entry
            .and_then(|e| e["total"].as_i64())
            .map(crate::evaluation::rounding::fmt_points),
        price_fen: bid.and_then(|b| b["price"]["price_offered_fen"].as_i64()),
        evaluated_fen: entry.and_then(|e| e["evaluated_fen"].as_i64()),
    }
}

impl Facts {
    async fn read(tx: &mut Tx, head: &TenderHead, report: Value) -> AppResult<Facts> {
        let t = sqlx::query(
            "SELECT t.code, t.title, t.method, t.category, p.name AS purchaser, \
             a.name AS agency FROM tenders t JOIN organisations p ON p.id = t.purchaser_org_id \
             JOIN organisations a ON a.id = t.agency_org_id WHERE t.id = $1",
        )
        .bind(&head.id)
        .fetch_one(&mut **tx)
        .await?;
        let tender = json!({
            "id": head.id,
            "code": t.try_get::<String, _>("code")?,
            "title": t.try_get::<String, _>("title")?,
            "method": t.try_get::<String, _>("method")?,
            "category": t.try_get::<String, _>("category")?,
            "purchaser": t.try_get::<String, _>("purchaser")?,
            "agency": t.try_get::<String, _>("agency")?,
        });
        let lots = sqlx::query(
            "SELECT lot_no, name, budget_fen FROM tender_lots WHERE tender_id = $1 ORDER BY lot_no",
        )
        .bind(&head.id)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| -> sqlx::Result<(i64, (String, i64))> {
            Ok((
                r.try_get("lot_no")?,
                (r.try_get("name")?, r.try_get("budget_fen")?),
            ))
        })
        .collect::<sqlx::Result<_>>()?;
        Ok(Facts {
            tender,
            lots,
            bids: crate::opening::repo::read_out_bids(&mut **tx, &head.id).await?,
            panel: crate::committee::repo::seated_names(&mut **tx, &head.id).await?,
            report,
        })
    }

    /// Every organisation that bid, with its name, once each.
    fn bidders(&self) -> Vec<(String, String)> {
        let mut out: BTreeMap<String, String> = BTreeMap::new();
        for b in &self.bids {
            out.entry(b.bidder_org_id.clone())
                .or_insert_with(|| b.bidder_name.clone());
        }
        out.into_iter().collect()
    }

    fn notice(&self, awarded_at: i64, now: i64, publicity_ends_at: i64) -> Value {
        let report = &self.report;
        let winners = crate::committee::report::winners(report);
        let lots: Vec<Value> = self
            .lots
            .iter()
            .map(|(lot_no, (name, budget_fen))| {
                let bidders = self.bids.iter().filter(|b| b.lot_no == *lot_no).count();
                let winner = winners.iter().find(|w| w.lot_no == *lot_no).and_then(|w| {
                    let bid = self.bids.iter().find(|b| b.bid_id == w.bid_id)?;
                    let s = standing(report, *lot_no, &w.bid_id);
                    let price = s.price_fen.unwrap_or(bid.sheet.total_price_fen);
                    Some(json!({
                        "org_id": bid.bidder_org_id,
                        "name": bid.bidder_name,
                        "price_fen": price,
                        "price_words": crate::evaluation::words::amount_in_words(price),
                        "score": s.score,
                        "delivery_days": bid.sheet.delivery_days,
                        "warranty_months": bid.sheet.warranty_months,
                        "brand": bid.sheet.brand,
                        "products": bid.sheet.products.iter().map(|p| &p.name).collect::<Vec<_>>(),
                        "enterprise_size": bid.enterprise_size,
                    }))
                });
                json!({
                    "lot_no": lot_no,
                    "name": name,
                    "budget_fen": budget_fen,
                    "outcome": if winner.is_some() { "awarded" } else { "failed" },
                    "bidders": bidders,
                    "winner": winner,
                })
            })
            .collect();
        json!({
            "type": "result_notice",
            "tender": self.tender,
            "lots": lots,
            "panel": self.panel.iter().map(|(seat, name)| json!({"seat": seat, "name": name})).collect::<Vec<_>>(),
            "report_sha256": notice::digest(report),
            "awarded_at": awarded_at,
            "published_at": now,
            "publicity_ends_at": publicity_ends_at,
            "signed_at": now,
        })
    }

    /// The letter to `org`: its own standing in each lot it bid for, and whether it won.
    fn letter(
        &self,
        org: &str,
        name: &str,
        notice_sha256: &str,
        now: i64,
        contract_due_at: i64,
    ) -> Value {
        let mut won_any = false;
        let lots: Vec<Value> = self
            .bids
            .iter()
            .filter(|b| b.bidder_org_id == org)
            .map(|b| {
                let s = standing(&self.report, b.lot_no, &b.bid_id);
                let won = s.rank == Some(1);
                won_any |= won;
                json!({
                    "lot_no": b.lot_no,
                    "name": self.lots.get(&b.lot_no).map(|l| l.0.as_str()),
                    "won": won,
                    "rank": s.rank,
                    "ranked": s.ranked,
                    "score": s.score,
                    "price_fen": s.price_fen.unwrap_or(b.sheet.total_price_fen),
                    "evaluated_fen": s.evaluated_fen,
                })
            })
            .collect();
        json!({
            "type": if won_any { "award_letter" } else { "result_letter" },
            "tender": {"id": self.tender["id"], "code": self.tender["code"],
                       "title": self.tender["title"], "purchaser": self.tender["purchaser"]},
            "to": {"org_id": org, "name": name},
            "lots": lots,
            "notice_sha256": notice_sha256,
            // The contract is signed within 30 days of the award letter (R-CON-1).
            "contract_due_at": if won_any { Some(contract_due_at) } else { None },
            "signed_at": now,
        })
    }
}

pub async fn view(
    state: &AppState,
    user: Option<&CurrentUser>,
    tender_id: &str,
) -> AppResult<ResultView> {
    let pool = &state.db.pool;
    let head = crate::tender::repo::published_head(pool, tender_id).await?;
    let e = crate::committee::repo::eval_row(pool, tender_id).await?;
    let awarded_at = e
        .filter(|e| e.phase == Phase::Awarded)
        .and_then(|e| e.awarded_at);
    let due_at = awarded_at.map(|at| {
        state
            .runtime::<Deadlines>()
            .due(DeadlineRule::ResultAnnouncement, at)
    });
    let notice = repo::notice(pool, tender_id).await?;
    let roles = user.map(|u| crate::committee::access::of(u, &head));
    let tender_side = roles
        .as_ref()
        .is_some_and(|r| r.host || r.purchaser || r.supervisor);
    let letter = match user {
        Some(u) if u.role == Role::Supplier && notice.is_some() => match &u.org_id {
            Some(org) => repo::letter(pool, tender_id, org).await?,
            None => None,
        },
        _ => None,
    };
    let letters = if tender_side && notice.is_some() {
        Some(repo::letters(pool, tender_id).await?)
    } else {
        None
    };
    Ok(ResultView {
        tender_id: tender_id.to_string(),
        awarded_at,
        due_at,
        may_publish: roles.is_some_and(|r| r.host) && awarded_at.is_some() && notice.is_none(),
        notice,
        letter,
        letters,
    })
}
