// RFC 9180 HPKE, base mode, in the one suite KB1 uses: DHKEM(P-256, HKDF-SHA256) 0x0010,
// HKDF-SHA256 0x0001, AES-256-GCM 0x0002. Everything runs on WebCrypto: ECDH deriveBits
// for the DH, HMAC-SHA256 for HKDF (WebCrypto's own HKDF does Extract and Expand in one
// call, while HPKE's LabeledExtract and LabeledExpand need them apart), AES-GCM for the
// AEAD. Private keys stay CryptoKeys and may be non-extractable.
//
// Single-shot seal/open is what KB1 uses; the context API (setupBaseS/setupBaseR with
// sequence numbers and exports) exists for the RFC test vectors.

import { concat, fromB64url, u32be, utf8 } from './bytes.js';
import { CryptoError } from './errors.js';

const subtle = crypto.subtle;

export const KEM_ID = 0x0010;
export const KDF_ID = 0x0001;
export const AEAD_ID = 0x0002;
export const ENC_LEN = 65; // Nenc: SEC1 uncompressed P-256 point
const N_SECRET = 32;
const N_K = 32;
const N_N = 12;
const N_H = 32;
const TAG_LEN = 16;

const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

const i2osp2 = (n) => new Uint8Array([n >> 8, n & 0xff]);
const HPKE_V1 = utf8('HPKE-v1');
const KEM_SUITE = concat(utf8('KEM'), i2osp2(KEM_ID));
const HPKE_SUITE = concat(utf8('HPKE'), i2osp2(KEM_ID), i2osp2(KDF_ID), i2osp2(AEAD_ID));

const ECDH = { name: 'ECDH', namedCurve: 'P-256' };

// -------------------------------------------------------------------- HKDF --

