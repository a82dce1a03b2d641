#!/usr/bin/env bash
# Runs every benchmark program -- janus through the C ABI and the Swift API, the C
# mutex+condvar baseline, the Rust and Go peers, the Swift peers, Python's janus -- and writes
# bench/results.txt: the machine, then each figure as the median over the rounds.
#
# The programs alternate, one round of each at a time, so that a slow spell of this shared
# machine (they come and go within minutes here) falls on all of them alike; figures are
# compared within one run only.
#
# Usage: bench/run.sh <c-bench> <swift-bench> [items] [rounds]
# A peer whose toolchain or packages are missing is skipped with a message saying what to
# install (the peer scripts install Debian packages themselves when run as root).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
c_bench="$1"; swift_bench="$2"; items="${3:-1000000}"; rounds="${4:-5}"
out="$here/results.txt"
raw="$(mktemp)"
trap 'rm -f "$raw"' EXIT

# The Python rows (bench/python_bench.py): janus_swift (python/) beside Python's janus 2.0.0 and
# culsans from PyPI, all three in one venv of their own under .build-python/.
py_venv="$here/../.build-python/bench-venv"
python_rounds=1
if { [ -x "$py_venv/bin/python" ] || python3 -m venv "$py_venv"; } &&
   "$py_venv/bin/python" -m pip install -q janus==2.0.0 culsans &&
   JANUS_USE_REPO=1 "$py_venv/bin/python" -m pip install -q --force-reinstall --no-deps "$here/../python"; then
  :
else
  echo "bench: the Python rows skipped (could not set up $py_venv)" >&2
  python_rounds=0
fi

for round in $(seq "$rounds"); do
  echo "bench: round $round of $rounds" >&2
  "$c_bench" "$items" 1 | tee -a "$raw" || exit 1
  "$swift_bench" "$items" 1 | tee -a "$raw" || exit 1
  "$here/peers/run-native.sh" "$items" 1 | tee -a "$raw" || exit 1
  "$here/peers/run-swift.sh" "$items" 1 | tee -a "$raw" || exit 1
  if [ "$python_rounds" = 1 ]; then
    # Python's janus moves ~0.1 M items/s bounded: a tenth of the items is plenty.
    "$py_venv/bin/python" "$here/python_bench.py" "$((items / 10))" 1 | tee -a "$raw" || exit 1
  fi
done

{
  echo "# janus benchmark, $(date -u +%Y-%m-%d)"
  echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
  echo "# toolchain: $(swift --version 2>/dev/null | head -1)"
  echo "# items per run: $items; each figure is the median of $rounds rounds, the programs alternating"
  python3 "$here/summary.py" --medians "$raw"
} > "$out"
echo
python3 "$here/summary.py" "$out"
