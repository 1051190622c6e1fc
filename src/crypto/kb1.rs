//! The KB1 sealed-bid container (docs/bid-format.md is normative): header parsing and
//! validation, length checks the server can make without keys, the streaming sealer, the
//! unsealing of `kb`/`kt`, and the streaming opener.
//!
//! Layout: `"KAIBIAO1" || u32be(N) || header (N bytes of canonical JSON) || segments`.
//! Segment `i` is AES-256-GCM under `DEK = kb XOR kt` with nonce
//! `nonce_prefix || u32be(i) || last` and AAD `SHA-256(header) || u32be(i)` (see `segment`).

use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::hpke::{self, Sealed};
use super::keys;
use super::segment::{SegmentCipher, TAG_LEN};
use super::{read_byte, read_full, CryptoError};

pub const MAGIC: &[u8; 8] = b"KAIBIAO1";
pub const SUITE: &str = "KB1";
pub const VERSION: u32 = 1;
/// Largest header `N`; `parse_header` never needs more than `MAX_PREFIX_LEN` bytes.
pub const MAX_HEADER_LEN: usize = 65536;
pub const MAX_PREFIX_LEN: usize = 12 + MAX_HEADER_LEN;
pub const MIN_SEGMENT_SIZE: u32 = 64;
pub const MAX_SEGMENT_SIZE: u32 = 16 * 1024 * 1024;
pub const DEFAULT_SEGMENT_SIZE: u32 = 1024 * 1024;
/// HPKE `info` for the bidder's half and the tender's half of the data key.
pub const INFO_KB: &[u8] = b"kaibiao/KB1/kb";
pub const INFO_KT: &[u8] = b"kaibiao/KB1/kt";

const ENC_LEN: usize = 65;
const SEALED_CT_LEN: usize = 32 + 16;
/// A segment counter is a u32.
const MAX_SEGMENTS: u64 = 1 << 32;

/// The container header. Fields are declared in sorted order (as is `Sealed`), so
/// `serde_json` writes the canonical form directly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub bid_id: String,
    /// Key id (hex SHA-256 of SEC1) of the bidder's encryption key `kb` is sealed to.
    pub bidder_key: String,
    pub bidder_org_id: String,
    pub kb_sealed: Sealed,
    /// Hex SHA-256 of `kb`: the server checks a presented `kb` against it at the opening.
    pub kb_sha256: String,
    pub kt_sealed: Sealed,
    pub lot_no: u32,
    #[serde(with = "super::b64url")]
    pub nonce_prefix: [u8; 7],
    pub segment_size: u32,
    pub suite: String,
    pub tender_id: String,
    /// Key id of the tender's opening public key `kt` is sealed to.
    pub tender_key: String,
    pub version: u32,
}

