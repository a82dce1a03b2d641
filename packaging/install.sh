#!/bin/sh
# Installs libjanus: the shared library, its header and a pkg-config file.
#
#   packaging/install.sh <path-to-libjanus.so> <include-dir> <PREFIX> [DESTDIR]
#
# Lays out, under $DESTDIR$PREFIX:
#   lib/libjanus.so.X.Y.Z            the library itself (mode 755, not stripped)
#   lib/libjanus.so.X -> libjanus.so.X.Y.Z   the SONAME link the loader uses
#   lib/libjanus.so   -> libjanus.so.X       the link `-ljanus` finds at build time
#   include/janus.h
#   lib/pkgconfig/janus.pc           prefix=PREFIX (never DESTDIR: staging for a
#                                    package must not leak into the installed file)
# X.Y.Z is JANUS_VERSION_STRING from janus.h.  DESTDIR may also come from the
# environment (as with `make install DESTDIR=...`); the argument wins.
# Nothing is stripped and no rpath is set or changed.  Uses POSIX sh tools,
# install(1) and sed; readelf, when present, checks the library's SONAME.

set -eu

prog=$(basename "$0")
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }

[ $# -ge 3 ] && [ $# -le 4 ] ||
    die "usage: $prog <path-to-libjanus.so> <include-dir> <PREFIX> [DESTDIR]"

lib=$1
incdir=$2
prefix=$3
destdir=${4-${DESTDIR-}}

here=$(cd "$(dirname "$0")" && pwd)
template=$here/janus.pc.in
header=$incdir/janus.h

[ -f "$lib" ] || die "$lib: no such file (build it first: make lib)"
[ -f "$header" ] || die "$header: no such file"
[ -f "$template" ] || die "$template: no such file"
case $prefix in
    /*) ;;
    *) die "PREFIX must be an absolute path, not '$prefix'" ;;
esac
case $destdir in
    '' | /*) ;;
    *) die "DESTDIR must be empty or an absolute path, not '$destdir'" ;;
esac
# /usr/local/ -> /usr/local, but / stays /.
while :; do
    case $prefix in
        ?*/) prefix=${prefix%/} ;;
        *) break ;;
    esac
done
[ "$prefix" = / ] && prefix=

version=$(sed -n 's/^#[[:space:]]*define[[:space:]][[:space:]]*JANUS_VERSION_STRING[[:space:]][[:space:]]*"\([^"]*\)".*/\1/p' "$header")
case $version in
    [0-9]*.[0-9]*.[0-9]*) ;;
    *) die "$header: no JANUS_VERSION_STRING \"X.Y.Z\" found (got '$version')" ;;
esac
major=${version%%.*}

real=libjanus.so.$version
soname=libjanus.so.$major

if command -v readelf >/dev/null 2>&1; then
    found=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
    [ "$found" = "$soname" ] ||
        die "$lib has SONAME '$found', expected '$soname' for version $version"
fi

libdir=$destdir$prefix/lib
includedir=$destdir$prefix/include
pcdir=$libdir/pkgconfig

install -d "$libdir" "$includedir" "$pcdir"

install -m 755 "$lib" "$libdir/$real"
echo "installed $libdir/$real"

# rm + ln rather than ln -f: replaces an old file or link in one portable way.
rm -f "$libdir/$soname"
ln -s "$real" "$libdir/$soname"
echo "installed $libdir/$soname -> $real"

rm -f "$libdir/libjanus.so"
ln -s "$soname" "$libdir/libjanus.so"
echo "installed $libdir/libjanus.so -> $soname"

install -m 644 "$header" "$includedir/janus.h"
echo "installed $includedir/janus.h"

# Escape what sed treats specially in a replacement (\, & and the | delimiter).
sed_escape() { printf '%s\n' "$1" | sed 's/[\\&|]/\\&/g'; }
pc_tmp=$pcdir/.janus.pc.$$
trap 'rm -f "$pc_tmp"' EXIT
sed -e "s|@PREFIX@|$(sed_escape "${prefix:-/}")|g" \
    -e 's|@LIBDIR@|${exec_prefix}/lib|g' \
    -e 's|@INCLUDEDIR@|${prefix}/include|g' \
    -e "s|@VERSION@|$(sed_escape "$version")|g" \
    "$template" >"$pc_tmp"
if grep -q '@[A-Z]*@' "$pc_tmp"; then
    die "$template: placeholder left unfilled: $(grep '@[A-Z]*@' "$pc_tmp")"
fi
install -m 644 "$pc_tmp" "$pcdir/janus.pc"
rm -f "$pc_tmp"
echo "installed $pcdir/janus.pc (prefix=${prefix:-/})"

# The loader finds a new library in a system directory only after ldconfig
# has refreshed its cache; that step belongs to the final install, not to a
# DESTDIR staging (a package's postinst runs it).
if [ -z "$destdir" ]; then
    case ${prefix:-/} in
        /usr | /usr/local | /)
            echo "note: run ldconfig (as root) so that the loader finds $libdir/$soname" ;;
        *)
            echo "note: programs find $libdir/$soname through -Wl,-rpath,$libdir, LD_LIBRARY_PATH or ld.so.conf" ;;
    esac
fi
