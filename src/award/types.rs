//! The result's commands, acknowledgements and views (docs/award.md).

use serde::{Deserialize, Serialize};

use super::notice::SignedDocument;

/// One command, `POST /api/tenders/{id}/result`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// The agency: publishes the result notice and issues the letters, once the winner is
    /// confirmed (R-AWARD-1).
    Publish {},
}

#[derive(Debug, Clone, Serialize)]
pub struct Ack {
    pub notice_sha256: String,
    pub letters: usize,
    pub publicity_ends_at: i64,
}

/// A letter as the tender's side sees it in the list: to whom, which, its digest.
#[derive(Debug, Clone, Serialize)]
pub struct LetterSummary {
    pub org_id: String,
    pub name: String,
    /// `award` (中标/成交通知书) or `result` (结果通知书).
    pub kind: String,
    pub letter_sha256: String,
}

/// `GET /api/tenders/{id}/result`: public once published; a bidder also gets its own
/// letter, the tender's side and the supervisors the list of letters.
#[derive(Debug, Clone, Serialize)]
pub struct ResultView {
    pub tender_id: String,
    /// The winner confirmed (by the purchaser or at its deadline), the notice due by
    /// `due_at` (2 working days, R-AWARD-1); `null` before the award.
    pub awarded_at: Option<i64>,
    pub due_at: Option<i64>,
    pub notice: Option<SignedDocument>,
    pub letter: Option<SignedDocument>,
    pub letters: Option<Vec<LetterSummary>>,
    pub may_publish: bool,
}
