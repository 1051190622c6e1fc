"""An independent client library for kaibiao's published formats.

Written from the documents only: docs/bid-format.md (the KB1 container, the package and
its manifest, the encodings), docs/schema/kb1-manifest.schema.json, docs/keys.md (device
key files, registration and login proofs, opening-key shares, receipts) and the vectors
in tests/vectors/. Nothing here is derived from the server's or the browser's code.

Primitives: `cryptography` for ECDSA P-256, AES-256-GCM, Argon2id and PKCS#8; `pyhpke`
for RFC 9180 HPKE; P-256 point addition for Feldman commitments in plain Python ints.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from pyhpke import AEADId, CipherSuite, KDFId, KEMId, KEMKey

# --------------------------------------------------------------------------------------
# Encodings (bid-format.md, "Encodings, exactly")
# --------------------------------------------------------------------------------------

_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def b64u(data: bytes) -> str:
    """base64url without padding (bid-format.md, "Encodings, exactly")."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64u(text, length: int | None = None) -> bytes:
    """Strict base64url decoding: no padding, no `+` `/` or whitespace, zero trailing
    bits, so each byte string has one spelling (bid-format.md, "Encodings, exactly").
    Raises ValueError; with `length`, also when the decoded size differs."""
    if not isinstance(text, str) or not _B64URL.match(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64u(data) != text:
        raise ValueError("non-zero trailing bits")
    if length is not None and len(data) != length:
        raise ValueError(f"expected {length} bytes, got {len(data)}")
    return data


def is_hex64(value) -> bool:
    """64 lower-case hex characters: a key id or SHA-256 value (bid-format.md)."""
    return isinstance(value, str) and bool(_HEX64.match(value))


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 (bid-format.md, Primitives)."""
    return hashlib.sha256(data).hexdigest()


def canonical_json(value) -> bytes:
    """Canonical JSON: compact, object keys sorted by their UTF-8 bytes, UTF-8 text
    (bid-format.md "Header"; keys.md "Receipts"). Python's code-point order of str keys
    is the order of their UTF-8 bytes."""
    return json.dumps(
        value, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
    ).encode("utf-8")


def _no_duplicates(pairs):
    obj = {}
    for key, val in pairs:
        if key in obj:
            raise ValueError(f"duplicate key {key!r}")
        obj[key] = val
    return obj


def _no_float(text):
    raise ValueError(f"a number with a fraction or exponent: {text}")


def strict_json(text: str | bytes):
    """JSON as the formats read it: integers only (no fraction or exponent, no NaN),
    no duplicate keys (bid-format.md, "The package": "an integer written with a fraction
    or exponent (1000.0, 1e3) ... does not parse"). Raises ValueError."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return json.loads(
        text, parse_float=_no_float, parse_constant=_no_float, object_pairs_hook=_no_duplicates
    )


# --------------------------------------------------------------------------------------
# P-256 (bid-format.md Primitives; keys.md "Opening-key shares")
# --------------------------------------------------------------------------------------

CURVE = ec.SECP256R1()
# Domain parameters of P-256 (SEC 2 / FIPS 186-4): field prime, a = -3, order n.
P = 2**256 - 2**224 + 2**192 + 2**96 - 1
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def public_from_sec1(data: bytes) -> ec.EllipticCurvePublicKey:
    """A 65-byte SEC1 uncompressed point on the curve; the compressed form, the point at
    infinity and points off the curve are refused (bid-format.md, "Encodings, exactly")."""
    if len(data) != 65 or data[0] != 0x04:
        raise ValueError("not a 65-byte uncompressed SEC1 point")
    return ec.EllipticCurvePublicKey.from_encoded_point(CURVE, data)


def sec1(key) -> bytes:
    """The SEC1 uncompressed encoding of a public (or a private key's public) key."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        key = key.public_key()
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def key_id(sec1_bytes: bytes) -> str:
    """Key id: lower-case hex SHA-256 of the SEC1 uncompressed key (bid-format.md)."""
    return sha256_hex(sec1_bytes)


def private_from_scalar(scalar: int | bytes) -> ec.EllipticCurvePrivateKey:
    """A private key from its 32-byte big-endian scalar (keys.md "The key file")."""
    if isinstance(scalar, bytes):
        if len(scalar) != 32:
            raise ValueError("a scalar is 32 bytes")
        scalar = int.from_bytes(scalar, "big")
    if not 0 < scalar < N:
        raise ValueError("scalar out of range")
    return ec.derive_private_key(scalar, CURVE)


def scalar_of(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The 32-byte big-endian private scalar."""
    return key.private_numbers().private_value.to_bytes(32, "big")


def _affine(sec1_bytes: bytes):
    numbers = public_from_sec1(sec1_bytes).public_numbers()
    return numbers.x, numbers.y


def _point_add(p, q):
    """Affine addition on y^2 = x^3 - 3x + b over GF(P); None is the point at infinity.
    Only public values go through it (commitments), so it need not be constant-time."""
    if p is None:
        return q
    if q is None:
        return p
    (x1, y1), (x2, y2) = p, q
    if x1 == x2:
        if (y1 + y2) % P == 0:
            return None
        lam = (3 * x1 * x1 - 3) * pow(2 * y1, -1, P) % P
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (lam * lam - x1 - x2) % P
    return x3, (lam * (x1 - x3) - y1) % P


def _point_mul(k: int, point):
    """k·point by double-and-add (public values only, as `_point_add`)."""
    result = None
    for bit in bin(k % N)[2:]:
        result = _point_add(result, result)
        if bit == "1":
            result = _point_add(result, point)
    return result


# --------------------------------------------------------------------------------------
# ECDSA P-256/SHA-256, r‖s (keys.md, top)
# --------------------------------------------------------------------------------------


def sign(key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    """ECDSA P-256 with SHA-256 as the 64 bytes r‖s (keys.md). s is normalised to the
    lower half (a valid signature either way; keys.md does not say whether high s is
    accepted, so the client sends the form every verifier takes)."""
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    if s > N // 2:
        s = N - s
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify(public_sec1: bytes, message: bytes, signature: bytes) -> bool:
    """Checks an r‖s signature (keys.md) with a SEC1 public key."""
    if len(signature) != 64:
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (0 < r < N and 0 < s < N):
        return False
    try:
        public_from_sec1(public_sec1).verify(
            encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256())
        )
        return True
    except InvalidSignature:
        return False


# --------------------------------------------------------------------------------------
# HPKE, suite KB1 (bid-format.md Primitives and Keys; keys.md shares)
# --------------------------------------------------------------------------------------

_SUITE = CipherSuite.new(KEMId.DHKEM_P256_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId.AES256_GCM)
INFO_KB = b"kaibiao/KB1/kb"
INFO_KT = b"kaibiao/KB1/kt"
INFO_SHARE = b"kaibiao/KB1/share"


def hpke_seal(public_sec1: bytes, info: bytes, aad: bytes, plaintext: bytes) -> dict:
    """HPKE base-mode single-shot seal → {"ct", "enc"} in base64url (bid-format.md Keys)."""
    pkr = KEMKey.from_pyca_cryptography_key(public_from_sec1(public_sec1))
    enc, ctx = _SUITE.create_sender_context(pkr, info=info)
    return {"ct": b64u(ctx.seal(plaintext, aad=aad)), "enc": b64u(enc)}


def hpke_open(private: ec.EllipticCurvePrivateKey, info: bytes, aad: bytes, sealed: dict) -> bytes:
    """HPKE base-mode single-shot open of {"ct", "enc"}; raises ValueError on any failure."""
    try:
        enc = unb64u(sealed["enc"], 65)
        public_from_sec1(enc)
        ct = unb64u(sealed["ct"])
        ctx = _SUITE.create_recipient_context(
            enc, KEMKey.from_pyca_cryptography_key(private), info=info
        )
        return ctx.open(ct, aad=aad)
    except Exception as e:  # pyhpke raises its own types: one failure for the caller
        raise ValueError(f"HPKE open failed: {e}") from e


# --------------------------------------------------------------------------------------
# KB1 container (bid-format.md "Layout", "Keys", "Segments", "Errors when opening")
# --------------------------------------------------------------------------------------

MAGIC = b"KAIBIAO1"
MAX_HEADER = 65536
TAG = 16
MIB = 1 << 20
HEADER_FIELDS = {
    "bid_id",
    "bidder_key",
    "bidder_org_id",
    "kb_sealed",
    "kb_sha256",
    "kt_sealed",
    "lot_no",
    "nonce_prefix",
    "segment_size",
    "suite",
    "tender_id",
    "tender_key",
    "version",
}
EXPECT_ORDER = ("tender_id", "lot_no", "bidder_org_id", "bid_id", "tender_key", "bidder_key")


class KB1Error(Exception):
    """An opening failure with its stable code (bid-format.md, "Errors when opening");
    `segment` names the failing segment, `field` the mismatching or invalid field."""

    def __init__(
        self, code: str, message: str = "", segment: int | None = None, field: str | None = None
    ):
        super().__init__(f"{code}: {message}" if message else code)
        self.code, self.segment, self.field = code, segment, field


def kb1_aad(tender_id: str, bid_id: str) -> bytes:
    """A = UTF-8(tender_id || "\\n" || bid_id) (bid-format.md Keys)."""
    return f"{tender_id}\n{bid_id}".encode("utf-8")


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", index) + (b"\x01" if last else b"\x00")


@dataclass
class SealParams:
    """What the header names (bid-format.md Header): the ids the server issued at the
    start, and the two public keys the halves are sealed to."""

    tender_id: str
    lot_no: int
    bidder_org_id: str
    bid_id: str
    bidder_public: bytes  # SEC1, the bidder's certified encryption key
    tender_public: bytes  # SEC1, the tender's opening key
    segment_size: int = MIB


def seal_container(params: SealParams, package: bytes) -> tuple[bytes, bytes]:
    """Seals a package into a KB1 container (bid-format.md Layout, Keys, Segments).
    Returns (container, kb): kb is the bidder's half, kept for the opening."""
    seg = params.segment_size
    if seg & (seg - 1) or not 64 <= seg <= 1 << 24:
        raise ValueError("segment_size is a power of two from 64 to 16 MiB")
    for name in ("tender_id", "bid_id"):
        value = getattr(params, name)
        if not value or "\n" in value:
            raise ValueError(f"{name} is non-empty and holds no line feed")
    kb, kt, prefix = os.urandom(32), os.urandom(32), os.urandom(7)
    aad = kb1_aad(params.tender_id, params.bid_id)
    header = {
        "bid_id": params.bid_id,
        "bidder_key": key_id(params.bidder_public),
        "bidder_org_id": params.bidder_org_id,
        "kb_sealed": hpke_seal(params.bidder_public, INFO_KB, aad, kb),
        "kb_sha256": sha256_hex(kb),
        "kt_sealed": hpke_seal(params.tender_public, INFO_KT, aad, kt),
        "lot_no": params.lot_no,
        "nonce_prefix": b64u(prefix),
        "segment_size": seg,
        "suite": "KB1",
        "tender_id": params.tender_id,
        "tender_key": key_id(params.tender_public),
        "version": 1,
    }
    header_bytes = canonical_json(header)
    h = hashlib.sha256(header_bytes).digest()
    dek = AESGCM(bytes(a ^ b for a, b in zip(kb, kt)))
    out = [MAGIC, struct.pack(">I", len(header_bytes)), header_bytes]
    count = max(1, -(-len(package) // seg))
    for i in range(count):
        pt = package[i * seg : (i + 1) * seg]
        out.append(dek.encrypt(_nonce(prefix, i, i == count - 1), pt, h + struct.pack(">I", i)))
    return b"".join(out), kb


def _header_strict(header: dict) -> None:
    """The header's fields, strictly (bid-format.md Header and "Encodings, exactly")."""
    if set(header) != HEADER_FIELDS:
        raise ValueError(f"fields {sorted(set(header) ^ HEADER_FIELDS)} unknown or missing")
    for name in ("bid_id", "tender_id", "bidder_org_id"):
        if not isinstance(header[name], str) or not header[name]:
            raise ValueError(f"{name} is empty or not text")
    if "\n" in header["tender_id"] or "\n" in header["bid_id"]:
        raise ValueError("a line feed in tender_id or bid_id")
    for name in ("bidder_key", "tender_key", "kb_sha256"):
        if not is_hex64(header[name]):
            raise ValueError(f"{name} is not 64 lower-case hex")
    for name in ("kb_sealed", "kt_sealed"):
        half = header[name]
        if not isinstance(half, dict) or set(half) != {"ct", "enc"}:
            raise ValueError(f"{name} is not {{ct, enc}}")
        unb64u(half["ct"], 48)
        public_from_sec1(unb64u(half["enc"], 65))
    if header["suite"] != "KB1" or type(header["version"]) is not int or header["version"] != 1:
        raise ValueError('suite and version are "KB1" and the integer 1')
    unb64u(header["nonce_prefix"], 7)
    lot, seg = header["lot_no"], header["segment_size"]
    if type(lot) is not int or not 0 <= lot < 2**32:
        raise ValueError("lot_no is not a u32")
    if type(seg) is not int or seg & (seg - 1) or not 64 <= seg <= 1 << 24:
        raise ValueError("segment_size is not a power of two from 64 to 16 MiB")


def parse_header(data: bytes) -> tuple[dict, bytes, int]:
    """Step 1 of "Errors when opening": magic, length, suite and version read leniently,
    then the whole header strictly. Returns (header, header bytes, offset of segment 0)."""
    data = data[: 12 + MAX_HEADER]
    if len(data) < len(MAGIC):
        if MAGIC.startswith(data):
            raise KB1Error("CONTAINER_TRUNCATED", "shorter than the magic")
        raise KB1Error("CONTAINER_MAGIC")
    if data[:8] != MAGIC:
        raise KB1Error("CONTAINER_MAGIC")
    if len(data) < 12:
        raise KB1Error("CONTAINER_TRUNCATED", "ends inside the header length")
    (n,) = struct.unpack(">I", data[8:12])
    if not 1 <= n <= MAX_HEADER:
        raise KB1Error("CONTAINER_HEADER", f"header length {n}")
    if len(data) < 12 + n:
        raise KB1Error("CONTAINER_TRUNCATED", "ends inside the header")
    raw = data[12 : 12 + n]
    try:
        lenient = json.loads(raw.decode("utf-8"))
    except ValueError as e:
        raise KB1Error("CONTAINER_HEADER", f"not JSON: {e}") from e
    if not isinstance(lenient, dict):
        raise KB1Error("CONTAINER_HEADER", "not an object")
    if lenient.get("suite", "KB1") != "KB1" or lenient.get("version", 1) != 1:
        raise KB1Error(
            "CONTAINER_SUITE", f"suite {lenient.get('suite')!r} version {lenient.get('version')!r}"
        )
    try:
        header = strict_json(raw)
        _header_strict(header)
        if canonical_json(header) != raw:
            raise ValueError("not canonical JSON")
    except ValueError as e:
        raise KB1Error("CONTAINER_HEADER", str(e)) from e
    return header, raw, 12 + n


def open_container(
    data: bytes,
    expect: dict,
    tender_private: ec.EllipticCurvePrivateKey,
    bidder_private: ec.EllipticCurvePrivateKey | None = None,
    presented_kb: bytes | None = None,
) -> dict:
    """Opens a container as the opening does, the checks in the documented order, the
    first failure raised as KB1Error (bid-format.md, "Errors when opening" 1-7).
    Returns {header, header_sha256, kb, kt, dek, segment_count, package, manifest,
    documents: [bytes]}."""
    header, raw, offset = parse_header(data)
    for name in EXPECT_ORDER:  # 2. what the server expects
        if header[name] != expect[name]:
            raise KB1Error("HEADER_MISMATCH", name, field=name)
    body = data[offset:]  # 3. the length of what follows
    stride = header["segment_size"] + TAG
    if len(body) < TAG or 0 < len(body) % stride < TAG:
        raise KB1Error("CONTAINER_TRUNCATED", "a final segment shorter than a tag")
    aad = kb1_aad(header["tender_id"], header["bid_id"])
    if presented_kb is not None:  # 4. kb
        kb = presented_kb
    else:
        try:
            kb = hpke_open(bidder_private, INFO_KB, aad, header["kb_sealed"])
        except ValueError as e:
            raise KB1Error("KB_UNSEAL_FAILED", str(e)) from e
    if sha256_hex(kb) != header["kb_sha256"]:
        raise KB1Error("KB_HASH_MISMATCH")
    try:  # 5. kt
        kt = hpke_open(tender_private, INFO_KT, aad, header["kt_sealed"])
    except ValueError as e:
        raise KB1Error("KT_UNSEAL_FAILED", str(e)) from e
    if len(kb) != 32 or len(kt) != 32:
        raise KB1Error("KB_HASH_MISMATCH" if len(kb) != 32 else "KT_UNSEAL_FAILED", "not 32 bytes")
    dek = bytes(a ^ b for a, b in zip(kb, kt))
    h = hashlib.sha256(raw).digest()  # 6. the segments
    prefix = unb64u(header["nonce_prefix"], 7)
    count = -(-len(body) // stride)
    aes, plain = AESGCM(dek), []
    for i in range(count):
        ct = body[i * stride : (i + 1) * stride]
        try:
            plain.append(
                aes.decrypt(_nonce(prefix, i, i == count - 1), ct, h + struct.pack(">I", i))
            )
        except InvalidTag as e:
            raise KB1Error("SEGMENT_AUTH_FAILED", f"segment {i}", segment=i) from e
    package = b"".join(plain)
    manifest, documents = parse_package(package)  # 7. the package, then the manifest
    verdict = sheet_verdict(manifest)
    if verdict is not None:
        raise KB1Error(verdict[0], verdict[1], field=verdict[1])
    return {
        "header": header,
        "header_sha256": h.hex(),
        "kb": kb,
        "kt": kt,
        "dek": dek,
        "nonce_prefix": prefix,
        "segment_count": count,
        "package": package,
        "manifest": manifest,
        "documents": documents,
    }


# --------------------------------------------------------------------------------------
# The package and its manifest (bid-format.md "The package", "What the opening makes of
# a manifest"; docs/schema/kb1-manifest.schema.json)
# --------------------------------------------------------------------------------------

I64 = (-(2**63), 2**63 - 1)
U32 = (0, 2**32 - 1)
U64 = (0, 2**64 - 1)
MAX_PRICE_FEN = 1_000_000_000_000
SIZES = ("large", "medium", "small", "micro")
SPECIAL = (None, "prison", "disability_welfare")


def _is_int(value, bounds) -> bool:
    return type(value) is int and bounds[0] <= value <= bounds[1]


def _has_control(text: str, allow_lf: bool = False) -> bool:
    """Unicode category Cc: U+0000-U+001F and U+007F-U+009F (bid-format.md)."""
    return any(
        (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F) and not (allow_lf and c == "\n") for c in text
    )


def _fields(obj, required: set, optional: set = frozenset()) -> None:
    if not isinstance(obj, dict):
        raise ValueError("not an object")
    keys = set(obj)
    if not required <= keys or not keys <= required | optional:
        raise ValueError(
            f"unknown or missing fields: {sorted((keys - required - set(optional)) | (required - keys))}"
        )


def parse_manifest(text: bytes | str) -> dict:
    """The manifest read strictly (bid-format.md "The package"): unknown or missing
    fields, wrong JSON types, integers with a fraction or exponent or beyond their type
    (i64 prices and costs, u32 days and months, u64 sizes), and documents out of their
    bounds raise ValueError (PACKAGE_MALFORMED). Sheet bounds are `sheet_verdict`'s."""
    m = strict_json(text)
    _fields(m, {"opening_sheet", "documents"})
    s = m["opening_sheet"]
    _fields(
        s,
        {
            "total_price_fen",
            "total_price_words",
            "delivery_days",
            "warranty_months",
            "enterprise_size",
            "notes",
        },
        {"special_status", "brand", "products", "consortium_small_micro_share_bp"},
    )
    checks = [
        _is_int(s["total_price_fen"], I64),
        _is_int(s["delivery_days"], U32),
        _is_int(s["warranty_months"], U32),
        all(isinstance(s[k], str) for k in ("total_price_words", "enterprise_size", "notes")),
        all(s.get(k) is None or isinstance(s[k], str) for k in ("special_status", "brand")),
        s.get("consortium_small_micro_share_bp") is None
        or _is_int(s["consortium_small_micro_share_bp"], I64),
        isinstance(s.get("products", []), list),
        isinstance(m["documents"], list),
    ]
    if not all(checks):
        raise ValueError("a field of the wrong type or beyond its type")
    for p in s.get("products", []):
        _fields(p, {"name", "cost_fen"}, {"domestic", "made_by_small_micro"})
        if not isinstance(p["name"], str) or not _is_int(p["cost_fen"], I64):
            raise ValueError("a product field of the wrong type")
        if any(type(p.get(k, False)) is not bool for k in ("domestic", "made_by_small_micro")):
            raise ValueError("a product flag that is not a boolean")
    if len(m["documents"]) > 1000:
        raise ValueError("more than 1000 documents")
    for d in m["documents"]:
        _fields(d, {"name", "size", "media_type"})
        if not _is_int(d["size"], U64):
            raise ValueError("a document size that is not a u64")
        for k in ("name", "media_type"):
            if not isinstance(d[k], str) or not 1 <= len(d[k]) <= 255 or _has_control(d[k]):
                raise ValueError(f"a document {k} out of bounds")
    return m


def sheet_verdict(manifest: dict) -> tuple[str, str] | None:
    """Steps 2-3 of "What the opening makes of a manifest": None when the sheet can be
    read out, else (code, field): SHEET_PRICE_INVALID, then SHEET_FIELD_INVALID for the
    first bad field in the documented order."""
    s = manifest["opening_sheet"]
    if not 1 <= s["total_price_fen"] <= MAX_PRICE_FEN:
        return "SHEET_PRICE_INVALID", "total_price_fen"
    products = s.get("products") or []
    share = s.get("consortium_small_micro_share_bp")
    ok = {
        "total_price_words": len(s["total_price_words"]) <= 100
        and not _has_control(s["total_price_words"]),
        "enterprise_size": s["enterprise_size"] in SIZES,
        "special_status": s.get("special_status") in SPECIAL,
        "notes": len(s["notes"]) <= 2000 and not _has_control(s["notes"], allow_lf=True),
        "brand": s.get("brand") is None
        or (len(s["brand"]) <= 200 and not _has_control(s["brand"])),
        "products": len(products) <= 1000
        and all(
            1 <= len(p["name"]) <= 200
            and not _has_control(p["name"])
            and 0 <= p["cost_fen"] <= MAX_PRICE_FEN
            for p in products
        ),
        "consortium_small_micro_share_bp": share is None or 0 <= share <= 10000,
    }
    for field, good in ok.items():  # dicts keep the documented order
        if not good:
            return "SHEET_FIELD_INVALID", field
    return None


def manifest_verdict(text: bytes | str) -> str:
    """What the opening makes of a manifest (bid-format.md): "ok", PACKAGE_MALFORMED,
    SHEET_PRICE_INVALID or SHEET_FIELD_INVALID, the first failure deciding."""
    try:
        m = parse_manifest(text)
    except (ValueError, UnicodeDecodeError):
        return "PACKAGE_MALFORMED"
    verdict = sheet_verdict(m)
    return "ok" if verdict is None else verdict[0]


def build_package(manifest: dict, documents: list[bytes]) -> bytes:
    """u32be M, manifest, the documents, u32be T, trailer (bid-format.md "The package").
    The manifest's document sizes must be those of `documents`."""
    if [d["size"] for d in manifest["documents"]] != [len(d) for d in documents]:
        raise ValueError("document sizes differ from the manifest")
    m = json.dumps(manifest, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    parse_manifest(m)
    trailer = canonical_json(
        {"documents_sha256": [sha256_hex(d) for d in documents], "manifest_sha256": sha256_hex(m)}
    )
    return b"".join(
        [struct.pack(">I", len(m)), m, *documents, struct.pack(">I", len(trailer)), trailer]
    )


def parse_package(package: bytes) -> tuple[dict, list[bytes]]:
    """Splits and checks a package (bid-format.md "The package"): PACKAGE_MALFORMED when
    it does not parse, PLAINTEXT_HASH_MISMATCH when a hash differs from the trailer."""

    def take(pos: int, size: int) -> bytes:
        if pos + size > len(package):
            raise KB1Error("PACKAGE_MALFORMED", "the package ends early")
        return package[pos : pos + size]

    (m_len,) = struct.unpack(">I", take(0, 4))
    if m_len > MIB:
        raise KB1Error("PACKAGE_MALFORMED", "manifest over 1 MiB")
    m_bytes = take(4, m_len)
    try:
        manifest = parse_manifest(m_bytes)
    except (ValueError, UnicodeDecodeError) as e:
        raise KB1Error("PACKAGE_MALFORMED", f"manifest: {e}") from e
    pos, documents = 4 + m_len, []
    for d in manifest["documents"]:
        documents.append(take(pos, d["size"]))
        pos += d["size"]
    (t_len,) = struct.unpack(">I", take(pos, 4))
    if t_len > MIB or pos + 4 + t_len != len(package):
        raise KB1Error("PACKAGE_MALFORMED", "trailer length")
    try:
        trailer = strict_json(take(pos + 4, t_len))
        _fields(trailer, {"documents_sha256", "manifest_sha256"})
        hashes_ = trailer["documents_sha256"]
        if not isinstance(hashes_, list) or len(hashes_) != len(documents):
            raise ValueError("one hash per document")
        if not all(is_hex64(x) for x in hashes_ + [trailer["manifest_sha256"]]):
            raise ValueError("hashes are 64 lower-case hex")
    except (ValueError, UnicodeDecodeError) as e:
        raise KB1Error("PACKAGE_MALFORMED", f"trailer: {e}") from e
    if sha256_hex(m_bytes) != trailer["manifest_sha256"]:
        raise KB1Error("PLAINTEXT_HASH_MISMATCH", "manifest")
    for i, (doc, want) in enumerate(zip(documents, hashes_)):
        if sha256_hex(doc) != want:
            raise KB1Error("PLAINTEXT_HASH_MISMATCH", f"document {i}")
    return manifest, documents


_DIGITS = "零壹贰叁肆伍陆柒捌玖"


def amount_in_words(fen: int) -> str:
    """The price in capital numerals (大写金额) as bid-format.md ("Amounts in words")
    writes them; tests/vectors/amount-words.json has the cases."""
    if not 0 < fen <= MAX_PRICE_FEN:
        raise ValueError("price out of range")
    yuan, jiao, fen_ = fen // 100, fen // 10 % 10, fen % 10

    def four(n: int) -> str:  # 0 < n < 10000, leading zero-run marked by the caller
        out, zero = "", False
        for unit, div in (("仟", 1000), ("佰", 100), ("拾", 10), ("", 1)):
            d = n // div % 10
            if d == 0:
                zero = bool(out)
            else:
                out += ("零" if zero else "") + _DIGITS[d] + unit
                zero = False
        return out

    text = ""
    if yuan:
        groups = [(yuan // 10**8, "亿"), (yuan // 10**4 % 10**4, "万"), (yuan % 10**4, "")]
        need_zero = False
        for value, unit in groups:
            if value == 0:
                need_zero = bool(text)
                continue
            if text and (need_zero or value < 1000):
                text += "零"
            text += four(value) + unit
            need_zero = False
        text += "元"
    if jiao == 0 and fen_ == 0:
        return text + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif yuan:
        text += "零"
    return text + (_DIGITS[fen_] + "分" if fen_ else "整")


# --------------------------------------------------------------------------------------
# Keys (keys.md)
# --------------------------------------------------------------------------------------

KEYFILE_FORMAT = "kaibiao-keyfile-1"
KDF_DEFAULTS = {"alg": "argon2id", "m_kib": 19456, "t": 2, "p": 1}


def registration_statement(user_id: str, purpose: str, public_sec1: bytes) -> bytes:
    """The statement a proof of possession signs (keys.md "Registration")."""
    return "\n".join(
        [
            "kaibiao key registration v1",
            f"user:{user_id}",
            f"purpose:{purpose}",
            f"key:{b64u(public_sec1)}",
        ]
    ).encode("utf-8")


def login_message(username: str, challenge: str) -> bytes:
    """`kaibiao-login-v1\\n<username>\\n<challenge>` (keys.md "Login with a device key")."""
    return f"kaibiao-login-v1\n{username}\n{challenge}".encode("utf-8")


class KeyFileError(Exception):
    """A key file that does not open: "wrong passphrase or damaged key file" (keys.md)."""


@dataclass
class DeviceKeys:
    """A user's two device keys (keys.md "The two keys of a user")."""

    signing: ec.EllipticCurvePrivateKey
    encryption: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> "DeviceKeys":
        return cls(ec.generate_private_key(CURVE), ec.generate_private_key(CURVE))

    def registration(self, user_id: str, purpose: str) -> dict:
        """The body of POST /api/keys: the encryption key's proof is signed by the
        signing key, the signing key's by itself (keys.md "Registration")."""
        public = sec1(self.signing if purpose == "signing" else self.encryption)
        proof = sign(self.signing, registration_statement(user_id, purpose, public))
        return {"purpose": purpose, "public_key": b64u(public), "proof": b64u(proof)}

    def login_proof(self, username: str, challenge: str) -> dict:
        """`key_proof` for a login or token request (keys.md "Login with a device key")."""
        signature = sign(self.signing, login_message(username, challenge))
        return {
            "key_id": key_id(sec1(self.signing)),
            "challenge": challenge,
            "signature": b64u(signature),
        }

    def to_file(self, user_id: str, passphrase: str) -> str:
        """A `kaibiao-keyfile-1` JSON text sealed under the passphrase (keys.md "The key
        file"), with the writers' Argon2id parameters."""
        salt, nonce = os.urandom(16), os.urandom(12)
        kdf = dict(KDF_DEFAULTS, salt=b64u(salt))
        secret = canonical_json(
            {
                "encryption_secret": b64u(scalar_of(self.encryption)),
                "signing_pkcs8": b64u(
                    self.signing.private_bytes(
                        serialization.Encoding.DER,
                        serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption(),
                    )
                ),
            }
        )
        key = _file_key(passphrase, kdf)
        ct = AESGCM(key).encrypt(nonce, secret, f"{KEYFILE_FORMAT}\n{user_id}".encode("utf-8"))
        return json.dumps(
            {
                "format": KEYFILE_FORMAT,
                "user_id": user_id,
                "signing_public": b64u(sec1(self.signing)),
                "encryption_public": b64u(sec1(self.encryption)),
                "kdf": kdf,
                "nonce": b64u(nonce),
                "ciphertext": b64u(ct),
            },
            ensure_ascii=False,
            indent=2,
        )

    @classmethod
    def from_file(cls, text: str, passphrase: str) -> tuple[str, "DeviceKeys"]:
        """Opens a key file → (user_id, keys); the readable public halves must be those
        of the sealed secrets (keys.md "The key file"). Raises KeyFileError."""
        try:
            f = strict_json(text)
            _fields(
                f,
                {
                    "format",
                    "user_id",
                    "signing_public",
                    "encryption_public",
                    "kdf",
                    "nonce",
                    "ciphertext",
                },
            )
            if f["format"] != KEYFILE_FORMAT or not isinstance(f["user_id"], str):
                raise ValueError("not a kaibiao-keyfile-1")
            key = _file_key(passphrase, f["kdf"])
            nonce, ct = unb64u(f["nonce"], 12), unb64u(f["ciphertext"])
        except (ValueError, TypeError, KeyError) as e:
            raise KeyFileError(f"not a key file: {e}") from e
        try:
            plain = AESGCM(key).decrypt(
                nonce, ct, f"{KEYFILE_FORMAT}\n{f['user_id']}".encode("utf-8")
            )
        except InvalidTag as e:
            raise KeyFileError("wrong passphrase or damaged key file") from e
        try:
            secrets = strict_json(plain)
            signing = serialization.load_der_private_key(unb64u(secrets["signing_pkcs8"]), None)
            if (
                not isinstance(signing, ec.EllipticCurvePrivateKey)
                or signing.curve.name != CURVE.name
            ):
                raise ValueError("the signing key is not a P-256 key")
            keys = cls(signing, private_from_scalar(unb64u(secrets["encryption_secret"], 32)))
        except (ValueError, TypeError, KeyError) as e:
            raise KeyFileError(f"damaged key file: {e}") from e
        if (
            b64u(sec1(keys.signing)) != f["signing_public"]
            or b64u(sec1(keys.encryption)) != f["encryption_public"]
        ):
            raise KeyFileError("the public halves are not those of the sealed secrets")
        return f["user_id"], keys


def _file_key(passphrase: str, kdf: dict) -> bytes:
    """Argon2id v0x13 of the passphrase's UTF-8 bytes, parameters from the file
    (keys.md "The key file")."""
    _fields(kdf, {"alg", "m_kib", "t", "p", "salt"})
    if kdf["alg"] != "argon2id" or not all(
        _is_int(kdf[k], (1, 2**32 - 1)) for k in ("m_kib", "t", "p")
    ):
        raise ValueError("unsupported kdf")
    return Argon2id(
        salt=unb64u(kdf["salt"]),
        length=32,
        iterations=kdf["t"],
        lanes=kdf["p"],
        memory_cost=kdf["m_kib"],
    ).derive(passphrase.encode("utf-8"))


# --------------------------------------------------------------------------------------
# Opening-key shares (keys.md "Opening-key shares (custodians)")
# --------------------------------------------------------------------------------------


def share_aad(tender_id: str, index: int) -> bytes:
    """`<tender_id>\\n<index>`, index in decimal (keys.md)."""
    return f"{tender_id}\n{index}".encode("utf-8")


def unseal_share(
    private: ec.EllipticCurvePrivateKey, tender_id: str, index: int, sealed: dict
) -> int:
    """A custodian's share, opened on their device (keys.md): a 32-byte scalar."""
    value = hpke_open(private, INFO_SHARE, share_aad(tender_id, index), sealed)
    if len(value) != 32 or not 0 < int.from_bytes(value, "big") < N:
        raise ValueError("a share is a 32-byte scalar below n")
    return int.from_bytes(value, "big")


def share_matches(index: int, value: int, commitments: list[bytes]) -> bool:
    """Feldman's check f(i)·G = Σ_j i^j·C_j (keys.md), C_j as SEC1 bytes."""
    lhs = _affine(sec1(private_from_scalar(value)))
    rhs = None
    for j, c in enumerate(commitments):
        rhs = _point_add(rhs, _point_mul(pow(index, j, N), _affine(c)))
    return lhs == rhs


def combine_shares(shares: list[tuple[int, int]]) -> int:
    """Lagrange interpolation at 0 over the scalar field (keys.md): f(0) from t shares
    given as (index, value)."""
    indices = [i for i, _ in shares]
    if len(set(indices)) != len(indices) or any(not 0 < i < N for i in indices):
        raise ValueError("share indices are distinct and non-zero")
    secret = 0
    for i, value in shares:
        num = den = 1
        for j in indices:
            if j != i:
                num = num * j % N
                den = den * (j - i) % N
        secret = (secret + value * num * pow(den, -1, N)) % N
    return secret


def verify_receipt(signed: dict, signer_public_sec1: bytes) -> bool:
    """A receipt's signature over its canonical JSON (keys.md "Receipts")."""
    return verify(
        signer_public_sec1, canonical_json(signed["receipt"]), unb64u(signed["signature"], 64)
    )


def hexbytes(text: str) -> bytes:
    """Lower-case hex as in the vectors' *_hex fields."""
    return binascii.unhexlify(text)
