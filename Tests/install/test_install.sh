#!/bin/sh
# Tests packaging/install.sh: installs libjanus into a fresh temporary prefix,
# builds the README quick start against the installed copy with nothing but
# pkg-config, runs it in a clean environment, and checks DESTDIR staging.
#
#   Tests/install/test_install.sh [path-to-libjanus.so] [include-dir]
#
# Defaults: .build/release/libjanus.so and include/ of this repository.
# Needs cc, pkg-config (installed with apt-get when missing and run as root),
# readelf and ldd.  Last line: "N passed, N failed"; exit status 1 on failure.

set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lib=${1:-$root/.build/release/libjanus.so}
incdir=${2:-$root/include}
install_sh=$root/packaging/install.sh
CC=${CC:-cc}

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { # check <description> <command...>: passes when the command succeeds
    what=$1; shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}

[ -f "$lib" ] || { echo "$lib: no such file (build it first: make lib)" >&2; fail "library exists"; finish; }
[ -f "$incdir/janus.h" ] || { echo "$incdir/janus.h: no such file" >&2; fail "header exists"; finish; }
lib=$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")
builddir=$(dirname "$lib")

for tool in readelf ldd "$CC"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "$tool is needed and was not found" >&2; fail "tool $tool"; finish; }
done
if ! command -v pkg-config >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "pkg-config not found: installing it with apt-get"
        { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y pkg-config; } >/dev/null ||
            { echo "apt-get install pkg-config failed" >&2; fail "pkg-config available"; finish; }
    else
        echo "pkg-config is needed and was not found: install it (e.g. apt-get install pkg-config) and rerun" >&2
        fail "pkg-config available"
        finish
    fi
fi

version=$(sed -n 's/^#define JANUS_VERSION_STRING "\(.*\)"/\1/p' "$incdir/janus.h")
major=${version%%.*}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/janus-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
prefix=$tmp/prefix
pl=$prefix/lib

# --- install into the fresh prefix -------------------------------------------
if "$install_sh" "$lib" "$incdir" "$prefix" >"$tmp/install.log" 2>&1; then
    pass "install.sh into $prefix"
else
    cat "$tmp/install.log"; fail "install.sh into $prefix"; finish
fi
sed 's/^/    /' "$tmp/install.log"

check "real file lib/libjanus.so.$version exists, not a link" \
    sh -c '[ -f "$1" ] && [ ! -h "$1" ]' - "$pl/libjanus.so.$version"
check "real file has mode 755" \
    sh -c '[ "$(ls -l "$1" | cut -c1-10)" = "-rwxr-xr-x" ]' - "$pl/libjanus.so.$version"
check "installed library is byte-identical to the built one (nothing stripped)" \
    cmp -s "$lib" "$pl/libjanus.so.$version"
check "libjanus.so.$major -> libjanus.so.$version" \
    sh -c '[ -h "$1" ] && [ "$(readlink "$1")" = "$2" ]' - "$pl/libjanus.so.$major" "libjanus.so.$version"
check "libjanus.so -> libjanus.so.$major" \
    sh -c '[ -h "$1" ] && [ "$(readlink "$1")" = "$2" ]' - "$pl/libjanus.so" "libjanus.so.$major"
check "include/janus.h installed, identical" cmp -s "$incdir/janus.h" "$prefix/include/janus.h"
check "lib/pkgconfig/janus.pc installed" test -f "$pl/pkgconfig/janus.pc"

# --- the installed library's dynamic section ---------------------------------
readelf -d "$pl/libjanus.so.$version" >"$tmp/lib.dyn"
check "readelf -d: SONAME libjanus.so.$major" grep -q "(SONAME).*\[libjanus\.so\.$major\]" "$tmp/lib.dyn"
# A RUNPATH of $ORIGIN is harmless; one into the build tree or the toolchain is not.
runpaths=$(sed -n 's/.*(\(RUNPATH\|RPATH\)).*\[\(.*\)\].*/\2/p' "$tmp/lib.dyn")
echo "    library RUNPATH/RPATH: ${runpaths:-<none>}"
check "readelf -d: no RUNPATH/RPATH into the build tree ($builddir) or $root" \
    sh -c 'case "$1" in *"$2"* | *"$3"* | *.build*) exit 1 ;; esac' - "$runpaths" "$builddir" "$root"
bad_needed=$(sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p' "$tmp/lib.dyn" |
    grep -v -E '^(libc\.so\.6|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|ld-linux[^ ]*\.so\.[0-9]+)$')
check "readelf -d: NEEDED only libc, libm, libstdc++, libgcc_s, ld.so${bad_needed:+ (also: $bad_needed)}" \
    test -z "$bad_needed"

# --- pkg-config ---------------------------------------------------------------
pc() { PKG_CONFIG_PATH=$pl/pkgconfig pkg-config "$@"; }
check "pkg-config --exists janus" pc --exists janus
check "pkg-config --modversion janus = $version" test "$(pc --modversion janus)" = "$version"
check "pkg-config --variable=prefix janus = $prefix" test "$(pc --variable=prefix janus)" = "$prefix"
check "pkg-config --cflags janus = -I$prefix/include" test "$(pc --cflags janus | sed 's/ *$//')" = "-I$prefix/include"
check "pkg-config --libs janus = -L$pl -ljanus" test "$(pc --libs janus | sed 's/ *$//')" = "-L$pl -ljanus"
check "pkg-config --static --libs janus has -lpthread -lstdc++ -lm" \
    sh -c 'for l in -lpthread -lstdc++ -lm; do case " $1 " in *" $l "*) ;; *) exit 1 ;; esac; done' \
    - "$(pc --static --libs janus)"
