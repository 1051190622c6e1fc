//! A tender as an OCDS 1.1 release (pure): from what `repo` read — only what is public —
//! to the release's JSON, and the package around releases.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::repo::{Party, Public};

/// The platform's OCID prefix; an ocid is this and the tender's code.
pub const OCID_PREFIX: &str = "ocds-kaibiao-";

/// The extensions the releases use: bids (after the opening) and lots.
pub const EXTENSIONS: [&str; 2] = [
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/v1.1.5/extension.json",
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/v1.1.5/extension.json",
];

/// An instant as OCDS writes dates (RFC 3339, UTC).
pub fn date(ms: i64) -> Value {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| Value::String(d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
        .unwrap_or(Value::Null)
}

/// Fen as an OCDS amount in yuan.
fn value(fen: i64) -> Value {
    json!({"amount": fen as f64 / 100.0, "currency": "CNY"})
}

fn party_id(p: &Party) -> String {
    format!("CN-USCC-{}", p.credit_code)
}

fn reference(p: &Party) -> Value {
    json!({"id": party_id(p), "name": p.name})
}

/// The procurement method in OCDS terms, with the Chinese name as its details.
fn method(code: &str) -> (&'static str, &'static str) {
    match code {
        "open_tendering" => ("open", "公开招标"),
        "invited_tendering" => ("selective", "邀请招标"),
        "competitive_negotiation" => ("selective", "竞争性谈判"),
        "competitive_consultation" => ("selective", "竞争性磋商"),
        "inquiry" => ("selective", "询价"),
        "single_source" => ("direct", "单一来源"),
        "framework_agreement" => ("selective", "框架协议"),
        _ => ("open", "其他"),
    }
}

fn tender_status(status: &str) -> &'static str {
    match status {
        "awarded" => "complete",
        "failed" => "unsuccessful",
        "cancelled" => "cancelled",
        _ => "active",
    }
}

