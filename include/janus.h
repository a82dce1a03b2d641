/*
 * janus.h - a queue with a blocking face for threads and an async face for
 * Swift concurrency tasks, as a C library (libjanus.so).
 *
 * A port of Python's janus (aio-libs/janus): one queue, shared by OS threads
 * (this header: calls block the calling thread, with a timeout) and by Swift
 * tasks (the JanusCore Swift module: calls suspend the task).  From C, Swift
 * tasks are reached through janus_consume_async() and janus_produce_async().
 *
 * Items are opaque `void *` values: the queue stores and returns them and
 * never looks inside, except to hand them to the destroy and compare
 * callbacks of janus_options.  NULL is a valid item.
 *
 * Example: one producer thread, one consumer thread.
 *
 *     janus_queue *q = janus_queue_new(JANUS_FIFO, 64);  // at most 64 items
 *
 *     // producer thread
 *     for (int i = 0; i < n; i++)
 *         if (janus_queue_put(q, make_job(i), JANUS_WAIT_FOREVER) != JANUS_OK)
 *             break;                      // shut down: the job is still ours
 *     janus_queue_shutdown(q, false);     // no more jobs; let the rest drain
 *
 *     // consumer thread
 *     void *job;
 *     while (janus_queue_get(q, &job, JANUS_WAIT_FOREVER) == JANUS_OK) {
 *         run_job(job);                   // the job is ours now
 *         janus_queue_task_done(q);
 *     }                                   // JANUS_SHUTDOWN: drained, stop
 *
 *     // once both threads are joined
 *     janus_queue_free(q);
 *
 * Conventions used by every function below:
 *
 * - Status.  Functions that can fail return a janus_status; JANUS_OK is 0.
 *   A NULL queue, handle or out-pointer is JANUS_EINVAL and changes nothing.
 *   Snapshot functions (janus_queue_qsize() ...) answer 0 / false for a NULL
 *   queue; free, close and cancel functions ignore NULL.
 *
 * - Timeouts (every `timeout_ms` parameter) are relative milliseconds,
 *   measured on a monotonic clock:
 *     JANUS_NO_WAIT       (0)   never wait, answer at once;
 *     JANUS_WAIT_FOREVER  (-1)  wait as long as it takes;
 *     > 0                       wait at most that long (INT64_MAX is simply a
 *                               very long wait, never an overflow);
 *     any other negative        JANUS_EINVAL, nothing done.
 *   A get that runs out of time answers JANUS_EMPTY and a put JANUS_FULL (as
 *   janus raises Empty / Full); join and the *_wait functions answer
 *   JANUS_TIMEOUT.  Shutdown wins over EMPTY and FULL: a get or put on a
 *   shut-down queue answers JANUS_SHUTDOWN.
 *
 * - Ownership.  A put that returns JANUS_OK hands the item to the queue; any
 *   other status leaves it with the caller (so a JANUS_FULL try can simply be
 *   retried).  A get that returns JANUS_OK hands the item to the caller; the
 *   queue forgets it.  The optional destroy callback runs exactly once for
 *   each item the queue still holds when it throws items away (immediate
 *   shutdown, janus_queue_close(), janus_queue_free()) and never for an item
 *   that was handed out.
 *
 * - Threads.  Every function may be called from any thread at the same time,
 *   except janus_queue_free(), which is called once, last.  Calls that may
 *   block (any call with a timeout other than JANUS_NO_WAIT, and the *_wait
 *   and *_free functions of consumers and producers) must not be made from
 *   Swift concurrency's own threads, e.g. from inside a janus_consume_fn or
 *   janus_produce_fn callback: they would block a thread of the cooperative
 *   pool that the async face needs to make progress.
 *
 * - fork.  A child forked from a process that uses janus may use janus with
 *   queues it makes itself: threads on every call of this header, the
 *   descriptors, and janus_consume_async() / janus_produce_async() -- the
 *   last two unless the parent (or an ancestor) had started Swift tasks
 *   before the fork: then they answer NULL with errno ECHILD at once, because
 *   the child has the bookkeeping of Swift concurrency's thread pool but none
 *   of its threads, and a task started there might never run.
 *   Objects made before the fork (queues, consumers, producers) are the
 *   parent's: in the child every call on them answers JANUS_EFORK at once
 *   (snapshots answer 0 / false, janus_consume_async() NULL with errno
 *   ECHILD), and close, cancel and free do nothing -- their locks, waiters
 *   and tasks are the parent's.  Why a child needs care at all: the Swift
 *   runtime's locks record their owner's thread id, cached per thread, and
 *   fork() copies that cache into the child's first thread; libjanus clears
 *   the copy in a pthread_atfork() child handler, which needs the library's
 *   symbol table (strip --strip-debug keeps it, --strip-all does not).  And
 *   fork() copies a lock that another thread holds at that moment as held:
 *   so the first fork() of a process also runs, in the thread that forks,
 *   each path of this header once on queues of its own (about 2 ms), so
 *   that nothing janus needs is still being set up by another thread.
 */
