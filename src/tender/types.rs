//! Tenders (采购项目): lifecycle, category, method, and the request/response shapes.

use serde::{Deserialize, Serialize};

use crate::money::Money;

/// The lifecycle of a tender. Stored as text through [`TenderStatus::as_str`] only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenderStatus {
    /// 草稿: being prepared by the agency.
    Draft,
    /// 已发布: announced, accepting bids until the deadline.
    Published,
    /// 已封存: the deadline has passed, the bid set is frozen.
    Sealed,
    /// 开标中
    Opening,
    /// 评标中
    Evaluating,
    /// 已定标
    Awarded,
    /// 流标 / 废标
    Failed,
    /// 已终止
    Cancelled,
}

/// What may be done to a tender; each is allowed from some states only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenderAction {
    Edit,
    Publish,
    Amend,
    Cancel,
    Seal,
    /// The host starts the opening.
    StartOpening,
    /// 流标: no lot has its quorum.
    FailOpening,
    /// The opening record is closed: evaluation follows.
    CloseOpening,
    /// The winner is confirmed (R-EVAL-10).
    Award,
    /// No lot survives the reviews (R-EVAL-3), or no panel can be formed.
    FailEvaluation,
}

impl TenderAction {
    pub fn as_str(self) -> &'static str {
        match self {
            TenderAction::Edit => "edit",
            TenderAction::Publish => "publish",
            TenderAction::Amend => "amend",
            TenderAction::Cancel => "cancel",
            TenderAction::Seal => "seal",
            TenderAction::StartOpening => "start_opening",
            TenderAction::FailOpening => "fail_opening",
            TenderAction::CloseOpening => "close_opening",
            TenderAction::Award => "award",
            TenderAction::FailEvaluation => "fail_evaluation",
        }
    }
}

impl TenderStatus {
    pub const ALL: [TenderStatus; 8] = [
        TenderStatus::Draft,
        TenderStatus::Published,
        TenderStatus::Sealed,
        TenderStatus::Opening,
        TenderStatus::Evaluating,
        TenderStatus::Awarded,
        TenderStatus::Failed,
        TenderStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TenderStatus::Draft => "draft",
            TenderStatus::Published => "published",
            TenderStatus::Sealed => "sealed",
            TenderStatus::Opening => "opening",
            TenderStatus::Evaluating => "evaluating",
            TenderStatus::Awarded => "awarded",
            TenderStatus::Failed => "failed",
            TenderStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<TenderStatus> {
        TenderStatus::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            TenderStatus::Draft => "草稿",
            TenderStatus::Published => "招标中",
            TenderStatus::Sealed => "已截标",
            TenderStatus::Opening => "开标中",
            TenderStatus::Evaluating => "评标中",
            TenderStatus::Awarded => "已定标",
            TenderStatus::Failed => "流标",
            TenderStatus::Cancelled => "已终止",
        }
    }

    /// The state an action leads to from this state, or `None` when it is not allowed.
    /// Deadline checks come on top of this (see `tender::service`).
    pub fn after(self, action: TenderAction) -> Option<TenderStatus> {
        use TenderAction as A;
        use TenderStatus as S;
        match (self, action) {
            (S::Draft, A::Edit) => Some(S::Draft),
            (S::Draft, A::Publish) => Some(S::Published),
            (S::Published, A::Amend) => Some(S::Published),
            (S::Draft | S::Published, A::Cancel) => Some(S::Cancelled),
            (S::Published, A::Seal) => Some(S::Sealed),
            (S::Sealed, A::StartOpening) => Some(S::Opening),
            (S::Sealed | S::Opening, A::FailOpening) => Some(S::Failed),
            (S::Opening, A::CloseOpening) => Some(S::Evaluating),
            (S::Evaluating, A::Award) => Some(S::Awarded),
            (S::Evaluating, A::FailEvaluation) => Some(S::Failed),
            _ => None,
        }
    }
}

pub use crate::evaluation::Category;

pub use crate::plan::ProcurementMethod;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LotInput {
    pub name: String,
    pub budget_fen: Money,
}

