/* The lock-free path of a FIFO queue against its waiters, as a Promela model that spin checks
 * exhaustively: every interleaving of the atomic steps below, for two putters and two getters,
 * each of them waiting or not, over a bounded ring of 1 or 2 slots or an unbounded lane; and a
 * put, a get + task_done and a join; and shutdowns racing all of them.
 *
 * Each numbered step names the Swift it stands for. One Promela statement is one atomic step of
 * the real code: an atomic load, store or compare-and-swap on a word the lock-free paths share.
 * Work done under the queue lock on data only the lock holder touches (the waiter lists, the
 * waiters' slots) is folded into the neighbouring step, since nobody can observe it in between.
 * The model is sequentially consistent: the Swift code uses sequentially consistent operations
 * exactly where this model's argument needs a single order (FastPath.swift says which and why);
 * the acquiring/releasing pairs that carry item data are not modelled.
 *
 * What is checked:
 *  - when nothing can move any more (`timeout`), no getter sleeps while an item is queued, no
 *    putter sleeps while there is room, no joiner sleeps at zero unfinished tasks, and nobody
 *    sleeps after shutdown (a lost wakeup fails one of these);
 *  - every item that a put reported put is got exactly once, discarded by shutdown, or still
 *    queued; nothing else is ever got (nothing lost, nothing duplicated or invented);
 *  - first come, first served: a lock-free get (put) never takes an item (room) while a getter
 *    (putter) is listed whose place in the line came before that get (put) read the flags;
 *    a waiter's place is the flag publication that follows its listing;
 *  - no process is blocked anywhere but asleep in a wait (spin's own end-state check).
 *
 * Configurations (-D on the spin command line, see Makefile):
 *  LANE      1 = bounded ring, 2 = unbounded lane
 *  CAP       ring slots (bounded)
 *  P1W P2W G1W G2W   1 = that putter/getter waits, 0 = it does not (put_nowait / get_nowait)
 *  NP NG     how many putters and getters (1 to 3; default 2 and 2): putter n puts item n
 *  JOIN      1: instead of the four above, one put, one get + task_done, one join
 *  WATCH     1: the getters are replaced by an event loop on the readable descriptor
 *            (gets with no wait until empty, then waits for the descriptor); NG=1 adds a
 *            competing waiting getter
 *  SHUT      0 none, 1 shutdown(), 2 shutdown(immediate) racing the others
 *  MUTANT    0 = the protocol as written; n > 0 breaks one step on purpose, and the check must
 *            then fail (check.sh runs them all: a model that cannot fail proves nothing):
 *            1 a registering waiter looks again before it publishes its flag
 *            2 a lock-free put reads the flags before its reservation, not after
 *            3 settle does not alternate getters and putters
 *            4 a lock-free get does not come in for waiting putters
 *            5 a joiner checks the count before it publishes its flag
 *            6 a lock-free get ignores waiting getters (overtakes the line)
 *            7 a lock-free put ignores waiting putters (overtakes the line)
 *            8 the loop's quieting looks before it publishes the armed flag
 *            9 a lock-free put does not come in for an armed descriptor
 */

#ifndef LANE
#define LANE 1
#endif
#ifndef CAP
#define CAP 1
#endif
#ifndef P1W
#define P1W 1
#endif
#ifndef P2W
#define P2W 1
#endif
#ifndef G1W
#define G1W 1
#endif
#ifndef G2W
#define G2W 1
#endif
#ifndef JOIN
#define JOIN 0
#endif
#ifndef WATCH
#define WATCH 0
#endif
#ifndef NP
#define NP 2
#endif
#ifndef NG
#if WATCH
#define NG 0
#else
#define NG 2
#endif
#endif
#ifndef SHUT
#define SHUT 0
#endif
#ifndef MUTANT
#define MUTANT 0
#endif

#define NONE 255
#define NPROC 9
#define ITEMS 4         /* item values 1..3 */

/* Results of the lane operations and of the queue operations. */
#define R_OK 0
#define R_FULL 1
#define R_EMPTY 2
#define R_CLOSED 3
#define R_SHUT 4
/* what a waiting getter woken by shutdown finds in its slot (items are 1 and 2) */
#define OUT_SHUT 104

/* QueueFlags */
#define F_G 1
#define F_P 2
#define F_J 4
#define F_S 8
#define F_R 16

