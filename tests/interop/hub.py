"""A client of the real-time hub written from docs/hub.md and docs/ledger.md alone.

It connects with a bearer token, subscribes to a room, checks every ledger event it is
sent against the hash chain (docs/ledger.md: each `hash` is SHA-256 of the previous hash
and the event's canonical JSON, `seq` without gaps, the bid register a chain of its own),
sends commands and matches their `ack` or `error` by `id`. The WebSocket itself is the
`websockets` package (pinned in requirements.txt); everything the hub means is here.
"""

from __future__ import annotations

import hashlib
import json
import time

from websockets.sync.client import connect

import kb1

ZERO_HASH = "0" * 64


class HubError(Exception):
    """An `error` frame (hub.md "Errors"): its stable `code`, `fields` with VALIDATION."""

    def __init__(self, frame: dict):
        self.frame = frame
        self.code = frame.get("code")
        self.fields = frame.get("fields")
        super().__init__(f"{self.code}: {frame.get('message_en')} {self.fields or ''}")


def event_hash(chain_id: str, event: dict) -> str:
    """ledger.md: hex(SHA-256(prev_hash || C)), C the canonical JSON of
    {actor, at, body, kind, seq, tender}, where `tender` is the tender id in the tender's
    chain and "<tender id>/bids" in its bid register."""
    c = kb1.canonical_json(
        {k: event[k] for k in ("actor", "at", "body", "kind", "seq")} | {"tender": chain_id}
    )
    return hashlib.sha256(event["prev_hash"].encode("ascii") + c).hexdigest()


class Chain:
    """One hash chain as its events arrive: each must follow the last one kept."""

    def __init__(self, chain_id: str, what: str):
        self.chain_id, self.what = chain_id, what
        self.seq, self.head, self.events = 0, ZERO_HASH, []

    def add(self, event: dict) -> None:
        if event["seq"] != self.seq + 1:
            raise AssertionError(f"{self.what}: seq {event['seq']} after {self.seq}")
        if event["prev_hash"] != self.head:
            raise AssertionError(f"{self.what}: event {event['seq']} does not link")
        if event_hash(self.chain_id, event) != event["hash"]:
            raise AssertionError(f"{self.what}: event {event['seq']} has a wrong hash")
        self.seq, self.head = event["seq"], event["hash"]
        self.events.append(event)


class Hub:
    """One connection to /api/hub (hub.md "Connecting"), subscribed to at most one room."""

    def __init__(self, server: str, token: str, timeout: float = 60.0):
        url = server.rstrip("/").replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        self.ws = connect(
            url + "/api/hub",
            additional_headers={"Authorization": f"Bearer {token}"},
            max_size=1 << 22,
            open_timeout=timeout,
        )
        self.timeout = timeout
        self.room: str | None = None
        self.tender: str | None = None
        self.ledger: Chain | None = None
        self.register: Chain | None = None
        self.presence: dict | None = None
        self.progress: list[dict] = []
        self.live = 0  # events received after `subscribed`
        self.subscribed: dict | None = None

    def close(self) -> None:
        self.ws.close()

    def send(self, frame: dict) -> None:
        self.ws.send(json.dumps(frame, ensure_ascii=False))

    def _next(self, deadline: float) -> dict:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no frame from the hub in time")
        return json.loads(self.ws.recv(timeout=left))

    def _take(self, frame: dict) -> None:
        """Applies a frame of the subscribed room (replay or live) to what is known."""
        kind = frame.get("type")
        if frame.get("room") != self.room:
            return
        if kind == "event":
            self.ledger.add(frame["event"])
            if self.subscribed is not None:
                self.live += 1
        elif kind == "bid_event":
            e = frame["event"]
            # Every replay sends the register in full (hub.md "Reconnecting" 3).
            if e["seq"] > self.register.seq:
                self.register.add(e)
        elif kind == "presence":
            if self.presence is None or frame["version"] >= self.presence["version"]:
                self.presence = frame
        elif kind == "progress":
            self.progress.append(frame)
        elif kind == "resync":
            self.send({"type": "subscribe", "room": self.room, "since_seq": self.ledger.seq})

    def subscribe(self, room: str) -> dict:
        """subscribe {room, since_seq: 0}: the replay, `subscribed`, then `presence`."""
        self.room, self.tender = room, room.split(":", 1)[1]
        self.ledger = Chain(self.tender, f"{room} ledger")
        self.register = Chain(f"{self.tender}/bids", f"{room} bid register")
        self.send({"type": "subscribe", "room": room, "since_seq": 0})
        deadline = time.monotonic() + self.timeout
        while self.presence is None:
            frame = self._next(deadline)
            if frame.get("type") == "error":
                raise HubError(frame)
            if frame.get("type") == "subscribed" and frame.get("room") == room:
                if frame["seq"] != self.ledger.seq:
                    raise AssertionError(f"subscribed at {frame['seq']}, replayed {self.ledger.seq}")
                self.subscribed = frame
            elif frame.get("type") == "presence" and self.subscribed is None:
                raise AssertionError("presence before subscribed")
            else:
                self._take(frame)
        return self.subscribed

    def command(self, room: str, command: dict, cid: str) -> dict:
        """{"type": "command", id, room, command}: the `ack`'s result, or HubError. Frames of
        the subscribed room that arrive meanwhile are applied."""
        self.send({"type": "command", "id": cid, "room": room, "command": command})
        deadline = time.monotonic() + self.timeout
        while True:
            frame = self._next(deadline)
            if frame.get("type") in ("ack", "error") and frame.get("id") == cid:
                if frame["type"] == "error":
                    raise HubError(frame)
                return frame["result"]
            self._take(frame)

    def until(self, done, timeout: float | None = None) -> None:
        """Applies frames until `done(self)` holds."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while not done(self):
            self._take(self._next(deadline))

    def kinds(self) -> list[str]:
        return [e["kind"] for e in self.ledger.events]
