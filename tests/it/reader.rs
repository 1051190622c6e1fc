//! Bid documents read in the evaluation room (#20): a PDF page by page as images, a search
//! that finds its page, plain text as it is; an expert never downloads the file; every
//! opening is logged for supervisors by seat.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{code, spawn_app_at, TestApp};

const T0: i64 = 1_796_086_800_000;

/// A PDF of one page per text (Helvetica, ASCII text).
pub fn pdf(pages: &[&str]) -> Vec<u8> {
    let n = pages.len();
    let mut objs: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {n} >>",
            (0..n)
                .map(|i| format!("{} 0 R", 3 + 2 * i))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    ];
    let font = 3 + 2 * n;
    for (i, text) in pages.iter().enumerate() {
        objs.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 300] /Contents {} 0 R \
             /Resources << /Font << /F1 {font} 0 R >> >> >>",
            4 + 2 * i
        ));
        let stream = format!("BT /F1 20 Tf 40 150 Td ({text}) Tj ET");
        objs.push(format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ));
    }
    objs.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into());
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objs.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A tender in evaluation whose three bids each carry a three-page PDF (and the first a
/// spreadsheet no browser shows), its panel seated. Returns the tender, the first bid's
/// PDF digest, and the seated experts' user names.
pub(crate) async fn with_pdfs(
    app: &TestApp,
    clock: &kaibiao::clock::ManualClock,
) -> (String, String, Vec<String>) {
    let t = crate::evaluation::demo_opening_tender(app).await;
    let tender = t["id"].as_str().unwrap().to_string();
    let deadline = t["bid_deadline"].as_i64().unwrap();
    let proposal = pdf(&[
        "Technical proposal",
        "Delivery within 30 days of signing",
        "Warranty: five years on site",
    ]);
    let sheet = b"PK\x03\x04 not really a spreadsheet".to_vec();
    let packages: Vec<Vec<(&str, &str, &[u8])>> = (0..3)
        .map(|i| {
            let mut p: Vec<(&str, &str, &[u8])> =
                vec![("技术方案.pdf", "application/pdf", proposal.as_slice())];
            if i == 0 {
                p.push((
                    "报价明细.xlsx",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    sheet.as_slice(),
                ));
            }
            p
        })
        .collect();
    crate::evaluation::bid_and_open_packages(
        app,
        clock,
        &tender,
        deadline,
        &[100_000_000, 105_000_000, 95_000_000],
        &packages,
    )
    .await;
    let experts = crate::mediapage::seat_panel(app, &tender).await;
    (tender, kaibiao::crypto::sha256_hex(&proposal), experts)
}

#[tokio::test]
async fn an_expert_reads_a_pdf_page_by_page_and_searches_it_and_each_opening_is_logged() {
    let (app, clock) = spawn_app_at(T0).await;
    let (tender, sha, experts) = with_pdfs(&app, &clock).await;
    let e1 = app.login(&experts[0]).await;
    let base = format!("/api/tenders/{tender}/evaluation/documents/{sha}");

    let (status, outline) = e1.get(&format!("{base}/outline")).await;
    assert_eq!(status, StatusCode::OK, "{outline}");
    assert_eq!(outline["kind"], "pdf");
    assert_eq!(outline["pages"], 3);
    assert_eq!(outline["name"], "技术方案.pdf");

    // A page is a PNG, shown inline and never cached; a page that is not there is refused.
    let r = e1
        .client
        .get(app.url(&format!("{base}/pages/2")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["cache-control"], "private, no-store");
    assert_eq!(r.headers()["content-disposition"], "inline");
    let png = r.bytes().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{:?}", &png[..8]);
    for bad in ["4", "0", "x"] {
        let (status, v) = e1.get(&format!("{base}/pages/{bad}")).await;
        assert_eq!(
            (status, code(&v)),
            (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION"),
            "{bad}: {v}"
        );
    }

    // The search finds the page.
    let (_, hits) = e1.get(&format!("{base}/search?q=WARRANTY")).await;
    assert_eq!(hits[0]["page"], 3, "{hits}");
    assert!(hits[0]["snippet"].as_str().unwrap().contains("five years"));
    let (_, none) = e1.get(&format!("{base}/search?q=penalty")).await;
    assert_eq!(none, json!([]));
    let (_, v) = e1.get(&format!("{base}/search?q=")).await;
    assert_eq!(code(&v), "VALIDATION");

    // The expert cannot download the file; a spreadsheet cannot be shown in the page.
    let (status, v) = e1.get(&base).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::FORBIDDEN, "DOWNLOAD_NOT_ALLOWED")
    );
    let (_, view) = e1.get(&format!("/api/tenders/{tender}/evaluation")).await;
    let xlsx = view["bids"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["documents"].as_array().cloned().unwrap_or_default())
        .find(|d| d["name"] == "报价明细.xlsx")
        .unwrap();
    let (status, v) = e1
        .get(&format!(
            "/api/tenders/{tender}/evaluation/documents/{}/outline",
            xlsx["sha256"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "NOT_VIEWABLE")
    );
    // An expert not on this panel reads nothing.
    let stranger = (1..=40)
        .map(|i| format!("expert{i}"))
        .find(|e| !experts.contains(e))
        .unwrap();
    let (_, v) = app
        .login(&stranger)
        .await
        .get(&format!("{base}/outline"))
        .await;
    assert_eq!(code(&v), "NOT_ON_PANEL");

    // Supervisors read who opened what, the expert by seat.
    let (status, reads) = app
        .login("oversight")
        .await
        .get(&format!("/api/tenders/{tender}/evaluation/document-reads"))
        .await;
    assert_eq!(status, StatusCode::OK, "{reads}");
    let reads = reads.as_array().unwrap();
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_eq!(reads[0]["name"], "技术方案.pdf");
    assert_eq!(reads[0]["role"], "expert");
    assert!(reads[0]["seat"].as_i64().is_some());
    let (_, v) = e1
        .get(&format!("/api/tenders/{tender}/evaluation/document-reads"))
        .await;
    assert_eq!(code(&v), "FORBIDDEN");
}

/// In the room: the expert opens the PDF, turns to the next page, searches, follows the
/// hit to its page; finance sees the opening logged.
#[tokio::test]
async fn in_the_room_an_expert_reads_a_pdf_page_and_finds_words_by_searching() {
    use crate::browser::{click_long, js, login, set_value, wait_long};
    use crate::hall::wait_text;

    let Some(driver) = crate::browser::browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, clock) = spawn_app_at(T0).await;
    let (tender, sha, experts) = with_pdfs(&app, &clock).await;
    login(c, &app, &experts[0]).await;
    c.goto(&app.url(&format!("/evaluation.html?tender={tender}")))
        .await
        .unwrap();
    click_long(c, &format!(".doc-read[data-sha256='{sha}']")).await;
    wait_text(c, "#reader-pageno", "第 1 / 3 页").await;
    wait_long(c, "#reader-page.is-loaded").await;
    let width = js(
        c,
        "return document.querySelector('#reader-page').naturalWidth",
        vec![],
    )
    .await;
    assert!(width.as_u64().unwrap() > 100, "a page drawn: {width}");
    click_long(c, "#reader-next").await;
    wait_long(c, "#reader-page[data-page='2'].is-loaded").await;
    set_value(c, "#reader-q", "warranty").await;
    click_long(c, "#reader-search").await;
    wait_text(c, "#reader-hit-count", "找到 1 处").await;
    click_long(c, ".reader-hit[data-page='3']").await;
    wait_long(c, "#reader-page[data-page='3'].is-loaded").await;
    wait_text(c, "#reader-pageno", "第 3 / 3 页").await;
    crate::browser::screenshots(c, "reader", "#doc-reader .reader-panel").await;
    click_long(c, "#reader-close").await;
    let (_, reads) = app
        .login("finance")
        .await
        .get(&format!("/api/tenders/{tender}/evaluation/document-reads"))
        .await;
    assert_eq!(reads.as_array().unwrap().len(), 1, "{reads}");
    driver.close().await;
}

/// A PDF reader runs in a child process under a memory limit: a document read within
/// the platform's limit, and the same reader refused the memory it needs to start when
/// the limit is set below it — the limit is applied, not only declared.
#[tokio::test]
async fn a_pdf_is_read_in_a_child_process_under_a_memory_limit() {
    if !crate::common::in_ci()
        && std::process::Command::new("pdftotext")
            .arg("-v")
            .output()
            .is_err()
    {
        eprintln!("skipped: no pdftotext");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.pdf");
    std::fs::write(
        &path,
        pdf(&["Delivery plan, page one", "Warranty, page two"]),
    )
    .unwrap();
    let text = kaibiao::pdf::text(&path, 10, 1 << 20).await.unwrap();
    assert!(
        text.contains("Delivery plan") && text.contains("Warranty"),
        "{text}"
    );
    let args: [&std::ffi::OsStr; 3] = ["-q".as_ref(), path.as_os_str(), "-".as_ref()];
    let starved = kaibiao::pdf::run_within("pdftotext", &args, 1 << 20, 4 << 20).await;
    assert_eq!(starved, Err(kaibiao::pdf::RunError::Failed));
    let fed = kaibiao::pdf::run_within("pdftotext", &args, 1 << 20, kaibiao::pdf::MEMORY).await;
    assert!(fed.is_ok());
}