impl Header {
    /// Canonical JSON: compact, keys sorted by their UTF-8 bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a header always serialises")
    }

    /// HPKE AAD of both sealed halves: `tender_id || "\n" || bid_id`.
    pub fn sealed_aad(&self) -> Vec<u8> {
        sealed_aad(&self.tender_id, &self.bid_id)
    }

    /// Checks the fields a server knows independently (HEADER_MISMATCH names the first
    /// that differs).
    pub fn check(&self, expect: &Expect<'_>) -> Result<(), CryptoError> {
        let pairs: [(&'static str, bool); 6] = [
            ("tender_id", self.tender_id == expect.tender_id),
            ("lot_no", self.lot_no == expect.lot_no),
            ("bidder_org_id", self.bidder_org_id == expect.bidder_org_id),
            ("bid_id", self.bid_id == expect.bid_id),
            ("tender_key", self.tender_key == expect.tender_key),
            ("bidder_key", self.bidder_key == expect.bidder_key),
        ];
        match pairs.iter().find(|(_, ok)| !ok) {
            Some((field, _)) => Err(CryptoError::HeaderMismatch { field }),
            None => Ok(()),
        }
    }

    /// Everything checkable without keys, beyond what serde already enforced.
    fn validate(&self) -> Result<(), CryptoError> {
        if self.suite != SUITE || self.version != VERSION {
            return Err(CryptoError::ContainerSuite);
        }
        let bad = |what: &str| Err(CryptoError::ContainerHeader(what.to_string()));
        if let Err(what) = check_ids(&self.tender_id, &self.bid_id, &self.bidder_org_id) {
            return bad(what);
        }
        for (name, v) in [
            ("bidder_key", &self.bidder_key),
            ("tender_key", &self.tender_key),
            ("kb_sha256", &self.kb_sha256),
        ] {
            if !super::is_hex64(v) {
                return bad(&format!("{name} is not 64 lower-case hex characters"));
            }
        }
        for (name, s) in [
            ("kb_sealed", &self.kb_sealed),
            ("kt_sealed", &self.kt_sealed),
        ] {
            if s.enc.len() != ENC_LEN || s.ct.len() != SEALED_CT_LEN {
                return bad(&format!("{name} has wrong sizes (enc 65, ct 48 bytes)"));
            }
            if keys::parse_public(&s.enc).is_err() {
                return bad(&format!("{name}.enc is not a P-256 point"));
            }
        }
        if !valid_segment_size(self.segment_size) {
            return bad("segment_size is not a power of two in [64, 16 MiB]");
        }
        Ok(())
    }
}

/// What a server expects a container to be for (see `Header::check`). Keys are key ids.
#[derive(Clone, Copy, Debug)]
pub struct Expect<'a> {
    pub tender_id: &'a str,
    pub lot_no: u32,
    pub bidder_org_id: &'a str,
    pub bid_id: &'a str,
    pub tender_key: &'a str,
    pub bidder_key: &'a str,
}

fn sealed_aad(tender_id: &str, bid_id: &str) -> Vec<u8> {
    let mut a = Vec::with_capacity(tender_id.len() + 1 + bid_id.len());
    a.extend_from_slice(tender_id.as_bytes());
    a.push(b'\n');
    a.extend_from_slice(bid_id.as_bytes());
    a
}

/// Ids are non-empty; `tender_id` and `bid_id` hold no newline, which would make the AAD
/// `tender_id || "\n" || bid_id` ambiguous.
fn check_ids(tender_id: &str, bid_id: &str, bidder_org_id: &str) -> Result<(), &'static str> {
    if tender_id.is_empty() || bid_id.is_empty() || bidder_org_id.is_empty() {
        return Err("an id is empty");
    }
    if tender_id.contains('\n') || bid_id.contains('\n') {
        return Err("tender_id or bid_id contains a newline");
    }
    Ok(())
}

fn valid_segment_size(s: u32) -> bool {
    s.is_power_of_two() && (MIN_SEGMENT_SIZE..=MAX_SEGMENT_SIZE).contains(&s)
}

