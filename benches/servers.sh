# Sourced by the benchmark scripts that start servers: the release binaries (built unless
# KAIBIAO_BENCH_BIN names them), the demo password, the open-file limit, every started
# process stopped at exit, and `listening FILE PATTERN`.
export KAIBIAO_DEMO_PASSWORD=${KAIBIAO_DEMO_PASSWORD:-bench-password-1}
export RUST_LOG=${RUST_LOG:-warn}

BIN=${KAIBIAO_BENCH_BIN:-target/release}
[ -n "${KAIBIAO_BENCH_BIN:-}" ] || cargo build --release --bins
# Server and clients each get the hard open-file limit (20,000 here).
ulimit -n "$(ulimit -Hn)"
mkdir -p "$OUT"

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# Waits for a line matching $2 in file $1 and prints its last word.
listening() {
    for _ in $(seq 1 300); do
        if grep -q "$2" "$1" 2>/dev/null; then
            grep "$2" "$1" | head -1 | awk '{print $NF}'
            return
        fi
        sleep 0.1
    done
    echo "no '$2' in $1" >&2
    exit 1
}
