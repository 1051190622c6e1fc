//! When an alert is due, as pure functions of a deadline, the official calendar and the
//! time (no database, no clock): `upcoming` at 00:00 China time of the working day before
//! the deadline's day (R-TIME-1: a make-up Saturday counts, a holiday does not), `due` at
//! the deadline, `overdue` at the deadline when it escalates; and the alert's titles.

use std::iter::successors;

use chrono::NaiveDate;

use super::types::{Deadline, Notice, Stage};
use crate::calendar::{start_of_day_ms, Calendar};
use crate::clock::cst_date;

/// Longest look back for the working day before a deadline's day. The longest run of rest
/// days in the official calendars is 8 (National Day); a calendar with none in 30 days is
/// broken, and the day before is used.
const MAX_LOOK_BACK: usize = 30;

/// How far ahead of `due_at` the first alert of a deadline can fall, at most: what the
/// sources look ahead by so that an `upcoming` alert is never found late.
pub const LOOKAHEAD_MS: i64 = 16 * 86_400_000;

/// The deadline's day in China time: for an act due before `due_at` (24:00 of its last
/// day, as `calendar::deadlines::due` gives it) the day before the instant; for one
/// possible from `due_at` (00:00 of its first day), the day of the instant.
pub fn day_of(d: &Deadline) -> NaiveDate {
    match d.notice {
        Notice::ActBy => cst_date(d.due_at.saturating_sub(1)),
        Notice::OpenFrom => cst_date(d.due_at),
    }
}

/// The last working day before `day`, by the calendar.
pub fn working_day_before(calendar: &Calendar, day: NaiveDate) -> NaiveDate {
    let before = day.pred_opt().unwrap_or(day);
    successors(Some(before), |d| d.pred_opt())
        .take(MAX_LOOK_BACK)
        .find(|d| calendar.is_working_day(*d))
        .unwrap_or(before)
}

/// 00:00 China time of the working day before the deadline's day.
pub fn upcoming_at(calendar: &Calendar, d: &Deadline) -> i64 {
    start_of_day_ms(working_day_before(calendar, day_of(d)))
}

/// Every alert the deadline has, with its instant.
pub fn schedule(calendar: &Calendar, d: &Deadline) -> Vec<(Stage, i64)> {
    let mut out = Vec::with_capacity(3);
    if d.warn_before {
        out.push((Stage::Upcoming, upcoming_at(calendar, d)));
    }
    out.push((Stage::Due, d.due_at));
    if !d.escalate_to.is_empty() {
        out.push((Stage::Overdue, d.due_at));
    }
    out
}

/// Whether the deadline was still open at `at`.
fn open_at(d: &Deadline, at: i64) -> bool {
    d.closed_late_at.is_none_or(|closed| closed >= at)
}

/// The stages due at `now`: each whose instant has come while the deadline was open. A
/// warning is not made once the deadline itself has come (it would say "due soon" of a
/// deadline past).
pub fn due_stages(calendar: &Calendar, d: &Deadline, now: i64) -> Vec<Stage> {
    schedule(calendar, d)
        .into_iter()
        .filter(|(stage, at)| {
            *at <= now && open_at(d, *at) && (*stage != Stage::Upcoming || now < d.due_at)
        })
        .map(|(stage, _)| stage)
        .collect()
}

/// The next instant after `now` at which one of the deadline's alerts falls due.
pub fn next_at(calendar: &Calendar, d: &Deadline, now: i64) -> Option<i64> {
    schedule(calendar, d)
        .into_iter()
        .map(|(_, at)| at)
        .filter(|at| *at > now)
        .min()
}

