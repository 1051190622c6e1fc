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
}

pub fn api() -> Api {
    Api::default().route(Method::GET, "/api/dashboard", Access::AnyUser, dashboard)
}

async fn dashboard(State(state): State<AppState>, user: CurrentUser) -> AppResult<Json<Dashboard>> {
    let now = state.clock.now_ms();
    let mut counts = BTreeMap::new();
    let tenders = match user.role {
        Role::Supplier | Role::Expert => {
            let open: Vec<_> = tender_service::announcements(&state, "", "", "")
                .await?
                .into_iter()
                .filter(|t| t.status == TenderStatus::Published && t.bid_deadline > now)
                .collect();
            counts.insert("open_tenders", open.len() as i64);
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
                open
            }
        }
        _ => {
            let mine = tender_service::list_for(&state, &user).await?;
            for s in TenderStatus::ALL {
                let n = mine.iter().filter(|t| t.status == s).count() as i64;
                counts.insert(s.as_str(), n);
            }
            if matches!(user.role, Role::Admin | Role::Finance | Role::Oversight) {
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
    }))
}
