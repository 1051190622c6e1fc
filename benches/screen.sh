#!/usr/bin/env bash
# `kaibiao screen` against open-contracting's ocdscardinal on the same OCDS file, in the
# same run: the flags compared per indicator, and the time of each (BENCHMARKS.md).
#
#   bash benches/screen.sh [processes]     # default 100000
#
# ocdscardinal's command line is built from its source (the PyPI package carries only a
# Python module): CARDINAL=/path/to/ocdscardinal, or it is built once under
# $TMPDIR/cardinal-src from a clone of github.com/open-contracting/cardinal-rs.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
work="${TMPDIR:-/tmp}/kaibiao-screen-bench"
mkdir -p "$work"
if [ -z "${CARDINAL:-}" ]; then
  src="${TMPDIR:-/tmp}/cardinal-src"
  [ -d "$src" ] || git clone --depth 1 https://github.com/open-contracting/cardinal-rs "$src"
  rm -f "$src/rust-toolchain.toml"   # it asks for nightly; stable builds it
  (cd "$src" && cargo build --release --bin ocdscardinal)
  CARDINAL="$src/target/release/ocdscardinal"
fi
cargo build --release --bin kaibiao
python3 benches/ocds_city.py "$n" > "$work/city.jsonl"
printf "[R018]\n[R024]\n[R028]\n[R035]\n[R036]\n[R038]\n[R058]\n" > "$work/settings.ini"
for run in 1 2 3; do
  /usr/bin/time -f "run $run ocdscardinal: %e s, %M KB" \
    "$CARDINAL" indicators --settings "$work/settings.ini" "$work/city.jsonl" > "$work/cardinal.json"
  /usr/bin/time -f "run $run kaibiao screen: %e s, %M KB" \
    target/release/kaibiao screen "$work/city.jsonl" --output "$work/kaibiao.json"
done
python3 benches/ocds_compare.py "$work/cardinal.json" "$work/kaibiao.json"
