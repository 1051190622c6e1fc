//! Framework agreements (框架协议采购, 财政部令第110号): after a framework tender's
//! evaluation and award, the agency admits (入围) the first suppliers of the ranking at
//! their prices, a share of the qualified eliminated; within the agreement's term the
//! purchaser places call-offs (第二阶段) — direct selection, rotation or secondary
//! competition — each recorded in the tender's ledger. docs/framework.md.
//!
//! A stage after the committee: it reads the evaluation's signed report for the ranking.

pub mod routes;
pub mod rules;
pub mod service;
pub mod types;
