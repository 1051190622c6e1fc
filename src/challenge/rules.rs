//! What a challenger signs, and the limits (pure).

use crate::ledger::canonical_json;

/// Grounds, a reply, a decision: 1 to this many characters.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// Challenges one organisation may file against one tender.
pub const MAX_CHALLENGES_PER_ORG: i64 = 5;
/// Groundless complaints within [`GROUNDLESS_WINDOW_MS`] that put a supplier on the
/// bad-conduct list (O94 art 37, R-CHAL-4).
pub const GROUNDLESS_LIMIT: i64 = 3;
pub const GROUNDLESS_WINDOW_MS: i64 = 365 * 86_400_000;
/// How long the bad-conduct record bars the supplier (O94 art 37 names the list, not the
/// term; one year here, configurable later — unverified).
pub const BAD_CONDUCT_MS: i64 = 365 * 86_400_000;

/// The statement a supplier signs with its device key for a challenge (`kind`
/// `challenge`) or a complaint (`complaint`): the tender, its organisation and the
/// grounds' SHA-256, as canonical JSON; with evidence files, their SHA-256 in the order
/// sent (`evidence_sha256`, absent when there are none).
pub fn payload(
    kind: &str,
    tender_id: &str,
    org_id: &str,
    grounds: &str,
    evidence_sha256: &[String],
) -> String {
    let mut v = serde_json::json!({
        "type": format!("kaibiao.{kind}.v1"),
        "tender_id": tender_id,
        "org_id": org_id,
        "grounds_sha256": crate::crypto::sha256_hex(grounds.as_bytes()),
    });
    if !evidence_sha256.is_empty() {
        v["evidence_sha256"] = serde_json::json!(evidence_sha256);
    }
    canonical_json(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_names_the_kind_the_tender_the_organisation_and_the_grounds_digest() {
        let p = payload("challenge", "t1", "o1", "价格", &[]);
        assert_eq!(
            p,
            format!(
                r#"{{"grounds_sha256":"{}","org_id":"o1","tender_id":"t1","type":"kaibiao.challenge.v1"}}"#,
                crate::crypto::sha256_hex("价格".as_bytes())
            )
        );
        assert_ne!(p, payload("complaint", "t1", "o1", "价格", &[]));
        let with = payload("challenge", "t1", "o1", "价格", &["ab".into(), "cd".into()]);
        assert!(with.contains(r#""evidence_sha256":["ab","cd"]"#), "{with}");
    }
}
