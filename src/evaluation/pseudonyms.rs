//! Per-evaluation pseudonyms (R-EVAL-2): the public draw record and the experts' ledger
//! events name an expert `expert-<16 hex>` and an organisation `org-<16 hex>`, where the
//! hex is the start of HMAC-SHA256(key, "expert:" | "org:" + id). The key is made when the
//! draw is requested, before the finance supervisor's nonce exists, and only its SHA-256
//! is published then (`evaluation_requested`), so the platform cannot choose a key that
//! favours a panel; it is revealed at the award (`winner_confirmed`). Ids that are the
//! same across tenders never appear, so no one can follow an expert from a tender whose
//! names were published to one still being evaluated.

use ring::hmac;

use crate::draw::{Candidate, Conflicts};

pub struct Pseudonyms(Option<hmac::Key>);

impl Pseudonyms {
    /// A new random key, as 64 hex characters.
    pub fn new_key() -> String {
        use rand::RngCore;
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        hex::encode(k)
    }

    /// hex(SHA-256(key bytes)): the commitment published before the draw.
    pub fn commitment(key_hex: &str) -> String {
        crate::crypto::sha256_hex(&hex::decode(key_hex).unwrap_or_default())
    }

    /// From the stored key; an evaluation begun before pseudonyms existed has none and
    /// keeps the ids it began with.
    pub fn from_stored(key_hex: Option<&str>) -> Self {
        Pseudonyms(
            key_hex
                .and_then(|k| hex::decode(k).ok())
                .map(|k| hmac::Key::new(hmac::HMAC_SHA256, &k)),
        )
    }

    fn name(&self, kind: &str, id: &str) -> String {
        match &self.0 {
            Some(key) => {
                let tag = hmac::sign(key, format!("{kind}:{id}").as_bytes());
                format!("{kind}-{}", hex::encode(&tag.as_ref()[..8]))
            }
            None => id.to_string(),
        }
    }

    pub fn expert(&self, id: &str) -> String {
        self.name("expert", id)
    }

    pub fn org(&self, id: &str) -> String {
        self.name("org", id)
    }

    /// The pool as the public record shows it: every id and organisation pseudonymous.
    pub fn pool(&self, pool: &[Candidate]) -> Vec<Candidate> {
        pool.iter()
            .map(|c| Candidate {
                id: self.expert(&c.id),
                employer_org_id: c.employer_org_id.as_deref().map(|o| self.org(o)),
                ties: c.ties.iter().map(|o| self.org(o)).collect(),
                ..c.clone()
            })
            .collect()
    }

    pub fn conflicts(&self, c: &Conflicts) -> Conflicts {
        let mut bidders: Vec<String> = c.bidder_org_ids.iter().map(|o| self.org(o)).collect();
        bidders.sort();
        Conflicts {
            bidder_org_ids: bidders,
            purchaser_org_id: self.org(&c.purchaser_org_id),
            agency_org_id: self.org(&c.agency_org_id),
        }
    }

    /// The expert of `pool` behind a pseudonym.
    pub fn expert_id<'a>(&self, pool: &'a [Candidate], name: &str) -> Option<&'a str> {
        pool.iter()
            .map(|c| c.id.as_str())
            .find(|id| self.expert(id) == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_eval_2_pseudonyms_differ_between_evaluations_and_keep_equality_within_one() {
        let (k1, k2) = (Pseudonyms::new_key(), Pseudonyms::new_key());
        let (a, b) = (
            Pseudonyms::from_stored(Some(&k1)),
            Pseudonyms::from_stored(Some(&k2)),
        );
        assert_eq!(a.expert("e1"), a.expert("e1"));
        assert_ne!(a.expert("e1"), b.expert("e1"));
        assert_ne!(a.expert("x"), a.org("x"));
        assert!(a.expert("e1").starts_with("expert-") && a.expert("e1").len() == 23);
        assert_eq!(Pseudonyms::commitment(&k1).len(), 64);
        assert_eq!(Pseudonyms::from_stored(None).expert("e1"), "e1");
    }
}
