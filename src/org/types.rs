//! Regions, organisations, users and experts.

use serde::{Deserialize, Serialize};

use crate::auth::Role;

/// One platform for the city and its six districts and counties ("市县平台全统一").
pub const REGIONS: [(&str, &str, &str); 7] = [
    ("420200", "黄石市市直", "Huangshi (city level)"),
    ("420202", "黄石港区", "Huangshigang District"),
    ("420203", "西塞山区", "Xisaishan District"),
    ("420204", "下陆区", "Xialu District"),
    ("420205", "铁山区", "Tieshan District"),
    ("420222", "阳新县", "Yangxin County"),
    ("420281", "大冶市", "Daye City"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// 采购人 (预算单位)
    PurchaserUnit,
    /// 采购代理机构
    Agency,
    /// 供应商
    Supplier,
    /// 财政部门 (政府采购监管)
    FinanceDept,
    /// 综合监管部门
    OversightDept,
    /// 平台运营方
    Platform,
    /// 金融机构 (政府采购合同融资)
    Bank,
}

impl OrgKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::PurchaserUnit => "purchaser_unit",
            OrgKind::Agency => "agency",
            OrgKind::Supplier => "supplier",
            OrgKind::FinanceDept => "finance_dept",
            OrgKind::OversightDept => "oversight_dept",
            OrgKind::Platform => "platform",
            OrgKind::Bank => "bank",
        }
    }

    /// The kind of organisation a user of `role` must belong to (experts belong to none).
    pub fn for_role(role: Role) -> Option<OrgKind> {
        match role {
            Role::Purchaser => Some(OrgKind::PurchaserUnit),
            Role::Agency => Some(OrgKind::Agency),
            Role::Supplier => Some(OrgKind::Supplier),
            Role::Finance => Some(OrgKind::FinanceDept),
            Role::Oversight => Some(OrgKind::OversightDept),
            Role::Admin => Some(OrgKind::Platform),
            Role::Bank => Some(OrgKind::Bank),
            Role::Expert => None,
        }
    }
}

/// Enterprise size (企业规模) per 工信部联企业〔2011〕300号.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnterpriseSize {
    Large,
    Medium,
    Small,
    Micro,
}

impl EnterpriseSize {
    /// Every size, largest first.
    pub const ALL: [EnterpriseSize; 4] = [
        EnterpriseSize::Large,
        EnterpriseSize::Medium,
        EnterpriseSize::Small,
        EnterpriseSize::Micro,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EnterpriseSize::Large => "large",
            EnterpriseSize::Medium => "medium",
            EnterpriseSize::Small => "small",
            EnterpriseSize::Micro => "micro",
        }
    }

    /// Medium, small and micro enterprises are SMEs (中小企业; R-PAY-1, the analytics).
    pub fn is_sme(self) -> bool {
        self != EnterpriseSize::Large
    }
}

/// Whether a supplier of this size as stored (`enterprise_size`: "medium", …) is an SME;
/// one of no size stored is not.
pub fn is_sme(size: Option<&str>) -> bool {
    EnterpriseSize::ALL
        .into_iter()
        .find(|e| Some(e.as_str()) == size)
        .is_some_and(EnterpriseSize::is_sme)
}

/// Status that counts as small/micro for the SME policy (R-POL-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecialStatus {
    /// 监狱企业
    Prison,
    /// 残疾人福利性单位
    DisabilityWelfare,
}

impl SpecialStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SpecialStatus::Prison => "prison",
            SpecialStatus::DisabilityWelfare => "disability_welfare",
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CreateOrgRequest {
    pub kind: OrgKind,
    pub name: String,
    pub credit_code: String,
    pub region_code: String,
    #[serde(default)]
    pub enterprise_size: Option<EnterpriseSize>,
    #[serde(default)]
    pub special_status: Option<SpecialStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrgView {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub credit_code: String,
    pub region_code: String,
    pub enterprise_size: Option<String>,
    pub special_status: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CreateUserRequest {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    #[serde(default)]
    pub org_id: Option<String>,
    pub password: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct UserListItem {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub org_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExpertView {
    pub id: String,
    pub name: String,
    pub region_code: String,
    pub employer: String,
    pub title: String,
    pub specialties: Vec<String>,
    pub has_account: bool,
}

#[derive(Debug, Serialize)]
pub struct RegionView {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medium_small_and_micro_enterprises_are_smes_large_and_unknown_ones_not() {
        let named = ["large", "medium", "small", "micro", "Small", ""];
        let sme: Vec<bool> = named.iter().map(|s| is_sme(Some(s))).collect();
        assert_eq!(sme, [false, true, true, true, false, false]);
        assert!(!is_sme(None), "no size stored");
    }
}
