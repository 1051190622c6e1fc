//! The personnel declaration (投标人员声明) a bid may carry sealed in its package: the
//! authorised agent (授权代表), the contact person (联系人) and the project team (项目团队),
//! with their identity and phone numbers. It is one of the package's documents
//! (`personnel.json`, media type `MEDIA_TYPE`), never part of the opening sheet, which is
//! read out to every bidder: only the committee and the supervisors read it, after the
//! opening (R-COL-2/3, `collusion::personnel`).

use serde::{Deserialize, Serialize};

/// The declaration's media type in the package's manifest.
pub const MEDIA_TYPE: &str = "application/vnd.kaibiao.personnel+json";
/// The declaration's file name in the package (how a client that cannot set a media
/// type names it).
pub const FILE_NAME: &str = "personnel.json";
/// The largest declaration read; anything longer is not a declaration.
pub const MAX_BYTES: usize = 64 * 1024;
/// People in a project team, at most.
pub const MAX_TEAM: usize = 50;

/// What a bid declares about its people.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declaration {
    #[serde(default)]
    pub agent: Option<Person>,
    #[serde(default)]
    pub contact: Option<Person>,
    #[serde(default)]
    pub team: Vec<Person>,
}

/// One person: a name, and what identifies them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    /// 身份证号码 or another identity document's number.
    #[serde(default)]
    pub id_number: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// The post in the team (项目负责人, 技术负责人, …).
    #[serde(default)]
    pub role: Option<String>,
}

/// Whether a document of a package is the personnel declaration.
pub fn is_declaration(name: &str, media_type: &str) -> bool {
    media_type.split(';').next().map(str::trim) == Some(MEDIA_TYPE)
        || name.eq_ignore_ascii_case(FILE_NAME)
}

/// The declaration in `bytes`, if they are one (bounded: `MAX_BYTES`; the team cut to
/// `MAX_TEAM`).
pub fn parse(bytes: &[u8]) -> Option<Declaration> {
    if bytes.len() > MAX_BYTES {
        return None;
    }
    let mut d: Declaration = serde_json::from_slice(bytes).ok()?;
    d.team.truncate(MAX_TEAM);
    Some(d)
}

/// The declaration in `bytes` as a sealing client checks it before sealing: why it is
/// not one, else the declaration.
pub fn check(bytes: &[u8]) -> Result<Declaration, String> {
    if bytes.len() > MAX_BYTES {
        return Err(format!("larger than {MAX_BYTES} bytes"));
    }
    let d: Declaration = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if d.team.len() > MAX_TEAM {
        return Err(format!("more than {MAX_TEAM} people in the team"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declaration_is_recognised_by_its_type_or_name_and_bounded() {
        assert!(is_declaration("x.json", MEDIA_TYPE));
        assert!(is_declaration("Personnel.JSON", "application/json"));
        assert!(!is_declaration("技术响应文件.txt", "text/plain"));
        assert_eq!(parse(b"not json"), None);
        let big = format!(
            "{{\"team\": [{}]}}",
            vec!["{\"name\":\"x\"}"; 100].join(",")
        );
        assert_eq!(parse(big.as_bytes()).unwrap().team.len(), MAX_TEAM);
        let huge = vec![b' '; MAX_BYTES + 1];
        assert_eq!(parse(&huge), None);
    }
}
