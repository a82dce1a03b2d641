/* Leaving the lane (QueueStateMachine+Extras.swift `leaveLane`, the lanes' `drainAfterClose`)
 * against lock-free puts and gets that read the flags before it, as a Promela model that spin
 * checks exhaustively, in the manner of handshake.pml (one statement = one atomic step of the
 * real code; work under the lock on data only the lock holder touches is folded into a step).
 *
 * A FIFO queue leaves its lane at its first peek or maxsize change: under the lock it closes the
 * lane's tail, moves every item to the locked buffer, and publishes `offLane`; from then on
 * every get and put goes to the lock. Puts and gets that loaded the flags before that may still
 * be on their way to the lane. The processes: a producer puts 1, 2, 3 (lock-free while the flag
 * says so; a refused reservation goes to the lock), NG consumers get until the three are taken
 * (lock-free first, then under the lock: the lane while it is active, else the buffer), and one
 * process leaves the lane.
 *
 * What is checked: each consumer sees the items in increasing order (FIFO: one producer); every
 * item is got exactly once; nobody is left blocked (spin's end-state check).
 *
 * Configurations: LANE 1 = bounded ring of CAP slots, 2 = unbounded lane; NG 1 or 2 consumers;
 * MUTANT 1 = the drain pops the items one by one (the bug this model was written for: a get
 * that started before takes an item from behind the drained ones) and the check must fail.
 */

#ifndef LANE
#define LANE 2
#endif
#ifndef CAP
#define CAP 2
#endif
#ifndef NG
#define NG 1
#endif
#ifndef MUTANT
#define MUTANT 0
#endif

#define NONE 255
#define R_OK 0
#define R_FULL 1
#define R_EMPTY 2
#define R_CLOSED 3

#if CAP == 1
#define CLOSED 2
#else
#define CLOSED 4
#endif
#define ONELAP (2 * CLOSED)
#define IDX(p) ((p) & (CLOSED - 1))
#define SUCC(p) ((IDX(p) + 1 < CAP) -> ((p) + 1) : (((p) & ~(ONELAP - 1)) + ONELAP))

byte tail = 0;
byte head = 0;
byte stamp[CAP];
byte slot[CAP];
bit written[4];
byte uslot[4];

bool offLane = false;     /* the published flag */
bool laneActive = true;   /* under the lock */
byte lockOwner = 0;
byte buffer[4];           /* the locked buffer (ItemBuffer, FIFO) */
byte bhead = 0;
byte btail = 0;

byte gotten[4];
byte taken = 0;

inline lock() { atomic { lockOwner == 0 -> lockOwner = _pid } }
inline unlock() { lockOwner = 0 }

/* The lanes' push and pop, as in handshake.pml. */
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
          :: atomic { tail == t -> tail = SUCC(t) }
             atomic { slot[IDX(t)] = item; stamp[IDX(t)] = t + 1 };
             res = R_OK; break
          :: atomic { tail != t -> skip }
          fi
       :: s + ONELAP == t + 1 ->
          h = head;
          if
          :: h + ONELAP == t -> res = R_FULL; break
          :: else -> (stamp[IDX(t)] != s)
          fi
       :: else -> (tail != t || stamp[IDX(t)] != s)
       fi
    od
}

inline bpop(item, res) {
    do
    :: h = head;
       s = stamp[IDX(h)];
       if
       :: s == h + 1 ->
          if
          :: atomic { head == h -> head = SUCC(h) }
             atomic { item = slot[IDX(h)]; slot[IDX(h)] = NONE; stamp[IDX(h)] = h + ONELAP };
             res = R_OK; break
          :: atomic { head != h -> skip }
          fi
       :: s == h ->
          t = tail;
          if
          :: (t & ~CLOSED) == h -> res = R_EMPTY; break
          :: else -> (stamp[IDX(h)] != s)
          fi
       :: else -> (head != h || stamp[IDX(h)] != s)
       fi
    od
}

inline upush(item, res) {
    do
    :: t = tail;
       if
       :: (t & 1) != 0 -> res = R_CLOSED; break
       :: else -> skip
       fi;
       if
       :: atomic { tail == t -> tail = t + 2 }
          atomic { uslot[t / 2] = item; written[t / 2] = 1 };
          res = R_OK; break
       :: atomic { tail != t -> skip }
       fi
    od
}

