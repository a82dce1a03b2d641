#!/usr/bin/env bash
# Checks the models exhaustively with spin in every configuration below -- handshake.pml (the
# lock-free path against the waiters), leave.pml (leaving the lane against lock-free calls
# still running), rejoin.pml (leaving it for a select and rejoining it, again, while lock-free
# calls that read the flags before either are still running) and select.pml (one select waiter listed on two queues, claimed once) -- and checks that each deliberately broken variant (MUTANT=n) is caught: a
# model that cannot fail proves nothing. Two checks at a time; prints one line per check and then "N passed, N failed".
# Needs spin and a C compiler (CC; the Makefile passes the toolchain's clang, which compiles
# spin's verifier several times faster than gcc).
set -u
here="$(cd "$(dirname "$0")" && pwd)"
work="${MODEL_WORK:-$(mktemp -d)}"
mkdir -p "$work"
export here work CC="${CC:-cc}"

# verify NAME EXPECT MODEL FLAGS...: EXPECT is "ok" (no error may be found) or "caught" (one must be)
verify() {
  local name="$1" expect="$2" model="$3"
  shift 3
  local dir="$work/$name" started=$SECONDS verdict errors states
  mkdir -p "$dir"
  cp "$here/$model" "$dir/"
  if ! (cd "$dir" && spin -a "$@" "$model" >spin.log 2>&1 \
        && "$CC" -O1 -w -DSAFETY -DCOLLAPSE -DVECTORSZ=2048 -o pan pan.c >cc.log 2>&1); then
    verdict="FAIL (the model did not build: $dir)"
  else
    (cd "$dir" && ./pan -m100000 -w24 >pan.log 2>&1)
    errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$dir/pan.log" | head -1)
    states=$(sed -n 's/^ *\([0-9]*\) states, stored.*/\1/p' "$dir/pan.log" | head -1)
    if [ "$expect" = ok ] && grep -q "Search not completed" "$dir/pan.log"; then
      verdict="FAIL (search not completed)"
    elif [ "$expect" = ok ] && [ "${errors:-1}" = 0 ]; then
      verdict="ok"
    elif [ "$expect" = caught ] && [ "${errors:-0}" != 0 ]; then
      verdict="ok, caught: $(grep -m1 -o 'assertion violated.*\|invalid end state' "$dir/pan.log" | cut -c1-70)"
    else
      verdict="FAIL (errors: ${errors:-?}, expected $expect; see $dir/pan.log)"
    fi
  fi
  printf '%-28s %9s states %4ss  %s\n' "$name" "${states:-?}" "$((SECONDS - started))" "$verdict"
}
export -f verify

