// The KB1 sealed-bid container (docs/bid-format.md is normative), as src/crypto/kb1.rs:
// header building and parsing, the streaming sealer, the unsealing of kb and kt, and the
// streaming opener. The plaintext inside is the bid package (package.js).
//
// Layout: "KAIBIAO1" || u32be(N) || header (N bytes of canonical JSON) || segments.
// Segment i is AES-256-GCM under DEK = kb XOR kt, nonce nonce_prefix || u32be(i) || last,
// AAD SHA-256(header) || u32be(i). Nothing here holds more than one segment of plaintext.

import {
  concat,
  equal,
  fromB64url,
  isHex64,
  randomBytes,
  readU32be,
  sha256,
  sha256Hex,
  toB64url,
  u32be,
  utf8,
  wipe,
  xor,
} from './bytes.js';
import { CryptoError } from './errors.js';
import * as hpke from './hpke.js';
import * as json from './json.js';

const subtle = crypto.subtle;

export const MAGIC = utf8('KAIBIAO1');
export const SUITE = 'KB1';
export const VERSION = 1;
/** Largest header N; parseHeader never needs more than MAX_PREFIX_LEN bytes. */
export const MAX_HEADER_LEN = 65536;
export const MAX_PREFIX_LEN = 12 + MAX_HEADER_LEN;
export const MIN_SEGMENT_SIZE = 64;
export const MAX_SEGMENT_SIZE = 16 * 1024 * 1024;
export const DEFAULT_SEGMENT_SIZE = 1024 * 1024;
export const TAG_LEN = 16;
/** HPKE info of the bidder's and the tender's half of the data key. */
export const INFO_KB = utf8('kaibiao/KB1/kb');
export const INFO_KT = utf8('kaibiao/KB1/kt');

const SEALED_CT_LEN = 32 + TAG_LEN;
const MAX_SEGMENTS = 2 ** 32;

const headerError = (detail) => new CryptoError('CONTAINER_HEADER', detail);

export function validSegmentSize(s) {
  return Number.isInteger(s) && s >= MIN_SEGMENT_SIZE && s <= MAX_SEGMENT_SIZE && (s & (s - 1)) === 0;
}

// ------------------------------------------------------------------- header --
// In JS a header is an object with the JSON field names; binary fields are Uint8Arrays:
// kb_sealed and kt_sealed {ct, enc}, nonce_prefix (7 bytes).

/** Canonical JSON of a header: compact, keys sorted by their bytes (all ASCII here). */
export function headerToBytes(h) {
  const s = JSON.stringify;
  const sealed = (x) => `{"ct":${s(toB64url(x.ct))},"enc":${s(toB64url(x.enc))}}`;
  return utf8(
    `{"bid_id":${s(h.bid_id)},"bidder_key":${s(h.bidder_key)},"bidder_org_id":${s(h.bidder_org_id)},` +
      `"kb_sealed":${sealed(h.kb_sealed)},"kb_sha256":${s(h.kb_sha256)},"kt_sealed":${sealed(h.kt_sealed)},` +
      `"lot_no":${h.lot_no},"nonce_prefix":${s(toB64url(h.nonce_prefix))},"segment_size":${h.segment_size},` +
      `"suite":${s(h.suite)},"tender_id":${s(h.tender_id)},"tender_key":${s(h.tender_key)},"version":${h.version}}`,
  );
}

/** HPKE AAD of both sealed halves: tender_id || "\n" || bid_id. */
export function sealedAad(tenderId, bidId) {
  return utf8(`${tenderId}\n${bidId}`);
}

const b64Bytes = (length) => (node) => {
  const bytes = fromB64url(json.str(node));
  if (!bytes) throw new json.DecodeError('invalid base64url');
  if (length !== undefined && bytes.length !== length) throw new json.DecodeError(`expected ${length} bytes`);
  return bytes;
};

const sealedDecoder = json.struct([
  ['ct', b64Bytes()],
  ['enc', b64Bytes()],
]);

