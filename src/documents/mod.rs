//! A tender's documents after publication (获取采购文件, 答疑澄清): a supplier obtains the
//! documents — who and how many did stays secret before the opening (R-DOC-3): the
//! registration goes to the bid register, withheld like the bids, and the holders' list is
//! the supervisors' until the bid deadline — asks questions before the clarification
//! deadline, and the agency answers within 3 working days (R-CHAL-1); each answer is
//! published to every holder with the question and never the asker, and an answer that
//! names the asker is refused.
//!
//! A stage after the tender and before the bid.

pub mod repo;
pub mod routes;
pub mod rules;
pub mod service;
pub mod types;
