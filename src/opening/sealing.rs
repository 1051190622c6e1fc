//! Seals tenders whose bid deadline has passed: the bid set is frozen and the list of
//! ciphertext hashes is published in the ledger (`bids_sealed`), uploads still running are
//! refused as late and their bytes dropped. A job (`crate::jobs`): runs at start-up
//! (deadlines that passed while the server was down) and then every tick; sealing twice is
//! impossible because each tender is re-checked under its row lock.

use sqlx::Row;

use crate::bid::repo as bid_repo;
use crate::bid::types::BidStatus;
use crate::ledger::{BidsSealed, LedgerEvent, RegisterHead, SealedBid};
use crate::state::AppState;
use crate::tender::repo as tender_repo;
use crate::tender::types::{TenderAction, TenderStatus};

/// Seals every tender due now; returns how many it sealed.
pub async fn seal_due(state: &AppState) -> anyhow::Result<usize> {
    let now = state.clock.now_ms();
    let due: Vec<String> = sqlx::query(
        "SELECT id FROM tenders WHERE status = $1 AND bid_deadline <= $2 ORDER BY bid_deadline",
    )
    .bind(TenderStatus::Published.as_str())
    .bind(now)
    .fetch_all(&state.db.pool)
    .await?
    .iter()
    .map(|r| r.try_get("id"))
    .collect::<Result<_, _>>()?;
    let mut sealed = 0;
    for id in due {
        if seal(state, &id, now).await? {
            sealed += 1;
        }
    }
    Ok(sealed)
}

#[tracing::instrument(skip_all, fields(tender = %id), err)]
async fn seal(state: &AppState, id: &str, now: i64) -> anyhow::Result<bool> {
    let mut tx = state.db.begin().await?;
    let Some(head) = tender_repo::lock(&mut tx, id).await? else {
        return Ok(false);
    };
    let Some(next) = head.status.after(TenderAction::Seal) else {
        return Ok(false);
    };
    if now < head.bid_deadline {
        return Ok(false);
    }
    let bids = sqlx::query(
        "SELECT id, lot_no, ciphertext_sha256, expected_size FROM bids \
         WHERE tender_id = $1 AND status = $2 ORDER BY lot_no, submitted_at, id",
    )
    .bind(id)
    .bind(BidStatus::Submitted.as_str())
    .fetch_all(&mut *tx)
    .await?;
    let list: Vec<SealedBid> = bids
        .iter()
        .map(|r| -> sqlx::Result<SealedBid> {
            Ok(SealedBid {
                bid_id: r.try_get("id")?,
                lot_no: r.try_get("lot_no")?,
                ciphertext_sha256: r.try_get("ciphertext_sha256")?,
                size: r.try_get("expected_size")?,
            })
        })
        .collect::<sqlx::Result<_>>()?;
    let late: Vec<String> = sqlx::query("SELECT id FROM bids WHERE tender_id = $1 AND status = $2")
        .bind(id)
        .bind(BidStatus::Uploading.as_str())
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
    for b in &late {
        bid_repo::set_status(&mut *tx, b, BidStatus::Late, now).await?;
    }
    tender_repo::set_status(&mut tx, id, next, None).await?;
    // Who stands behind each bidder, as declared at the deadline (R-COL-7).
    crate::supplier::identity::freeze(&mut tx, id, now).await?;
    let register = crate::ledger::repo::register(&mut *tx, id).await?;
    let count = list.len();
    let event = LedgerEvent::BidsSealed(BidsSealed {
        bid_deadline: head.bid_deadline,
        count,
        bids: list,
        late_uploads: late.len(),
        bid_register: Some(RegisterHead {
            events: register.events.len(),
            head: register.head,
        }),
    });
    crate::ledger::repo::append(&mut tx, id, now, "platform", &event).await?;
    tx.commit().await?;
    for b in &late {
        crate::bid::service::drop_bytes(state, b).await;
    }
    state.rooms.notify(id);
    tracing::info!(
        bids = count,
        late = late.len(),
        "bids sealed at the deadline"
    );
    Ok(true)
}
