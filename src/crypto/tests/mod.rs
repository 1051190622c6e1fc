//! RFC 9180 known answers for the HPKE suite (the bid format's own tests, which use it, are
//! in src/bid/tests).

mod hpke_rfc9180;
