//! Bid deposits' rules (投标保证金, R-DEP-1) and their vocabulary: the ceiling a tender's
//! deposit is held to (2% of its budget, IR art 33), what a supplier records (a payment or
//! an electronic guarantee, 电子保函), the paying account as kept for R-COL-6, and when a
//! refund is late (O87 art 38). The stage that records and refunds deposits is
//! `crate::deposits`; these rules sit below the tender, which checks the ceiling when a
//! tender is saved and published (as `evaluation` holds the rules the `committee` runs).

pub mod rules;
pub mod types;
