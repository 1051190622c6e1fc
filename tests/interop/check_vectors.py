#!/usr/bin/env python3
"""Checks the independent Python client (kb1.py) against every published vector:

- tests/vectors/kb1.json: each container opens to exactly the expected content, or fails
  with exactly the expected error (docs/bid-format.md, "Errors when opening");
- tests/vectors/manifest.json: each manifest against docs/schema/kb1-manifest.schema.json
  (strict: integers are JSON integers) and against the opening's verdict;
- tests/vectors/keys.json: each entry as docs/keys.md's table "The vectors" says;
- tests/vectors/canonical-json.json: each input written canonically, byte for byte;
- tests/vectors/amount-words.json: each amount's 大写 as a sealing client writes it.

One line per check; the exit status is 1 when any check fails.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import traceback
from itertools import combinations
from pathlib import Path

import jsonschema
from jsonschema import Draft202012Validator, validators

sys.dont_write_bytecode = True  # no __pycache__ in the repository
import kb1  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
SCHEMA = ROOT / "docs" / "schema" / "kb1-manifest.schema.json"

results: list[bool] = []


def check(name: str, fn) -> None:
    """Runs one check; it passes when `fn` returns without raising (AssertionError or
    anything else is a failure, printed with its reason)."""
    try:
        detail = fn()
        results.append(True)
        print(f"ok    {name}" + (f"  ({detail})" if detail else ""))
    except Exception as e:  # every failure is reported, none stops the run
        results.append(False)
        print(f"FAIL  {name}: {type(e).__name__}: {e}")
        if "-v" in sys.argv:
            traceback.print_exc()


def eq(got, want, what: str) -> None:
    assert got == want, f"{what}: got {got!r}, want {want!r}"


# ----------------------------------------------------------------------------- kb1.json


def kb1_vectors() -> None:
    doc = json.loads((VECTORS / "kb1.json").read_text("utf-8"))
    for name, k in doc["keys"].items():

        def key_entry(k=k):
            public = kb1.sec1(kb1.private_from_scalar(kb1.hexbytes(k["private_hex"])))
            eq(public.hex(), k["public_sec1_hex"], "public key")
            eq(kb1.key_id(public), k["key_id"], "key id")

        check(f"kb1.json keys/{name}", key_entry)
    for v in doc["vectors"]:
        check(f"kb1.json {v['name']}", lambda v=v: kb1_vector(v))
    check(
        "kb1.json has the 22 vectors bid-format.md announces",
        lambda: eq(len(doc["vectors"]), 22, "vectors"),
    )
    valid = next(v for v in doc["vectors"] if v["name"] == "valid-multi-segment")
    check("kb1.json reseal valid-multi-segment's package and open it", lambda: reseal(valid))
    for name, edit, code in derived_cases():
        check(f"kb1.json valid-multi-segment {name}", lambda e=edit, c=code: derived(valid, e, c))


def kb1_vector(v: dict) -> str:
    data = base64.b64decode(v["container_base64"], validate=True)
    eq(len(data), v["container_len"], "container_len")
    tender = kb1.private_from_scalar(kb1.hexbytes(v["tender_private_hex"]))
    bidder = kb1.private_from_scalar(kb1.hexbytes(v["bidder_private_hex"]))
    presented = kb1.hexbytes(v["presented_kb_hex"]) if v["presented_kb_hex"] else None
    try:
        opened = kb1.open_container(data, v["expect"], tender, bidder, presented)
    except kb1.KB1Error as e:
        want = v["expected_error"]
        assert want is not None, f"unexpected {e}"
        eq(e.code, want["code"], "error code")
        if want.get("segment") is not None:
            eq(e.segment, want["segment"], "failing segment")
        if want.get("field") is not None:
            eq(e.field, want["field"], "mismatching field")
        return str(e)
    assert v["expected_error"] is None, f"opened, but {v['expected_error']} was expected"
    x = v["expected"]
    eq(opened["segment_count"], x["segment_count"], "segment_count")
    eq(len(opened["package"]), x["plaintext_len"], "plaintext_len")
    eq(opened["manifest"], x["manifest"], "manifest")
    eq(len(opened["documents"]), len(x["documents"]), "number of documents")
    for got, want, entry in zip(
        opened["documents"], x["documents"], opened["manifest"]["documents"]
    ):
        eq((entry["name"], len(got)), (want["name"], want["size"]), "document name and size")
        eq(kb1.sha256_hex(got), want["sha256"], "document sha256")
        eq(got.hex(), want["hex"], "document bytes")
    d = x["debug"]
    eq(kb1.canonical_json(opened["header"]).decode("utf-8"), d["header_json"], "header_json")
    eq(opened["header_sha256"], d["header_sha256_hex"], "H")
    eq(opened["kb"].hex(), d["kb_hex"], "kb")
    eq(opened["kt"].hex(), d["kt_hex"], "kt")
    eq(opened["dek"].hex(), d["dek_hex"], "DEK")
    eq(opened["nonce_prefix"].hex(), d["nonce_prefix_hex"], "nonce_prefix")
    eq(opened["package"].hex(), d["package_hex"], "package")
    return f"{x['segment_count']} segments, {len(x['documents'])} documents"


def derived_cases():
    """More damaged copies of a valid container than kb1.json holds, for the header
    codes (CONTAINER_HEADER, CONTAINER_TRUNCATED inside the header): each edit takes
    (header bytes, rest) and returns the new file."""

    def with_header(text: bytes):
        return lambda raw, rest: b"KAIBIAO1" + len(text).to_bytes(4, "big") + text + rest

    def unsorted(raw: bytes) -> bytes:
        items = reversed(list(json.loads(raw).items()))
        return json.dumps(dict(items), separators=(",", ":")).encode()

    def edit_json(change):
        def edit(raw, rest):
            h = json.loads(raw)
            change(h)
            return with_header(kb1.canonical_json(h))(raw, rest)

        return edit

    return [
        ("shorter than the magic", lambda raw, rest: b"KAIBI", "CONTAINER_TRUNCATED"),
        ("ends in the header length", lambda raw, rest: b"KAIBIAO1\x00\x00", "CONTAINER_TRUNCATED"),
        (
            "ends in the header",
            lambda raw, rest: b"KAIBIAO1" + b"\x00\x00\x03\x49" + raw[:99],
            "CONTAINER_TRUNCATED",
        ),
        (
            "header length 0",
            lambda raw, rest: b"KAIBIAO1\x00\x00\x00\x00" + rest,
            "CONTAINER_HEADER",
        ),
        (
            "header length 65537",
            lambda raw, rest: b"KAIBIAO1\x00\x01\x00\x01" + raw + rest,
            "CONTAINER_HEADER",
        ),
        (
            "header not canonical (a space)",
            lambda raw, rest: with_header(raw.replace(b",", b", ", 1))(raw, rest),
            "CONTAINER_HEADER",
        ),
        (
            "header keys unsorted",
            lambda raw, rest: with_header(unsorted(raw))(raw, rest),
            "CONTAINER_HEADER",
        ),
        (
            "header with an unknown field",
            edit_json(lambda h: h.update(extra=1)),
            "CONTAINER_HEADER",
        ),
        (
            "header without nonce_prefix",
            edit_json(lambda h: h.pop("nonce_prefix")),
            "CONTAINER_HEADER",
        ),
        (
            "upper-case tender_key",
            edit_json(lambda h: h.update(tender_key=h["tender_key"].upper())),
            "CONTAINER_HEADER",
        ),
        (
            "padded nonce_prefix",
            edit_json(lambda h: h.update(nonce_prefix=h["nonce_prefix"] + "=")),
            "CONTAINER_HEADER",
        ),
        (
            "compressed enc",
            edit_json(
                lambda h: h["kb_sealed"].update(
                    enc=kb1.b64u(b"\x02" + kb1.unb64u(h["kb_sealed"]["enc"])[1:33])
                )
            ),
            "CONTAINER_HEADER",
        ),
        ("segment_size 100", edit_json(lambda h: h.update(segment_size=100)), "CONTAINER_HEADER"),
        ("lot_no as text", edit_json(lambda h: h.update(lot_no="2")), "CONTAINER_HEADER"),
        ("version true", edit_json(lambda h: h.update(version=True)), "CONTAINER_HEADER"),
        ("version 2", edit_json(lambda h: h.update(version=2)), "CONTAINER_SUITE"),
        (
            "a line feed in bid_id",
            edit_json(lambda h: h.update(bid_id=h["bid_id"] + "\n")),
            "CONTAINER_HEADER",
        ),
        ("lot 3 expected 2", edit_json(lambda h: h.update(lot_no=3)), "HEADER_MISMATCH"),
        ("no segment at all", lambda raw, rest: with_header(raw)(raw, b""), "CONTAINER_TRUNCATED"),
    ]


def derived(v: dict, edit, code: str) -> str:
    data = base64.b64decode(v["container_base64"])
    n = int.from_bytes(data[8:12], "big")
    damaged = edit(data[12 : 12 + n], data[12 + n :])
    tender = kb1.private_from_scalar(kb1.hexbytes(v["tender_private_hex"]))
    bidder = kb1.private_from_scalar(kb1.hexbytes(v["bidder_private_hex"]))
    try:
        kb1.open_container(damaged, v["expect"], tender, bidder)
    except kb1.KB1Error as e:
        eq(e.code, code, "error code")
        return str(e)[:70]
    raise AssertionError(f"opened, but {code} was expected")


def reseal(v: dict) -> str:
    """Seals the vector's package afresh with kb1.py and opens it again: sealing is
    checked by the same reader that opens the vectors."""
    tender = kb1.private_from_scalar(kb1.hexbytes(v["tender_private_hex"]))
    bidder = kb1.private_from_scalar(kb1.hexbytes(v["bidder_private_hex"]))
    e = v["expect"]
    params = kb1.SealParams(
        e["tender_id"],
        e["lot_no"],
        e["bidder_org_id"],
        e["bid_id"],
        kb1.sec1(bidder),
        kb1.sec1(tender),
        64,
    )
    package = kb1.hexbytes(v["expected"]["debug"]["package_hex"])
    container, kb = kb1.seal_container(params, package)
    opened = kb1.open_container(container, e, tender, bidder)
    eq(opened["package"], package, "package")
    eq(opened["kb"], kb, "kb")
    # And built from its parts: the same manifest and documents give a package that opens.
    docs = [kb1.hexbytes(d["hex"]) for d in v["expected"]["documents"]]
    rebuilt = kb1.build_package(v["expected"]["manifest"], docs)
    container, _ = kb1.seal_container(params, rebuilt)
    eq(kb1.open_container(container, e, tender, bidder)["documents"], docs, "documents")
    return f"{opened['segment_count']} segments"


# ------------------------------------------------------------------------- manifest.json


def ecma_pattern(validator, pattern, instance, schema):
    """`pattern` with ECMA-262 semantics: `$` ends the input (Python's `$` also matches
    before a final line feed, which would let "name\\n" pass a one-line pattern)."""
    if not validator.is_type(instance, "string"):
        return
    python = re.sub(r"(?<!\\)\$$", r"\\Z", pattern)
    if not re.search(python, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def strict_validator(schema: dict):
    """Draft 2020-12 with integers that are JSON integers only (1000.0 and 1e3 are not:
    the schema's description says so) and ECMA-262 patterns."""
    checker = Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, x: type(x) is int
    ).redefine("number", lambda _, x: type(x) in (int, float))
    cls = validators.extend(Draft202012Validator, {"pattern": ecma_pattern}, type_checker=checker)
    cls.check_schema(schema)
    return cls(schema)