/// Parses magic + length + header from the start of a container (at most
/// `MAX_PREFIX_LEN` bytes are needed; more are ignored). Returns the header, its exact
/// bytes (hashed into every segment's AAD) and the offset where segments start.
pub fn parse_header(prefix: &[u8]) -> Result<(Header, Vec<u8>, usize), CryptoError> {
    if prefix.len() < MAGIC.len() {
        return Err(if MAGIC.starts_with(prefix) {
            CryptoError::ContainerTruncated
        } else {
            CryptoError::ContainerMagic
        });
    }
    if &prefix[..8] != MAGIC {
        return Err(CryptoError::ContainerMagic);
    }
    let Some(len) = prefix.get(8..12) else {
        return Err(CryptoError::ContainerTruncated);
    };
    let n = u32::from_be_bytes(len.try_into().expect("4 bytes")) as usize;
    if n == 0 || n > MAX_HEADER_LEN {
        return Err(CryptoError::ContainerHeader(format!(
            "header length {n} out of range"
        )));
    }
    let end = 12 + n;
    let Some(bytes) = prefix.get(12..end) else {
        return Err(CryptoError::ContainerTruncated);
    };

    // Suite and version first, leniently, so a future suite's header with other fields is
    // reported as CONTAINER_SUITE rather than as a malformed KB1 header.
    #[derive(Deserialize)]
    struct Probe {
        suite: serde_json::Value,
        version: serde_json::Value,
    }
    let probe: Probe =
        serde_json::from_slice(bytes).map_err(|e| CryptoError::ContainerHeader(e.to_string()))?;
    match (&probe.suite, &probe.version) {
        (serde_json::Value::String(s), serde_json::Value::Number(v)) => {
            if s != SUITE || v.as_u64() != Some(u64::from(VERSION)) {
                return Err(CryptoError::ContainerSuite);
            }
        }
        _ => {
            return Err(CryptoError::ContainerHeader(
                "suite or version has the wrong type".into(),
            ))
        }
    }

    let header: Header =
        serde_json::from_slice(bytes).map_err(|e| CryptoError::ContainerHeader(e.to_string()))?;
    if header.to_bytes() != bytes {
        return Err(CryptoError::ContainerHeader(
            "header is not canonical JSON".into(),
        ));
    }
    header.validate()?;
    Ok((header, bytes.to_vec(), end))
}

/// Checks that `segments_len` (the container's length after the header) is one a KB1
/// sealer produces: k-1 full segments of `segment_size + 16` bytes and a last one of
/// 16..=`segment_size + 16` bytes, exactly 16 (an empty package) only when it is the only
/// segment, and k ≤ 2^32. Returns k. Any other length is CONTAINER_TRUNCATED: the file
/// ends inside a tag, or bytes were cut or added at the end.
///
/// A container cut exactly at a segment boundary passes this check; it fails at opening
/// (SEGMENT_AUTH_FAILED on the new final segment, which was not sealed as the last).
pub fn check_length(header: &Header, segments_len: u64) -> Result<u64, CryptoError> {
    if !valid_segment_size(header.segment_size) {
        return Err(CryptoError::ContainerHeader(
            "segment_size is not a power of two in [64, 16 MiB]".into(),
        ));
    }
    let tag = TAG_LEN as u64;
    let chunk = u64::from(header.segment_size) + tag;
    if segments_len < tag {
        return Err(CryptoError::ContainerTruncated);
    }
    let (full, rest) = (segments_len / chunk, segments_len % chunk);
    let count = match rest {
        0 => full,
        r if r < tag => return Err(CryptoError::ContainerTruncated),
        r if r == tag && full > 0 => return Err(CryptoError::ContainerTruncated),
        _ => full + 1,
    };
    if count > MAX_SEGMENTS {
        return Err(CryptoError::ContainerTruncated);
    }
    Ok(count)
}

/// What the sealer needs; keys are 65-byte SEC1 uncompressed points.
#[derive(Clone, Copy, Debug)]
pub struct SealParams<'a> {
    pub tender_id: &'a str,
    pub lot_no: u32,
    pub bidder_org_id: &'a str,
    pub bid_id: &'a str,
    pub bidder_public_sec1: &'a [u8],
    pub tender_public_sec1: &'a [u8],
    pub segment_size: u32,
}

/// The random values of one container. Fresh for every container in production; fixed
/// only by the vector generator.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct SealSecrets {
    pub kb: [u8; 32],
    pub kt: [u8; 32],
    pub nonce_prefix: [u8; 7],
}

/// Streaming sealer: holds the keys for one container, never any plaintext.
pub struct Sealer {
    cipher: SegmentCipher,
    header: Header,
    segment_size: usize,
    next: u64,
    finished: bool,
}