{
# The protocol: two putters and two getters, waiting or not, on each lane.
echo ring1-wait-all        ok handshake.pml -DLANE=1 -DCAP=1
echo ring1-wait-mixed      ok handshake.pml -DLANE=1 -DCAP=1 -DP2W=0 -DG2W=0
echo ring1-nowait-putters  ok handshake.pml -DLANE=1 -DCAP=1 -DP1W=0 -DP2W=0
echo ring2-wait-all        ok handshake.pml -DLANE=1 -DCAP=2
echo ring1-3putters        ok handshake.pml -DLANE=1 -DCAP=1 -DNP=3 -DNG=1
echo list-wait-all         ok handshake.pml -DLANE=2
echo list-wait-mixed       ok handshake.pml -DLANE=2 -DP2W=0 -DG2W=0
# A put, a get that marks its task done, and a join.
echo ring1-join            ok handshake.pml -DLANE=1 -DCAP=1 -DJOIN=1
echo list-join             ok handshake.pml -DLANE=2 -DJOIN=1
# Shutdowns racing them.
echo ring1-shutdown        ok handshake.pml -DLANE=1 -DCAP=1 -DSHUT=1 -DNG=1
echo ring1-shutdown-2g     ok handshake.pml -DLANE=1 -DCAP=1 -DSHUT=1 -DNP=1
echo ring1-close           ok handshake.pml -DLANE=1 -DCAP=1 -DSHUT=2 -DNG=1
echo ring1-close-2g        ok handshake.pml -DLANE=1 -DCAP=1 -DSHUT=2 -DNP=1
echo list-close            ok handshake.pml -DLANE=2 -DSHUT=2 -DNP=1
# An event loop on the readable descriptor against two putters (and a competing getter).
echo ring1-watch           ok handshake.pml -DLANE=1 -DCAP=1 -DWATCH=1
echo ring1-watch-shutdown  ok handshake.pml -DLANE=1 -DCAP=1 -DWATCH=1 -DSHUT=1
echo list-watch            ok handshake.pml -DLANE=2 -DWATCH=1
echo list-watch-getter     ok handshake.pml -DLANE=2 -DWATCH=1 -DNG=1
# Leaving the lane (a peek, a new maxsize) while lock-free puts and gets are on their way.
echo leave-ring1           ok leave.pml -DLANE=1 -DCAP=1
echo leave-ring2-2g        ok leave.pml -DLANE=1 -DCAP=2 -DNG=2
echo leave-list            ok leave.pml -DLANE=2
echo leave-list-2g         ok leave.pml -DLANE=2 -DNG=2
# Leaving the ring for a select and rejoining it (twice) while lock-free puts and gets are on
# their way, with the select served under the lock or giving up.
echo rejoin-ring2          ok rejoin.pml -DCAP=2
echo rejoin-ring1          ok rejoin.pml -DCAP=1
echo rejoin-ring3-4items   ok rejoin.pml -DCAP=3 -DN=4
echo rejoin-ring2-2g       ok rejoin.pml -DCAP=2 -DNG=2 -DN=2
# A select over two queues: two servers, a deadline (threads) or a cancellation (tasks), and a
# plain getter competing on one queue.
echo select-thread         ok select.pml
echo select-thread-forever ok select.pml -DWAIT=1
echo select-thread-getter  ok select.pml -DG=1
echo select-task-cancel    ok select.pml -DTASK=1
echo select-task-getter    ok select.pml -DTASK=1 -DG=1
# Broken on purpose: each must be caught.
echo mutant1-look-first    caught handshake.pml -DLANE=1 -DCAP=1 -DMUTANT=1
echo mutant2-flags-first   caught handshake.pml -DLANE=1 -DCAP=1 -DMUTANT=2
echo mutant2-list          caught handshake.pml -DLANE=2 -DMUTANT=2
echo mutant3-no-alternate  caught handshake.pml -DLANE=1 -DCAP=1 -DMUTANT=3
echo mutant4-no-come-in    caught handshake.pml -DLANE=1 -DCAP=1 -DMUTANT=4 -DNG=1
echo mutant5-join-first    caught handshake.pml -DLANE=1 -DCAP=1 -DMUTANT=5 -DJOIN=1
echo mutant6-get-overtakes caught handshake.pml -DLANE=1 -DCAP=1 -DMUTANT=6
echo mutant7-put-overtakes caught handshake.pml -DLANE=1 -DCAP=1 -DMUTANT=7 -DNP=3 -DNG=1
echo mutant8-quiet-look-first caught handshake.pml -DLANE=1 -DCAP=1 -DWATCH=1 -DMUTANT=8
echo mutant9-put-ignores-fd   caught handshake.pml -DLANE=1 -DCAP=1 -DWATCH=1 -DMUTANT=9
echo mutant10-drain-one-by-one caught leave.pml -DLANE=2 -DMUTANT=1
echo mutant10-ring          caught leave.pml -DLANE=1 -DCAP=2 -DMUTANT=1
echo mutant11-claim-no-cas  caught select.pml -DMUTANT=1
echo mutant12-withdraw-after-serving caught select.pml -DMUTANT=2
echo mutant13-deadline-no-cas caught select.pml -DMUTANT=3
echo mutant14-resume-no-rendezvous caught select.pml -DTASK=1 -DMUTANT=4
echo mutant15-dead-entry-kept caught select.pml -DG=1 -DMUTANT=5
echo mutant16-rejoin-buffer-full caught rejoin.pml -DMUTANT=1
echo mutant17-rejoin-while-listed caught rejoin.pml -DMUTANT=2
} | xargs -P 2 -L 1 bash -c 'verify "$@"' _ | tee "$work/results"

passed=$(grep -c '  ok' "$work/results")
failed=$(grep -c '  FAIL' "$work/results")
[ -z "${MODEL_WORK:-}" ] && rm -rf "$work"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" = 50 ]