/* BoundedLane encoding: closedBit = the power of two above CAP, oneLap = 2 * closedBit. */
#if CAP == 1
#define CLOSED 2
#else
#define CLOSED 4
#endif
#define ONELAP (2 * CLOSED)
#define IDX(p) ((p) & (CLOSED - 1))
#define SUCC(p) ((IDX(p) + 1 < CAP) -> ((p) + 1) : (((p) & ~(ONELAP - 1)) + ONELAP))
#define ORDINAL(p) (((p) / ONELAP) * CAP + IDX(p))

/* ---- shared words (the lanes, SharedState) ---- */
byte tail = 0;
byte head = 0;
byte stamp[CAP];
byte slot[CAP];
/* the unbounded lane as an unending array of slots: blocks and their reuse are not modelled */
bit written[5];
byte uslot[5];
byte flags = 0;
byte done = 0;
byte lockedPuts = 0;

/* ---- under the lock (QueueStateMachine) ---- */
byte lockOwner = 0;
chan getters = [4] of { byte };
chan putters = [4] of { byte };
chan joiners = [4] of { byte };
bool shut = false;
byte published = 0;
byte pending[NPROC];      /* a waiting putter's item (PendingPut.item) */
byte outcome[NPROC];      /* what the waiter was served with (its ThreadSlot) */
bit notified[NPROC];      /* ThreadParker: unparked */

/* ---- bookkeeping for the checks ---- */
short startedGets = 0;    /* processes whose lock-free get has read the flags (bit = pid) */
short startedPuts = 0;
short listedGetters = 0;  /* listed waiting getters / putters whose place in the line is set */
short listedPutters = 0;
short aheadOf[NPROC];     /* for a listed waiter: who had read the flags before its place */
byte putOK[ITEMS];
byte gotten[ITEMS];
byte discarded[ITEMS];
int asleep = 0;           /* bitmask of processes sleeping in a wait */
int asleepGetters = 0;
int asleepPutters = 0;
int asleepJoiners = 0;
bit asleepLoop = 0;

/* ---- the readable descriptor (Readiness, QueueStateMachine+Extras) ---- */
bit efd = 0;              /* the eventfd is readable */
bit armed = 0;            /* quiet, waiting for the next item (under the lock) */

/* ---- the lanes ---- */

/* BoundedLane.push */
inline bpush(item, res) {
    do
    :: t = tail;
       if
       :: (t & CLOSED) != 0 -> res = R_CLOSED; break
       :: else -> skip
       fi;
       s = stamp[IDX(t)];
       if
       :: s == t ->
          if
          :: atomic { tail == t -> tail = SUCC(t) }       /* reserve (CAS, seq. cst.) */
             atomic { slot[IDX(t)] = item; stamp[IDX(t)] = t + 1 };  /* write, publish */
             res = R_OK; break
          :: atomic { tail != t -> skip }                 /* CAS failed */
          fi
       :: s + ONELAP == t + 1 ->
          h = head;                                        /* seq. cst. */
          if
          :: h + ONELAP == t -> res = R_FULL; break
          :: else -> (stamp[IDX(t)] != s)                  /* a get is freeing it: Backoff */
          fi
       :: else -> (tail != t || stamp[IDX(t)] != s)        /* stale: Backoff, look again */
       fi
    od
}

/* BoundedLane.pop */
inline bpop(item, res) {
    do
    :: h = head;
       s = stamp[IDX(h)];
       if
       :: s == h + 1 ->
          if
          :: atomic { head == h -> head = SUCC(h) }        /* claim (CAS, seq. cst.) */
             atomic { item = slot[IDX(h)]; slot[IDX(h)] = NONE; stamp[IDX(h)] = h + ONELAP };
             res = R_OK; break
          :: atomic { head != h -> skip }
          fi
       :: s == h ->
          t = tail;                                        /* seq. cst. */
          if
          :: (t & ~CLOSED) == h -> res = R_EMPTY; break
          :: else -> (stamp[IDX(h)] != s)                  /* a put is writing it: Backoff */
          fi
       :: else -> (head != h || stamp[IDX(h)] != s)        /* stale: Backoff, look again */
       fi
    od
}

