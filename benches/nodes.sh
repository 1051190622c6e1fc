#!/usr/bin/env bash
# Watchers over several nodes (BENCHMARKS.md, "Several nodes"): for each node count K, K
# fresh release servers (`kaibiao serve`, the first with --demo) on one new PostgreSQL
# database and one shared folder; kaibiao-load spreads the watchers over the K nodes
# (round robin) and amends the tender at the first node, so every event crosses to the
# other nodes over LISTEN/NOTIFY. Prints one table row per K; keeps each JSON report.
#
#   KAIBIAO_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres benches/nodes.sh
#   KAIBIAO_BENCH_NODES="1 3" KAIBIAO_BENCH_WATCHERS=3000 benches/nodes.sh
#
# Needs curl, jq and psql. Loopback only: every node, the clients and PostgreSQL share
# this machine's cores, so the figures say what one machine carries, not what K
# machines would. Every process it starts is stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

ADMIN=${KAIBIAO_BENCH_DATABASE_URL:?a PostgreSQL URL to create the benchmark databases with}
NODES=${KAIBIAO_BENCH_NODES:-"1 2 3"}
WATCHERS=${KAIBIAO_BENCH_WATCHERS:-6000}
EVENTS=${KAIBIAO_BENCH_EVENTS:-5}
OUT=${KAIBIAO_BENCH_OUT:-target/bench-nodes}
# shellcheck source=benches/servers.sh
source benches/servers.sh

echo "| nodes | watchers | connected | delivered | p50 ms | p99 ms | max ms | deliveries/s |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for k in $NODES; do
    db="kb_bench_nodes_${k}_$$"
    psql -q "$ADMIN" -c "CREATE DATABASE $db" >/dev/null
    url="${ADMIN%/*}/$db"
    shared=$(mktemp -d)
    bases=()
    node_pids=()
    dirs=()
    for n in $(seq 1 "$k"); do
        data=$(mktemp -d)
        dirs+=("$data")
        demo=()
        [ "$n" = 1 ] && demo=(--demo)
        DATABASE_URL="$url" "$BIN/kaibiao" serve "${demo[@]}" --data-dir "$data" \
            --shared-dir "$shared" --listen 127.0.0.1:0 --hub-connections-per-user 1000000 \
            --media-ports "$((50000 + n * 100))-$((50099 + n * 100))" \
            >"$data/server.out" 2>"$data/server.log" &
        pids+=("$!")
        node_pids+=("$!")
        base=$(listening "$data/server.out" "running at")
        bases+=("${base%/}")
    done
    watch=$(IFS=,; echo "${bases[*]}")
    "$BIN/kaibiao-load" --server "${bases[0]}" --watch-servers "$watch" \
        --watchers "$WATCHERS" --drive amend --events "$EVENTS" --json \
        >"$OUT/nodes-$k.json" 2>"$OUT/nodes-$k.log"
    for p in "${node_pids[@]}"; do kill "$p"; wait "$p" 2>/dev/null || true; done
    jq -r --arg k "$k" --arg n "$WATCHERS" '"| \($k) | \($n) | \(.connected) | \(.deliveries)/\(.expected_deliveries) | \(.latency.p50_ms) | \(.latency.p99_ms) | \(.latency.max_ms) | \(.deliveries_per_sec | floor) |"' "$OUT/nodes-$k.json"
    psql -q "$ADMIN" -c "DROP DATABASE $db WITH (FORCE)" >/dev/null
    rm -rf "$shared" "${dirs[@]}"
done
