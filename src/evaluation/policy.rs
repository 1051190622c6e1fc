//! The policy rule table (R-POL-2, R-POL-5, R-EVAL-4's price weight), loaded from
//! `policy_table.toml`: rates that vary by category and date are data, looked up by the
//! tender's announcement date. A tender's own stated rate is checked against its row;
//! nothing here picks a rate for the tender.

use std::sync::OnceLock;

use chrono::NaiveDate;
use serde::Deserialize;

use super::rounding::fmt_rate;
use super::Category;
use super::EvalError;

const TABLE_TOML: &str = include_str!("policy_table.toml");

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmeRow {
    pub category: Category,
    pub from: NaiveDate,
    pub min_bp: u32,
    pub max_bp: u32,
    pub consortium_min_bp: u32,
    pub consortium_max_bp: u32,
    pub consortium_share_min_bp: u32,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomesticRow {
    pub category: Category,
    pub from: NaiveDate,
    pub rate_bp: u32,
    pub package_share_bp: u32,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceWeightRow {
    pub category: Category,
    pub from: NaiveDate,
    pub min_bp: u32,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyTable {
    pub sme: Vec<SmeRow>,
    pub domestic: Vec<DomesticRow>,
    pub price_weight: Vec<PriceWeightRow>,
}

trait Row {
    fn category(&self) -> Category;
    fn from(&self) -> NaiveDate;
}

macro_rules! row {
    ($t:ty) => {
        impl Row for $t {
            fn category(&self) -> Category {
                self.category
            }
            fn from(&self) -> NaiveDate {
                self.from
            }
        }
    };
}
row!(SmeRow);
row!(DomesticRow);
row!(PriceWeightRow);

/// The row in force on `date`: the latest `from` not after it.
fn in_force<R: Row>(rows: &[R], category: Category, date: NaiveDate) -> Option<&R> {
    rows.iter()
        .filter(|r| r.category() == category && r.from() <= date)
        .max_by_key(|r| r.from())
}

impl PolicyTable {
    /// The table built into the binary.
    pub fn builtin() -> &'static PolicyTable {
        static TABLE: OnceLock<PolicyTable> = OnceLock::new();
        TABLE.get_or_init(|| PolicyTable::parse(TABLE_TOML).expect("policy_table.toml"))
    }

    pub fn parse(text: &str) -> Result<PolicyTable, toml::de::Error> {
        toml::from_str(text)
    }

    pub fn sme(&self, category: Category, date: NaiveDate) -> Option<&SmeRow> {
        in_force(&self.sme, category, date)
    }

    /// `None`: no domestic-product deduction for this category on this date.
    pub fn domestic(&self, category: Category, date: NaiveDate) -> Option<&DomesticRow> {
        in_force(&self.domestic, category, date)
    }

    pub fn price_weight(&self, category: Category, date: NaiveDate) -> Option<&PriceWeightRow> {
        in_force(&self.price_weight, category, date)
    }

    /// R-POL-2: the tender's stated small/micro rate must lie in its row's range.
    pub fn check_sme_rate(
        &self,
        category: Category,
        date: NaiveDate,
        rate_bp: u32,
    ) -> Result<&SmeRow, EvalError> {
        self.check_sme_row(category, date, "sme_rate_bp", rate_bp, |r| {
            (r.min_bp, r.max_bp)
        })
    }

    /// R-POL-2: the tender's stated consortium/subcontract rate must lie in its row's range.
    pub fn check_consortium_rate(
        &self,
        category: Category,
        date: NaiveDate,
        rate_bp: u32,
    ) -> Result<&SmeRow, EvalError> {
        self.check_sme_row(category, date, "consortium_rate_bp", rate_bp, |r| {
            (r.consortium_min_bp, r.consortium_max_bp)
        })
    }

    /// The small/micro row in force, once `rate_bp` lies in the range `range` picks from it.
    fn check_sme_row(
        &self,
        category: Category,
        date: NaiveDate,
        field: &'static str,
        rate_bp: u32,
        range: impl Fn(&SmeRow) -> (u32, u32),
    ) -> Result<&SmeRow, EvalError> {
        let row = self.sme(category, date).ok_or(EvalError::NoRule {
            table: "sme",
            category,
            date,
        })?;
        let (min_bp, max_bp) = range(row);
        check_range(field, rate_bp, min_bp, max_bp, category, date)?;
        Ok(row)
    }
}

fn check_range(
    field: &'static str,
    rate_bp: u32,
    min_bp: u32,
    max_bp: u32,
    category: Category,
    date: NaiveDate,
) -> Result<(), EvalError> {
    if rate_bp < min_bp || rate_bp > max_bp {
        return Err(EvalError::RateOutOfRange {
            field,
            rate: fmt_rate(rate_bp),
            min: fmt_rate(min_bp),
            max: fmt_rate(max_bp),
            category,
            date,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn r_pol_2_goods_and_services_range_is_10_to_20_from_sme19() {
        let t = PolicyTable::builtin();
        for c in [Category::Goods, Category::Services] {
            assert!(t.check_sme_rate(c, d("2022-07-01"), 1000).is_ok());
            assert!(t.check_sme_rate(c, d("2026-03-01"), 2000).is_ok());
            assert!(t.check_sme_rate(c, d("2026-03-01"), 999).is_err());
            assert!(t.check_sme_rate(c, d("2026-03-01"), 2001).is_err());
        }
    }

    #[test]
    fn r_pol_2_goods_range_was_6_to_10_before_2022_07_01() {
        let t = PolicyTable::builtin();
        assert!(t
            .check_sme_rate(Category::Goods, d("2022-06-30"), 600)
            .is_ok());
        assert!(t
            .check_sme_rate(Category::Goods, d("2022-06-30"), 1000)
            .is_ok());
        let err = t
            .check_sme_rate(Category::Goods, d("2022-06-30"), 1500)
            .unwrap_err();
        assert!(matches!(err, EvalError::RateOutOfRange { .. }), "{err}");
        // The same 15% is fine a day later.
        assert!(t
            .check_sme_rate(Category::Goods, d("2022-07-01"), 1500)
            .is_ok());
    }

    #[test]
    fn r_pol_2_works_range_is_3_to_5_and_consortium_1_to_2() {
        let t = PolicyTable::builtin();
        let date = d("2026-03-01");
        assert!(t.check_sme_rate(Category::Works, date, 300).is_ok());
        assert!(t.check_sme_rate(Category::Works, date, 500).is_ok());
        assert!(t.check_sme_rate(Category::Works, date, 600).is_err());
        assert!(t.check_consortium_rate(Category::Works, date, 100).is_ok());
        assert!(t.check_consortium_rate(Category::Works, date, 250).is_err());
    }

    #[test]
    fn r_pol_2_consortium_range_is_4_to_6_from_sme19_and_2_to_3_before() {
        let t = PolicyTable::builtin();
        assert!(t
            .check_consortium_rate(Category::Goods, d("2026-03-01"), 400)
            .is_ok());
        assert!(t
            .check_consortium_rate(Category::Services, d("2026-03-01"), 600)
            .is_ok());
        assert!(t
            .check_consortium_rate(Category::Goods, d("2026-03-01"), 300)
            .is_err());
        assert!(t
            .check_consortium_rate(Category::Goods, d("2022-01-10"), 300)
            .is_ok());
        assert!(t
            .check_consortium_rate(Category::Goods, d("2022-01-10"), 400)
            .is_err());
        assert_eq!(
            t.sme(Category::Goods, d("2026-03-01"))
                .unwrap()
                .consortium_share_min_bp,
            3000
        );
    }

    #[test]
    fn r_pol_2_no_row_before_the_table_starts_is_an_error() {
        let t = PolicyTable::builtin();
        let err = t
            .check_sme_rate(Category::Goods, d("2019-05-01"), 600)
            .unwrap_err();
        assert!(matches!(err, EvalError::NoRule { .. }), "{err}");
    }

    #[test]
    fn r_pol_5_domestic_deduction_is_20_percent_for_goods_from_2026() {
        let t = PolicyTable::builtin();
        assert!(t.domestic(Category::Goods, d("2025-12-31")).is_none());
        let row = t.domestic(Category::Goods, d("2026-01-01")).unwrap();
        assert_eq!((row.rate_bp, row.package_share_bp), (2000, 8000));
        assert!(t.domestic(Category::Services, d("2026-06-01")).is_none());
    }

    #[test]
    fn r_eval_4_price_weight_minimums() {
        let t = PolicyTable::builtin();
        let date = d("2026-03-01");
        assert_eq!(t.price_weight(Category::Goods, date).unwrap().min_bp, 3000);
        assert_eq!(
            t.price_weight(Category::Services, date).unwrap().min_bp,
            1000
        );
        assert!(t.price_weight(Category::Works, date).is_none());
    }
}
