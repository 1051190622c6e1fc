//! Revealing: every bid of the opening is decrypted on the blocking pool, several at once,
//! and read out (唱标) as a ledger event in the opening's order. A result is recorded under
//! the tender's row lock only if that bid has none yet, so a revealing restarted after a
//! crash carries on where it stopped and reads nothing out twice.

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::Mutex;

use futures_util::StreamExt;
use sqlx::Row;

use super::repo::opening_row;
use super::rules::{quorum_after_reading, ReadOut};
use super::service::{load_shares, rebuild};
use super::types::Phase;
use crate::bid::package::{self, OpeningSheet};
use crate::crypto::{b64url, kb1, CryptoError};
use crate::error::{AppError, AppResult};
use crate::ledger::repo::append;
use crate::ledger::{BidInvalid, BidReadOut, InvalidCause, LedgerEvent, RevealingDone};
use crate::state::AppState;
use crate::tender::repo as tender_repo;

/// Tenders whose revealing runs in this process.
#[derive(Default)]
pub struct Running(Mutex<HashSet<String>>);

impl Running {
    fn claim(&self, id: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_string())
    }

    fn release(&self, id: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }
}

/// Starts revealing `tender_id` unless it is already running here or on another node.
pub fn ensure(state: &AppState, tender_id: &str) {
    if !state.runtime::<Running>().claim(tender_id) {
        return;
    }
    let state = state.clone();
    let id = tender_id.to_string();
    tokio::spawn(async move {
        // One node at a time reveals a tender (a second would find every bid done).
        let cluster = state.runtimes.get_arc::<crate::cluster::Cluster>();
        let claim = match cluster.claim(&format!("reveal:{id}")).await {
            Ok(Some(claim)) => claim,
            Ok(None) => {
                tracing::debug!(tender = %id, "revealing runs on another node");
                state.runtime::<Running>().release(&id);
                return;
            }
            Err(e) => {
                tracing::error!(tender = %id, error = ?e, "revealing: no claim");
                state.runtime::<Running>().release(&id);
                return;
            }
        };
        if let Err(e) = run(&state, &id).await {
            // Left in `revealing`: the scheduler tries again on its next tick.
            tracing::error!(tender = %id, error = ?e, "revealing failed");
        }
        claim.release().await;
        state.runtime::<Running>().release(&id);
    });
}

struct Pending {
    bid_id: String,
    lot_no: i64,
    bidder_org_id: String,
    bidder_name: String,
    decrypted: bool,
    kb: Option<String>,
    ciphertext_sha256: String,
}

/// A document opened, as `bid_read_out` lists it.
pub use crate::ledger::Document as DocumentOut;

enum Outcome {
    ReadOut {
        sheet: OpeningSheet,
        documents: Vec<DocumentOut>,
    },
    Invalid {
        code: String,
        message: String,
        /// revoked (撤销, the bidder's doing) | withdrawn (撤回, someone else's)
        deemed: &'static str,
    },
}