/// Body of `POST /api/tenders` and `PUT /api/tenders/{id}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenderInput {
    pub title: String,
    pub region_code: String,
    pub purchaser_org_id: String,
    pub category: Category,
    pub method: ProcurementMethod,
    #[serde(default)]
    pub description: String,
    pub lots: Vec<LotInput>,
    pub clarify_deadline: i64,
    pub bid_deadline: i64,
    #[serde(default = "default_window")]
    pub decrypt_window_mins: i64,
    pub custodian_ids: Vec<String>,
    #[serde(default = "default_threshold")]
    pub custodian_threshold: i64,
    /// The evaluation method and scored items (R-EVAL-4), checked at publication.
    #[serde(default)]
    pub evaluation: Option<crate::evaluation::terms::EvaluationTerms>,
    /// The procurement plan the tender is created from (R-PLAN-1, R-PLAN-2).
    #[serde(default)]
    pub plan_id: Option<String>,
    /// The bid deposit asked of each supplier (R-DEP-1: at most 2% of the budget); none
    /// when the tender asks none.
    #[serde(default)]
    pub deposit_fen: Option<Money>,
    /// The order of the reading-out (唱标顺序): by receipt unless the tender says drawn.
    #[serde(default)]
    pub reading_order: ReadingOrder,
}

/// The order bids are read out in at the opening (唱标顺序), as the tender states it: by
/// receipt, or drawn at the start from the hash of the seal at the deadline (anyone
/// replays it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadingOrder {
    #[default]
    Receipt,
    Draw,
}