inline upop(item, res) {
    do
    :: h = head;
       t = tail;
       if
       :: h / 2 == t / 2 -> res = R_EMPTY; break
       :: else ->
          if
          :: atomic { head == h -> head = h + 2 }
             (written[h / 2] == 1);
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
#define LANE_CLOSE tail = tail | CLOSED
#else
#define lanePush(item, res) upush(item, res)
#define lanePop(item, res) upop(item, res)
#define LANE_CLOSE tail = tail | 1
#endif

/* drainAfterClose: one compare-and-swap of head to the closed tail claims every item; then each
 * is moved out once its put has published it. */
inline drainAll() {
#if LANE == 1
    t = tail & ~CLOSED;
    do
    :: h = head;
       if
       :: h == t -> break
       :: atomic { head == h -> head = t }; break
       :: atomic { head != h -> skip }
       fi
    od;
    do
    :: h != t ->
       (stamp[IDX(h)] == h + 1);
       atomic { buffer[btail] = slot[IDX(h)]; btail++; slot[IDX(h)] = NONE; stamp[IDX(h)] = h + ONELAP };
       h = SUCC(h)
    :: else -> break
    od
#else
    t = tail & ~1;
    do
    :: h = head;
       if
       :: h / 2 == t / 2 -> break
       :: atomic { head == h -> head = t }; break
       :: atomic { head != h -> skip }
       fi
    od;
    do
    :: h / 2 != t / 2 ->
       (written[h / 2] == 1);
       atomic { buffer[btail] = uslot[h / 2]; btail++; uslot[h / 2] = NONE };
       h = h + 2
    :: else -> break
    od
#endif
}

proctype producer() {
    byte i = 1, r, t, h, s;
    do
    :: i <= 3 ->
       if
       :: !offLane -> lanePush(i, r)        /* flags read (relaxed), then the lane */
       :: else -> r = R_CLOSED
       fi;
       if
       :: r != R_OK ->
          /* the locked put (`offer`): the lane while it is active, else the buffer; the
           * bounded lane never fills here (CAP >= 1 is checked with items taken meanwhile,
           * a full lane waits) */
          lock();
          if
          :: laneActive -> lanePush(i, r); (r == R_OK || r == R_FULL)
          :: else -> buffer[btail] = i; btail++; r = R_OK
          fi;
          unlock();
          if
          :: r == R_FULL -> goto retry
          :: else -> skip
          fi
       :: else -> skip
       fi;
       i++;
retry: skip
    :: else -> break
    od
}

proctype consumer() {
    byte x, r, t, h, s, last = 0;
    do
    :: taken == 3 -> break
    :: else ->
       if
       :: !offLane -> lanePop(x, r)
       :: else -> r = R_EMPTY
       fi;
       if
       :: r != R_OK ->
          lock();
          if
          :: laneActive -> lanePop(x, r)
          :: else ->
             if
             :: bhead < btail -> x = buffer[bhead]; bhead++; r = R_OK
             :: else -> r = R_EMPTY
             fi
          fi;
          unlock()
       :: else -> skip
       fi;
       if
       :: r == R_OK ->
          assert(x > last);                 /* FIFO for this consumer */
          last = x;
          atomic { gotten[x]++; taken++ }
       :: else -> skip
       fi
    od
}

proctype leaver() {
    byte x, r, t, h, s;
    lock();
    LANE_CLOSE;
#if MUTANT == 1
    do
    :: lanePop(x, r);
       if
       :: r == R_OK -> buffer[btail] = x; btail++
       :: else -> break
       fi
    od;
#else
    drainAll();
#endif
    laneActive = false;
    offLane = true;                          /* publishFlags, before the unlock */
    unlock()
}

init {
    byte k = 0;
#if LANE == 1
    do
    :: k < CAP -> stamp[k] = k; slot[k] = NONE; k++
    :: else -> break
    od;
#endif
    atomic {
        run producer();
        run leaver();
        k = 0;
        do
        :: k < NG -> run consumer(); k++
        :: else -> break
        od
    };
    (_nr_pr == 1);
    assert(gotten[1] == 1 && gotten[2] == 1 && gotten[3] == 1)
}
