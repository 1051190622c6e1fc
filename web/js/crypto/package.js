// The bid package, the plaintext inside a KB1 container (docs/bid-format.md), as
// src/bid/package.rs:
//   u32be M || manifest JSON (M bytes) || documents (sizes from the manifest) ||
//   u32be T || trailer JSON (T bytes)
// The trailer holds the SHA-256 of the manifest bytes and of each document. Documents
// are streamed from Blob/File slices and hashed incrementally, never held whole.
//
// Also the high-level sealBid and openBid, tying the package to the container.

// SHA-256 over a stream needs an incremental hash, which WebCrypto lacks (digest is
// one-shot): @noble/hashes 2.4.0 (MIT, Paul Miller), its sha2.js, _md.js, _u64.js and
// utils.js vendored unmodified under /vendor/noble-hashes/ with its LICENSE.
import { sha256 as nobleSha256 } from '../../vendor/noble-hashes/sha2.js';
import { concat, readU32be, sha256Hex, toHex, u32be, utf8 } from './bytes.js';
import { CryptoError } from './errors.js';
import * as json from './json.js';
import * as kb1 from './kb1.js';

/** Bounds on the two JSON parts, as in Rust, so a corrupt length cannot make us allocate gigabytes. */
export const MAX_MANIFEST_LEN = 1024 * 1024;
export const MAX_TRAILER_LEN = 1024 * 1024;
/** How much of a document is read from its Blob at a time. */
export const READ_SIZE = 1024 * 1024;

export const ENTERPRISE_SIZES = ['large', 'medium', 'small', 'micro'];
export const SPECIAL_STATUSES = [null, 'prison', 'disability_welfare'];

const invalid = (m) => new CryptoError('INVALID_ARGUMENT', m);
const malformed = (m) => new CryptoError('PACKAGE_MALFORMED', m);

// ------------------------------------------------------------------ writing --

function string(v, name) {
  if (typeof v !== 'string' || !json.wellFormed(v)) throw invalid(`${name} must be a string`);
  return v;
}

function uint(v, name, max) {
  if (!Number.isSafeInteger(v) || v < 0 || v > max) throw invalid(`${name} must be an integer in [0, ${max}]`);
  return v;
}

function i64(v, name) {
  const ok =
    Number.isSafeInteger(v) || (typeof v === 'bigint' && v >= -(2n ** 63n) && v <= 2n ** 63n - 1n);
  if (!ok) throw invalid(`${name} must be an integer`);
  return v;
}

/**
 * The manifest for an opening sheet and documents, checked:
 * openingSheet {total_price_fen (integer, Number or BigInt), total_price_words,
 * delivery_days, warranty_months, enterprise_size (large|medium|small|micro),
 * special_status (null|"prison"|"disability_welfare"), notes};
 * documents [{file: Blob|File, name?, mediaType?}] (name defaults to file.name,
 * mediaType to file.type or application/octet-stream).
 */
export function buildManifest(openingSheet, documents) {
  const o = openingSheet || {};
  if (!ENTERPRISE_SIZES.includes(o.enterprise_size)) throw invalid('enterprise_size');
  const special = o.special_status ?? null;
  if (!SPECIAL_STATUSES.includes(special)) throw invalid('special_status');
  if (!Array.isArray(documents)) throw invalid('documents must be an array');
  return {
    opening_sheet: {
      total_price_fen: i64(o.total_price_fen, 'total_price_fen'),
      total_price_words: string(o.total_price_words, 'total_price_words'),
      delivery_days: uint(o.delivery_days, 'delivery_days', 0xffffffff),
      warranty_months: uint(o.warranty_months, 'warranty_months', 0xffffffff),
      enterprise_size: o.enterprise_size,
      special_status: special,
      notes: string(o.notes ?? '', 'notes'),
    },
    documents: documents.map((d, i) => {
      if (!(d && d.file instanceof Blob)) throw invalid(`document ${i} has no file`);
      return {
        name: string(d.name ?? d.file.name, `document ${i} name`),
        size: d.file.size,
        media_type: string(d.mediaType ?? (d.file.type || 'application/octet-stream'), `document ${i} media type`),
      };
    }),
  };
}

/** Manifest JSON with the fields in the order Rust (serde) writes them, so both make the same bytes. */
export function manifestToBytes(m) {
  const s = JSON.stringify;
  const o = m.opening_sheet;
  const docs = m.documents.map((d) => `{"name":${s(d.name)},"size":${d.size},"media_type":${s(d.media_type)}}`);
  const text =
    `{"opening_sheet":{"total_price_fen":${String(o.total_price_fen)},"total_price_words":${s(o.total_price_words)},` +
    `"delivery_days":${o.delivery_days},"warranty_months":${o.warranty_months},` +
    `"enterprise_size":${s(o.enterprise_size)},"special_status":${o.special_status === null ? 'null' : s(o.special_status)},` +
    `"notes":${s(o.notes)}},"documents":[${docs.join(',')}]}`;
  return utf8(text);
}

