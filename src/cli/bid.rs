//! `kaibiao bid seal|submit|status|withdraw`: a bid sealed on this machine (nothing
//! readable leaves it), uploaded with resume after a dropped connection, and a receipt
//! checked against the platform CA pinned at `keys init`.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::client::{api_error, Client};
use crate::bid::package::{self, DocumentEntry, Manifest, OpeningSheet};
use crate::bid::personnel;
use crate::bid::types::SignedReceipt;
use crate::crypto::kb1::{self, SealParams};
use crate::money::Money;

/// The opening sheet (开标一览表) as the supplier writes it, in TOML or JSON.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SheetFile {
    /// Total price in yuan, e.g. "1234567.89" (or give `total_price_fen`).
    pub total_price: Option<String>,
    pub total_price_fen: Option<i64>,
    pub delivery_days: u32,
    pub warranty_months: u32,
    pub enterprise_size: String,
    #[serde(default)]
    pub special_status: Option<String>,
    #[serde(default)]
    pub notes: String,
    /// The brand offered, for goods (R-OPEN-6).
    #[serde(default)]
    pub brand: Option<String>,
    /// The products offered (R-POL-3, R-POL-5): name, cost_fen, domestic, made_by_small_micro.
    #[serde(default)]
    pub products: Vec<crate::bid::package::Product>,
    #[serde(default)]
    pub consortium_small_micro_share_bp: Option<u32>,
}

impl SheetFile {
    pub fn read(path: &Path) -> anyhow::Result<OpeningSheet> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the opening sheet {}", path.display()))?;
        let s: SheetFile = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text)?
        } else {
            toml::from_str(&text)?
        };
        let fen = match (&s.total_price, s.total_price_fen) {
            (Some(y), None) => Money::parse_yuan(y)
                .context("total_price: a yuan amount with at most two decimals")?
                .fen(),
            (None, Some(f)) => f,
            _ => bail!("give exactly one of total_price (yuan) or total_price_fen"),
        };
        anyhow::ensure!(fen > 0, "the total price must be positive");
        anyhow::ensure!(
            ["large", "medium", "small", "micro"].contains(&s.enterprise_size.as_str()),
            "enterprise_size: large, medium, small or micro"
        );
        Ok(OpeningSheet {
            total_price_fen: fen,
            total_price_words: package::amount_in_words(fen),
            delivery_days: s.delivery_days,
            warranty_months: s.warranty_months,
            enterprise_size: s.enterprise_size,
            special_status: s.special_status,
            notes: s.notes,
            brand: s.brand.filter(|b| !b.trim().is_empty()),
            products: s.products,
            consortium_small_micro_share_bp: s.consortium_small_micro_share_bp,
        })
    }
}

/// What `seal` leaves beside the container for `submit`.
#[derive(Debug, Serialize, Deserialize)]
pub struct SealedFile {
    pub server: String,
    pub tender_id: String,
    pub bid_id: String,
    pub lot_no: u32,
    pub size: u64,
    pub sha256: String,
}

fn sidecar(file: &Path, suffix: &str) -> PathBuf {
    let mut p = file.as_os_str().to_owned();
    p.push(suffix);
    p.into()
}

