// A custodian's share of a tender's opening key (src/tender/opening_key.rs): sealed at
// publication to the custodian's encryption key (HPKE, info "kaibiao/KB1/share", aad
// "<tender_id>\n<index>") and checked against the published Feldman commitments C_j:
// share·G == Σ_j C_j·index^j. The point arithmetic is @noble/curves (vendored).

import { p256 } from '../../vendor/noble-curves/nist.js';
import * as hpke from './hpke.js';
import { equal, fromB64url, sha256Hex, toHex, utf8 } from './bytes.js';

const SHARE_INFO = utf8('kaibiao/KB1/share');

/**
 * The commitments of an opening key (`{public_key, key_id, threshold, commitments}`) as
 * curve points, and whether they agree with the published key; throws if malformed.
 */
export async function commitmentPoints(key) {
  const raw = (key.commitments || []).map((c) => fromB64url(c));
  if (!raw.length || raw.some((c) => !c)) throw new Error('malformed commitments');
  const points = raw.map((c) => p256.Point.fromBytes(c));
  const published = fromB64url(key.public_key);
  const ok = Boolean(published) && equal(raw[0], published) && (await sha256Hex(raw[0])) === key.key_id &&
    raw.length === Number(key.threshold);
  return { points, ok };
}

/** Feldman VSS: f(i)·G == Σ_j i^j·C_j. `value` is the share, a 32-byte big-endian scalar. */
export function shareMatches(value, index, points) {
  const { Point } = p256;
  const n = Point.Fn.ORDER;
  const s = BigInt(`0x${toHex(value)}`);
  if (s === 0n || s >= n) return false;
  const lhs = Point.BASE.multiply(s);
  const x = BigInt(index) % n;
  let rhs = Point.ZERO;
  let power = 1n;
  for (const c of points) {
    // Public values only: the variable-time multiplication is fine here.
    rhs = rhs.add(c.multiplyUnsafe(power));
    power = (power * x) % n;
  }
  return lhs.equals(rhs);
}

/** Opens `share` (GET /api/tenders/{id}/my-share) with a device key record's encryption key. */
export function unsealShare(share, record) {
  const sealed = { enc: fromB64url(share.sealed.enc), ct: fromB64url(share.sealed.ct) };
  const aad = utf8(`${share.tender_id}\n${share.index}`);
  return hpke.open(record.encryption, SHARE_INFO, aad, sealed);
}
