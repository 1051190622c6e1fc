//! The bid package, the plaintext inside a KB1 container:
//! `u32be M || manifest JSON (M) || documents (sizes from the manifest) || u32be T ||
//! trailer JSON (T)`, the trailer holding the SHA-256 of the manifest bytes and of each
//! document. Written and read as streams: documents are never held whole.
//!
//! Also the amount in Chinese capital numerals (大写金额) that the opening sheet carries.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::crypto::{read_byte, read_full, sha256_hex, CryptoError};

/// Bounds on the two JSON parts, so a corrupt length cannot make a reader allocate
/// gigabytes.
pub const MAX_MANIFEST_LEN: usize = 1024 * 1024;
pub const MAX_TRAILER_LEN: usize = 1024 * 1024;
const CHUNK: usize = 64 * 1024;
/// At most this many documents in a package (docs/schema/kb1-manifest.schema.json).
pub const MAX_DOCUMENTS: usize = 1000;

/// The manifest's bounds on its documents, as the schema states them: at most
/// [`MAX_DOCUMENTS`], each name and media type 1 to 255 characters without a control
/// character.
pub fn check_documents(documents: &[DocumentEntry]) -> Result<(), String> {
    if documents.len() > MAX_DOCUMENTS {
        return Err(format!(
            "{} documents, at most {MAX_DOCUMENTS}",
            documents.len()
        ));
    }
    let line = |t: &str| (1..=255).contains(&t.chars().count()) && !t.chars().any(char::is_control);
    match documents.iter().position(|d| !line(&d.name) || !line(&d.media_type)) {
        Some(i) => Err(format!(
            "document {i}: name and media type must be 1 to 255 characters without control characters"
        )),
        None => Ok(()),
    }
}

