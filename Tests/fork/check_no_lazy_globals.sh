#!/usr/bin/env bash
# No Swift lazy global and no Synchronization.Mutex in the library's sources (issue: fork).
#
# A stored global (`let x = ...` at file scope) or a stored `static let` / `static var` is
# initialized through a once lock of the Swift runtime, and Synchronization.Mutex is a lock of
# the same kind: both record their owner's thread id, which a forked child's first thread
# carries over from its parent (Sources/CJanusShims/fork.c). fork.c repairs that for the runtime,
# but the library keeps none of them on its entry paths in the first place: process-wide values
# are C statics there. This check keeps it so; it prints a line per offender and
# "N passed, N failed".
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
failed=0
passed=0
check() { # description, grep output
  if [ -n "$2" ]; then
    echo "FAIL $1:"; echo "$2"; failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
}
files=$(find "$root/Sources/JanusCore" "$root/Sources/JanusCAPI" -name '*.swift')
attrs='((@[A-Za-z_]+(\([^)]*\))?|public|package|internal|private|fileprivate|nonisolated(\(unsafe\))?) +)*'
# File-scope stored globals: a `let`/`var` at column 0 that is not a computed property.
check "stored globals (use a C static in CJanusShims)" \
  "$(grep -nE "^${attrs}(let|var) [A-Za-z_][A-Za-z0-9_]* *(:[^={]*)?=" $files)"
# Stored statics: `static let`, or `static var` with an initializer and no body.
check "stored static properties" \
  "$(grep -nE "^ +${attrs}static (let|var) [A-Za-z_][A-Za-z0-9_]* *(:[^={]*)?=" $files)"
check "Synchronization.Mutex" "$(grep -nE "\bMutex<|\bMutex\(" $files)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
