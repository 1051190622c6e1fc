//! The statutory time limits of a tender, as pure functions of the deadline engine: how
//! long from publication to the bid deadline (R-METH-2 per method, R-DOC-1 documents on
//! offer) and how late an amendment that affects bids may come before the deadline moves
//! (R-DOC-2).

use axum::http::StatusCode;
use serde::Serialize;

use super::methods::{MethodRuleError, MethodRules};
use crate::calendar::deadlines::DeadlineRule;
use crate::calendar::Deadlines;
use crate::plan::ProcurementMethod;

/// The rules bounding the time from publication to the bid deadline for `method`: the
/// response period (R-METH-2) and, where the documents are sold for a period, their
/// availability (R-DOC-1: 招标文件 O87 art 18; 磋商文件 214号 art 10, also 5 working days),
/// as the method table says (`tender::methods`). Single source and framework agreements
/// have their own procedures (74号, 110号), not modelled there.
pub fn publication_rules(methods: &MethodRules, method: ProcurementMethod) -> &[DeadlineRule] {
    methods.publication_rules(method)
}

/// The rule bounding an amendment or clarification that may affect bid preparation
/// (R-DOC-2), for `method`, as the method table says.
pub fn amendment_rule(methods: &MethodRules, method: ProcurementMethod) -> Option<DeadlineRule> {
    methods.amendment_rule(method)
}

/// The earliest bid deadline the rules allow for an event at `at`, and the rule that
/// sets it (the latest of them).
fn earliest_of(
    deadlines: &Deadlines,
    rules: &[DeadlineRule],
    at: i64,
) -> Option<(i64, DeadlineRule)> {
    rules
        .iter()
        .map(|&rule| {
            // A window (documents on offer) stays open through its last day.
            let earliest = if rule == DeadlineRule::DocumentsOnOffer {
                deadlines.due(rule, at)
            } else {
                deadlines.earliest(rule, at)
            };
            (earliest, rule)
        })
        .max_by_key(|(earliest, _)| *earliest)
}

/// The earliest bid deadline for a tender of `method` published at `at`.
pub fn earliest_deadline_if_published(
    deadlines: &Deadlines,
    methods: &MethodRules,
    method: ProcurementMethod,
    at: i64,
) -> Option<(i64, DeadlineRule)> {
    earliest_of(deadlines, publication_rules(methods, method), at)
}

/// The earliest bid deadline after an amendment affecting bids issued at `at`.
pub fn earliest_deadline_if_amended(
    deadlines: &Deadlines,
    methods: &MethodRules,
    method: ProcurementMethod,
    at: i64,
) -> Option<(i64, DeadlineRule)> {
    earliest_of(deadlines, amendment_rule(methods, method).as_slice(), at)
}

/// A bid deadline too close for the law.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeLimitError {
    /// R-METH-2 / R-DOC-1: published too close to the bid deadline.
    #[error("bid period too short under {rule:?} (earliest deadline {earliest})")]
    BidPeriodTooShort { rule: DeadlineRule, earliest: i64 },
    /// R-DOC-2: an amendment affecting bids too close to the deadline, which must move.
    #[error("amendment too late under {rule:?} (earliest deadline {earliest})")]
    AmendmentTooLate { rule: DeadlineRule, earliest: i64 },
}

/// Whether a tender of `method` published at `at` may have `bid_deadline`.
pub fn check_publication(
    deadlines: &Deadlines,
    methods: &MethodRules,
    method: ProcurementMethod,
    at: i64,
    bid_deadline: i64,
) -> Result<(), TimeLimitError> {
    match earliest_deadline_if_published(deadlines, methods, method, at) {
        Some((earliest, rule)) if bid_deadline < earliest => {
            Err(TimeLimitError::BidPeriodTooShort { rule, earliest })
        }
        _ => Ok(()),
    }
}

