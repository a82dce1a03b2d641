/* A select over two queues, as a Promela model that spin checks exhaustively: one selecting
 * waiter S with a get on each queue, two servers (a put on each queue), a deadline or a
 * cancellation, and optionally a plain getter G competing on queue 0. Every interleaving.
 *
 * The Swift it stands for: SelectWaiter.swift (the protocol table), QueueStateMachine+Select
 * (selectGet, claimFirstGetter, selectWithdrawn), Select.swift (threadSelect, suspendSelect).
 * One queue event runs under that queue's lock (`lock[q]`); events of the two queues may run
 * at the same time, so inside an event only the accesses to the waiter's shared words are
 * separate steps: `sel` (the "selected" word; a compare-and-swap is one step) and, for tasks,
 * `rv` (the rendezvous; an exchange is one step). Work on data of that queue alone (its item
 * count, its line) is folded into the neighbouring step: only the lock holder touches it.
 * Sequentially consistent, as SelectWaiter.swift argues is enough (every claim is a
 * compare-and-swap on the one word; `outcome` is carried by the wakeup).
 *
 * What is checked, once every process has ended:
 *  - exactly one operation happened for S, the one `sel` names, with that queue's item, or none
 *    if S gave up (deadline or cancellation), and then S reports nothing;
 *  - nothing lost or duplicated: each queue's item is in the queue, or with S, or with G;
 *  - S is woken (unparked, or resumed) exactly once unless it performed its own operation, and
 *    a task is never resumed while its body is still registering;
 *  - S is listed nowhere after it returned;
 * and after every event of queue q, under its lock: no live waiter (G, or S while undecided)
 * is listed while q holds an item (a dead entry never holds an item back).
 * spin's end-state check: nobody is blocked at the end (a lost wakeup is a hang).
 *
 * Configurations (-D): TASK 0 = S is a thread that parks (deadline, or none with WAIT=1),
 * 1 = a task with a canceller; WAIT 1 = no deadline (threads); G 1 = add the plain getter
 * (it waits with a deadline). MUTANT n > 0 breaks one step on purpose (check.sh expects each
 * to be caught):
 *   1 a queue claims S with a load and a store, not one compare-and-swap
 *   2 a queue serves a listed S without claiming it (S withdraws from the other queue after it
 *     was served: "withdraw after serving")
 *   3 at its deadline S withdraws and reports a timeout without giving up atomically
 *   4 a task's claimer resumes it at once, without the rendezvous
 *   5 a queue that loses the claim keeps the dead entry at the head of its line
 */

#ifndef TASK
#define TASK 0
#endif
#ifndef WAIT
#define WAIT 0
#endif
#ifndef G
#define G 0
#endif
#ifndef MUTANT
#define MUTANT 0
#endif

#define S_ID 1
#define G_ID 2
#define GAVE_UP 3

bool lock[2];
byte items[2];
chan line[2] = [3] of { byte };   /* each queue's getter line: S_ID, G_ID */
byte sel;                          /* 0 waiting, q + 1: the get on queue q, GAVE_UP */
byte performed;                    /* operations performed for S */
byte got;                          /* 0, or q + 1: S has queue q's item */
byte gGot;                         /* 0, or 1: G has queue 0's item */
bool listedS[2];
byte woken;                        /* unparks (threads) or resumes (tasks) delivered to S */
bool rv;                           /* the task's rendezvous word */
bool bodyDone;                     /* the task's registering body has finished */
bool sDone, gDone;
byte serversDone;

inline acquire(q) { atomic { !lock[q] -> lock[q] = true } }
inline release(q) { lock[q] = false }

/* No live waiter listed while q holds an item (checked under q's lock). */
inline checkLine(q) {
  assert(!(items[q] > 0 && ((listedS[q] && sel == 0 && line[q]??[eval(S_ID)]) || line[q]??[eval(G_ID)])))
}

/* One compare-and-swap of `sel` from 0 to `want`; ok says whether it won. */
inline claim(want, ok) {
#if MUTANT == 1
  if :: sel == 0 -> ok = true :: else -> ok = false fi;
  if :: ok -> sel = want :: else fi
#elif MUTANT == 2
  ok = true; sel = want
#else
  atomic { if :: sel == 0 -> sel = want; ok = true :: else -> ok = false fi }
#endif
}

/* The second of the body and the decider resumes the task. */
inline arrive(second) { atomic { second = rv; rv = true } }

inline wakeS() {
#if TASK
#if MUTANT == 4
  assert(bodyDone); woken++
#else
  bool second; arrive(second);
  if :: second -> assert(bodyDone); woken++ :: else fi
#endif
#else
  woken++
#endif
}

