//! The working-day calendar and the deadlines counted on it (R-TIME-1). `Calendar` is the
//! official calendar as data: Saturdays and Sundays are rest days except the make-up
//! working days (调休), and the listed holidays are rest days, per year as the State
//! Council's notice gives them (`cn.toml`, built in; an operator's own file is read by the
//! caller and handed in as text). `deadlines` holds the deadline rules of RULES.md with
//! their periods (R-PLAN-1, R-METH-1, R-METH-2, R-DOC-1, R-DOC-2, R-EVAL-10, R-AWARD-1,
//! R-CON-1..3, R-DEP-1, R-PAY-1, R-CHAL-1..3) and counts them as Chinese law does. Dates
//! are China Standard Time. No I/O: docs/deadlines.md has the file's format and the rules.
//!
//! A date in a year the file does not cover is judged by weekends only; `covers` tells the
//! caller so that it can warn. A year marked `provisional` is in the file but not yet from
//! the notice.

pub mod deadlines;

use std::collections::BTreeMap;
use std::iter::successors;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use serde::Deserialize;

const BUILTIN_TOML: &str = include_str!("cn.toml");

/// The official calendar: listed holidays and make-up working days, per year.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    years: BTreeMap<i32, Year>,
    /// Every listed date: `true` for a holiday (rest day), `false` for a make-up working day.
    days: BTreeMap<NaiveDate, bool>,
}

