#!/usr/bin/env bash
# The opening hall under load (BENCHMARKS.md, "Watchers in the opening hall"): for each
# watcher count, a fresh release server (`kaibiao serve --demo`) in one process and
# kaibiao-load in another, then the same watchers against kaibiao-load's trivial
# broadcast server (the baseline, same run, same frame size). Prints one table row per
# count and keeps each JSON report under $OUT.
#
#   benches/watchers.sh                      # 1000 5000 10000 watchers, --drive amend
#   KAIBIAO_BENCH_WATCHERS="1000" KAIBIAO_BENCH_DRIVE=opening benches/watchers.sh
#   KAIBIAO_BENCH_BIN=/tmp/before benches/watchers.sh   # binaries built elsewhere (a
#                                                       # before/after comparison)
#
# Needs curl and jq. Loopback only; every process it starts is stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNTS=${KAIBIAO_BENCH_WATCHERS:-"1000 5000 10000"}
DRIVE=${KAIBIAO_BENCH_DRIVE:-amend}
EVENTS=${KAIBIAO_BENCH_EVENTS:-5}
OUT=${KAIBIAO_BENCH_OUT:-target/bench-watchers}
# shellcheck source=benches/servers.sh
source benches/servers.sh

echo "| watchers | server | connected | delivered | p50 ms | p99 ms | max ms | deliveries/s | KiB/conn |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
row() {
    jq -r --arg n "$1" --arg s "$2" '"| \($n) | \($s) | \(.connected) | \(.deliveries)/\(.expected_deliveries) | \(.latency.p50_ms) | \(.latency.p99_ms) | \(.latency.max_ms) | \(.deliveries_per_sec | floor) | \(.memory.kib_per_connection // "?" | if type == "number" then (. * 10 | floor) / 10 else . end) |"' "$3"
}

for n in $COUNTS; do
    data=$(mktemp -d)
    # All watchers share one bearer token: lift the per-user hub cap for the load.
    "$BIN/kaibiao" serve --demo --data-dir "$data" --listen 127.0.0.1:0 \
        --hub-connections-per-user 1000000 \
        >"$data/server.out" 2>"$data/server.log" &
    server=$!
    pids+=("$server")
    base=$(listening "$data/server.out" "running at")
    base=${base/localhost/127.0.0.1}
    "$BIN/kaibiao-load" --server "${base%/}" --watchers "$n" --drive "$DRIVE" \
        --events "$EVENTS" --data-dir "$data" --server-pid "$server" --json \
        >"$OUT/kaibiao-$n.json" 2>"$OUT/kaibiao-$n.log"
    kill "$server"; wait "$server" 2>/dev/null || true
    row "$n" "kaibiao ($DRIVE)" "$OUT/kaibiao-$n.json"

    bytes=$(jq '.frame_bytes' "$OUT/kaibiao-$n.json")
    "$BIN/kaibiao-load" baseline-server --listen 127.0.0.1:0 2>"$data/baseline.log" &
    baseline=$!
    pids+=("$baseline")
    url=$(listening "$data/baseline.log" "baseline server")
    "$BIN/kaibiao-load" --server "$url" --watchers "$n" --drive baseline \
        --events "$EVENTS" --frame-bytes "$bytes" --server-pid "$baseline" --json \
        >"$OUT/baseline-$n.json" 2>"$OUT/baseline-$n.log"
    kill "$baseline"; wait "$baseline" 2>/dev/null || true
    row "$n" "baseline" "$OUT/baseline-$n.json"
    rm -rf "$data"
done
