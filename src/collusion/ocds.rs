//! `kaibiao screen FILE`: the same red flags and price screens over other cities'
//! published data, read as OCDS 1.1 compiled releases (JSON lines, one release a line, as
//! open-contracting's cardinal-rs reads them) or a release or record package.
//!
//! Each contracting process counts as one lot. What is read of it, on cardinal-rs's
//! definitions: the submitted bids (`bids.details` not `invited` or `withdrawn`), each
//! with its first tenderer's id, its amount and whether it is `disqualified`; the winner
//! when every award is final and exactly one is `active` with one supplier (that
//! supplier's lowest valid bid); `buyer.id` and `tender.procuringEntity.id`;
//! `tender.numberOfTenderers` for R018 (the distinct tenderers when it is absent); and
//! `tender.awardCriteria` for R036, price only unless it names another criterion.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;

use serde::Serialize;
use serde_json::Value;

use super::rules::{self, BidFacts, CrossFlags, Finding, Outcome, Process, Screens};

/// One contracting process as the flags read it.
struct Parsed {
    facts: Vec<BidFacts>,
    outcome: Outcome,
    process: Process,
    number_of_tenderers: Option<u64>,
}

/// What the screen says of one contracting process.
#[derive(Debug, Clone, Serialize)]
pub struct TenderScreen {
    pub ocid: String,
    pub bids: usize,
    /// The red flags raised, by code (R018, R024, R028, R035, R036, R058), the price
    /// patterns (equal_steps, equal_ratios) and bid rotation, each 1.0 as cardinal-rs
    /// reports its flags.
    pub flags: BTreeMap<String, f64>,
    pub findings: Vec<Finding>,
    pub screens: Option<Screens>,
}

/// The whole file's screen: per process, and the organisations flagged across them.
#[derive(Debug, Clone, Serialize)]
pub struct ScreenReport {
    pub tenders: Vec<TenderScreen>,
    pub cross: CrossFlags,
}

