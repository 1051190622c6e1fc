//! The console's filter and what it shows.

use serde::{Deserialize, Serialize};

use crate::alerts::types::AlertView;
use crate::collusion::types::Tally;
use crate::hub::types::PresenceEntry;

/// Which tenders the console shows: each field empty or absent for any. `from`/`to` are
/// days of publication (CST, `YYYY-MM-DD`, both included).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub purchaser: String,
    #[serde(default)]
    pub agency: String,
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

impl Filter {
    /// Whether nothing is filtered.
    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }
}

/// A tender as the console names it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TenderRef {
    pub id: String,
    pub code: String,
    pub title: String,
    pub region_code: String,
    pub region_name: String,
    pub purchaser_org_id: String,
    pub purchaser: String,
    pub agency_org_id: String,
    pub agency: String,
    pub method: String,
    pub category: String,
    pub status: String,
    pub bid_deadline: i64,
    pub published_at: i64,
}

/// One live room.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RoomRow {
    /// `opening`, `evaluation` or `rounds`: the page that joins it.
    pub kind: &'static str,
    /// The room's phase: the opening's (`sealed` before the host starts), the
    /// evaluation's, or the negotiation's (`negotiating`, `round_open`).
    pub phase: String,
    /// When the phase's window ends, if it has one (decryption, confirmation).
    pub ends_at: Option<i64>,
    pub link: String,
    pub tender: TenderRef,
    /// Who is in the room now, as supervisors see them (empty: nobody).
    pub present: Vec<PresenceEntry>,
}

/// A tender with collusion warnings (after its opening only).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct WarningRow {
    pub tender: TenderRef,
    pub tally: Tally,
    pub link: String,
}

/// A tender with challenges or complaints still open.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DisputeRow {
    pub tender: TenderRef,
    pub challenges: i64,
    pub complaints: i64,
    pub link: String,
}

/// An alert, with its tender when it is about one in scope.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AlertRow {
    #[serde(flatten)]
    pub alert: AlertView,
    pub tender: Option<TenderRef>,
}

/// A choice of a filter's list.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, schemars::JsonSchema)]
pub struct Choice {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Choices {
    pub regions: Vec<Choice>,
    pub purchasers: Vec<Choice>,
    pub agencies: Vec<Choice>,
    pub methods: Vec<&'static str>,
    pub categories: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ConsoleView {
    /// The server's time when the view was made.
    pub now: i64,
    pub filter: Filter,
    pub rooms: Vec<RoomRow>,
    pub alerts: Vec<AlertRow>,
    pub warnings: Vec<WarningRow>,
    pub disputes: Vec<DisputeRow>,
    pub choices: Choices,
}