#ifndef JANUS_H
#define JANUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Marks the exported functions.  Define JANUS_API before including this
 * header to change it (e.g. to nothing when building a static library). */
#ifndef JANUS_API
#define JANUS_API __attribute__((visibility("default")))
#endif

#define JANUS_VERSION_MAJOR 0
#define JANUS_VERSION_MINOR 1
#define JANUS_VERSION_PATCH 0
/* MAJOR * 10000 + MINOR * 100 + PATCH: compare with janus_version_number()
 * to tell the header a program was built with from the library it runs on. */
#define JANUS_VERSION_NUMBER \
    (JANUS_VERSION_MAJOR * 10000 + JANUS_VERSION_MINOR * 100 + JANUS_VERSION_PATCH)
#define JANUS_VERSION_STRING "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Types                                                                    */
/* ------------------------------------------------------------------------ */

/* A queue.  Opaque: made by janus_queue_new() or janus_queue_new_with(),
 * released by janus_queue_free(). */
typedef struct janus_queue janus_queue;

/* What a call did.  The values are part of the ABI and never change. */
typedef enum janus_status {
    JANUS_OK = 0,        /* done */
    JANUS_EMPTY = 1,     /* get: no item came within the timeout */
    JANUS_FULL = 2,      /* put: no room came within the timeout */
    JANUS_TIMEOUT = 3,   /* join / wait_closed / *_wait: time ran out */
    JANUS_SHUTDOWN = 4,  /* the queue is shut down (see janus_queue_shutdown) */
    JANUS_EINVAL = 20,   /* invalid argument: NULL queue, handle or out-pointer,
                            negative timeout other than JANUS_WAIT_FOREVER,
                            task_done without an unfinished task */
    JANUS_ENOMEM = 21,   /* out of memory */
    JANUS_EMISUSE = 22,  /* a call at the wrong time: wait_closed on a queue
                            that is not shut down */
    JANUS_ESYS = 23,     /* the system refused a resource the call needed;
                            errno says which (EMFILE: no file descriptor
                            left).  Nothing changed. */
    JANUS_EFORK = 24     /* the object was made before this process was
                            forked: it is the parent's (see "fork" at the
                            top).  Nothing changed. */
} janus_status;

/* The order items come out in. */
typedef enum janus_kind {
    JANUS_FIFO = 0,      /* first in, first out (janus Queue) */
    JANUS_LIFO = 1,      /* last in, first out, a stack (janus LifoQueue) */
    JANUS_PRIORITY = 2   /* lowest first (janus PriorityQueue); stable: items
                            that compare equal come out in insertion order */
} janus_kind;

/* Timeout values; see "Timeouts" at the top. */
#define JANUS_NO_WAIT 0
#define JANUS_WAIT_FOREVER (-1)

/* Called for an item that the queue throws away (immediate shutdown, close,
 * free): exactly once per such item, on the thread that made that call, with
 * no lock held; never for an item a get handed out.  Also called, on a Swift
 * concurrency thread, for the item a stopped producer could not put (see
 * janus_produce_async).  It must not call into the queue. */
typedef void (*janus_destroy_fn)(void *item, void *ctx);

/* Orders the items of a JANUS_PRIORITY queue: negative if a comes out before
 * b, 0 if equal (then insertion order decides), positive if after.  Called
 * with the queue's lock held, from any thread that puts or gets: it must be
 * quick, must not block and must not call into the queue. */
typedef int (*janus_compare_fn)(const void *a, const void *b, void *ctx);

/* Everything janus_queue_new_with() can set.  Zero-initialise it and set what
 * you need: { 0 } is an unbounded FIFO queue without callbacks. */
