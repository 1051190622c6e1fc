//! Bid deposits on a tender (投标保证金): a supplier records its deposit before the bid
//! deadline — a payment from its account, or an electronic guarantee (电子保函) as
//! declared — once; a bid cannot start without it when the tender asks one. Who paid and
//! how many stays secret before the opening, like the documents' holders (R-DOC-3): the
//! record goes to the bid register, the list is the supervisors' until the bid deadline.
//! After the award, a failed tender or a cancellation the agency records each refund,
//! due within 5 working days (R-DEP-1, O87 art 38). The paying account is kept as digits
//! for the collusion check of deposits from the same account (R-COL-6).
//!
//! The rules and types are `crate::deposit` (below the tender, which checks the amount
//! asked); this is the stage, after the documents and before the bid.

pub mod repo;
pub mod routes;
pub mod service;
