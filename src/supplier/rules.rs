//! The commitment a supplier signs and when a credit record bars it, as pure functions.

use serde_json::json;

use crate::ledger::canonical_json;

/// The commitment's version: a new text is a new version, signed again.
pub const COMMITMENT_VERSION: &str = "2026-1";

/// The declaration (信用承诺书) under the commitment system (承诺制, R-CRED-1): it replaces
/// the paper certificates of GPL art 22; a false declaration is bad conduct.
pub fn commitment_text(name: &str, credit_code: &str, size: &str, special: Option<&str>) -> String {
    let size_zh = match size {
        "large" => "大型企业",
        "medium" => "中型企业",
        "small" => "小型企业",
        "micro" => "微型企业",
        _ => "未声明规模的企业",
    };
    let special_zh = match special {
        Some("prison") => ",属于监狱企业",
        Some("disability_welfare") => ",属于残疾人福利性单位",
        _ => "",
    };
    format!(
        "本单位{name}(统一社会信用代码 {credit_code})郑重承诺:本单位为{size_zh}{special_zh};\
         具有独立承担民事责任的能力,具有良好的商业信誉和健全的财务会计制度,具有履行合同所必需的\
         设备和专业技术能力,有依法缴纳税收和社会保障资金的良好记录,参加政府采购活动前三年内在经营\
         活动中没有重大违法记录,未被列入失信被执行人、重大税收违法失信主体、政府采购严重违法失信\
         行为记录名单。以上声明如有虚假,本单位愿承担相应法律责任并接受不良行为记录。"
    )
}

/// The bytes the supplier's signing key signs: the organisation, the version and the text.
pub fn commitment_payload(org_id: &str, credit_code: &str, text: &str) -> String {
    canonical_json(&json!({
        "type": "supplier_credit_commitment",
        "version": COMMITMENT_VERSION,
        "org_id": org_id,
        "credit_code": credit_code,
        "text": text,
    }))
}

/// Whether a record listing from `from_at` until `until_at` (open-ended when `None`) is in
/// force at `now`.
pub fn in_force(from_at: i64, until_at: Option<i64>, now: i64) -> bool {
    from_at <= now && until_at.is_none_or(|u| now < u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_cred_1_a_record_bars_from_its_start_until_its_end() {
        assert!(!in_force(100, None, 99));
        assert!(in_force(100, None, 100));
        assert!(in_force(100, Some(200), 199));
        assert!(!in_force(100, Some(200), 200));
    }

    #[test]
    fn r_cred_1_the_commitment_names_the_declared_size_and_status() {
        let t = commitment_text("某某公司", "91420200MA4000001X", "small", Some("prison"));
        assert!(t.contains("小型企业") && t.contains("监狱企业") && t.contains("某某公司"));
        let p = commitment_payload("o1", "91420200MA4000001X", &t);
        assert!(p.starts_with("{\"credit_code\":"), "{p}");
        assert!(p.contains(COMMITMENT_VERSION));
    }
}
