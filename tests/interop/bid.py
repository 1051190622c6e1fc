#!/usr/bin/env python3
"""A supplier's (and a custodian's) client of a running kaibiao server, written from the
documents only (docs/api.md, docs/bid-format.md, docs/keys.md, docs/opening.md) with the
primitives of kb1.py.

    bid.py submit  --server URL --username U --password P --tender ID --lot N --price-fen X
                   [--document FILE ...] [--key-file F] [--login-proof] [--chunks K]
    bid.py decrypt --server URL --username U --password P --tender ID --key-file F [--bid B]
                   [--over hub]
    bid.py share   --server URL --username U --password P --tender ID --key-file F [--over hub]
    bid.py watch   --server URL --username U --password P --tender ID

`submit` (the default when the first argument is an option) makes fresh device keys,
registers them with proofs of possession, seals a KB1 container on this machine, uploads it
in chunks (sending one wrong offset on purpose and resuming from the server's `received`),
completes it and verifies the signed receipt. `decrypt` is the bidder's part of the
opening (unseal kb, send it); `share` is a custodian's (unseal the share, check it against
the commitments, send it), over HTTP or, with `--over hub`, as a hub command (hub.py,
docs/hub.md); `watch` follows the opening hall over the hub until the reading-out is done,
checking every event's hash chain. The key file's passphrase is KAIBIAO_KEY_PASSPHRASE,
else the password. Each prints a JSON summary on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from cryptography import x509

sys.dont_write_bytecode = True  # no __pycache__ in the repository
import kb1  # noqa: E402
from hub import Hub, HubError  # noqa: E402


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


class ApiError(Exception):
    """An error answer of docs/api.md ("Errors"): status and the body with its `code`."""

    def __init__(self, method: str, path: str, status: int, body):
        self.status, self.body = status, body
        self.code = body.get("code") if isinstance(body, dict) else None
        super().__init__(f"{method} {path} → {status} {body}")


class Api:
    """HTTP with a bearer token (docs/api.md "Sessions": no CSRF header needed)."""

    def __init__(self, server: str):
        self.server, self.token = server.rstrip("/"), None

    def request(self, method: str, path: str, body=None, raw: bytes | None = None):
        headers = {"accept": "application/json"}
        data = None
        if raw is not None:
            data, headers["content-type"] = raw, "application/octet-stream"
        elif body is not None:
            data, headers["content-type"] = json.dumps(body).encode("utf-8"), "application/json"
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.server + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                text = r.read()
                return r.status, json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = text.decode("utf-8", "replace")
            raise ApiError(method, path, e.code, parsed) from None

    def get(self, path: str):
        return self.request("GET", path)[1]

    def post(self, path: str, body):
        return self.request("POST", path, body)[1]

    def login(self, username: str, password: str, key_proof: dict | None = None) -> dict:
        """A bearer token: POST /api/auth/tokens {username, password, label[, key_proof]}
        (docs/api.md "Sessions"; keys.md "Login with a device key"). Returns the user."""
        body = {"username": username, "password": password, "label": "kaibiao-interop-python"}
        if key_proof:
            body["key_proof"] = key_proof
        answer = self.post("/api/auth/tokens", body)
        self.token = answer["token"]
        return answer.get("user") or self.get("/api/me")["user"]


def certificates(api: Api) -> dict:
    """GET /api/pki/certificates, with the signer's certificate checked against the CA
    and against `signer_public_key` (keys.md "Receipts")."""
    pki = api.get("/api/pki/certificates")
    ca = x509.load_pem_x509_certificate(pki["ca_pem"].encode())
    signer = x509.load_pem_x509_certificate(pki["signer_pem"].encode())
    signer.verify_directly_issued_by(ca)
    public = kb1.unb64u(pki["signer_public_key"], 65)
    if kb1.sec1(signer.public_key()) != public:
        raise SystemExit("signer_public_key is not the key of signer_pem")
    pki["signer_public"] = public
    pki["ca"] = ca
    return pki


def register(api: Api, user_id: str, keys: kb1.DeviceKeys, ca: x509.Certificate) -> dict:
    """POST /api/keys for the signing key, then the encryption key, each with its proof
    of possession (keys.md "Registration"); the certificates are checked to be the CA's
    and to certify exactly these keys. Returns {purpose: key_id}."""
    ids = {}
    for purpose in ("signing", "encryption"):
        body = keys.registration(user_id, purpose)
        status, answer = api.request("POST", "/api/keys", body)
        want = kb1.key_id(kb1.unb64u(body["public_key"], 65))
        if answer["key_id"] != want or answer["status"] != "active" or answer["purpose"] != purpose:
            raise SystemExit(f"registration answered {status} {answer}")
        cert = x509.load_pem_x509_certificate(answer["certificate_pem"].encode())
        cert.verify_directly_issued_by(ca)
        if kb1.b64u(kb1.sec1(cert.public_key())) != body["public_key"]:
            raise SystemExit("the certificate certifies another key")
        ids[purpose] = want
        log(f"registered the {purpose} key {want[:16]}… (HTTP {status})")
    return ids


def passphrase(args) -> str:
    return os.environ.get("KAIBIAO_KEY_PASSPHRASE") or args.password


def upload(api: Api, bid_id: str, container: bytes, chunks: int) -> dict:
    """PUT /api/bids/{id}/content?offset=N in `chunks` pieces; after the first, one PUT
    with a wrong offset on purpose, answered 409 UPLOAD_OFFSET with `received`, from which
    the upload resumes (bid-format.md "Submission" 2). Returns counters."""
    size = max(1, -(-len(container) // chunks))
    offset, puts, probed = 0, 0, None
    while offset < len(container):
        if puts == 1 and probed is None:
            wrong = offset + 7
            try:
                api.request(
                    "PUT",
                    f"/api/bids/{bid_id}/content?offset={wrong}",
                    raw=container[wrong : wrong + size],
                )
                raise SystemExit("a wrong offset was accepted")
            except ApiError as e:
                if e.status != 409 or e.code != "UPLOAD_OFFSET" or e.body.get("received") != offset:
                    raise
                probed = e.body["received"]
                state = api.get(f"/api/bids/{bid_id}")
                log(
                    f"offset {wrong} refused: 409 UPLOAD_OFFSET, received {probed}; GET says {state.get('received')}"
                )
                offset = probed
        end = min(offset + size, len(container))
        api.request("PUT", f"/api/bids/{bid_id}/content?offset={offset}", raw=container[offset:end])
        puts += 1
        log(f"sent {end}/{len(container)} bytes")
        offset = end
    return {"puts": puts, "resumed_from": probed}


def check_receipt(signed: dict, pki: dict, want: dict) -> str:
    """The receipt's fields against what was sealed and sent, and its signature over its
    canonical JSON with the platform key (bid-format.md "Submission"; keys.md "Receipts"),
    and its signer certificate against the CA. Returns two hashes: of the canonical JSON
    the signature covers, and of the canonical JSON of the signed receipt {receipt,
    signature, signer_pem}, which the bid register records as `receipt_sha256`."""
    receipt = signed["receipt"]
    if receipt.get("kind") != "kaibiao.bid_receipt.v1":
        raise SystemExit(f"not a bid receipt: {receipt}")
    for k, v in want.items():
        if receipt.get(k) != v:
            raise SystemExit(f"receipt {k} is {receipt.get(k)!r}, sealed {v!r}")
    if not kb1.verify_receipt(signed, pki["signer_public"]):
        raise SystemExit("the receipt's signature does not verify")
    if "signer_pem" in signed:
        signer = x509.load_pem_x509_certificate(signed["signer_pem"].encode())
        signer.verify_directly_issued_by(pki["ca"])
        if kb1.sec1(signer.public_key()) != pki["signer_public"]:
            raise SystemExit("the receipt names another signer")
    return kb1.sha256_hex(kb1.canonical_json(receipt)), kb1.sha256_hex(kb1.canonical_json(signed))


def cmd_submit(args) -> dict:
    api = Api(args.server)
    user = api.login(args.username, args.password)
    pki = certificates(api)
    keys = kb1.DeviceKeys.generate()
    ids = register(api, user["id"], keys, pki["ca"])
    if args.key_file:
        Path(args.key_file).write_text(keys.to_file(user["id"], passphrase(args)), "utf-8")
        log(f"key file written: {args.key_file}")
    summary = {
        "user_id": user["id"],
        "signing_key_id": ids["signing"],
        "encryption_key_id": ids["encryption"],
    }
    if args.login_proof:
        challenge = api.post("/api/auth/challenge", {"username": args.username})
        api.login(
            args.username, args.password, keys.login_proof(args.username, challenge["challenge"])
        )
        summary["login_proof"] = "accepted"
        log("logged in again with a device-key login proof")

    # A bid starts from the documents, obtained online (again is the same answer).
    api.post(f"/api/tenders/{args.tender}/documents/obtain", {})
    start = api.post(
        f"/api/tenders/{args.tender}/bids",
        {"lot_no": args.lot, "device_fingerprint": "kaibiao-interop-python", "documents_meta": []},
    )
    log(
        "bid started:",
        json.dumps({k: v for k, v in start.items() if "key" not in k}, ensure_ascii=False),
    )
    bidder_public = kb1.unb64u(start["bidder_key"], 65)
    if bidder_public != kb1.sec1(keys.encryption):
        raise SystemExit("the server names another encryption key than the one just registered")
    tender_public = kb1.unb64u(start["tender_key"], 65)
    kb1.public_from_sec1(tender_public)

    paths = [Path(p) for p in args.document]
    documents = [p.read_bytes() for p in paths] or [
        "技术响应文件:本公司承诺按招标文件要求供货。\n".encode() * 40
    ]
    names = [p.name for p in paths] or ["技术响应文件.txt"]
    manifest = {
        "opening_sheet": {
            "total_price_fen": args.price_fen,
            "total_price_words": kb1.amount_in_words(args.price_fen),
            "delivery_days": args.delivery_days,
            "warranty_months": args.warranty_months,
            "enterprise_size": args.enterprise_size,
            "special_status": None,
            "notes": args.notes,
        },
        "documents": [
            {
                "name": n,
                "size": len(d),
                "media_type": mimetypes.guess_type(n)[0] or "application/octet-stream",
            }
            for n, d in zip(names, documents)
        ],
    }
    if args.brand:
        manifest["opening_sheet"]["brand"] = args.brand
    package = kb1.build_package(manifest, documents)
    params = kb1.SealParams(
        start["tender_id"],
        start["lot_no"],
        start["bidder_org_id"],
        start["bid_id"],
        bidder_public,
        tender_public,
        args.segment_size or start["segment_size"],
    )
    container, kb = kb1.seal_container(params, package)
    header, raw, _ = kb1.parse_header(container)
    log(
        f"sealed {len(package)} bytes of package into {len(container)} bytes, segment size {params.segment_size}"
    )

    counters = upload(api, start["bid_id"], container, args.chunks)
    sha = kb1.sha256_hex(container)
    done = api.post(
        f"/api/bids/{start['bid_id']}/complete", {"size": len(container), "sha256": sha}
    )
    want = {
        "bid_id": start["bid_id"],
        "tender_id": start["tender_id"],
        "lot_no": start["lot_no"],
        "bidder_org_id": start["bidder_org_id"],
        "size": len(container),
        "ciphertext_sha256": sha,
        "header_sha256": kb1.sha256_hex(raw),
        "kb_sha256": header["kb_sha256"],
    }
    signed_sha, receipt_sha = check_receipt(done["receipt"], pki, want)
    again = api.post(
        f"/api/bids/{start['bid_id']}/complete", {"size": len(container), "sha256": sha}
    )
    if again["receipt"] != done["receipt"]:
        raise SystemExit("a second completion returned another receipt")
    log("receipt verified with the platform's signing key")
    summary.update(
        bid_id=start["bid_id"],
        tender_id=start["tender_id"],
        lot_no=start["lot_no"],
        price_fen=args.price_fen,
        size=len(container),
        ciphertext_sha256=sha,
        receipt_sha256=receipt_sha,
        receipt_signed_sha256=signed_sha,
        receipt_signature="verified",
        **counters,
    )
    return summary


def open_key_file(args) -> tuple[str, kb1.DeviceKeys]:
    user_id, keys = kb1.DeviceKeys.from_file(
        Path(args.key_file).read_text("utf-8"), passphrase(args)
    )
    return user_id, keys


# A field of each command spoilt on purpose before it is sent over the hub: the refusal
# must be VALIDATION naming that field, with the frame's id (hub.md "Errors").
SPOILT = {"decrypt": ("kb", 12345), "share": ("index", "one")}
# The ledger event each command causes, and the body field that ties it to the command.
CAUSES = {"decrypt": ("bidder_decrypted", "bid_id"), "share": ("share_submitted", "index")}


def opening_command(api: Api, tender: str, command: dict, over: str = "http") -> dict:
    """A command of the opening: over HTTP, POST /api/tenders/{id}/opening (opening.md);
    over the hub, a `command` frame in `opening:<id>` after subscribing (hub.md)."""
    if over == "http":
        return api.post(f"/api/tenders/{tender}/opening", command)
    hub = Hub(api.server, api.token)
    try:
        room = f"opening:{tender}"
        subscribed = hub.subscribe(room)
        field, bad = SPOILT[command["type"]]
        try:
            hub.command(room, command | {field: bad}, "spoilt")
            raise SystemExit(f"the hub took a {command['type']} with {field} = {bad!r}")
        except HubError as e:
            if e.code != "VALIDATION" or field not in (e.fields or {}):
                raise SystemExit(f"the spoilt command was refused with {e.frame}")
            if e.frame.get("id") != "spoilt":
                raise SystemExit(f"the refusal lost the command's id: {e.frame}")
        result = hub.command(room, command, "real")
        kind, key = CAUSES[command["type"]]
        hub.until(
            lambda h: any(
                e["kind"] == kind and e["body"].get(key) == command[key] for e in h.ledger.events
            )
        )
        return result | {
            "over": "hub",
            "replayed": subscribed["seq"],
            "chain_checked": hub.ledger.seq,
            "register_checked": hub.register.seq,
            "spoilt_refused": "VALIDATION",
        }
    finally:
        hub.close()


def cmd_decrypt(args) -> dict:
    """The bidder's part of the opening (opening.md "Reading the state"): for each own
    bid, POST /api/bids/{id}/decryption (the start of its decryption, kept in the record;
    answered with the bid's header), open kb_sealed with the encryption key of the key
    file (info kaibiao/KB1/kb, AAD as for sealing), check SHA-256(kb) against kb_sha256,
    and send {"type": "decrypt", bid_id, kb}."""
    api = Api(args.server)
    user = api.login(args.username, args.password)
    owner, keys = open_key_file(args)
    if owner != user["id"]:
        raise SystemExit("the key file belongs to another user")
    state = api.get(f"/api/tenders/{args.tender}/opening")
    bids = [args.bid] if args.bid else state["me"]["bid_ids"]
    out = []
    for bid_id in bids:
        answer = api.post(f"/api/bids/{bid_id}/decryption", {})
        header = answer["header"]
        if isinstance(header, str):  # the header as sealed, if sent as its text
            header = kb1.strict_json(header)
        if header["bidder_key"] != kb1.key_id(kb1.sec1(keys.encryption)):
            raise SystemExit(f"bid {bid_id} was sealed to another encryption key")
        kb = kb1.hpke_open(
            keys.encryption,
            kb1.INFO_KB,
            kb1.kb1_aad(header["tender_id"], header["bid_id"]),
            header["kb_sealed"],
        )
        if kb1.sha256_hex(kb) != header["kb_sha256"]:
            raise SystemExit("kb does not hash to kb_sha256")
        result = opening_command(
            api,
            args.tender,
            {"type": "decrypt", "bid_id": bid_id, "kb": kb1.b64u(kb)},
            args.over,
        )
        log(f"bid {bid_id}: {result}")
        out.append(result)
    return {"phase": state["phase"], "decrypted": out}


def cmd_share(args) -> dict:
    """A custodian's part (keys.md "Opening-key shares"): GET /api/tenders/{id}/my-share,
    unseal with the key file's encryption key, check f(i)·G = Σ i^j·C_j and C_0 against
    the opening key, then send {"type": "share", index, value}."""
    api = Api(args.server)
    user = api.login(args.username, args.password)
    owner, keys = open_key_file(args)
    if owner != user["id"]:
        raise SystemExit("the key file belongs to another user")
    mine = api.get(f"/api/tenders/{args.tender}/my-share")
    if mine["custodian_key_id"] != kb1.key_id(kb1.sec1(keys.encryption)):
        raise SystemExit("the share is sealed to another encryption key")
    value = kb1.unseal_share(keys.encryption, mine["tender_id"], mine["index"], mine["sealed"])
    opening_key = mine["opening_key"]
    commitments = [kb1.unb64u(c, 65) for c in opening_key["commitments"]]
    if (
        opening_key["commitments"][0] != opening_key["public_key"]
        or len(commitments) != opening_key["threshold"]
    ):
        raise SystemExit("the commitments do not fit the opening key")
    if kb1.key_id(commitments[0]) != opening_key["key_id"]:
        raise SystemExit("the opening key's id is not its hash")
    if not kb1.share_matches(mine["index"], value, commitments):
        raise SystemExit("the share does not match the commitments")
    log(f"share {mine['index']} matches the commitments (threshold {opening_key['threshold']})")
    result = opening_command(
        api,
        args.tender,
        {"type": "share", "index": mine["index"], "value": f"{value:064x}"},
        args.over,
    )
    return {"index": mine["index"], "result": result}


def cmd_watch(args) -> dict:
    """A bidder (or anyone in the hall) following the opening over the hub: subscribes to
    `opening:<id>`, checks the replay and every live event against the hash chain, and
    waits until the reading-out is done (`revealing_done`) or the opening fails."""
    api = Api(args.server)
    api.login(args.username, args.password)
    hub = Hub(api.server, api.token, timeout=args.timeout)
    try:
        subscribed = hub.subscribe(f"opening:{args.tender}")
        log(f"subscribed to opening:{args.tender} at seq {subscribed['seq']}")
        hub.until(lambda h: {"revealing_done", "opening_failed"} & set(h.kinds()))
        read_out = [
            {
                "bid_id": e["body"]["bid_id"],
                "total_price_fen": e["body"]["sheet"]["total_price_fen"],
                "total_price_words": e["body"]["sheet"]["total_price_words"],
                "words_as_computed": kb1.amount_in_words(e["body"]["sheet"]["total_price_fen"]),
            }
            for e in hub.ledger.events
            if e["kind"] == "bid_read_out"
        ]
        return {
            "replayed": subscribed["seq"],
            "live": hub.live,
            "head": hub.ledger.head,
            "chain_checked": hub.ledger.seq,
            "register_checked": hub.register.seq,
            "progress_frames": len(hub.progress),
            "presence": {k: hub.presence.get(k) for k in ("members", "bidders")},
            "read_out": read_out,
        }
    finally:
        hub.close()


def main(argv: list[str]) -> int:
    if argv and argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["submit", *argv]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--server", required=True)
    common.add_argument("--username", required=True)
    common.add_argument("--password", required=True)
    common.add_argument("--tender", required=True)
    common.add_argument("--key-file")
    s = sub.add_parser("submit", parents=[common], help="seal and submit a bid")
    s.add_argument("--lot", type=int, required=True)
    s.add_argument("--price-fen", type=int, required=True)
    s.add_argument(
        "--document", action="append", default=[], help="a document to seal (repeatable)"
    )
    s.add_argument("--delivery-days", type=int, default=30)
    s.add_argument("--warranty-months", type=int, default=36)
    s.add_argument("--enterprise-size", default="small", choices=kb1.SIZES)
    s.add_argument("--notes", default="由独立的 Python 客户端密封")
    s.add_argument("--brand")
    s.add_argument("--segment-size", type=int, help="default: the server's")
    s.add_argument("--chunks", type=int, default=4, help="number of PUTs (at least 2)")
    s.add_argument("--login-proof", action="store_true", help="also log in with a device-key proof")
    d = sub.add_parser("decrypt", parents=[common], help="the bidder's part of the opening")
    d.add_argument("--bid")
    d.add_argument("--over", choices=("http", "hub"), default="http")
    sh = sub.add_parser("share", parents=[common], help="a custodian's part of the opening")
    sh.add_argument("--over", choices=("http", "hub"), default="http")
    w = sub.add_parser("watch", parents=[common], help="follow the opening hall over the hub")
    w.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for a frame")
    args = parser.parse_args(argv)
    if args.command in ("decrypt", "share") and not args.key_file:
        parser.error("--key-file is needed")
    if args.command == "submit" and args.chunks < 2:
        parser.error("--chunks is at least 2 (the resume is checked after the first)")
    try:
        run = {"submit": cmd_submit, "decrypt": cmd_decrypt, "share": cmd_share, "watch": cmd_watch}[
            args.command
        ]
        print(json.dumps(run(args), ensure_ascii=False))
        return 0
    except (ApiError, HubError) as e:
        log(f"error: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
