//! The deadline rules of RULES.md as data: each a code, a period (calendar days or working
//! days), a direction and its source, with any period overridable (`DeadlinePeriods`,
//! loaded from TOML) since the (S) and (M) figures are not read in the texts.
//!
//! Counting, as 民法典 arts 201–203 have it:
//! - the day of the start event is not counted; the period starts the next day (art 201);
//! - `Days(n)`: the last day is the n-th calendar day after; when that is a rest day (a
//!   weekend not made up, or a holiday: 法定休假日), the period ends on the next working
//!   day (art 203). `WorkingDays(n)`: the n-th working day after, by the calendar;
//! - `due` is 24:00 China time of the last day (art 203; business hours are not modelled):
//!   the act is in time when it is before that instant;
//! - `earliest` is 00:00 of the last day: the later event may fall on it, as a bid deadline
//!   may fall on the 20th day ("至投标截止之日止" counts the deadline's own day). Moving a
//!   last day off a rest day makes an earliest date later, never earlier. For a window
//!   (documents on offer, a publicity) the later event is the window's last day: it stays
//!   open through that day, until `due` of the same rule;
//! - an instant at exactly 00:00 is 24:00 of the day before, so a `due` instant can start
//!   a period in turn (a complaint's 15 working days run from the reply deadline).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{end_of_day_ms, start_of_day_ms, Calendar, CalendarError};
use crate::clock::cst_date;
use Period::{Days, WorkingDays};

/// How long a deadline is: calendar days (moved off a rest day at the end) or working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Days(u32),
    WorkingDays(u32),
}

impl Period {
    /// The period's last day when its start event falls on `start` (not counted).
    pub fn last_day(self, calendar: &Calendar, start: NaiveDate) -> NaiveDate {
        match self {
            Days(n) => {
                let nth = start.checked_add_days(chrono::Days::new(n.into()));
                calendar.next_working_day_on_or_after(nth.unwrap_or(NaiveDate::MAX))
            }
            WorkingDays(n) => calendar.add_working_days(start, n),
        }
    }
}

/// What a deadline bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The act is due at most this long after the start event: a due date.
    Within,
    /// The later event may come no earlier than this long after the earlier one: an
    /// earliest date.
    AtLeast,
}

/// How sure the figure is, as RULES.md marks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Read in the full text of the regulation.
    V,
    /// From secondary sources quoting it.
    S,
    /// From memory.
    M,
}

/// A deadline rule's row: its code, its name under that code (the key of an override),
/// the default period, the direction, the source and labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    pub code: &'static str,
    pub name: &'static str,
    pub period: Period,
    pub direction: Direction,
    /// In RULES.md's abbreviations (O87 = 财政部令第87号, O94 = 财政部令第94号, IR = 政府采购法实施
    /// 条例, GPL = 政府采购法, PAY = 保障中小企业款项支付条例).
    pub source: &'static str,
    pub mark: Mark,
    pub zh: &'static str,
    pub en: &'static str,
}

macro_rules! deadline_rules {
    ($($rule:ident: $code:literal $name:literal, $period:expr, $direction:ident,
        $source:literal $mark:ident, $zh:literal, $en:literal;)*) => {
        /// A deadline of RULES.md; several deadlines under one code are distinct rules.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum DeadlineRule {
            $($rule),*
        }

        impl DeadlineRule {
            /// Every deadline rule, in the order of RULES.md.
            pub const ALL: &[DeadlineRule] = &[$(DeadlineRule::$rule),*];

            pub fn info(self) -> RuleInfo {
                match self {
                    $(DeadlineRule::$rule => RuleInfo {
                        code: $code,
                        name: $name,
                        period: $period,
                        direction: Direction::$direction,
                        source: $source,
                        mark: Mark::$mark,
                        zh: $zh,
                        en: $en,
                    },)*
                }
            }
        }
    };
}