def manifest_vectors() -> None:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    validator = strict_validator(schema)
    doc = json.loads((VECTORS / "manifest.json").read_text("utf-8"))
    check(
        "manifest.json has the 45 cases bid-format.md announces",
        lambda: eq(len(doc["vectors"]), 45, "cases"),
    )
    for v in doc["vectors"]:

        def one(v=v):
            instance = json.loads(v["manifest_json"])
            errors = list(validator.iter_errors(instance))
            schema_ok = not errors
            eq(
                schema_ok,
                v["expected"] == "ok",
                f"schema verdict ({errors[0].message[:80] if errors else 'valid'})",
            )
            eq(
                kb1.manifest_verdict(v["manifest_json"].encode("utf-8")),
                v["expected"],
                "opening verdict",
            )
            return v["expected"]

        check(f"manifest.json {v['name']}", one)


# ----------------------------------------------------------------------------- keys.json


def keys_vectors() -> None:
    doc = json.loads((VECTORS / "keys.json").read_text("utf-8"))
    kf = doc["key_file"]
    known = {  # key id → SEC1, for registration[].signed_by_key_id and login_proof.key_id
        kb1.key_id(kb1.unb64u(kf[name], 65)): kb1.unb64u(kf[name], 65)
        for name in ("signing_public", "encryption_public")
    }

    def key_file():
        user, keys = kb1.DeviceKeys.from_file(
            json.dumps(kf["json"], ensure_ascii=False), kf["passphrase"]
        )
        eq(user, kf["user_id"], "user_id")
        eq(kb1.scalar_of(keys.encryption).hex(), kf["encryption_private_hex"], "encryption key")
        eq(kb1.b64u(kb1.sec1(keys.signing)), kf["signing_public"], "signing public")
        eq(kb1.b64u(kb1.sec1(keys.encryption)), kf["encryption_public"], "encryption public")

    def wrong_passphrase():
        try:
            kb1.DeviceKeys.from_file(json.dumps(kf["json"]), kf["wrong_passphrase"])
        except kb1.KeyFileError as e:
            eq(str(e), "wrong passphrase or damaged key file", "message")
            return str(e)
        raise AssertionError("opened with the wrong passphrase")

    def changed_user_id():
        f = dict(kf["json"], user_id=kf["user_id"][:-1] + "0")
        try:
            kb1.DeviceKeys.from_file(json.dumps(f), kf["passphrase"])
        except kb1.KeyFileError as e:
            return str(e)
        raise AssertionError("opened with another user_id")

    def key_file_roundtrip():
        keys = kb1.DeviceKeys.generate()
        user, back = kb1.DeviceKeys.from_file(keys.to_file("u-1", "口令"), "口令")
        eq(
            (user, kb1.sec1(back.signing), kb1.sec1(back.encryption)),
            ("u-1", kb1.sec1(keys.signing), kb1.sec1(keys.encryption)),
            "round trip",
        )

    check("keys.json key_file opens", key_file)
    check("keys.json key_file wrong_passphrase fails", wrong_passphrase)
    check("keys.json key_file with a changed user_id fails", changed_user_id)
    check("kb1.py key file written and read back", key_file_roundtrip)

    for i, r in enumerate(doc["registration"]):

        def registration(r=r):
            public = kb1.unb64u(r["public_key"], 65)
            eq(
                kb1.registration_statement(r["user_id"], r["purpose"], public).decode(),
                r["statement"],
                "statement",
            )
            signer = known[r["signed_by_key_id"]]
            ok = kb1.verify(signer, r["statement"].encode("utf-8"), kb1.unb64u(r["proof"], 64))
            eq(ok, r["valid"], "proof verifies")
            return f"{r['purpose']}, valid={r['valid']}"

        check(f"keys.json registration[{i}]", registration)

    def login_proof():
        lp = doc["login_proof"]
        eq(kb1.login_message(lp["username"], lp["challenge"]).decode(), lp["message"], "message")
        assert lp["key_id"] in known, "key_id names a key of the key file"
        assert kb1.verify(
            known[lp["key_id"]], lp["message"].encode(), kb1.unb64u(lp["signature"], 64)
        )
        assert not kb1.verify(
            known[lp["key_id"]], lp["message"].encode() + b"x", kb1.unb64u(lp["signature"], 64)
        )

    check("keys.json login_proof", login_proof)

    ok_ = doc["opening_key"]
    commitments = [kb1.unb64u(c, 65) for c in ok_["commitments"]]
    shares = []
    for c in ok_["custodians"]:

        def custodian(c=c):
            private = kb1.private_from_scalar(kb1.hexbytes(c["encryption_private_hex"]))
            eq(kb1.b64u(kb1.sec1(private)), c["encryption_public"], "custodian public key")
            eq(kb1.key_id(kb1.sec1(private)), c["custodian_key_id"], "custodian key id")
            eq(ok_["info"], kb1.INFO_SHARE.decode(), "info")
            value = kb1.unseal_share(private, ok_["tender_id"], c["index"], c["sealed"])
            eq(f"{value:064x}", c["share_value_hex"], "share value")
            assert kb1.share_matches(
                c["index"], value, commitments
            ), "share matches the commitments"
            assert not kb1.share_matches(
                c["index"], (value + 1) % kb1.N, commitments
            ), "a wrong share is caught"
            try:
                kb1.unseal_share(private, ok_["tender_id"], c["index"] + 1, c["sealed"])
                raise AssertionError("opened with another index in the AAD")
            except ValueError:
                pass
            shares.append((c["index"], value))

        check(f"keys.json opening_key custodian {c['index']}", custodian)

    def combine():
        eq(len(commitments), ok_["threshold"], "one commitment per coefficient")
        count = 0
        for subset in combinations(shares, ok_["threshold"]):
            eq(
                f"{kb1.combine_shares(list(subset)):064x}",
                ok_["private_hex"],
                f"shares {[i for i, _ in subset]}",
            )
            count += 1
        public = kb1.sec1(kb1.private_from_scalar(kb1.hexbytes(ok_["private_hex"])))
        eq(kb1.b64u(public), ok_["public_key"], "public key")
        eq(ok_["public_key"], ok_["commitments"][0], "C_0 is the public key")
        eq(kb1.key_id(public), ok_["key_id"], "key id")
        assert count == 3, "three pairs of 2-of-3"
        return f"{count} subsets of {ok_['threshold']}"

    check("keys.json opening_key combine", combine)