/// Whether an amendment affecting bids issued at `at` may leave the deadline at
/// `bid_deadline`.
pub fn check_amendment(
    deadlines: &Deadlines,
    methods: &MethodRules,
    method: ProcurementMethod,
    at: i64,
    bid_deadline: i64,
) -> Result<(), TimeLimitError> {
    match earliest_deadline_if_amended(deadlines, methods, method, at) {
        Some((earliest, rule)) if bid_deadline < earliest => {
            Err(TimeLimitError::AmendmentTooLate { rule, earliest })
        }
        _ => Ok(()),
    }
}

/// The time limits of a tender at one instant, for the agency's forms.
#[derive(Debug, Clone, Serialize)]
pub struct TimeLimitsView {
    /// Whether this deployment enforces them (off only for training deployments).
    pub enforced: bool,
    /// The earliest bid deadline if published now, with its rule code.
    pub publish_earliest_deadline: Option<i64>,
    pub publish_rule: Option<String>,
    /// The earliest bid deadline if an amendment affecting bids is issued now.
    pub amend_earliest_deadline: Option<i64>,
    pub amend_rule: Option<String>,
}

pub fn view(
    deadlines: &Deadlines,
    methods: &MethodRules,
    enforced: bool,
    method: ProcurementMethod,
    at: i64,
) -> TimeLimitsView {
    let p = earliest_deadline_if_published(deadlines, methods, method, at);
    let a = earliest_deadline_if_amended(deadlines, methods, method, at);
    let name = |r: DeadlineRule| format!("{} {}", r.code(), r.info().name);
    TimeLimitsView {
        enforced,
        publish_earliest_deadline: p.map(|p| p.0),
        publish_rule: p.map(|p| name(p.1)),
        amend_earliest_deadline: a.map(|a| a.0),
        amend_rule: a.map(|a| name(a.1)),
    }
}

impl crate::error::AreaError for TimeLimitError {
    fn code(&self) -> &'static str {
        match self {
            TimeLimitError::BidPeriodTooShort { .. } => "BID_PERIOD_TOO_SHORT",
            TimeLimitError::AmendmentTooLate { .. } => "AMENDMENT_TOO_LATE",
        }
    }
    fn status(&self) -> StatusCode {
        StatusCode::UNPROCESSABLE_ENTITY
    }
    fn messages(&self) -> (String, String) {
        match self {
            TimeLimitError::BidPeriodTooShort { rule, earliest } => {
                let (zh, en) = rule.label();
                (
                    format!(
                        "投标截止时间过早:{zh}期限不足({}),最早可定于 {}",
                        rule.code(),
                        crate::clock::format_cst(*earliest)
                    ),
                    format!(
                        "the bid deadline is too early: {en} ({}); the earliest is {}",
                        rule.code(),
                        crate::clock::format_cst(*earliest)
                    ),
                )
            }
            TimeLimitError::AmendmentTooLate { rule, earliest } => {
                let (zh, en) = rule.label();
                (
                    format!(
                        "影响投标文件编制的澄清或修改距投标截止不足法定期限({zh},{}),\
                         投标截止时间须顺延至 {} 或以后",
                        rule.code(),
                        crate::clock::format_cst(*earliest)
                    ),
                    format!(
                        "an amendment affecting bid preparation comes too close to the deadline \
                         ({en}, {}); the bid deadline must move to {} or later",
                        rule.code(),
                        crate::clock::format_cst(*earliest)
                    ),
                )
            }
        }
    }
}

impl From<TimeLimitError> for crate::error::AppError {
    fn from(e: TimeLimitError) -> Self {
        crate::error::AppError::Area(Box::new(e))
    }
}

impl crate::error::AreaError for MethodRuleError {
    fn code(&self) -> &'static str {
        MethodRuleError::code(self)
    }
    fn status(&self) -> StatusCode {
        StatusCode::UNPROCESSABLE_ENTITY
    }
    fn messages(&self) -> (String, String) {
        MethodRuleError::messages(self)
    }
}

