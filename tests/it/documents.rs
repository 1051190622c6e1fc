//! The tender's documents after publication (R-DOC-3, R-CHAL-1): suppliers obtain them —
//! who and how many stays the supervisors' until the deadline — ask before the
//! clarification deadline, and the agency's answer reaches every holder with the question
//! and never the asker; an answer naming the asker is refused and nothing is written.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{code, spawn_app_at};

/// 2026-12-01 09:00 China Standard Time, a Tuesday.
const T0: i64 = 1_796_086_800_000;
/// 2026-12-04 24:00 CST: the 3rd working day after T0 (R-CHAL-1).
const REPLY_DUE: i64 = 1_796_400_000_000;

#[tokio::test]
async fn r_doc_3_holders_ask_and_every_holder_reads_the_answer_without_the_asker() {
    let (app, clock) = spawn_app_at(T0).await;
    let agency = app.login("agency").await;
    let body = app.tender_body("实验室通风系统改造", T0).await;
    let (_, t) = agency.post("/api/tenders", body).await;
    let tid = t["id"].as_str().unwrap().to_string();
    let (status, v) = agency
        .post(&format!("/api/tenders/{tid}/publish"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");

    let s1 = app.login("supplier1").await;
    let s2 = app.login("supplier2").await;
    let s3 = app.login("supplier3").await;
    // Without the documents, no questions.
    let (status, v) = s1
        .post(
            &format!("/api/tenders/{tid}/questions"),
            json!({"text": "交货期?"}),
        )
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::FORBIDDEN, "DOCUMENTS_NOT_OBTAINED"),
        "{v}"
    );
    for s in [&s1, &s2] {
        let (status, v) = s
            .post(&format!("/api/tenders/{tid}/documents/obtain"), json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    // Again: the same answer, nothing more written.
    let register = app.rows("bid_register_events").await;
    let (_, again) = s1
        .post(&format!("/api/tenders/{tid}/documents/obtain"), json!({}))
        .await;
    assert_eq!(again["obtained_at"], T0);
    assert_eq!(app.rows("bid_register_events").await, register);

    // Before the deadline the agency learns neither who nor how many; finance does.
    let (status, v) = agency
        .get(&format!("/api/tenders/{tid}/documents/holders"))
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::FORBIDDEN, "FORBIDDEN"),
        "{v}"
    );
    let (_, public) = app
        .call(
            reqwest::Method::GET,
            &format!("/api/tenders/{tid}/ledger"),
            None,
        )
        .await;
    assert!(
        !public.to_string().contains("documents_obtained"),
        "{public}"
    );
    let finance = app.login("finance").await;
    let (_, holders) = finance
        .get(&format!("/api/tenders/{tid}/documents/holders"))
        .await;
    assert_eq!(holders.as_array().unwrap().len(), 2, "{holders}");

    // A question signed with the asker's name would tell every holder who asked when it
    // is answered: refused, nothing written.
    let register = app.rows("bid_register_events").await;
    let (status, v) = s1
        .post(
            &format!("/api/tenders/{tid}/questions"),
            json!({"text": "黄石楚禾信息技术有限公司询问:第1包交货期?"}),
        )
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "QUESTION_REVEALS_ASKER"),
        "{v}"
    );
    assert_eq!(app.rows("bid_register_events").await, register);

    // supplier1 asks; the agency sees the question, not who asked; the reply is due on
    // the 3rd working day.
    let (status, q) = s1
        .post(
            &format!("/api/tenders/{tid}/questions"),
            json!({"text": "第1包交货期能否延长至45日?"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{q}");
    assert_eq!(q["reply_due_at"], REPLY_DUE);
    let qid = q["id"].as_str().unwrap();
    let (_, seen) = agency.get(&format!("/api/tenders/{tid}/questions")).await;
    assert_eq!(seen[0]["text"], "第1包交货期能否延长至45日?");
    assert!(seen[0].get("asker_org_name").is_none(), "{seen}");
    assert!(!seen.to_string().contains("楚禾"), "{seen}");
    let (_, sup) = finance.get(&format!("/api/tenders/{tid}/questions")).await;
    assert!(
        sup[0]["asker_org_name"].as_str().unwrap().contains("楚禾"),
        "{sup}"
    );
    // supplier2 does not see an unanswered question of another.
    let (_, other) = s2.get(&format!("/api/tenders/{tid}/questions")).await;
    assert_eq!(other, json!([]));

    // An answer naming the asker is refused, nothing written; an anonymous one reaches
    // every holder.
    let ledger = app.rows("ledger_events").await;
    let answer = format!("/api/tenders/{tid}/questions/{qid}/answer");
    let (status, v) = agency
        .post(
            &answer,
            json!({"text": "关于黄石楚禾信息技术的提问:交货期不变。"}),
        )
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "ANSWER_REVEALS_ASKER"),
        "{v}"
    );
    assert_eq!(app.rows("ledger_events").await, ledger);
    let (status, v) = agency
        .post(
            &answer,
            json!({"text": "交货期不变,仍为合同签订后30日内。"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (_, other) = s2.get(&format!("/api/tenders/{tid}/questions")).await;
    assert_eq!(other[0]["answer"], "交货期不变,仍为合同签订后30日内。");
    assert_eq!(other[0]["mine"], false);
    assert!(!other.to_string().contains("楚禾"), "{other}");
    let (status, v) = agency.post(&answer, json!({"text": "再答"})).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ALREADY_ANSWERED"),
        "{v}"
    );
    // A supplier without the documents still reads nothing.
    let (status, _) = s3.get(&format!("/api/tenders/{tid}/questions")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // After the clarification deadline: no more questions.
    clock.set(T0 + 5 * 86_400_000);
    let s2 = app.login("supplier2").await;
    let (status, v) = s2
        .post(
            &format!("/api/tenders/{tid}/questions"),
            json!({"text": "还能问吗?"}),
        )
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "QUESTIONS_CLOSED"),
        "{v}"
    );
    // After the bid deadline the agency sees who obtained the documents.
    clock.set(T0 + 21 * 86_400_000);
    let agency = app.login("agency").await;
    let (status, holders) = agency
        .get(&format!("/api/tenders/{tid}/documents/holders"))
        .await;
    assert_eq!(status, StatusCode::OK, "{holders}");
    assert_eq!(holders.as_array().unwrap().len(), 2);
}

/// The documents from the template: the agency previews them while drafting, with the
/// template's warnings; a supplier reads them once obtained, without the warnings; the
/// publication event records their hash.
#[tokio::test]
async fn r_pol_1_documents_from_the_template_carry_the_policy_clauses() {
    let (app, _clock) = spawn_app_at(T0).await;
    let agency = app.login("agency").await;
    let mut body = app.tender_body("实验室家具采购", T0).await;
    // 123,456 yuan of goods, not reserved for SMEs: the template warns (R-POL-1).
    body["evaluation"] = json!({
        "method": "comprehensive", "price_weight_bp": 3000, "sme_rate_bp": 1000,
        "items": [{"name": "技术方案", "weight_bp": 7000}],
    });
    let (status, t) = agency.post("/api/tenders", body).await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let tid = t["id"].as_str().unwrap().to_string();
    let (status, doc) = agency.get(&format!("/api/tenders/{tid}/documents")).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert_eq!(doc["template"], "goods");
    let warned: Vec<&str> = doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["rule"].as_str().unwrap())
        .collect();
    assert_eq!(warned, ["R-POL-1"]);
    let text = doc.to_string();
    assert!(
        text.contains("对小型和微型企业的报价给予 10% 的扣除"),
        "{text}"
    );
    assert!(text.contains("不接受进口产品"), "{text}");
    assert!(text.contains("监狱企业、残疾人福利性单位视同小型、微型企业"));
    assert!(text.contains("实验室家具采购"));

    let (status, v) = agency
        .post(&format!("/api/tenders/{tid}/publish"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (_, ledger) = agency.get(&format!("/api/tenders/{tid}/ledger")).await;
    let published = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "tender_published")
        .unwrap()
        .clone();
    let hash = published["body"]["documents_sha256"].as_str().unwrap();
    assert_eq!(hash.len(), 64, "{published}");

    // A supplier reads them only once obtained, and never the agency's warnings.
    let s1 = app.login("supplier1").await;
    let (status, v) = s1.get(&format!("/api/tenders/{tid}/documents")).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::FORBIDDEN, "DOCUMENTS_NOT_OBTAINED"),
        "{v}"
    );
    s1.post(&format!("/api/tenders/{tid}/documents/obtain"), json!({}))
        .await;
    let (status, held) = s1.get(&format!("/api/tenders/{tid}/documents")).await;
    assert_eq!(status, StatusCode::OK, "{held}");
    assert_eq!(held["warnings"], json!([]));
    assert_eq!(held["sections"], doc["sections"]);
    // An expert is no reader of documents before the evaluation.
    let expert = app.login("expert1").await;
    let (status, _) = expert.get(&format!("/api/tenders/{tid}/documents")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