/* UnboundedLane.push */
inline upush(item, res) {
    do
    :: t = tail;
       if
       :: (t & 1) != 0 -> res = R_CLOSED; break
       :: else -> skip
       fi;
       if
       :: atomic { tail == t -> tail = t + 2 }             /* reserve (CAS, seq. cst.) */
          atomic { uslot[t / 2] = item; written[t / 2] = 1 };
          res = R_OK; break
       :: atomic { tail != t -> skip }
       fi
    od
}

/* UnboundedLane.pop */
inline upop(item, res) {
    do
    :: h = head;
       t = tail;                                           /* seq. cst. */
       if
       :: h / 2 == t / 2 -> res = R_EMPTY; break
       :: else ->
          if
          :: atomic { head == h -> head = h + 2 }          /* claim (CAS, seq. cst.) */
             (written[h / 2] == 1);                        /* waitForWrite */
             atomic { item = uslot[h / 2]; uslot[h / 2] = NONE };
             res = R_OK; break
          :: atomic { head != h -> skip }
          fi
       fi
    od
}

#if LANE == 1
#define lanePush(item, res) bpush(item, res)
#define lanePop(item, res) bpop(item, res)
/* lane.pushCount */
inline pushCount(n) { t = tail; n = ORDINAL(t & ~CLOSED) }
#define LANE_CLOSE tail = tail | CLOSED
#else
#define lanePush(item, res) upush(item, res)
#define lanePop(item, res) upop(item, res)
inline pushCount(n) { t = tail; n = t / 2 }
#define LANE_CLOSE tail = tail | 1
#endif

/* ---- QueueStateMachine, under the lock ---- */

inline lock() { atomic { lockOwner == 0 -> lockOwner = _pid } }

/* publishFlags: a seq. cst. store, only when the value changes */
inline publishFlags() {
    atomic {
        f = 0;
        if :: len(getters) > 0 -> f = f | F_G :: else -> skip fi;
        if :: len(putters) > 0 -> f = f | F_P :: else -> skip fi;
        if :: len(joiners) > 0 -> f = f | F_J :: else -> skip fi;
        if :: shut -> f = f | F_S :: else -> skip fi;
        if :: armed -> f = f | F_R :: else -> skip fi;
        if
        :: f != published -> flags = f; published = f
        :: else -> skip
        fi
    }
}

/* JanusQueue.unlock: publish, then release */
inline unlock() {
    publishFlags();
    lockOwner = 0;
    if
    :: sig -> efd = 1; sig = 0      /* shim_eventfd_signal, after unlocking */
    :: else -> skip
    fi
}

/* Wakeups.run, after unlocking: unpark each waiter that was served */
inline runWakeups() {
    do
    :: nwk > 0 -> nwk--; notified[wk[nwk]] = 1
    :: else -> break
    od
}

/* settleGetters */
inline settleGetters() {
    do
    :: len(getters) > 0 ->
       lanePop(it, r2);
       if
       :: r2 == R_OK -> atomic { getters?g; listedGetters = listedGetters & ~(1 << g); outcome[g] = it; wk[nwk] = g; nwk++ }
       :: else -> break
       fi
    :: else -> break
    od
}

/* settlePutters (the caller checks !shut); counts the admitted in `adm` */
inline settlePutters() {
    adm = 0;
    do
    :: len(putters) > 0 ->
       putters?<g>;
       lanePush(pending[g], r2);
       if
       :: r2 == R_OK -> atomic { putters?g; listedPutters = listedPutters & ~(1 << g); pending[g] = NONE; outcome[g] = R_OK; wk[nwk] = g; nwk++; adm++ }
       :: else -> break
       fi
    :: else -> break
    od
}

/* settleJoiners: unfinishedTasks reads done first, then the puts */
inline settleJoiners() {
    if
    :: len(joiners) > 0 ->
       d = done;
       pushCount(n);
       if
       :: lockedPuts + n - d == 0 ->
          do
          :: len(joiners) > 0 -> atomic { joiners?g; outcome[g] = R_OK; wk[nwk] = g; nwk++ }
          :: else -> break
          od
       :: else -> skip
       fi
    :: else -> skip
    fi
}

/* settleWatchers: an armed descriptor is signalled once an item is there (the count's
 * loads: tail, seq. cst., then head) or the queue is shut down */