impl Sealer {
    /// Draws kb, kt and the nonce prefix, seals kb to the bidder and kt to the tender.
    /// Returns the sealer and the bytes to write first (magic, length, header).
    pub fn new(p: &SealParams<'_>) -> Result<(Sealer, Vec<u8>), CryptoError> {
        use rand_core::Rng;
        let mut rng = super::os_rng();
        let mut secrets = SealSecrets {
            kb: [0; 32],
            kt: [0; 32],
            nonce_prefix: [0; 7],
        };
        rng.fill_bytes(&mut secrets.kb);
        rng.fill_bytes(&mut secrets.kt);
        rng.fill_bytes(&mut secrets.nonce_prefix);
        Self::new_with(p, &secrets, &mut rng, |_| {})
    }

    /// `new` with given secrets and HPKE randomness; `tweak` may edit the header before it
    /// is hashed (negative test vectors).
    pub(crate) fn new_with(
        p: &SealParams<'_>,
        secrets: &SealSecrets,
        rng: &mut impl rand_core::CryptoRng,
        tweak: impl FnOnce(&mut Header),
    ) -> Result<(Sealer, Vec<u8>), CryptoError> {
        if !valid_segment_size(p.segment_size) {
            return Err(CryptoError::InvalidArgument(format!(
                "segment_size {} is not a power of two in [64, 16 MiB]",
                p.segment_size
            )));
        }
        check_ids(p.tender_id, p.bid_id, p.bidder_org_id)
            .map_err(|e| CryptoError::InvalidArgument(e.into()))?;
        keys::parse_public(p.bidder_public_sec1)?;
        keys::parse_public(p.tender_public_sec1)?;

        let aad = sealed_aad(p.tender_id, p.bid_id);
        let kb_sealed = hpke::seal_with_rng(p.bidder_public_sec1, INFO_KB, &aad, &secrets.kb, rng)?;
        let kt_sealed = hpke::seal_with_rng(p.tender_public_sec1, INFO_KT, &aad, &secrets.kt, rng)?;
        let mut header = Header {
            bid_id: p.bid_id.to_string(),
            bidder_key: keys::key_id(p.bidder_public_sec1),
            bidder_org_id: p.bidder_org_id.to_string(),
            kb_sealed,
            kb_sha256: super::sha256_hex(&secrets.kb),
            kt_sealed,
            lot_no: p.lot_no,
            nonce_prefix: secrets.nonce_prefix,
            segment_size: p.segment_size,
            suite: SUITE.to_string(),
            tender_id: p.tender_id.to_string(),
            tender_key: keys::key_id(p.tender_public_sec1),
            version: VERSION,
        };
        tweak(&mut header);
        let header_bytes = header.to_bytes();
        if header_bytes.len() > MAX_HEADER_LEN {
            return Err(CryptoError::InvalidArgument(
                "ids too long: header over 64 KiB".into(),
            ));
        }

        let dek = dek(&secrets.kb, &secrets.kt);
        let cipher = SegmentCipher::new(
            &dek,
            header.nonce_prefix,
            Sha256::digest(&header_bytes).into(),
        );
        let mut prefix = Vec::with_capacity(12 + header_bytes.len());
        prefix.extend_from_slice(MAGIC);
        prefix.extend_from_slice(&(header_bytes.len() as u32).to_be_bytes());
        prefix.extend_from_slice(&header_bytes);
        let sealer = Sealer {
            cipher,
            header,
            segment_size: p.segment_size as usize,
            next: 0,
            finished: false,
        };
        Ok((sealer, prefix))
    }