typedef struct janus_options {
    janus_kind kind;           /* JANUS_FIFO, JANUS_LIFO or JANUS_PRIORITY */
    size_t maxsize;            /* most items held at once; 0 = unbounded.  A
                                  limit, not a preallocation: storage grows and
                                  shrinks with the items actually held */
    janus_destroy_fn destroy;  /* for discarded items; NULL = just forget them */
    janus_compare_fn compare;  /* JANUS_PRIORITY only (ignored otherwise);
                                  NULL = compare the items as (intptr_t) */
    void *ctx;                 /* passed to destroy and compare */
} janus_options;

/* ------------------------------------------------------------------------ */
/* Life cycle                                                               */
/* ------------------------------------------------------------------------ */

/* Makes a queue of `kind` holding at most `maxsize` items (0 = unbounded),
 * without callbacks; a JANUS_PRIORITY queue compares items as (intptr_t).
 * Returns NULL if `kind` is not a janus_kind or memory is short.
 * Does not block.  Thread safe. */
JANUS_API janus_queue *janus_queue_new(janus_kind kind, size_t maxsize);

/* Like janus_queue_new() with every field of *options.  The options are
 * copied: *options need not outlive the call (options->ctx must live as long
 * as the queue).  Returns NULL if options is NULL, options->kind is not a
 * janus_kind or memory is short.  Does not block.  Thread safe. */
JANUS_API janus_queue *janus_queue_new_with(const janus_options *options);

/* Releases q.  Items still in it are discarded as by an immediate shutdown
 * (destroy runs once for each, on this thread); calls still blocked in q wake
 * and return JANUS_SHUTDOWN.  Call it once, when no new call on q can start:
 * after it, q is gone.  Stop (janus_consumer_wait / janus_producer_wait) the
 * consumers and producers of q before freeing it.  NULL is a no-op. */
JANUS_API void janus_queue_free(janus_queue *q);

/* ------------------------------------------------------------------------ */
/* Putting and getting                                                      */
/* ------------------------------------------------------------------------ */

/* Adds item (NULL is a valid item) to q, waiting up to timeout_ms while q is
 * full.  Threads and Swift tasks waiting on q are served first come, first
 * served.
 * Returns
 *   JANUS_OK        the item is in q, which owns it now; unfinished_tasks + 1;
 *   JANUS_FULL      no room within the timeout (at once for JANUS_NO_WAIT);
 *   JANUS_SHUTDOWN  q is shut down, also if it was shut down while we waited;
 *   JANUS_EINVAL    q is NULL or timeout_ms is invalid.
 * On any status but JANUS_OK the item stays with the caller and the queue is
 * unchanged.  Blocks up to timeout_ms.  Thread safe. */
JANUS_API janus_status janus_queue_put(janus_queue *q, void *item, int64_t timeout_ms);

/* Takes the next item of q (in q's order) into *item_out, waiting up to
 * timeout_ms while q is empty.
 * Returns
 *   JANUS_OK        *item_out is the item, now owned by the caller; it still
 *                   counts as unfinished until janus_queue_task_done();
 *   JANUS_EMPTY     no item within the timeout (at once for JANUS_NO_WAIT);
 *   JANUS_SHUTDOWN  q is shut down and has no item left for us: empty after a
 *                   normal shutdown, or discarded by an immediate one;
 *   JANUS_EINVAL    q or item_out is NULL, or timeout_ms is invalid.
 * *item_out is written only on JANUS_OK.  Blocks up to timeout_ms.
 * Thread safe. */
JANUS_API janus_status janus_queue_get(janus_queue *q, void **item_out, int64_t timeout_ms);

/* Puts items[0 .. count) in order, like a loop of janus_queue_put() that
 * shares one deadline: it waits (within timeout_ms) for room for every item.
 * *put_count_out is set to how many went in: always a prefix of items, owned
 * by q from then on; the rest stay with the caller.
 * Returns
 *   JANUS_OK        all count items went in (count 0 is a no-op);
 *   JANUS_FULL      stopped early: no room and JANUS_NO_WAIT, or time ran out;
 *   JANUS_SHUTDOWN  stopped early: q is (or became) shut down;
 *   JANUS_EINVAL    q or put_count_out is NULL, items is NULL while count > 0,
 *                   or timeout_ms is invalid: nothing put, *put_count_out not
 *                   written.
 * Other callers' items may be interleaved between ours when it has to wait.
 * Blocks up to timeout_ms.  Thread safe. */