#[tracing::instrument(skip_all, fields(tender = %tender_id), err)]
async fn run(state: &AppState, tender_id: &str) -> AppResult<()> {
    if super::repo::phase(&state.db.pool, tender_id).await? != Some(Phase::Revealing) {
        return Ok(());
    }
    let rows = sqlx::query(
        "SELECT ob.bid_id, ob.lot_no, ob.bidder_org_id, o.name, ob.decrypt_status, ob.kb, \
         b.ciphertext_sha256 FROM opening_bids ob JOIN bids b ON b.id = ob.bid_id \
         JOIN organisations o ON o.id = ob.bidder_org_id \
         WHERE ob.tender_id = $1 AND ob.result IS NULL ORDER BY ob.position",
    )
    .bind(tender_id)
    .fetch_all(&state.db.pool)
    .await?;
    let pending: Vec<Pending> = rows
        .iter()
        .map(|r| -> sqlx::Result<Pending> {
            Ok(Pending {
                bid_id: r.try_get("bid_id")?,
                lot_no: r.try_get("lot_no")?,
                bidder_org_id: r.try_get("bidder_org_id")?,
                bidder_name: r.try_get("name")?,
                decrypted: r.try_get::<String, _>("decrypt_status")? == "decrypted",
                kb: r.try_get("kb")?,
                ciphertext_sha256: r
                    .try_get::<Option<String>, _>("ciphertext_sha256")?
                    .unwrap_or_default(),
            })
        })
        .collect::<Result<_, _>>()?;
    let total: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM opening_bids WHERE tender_id = $1 \
         AND (result IS NULL OR result <> 'lot_failed')",
    )
    .bind(tender_id)
    .fetch_one(&state.db.pool)
    .await?;
    let mut done = total - pending.len() as i64;

    let secret = if pending.iter().any(|p| p.decrypted) {
        let key = crate::tender::opening_key::view(&state.db.pool, tender_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let shares = load_shares(&state.db.pool, tender_id).await?;
        Some(rebuild(&shares, &key.public_key)?)
    } else {
        None
    };

    // Bids are read out one after another, a pause between two, each seen by all before
    // the next; opening the next goes on meanwhile.
    let pace = std::time::Duration::from_millis(state.config.opening.reading_interval_ms);
    let mut left = pending.len();
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut results = futures_util::stream::iter(pending)
        .map(|p| {
            let secret = secret.clone();
            async move {
                let outcome = open(state, &p, secret).await;
                (p, outcome)
            }
        })
        .buffered(parallel);
    while let Some((p, outcome)) = results.next().await {
        let outcome = outcome?;
        if record(state, tender_id, &p, outcome).await? {
            done += 1;
            state.rooms.notify(tender_id);
        }
        state
            .rooms
            .progress(tender_id, "revealing", done, total, &p.bid_id);
        left -= 1;
        if left > 0 && !pace.is_zero() {
            tokio::time::sleep(pace).await;
        }
    }
    drop(results);
    drop(secret);
    finish(state, tender_id).await?;
    state.rooms.notify(tender_id);
    Ok(())
}

async fn open(
    state: &AppState,
    p: &Pending,
    secret: Option<p256::SecretKey>,
) -> AppResult<Outcome> {
    let (Some(kb), Some(secret), true) = (p.kb.as_deref(), secret, p.decrypted) else {
        return Ok(Outcome::Invalid {
            code: "NOT_DECRYPTED".into(),
            message: "投标人未在解密时限内解密,视为撤销投标 / not decrypted by its bidder within the window: deemed revoked (R-OPEN-4)".into(),
            deemed: "revoked",
        });
    };
    let kb: [u8; 32] = b64url::decode(kb)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("stored kb malformed")))?;
    let Some(path) = state.blobs.file(&p.ciphertext_sha256).await? else {
        return Err(AppError::Internal(anyhow::anyhow!(
            "the sealed bid {} is not in the blob store",
            p.ciphertext_sha256
        )));
    };
    let hash = p.ciphertext_sha256.clone();
    // The documents, opened now, are kept for the evaluation committee (content-addressed
    // blobs named by the SHA-256s the reading-out records).
    let staging = state
        .config
        .shared()
        .join("uploads")
        .join(format!("reveal-{}", p.bid_id));
    let _ = tokio::fs::remove_dir_all(&staging).await;
    tokio::fs::create_dir_all(&staging)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let dir = staging.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let opened = open_file(&path, &kb, &secret, Some(&dir));
        match opened {
            Ok((sheet, documents)) => match check_sheet(&sheet) {
                Ok(()) => Outcome::ReadOut { sheet, documents },
                Err((code, message)) => Outcome::Invalid {
                    code: code.into(),
                    message,
                    deemed: "revoked",
                },
            },
            Err(e) => blame(&path, &hash, &e),
        }
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?;
    if let Outcome::ReadOut { documents, .. } = &outcome {
        for (i, d) in documents.iter().enumerate() {
            state
                .blobs
                .adopt_file(&staging.join(format!("{i}.doc")), &d.sha256)
                .await?;
        }
    }
    let _ = tokio::fs::remove_dir_all(&staging).await;
    Ok(outcome)
}