    pub fn segment_size(&self) -> usize {
        self.segment_size
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// True once the last segment was sealed.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Encrypts the next segment (`segment_size` bytes, or 1..=`segment_size` for the last;
    /// empty only as the only segment) and returns ciphertext || tag.
    pub fn seal_segment(&mut self, plaintext: &[u8], last: bool) -> Result<Vec<u8>, CryptoError> {
        let mut out = Vec::with_capacity(plaintext.len() + TAG_LEN);
        out.extend_from_slice(plaintext);
        let tag = self.seal_slice(&mut out, last)?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// As `seal_segment`, in place: `buf` holds the plaintext and ends up as ciphertext ||
    /// tag (reserve 16 bytes of capacity to avoid a reallocation).
    pub fn seal_segment_in_place(
        &mut self,
        buf: &mut Vec<u8>,
        last: bool,
    ) -> Result<(), CryptoError> {
        let tag = self.seal_slice(buf, last)?;
        buf.extend_from_slice(&tag);
        Ok(())
    }

    fn seal_slice(&mut self, buf: &mut [u8], last: bool) -> Result<[u8; TAG_LEN], CryptoError> {
        let misuse = |m: &str| Err(CryptoError::InvalidArgument(m.to_string()));
        if self.finished {
            return misuse("segment after the last one");
        }
        if buf.len() > self.segment_size || (!last && buf.len() != self.segment_size) {
            return misuse("only the last segment may be shorter than segment_size");
        }
        if last && buf.is_empty() && self.next > 0 {
            return misuse("an empty last segment is allowed only as the only segment");
        }
        let Ok(index) = u32::try_from(self.next) else {
            return misuse("more than 2^32 segments");
        };
        let tag = self.cipher.seal(index, last, buf);
        self.next += 1;
        self.finished = last;
        Ok(tag)
    }
}

fn dek(kb: &[u8; 32], kt: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let mut d = Zeroizing::new([0u8; 32]);
    for (o, (a, b)) in d.iter_mut().zip(kb.iter().zip(kt)) {
        *o = a ^ b;
    }
    d
}

/// Seals everything `input` yields into `out`: header first, then segments of
/// `segment_size` bytes. Holds one segment (plus one byte read ahead to know which segment
/// is the last).
pub fn seal_stream(
    p: &SealParams<'_>,
    input: impl Read,
    out: impl Write,
) -> Result<(), CryptoError> {
    let (sealer, prefix) = Sealer::new(p)?;
    seal_stream_with(sealer, &prefix, input, out)
}

pub(crate) fn seal_stream_with(
    mut sealer: Sealer,
    prefix: &[u8],
    mut input: impl Read,
    mut out: impl Write,
) -> Result<(), CryptoError> {
    out.write_all(prefix)?;
    let size = sealer.segment_size;
    let mut buf = Zeroizing::new(vec![0u8; size + TAG_LEN]);
    let mut carry: Option<u8> = None;
    loop {
        let mut n = 0;
        if let Some(b) = carry.take() {
            buf[0] = b;
            n = 1;
        }
        n += read_full(&mut input, &mut buf[n..size])?;
        let last = if n < size {
            true
        } else {
            carry = read_byte(&mut input)?;
            carry.is_none()
        };
        let tag = sealer.seal_slice(&mut buf[..n], last)?;
        buf[n..n + TAG_LEN].copy_from_slice(&tag);
        out.write_all(&buf[..n + TAG_LEN])?;
        if last {
            break;
        }
    }
    out.flush()?;
    Ok(())
}

/// The sealer as a `Write`: what is written becomes the plaintext, sealed a segment at a
/// time (`package::write_package` can write straight into it, no pipe or thread needed).
/// Holds at most one segment. Call `finish` to seal the last segment; a writer dropped
/// without it leaves an incomplete container.
pub struct SealWriter<W: Write> {
    sealer: Sealer,
    out: W,
    // Pending plaintext (at most one segment), then ciphertext || tag: zeroized on drop.
    buf: Zeroizing<Vec<u8>>,
}

impl<W: Write> SealWriter<W> {
    /// Writes magic, length and header to `out` at once.
    pub fn new(p: &SealParams<'_>, out: W) -> Result<Self, CryptoError> {
        let (sealer, prefix) = Sealer::new(p)?;
        Self::from_parts(sealer, &prefix, out)
    }

    pub(crate) fn from_parts(
        sealer: Sealer,
        prefix: &[u8],
        mut out: W,
    ) -> Result<Self, CryptoError> {
        out.write_all(prefix)?;
        let buf = Zeroizing::new(Vec::with_capacity(sealer.segment_size + TAG_LEN));
        Ok(SealWriter { sealer, out, buf })
    }

    pub fn header(&self) -> &Header {
        self.sealer.header()
    }

    /// Seals what is pending as the last segment, flushes and returns the inner writer.
    pub fn finish(mut self) -> Result<W, CryptoError> {
        self.seal_pending(true)?;
        self.out.flush()?;
        let SealWriter { out, .. } = self;
        Ok(out)
    }

    fn seal_pending(&mut self, last: bool) -> Result<(), CryptoError> {
        let n = self.buf.len();
        let tag = self.sealer.seal_slice(&mut self.buf[..n], last)?;
        self.buf.extend_from_slice(&tag);
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }
}

impl<W: Write> Write for SealWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let size = self.sealer.segment_size;
        let mut rest = data;
        while !rest.is_empty() {
            // A full segment is sealed only once more data shows it is not the last.
            if self.buf.len() == size {
                self.seal_pending(false).map_err(io::Error::other)?;
            }
            let take = rest.len().min(size - self.buf.len());
            self.buf.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
        }
        Ok(data.len())
    }

