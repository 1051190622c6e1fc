//! `GET /api/tenders/{id}/opening`: the opening as its members see it (docs/opening.md).

use serde_json::Value;
use sqlx::Row;

use super::access::member;
use super::repo::opening_row;
use super::types::{
    BidderRef, CustodianRef, HostRef, ObjectionView, OpeningBidView, OpeningMe, OpeningView,
    ShareView,
};
use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::state::AppState;

fn parse_json(s: Option<String>) -> Value {
    s.and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null)
}

pub async fn view(state: &AppState, user: &CurrentUser, tender_id: &str) -> AppResult<OpeningView> {
    let m = member(state, user, tender_id).await?;
    let pool = &state.db.pool;
    let head = crate::tender::repo::head(pool, tender_id)
        .await?
        .ok_or(crate::error::AppError::NotFound)?;
    let o = opening_row(pool, tender_id).await?;
    let threshold: i64 =
        sqlx::query_scalar("SELECT custodian_threshold FROM tenders WHERE id = $1")
            .bind(tender_id)
            .fetch_one(pool)
            .await?;

    let shares: Vec<ShareView> = sqlx::query(
        "SELECT k.share_index, k.custodian_user_id, u.display_name, s.submitted_at \
         FROM tender_key_shares k JOIN users u ON u.id = k.custodian_user_id \
         LEFT JOIN opening_shares s ON s.tender_id = k.tender_id AND s.share_index = k.share_index \
         WHERE k.tender_id = $1 ORDER BY k.share_index",
    )
    .bind(tender_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| -> sqlx::Result<ShareView> {
        Ok(ShareView {
            index: r.try_get("share_index")?,
            custodian: CustodianRef {
                id: r.try_get("custodian_user_id")?,
                display_name: r.try_get("display_name")?,
            },
            submitted_at: r.try_get("submitted_at")?,
        })
    })
    .collect::<Result<_, _>>()?;

    let confirmed: std::collections::BTreeSet<String> =
        sqlx::query_scalar("SELECT bidder_org_id FROM opening_confirmations WHERE tender_id = $1")
            .bind(tender_id)
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect();
    let closed = o.as_ref().is_some_and(|o| o.closed_at.is_some());

    let mut bids = Vec::new();
    let mut my_bids = Vec::new();
    if o.is_some() {
        for r in sqlx::query(
            "SELECT ob.bid_id, ob.lot_no, ob.bidder_org_id, o.name, ob.decrypt_status, \
             ob.decrypt_started_at, ob.decrypted_at, ob.result, ob.sheet, ob.cause FROM opening_bids ob \
             JOIN organisations o ON o.id = ob.bidder_org_id \
             WHERE ob.tender_id = $1 ORDER BY ob.position",
        )
        .bind(tender_id)
        .fetch_all(pool)
        .await?
        {
            let org: String = r.try_get("bidder_org_id")?;
            let bid_id: String = r.try_get("bid_id")?;
            if m.bidder_org.as_deref() == Some(org.as_str()) {
                my_bids.push(bid_id.clone());
            }
            let confirmation = if confirmed.contains(&org) {
                Some("confirmed")
            } else if closed {
                Some("deemed")
            } else {
                None
            };
            bids.push(OpeningBidView {
                bid_id,
                lot_no: r.try_get("lot_no")?,
                bidder: BidderRef {
                    id: org,
                    name: r.try_get("name")?,
                },
                decrypt_status: r.try_get("decrypt_status")?,
                decrypt_started_at: r.try_get("decrypt_started_at")?,
                decrypted_at: r.try_get("decrypted_at")?,
                result: r.try_get("result")?,
                cause: parse_json(r.try_get("cause")?),
                sheet: parse_json(r.try_get("sheet")?),
                confirmation,
            });
        }
    } else if let Some(org) = &m.bidder_org {
        // Before the start: the bidder's own submitted bids.
        for b in crate::bid::repo::for_bidder(pool, tender_id, org).await? {
            if b.status == crate::bid::types::BidStatus::Submitted {
                my_bids.push(b.id.clone());
            }
        }
    }

    let objections: Vec<ObjectionView> = sqlx::query(
        "SELECT j.id, j.bidder_org_id, o.name, j.kind, j.text, j.raised_at, j.answer, \
         j.answered_at FROM opening_objections j JOIN organisations o ON o.id = j.bidder_org_id \
         WHERE j.tender_id = $1 ORDER BY j.raised_at, j.id",
    )
    .bind(tender_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| -> sqlx::Result<ObjectionView> {
        Ok(ObjectionView {
            id: r.try_get("id")?,
            bidder: BidderRef {
                id: r.try_get("bidder_org_id")?,
                name: r.try_get("name")?,
            },
            kind: r.try_get("kind")?,
            text: r.try_get("text")?,
            raised_at: r.try_get("raised_at")?,
            answer: r.try_get("answer")?,
            answered_at: r.try_get("answered_at")?,
        })
    })
    .collect::<Result<_, _>>()?;

    let (sign_ins, sign_in) = super::signin::view(
        state,
        user,
        &head,
        m.supervisor,
        m.bidder_org.as_deref(),
        m.host,
    )
    .await?;

    let host = match &o {
        Some(o) => {
            let name: Option<String> =
                sqlx::query_scalar("SELECT display_name FROM users WHERE id = $1")
                    .bind(&o.host_user_id)
                    .fetch_optional(pool)
                    .await?;
            Some(HostRef {
                id: o.host_user_id.clone(),
                display_name: name,
            })
        }
        None => None,
    };
    Ok(OpeningView {
        tender_id: tender_id.to_string(),
        tender_status: head.status,
        bid_deadline: head.bid_deadline,
        phase: o.as_ref().map(|o| o.phase),
        host,
        started_at: o.as_ref().map(|o| o.started_at),
        decrypt_ends_at: o.as_ref().map(|o| o.decrypt_ends_at),
        unsealing_since: o.as_ref().and_then(|o| o.unsealing_since),
        custodians_overdue: o.as_ref().is_some_and(|o| o.overdue_alerted),
        confirm_ends_at: o.as_ref().and_then(|o| o.confirm_ends_at),
        closed_at: o.as_ref().and_then(|o| o.closed_at),
        now: state.clock.now_ms(),
        reading_order: crate::tender::types::ReadingOrder::parse(
            &sqlx::query_scalar::<_, String>("SELECT reading_order FROM tenders WHERE id = $1")
                .bind(tender_id)
                .fetch_one(&state.db.pool)
                .await?,
        )
        .unwrap_or_default(),
        threshold,
        shares,
        lots: o.as_ref().map(|o| o.lots.clone()).unwrap_or_default(),
        bids,
        objections,
        sign_ins,
        me: OpeningMe {
            role: user.role.as_str(),
            is_host: m.host,
            is_supervisor: m.supervisor,
            bid_ids: my_bids,
            share_index: m.share_index,
            confirmed: m
                .bidder_org
                .as_ref()
                .is_some_and(|org| confirmed.contains(org)),
            sign_in,
        },
    })
}
