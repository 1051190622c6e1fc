//! `GET /api/dashboard`: what each role sees first after logging in.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::Method;
use serde::Serialize;

use crate::auth::{Access, Api, CurrentUser, Role};
use crate::error::AppResult;
use crate::error::Json;
use crate::org::repo as org_repo;
use crate::state::AppState;
use crate::tender::{service as tender_service, types::TenderListItem, types::TenderStatus};

#[derive(Serialize)]
pub struct Dashboard {
    pub role: Role,
    pub role_name: &'static str,
    pub counts: BTreeMap<&'static str, i64>,
    pub tenders: Vec<TenderListItem>,
    /// A supplier's tenders it has a bid in, until the contract, with what awaits it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub my_bids: Option<Vec<MyBid>>,
    /// Acceptance reports waiting for this user's signature as a member of the panel.
    pub acceptances_to_sign: Vec<crate::acceptance::types::ToSign>,
}

/// A tender a supplier bid on, and what it is to do or look at there now.
#[derive(Serialize)]
pub struct MyBid {
    pub tender: TenderListItem,
    /// The opening's phase, once it started.
    pub opening_phase: Option<String>,
    /// wait_opening | decrypt | confirm_record | clarification | result
    pub awaits: Vec<&'static str>,
    /// Clarification requests not answered yet.
    pub open_clarifications: i64,
}

/// The tenders `org` has a bid in (submitted), newest first, with what awaits it.
async fn my_bids(state: &AppState, org: &str) -> AppResult<Vec<MyBid>> {
    let db = &state.db.pool;
    let ids: std::collections::BTreeSet<String> = sqlx::query_scalar(
        "SELECT DISTINCT tender_id FROM bids WHERE bidder_org_id = $1 AND status = 'submitted'",
    )
    .bind(org)
    .fetch_all(db)
    .await?
    .into_iter()
    .collect();
    let mut out = Vec::new();
    for t in tender_service::announcements(state, "", "", "").await? {
        if !ids.contains(&t.id) {
            continue;
        }
        let phase: Option<String> =
            sqlx::query_scalar("SELECT phase FROM openings WHERE tender_id = $1")
                .bind(&t.id)
                .fetch_optional(db)
                .await?;
        let open_clarifications: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM clarifications c JOIN bids b ON b.id = c.bid_id \
             WHERE c.tender_id = $1 AND b.bidder_org_id = $2 AND c.answer IS NULL",
        )
        .bind(&t.id)
        .bind(org)
        .fetch_one(db)
        .await?;
        let mut awaits = Vec::new();
        match (t.status, phase.as_deref()) {
            (TenderStatus::Published | TenderStatus::Sealed, _) => awaits.push("wait_opening"),
            (_, Some("decrypting")) => awaits.push("decrypt"),
            (_, Some("confirming")) => awaits.push("confirm_record"),
            (TenderStatus::Awarded, _) => awaits.push("result"),
            _ => {}
        }
        if open_clarifications > 0 {
            awaits.push("clarification");
        }
        out.push(MyBid {
            tender: t,
            opening_phase: phase,
            awaits,
            open_clarifications,
        });
    }
    Ok(out)
}

pub fn api() -> Api {
    Api::default().route(Method::GET, "/api/dashboard", Access::AnyUser, dashboard)
}

async fn dashboard(State(state): State<AppState>, user: CurrentUser) -> AppResult<Json<Dashboard>> {
    let now = state.clock.now_ms();
    let mut counts = BTreeMap::new();
    let mut mine_bid = None;
    let tenders = match user.role {
        Role::Supplier | Role::Expert => {
            let open: Vec<_> = tender_service::announcements(&state, "", "", "")
                .await?
                .into_iter()
                .filter(|t| t.status == TenderStatus::Published && t.bid_deadline > now)
                .collect();
            if user.role == Role::Supplier {
                counts.insert("open_tenders", open.len() as i64);
            }
            if user.role == Role::Expert {
                // The evaluations this expert was drawn for and has not declined.
                let seats: std::collections::BTreeSet<String> = sqlx::query_scalar(
                    "SELECT p.tender_id FROM evaluation_panel p JOIN experts e ON e.id = p.expert_id \
                     WHERE e.user_id = $1 AND p.status <> 'declined'",
                )
                .bind(&user.id)
                .fetch_all(&state.db.pool)
                .await?
                .into_iter()
                .collect();
                let mine: Vec<_> = tender_service::announcements(&state, "", "", "")
                    .await?
                    .into_iter()
                    .filter(|t| seats.contains(&t.id))
                    .collect();
                counts.insert("assignments", mine.len() as i64);
                mine
            } else {
                let bids = my_bids(&state, user.org_id.as_deref().unwrap_or("")).await?;
                counts.insert("my_bids", bids.len() as i64);
                mine_bid = Some(bids);
                open
            }
        }
        Role::Bank => {
            // A bank's officer reads the financing cases addressed to its bank, no tender.
            let org = user.org_id.as_deref().unwrap_or("");
            let cases = crate::financing::repo::of_org(&state.db.pool, org, true).await?;
            let open = cases.iter().filter(|a| a.status == "applied").count() as i64;
            counts.insert("financing_open", open);
            Vec::new()
        }
        _ => {
            let mine = tender_service::list_for(&state, &user).await?;
            for s in TenderStatus::ALL {
                let n = mine.iter().filter(|t| t.status == s).count() as i64;
                counts.insert(s.as_str(), n);
            }
            if user.role.is_supervisor() {
                let db = &state.db.pool;
                counts.insert("organisations", org_repo::count(db, "organisations").await?);
                counts.insert("users", org_repo::count(db, "users").await?);
                counts.insert("experts", org_repo::count(db, "experts").await?);
            }
            mine
        }
    };
    Ok(Json(Dashboard {
        role: user.role,
        role_name: user.role.name_zh(),
        counts,
        tenders,
        my_bids: mine_bid,
        acceptances_to_sign: crate::acceptance::repo::to_sign(&state.db.pool, &user.id).await?,
    }))
}
