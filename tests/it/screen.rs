//! `kaibiao screen FILE` (docs/collusion.md): the real binary reads OCDS 1.1 compiled
//! releases another city published and writes the red flags and screens per process, as
//! JSON and as CSV; a package of the same releases reads alike; a file that is not OCDS
//! is refused plainly.

use std::process::Command;

use serde_json::{json, Value};

use crate::cli::BIN;

/// A compiled release: `bids` as (tenderer, amount, status), the award to `winner` (active
/// unless `pending`).
fn release(ocid: &str, bids: &[(&str, f64, &str)], winner: Option<&str>, pending: bool) -> Value {
    json!({
        "ocid": ocid,
        "buyer": {"id": "CN-USCC-12420200MA4000101X"},
        "tender": {"procuringEntity": {"id": "CN-USCC-91420200MA4000201Y"},
                   "numberOfTenderers": bids.len()},
        "bids": {"details": bids.iter().enumerate().map(|(i, (t, amount, status))| json!({
            "id": format!("{ocid}-bid-{i}"),
            "status": status,
            "tenderers": [{"id": t, "name": format!("{t} 有限公司")}],
            "value": {"amount": amount, "currency": "CNY"},
        })).collect::<Vec<_>>()},
        "awards": winner.map(|w| vec![json!({
            "id": "1", "status": if pending { "pending" } else { "active" },
            "suppliers": [{"id": w}],
        })]).unwrap_or_default(),
    })
}

/// Ten ordinary processes (the runner-up 20–22 % above the winner), one runner-up 0.1 %
/// above, one 60 % above, one single bid, identical prices, every bid but the winner's
/// disqualified, prices in equal steps, and an award still pending.
fn city() -> Vec<Value> {
    let mut out = Vec::new();
    for (i, r) in [0.20, 0.21, 0.22, 0.20, 0.21, 0.22, 0.21, 0.20, 0.22, 0.21]
        .into_iter()
        .enumerate()
    {
        let w = 100_000.0 + i as f64 * 1_000.0;
        out.push(release(
            &format!("ocds-hs-{i:02}"),
            &[
                ("A", w, "valid"),
                ("B", w * (1.0 + r), "valid"),
                ("C", w * 1.37, "valid"),
            ],
            Some("A"),
            false,
        ));
    }
    out.push(release(
        "ocds-hs-close",
        &[
            ("A", 100_000.0, "valid"),
            ("B", 100_100.0, "valid"),
            ("C", 131_000.0, "valid"),
        ],
        Some("A"),
        false,
    ));
    out.push(release(
        "ocds-hs-discount",
        &[
            ("A", 100_000.0, "valid"),
            ("B", 160_000.0, "valid"),
            ("C", 171_000.0, "valid"),
        ],
        Some("A"),
        false,
    ));
    out.push(release(
        "ocds-hs-single",
        &[("D", 88_000.0, "valid")],
        Some("D"),
        false,
    ));
    out.push(release(
        "ocds-hs-same",
        &[
            ("A", 95_500.0, "valid"),
            ("E", 95_500.0, "valid"),
            ("F", 120_000.0, "valid"),
        ],
        Some("A"),
        false,
    ));
    out.push(release(
        "ocds-hs-disq",
        &[
            ("G", 101_000.0, "valid"),
            ("H", 90_000.0, "disqualified"),
            ("I", 97_000.0, "disqualified"),
        ],
        Some("G"),
        false,
    ));
    out.push(release(
        "ocds-hs-steps",
        &[
            ("J", 100_000.0, "valid"),
            ("K", 121_000.0, "valid"),
            ("L", 142_000.0, "valid"),
        ],
        Some("J"),
        false,
    ));
    // X, Y and Z meet three times and take turns.
    for (i, winner) in ["X", "Y", "Z"].into_iter().enumerate() {
        let mut bids = vec![
            ("X", 131_000.0, "valid"),
            ("Y", 132_000.0, "valid"),
            ("Z", 133_000.0, "valid"),
        ];
        let at = ["X", "Y", "Z"].iter().position(|x| *x == winner).unwrap();
        bids[at].1 = 108_000.0;
        out.push(release(
            &format!("ocds-hs-turn-{i}"),
            &bids,
            Some(winner),
            false,
        ));
    }
    out.push(release(
        "ocds-hs-pending",
        &[
            ("A", 100_000.0, "valid"),
            ("B", 100_050.0, "valid"),
            ("C", 140_000.0, "valid"),
        ],
        Some("A"),
        true,
    ));
    out
}

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn kaibiao_screen_flags_other_cities_ocds_data_as_json_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let lines = dir.path().join("city.jsonl");
    let text: String = city().iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(&lines, text).unwrap();

    let (ok, out, err) = run(&["screen", lines.to_str().unwrap()]);
    assert!(ok, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let flags = |ocid: &str| -> Vec<String> {
        let t = report["tenders"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["ocid"] == ocid)
            .unwrap_or_else(|| panic!("{ocid} in {report}"));
        t["flags"].as_object().unwrap().keys().cloned().collect()
    };
    assert_eq!(flags("ocds-hs-close"), ["R024"]);
    assert_eq!(flags("ocds-hs-discount"), ["R058"]);
    assert_eq!(flags("ocds-hs-single"), ["R018"]);
    // The runner-up at the winner's very price: identical, and as close as can be.
    assert_eq!(flags("ocds-hs-same"), ["R024", "R028"]);
    assert_eq!(flags("ocds-hs-disq"), ["R035", "R036"]);
    assert_eq!(flags("ocds-hs-steps"), ["equal_steps"]);
    assert_eq!(flags("ocds-hs-03"), Vec::<String>::new());
    for i in 0..3 {
        assert_eq!(flags(&format!("ocds-hs-turn-{i}")), ["rotation"]);
    }
    assert_eq!(
        report["cross"]["rotation"][0]["winners"],
        json!(["X", "Y", "Z"])
    );
    assert_eq!(
        flags("ocds-hs-pending"),
        Vec::<String>::new(),
        "no winner before every award is final"
    );
    assert!(
        report["cross"]["meta"]["R024_lower_fence"]
            .as_f64()
            .unwrap()
            > 0.0
    );

    // A pretty-printed release package reads alike; CSV has a row per process.
    let package = dir.path().join("package.json");
    std::fs::write(
        &package,
        serde_json::to_string_pretty(&json!({"uri": "https://example.org/hs", "releases": city()}))
            .unwrap(),
    )
    .unwrap();
    let csv_path = dir.path().join("flags.csv");
    let (ok, _, err) = run(&[
        "screen",
        package.to_str().unwrap(),
        "--format",
        "csv",
        "--output",
        csv_path.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(
        rows[0],
        "ocid,bids,R018,R024,R028,R035,R036,R058,equal_steps,equal_ratios,rotation,short_tender_period,cv,rd,spread,skewness"
    );
    assert_eq!(rows.len(), 1 + city().len());
    let disq = rows
        .iter()
        .find(|r| r.starts_with("ocds-hs-disq,"))
        .unwrap();
    assert!(disq.starts_with("ocds-hs-disq,3,,,,1,1,,,,,"), "{disq}");

    // Not OCDS: said plainly, with the file's name.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"rows\": []}").unwrap();
    let (ok, _, err) = run(&["screen", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("bad.json is not OCDS data"), "{err}");
}