/// The alert's titles, Chinese then English, naming the act, the deadline and the subject.
pub fn titles(d: &Deadline, stage: Stage) -> (String, String) {
    let (act_zh, act_en) = d.act;
    let day = day_of(d).format("%Y-%m-%d").to_string();
    let what = &d.subject.title;
    match (d.notice, stage) {
        (Notice::OpenFrom, _) => (
            format!("{act_zh}（{day} 起）：{what}"),
            format!("{act_en} (from {day}): {what}"),
        ),
        (Notice::ActBy, Stage::Upcoming) => (
            format!("{act_zh}将于 {day} 24:00 截止：{what}"),
            format!("{act_en} is due by {day} 24:00: {what}"),
        ),
        (Notice::ActBy, Stage::Due) => (
            format!("{act_zh}期限已到（{day} 24:00）：{what}"),
            format!("{act_en}: the deadline ({day} 24:00) has come: {what}"),
        ),
        (Notice::ActBy, Stage::Overdue) => (
            format!("逾期未办：{act_zh}（{day} 24:00 截止）：{what}"),
            format!("Overdue: {act_en} was due by {day} 24:00: {what}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::alerts::types::{Audience, Subject};
    use crate::auth::Role;
    use crate::calendar::deadlines::DeadlineRule;
    use crate::calendar::Deadlines;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
        crate::clock::cst()
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .timestamp_millis()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn cal() -> &'static Calendar {
        Calendar::builtin()
    }

    /// The purchaser's confirmation of the winner (R-EVAL-10), due at `due_at`.
    fn confirmation(due_at: i64) -> Deadline {
        Deadline {
            key: "evaluation:t1:confirmation".into(),
            rule: DeadlineRule::WinnerConfirmation,
            subject: Subject {
                kind: "tender",
                id: "t1".into(),
                title: "智慧教室设备采购".into(),
                link: "/evaluation.html?tender=t1".into(),
            },
            due_at,
            closed_late_at: None,
            owners: vec![Audience::Org {
                org_id: "school".into(),
                role: Some(Role::Purchaser),
            }],
            escalate_to: vec![Role::Finance],
            warn_before: true,
            notice: Notice::ActBy,
            act: ("确定中标人", "Confirming the winner"),
        }
    }

    #[test]
    fn r_time_1_the_working_day_before_skips_holidays_and_counts_make_up_days() {
        for (deadline_day, before) in [
            // The first working day after the Spring Festival 2026 (02-15..02-23 off):
            // the day before is the make-up Saturday 02-14.
            (day(2026, 2, 24), day(2026, 2, 14)),
            // Monday 03-02 follows the make-up Saturday 02-28.
            (day(2026, 3, 2), day(2026, 2, 28)),
            // After National Day 2025 (10-01..10-08 off): Tuesday 09-30.
            (day(2025, 10, 9), day(2025, 9, 30)),
            // Monday 2025-09-29 follows the make-up Sunday 09-28.
            (day(2025, 9, 29), day(2025, 9, 28)),
            // Monday 2026-01-05 follows the make-up Sunday 01-04 (New Year 01-01..01-03).
            (day(2026, 1, 5), day(2026, 1, 4)),
            // An ordinary Monday: the Friday before.
            (day(2026, 3, 16), day(2026, 3, 13)),
            // The make-up Saturday 2025-10-11 itself: Thursday 10-09 and Friday 10-10 work.
            (day(2025, 10, 11), day(2025, 10, 10)),
        ] {
            assert_eq!(
                working_day_before(cal(), deadline_day),
                before,
                "{deadline_day}"
            );
        }
    }

    #[test]
    fn r_eval_10_a_confirmation_due_after_the_spring_festival_warns_on_the_make_up_saturday() {
        // The report is completed on Tuesday 2026-02-10: 5 working days are 02-11, 02-12,
        // 02-13, 02-14 (make-up) and 02-24; due at 24:00 on 02-24.
        let due =
            Deadlines::builtin().due(DeadlineRule::WinnerConfirmation, at(2026, 2, 10, 15, 0));
        assert_eq!(due, at(2026, 2, 25, 0, 0));
        let d = confirmation(due);
        let upcoming = at(2026, 2, 14, 0, 0);
        assert_eq!(upcoming_at(cal(), &d), upcoming);
        assert_eq!(
            schedule(cal(), &d),
            [
                (Stage::Upcoming, upcoming),
                (Stage::Due, due),
                (Stage::Overdue, due)
            ]
        );
        // Nothing on Friday 02-13; the warning from 00:00 on the make-up Saturday, through
        // the festival; the deadline and its escalation at 24:00 on 02-24.
        assert!(due_stages(cal(), &d, upcoming - 1).is_empty());
        assert_eq!(next_at(cal(), &d, upcoming - 1), Some(upcoming));
        assert_eq!(due_stages(cal(), &d, upcoming), [Stage::Upcoming]);
        assert_eq!(
            due_stages(cal(), &d, at(2026, 2, 20, 9, 0)),
            [Stage::Upcoming]
        );
        assert_eq!(due_stages(cal(), &d, due - 1), [Stage::Upcoming]);
        assert_eq!(next_at(cal(), &d, due - 1), Some(due));
        assert_eq!(due_stages(cal(), &d, due), [Stage::Due, Stage::Overdue]);
        assert_eq!(next_at(cal(), &d, due), None);
        // Found a week late (the server was down): the deadline and escalation, no warning.
        assert_eq!(
            due_stages(cal(), &d, due + 7 * 86_400_000),
            [Stage::Due, Stage::Overdue]
        );
    }

    #[test]
    fn r_eval_10_a_winner_confirmed_by_the_deadline_itself_is_escalated_all_the_same() {
        let due = at(2026, 3, 3, 0, 0);
        let d = Deadline {
            closed_late_at: Some(due),
            ..confirmation(due)
        };
        assert_eq!(
            due_stages(cal(), &d, due + 1000),
            [Stage::Due, Stage::Overdue]
        );
        // Without escalation roles there is no overdue stage; without a warning, no
        // upcoming one.
        let d = Deadline {
            escalate_to: vec![],
            warn_before: false,
            ..confirmation(due)
        };
        assert_eq!(schedule(cal(), &d), [(Stage::Due, due)]);
        assert!(due_stages(cal(), &d, due - 1).is_empty());
    }

    #[test]
    fn r_plan_1_an_open_from_deadline_is_the_day_of_its_instant() {
        // An intention published 2025-09-01: a tender may go out from 00:00 on 10-09.
        let from =
            Deadlines::builtin().earliest(DeadlineRule::IntentionNotice, at(2025, 9, 1, 10, 0));
        assert_eq!(from, at(2025, 10, 9, 0, 0));
        let d = Deadline {
            notice: Notice::OpenFrom,
            act: ("可发布采购公告", "The tender may be published"),
            ..confirmation(from)
        };
        assert_eq!(day_of(&d), day(2025, 10, 9));
        assert_eq!(upcoming_at(cal(), &d), at(2025, 9, 30, 0, 0));
        let (zh, en) = titles(&d, Stage::Due);
        assert_eq!(zh, "可发布采购公告（2025-10-09 起）：智慧教室设备采购");
        assert_eq!(
            en,
            "The tender may be published (from 2025-10-09): 智慧教室设备采购"
        );
    }

    #[test]
    fn titles_name_the_last_day_at_24_00_chinese_first() {
        let d = confirmation(at(2026, 2, 25, 0, 0));
        assert_eq!(
            titles(&d, Stage::Upcoming),
            (
                "确定中标人将于 2026-02-24 24:00 截止：智慧教室设备采购".to_string(),
                "Confirming the winner is due by 2026-02-24 24:00: 智慧教室设备采购".to_string()
            )
        );
        assert!(titles(&d, Stage::Due)
            .0
            .starts_with("确定中标人期限已到（2026-02-24 24:00）"));
        assert!(titles(&d, Stage::Overdue)
            .0
            .starts_with("逾期未办：确定中标人"));
        assert!(titles(&d, Stage::Overdue)
            .1
            .starts_with("Overdue: Confirming the winner"));
    }

    #[test]
    fn r_time_1_no_warning_falls_further_ahead_than_the_sources_look() {
        // Every deadline day of the calendar's years: the warning is within the look-ahead.
        let mut d = confirmation(0);
        let mut day = day(2025, 1, 1);
        while day <= NaiveDate::from_ymd_opt(2027, 12, 31).unwrap() {
            d.due_at = crate::calendar::end_of_day_ms(day);
            let ahead = d.due_at - upcoming_at(cal(), &d);
            assert!(ahead > 0 && ahead <= LOOKAHEAD_MS, "{day}: {ahead}");
            day = day.succ_opt().unwrap();
        }
    }
}