def encodings() -> None:
    """A few checks of the strict encodings (bid-format.md, "Encodings, exactly")."""

    def strict_b64():
        eq(kb1.unb64u("AQI"), b"\x01\x02", "plain")
        for bad in ("AQI=", "AQ+", "AQ/", "AQ I", "AQJ", "A"):
            try:
                kb1.unb64u(bad)
                raise AssertionError(f"{bad!r} accepted")
            except ValueError:
                pass

    def words():
        doc = json.loads((VECTORS / "amount-words.json").read_text("utf-8"))
        for case in doc["written"]:
            eq(kb1.amount_in_words(case["fen"]), case["words"], f"大写 of {case['fen']}")
        return f"{len(doc['written'])} amounts"

    check("encodings: base64url has one spelling", strict_b64)
    check("amount-words.json: 大写 as written", words)

    doc = json.loads((VECTORS / "canonical-json.json").read_text("utf-8"))
    for case in doc["cases"]:

        def canonical(case=case):
            got = kb1.canonical_json(json.loads(case["input"]))
            eq(got.decode("utf-8"), case["canonical"], "canonical JSON")
            eq(kb1.sha256_hex(got), case["sha256"], "its SHA-256")

        check(f"canonical-json.json {case['name']}", canonical)


def main() -> int:
    encodings()
    kb1_vectors()
    manifest_vectors()
    keys_vectors()
    failed = results.count(False)
    print(f"{len(results)} checks, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
