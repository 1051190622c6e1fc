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

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::rules::{self, BidFacts, CrossFlags, Finding, Outcome, Process, Screens};

/// One contracting process as the flags read it.
struct Parsed {
    facts: Vec<BidFacts>,
    outcome: Outcome,
    process: Process,
    number_of_tenderers: Option<u64>,
    /// Days an open tender stood open for bids, when shorter than the law's minimum.
    short_period: Option<f64>,
}

/// Days an open tender must stand open for bids: from the documents' issue to the bid
/// deadline, twenty days at least (R-METH-2).
pub const MIN_OPEN_TENDER_DAYS: f64 = 20.0;

/// The days between `tenderPeriod.startDate` and `endDate` of an `open` tender, when
/// fewer than [`MIN_OPEN_TENDER_DAYS`]; `None` for other methods or periods unstated.
fn short_period(tender: &TenderPart) -> Option<f64> {
    if tender.procurement_method.as_ref().and_then(Value::as_str) != Some("open") {
        return None;
    }
    let period = tender.tender_period.as_ref()?;
    let at = |d: &Option<String>| {
        d.as_deref()
            .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
    };
    let days = (at(&period.end_date)? - at(&period.start_date)?).num_seconds() as f64 / 86_400.0;
    (0.0..MIN_OPEN_TENDER_DAYS).contains(&days).then_some(days)
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

/// An id as OCDS publishers write it: a string, or a number (anything else is no id).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Id {
    Text(String),
    Number(serde_json::Number),
    Other(IgnoredAny),
}

