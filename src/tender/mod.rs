//! Procurement projects (采购项目): creation and editing by the agency, publication
//! (采购公告), amendments (更正公告), cancellation, and the public announcement list.

pub mod methods;
pub mod opening_key;
pub mod repo;
pub mod routes;
pub mod rules;
pub mod service;
pub mod template;
pub mod types;

use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// One action on a tender, the way every room command runs: [`Action::begin`] takes the
/// server's time and opens a transaction that first locks the tender row (actions on one
/// tender run one after another and see each other's effects); the action does its
/// checks, rows and ledger events on `tx`; [`Action::commit`] commits and only then tells
/// the tender's rooms. An action dropped before its commit changes nothing and tells no
/// one.
pub struct Action {
    pub tx: Tx,
    pub head: repo::TenderHead,
    pub now: i64,
}

impl Action {
    pub async fn begin(state: &AppState, tender_id: &str) -> AppResult<Action> {
        let now = state.clock.now_ms();
        let mut tx = state.db.begin().await?;
        let head = repo::lock(&mut tx, tender_id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(Action { tx, head, now })
    }

    pub async fn commit(self, state: &AppState) -> AppResult<()> {
        self.tx.commit().await?;
        state.rooms.notify(&self.head.id);
        Ok(())
    }
}