impl ReadingOrder {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadingOrder::Receipt => "receipt",
            ReadingOrder::Draw => "draw",
        }
    }

    pub fn parse(s: &str) -> Option<ReadingOrder> {
        [ReadingOrder::Receipt, ReadingOrder::Draw]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

impl TenderInput {
    /// The sum of the lots' budgets.
    pub fn budget_fen(&self) -> i64 {
        self.lots.iter().map(|l| l.budget_fen.fen()).sum()
    }
}

fn default_window() -> i64 {
    30
}
fn default_threshold() -> i64 {
    2
}

/// The fields an amendment (更正公告) may change.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmendmentChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub clarify_deadline: Option<i64>,
    pub bid_deadline: Option<i64>,
    pub decrypt_window_mins: Option<i64>,
    pub lots: Option<Vec<LotInput>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmendmentRequest {
    pub reason: String,
    pub changes: AmendmentChanges,
    /// Whether it may affect the preparation of bids (R-DOC-2: then it comes at least the
    /// statutory period before the bid deadline, or the deadline moves). Assumed unless
    /// the agency declares otherwise (a typo, a contact's phone number).
    #[serde(default = "yes")]
    pub affects_bids: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LotView {
    pub lot_no: i64,
    pub name: String,
    pub budget_fen: Money,
}

#[derive(Debug, Clone, Serialize)]
pub struct CustodianView {
    pub position: i64,
    pub user_id: String,
    pub display_name: String,
    pub role: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AmendmentView {
    pub seq: i64,
    pub at: i64,
    pub reason: String,
    pub changes: serde_json::Value,
}

/// A tender as its members (agency, purchaser, supervisors) see it.
#[derive(Debug, Clone, Serialize)]
pub struct TenderView {
    pub id: String,
    pub code: String,
    pub title: String,
    pub status: TenderStatus,
    pub status_name: &'static str,
    pub region_code: String,
    pub region_name: String,
    pub purchaser_org_id: String,
    pub purchaser_name: String,
    pub agency_org_id: String,
    pub agency_name: String,
    pub category: String,
    pub method: String,
    pub description: String,
    pub lots: Vec<LotView>,
    pub budget_total_fen: Money,
    /// The bid deposit asked (R-DEP-1), if any.
    pub deposit_fen: Option<Money>,
    pub clarify_deadline: i64,
    pub bid_deadline: i64,
    pub decrypt_window_mins: i64,
    /// The order of the reading-out the tender states.
    pub reading_order: ReadingOrder,
    pub custodian_threshold: i64,
    pub custodians: Vec<CustodianView>,
    pub amendments: Vec<AmendmentView>,
    /// The procurement plan it was created from.
    pub plan_id: Option<String>,
    /// The evaluation method and scored items, as the tender document states them.
    pub evaluation: Option<serde_json::Value>,
    /// The price preferences the rule table applies to this tender beyond its own stated
    /// rates (R-POL-5's domestic-product deduction), announced with it.
    pub preferences: Vec<Preference>,
    /// Set once published: the public opening key and its share commitments.
    pub opening_key: Option<super::opening_key::OpeningKeyView>,
    pub created_at: i64,
    pub updated_at: i64,
    pub published_at: Option<i64>,
}

/// The public announcement (采购公告 with its 更正公告): no custodian identities.
#[derive(Debug, Clone, Serialize)]
pub struct AnnouncementView {
    pub id: String,
    pub code: String,
    pub title: String,
    pub status: TenderStatus,
    pub status_name: &'static str,
    pub region_code: String,
    pub region_name: String,
    pub purchaser_name: String,
    pub agency_name: String,
    pub category: String,
    pub method: String,
    pub description: String,
    pub lots: Vec<LotView>,
    pub budget_total_fen: Money,
    /// The bid deposit each supplier records before bidding (R-DEP-1), if any.
    pub deposit_fen: Option<Money>,
    pub clarify_deadline: i64,
    pub bid_deadline: i64,
    pub decrypt_window_mins: i64,
    /// The order of the reading-out (唱标顺序): `receipt` or `draw`.
    pub reading_order: ReadingOrder,
    pub amendments: Vec<AmendmentView>,
    /// The evaluation method, scored items and rates the bids will be evaluated by.
    pub evaluation: Option<serde_json::Value>,
    pub preferences: Vec<Preference>,
    /// Bids are sealed to this key (`kt`); custodians check their shares against it.
    pub opening_key: Option<super::opening_key::OpeningKeyView>,
    pub published_at: Option<i64>,
}

impl From<TenderView> for AnnouncementView {
    fn from(t: TenderView) -> Self {
        AnnouncementView {
            id: t.id,
            code: t.code,
            title: t.title,
            status: t.status,
            status_name: t.status_name,
            region_code: t.region_code,
            region_name: t.region_name,
            purchaser_name: t.purchaser_name,
            agency_name: t.agency_name,
            category: t.category,
            method: t.method,
            description: t.description,
            lots: t.lots,
            budget_total_fen: t.budget_total_fen,
            deposit_fen: t.deposit_fen,
            clarify_deadline: t.clarify_deadline,
            bid_deadline: t.bid_deadline,
            decrypt_window_mins: t.decrypt_window_mins,
            reading_order: t.reading_order,
            amendments: t.amendments,
            evaluation: t.evaluation,
            preferences: t.preferences,
            opening_key: t.opening_key,
            published_at: t.published_at,
        }
    }
}

/// One line of a list of tenders.
#[derive(Debug, Clone, Serialize)]
pub struct TenderListItem {
    pub id: String,
    pub code: String,
    pub title: String,
    pub status: TenderStatus,
    pub status_name: &'static str,
    pub region_code: String,
    pub region_name: String,
    pub purchaser_name: String,
    pub agency_name: String,
    pub category: String,
    pub method: String,
    pub budget_total_fen: Money,
    pub bid_deadline: i64,
    pub published_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_allows_only_listed_transitions() {
        use TenderAction as A;
        use TenderStatus as S;
        assert_eq!(S::Draft.after(A::Publish), Some(S::Published));
        assert_eq!(S::Draft.after(A::Amend), None);
        assert_eq!(S::Published.after(A::Edit), None);
        assert_eq!(S::Published.after(A::Publish), None);
        assert_eq!(S::Published.after(A::Amend), Some(S::Published));
        assert_eq!(S::Cancelled.after(A::Publish), None);
        assert_eq!(S::Cancelled.after(A::Cancel), None);
        assert_eq!(S::Sealed.after(A::Amend), None);
        for s in TenderStatus::ALL {
            assert_eq!(TenderStatus::parse(s.as_str()), Some(s));
        }
    }
}

/// A price preference the rule table applies to a tender (announced on the tender page and
/// in the announcement, R-POL-5: a tender states the preferences it applies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preference {
    pub code: &'static str,
    /// `domestic`
    pub kind: &'static str,
    pub rate_bp: u32,
    /// The share of the offer's cost that must be domestic for the offer to count.
    pub package_share_bp: u32,
    pub source: String,
}

impl Preference {
    /// What the built-in rule table applies to a tender of `category` announced on `date`.
    pub fn for_tender(category: &str, date: chrono::NaiveDate) -> Vec<Preference> {
        let Ok(category) =
            serde_json::from_value::<Category>(serde_json::Value::String(category.to_string()))
        else {
            return Vec::new();
        };
        crate::evaluation::PolicyTable::builtin()
            .domestic(category, date)
            .map(|row| Preference {
                code: "R-POL-5",
                kind: "domestic",
                rate_bp: row.rate_bp,
                package_share_bp: row.package_share_bp,
                source: row.source.clone(),
            })
            .into_iter()
            .collect()
    }
}
