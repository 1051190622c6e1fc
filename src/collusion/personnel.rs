//! R-COL-2 and R-COL-3 (pure): the people a bid names — its authorised agent (授权代表),
//! its contact person (联系人) and its project team (项目团队) — as the bidder declared them
//! in the personnel declaration sealed inside its package (`bid::personnel`), read only
//! after the opening decrypted it. The same agent for two
//! bidders is `same_agent` (R-COL-2); the same person anywhere in two bids, matched by
//! identity number, is `same_person`, and by phone number only `same_phone` (R-COL-3).
//!
//! The declaration travels sealed, never in the opening sheet (which is read out to every
//! bidder): people's numbers are for the committee and the supervisors. The evidence
//! names the person and the role in each bid, with the number masked (its last four
//! characters); a warning's key is made of that masked text, so no number reaches the
//! supervisors' ledger even as a digest.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::rules::Finding;
use crate::bid::personnel::{Declaration, Person};

/// Characters of a name or a role kept.
const MAX_NAME_CHARS: usize = 64;

/// An identity number as compared: letters and digits, upper-cased; too short to be one
/// is nothing.
fn id_key(raw: &str) -> Option<String> {
    let s: String = raw
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_uppercase();
    (s.len() >= 6).then_some(s)
}

/// A phone number as compared: a mainland mobile number's 11 digits (without China's
/// country code). Landlines are not compared: bidders in one office building share a
/// switchboard honestly, a mobile number is one person's.
pub(super) fn phone_key(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let national = digits
        .strip_prefix("0086")
        .or_else(|| {
            (digits.len() == 13)
                .then(|| digits.strip_prefix("86"))
                .flatten()
        })
        .unwrap_or(&digits);
    let b = national.as_bytes();
    (b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1])).then(|| national.to_string())
}

/// The last four characters of a number, the rest hidden.
pub(super) fn masked(key: &str) -> String {
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("****{tail}")
}

/// One opened bid's declaration.
#[derive(Debug, Clone, Default)]
pub struct BidPeople {
    pub bid_id: String,
    pub org_id: String,
    pub org_name: String,
    pub declaration: Declaration,
}

/// A person's place in one bid.
struct Place<'a> {
    bid: &'a BidPeople,
    name: String,
    role: String,
    agent: bool,
}

fn short(s: &str) -> String {
    s.trim().chars().take(MAX_NAME_CHARS).collect()
}

/// Every person of a declaration with the role they hold in it.
fn people(d: &Declaration) -> Vec<(&Person, String, bool)> {
    let mut out = Vec::new();
    if let Some(p) = &d.agent {
        out.push((p, "授权代表".to_string(), true));
    }
    if let Some(p) = &d.contact {
        out.push((p, "联系人".to_string(), false));
    }
    for p in &d.team {
        let role = p
            .role
            .as_deref()
            .map(short)
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| "项目团队成员".into());
        out.push((p, role, false));
    }
    out
}

/// R-COL-2 and R-COL-3 among the bids: for each identity number, then each mobile number,
/// found in the declarations of two bidders or more, one warning naming the person and
/// their role in each bid. A phone shared by bids already warned of by one identity
/// number adds nothing.
pub fn findings(bids: &[BidPeople]) -> Vec<Finding> {
    let mut by_id: BTreeMap<String, Vec<Place>> = BTreeMap::new();
    let mut by_phone: BTreeMap<String, Vec<Place>> = BTreeMap::new();
    for b in bids {
        for (p, role, agent) in people(&b.declaration) {
            let place = || Place {
                bid: b,
                name: short(&p.name),
                role: role.clone(),
                agent,
            };
            if let Some(k) = p.id_number.as_deref().and_then(id_key) {
                by_id.entry(k).or_default().push(place());
            }
            if let Some(k) = p.phone.as_deref().and_then(phone_key) {
                by_phone.entry(k).or_default().push(place());
            }
        }
    }
    let mut out = Vec::new();
    let mut warned: Vec<BTreeSet<&str>> = Vec::new();
    for (key, places) in &by_id {
        if let Some(f) = finding(key, places, "证件") {
            warned.push(places.iter().map(|p| p.bid.org_id.as_str()).collect());
            out.push(f);
        }
    }
    for (key, places) in &by_phone {
        let orgs: BTreeSet<&str> = places.iter().map(|p| p.bid.org_id.as_str()).collect();
        if warned.iter().any(|w| orgs.is_subset(w)) {
            continue;
        }
        if let Some(mut f) = finding(key, places, "电话") {
            if f.kind == "same_person" {
                f.kind = "same_phone";
                f.weight = 80;
            }
            out.push(f);
        }
    }
    out
}