deadline_rules! {
    IntentionNotice: "R-PLAN-1" "intention", Days(30), AtLeast, "财库〔2020〕10号" S,
        "采购意向公开至采购活动开始",
        "from the procurement intention's publication to the start of procurement";
    SingleSourcePublicity: "R-METH-1" "single_source", WorkingDays(5), AtLeast, "IR art 38; 财政部令第74号" S,
        "单一来源采购公示期(最后一日)",
        "single-source publicity (its last day)";
    TenderingBidPeriod: "R-METH-2" "open_tendering", Days(20), AtLeast, "O87 art 18" V,
        "公开招标:招标文件发出至投标截止",
        "open tendering: from the documents' issue to the bid deadline";
    NegotiationResponse: "R-METH-2" "negotiation", WorkingDays(3), AtLeast, "财政部令第74号" S,
        "竞争性谈判:谈判文件发出至首次响应截止",
        "competitive negotiation: from the documents' issue to the first responses";
    EnquiryResponse: "R-METH-2" "enquiry", WorkingDays(3), AtLeast, "财政部令第74号" S,
        "询价:询价通知书发出至响应截止",
        "enquiry: from the request's issue to the responses";
    ConsultationResponse: "R-METH-2" "consultation", Days(10), AtLeast, "财库〔2014〕214号" S,
        "竞争性磋商:磋商文件发出至首次响应截止",
        "competitive consultation: from the documents' issue to the first responses";
    DocumentsOnOffer: "R-DOC-1" "on_offer", WorkingDays(5), AtLeast, "O87 art 18" V,
        "招标文件提供期限(最后一日)",
        "tender documents on offer (the last day)";
    TenderingClarification: "R-DOC-2" "open_tendering", Days(15), AtLeast, "O87 art 27" V,
        "公开招标:澄清或修改至投标截止",
        "open tendering: from a clarification or amendment to the bid deadline";
    ConsultationClarification: "R-DOC-2" "consultation", Days(5), AtLeast, "财库〔2014〕214号" S,
        "竞争性磋商:澄清或修改至响应截止",
        "competitive consultation: from a clarification or amendment to the responses";
    NegotiationClarification: "R-DOC-2" "negotiation", WorkingDays(3), AtLeast, "财政部令第74号" S,
        "竞争性谈判:澄清或修改至首次响应截止",
        "competitive negotiation: from a clarification or amendment to the first responses";
    EnquiryClarification: "R-DOC-2" "enquiry", WorkingDays(3), AtLeast, "财政部令第74号" S,
        "询价:澄清或修改至响应截止",
        "enquiry: from a clarification or amendment to the responses";
    EvaluationReport: "R-EVAL-10" "report", WorkingDays(2), Within, "O87 art 68" V,
        "评标报告送交采购人",
        "the evaluation report sent to the purchaser after the evaluation";
    WinnerConfirmation: "R-EVAL-10" "confirmation", WorkingDays(5), Within, "O87 art 68" V,
        "采购人确定中标人",
        "the purchaser confirms the winner after receiving the report";
    ResultAnnouncement: "R-AWARD-1" "announcement", WorkingDays(2), Within, "O87 art 69" V,
        "中标、成交结果公告",
        "the result announced after the winner is confirmed";
    ResultPublicity: "R-AWARD-1" "publicity", WorkingDays(1), AtLeast, "O87 art 69" V,
        "中标、成交结果公告期限(最后一日)",
        "the result's publicity (its last day)";
    ContractSigning: "R-CON-1" "signing", Days(30), Within, "O87 art 71" V,
        "签订政府采购合同",
        "the contract signed after the award notice";
    ContractPublication: "R-CON-2" "publication", WorkingDays(2), Within, "IR art 50" V,
        "政府采购合同公告",
        "the contract published after signing";
    ContractFiling: "R-CON-3" "filing", WorkingDays(7), Within, "GPL art 47" V,
        "政府采购合同备案",
        "the contract filed with finance after signing";
    DepositReturn: "R-DEP-1" "return", WorkingDays(5), Within, "O87 art 38" V,
        "退还投标保证金",
        "the bid deposit returned";
    SmePayment: "R-PAY-1" "payment", Days(30), Within, "PAY" M,
        "机关、事业单位向中小企业支付款项",
        "a public body pays an SME after delivery or acceptance";
    SmePaymentLongest: "R-PAY-1" "longest", Days(60), Within, "PAY" M,
        "合同约定付款期限的上限",
        "the longest payment term a contract may agree";
    QuestionReply: "R-CHAL-1" "reply", WorkingDays(3), Within, "IR art 52" V,
        "答复询问",
        "a question (询问) answered";
    ChallengeFiling: "R-CHAL-2" "filing", WorkingDays(7), Within, "O94 arts 10–11" V,
        "提出质疑",
        "a challenge (质疑) filed after knowing of the harm";
    ChallengeReply: "R-CHAL-2" "reply", WorkingDays(7), Within, "O94 art 13" V,
        "答复质疑",
        "a challenge answered after its receipt";
    ComplaintFiling: "R-CHAL-3" "filing", WorkingDays(15), Within, "O94 art 17" V,
        "提起投诉",
        "a complaint (投诉) filed after the reply deadline";
    ComplaintExamination: "R-CHAL-3" "examination", WorkingDays(5), Within, "O94 art 21" V,
        "财政部门审查投诉",
        "finance examines a complaint after its receipt";
    ComplaintResponse: "R-CHAL-3" "response", WorkingDays(5), Within, "O94 art 22" V,
        "被投诉人和相关供应商答复",
        "the respondents answer after receiving the complaint";
    ComplaintDecision: "R-CHAL-3" "decision", WorkingDays(30), Within, "O94 art 26" V,
        "作出投诉处理决定",
        "finance decides a complaint after its receipt";
    ProcurementSuspension: "R-CHAL-3" "suspension", Days(30), Within, "O94 art 28" V,
        "暂停采购活动(最长)",
        "procurement suspended (at most)";
}