inline settleWatchers() {
    if
    :: armed ->
       t = tail;
       h = head;
#if LANE == 1
       if
       :: ORDINAL(t & ~CLOSED) - ORDINAL(h) > 0 || shut -> armed = 0; sig = 1
       :: else -> skip
       fi
#else
       if
       :: (t & ~1) / 2 - h / 2 > 0 || shut -> armed = 0; sig = 1
       :: else -> skip
       fi
#endif
    :: else -> skip
    fi
}

/* settle: getters and putters alternate until neither can go on */
inline settle() {
    do
    :: settleGetters();
       if
       :: !shut && len(putters) > 0 ->
          settlePutters();
          if
          :: adm == 0 || len(getters) == 0 || MUTANT == 3 -> break
          :: else -> skip
          fi
       :: else -> break
       fi
    od;
    settleJoiners();
    settleWatchers()
}

/* settleWaiters: a lock-free operation comes in */
inline settleWaiters() {
    lock();
    settle();
    unlock();
    runWakeups()
}

/* A lock-free operation just took an item (room): every waiter still listed must have been
 * listed after this process read the flags. */
inline fcfs(listed) {
    d_step {
        g = 0;
        do
        :: g < NPROC ->
           assert((listed & (1 << g)) == 0 || (aheadOf[g] & (1 << _pid)) != 0);
           g++
        :: else -> break
        od;
        g = 0
    }
}

/* Sleep in a wait until unparked (ThreadParker.park / a suspended continuation). */
inline sleepUntilNotified(kindMask) {
    atomic { asleep = asleep | (1 << _pid); kindMask = kindMask | (1 << _pid) };
end_asleep:
    (notified[_pid] == 1);
    atomic { asleep = asleep & ~(1 << _pid); kindMask = kindMask & ~(1 << _pid) }
}

/* ---- the operations ---- */

/* threadPut / taskPut: fastPut, then the slow path */
proctype Putter(byte item; bool wait) {
    byte t, h; byte s, f, r, r2, it, g, d, n, nwk, adm; bit sig;
    byte wk[4];

    /* fastPut */
    atomic { f = flags; startedPuts = startedPuts | (1 << _pid) };   /* relaxed */
    if
    :: (f & F_P) == 0 || MUTANT == 7 -> lanePush(item, r)
    :: else -> r = R_FULL
    fi;
    if
    :: r == R_OK ->
       fcfs(listedPutters);
#if MUTANT != 2
       f = flags;                                          /* seq. cst. */
#endif
       if
       :: (f & F_G) != 0 || ((f & F_R) != 0 && MUTANT != 9) -> settleWaiters()
       :: else -> skip
       fi;
       goto finished
    :: else -> skip
    fi;

    /* the slow path: QueueStateMachine.put */
    lock();
    settle();
    if
    :: shut -> r = R_SHUT
    :: !shut && len(getters) > 0 ->
       atomic { lockedPuts++; getters?g; listedGetters = listedGetters & ~(1 << g); outcome[g] = item; wk[nwk] = g; nwk++ };
       r = R_OK
    :: !shut && len(getters) == 0 && len(putters) > 0 -> r = R_FULL
    :: !shut && len(getters) == 0 && len(putters) == 0 ->
       lanePush(item, r);
       if
       :: r == R_CLOSED -> r = R_SHUT     /* cannot happen: the lane closes only with shut */
       :: r == R_OK -> settleWatchers()
       :: else -> skip
       fi
    fi;
    if
    :: r == R_FULL && wait ->
       /* putSuspended: list, publish, look again */
       atomic { putters!_pid; pending[_pid] = item; outcome[_pid] = NONE };
#if MUTANT == 1
       settle();
       publishFlags();
#else
       atomic { publishFlags(); aheadOf[_pid] = startedPuts; listedPutters = listedPutters | (1 << _pid) };
       settle();
#endif
       unlock();
       runWakeups();
       sleepUntilNotified(asleepPutters);
       r = outcome[_pid]
    :: else ->
       unlock();
       runWakeups()
    fi;
finished:
    if
    :: r == R_OK -> putOK[item]++
    :: else -> skip
    fi
}