/* A put on queue q: to the first live getter, else into the queue. */
proctype Server(byte q) {
  bool ok, wake; byte head;
  acquire(q);
  do
  :: len(line[q]) == 0 -> items[q]++; break
  :: len(line[q]) > 0 ->
     line[q]?<head>;
     if
     :: head == G_ID -> line[q]?head; gGot = 1; break
     :: head == S_ID ->
        claim(q + 1, ok);
        if
        :: ok -> line[q]?head; listedS[q] = false; got = q + 1; performed++; wake = true; break
        :: else ->
#if MUTANT == 5
           items[q]++; break
#else
           line[q]?head; listedS[q] = false   /* dead: dropped, next waiter */
#endif
        fi
     fi
  od;
  checkLine(q);
  release(q);
  if :: wake -> wakeS() :: else fi;
  serversDone++
}

/* S registers on queue q: performs the get itself if it can happen now, else is listed.
 * Returns stop = true when S is decided (by itself or by a queue). */
inline register(q, stop) {
  acquire(q);
  if
  :: sel != 0 -> stop = true
  :: sel == 0 && items[q] > 0 && len(line[q]) == 0 ->
     claim(q + 1, ok);
     if :: ok -> items[q]--; got = q + 1; performed++; own = true :: else fi;
     stop = true
  :: else -> line[q]!S_ID; listedS[q] = true
  fi;
  checkLine(q);
  release(q)
}

inline withdraw(q) {
  acquire(q);
  if :: line[q]??[eval(S_ID)] -> line[q]??eval(S_ID) :: else fi;
  listedS[q] = false;
  checkLine(q);
  release(q)
}

proctype Selector() {
  bool ok, own, stop, timedOut, second; byte first;
  if :: first = 0 :: first = 1 fi;       /* the start index of the registration */
  register(first, stop);
  if :: !stop -> register(1 - first, stop) :: else fi;
#if TASK
  bodyDone = true;
  if
  :: own -> woken++
  :: else -> arrive(second); if :: second -> woken++ :: else fi
  fi;
  woken > 0;                              /* suspended until resumed */
  timedOut = (sel == GAVE_UP);
#else
  if
  :: own -> skip
  :: else ->
     if
     :: woken > 0 -> skip
#if !WAIT
     :: true ->                           /* the deadline passed (park returned false) */
#if MUTANT == 3
        timedOut = true
#else
        atomic { if :: sel == 0 -> sel = GAVE_UP; timedOut = true :: else fi };
        if :: !timedOut -> woken > 0 :: else fi   /* chosen meanwhile: wait for the wakeup */
#endif
#endif
     fi
  fi;
#endif
  withdraw(0);
  withdraw(1);
  if
  :: timedOut -> assert(got == 0 && performed == 0)
  :: else -> assert(performed == 1 && got == sel && sel != GAVE_UP)
  fi;
  sDone = true
}

#if TASK
/* The cancellation handler: gives S up and, as the decider, arrives. */
proctype Canceller() {
  bool second;
  atomic { if :: sel == 0 -> sel = GAVE_UP; second = true :: else -> second = false fi };
  if :: second -> arrive(second); if :: second -> woken++ :: else fi :: else fi
}
#endif

#if G
/* A plain getter on queue 0 with a deadline. */
proctype Getter() {
  bool listed;
  acquire(0);
  if
  :: items[0] > 0 && len(line[0]) == 0 -> items[0]--; gGot = 1
  :: else -> line[0]!G_ID; listed = true
  fi;
  checkLine(0);
  release(0);
  if
  :: listed ->
     if
     :: gGot == 1 -> skip
     :: true -> acquire(0);               /* deadline: withdraw if still listed */
        if :: line[0]??[eval(G_ID)] -> line[0]??eval(G_ID) :: else fi;
        checkLine(0);
        release(0)
     fi
  :: else
  fi;
  gDone = true
}
#endif

init {
  atomic {
    run Selector();
    run Server(0);
    run Server(1);
#if TASK
    run Canceller();
#endif
#if G
    run Getter();
#endif
  }
  (sDone && serversDone == 2 && (!G || gDone));
  /* Exactly once: each queue's one item is in the queue, with S or with G. */
  assert(items[0] + (got == 1) + gGot == 1);
  assert(items[1] + (got == 2) == 1);
  assert(woken <= 1);
  assert(!listedS[0] && !listedS[1] && !(line[0]??[eval(S_ID)]) && !(line[1]??[eval(S_ID)]))
}
