//! After the award: the result notice (中标/成交结果公告, R-AWARD-1) and the letters — the
//! award letter (中标/成交通知书) to each winner, a result letter to every other bidder
//! with its own score and rank — each signed by the platform, so that anyone may check a
//! copy offline (`kaibiao verify`). docs/award.md.
//!
//! A stage after the committee: it reads the evaluation's signed report and the panel
//! through `committee::repo`, the bids as read out through `opening::repo`.

pub mod notice;
pub mod repo;
pub mod routes;
pub mod service;
pub mod types;
