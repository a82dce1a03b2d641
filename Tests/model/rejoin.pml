/* Leaving the lane for a select and rejoining it (QueueStateMachine+Extras.swift `leaveLane`,
 * `rejoinLaneIfIdle`; BoundedLane.swift `drainAfterClose`, `reopen`) against lock-free puts and
 * gets that read the flags at any earlier moment -- before the leave, between the leave and the
 * rejoin, or across both (preempted) -- as a Promela model that spin checks exhaustively, in the
 * manner of leave.pml (one statement = one atomic step of the real code; work under the lock on
 * data only the lock holder touches is folded into a step). The bounded ring only: the
 * unbounded lane never rejoins (Lane.swift `reopen`).
 *
 * A select that has to wait on a FIFO queue lists itself in the queue's getter line, which is
 * only allowed off the lane: under the lock the queue closes the ring's tail, moves every item
 * to the locked buffer and publishes `offLane`; the listed select publishes `getters`. At the end
 * of every event (every unlock) the queue rejoins its lane when the buffer is empty and nobody
 * is listed: it clears the tail's closed bit and publishes the flags without `offLane`.
 *
 * Processes: a producer puts 1..N (lock-free while the flags allow; a refused reservation goes
 * to the lock, where the put goes to a listed select first, else to the lane while it is active,
 * else to the buffer; after a lock-free put it comes in to settle when it sees `getters`); NG
 * consumers get until all N are taken (lock-free first, then under the lock); one selector that
 * ROUNDS times registers a get (leave; take an item from the buffer at once, or list itself),
 * then is served by a put under the lock or gives up (a timeout: a claim that fails once a
 * queue claimed it) and withdraws.
 *
 * What is checked: every consumer, the selector too, sees increasing items (FIFO: one producer);
 * every item is got exactly once; nobody is left blocked (spin's end-state check: a select that
 * a queue claimed and never served would hang).
 *
 * MUTANT 1 = the rejoin does not wait for the locked buffer to be empty (puts go into the lane
 * while the state machine still holds older items in the buffer): FIFO must fail.
 * MUTANT 2 = the rejoin does not wait for the select's listing to go: a put into the lane comes
 * in and settles the listed select from the lane (claim, then pop), and a lock-free get that
 * read the flags before takes the item in between: the claimed select is never served.
 */

#ifndef CAP
#define CAP 2
#endif
#ifndef NG
#define NG 1
#endif
#ifndef N
#define N 3
#endif
#ifndef ROUNDS
#define ROUNDS 2
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

/* Select waiter states (SelectWaiter.swift): waiting, claimed by a queue, served, gave up. */
#define S_IDLE 0
#define S_WAIT 1
#define S_CLAIMED 2
#define S_DONE 3
#define S_GAVEUP 4

byte tail = 0;
byte head = 0;
byte stamp[CAP];
byte slot[CAP];

bool offLane = false;     /* published flags */
bool gettersFlag = false;
bool laneActive = true;   /* under the lock */
bool selListed = false;   /* the select's entry in the getter line (live or dead) */
byte selState = S_IDLE;
byte selGot = NONE;
byte lockOwner = 0;
byte buffer[N + 1];       /* the locked buffer (ItemBuffer, FIFO) */
byte bhead = 0;
byte btail = 0;

byte gotten[N + 1];
byte taken = 0;

#if MUTANT == 1
#define BUFFER_EMPTY true
#else
#define BUFFER_EMPTY (bhead == btail)
#endif
#if MUTANT == 2
#define NONE_LISTED true
#else
#define NONE_LISTED (!selListed)
#endif

inline lock() { atomic { lockOwner == 0 -> lockOwner = _pid } }

/* The end of every event (JanusQueue.unlock): rejoinLaneIfIdle, then publishFlags. */
inline unlock() {
    atomic {
        if
        :: !laneActive && BUFFER_EMPTY && NONE_LISTED -> tail = tail & ~CLOSED; laneActive = true
        :: else -> skip
        fi;
        offLane = !laneActive;
        gettersFlag = selListed
    };
    lockOwner = 0
}

/* The ring's push and pop, as in leave.pml. */
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

/* leaveLane: close, drainAfterClose (one compare-and-swap of head to the closed tail claims
 * every item; each is moved out once its put published it), laneActive = false, publish. */
inline leaveLane() {
    if
    :: laneActive ->
       tail = tail | CLOSED;
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
       od;
       laneActive = false;
       offLane = true
    :: else -> skip
    fi
}

