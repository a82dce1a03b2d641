#!/usr/bin/env bash
# Builds and runs the native peer benchmarks: Rust (async-channel, flume, tokio mpsc,
# crossbeam-channel; bench/peers/rust) and Go channels (bench/peers/go). They run janus's
# benchmark scenarios against peer channel libraries, as baselines measured on this machine.
#
# Usage: bench/peers/run-native.sh [N] [RUNS]     (defaults: 2000000 items, 5 rounds)
#   SLOW_ITEMS_SCALE=0.1 (passed through) shortens the slow-producer scenarios.
# stdout: only the figures, one `<peer>_<scenario> <value> <unit>` line each;
# everything else (builds, progress, installs) goes to stderr.
#
# Works offline from a fresh clone: the Rust crates come from Debian's librust-*-dev packages
# (bench/peers/rust/.cargo/config.toml points cargo at /usr/share/cargo/registry), and the Go
# program uses only the standard library. If a toolchain or package is missing it is installed
# with apt-get when running as root; otherwise that peer is skipped with a one-line message
# saying what to install, and the script carries on (exit 0). It exits non-zero only if a
# build or a benchmark fails (a benchmark fails when a receiver sees a wrong sum).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
items="${1:-2000000}"
runs="${2:-5}"
status=0

# rustup's cargo, when the caller's PATH lacks it.
cargo_bin="${CARGO_HOME:-${HOME:-/root}/.cargo}/bin"
[ -x "$cargo_bin/cargo" ] && PATH="$PATH:$cargo_bin"

# Each crate the Rust program needs, as "<directory prefix in Debian's registry>:<package>".
registry=/usr/share/cargo/registry
rust_crates=(
  async-channel-1.:librust-async-channel-dev
  flume-0.10.:librust-flume-dev
  crossbeam-channel-0.5.:librust-crossbeam-channel-dev
  tokio-1.:librust-tokio-dev
  libc-0.2.:librust-libc-dev
)

missing_rust() {
  local out=()
  command -v cargo >/dev/null 2>&1 || out+=(cargo)
  local entry
  for entry in "${rust_crates[@]}"; do
    compgen -G "$registry/${entry%%:*}*" >/dev/null || out+=("${entry#*:}")
  done
  echo "${out[*]}"
}

missing_go() {
  command -v go >/dev/null 2>&1 || echo golang-go
}

# apt_install PKG...: installs with apt-get if we are root and have it; fails otherwise.
apt_updated=
apt_install() {
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
  echo "run-native.sh: apt-get install -y $*" >&2
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$apt_updated" ]; then
    apt-get update -qq >&2 || return 1
    apt_updated=1
  fi
  apt-get install -y -qq "$@" >&2
}

# ensure NAME MISSING-FUNCTION: true when nothing is missing (after installing what it can).
ensure() {
  local name="$1" check="$2" missing
  missing="$($check)"
  [ -z "$missing" ] && return 0
  # shellcheck disable=SC2086 # a list of package names
  apt_install $missing || true
  missing="$($check)"
  [ -z "$missing" ] && return 0
  echo "skipping $name peers: install $missing (apt-get install -y $missing)" >&2
  return 1
}

run_rust() {
  ensure Rust missing_rust || return 0
  local t0=$SECONDS
  echo "run-native.sh: building the Rust peers ($(cargo --version))" >&2
  if ! (cd "$here/rust" && CARGO_TARGET_DIR="$here/rust/target" cargo build --release --offline) >&2; then
    echo "run-native.sh: the Rust peers failed to build" >&2
    status=1
    return 0
  fi
  echo "run-native.sh: Rust build took $((SECONDS - t0)) s" >&2
  t0=$SECONDS
  if ! "$here/rust/target/release/janus-peer-bench" "$items" "$runs"; then
    echo "run-native.sh: the Rust peer benchmark failed" >&2
    status=1
  fi
  echo "run-native.sh: Rust run took $((SECONDS - t0)) s" >&2
}

run_go() {
  ensure Go missing_go || return 0
  local t0=$SECONDS build="$here/go/build"
  echo "run-native.sh: building the Go peer ($(go version))" >&2
  # Standard library only: no module download (GOPROXY=off), no toolchain switch, caches and
  # output inside the git-ignored build/ folder.
  if ! (cd "$here/go" && env GOCACHE="$build/gocache" GOPATH="$build/gopath" GOPROXY=off \
        GOFLAGS= GO111MODULE=on GOTOOLCHAIN=local GOTELEMETRY=off CGO_ENABLED=0 \
        go build -o "$build/peerbench" .) >&2; then
    echo "run-native.sh: the Go peer failed to build" >&2
    status=1
    return 0
  fi
  echo "run-native.sh: Go build took $((SECONDS - t0)) s" >&2
  t0=$SECONDS
  if ! "$build/peerbench" "$items" "$runs"; then
    echo "run-native.sh: the Go peer benchmark failed" >&2
    status=1
  fi
  echo "run-native.sh: Go run took $((SECONDS - t0)) s" >&2
}

run_rust
run_go
exit "$status"
