// Device keys: a P-256 ECDSA signing key and a P-256 ECDH encryption key, made by
// WebCrypto as non-extractable CryptoKeys and kept in IndexedDB (structured clone keeps
// a CryptoKey non-extractable: the page can use it, never read it). Only public keys
// leave the browser, registered with POST /api/keys with a proof of possession.
//
// A record per user id: {version, userId, createdAt, signing, encryption}, each key
// {privateKey, publicKey (CryptoKeys), publicSec1 (65 bytes), publicB64, keyId,
// registeredAt (ms, or null until the server certified it)}. As a CryptoKeyPair-like
// object, record.encryption can be given to hpke.open / kb1.unsealKb directly.

import { get, post } from '../api.js';
import { sha256Hex, toB64url, utf8 } from './bytes.js';

const DB_NAME = 'kaibiao-device-keys';
const STORE = 'keys';
const ECDSA = { name: 'ECDSA', namedCurve: 'P-256' };
const ECDH = { name: 'ECDH', namedCurve: 'P-256' };

/** The text signed to register a key (src/pki/types.rs registration_statement). */
export function registrationStatement(userId, purpose, publicKeyB64) {
  return `kaibiao key registration v1\nuser:${userId}\npurpose:${purpose}\nkey:${publicKeyB64}`;
}

// ---------------------------------------------------------------- IndexedDB --

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function openDb() {
  const req = indexedDB.open(DB_NAME, 1);
  req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'userId' });
  return request(req);
}

async function withStore(mode, fn) {
  const db = await openDb();
  try {
    const tx = db.transaction(STORE, mode);
    const done = new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onabort = tx.onerror = () => reject(tx.error);
    });
    // Both settle (and both rejections are handled) before the database is closed.
    const [result] = await Promise.all([request(fn(tx.objectStore(STORE))), done]);
    return result;
  } finally {
    db.close();
  }
}

const save = (record) => withStore('readwrite', (s) => s.put(record));

/**
 * Stores a complete record made elsewhere (keyfile.js imports one from a key file),
 * refusing to overwrite keys this browser already holds for the user unless `replace`.
 */
export async function storeDeviceKeys(record, { replace = false } = {}) {
  if (!replace && (await loadDeviceKeys(record.userId))) {
    throw new Error('this browser already holds device keys for the user');
  }
  await save(record);
  return record;
}

/** The stored device keys of `userId`, or null. */
export async function loadDeviceKeys(userId) {
  return (await withStore('readonly', (s) => s.get(userId))) ?? null;
}

/** Forgets the device keys of `userId` on this browser (the server's record stays). */
export function deleteDeviceKeys(userId) {
  return withStore('readwrite', (s) => s.delete(userId));
}

// ---------------------------------------------------------------- creation --

async function describe(pair) {
  const publicSec1 = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  return {
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    publicSec1,
    publicB64: toB64url(publicSec1),
    keyId: await sha256Hex(publicSec1),
    registeredAt: null,
  };
}

/**
 * Makes a new non-extractable signing and encryption key pair for `userId` and stores
 * them (not registered yet). Refuses to overwrite keys this browser already holds for
 * the user unless `replace` is set: without the old encryption key, the bidder's halves
 * of the data keys of bids already sealed could not be opened.
 */
export async function createDeviceKeys(userId, { replace = false } = {}) {
  if (typeof userId !== 'string' || !userId) throw new TypeError('a user id is required');
  if (!replace && (await loadDeviceKeys(userId))) {
    throw new Error('this browser already holds device keys for the user');
  }
  const signing = await crypto.subtle.generateKey(ECDSA, false, ['sign', 'verify']);
  const encryption = await crypto.subtle.generateKey(ECDH, false, ['deriveBits']);
  const record = {
    version: 1,
    userId,
    createdAt: Date.now(),
    signing: await describe(signing),
    encryption: await describe(encryption),
  };
  await save(record);
  return record;
}

/** ECDSA P-256 / SHA-256 with the signing key: 64 bytes r || s, as the server expects. */
export async function sign(record, bytes) {
  const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, record.signing.privateKey, bytes);
  return new Uint8Array(sig);
}

/**
 * Registers the record's keys that the server has not certified yet: the signing key
 * first (the server checks an encryption key's proof with the active signing key), each
 * with a proof signed by the signing key. Marks them registered in IndexedDB and returns
 * the record. API errors are thrown as api.js ApiErrors.
 */
export async function registerDeviceKeys(record) {
  for (const purpose of ['signing', 'encryption']) {
    const key = record[purpose];
    if (key.registeredAt) continue;
    const statement = registrationStatement(record.userId, purpose, key.publicB64);
    const proof = await sign(record, utf8(statement));
    let view;
    try {
      view = await post('/api/keys', { purpose, public_key: key.publicB64, proof: toB64url(proof) });
    } catch (e) {
      // A registration whose answer was lost (closed tab, network) is a conflict on retry.
      view = e && e.status === 409 ? await activeKey(key.keyId) : null;
      if (!view) throw e;
    }
    if (view.key_id !== key.keyId) throw new Error(`the server registered ${view.key_id}, not ${key.keyId}`);
    key.registeredAt = view.created_at;
    await save(record);
  }
  return record;
}

async function activeKey(keyId) {
  const keys = await get('/api/keys');
  return (keys || []).find((k) => k.key_id === keyId && k.status === 'active') || null;
}

/**
 * The user's device keys, made and registered if this browser has none (or registration
 * was interrupted).
 */
export async function ensureDeviceKeys(userId) {
  const record = (await loadDeviceKeys(userId)) || (await createDeviceKeys(userId));
  return registerDeviceKeys(record);
}