/* A got item: FIFO for this consumer, counted once. */
inline got(x) {
    assert(x > last);
    last = x;
    atomic { gotten[x]++; taken++ }
}

/* settle with the lane active: a listed select is claimed, then given the lane's head. Only the
 * mutant ever lists a select while the lane is active. */
inline settle() {
    if
    :: laneActive && selListed ->
       if
       :: atomic { selState == S_WAIT -> selState = S_CLAIMED };
          bpop(x, r);
          if
          :: r == R_OK -> selListed = false; selGot = x; selState = S_DONE
          :: else -> skip                  /* claimed, and nothing to give it */
          fi
       :: atomic { selState != S_WAIT -> selListed = false }   /* dead: dropped */
       fi
    :: else -> skip
    fi
}

proctype producer() {
    byte i = 1, r, t, h, s, x;
    do
    :: i <= N ->
       if
       :: !offLane -> bpush(i, r)           /* flags read (relaxed), then the lane */
       :: else -> r = R_CLOSED
       fi;
       if
       :: r == R_OK ->
          if
          :: gettersFlag -> lock(); settle(); unlock()   /* comes in: somebody waits */
          :: else -> skip
          fi
       :: else ->
          /* the locked put: the first live getter (a select, claimed first), else `offer`:
           * the lane while it is active, else the buffer (a full lane waits and retries) */
          lock();
          settle();
          if
          :: selListed && !laneActive ->
             if
             :: atomic { selState == S_WAIT -> selState = S_DONE; selGot = i }; selListed = false; r = R_OK
             :: atomic { selState != S_WAIT -> selListed = false }; goto offer
             fi
          :: else ->
offer:        if
             :: laneActive -> bpush(i, r); (r == R_OK || r == R_FULL)
             :: else -> buffer[btail] = i; btail++; r = R_OK
             fi
          fi;
          unlock();
          if
          :: r == R_FULL -> goto retry
          :: else -> skip
          fi
       fi;
       i++;
retry: skip
    :: else -> break
    od
}

proctype consumer() {
    byte x, r, t, h, s, last = 0;
    do
    :: taken == N -> break
    :: else ->
       if
       :: !offLane && !gettersFlag -> bpop(x, r)
       :: else -> r = R_EMPTY
       fi;
       if
       :: r != R_OK ->
          lock();
          settle();
          if
          :: selListed -> r = R_EMPTY        /* getters listed come first */
#if MUTANT == 1
          :: !selListed && bhead < btail -> x = buffer[bhead]; bhead++; r = R_OK
          :: !selListed && bhead == btail && laneActive -> bpop(x, r)
          :: !selListed && bhead == btail && !laneActive -> r = R_EMPTY
#else
          :: !selListed && laneActive -> bpop(x, r)
          :: !selListed && !laneActive ->
             if
             :: bhead < btail -> x = buffer[bhead]; bhead++; r = R_OK
             :: else -> r = R_EMPTY
             fi
#endif
          fi;
          unlock()
       :: else -> skip
       fi;
       if
       :: r == R_OK -> got(x)
       :: else -> skip
       fi
    od
}

proctype selector() {
    byte x, r, t, h, s, last = 0, round = 0;
    do
    :: round < ROUNDS && taken < N ->
       round++;
       /* selectGet: leave the lane; an item in the buffer is taken at once, else list */
       lock();
       leaveLane();
       if
       :: bhead < btail -> x = buffer[bhead]; bhead++; r = R_OK
       :: else -> selState = S_WAIT; selListed = true; r = R_EMPTY
       fi;
       unlock();
       if
       :: r == R_OK -> got(x)
       :: else ->
          /* served by a queue, or the deadline: giveUp wins only while nobody claimed it */
          if
          :: selState == S_DONE -> x = selGot; got(x)
          :: atomic { selState == S_WAIT -> selState = S_GAVEUP }
          fi;
          /* withdraw: out of the line if still there */
          lock();
          selListed = false;
          unlock();
          selState = S_IDLE
       fi
    :: else -> break
    od
}

init {
    byte k = 0;
    do
    :: k < CAP -> stamp[k] = k; slot[k] = NONE; k++
    :: else -> break
    od;
    atomic {
        run producer();
        run selector();
        k = 0;
        do
        :: k < NG -> run consumer(); k++
        :: else -> break
        od
    };
    (_nr_pr == 1);
    k = 1;
    do
    :: k <= N -> assert(gotten[k] == 1); k++
    :: else -> break
    od
}