JANUS_API janus_status janus_queue_put_many(janus_queue *q, void *const *items, size_t count,
                                            size_t *put_count_out, int64_t timeout_ms);

/* Waits up to timeout_ms for at least one item, then takes as many as are
 * there, up to max_count, without waiting more, into items_out[0 ..
 * *got_count_out) in q's order.  The caller owns the items taken; each counts
 * as unfinished until its janus_queue_task_done().
 * Returns
 *   JANUS_OK        1 <= *got_count_out <= max_count items taken;
 *   JANUS_EMPTY     no item within the timeout (*got_count_out = 0);
 *   JANUS_SHUTDOWN  q is shut down and has no item left for us (*got_count_out 0);
 *   JANUS_EINVAL    q, items_out or got_count_out is NULL, max_count is 0, or
 *                   timeout_ms is invalid: nothing taken, nothing written.
 * Blocks up to timeout_ms.  Thread safe. */
JANUS_API janus_status janus_queue_get_many(janus_queue *q, void **items_out, size_t max_count,
                                            size_t *got_count_out, int64_t timeout_ms);

/* ------------------------------------------------------------------------ */
/* Select: waiting on several queues at once                                */
/* ------------------------------------------------------------------------ */

/* What one operation of a select does. */
typedef enum janus_select_kind {
    JANUS_SELECT_GET = 1,  /* take the next item of queue into item */
    JANUS_SELECT_PUT = 2   /* put item into queue */
} janus_select_kind;

/* One operation of janus_select(). */
typedef struct janus_select_op {
    janus_queue *queue;      /* the queue; the same queue may appear in several ops */
    janus_select_kind kind;  /* JANUS_SELECT_GET or JANUS_SELECT_PUT */
    void *item;              /* PUT: the item to put (NULL is valid).  GET: set to
                                the item taken, only if this op is the one that
                                happened with JANUS_OK */
} janus_select_op;

/* The most operations one janus_select() may have. */
#define JANUS_SELECT_MAX 64

/* Waits up to timeout_ms until one of ops[0 .. count) can happen, performs
 * EXACTLY that one, and sets *index_out to its index (Go's select,
 * crossbeam-channel's Select).  The other operations have not happened: no
 * item taken, none put, unfinished_tasks unchanged; a put that did not happen
 * leaves its item with the caller.
 * Returns
 *   JANUS_OK        ops[*index_out] happened: a get's item is in
 *                   ops[*index_out].item (now the caller's); a put's item is
 *                   now the queue's (unfinished_tasks + 1);
 *   JANUS_SHUTDOWN  the queue of ops[*index_out] is shut down (a get found no
 *                   item left, a put was refused): a shut-down queue counts as
 *                   ready, so a select whose queues are all shut down answers
 *                   at once, never hangs; nothing happened;
 *   JANUS_TIMEOUT   none could happen within timeout_ms (at once for
 *                   JANUS_NO_WAIT, which makes it a non-blocking try of every
 *                   op); *index_out not written;
 *   JANUS_EINVAL    ops or index_out is NULL, count is 0 or more than
 *                   JANUS_SELECT_MAX, an op has a NULL queue or an unknown
 *                   kind, or timeout_ms is invalid: nothing done.
 * Fairness: when several ops are ready at the call, the one performed is not
 * always the first: each call starts looking at a pseudo-random index (a
 * process-wide call counter, scrambled) and goes round from there.  While it
 * waits, the select holds a place in the first-come-first-served line of
 * every queue, like a get or put of its own; the queue that serves it first
 * wins, and it leaves the other lines before anyone else can pick it; a put
 * hands its item straight to a waiting select's get.
 * A FIFO queue that a select has to wait on leaves its lock-free path while
 * the select is listed (select waiters live in the locked buffer).  A bounded
 * FIFO queue takes it up again as soon as it is idle: nothing left in the
 * locked buffer, nobody waiting in its lines, not shut down.  An unbounded one,
 * or one that was peeked at or had its limit changed, stays off it for good
 * (it then runs at the speed of a LIFO queue).
 * Blocks up to timeout_ms.  Thread safe.
 *
 *     janus_select_op ops[2] = {
 *         { data, JANUS_SELECT_GET, NULL },
 *         { control, JANUS_SELECT_GET, NULL },
 *     };
 *     size_t which;
 *     while (janus_select(ops, 2, &which, JANUS_WAIT_FOREVER) == JANUS_OK) {
 *         if (which == 1) break;              // a control message: stop
 *         handle(ops[0].item);                // a job from data
 *         janus_queue_task_done(data);
 *     }
 */
