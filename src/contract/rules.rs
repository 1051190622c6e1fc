//! The contract's rules (pure): what a party signs, what the purchaser may adjust, the
//! supplementary contracts' ceiling, and the offline check of a signed contract.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ledger::canonical_json;

/// R-PAY-1: an SME is paid within 30 days of acceptance, 60 at most where the contract
/// says so; another supplier as the contract says, 90 days at most here.
pub const SME_PAYMENT_DAYS: i64 = 30;
pub const SME_PAYMENT_DAYS_LONGEST: i64 = 60;
pub const OTHER_PAYMENT_DAYS_LONGEST: i64 = 90;
/// Days after acceptance a contract's document gives the purchaser to pay.
pub fn payment_days(document: &Value) -> i64 {
    document["terms"]["payment_days"]
        .as_i64()
        .unwrap_or(SME_PAYMENT_DAYS)
}

/// R-CON-4: supplementary contracts at most 10 % of the original amount, in basis points.
pub const SUPPLEMENT_CAP_BP: i64 = 1_000;
pub const MAX_INSTALMENTS: usize = 6;
pub const MAX_TERMS_CHARS: usize = 5_000;
pub const MAX_PLACE_CHARS: usize = 200;
/// The most experts a contract may require on its acceptance panel.
pub const MAX_ACCEPTANCE_EXPERTS: i64 = 5;

/// One payment of the schedule: its share of the price and when it falls due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instalment {
    /// Share of the contract price, in basis points; the shares sum to 10,000.
    pub share_bp: i64,
    /// When: `on_signing` (an advance), `on_delivery`, `on_acceptance`.
    pub when: String,
}

/// What the purchaser may set within the tender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adjustable {
    /// Days after acceptance to pay (R-PAY-1 for an SME).
    pub payment_days: i64,
    pub instalments: Vec<Instalment>,
    pub delivery_place: String,
    /// Further terms that do not change the tender's or the bid's substance.
    pub special_terms: String,
    /// How many experts must be on the acceptance panel and sign its report with the
    /// purchaser (大型或者复杂的项目); none, the purchaser accepts alone.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub acceptance_experts: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

impl Adjustable {
    pub fn default_for(sme: bool) -> Adjustable {
        Adjustable {
            payment_days: if sme { SME_PAYMENT_DAYS } else { 30 },
            instalments: vec![Instalment {
                share_bp: 10_000,
                when: "on_acceptance".into(),
            }],
            delivery_place: String::new(),
            special_terms: String::new(),
            acceptance_experts: 0,
        }
    }
}

/// Why an adjustment is refused: the field and the bilingual message.
pub fn check(a: &Adjustable, sme: bool) -> Result<(), (&'static str, &'static str)> {
    let longest = if sme {
        SME_PAYMENT_DAYS_LONGEST
    } else {
        OTHER_PAYMENT_DAYS_LONGEST
    };
    if a.payment_days < 1 || a.payment_days > longest {
        return Err((
            "payment_days",
            if sme {
                "向中小企业付款期限不得超过验收后 60 日（R-PAY-1）/ an SME is paid within 60 days of acceptance at most (R-PAY-1)"
            } else {
                "付款期限为 1 至 90 日 / 1 to 90 days"
            },
        ));
    }
    let n = a.instalments.len();
    let whens = ["on_signing", "on_delivery", "on_acceptance"];
    if n == 0
        || n > MAX_INSTALMENTS
        || a.instalments
            .iter()
            .any(|i| i.share_bp <= 0 || !whens.contains(&i.when.as_str()))
        || a.instalments.iter().map(|i| i.share_bp).sum::<i64>() != 10_000
    {
        return Err((
            "instalments",
            "付款计划为 1 至 6 期，各期比例之和为 100% / 1 to 6 instalments whose shares sum to 100 %",
        ));
    }
    if a.delivery_place.chars().count() > MAX_PLACE_CHARS
        || a.special_terms.chars().count() > MAX_TERMS_CHARS
    {
        return Err(("special_terms", "内容过长 / too long"));
    }
    if !(0..=MAX_ACCEPTANCE_EXPERTS).contains(&a.acceptance_experts) {
        return Err((
            "acceptance_experts",
            "验收专家人数为 0 至 5 人 / 0 to 5 experts on the acceptance panel",
        ));
    }
    Ok(())
}

/// R-CON-4: whether supplements of `total_fen` (this one included) stay within 10 % of
/// the original `amount_fen`.
pub fn supplement_allowed(amount_fen: i64, total_fen: i64) -> bool {
    total_fen > 0
        && (total_fen as i128) * 10_000 <= (amount_fen as i128) * SUPPLEMENT_CAP_BP as i128
}