impl Id {
    fn text(&self) -> Option<String> {
        match self {
            Id::Text(s) if !s.is_empty() => Some(s.clone()),
            Id::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

fn id(v: &Option<Id>) -> Option<String> {
    v.as_ref().and_then(Id::text)
}

/// What the flags read of a compiled release; every other field is skipped unread.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Release {
    ocid: Option<Id>,
    #[serde(default)]
    buyer: Option<Party>,
    #[serde(default)]
    tender: Option<TenderPart>,
    #[serde(default)]
    bids: Option<BidsPart>,
    #[serde(default)]
    awards: Option<Vec<Award>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Party {
    id: Option<Id>,
    name: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TenderPart {
    procuring_entity: Option<Party>,
    number_of_tenderers: Option<Value>,
    award_criteria: Option<Value>,
    procurement_method: Option<Value>,
    tender_period: Option<Period>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Period {
    start_date: Option<String>,
    end_date: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct BidsPart {
    details: Option<Vec<Bid>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Bid {
    id: Option<Id>,
    status: Option<Value>,
    tenderers: Option<Vec<Party>>,
    value: Option<Amount>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Amount {
    amount: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Award {
    status: Option<Value>,
    suppliers: Option<Vec<Party>>,
}

/// A release or record package, whichever the file is.
#[derive(Deserialize)]
struct Package {
    releases: Option<Vec<Release>>,
    records: Option<Vec<Record>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    compiled_release: Option<Release>,
}

/// Award criteria of the OCDS 1.1 codelist and the older values that mean price alone.
fn price_only(criteria: Option<&str>) -> bool {
    match criteria {
        None => true,
        Some(c) => matches!(c, "priceOnly" | "costOnly" | "lowestCost" | "lowestPrice"),
    }
}

fn text(v: &Option<Value>) -> &str {
    v.as_ref().and_then(Value::as_str).unwrap_or_default()
}

impl Release {
    fn ocid(&self) -> Option<String> {
        id(&self.ocid)
    }
}

fn parse(r: Release) -> Option<Parsed> {
    let ocid = r.ocid()?;
    let mut facts = Vec::new();
    let mut disqualified = BTreeSet::new();
    let details = r.bids.and_then(|b| b.details).unwrap_or_default();
    for (i, bid) in details.into_iter().enumerate() {
        let status = text(&bid.status);
        if status.is_empty() || status == "invited" || status == "withdrawn" {
            continue;
        }
        let Some(tenderer) = bid.tenderers.as_ref().and_then(|t| t.first()) else {
            continue;
        };
        let Some(org_id) = id(&tenderer.id) else {
            continue;
        };
        let bid_id = id(&bid.id).unwrap_or_else(|| format!("{ocid}/{i}"));
        let amount = bid
            .value
            .as_ref()
            .and_then(|v| v.amount.as_ref())
            .and_then(Value::as_f64)
            .unwrap_or_default();
        if status == "disqualified" {
            disqualified.insert(bid_id.clone());
        }
        facts.push(BidFacts {
            bid_id,
            org_name: tenderer
                .name
                .as_ref()
                .and_then(Value::as_str)
                .map_or_else(|| org_id.clone(), String::from),
            org_id,
            lot_no: 1,
            price_fen: (amount * 100.0).round() as i64,
            device_fingerprint: String::new(),
            client_ip: String::new(),
            other_ips: Vec::new(),
            user_agent: String::new(),
            creators: Vec::new(),
            bidder_key_id: String::new(),
            deposit_account: None,
            owner: Default::default(),
        });
    }
    let awards = r.awards.unwrap_or_default();
    let all_final = awards
        .iter()
        .all(|a| matches!(text(&a.status), "active" | "cancelled" | "unsuccessful"));
    let active: Vec<&Award> = awards
        .iter()
        .filter(|a| text(&a.status) == "active")
        .collect();
    let winner = match (all_final, active.as_slice()) {
        (true, [award]) => match award.suppliers.as_deref() {
            Some([supplier]) => id(&supplier.id).and_then(|org| {
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
    let tender = r.tender.unwrap_or_default();
    let outcome = Outcome {
        disqualified: disqualified.clone(),
        winners: winner.iter().map(|w| (1, w.clone())).collect(),
        price_only: price_only(tender.award_criteria.as_ref().and_then(Value::as_str))
            .then_some(1)
            .into_iter()
            .collect(),
    };
    let process = Process {
        tender_id: ocid,
        lot_no: 1,
        buyer: r.buyer.and_then(|b| id(&b.id)).unwrap_or_default(),
        procuring_entity: tender
            .procuring_entity
            .as_ref()
            .and_then(|p| id(&p.id))
            .unwrap_or_default(),
        region: String::new(),
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
        number_of_tenderers: tender.number_of_tenderers.as_ref().and_then(Value::as_u64),
        short_period: short_period(&tender),
    })
}

/// Lines parsed at once, split between the two workers.
const BATCH: usize = 4096;

/// Parses `lines` (numbered from `first`) on two threads, in order.
fn parse_lines(lines: &[String], first: usize) -> anyhow::Result<Vec<Parsed>> {
    let one = |part: &[String], at: usize| -> anyhow::Result<Vec<Parsed>> {
        let mut out = Vec::with_capacity(part.len());
        for (n, line) in part.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let r: Release =
                serde_json::from_str(line).map_err(|e| anyhow::anyhow!("line {}: {e}", at + n))?;
            out.extend(parse(r));
        }
        Ok(out)
    };
    let (a, b) = lines.split_at(lines.len() / 2);
    std::thread::scope(|s| {
        let second = s.spawn(|| one(b, first + a.len()));
        let mut out = one(a, first)?;
        out.extend(
            second
                .join()
                .map_err(|_| anyhow::anyhow!("a parsing thread panicked"))??,
        );
        Ok(out)
    })
}

/// The contracting processes of `input`: JSON lines of (compiled) releases, read as they
/// stream by, or one release or record package (a record's `compiledRelease`). A later
/// release of an `ocid` replaces an earlier one.
fn read_parsed(mut input: impl BufRead) -> anyhow::Result<Vec<Parsed>> {
    let mut first = String::new();
    input.read_line(&mut first)?;
    let lines_of_releases = serde_json::from_str::<Release>(&first)
        .ok()
        .is_some_and(|r| r.ocid.is_some());
    let mut by_ocid: BTreeMap<String, Parsed> = BTreeMap::new();
    let mut keep = |parsed: Vec<Parsed>| {
        for p in parsed {
            by_ocid.insert(p.process.tender_id.clone(), p);
        }
    };
    if lines_of_releases {
        let mut batch = vec![first.trim_end().to_string()];
        let mut at = 1;
        for line in input.lines() {
            batch.push(line?);
            if batch.len() == BATCH {
                keep(parse_lines(&batch, at)?);
                at += batch.len();
                batch.clear();
            }
        }
        keep(parse_lines(&batch, at)?);
    } else {
        let mut text = first;
        input.read_to_string(&mut text)?;
        let package: Package = serde_json::from_str(&text)?;
        let releases = match (package.releases, package.records) {
            (Some(r), _) => r,
            (None, Some(records)) => records
                .into_iter()
                .filter_map(|r| r.compiled_release)
                .collect(),
            (None, None) => {
                anyhow::bail!("neither JSON lines of releases nor a release or record package")
            }
        };
        keep(releases.into_iter().filter_map(parse).collect());
    }
    Ok(by_ocid.into_values().collect())
}

/// The flags and screens of every contracting process of `input` (see `read_parsed`).
pub fn screen_file(input: impl BufRead) -> anyhow::Result<ScreenReport> {
    Ok(screen(read_parsed(input)?))
}

/// The flags and screens of every contracting process.
fn screen(parsed: Vec<Parsed>) -> ScreenReport {
    // The processes apart from the rest, so the cross-process flags read them in place.
    let (rest, processes): (Vec<_>, Vec<Process>) = parsed
        .into_iter()
        .map(|p| {
            (
                (p.facts, p.outcome, p.number_of_tenderers, p.short_period),
                p.process,
            )
        })
        .unzip();
    let cross = rules::cross_flags(&processes);
    let rotating: BTreeSet<&String> = cross
        .rotation
        .iter()
        .flat_map(|r| r.processes.iter())
        .collect();
    let r024: BTreeSet<&String> = cross.r024.iter().map(|f| &f.tender_id).collect();
    let r058: BTreeSet<&String> = cross.r058.iter().map(|f| &f.tender_id).collect();
    let tenders = rest
        .into_iter()
        .zip(&processes)
        .map(|((facts, outcome, number_of_tenderers, short), process)| {
            let ocid = process.tender_id.clone();
            let mut findings = rules::price_patterns(&facts);
            findings.extend(
                rules::red_flags(&facts, &outcome)
                    .into_iter()
                    .filter(|f| f.rule != "R018"),
            );
            let mut flags = BTreeMap::new();
            let tenderers: BTreeSet<&str> = facts.iter().map(|b| b.org_id.as_str()).collect();
            if number_of_tenderers.unwrap_or(tenderers.len() as u64) == 1 {
                flags.insert("R018".to_string(), 1.0);
            }
            if let Some(days) = short {
                flags.insert("short_tender_period".to_string(), 1.0);
                findings.push(rules::Finding {
                    rule: "R-METH-2",
                    kind: "short_tender_period",
                    bids: Vec::new(),
                    evidence: serde_json::json!({
                        "value": (days * 10.0).round() / 10.0,
                        "minimum_days": MIN_OPEN_TENDER_DAYS,
                    }),
                    weight: 40,
                });
            }
            for f in &findings {
                let code = match f.kind {
                    "identical_prices" => "R028",
                    kind if f.rule.starts_with("R-COL") => kind,
                    _ => f.rule,
                };
                flags.insert(code.to_string(), 1.0);
            }
            for (set, code) in [(&r024, "R024"), (&r058, "R058"), (&rotating, "rotation")] {
                if set.contains(&ocid) {
                    flags.insert(code.into(), 1.0);
                }
            }
            let prices: Vec<i64> = facts
                .iter()
                .map(|b| b.price_fen)
                .filter(|&x| x > 0)
                .collect();
            TenderScreen {
                ocid,
                bids: facts.len(),
                flags,
                findings,
                screens: rules::screens(&prices),
            }
        })
        .collect();
    ScreenReport { tenders, cross }
}

/// The columns of the CSV, after `ocid` and `bids`: the flags, then the screens.
pub const CSV_FLAGS: [&str; 10] = [
    "R018",
    "R024",
    "R028",
    "R035",
    "R036",
    "R058",
    "equal_steps",
    "equal_ratios",
    "rotation",
    "short_tender_period",
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
        let a = r#"{"ocid":"ocds-1","tender":{"numberOfTenderers":1},"extra":[1,{"x":2}]}"#;
        let b = r#"{"ocid":"ocds-1","tender":{"numberOfTenderers":2}}"#;
        let tenderers = |input: &str| -> Vec<Option<u64>> {
            read_parsed(input.as_bytes())
                .unwrap()
                .iter()
                .map(|p| p.number_of_tenderers)
                .collect()
        };
        assert_eq!(tenderers(&format!("{a}\n\n{b}\n")), [Some(2)]);
        assert_eq!(
            tenderers(&format!("{{\n  \"releases\": [\n{a},\n{b}\n]\n}}")),
            [Some(2)]
        );
        assert_eq!(
            tenderers(&format!("{{\"records\": [{{\"compiledRelease\": {b}}}]}}")),
            [Some(2)]
        );
        // An id may be a number; a line that is not JSON is named.
        let n = read_parsed(&br#"{"ocid":17}"#[..]).unwrap();
        assert_eq!(n[0].process.tender_id, "17");
        let e = read_parsed(format!("{a}\n{{oops\n").as_bytes())
            .err()
            .unwrap();
        assert!(e.to_string().starts_with("line 2:"), "{e}");
        assert!(read_parsed(&b"{\"something\": 1}"[..]).is_err());
    }

    #[test]
    fn r_meth_2_an_open_tender_shorter_than_twenty_days_is_flagged_and_in_the_csv() {
        let release = |ocid: &str, method: &str, end: &str| {
            format!(
                r#"{{"ocid":"{ocid}","tender":{{"procurementMethod":"{method}","tenderPeriod":{{"startDate":"2026-03-01T09:00:00+08:00","endDate":"{end}"}}}}}}"#
            )
        };
        let input = [
            release("short", "open", "2026-03-11T09:00:00+08:00"),
            release("long", "open", "2026-03-25T09:00:00+08:00"),
            release("limited", "limited", "2026-03-04T09:00:00+08:00"),
        ]
        .join("\n");
        let report = screen_file(input.as_bytes()).unwrap();
        let flagged: Vec<&str> = report
            .tenders
            .iter()
            .filter(|t| t.flags.contains_key("short_tender_period"))
            .map(|t| t.ocid.as_str())
            .collect();
        assert_eq!(flagged, ["short"]);
        let short = report.tenders.iter().find(|t| t.ocid == "short").unwrap();
        let finding = short
            .findings
            .iter()
            .find(|f| f.kind == "short_tender_period")
            .unwrap();
        assert_eq!(finding.evidence["value"], 10.0);
        let mut csv = Vec::new();
        write_csv(&report, &mut csv).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
        let column = header
            .iter()
            .position(|h| *h == "short_tender_period")
            .unwrap();
        let row: Vec<&str> = csv
            .lines()
            .find(|l| l.starts_with("short,"))
            .unwrap()
            .split(',')
            .collect();
        assert_eq!(row[column], "1");
    }
}
