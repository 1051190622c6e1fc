// Byte helpers shared by the crypto modules: hex, base64 (strict base64url without
// padding, as KB1 writes binary JSON fields), UTF-8, big-endian integers.

const utf8Encoder = new TextEncoder();

export function utf8(text) {
  return utf8Encoder.encode(text);
}

export function concat(...parts) {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function u32be(n) {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, false);
  return out;
}

export function readU32be(bytes, at = 0) {
  return new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0, false);
}

export function equal(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export function xor(a, b) {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

/** Overwrites a secret we no longer need (best effort: JS may have copied it). */
export function wipe(bytes) {
  if (bytes) bytes.fill(0);
}

export function randomBytes(n) {
  return crypto.getRandomValues(new Uint8Array(n));
}

// ---------------------------------------------------------------------- hex --

const HEX = '0123456789abcdef';

export function toHex(bytes) {
  let s = '';
  for (const b of bytes) s += HEX[b >> 4] + HEX[b & 15];
  return s;
}

/** Lower- or upper-case hex of even length; throws a TypeError otherwise. */
export function fromHex(hex) {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new TypeError('invalid hex');
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** True for exactly 64 lower-case hex characters (a SHA-256 or a key id as KB1 writes it). */
export function isHex64(s) {
  return typeof s === 'string' && /^[0-9a-f]{64}$/.test(s);
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

export async function sha256Hex(bytes) {
  return toHex(await sha256(bytes));
}

// ------------------------------------------------------------------- base64 --

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const URL_VALUES = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) URL_VALUES[URL_ALPHABET.charCodeAt(i)] = i;

function encode(bytes, alphabet, pad) {
  let s = '';
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    s += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + alphabet[(n >> 6) & 63] + alphabet[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    s += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + (pad ? '==' : '');
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    s += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + alphabet[(n >> 6) & 63] + (pad ? '=' : '');
  }
  return s;
}

/** base64url without padding (RFC 4648 §5). */
export function toB64url(bytes) {
  return encode(bytes, URL_ALPHABET, false);
}

/** Standard base64 with padding (RFC 4648 §4). */
export function toBase64(bytes) {
  return encode(bytes, STD, true);
}

/**
 * Strict base64url without padding, as the Rust side decodes it: no padding, no
 * whitespace, no length ≡ 1 (mod 4), and no non-zero bits after the last byte, so every
 * byte string has exactly one accepted encoding (KB1 headers must be canonical).
 * Returns null on anything else.
 */
export function fromB64url(s) {
  if (typeof s !== 'string' || s.length % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? URL_VALUES[c] : -1;
    if (v < 0) return null;
    acc = ((acc << 6) | v) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) return null;
  return out;
}

/** Standard base64 with or without padding (test vectors, API payloads); throws on error. */
export function fromBase64(s) {
  const url = s.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  const out = fromB64url(url);
  if (!out || /[-_]/.test(s)) throw new TypeError('invalid base64');
  return out;
}