/// An id as OCDS publishers write it: a string, or a number.
fn id(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Award criteria of the OCDS 1.1 codelist and the older values that mean price alone.
fn price_only(criteria: Option<&str>) -> bool {
    match criteria {
        None => true,
        Some(c) => matches!(c, "priceOnly" | "costOnly" | "lowestCost" | "lowestPrice"),
    }
}

fn parse(r: &Value) -> Option<Parsed> {
    let ocid = id(&r["ocid"])?;
    let mut facts = Vec::new();
    let mut disqualified = BTreeSet::new();
    let details = r["bids"]["details"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    for (i, bid) in details.iter().enumerate() {
        let status = bid["status"].as_str().unwrap_or_default();
        if status.is_empty() || status == "invited" || status == "withdrawn" {
            continue;
        }
        let Some(tenderer) = bid["tenderers"].get(0) else {
            continue;
        };
        let Some(org_id) = id(&tenderer["id"]) else {
            continue;
        };
        let bid_id = id(&bid["id"]).unwrap_or_else(|| format!("{ocid}/{i}"));
        let amount = bid["value"]["amount"].as_f64().unwrap_or_default();
        if status == "disqualified" {
            disqualified.insert(bid_id.clone());
        }
        facts.push(BidFacts {
            bid_id,
            org_name: tenderer["name"]
                .as_str()
                .map_or_else(|| org_id.clone(), String::from),
            org_id,
            lot_no: 1,
            price_fen: (amount * 100.0).round() as i64,
            device_fingerprint: String::new(),
            client_ip: String::new(),
            user_agent: String::new(),
            creators: Vec::new(),
            bidder_key_id: String::new(),
            deposit_account: None,
        });
    }
    let awards = r["awards"].as_array().map_or(&[][..], Vec::as_slice);
    let status = |a: &Value| a["status"].as_str().unwrap_or_default().to_string();
    let all_final = awards
        .iter()
        .all(|a| matches!(status(a).as_str(), "active" | "cancelled" | "unsuccessful"));
    let active: Vec<&Value> = awards.iter().filter(|a| status(a) == "active").collect();
    let winner = match (all_final, active.as_slice()) {
        (true, [award]) => match award["suppliers"].as_array().map(Vec::as_slice) {
            Some([supplier]) => id(&supplier["id"]).and_then(|org| {
                facts
                    .iter()
                    .filter(|b| b.org_id == org && !disqualified.contains(&b.bid_id))
                    .min_by_key(|b| b.price_fen)
                    .map(|b| b.bid_id.clone())
            }),
            _ => None,
        },
        _ => None,
    };
    let outcome = Outcome {
        disqualified: disqualified.clone(),
        winners: winner.iter().map(|w| (1, w.clone())).collect(),
        price_only: price_only(r["tender"]["awardCriteria"].as_str())
            .then_some(1)
            .into_iter()
            .collect(),
    };
    let process = Process {
        tender_id: ocid,
        lot_no: 1,
        buyer: id(&r["buyer"]["id"]).unwrap_or_default(),
        procuring_entity: id(&r["tender"]["procuringEntity"]["id"]).unwrap_or_default(),
        bids: facts
            .iter()
            .map(|b| {
                (
                    b.bid_id.clone(),
                    b.org_id.clone(),
                    b.price_fen,
                    disqualified.contains(&b.bid_id),
                )
            })
            .collect(),
        winner,
    };
    Some(Parsed {
        facts,
        outcome,
        process,
        number_of_tenderers: r["tender"]["numberOfTenderers"].as_u64(),
    })
}

/// The releases of `input`: JSON lines of (compiled) releases, or one release or record
/// package (a record's `compiledRelease`). A later release of an `ocid` replaces an
/// earlier one.
pub fn read(mut input: impl BufRead) -> anyhow::Result<Vec<Value>> {
    let mut first = String::new();
    input.read_line(&mut first)?;
    let lines_of_releases = serde_json::from_str::<Value>(&first)
        .ok()
        .is_some_and(|v| v.get("ocid").is_some());
    let mut releases = Vec::new();
    if lines_of_releases {
        releases.push(serde_json::from_str(&first)?);
        for (n, line) in input.lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let v: Value =
                serde_json::from_str(&line).map_err(|e| anyhow::anyhow!("line {}: {e}", n + 2))?;
            releases.push(v);
        }
    } else {
        let mut text = first;
        input.read_to_string(&mut text)?;
        let package: Value = serde_json::from_str(&text)?;
        if let Some(r) = package["releases"].as_array() {
            releases.extend(r.iter().cloned());
        } else if let Some(r) = package["records"].as_array() {
            releases.extend(r.iter().filter_map(|r| r.get("compiledRelease")).cloned());
        } else {
            anyhow::bail!("neither JSON lines of releases nor a release or record package");
        }
    }
    let mut by_ocid: BTreeMap<String, Value> = BTreeMap::new();
    for r in releases {
        if let Some(ocid) = id(&r["ocid"]) {
            by_ocid.insert(ocid, r);
        }
    }
    Ok(by_ocid.into_values().collect())
}

/// The flags and screens of every contracting process of `releases`.
pub fn screen(releases: &[Value]) -> ScreenReport {
    let parsed: Vec<Parsed> = releases.iter().filter_map(parse).collect();
    let processes: Vec<Process> = parsed.iter().map(|p| p.process.clone()).collect();
    let cross = rules::cross_flags(&processes);
    let flagged =
        |list: &[rules::ProcessFlag], ocid: &str| list.iter().any(|f| f.tender_id == ocid);
    let tenders = parsed
        .into_iter()
        .map(|p| {
            let ocid = p.process.tender_id.clone();
            let mut findings = rules::price_patterns(&p.facts);
            findings.extend(
                rules::red_flags(&p.facts, &p.outcome)
                    .into_iter()
                    .filter(|f| f.rule != "R018"),
            );
            let mut flags = BTreeMap::new();
            let tenderers: BTreeSet<&str> = p.facts.iter().map(|b| b.org_id.as_str()).collect();
            if p.number_of_tenderers.unwrap_or(tenderers.len() as u64) == 1 {
                flags.insert("R018".to_string(), 1.0);
            }
            for f in &findings {
                let code = match f.kind {
                    "identical_prices" => "R028",
                    kind if f.rule.starts_with("R-COL") => kind,
                    _ => f.rule,
                };
                flags.insert(code.to_string(), 1.0);
            }
            if flagged(&cross.r024, &ocid) {
                flags.insert("R024".into(), 1.0);
            }
            if flagged(&cross.r058, &ocid) {
                flags.insert("R058".into(), 1.0);
            }
            if cross.rotation.iter().any(|r| r.processes.contains(&ocid)) {
                flags.insert("rotation".into(), 1.0);
            }
            let prices: Vec<i64> = p
                .facts
                .iter()
                .map(|b| b.price_fen)
                .filter(|&x| x > 0)
                .collect();
            TenderScreen {
                ocid,
                bids: p.facts.len(),
                flags,
                findings,
                screens: rules::screens(&prices),
            }
        })
        .collect();
    ScreenReport { tenders, cross }
}

/// The columns of the CSV, after `ocid` and `bids`: the flags, then the screens.
pub const CSV_FLAGS: [&str; 9] = [
    "R018",
    "R024",
    "R028",
    "R035",
    "R036",
    "R058",
    "equal_steps",
    "equal_ratios",
    "rotation",
];

/// One row per contracting process: its flags (1 or empty) and its screens.
pub fn write_csv(report: &ScreenReport, out: impl std::io::Write) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec!["ocid", "bids"];
    header.extend(CSV_FLAGS);
    header.extend(["cv", "rd", "spread", "skewness"]);
    w.write_record(&header)?;
    let num = |x: Option<f64>| x.map(|x| format!("{x:.6}")).unwrap_or_default();
    for t in &report.tenders {
        let mut row = vec![t.ocid.clone(), t.bids.to_string()];
        for f in CSV_FLAGS {
            row.push(if t.flags.contains_key(f) { "1" } else { "" }.into());
        }
        let s = t.screens.as_ref();
        row.push(num(s.map(|s| s.cv)));
        row.push(num(s.and_then(|s| s.rd)));
        row.push(num(s.map(|s| s.spread)));
        row.push(num(s.map(|s| s.skewness)));
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_packages_read_alike_and_a_later_release_replaces_an_earlier() {
        let a = r#"{"ocid":"ocds-1","tender":{"numberOfTenderers":1}}"#;
        let b = r#"{"ocid":"ocds-1","tender":{"numberOfTenderers":2}}"#;
        let lines = read(format!("{a}\n\n{b}\n").as_bytes()).unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["tender"]["numberOfTenderers"], 2);
        let package = format!("{{\n  \"releases\": [\n{a},\n{b}\n]\n}}");
        assert_eq!(read(package.as_bytes()).unwrap(), lines);
        let records = format!("{{\"records\": [{{\"compiledRelease\": {b}}}]}}");
        assert_eq!(read(records.as_bytes()).unwrap(), lines);
        assert!(read(&b"{\"something\": 1}"[..]).is_err());
    }
}
