#!/usr/bin/env bash
# Swift baselines for janus: builds the bench-only package bench/peers/swift (AsyncStream,
# swift-async-algorithms' AsyncChannel, swift-nio's NIOAsyncSequenceProducer) and runs it.
# Usage: bench/peers/run-swift.sh [N] [RUNS]   (defaults 2000000 and 5)
# Figures on stdout, `<prefix><scenario> <value> <unit>`; build talk and diagnostics on stderr.
# SLOW_ITEMS_SCALE=0.1 shortens the slow-sender scenarios; PEERS_ONLY=text picks figures.
#
# The packages come through git like any SwiftPM dependency (offline, from the local mirror).
# If a package or version is missing there, this says so in one line on stderr and exits 0
# with no figures, so a benchmark run that calls it goes on without the baselines.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
package="$here/swift"
items="${1:-2000000}"
runs="${2:-5}"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

started=$SECONDS
if ! swift build -c release --package-path "$package" --scratch-path "$package/.build" >"$log" 2>&1; then
    # A dependency that cannot be had: a repository that will not clone, or no matching version.
    missing="$(grep -m1 -oE "Failed to clone repository [^ ]+[^ :]|no versions of '[^']+' match the requirement [^ ]+|Couldn't get the list of tags[^.]*|repository '[^']+' not found" "$log")"
    if [ -n "$missing" ]; then
        echo "bench/peers/run-swift.sh: skipped, the Swift package mirror lacks a dependency ($missing)" >&2
        exit 0
    fi
    cat "$log" >&2
    echo "bench/peers/run-swift.sh: swift build failed" >&2
    exit 1
fi
echo "bench/peers/run-swift.sh: built in $((SECONDS - started)) s" >&2

exec "$package/.build/release/PeerBench" "$items" "$runs"