/// Every party once, with all its roles in the release.
#[derive(Default)]
struct Parties(BTreeMap<String, (Party, Vec<&'static str>)>);

impl Parties {
    fn add(&mut self, p: &Party, role: &'static str) -> Value {
        let entry = self
            .0
            .entry(party_id(p))
            .or_insert_with(|| (p.clone(), Vec::new()));
        if !entry.1.contains(&role) {
            entry.1.push(role);
        }
        reference(p)
    }

    fn into_json(self) -> Vec<Value> {
        self.0
            .into_iter()
            .map(|(id, (p, roles))| {
                json!({
                    "id": id,
                    "name": p.name,
                    "identifier": {"scheme": "CN-USCC", "id": p.credit_code, "legalName": p.name},
                    "roles": roles,
                })
            })
            .collect()
    }
}

/// The tender as a compiled release of what is public now.
pub fn release(p: &Public) -> Value {
    let t = &p.tender;
    let mut parties = Parties::default();
    let buyer = parties.add(&t.buyer, "buyer");
    let procuring = parties.add(&t.procuring_entity, "procuringEntity");
    let budget: i64 = t.lots.iter().map(|l| l.budget_fen).sum();
    let (procurement_method, details) = method(&t.method);
    let mut last = t.published_at.max(t.updated_at);
    let mut tender = json!({
        "id": t.code,
        "title": t.title,
        "description": t.description,
        "status": tender_status(&t.status),
        "procuringEntity": procuring,
        "value": value(budget),
        "procurementMethod": procurement_method,
        "procurementMethodDetails": details,
        "mainProcurementCategory": t.category,
        "tenderPeriod": {"startDate": date(t.published_at), "endDate": date(t.bid_deadline)},
        "lots": t.lots.iter().map(|l| json!({
            "id": l.lot_no.to_string(), "title": l.name, "value": value(l.budget_fen),
        })).collect::<Vec<_>>(),
    });
    let mut out = json!({
        "ocid": format!("{OCID_PREFIX}{}", t.code),
        "initiationType": "tender",
        "tag": ["compiled"],
        "language": "zh",
        "buyer": buyer,
        "planning": {"budget": {"amount": value(budget)}},
    });

    if let Some(o) = &p.opening {
        last = last.max(o.closed_at);
        let mut tenderers: Vec<Value> = Vec::new();
        let details: Vec<Value> = o
            .bids
            .iter()
            .map(|b| {
                let who = parties.add(&b.bidder, "tenderer");
                if !tenderers.contains(&who) {
                    tenderers.push(who.clone());
                }
                let mut bid = json!({
                    "id": b.id,
                    "date": date(o.closed_at),
                    "status": if b.result == "read_out" { "valid" } else { "disqualified" },
                    "tenderers": [who],
                    "relatedLots": [b.lot_no.to_string()],
                });
                if let (Some(price), "read_out") = (b.price_fen, b.result.as_str()) {
                    bid["value"] = value(price);
                }
                bid
            })
            .collect();
        let valid = o.bids.iter().filter(|b| b.result == "read_out").count();
        tender["numberOfTenderers"] = json!(tenderers.len());
        tender["tenderers"] = json!(tenderers);
        out["bids"] = json!({
            "statistics": [
                {"id": "bids", "measure": "bids", "value": o.bids.len()},
                {"id": "validBids", "measure": "validBids", "value": valid},
            ],
            "details": details,
        });
    }

    if let Some(n) = &p.notice {
        last = last.max(n.published_at);
        let awards: Vec<Value> = n
            .winners
            .iter()
            .map(|(lot_no, winner, price)| {
                json!({
                    "id": format!("{}-award-{lot_no}", t.code),
                    "status": "active",
                    "date": date(n.published_at),
                    "value": value(*price),
                    "suppliers": [parties.add(winner, "supplier")],
                    "relatedLots": [lot_no.to_string()],
                })
            })
            .collect();
        out["awards"] = json!(awards);
    }

    if !p.contracts.is_empty() {
        let contracts: Vec<Value> = p
            .contracts
            .iter()
            .map(|c| {
                last = last.max(c.published_at);
                let payer = parties.add(&t.buyer, "payer");
                let payee = parties.add(&c.supplier, "payee");
                let transactions: Vec<Value> = c
                    .payments
                    .iter()
                    .map(|(id, fen, day)| {
                        json!({
                            "id": id,
                            "date": format!("{day}T00:00:00+08:00"),
                            "value": value(*fen),
                            "payer": payer,
                            "payee": payee,
                        })
                    })
                    .collect();
                json!({
                    "id": c.document["contract_no"].as_str().unwrap_or(&c.id),
                    "awardID": format!("{}-award-{}", t.code, c.lot_no),
                    "title": c.document["lot"]["name"],
                    "status": "active",
                    "value": value(c.amount_fen),
                    "dateSigned": c.signed_at.map_or(Value::Null, date),
                    "implementation": {"transactions": transactions},
                })
            })
            .collect();
        out["contracts"] = json!(contracts);
    }

    out["id"] = json!(format!("{}-{last}", t.code));
    out["date"] = date(last);
    out["tender"] = tender;
    out["parties"] = json!(parties.into_json());
    out
}

/// A release package around `releases` at `uri`. Its `publishedDate` is the latest of
/// its releases' dates (`now` when it has none): the same content is the same package,
/// whenever it is asked for.
pub fn package(uri: &str, now: i64, releases: Vec<Value>, next: Option<String>) -> Value {
    let published = releases
        .iter()
        .filter_map(|r| r["date"].as_str())
        .max()
        .map_or_else(|| date(now), |d| Value::String(d.to_string()));
    let mut p = json!({
        "uri": uri,
        "version": "1.1",
        "publishedDate": published,
        "publisher": {"name": "黄石市财政局 / Huangshi Municipal Finance Bureau"},
        "extensions": EXTENSIONS,
        "releases": releases,
    });
    if let Some(next) = next {
        p["links"] = json!({"next": next});
    }
    p
}

/// A tender's record: its one release linked (`url`: the release's package with the
/// release's `id` as the fragment) and compiled. The platform keeps each tender's public
/// state now, not every release in time, so the record has the one release it compiles.
pub fn record(release: Value, package_url: &str) -> Value {
    json!({
        "ocid": release["ocid"],
        "releases": [{
            "url": format!("{package_url}#{}", release["id"].as_str().unwrap_or_default()),
            "date": release["date"],
            "tag": release["tag"],
        }],
        "compiledRelease": release,
    })
}

/// A record package of `records`, naming the release packages they link to.
pub fn record_package(
    uri: &str,
    now: i64,
    records: Vec<Value>,
    packages: Vec<String>,
    next: Option<String>,
) -> Value {
    let releases: Vec<Value> = records
        .iter()
        .map(|r| r["compiledRelease"].clone())
        .collect();
    let mut p = package(uri, now, releases, next);
    let map = p.as_object_mut().expect("a package is an object");
    map.remove("releases");
    map.insert("packages".into(), json!(packages));
    map.insert("records".into(), Value::Array(records));
    p
}

#[cfg(test)]
mod tests {
    use super::super::repo::{Bid, Lot, Opening, Public, Tender};
    use super::*;

    fn org(n: u32) -> Party {
        Party {
            org_id: format!("o{n}"),
            name: format!("单位{n}"),
            credit_code: format!("9142020000000000{n:02}"),
        }
    }

    fn published() -> Public {
        Public {
            tender: Tender {
                id: "t1".into(),
                code: "HS-1".into(),
                title: "课桌椅".into(),
                description: "".into(),
                status: "published".into(),
                method: "open_tendering".into(),
                category: "goods".into(),
                region_code: "420200".into(),
                bid_deadline: 1_800_000_000_000,
                published_at: 1_790_000_000_000,
                updated_at: 1_790_000_000_000,
                buyer: org(1),
                procuring_entity: org(2),
                lots: vec![Lot {
                    lot_no: 1,
                    name: "课桌椅".into(),
                    budget_fen: 100_000_000,
                }],
            },
            opening: None,
            notice: None,
            contracts: vec![],
        }
    }

    #[test]
    fn before_the_opening_a_release_says_nothing_of_bids() {
        let r = release(&published());
        assert_eq!(r["ocid"], "ocds-kaibiao-HS-1");
        assert_eq!(r["tender"]["value"]["amount"], 1_000_000.0);
        assert_eq!(r["tender"]["procurementMethod"], "open");
        assert!(r.get("bids").is_none() && r["tender"].get("tenderers").is_none());
        assert_eq!(r["parties"].as_array().unwrap().len(), 2);
        assert_eq!(r["parties"][0]["identifier"]["scheme"], "CN-USCC");
    }

    #[test]
    fn after_the_opening_the_bids_and_their_tenderers() {
        let mut p = published();
        p.opening = Some(Opening {
            closed_at: 1_800_000_600_000,
            bids: vec![
                Bid {
                    id: "b1".into(),
                    lot_no: 1,
                    bidder: org(3),
                    result: "read_out".into(),
                    price_fen: Some(95_000_000),
                },
                Bid {
                    id: "b2".into(),
                    lot_no: 1,
                    bidder: org(4),
                    result: "decrypt_failed".into(),
                    price_fen: None,
                },
            ],
        });
        let r = release(&p);
        assert_eq!(r["tender"]["numberOfTenderers"], 2);
        assert_eq!(r["bids"]["statistics"][1]["value"], 1);
        assert_eq!(r["bids"]["details"][0]["value"]["amount"], 950_000.0);
        assert_eq!(r["bids"]["details"][1]["status"], "disqualified");
        assert!(r["bids"]["details"][1].get("value").is_none());
        assert_eq!(r["date"], "2027-01-15T08:10:00Z");
    }
}