impl DeadlineRule {
    /// The rule's code in RULES.md ("R-CHAL-2").
    pub fn code(self) -> &'static str {
        self.info().code
    }

    /// Chinese, then English.
    pub fn label(self) -> (&'static str, &'static str) {
        (self.info().zh, self.info().en)
    }
}

/// Periods that replace the defaults, by rule code and the rule's name under it:
///
/// ```toml
/// [R-PAY-1]
/// payment = { days = 45 }
/// [R-CHAL-2]
/// reply = { working_days = 7 }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawPeriods")]
pub struct DeadlinePeriods(BTreeMap<DeadlineRule, Period>);

type RawPeriods = BTreeMap<String, BTreeMap<String, Period>>;

impl TryFrom<RawPeriods> for DeadlinePeriods {
    type Error = CalendarError;

    fn try_from(raw: RawPeriods) -> Result<Self, CalendarError> {
        let mut periods = BTreeMap::new();
        for (code, named) in raw {
            for (name, period) in named {
                let rule = DeadlineRule::ALL
                    .iter()
                    .find(|r| r.info().code == code && r.info().name == name)
                    .ok_or_else(|| CalendarError::UnknownDeadline {
                        code: code.clone(),
                        name: name.clone(),
                    })?;
                periods.insert(*rule, period);
            }
        }
        Ok(DeadlinePeriods(periods))
    }
}

impl DeadlinePeriods {
    pub fn from_toml(text: &str) -> Result<DeadlinePeriods, CalendarError> {
        let raw: RawPeriods =
            toml::from_str(text).map_err(|e| CalendarError::Toml(e.to_string()))?;
        DeadlinePeriods::try_from(raw)
    }

    /// These periods with `rule`'s set to `period`.
    pub fn with(mut self, rule: DeadlineRule, period: Period) -> DeadlinePeriods {
        self.0.insert(rule, period);
        self
    }