/// Writes through to `inner`, hashing and counting.
struct HashingWriter<W: Write> {
    inner: W,
    hash: Sha256,
    len: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Seals `sheet` and `docs` for `start` (the server's answer to starting a bid) into
/// `out`, streaming: documents are read once, in pieces. Returns (size, sha256).
pub fn seal_to_file(
    start: &Value,
    sheet: OpeningSheet,
    docs: &[PathBuf],
    out: &Path,
) -> anyhow::Result<(u64, String)> {
    let mut entries = Vec::new();
    for d in docs {
        let meta = std::fs::metadata(d).with_context(|| format!("reading {}", d.display()))?;
        let name = d
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let media_type = if personnel::is_declaration(&name, "") {
            personnel::MEDIA_TYPE.to_string()
        } else {
            mime_guess::from_path(d).first_or_octet_stream().to_string()
        };
        entries.push(DocumentEntry {
            name,
            size: meta.len(),
            media_type,
        });
    }
    let manifest = Manifest {
        opening_sheet: sheet,
        documents: entries,
    };
    let field = |k: &str| {
        start[k]
            .as_str()
            .map(str::to_string)
            .with_context(|| format!("{k} missing"))
    };
    let bidder = B64.decode(field("bidder_key")?)?;
    let tender = B64.decode(field("tender_key")?)?;
    let (tender_id, bidder_org_id, bid_id) = (
        field("tender_id")?,
        field("bidder_org_id")?,
        field("bid_id")?,
    );
    let params = SealParams {
        tender_id: &tender_id,
        lot_no: start["lot_no"].as_u64().context("lot_no")? as u32,
        bidder_org_id: &bidder_org_id,
        bid_id: &bid_id,
        bidder_public_sec1: &bidder,
        tender_public_sec1: &tender,
        segment_size: start["segment_size"].as_u64().unwrap_or(1 << 20) as u32,
    };
    // The package is written straight into the sealer: documents are read once, in
    // pieces, and no plaintext touches the disk.
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let hashing = HashingWriter {
        inner: std::io::BufWriter::new(file),
        hash: Sha256::new(),
        len: 0,
    };
    let mut sealer = kb1::SealWriter::new(&params, hashing)?;
    let mut readers: Vec<Box<dyn Read>> = Vec::new();
    for d in docs {
        readers.push(Box::new(std::io::BufReader::new(std::fs::File::open(d)?)));
    }
    package::write_package(&manifest, readers, &mut sealer)?;
    let mut w = sealer.finish()?;
    w.flush()?;
    Ok((w.len, hex::encode(w.hash.finalize())))
}

#[allow(clippy::too_many_arguments)]
pub async fn seal(
    server: &str,
    user: &str,
    key_file: &Path,
    tender: &str,
    lot: u32,
    sheet: &Path,
    docs: &[PathBuf],
    out: &Path,
) -> anyhow::Result<()> {
    let sheet = SheetFile::read(sheet)?;
    // A personnel declaration that would not be read after the opening is a mistake to
    // say now, not a warning silently missing later.
    for d in docs.iter().filter(|d| {
        d.file_name()
            .is_some_and(|n| personnel::is_declaration(&n.to_string_lossy(), ""))
    }) {
        let bytes = std::fs::read(d).with_context(|| format!("reading {}", d.display()))?;
        if let Err(why) = personnel::check(&bytes) {
            bail!(
                "{} is not a personnel declaration (docs/bid-format.md): {why}",
                d.display()
            );
        }
    }
    let (_, _, my_encryption) = crate::pki::keyfile::public_part(
        &std::fs::read_to_string(key_file)
            .with_context(|| format!("reading {}", key_file.display()))?,
    )?;
    let password = super::secret(
        "KAIBIAO_PASSWORD",
        &format!("{user} 的登录密码 / password: "),
    )?;
    let client = Client::login(server, user, &password, "kaibiao bid seal").await?;
    let announcement: Value = client
        .call(Method::GET, &format!("/api/announcements/{tender}"), None)
        .await?;
    let fingerprint = hex::encode(Sha256::digest(format!(
        "{}|{}",
        std::env::var("HOSTNAME").unwrap_or_default(),
        B64.encode(&my_encryption)
    )));
    let meta: Vec<Value> = docs
        .iter()
        .map(|d| {
            let m = std::fs::metadata(d).ok();
            json!({
                "name": d.file_name().map(|n| n.to_string_lossy().into_owned()),
                "size": m.as_ref().map(|m| m.len()),
                "modified": m.and_then(|m| m.modified().ok())
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_secs()),
                "tool": concat!("kaibiao-cli/", env!("CARGO_PKG_VERSION")),
            })
        })
        .collect();
    // A bid starts from the documents: obtain them (获取采购文件; again is the same answer).
    let _: Value = client
        .call(
            Method::POST,
            &format!("/api/tenders/{tender}/documents/obtain"),
            Some(json!({})),
        )
        .await?;
    let start: Value = client
        .call(
            Method::POST,
            &format!("/api/tenders/{tender}/bids"),
            Some(json!({"lot_no": lot, "device_fingerprint": fingerprint, "documents_meta": meta})),
        )
        .await?;
    // Seal only to keys we can vouch for: our own, and the tender key announced publicly.
    if start["bidder_key"].as_str() != Some(B64.encode(&my_encryption).as_str()) {
        bail!(
            "the server named an encryption key that is not in {}",
            key_file.display()
        );
    }
    if start["tender_key"] != announcement["opening_key"]["public_key"] {
        bail!("the tender key differs from the one in the announcement");
    }
    let out_path = out.to_path_buf();
    let docs = docs.to_vec();
    let start2 = start.clone();
    let (size, sha256) =
        tokio::task::spawn_blocking(move || seal_to_file(&start2, sheet, &docs, &out_path))
            .await??;
    let sealed = SealedFile {
        server: server.to_string(),
        tender_id: tender.to_string(),
        bid_id: start["bid_id"].as_str().unwrap_or_default().to_string(),
        lot_no: lot,
        size,
        sha256: sha256.clone(),
    };
    std::fs::write(
        sidecar(out, ".bid.json"),
        serde_json::to_vec_pretty(&sealed)?,
    )?;
    println!(
        "已加密 / sealed: {} ({size} bytes, SHA-256 {sha256}), bid {}",
        out.display(),
        sealed.bid_id
    );
    println!("下一步 / next: kaibiao bid submit --file {}", out.display());
    Ok(())
}

pub async fn submit(
    user: &str,
    file: &Path,
    key_file: Option<&Path>,
    chunk_mib: usize,
) -> anyhow::Result<()> {
    let sealed: SealedFile = serde_json::from_slice(
        &std::fs::read(sidecar(file, ".bid.json"))
            .context("no .bid.json beside the file: run `kaibiao bid seal` first")?,
    )?;
    let password = super::secret(
        "KAIBIAO_PASSWORD",
        &format!("{user} 的登录密码 / password: "),
    )?;
    let client = Client::login(&sealed.server, user, &password, "kaibiao bid submit").await?;
    let bid_path = format!("/api/bids/{}", sealed.bid_id);
    let mut f = std::fs::File::open(file)?;
    let chunk = chunk_mib.clamp(1, 16) << 20;
    let (mut failures, mut lost) = (0, 0);
    let done: Value = loop {
        let state: Value = match client.call(Method::GET, &bid_path, None).await {
            Ok(s) => s,
            Err(e) if api_error(&e).is_none() && failures < 8 => {
                failures += 1;
                eprintln!("连接中断,重试 / connection lost, retrying: {e:#}");
                tokio::time::sleep(std::time::Duration::from_secs(failures)).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        // A bid already submitted (an earlier run) gets its receipt again from "complete".
        let mut received = match state["status"].as_str() {
            Some("submitted") => sealed.size,
            _ => state["received"].as_u64().unwrap_or(0),
        };
        while received < sealed.size {
            let n = chunk.min((sealed.size - received) as usize);
            let mut buf = vec![0u8; n];
            f.seek(SeekFrom::Start(received))?;
            f.read_exact(&mut buf)?;
            match client
                .put_bytes::<Value>(&format!("{bid_path}/content?offset={received}"), buf)
                .await
            {
                Ok(v) => {
                    received = v["received"].as_u64().unwrap_or(received + n as u64);
                    failures = 0;
                    eprintln!(
                        "上传 / uploaded {:>5.1}%  ({received}/{} bytes)",
                        received as f64 * 100.0 / sealed.size.max(1) as f64,
                        sealed.size
                    );
                }
                Err(e) => match api_error(&e) {
                    Some(a) if a.code == "UPLOAD_OFFSET" => {
                        received = a.body["received"].as_u64().unwrap_or(0);
                    }
                    Some(_) => return Err(e),
                    None if failures < 8 => {
                        failures += 1;
                        eprintln!("连接中断,续传 / connection lost, resuming: {e:#}");
                        tokio::time::sleep(std::time::Duration::from_secs(failures)).await;
                        break;
                    }
                    None => return Err(e),
                },
            }
        }
        if received < sealed.size {
            continue;
        }
        let complete = json!({"size": sealed.size, "sha256": sealed.sha256});
        match client
            .call(
                Method::POST,
                &format!("{bid_path}/complete"),
                Some(complete),
            )
            .await
        {
            Ok(done) => break done,
            // Bytes the server had counted are no longer in its store: sent again from
            // where it says they start.
            Err(e) if lost < 3 && api_error(&e).is_some_and(|a| a.code == "UPLOAD_INCOMPLETE") => {
                lost += 1;
                eprintln!("服务器缺少部分已上传内容,从断点重传 / the server lacks part of the upload: {e:#}");
            }
            Err(e) => return Err(e),
        }
    };
    let receipt: SignedReceipt =
        serde_json::from_value(done["receipt"].clone()).context("no receipt in the answer")?;
    let ca_pem = match key_file.map(super::keys::ca_path).filter(|p| p.exists()) {
        Some(p) => std::fs::read_to_string(p)?,
        None => {
            let certs: Value = client
                .call(Method::GET, "/api/pki/certificates", None)
                .await?;
            certs["ca_pem"].as_str().unwrap_or_default().to_string()
        }
    };
    let ca_der = {
        use rustls::pki_types::pem::PemObject;
        rustls::pki_types::CertificateDer::from_pem_slice(ca_pem.as_bytes())
            .map_err(|e| anyhow::anyhow!("CA certificate: {e:?}"))?
            .to_vec()
    };
    let now = chrono::Utc::now().timestamp_millis();
    if !crate::bid::service::verify_receipt(&receipt, &ca_der, now) {
        bail!("the receipt's signature does not verify against the platform CA");
    }
    if receipt.receipt.ciphertext_sha256 != sealed.sha256 || receipt.receipt.size != sealed.size {
        bail!("the receipt names other bytes than the file sent");
    }
    std::fs::write(
        sidecar(file, ".receipt.json"),
        serde_json::to_vec_pretty(&receipt)?,
    )?;
    println!(
        "已递交 / submitted: bid {} at {} (北京时间), SHA-256 {}; 回执 / receipt: {}",
        receipt.receipt.bid_id,
        receipt.receipt.received_at_cst,
        receipt.receipt.ciphertext_sha256,
        sidecar(file, ".receipt.json").display()
    );
    Ok(())
}

pub async fn status(server: &str, user: &str, bid: &str) -> anyhow::Result<()> {
    let password = super::secret(
        "KAIBIAO_PASSWORD",
        &format!("{user} 的登录密码 / password: "),
    )?;
    let client = Client::login(server, user, &password, "kaibiao bid status").await?;
    let v: Value = client
        .call(Method::GET, &format!("/api/bids/{bid}"), None)
        .await?;
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(())
}

pub async fn withdraw(server: &str, user: &str, bid: &str) -> anyhow::Result<()> {
    let password = super::secret(
        "KAIBIAO_PASSWORD",
        &format!("{user} 的登录密码 / password: "),
    )?;
    let client = Client::login(server, user, &password, "kaibiao bid withdraw").await?;
    let v: Value = client
        .call(
            Method::POST,
            &format!("/api/bids/{bid}/withdraw"),
            Some(json!({})),
        )
        .await?;
    println!(
        "已撤回 / withdrawn: bid {} ({})",
        bid,
        v["status"].as_str().unwrap_or("")
    );
    Ok(())
}

/// At the opening: unseals `kb` of the caller's bid with the key file, on this device, and
/// sends it within the decryption window (docs/opening.md).
pub async fn decrypt(server: &str, user: &str, key_file: &Path, bid: &str) -> anyhow::Result<()> {
    let keys = super::keys::open_key_file(key_file)?;
    let password = super::secret(
        "KAIBIAO_PASSWORD",
        &format!("{user} 的登录密码 / password: "),
    )?;
    let client = Client::login(server, user, &password, "kaibiao bid decrypt").await?;
    let v: Value = client
        .call(
            Method::POST,
            &format!("/api/bids/{bid}/decryption"),
            Some(serde_json::json!({})),
        )
        .await?;
    let header: kb1::Header = serde_json::from_value(v["header"].clone())?;
    let kb = zeroize::Zeroizing::new(
        kb1::unseal_kb(&header, &keys.encryption)
            .map_err(|e| anyhow::anyhow!("your key file does not open this bid ({})", e.code()))?,
    );
    client
        .call::<Value>(
            Method::POST,
            &format!("/api/tenders/{}/opening", header.tender_id),
            Some(json!({"type": "decrypt", "bid_id": bid, "kb": crate::crypto::b64url::encode(&*kb)})),
        )
        .await?;
    println!("已解密 / decrypted: bid {bid}");
    Ok(())
}
