//! Acceptance's rules (pure): what the purchaser signs and the bounds of a report.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ledger::canonical_json;

pub const MAX_ITEMS: usize = 50;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_NOTE_CHARS: usize = 1_000;
pub const MAX_TEXT_CHARS: usize = 5_000;
/// The most members an acceptance panel names besides the purchaser.
pub const MAX_MEMBERS: usize = 7;

/// One item of the contract as accepted: passed, or failed with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemCheck {
    pub name: String,
    pub passed: bool,
    #[serde(default)]
    pub note: String,
}

/// What the purchaser signs: the canonical JSON of the report's id and digest.
pub fn payload(acceptance_id: &str, document_sha256: &str) -> String {
    canonical_json(&serde_json::json!({
        "type": "kaibiao.acceptance.v1",
        "acceptance_id": acceptance_id,
        "document_sha256": document_sha256,
    }))
}

/// A report passes when every item passed.
pub fn passed(items: &[ItemCheck]) -> bool {
    items.iter().all(|i| i.passed)
}

/// Why a report is refused: the field and the bilingual message. `today` bounds the
/// delivery date (a delivery is recorded after it happened).
pub fn check(
    delivered_on: &str,
    items: &[ItemCheck],
    conclusion: &str,
    today: NaiveDate,
) -> Result<(), (&'static str, &'static str)> {
    match NaiveDate::parse_from_str(delivered_on, "%Y-%m-%d") {
        Ok(d) if d <= today => {}
        _ => {
            return Err((
                "delivered_on",
                "交付日期须为不晚于今天的日期（YYYY-MM-DD）/ the delivery date, not after today (YYYY-MM-DD)",
            ))
        }
    }
    if items.is_empty() || items.len() > MAX_ITEMS {
        return Err(("items", "验收项目为 1 至 50 项 / 1 to 50 items"));
    }
    for i in items {
        let name = i.name.trim().chars().count();
        if name == 0 || name > MAX_NAME_CHARS || i.note.chars().count() > MAX_NOTE_CHARS {
            return Err((
                "items",
                "每项须有名称（200 字以内），说明 1,000 字以内 / each item named (200 characters), notes within 1,000",
            ));
        }
        if !i.passed && i.note.trim().is_empty() {
            return Err((
                "items",
                "不合格的项目须说明原因 / a failed item needs its reason",
            ));
        }
    }
    let n = conclusion.trim().chars().count();
    if n == 0 || n > MAX_TEXT_CHARS {
        return Err((
            "conclusion",
            "须写明验收结论（5,000 字以内）/ the conclusion is required (5,000 characters)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(passed: bool, note: &str) -> ItemCheck {
        ItemCheck {
            name: "课桌椅".into(),
            passed,
            note: note.into(),
        }
    }

    #[test]
    fn a_report_needs_a_past_delivery_items_and_a_conclusion() {
        let today = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        let ok = [item(true, "")];
        assert_eq!(check("2027-03-01", &ok, "合格", today), Ok(()));
        assert_eq!(
            check("2027-03-02", &ok, "合格", today).unwrap_err().0,
            "delivered_on"
        );
        assert_eq!(
            check("03/01/2027", &ok, "合格", today).unwrap_err().0,
            "delivered_on"
        );
        assert_eq!(
            check("2027-03-01", &[], "合格", today).unwrap_err().0,
            "items"
        );
        assert_eq!(
            check("2027-03-01", &ok, "  ", today).unwrap_err().0,
            "conclusion"
        );
        let many = vec![item(true, ""); MAX_ITEMS + 1];
        assert_eq!(
            check("2027-03-01", &many, "合格", today).unwrap_err().0,
            "items"
        );
    }

    #[test]
    fn a_failed_item_gives_its_reason_and_fails_the_report() {
        let today = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        assert_eq!(
            check("2027-03-01", &[item(false, " ")], "不合格", today)
                .unwrap_err()
                .0,
            "items"
        );
        let items = [item(true, ""), item(false, "桌面划痕")];
        assert_eq!(check("2027-03-01", &items, "不合格", today), Ok(()));
        assert!(!passed(&items));
        assert!(passed(&items[..1]));
    }

    #[test]
    fn the_payload_names_the_report_and_its_digest() {
        assert_eq!(
            payload("a1", "ff"),
            r#"{"acceptance_id":"a1","document_sha256":"ff","type":"kaibiao.acceptance.v1"}"#
        );
    }
}