    /// Flushes the inner writer; pending plaintext stays until a segment fills or `finish`.
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Opens `kb` with the bidder's encryption key and checks it against `kb_sha256`.
pub fn unseal_kb(h: &Header, bidder_secret: &p256::SecretKey) -> Result<[u8; 32], CryptoError> {
    let kb =
        unseal_half(h, bidder_secret, INFO_KB, &h.kb_sealed).ok_or(CryptoError::KbUnsealFailed)?;
    check_kb(h, &kb)?;
    Ok(*kb)
}

/// Checks a presented `kb` against the header's `kb_sha256` (KB_HASH_MISMATCH).
pub fn check_kb(h: &Header, kb: &[u8; 32]) -> Result<(), CryptoError> {
    if super::sha256_hex(kb) == h.kb_sha256 {
        Ok(())
    } else {
        Err(CryptoError::KbHashMismatch)
    }
}

/// Opens `kt` with the tender's (rebuilt) opening key.
pub fn unseal_kt(h: &Header, tender_secret: &p256::SecretKey) -> Result<[u8; 32], CryptoError> {
    let kt =
        unseal_half(h, tender_secret, INFO_KT, &h.kt_sealed).ok_or(CryptoError::KtUnsealFailed)?;
    Ok(*kt)
}

fn unseal_half(
    h: &Header,
    sk: &p256::SecretKey,
    info: &[u8],
    sealed: &Sealed,
) -> Option<Zeroizing<[u8; 32]>> {
    let pt = Zeroizing::new(hpke::open(sk, info, &h.sealed_aad(), sealed).ok()?);
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(pt.get(..32).filter(|_| pt.len() == 32)?);
    Some(out)
}

/// Decrypts segments from `input` (positioned right after the header) to `out`, verifying
/// every tag and that the input ends exactly after the last segment. Returns the plaintext
/// length. `out` receives each segment only after its tag verified, but a later segment
/// can still fail: treat what was written as void unless this returns Ok.
pub fn open_stream(
    h: &Header,
    header_bytes: &[u8],
    kb: &[u8; 32],
    kt: &[u8; 32],
    input: impl Read,
    mut out: impl Write,
) -> Result<u64, CryptoError> {
    let mut segments = SegmentReader::new(h, header_bytes, kb, kt, input)?;
    let mut total = 0u64;
    while let Some(len) = segments.next_segment()? {
        out.write_all(&segments.buf[..len])?;
        total += len as u64;
    }
    out.flush()?;
    Ok(total)
}

/// The opener as a `Read` of the plaintext, for `package::read_package` to consume without
/// a temporary file. Tag failures surface as `io::Error`s carrying the `CryptoError`
/// (`read_package` unwraps them).
pub struct OpenReader<R: Read> {
    segments: SegmentReader<R>,
    pos: usize,
    end: usize,
}

impl<R: Read> OpenReader<R> {
    pub fn new(
        h: &Header,
        header_bytes: &[u8],
        kb: &[u8; 32],
        kt: &[u8; 32],
        input: R,
    ) -> Result<Self, CryptoError> {
        Ok(OpenReader {
            segments: SegmentReader::new(h, header_bytes, kb, kt, input)?,
            pos: 0,
            end: 0,
        })
    }

