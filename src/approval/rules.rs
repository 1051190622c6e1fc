//! Which plans need finance's approval (R-METH-1), as pure functions.

use super::types::ApprovalKind;
use crate::plan::ProcurementMethod;

/// The approvals a plan needs before its tender is published: a method other than open
/// tendering at or above the open-tendering threshold (公开招标数额标准, set by the province:
/// configurable, M), and imported products at any amount (财库〔2007〕119号, S).
pub fn needed(
    method: ProcurementMethod,
    amount_fen: i64,
    imported: bool,
    threshold_fen: i64,
) -> Vec<ApprovalKind> {
    let mut out = Vec::new();
    if method != ProcurementMethod::OpenTendering && amount_fen >= threshold_fen {
        out.push(ApprovalKind::Method);
    }
    if imported {
        out.push(ApprovalKind::Import);
    }
    out
}

/// Only a single-source request is publicised before finance decides (IR art 38).
pub fn publicised(kind: ApprovalKind, method: ProcurementMethod) -> bool {
    kind == ApprovalKind::Method && method == ProcurementMethod::SingleSource
}

/// The label of what needs approval, Chinese / English, for messages.
pub fn what(kind: ApprovalKind) -> &'static str {
    match kind {
        ApprovalKind::Method => "采购方式 / the procurement method",
        ApprovalKind::Import => "采购进口产品 / imported products",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProcurementMethod as M;

    const T: i64 = 400_000_000; // 4,000,000 yuan

    #[test]
    fn r_meth_1_non_tendering_methods_at_or_above_the_threshold_need_approval() {
        assert_eq!(
            needed(M::SingleSource, T, false, T),
            vec![ApprovalKind::Method]
        );
        assert_eq!(needed(M::CompetitiveConsultation, T - 1, false, T), vec![]);
        assert_eq!(needed(M::OpenTendering, 10 * T, false, T), vec![]);
        assert_eq!(
            needed(M::InvitedTendering, T, false, T),
            vec![ApprovalKind::Method]
        );
    }

    #[test]
    fn r_meth_1_imported_products_need_approval_at_any_amount() {
        assert_eq!(
            needed(M::OpenTendering, 1, true, T),
            vec![ApprovalKind::Import]
        );
        assert_eq!(
            needed(M::Inquiry, T, true, T),
            vec![ApprovalKind::Method, ApprovalKind::Import]
        );
    }

    #[test]
    fn r_meth_1_only_single_source_is_publicised() {
        assert!(publicised(ApprovalKind::Method, M::SingleSource));
        assert!(!publicised(ApprovalKind::Import, M::SingleSource));
        assert!(!publicised(ApprovalKind::Method, M::CompetitiveNegotiation));
    }
}
