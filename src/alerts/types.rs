//! Deadlines as the stages hand them over, the stages of an alert, and the inbox's views.

use serde::Serialize;

use crate::auth::Role;
use crate::calendar::deadlines::DeadlineRule;

/// When an alert about a deadline is made.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The working day before the deadline's last day, by the official calendar.
    Upcoming,
    /// At the deadline (`due_at`).
    Due,
    /// The deadline passed with the act not done: escalated to `escalate_to`.
    Overdue,
}

impl Stage {
    pub const ALL: [Stage; 3] = [Stage::Upcoming, Stage::Due, Stage::Overdue];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Upcoming => "upcoming",
            Stage::Due => "due",
            Stage::Overdue => "overdue",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Who an alert is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    User(String),
    /// Every user of the organisation, or only those of `role`.
    Org {
        org_id: String,
        role: Option<Role>,
    },
    /// Every user of the role (finance, oversight: the supervisors of the whole city).
    Role(Role),
}

/// What a deadline is about, and the page where it is acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// `tender`, `approval`, `plan`.
    pub kind: &'static str,
    pub id: String,
    pub title: String,
    pub link: String,
}

/// How a deadline reads: an act due before the instant, or one that may be done from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// `act` must be done before `due_at` ("确定中标人" by 24:00 of the last day).
    ActBy,
    /// `act` may be done from `due_at` on ("可发布采购公告" from a day).
    OpenFrom,
}

/// One deadline a stage hands to the alerts (`alerts::sources`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    /// Stable across runs and nodes: `<kind>:<id>:<what>` ("approval:<id>:publicity").
    pub key: String,
    pub rule: DeadlineRule,
    pub subject: Subject,
    /// The instant the act is due before (`Notice::ActBy`) or possible from
    /// (`Notice::OpenFrom`), in milliseconds.
    pub due_at: i64,
    /// When the act was done, if it was done at or after `due_at` (a winner confirmed by
    /// the deadline itself): the deadline was missed and is escalated all the same. A
    /// deadline closed in time is no longer handed over.
    pub closed_late_at: Option<i64>,
    /// Who must act: told the working day before (`warn_before`) and at `due_at`.
    pub owners: Vec<Audience>,
    /// Told when the deadline passes with the act not done; none: no escalation.
    pub escalate_to: Vec<Role>,
    /// Whether the owners are told the working day before.
    pub warn_before: bool,
    pub notice: Notice,
    /// The act, Chinese then English: ("确定中标人", "Confirming the winner").
    pub act: (&'static str, &'static str),
}

/// An alert as its reader sees it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AlertView {
    pub id: String,
    pub stage: Stage,
    /// The rule's code in RULES.md ("R-EVAL-10") and its name under the code.
    pub rule: String,
    pub rule_name: String,
    pub subject: SubjectView,
    pub link: String,
    pub due_at: i64,
    pub title_zh: String,
    pub title_en: String,
    pub created_at: i64,
    /// When this user read it; `null` while unread.
    pub read_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SubjectView {
    pub kind: String,
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AlertCount {
    pub unread: i64,
}