    /// The period in force for `rule`: the override, else the default.
    pub fn period(&self, rule: DeadlineRule) -> Period {
        self.0.get(&rule).copied().unwrap_or(rule.info().period)
    }
}

/// The day a period starts from: the start event's date in China Standard Time, an instant
/// at exactly 00:00 counting as 24:00 of the day before.
pub fn start_day(start_ms: i64) -> NaiveDate {
    cst_date(start_ms.saturating_sub(1))
}

/// The last day of `rule`'s period for a start event at `start_ms`.
pub fn last_day(
    calendar: &Calendar,
    rule: DeadlineRule,
    periods: &DeadlinePeriods,
    start_ms: i64,
) -> NaiveDate {
    periods.period(rule).last_day(calendar, start_day(start_ms))
}

/// 24:00 China time of the last day, as milliseconds: the act is in time before it.
pub fn due(
    calendar: &Calendar,
    rule: DeadlineRule,
    periods: &DeadlinePeriods,
    start_ms: i64,
) -> i64 {
    end_of_day_ms(last_day(calendar, rule, periods, start_ms))
}

/// 00:00 China time of the last day, as milliseconds: the later event may come from then.
pub fn earliest(
    calendar: &Calendar,
    rule: DeadlineRule,
    periods: &DeadlinePeriods,
    start_ms: i64,
) -> i64 {
    start_of_day_ms(last_day(calendar, rule, periods, start_ms))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::TimeZone;

    use super::DeadlineRule::*;
    use super::*;

    type Ymd = (i32, u32, u32);

    fn at((y, m, day): Ymd, h: u32, min: u32) -> i64 {
        let t = crate::clock::cst().with_ymd_and_hms(y, m, day, h, min, 0);
        t.unwrap().timestamp_millis()
    }

    /// For each (start event's day, expected last day), a start at 10:00 gives a due
    /// instant of 24:00 and an earliest of 00:00 on the expected day.
    fn check(rule: DeadlineRule, periods: &DeadlinePeriods, cases: &[(Ymd, Ymd)]) {
        let cal = Calendar::builtin();
        for (start, last) in cases {
            let start_ms = at(*start, 10, 0);
            let want = crate::clock::cst()
                .with_ymd_and_hms(last.0, last.1, last.2, 0, 0, 0)
                .unwrap()
                .timestamp_millis();
            let got = earliest(cal, rule, periods, start_ms);
            assert_eq!(got, want, "{rule:?} from {start:?}: earliest");
            let got = due(cal, rule, periods, start_ms);
            assert_eq!(got, want + 86_400_000, "{rule:?} from {start:?}: due");
        }
    }

    fn defaults(rule: DeadlineRule, cases: &[(Ymd, Ymd)]) {
        check(rule, &DeadlinePeriods::default(), cases)
    }

    #[test]
    fn r_time_1_a_due_instant_is_24_00_china_time_and_midnight_ends_the_day_before() {
        let cal = Calendar::builtin();
        let none = DeadlinePeriods::default();
        // Award notice late on Sunday 2025-08-31: 30 days later is Tuesday 2025-09-30.
        let due_ms = due(cal, ContractSigning, &none, at((2025, 8, 31), 23, 59));
        assert_eq!(due_ms, at((2025, 10, 1), 0, 0));
        assert_eq!(crate::clock::format_cst(due_ms - 1), "2025-09-30 23:59");
        // Exactly 00:00 on 08-31 is 24:00 on 08-30: the period ends a day earlier.
        let due_ms = due(cal, ContractSigning, &none, at((2025, 8, 31), 0, 0));
        assert_eq!(due_ms, at((2025, 9, 30), 0, 0));
        assert_eq!(
            due(cal, ContractSigning, &none, at((2025, 8, 31), 0, 0) + 1),
            at((2025, 10, 1), 0, 0)
        );
    }

    #[test]
    fn r_plan_1_intention_30_days_before_the_start_moved_off_national_day_2025() {
        defaults(
            IntentionNotice,
            &[
                ((2025, 8, 31), (2025, 9, 30)),
                ((2025, 9, 1), (2025, 10, 9)), // Oct 1, a holiday
                ((2025, 9, 8), (2025, 10, 9)),
                ((2025, 9, 9), (2025, 10, 9)),
                ((2025, 9, 11), (2025, 10, 11)), // a make-up Saturday
                ((2025, 9, 12), (2025, 10, 13)), // an ordinary Sunday
            ],
        );
    }

    #[test]
    fn r_meth_1_single_source_publicity_over_spring_festival_2026() {
        defaults(
            SingleSourcePublicity,
            &[
                ((2026, 2, 9), (2026, 2, 14)),
                ((2026, 2, 10), (2026, 2, 24)),
                ((2026, 2, 16), (2026, 2, 28)),
                ((2026, 2, 24), (2026, 3, 2)),
            ],
        );
    }

    #[test]
    fn r_meth_2_time_to_respond_per_method() {
        defaults(
            TenderingBidPeriod,
            &[
                ((2026, 1, 25), (2026, 2, 14)),
                ((2026, 1, 26), (2026, 2, 24)), // Feb 15, first day of the festival
                ((2026, 2, 3), (2026, 2, 24)),
                ((2026, 2, 4), (2026, 2, 24)),
                ((2026, 2, 5), (2026, 2, 25)),
            ],
        );
        defaults(
            NegotiationResponse,
            &[
                ((2026, 2, 12), (2026, 2, 24)),
                ((2026, 2, 13), (2026, 2, 25)),
            ],
        );
        defaults(
            EnquiryResponse,
            &[
                ((2025, 9, 29), (2025, 10, 10)),
                ((2025, 10, 9), (2025, 10, 13)),
            ],
        );
        defaults(
            ConsultationResponse,
            &[
                ((2025, 9, 20), (2025, 9, 30)),
                ((2025, 9, 21), (2025, 10, 9)),
                ((2025, 10, 1), (2025, 10, 11)),
            ],
        );
    }

    #[test]
    fn r_doc_1_documents_on_offer_5_working_days_over_national_day_2025() {
        defaults(
            DocumentsOnOffer,
            &[
                ((2025, 9, 26), (2025, 10, 10)), // counts Sunday 09-28
                ((2025, 9, 30), (2025, 10, 14)),
                ((2025, 10, 1), (2025, 10, 14)),
                ((2025, 10, 9), (2025, 10, 15)), // counts Saturday 10-11
            ],
        );
    }

    #[test]
    fn r_doc_2_clarifications_before_the_deadline_per_method() {
        defaults(
            TenderingClarification,
            &[
                ((2025, 9, 15), (2025, 9, 30)),
                ((2025, 9, 16), (2025, 10, 9)),
                ((2025, 9, 26), (2025, 10, 11)),
                ((2025, 9, 27), (2025, 10, 13)),
            ],
        );
        defaults(
            ConsultationClarification,
            &[
                ((2026, 2, 9), (2026, 2, 14)),
                ((2026, 2, 10), (2026, 2, 24)),
                ((2026, 2, 23), (2026, 2, 28)),
                ((2026, 2, 24), (2026, 3, 2)),
            ],
        );
        defaults(NegotiationClarification, &[((2026, 2, 11), (2026, 2, 14))]);
        defaults(EnquiryClarification, &[((2026, 2, 14), (2026, 2, 26))]);
    }

    #[test]
    fn r_eval_10_report_and_confirmation_over_national_day_2025() {
        defaults(EvaluationReport, &[((2025, 9, 29), (2025, 10, 9))]);
        defaults(
            WinnerConfirmation,
            &[
                ((2025, 9, 25), (2025, 10, 9)),
                ((2025, 9, 30), (2025, 10, 14)),
            ],
        );
    }

    #[test]
    fn r_award_1_announcement_and_publicity_over_spring_festival_2026() {
        defaults(ResultAnnouncement, &[((2026, 2, 13), (2026, 2, 24))]);
        defaults(
            ResultPublicity,
            &[
                ((2026, 2, 14), (2026, 2, 24)),
                ((2026, 2, 27), (2026, 2, 28)),
            ],
        );
    }

    #[test]
    fn r_con_1_thirty_days_ending_on_a_holiday_move_to_the_next_working_day() {
        defaults(
            ContractSigning,
            &[
                ((2025, 8, 31), (2025, 9, 30)),
                ((2025, 9, 1), (2025, 10, 9)),
                ((2025, 9, 11), (2025, 10, 11)),
                ((2025, 9, 12), (2025, 10, 13)),
                ((2026, 1, 15), (2026, 2, 14)),
                ((2026, 1, 16), (2026, 2, 24)),
            ],
        );
    }

    #[test]
    fn r_con_2_r_con_3_publication_and_filing() {
        defaults(
            ContractPublication,
            &[
                ((2026, 2, 13), (2026, 2, 24)),
                ((2026, 2, 26), (2026, 2, 28)),
            ],
        );
        defaults(ContractFiling, &[((2025, 9, 26), (2025, 10, 13))]);
    }

    #[test]
    fn r_dep_1_deposit_returned_within_5_working_days() {
        defaults(DepositReturn, &[((2026, 2, 12), (2026, 2, 26))]);
    }

    #[test]
    fn r_pay_1_thirty_days_by_default_a_contract_term_by_override() {
        defaults(SmePayment, &[((2025, 9, 1), (2025, 10, 9))]);
        defaults(SmePaymentLongest, &[((2025, 8, 2), (2025, 10, 9))]);
        let periods = DeadlinePeriods::default().with(SmePayment, Days(45));
        check(SmePayment, &periods, &[((2025, 9, 1), (2025, 10, 16))]);
    }

    #[test]
    fn r_chal_1_question_answered_within_3_working_days_around_spring_festival_2026() {
        defaults(
            QuestionReply,
            &[
                ((2026, 2, 13), (2026, 2, 25)), // counts Saturday 02-14
                ((2026, 2, 14), (2026, 2, 26)),
                ((2026, 2, 15), (2026, 2, 26)),
                ((2026, 2, 23), (2026, 2, 26)),
                ((2026, 2, 24), (2026, 2, 27)),
                ((2026, 2, 25), (2026, 2, 28)), // ends on Saturday 02-28
            ],
        );
    }

    #[test]
    fn r_chal_2_challenge_filed_and_answered_within_7_working_days() {
        defaults(
            ChallengeFiling,
            &[
                ((2025, 9, 25), (2025, 10, 11)),
                ((2025, 9, 26), (2025, 10, 13)),
                ((2025, 9, 30), (2025, 10, 16)),
                ((2025, 10, 1), (2025, 10, 16)),
                ((2025, 10, 8), (2025, 10, 16)),
                ((2025, 10, 9), (2025, 10, 17)),
            ],
        );
        defaults(
            ChallengeReply,
            &[
                ((2026, 2, 12), (2026, 2, 28)),
                ((2026, 2, 13), (2026, 3, 2)),
            ],
        );
    }

    #[test]
    fn r_chal_3_a_complaint_runs_from_the_reply_deadline() {
        let cal = Calendar::builtin();
        let none = DeadlinePeriods::default();
        let reply_due = due(cal, ChallengeReply, &none, at((2025, 9, 26), 10, 0));
        assert_eq!(reply_due, at((2025, 10, 14), 0, 0)); // 24:00 on 10-13
        let complaint_due = due(cal, ComplaintFiling, &none, reply_due);
        assert_eq!(complaint_due, at((2025, 11, 4), 0, 0)); // 24:00 on 11-03
        defaults(ComplaintExamination, &[((2026, 2, 11), (2026, 2, 25))]);
        defaults(ComplaintResponse, &[((2026, 2, 12), (2026, 2, 26))]);
        defaults(ComplaintDecision, &[((2025, 9, 15), (2025, 10, 31))]);
        defaults(ProcurementSuspension, &[((2026, 1, 17), (2026, 2, 24))]);
    }

    #[test]
    fn r_time_1_a_year_outside_the_file_counts_weekends_only() {
        assert!(!Calendar::builtin().covers(2028));
        defaults(DepositReturn, &[((2028, 1, 3), (2028, 1, 10))]);
        defaults(
            ContractSigning,
            &[((2028, 1, 5), (2028, 2, 4)), ((2028, 1, 6), (2028, 2, 7))],
        );
    }

    #[test]
    fn r_time_1_periods_are_overridden_from_toml() {
        let periods = DeadlinePeriods::from_toml(
            "[R-PAY-1]\npayment = { days = 45 }\n[R-CHAL-2]\nreply = { working_days = 5 }\n",
        )
        .unwrap();
        assert_eq!(periods.period(SmePayment), Days(45));
        assert_eq!(periods.period(ChallengeReply), WorkingDays(5));
        assert_eq!(periods.period(ChallengeFiling), WorkingDays(7));
        // 5 working days from 2026-02-12: 13, 14, 24, 25, 26.
        check(ChallengeReply, &periods, &[((2026, 2, 12), (2026, 2, 26))]);

        // Inside a larger configuration, through serde.
        #[derive(Debug, Deserialize)]
        struct Config {
            deadlines: DeadlinePeriods,
        }
        let config: Config =
            toml::from_str("[deadlines.R-CON-1]\nsigning = { days = 20 }").unwrap();
        assert_eq!(config.deadlines.period(ContractSigning), Days(20));
        let e = toml::from_str::<Config>("[deadlines.R-CON-1]\nsign = { days = 20 }");
        assert!(e.unwrap_err().to_string().contains("R-CON-1"));

        let unknown = |code: &str, name: &str| CalendarError::UnknownDeadline {
            code: code.into(),
            name: name.into(),
        };
        let e = DeadlinePeriods::from_toml("[R-CHAL-9]\nreply = { days = 3 }");
        assert_eq!(e, Err(unknown("R-CHAL-9", "reply")));
        // A name under the wrong code.
        let e = DeadlinePeriods::from_toml("[R-CHAL-1]\nfiling = { days = 3 }");
        assert_eq!(e, Err(unknown("R-CHAL-1", "filing")));
        for bad in [
            "[R-PAY-1]\npayment = { weeks = 4 }",
            "[R-PAY-1]\npayment = 30",
        ] {
            let e = DeadlinePeriods::from_toml(bad);
            assert!(matches!(e, Err(CalendarError::Toml(_))), "{bad}");
        }
    }

    #[test]
    fn r_time_1_the_rule_table_names_each_deadline_once() {
        let mut keys = BTreeSet::new();
        for rule in DeadlineRule::ALL {
            let i = rule.info();
            assert!(keys.insert((i.code, i.name)), "{} {} twice", i.code, i.name);
            assert!(!i.zh.is_empty() && !i.en.is_empty() && !i.source.is_empty());
            assert_eq!(rule.label(), (i.zh, i.en));
        }
        let codes: BTreeSet<&str> = DeadlineRule::ALL.iter().map(|r| r.code()).collect();
        let want = "R-PLAN-1 R-METH-1 R-METH-2 R-DOC-1 R-DOC-2 R-EVAL-10 R-AWARD-1 R-CON-1 \
                    R-CON-2 R-CON-3 R-DEP-1 R-PAY-1 R-CHAL-1 R-CHAL-2 R-CHAL-3";
        assert_eq!(codes, want.split_whitespace().collect());
        // The committee's confirmation deadline (committee::rules::CONFIRM_WORKING_DAYS).
        assert_eq!(WinnerConfirmation.info().period, WorkingDays(5));
        assert_eq!(WinnerConfirmation.code(), "R-EVAL-10");
    }
}