const headerDecoder = json.struct([
  ['bid_id', json.str],
  ['bidder_key', json.str],
  ['bidder_org_id', json.str],
  ['kb_sealed', sealedDecoder],
  ['kb_sha256', json.str],
  ['kt_sealed', sealedDecoder],
  ['lot_no', json.u32],
  ['nonce_prefix', b64Bytes(7)],
  ['segment_size', json.u32],
  ['suite', json.str],
  ['tender_id', json.str],
  ['tender_key', json.str],
  ['version', json.u32],
]);

// Suite and version are read first, leniently (unknown fields allowed), so that a future
// suite's header is CONTAINER_SUITE rather than a malformed KB1 header. Rust reads them
// into serde_json::Value: a string and a number, where only the integer literal 1 is
// version 1, and a float that overflows is an error.
const probeDecoder = json.struct(
  [
    ['suite', json.raw],
    ['version', json.raw],
  ],
  { denyUnknown: false },
);

function probe(tree) {
  let p;
  try {
    p = probeDecoder(tree);
  } catch (e) {
    throw headerError(e.message);
  }
  const { suite, version } = p;
  if (suite.t !== 'str' || version.t !== 'num' || !suite.ok || !Number.isFinite(Number(version.raw))) {
    throw headerError('suite or version has the wrong type');
  }
  if (suite.v !== SUITE || version.raw !== String(VERSION)) throw new CryptoError('CONTAINER_SUITE');
}

function idsProblem(tenderId, bidId, bidderOrgId) {
  if (!tenderId || !bidId || !bidderOrgId) return 'an id is empty';
  if (tenderId.includes('\n') || bidId.includes('\n')) return 'tender_id or bid_id contains a newline';
  return null;
}

/** Everything checkable without keys, beyond what decoding enforced. */
async function validate(h) {
  if (h.suite !== SUITE || h.version !== VERSION) throw new CryptoError('CONTAINER_SUITE');
  const ids = idsProblem(h.tender_id, h.bid_id, h.bidder_org_id);
  if (ids) throw headerError(ids);
  for (const name of ['bidder_key', 'tender_key', 'kb_sha256']) {
    if (!isHex64(h[name])) throw headerError(`${name} is not 64 lower-case hex characters`);
  }
  for (const name of ['kb_sealed', 'kt_sealed']) {
    const { enc, ct } = h[name];
    if (enc.length !== hpke.ENC_LEN || ct.length !== SEALED_CT_LEN) {
      throw headerError(`${name} has wrong sizes (enc 65, ct 48 bytes)`);
    }
    try {
      await hpke.importPublicKey(enc);
    } catch (_) {
      throw headerError(`${name}.enc is not a P-256 point`);
    }
  }
  if (!validSegmentSize(h.segment_size)) {
    throw headerError('segment_size is not a power of two in [64, 16 MiB]');
  }
}

/**
 * Parses magic, length and header from the start of a container (at most
 * MAX_PREFIX_LEN bytes are needed; more are ignored).
 * Returns {header, headerBytes (exactly as stored), offset (where segments start)}.
 * Throws CryptoError CONTAINER_MAGIC, CONTAINER_TRUNCATED, CONTAINER_HEADER, CONTAINER_SUITE.
 */
export async function parseHeader(prefix) {
  if (prefix.length < MAGIC.length) {
    const code = equal(prefix, MAGIC.subarray(0, prefix.length)) ? 'CONTAINER_TRUNCATED' : 'CONTAINER_MAGIC';
    throw new CryptoError(code);
  }
  if (!equal(prefix.subarray(0, 8), MAGIC)) throw new CryptoError('CONTAINER_MAGIC');
  if (prefix.length < 12) throw new CryptoError('CONTAINER_TRUNCATED');
  const n = readU32be(prefix, 8);
  if (n === 0 || n > MAX_HEADER_LEN) throw headerError(`header length ${n} out of range`);
  const end = 12 + n;
  if (prefix.length < end) throw new CryptoError('CONTAINER_TRUNCATED');
  const headerBytes = prefix.slice(12, end);

  let tree;
  try {
    tree = json.parse(headerBytes);
  } catch (e) {
    throw headerError(e.message);
  }
  probe(tree);
  let header;
  try {
    header = headerDecoder(tree);
  } catch (e) {
    throw headerError(e.message);
  }
  if (!equal(headerToBytes(header), headerBytes)) throw headerError('header is not canonical JSON');
  await validate(header);
  return { header, headerBytes, offset: end };
}