/// The statement a party signs: the contract and its document's digest.
pub fn payload(contract_id: &str, document_sha256: &str) -> String {
    canonical_json(&serde_json::json!({
        "type": "kaibiao.contract.v1",
        "contract_id": contract_id,
        "document_sha256": document_sha256,
    }))
}

/// One party's signature as downloaded.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartySignature {
    /// `purchaser` or `supplier`.
    pub party: String,
    pub org_id: String,
    pub key_id: String,
    pub signature: String,
    /// The signing key's certificate (its subject names the signer).
    pub cert_pem: String,
    pub at: i64,
}

/// A signed contract as downloaded and as `kaibiao verify` reads it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractBundle {
    pub contract_id: String,
    pub document: Value,
    pub document_sha256: String,
    pub signatures: Vec<PartySignature>,
    pub ca_pem: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("the document's digest does not match")]
    Digest,
    #[error("not signed by the {0}")]
    Unsigned(&'static str),
    #[error("the {0}'s certificate: {1}")]
    Chain(String, String),
    #[error("the {0}'s signature does not match the contract")]
    Signature(String),
}

/// Checks a signed contract offline: the digest, and a signature of each party by a key
/// certified by the bundled CA at the time it signed.
pub fn verify(b: &ContractBundle) -> Result<(), BundleError> {
    let digest = crate::crypto::sha256_hex(canonical_json(&b.document).as_bytes());
    if digest != b.document_sha256 {
        return Err(BundleError::Digest);
    }
    let ca = crate::pki::authority::pem_to_der(&b.ca_pem)
        .map_err(|e| BundleError::Chain("CA".into(), e.to_string()))?;
    let message = payload(&b.contract_id, &digest);
    for party in ["purchaser", "supplier"] {
        let s = b
            .signatures
            .iter()
            .find(|s| s.party == party)
            .ok_or(BundleError::Unsigned(party))?;
        if b.document[party]["org_id"] != s.org_id.as_str() {
            return Err(BundleError::Unsigned(party));
        }
        let public = crate::pki::authority::check_chain(&s.cert_pem, &ca, s.at)
            .map_err(|e| BundleError::Chain(party.into(), e.to_string()))?;
        let sig = crate::crypto::b64url::decode(s.signature.trim())
            .ok_or_else(|| BundleError::Signature(party.into()))?;
        if !crate::pki::authority::verify_signature(&public, message.as_bytes(), &sig) {
            return Err(BundleError::Signature(party.into()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_pay_1_an_sme_is_paid_within_60_days_at_most_and_the_shares_sum_to_the_whole() {
        let mut a = Adjustable::default_for(true);
        assert_eq!(a.payment_days, 30);
        assert!(check(&a, true).is_ok());
        a.payment_days = 60;
        assert!(check(&a, true).is_ok());
        a.payment_days = 61;
        assert_eq!(check(&a, true).unwrap_err().0, "payment_days");
        assert!(check(&a, false).is_ok(), "another supplier: up to 90");
        a.payment_days = 30;
        a.instalments = vec![
            Instalment {
                share_bp: 3_000,
                when: "on_signing".into(),
            },
            Instalment {
                share_bp: 6_000,
                when: "on_acceptance".into(),
            },
        ];
        assert_eq!(check(&a, true).unwrap_err().0, "instalments");
        a.instalments[1].share_bp = 7_000;
        assert!(check(&a, true).is_ok());
        a.instalments[0].when = "someday".into();
        assert_eq!(check(&a, true).unwrap_err().0, "instalments");
    }

    #[test]
    fn the_contract_asks_for_up_to_five_experts_on_its_acceptance() {
        let mut a = Adjustable::default_for(false);
        assert_eq!(check(&a, false), Ok(()));
        // Not asked for, the terms read as before (the field is left out).
        assert!(!serde_json::to_string(&a)
            .unwrap()
            .contains("acceptance_experts"));
        a.acceptance_experts = 5;
        assert_eq!(check(&a, false), Ok(()));
        a.acceptance_experts = 6;
        assert_eq!(check(&a, false).unwrap_err().0, "acceptance_experts");
        a.acceptance_experts = -1;
        assert_eq!(check(&a, false).unwrap_err().0, "acceptance_experts");
    }

    #[test]
    fn r_con_4_supplements_stay_within_ten_percent_of_the_original() {
        assert!(supplement_allowed(1_000_000, 100_000));
        assert!(!supplement_allowed(1_000_000, 100_001));
        assert!(!supplement_allowed(1_000_000, 0));
        assert!(supplement_allowed(i64::MAX, i64::MAX / 10));
    }
}
