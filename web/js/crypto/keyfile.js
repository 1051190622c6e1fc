// Key files (kaibiao-keyfile-1, src/pki/keyfile.rs): device keys made by the CLI or the
// demo, kept under a passphrase. argon2id (the file's m, t, p and salt; @noble/hashes,
// vendored) turns the passphrase into an AES-256-GCM key; AAD "kaibiao-keyfile-1\n<user
// id>"; the plaintext is {signing_pkcs8, encryption_secret}. Opening one here imports both
// private keys into WebCrypto as NON-extractable keys and stores them in the same
// IndexedDB record keys.js makes, so every page that uses device keys works with them.
// The secrets exist in page memory only between decryption and import, and are wiped.

import { argon2idAsync } from '../../vendor/noble-hashes/argon2.js';
import { get } from '../api.js';
import { equal, fromB64url, sha256Hex, toB64url, utf8, wipe } from './bytes.js';
import { importPrivateKey, importPublicKey } from './hpke.js';
import { storeDeviceKeys } from './keys.js';

export const FORMAT = 'kaibiao-keyfile-1';
const ECDSA = { name: 'ECDSA', namedCurve: 'P-256' };
// Refuse files asking for more than this: a hostile file could otherwise hang the tab.
const MAX_M_KIB = 256 * 1024;
const MAX_T = 16;

/**
 * Why a key file was not taken. `code`: KEYFILE_FORMAT (not a key file, or damaged),
 * KEYFILE_PASSPHRASE (wrong passphrase), KEYFILE_OTHER_USER (made for another account),
 * KEYFILE_MISMATCH (its secrets do not belong to its public keys),
 * KEYFILE_NOT_REGISTERED (its keys are not this user's active keys on the platform).
 */
export class KeyFileError extends Error {
  constructor(code, detail = '') {
    super(detail ? `${code}: ${detail}` : code);
    this.name = 'KeyFileError';
    this.code = code;
  }
}

const format = (detail) => new KeyFileError('KEYFILE_FORMAT', detail);

function b64(value, what, length) {
  const bytes = typeof value === 'string' ? fromB64url(value) : null;
  if (!bytes || (length !== undefined && bytes.length !== length)) throw format(`${what} is not valid base64url`);
  return bytes;
}

function uint(value, what, min, max) {
  if (!Number.isSafeInteger(value) || value < min || value > max) throw format(`${what} out of range`);
  return value;
}

/** Reads a key file's public part (no passphrase needed); throws KEYFILE_FORMAT. */
export function parseKeyFile(text) {
  let f;
  try {
    f = JSON.parse(text);
  } catch (_) {
    throw format('not JSON');
  }
  if (!f || typeof f !== 'object' || f.format !== FORMAT) throw format('not a kaibiao key file');
  const kdf = f.kdf || {};
  if (kdf.alg !== 'argon2id') throw format('unsupported KDF');
  if (typeof f.user_id !== 'string' || !f.user_id) throw format('no user id');
  return {
    userId: f.user_id,
    signingPublic: b64(f.signing_public, 'signing_public', 65),
    encryptionPublic: b64(f.encryption_public, 'encryption_public', 65),
    kdf: {
      m: uint(kdf.m_kib, 'm_kib', 8, MAX_M_KIB),
      t: uint(kdf.t, 't', 1, MAX_T),
      p: uint(kdf.p, 'p', 1, 16),
      salt: b64(kdf.salt, 'salt'),
    },
    nonce: b64(f.nonce, 'nonce', 12),
    ciphertext: b64(f.ciphertext, 'ciphertext'),
  };
}

function aad(userId) {
  return utf8(`${FORMAT}\n${userId}`);
}

async function describe(privateKey, publicKey, publicSec1) {
  return {
    privateKey,
    publicKey,
    publicSec1,
    publicB64: toB64url(publicSec1),
    keyId: await sha256Hex(publicSec1),
    registeredAt: null,
  };
}

/**
 * Opens `text` (a key file) with `passphrase` and returns a keys.js-style record with
 * non-extractable private keys, not yet stored or checked against the platform.
 * `onProgress(fraction)` follows the key derivation, which takes a few seconds.
 */
