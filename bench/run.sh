#!/usr/bin/env bash
# Runs every benchmark and writes bench/results.txt (machine description + one line per figure).
# Usage: bench/run.sh <c-bench-binary> <swift-bench-binary> [items] [runs]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
c_bench="$1"; swift_bench="$2"; items="${3:-2000000}"; runs="${4:-5}"
out="$here/results.txt"
{
  echo "# janus benchmark, $(date -u +%Y-%m-%d)"
  echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
  echo "# toolchain: $(swift --version 2>/dev/null | head -1)"
  echo "# items per run: $items, median of $runs runs"
} > "$out"
cat "$out"
"$c_bench" "$items" "$runs" | tee -a "$out"
"$swift_bench" "$items" "$runs" | tee -a "$out"
if command -v python3 >/dev/null; then
  python3 "$here/janus_py.py" 200000 3 | tee -a "$out"
fi
python3 "$here/summary.py" "$out"
