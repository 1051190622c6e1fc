//! Evaluation arithmetic, pure (no database): evaluated prices with policy deductions,
//! price-inconsistency corrections, comprehensive scoring, ranking and the abnormally-low
//! flag. Every result carries its derivation so a bidder can follow it line by line.
//! Rules: R-EVAL-4..8, R-POL-2, R-POL-3, R-POL-5, R-POL-6 (see docs/evaluation-scoring.md).

pub mod rounding;
pub mod words;
