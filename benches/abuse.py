#!/usr/bin/env python3
"""What one client can take from a server: connections, memory. Starts a fresh
`kaibiao serve --demo` (release binary from --bin) on loopback and measures, from outside:

  A. one account opening N idle hub WebSockets: how many the server holds, its RSS with
     them open and 5 s after they close;
  B. the same with the per-user cap lifted (KAIBIAO_HUB_CONNECTIONS_PER_USER): RSS per
     idle hub connection, and after they close;
  C. N idle TCP connections that send nothing, from 127.0.0.2: how many are still held
     after 20 s, and /healthz's latency meanwhile;
  D. 40 parallel PUTs announcing 16 MiB each to a bid the client does not have: the
     server's peak RSS growth.

Run it for two builds to compare (BENCHMARKS.md has the command). Standard library only;
every loop is bounded and every target is on this machine.
"""

import argparse, asyncio, base64, json, os, re, resource, subprocess, tempfile, time
import urllib.request

PASSWORD = "bench-password-1"


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def start(bin_dir, env_extra):
    data = tempfile.mkdtemp()
    env = dict(os.environ, KAIBIAO_DEMO_PASSWORD=PASSWORD, RUST_LOG="warn", **env_extra)
    p = subprocess.Popen(
        [f"{bin_dir}/kaibiao", "serve", "--demo", "--data-dir", data, "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = p.stdout.readline()
        m = re.search(r"https?://[^\s/]+", line)
        if m and "running at" in line:
            return p, m.group(0).replace("localhost", "127.0.0.1")
    raise SystemExit("the server did not start")


def token(base, user):
    req = urllib.request.Request(
        base + "/api/auth/tokens", method="POST",
        data=json.dumps({"username": user, "password": PASSWORD, "label": "bench"}).encode(),
        headers={"content-type": "application/json"})
    return json.load(urllib.request.urlopen(req))["token"]


async def ws_open(host, port, tok):
    r, w = await asyncio.open_connection(host, port)
    key = base64.b64encode(os.urandom(16)).decode()
    w.write((f"GET /api/hub HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
             f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
             f"Authorization: Bearer {tok}\r\n\r\n").encode())
    await w.drain()
    status = (await asyncio.wait_for(r.readline(), 10)).decode()
    return (r, w) if " 101 " in status else (None, w)


async def hub_connections(base, tok, n, pid):
    host, port = base.split("//")[1].split(":")
    before = rss_kib(pid)
    opened = await asyncio.gather(*(ws_open(host, int(port), tok) for _ in range(n)),
                                  return_exceptions=True)
    held = [o for o in opened if isinstance(o, tuple) and o[0] is not None]
    await asyncio.sleep(2)
    during = rss_kib(pid)
    for o in opened:
        if isinstance(o, tuple):
            o[1].close()
    await asyncio.sleep(5)
    after = rss_kib(pid)
    return len(held), before, during, after


async def idle_tcp(base, n):
    host, port = base.split("//")[1].split(":")
    conns = []
    for _ in range(n):
        try:
            r, w = await asyncio.open_connection(host, int(port), local_addr=("127.0.0.2", 0))
            conns.append((r, w))
        except OSError:
            break
    t0 = time.time()
    urllib.request.urlopen(base + "/healthz", timeout=30).read()
    healthz_ms = (time.time() - t0) * 1000
    await asyncio.sleep(20)
    held = 0
    for r, w in conns:
        try:
            data = await asyncio.wait_for(r.read(1), 0.01)
            if data:
                held += 0  # answered (a 503 or 408): not held idle
        except asyncio.TimeoutError:
            held += 1  # nothing read and not closed: still held
        w.close()
    return len(conns), held, healthz_ms


async def big_puts(base, tok, n, size):
    host, port = base.split("//")[1].split(":")

    async def one():
        r, w = await asyncio.open_connection(host, int(port))
        w.write((f"PUT /api/bids/00000000-0000-0000-0000-000000000000/content?offset=0 HTTP/1.1\r\n"
                 f"Host: {host}\r\nAuthorization: Bearer {tok}\r\n"
                 f"Content-Type: application/octet-stream\r\nContent-Length: {size}\r\n\r\n").encode())
        chunk = b"\0" * (1 << 20)
        try:
            for _ in range(size >> 20):
                w.write(chunk)
                await asyncio.wait_for(w.drain(), 30)
        except (ConnectionError, asyncio.TimeoutError):
            pass
        try:
            await asyncio.wait_for(r.read(100), 10)
        except Exception:
            pass
        w.close()

    await asyncio.gather(*(one() for _ in range(n)), return_exceptions=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--label", default="")
    ap.add_argument("--connections", type=int, default=5000)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    rows = []

    p, base = start(a.bin, {})
    try:
        tok = token(base, "finance")
        held, before, during, after = asyncio.run(hub_connections(base, tok, a.connections, p.pid))
        rows.append(f"| {a.label} | A: one account opens {a.connections} hub connections | held {held}; "
                    f"RSS {before // 1024} → {during // 1024} MiB, {after // 1024} MiB 5 s after closing |")
        got, still, hz = asyncio.run(idle_tcp(base, a.connections))
        rows.append(f"| {a.label} | C: {got} idle TCP connections from one address | {still} still held "
                    f"after 20 s; /healthz meanwhile {hz:.0f} ms |")
        hwm0 = rss_kib(p.pid, "VmHWM")
        tok_s = token(base, "supplier1")
        asyncio.run(big_puts(base, tok_s, 40, 16 << 20))
        hwm1 = rss_kib(p.pid, "VmHWM")
        rows.append(f"| {a.label} | D: 40 parallel 16 MiB PUTs to a bid not the client's | peak RSS "
                    f"{hwm0 // 1024} → {hwm1 // 1024} MiB (+{(hwm1 - hwm0) // 1024} MiB) |")
    finally:
        p.kill()

    p, base = start(a.bin, {"KAIBIAO_HUB_CONNECTIONS_PER_USER": "1000000"})
    try:
        tok = token(base, "finance")
        held, before, during, after = asyncio.run(hub_connections(base, tok, a.connections, p.pid))
        per = (during - before) / max(held, 1)
        rows.append(f"| {a.label} | B: {held} idle hub connections, cap lifted | {per:.1f} KiB each; "
                    f"RSS {before // 1024} → {during // 1024} MiB, {after // 1024} MiB 5 s after closing |")
        # Kept or leaked? Five more bursts: memory the allocator kept is reused by the next
        # burst (RSS flat); a leak would grow with each.
        afters = [after]
        for _ in range(5):
            afters.append(asyncio.run(hub_connections(base, tok, a.connections, p.pid))[3])
        rows.append(f"| {a.label} | B′: six bursts of {a.connections} connections, each closed | RSS "
                    f"5 s after each: {', '.join(str(x // 1024) for x in afters)} MiB |")
    finally:
        p.kill()
    print("\n".join(rows))


if __name__ == "__main__":
    main()