/// The tender's opening key, rebuilt from the custodians' shares the opening received,
/// for a later stage that opens containers sealed to it (a round's offers).
pub async fn tender_secret(state: &AppState, tender_id: &str) -> AppResult<p256::SecretKey> {
    let key = crate::tender::opening_key::view(&state.db.pool, tender_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let shares = load_shares(&state.db.pool, tender_id).await?;
    rebuild(&shares, &key.public_key)
}

/// Streams one container from disk through KB1 and the package reader; documents are
/// hashed, never held whole, and written to `store_dir/<i>.doc` when given (void unless
/// the whole container opens). (Public for the revealing benchmark.)
pub fn open_file(
    path: &std::path::Path,
    kb: &[u8; 32],
    secret: &p256::SecretKey,
    store_dir: Option<&std::path::Path>,
) -> Result<(OpeningSheet, Vec<DocumentOut>), CryptoError> {
    let io = |e: std::io::Error| CryptoError::Io(e.to_string());
    let mut file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let mut prefix = Vec::with_capacity(kb1::MAX_PREFIX_LEN);
    (&mut file)
        .take(kb1::MAX_PREFIX_LEN as u64)
        .read_to_end(&mut prefix)
        .map_err(io)?;
    let (header, header_bytes, offset) = kb1::parse_header(&prefix)?;
    kb1::check_length(&header, size - offset as u64)?;
    kb1::check_kb(&header, kb)?;
    let kt = kb1::unseal_kt(&header, secret)?;
    file.seek(SeekFrom::Start(offset as u64)).map_err(io)?;
    let reader = std::io::BufReader::with_capacity(header.segment_size as usize + 16, file);
    let reader = kb1::OpenReader::new(&header, &header_bytes, kb, &kt, reader)?;
    let mut out: Option<(usize, std::io::BufWriter<std::fs::File>)> = None;
    let (manifest, hashes) = package::read_package(reader, |i, bytes| {
        let Some(dir) = store_dir else {
            return Ok(());
        };
        if out.as_ref().is_none_or(|(n, _)| *n != i) {
            if let Some((_, mut w)) = out.take() {
                w.flush().map_err(io)?;
            }
            let f = std::fs::File::create(dir.join(format!("{i}.doc"))).map_err(io)?;
            out = Some((i, std::io::BufWriter::with_capacity(1 << 20, f)));
        }
        let (_, w) = out.as_mut().expect("opened above");
        w.write_all(bytes).map_err(io)
    })?;
    if let Some((_, mut w)) = out.take() {
        w.flush().map_err(io)?;
    }
    if let Some(dir) = store_dir {
        // Empty documents never reach the sink: give them their (empty) file too.
        for (i, d) in manifest.documents.iter().enumerate() {
            if d.size == 0 {
                std::fs::File::create(dir.join(format!("{i}.doc"))).map_err(io)?;
            }
        }
    }
    let documents = manifest
        .documents
        .iter()
        .zip(hashes)
        .map(|(d, sha256)| DocumentOut {
            name: d.name.clone(),
            size: d.size,
            media_type: d.media_type.clone(),
            sha256,
        })
        .collect();
    Ok((manifest.opening_sheet, documents))
}

/// What an opening sheet must be to be read out (R-OPEN-4), as
/// `docs/schema/kb1-manifest.schema.json` states it: a price above zero and within the
/// bound, a known enterprise size and special status, texts of bounded length without
/// control characters (a line feed only in the notes), products and shares in range. A
/// sheet that is not is the bidder's doing: the bid is invalid with this cause (naming the
/// field), and no price of it is read out or signed.
pub fn check_sheet(sheet: &OpeningSheet) -> Result<(), (&'static str, String)> {
    let max = crate::evaluation::scoring::MAX_PRICE_FEN;
    if sheet.total_price_fen <= 0 || sheet.total_price_fen > max {
        return Err((
            "SHEET_PRICE_INVALID",
            format!(
                "开标一览表的报价不是有效金额(须大于 0 且不超过 {} 元),视为撤销投标 / the sheet's price is not a usable amount (above 0, at most {}): deemed revoked (R-OPEN-4)",
                crate::money::Money(max),
                crate::money::Money(max)
            ),
        ));
    }
    match sheet_field_error(sheet, max) {
        None => Ok(()),
        Some(field) => Err((
            "SHEET_FIELD_INVALID",
            format!(
                "开标一览表的字段 {field} 无效(超出范围、过长或含控制字符),视为撤销投标 / the sheet's field {field} is out of range, too long or has control characters: deemed revoked (R-OPEN-4)"
            ),
        )),
    }
}

/// The first field of a sheet outside the schema's bounds (beyond the price).
fn sheet_field_error(sheet: &OpeningSheet, max_fen: i64) -> Option<String> {
    // `line`: no control character; `text`: a line feed allowed.
    let fits = |t: &str, min: usize, max: usize, newline: bool| {
        let n = t.chars().count();
        (min..=max).contains(&n) && !t.chars().any(|c| c.is_control() && !(newline && c == '\n'))
    };
    if !fits(&sheet.total_price_words, 0, 100, false) {
        return Some("total_price_words".into());
    }
    if !["large", "medium", "small", "micro"].contains(&sheet.enterprise_size.as_str()) {
        return Some("enterprise_size".into());
    }
    if !matches!(
        sheet.special_status.as_deref(),
        None | Some("prison" | "disability_welfare")
    ) {
        return Some("special_status".into());
    }
    if !fits(&sheet.notes, 0, 2000, true) {
        return Some("notes".into());
    }
    if !sheet
        .brand
        .as_deref()
        .is_none_or(|b| fits(b, 0, 200, false))
    {
        return Some("brand".into());
    }
    if sheet.products.len() > 1000 {
        return Some("products".into());
    }
    if let Some(i) = sheet
        .products
        .iter()
        .position(|p| !fits(&p.name, 1, 200, false) || !(0..=max_fen).contains(&p.cost_fen))
    {
        return Some(format!("products[{i}]"));
    }
    if sheet
        .consortium_small_micro_share_bp
        .is_some_and(|bp| bp > 10_000)
    {
        return Some("consortium_small_micro_share_bp".into());
    }
    None
}

/// Whose fault a failed opening is (R-OPEN-4): if the stored file no longer matches the
/// hash in its receipt, the platform's (withdrawn); otherwise the container was sealed
/// that way, the bidder's (revoked).
fn blame(path: &std::path::Path, hash: &str, e: &CryptoError) -> Outcome {
    let intact = std::fs::File::open(path)
        .and_then(|mut f| {
            use sha2::Digest;
            let mut h = sha2::Sha256::new();
            std::io::copy(&mut f, &mut h)?;
            Ok(hex::encode(h.finalize()) == hash)
        })
        .unwrap_or(false);
    let (message, _) = e.messages();
    if intact {
        Outcome::Invalid {
            code: e.code().to_string(),
            message: format!("投标文件无法解密({message}),视为撤销投标 / the bid does not open ({}): deemed revoked (R-OPEN-4)", e.code()),
            deemed: "revoked",
        }
    } else {
        Outcome::Invalid {
            code: "BLOB_DAMAGED".into(),
            message: "平台存储的投标文件缺失或与回执不符,视为撤回投标 / the stored bid is missing or does not match its receipt: deemed withdrawn (R-OPEN-4)".into(),
            deemed: "withdrawn",
        }
    }
}

/// Records one bid's result and its reading-out event, unless it already has one.
async fn record(
    state: &AppState,
    tender_id: &str,
    p: &Pending,
    outcome: Outcome,
) -> AppResult<bool> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    tender_repo::lock(&mut tx, tender_id).await?;
    let existing: Option<Option<String>> =
        sqlx::query_scalar("SELECT result FROM opening_bids WHERE bid_id = $1")
            .bind(&p.bid_id)
            .fetch_optional(&mut *tx)
            .await?;
    if !matches!(existing, Some(None)) {
        return Ok(false);
    }
    // (result, the column that holds its detail, that detail, the ledger event)
    let (result, column, detail, event) = match outcome {
        Outcome::ReadOut { sheet, documents } => {
            let sheet = serde_json::to_value(&sheet).map_err(anyhow::Error::from)?;
            let stored = crate::ledger::canonical_json(&sheet);
            let event = LedgerEvent::BidReadOut(BidReadOut {
                bid_id: p.bid_id.clone(),
                bidder_org_id: p.bidder_org_id.clone(),
                bidder_name: p.bidder_name.clone(),
                lot_no: p.lot_no,
                sheet,
                documents,
            });
            ("read_out", "sheet", stored, event)
        }
        Outcome::Invalid {
            code,
            message,
            deemed,
        } => {
            let cause = InvalidCause {
                code,
                message,
                deemed: deemed.to_string(),
            };
            let stored = serde_json::to_value(&cause)
                .map_err(anyhow::Error::from)?
                .to_string();
            let event = LedgerEvent::BidInvalid(BidInvalid {
                bid_id: p.bid_id.clone(),
                bidder_org_id: p.bidder_org_id.clone(),
                bidder_name: p.bidder_name.clone(),
                lot_no: p.lot_no,
                cause,
            });
            ("invalid", "cause", stored, event)
        }
    };
    sqlx::query(&format!(
        "UPDATE opening_bids SET result = $1, {column} = $2, revealed_at = $3 WHERE bid_id = $4"
    ))
    .bind(result)
    .bind(detail)
    .bind(now)
    .bind(&p.bid_id)
    .execute(&mut *tx)
    .await?;
    append(&mut tx, tender_id, now, "platform", &event).await?;
    tx.commit().await?;
    Ok(true)
}