/// The warning for one number found in `places`, if they are of two bidders or more:
/// `same_agent` when it is the agent of at least two of them.
fn finding(key: &str, places: &[Place], what: &str) -> Option<Finding> {
    // One place per bid: a person named twice in one bid counts once.
    let mut seen = BTreeSet::new();
    let places: Vec<&Place> = places
        .iter()
        .filter(|p| seen.insert(p.bid.bid_id.as_str()))
        .collect();
    let orgs: BTreeSet<&str> = places.iter().map(|p| p.bid.org_id.as_str()).collect();
    if orgs.len() < 2 {
        return None;
    }
    let agent_of: BTreeSet<&str> = places
        .iter()
        .filter(|p| p.agent)
        .map(|p| p.bid.org_id.as_str())
        .collect();
    let (rule, kind, weight) = if agent_of.len() >= 2 {
        ("R-COL-2", "same_agent", 100)
    } else {
        ("R-COL-3", "same_person", 90)
    };
    let mut names: Vec<&str> = places.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    Some(Finding {
        rule,
        kind,
        bids: places.iter().map(|p| p.bid.bid_id.clone()).collect(),
        evidence: json!({
            "value": format!("{}（{what} {}）", names.join(" / "), masked(key)),
            "people": places.iter().map(|p| json!({
                "bidder": p.bid.org_name,
                "name": p.name,
                "role": p.role,
            })).collect::<Vec<_>>(),
            "bidders": places.iter().map(|p| &p.bid.org_name).collect::<Vec<_>>(),
        }),
        weight,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(name: &str, id: Option<&str>, phone: Option<&str>, role: Option<&str>) -> Person {
        Person {
            name: name.into(),
            id_number: id.map(Into::into),
            phone: phone.map(Into::into),
            role: role.map(Into::into),
        }
    }

    fn bid(i: usize, d: Declaration) -> BidPeople {
        BidPeople {
            bid_id: format!("b{i}"),
            org_id: format!("o{i}"),
            org_name: format!("公司{i}"),
            declaration: d,
        }
    }

    #[test]
    fn one_agent_for_two_bidders_is_r_col_2_and_a_shared_team_member_r_col_3() {
        let agent = person(
            "王强",
            Some("11010519491231002X"),
            Some("13800001111"),
            None,
        );
        let bids = [
            bid(
                1,
                Declaration {
                    agent: Some(agent.clone()),
                    team: vec![person(
                        "李娜",
                        Some("440524188001010014"),
                        None,
                        Some("项目负责人"),
                    )],
                    ..Default::default()
                },
            ),
            bid(
                2,
                Declaration {
                    // The same number written with spaces and a small x.
                    agent: Some(person("王强", Some("110105 19491231002x"), None, None)),
                    ..Default::default()
                },
            ),
            bid(
                3,
                Declaration {
                    agent: Some(person("赵敏", Some("310101199001011234"), None, None)),
                    team: vec![person("李娜", Some("440524188001010014"), None, None)],
                    ..Default::default()
                },
            ),
        ];
        let found = findings(&bids);
        assert_eq!(found.len(), 2, "{found:?}");
        let agent = found.iter().find(|f| f.kind == "same_agent").unwrap();
        assert_eq!(agent.rule, "R-COL-2");
        assert_eq!(agent.bids, ["b1", "b2"]);
        assert_eq!(agent.evidence["value"], "王强（证件 ****002X）");
        let member = found.iter().find(|f| f.kind == "same_person").unwrap();
        assert_eq!(member.rule, "R-COL-3");
        assert_eq!(member.bids, ["b1", "b3"]);
        assert_eq!(member.evidence["people"][0]["role"], "项目负责人");
        assert_eq!(member.evidence["people"][1]["role"], "项目团队成员");
        // No full number anywhere in the evidence.
        let text =
            serde_json::to_string(&found.iter().map(|f| &f.evidence).collect::<Vec<_>>()).unwrap();
        assert!(!text.contains("19491231"), "{text}");
        assert!(!text.contains("188001010"), "{text}");
    }

    #[test]
    fn a_shared_phone_is_r_col_3_unless_one_number_already_names_those_bids() {
        let bids = [
            bid(
                1,
                Declaration {
                    contact: Some(person("陈晨", None, Some("+86 138-0000-2222"), None)),
                    ..Default::default()
                },
            ),
            bid(
                2,
                Declaration {
                    contact: Some(person("陈辰", None, Some("13800002222"), None)),
                    ..Default::default()
                },
            ),
            bid(3, Declaration::default()),
            // One switchboard for two bidders in one building says nothing.
            bid(
                4,
                Declaration {
                    contact: Some(person("周一", None, Some("0571-8888 0000"), None)),
                    ..Default::default()
                },
            ),
            bid(
                5,
                Declaration {
                    contact: Some(person("吴二", None, Some("057188880000"), None)),
                    ..Default::default()
                },
            ),
        ];
        let found = findings(&bids);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, "same_phone");
        assert_eq!(found[0].rule, "R-COL-3");
        assert_eq!(found[0].evidence["value"], "陈晨 / 陈辰（电话 ****2222）");

        // With one identity number too, the phone adds nothing.
        let mut both = bids.clone();
        for b in &mut both[..2] {
            b.declaration.contact.as_mut().unwrap().id_number = Some("440524188001010014".into());
        }
        let found = findings(&both);
        assert_eq!(
            found.iter().map(|f| f.kind).collect::<Vec<_>>(),
            ["same_person"]
        );
    }

    #[test]
    fn one_bidder_naming_a_person_twice_and_short_numbers_say_nothing() {
        let p = person("张三", Some("440524188001010014"), Some("12345"), None);
        let bids = [
            bid(
                1,
                Declaration {
                    agent: Some(p.clone()),
                    contact: Some(p.clone()),
                    team: vec![p.clone()],
                },
            ),
            bid(
                2,
                Declaration {
                    contact: Some(person("张三", Some("12345"), Some("12345"), None)),
                    ..Default::default()
                },
            ),
        ];
        assert!(findings(&bids).is_empty());
    }
}