JANUS_API janus_status janus_select(janus_select_op *ops, size_t count, size_t *index_out,
                                    int64_t timeout_ms);

/* ------------------------------------------------------------------------ */
/* Tasks: task_done and join                                                */
/* ------------------------------------------------------------------------ */

/* Says that one item taken from q has been dealt with: unfinished_tasks - 1,
 * and join waiters wake when it reaches 0.  Works after shutdown too.
 * Returns JANUS_OK, or JANUS_EINVAL if q is NULL or unfinished_tasks is
 * already 0 (called more times than items were put; the count stays 0).
 * Does not block.  Thread safe. */
JANUS_API janus_status janus_queue_task_done(janus_queue *q);

/* Waits up to timeout_ms until unfinished_tasks is 0: every item ever put has
 * had its janus_queue_task_done() (or was discarded by an immediate shutdown).
 * Returns at once if it is 0 already, and may be called again later.
 * Returns JANUS_OK, JANUS_TIMEOUT, or JANUS_EINVAL (NULL q, invalid timeout);
 * JANUS_SHUTDOWN if q is freed while it waits (no task_done can come then).
 * A normal shutdown does not end a join: it still waits for task_done.
 * While it waits after a shutdown, it counts as a caller inside q for
 * janus_queue_wait_closed().  Blocks up to timeout_ms.  Thread safe. */
JANUS_API janus_status janus_queue_join(janus_queue *q, int64_t timeout_ms);

/* ------------------------------------------------------------------------ */
/* Snapshots                                                                */
/* ------------------------------------------------------------------------ */
/* Each answers for one instant: another thread may change it right after.
 * None blocks (beyond a short lock); all are thread safe; a NULL q gives 0 or
 * false. */

/* The number of items in q. */
JANUS_API size_t janus_queue_qsize(const janus_queue *q);
/* Whether q holds no item (false for NULL). */
JANUS_API bool janus_queue_empty(const janus_queue *q);
/* Whether q is bounded and at its limit: 0 < maxsize <= qsize. */
JANUS_API bool janus_queue_full(const janus_queue *q);
/* The limit of q now (see janus_queue_set_maxsize); 0 = unbounded. */
JANUS_API size_t janus_queue_maxsize(const janus_queue *q);
/* Items put and not yet task_done'd (nor discarded by an immediate shutdown
 * or janus_queue_clear).  Goes up by one on every successful put; a get does
 * not change it. */
JANUS_API size_t janus_queue_unfinished_tasks(const janus_queue *q);
/* How many callers are waiting in a get / in a put right now, threads and
 * Swift tasks together (listed waiters; a caller still spinning briefly
 * before it lists itself is not counted).  For metrics. */
JANUS_API size_t janus_queue_getters(const janus_queue *q);
JANUS_API size_t janus_queue_putters(const janus_queue *q);

/* ------------------------------------------------------------------------ */
/* Peek, clear, a changing maxsize (culsans's extras)                       */
/* ------------------------------------------------------------------------ */

/* The next item, left in q (culsans peek): *item_out is the pointer the next
 * get would return, and it stays the queue's.  timeout_ms as for a get: with
 * JANUS_NO_WAIT answers JANUS_EMPTY at once if q is empty, otherwise waits up
 * to timeout_ms for an item.  Returns JANUS_OK, JANUS_EMPTY, JANUS_SHUTDOWN
 * (shut down and nothing left), JANUS_EINVAL (NULL q or item_out, invalid
 * timeout).
 * When it is safe to look at *item_out: only while nobody can take that item
 * meanwhile.  Any get, on any thread or task, may take it at once, and the
 * taker then owns it (and may free it); an immediate shutdown, close, clear
 * or free sends it to destroy.  So dereference it only when this thread is
 * the queue's only consumer, or under a protocol of your own that keeps the
 * others off it; the pointer value itself may always be compared or logged.
 * A FIFO queue that is peeked at leaves its lock-free path for good (it then
 * runs at the speed of a LIFO queue).  Blocks up to timeout_ms.  Thread safe. */