/// After the last reading-out: each lot's quorum again, over the bids read out, the same
/// brand counted once (R-OPEN-2, R-OPEN-6); then the confirmation window (R-OPEN-5).
async fn finish(state: &AppState, tender_id: &str) -> AppResult<()> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    tender_repo::lock(&mut tx, tender_id).await?;
    let Some(o) = opening_row(&mut *tx, tender_id).await? else {
        return Ok(());
    };
    if o.phase != Phase::Revealing {
        return Ok(());
    }
    let left: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM opening_bids WHERE tender_id = $1 AND result IS NULL",
    )
    .bind(tender_id)
    .fetch_one(&mut *tx)
    .await?;
    if left > 0 {
        return Ok(());
    }
    let rows = sqlx::query(
        "SELECT lot_no, bidder_org_id, sheet FROM opening_bids \
         WHERE tender_id = $1 AND result = 'read_out'",
    )
    .bind(tender_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut read = Vec::new();
    for r in &rows {
        let sheet: Option<String> = r.try_get("sheet")?;
        read.push(ReadOut {
            lot_no: r.try_get("lot_no")?,
            bidder_org_id: r.try_get("bidder_org_id")?,
            brand: sheet
                .and_then(|s| serde_json::from_str::<OpeningSheet>(&s).ok())
                .and_then(|s| s.brand),
        });
    }
    let lots = quorum_after_reading(o.lots, &read);
    let confirm_ends = now + state.config.opening.confirm_window_mins * 60_000;
    sqlx::query(
        "UPDATE openings SET phase = $1, confirm_ends_at = $2, lots = $3 WHERE tender_id = $4",
    )
    .bind(Phase::Confirming.as_str())
    .bind(confirm_ends)
    .bind(serde_json::to_string(&lots).map_err(anyhow::Error::from)?)
    .bind(tender_id)
    .execute(&mut *tx)
    .await?;
    let event = LedgerEvent::RevealingDone(RevealingDone {
        lots,
        confirm_ends_at: confirm_ends,
    });
    append(&mut tx, tender_id, now, "platform", &event).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(price: i64) -> OpeningSheet {
        OpeningSheet {
            total_price_fen: price,
            total_price_words: "壹佰元整".into(),
            delivery_days: 30,
            warranty_months: 12,
            enterprise_size: "small".into(),
            special_status: None,
            notes: String::new(),
            brand: None,
            products: vec![],
            consortium_small_micro_share_bp: None,
        }
    }

    /// What the opening makes of a manifest's text: the same steps as `read_package` and
    /// the reading-out, in their order.
    fn verdict(manifest_json: &str) -> &'static str {
        let Ok(m) = serde_json::from_str::<package::Manifest>(manifest_json) else {
            return "PACKAGE_MALFORMED";
        };
        if package::check_documents(&m.documents).is_err() {
            return "PACKAGE_MALFORMED";
        }
        match check_sheet(&m.opening_sheet) {
            Ok(()) => "ok",
            Err((code, _)) => code,
        }
    }

    /// tests/vectors/manifest.json, shared with the independent client, which checks that
    /// the JSON Schema accepts exactly the manifests expected `ok`.
    #[test]
    fn r_open_4_manifest_vectors() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/manifest.json");
        let file: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let vectors = file["vectors"].as_array().unwrap();
        assert!(vectors.len() >= 40);
        for v in vectors {
            let name = v["name"].as_str().unwrap();
            let got = verdict(v["manifest_json"].as_str().unwrap());
            assert_eq!(got, v["expected"].as_str().unwrap(), "vector {name}");
        }
    }

    #[test]
    fn r_open_4_a_sheet_without_a_usable_price_is_not_read_out() {
        assert!(check_sheet(&sheet(10_000)).is_ok());
        for bad in [
            0,
            -5,
            i64::MAX,
            crate::evaluation::scoring::MAX_PRICE_FEN + 1,
        ] {
            assert_eq!(
                check_sheet(&sheet(bad)).unwrap_err().0,
                "SHEET_PRICE_INVALID"
            );
        }
        let mut s = sheet(10_000);
        s.enterprise_size = "huge".into();
        assert_eq!(check_sheet(&s).unwrap_err().0, "SHEET_FIELD_INVALID");
        let mut s = sheet(10_000);
        s.notes = "交货\0期".into();
        assert_eq!(check_sheet(&s).unwrap_err().0, "SHEET_FIELD_INVALID");
        s.notes = "第一行\n第二行".into();
        assert!(check_sheet(&s).is_ok());
    }
}
