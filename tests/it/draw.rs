//! The expert draw through the real binary: `kaibiao verify` replays a draw record, or
//! every `experts_drawn` event of a ledger, and fails a tampered one (R-EVAL-2).

use kaibiao::draw::{self, Candidate, Conflicts, DrawInput, DrawRecord, Requirement};
use kaibiao::ledger::{event_hash, Event, Ledger, GENESIS};

use crate::cli::verify;

fn input(ledger_head: &str) -> DrawInput {
    DrawInput {
        tender_id: "t-draw".into(),
        pool: (0..20)
            .map(|i| Candidate {
                id: format!("expert-{i:02}"),
                specialties: vec!["it".into()],
                region: "440100".into(),
                employer_org_id: Some(if i == 3 { "agency" } else { "univ" }.into()),
                ties: if i == 4 {
                    vec!["bidder-1".into()]
                } else {
                    vec![]
                },
                active: true,
            })
            .collect(),
        requirement: Requirement {
            specialty: "it".into(),
            region: None,
            budget_fen: draw::LARGE_BUDGET_FEN,
            complex: false,
            committee_size: None,
            purchaser_representatives: 1,
            panel: None,
        },
        conflicts: Conflicts {
            bidder_org_ids: vec!["bidder-1".into(), "bidder-2".into()],
            purchaser_org_id: "purchaser".into(),
            agency_org_id: "agency".into(),
        },
        ledger_head: ledger_head.into(),
        nonce: "财政监督随机数-0427".into(),
    }
}

fn push(ledger: &mut Ledger, kind: &str, body: serde_json::Value) {
    let seq = ledger.events.len() as i64 + 1;
    let at = 1_796_086_800_000 + seq;
    let hash = event_hash(&ledger.tender_id, seq, at, kind, "u1", &body, &ledger.head);
    ledger.events.push(Event {
        seq,
        at,
        kind: kind.into(),
        actor: "u1".into(),
        body,
        prev_hash: ledger.head.clone(),
        hash: hash.clone(),
    });
    ledger.head = hash;
}

fn write(dir: &tempfile::TempDir, value: &impl serde::Serialize) -> std::path::PathBuf {
    let file = dir.path().join("draw.json");
    std::fs::write(&file, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    file
}

#[test]
fn r_eval_2_verify_replays_a_draw_record_and_fails_a_changed_panel() {
    let dir = tempfile::tempdir().unwrap();
    let record = draw::draw(&input(&"5a".repeat(32))).unwrap();
    // R-EVAL-1: 7 seats at 10 million yuan, one for the purchaser, six drawn.
    assert_eq!((record.committee_size, record.panel.len()), (7, 6));
    assert!(!record
        .panel
        .iter()
        .any(|id| id == "expert-03" || id == "expert-04"));

    let out = verify(&write(&dir, &record));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("expert draw replays"), "{stdout}");

    // Swap a drawn expert for one further down the order.
    let mut tampered: DrawRecord = record.clone();
    tampered.panel[0] = record.order[10].clone();
    let out = verify(&write(&dir, &tampered));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("DRAW_MISMATCH") && err.contains("panel"),
        "{err}"
    );
}

#[test]
fn r_eval_2_verify_replays_the_experts_drawn_events_of_a_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger {
        tender_id: "t-draw".into(),
        head: GENESIS.into(),
        events: Vec::new(),
        withheld_until: None,
        bid_register: None,
        actors: Default::default(),
    };
    push(
        &mut ledger,
        "tender_created",
        serde_json::json!({"title": "智慧教室"}),
    );
    push(&mut ledger, "tender_published", serde_json::json!({"n": 1}));
    let first = draw::draw(&input(&ledger.head)).unwrap();
    push(
        &mut ledger,
        draw::EVENT_KIND.as_str(),
        serde_json::to_value(&first).unwrap(),
    );
    // One expert declines: a top-up draw from the same order.
    let topped = draw::top_up(&first, &[first.panel[2].clone()]).unwrap();
    push(
        &mut ledger,
        draw::EVENT_KIND.as_str(),
        serde_json::to_value(&topped).unwrap(),
    );

    let out = verify(&write(&dir, &ledger));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("event 3: expert draw replays"), "{stdout}");
    assert!(stdout.contains("event 4: expert draw replays"), "{stdout}");

    // A draw record whose panel was changed before it was chained in: the chain is sound,
    // the draw is not.
    let mut forged = ledger.clone();
    forged.events.truncate(3);
    forged.head = forged.events[2].hash.clone();
    let mut bad = topped.clone();
    bad.panel.swap(0, 1);
    push(
        &mut forged,
        draw::EVENT_KIND.as_str(),
        serde_json::to_value(&bad).unwrap(),
    );
    let out = verify(&write(&dir, &forged));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("event 4") && err.contains("DRAW_MISMATCH"),
        "{err}"
    );

    // A draw from a head that is not in this ledger (picked after the fact).
    let mut foreign = ledger.clone();
    foreign.events.truncate(2);
    foreign.head = foreign.events[1].hash.clone();
    let elsewhere = draw::draw(&input(&"77".repeat(32))).unwrap();
    push(
        &mut foreign,
        draw::EVENT_KIND.as_str(),
        serde_json::to_value(&elsewhere).unwrap(),
    );
    let out = verify(&write(&dir, &foreign));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("HEAD_NOT_IN_LEDGER"), "{err}");
}