function trailerToBytes(documentsSha256, manifestSha256) {
  const s = JSON.stringify;
  return utf8(`{"documents_sha256":[${documentsSha256.map((h) => s(h)).join(',')}],"manifest_sha256":${s(manifestSha256)}}`);
}

/** The package's length in bytes (the trailer's length depends only on the document count). */
export function packageLength(manifestBytes, documentSizes) {
  const zero = '0'.repeat(64);
  const trailer = trailerToBytes(documentSizes.map(() => zero), zero);
  return 4 + manifestBytes.length + documentSizes.reduce((a, b) => a + b, 0) + 4 + trailer.length;
}

/**
 * The package as an async generator of chunks: the manifest, each document read from its
 * Blob `readSize` bytes at a time and hashed on the way, then the trailer.
 */
export async function* packageChunks(manifestBytes, files, { readSize = READ_SIZE } = {}) {
  if (manifestBytes.length > MAX_MANIFEST_LEN) throw invalid('manifest over 1 MiB');
  yield concat(u32be(manifestBytes.length), manifestBytes);
  const hashes = [];
  for (const [i, file] of files.entries()) {
    const h = nobleSha256.create();
    for (let at = 0; at < file.size; at += readSize) {
      const end = Math.min(at + readSize, file.size);
      let bytes;
      try {
        bytes = new Uint8Array(await file.slice(at, end).arrayBuffer());
      } catch (e) {
        // NotReadableError: typically the file changed on disk after it was chosen.
        throw new CryptoError('IO', `document ${i}: ${e && e.message}`);
      }
      if (bytes.length !== end - at) throw new CryptoError('IO', `document ${i} changed while reading`);
      h.update(bytes);
      yield bytes;
    }
    hashes.push(toHex(h.digest()));
  }
  const trailer = trailerToBytes(hashes, await sha256Hex(manifestBytes));
  yield concat(u32be(trailer.length), trailer);
}

/**
 * Seals a bid in the browser. Options:
 *  tenderId, lotNo, bidderOrgId, bidId — as the server issued them;
 *  bidderPublicKey — the bidder's registered encryption key, SEC1 (65 bytes);
 *  tenderPublicKey — the tender's opening key, SEC1;
 *  segmentSize — default 1 MiB;
 *  openingSheet, documents — see buildManifest;
 *  onProgress(done, total) — plaintext bytes sealed, after each segment;
 *  output — 'blob' (default): resolves to {header, size, blob};
 *           'chunks': resolves to {header, size, chunks}, chunks an async generator of
 *           container pieces (prefix, then one per segment) to upload as they come.
 * `size` is the container's exact length, known before anything is encrypted.
 * `testing` is passed to kb1.createSealer (known-answer tests only).
 */
export async function sealBid(options) {
  const { openingSheet, documents = [], onProgress, output = 'blob', testing = null } = options;
  const manifest = buildManifest(openingSheet, documents);
  const manifestBytes = manifestToBytes(manifest);
  if (manifestBytes.length > MAX_MANIFEST_LEN) throw invalid('manifest over 1 MiB');
  const total = packageLength(
    manifestBytes,
    manifest.documents.map((d) => d.size),
  );
  const sealer = await kb1.createSealer(options, testing);
  const size = kb1.containerSize(sealer.headerBytes.length, sealer.segmentSize, total);
  const plaintext = packageChunks(
    manifestBytes,
    documents.map((d) => d.file),
  );
  const chunks = kb1.sealStream(sealer, plaintext, { onProgress, total });
  if (output === 'chunks') return { header: sealer.header, size, chunks };
  if (output !== 'blob') throw invalid(`unknown output ${output}`);
  return { header: sealer.header, size, blob: await kb1.collectBlob(chunks) };
}

// ------------------------------------------------------------------ reading --

const openingSheetDecoder = json.struct([
  ['total_price_fen', json.i64],
  ['total_price_words', json.str],
  ['delivery_days', json.u32],
  ['warranty_months', json.u32],
  ['enterprise_size', json.str],
  ['special_status', json.optStr, { optional: true }],
  ['notes', json.str],
]);

const manifestDecoder = json.struct([
  ['opening_sheet', openingSheetDecoder],
  [
    'documents',
    json.vec(
      json.struct([
        ['name', json.str],
        ['size', json.u64],
        ['media_type', json.str],
      ]),
    ),
  ],
]);

