#!/usr/bin/env bash
# check_header.sh - include/janus.h against itself, C++ and libjanus.so.
#
#   usage: check_header.sh INCLUDE_DIR LIBJANUS_SO
#
# 1. janus.h compiles alone as strict C99 and as C++11 (also with JANUS_API
#    overridden), so neither a C nor a C++ user meets a warning.
# 2. The functions declared in janus.h (each carrying JANUS_API) and the
#    janus_* symbols exported by the library are the same set: a function
#    missing from the library fails at link time for users, an undeclared
#    export is ABI nobody documented.
# Prints "N passed, N failed" last; exits 1 if anything failed.
#
# Environment: CC (default cc), CXX (default c++), NM (default nm).
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 INCLUDE_DIR LIBJANUS_SO" >&2
    exit 2
fi
INCLUDE_DIR=$1
LIB=$2
CC=${CC:-cc}
CXX=${CXX:-c++}
NM=${NM:-nm}

passed=0
failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
check() { # check DESCRIPTION COMMAND...: counts one check, shows output on failure
    local what=$1 out
    shift
    if out=$("$@" 2>&1); then
        pass
    else
        fail "$what"
        [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/    /'
    fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -f "$INCLUDE_DIR/janus.h" ]; then
    fail "no janus.h in $INCLUDE_DIR"
    echo "$passed passed, $failed failed"
    exit 1
fi

# --- 1. the header compiles alone, strictly, as C and as C++ ----------------

cat >"$tmp/tu.c" <<'EOF'
#include "janus.h"
#include "janus.h" /* the include guard works */

/* The pinned values, checked at compile time (C99 has no static_assert). */
typedef char version_number_is_100[(JANUS_VERSION_NUMBER == 100) ? 1 : -1];
typedef char version_parts[(JANUS_VERSION_MAJOR == 0 && JANUS_VERSION_MINOR == 1 &&
                            JANUS_VERSION_PATCH == 0) ? 1 : -1];
typedef char statuses[(JANUS_OK == 0 && JANUS_EMPTY == 1 && JANUS_FULL == 2 &&
                       JANUS_TIMEOUT == 3 && JANUS_SHUTDOWN == 4 && JANUS_EINVAL == 20 &&
                       JANUS_ENOMEM == 21 && JANUS_EMISUSE == 22) ? 1 : -1];
typedef char kinds[(JANUS_FIFO == 0 && JANUS_LIFO == 1 && JANUS_PRIORITY == 2) ? 1 : -1];
typedef char waits[(JANUS_NO_WAIT == 0 && JANUS_WAIT_FOREVER == -1) ? 1 : -1];

const char *header_version(void);
const char *header_version(void) { return JANUS_VERSION_STRING; }

int use_everything(void);
int use_everything(void)
{
    janus_options o = {JANUS_PRIORITY, 0, 0, 0, 0};
    janus_queue *q = janus_queue_new_with(&o);
    void *item = 0;
    janus_status s = janus_queue_put(q, item, JANUS_NO_WAIT);
    janus_destroy_fn d = 0;
    janus_compare_fn c = 0;
    janus_consume_fn cf = 0;
    janus_produce_fn pf = 0;
    janus_consumer *cons = 0;
    janus_producer *prod = 0;
    (void)d; (void)c; (void)cf; (void)pf; (void)cons; (void)prod;
    janus_queue_free(q);
    return (int)s;
}
EOF
cp "$tmp/tu.c" "$tmp/tu.cpp"
cat >>"$tmp/tu.cpp" <<'EOF'
/* C++ users see C linkage and can use the types naturally. */
static_assert(JANUS_VERSION_NUMBER == 100, "version");
extern "C" janus_queue *(*const new_fn)(janus_kind, size_t) = &janus_queue_new;
EOF

check "janus.h as C99 ($CC -std=c99 -Wall -Wextra -pedantic -Werror)" \
    "$CC" -std=c99 -Wall -Wextra -pedantic -Werror -I"$INCLUDE_DIR" -c "$tmp/tu.c" -o "$tmp/c.o"
check "janus.h as C11 with -Wstrict-prototypes" \
    "$CC" -std=c11 -Wall -Wextra -pedantic -Werror -Wstrict-prototypes -I"$INCLUDE_DIR" \
    -c "$tmp/tu.c" -o "$tmp/c11.o"
check "janus.h as C++11 ($CXX -std=c++11 -Wall -Wextra -pedantic -Werror)" \
    "$CXX" -std=c++11 -Wall -Wextra -pedantic -Werror -x c++ -I"$INCLUDE_DIR" \
    -c "$tmp/tu.cpp" -o "$tmp/cpp.o"
check "janus.h with JANUS_API overridden (-DJANUS_API=)" \
    "$CC" -std=c99 -Wall -Wextra -pedantic -Werror -DJANUS_API= -I"$INCLUDE_DIR" \
    -c "$tmp/tu.c" -o "$tmp/c2.o"

# --- 2. declared functions == exported symbols -------------------------------

# Preprocess with JANUS_API as a marker: comments vanish (no prototypes
# mentioned in prose), and every declaration shows whether it has JANUS_API.
MARK=__janus_api_marker__
if ! "$CC" -std=c99 -E -P -DJANUS_API=$MARK -I"$INCLUDE_DIR" -x c "$INCLUDE_DIR/janus.h" \
        >"$tmp/pre.i" 2>"$tmp/pre.err"; then
    fail "cannot preprocess janus.h"
    sed 's/^/    /' "$tmp/pre.err"
fi
tr '\n' ' ' <"$tmp/pre.i" >"$tmp/pre1.i"

# Functions: janus_name( followed by a parameter, not by "*": that excludes
# the *_fn pointer typedefs, "typedef janus_status (*janus_produce_fn)(...)",
# where a type is followed by "(*" and the typedef name by ")(".
grep -oE 'janus_[a-z0-9_]+[[:space:]]*\([[:space:]]*[^*[:space:]]' "$tmp/pre1.i" |
    sed -E 's/[[:space:]]*\(.*$//' | sort -u >"$tmp/declared"
# The same, but only where the marker opens the declaration.
grep -oE "$MARK[^;{}()]*[^a-z0-9_]janus_[a-z0-9_]+[[:space:]]*\(" "$tmp/pre1.i" |
    grep -oE 'janus_[a-z0-9_]+[[:space:]]*\($' | sed -E 's/[[:space:]]*\($//' |
    sort -u >"$tmp/marked"

ndecl=$(wc -l <"$tmp/declared")
if [ "$ndecl" -ge 29 ]; then
    pass
else
    fail "found only $ndecl function declarations in janus.h (SPEC section 5 has 29)"
fi
missing_api=$(comm -23 "$tmp/declared" "$tmp/marked")
if [ -z "$missing_api" ]; then
    pass
else
    fail "declared without JANUS_API:" $missing_api
fi

if [ -f "$LIB" ]; then
    if "$NM" -D --defined-only "$LIB" >"$tmp/nm.out" 2>"$tmp/nm.err"; then
        pass
    else
        fail "$NM -D --defined-only $LIB failed"
        sed 's/^/    /' "$tmp/nm.err"
    fi
else
    fail "no library at $LIB"
    : >"$tmp/nm.out"
fi
awk 'NF >= 3 { print $3 }' "$tmp/nm.out" | sed 's/@.*//' | grep -E '^janus_' |
    sort -u >"$tmp/exported"
# Exported janus_ symbols must be functions (T), not data.
notext=$(awk 'NF >= 3 && $3 ~ /^janus_/ && $2 != "T" { print $3 "(" $2 ")" }' "$tmp/nm.out")
if [ -z "$notext" ]; then
    pass
else
    fail "exported janus_ symbols that are not functions:" $notext
fi

# One check per name in either set: both sides must have it.
while read -r name; do
    in_h=0
    in_so=0
    grep -qx "$name" "$tmp/declared" && in_h=1
    grep -qx "$name" "$tmp/exported" && in_so=1
    if [ $in_h = 1 ] && [ $in_so = 1 ]; then
        pass
    elif [ $in_h = 1 ]; then
        fail "$name: declared in janus.h but not exported by $(basename "$LIB")"
    else
        fail "$name: exported by $(basename "$LIB") but not declared in janus.h"
    fi
done < <(sort -u "$tmp/declared" "$tmp/exported")

# Only the C ABI should leave the library (include/janus.map); not fatal, as a
# debug build without the export list legitimately exports more.
nother=$(awk 'NF >= 3 && $2 ~ /^[TDBRVW]$/ && $3 !~ /^janus_/ { n++ } END { print n + 0 }' \
    "$tmp/nm.out")
if [ "$nother" -gt 0 ]; then
    echo "note: $(basename "$LIB") also exports $nother symbols not named janus_*"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