/**
 * Checks the fields a server knows independently. `expect`: {tender_id, lot_no,
 * bidder_org_id, bid_id, tender_key, bidder_key} (keys as key ids). Throws CryptoError
 * HEADER_MISMATCH naming the first field that differs.
 */
export function checkHeader(header, expect) {
  for (const field of ['tender_id', 'lot_no', 'bidder_org_id', 'bid_id', 'tender_key', 'bidder_key']) {
    if (header[field] !== expect[field]) {
      throw new CryptoError('HEADER_MISMATCH', `header names another ${field}`, { field });
    }
  }
}

/**
 * Checks that `segmentsLen` (the container's length after the header) is one a KB1
 * sealer produces: k-1 full segments of segment_size + 16 bytes and a last one of
 * 16..=segment_size + 16 bytes, exactly 16 (an empty package) only when it is the only
 * segment, k ≤ 2^32. Returns k; throws CryptoError CONTAINER_TRUNCATED.
 * A container cut exactly at a segment boundary passes; it fails at opening
 * (SEGMENT_AUTH_FAILED on the new final segment, which was not sealed as the last).
 */
export function checkLength(header, segmentsLen) {
  if (!validSegmentSize(header.segment_size)) {
    throw headerError('segment_size is not a power of two in [64, 16 MiB]');
  }
  const chunk = header.segment_size + TAG_LEN;
  if (segmentsLen < TAG_LEN) throw new CryptoError('CONTAINER_TRUNCATED');
  const full = Math.floor(segmentsLen / chunk);
  const rest = segmentsLen % chunk;
  let count;
  if (rest === 0) count = full;
  else if (rest < TAG_LEN || (rest === TAG_LEN && full > 0)) throw new CryptoError('CONTAINER_TRUNCATED');
  else count = full + 1;
  if (count > MAX_SEGMENTS) throw new CryptoError('CONTAINER_TRUNCATED');
  return count;
}

/** Total container size for a package of `plaintextLength` bytes. */
export function containerSize(headerLength, segmentSize, plaintextLength) {
  const segments = Math.max(1, Math.ceil(plaintextLength / segmentSize));
  return 12 + headerLength + plaintextLength + segments * TAG_LEN;
}

// --------------------------------------------------------------- segments --

async function segmentKey(kb, kt, usage) {
  const dek = xor(kb, kt);
  try {
    return await subtle.importKey('raw', dek, 'AES-GCM', false, [usage]);
  } finally {
    wipe(dek);
  }
}

function segmentParams(noncePrefix, headerHash, index, last) {
  const i = u32be(index);
  return {
    name: 'AES-GCM',
    iv: concat(noncePrefix, i, new Uint8Array([last ? 1 : 0])),
    additionalData: concat(headerHash, i),
    tagLength: TAG_LEN * 8,
  };
}

// ------------------------------------------------------------------ sealing --

/**
 * A streaming sealer for one container: holds the keys, never more than the segment
 * it is given. Make one with createSealer.
 */
export class Sealer {
  #key;
  #headerHash;
  #next = 0;
  #finished = false;

  constructor(header, headerBytes, key, headerHash) {
    this.header = header;
    this.headerBytes = headerBytes;
    this.segmentSize = header.segment_size;
    /** The bytes to write first: magic, header length, header. */
    this.prefix = concat(MAGIC, u32be(headerBytes.length), headerBytes);
    this.#key = key;
    this.#headerHash = headerHash;
  }