JANUS_API janus_status janus_queue_peek(janus_queue *q, void **item_out, int64_t timeout_ms);

/* Discards every item in q now (culsans clear), atomically: each goes to
 * destroy exactly once, on this thread, with no lock held (must not call
 * into q); unfinished_tasks goes down by their number (never below 0);
 * putters waiting for room are admitted, first come first served.  Puts that
 * run at the same time may land before or after it.  *cleared_out (if not
 * NULL) gets the number discarded.  Returns JANUS_OK or JANUS_EINVAL (NULL
 * q).  Does not block.  Thread safe. */
JANUS_API janus_status janus_queue_clear(janus_queue *q, size_t *cleared_out);

/* Changes q's limit while in use (culsans's settable maxsize); 0 = unbounded.
 * Growing admits waiting putters, first come first served; shrinking keeps
 * the items and makes puts wait until qsize is below the new limit.  A FIFO
 * queue whose limit changes leaves its lock-free path for good (it then runs
 * at the speed of a LIFO queue).  Returns JANUS_OK or JANUS_EINVAL (NULL q).
 * Does not block.  Thread safe. */
JANUS_API janus_status janus_queue_set_maxsize(janus_queue *q, size_t maxsize);

/* ------------------------------------------------------------------------ */
/* Event loops: a descriptor to wait on                                     */
/* ------------------------------------------------------------------------ */

/* What a readiness descriptor reports. */
typedef enum janus_ready {
    JANUS_READABLE = 1,  /* a get would not wait: an item is there, or shut down */
    JANUS_WRITABLE = 2   /* a put would not wait: room is there, or shut down */
} janus_ready;

/* A file descriptor for an event loop (epoll, poll, select, libuv uv_poll_t,
 * libevent, GLib, Python asyncio add_reader...) that is readable while `what`
 * holds.  *fd_out gets it.  Made on the first call for each `what` (a Linux
 * eventfd, close-on-exec, nonblocking), the same descriptor on every later
 * call; owned by q: do not read, write or close it.  It stays open until q
 * is freed and the last call inside q has returned; take it out of any
 * epoll set that outlives q first (closing it removes it from epoll sets,
 * but a set may still report it until then).
 * The contract, level-like, with no edge trap:
 * - JANUS_READABLE: after the descriptor wakes the loop, the loop gets with
 *   JANUS_NO_WAIT until that answers JANUS_EMPTY.  Only such an answer (a get
 *   or get_many with JANUS_NO_WAIT finding q empty) makes the descriptor
 *   quiet; an item that arrives after it makes it readable again.  So it
 *   never stays quiet while an item waits in q, and a loop that stops early
 *   (items still there) is simply woken again.  It may wake the loop when
 *   another consumer took the item first: the get then answers JANUS_EMPTY.
 *   After shutdown it stays readable (gets answer JANUS_SHUTDOWN once q is
 *   drained).
 * - JANUS_WRITABLE: the same with puts: only a put with JANUS_NO_WAIT that
 *   answers JANUS_FULL makes it quiet; room makes it readable again.  An
 *   unbounded queue's stays readable.
 * Register it for reading (EPOLLIN, POLLIN, UV_READABLE) in both cases,
 * level-triggered (the default everywhere, and what "woken again" above
 * means).  Edge-triggered (EPOLLET) works too, but then the loop must always
 * go on until the JANUS_EMPTY / JANUS_FULL answer before it waits again: a
 * descriptor that is already readable gets no new edge.  Costs nothing to a
 * queue that never asked for one.
 * Returns JANUS_OK, JANUS_EINVAL (NULL q or fd_out, `what` not a janus_ready)
 * or JANUS_ESYS (no descriptor: errno is EMFILE, ENFILE or ENOMEM), nothing
 * changed.  Does not block.  Thread safe. */
JANUS_API janus_status janus_queue_fd(janus_queue *q, janus_ready what, int *fd_out);

/* ------------------------------------------------------------------------ */
/* Shutdown                                                                 */
/* ------------------------------------------------------------------------ */