check "janus.pc has no @PLACEHOLDER@ left" sh -c '! grep -q "@[A-Z]*@" "$1"' - "$pl/pkgconfig/janus.pc"

# --- build the quick start with nothing but pkg-config -------------------------
# In its own folder, so that neither the repository's include/ nor its
# .build/ can be picked up by accident.
mkdir "$tmp/build" "$tmp/elsewhere"
cp "$here/quickstart.c" "$tmp/build/"
if (cd "$tmp/build" &&
    $CC quickstart.c $(PKG_CONFIG_PATH=$pl/pkgconfig pkg-config --cflags --libs janus) \
        -pthread -Wl,-rpath,"$pl" -o quickstart) >"$tmp/cc.log" 2>&1; then
    pass "cc quickstart.c \$(pkg-config --cflags --libs janus) -pthread -Wl,-rpath,$pl"
else
    cat "$tmp/cc.log"; fail "cc quickstart.c with pkg-config flags"; finish
fi
qs=$tmp/build/quickstart

readelf -d "$qs" >"$tmp/qs.dyn"
check "quickstart NEEDs libjanus.so.$major (the SONAME, not libjanus.so)" \
    grep -q "(NEEDED).*\[libjanus\.so\.$major\]" "$tmp/qs.dyn"
check "quickstart RUNPATH is the installed prefix only" \
    test "$(sed -n 's/.*(\(RUNPATH\|RPATH\)).*\[\(.*\)\].*/\2/p' "$tmp/qs.dyn")" = "$pl"
resolved=$(cd "$tmp/elsewhere" && env -i ldd "$qs" | sed -n 's/^[[:space:]]*libjanus\.so\.[0-9]* => \([^ ]*\) .*/\1/p')
check "ldd (env -i): libjanus.so.$major resolves into the prefix ($resolved)" \
    test "$resolved" = "$pl/libjanus.so.$major"

expected="version $version header $version sum = 500500 expected 500500"
out=$(cd "$tmp/elsewhere" && env -i "$qs" 2>&1); rc=$?
echo "    quickstart: $out"
check "quickstart under env -i from an unrelated cwd exits 0" test "$rc" -eq 0
check "quickstart prints '$expected'" test "$out" = "$expected"
out=$(cd / && env -i "$qs" 100000 2>&1); rc=$?
check "quickstart 100000 items under env -i from / ($out)" \
    test "$rc" -eq 0 -a "$out" = "version $version header $version sum = 5000050000 expected 5000050000"

# --- reinstalling over an existing install -------------------------------------
check "reinstall over the same prefix succeeds" \
    sh -c '"$1" "$2" "$3" "$4" >/dev/null 2>&1' - "$install_sh" "$lib" "$incdir" "$prefix"
check "after reinstall: links still right and quickstart still runs" \
    sh -c '[ "$(readlink "$1/libjanus.so")" = "libjanus.so.$2" ] && cd / && env -i "$3" >/dev/null' \
    - "$pl" "$major" "$qs"

# --- DESTDIR staging -------------------------------------------------------------
stage=$tmp/stage
sprefix=/usr/local/janus-staging-test
check "install.sh with DESTDIR=$stage PREFIX=$sprefix" \
    sh -c '"$1" "$2" "$3" "$4" "$5" >/dev/null' - "$install_sh" "$lib" "$incdir" "$sprefix" "$stage"
check "staged files land under DESTDIR" sh -c '
    for f in lib/libjanus.so.$3 lib/libjanus.so.$4 lib/libjanus.so include/janus.h lib/pkgconfig/janus.pc; do
        [ -e "$1$2/$f" ] || { echo "missing $1$2/$f"; exit 1; }
    done' - "$stage" "$sprefix" "$version" "$major"
check "nothing written to the real $sprefix" test ! -e "$sprefix"
check "staged janus.pc says prefix=$sprefix" grep -qx "prefix=$sprefix" "$stage$sprefix/lib/pkgconfig/janus.pc"
check "staged janus.pc does not mention DESTDIR ($stage)" \
    sh -c '! grep -qF "$1" "$2"' - "$stage" "$stage$sprefix/lib/pkgconfig/janus.pc"
check "staged pkg-config --libs = -L$sprefix/lib -ljanus" \
    test "$(PKG_CONFIG_PATH=$stage$sprefix/lib/pkgconfig pkg-config --libs janus | sed 's/ *$//')" = "-L$sprefix/lib -ljanus"
check "staged symlinks are relative (survive moving DESTDIR)" \
    test "$(readlink "$stage$sprefix/lib/libjanus.so.$major")" = "libjanus.so.$version"
stage2=$tmp/stage2
check "DESTDIR from the environment works too" sh -c '
    DESTDIR=$5 "$1" "$2" "$3" "$4" >/dev/null &&
    [ -f "$5$4/lib/libjanus.so.$6" ] && grep -qx "prefix=$4" "$5$4/lib/pkgconfig/janus.pc"' \
    - "$install_sh" "$lib" "$incdir" "$sprefix" "$stage2" "$version"

# --- bad arguments are refused -------------------------------------------------
check "install.sh refuses a relative PREFIX" \
    sh -c '! "$1" "$2" "$3" relative/prefix "$4" >/dev/null 2>&1' - "$install_sh" "$lib" "$incdir" "$tmp/x"
check "install.sh refuses a missing library" \
    sh -c '! "$1" "$2/nope.so" "$3" "$2/y" >/dev/null 2>&1 && [ ! -e "$2/y" ]' - "$install_sh" "$tmp" "$incdir"
check "install.sh with no arguments prints usage and fails" \
    sh -c 'out=$("$1" 2>&1) && exit 1; case $out in *usage*) ;; *) exit 1 ;; esac' - "$install_sh"

finish