  get finished() {
    return this.#finished;
  }

  /**
   * Encrypts the next segment (segmentSize bytes, or 1..=segmentSize for the last; empty
   * only as the only segment) and returns ciphertext || tag.
   */
  async sealSegment(plaintext, last) {
    const misuse = (m) => new CryptoError('INVALID_ARGUMENT', m);
    if (this.#finished) throw misuse('segment after the last one');
    if (plaintext.length > this.segmentSize || (!last && plaintext.length !== this.segmentSize)) {
      throw misuse('only the last segment may be shorter than segment_size');
    }
    if (last && plaintext.length === 0 && this.#next > 0) {
      throw misuse('an empty last segment is allowed only as the only segment');
    }
    if (this.#next >= MAX_SEGMENTS) throw misuse('more than 2^32 segments');
    const params = segmentParams(this.header.nonce_prefix, this.#headerHash, this.#next, last);
    // Claim the index before awaiting, so concurrent misuse cannot reuse a nonce.
    this.#next++;
    this.#finished = last;
    return new Uint8Array(await subtle.encrypt(params, this.#key, plaintext));
  }
}

function checkString(value, name) {
  // A lone surrogate has no UTF-8 form: Rust could not read the header back.
  if (typeof value !== 'string' || !json.wellFormed(value)) {
    throw new CryptoError('INVALID_ARGUMENT', `${name} must be a well-formed string`);
  }
}

/**
 * Draws kb, kt and the nonce prefix, seals kb to the bidder and kt to the tender, and
 * returns a Sealer. `params`: {tenderId, lotNo, bidderOrgId, bidId, bidderPublicKey,
 * tenderPublicKey (65-byte SEC1 Uint8Arrays), segmentSize (default 1 MiB)}.
 *
 * `testing` (known-answer tests only, never in production): {kb, kt, noncePrefix,
 * ikmKb, ikmKt} fix the random values, reproducing the Rust vectors byte for byte.
 */
export async function createSealer(params, testing = null) {
  const {
    tenderId,
    lotNo,
    bidderOrgId,
    bidId,
    bidderPublicKey,
    tenderPublicKey,
    segmentSize = DEFAULT_SEGMENT_SIZE,
  } = params;
  if (!validSegmentSize(segmentSize)) {
    throw new CryptoError('INVALID_ARGUMENT', `segment_size ${segmentSize} is not a power of two in [64, 16 MiB]`);
  }
  checkString(tenderId, 'tenderId');
  checkString(bidId, 'bidId');
  checkString(bidderOrgId, 'bidderOrgId');
  const ids = idsProblem(tenderId, bidId, bidderOrgId);
  if (ids) throw new CryptoError('INVALID_ARGUMENT', ids);
  if (!Number.isInteger(lotNo) || lotNo < 0 || lotNo > 0xffffffff) {
    throw new CryptoError('INVALID_ARGUMENT', 'lotNo must be a u32');
  }
  await hpke.importPublicKey(bidderPublicKey);
  await hpke.importPublicKey(tenderPublicKey);

  const kb = testing ? testing.kb.slice() : randomBytes(32);
  const kt = testing ? testing.kt.slice() : randomBytes(32);
  const noncePrefix = testing ? testing.noncePrefix.slice() : randomBytes(7);
  try {
    const aad = sealedAad(tenderId, bidId);
    const kbSealed = await hpke.seal(bidderPublicKey, INFO_KB, aad, kb, { ikmE: testing?.ikmKb });
    const ktSealed = await hpke.seal(tenderPublicKey, INFO_KT, aad, kt, { ikmE: testing?.ikmKt });
    const header = {
      bid_id: bidId,
      bidder_key: await sha256Hex(bidderPublicKey),
      bidder_org_id: bidderOrgId,
      kb_sealed: kbSealed,
      kb_sha256: await sha256Hex(kb),
      kt_sealed: ktSealed,
      lot_no: lotNo,
      nonce_prefix: noncePrefix,
      segment_size: segmentSize,
      suite: SUITE,
      tender_id: tenderId,
      tender_key: await sha256Hex(tenderPublicKey),
      version: VERSION,
    };
    const headerBytes = headerToBytes(header);
    if (headerBytes.length > MAX_HEADER_LEN) {
      throw new CryptoError('INVALID_ARGUMENT', 'ids too long: header over 64 KiB');
    }
    const key = await segmentKey(kb, kt, 'encrypt');
    return new Sealer(header, headerBytes, key, await sha256(headerBytes));
  } finally {
    wipe(kb);
    wipe(kt);
  }
}

/**
 * Seals what `plaintext` (an iterable or async iterable of Uint8Arrays, any sizes) yields:
 * an async generator of container chunks, the prefix first, then one chunk per segment.
 * Holds one segment; a full segment is sealed as "not last" only once a further byte
 * has arrived. onProgress(done, total) is called after each segment with the plaintext
 * bytes sealed so far (`total` is passed through, e.g. the package length).
 */
export async function* sealStream(sealer, plaintext, { onProgress, total } = {}) {
  yield sealer.prefix;
  const size = sealer.segmentSize;
  const buf = new Uint8Array(size);
  let fill = 0;
  let done = 0;
  try {
    for await (const chunk of plaintext) {
      for (let at = 0; at < chunk.length; ) {
        if (fill === size) {
          yield await sealer.sealSegment(buf, false);
          done += size;
          fill = 0;
          if (onProgress) onProgress(done, total);
        }
        const k = Math.min(size - fill, chunk.length - at);
        buf.set(chunk.subarray(at, at + k), fill);
        fill += k;
        at += k;
      }
    }
    yield await sealer.sealSegment(buf.subarray(0, fill), true);
    done += fill;
    if (onProgress) onProgress(done, total);
  } finally {
    wipe(buf);
  }
}

/**
 * Drains container chunks into a Blob. Each chunk becomes a Blob at once, so the
 * ciphertext lives in the browser's blob storage (which spills to disk), not the JS heap.
 */
export async function collectBlob(chunks, type = 'application/octet-stream') {
  const parts = [];
  for await (const chunk of chunks) parts.push(new Blob([chunk]));
  return new Blob(parts, { type });
}

// ------------------------------------------------------------------ opening --

/** A Blob/File, Uint8Array or ArrayBuffer as {size, read(start, end)}. */
function asSource(source) {
  if (source instanceof Blob) {
    return {
      size: source.size,
      async read(start, end) {
        try {
          return new Uint8Array(await source.slice(start, end).arrayBuffer());
        } catch (e) {
          throw new CryptoError('IO', e && e.message);
        }
      },
    };
  }
  const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
  return { size: bytes.length, read: async (start, end) => bytes.subarray(start, end) };
}

async function unsealHalf(header, recipient, info, sealed) {
  try {
    const pt = await hpke.open(recipient, info, sealedAad(header.tender_id, header.bid_id), sealed);
    return pt.length === 32 ? pt : null;
  } catch (e) {
    if (e instanceof CryptoError && e.code === 'HPKE_OPEN_FAILED') return null;
    throw e;
  }
}

/** Checks a presented kb against the header's kb_sha256 (KB_HASH_MISMATCH). */
export async function checkKb(header, kb) {
  if ((await sha256Hex(kb)) !== header.kb_sha256) throw new CryptoError('KB_HASH_MISMATCH');
}

/**
 * Opens kb with the bidder's encryption key and checks it against kb_sha256.
 * `bidderKey`: the device key pair ({privateKey, publicKey}; see hpke.open).
 * Throws CryptoError KB_UNSEAL_FAILED or KB_HASH_MISMATCH.
 */
export async function unsealKb(header, bidderKey) {
  const kb = await unsealHalf(header, bidderKey, INFO_KB, header.kb_sealed);
  if (!kb) throw new CryptoError('KB_UNSEAL_FAILED');
  await checkKb(header, kb);
  return kb;
}

/** Opens kt with the tender's opening key pair. Throws CryptoError KT_UNSEAL_FAILED. */
export async function unsealKt(header, tenderKey) {
  const kt = await unsealHalf(header, tenderKey, INFO_KT, header.kt_sealed);
  if (!kt) throw new CryptoError('KT_UNSEAL_FAILED');
  return kt;
}

/**
 * Reads and checks a container's header: steps 1–3 of the opening procedure (parse,
 * compare with `expect` if given, check the length). Returns
 * {header, headerBytes, offset, segmentCount}.
 */
export function readHeader(source, expect = null) {
  return readHeaderFrom(asSource(source), expect);
}

async function readHeaderFrom(src, expect) {
  const prefix = await src.read(0, Math.min(src.size, MAX_PREFIX_LEN));
  const { header, headerBytes, offset } = await parseHeader(prefix);
  if (expect) checkHeader(header, expect);
  const segmentCount = checkLength(header, src.size - offset);
  return { header, headerBytes, offset, segmentCount };
}

/**
 * Opens a container, following the procedure of tests/vectors/kb1.json:
 *  1–3. readHeader (with `expect` if given);
 *  4. kb: `presentedKb` (checked against kb_sha256) or unsealed with `bidderKey`;
 *  5. kt: `kt` as given, or unsealed with `tenderKey`;
 * and returns {header, headerBytes, offset, segmentCount, kb, kt, plaintext()}, where
 * plaintext() is step 6: an async generator of the decrypted segments, in order, each
 * yielded only after its tag verified (CryptoError SEGMENT_AUTH_FAILED names the first
 * failing segment). What it yielded is void if it ends with an error.
 * Without a kb or kt source, steps 4/5 are skipped and plaintext() is unavailable.
 */
export async function openContainer(source, { expect, bidderKey, presentedKb, tenderKey, kt } = {}) {
  const src = asSource(source);
  const { header, headerBytes, offset, segmentCount } = await readHeaderFrom(src, expect);
  let kb = null;
  if (presentedKb) {
    if (presentedKb.length !== 32) throw new CryptoError('INVALID_ARGUMENT', 'kb is 32 bytes');
    await checkKb(header, presentedKb);
    kb = presentedKb;
  } else if (bidderKey) {
    kb = await unsealKb(header, bidderKey);
  }
  if (kt && kt.length !== 32) throw new CryptoError('INVALID_ARGUMENT', 'kt is 32 bytes');
  let ktBytes = kt || null;
  if (!ktBytes && tenderKey) ktBytes = await unsealKt(header, tenderKey);

  async function* plaintext() {
    if (!kb || !ktBytes) throw new CryptoError('INVALID_ARGUMENT', 'kb and kt are needed to decrypt');
    const key = await segmentKey(kb, ktBytes, 'decrypt');
    const headerHash = await sha256(headerBytes);
    const chunk = header.segment_size + TAG_LEN;
    for (let i = 0; i < segmentCount; i++) {
      const start = offset + i * chunk;
      const ct = await src.read(start, Math.min(start + chunk, src.size));
      const last = i === segmentCount - 1;
      if (ct.length < TAG_LEN || (last && ct.length === TAG_LEN && i > 0)) {
        throw new CryptoError('CONTAINER_TRUNCATED');
      }
      let pt;
      try {
        pt = await subtle.decrypt(segmentParams(header.nonce_prefix, headerHash, i, last), key, ct);
      } catch (_) {
        throw new CryptoError('SEGMENT_AUTH_FAILED', `segment ${i}`, { segment: i });
      }
      yield new Uint8Array(pt);
    }
  }

  return { header, headerBytes, offset, segmentCount, kb, kt: ktBytes, plaintext };
}