const trailerDecoder = json.struct([
  ['documents_sha256', json.vec(json.str)],
  ['manifest_sha256', json.str],
]);

/** Reads exact amounts from an async iterator of Uint8Array chunks. */
class ChunkReader {
  constructor(chunks) {
    this.it = chunks[Symbol.asyncIterator]();
    this.buf = new Uint8Array(0);
    this.pos = 0;
    this.length = 0;
  }

  /** False at the end of the input. */
  async fill() {
    while (this.pos === this.buf.length) {
      const { value, done } = await this.it.next();
      if (done) return false;
      this.buf = value;
      this.pos = 0;
      this.length += value.length;
    }
    return true;
  }

  /** Up to `max` (> 0) bytes, or null at the end. */
  async take(max) {
    if (!(await this.fill())) return null;
    const n = Math.min(max, this.buf.length - this.pos);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Exactly n bytes, or null if the input ends first. */
  async exact(n) {
    const parts = [];
    for (let got = 0; got < n; ) {
      const part = await this.take(n - got);
      if (!part) return null;
      parts.push(part);
      got += part.length;
    }
    return parts.length === 1 ? parts[0] : concat(...parts);
  }

  /** Reads to the end (so a decrypting source verifies every remaining segment). */
  async drain() {
    while (await this.fill()) this.pos = this.buf.length;
  }
}

async function readPart(reader, max, what) {
  const len = await reader.exact(4);
  if (!len) throw malformed(`package ends before the ${what}`);
  const n = readU32be(len);
  if (n > max) throw malformed(`${what} length ${n} over the limit`);
  const bytes = await reader.exact(n);
  if (!bytes) throw malformed(`package ends inside the ${what}`);
  return bytes.slice();
}

function decode(decoder, bytes, what) {
  try {
    return decoder(json.parse(bytes));
  } catch (e) {
    throw malformed(`${what}: ${e.message}`);
  }
}

/**
 * Reads a package from decrypted chunks (e.g. kb1.openContainer(...).plaintext()),
 * checking the manifest and every document against the trailer and that nothing follows
 * it. onDocumentChunk(i, bytes) receives document i as it streams; if this throws, what
 * it received is void. Returns {manifest, documentsSha256, length}.
 *
 * The opening procedure decrypts (step 6) before it parses (step 7): when the package is
 * malformed, the rest of the input is still read, so that a failing segment further on
 * is reported as SEGMENT_AUTH_FAILED first, as Rust reports it.
 */
export async function readPackage(chunks, { onDocumentChunk } = {}) {
  const reader = new ChunkReader(chunks);
  try {
    const m = await readPart(reader, MAX_MANIFEST_LEN, 'manifest');
    const manifest = decode(manifestDecoder, m, 'manifest');
    const hashes = [];
    for (const [i, entry] of manifest.documents.entries()) {
      const h = nobleSha256.create();
      for (let remaining = entry.size; remaining > 0; ) {
        const bytes = await reader.take(Math.min(remaining, READ_SIZE));
        if (!bytes) throw malformed(`document ${i} ends early`);
        h.update(bytes);
        if (onDocumentChunk) onDocumentChunk(i, bytes);
        remaining -= bytes.length;
      }
      hashes.push(toHex(h.digest()));
    }
    const t = await readPart(reader, MAX_TRAILER_LEN, 'trailer');
    const trailer = decode(trailerDecoder, t, 'trailer');
    if (await reader.fill()) throw malformed('bytes after the trailer');
    if (trailer.documents_sha256.length !== hashes.length) {
      throw malformed(`trailer lists ${trailer.documents_sha256.length} documents, manifest ${hashes.length}`);
    }
    if (trailer.manifest_sha256 !== (await sha256Hex(m))) {
      throw new CryptoError('PLAINTEXT_HASH_MISMATCH', 'manifest', { what: 'manifest' });
    }
    const bad = hashes.findIndex((h, i) => trailer.documents_sha256[i] !== h);
    if (bad >= 0) {
      throw new CryptoError('PLAINTEXT_HASH_MISMATCH', `document ${bad}`, { what: `document ${bad}` });
    }
    return { manifest, documentsSha256: hashes, length: reader.length };
  } catch (e) {
    if (e instanceof CryptoError && e.code === 'PACKAGE_MALFORMED') await reader.drain();
    throw e;
  }
}

/**
 * Opens a sealed bid: kb1.openContainer (options as there) then readPackage.
 * Returns {header, segmentCount, manifest, documentsSha256, length}.
 */
export async function openBid(source, options = {}) {
  const opened = await kb1.openContainer(source, options);
  const pkg = await readPackage(opened.plaintext(), options);
  return { header: opened.header, segmentCount: opened.segmentCount, ...pkg };
}
