//! Roles and the authenticated user of a request.

use serde::{Deserialize, Serialize};

/// The seven roles of DESIGN.md, and the banks that finance contracts (政采贷). One role
/// per user account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Purchaser,
    Agency,
    Supplier,
    Expert,
    Finance,
    Oversight,
    Admin,
    /// A bank's officer: reads the contracts whose financing its bank was asked for.
    Bank,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Purchaser,
        Role::Agency,
        Role::Supplier,
        Role::Expert,
        Role::Finance,
        Role::Oversight,
        Role::Admin,
        Role::Bank,
    ];

    /// Finance, oversight and admin watch every tender, and read what the law keeps from
    /// the others before its time (the bid register before the deadline, experts' names
    /// before the award).
    pub fn is_supervisor(self) -> bool {
        Role::SUPERVISORS.contains(&self)
    }

    /// The supervisors (see [`Role::is_supervisor`]), for routes' access lists.
    pub const SUPERVISORS: &'static [Role] = &[Role::Finance, Role::Oversight, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Purchaser => "purchaser",
            Role::Agency => "agency",
            Role::Supplier => "supplier",
            Role::Expert => "expert",
            Role::Finance => "finance",
            Role::Oversight => "oversight",
            Role::Admin => "admin",
            Role::Bank => "bank",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Role::Purchaser => "采购人",
            Role::Agency => "代理机构",
            Role::Supplier => "供应商",
            Role::Expert => "评审专家",
            Role::Finance => "财政监管部门",
            Role::Oversight => "综合监管部门",
            Role::Admin => "平台管理",
            Role::Bank => "金融机构",
        }
    }
}

/// The user behind a request, resolved from the session cookie or a bearer token.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub org_id: Option<String>,
    pub session_id: String,
    pub csrf_token: String,
    pub expires_at: i64,
    /// Authenticated by the browser cookie (so unsafe methods need the CSRF header).
    pub via_cookie: bool,
    /// The request carried a matching `x-csrf-token` header.
    pub csrf_ok: bool,
    /// The network address of the request (or of the live connection) that carried the
    /// session; empty outside a request. Recorded where R-COL-1 compares addresses.
    pub client_ip: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrgRef {
    pub id: String,
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub role_name: &'static str,
    pub org: Option<OrgRef>,
}

#[derive(Debug, Serialize)]
pub struct SessionView {
    pub user: UserView,
    pub csrf_token: String,
    pub expires_at: i64,
}

#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// Proof of the user's device key, which lets the password be tried while failed
    /// attempts of others keep the name throttled.
    #[serde(default)]
    pub key_proof: Option<KeyProof>,
}

#[derive(Debug, Deserialize)]
pub struct TokenRequest {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub key_proof: Option<KeyProof>,
}

/// A signature by the user's registered signing key over
/// `kaibiao-login-v1\n<user name>\n<challenge>`, the challenge from
/// `POST /api/auth/challenge`.
#[derive(Debug, Clone, Deserialize)]
pub struct KeyProof {
    pub key_id: String,
    pub challenge: String,
    /// ECDSA P-256/SHA-256, r‖s, base64url.
    pub signature: String,
}

#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub token: String,
    pub expires_at: i64,
    pub user: UserView,
}

/// Where a request came from, for the audit log and throttling.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
}