    /// Segments verified so far.
    pub fn segments_opened(&self) -> u64 {
        self.segments.index
    }
}

impl<R: Read> Read for OpenReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        while self.pos == self.end {
            match self.segments.next_segment() {
                Ok(Some(len)) => (self.pos, self.end) = (0, len),
                Ok(None) => return Ok(0),
                Err(e) => return Err(io::Error::other(e)),
            }
        }
        let n = out.len().min(self.end - self.pos);
        out[..n].copy_from_slice(&self.segments.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Reads and decrypts one segment at a time into a single buffer, in place.
struct SegmentReader<R> {
    cipher: SegmentCipher,
    input: R,
    // Holds plaintext after decryption: zeroized on drop.
    buf: Zeroizing<Vec<u8>>,
    carry: Option<u8>,
    index: u64,
    done: bool,
    failed: Option<CryptoError>,
}

impl<R: Read> SegmentReader<R> {
    fn new(
        h: &Header,
        header_bytes: &[u8],
        kb: &[u8; 32],
        kt: &[u8; 32],
        input: R,
    ) -> Result<Self, CryptoError> {
        if !valid_segment_size(h.segment_size) {
            return Err(CryptoError::ContainerHeader(
                "segment_size is not a power of two in [64, 16 MiB]".into(),
            ));
        }
        let cipher = SegmentCipher::new(
            &dek(kb, kt),
            h.nonce_prefix,
            Sha256::digest(header_bytes).into(),
        );
        Ok(SegmentReader {
            cipher,
            input,
            buf: Zeroizing::new(vec![0u8; h.segment_size as usize + TAG_LEN]),
            carry: None,
            index: 0,
            done: false,
            failed: None,
        })
    }

    /// Decrypts the next segment into `buf[..len]` and returns `len`; None after the last.
    /// Errors are sticky.
    fn next_segment(&mut self) -> Result<Option<usize>, CryptoError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.done {
            return Ok(None);
        }
        let r = self.decrypt_next();
        if let Err(e) = &r {
            self.failed = Some(e.clone());
        }
        r.map(Some)
    }

    fn decrypt_next(&mut self) -> Result<usize, CryptoError> {
        let mut n = 0;
        if let Some(b) = self.carry.take() {
            self.buf[0] = b;
            n = 1;
        }
        n += read_full(&mut self.input, &mut self.buf[n..])?;
        // The segment that ends the input is the last; peek one byte to know.
        let last = if n < self.buf.len() {
            true
        } else {
            self.carry = read_byte(&mut self.input)?;
            self.carry.is_none()
        };
        if n < TAG_LEN || (last && n == TAG_LEN && self.index > 0) {
            return Err(CryptoError::ContainerTruncated);
        }
        let segment = self.index;
        let Ok(index) = u32::try_from(segment) else {
            return Err(CryptoError::SegmentAuthFailed { segment });
        };
        let len = n - TAG_LEN;
        let (ct, tag) = self.buf[..n].split_at_mut(len);
        let tag: [u8; TAG_LEN] = (&*tag).try_into().expect("16 bytes");
        self.cipher
            .open(index, last, ct, &tag)
            .map_err(|()| CryptoError::SegmentAuthFailed { segment })?;
        self.index += 1;
        self.done = last;
        Ok(len)
    }
}
