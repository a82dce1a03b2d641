#!/usr/bin/env bash
# The tools `make test` needs beyond the Swift toolchain, make and a C compiler: valgrind (over
# the examples and stress tests), pkg-config (the install test), spin (the model check of the
# lock-free handshake), and libuv1-dev (examples/c/demo_libuv, the only optional one: that demo
# is skipped with a message without it). Installs what is missing with apt-get when it can (as
# root), so that `make test` works on a fresh machine; otherwise says what to install and, for
# a required tool, fails.
set -uo pipefail

need() { command -v "$1" >/dev/null 2>&1; }
have_libuv() { { need pkg-config && pkg-config --exists libuv; } || [ -f /usr/include/uv.h ]; }

missing=()
need valgrind || missing+=(valgrind)
need pkg-config || missing+=(pkg-config)
need spin || missing+=(spin)
have_libuv || missing+=(libuv1-dev)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && need apt-get; then
  echo "make test: installing ${missing[*]} with apt-get" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi

status=0
for tool in valgrind pkg-config spin; do
  need "$tool" || { echo "make test needs $tool: apt-get install $tool" >&2; status=1; }
done
have_libuv || echo "make test: libuv not installed (apt-get install libuv1-dev): demo_libuv will be skipped" >&2
exit "$status"