/* Shuts q down, as CPython 3.13 queue.Queue.shutdown(immediate).  After it:
 * - puts (new ones, and putters already waiting) answer JANUS_SHUTDOWN, even
 *   if there is room; a waiting putter's item is never inserted and stays
 *   with that putter;
 * - immediate = false: gets still return the items left, then answer
 *   JANUS_SHUTDOWN once q is empty (not JANUS_EMPTY); unfinished_tasks is
 *   unchanged and join still waits for task_done of every item;
 * - immediate = true: the items left are discarded now, destroy runs once
 *   for each on this thread, unfinished_tasks goes down by their number
 *   (never below 0); gets answer JANUS_SHUTDOWN; join returns once the count
 *   is 0 (items already taken still need their task_done).
 * Every waiter, thread or Swift task, is woken.  Idempotent, in any order of
 * the two modes: a later immediate shutdown discards what a normal one left;
 * a normal one after an immediate one changes nothing.
 * Returns JANUS_OK, or JANUS_EINVAL for a NULL q.  Does not wait for the
 * woken callers to leave (see janus_queue_wait_closed).  Thread safe. */
JANUS_API janus_status janus_queue_shutdown(janus_queue *q, bool immediate);

/* janus_queue_shutdown(q, true) (janus close()).  Does not free q.
 * NULL is a no-op.  Thread safe. */
JANUS_API void janus_queue_close(janus_queue *q);

/* Whether q has been shut down, in either mode (false for NULL).
 * Thread safe. */
JANUS_API bool janus_queue_is_shutdown(const janus_queue *q);

/* Waits up to timeout_ms until q is closed: shut down, and no caller is still
 * inside a waiting call on q (a put, get or join that has not yet returned).
 * janus_queue_close() then janus_queue_wait_closed() is janus aclose().
 * Returns
 *   JANUS_OK        closed;
 *   JANUS_TIMEOUT   someone is still inside after timeout_ms;
 *   JANUS_EMISUSE   q is not shut down (it could never become closed);
 *   JANUS_EINVAL    q is NULL or timeout_ms is invalid.
 * Blocks up to timeout_ms.  Thread safe. */
JANUS_API janus_status janus_queue_wait_closed(janus_queue *q, int64_t timeout_ms);

/* ------------------------------------------------------------------------ */
/* Errors and version                                                       */
/* ------------------------------------------------------------------------ */

/* A short English description of status: a static string, never NULL, also
 * for values that are not a janus_status.  Thread safe. */
JANUS_API const char *janus_strerror(janus_status status);

/* The version of the library actually loaded, as JANUS_VERSION_NUMBER and
 * JANUS_VERSION_STRING (a static string).  Thread safe. */
JANUS_API unsigned janus_version_number(void);
JANUS_API const char *janus_version_string(void);

/* ------------------------------------------------------------------------ */
/* Swift tasks as the other side of a queue, driven from C                  */
/* ------------------------------------------------------------------------ */

/* A running group of Swift tasks consuming from a queue.  Opaque: made by
 * janus_consume_async(), released by janus_consumer_free(). */
typedef struct janus_consumer janus_consumer;

/* Called by a consumer task for each item it takes; the item now belongs to
 * the callback.  Return 0 to go on, anything else to stop the whole consumer.
 * Runs on a Swift concurrency thread, from several tasks at once when the
 * consumer has more than one: it must be thread safe, should be quick, and
 * must not make blocking calls (see "Threads" at the top); calls with
 * JANUS_NO_WAIT, task_done, the snapshots and shutdown are fine. */
typedef int (*janus_consume_fn)(void *item, void *ctx);

/* Starts `tasks` Swift tasks that each loop: await an item from q's async
 * face, call fn(item, ctx), then janus_queue_task_done(q) (also after the call
 * that says stop).  The consumer stops as a whole
 * - when fn returns non-zero in any task (see "Stopping" below);
 * - when it is cancelled (janus_consumer_cancel): an item a task had already
 *   taken goes to fn or to q's destroy, never nowhere;
 * - when q is shut down and drained (after a normal shutdown the items left
 *   are consumed first).
 * fn is never called after janus_consumer_wait() has reported the end.
 *
 * Stopping, with several tasks.  Each task looks at the consumer's stop mark
 * after it takes an item and before it calls fn.  The task whose fn returned
 * non-zero sets that mark as its first step once fn has returned; from then
 * on no task hands a newly taken item to fn (it goes to q's destroy, with a
 * task_done), and each other task makes at most one more call of fn: the one
 * whose look came before the mark.  Until the mark is set the other tasks go
 * on as before: normally that is a few instructions after fn returns, but a
 * scheduler that preempts the stopping thread right there stretches it, and
 * the others may then call fn for more items meanwhile.  So the contract, in
 * terms that hold under any scheduling: every item taken goes to exactly one
 * of fn and destroy; once the mark is set, at most tasks - 1 calls of fn
 * begin; none begins after janus_consumer_wait() reported the end.
 * Returns NULL if q or fn is NULL or tasks is 0 (errno EINVAL), in a forked
 * child that cannot start Swift tasks (errno ECHILD, see "fork" at the top),
 * or if memory is short.  q and ctx must outlive the consumer's run.  Does not block.  Thread safe. */