/* threadGet / taskGet: fastGet, then the slow path */
proctype Getter(bool wait; bool marksDone) {
    byte t, h; byte s, f, r, r2, it, item, g, d, n, nwk, adm; bit sig;
    byte wk[4];

    /* fastGet */
    atomic { f = flags; startedGets = startedGets | (1 << _pid) };   /* relaxed */
    if
    :: (f & F_G) == 0 || MUTANT == 6 -> lanePop(item, r)
    :: else -> r = R_EMPTY
    fi;
    if
    :: r == R_OK ->
       fcfs(listedGetters);
       f = flags;                                          /* seq. cst. */
       if
       :: (f & F_P) != 0 && MUTANT != 4 -> settleWaiters()
       :: else -> skip
       fi;
       goto finished
    :: else -> skip
    fi;

    /* the slow path: QueueStateMachine.get */
    lock();
    settle();
    if
    :: len(getters) == 0 ->
       lanePop(item, r);
       if
       :: r == R_OK && !shut && len(putters) > 0 -> settle()
       :: else -> skip
       fi
    :: else -> r = R_EMPTY
    fi;
    if
    :: r != R_OK && shut -> r = R_SHUT
    :: else -> skip
    fi;
    if
    :: r == R_EMPTY && wait ->
       /* getSuspended: list, publish, look again */
       atomic { getters!_pid; outcome[_pid] = NONE };
#if MUTANT == 1
       settle();
       publishFlags();
#else
       atomic { publishFlags(); aheadOf[_pid] = startedGets; listedGetters = listedGetters | (1 << _pid) };
       settle();
#endif
       unlock();
       runWakeups();
       sleepUntilNotified(asleepGetters);
       item = outcome[_pid];
       if
       :: item == OUT_SHUT -> r = R_SHUT
       :: else -> r = R_OK
       fi
    :: else ->
       unlock();
       runWakeups()
    fi;
finished:
    if
    :: r == R_OK -> assert(item >= 1 && item < ITEMS); gotten[item]++
    :: else -> skip
    fi;
    /* markTasksDone(1): done += 1 (seq. cst.), then load flags (seq. cst.) */
    if
    :: r == R_OK && marksDone ->
       done++;
       f = flags;
       if
       :: (f & F_J) != 0 -> settleWaiters()
       :: else -> skip
       fi
    :: else -> skip
    fi
}

/* threadJoin / taskJoin */
proctype Joiner() {
    byte t, h; byte s, f, r2, it, g, d, n, nwk, adm; bit sig;
    byte wk[4];
    /* the lock-free check: unfinishedTasks == 0 */
    d = done;
    pushCount(n);
    if
    :: lockedPuts + n - d == 0 -> goto finished
    :: else -> skip
    fi;
    lock();
    /* joinSuspended: list, publish, look again */
    atomic { joiners!_pid; outcome[_pid] = NONE };
#if MUTANT == 5
    settleJoiners();
    publishFlags();
#else
    publishFlags();
    settleJoiners();
#endif
    unlock();
    runWakeups();
    sleepUntilNotified(asleepJoiners);
finished:
    skip
}

/* shutdown(immediate:) */
proctype Shutdown(bool immediate) {
    byte t, h; byte s, f, r2, it, g, d, n, nwk, adm; bit sig;
    byte wk[4];
    lock();
    shut = true;
    /* lane.close() */
    LANE_CLOSE;
    if
    :: immediate ->
       /* lane.drain(), then discard: done grows by what was discarded */
       do
       :: lanePop(it, r2);
          if
          :: r2 == R_OK -> atomic { discarded[it]++; done++ }
          :: else -> break
          fi
       od
    :: else -> settleGetters()
    fi;
    do
    :: len(getters) > 0 -> atomic { getters?g; listedGetters = listedGetters & ~(1 << g); outcome[g] = OUT_SHUT; wk[nwk] = g; nwk++ }
    :: else -> break
    od;
    do
    :: len(putters) > 0 -> atomic { putters?g; listedPutters = listedPutters & ~(1 << g); outcome[g] = R_SHUT; wk[nwk] = g; nwk++ }
    :: else -> break
    od;
    settleJoiners();
    settleWatchers();
    unlock();
    runWakeups()
}

/* The event loop of a readable descriptor (the examples' epoll loop): gets with no wait until
 * empty; the empty answer quiets the descriptor (QueueStateMachine.quietReadable: drain, arm,
 * publish, look again); then it waits until the descriptor is readable, and again. */