impl From<MethodRuleError> for crate::error::AppError {
    fn from(e: MethodRuleError) -> Self {
        crate::error::AppError::Area(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{end_of_day_ms, start_of_day_ms};
    use chrono::NaiveDate;

    fn tm() -> &'static MethodRules {
        MethodRules::builtin()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    /// 10:00 China time on a day.
    fn ten(y: i32, m: u32, day: u32) -> i64 {
        start_of_day_ms(d(y, m, day)) + 10 * 3_600_000
    }

    #[test]
    fn r_meth_2_open_tendering_deadline_on_the_20th_day_and_not_before() {
        let dl = Deadlines::builtin();
        // Published Tue 2026-03-03: the 20th day is Mon 2026-03-23 (a working day).
        let at = ten(2026, 3, 3);
        let m = ProcurementMethod::OpenTendering;
        assert!(check_publication(&dl, tm(), m, at, ten(2026, 3, 23)).is_ok());
        assert!(check_publication(&dl, tm(), m, at, start_of_day_ms(d(2026, 3, 23))).is_ok());
        let err = check_publication(&dl, tm(), m, at, start_of_day_ms(d(2026, 3, 23)) - 1);
        assert_eq!(
            err,
            Err(TimeLimitError::BidPeriodTooShort {
                rule: DeadlineRule::TenderingBidPeriod,
                earliest: start_of_day_ms(d(2026, 3, 23))
            })
        );
    }

    #[test]
    fn r_meth_2_the_20th_day_on_national_day_moves_past_the_holiday() {
        let dl = Deadlines::builtin();
        // Published 2025-09-13: the 20th day, 2025-10-03, is a holiday; the next working
        // day is 2025-10-09.
        let at = ten(2025, 9, 13);
        let m = ProcurementMethod::OpenTendering;
        assert!(check_publication(&dl, tm(), m, at, ten(2025, 10, 8)).is_err());
        assert!(check_publication(&dl, tm(), m, at, ten(2025, 10, 9)).is_ok());
    }

    #[test]
    fn r_meth_2_negotiation_and_enquiry_three_working_days_across_a_make_up_saturday() {
        let dl = Deadlines::builtin();
        // Thu 2025-10-09: working days 10-10 (Fri), 10-11 (make-up Saturday), 10-13 (Mon).
        let at = ten(2025, 10, 9);
        for m in [
            ProcurementMethod::CompetitiveNegotiation,
            ProcurementMethod::Inquiry,
        ] {
            assert!(check_publication(&dl, tm(), m, at, ten(2025, 10, 12)).is_err());
            assert!(check_publication(&dl, tm(), m, at, ten(2025, 10, 13)).is_ok());
        }
    }

    #[test]
    fn r_doc_1_documents_on_offer_five_full_working_days_for_consultation() {
        let dl = Deadlines::builtin();
        // Consultation: 10 days (R-METH-2) from Mon 2025-09-29 is Thu 10-09 (moved off the
        // holiday); on offer 5 working days: 9-30, 10-9, 10-10, 10-11, 10-13 — the window
        // runs through 10-13, so the deadline is 24:00 that day at the earliest.
        let at = ten(2025, 9, 29);
        let m = ProcurementMethod::CompetitiveConsultation;
        let (earliest, rule) = earliest_deadline_if_published(&dl, tm(), m, at).unwrap();
        assert_eq!(rule, DeadlineRule::DocumentsOnOffer);
        assert_eq!(earliest, end_of_day_ms(d(2025, 10, 13)));
        assert!(check_publication(&dl, tm(), m, at, ten(2025, 10, 13)).is_err());
        assert!(check_publication(&dl, tm(), m, at, ten(2025, 10, 14)).is_ok());
    }

    #[test]
    fn r_doc_2_an_amendment_fifteen_days_before_the_deadline_and_one_day_late() {
        let dl = Deadlines::builtin();
        let m = ProcurementMethod::OpenTendering;
        // Amended Mon 2026-03-09: the 15th day is Tue 2026-03-24.
        let at = ten(2026, 3, 9);
        assert!(check_amendment(&dl, tm(), m, at, ten(2026, 3, 24)).is_ok());
        assert_eq!(
            check_amendment(&dl, tm(), m, at, ten(2026, 3, 23)),
            Err(TimeLimitError::AmendmentTooLate {
                rule: DeadlineRule::TenderingClarification,
                earliest: start_of_day_ms(d(2026, 3, 24))
            })
        );
        // Consultation: 5 days.
        let c = ProcurementMethod::CompetitiveConsultation;
        assert!(check_amendment(&dl, tm(), c, at, ten(2026, 3, 13)).is_err());
        assert!(check_amendment(&dl, tm(), c, at, ten(2026, 3, 16)).is_ok());
    }

    #[test]
    fn r_doc_2_negotiation_three_working_days_across_a_make_up_sunday_and_national_day() {
        let dl = Deadlines::builtin();
        let m = ProcurementMethod::CompetitiveNegotiation;
        // Amended Fri 2025-09-26: Sun 09-28 (a make-up day), Mon 09-29, Tue 09-30.
        let at = ten(2025, 9, 26);
        assert!(check_amendment(&dl, tm(), m, at, ten(2025, 9, 29)).is_err());
        assert!(check_amendment(&dl, tm(), m, at, start_of_day_ms(d(2025, 9, 30))).is_ok());
        // Amended Mon 09-29: Tue 09-30, then Thu 10-09 and Fri 10-10 after the holiday.
        let at = ten(2025, 9, 29);
        assert!(check_amendment(&dl, tm(), m, at, ten(2025, 10, 9)).is_err());
        assert_eq!(
            earliest_deadline_if_amended(&dl, tm(), m, at),
            Some((
                start_of_day_ms(d(2025, 10, 10)),
                DeadlineRule::NegotiationClarification
            ))
        );
        assert!(check_amendment(&dl, tm(), m, at, ten(2025, 10, 10)).is_ok());
        assert!(check_amendment(&dl, tm(), m, at, ten(2025, 10, 11)).is_ok());
    }

    #[test]
    fn single_source_has_no_publication_period_here() {
        let dl = Deadlines::builtin();
        let at = ten(2026, 3, 3);
        assert!(check_publication(&dl, tm(), ProcurementMethod::SingleSource, at, at + 1).is_ok());
        assert!(check_amendment(&dl, tm(), ProcurementMethod::SingleSource, at, at + 1).is_ok());
    }

    /// The periods as they were written in code before the method table: the shipped
    /// table gives each method the same rules.
    #[test]
    fn r_meth_2_the_table_keeps_each_methods_periods() {
        use DeadlineRule::*;
        use ProcurementMethod as M;
        let before = |m: M| -> (&'static [DeadlineRule], Option<DeadlineRule>) {
            match m {
                M::OpenTendering | M::InvitedTendering => (
                    &[TenderingBidPeriod, DocumentsOnOffer],
                    Some(TenderingClarification),
                ),
                M::CompetitiveConsultation => (
                    &[ConsultationResponse, DocumentsOnOffer],
                    Some(ConsultationClarification),
                ),
                M::CompetitiveNegotiation => {
                    (&[NegotiationResponse], Some(NegotiationClarification))
                }
                M::Inquiry => (&[EnquiryResponse], Some(EnquiryClarification)),
                M::SingleSource | M::FrameworkAgreement => (&[], None),
            }
        };
        for m in M::ALL {
            let (rules, amendment) = before(m);
            assert_eq!(publication_rules(tm(), m), rules, "{m:?}");
            assert_eq!(amendment_rule(tm(), m), amendment, "{m:?}");
        }
    }
}