JANUS_API janus_consumer *janus_consume_async(janus_queue *q, janus_consume_fn fn, void *ctx,
                                              size_t tasks);

/* Waits up to timeout_ms for every task of c to end, whatever the reason.
 * Returns JANUS_OK (ended; asking again answers JANUS_OK at once),
 * JANUS_TIMEOUT, JANUS_EINVAL (NULL c, invalid timeout) or JANUS_EFORK (c
 * is the parent's: see "fork" at the top).
 * Blocks up to timeout_ms: not from a Swift concurrency thread.
 * Thread safe. */
JANUS_API janus_status janus_consumer_wait(janus_consumer *c, int64_t timeout_ms);

/* Asks c to stop: its tasks are cancelled, which ends their waits on q.
 * Does not wait for them (use janus_consumer_wait).  No effect on an ended
 * consumer; NULL is a no-op.  Does not block.  Thread safe. */
JANUS_API void janus_consumer_cancel(janus_consumer *c);

/* Releases c.  If it is still running it is cancelled first and this call
 * waits for its tasks to end, so fn is never called after it returns.  Call
 * it once, when no other call on c can start.  NULL is a no-op.
 * May block: not from a Swift concurrency thread. */
JANUS_API void janus_consumer_free(janus_consumer *c);

/* A running Swift task producing into a queue.  Opaque: made by
 * janus_produce_async(), released by janus_producer_free(). */
typedef struct janus_producer janus_producer;

/* Called by the producer task for the next item: store it in *item_out and
 * return JANUS_OK, or return anything else to stop (*item_out is then
 * ignored).  Runs on a Swift concurrency thread: it must not make blocking
 * calls (see "Threads" at the top). */
typedef janus_status (*janus_produce_fn)(void **item_out, void *ctx);

/* Starts one Swift task that loops: call fn, then await the async put of the
 * item into q (so a full queue holds the producer back).  Items go in in the
 * order fn made them.  It stops when fn returns anything but JANUS_OK, when
 * it is cancelled, or when q is shut down; an item it holds that was not put
 * (cancelled, or q shut down) is handed to q's destroy, if any.
 * Returns NULL if q or fn is NULL (errno EINVAL), in a forked child that
 * cannot start Swift tasks (errno ECHILD, see "fork" at the top), or if
 * memory is short.  q and ctx must outlive the producer's run.  Does not block.  Thread safe. */
JANUS_API janus_producer *janus_produce_async(janus_queue *q, janus_produce_fn fn, void *ctx);

/* Waits up to timeout_ms for the producer's task to end, whatever the reason.
 * Returns JANUS_OK (ended; asking again answers JANUS_OK at once),
 * JANUS_TIMEOUT, JANUS_EINVAL (NULL p, invalid timeout) or JANUS_EFORK (p
 * is the parent's: see "fork" at the top).
 * Blocks up to timeout_ms: not from a Swift concurrency thread.
 * Thread safe. */
JANUS_API janus_status janus_producer_wait(janus_producer *p, int64_t timeout_ms);

/* Asks p to stop: its task is cancelled, which ends a put it waits in (the
 * item it holds goes to destroy).  Does not wait (use janus_producer_wait).
 * No effect on an ended producer; NULL is a no-op.  Does not block.
 * Thread safe. */
JANUS_API void janus_producer_cancel(janus_producer *p);

/* Releases p.  If it is still running it is cancelled first and this call
 * waits for its task to end, so fn is never called after it returns.  Call it
 * once, when no other call on p can start.  NULL is a no-op.
 * May block: not from a Swift concurrency thread. */
JANUS_API void janus_producer_free(janus_producer *p);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* JANUS_H */