export async function openKeyFile(text, passphrase, { onProgress } = {}) {
  const f = parseKeyFile(text);
  const pass = utf8(String(passphrase ?? ''));
  let key;
  try {
    key = await argon2idAsync(pass, f.kdf.salt, {
      m: f.kdf.m,
      t: f.kdf.t,
      p: f.kdf.p,
      dkLen: 32,
      maxmem: 2 ** 32 - 1,
      onProgress,
    });
  } finally {
    wipe(pass);
  }
  let plain;
  try {
    const aes = await crypto.subtle.importKey('raw', key, 'AES-GCM', false, ['decrypt']);
    plain = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: f.nonce, additionalData: aad(f.userId) }, aes, f.ciphertext));
  } catch (_) {
    throw new KeyFileError('KEYFILE_PASSPHRASE');
  } finally {
    wipe(key);
  }
  let pkcs8 = null;
  let scalar = null;
  try {
    let secrets;
    try {
      secrets = JSON.parse(new TextDecoder().decode(plain));
    } catch (_) {
      throw format('secrets are not JSON');
    }
    pkcs8 = b64(secrets.signing_pkcs8, 'signing_pkcs8');
    scalar = b64(secrets.encryption_secret, 'encryption_secret', 32);
    secrets = null;

    let signingPrivate;
    try {
      signingPrivate = await crypto.subtle.importKey('pkcs8', pkcs8, ECDSA, false, ['sign']);
    } catch (_) {
      throw format('signing key does not import');
    }
    const signingPublic = await crypto.subtle.importKey('raw', f.signingPublic, ECDSA, true, ['verify']);
    // The private signing key must belong to the public one the file names.
    const probe = utf8(`${FORMAT} check\n${f.userId}`);
    const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, signingPrivate, probe);
    if (!(await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, signingPublic, sig, probe))) {
      throw new KeyFileError('KEYFILE_MISMATCH', 'signing key');
    }

    let enc;
    try {
      enc = await importPrivateKey(scalar, { extractable: false });
    } catch (_) {
      throw format('encryption key does not import');
    }
    if (!equal(enc.publicKey, f.encryptionPublic)) {
      throw new KeyFileError('KEYFILE_MISMATCH', 'encryption key');
    }
    return {
      version: 1,
      userId: f.userId,
      createdAt: Date.now(),
      source: 'keyfile',
      signing: await describe(signingPrivate, signingPublic, f.signingPublic),
      encryption: await describe(enc.privateKey, await importPublicKey(enc.publicKey), enc.publicKey),
    };
  } finally {
    wipe(plain);
    if (pkcs8) wipe(pkcs8);
    if (scalar) wipe(scalar);
  }
}

/**
 * Checks an opened record against the platform: the file must be `userId`'s, and both of
 * its keys must be that user's active registered keys (their registration time is
 * taken from there). Throws KeyFileError.
 */
export async function checkRegistered(record, userId) {
  if (record.userId !== userId) throw new KeyFileError('KEYFILE_OTHER_USER');
  const list = await get('/api/keys');
  const active = (Array.isArray(list) ? list : []).filter((k) => k.status === 'active');
  for (const purpose of ['signing', 'encryption']) {
    const view = active.find((k) => k.purpose === purpose && k.key_id === record[purpose].keyId);
    if (!view) throw new KeyFileError('KEYFILE_NOT_REGISTERED', purpose);
    record[purpose].registeredAt = view.created_at;
  }
  return record;
}

/**
 * Opens, checks and stores a key file for `userId` (replacing keys this browser holds
 * for the user only with `replace`). Returns the stored record.
 */
export async function importKeyFile(text, passphrase, userId, { replace = false, onProgress } = {}) {
  // Cheap checks first: a file for another account fails before the slow derivation.
  if (parseKeyFile(text).userId !== userId) throw new KeyFileError('KEYFILE_OTHER_USER');
  const record = await openKeyFile(text, passphrase, { onProgress });
  await checkRegistered(record, userId);
  return storeDeviceKeys(record, { replace });
}
