//! Establishing a framework agreement from the evaluation's ranking, and its call-offs.

use serde_json::Value;
use sqlx::Row;

use super::rules;
use super::types::{
    Ack, AdmittedView, CallOffView, Command, FrameworkError, FrameworkView, Mode, Quote,
};
use crate::auth::{CurrentUser, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::repo::append;
use crate::ledger::{Admitted, CallOffPlaced, FrameworkEstablished, LedgerEvent};
use crate::plan::ProcurementMethod;
use crate::state::AppState;
use crate::tender::repo::TenderHead;
use crate::tender::Action;

const DAY: i64 = 86_400_000;
/// The longest agreement accepted here (110号 sets terms per category: unverified).
const MAX_TERM_MS: i64 = 3 * 366 * DAY;
const MAX_DESCRIPTION: usize = 2000;

/// The tender's agency (host) and purchaser, as the evaluation room has them.
fn is_agency(user: &CurrentUser, head: &TenderHead) -> bool {
    crate::committee::access::of(user, head).host
}

fn is_purchaser(user: &CurrentUser, head: &TenderHead) -> bool {
    crate::committee::access::of(user, head).purchaser
}

async fn admitted(tx: &mut sqlx::AnyConnection, tender_id: &str) -> AppResult<Vec<AdmittedView>> {
    sqlx::query(
        "SELECT f.org_id, o.name, f.rank, f.price_fen FROM framework_suppliers f \
         JOIN organisations o ON o.id = f.org_id WHERE f.tender_id = $1 ORDER BY f.rank",
    )
    .bind(tender_id)
    .fetch_all(tx)
    .await?
    .iter()
    .map(|r| {
        Ok(AdmittedView {
            org_id: r.try_get("org_id")?,
            name: r.try_get("name")?,
            rank: r.try_get("rank")?,
            price_fen: r.try_get("price_fen")?,
        })
    })
    .collect()
}

async fn agreement(
    conn: &mut sqlx::AnyConnection,
    tender_id: &str,
) -> AppResult<Option<(i64, i64)>> {
    Ok(sqlx::query(
        "SELECT established_at, valid_until FROM framework_agreements WHERE tender_id = $1",
    )
    .bind(tender_id)
    .fetch_optional(conn)
    .await?
    .map(|r| -> sqlx::Result<(i64, i64)> { Ok((r.try_get(0)?, r.try_get(1)?)) })
    .transpose()?)
}

pub async fn command(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    cmd: Command,
) -> AppResult<Ack> {
    let mut a = Action::begin(state, tender_id).await?;
    let method: String = sqlx::query_scalar("SELECT method FROM tenders WHERE id = $1")
        .bind(tender_id)
        .fetch_one(&mut *a.tx)
        .await?;
    if !(is_agency(user, &a.head) || is_purchaser(user, &a.head)) {
        return Err(AppError::Forbidden);
    }
    if ProcurementMethod::parse(&method) != Some(ProcurementMethod::FrameworkAgreement) {
        return Err(FrameworkError::NotFramework.into());
    }
    let (tx, head, now) = (&mut a.tx, &a.head, a.now);
    let ack = match cmd {
        Command::Establish {
            admitted,
            valid_until,
        } => establish(state, tx, user, head, admitted, valid_until, now).await?,
        Command::CallOff {
            mode,
            description,
            amount_fen,
            org_id,
            quotes,
        } => {
            let order = CallOff {
                mode,
                description: &description,
                amount_fen,
                org_id: org_id.as_deref(),
                quotes: &quotes,
            };
            call_off(tx, user, head, order, now).await?
        }
    };
    a.commit(state).await?;
    Ok(ack)
}

#[allow(clippy::too_many_arguments)]
async fn establish(
    state: &AppState,
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    count: usize,
    valid_until: i64,
    now: i64,
) -> AppResult<Ack> {
    if !is_agency(user, head) {
        return Err(AppError::Forbidden);
    }
    if agreement(tx, &head.id).await?.is_some() {
        return Err(AppError::IllegalTransition {
            from: "established".into(),
            action: "establish",
        });
    }
    let e = crate::committee::repo::eval_row(&mut **tx, &head.id)
        .await?
        .filter(|e| e.phase == crate::committee::types::Phase::Awarded)
        .ok_or_else(|| AppError::IllegalTransition {
            from: head.status.as_str().to_string(),
            action: "establish",
        })?;
    let report = e.report.unwrap_or(Value::Null);
    let lowest = report["terms"]["method"] == "lowest_evaluated_price";
    let result = &report["lots"][0]["result"];
    let ranking: Vec<String> = result["ranking"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["bidder"].as_str().map(str::to_string))
        .collect();
    let min = crate::tender::service::min_suppliers(state, tx, &head.id).await? as usize;
    if count < min || count > rules::max_admitted(ranking.len(), lowest) {
        return Err(FrameworkError::AdmissionInvalid.into());
    }
    if valid_until <= now || valid_until > now + MAX_TERM_MS {
        return Err(AppError::field(
            "valid_until",
            "协议期限须在今后 3 年内 / the term ends within 3 years from now",
        ));
    }
    let bids = crate::opening::repo::read_out_bids(&mut **tx, &head.id).await?;
    let mut refs = Vec::new();
    for (i, bid_id) in ranking.iter().take(count).enumerate() {
        let b = bids
            .iter()
            .find(|b| &b.bid_id == bid_id)
            .ok_or_else(|| anyhow::anyhow!("ranked bid {bid_id} not read out"))?;
        let price = result["bids"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|x| x["bidder"] == bid_id.as_str())
            .and_then(|x| x["price"]["price_offered_fen"].as_i64())
            .unwrap_or(b.sheet.total_price_fen);
        let rank = i as i64 + 1;
        sqlx::query(
            "INSERT INTO framework_suppliers (tender_id, org_id, rank, price_fen) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&head.id)
        .bind(&b.bidder_org_id)
        .bind(rank)
        .bind(price)
        .execute(&mut **tx)
        .await?;
        refs.push(Admitted {
            org_id: b.bidder_org_id.clone(),
            rank,
            price_fen: price,
        });
    }
    sqlx::query(
        "INSERT INTO framework_agreements (tender_id, established_by, established_at, valid_until) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(&head.id)
    .bind(&user.id)
    .bind(now)
    .bind(valid_until)
    .execute(&mut **tx)
    .await?;
    let event = LedgerEvent::FrameworkEstablished(FrameworkEstablished {
        admitted: refs,
        valid_until,
    });
    append(tx, &head.id, now, &user.id, &event).await?;
    Ok(Ack::Established {
        admitted: count,
        valid_until,
    })
}

struct CallOff<'a> {
    mode: Mode,
    description: &'a str,
    amount_fen: Option<i64>,
    org_id: Option<&'a str>,
    quotes: &'a [Quote],
}

async fn call_off(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    c: CallOff<'_>,
    now: i64,
) -> AppResult<Ack> {
    if !is_purchaser(user, head) {
        return Err(AppError::Forbidden);
    }
    let (_, valid_until) = agreement(tx, &head.id)
        .await?
        .ok_or(FrameworkError::NotEstablished)?;
    if now >= valid_until {
        return Err(FrameworkError::Expired.into());
    }
    let description = c.description.trim();
    if description.is_empty() || description.chars().count() > MAX_DESCRIPTION {
        return Err(AppError::field(
            "description",
            "须填写采购内容,不超过 2000 字 / describe the order in 1 to 2000 characters",
        ));
    }
    let admitted = admitted(tx, &head.id).await?;
    let order: Vec<String> = admitted.iter().map(|a| a.org_id.clone()).collect();
    let amount = |a: Option<i64>| -> AppResult<i64> {
        a.filter(|a| (1..=crate::evaluation::scoring::MAX_PRICE_FEN).contains(a))
            .ok_or_else(|| AppError::field("amount_fen", "金额须为正数 / a positive amount"))
    };
    let (org, amount_fen, quotes) = match c.mode {
        Mode::Direct => {
            let org = c
                .org_id
                .filter(|o| order.iter().any(|x| x == o))
                .ok_or(FrameworkError::NotAdmitted)?;
            (org.to_string(), amount(c.amount_fen)?, Vec::new())
        }
        Mode::Rotation => {
            let last: Option<String> = sqlx::query_scalar(
                "SELECT org_id FROM framework_call_offs WHERE tender_id = $1 AND mode = 'rotation' \
                 ORDER BY call_off_no DESC LIMIT 1",
            )
            .bind(&head.id)
            .fetch_optional(&mut **tx)
            .await?;
            let next = rules::next_in_rotation(&order, last.as_deref())
                .ok_or(FrameworkError::NotAdmitted)?
                .clone();
            if c.org_id.is_some_and(|o| o != next) {
                return Err(FrameworkError::NotAdmitted.into());
            }
            (next, amount(c.amount_fen)?, Vec::new())
        }
        Mode::Competition => {
            let quotes: Vec<(String, i64)> = c
                .quotes
                .iter()
                .map(|q| (q.org_id.clone(), q.price_fen))
                .collect();
            let distinct: std::collections::BTreeSet<&String> =
                quotes.iter().map(|q| &q.0).collect();
            let valid = quotes.len() >= 2
                && distinct.len() == quotes.len()
                && quotes.iter().all(|(o, p)| {
                    order.contains(o) && (1..=crate::evaluation::scoring::MAX_PRICE_FEN).contains(p)
                });
            if !valid {
                return Err(FrameworkError::QuotesInvalid.into());
            }
            let (org, price) = rules::lowest_quote(&order, &quotes)
                .cloned()
                .ok_or(FrameworkError::QuotesInvalid)?;
            (org, price, c.quotes.to_vec())
        }
    };
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM framework_call_offs WHERE tender_id = $1")
            .bind(&head.id)
            .fetch_one(&mut **tx)
            .await?;
    let call_off_no = n + 1;
    sqlx::query(
        "INSERT INTO framework_call_offs (tender_id, call_off_no, mode, org_id, amount_fen, \
         description, quotes, placed_by, placed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&head.id)
    .bind(call_off_no)
    .bind(c.mode.as_str())
    .bind(&org)
    .bind(amount_fen)
    .bind(description)
    .bind(serde_json::to_string(&quotes).map_err(anyhow::Error::from)?)
    .bind(&user.id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let event = LedgerEvent::CallOffPlaced(CallOffPlaced {
        call_off_no,
        mode: c.mode.as_str().into(),
        org_id: org.clone(),
        amount_fen,
        description_sha256: crate::crypto::sha256_hex(description.as_bytes()),
    });
    append(tx, &head.id, now, &user.id, &event).await?;
    Ok(Ack::CallOff {
        call_off_no,
        org_id: org,
        amount_fen,
    })
}

/// The agreement as `user` may see it: the agency, the purchaser and supervisors all of
/// it; an admitted supplier the admitted list and its own call-offs.
pub async fn view(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
) -> AppResult<FrameworkView> {
    let head = crate::tender::repo::head(&state.db.pool, tender_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut conn = state.db.pool.acquire().await?;
    let list = admitted(&mut conn, tender_id).await?;
    let own_org = user.org_id.as_deref();
    let reads_all =
        user.role.is_supervisor() || is_agency(user, &head) || is_purchaser(user, &head);
    let admitted_supplier =
        user.role == Role::Supplier && list.iter().any(|a| Some(a.org_id.as_str()) == own_org);
    if !(reads_all || admitted_supplier) {
        return Err(AppError::Forbidden);
    }
    let agreement = agreement(&mut conn, tender_id).await?;
    let rows = sqlx::query(
        "SELECT c.call_off_no, c.mode, c.org_id, o.name, c.amount_fen, c.description, c.quotes, \
         c.placed_at FROM framework_call_offs c JOIN organisations o ON o.id = c.org_id \
         WHERE c.tender_id = $1 ORDER BY c.call_off_no",
    )
    .bind(tender_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut call_offs = Vec::new();
    let mut last_rotation: Option<String> = None;
    for r in &rows {
        let mode: String = r.try_get("mode")?;
        let org: String = r.try_get("org_id")?;
        if mode == "rotation" {
            last_rotation = Some(org.clone());
        }
        if !reads_all && Some(org.as_str()) != own_org {
            continue;
        }
        let quotes: Option<String> = r.try_get("quotes")?;
        call_offs.push(CallOffView {
            call_off_no: r.try_get("call_off_no")?,
            mode: serde_json::from_value(Value::String(mode)).map_err(anyhow::Error::from)?,
            org_id: org,
            name: r.try_get("name")?,
            amount_fen: r.try_get("amount_fen")?,
            description: r.try_get("description")?,
            quotes: quotes
                .map(|q| serde_json::from_str(&q))
                .transpose()
                .map_err(anyhow::Error::from)?
                .unwrap_or_default(),
            placed_at: r.try_get("placed_at")?,
        });
    }
    let order: Vec<String> = list.iter().map(|a| a.org_id.clone()).collect();
    Ok(FrameworkView {
        tender_id: tender_id.to_string(),
        established: agreement.is_some(),
        established_at: agreement.map(|a| a.0),
        valid_until: agreement.map(|a| a.1),
        next_in_rotation: rules::next_in_rotation(&order, last_rotation.as_deref()).cloned(),
        admitted: list,
        call_offs,
    })
}