proctype Loop() {
    byte t, h; byte s, f, r, r2, it, item, g, d, n, nwk, adm; bit sig;
    byte wk[4];
    do
    :: /* getNowait: fastGet */
       atomic { f = flags; startedGets = startedGets | (1 << _pid) };
       if
       :: (f & F_G) == 0 -> lanePop(item, r)
       :: else -> r = R_EMPTY
       fi;
       if
       :: r == R_OK ->
          fcfs(listedGetters);
          f = flags;
          if
          :: (f & F_P) != 0 -> settleWaiters()
          :: else -> skip
          fi;
          assert(item >= 1 && item < ITEMS); gotten[item]++
       :: else ->
          /* the slow path: QueueStateMachine.get, no wait */
          lock();
          settle();
          if
          :: len(getters) == 0 ->
             lanePop(item, r);
             if
             :: r == R_OK && !shut && len(putters) > 0 -> settle()
             :: else -> skip
             fi
          :: else -> r = R_EMPTY
          fi;
          if
          :: r == R_OK ->
             unlock();
             runWakeups();
             assert(item >= 1 && item < ITEMS); gotten[item]++
          :: r != R_OK && shut ->
             unlock();
             runWakeups();
             break                                         /* JANUS_SHUTDOWN: the loop ends */
          :: r != R_OK && !shut ->
             /* quietReadable */
             if
             :: !armed ->
                efd = 0;                                   /* drained */
                armed = 1;
#if MUTANT == 8
                settleWatchers();
                publishFlags();
#else
                publishFlags();
                settleWatchers();
#endif
             :: else -> skip
             fi;
             unlock();
             runWakeups();
             /* poll() */
             asleepLoop = 1;
end_poll:
             (efd == 1);
             asleepLoop = 0
          fi
       fi
    od
}

/* When nothing can move any more: nobody sleeps who should have been woken. */
active proctype Checker() {
    byte t, h; byte n, i, queued;
    timeout ->
    /* items still queued */
#if LANE == 1
    t = tail & ~CLOSED; queued = ORDINAL(t) - ORDINAL(head);
#else
    t = tail & ~1; queued = (t - head) / 2;
#endif
    assert(asleepGetters == 0 || queued == 0);
    assert(asleepPutters == 0 || (LANE == 1 && queued == CAP));
    if
    :: asleepJoiners != 0 -> pushCount(n); assert(lockedPuts + n - done > 0)
    :: else -> skip
    fi;
    assert(!shut || asleep == 0);
    assert(asleepLoop == 0 || queued == 0);             /* the descriptor never stays quiet */
    /* conservation: put = got + discarded + queued; nothing got twice */
    i = 1;
    do
    :: i < ITEMS ->
       assert(gotten[i] <= 1 && discarded[i] <= 1 && gotten[i] + discarded[i] <= putOK[i]);
       i++
    :: else -> break
    od;
    assert(putOK[1] + putOK[2] + putOK[3]
        == gotten[1] + gotten[2] + gotten[3] + discarded[1] + discarded[2] + discarded[3] + queued)
}

init {
    byte i;
    atomic {
        i = 0;
        do
        :: i < CAP -> stamp[i] = i; slot[i] = NONE; i++
        :: else -> break
        od;
        i = 0;
        do
        :: i < 5 -> uslot[i] = NONE; i++
        :: else -> break
        od;
        i = 0;
        do
        :: i < NPROC -> pending[i] = NONE; outcome[i] = NONE; aheadOf[i] = 0; i++
        :: else -> break
        od;
#if JOIN
        run Putter(1, true);
        run Getter(true, true);
        run Joiner();
#elif WATCH
        run Putter(1, P1W);
        run Putter(2, P2W);
        run Loop();
#if NG >= 1
        run Getter(true, false);
#endif
#else
        run Putter(1, P1W);
#if NP >= 2
        run Putter(2, P2W);
#endif
#if NP >= 3
        run Putter(3, false);
#endif
        run Getter(G1W, false);
#if NG >= 2
        run Getter(G2W, false);
#endif
#if NG >= 3
        run Getter(false, false);
#endif
#endif
#if SHUT == 1
        run Shutdown(false);
#elif SHUT == 2
        run Shutdown(true);
#endif
    }
}