/// What the file says of a year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Year {
    /// The State Council's notice the year's dates come from.
    pub notice: Option<String>,
    /// The dates are not yet from the notice (the statutory days only, say).
    pub provisional: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("日历文件格式错误 / the calendar file is malformed: {0}")]
    Toml(String),
    #[error("“{0}”不是年份 / table “{0}” is not a year")]
    BadYear(String),
    #[error("“{0}”不是日期或日期区间 / “{0}” is neither a date nor a range A..B of dates")]
    BadDate(String),
    #[error("{date} 列在 {year} 年的表中 / {date} is listed in the table of {year}")]
    OtherYear { date: NaiveDate, year: i32 },
    #[error("{0} 重复列出 / {0} is listed twice")]
    ListedTwice(NaiveDate),
    #[error("{0} 既是假日又是调休上班日 / {0} is both a holiday and a make-up working day")]
    RestAndWork(NaiveDate),
    #[error("调休上班日 {0} 不是周六或周日 / make-up working day {0} is not a Saturday or Sunday")]
    MakeUpNotWeekend(NaiveDate),
    #[error("期限表中没有 {code} {name} / no deadline {name} under {code}")]
    UnknownDeadline { code: String, name: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearFile {
    notice: Option<String>,
    #[serde(default)]
    provisional: bool,
    #[serde(default)]
    holidays: BTreeMap<String, HolidayFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayFile {
    off: Vec<String>,
    #[serde(default)]
    work: Vec<String>,
}

/// The dates of "YYYY-MM-DD" or of "A..B" (both ends included).
fn dates(text: &str) -> Result<Vec<NaiveDate>, CalendarError> {
    let bad = || CalendarError::BadDate(text.into());
    let parse = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| bad());
    let (from, to) = match text.split_once("..") {
        Some((a, b)) => (parse(a)?, parse(b)?),
        None => (parse(text)?, parse(text)?),
    };
    if to < from {
        return Err(bad());
    }
    Ok(from.iter_days().take_while(|d| *d <= to).collect())
}

impl Calendar {
    /// The calendar built into the binary (`cn.toml`).
    pub fn builtin() -> &'static Calendar {
        static CALENDAR: OnceLock<Calendar> = OnceLock::new();
        CALENDAR.get_or_init(|| Calendar::from_toml(BUILTIN_TOML).expect("calendar/cn.toml"))
    }

    /// A calendar from the text of a calendar file, checked: each date in its own year's
    /// table, listed once, never both a holiday and a make-up day, make-up days on weekends.
    pub fn from_toml(text: &str) -> Result<Calendar, CalendarError> {
        let file: BTreeMap<String, YearFile> =
            toml::from_str(text).map_err(|e| CalendarError::Toml(e.to_string()))?;
        let mut calendar = Calendar::default();
        for (key, year) in file {
            let y: i32 = key
                .parse()
                .ok()
                .filter(|y| (1000..=9999).contains(y))
                .ok_or_else(|| CalendarError::BadYear(key.clone()))?;
            for holiday in year.holidays.values() {
                for (texts, rest) in [(&holiday.off, true), (&holiday.work, false)] {
                    for text in texts {
                        for date in dates(text)? {
                            calendar.list(y, date, rest)?;
                        }
                    }
                }
            }
            let info = Year {
                notice: year.notice,
                provisional: year.provisional,
            };
            calendar.years.insert(y, info);
        }
        Ok(calendar)
    }

    fn list(&mut self, year: i32, date: NaiveDate, rest: bool) -> Result<(), CalendarError> {
        if date.year() != year {
            return Err(CalendarError::OtherYear { date, year });
        }
        if !rest && !is_weekend(date) {
            return Err(CalendarError::MakeUpNotWeekend(date));
        }
        match self.days.insert(date, rest) {
            None => Ok(()),
            Some(before) if before == rest => Err(CalendarError::ListedTwice(date)),
            Some(_) => Err(CalendarError::RestAndWork(date)),
        }
    }

    /// Whether the file has a table for `year`; outside it, only weekends are rest days.
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// What the file says of `year`, if it covers it.
    pub fn year(&self, year: i32) -> Option<&Year> {
        self.years.get(&year)
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.days.get(&date) {
            Some(rest) => !rest,
            None => !is_weekend(date),
        }
    }

    /// The `n`-th working day after `date`, `date` itself not counted (`date` for 0).
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> NaiveDate {
        if n == 0 {
            return date;
        }
        successors(date.succ_opt(), |d| d.succ_opt())
            .filter(|d| self.is_working_day(*d))
            .nth(n as usize - 1)
            .unwrap_or(NaiveDate::MAX)
    }

    /// The working days after `from` up to and including `to`; negative when `to` is
    /// before `from` (the working days after `to` up to `from`, counted back).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        if to < from {
            return -self.working_days_between(to, from);
        }
        successors(from.succ_opt(), |d| d.succ_opt())
            .take_while(|d| *d <= to)
            .filter(|d| self.is_working_day(*d))
            .count() as i64
    }

    pub fn next_working_day_on_or_after(&self, date: NaiveDate) -> NaiveDate {
        successors(Some(date), |d| d.succ_opt())
            .find(|d| self.is_working_day(*d))
            .unwrap_or(NaiveDate::MAX)
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The date in China Standard Time of an instant (milliseconds since the epoch).
/// The calendar and the periods of the deadline rules the server judges by: the shipped
/// ones, or the operator's files (`--calendar-file`, `--deadline-periods-file`), read at
/// start-up and kept as a runtime (`state.runtime::<Deadlines>()`).
#[derive(Debug, Clone)]
pub struct Deadlines {
    pub calendar: Calendar,
    pub periods: deadlines::DeadlinePeriods,
}

impl Deadlines {
    /// The shipped calendar and the default periods.
    pub fn builtin() -> Deadlines {
        Deadlines {
            calendar: Calendar::builtin().clone(),
            periods: deadlines::DeadlinePeriods::default(),
        }
    }

    /// From the texts of the operator's files, each defaulting to the shipped one.
    pub fn from_texts(
        calendar: Option<&str>,
        periods: Option<&str>,
    ) -> Result<Deadlines, CalendarError> {
        Ok(Deadlines {
            calendar: match calendar {
                Some(text) => Calendar::from_toml(text)?,
                None => Calendar::builtin().clone(),
            },
            periods: match periods {
                Some(text) => deadlines::DeadlinePeriods::from_toml(text)?,
                None => deadlines::DeadlinePeriods::default(),
            },
        })
    }

    /// 24:00 China time of the last day of `rule`'s period from `start_ms`.
    pub fn due(&self, rule: deadlines::DeadlineRule, start_ms: i64) -> i64 {
        deadlines::due(&self.calendar, rule, &self.periods, start_ms)
    }

    /// 24:00 China time of the last day of `period` from `start_ms`: a term a contract
    /// sets itself within a rule (e.g. its payment days under R-PAY-1).
    pub fn due_after(&self, period: deadlines::Period, start_ms: i64) -> i64 {
        end_of_day_ms(period.last_day(&self.calendar, deadlines::start_day(start_ms)))
    }

    /// 00:00 China time of the first day the later event of `rule` may come.
    pub fn earliest(&self, rule: deadlines::DeadlineRule, start_ms: i64) -> i64 {
        deadlines::earliest(&self.calendar, rule, &self.periods, start_ms)
    }
}

/// Whether the CST day of `ms` is within `from ..= to` (each `YYYY-MM-DD`; empty for no
/// bound): the period filters of analytics and the console.
pub fn day_within(ms: i64, from: &str, to: &str) -> bool {
    let day = crate::clock::cst_day(ms);
    (from.is_empty() || day.as_str() >= from) && (to.is_empty() || day.as_str() <= to)
}

/// 00:00 of `date` in China Standard Time, as milliseconds since the epoch.
pub fn start_of_day_ms(date: NaiveDate) -> i64 {
    let offset_s = crate::clock::cst().local_minus_utc();
    date.and_time(NaiveTime::MIN).and_utc().timestamp_millis() - i64::from(offset_s) * 1000
}

/// 24:00 of `date` in China Standard Time (00:00 of the next day), as milliseconds.
pub fn end_of_day_ms(date: NaiveDate) -> i64 {
    start_of_day_ms(date) + 24 * 3600 * 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn cal() -> &'static Calendar {
        Calendar::builtin()
    }

    #[test]
    fn r_time_1_the_builtin_file_loads_and_covers_2025_to_2027() {
        let c = cal();
        assert!(!c.covers(2024) && c.covers(2025) && c.covers(2026) && c.covers(2027));
        assert!(!c.covers(2028));
        let notice = |y| c.year(y).unwrap().notice.as_deref();
        assert_eq!(notice(2025), Some("国办发明电〔2024〕12号"));
        assert_eq!(notice(2026), Some("国办发明电〔2025〕7号"));
        assert!(!c.year(2025).unwrap().provisional && !c.year(2026).unwrap().provisional);
        assert!(c.year(2027).unwrap().provisional);
    }

    #[test]
    fn r_time_1_a_years_working_days_match_the_notice() {
        // Both years: 261 weekdays, less the weekday holidays (2025: 18, 2026: 19), plus
        // the make-up days (2025: 5, 2026: 6) — counted from the notices.
        let c = cal();
        assert_eq!(
            c.working_days_between(d(2024, 12, 31), d(2025, 12, 31)),
            248
        );
        assert_eq!(
            c.working_days_between(d(2025, 12, 31), d(2026, 12, 31)),
            248
        );
    }

    #[test]
    fn r_time_1_national_day_2025_with_its_make_up_sunday_and_saturday() {
        let c = cal();
        assert!(!c.is_working_day(d(2025, 9, 27))); // an ordinary Saturday
        assert!(c.is_working_day(d(2025, 9, 28))); // Sunday, make-up day
        assert!(c.is_working_day(d(2025, 9, 30))); // the day before
        for day in 1..=8 {
            assert!(!c.is_working_day(d(2025, 10, day)), "2025-10-{day}");
        }
        assert!(c.is_working_day(d(2025, 10, 9))); // the day after
        assert!(c.is_working_day(d(2025, 10, 11))); // Saturday, make-up day
        assert!(!c.is_working_day(d(2025, 10, 12)));

        assert_eq!(c.add_working_days(d(2025, 9, 26), 1), d(2025, 9, 28));
        assert_eq!(c.add_working_days(d(2025, 9, 30), 1), d(2025, 10, 9));
        assert_eq!(c.add_working_days(d(2025, 10, 1), 1), d(2025, 10, 9));
        assert_eq!(c.add_working_days(d(2025, 10, 9), 2), d(2025, 10, 11));
        assert_eq!(c.add_working_days(d(2025, 9, 30), 4), d(2025, 10, 13));
        assert_eq!(c.add_working_days(d(2025, 10, 3), 0), d(2025, 10, 3));
        assert_eq!(c.working_days_between(d(2025, 9, 26), d(2025, 10, 13)), 7);
        assert_eq!(c.working_days_between(d(2025, 9, 30), d(2025, 10, 8)), 0);
        assert_eq!(c.working_days_between(d(2025, 10, 13), d(2025, 9, 26)), -7);
        assert_eq!(
            c.next_working_day_on_or_after(d(2025, 10, 1)),
            d(2025, 10, 9)
        );
        assert_eq!(
            c.next_working_day_on_or_after(d(2025, 9, 28)),
            d(2025, 9, 28)
        );
        assert_eq!(
            c.next_working_day_on_or_after(d(2025, 10, 12)),
            d(2025, 10, 13)
        );
    }

    #[test]
    fn r_time_1_spring_festival_2026_with_two_make_up_saturdays() {
        let c = cal();
        assert!(c.is_working_day(d(2026, 2, 13)));
        assert!(c.is_working_day(d(2026, 2, 14))); // Saturday, make-up day
        for day in 15..=23 {
            assert!(!c.is_working_day(d(2026, 2, day)), "2026-02-{day}");
        }
        assert!(c.is_working_day(d(2026, 2, 24)));
        assert!(c.is_working_day(d(2026, 2, 28))); // Saturday, make-up day
        assert!(!c.is_working_day(d(2026, 3, 1)));

        assert_eq!(c.add_working_days(d(2026, 2, 13), 1), d(2026, 2, 14));
        assert_eq!(c.add_working_days(d(2026, 2, 14), 1), d(2026, 2, 24));
        assert_eq!(c.add_working_days(d(2026, 2, 20), 1), d(2026, 2, 24));
        assert_eq!(c.add_working_days(d(2026, 2, 24), 4), d(2026, 2, 28));
        assert_eq!(c.add_working_days(d(2026, 2, 24), 5), d(2026, 3, 2));
        assert_eq!(c.working_days_between(d(2026, 2, 12), d(2026, 2, 28)), 7);
    }

    #[test]
    fn r_time_1_adding_and_counting_working_days_agree() {
        let c = cal();
        for start in d(2024, 12, 20)
            .iter_days()
            .take_while(|x| *x < d(2027, 2, 1))
        {
            for n in [0, 1, 2, 3, 5, 7, 15, 30] {
                let end = c.add_working_days(start, n);
                assert!(n == 0 || c.is_working_day(end), "{start} + {n}");
                assert_eq!(
                    c.working_days_between(start, end),
                    n as i64,
                    "{start} + {n}"
                );
            }
        }
    }

    #[test]
    fn r_time_1_a_year_outside_the_file_counts_weekends_only() {
        let c = cal();
        assert!(!c.covers(2028));
        assert!(!c.is_working_day(d(2028, 1, 1))); // Saturday
        assert!(c.is_working_day(d(2028, 10, 2))); // a Monday: no holidays known
        assert_eq!(c.add_working_days(d(2027, 12, 30), 3), d(2028, 1, 4));
        assert_eq!(c.add_working_days(d(2024, 9, 30), 1), d(2024, 10, 1));
        assert_eq!(
            c.next_working_day_on_or_after(NaiveDate::MAX),
            NaiveDate::MAX
        );
        assert_eq!(c.add_working_days(NaiveDate::MAX, 1), NaiveDate::MAX);
    }

    #[test]
    fn r_time_1_the_provisional_2027_has_the_statutory_days() {
        let c = cal();
        for date in [d(2027, 1, 1), d(2027, 2, 5), d(2027, 2, 8), d(2027, 4, 5)] {
            assert!(!c.is_working_day(date), "{date}");
        }
        for date in [d(2027, 6, 9), d(2027, 9, 15), d(2027, 10, 1)] {
            assert!(!c.is_working_day(date), "{date}");
        }
        assert!(c.is_working_day(d(2027, 2, 9)));
    }

    #[test]
    fn r_time_1_a_calendar_file_of_ones_own() {
        let c = Calendar::from_toml(
            r#"
            [2030]
            notice = "test"
            [2030.holidays]
            "A" = { off = ["2030-01-01", "2030-01-02..2030-01-03"], work = ["2030-01-05"] }
            "#,
        )
        .unwrap();
        assert!(c.covers(2030) && !c.year(2030).unwrap().provisional);
        assert!(!c.is_working_day(d(2030, 1, 2)) && !c.is_working_day(d(2030, 1, 3)));
        assert!(c.is_working_day(d(2030, 1, 4)) && c.is_working_day(d(2030, 1, 5)));
        assert_eq!(Calendar::from_toml("").unwrap(), Calendar::default());
    }

    fn error(holidays: &str) -> CalendarError {
        Calendar::from_toml(&format!("[2030.holidays]\n{holidays}\n")).unwrap_err()
    }

    #[test]
    fn r_time_1_the_file_is_checked_date_by_date() {
        use CalendarError::*;
        assert_eq!(
            error(r#""A" = { off = ["2030-01-05"], work = ["2030-01-05"] }"#),
            RestAndWork(d(2030, 1, 5))
        );
        assert_eq!(
            error(r#""A" = { off = ["2030-01-01"], work = ["2030-01-07"] }"#),
            MakeUpNotWeekend(d(2030, 1, 7))
        );
        assert_eq!(
            error(r#""A" = { off = ["2030-01-01..2030-01-03", "2030-01-03"] }"#),
            ListedTwice(d(2030, 1, 3))
        );
        assert_eq!(
            error("\"A\" = { off = [\"2030-01-01\"] }\n\"B\" = { off = [\"2030-01-01\"] }"),
            ListedTwice(d(2030, 1, 1))
        );
        assert_eq!(
            error(r#""A" = { off = ["2029-12-31"] }"#),
            OtherYear {
                date: d(2029, 12, 31),
                year: 2030
            }
        );
        assert_eq!(
            error(r#""A" = { off = ["2030-02-30"] }"#),
            BadDate("2030-02-30".into())
        );
        assert_eq!(
            error(r#""A" = { off = ["2030-01-03..2030-01-01"] }"#),
            BadDate("2030-01-03..2030-01-01".into())
        );
        let e = Calendar::from_toml("[twenty]\nprovisional = true\n").unwrap_err();
        assert_eq!(e, BadYear("twenty".into()));
        assert!(matches!(error(r#""A" = { of = [] }"#), Toml(_)));
        assert!(RestAndWork(d(2030, 1, 5))
            .to_string()
            .contains("2030-01-05"));
    }
}