/// 开标一览表: what is read out at the opening.
pub use crate::evaluation::Product;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningSheet {
    pub total_price_fen: i64,
    /// The amount in capital numerals as the bidder wrote it (see `amount_in_words`); by
    /// procurement practice it prevails if it disagrees with the figure.
    pub total_price_words: String,
    pub delivery_days: u32,
    pub warranty_months: u32,
    /// large | medium | small | micro
    pub enterprise_size: String,
    /// null | "prison" | "disability_welfare"
    pub special_status: Option<String>,
    pub notes: String,
    /// The brand offered (goods): bids naming the same brand in a lot count once for the
    /// quorum (R-OPEN-6). Absent when not applicable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// The products offered, for the domestic-product and small/micro-maker deductions
    /// (R-POL-3, R-POL-5). Absent when not applicable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<Product>,
    /// The share of the contract small/micro consortium members or subcontractors carry
    /// (R-POL-2), when the bid has such an agreement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consortium_small_micro_share_bp: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentEntry {
    pub name: String,
    pub size: u64,
    pub media_type: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub opening_sheet: OpeningSheet,
    pub documents: Vec<DocumentEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Trailer {
    documents_sha256: Vec<String>,
    manifest_sha256: String,
}

/// Writes a package: the manifest, each document streamed from its reader (which must
/// yield exactly the manifest's `size` bytes), then the trailer.
pub fn write_package(
    manifest: &Manifest,
    documents: Vec<Box<dyn Read + '_>>,
    mut out: impl Write,
) -> Result<(), CryptoError> {
    if documents.len() != manifest.documents.len() {
        return Err(CryptoError::InvalidArgument(format!(
            "{} document readers for {} manifest entries",
            documents.len(),
            manifest.documents.len()
        )));
    }
    check_documents(&manifest.documents).map_err(CryptoError::InvalidArgument)?;
    let m = serde_json::to_vec(manifest).expect("a manifest always serialises");
    if m.len() > MAX_MANIFEST_LEN {
        return Err(CryptoError::InvalidArgument("manifest over 1 MiB".into()));
    }
    out.write_all(&(m.len() as u32).to_be_bytes())?;
    out.write_all(&m)?;

    let mut buf = vec![0u8; CHUNK];
    let mut hashes = Vec::with_capacity(documents.len());
    for (i, (mut doc, entry)) in documents.into_iter().zip(&manifest.documents).enumerate() {
        let mut hasher = Sha256::new();
        let mut remaining = entry.size;
        while remaining > 0 {
            let want = remaining.min(CHUNK as u64) as usize;
            let k = read_full(&mut doc, &mut buf[..want])?;
            if k == 0 {
                return Err(CryptoError::InvalidArgument(format!(
                    "document {i} is shorter than its size"
                )));
            }
            hasher.update(&buf[..k]);
            out.write_all(&buf[..k])?;
            remaining -= k as u64;
        }
        if read_byte(&mut doc)?.is_some() {
            return Err(CryptoError::InvalidArgument(format!(
                "document {i} is longer than its size"
            )));
        }
        hashes.push(hex::encode(hasher.finalize()));
    }

    let trailer = Trailer {
        documents_sha256: hashes,
        manifest_sha256: sha256_hex(&m),
    };
    let t = serde_json::to_vec(&trailer).expect("a trailer always serialises");
    out.write_all(&(t.len() as u32).to_be_bytes())?;
    out.write_all(&t)?;
    out.flush()?;
    Ok(())
}

/// Reads a package from a decrypted stream (e.g. `kb1::OpenReader`), checking the manifest
/// and every document against the trailer and that nothing follows it. `sink(i, bytes)`
/// receives document `i` as it streams; if this returns an error, what the sink received
/// is void. Returns the manifest and the documents' hex SHA-256s.
pub fn read_package(
    mut input: impl Read,
    mut sink: impl FnMut(usize, &[u8]) -> Result<(), CryptoError>,
) -> Result<(Manifest, Vec<String>), CryptoError> {
    let malformed = |m: String| CryptoError::PackageMalformed(m);
    let m = read_part(&mut input, MAX_MANIFEST_LEN, "manifest")?;
    let manifest: Manifest =
        serde_json::from_slice(&m).map_err(|e| malformed(format!("manifest: {e}")))?;
    check_documents(&manifest.documents).map_err(|e| malformed(format!("manifest: {e}")))?;

    let mut buf = vec![0u8; CHUNK];
    let mut hashes = Vec::with_capacity(manifest.documents.len());
    for (i, entry) in manifest.documents.iter().enumerate() {
        let mut hasher = Sha256::new();
        let mut remaining = entry.size;
        while remaining > 0 {
            let want = remaining.min(CHUNK as u64) as usize;
            let k = read_full(&mut input, &mut buf[..want])?;
            if k == 0 {
                return Err(malformed(format!("document {i} ends early")));
            }
            hasher.update(&buf[..k]);
            sink(i, &buf[..k])?;
            remaining -= k as u64;
        }
        hashes.push(hex::encode(hasher.finalize()));
    }

    let t = read_part(&mut input, MAX_TRAILER_LEN, "trailer")?;
    let trailer: Trailer =
        serde_json::from_slice(&t).map_err(|e| malformed(format!("trailer: {e}")))?;
    // Reading past the trailer also makes a streaming opener verify the final segment.
    if read_byte(&mut input)?.is_some() {
        return Err(malformed("bytes after the trailer".into()));
    }
    if trailer.documents_sha256.len() != hashes.len() {
        return Err(malformed(format!(
            "trailer lists {} documents, manifest {}",
            trailer.documents_sha256.len(),
            hashes.len()
        )));
    }
    if trailer.manifest_sha256 != sha256_hex(&m) {
        return Err(CryptoError::PlaintextHashMismatch {
            what: "manifest".into(),
        });
    }
    if let Some(i) = (0..hashes.len()).find(|&i| trailer.documents_sha256[i] != hashes[i]) {
        return Err(CryptoError::PlaintextHashMismatch {
            what: format!("document {i}"),
        });
    }
    Ok((manifest, hashes))
}

/// `u32be len || len bytes`, with `len <= max`.
fn read_part(input: &mut impl Read, max: usize, what: &str) -> Result<Vec<u8>, CryptoError> {
    let mut len = [0u8; 4];
    if read_full(input, &mut len)? != 4 {
        return Err(CryptoError::PackageMalformed(format!(
            "package ends before the {what}"
        )));
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > max {
        return Err(CryptoError::PackageMalformed(format!(
            "{what} length {len} over the limit"
        )));
    }
    let mut bytes = vec![0u8; len];
    if read_full(input, &mut bytes)? != len {
        return Err(CryptoError::PackageMalformed(format!(
            "package ends inside the {what}"
        )));
    }
    Ok(bytes)
}

pub use crate::evaluation::words::amount_in_words;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_words() {
        let cases: &[(i64, &str)] = &[
            (0, "零元整"),
            (5, "伍分"),
            (50, "伍角整"),
            (55, "伍角伍分"),
            (100, "壹元整"),
            (102, "壹元零贰分"),
            (1000, "壹拾元整"),
            (1050, "壹拾元伍角整"),
            (123_456_789, "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"),
            (100_000_000, "壹佰万元整"),
            (1_000_500, "壹万零伍元整"),
            (10_070_000, "壹拾万零柒佰元整"),
            (10_700_000, "壹拾万柒仟元整"),
            (10_700_053, "壹拾万柒仟元伍角叁分"),
            (168_032, "壹仟陆佰捌拾元叁角贰分"),
            (1_640_902, "壹万陆仟肆佰零玖元零贰分"),
            (32_504, "叁佰贰拾伍元零肆分"),
            (100_000_000 * 100, "壹亿元整"),
            (1_000_000_000 * 100, "壹拾亿元整"),
            (100_000_005 * 100, "壹亿零伍元整"),
            (100_050_000 * 100, "壹亿零伍万元整"),
            (100_005_000 * 100, "壹亿零伍仟元整"),
            (101_000_000 * 100, "壹亿零壹佰万元整"),
            (120_000_000 * 100, "壹亿贰仟万元整"),
            (1_000_000_000_000 * 100, "壹万亿元整"),
            (1_000_000_000_000_000 * 100, "壹仟万亿元整"),
            (1_000_000_000_000_000_000, "壹亿亿元整"),
            (
                1_234_567_890_123 * 100 + 45,
                "壹万贰仟叁佰肆拾伍亿陆仟柒佰捌拾玖万零壹佰贰拾叁元肆角伍分",
            ),
            (-1050, "负壹拾元伍角整"),
            (
                i64::MAX,
                "玖亿贰仟贰佰叁拾叁万柒仟贰佰零叁亿陆仟捌佰伍拾肆万柒仟柒佰伍拾捌元零柒分",
            ),
        ];
        for (fen, words) in cases {
            assert_eq!(amount_in_words(*fen), *words, "{fen}");
        }
        // i64::MIN must not overflow.
        assert!(amount_in_words(i64::MIN).starts_with('负'));
    }

    fn sample_manifest(sizes: &[u64]) -> Manifest {
        Manifest {
            opening_sheet: OpeningSheet {
                total_price_fen: 123_456_789,
                total_price_words: amount_in_words(123_456_789),
                delivery_days: 30,
                warranty_months: 36,
                enterprise_size: "small".into(),
                special_status: None,
                notes: String::new(),
                brand: None,
                products: Vec::new(),
                consortium_small_micro_share_bp: None,
            },
            documents: sizes
                .iter()
                .enumerate()
                .map(|(i, &size)| DocumentEntry {
                    name: format!("文件{i}.pdf"),
                    size,
                    media_type: "application/pdf".into(),
                })
                .collect(),
        }
    }

    fn docs(sizes: &[u64]) -> Vec<Vec<u8>> {
        sizes
            .iter()
            .map(|&n| (0..n).map(|i| (i * 7 + n) as u8).collect())
            .collect()
    }

    fn write(manifest: &Manifest, docs: &[Vec<u8>]) -> Vec<u8> {
        let readers: Vec<Box<dyn Read>> = docs
            .iter()
            .map(|d| Box::new(&d[..]) as Box<dyn Read>)
            .collect();
        let mut out = Vec::new();
        write_package(manifest, readers, &mut out).unwrap();
        out
    }

    #[test]
    fn package_roundtrip_streams_documents() {
        for sizes in [&[][..], &[0][..], &[1, 200_000, 3][..]] {
            let manifest = sample_manifest(sizes);
            let documents = docs(sizes);
            let bytes = write(&manifest, &documents);
            let mut got: Vec<Vec<u8>> = vec![Vec::new(); sizes.len()];
            let (m, hashes) = read_package(&bytes[..], |i, b| {
                got[i].extend_from_slice(b);
                Ok(())
            })
            .unwrap();
            assert_eq!(m, manifest);
            assert_eq!(got, documents);
            let expected: Vec<String> = documents.iter().map(|d| sha256_hex(d)).collect();
            assert_eq!(hashes, expected);
        }
    }

    #[test]
    fn write_rejects_wrong_sizes() {
        let manifest = sample_manifest(&[4]);
        for doc in [vec![1u8, 2, 3], vec![1, 2, 3, 4, 5]] {
            let readers: Vec<Box<dyn Read>> = vec![Box::new(&doc[..])];
            let err = write_package(&manifest, readers, Vec::new()).unwrap_err();
            assert_eq!(err.code(), "INVALID_ARGUMENT");
        }
        assert_eq!(
            write_package(&manifest, vec![], Vec::new())
                .unwrap_err()
                .code(),
            "INVALID_ARGUMENT"
        );
    }

    #[test]
    fn read_detects_tampering() {
        let manifest = sample_manifest(&[10, 20]);
        let bytes = write(&manifest, &docs(&[10, 20]));
        let m_len = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
        let read = |b: &[u8]| {
            read_package(b, |_, _| Ok(()))
                .map(|_| ())
                .unwrap_err()
                .code()
        };

        // A flipped document byte: its hash no longer matches.
        let mut doc_flip = bytes.clone();
        doc_flip[4 + m_len + 15] ^= 1;
        assert_eq!(
            read_package(&doc_flip[..], |_, _| Ok(())).unwrap_err(),
            CryptoError::PlaintextHashMismatch {
                what: "document 1".into()
            }
        );
        // Manifest edited in place (a space for a digit keeps the JSON valid).
        let text = String::from_utf8(bytes[4..4 + m_len].to_vec()).unwrap();
        let edited = text.replacen("\"delivery_days\":30", "\"delivery_days\":31", 1);
        let mut m_edit = bytes.clone();
        m_edit[4..4 + m_len].copy_from_slice(edited.as_bytes());
        assert_eq!(
            read_package(&m_edit[..], |_, _| Ok(())).unwrap_err(),
            CryptoError::PlaintextHashMismatch {
                what: "manifest".into()
            }
        );
        // Truncated, extended, garbage.
        assert_eq!(read(&bytes[..bytes.len() - 1]), "PACKAGE_MALFORMED");
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(read(&longer), "PACKAGE_MALFORMED");
        assert_eq!(read(&[]), "PACKAGE_MALFORMED");
        assert_eq!(read(&[0xff, 0xff, 0xff, 0xff]), "PACKAGE_MALFORMED");
        assert_eq!(read(&[0, 0, 0, 2, b'{', b'}']), "PACKAGE_MALFORMED");
        // The sink's error is passed through.
        let err =
            read_package(&bytes[..], |_, _| Err(CryptoError::Io("disk full".into()))).unwrap_err();
        assert_eq!(err.code(), "IO");
    }
}