async function hmac(key, data) {
  // An empty HKDF salt means HashLen zero bytes (RFC 5869 §2.2); WebCrypto refuses empty
  // HMAC keys, and HMAC pads short keys with zeros anyway, so this is the same function.
  const k = await subtle.importKey(
    'raw',
    key.length ? key : new Uint8Array(N_H),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return new Uint8Array(await subtle.sign('HMAC', k, data));
}

async function expand(prk, info, length) {
  const out = new Uint8Array(length);
  let t = new Uint8Array(0);
  for (let i = 1, at = 0; at < length; i++) {
    t = await hmac(prk, concat(t, info, new Uint8Array([i])));
    out.set(t.subarray(0, Math.min(N_H, length - at)), at);
    at += N_H;
  }
  return out;
}

function labeledExtract(suite, salt, label, ikm) {
  return hmac(salt, concat(HPKE_V1, suite, utf8(label), ikm));
}

function labeledExpand(suite, prk, label, info, length) {
  if (length > 255 * N_H) throw new RangeError('HKDF-Expand length too large');
  return expand(prk, concat(i2osp2(length), HPKE_V1, suite, utf8(label), info), length);
}

// --------------------------------------------------------------------- KEM --

/**
 * Imports a P-256 public key, SEC1 uncompressed only (the compressed form would give the
 * same key two key ids). WebCrypto checks the point is on the curve. Throws
 * CryptoError INVALID_PUBLIC_KEY.
 */
export async function importPublicKey(sec1) {
  if (!(sec1 instanceof Uint8Array) || sec1.length !== ENC_LEN || sec1[0] !== 0x04) {
    throw new CryptoError('INVALID_PUBLIC_KEY', 'not a 65-byte SEC1 uncompressed point');
  }
  try {
    return await subtle.importKey('raw', sec1, ECDH, true, []);
  } catch (_) {
    throw new CryptoError('INVALID_PUBLIC_KEY', 'not a P-256 point');
  }
}

/** The 65-byte SEC1 uncompressed encoding of a public CryptoKey. */
export async function exportPublicKey(publicKey) {
  return new Uint8Array(await subtle.exportKey('raw', publicKey));
}

// PKCS#8 PrivateKeyInfo for a P-256 key without the optional public key, which WebCrypto
// recomputes: the only way to turn a bare scalar into a CryptoKey (a JWK needs x and y).
const PKCS8_P256_PREFIX = new Uint8Array([
  0x30, 0x41, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
  0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x27, 0x30, 0x25, 0x02, 0x01, 0x01, 0x04, 0x20,
]);

/**
 * Imports a 32-byte big-endian P-256 scalar as an ECDH key pair:
 * {privateKey: CryptoKey, publicKey: Uint8Array (SEC1)}. For test vectors and for
 * a tender key rebuilt from custodians' shares; device keys never leave WebCrypto.
 */
export async function importPrivateKey(scalar, { extractable = false } = {}) {
  if (!(scalar instanceof Uint8Array) || scalar.length !== 32) {
    throw new CryptoError('INVALID_ARGUMENT', 'a P-256 private key is 32 bytes');
  }
  const pkcs8 = concat(PKCS8_P256_PREFIX, scalar);
  let full;
  try {
    // Extractable once, only to learn the public point.
    full = await subtle.importKey('pkcs8', pkcs8, ECDH, true, ['deriveBits']);
  } catch (_) {
    throw new CryptoError('INVALID_ARGUMENT', 'not a P-256 private key');
  }
  const jwk = await subtle.exportKey('jwk', full);
  const publicKey = concat(new Uint8Array([0x04]), fromB64url(jwk.x), fromB64url(jwk.y));
  const privateKey = extractable ? full : await subtle.importKey('pkcs8', pkcs8, ECDH, false, ['deriveBits']);
  pkcs8.fill(0);
  return { privateKey, publicKey };
}

/**
 * DeriveKeyPair (RFC 9180 §7.1.3) for P-256: a deterministic key pair from `ikm`.
 * Returns {privateKey (extractable), publicKey (SEC1), secret (the scalar's bytes)}.
 * Only known-answer tests use it: real ephemeral keys come from generateKey.
 */
export async function deriveKeyPair(ikm) {
  const prk = await labeledExtract(KEM_SUITE, new Uint8Array(0), 'dkp_prk', ikm);
  for (let counter = 0; counter < 256; counter++) {
    const bytes = await labeledExpand(KEM_SUITE, prk, 'candidate', new Uint8Array([counter]), 32);
    // The bitmask for P-256 is 0xff: nothing to clear.
    const sk = BigInt('0x' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(''));
    if (sk !== 0n && sk < P256_ORDER) {
      const pair = await importPrivateKey(bytes, { extractable: true });
      return { ...pair, secret: bytes };
    }
  }
  throw new CryptoError('INVALID_ARGUMENT', 'DeriveKeyPair failed');
}

async function dh(privateKey, publicKey) {
  // ECDH deriveBits on P-256 is the x-coordinate of the shared point, as HPKE wants.
  return new Uint8Array(await subtle.deriveBits({ name: 'ECDH', public: publicKey }, privateKey, 256));
}

async function extractAndExpand(dhBytes, kemContext) {
  const prk = await labeledExtract(KEM_SUITE, new Uint8Array(0), 'eae_prk', dhBytes);
  return labeledExpand(KEM_SUITE, prk, 'shared_secret', kemContext, N_SECRET);
}

async function encap(pkRSec1, ikmE) {
  const pkR = await importPublicKey(pkRSec1);
  let skE;
  let enc;
  if (ikmE) {
    const pair = await deriveKeyPair(ikmE);
    skE = pair.privateKey;
    enc = pair.publicKey;
  } else {
    const pair = await subtle.generateKey(ECDH, false, ['deriveBits']);
    skE = pair.privateKey;
    enc = await exportPublicKey(pair.publicKey);
  }
  const sharedSecret = await extractAndExpand(await dh(skE, pkR), concat(enc, pkRSec1));
  return { sharedSecret, enc };
}

/** Resolves a recipient given as a CryptoKeyPair or {privateKey, publicKey: CryptoKey | SEC1}. */
async function recipientKeys(recipient) {
  if (recipient instanceof CryptoKey) {
    if (!recipient.extractable) {
      throw new CryptoError(
        'INVALID_ARGUMENT',
        'HPKE open needs the recipient public key too: pass {privateKey, publicKey}',
      );
    }
    const jwk = await subtle.exportKey('jwk', recipient);
    return {
      privateKey: recipient,
      publicKey: concat(new Uint8Array([0x04]), fromB64url(jwk.x), fromB64url(jwk.y)),
    };
  }
  const { privateKey, publicKey } = recipient || {};
  if (!(privateKey instanceof CryptoKey)) throw new CryptoError('INVALID_ARGUMENT', 'no recipient private key');
  const sec1 = publicKey instanceof CryptoKey ? await exportPublicKey(publicKey) : publicKey;
  if (!(sec1 instanceof Uint8Array) || sec1.length !== ENC_LEN) {
    throw new CryptoError('INVALID_ARGUMENT', 'no recipient public key');
  }
  return { privateKey, publicKey: sec1 };
}

async function decap(enc, recipient) {
  const { privateKey, publicKey } = await recipientKeys(recipient);
  const pkE = await importPublicKey(enc);
  return extractAndExpand(await dh(privateKey, pkE), concat(enc, publicKey));
}

// ------------------------------------------------------------ key schedule --

class Context {
  constructor(key, baseNonce, exporterSecret, secrets) {
    this.key = key; // AES-GCM CryptoKey, non-extractable
    this.baseNonce = baseNonce;
    this.exporterSecret = exporterSecret;
    this.seq = 0;
    if (secrets) this.secrets = secrets;
  }

  nonce() {
    // base_nonce XOR I2OSP(seq, Nn); seq stays far below 2^32 here.
    const n = this.baseNonce.slice();
    const s = u32be(this.seq);
    for (let k = 0; k < 4; k++) n[N_N - 4 + k] ^= s[k];
    return n;
  }

  async seal(aad, pt) {
    const ct = await subtle.encrypt(
      { name: 'AES-GCM', iv: this.nonce(), additionalData: aad, tagLength: TAG_LEN * 8 },
      this.key,
      pt,
    );
    this.seq++;
    return new Uint8Array(ct);
  }

  /** Throws CryptoError HPKE_OPEN_FAILED when the tag does not verify. */
  async open(aad, ct) {
    let pt;
    try {
      pt = await subtle.decrypt(
        { name: 'AES-GCM', iv: this.nonce(), additionalData: aad, tagLength: TAG_LEN * 8 },
        this.key,
        ct,
      );
    } catch (_) {
      throw new CryptoError('HPKE_OPEN_FAILED');
    }
    this.seq++;
    return new Uint8Array(pt);
  }

  /** Secret export (RFC 9180 §5.3). */
  export(exporterContext, length) {
    return labeledExpand(HPKE_SUITE, this.exporterSecret, 'sec', exporterContext, length);
  }
}

async function keySchedule(sharedSecret, info, exposeSecrets) {
  const empty = new Uint8Array(0);
  const pskIdHash = await labeledExtract(HPKE_SUITE, empty, 'psk_id_hash', empty);
  const infoHash = await labeledExtract(HPKE_SUITE, empty, 'info_hash', info);
  const context = concat(new Uint8Array([0x00]), pskIdHash, infoHash); // mode_base
  const secret = await labeledExtract(HPKE_SUITE, sharedSecret, 'secret', empty); // psk = ""
  const key = await labeledExpand(HPKE_SUITE, secret, 'key', context, N_K);
  const baseNonce = await labeledExpand(HPKE_SUITE, secret, 'base_nonce', context, N_N);
  const exporterSecret = await labeledExpand(HPKE_SUITE, secret, 'exp', context, N_H);
  const aesKey = await subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt', 'decrypt']);
  const secrets = exposeSecrets
    ? { sharedSecret, keyScheduleContext: context, secret, key, baseNonce, exporterSecret }
    : null;
  if (!exposeSecrets) {
    key.fill(0);
    secret.fill(0);
  }
  return new Context(aesKey, baseNonce, exporterSecret, secrets);
}

/**
 * SetupBaseS: {enc, context}. Options for known-answer tests only: `ikmE` derives the
 * ephemeral key deterministically; `exposeSecrets` keeps the key schedule's values on
 * context.secrets.
 */
export async function setupBaseS(pkRSec1, info, { ikmE, exposeSecrets = false } = {}) {
  const { sharedSecret, enc } = await encap(pkRSec1, ikmE);
  return { enc, context: await keySchedule(sharedSecret, info, exposeSecrets) };
}

/** SetupBaseR: the receiving context. `recipient` as for open(). */
export async function setupBaseR(enc, recipient, info, { exposeSecrets = false } = {}) {
  return keySchedule(await decap(enc, recipient), info, exposeSecrets);
}

/**
 * Single-shot seal of `pt` to the 65-byte SEC1 public key: {enc (65 bytes), ct (pt + 16)}.
 * `options.ikmE` (tests only) makes the ephemeral key deterministic.
 */
export async function seal(recipientPublicSec1, info, aad, pt, options = {}) {
  const { enc, context } = await setupBaseS(recipientPublicSec1, info, options);
  return { enc, ct: await context.seal(aad, pt) };
}

/**
 * Single-shot open. `recipient` is a CryptoKeyPair (as device keys are kept), or
 * {privateKey, publicKey: CryptoKey | SEC1 bytes}: DHKEM's key derivation hashes the
 * recipient's public key, which a non-extractable private key cannot give. A bare
 * private CryptoKey works only if it is extractable. Throws CryptoError
 * HPKE_OPEN_FAILED when `enc` is not a P-256 point or the ciphertext does not open.
 */
export async function open(recipient, info, aad, { enc, ct }) {
  let context;
  try {
    context = await setupBaseR(enc, recipient, info);
  } catch (e) {
    if (e instanceof CryptoError && e.code === 'INVALID_PUBLIC_KEY') throw new CryptoError('HPKE_OPEN_FAILED');
    throw e;
  }
  return context.open(aad, ct);
}
