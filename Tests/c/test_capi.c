/*
 * test_capi.c - the C ABI of libjanus.so against include/janus.h and SPEC.md.
 *
 * Every function of janus.h is exercised; every check is counted and the last
 * line printed is "N passed, N failed" (exit status 1 if any failed).
 *
 * Timing: checks on time are generous bounds only (a 50 ms timeout must take
 * at least 40 ms and well under seconds).  To make a thread's call actually
 * wait before the main thread acts, wait_blocked() polls Linux's
 * /proc/self/task/TID/stat until the thread sleeps; every such test has the
 * same expected result if the thread had not blocked yet, so it cannot flake.
 * The one exception is janus_queue_free() while a call is blocked: a call that
 * started after the free would be a use after free, so that test also gives
 * the threads a fixed 100 ms head start (the only sleep used as ordering).
 * Where the order of several waiters matters (first come, first served after
 * clear or set_maxsize), each thread is seen listed by janus_queue_putters /
 * janus_queue_getters before the next one starts.
 *
 * The readiness descriptors (janus_queue_fd) are checked with poll() at
 * timeout 0 against janus.h's rule, then in races: an event-loop consumer
 * (poll, and epoll edge-triggered) and an event-loop producer against
 * blocking threads, each item exactly once, the descriptor never quiet for
 * long while an item (room) is there.  The FIFO-order check of a queue that
 * leaves its lock-free path while in use is a race too: it cannot fail
 * falsely, but a library with the bug may pass it by luck on one run.
 *
 * A watchdog ends the run (counting a failure) if one test hangs.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "janus.h"

/* ------------------------------------------------------------------------ */
/* Check framework                                                          */
/* ------------------------------------------------------------------------ */

static pthread_mutex_t g_report_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_passed;
static int g_failed;
static const char *g_test = "(none)"; /* __atomic: the watchdog reads it */

static const char *current_test(void)
{
    return __atomic_load_n(&g_test, __ATOMIC_ACQUIRE);
}

static void report(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&g_report_lock);
    if (ok) {
        g_passed++;
    } else {
        g_failed++;
        printf("FAIL %s:%d [%s] ", file, line, current_test());
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        fflush(stdout);
    }
    pthread_mutex_unlock(&g_report_lock);
}

static const char *status_name(janus_status s)
{
    switch (s) {
    case JANUS_OK: return "JANUS_OK";
    case JANUS_EMPTY: return "JANUS_EMPTY";
    case JANUS_FULL: return "JANUS_FULL";
    case JANUS_TIMEOUT: return "JANUS_TIMEOUT";
    case JANUS_SHUTDOWN: return "JANUS_SHUTDOWN";
    case JANUS_EINVAL: return "JANUS_EINVAL";
    case JANUS_ENOMEM: return "JANUS_ENOMEM";
    case JANUS_EMISUSE: return "JANUS_EMISUSE";
    case JANUS_ESYS: return "JANUS_ESYS";
    case JANUS_EFORK: return "JANUS_EFORK";
    }
    return "(not a janus_status)";
}

#define CHECK(cond) report(!!(cond), __FILE__, __LINE__, "%s", #cond)

#define CHECK_ST(expr, want)                                                         \
    do {                                                                             \
        janus_status got_ = (expr);                                                  \
        janus_status want_ = (want);                                                 \
        report(got_ == want_, __FILE__, __LINE__, "%s: expected %s, got %s (%d)",   \
               #expr, status_name(want_), status_name(got_), (int)got_);             \
    } while (0)

#define CHECK_SZ(expr, want)                                                         \
    do {                                                                             \
        size_t got_ = (size_t)(expr);                                                \
        size_t want_ = (size_t)(want);                                               \
        report(got_ == want_, __FILE__, __LINE__, "%s: expected %zu, got %zu",       \
               #expr, want_, got_);                                                  \
    } while (0)

#define CHECK_PTR(expr, want)                                                        \
    do {                                                                             \
        void *got_ = (void *)(expr);                                                 \
        void *want_ = (void *)(want);                                                \
        report(got_ == want_, __FILE__, __LINE__, "%s: expected %p, got %p",         \
               #expr, want_, got_);                                                  \
    } while (0)

/* lo <= value < hi, for elapsed times in ms. */
#define CHECK_MS(value, lo, hi)                                                      \
    do {                                                                             \
        double v_ = (value);                                                         \
        report(v_ >= (lo) && v_ < (hi), __FILE__, __LINE__,                          \
               "%s: expected %g..%g ms, got %.1f ms", #value, (double)(lo),          \
               (double)(hi), v_);                                                    \
    } while (0)

static void print_summary(int extra_failed)
{
    pthread_mutex_lock(&g_report_lock);
    printf("%d passed, %d failed\n", g_passed, g_failed + extra_failed);
    fflush(stdout);
    pthread_mutex_unlock(&g_report_lock);
}

/* Ends the run: something went so wrong (a hung thread) that going on could
 * only crash or hang. */
static void fatal(const char *file, int line, const char *what)
{
    pthread_mutex_lock(&g_report_lock);
    printf("FAIL %s:%d [%s] fatal: %s\n", file, line, current_test(), what);
    printf("%d passed, %d failed\n", g_passed, g_failed + 1);
    fflush(stdout);
    _exit(1);
}
#define FATAL(what) fatal(__FILE__, __LINE__, what)

/* ------------------------------------------------------------------------ */
/* Time                                                                     */
/* ------------------------------------------------------------------------ */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* ------------------------------------------------------------------------ */
/* Watchdog: one test may take TEST_LIMIT_MS at most                         */
/* ------------------------------------------------------------------------ */

#define TEST_LIMIT_MS 30000

static int64_t g_deadline_ms; /* __atomic; 0 = no test running */

static void begin_test(const char *name)
{
    __atomic_store_n(&g_test, name, __ATOMIC_RELEASE);
    __atomic_store_n(&g_deadline_ms, (int64_t)now_ms() + TEST_LIMIT_MS, __ATOMIC_RELEASE);
}

static void *watchdog(void *arg)
{
    (void)arg;
    for (;;) {
        sleep_ms(200);
        int64_t deadline = __atomic_load_n(&g_deadline_ms, __ATOMIC_ACQUIRE);
        if (deadline != 0 && (int64_t)now_ms() > deadline) {
            pthread_mutex_lock(&g_report_lock);
            printf("FAIL [%s] watchdog: test still running after %d ms (hung?)\n",
                   current_test(), TEST_LIMIT_MS);
            printf("%d passed, %d failed\n", g_passed, g_failed + 1);
            fflush(stdout);
            _exit(1);
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Items and the destroy tracker                                            */
/* ------------------------------------------------------------------------ */

/* Items are small integers stored in the pointer: V(3) is item 3, V(0) NULL. */
#define V(n) ((void *)(intptr_t)(n))
#define N(p) ((intptr_t)(p))

#define TRACK_MAX 4096
#define TRACK_MAGIC 0x6a616e75u

/* Counts, per item value, how often the queue destroyed it and how often a
 * get handed it out: each item must be destroyed at most once and never
 * after it was handed out. */
typedef struct tracker {
    unsigned magic;
    pthread_mutex_t lock;
    int destroyed[TRACK_MAX];
    int handed[TRACK_MAX];
    size_t total_destroyed;
    size_t bad_item;      /* destroyed an item outside 0..TRACK_MAX */
    int check_thread;     /* destroy must run on expect_thread */
    pthread_t expect_thread;
    size_t wrong_thread;
} tracker;

static tracker *tracker_new(void)
{
    tracker *t = calloc(1, sizeof *t);
    if (t == NULL)
        FATAL("out of memory");
    t->magic = TRACK_MAGIC;
    pthread_mutex_init(&t->lock, NULL);
    t->check_thread = 1;
    t->expect_thread = pthread_self();
    return t;
}

static void tracker_free(tracker *t)
{
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static void track_destroy(void *item, void *ctx)
{
    tracker *t = ctx;
    if (t == NULL || t->magic != TRACK_MAGIC) {
        /* Cannot count it anywhere else safely. */
        report(0, __FILE__, __LINE__, "destroy called with a foreign ctx %p", ctx);
        return;
    }
    pthread_mutex_lock(&t->lock);
    intptr_t v = N(item);
    if (v < 0 || v >= TRACK_MAX)
        t->bad_item++;
    else
        t->destroyed[v]++;
    t->total_destroyed++;
    if (t->check_thread && !pthread_equal(pthread_self(), t->expect_thread))
        t->wrong_thread++;
    pthread_mutex_unlock(&t->lock);
}

static void track_handed(tracker *t, void *item)
{
    pthread_mutex_lock(&t->lock);
    intptr_t v = N(item);
    if (v < 0 || v >= TRACK_MAX)
        t->bad_item++;
    else
        t->handed[v]++;
    pthread_mutex_unlock(&t->lock);
}

static int tracker_destroyed(tracker *t, intptr_t v)
{
    pthread_mutex_lock(&t->lock);
    int n = t->destroyed[v];
    pthread_mutex_unlock(&t->lock);
    return n;
}

static size_t tracker_total(tracker *t)
{
    pthread_mutex_lock(&t->lock);
    size_t n = t->total_destroyed;
    pthread_mutex_unlock(&t->lock);
    return n;
}

/* The invariants of every tracker, checked at the end of each test using one. */
static void check_tracker(tracker *t, const char *file, int line)
{
    size_t twice = 0, both = 0, handed_twice = 0;
    pthread_mutex_lock(&t->lock);
    for (int i = 0; i < TRACK_MAX; i++) {
        if (t->destroyed[i] > 1)
            twice++;
        if (t->handed[i] > 1)
            handed_twice++;
        if (t->destroyed[i] > 0 && t->handed[i] > 0)
            both++;
    }
    size_t bad_item = t->bad_item, wrong = t->wrong_thread;
    pthread_mutex_unlock(&t->lock);
    report(twice == 0, file, line, "%zu items destroyed more than once", twice);
    report(both == 0, file, line, "%zu items destroyed after being handed out", both);
    report(handed_twice == 0, file, line, "%zu items handed out more than once", handed_twice);
    report(bad_item == 0, file, line, "destroy got %zu unknown items", bad_item);
    report(wrong == 0, file, line, "destroy ran %zu times off the discarding thread", wrong);
}
#define CHECK_TRACKER(t) check_tracker((t), __FILE__, __LINE__)

static janus_queue *tracked_queue(janus_kind kind, size_t maxsize, tracker *t)
{
    janus_options o;
    memset(&o, 0, sizeof o);
    o.kind = kind;
    o.maxsize = maxsize;
    o.destroy = track_destroy;
    o.ctx = t;
    janus_queue *q = janus_queue_new_with(&o);
    if (q == NULL)
        FATAL("janus_queue_new_with returned NULL");
    return q;
}

static janus_queue *new_queue(janus_kind kind, size_t maxsize)
{
    janus_queue *q = janus_queue_new(kind, maxsize);
    if (q == NULL)
        FATAL("janus_queue_new returned NULL");
    return q;
}

/* Puts values from..to (inclusive) without waiting: one check. */
#define put_range(q, from, to) put_range_at((q), (from), (to), __FILE__, __LINE__)
static void put_range_at(janus_queue *q, intptr_t from, intptr_t to, const char *file, int line)
{
    intptr_t bad = 0;
    janus_status first_bad = JANUS_OK;
    for (intptr_t i = from; i <= to; i++) {
        janus_status s = janus_queue_put(q, V(i), JANUS_NO_WAIT);
        if (s != JANUS_OK && bad++ == 0)
            first_bad = s;
    }
    report(bad == 0, file, line, "put of items %ld..%ld: %ld failed, the first with %s",
           (long)from, (long)to, (long)bad, status_name(first_bad));
}

/* Gets one item without waiting and checks that it is `want`. */
#define CHECK_GET(q, want)                                                           \
    do {                                                                             \
        void *item_ = V(-999);                                                       \
        CHECK_ST(janus_queue_get((q), &item_, JANUS_NO_WAIT), JANUS_OK);             \
        CHECK_PTR(item_, V(want));                                                   \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Worker threads making one blocking call                                  */
/* ------------------------------------------------------------------------ */

typedef enum op_kind {
    OP_GET, OP_PUT, OP_JOIN, OP_PUT_MANY, OP_GET_MANY, OP_WAIT_CLOSED, OP_PEEK
} op_kind;

#define WORKER_ITEMS 64

typedef struct worker {
    pthread_t thread;
    op_kind op;
    janus_queue *q;
    int64_t timeout_ms;
    void *item;                  /* OP_PUT in, OP_GET / OP_PEEK out */
    void *items[WORKER_ITEMS];   /* OP_PUT_MANY in, OP_GET_MANY out */
    size_t count;                /* OP_PUT_MANY / OP_GET_MANY: how many */
    size_t done_count;           /* put_count_out / got_count_out */
    janus_status status;
    double elapsed_ms;
    int tid;                     /* __atomic */
    int started;                 /* __atomic */
    int done;                    /* __atomic */
    int joined;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    __atomic_store_n(&w->tid, (int)syscall(SYS_gettid), __ATOMIC_RELEASE);
    __atomic_store_n(&w->started, 1, __ATOMIC_RELEASE);
    double t0 = now_ms();
    switch (w->op) {
    case OP_GET:
        w->status = janus_queue_get(w->q, &w->item, w->timeout_ms);
        break;
    case OP_PUT:
        w->status = janus_queue_put(w->q, w->item, w->timeout_ms);
        break;
    case OP_JOIN:
        w->status = janus_queue_join(w->q, w->timeout_ms);
        break;
    case OP_PUT_MANY:
        w->status = janus_queue_put_many(w->q, w->items, w->count, &w->done_count,
                                         w->timeout_ms);
        break;
    case OP_GET_MANY:
        w->status = janus_queue_get_many(w->q, w->items, w->count, &w->done_count,
                                         w->timeout_ms);
        break;
    case OP_WAIT_CLOSED:
        w->status = janus_queue_wait_closed(w->q, w->timeout_ms);
        break;
    case OP_PEEK:
        w->status = janus_queue_peek(w->q, &w->item, w->timeout_ms);
        break;
    }
    w->elapsed_ms = now_ms() - t0;
    /* Release: the results above are visible to whoever sees done. */
    __atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void worker_start(worker *w, op_kind op, janus_queue *q, int64_t timeout_ms)
{
    w->op = op;
    w->q = q;
    w->timeout_ms = timeout_ms;
    w->status = (janus_status)-1;
    w->tid = 0;
    w->started = 0;
    w->done = 0;
    w->joined = 0;
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
        FATAL("pthread_create failed");
}

static int worker_done(worker *w)
{
    return __atomic_load_n(&w->done, __ATOMIC_ACQUIRE);
}

/* The scheduler state of a thread of this process: 'R', 'S', ... or 0. */
static char thread_state(int tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* "tid (comm) S ...": comm may hold anything, so look after the last ')'. */
    char *p = strrchr(buf, ')');
    if (p == NULL || p[1] != ' ')
        return 0;
    return p[2];
}

/* Waits until w's call is (most likely) blocked in the library: the thread
 * has started its call and sleeps, seen twice in a row 1 ms apart.  Returns
 * early if the call already returned.  Tests built on it expect the same
 * outcome whether or not the thread had blocked yet: this only makes them
 * exercise the wake-up path rather than the fast path. */
static void wait_blocked(worker *w)
{
    double limit = now_ms() + 5000;
    while (!__atomic_load_n(&w->started, __ATOMIC_ACQUIRE)) {
        if (now_ms() > limit)
            FATAL("worker thread did not start");
        sleep_ms(1);
    }
    int tid = __atomic_load_n(&w->tid, __ATOMIC_ACQUIRE);
    int sleeping = 0;
    while (!worker_done(w) && now_ms() < limit) {
        char s = thread_state(tid);
        if (s == 'S' || s == 'D') {
            if (++sleeping >= 2)
                return;
        } else {
            sleeping = 0;
        }
        sleep_ms(1);
    }
}

/* Waits up to timeout_ms for w's call to return and joins it; a thread that
 * does not return means the library lost a wake-up: fatal. */
static void worker_finish_at(worker *w, long timeout_ms, const char *file, int line)
{
    double limit = now_ms() + (double)timeout_ms;
    while (!worker_done(w)) {
        if (now_ms() > limit)
            fatal(file, line, "a blocked call did not return (lost wake-up?)");
        sleep_ms(1);
    }
    pthread_join(w->thread, NULL);
    w->joined = 1;
}
#define worker_finish(w, timeout_ms) worker_finish_at((w), (timeout_ms), __FILE__, __LINE__)

/* ------------------------------------------------------------------------ */
/* Tests: basics                                                            */
/* ------------------------------------------------------------------------ */

static void test_version_and_strerror(void)
{
    begin_test("version and strerror");
    CHECK(JANUS_VERSION_NUMBER == 100);
    CHECK_SZ(janus_version_number(), JANUS_VERSION_NUMBER);
    CHECK(janus_version_string() != NULL);
    CHECK(janus_version_string() != NULL &&
          strcmp(janus_version_string(), JANUS_VERSION_STRING) == 0);
    CHECK(strcmp(JANUS_VERSION_STRING, "0.1.0") == 0);

    /* The values are ABI. */
    CHECK(JANUS_OK == 0 && JANUS_EMPTY == 1 && JANUS_FULL == 2 && JANUS_TIMEOUT == 3 &&
          JANUS_SHUTDOWN == 4 && JANUS_EINVAL == 20 && JANUS_ENOMEM == 21 &&
          JANUS_EMISUSE == 22);
    CHECK(JANUS_FIFO == 0 && JANUS_LIFO == 1 && JANUS_PRIORITY == 2);
    CHECK(JANUS_NO_WAIT == 0 && JANUS_WAIT_FOREVER == -1);

    const janus_status all[] = {JANUS_OK, JANUS_EMPTY, JANUS_FULL, JANUS_TIMEOUT,
                                JANUS_SHUTDOWN, JANUS_EINVAL, JANUS_ENOMEM, JANUS_EMISUSE};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        const char *s = janus_strerror(all[i]);
        report(s != NULL && s[0] != '\0', __FILE__, __LINE__,
               "janus_strerror(%s) is NULL or empty", status_name(all[i]));
        /* A distinct text for each status: they are different conditions. */
        for (size_t j = 0; j < i && s != NULL; j++) {
            const char *t = janus_strerror(all[j]);
            report(t == NULL || strcmp(s, t) != 0, __FILE__, __LINE__,
                   "janus_strerror(%s) == janus_strerror(%s)", status_name(all[i]),
                   status_name(all[j]));
        }
    }
    CHECK(janus_strerror((janus_status)999) != NULL);
    CHECK(janus_strerror((janus_status)-1) != NULL);
    CHECK(janus_strerror((janus_status)5) != NULL);
}

static void test_new(void)
{
    begin_test("new and new_with");
    CHECK_PTR(janus_queue_new((janus_kind)7, 0), NULL);
    CHECK_PTR(janus_queue_new((janus_kind)-1, 4), NULL);
    CHECK_PTR(janus_queue_new_with(NULL), NULL);

    janus_options o;
    memset(&o, 0, sizeof o);
    o.kind = (janus_kind)3;
    CHECK_PTR(janus_queue_new_with(&o), NULL);

    /* { 0 } is an unbounded FIFO. */
    memset(&o, 0, sizeof o);
    janus_queue *q = janus_queue_new_with(&o);
    CHECK(q != NULL);
    if (q != NULL) {
        CHECK_SZ(janus_queue_maxsize(q), 0);
        put_range(q, 1, 3);
        CHECK_GET(q, 1);
        CHECK_GET(q, 2);
        CHECK_GET(q, 3);
        janus_queue_free(q);
    }

    for (int k = 0; k < 3; k++) {
        q = janus_queue_new((janus_kind)k, 7);
        CHECK(q != NULL);
        CHECK_SZ(janus_queue_maxsize(q), 7);
        janus_queue_free(q);
    }

    /* maxsize is a limit, not a preallocation. */
    if (sizeof(size_t) >= 8) {
        size_t big = (size_t)1 << 40;
        q = janus_queue_new(JANUS_FIFO, big);
        CHECK(q != NULL);
        if (q != NULL) {
            CHECK_SZ(janus_queue_maxsize(q), big);
            CHECK(!janus_queue_full(q));
            CHECK_ST(janus_queue_put(q, V(1), JANUS_NO_WAIT), JANUS_OK);
            CHECK(!janus_queue_full(q));
            janus_queue_free(q);
        }
    }

    /* Free with nothing in it, no destroy: nothing to do. */
    q = new_queue(JANUS_LIFO, 0);
    put_range(q, 1, 10);
    janus_queue_free(q);
    janus_queue_free(NULL);
    CHECK(1); /* survived */
}

static void test_null_queue(void)
{
    begin_test("NULL queue and handles");
    void *item = V(5);
    void *items[2] = {V(1), V(2)};
    size_t n = 77;

    CHECK_ST(janus_queue_put(NULL, V(1), JANUS_NO_WAIT), JANUS_EINVAL);
    CHECK_ST(janus_queue_put(NULL, V(1), 10), JANUS_EINVAL);
    CHECK_ST(janus_queue_get(NULL, &item, JANUS_NO_WAIT), JANUS_EINVAL);
    CHECK_ST(janus_queue_get(NULL, &item, JANUS_WAIT_FOREVER), JANUS_EINVAL);
    CHECK_PTR(item, V(5));
    CHECK_ST(janus_queue_put_many(NULL, items, 2, &n, JANUS_NO_WAIT), JANUS_EINVAL);
    CHECK_ST(janus_queue_get_many(NULL, items, 2, &n, JANUS_NO_WAIT), JANUS_EINVAL);
    CHECK_ST(janus_queue_task_done(NULL), JANUS_EINVAL);
    CHECK_ST(janus_queue_join(NULL, JANUS_NO_WAIT), JANUS_EINVAL);
    CHECK_ST(janus_queue_join(NULL, JANUS_WAIT_FOREVER), JANUS_EINVAL);
    CHECK_SZ(janus_queue_qsize(NULL), 0);
    CHECK(janus_queue_empty(NULL) == false);
    CHECK(janus_queue_full(NULL) == false);
    CHECK_SZ(janus_queue_maxsize(NULL), 0);
    CHECK_SZ(janus_queue_unfinished_tasks(NULL), 0);
    CHECK_ST(janus_queue_shutdown(NULL, false), JANUS_EINVAL);
    CHECK_ST(janus_queue_shutdown(NULL, true), JANUS_EINVAL);
    janus_queue_close(NULL);
    CHECK(janus_queue_is_shutdown(NULL) == false);
    CHECK_ST(janus_queue_wait_closed(NULL, JANUS_NO_WAIT), JANUS_EINVAL);
    CHECK_ST(janus_queue_wait_closed(NULL, JANUS_WAIT_FOREVER), JANUS_EINVAL);
    janus_queue_free(NULL);

    CHECK_ST(janus_consumer_wait(NULL, JANUS_NO_WAIT), JANUS_EINVAL);
    CHECK_ST(janus_consumer_wait(NULL, JANUS_WAIT_FOREVER), JANUS_EINVAL);
    janus_consumer_cancel(NULL);
    janus_consumer_free(NULL);
    CHECK_ST(janus_producer_wait(NULL, JANUS_NO_WAIT), JANUS_EINVAL);
    CHECK_ST(janus_producer_wait(NULL, JANUS_WAIT_FOREVER), JANUS_EINVAL);
    janus_producer_cancel(NULL);
    janus_producer_free(NULL);
    CHECK(1); /* the no-ops did not crash */
}

static void test_orderings(void)
{
    begin_test("FIFO and LIFO order");
    janus_queue *q = new_queue(JANUS_FIFO, 0);
    put_range(q, 1, 5);
    for (intptr_t i = 1; i <= 5; i++)
        CHECK_GET(q, i);
    /* Interleaved. */
    put_range(q, 6, 7);
    CHECK_GET(q, 6);
    put_range(q, 8, 8);
    CHECK_GET(q, 7);
    CHECK_GET(q, 8);
    janus_queue_free(q);

    q = new_queue(JANUS_LIFO, 0);
    put_range(q, 1, 5);
    for (intptr_t i = 5; i >= 1; i--)
        CHECK_GET(q, i);
    put_range(q, 6, 7);
    CHECK_GET(q, 7);
    put_range(q, 8, 8);
    CHECK_GET(q, 8);
    CHECK_GET(q, 6);
    janus_queue_free(q);
}

static void test_priority_default(void)
{
    begin_test("priority, NULL compare = (intptr_t)item");
    janus_queue *q = new_queue(JANUS_PRIORITY, 0);
    const intptr_t in[] = {5, -3, 0, 2, 5, -100, INTPTR_MAX, INTPTR_MIN, 1, 2};
    const intptr_t out[] = {INTPTR_MIN, -100, -3, 0, 1, 2, 2, 5, 5, INTPTR_MAX};
    const size_t n = sizeof in / sizeof in[0];
    for (size_t i = 0; i < n; i++)
        CHECK_ST(janus_queue_put(q, V(in[i]), JANUS_NO_WAIT), JANUS_OK);
    CHECK_SZ(janus_queue_qsize(q), n);
    for (size_t i = 0; i < n; i++)
        CHECK_GET(q, out[i]);
    CHECK(janus_queue_empty(q));

    /* Through janus_options with compare = NULL too, interleaved. */
    janus_options o;
    memset(&o, 0, sizeof o);
    o.kind = JANUS_PRIORITY;
    janus_queue *q2 = janus_queue_new_with(&o);
    CHECK(q2 != NULL);
    if (q2 != NULL) {
        put_range(q2, 10, 12);
        CHECK_GET(q2, 10);
        CHECK_ST(janus_queue_put(q2, V(3), JANUS_NO_WAIT), JANUS_OK);
        CHECK_GET(q2, 3);
        CHECK_GET(q2, 11);
        janus_queue_free(q2);
    }
    janus_queue_free(q);
}

typedef struct prio_item {
    int prio;
    int seq;
} prio_item;

typedef struct compare_ctx {
    unsigned magic;
    long calls;
} compare_ctx;

static long g_compare_bad_ctx; /* compare called with a ctx not ours */

static int compare_prio(const void *a, const void *b, void *ctx)
{
    compare_ctx *c = ctx;
    if (c == NULL || c->magic != TRACK_MAGIC) {
        g_compare_bad_ctx++;
        return 0;
    }
    c->calls++; /* only the main thread uses this queue */
    const prio_item *x = a, *y = b;
    return (x->prio > y->prio) - (x->prio < y->prio);
}

static void test_priority_stable_custom(void)
{
    begin_test("priority, custom compare, stable");
    enum { COUNT = 300 };
    static prio_item items[COUNT];
    compare_ctx cc;
    cc.magic = TRACK_MAGIC;
    cc.calls = 0;
    janus_options o;
    memset(&o, 0, sizeof o);
    o.kind = JANUS_PRIORITY;
    o.compare = compare_prio;
    o.ctx = &cc;
    janus_queue *q = janus_queue_new_with(&o);
    if (q == NULL) {
        CHECK(q != NULL);
        return;
    }
    for (int i = 0; i < COUNT; i++) {
        items[i].prio = (i * 7) % 5;
        items[i].seq = i;
    }
    size_t put_ok = 0;
    for (int i = 0; i < COUNT; i++)
        put_ok += janus_queue_put(q, &items[i], JANUS_NO_WAIT) == JANUS_OK;
    CHECK_SZ(put_ok, COUNT);
    size_t order_errors = 0, got = 0;
    const prio_item *prev = NULL;
    void *item;
    while (janus_queue_get(q, &item, JANUS_NO_WAIT) == JANUS_OK) {
        const prio_item *p = item;
        got++;
        if (prev != NULL &&
            (p->prio < prev->prio || (p->prio == prev->prio && p->seq < prev->seq)))
            order_errors++;
        prev = p;
    }
    CHECK_SZ(got, COUNT);
    CHECK_SZ(order_errors, 0);
    CHECK(cc.calls > 0);
    CHECK(g_compare_bad_ctx == 0);

    /* Stable across interleaved puts and gets: equal keys in insertion order. */
    prio_item a = {1, 1}, b = {1, 2}, c = {1, 3}, d = {0, 4}, e = {1, 5};
    CHECK_ST(janus_queue_put(q, &a, JANUS_NO_WAIT), JANUS_OK);
    CHECK_ST(janus_queue_put(q, &b, JANUS_NO_WAIT), JANUS_OK);
    CHECK_GET(q, &a);
    CHECK_ST(janus_queue_put(q, &c, JANUS_NO_WAIT), JANUS_OK);
    CHECK_ST(janus_queue_put(q, &d, JANUS_NO_WAIT), JANUS_OK);
    CHECK_GET(q, &d);
    CHECK_ST(janus_queue_put(q, &e, JANUS_NO_WAIT), JANUS_OK);
    CHECK_GET(q, &b);
    CHECK_GET(q, &c);
    CHECK_GET(q, &e);
    janus_queue_free(q);
}

static void test_snapshots(void)
{
    begin_test("snapshots and maxsize");
    janus_queue *q = new_queue(JANUS_FIFO, 3);
    CHECK(janus_queue_empty(q));
    CHECK(!janus_queue_full(q));
    CHECK_SZ(janus_queue_qsize(q), 0);
    CHECK_SZ(janus_queue_maxsize(q), 3);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 0);
    CHECK(!janus_queue_is_shutdown(q));

    put_range(q, 1, 2);
    CHECK(!janus_queue_empty(q));
    CHECK(!janus_queue_full(q));
    CHECK_SZ(janus_queue_qsize(q), 2);
    put_range(q, 3, 3);
    CHECK(janus_queue_full(q));
    CHECK_SZ(janus_queue_qsize(q), 3);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 3);
    /* Never more than maxsize. */
    CHECK_ST(janus_queue_put(q, V(4), JANUS_NO_WAIT), JANUS_FULL);
    CHECK_SZ(janus_queue_qsize(q), 3);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 3);

    CHECK_GET(q, 1);
    CHECK(!janus_queue_full(q));
    CHECK_SZ(janus_queue_qsize(q), 2);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 3); /* get does not change it */
    CHECK_ST(janus_queue_task_done(q), JANUS_OK);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 2);
    CHECK_SZ(janus_queue_maxsize(q), 3);
    janus_queue_free(q);

    /* Unbounded: never full. */
    q = new_queue(JANUS_LIFO, 0);
    put_range(q, 1, 1000);
    CHECK(!janus_queue_full(q));
    CHECK_SZ(janus_queue_qsize(q), 1000);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 1000);
    CHECK_SZ(janus_queue_maxsize(q), 0);
    janus_queue_free(q);

    /* maxsize 1 */
    q = new_queue(JANUS_PRIORITY, 1);
    CHECK_ST(janus_queue_put(q, V(9), JANUS_NO_WAIT), JANUS_OK);
    CHECK(janus_queue_full(q));
    CHECK_ST(janus_queue_put(q, V(1), JANUS_NO_WAIT), JANUS_FULL);
    CHECK_GET(q, 9);
    janus_queue_free(q);
}

static void test_null_item(void)
{
    begin_test("NULL is a valid item");
    tracker *t = tracker_new();
    janus_queue *q = tracked_queue(JANUS_FIFO, 0, t);
    void *item = V(123);
    CHECK_ST(janus_queue_put(q, NULL, JANUS_NO_WAIT), JANUS_OK);
    CHECK_SZ(janus_queue_qsize(q), 1);
    CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_OK);
    CHECK_PTR(item, NULL);
    void *many[3] = {NULL, V(1), NULL};
    size_t n = 99;
    CHECK_ST(janus_queue_put_many(q, many, 3, &n, JANUS_NO_WAIT), JANUS_OK);
    CHECK_SZ(n, 3);
    void *out[3] = {V(7), V(7), V(7)};
    CHECK_ST(janus_queue_get_many(q, out, 2, &n, JANUS_NO_WAIT), JANUS_OK);
    CHECK_SZ(n, 2);
    CHECK_PTR(out[0], NULL);
    CHECK_PTR(out[1], V(1));
    /* The last NULL is destroyed by close like any other item. */
    janus_queue_close(q);
    CHECK_SZ(tracker_destroyed(t, 0), 1);
    CHECK_SZ(tracker_total(t), 1);
    janus_queue_free(q);
    CHECK_SZ(tracker_total(t), 1);
    CHECK_TRACKER(t);
    tracker_free(t);

    /* A priority queue with NULL compare sees NULL as 0. */
    q = new_queue(JANUS_PRIORITY, 0);
    CHECK_ST(janus_queue_put(q, V(1), JANUS_NO_WAIT), JANUS_OK);
    CHECK_ST(janus_queue_put(q, NULL, JANUS_NO_WAIT), JANUS_OK);
    CHECK_ST(janus_queue_put(q, V(-1), JANUS_NO_WAIT), JANUS_OK);
    CHECK_GET(q, -1);
    CHECK_GET(q, 0);
    CHECK_GET(q, 1);
    janus_queue_free(q);
}

/* ------------------------------------------------------------------------ */
/* Tests: waiting and timeouts                                              */
/* ------------------------------------------------------------------------ */

static void test_nowait_and_timeouts(void)
{
    begin_test("nowait and timeouts");
    tracker *t = tracker_new();
    janus_queue *q = tracked_queue(JANUS_FIFO, 2, t);
    void *item = V(55);
    double t0;

    CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_EMPTY);
    CHECK_PTR(item, V(55)); /* untouched */
    t0 = now_ms();
    CHECK_ST(janus_queue_get(q, &item, 50), JANUS_EMPTY);
    CHECK_MS(now_ms() - t0, 40, 3000);
    CHECK_PTR(item, V(55));
    t0 = now_ms();
    CHECK_ST(janus_queue_get(q, &item, 1), JANUS_EMPTY);
    CHECK_MS(now_ms() - t0, 0, 3000);

    put_range(q, 1, 2);
    CHECK_ST(janus_queue_put(q, V(3), JANUS_NO_WAIT), JANUS_FULL);
    t0 = now_ms();
    CHECK_ST(janus_queue_put(q, V(3), 50), JANUS_FULL);
    CHECK_MS(now_ms() - t0, 40, 3000);
    /* The item stayed with us: not in the queue, not destroyed. */
    CHECK_SZ(janus_queue_qsize(q), 2);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 2);
    CHECK_SZ(tracker_destroyed(t, 3), 0);
    /* A JANUS_FULL try can be retried once there is room. */
    CHECK_GET(q, 1);
    track_handed(t, V(1));
    CHECK_ST(janus_queue_put(q, V(3), 50), JANUS_OK);
    CHECK_GET(q, 2);
    track_handed(t, V(2));
    CHECK_GET(q, 3);
    track_handed(t, V(3));

    /* Positive timeouts with an item ready answer at once. */
    CHECK_ST(janus_queue_put(q, V(4), 5000), JANUS_OK);
    t0 = now_ms();
    CHECK_ST(janus_queue_get(q, &item, 5000), JANUS_OK);
    CHECK_PTR(item, V(4));
    track_handed(t, item);
    CHECK_MS(now_ms() - t0, 0, 1000);

    janus_queue_close(q);
    CHECK_SZ(tracker_total(t), 0);
    janus_queue_free(q);
    CHECK_SZ(tracker_total(t), 0);
    CHECK_TRACKER(t);
    tracker_free(t);
}

static void test_invalid_arguments(void)
{
    begin_test("invalid timeouts and out-pointers");
    janus_queue *q = new_queue(JANUS_FIFO, 2);
    void *item = V(42);
    void *items[3] = {V(7), V(8), V(9)};
    void *out[4] = {V(0), V(0), V(0), V(0)};
    size_t n;
    const int64_t bad[] = {-2, -1000, INT64_MIN};

    put_range(q, 1, 1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t b = bad[i];
        CHECK_ST(janus_queue_put(q, V(9), b), JANUS_EINVAL);
        CHECK_ST(janus_queue_get(q, &item, b), JANUS_EINVAL);
        CHECK_PTR(item, V(42));
        n = 99;
        CHECK_ST(janus_queue_put_many(q, items, 1, &n, b), JANUS_EINVAL);
        CHECK_SZ(n, 99); /* EINVAL changes nothing, not even *put_count_out */
        n = 99;
        CHECK_ST(janus_queue_get_many(q, out, 4, &n, b), JANUS_EINVAL);
        CHECK_SZ(n, 99);
        CHECK_ST(janus_queue_join(q, b), JANUS_EINVAL);
        /* Nothing changed. */
        CHECK_SZ(janus_queue_qsize(q), 1);
        CHECK_SZ(janus_queue_unfinished_tasks(q), 1);
    }
    /* Bounded and full: still EINVAL, not FULL. */
    put_range(q, 2, 2);
    CHECK_ST(janus_queue_put(q, V(9), -2), JANUS_EINVAL);
    CHECK_SZ(janus_queue_qsize(q), 2);

    /* NULL out-pointers and item arrays. */
    CHECK_ST(janus_queue_get(q, NULL, JANUS_NO_WAIT), JANUS_EINVAL);
    CHECK_ST(janus_queue_get(q, NULL, 50), JANUS_EINVAL);
    n = 99;
    CHECK_ST(janus_queue_get_many(q, NULL, 4, &n, JANUS_NO_WAIT), JANUS_EINVAL);
    CHECK_ST(janus_queue_get_many(q, out, 4, NULL, JANUS_NO_WAIT), JANUS_EINVAL);
    /* max_count 0 cannot take "at least one item". */
    CHECK_ST(janus_queue_get_many(q, out, 0, &n, JANUS_NO_WAIT), JANUS_EINVAL);
    CHECK_SZ(janus_queue_qsize(q), 2);
    CHECK_GET(q, 1);
    CHECK_SZ(janus_queue_qsize(q), 1);
    CHECK_ST(janus_queue_put_many(q, items, 1, NULL, JANUS_NO_WAIT), JANUS_EINVAL);
    n = 99;
    CHECK_ST(janus_queue_put_many(q, NULL, 2, &n, JANUS_NO_WAIT), JANUS_EINVAL);
    CHECK_SZ(janus_queue_qsize(q), 1);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 2);
    janus_queue_free(q);

    /* Unbounded: a negative timeout is EINVAL too (unlike CPython). */
    q = new_queue(JANUS_LIFO, 0);
    CHECK_ST(janus_queue_put(q, V(1), -2), JANUS_EINVAL);
    CHECK_SZ(janus_queue_qsize(q), 0);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 0);
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    CHECK_ST(janus_queue_wait_closed(q, -2), JANUS_EINVAL);
    CHECK_ST(janus_queue_wait_closed(q, INT64_MIN), JANUS_EINVAL);
    janus_queue_free(q);
}

static void test_huge_timeouts(void)
{
    begin_test("INT64_MAX timeouts do not overflow");
    janus_queue *q = new_queue(JANUS_FIFO, 1);
    void *item = NULL;
    CHECK_ST(janus_queue_put(q, V(1), INT64_MAX), JANUS_OK);
    CHECK_ST(janus_queue_get(q, &item, INT64_MAX), JANUS_OK);
    CHECK_PTR(item, V(1));
    CHECK_ST(janus_queue_task_done(q), JANUS_OK);
    CHECK_ST(janus_queue_join(q, INT64_MAX), JANUS_OK);

    /* A getter waiting "forever" really waits (an overflowed deadline would
     * answer at once) and is released by a put. */
    worker g;
    memset(&g, 0, sizeof g);
    worker_start(&g, OP_GET, q, INT64_MAX);
    wait_blocked(&g);
    CHECK(!worker_done(&g));
    CHECK_ST(janus_queue_put(q, V(2), JANUS_NO_WAIT), JANUS_OK);
    worker_finish(&g, 10000);
    CHECK_ST(g.status, JANUS_OK);
    CHECK_PTR(g.item, V(2));

    /* Same for a putter on a full queue. */
    CHECK_ST(janus_queue_put(q, V(3), JANUS_NO_WAIT), JANUS_OK);
    worker p;
    memset(&p, 0, sizeof p);
    p.item = V(4);
    worker_start(&p, OP_PUT, q, INT64_MAX);
    wait_blocked(&p);
    CHECK(!worker_done(&p));
    CHECK_GET(q, 3);
    worker_finish(&p, 10000);
    CHECK_ST(p.status, JANUS_OK);
    CHECK_GET(q, 4);

    /* And a join. */
    worker j;
    memset(&j, 0, sizeof j);
    worker_start(&j, OP_JOIN, q, INT64_MAX - 1);
    wait_blocked(&j);
    CHECK(!worker_done(&j)); /* items 2, 3 and 4 are unfinished */
    CHECK_SZ(janus_queue_unfinished_tasks(q), 3);
    for (int i = 0; i < 3; i++)
        CHECK_ST(janus_queue_task_done(q), JANUS_OK);
    worker_finish(&j, 10000);
    CHECK_ST(j.status, JANUS_OK);
    janus_queue_free(q);
}

static void test_blocking_handoff(void)
{
    begin_test("blocked get/put released by another thread");
    janus_queue *q = new_queue(JANUS_FIFO, 1);
    worker g;
    memset(&g, 0, sizeof g);
    worker_start(&g, OP_GET, q, 10000);
    wait_blocked(&g);
    CHECK_ST(janus_queue_put(q, V(11), JANUS_NO_WAIT), JANUS_OK);
    worker_finish(&g, 10000);
    CHECK_ST(g.status, JANUS_OK);
    CHECK_PTR(g.item, V(11));
    CHECK_MS(g.elapsed_ms, 0, 9000);
    CHECK_SZ(janus_queue_qsize(q), 0);

    CHECK_ST(janus_queue_put(q, V(12), JANUS_NO_WAIT), JANUS_OK);
    worker p;
    memset(&p, 0, sizeof p);
    p.item = V(13);
    worker_start(&p, OP_PUT, q, JANUS_WAIT_FOREVER);
    wait_blocked(&p);
    CHECK_GET(q, 12);
    worker_finish(&p, 10000);
    CHECK_ST(p.status, JANUS_OK);
    CHECK_GET(q, 13);

    /* Several getters, several items: each gets exactly one. */
    worker gs[3];
    memset(gs, 0, sizeof gs);
    for (int i = 0; i < 3; i++)
        worker_start(&gs[i], OP_GET, q, 10000);
    for (int i = 0; i < 3; i++)
        wait_blocked(&gs[i]);
    for (intptr_t i = 21; i <= 23; i++)
        CHECK_ST(janus_queue_put(q, V(i), 5000), JANUS_OK);
    int seen[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        worker_finish(&gs[i], 10000);
        CHECK_ST(gs[i].status, JANUS_OK);
        intptr_t v = N(gs[i].item);
        if (v >= 21 && v <= 23)
            seen[v - 21]++;
    }
    CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
    CHECK_SZ(janus_queue_qsize(q), 0);
    janus_queue_free(q);
}

/* SPEC 4.3: waiters are served first come, first served.  Each thread is
 * seen blocked before the next starts, so the arrival order is known. */
static void test_fairness(void)
{
    begin_test("waiting threads are served first come, first served");
    janus_queue *q = new_queue(JANUS_FIFO, 1);
    worker g[3];
    memset(g, 0, sizeof g);
    /* Short timeouts: with an unfair library, a getter passed over waits
     * out its whole timeout. */
    for (int i = 0; i < 3; i++) {
        worker_start(&g[i], OP_GET, q, 3000);
        wait_blocked(&g[i]);
    }
    for (int i = 0; i < 3; i++) {
        CHECK_ST(janus_queue_put(q, V(1 + i), 5000), JANUS_OK);
        worker_finish(&g[i], 10000); /* the oldest getter takes it */
        CHECK_ST(g[i].status, JANUS_OK);
        CHECK_PTR(g[i].item, V(1 + i));
    }

    /* Putters on a full queue go in in the order they came. */
    put_range(q, 10, 10);
    worker p[3];
    memset(p, 0, sizeof p);
    for (int i = 0; i < 3; i++) {
        p[i].item = V(11 + i);
        worker_start(&p[i], OP_PUT, q, 3000);
        wait_blocked(&p[i]);
    }
    for (int i = 0; i < 3; i++) {
        void *item = NULL;
        CHECK_ST(janus_queue_get(q, &item, 5000), JANUS_OK);
        CHECK_PTR(item, V(10 + i));
        worker_finish(&p[i], 10000); /* the oldest putter got the room */
        CHECK_ST(p[i].status, JANUS_OK);
    }
    CHECK_GET(q, 13);
    janus_queue_free(q);
}

static void test_task_done_join(void)
{
    begin_test("task_done and join");
    janus_queue *q = new_queue(JANUS_FIFO, 0);
    double t0;
    CHECK_ST(janus_queue_join(q, JANUS_NO_WAIT), JANUS_OK);
    CHECK_ST(janus_queue_join(q, JANUS_WAIT_FOREVER), JANUS_OK);
    CHECK_ST(janus_queue_join(q, 50), JANUS_OK);

    /* Too many task_done: EINVAL, counter unchanged. */
    CHECK_ST(janus_queue_task_done(q), JANUS_EINVAL);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 0);

    put_range(q, 1, 2);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 2);
    CHECK_ST(janus_queue_join(q, JANUS_NO_WAIT), JANUS_TIMEOUT);
    t0 = now_ms();
    CHECK_ST(janus_queue_join(q, 50), JANUS_TIMEOUT);
    CHECK_MS(now_ms() - t0, 40, 3000);
    CHECK_GET(q, 1);
    CHECK_GET(q, 2);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 2);
    CHECK_ST(janus_queue_join(q, JANUS_NO_WAIT), JANUS_TIMEOUT);

    /* A join in another thread is released by the last task_done. */
    worker j;
    memset(&j, 0, sizeof j);
    worker_start(&j, OP_JOIN, q, 10000);
    wait_blocked(&j);
    CHECK_ST(janus_queue_task_done(q), JANUS_OK);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 1);
    CHECK_ST(janus_queue_task_done(q), JANUS_OK);
    worker_finish(&j, 10000);
    CHECK_ST(j.status, JANUS_OK);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 0);
    CHECK_ST(janus_queue_task_done(q), JANUS_EINVAL);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 0);
    /* Callable again. */
    CHECK_ST(janus_queue_join(q, JANUS_NO_WAIT), JANUS_OK);

    /* task_done may run ahead of gets (counts, not items). */
    put_range(q, 3, 4);
    CHECK_ST(janus_queue_task_done(q), JANUS_OK);
    CHECK_ST(janus_queue_task_done(q), JANUS_OK);
    CHECK_ST(janus_queue_task_done(q), JANUS_EINVAL);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 0);
    CHECK_SZ(janus_queue_qsize(q), 2);
    CHECK_ST(janus_queue_join(q, JANUS_NO_WAIT), JANUS_OK);

    /* Several joiners are all released. */
    worker js[3];
    memset(js, 0, sizeof js);
    put_range(q, 5, 5);
    for (int i = 0; i < 3; i++)
        worker_start(&js[i], OP_JOIN, q, 10000);
    for (int i = 0; i < 3; i++)
        wait_blocked(&js[i]);
    CHECK_ST(janus_queue_task_done(q), JANUS_OK);
    for (int i = 0; i < 3; i++) {
        worker_finish(&js[i], 10000);
        CHECK_ST(js[i].status, JANUS_OK);
    }
    janus_queue_free(q);
}

/* ------------------------------------------------------------------------ */
/* Tests: put_many / get_many                                               */
/* ------------------------------------------------------------------------ */

static void test_put_many(void)
{
    begin_test("put_many");
    tracker *t = tracker_new();
    void *items[6] = {V(1), V(2), V(3), V(4), V(5), V(6)};
    void *more[5] = {V(101), V(102), V(103), V(104), V(105)};
    size_t n;
    double t0;

    janus_queue *q = tracked_queue(JANUS_FIFO, 0, t);
    n = 99;
    CHECK_ST(janus_queue_put_many(q, more, 5, &n, JANUS_NO_WAIT), JANUS_OK);
    CHECK_SZ(n, 5);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 5);
    n = 99;
    CHECK_ST(janus_queue_put_many(q, more, 0, &n, JANUS_NO_WAIT), JANUS_OK);
    CHECK_SZ(n, 0);
    CHECK_SZ(janus_queue_qsize(q), 5);
    for (intptr_t i = 101; i <= 105; i++) {
        CHECK_GET(q, i);
        track_handed(t, V(i));
    }
    janus_queue_free(q);

    /* Bounded: a prefix goes in. */
    q = tracked_queue(JANUS_FIFO, 3, t);
    n = 99;
    CHECK_ST(janus_queue_put_many(q, items, 5, &n, JANUS_NO_WAIT), JANUS_FULL);
    CHECK_SZ(n, 3);
    CHECK_SZ(janus_queue_qsize(q), 3);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 3);
    n = 99;
    t0 = now_ms();
    CHECK_ST(janus_queue_put_many(q, items + 3, 2, &n, 50), JANUS_FULL);
    CHECK_MS(now_ms() - t0, 40, 3000);
    CHECK_SZ(n, 0);
    /* Room for one of two within the deadline. */
    CHECK_GET(q, 1);
    track_handed(t, V(1));
    n = 99;
    t0 = now_ms();
    CHECK_ST(janus_queue_put_many(q, items + 3, 2, &n, 50), JANUS_FULL);
    CHECK_MS(now_ms() - t0, 40, 3000);
    CHECK_SZ(n, 1);
    for (intptr_t i = 2; i <= 4; i++) {
        CHECK_GET(q, i);
        track_handed(t, V(i));
    }

    /* A thread's put_many waits for room for every item. */
    worker p;
    memset(&p, 0, sizeof p);
    for (int i = 0; i < 6; i++)
        p.items[i] = V(11 + i);
    p.count = 6;
    janus_queue_free(q);
    q = tracked_queue(JANUS_FIFO, 2, t);
    worker_start(&p, OP_PUT_MANY, q, 10000);
    size_t order_errors = 0;
    for (intptr_t i = 11; i <= 16; i++) {
        void *item = NULL;
        janus_status s = janus_queue_get(q, &item, 5000);
        if (s != JANUS_OK || item != V(i))
            order_errors++;
        else
            track_handed(t, item);
        CHECK(janus_queue_qsize(q) <= 2);
    }
    CHECK_SZ(order_errors, 0);
    worker_finish(&p, 10000);
    CHECK_ST(p.status, JANUS_OK);
    CHECK_SZ(p.done_count, 6);

    /* Shut down while it waits: the prefix stays in, the rest is ours. */
    worker p2;
    memset(&p2, 0, sizeof p2);
    for (int i = 0; i < 5; i++)
        p2.items[i] = V(21 + i);
    p2.count = 5;
    worker_start(&p2, OP_PUT_MANY, q, 10000);
    t0 = now_ms();
    while (janus_queue_qsize(q) < 2 && now_ms() - t0 < 5000)
        sleep_ms(1);
    wait_blocked(&p2);
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    worker_finish(&p2, 10000);
    CHECK_ST(p2.status, JANUS_SHUTDOWN);
    CHECK_SZ(p2.done_count, 2);
    CHECK_GET(q, 21);
    track_handed(t, V(21));
    CHECK_GET(q, 22);
    track_handed(t, V(22));
    void *item = NULL;
    CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_SHUTDOWN);
    n = 99;
    CHECK_ST(janus_queue_put_many(q, items, 2, &n, JANUS_NO_WAIT), JANUS_SHUTDOWN);
    CHECK_SZ(n, 0);
    n = 99;
    CHECK_ST(janus_queue_put_many(q, items, 2, &n, 1000), JANUS_SHUTDOWN);
    CHECK_SZ(n, 0);
    janus_queue_free(q);
    CHECK_SZ(tracker_total(t), 0); /* nothing was the queue's to destroy */
    CHECK_TRACKER(t);
    tracker_free(t);
}

static void test_get_many(void)
{
    begin_test("get_many");
    janus_queue *q = new_queue(JANUS_FIFO, 0);
    void *out[10];
    size_t n;
    double t0;

    put_range(q, 1, 5);
    n = 99;
    CHECK_ST(janus_queue_get_many(q, out, 3, &n, JANUS_NO_WAIT), JANUS_OK);
    CHECK_SZ(n, 3);
    CHECK(out[0] == V(1) && out[1] == V(2) && out[2] == V(3));
    n = 99;
    CHECK_ST(janus_queue_get_many(q, out, 10, &n, JANUS_NO_WAIT), JANUS_OK);
    CHECK_SZ(n, 2);
    CHECK(out[0] == V(4) && out[1] == V(5));
    CHECK_SZ(janus_queue_unfinished_tasks(q), 5); /* get does not change it */
    n = 99;
    CHECK_ST(janus_queue_get_many(q, out, 10, &n, JANUS_NO_WAIT), JANUS_EMPTY);
    CHECK_SZ(n, 0);
    n = 99;
    t0 = now_ms();
    CHECK_ST(janus_queue_get_many(q, out, 10, &n, 50), JANUS_EMPTY);
    CHECK_MS(now_ms() - t0, 40, 3000);
    CHECK_SZ(n, 0);

    /* A waiting get_many takes what arrived, 1..4 items, in order. */
    worker g;
    memset(&g, 0, sizeof g);
    g.count = 10;
    worker_start(&g, OP_GET_MANY, q, 10000);
    wait_blocked(&g);
    void *in[4] = {V(11), V(12), V(13), V(14)};
    CHECK_ST(janus_queue_put_many(q, in, 4, &n, JANUS_NO_WAIT), JANUS_OK);
    worker_finish(&g, 10000);
    CHECK_ST(g.status, JANUS_OK);
    CHECK(g.done_count >= 1 && g.done_count <= 4);
    size_t order_errors = 0;
    for (size_t i = 0; i < g.done_count && i < 4; i++)
        order_errors += g.items[i] != V(11 + (intptr_t)i);
    CHECK_SZ(order_errors, 0);
    CHECK_SZ(janus_queue_qsize(q) + g.done_count, 4);
    for (intptr_t i = 11 + (intptr_t)g.done_count; i <= 14; i++)
        CHECK_GET(q, i);
    janus_queue_free(q);

    /* LIFO order; after a normal shutdown the rest, then SHUTDOWN. */
    q = new_queue(JANUS_LIFO, 0);
    put_range(q, 1, 3);
    CHECK_ST(janus_queue_get_many(q, out, 2, &n, JANUS_NO_WAIT), JANUS_OK);
    CHECK(n == 2 && out[0] == V(3) && out[1] == V(2));
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    CHECK_ST(janus_queue_get_many(q, out, 10, &n, JANUS_NO_WAIT), JANUS_OK);
    CHECK(n == 1 && out[0] == V(1));
    n = 99;
    CHECK_ST(janus_queue_get_many(q, out, 10, &n, JANUS_NO_WAIT), JANUS_SHUTDOWN);
    CHECK_SZ(n, 0);
    n = 99;
    CHECK_ST(janus_queue_get_many(q, out, 10, &n, 1000), JANUS_SHUTDOWN);
    CHECK_SZ(n, 0);
    janus_queue_free(q);

    /* A waiting get_many is woken by shutdown. */
    q = new_queue(JANUS_FIFO, 0);
    memset(&g, 0, sizeof g);
    g.count = 10;
    worker_start(&g, OP_GET_MANY, q, 10000);
    wait_blocked(&g);
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    worker_finish(&g, 10000);
    CHECK_ST(g.status, JANUS_SHUTDOWN);
    CHECK_SZ(g.done_count, 0);
    janus_queue_free(q);
}

/* ------------------------------------------------------------------------ */
/* Tests: shutdown                                                          */
/* ------------------------------------------------------------------------ */

static void test_shutdown_normal(void)
{
    begin_test("shutdown(immediate = false)");
    tracker *t = tracker_new();
    janus_queue *q = tracked_queue(JANUS_FIFO, 5, t);
    void *item = V(77);
    void *out[10];
    size_t n;

    put_range(q, 1, 3);
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    CHECK(janus_queue_is_shutdown(q));
    /* Puts fail even with room; the item stays ours. */
    CHECK_ST(janus_queue_put(q, V(4), JANUS_NO_WAIT), JANUS_SHUTDOWN);
    CHECK_ST(janus_queue_put(q, V(4), 1000), JANUS_SHUTDOWN);
    CHECK_ST(janus_queue_put(q, V(4), JANUS_WAIT_FOREVER), JANUS_SHUTDOWN);
    CHECK_SZ(janus_queue_qsize(q), 3);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 3);
    /* Gets drain what is left. */
    CHECK_GET(q, 1);
    track_handed(t, V(1));
    CHECK_ST(janus_queue_get_many(q, out, 10, &n, JANUS_NO_WAIT), JANUS_OK);
    CHECK(n == 2 && out[0] == V(2) && out[1] == V(3));
    track_handed(t, V(2));
    track_handed(t, V(3));
    /* Then SHUTDOWN, not EMPTY, whatever the timeout. */
    CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_SHUTDOWN);
    CHECK_ST(janus_queue_get(q, &item, 50), JANUS_SHUTDOWN);
    CHECK_ST(janus_queue_get(q, &item, JANUS_WAIT_FOREVER), JANUS_SHUTDOWN);
    CHECK_PTR(item, V(77));
    /* unfinished_tasks unchanged; join still waits for task_done. */
    CHECK_SZ(janus_queue_unfinished_tasks(q), 3);
    CHECK_ST(janus_queue_join(q, JANUS_NO_WAIT), JANUS_TIMEOUT);
    CHECK_ST(janus_queue_join(q, 20), JANUS_TIMEOUT);
    for (int i = 0; i < 3; i++)
        CHECK_ST(janus_queue_task_done(q), JANUS_OK);
    CHECK_ST(janus_queue_join(q, JANUS_NO_WAIT), JANUS_OK);
    CHECK_ST(janus_queue_task_done(q), JANUS_EINVAL);
    /* Snapshots still work. */
    CHECK_SZ(janus_queue_maxsize(q), 5);
    CHECK(janus_queue_empty(q));
    janus_queue_free(q);
    CHECK_SZ(tracker_total(t), 0);

    /* Getters already waiting are woken with SHUTDOWN. */
    q = tracked_queue(JANUS_FIFO, 0, t);
    worker gs[3];
    memset(gs, 0, sizeof gs);
    for (int i = 0; i < 3; i++)
        worker_start(&gs[i], OP_GET, q, 10000);
    for (int i = 0; i < 3; i++)
        wait_blocked(&gs[i]);
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    for (int i = 0; i < 3; i++) {
        worker_finish(&gs[i], 10000);
        CHECK_ST(gs[i].status, JANUS_SHUTDOWN);
        CHECK_MS(gs[i].elapsed_ms, 0, 9000);
    }
    janus_queue_free(q);

    /* A putter already waiting is woken with SHUTDOWN; its item is never
     * inserted and stays with it. */
    q = tracked_queue(JANUS_FIFO, 1, t);
    put_range(q, 101, 101);
    worker p;
    memset(&p, 0, sizeof p);
    p.item = V(102);
    worker_start(&p, OP_PUT, q, 10000);
    wait_blocked(&p);
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    worker_finish(&p, 10000);
    CHECK_ST(p.status, JANUS_SHUTDOWN);
    CHECK_SZ(janus_queue_qsize(q), 1);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 1);
    /* Full and shut down: SHUTDOWN wins over FULL. */
    CHECK_ST(janus_queue_put(q, V(103), JANUS_NO_WAIT), JANUS_SHUTDOWN);
    CHECK_ST(janus_queue_put(q, V(103), 50), JANUS_SHUTDOWN);
    CHECK_GET(q, 101);
    track_handed(t, V(101));
    CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_SHUTDOWN);
    janus_queue_free(q);
    CHECK_SZ(tracker_destroyed(t, 102), 0);
    CHECK_SZ(tracker_total(t), 0);
    CHECK_TRACKER(t);
    tracker_free(t);
}

static void test_shutdown_immediate(void)
{
    begin_test("shutdown(immediate = true)");
    tracker *t = tracker_new();
    janus_queue *q = tracked_queue(JANUS_FIFO, 0, t);
    void *item = V(77);

    put_range(q, 1, 5);
    CHECK_GET(q, 1);
    track_handed(t, V(1));
    CHECK_ST(janus_queue_shutdown(q, true), JANUS_OK);
    CHECK(janus_queue_is_shutdown(q));
    /* The rest was discarded, each destroyed once, on this thread. */
    for (intptr_t i = 2; i <= 5; i++)
        CHECK_SZ(tracker_destroyed(t, i), 1);
    CHECK_SZ(tracker_destroyed(t, 1), 0);
    CHECK_SZ(tracker_total(t), 4);
    CHECK_SZ(janus_queue_qsize(q), 0);
    CHECK(janus_queue_empty(q));
    CHECK_SZ(janus_queue_unfinished_tasks(q), 1); /* 5 put - 4 discarded */
    CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_SHUTDOWN);
    CHECK_ST(janus_queue_get(q, &item, 1000), JANUS_SHUTDOWN);
    CHECK_PTR(item, V(77));
    CHECK_ST(janus_queue_put(q, V(6), JANUS_NO_WAIT), JANUS_SHUTDOWN);
    CHECK_SZ(tracker_destroyed(t, 6), 0); /* a failed put leaves it with us */
    /* The item already taken still needs its task_done. */
    CHECK_ST(janus_queue_join(q, 20), JANUS_TIMEOUT);
    CHECK_ST(janus_queue_task_done(q), JANUS_OK);
    CHECK_ST(janus_queue_join(q, JANUS_NO_WAIT), JANUS_OK);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 0);
    janus_queue_free(q);
    CHECK_SZ(tracker_total(t), 4);

    /* unfinished_tasks never goes below 0. */
    q = tracked_queue(JANUS_LIFO, 0, t);
    put_range(q, 11, 13);
    CHECK_ST(janus_queue_task_done(q), JANUS_OK);
    CHECK_ST(janus_queue_task_done(q), JANUS_OK);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 1);
    CHECK_ST(janus_queue_shutdown(q, true), JANUS_OK);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 0);
    CHECK(tracker_destroyed(t, 11) == 1 && tracker_destroyed(t, 12) == 1 &&
          tracker_destroyed(t, 13) == 1);
    CHECK_ST(janus_queue_task_done(q), JANUS_EINVAL);
    CHECK_ST(janus_queue_join(q, JANUS_NO_WAIT), JANUS_OK);
    janus_queue_free(q);

    /* Waiting getters and putters are woken; the putters keep their items. */
    janus_queue *qg = tracked_queue(JANUS_FIFO, 0, t);
    janus_queue *qp = tracked_queue(JANUS_FIFO, 2, t);
    put_range(qp, 21, 22);
    worker w[4];
    memset(w, 0, sizeof w);
    worker_start(&w[0], OP_GET, qg, 10000);
    worker_start(&w[1], OP_GET, qg, JANUS_WAIT_FOREVER);
    w[2].item = V(23);
    worker_start(&w[2], OP_PUT, qp, 10000);
    w[3].item = V(24);
    worker_start(&w[3], OP_PUT, qp, JANUS_WAIT_FOREVER);
    for (int i = 0; i < 4; i++)
        wait_blocked(&w[i]);
    CHECK_ST(janus_queue_shutdown(qg, true), JANUS_OK);
    CHECK_ST(janus_queue_shutdown(qp, true), JANUS_OK);
    for (int i = 0; i < 4; i++) {
        worker_finish(&w[i], 10000);
        CHECK_ST(w[i].status, JANUS_SHUTDOWN);
    }
    CHECK(tracker_destroyed(t, 21) == 1 && tracker_destroyed(t, 22) == 1);
    CHECK(tracker_destroyed(t, 23) == 0 && tracker_destroyed(t, 24) == 0);
    CHECK_SZ(janus_queue_qsize(qp), 0);
    CHECK_SZ(janus_queue_unfinished_tasks(qp), 0);
    janus_queue_free(qg);
    janus_queue_free(qp);

    /* A waiting join returns once the discards bring the count to 0. */
    q = tracked_queue(JANUS_FIFO, 0, t);
    put_range(q, 31, 32);
    worker j;
    memset(&j, 0, sizeof j);
    worker_start(&j, OP_JOIN, q, 10000);
    wait_blocked(&j);
    CHECK_ST(janus_queue_shutdown(q, true), JANUS_OK);
    worker_finish(&j, 10000);
    CHECK_ST(j.status, JANUS_OK);
    CHECK_MS(j.elapsed_ms, 0, 9000);
    janus_queue_free(q);
    CHECK_SZ(tracker_total(t), 4 + 3 + 2 + 2);
    CHECK_TRACKER(t);
    tracker_free(t);
}

static void test_shutdown_idempotent(void)
{
    begin_test("shutdown is idempotent in any order");
    tracker *t = tracker_new();
    void *item = NULL;

    /* normal, normal, then immediate discards what was left. */
    janus_queue *q = tracked_queue(JANUS_FIFO, 0, t);
    put_range(q, 1, 3);
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    CHECK_SZ(janus_queue_qsize(q), 3);
    CHECK_GET(q, 1);
    track_handed(t, V(1));
    CHECK_ST(janus_queue_shutdown(q, true), JANUS_OK);
    CHECK(tracker_destroyed(t, 2) == 1 && tracker_destroyed(t, 3) == 1);
    CHECK_SZ(janus_queue_qsize(q), 0);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 1);
    CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_SHUTDOWN);
    CHECK_ST(janus_queue_shutdown(q, true), JANUS_OK);
    janus_queue_close(q);
    janus_queue_free(q);
    CHECK_SZ(tracker_total(t), 2);

    /* immediate, then normal changes nothing; then immediate and close again. */
    q = tracked_queue(JANUS_PRIORITY, 0, t);
    put_range(q, 11, 12);
    CHECK_ST(janus_queue_shutdown(q, true), JANUS_OK);
    CHECK_SZ(tracker_total(t), 4);
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    CHECK(janus_queue_is_shutdown(q));
    CHECK_ST(janus_queue_put(q, V(13), JANUS_NO_WAIT), JANUS_SHUTDOWN);
    CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_SHUTDOWN);
    CHECK_ST(janus_queue_shutdown(q, true), JANUS_OK);
    janus_queue_close(q);
    janus_queue_free(q);
    CHECK_SZ(tracker_total(t), 4);
    CHECK(tracker_destroyed(t, 11) == 1 && tracker_destroyed(t, 12) == 1);
    CHECK_TRACKER(t);
    tracker_free(t);
}

static void test_wait_closed(void)
{
    begin_test("wait_closed");
    janus_queue *q = new_queue(JANUS_FIFO, 0);
    double t0;
    CHECK_ST(janus_queue_wait_closed(q, JANUS_NO_WAIT), JANUS_EMISUSE);
    t0 = now_ms();
    CHECK_ST(janus_queue_wait_closed(q, 5000), JANUS_EMISUSE);
    CHECK_MS(now_ms() - t0, 0, 2500); /* a misuse answers at once */
    CHECK_ST(janus_queue_wait_closed(q, JANUS_WAIT_FOREVER), JANUS_EMISUSE);

    /* Shut down with items left and nobody inside: closed. */
    put_range(q, 1, 1);
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    CHECK_ST(janus_queue_wait_closed(q, JANUS_NO_WAIT), JANUS_OK);
    CHECK_ST(janus_queue_wait_closed(q, JANUS_WAIT_FOREVER), JANUS_OK);
    janus_queue_free(q);

    /* A join still waiting after a shutdown counts as a caller inside. */
    q = new_queue(JANUS_FIFO, 0);
    put_range(q, 1, 1);
    worker j;
    memset(&j, 0, sizeof j);
    worker_start(&j, OP_JOIN, q, 10000);
    wait_blocked(&j);
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    CHECK_ST(janus_queue_wait_closed(q, JANUS_NO_WAIT), JANUS_TIMEOUT);
    t0 = now_ms();
    CHECK_ST(janus_queue_wait_closed(q, 50), JANUS_TIMEOUT);
    CHECK_MS(now_ms() - t0, 40, 3000);
    CHECK(!worker_done(&j)); /* the join still waits for task_done */
    /* A wait_closed in another thread ends when the join leaves. */
    worker wc;
    memset(&wc, 0, sizeof wc);
    worker_start(&wc, OP_WAIT_CLOSED, q, 10000);
    wait_blocked(&wc);
    CHECK_GET(q, 1);
    CHECK_ST(janus_queue_task_done(q), JANUS_OK);
    worker_finish(&j, 10000);
    CHECK_ST(j.status, JANUS_OK);
    worker_finish(&wc, 10000);
    CHECK_ST(wc.status, JANUS_OK);
    CHECK_ST(janus_queue_wait_closed(q, 5000), JANUS_OK);
    janus_queue_free(q);

    /* Getters woken by shutdown leave, then the queue is closed. */
    q = new_queue(JANUS_FIFO, 0);
    worker gs[2];
    memset(gs, 0, sizeof gs);
    worker_start(&gs[0], OP_GET, q, 10000);
    worker_start(&gs[1], OP_GET, q, JANUS_WAIT_FOREVER);
    wait_blocked(&gs[0]);
    wait_blocked(&gs[1]);
    janus_queue_close(q);
    CHECK(janus_queue_is_shutdown(q));
    CHECK_ST(janus_queue_wait_closed(q, 5000), JANUS_OK);
    for (int i = 0; i < 2; i++) {
        worker_finish(&gs[i], 10000);
        CHECK_ST(gs[i].status, JANUS_SHUTDOWN);
    }
    janus_queue_free(q);
}

static void test_close_and_free_destroy(void)
{
    begin_test("destroy through close and free");
    tracker *t = tracker_new();

    janus_queue *q = tracked_queue(JANUS_FIFO, 0, t);
    put_range(q, 1, 4);
    CHECK_GET(q, 1);
    track_handed(t, V(1));
    janus_queue_close(q);
    CHECK(janus_queue_is_shutdown(q));
    CHECK(tracker_destroyed(t, 2) == 1 && tracker_destroyed(t, 3) == 1 &&
          tracker_destroyed(t, 4) == 1);
    CHECK_SZ(tracker_total(t), 3);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 1);
    janus_queue_close(q);
    janus_queue_free(q);
    CHECK_SZ(tracker_total(t), 3);

    /* free with items left, never shut down: each destroyed once, here. */
    q = tracked_queue(JANUS_LIFO, 10, t);
    put_range(q, 11, 15);
    CHECK_GET(q, 15);
    track_handed(t, V(15));
    janus_queue_free(q);
    CHECK_SZ(tracker_total(t), 3 + 4);
    for (intptr_t i = 11; i <= 14; i++)
        CHECK_SZ(tracker_destroyed(t, i), 1);

    /* free after a normal shutdown with items left. */
    q = tracked_queue(JANUS_PRIORITY, 0, t);
    put_range(q, 21, 23);
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    CHECK_GET(q, 21);
    track_handed(t, V(21));
    janus_queue_free(q);
    CHECK(tracker_destroyed(t, 22) == 1 && tracker_destroyed(t, 23) == 1);
    CHECK_SZ(tracker_total(t), 3 + 4 + 2);

    /* free after immediate shutdown: no second destroy. */
    q = tracked_queue(JANUS_FIFO, 0, t);
    put_range(q, 31, 33);
    CHECK_ST(janus_queue_shutdown(q, true), JANUS_OK);
    CHECK_SZ(tracker_total(t), 3 + 4 + 2 + 3);
    janus_queue_free(q);
    CHECK_SZ(tracker_total(t), 3 + 4 + 2 + 3);

    /* Many items, all destroyed exactly once on free. */
    q = tracked_queue(JANUS_FIFO, 0, t);
    put_range(q, 1000, 2999);
    janus_queue_free(q);
    CHECK_SZ(tracker_total(t), 3 + 4 + 2 + 3 + 2000);

    /* Without destroy, free just forgets the items. */
    q = new_queue(JANUS_FIFO, 0);
    put_range(q, 1, 100);
    janus_queue_close(q);
    janus_queue_free(q);
    CHECK_TRACKER(t);
    tracker_free(t);
}

static void test_free_while_blocked(void)
{
    begin_test("free while calls are blocked");
    tracker *t = tracker_new();
    janus_queue *qa = tracked_queue(JANUS_FIFO, 0, t);
    janus_queue *qb = tracked_queue(JANUS_FIFO, 1, t);
    put_range(qb, 7, 7);
    worker g, p;
    memset(&g, 0, sizeof g);
    memset(&p, 0, sizeof p);
    worker_start(&g, OP_GET, qa, JANUS_WAIT_FOREVER);
    p.item = V(8);
    worker_start(&p, OP_PUT, qb, JANUS_WAIT_FOREVER);
    wait_blocked(&g);
    wait_blocked(&p);
    /* The one sleep used for ordering: there is no way to ask the queue
     * whether a caller waits in it, and a call that started after the free
     * would be a use after free rather than a test. */
    sleep_ms(100);
    CHECK(!worker_done(&g) && !worker_done(&p));
    janus_queue_free(qa);
    janus_queue_free(qb);
    worker_finish(&g, 10000);
    worker_finish(&p, 10000);
    CHECK_ST(g.status, JANUS_SHUTDOWN);
    CHECK_ST(p.status, JANUS_SHUTDOWN);
    CHECK_SZ(tracker_destroyed(t, 7), 1);
    CHECK_SZ(tracker_destroyed(t, 8), 0); /* the putter's item stays its own */
    CHECK_SZ(tracker_total(t), 1);
    CHECK_TRACKER(t);
    tracker_free(t);
}

/* ------------------------------------------------------------------------ */
/* Tests: many threads                                                      */
/* ------------------------------------------------------------------------ */

#define STRESS_PRODUCERS 4
#define STRESS_CONSUMERS 4
#define STRESS_ITEMS 5000

typedef struct stress {
    janus_queue *q;
    int id;
    size_t count;          /* items put / got */
    size_t errors;         /* bad status, out-of-order, bad item */
    unsigned *seen;        /* shared: per item, how many times got (__atomic) */
} stress;

static void *stress_producer(void *arg)
{
    stress *s = arg;
    for (intptr_t i = 0; i < STRESS_ITEMS; i++) {
        intptr_t v = 1 + (intptr_t)s->id * STRESS_ITEMS + i;
        janus_status st;
        if ((i & 7) == 0) {
            void *two[2] = {V(v), V(v + 1)};
            size_t n = 0;
            if (i + 1 < STRESS_ITEMS) {
                st = janus_queue_put_many(s->q, two, 2, &n, 10000);
                s->count += n;
                i++;
            } else {
                st = janus_queue_put(s->q, V(v), 10000);
                s->count += st == JANUS_OK;
            }
        } else {
            st = janus_queue_put(s->q, V(v), 10000);
            s->count += st == JANUS_OK;
        }
        if (st != JANUS_OK) {
            s->errors++;
            break;
        }
    }
    return NULL;
}

static void *stress_consumer(void *arg)
{
    stress *s = arg;
    intptr_t last[STRESS_PRODUCERS];
    for (int i = 0; i < STRESS_PRODUCERS; i++)
        last[i] = -1;
    for (;;) {
        void *items[8];
        size_t n = 0;
        janus_status st;
        if (s->id & 1) {
            st = janus_queue_get_many(s->q, items, 8, &n, 10000);
        } else {
            st = janus_queue_get(s->q, &items[0], 10000);
            n = st == JANUS_OK;
        }
        if (st == JANUS_SHUTDOWN)
            break;
        if (st != JANUS_OK) {
            s->errors++;
            break;
        }
        for (size_t k = 0; k < n; k++) {
            intptr_t v = N(items[k]) - 1;
            if (v < 0 || v >= STRESS_PRODUCERS * STRESS_ITEMS) {
                s->errors++;
                continue;
            }
            int producer = (int)(v / STRESS_ITEMS);
            intptr_t seq = v % STRESS_ITEMS;
            /* FIFO: each producer's items reach each consumer in order. */
            if (seq <= last[producer])
                s->errors++;
            last[producer] = seq;
            __atomic_add_fetch(&s->seen[v], 1, __ATOMIC_RELAXED);
            s->count++;
            if (janus_queue_task_done(s->q) != JANUS_OK)
                s->errors++;
        }
    }
    return NULL;
}

static void test_stress_threads(void)
{
    begin_test("threads: exactly once, in order per producer");
    janus_queue *q = new_queue(JANUS_FIFO, 16);
    unsigned *seen = calloc(STRESS_PRODUCERS * STRESS_ITEMS, sizeof *seen);
    if (seen == NULL)
        FATAL("out of memory");
    stress prod[STRESS_PRODUCERS], cons[STRESS_CONSUMERS];
    pthread_t pt[STRESS_PRODUCERS], ct[STRESS_CONSUMERS];
    for (int i = 0; i < STRESS_CONSUMERS; i++) {
        memset(&cons[i], 0, sizeof cons[i]);
        cons[i].q = q;
        cons[i].id = i;
        cons[i].seen = seen;
        if (pthread_create(&ct[i], NULL, stress_consumer, &cons[i]) != 0)
            FATAL("pthread_create failed");
    }
    for (int i = 0; i < STRESS_PRODUCERS; i++) {
        memset(&prod[i], 0, sizeof prod[i]);
        prod[i].q = q;
        prod[i].id = i;
        if (pthread_create(&pt[i], NULL, stress_producer, &prod[i]) != 0)
            FATAL("pthread_create failed");
    }
    size_t put = 0, got = 0, errors = 0;
    for (int i = 0; i < STRESS_PRODUCERS; i++) {
        pthread_join(pt[i], NULL);
        put += prod[i].count;
        errors += prod[i].errors;
    }
    CHECK_ST(janus_queue_join(q, 20000), JANUS_OK);
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    for (int i = 0; i < STRESS_CONSUMERS; i++) {
        pthread_join(ct[i], NULL);
        got += cons[i].count;
        errors += cons[i].errors;
    }
    size_t not_once = 0;
    for (size_t i = 0; i < STRESS_PRODUCERS * STRESS_ITEMS; i++)
        not_once += seen[i] != 1;
    CHECK_SZ(put, STRESS_PRODUCERS * STRESS_ITEMS);
    CHECK_SZ(got, STRESS_PRODUCERS * STRESS_ITEMS);
    CHECK_SZ(errors, 0);
    CHECK_SZ(not_once, 0);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 0);
    CHECK_ST(janus_queue_wait_closed(q, 5000), JANUS_OK);
    janus_queue_free(q);
    free(seen);
}

/* ------------------------------------------------------------------------ */
/* Tests: Swift consumers                                                   */
/* ------------------------------------------------------------------------ */

#define CONSUME_MAX 20000

/* fn runs on Swift threads, several at once: everything under lock. */
typedef struct consume_ctx {
    pthread_mutex_t lock;
    unsigned char seen[CONSUME_MAX + 1];
    size_t calls;
    uint64_t sum;
    size_t bad;         /* items out of range */
    intptr_t stop_at;   /* return non-zero for this item; 0 = never */
    int ended;          /* set once janus_consumer_wait reported the end */
    size_t late_calls;  /* fn calls after that: must stay 0 */
    tracker *t;         /* if set: record items as handed out */
} consume_ctx;

static consume_ctx *consume_ctx_new(intptr_t stop_at, tracker *t)
{
    consume_ctx *c = calloc(1, sizeof *c);
    if (c == NULL)
        FATAL("out of memory");
    pthread_mutex_init(&c->lock, NULL);
    c->stop_at = stop_at;
    c->t = t;
    return c;
}

static void consume_ctx_free(consume_ctx *c)
{
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static int consume_fn(void *item, void *ctx)
{
    consume_ctx *c = ctx;
    intptr_t v = N(item);
    int stop;
    pthread_mutex_lock(&c->lock);
    c->calls++;
    if (c->ended)
        c->late_calls++;
    if (v < 1 || v > CONSUME_MAX) {
        c->bad++;
    } else {
        if (c->seen[v] < 255)
            c->seen[v]++;
        c->sum += (uint64_t)v;
    }
    stop = c->stop_at != 0 && v == c->stop_at;
    pthread_mutex_unlock(&c->lock);
    if (c->t != NULL)
        track_handed(c->t, item);
    return stop;
}

static void consumer_mark_ended(consume_ctx *c)
{
    pthread_mutex_lock(&c->lock);
    c->ended = 1;
    pthread_mutex_unlock(&c->lock);
}

/* How many of 1..n were consumed exactly once, and whether any other was. */
static void check_consumed_once(consume_ctx *c, intptr_t n, const char *file, int line)
{
    size_t once = 0, other = 0;
    pthread_mutex_lock(&c->lock);
    for (intptr_t i = 1; i <= CONSUME_MAX; i++) {
        if (i <= n)
            once += c->seen[i] == 1;
        else
            other += c->seen[i] != 0;
    }
    uint64_t sum = c->sum;
    size_t bad = c->bad;
    pthread_mutex_unlock(&c->lock);
    report(once == (size_t)n, file, line, "%zu of %ld items consumed exactly once", once,
           (long)n);
    report(other == 0 && bad == 0, file, line, "%zu unexpected items consumed", other + bad);
    report(sum == (uint64_t)n * (uint64_t)(n + 1) / 2, file, line,
           "sum of consumed items %" PRIu64 ", expected %" PRIu64, sum,
           (uint64_t)n * (uint64_t)(n + 1) / 2);
}

static void consume_all(size_t tasks, intptr_t n)
{
    janus_queue *q = new_queue(JANUS_FIFO, 64);
    consume_ctx *c = consume_ctx_new(0, NULL);
    /* Some items before the consumer starts, the rest while it runs (the
     * bounded queue makes this thread wait for the Swift tasks). */
    const intptr_t first = 33;
    put_range(q, 1, first - 1);
    janus_consumer *cons = janus_consume_async(q, consume_fn, c, tasks);
    CHECK(cons != NULL);
    if (cons == NULL) {
        janus_queue_free(q);
        consume_ctx_free(c);
        return;
    }
    size_t put_errors = 0;
    for (intptr_t i = first; i <= n; i++)
        put_errors += janus_queue_put(q, V(i), 10000) != JANUS_OK;
    CHECK_SZ(put_errors, 0);
    /* The consumer calls task_done after fn: join returns. */
    CHECK_ST(janus_queue_join(q, 20000), JANUS_OK);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 0);
    CHECK_SZ(janus_queue_qsize(q), 0);
    check_consumed_once(c, n, __FILE__, __LINE__);
    /* Still running on an empty queue. */
    CHECK_ST(janus_consumer_wait(cons, JANUS_NO_WAIT), JANUS_TIMEOUT);
    /* Shut down and drained: it stops. */
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    CHECK_ST(janus_consumer_wait(cons, 10000), JANUS_OK);
    consumer_mark_ended(c);
    CHECK_ST(janus_consumer_wait(cons, JANUS_NO_WAIT), JANUS_OK);
    janus_consumer_free(cons);
    CHECK_ST(janus_queue_wait_closed(q, 5000), JANUS_OK);
    janus_queue_free(q);
    CHECK_SZ(c->late_calls, 0);
    consume_ctx_free(c);
}

static void test_consumer_basic(void)
{
    begin_test("consume_async, 1 task");
    consume_all(1, 2000);
    begin_test("consume_async, 4 tasks");
    consume_all(4, CONSUME_MAX);
}

static void test_consumer_stop(void)
{
    begin_test("consume_async, fn says stop");
    /* One task, FIFO: items 1..5 consumed, 6..10 left. */
    janus_queue *q = new_queue(JANUS_FIFO, 0);
    consume_ctx *c = consume_ctx_new(5, NULL);
    put_range(q, 1, 10);
    janus_consumer *cons = janus_consume_async(q, consume_fn, c, 1);
    CHECK(cons != NULL);
    CHECK_ST(janus_consumer_wait(cons, 10000), JANUS_OK);
    consumer_mark_ended(c);
    CHECK_SZ(c->calls, 5);
    check_consumed_once(c, 5, __FILE__, __LINE__);
    CHECK_SZ(janus_queue_qsize(q), 5);
    /* task_done also after the call that said stop. */
    CHECK_SZ(janus_queue_unfinished_tasks(q), 5);
    CHECK(!janus_queue_is_shutdown(q));
    CHECK_GET(q, 6);
    janus_consumer_free(cons);
    CHECK_SZ(c->late_calls, 0);
    janus_queue_free(q);
    consume_ctx_free(c);

    /* Four tasks stop as a whole; nothing lost: every item taken went to fn
     * or to destroy. */
    tracker *t = tracker_new();
    t->check_thread = 0;
    q = tracked_queue(JANUS_FIFO, 0, t);
    c = consume_ctx_new(10, t);
    put_range(q, 1, 1000);
    cons = janus_consume_async(q, consume_fn, c, 4);
    CHECK(cons != NULL);
    CHECK_ST(janus_consumer_wait(cons, 10000), JANUS_OK);
    consumer_mark_ended(c);
    size_t left = janus_queue_qsize(q);
    CHECK_SZ(c->calls + tracker_total(t) + left, 1000);
    CHECK(c->seen[10] == 1);
    /* Ended: an item put now stays in the queue. */
    CHECK_ST(janus_queue_put(q, V(3000), JANUS_NO_WAIT), JANUS_OK);
    CHECK_SZ(janus_queue_qsize(q), left + 1);
    janus_consumer_free(cons);
    CHECK_SZ(c->late_calls, 0);
    janus_queue_close(q);
    janus_queue_free(q);
    CHECK_TRACKER(t);
    consume_ctx_free(c);
    tracker_free(t);
}

static void test_consumer_shutdown_drain(void)
{
    begin_test("consume_async, shutdown drains then stops");
    janus_queue *q = new_queue(JANUS_FIFO, 0);
    consume_ctx *c = consume_ctx_new(0, NULL);
    put_range(q, 1, 200);
    janus_consumer *cons = janus_consume_async(q, consume_fn, c, 2);
    CHECK(cons != NULL);
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    CHECK_ST(janus_consumer_wait(cons, 10000), JANUS_OK);
    consumer_mark_ended(c);
    check_consumed_once(c, 200, __FILE__, __LINE__);
    CHECK_SZ(janus_queue_qsize(q), 0);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 0);
    janus_consumer_free(cons);
    janus_queue_free(q);
    CHECK_SZ(c->late_calls, 0);
    consume_ctx_free(c);

    /* Immediate shutdown: the consumer stops, the rest is discarded. */
    tracker *t = tracker_new();
    q = tracked_queue(JANUS_FIFO, 0, t);
    c = consume_ctx_new(0, t);
    cons = janus_consume_async(q, consume_fn, c, 3);
    CHECK(cons != NULL);
    put_range(q, 1, 100);
    CHECK_ST(janus_queue_shutdown(q, true), JANUS_OK);
    CHECK_ST(janus_consumer_wait(cons, 10000), JANUS_OK);
    consumer_mark_ended(c);
    CHECK_SZ(c->calls + tracker_total(t), 100);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 0);
    janus_consumer_free(cons);
    janus_queue_free(q);
    CHECK_TRACKER(t);
    tracker_free(t);
    consume_ctx_free(c);
}

static void test_consumer_wait_cancel_free(void)
{
    begin_test("consumer wait, cancel, free");
    janus_queue *q = new_queue(JANUS_FIFO, 0);
    consume_ctx *c = consume_ctx_new(0, NULL);
    double t0;

    CHECK_PTR(janus_consume_async(NULL, consume_fn, c, 1), NULL);
    CHECK_PTR(janus_consume_async(q, NULL, c, 1), NULL);
    CHECK_PTR(janus_consume_async(q, consume_fn, c, 0), NULL);

    janus_consumer *cons = janus_consume_async(q, consume_fn, c, 2);
    CHECK(cons != NULL);
    CHECK_ST(janus_consumer_wait(cons, JANUS_NO_WAIT), JANUS_TIMEOUT);
    t0 = now_ms();
    CHECK_ST(janus_consumer_wait(cons, 50), JANUS_TIMEOUT);
    CHECK_MS(now_ms() - t0, 40, 3000);
    CHECK_ST(janus_consumer_wait(cons, -2), JANUS_EINVAL);
    CHECK_ST(janus_consumer_wait(cons, INT64_MIN), JANUS_EINVAL);
    /* It consumes while running. */
    put_range(q, 1, 3);
    CHECK_ST(janus_queue_join(q, 10000), JANUS_OK);
    janus_consumer_cancel(cons);
    CHECK_ST(janus_consumer_wait(cons, 10000), JANUS_OK);
    consumer_mark_ended(c);
    CHECK_ST(janus_consumer_wait(cons, JANUS_NO_WAIT), JANUS_OK);
    CHECK_ST(janus_consumer_wait(cons, JANUS_WAIT_FOREVER), JANUS_OK);
    janus_consumer_cancel(cons); /* no effect once ended */
    /* Cancel stops the consumer, not the queue. */
    CHECK(!janus_queue_is_shutdown(q));
    put_range(q, 4, 4);
    CHECK_GET(q, 4);
    check_consumed_once(c, 3, __FILE__, __LINE__);
    janus_consumer_free(cons);

    /* free on a running consumer cancels it and waits for it. */
    cons = janus_consume_async(q, consume_fn, c, 3);
    CHECK(cons != NULL);
    janus_consumer_free(cons);
    put_range(q, 5, 5);
    CHECK_GET(q, 5);
    CHECK_SZ(c->late_calls, 0);
    check_consumed_once(c, 3, __FILE__, __LINE__);
    janus_queue_free(q);
    consume_ctx_free(c);
}

/* ------------------------------------------------------------------------ */
/* Tests: Swift producers                                                   */
/* ------------------------------------------------------------------------ */

typedef struct produce_ctx {
    pthread_mutex_t lock;
    intptr_t next;      /* next item value */
    intptr_t limit;     /* last item to produce; 0 = no end */
    size_t calls;
    int ended;
    size_t late_calls;
} produce_ctx;

static void produce_ctx_init(produce_ctx *p, intptr_t first, intptr_t limit)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    p->next = first;
    p->limit = limit;
}

static janus_status produce_fn(void **item_out, void *ctx)
{
    produce_ctx *p = ctx;
    janus_status s = JANUS_OK;
    pthread_mutex_lock(&p->lock);
    p->calls++;
    if (p->ended)
        p->late_calls++;
    if (p->limit != 0 && p->next > p->limit)
        s = JANUS_EMPTY; /* any status but OK: stop */
    else
        *item_out = V(p->next++);
    pthread_mutex_unlock(&p->lock);
    return s;
}

static size_t produce_calls(produce_ctx *p)
{
    pthread_mutex_lock(&p->lock);
    size_t n = p->calls;
    pthread_mutex_unlock(&p->lock);
    return n;
}

static void producer_mark_ended(produce_ctx *p)
{
    pthread_mutex_lock(&p->lock);
    p->ended = 1;
    pthread_mutex_unlock(&p->lock);
}

/* Waits until fn has been called at least n times. */
static int wait_produce_calls(produce_ctx *p, size_t n)
{
    double limit = now_ms() + 10000;
    while (produce_calls(p) < n) {
        if (now_ms() > limit)
            return 0;
        sleep_ms(1);
    }
    return 1;
}

static void test_producer_basic(void)
{
    begin_test("produce_async");
    produce_ctx pc;
    produce_ctx_init(&pc, 1, 100);
    janus_queue *q = new_queue(JANUS_FIFO, 0);

    CHECK_PTR(janus_produce_async(NULL, produce_fn, &pc), NULL);
    CHECK_PTR(janus_produce_async(q, NULL, &pc), NULL);

    janus_producer *p = janus_produce_async(q, produce_fn, &pc);
    CHECK(p != NULL);
    CHECK_ST(janus_producer_wait(p, 10000), JANUS_OK);
    producer_mark_ended(&pc);
    CHECK_ST(janus_producer_wait(p, JANUS_NO_WAIT), JANUS_OK);
    CHECK_SZ(pc.calls, 101); /* 100 items and the call that said stop */
    CHECK_SZ(janus_queue_qsize(q), 100);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 100);
    size_t order_errors = 0;
    for (intptr_t i = 1; i <= 100; i++) {
        void *item = NULL;
        order_errors += janus_queue_get(q, &item, JANUS_NO_WAIT) != JANUS_OK || item != V(i);
    }
    CHECK_SZ(order_errors, 0);
    CHECK(!janus_queue_is_shutdown(q));
    janus_producer_free(p);
    CHECK_SZ(pc.late_calls, 0);
    janus_queue_free(q);
    pthread_mutex_destroy(&pc.lock);

    /* A bounded queue holds the producer back; items arrive in order. */
    produce_ctx_init(&pc, 1, 300);
    q = new_queue(JANUS_FIFO, 2);
    p = janus_produce_async(q, produce_fn, &pc);
    CHECK(p != NULL);
    order_errors = 0;
    size_t over = 0;
    for (intptr_t i = 1; i <= 300; i++) {
        void *item = NULL;
        order_errors += janus_queue_get(q, &item, 10000) != JANUS_OK || item != V(i);
        over += janus_queue_qsize(q) > 2;
        janus_queue_task_done(q);
    }
    CHECK_SZ(order_errors, 0);
    CHECK_SZ(over, 0);
    CHECK_ST(janus_producer_wait(p, 10000), JANUS_OK);
    producer_mark_ended(&pc);
    CHECK_SZ(janus_queue_qsize(q), 0);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 0);
    janus_producer_free(p);
    CHECK_SZ(pc.late_calls, 0);
    janus_queue_free(q);
    pthread_mutex_destroy(&pc.lock);
}

static void test_producer_stop(void)
{
    begin_test("producer stopped by shutdown, cancel, free");
    tracker *t = tracker_new();
    t->check_thread = 0; /* the held item is destroyed by the producer's task */
    produce_ctx pc;
    double t0;

    /* Shutdown: the item it holds goes to destroy; the queued one stays. */
    produce_ctx_init(&pc, 1, 0);
    janus_queue *q = tracked_queue(JANUS_FIFO, 1, t);
    janus_producer *p = janus_produce_async(q, produce_fn, &pc);
    CHECK(p != NULL);
    CHECK(wait_produce_calls(&pc, 2)); /* item 1 is in, item 2 is held */
    CHECK_ST(janus_producer_wait(p, JANUS_NO_WAIT), JANUS_TIMEOUT);
    t0 = now_ms();
    CHECK_ST(janus_producer_wait(p, 50), JANUS_TIMEOUT);
    CHECK_MS(now_ms() - t0, 40, 3000);
    CHECK_ST(janus_producer_wait(p, -2), JANUS_EINVAL);
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    CHECK_ST(janus_producer_wait(p, 10000), JANUS_OK);
    producer_mark_ended(&pc);
    CHECK_SZ(pc.calls, 2);
    CHECK_SZ(tracker_destroyed(t, 2), 1);
    CHECK_SZ(tracker_destroyed(t, 1), 0);
    CHECK_SZ(janus_queue_qsize(q), 1);
    CHECK_GET(q, 1);
    track_handed(t, V(1));
    void *item = NULL;
    CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_SHUTDOWN);
    janus_producer_free(p);
    CHECK_SZ(pc.late_calls, 0);
    janus_queue_free(q);
    CHECK_SZ(tracker_total(t), 1);
    pthread_mutex_destroy(&pc.lock);

    /* Cancel: same, and the queue is not shut down. */
    produce_ctx_init(&pc, 11, 0);
    q = tracked_queue(JANUS_FIFO, 1, t);
    p = janus_produce_async(q, produce_fn, &pc);
    CHECK(p != NULL);
    CHECK(wait_produce_calls(&pc, 2)); /* 11 in, 12 held */
    janus_producer_cancel(p);
    CHECK_ST(janus_producer_wait(p, 10000), JANUS_OK);
    producer_mark_ended(&pc);
    janus_producer_cancel(p); /* no effect once ended */
    CHECK_SZ(pc.calls, 2);
    CHECK_SZ(tracker_destroyed(t, 12), 1);
    CHECK(!janus_queue_is_shutdown(q));
    CHECK_SZ(janus_queue_qsize(q), 1);
    CHECK_GET(q, 11);
    track_handed(t, V(11));
    CHECK_ST(janus_queue_put(q, V(19), JANUS_NO_WAIT), JANUS_OK);
    CHECK_GET(q, 19);
    track_handed(t, V(19));
    janus_producer_free(p);
    CHECK_SZ(pc.late_calls, 0);
    janus_queue_free(q);
    CHECK_SZ(tracker_total(t), 2);
    pthread_mutex_destroy(&pc.lock);

    /* free on a running producer cancels it and waits: the held item is
     * destroyed by the time free returns. */
    produce_ctx_init(&pc, 21, 0);
    q = tracked_queue(JANUS_FIFO, 1, t);
    p = janus_produce_async(q, produce_fn, &pc);
    CHECK(p != NULL);
    CHECK(wait_produce_calls(&pc, 2)); /* 21 in, 22 held */
    janus_producer_free(p);
    producer_mark_ended(&pc);
    CHECK_SZ(tracker_destroyed(t, 22), 1);
    CHECK_SZ(pc.calls, 2);
    CHECK_GET(q, 21);
    track_handed(t, V(21));
    janus_queue_free(q);
    CHECK_SZ(pc.late_calls, 0);
    CHECK_SZ(tracker_total(t), 3);
    pthread_mutex_destroy(&pc.lock);

    /* On a queue already shut down: it stops at once; whatever fn made is
     * destroyed. */
    produce_ctx_init(&pc, 31, 40);
    q = tracked_queue(JANUS_FIFO, 0, t);
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    p = janus_produce_async(q, produce_fn, &pc);
    CHECK(p != NULL);
    CHECK_ST(janus_producer_wait(p, 10000), JANUS_OK);
    producer_mark_ended(&pc);
    CHECK(pc.calls <= 1);
    CHECK_SZ(tracker_total(t), 3 + pc.calls);
    CHECK_SZ(janus_queue_qsize(q), 0);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 0);
    janus_producer_free(p);
    janus_queue_free(q);
    pthread_mutex_destroy(&pc.lock);

    CHECK_TRACKER(t);
    tracker_free(t);
}

/* Swift tasks on both sides of one queue, C threads in the middle. */
static void test_producer_to_consumer(void)
{
    begin_test("produce_async into consume_async");
    produce_ctx pc;
    produce_ctx_init(&pc, 1, 5000);
    janus_queue *q = new_queue(JANUS_FIFO, 8);
    consume_ctx *c = consume_ctx_new(0, NULL);
    janus_consumer *cons = janus_consume_async(q, consume_fn, c, 2);
    janus_producer *p = janus_produce_async(q, produce_fn, &pc);
    CHECK(cons != NULL && p != NULL);
    CHECK_ST(janus_producer_wait(p, 20000), JANUS_OK);
    CHECK_ST(janus_queue_join(q, 20000), JANUS_OK);
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    CHECK_ST(janus_consumer_wait(cons, 10000), JANUS_OK);
    check_consumed_once(c, 5000, __FILE__, __LINE__);
    janus_producer_free(p);
    janus_consumer_free(cons);
    janus_queue_free(q);
    consume_ctx_free(c);
    pthread_mutex_destroy(&pc.lock);
}

/* ------------------------------------------------------------------------ */
/* Tests: peek, clear, set_maxsize, getters / putters                       */
/* ------------------------------------------------------------------------ */

/* Waits until count(q) reports at least n waiters: the gate that orders the
 * waiting threads (each is listed before the next one starts), never a sleep
 * used as ordering.  A waiter that never lists itself is fatal. */
static void wait_listed_at(size_t (*count)(const janus_queue *), janus_queue *q, size_t n,
                           const char *file, int line)
{
    double limit = now_ms() + 10000;
    while (count(q) < n) {
        if (now_ms() > limit)
            fatal(file, line, "the waiters were never listed (getters/putters count)");
        sleep_ms(1);
    }
}
#define wait_putters(q, n) wait_listed_at(janus_queue_putters, (q), (n), __FILE__, __LINE__)
#define wait_getters(q, n) wait_listed_at(janus_queue_getters, (q), (n), __FILE__, __LINE__)

/* Peeks without waiting and checks that it is `want`, left in place. */
#define CHECK_PEEK(q, want)                                                          \
    do {                                                                             \
        void *item_ = V(-999);                                                       \
        size_t size_ = janus_queue_qsize(q);                                         \
        CHECK_ST(janus_queue_peek((q), &item_, JANUS_NO_WAIT), JANUS_OK);            \
        CHECK_PTR(item_, V(want));                                                   \
        CHECK_SZ(janus_queue_qsize(q), size_);                                       \
    } while (0)

static void test_new_functions_null(void)
{
    begin_test("peek/clear/set_maxsize/getters/putters/fd: NULL queue and arguments");
    void *item = V(5);
    size_t n = 77;
    int fd = -7;
    CHECK_ST(janus_queue_peek(NULL, &item, JANUS_NO_WAIT), JANUS_EINVAL);
    CHECK_ST(janus_queue_peek(NULL, &item, 50), JANUS_EINVAL);
    CHECK_ST(janus_queue_peek(NULL, &item, JANUS_WAIT_FOREVER), JANUS_EINVAL);
    CHECK_ST(janus_queue_peek(NULL, NULL, JANUS_NO_WAIT), JANUS_EINVAL);
    CHECK_PTR(item, V(5));
    CHECK_ST(janus_queue_clear(NULL, &n), JANUS_EINVAL);
    CHECK_SZ(n, 77);
    CHECK_ST(janus_queue_clear(NULL, NULL), JANUS_EINVAL);
    CHECK_ST(janus_queue_set_maxsize(NULL, 0), JANUS_EINVAL);
    CHECK_ST(janus_queue_set_maxsize(NULL, 5), JANUS_EINVAL);
    CHECK_ST(janus_queue_set_maxsize(NULL, SIZE_MAX), JANUS_EINVAL);
    CHECK_SZ(janus_queue_getters(NULL), 0);
    CHECK_SZ(janus_queue_putters(NULL), 0);
    CHECK_ST(janus_queue_fd(NULL, JANUS_READABLE, &fd), JANUS_EINVAL);
    CHECK_ST(janus_queue_fd(NULL, JANUS_WRITABLE, &fd), JANUS_EINVAL);
    CHECK_ST(janus_queue_fd(NULL, JANUS_READABLE, NULL), JANUS_EINVAL);
    CHECK(fd == -7);
    CHECK(JANUS_READABLE == 1 && JANUS_WRITABLE == 2 && JANUS_ESYS == 23);
    CHECK(janus_strerror(JANUS_ESYS) != NULL && janus_strerror(JANUS_ESYS)[0] != '\0');
    CHECK(strcmp(janus_strerror(JANUS_ESYS), janus_strerror(JANUS_EINVAL)) != 0);
    /* fork (Tests/fork has the children): the status and the errno of a refused start. */
    CHECK(JANUS_EFORK == 24);
    CHECK(strcmp(janus_strerror(JANUS_EFORK), janus_strerror(JANUS_EMISUSE)) != 0);
    errno = 0;
    CHECK(janus_consume_async(NULL, NULL, NULL, 1) == NULL && errno == EINVAL);
    errno = 0;
    CHECK(janus_produce_async(NULL, NULL, NULL) == NULL && errno == EINVAL);

    /* A fresh queue: nobody waits. */
    janus_queue *q = new_queue(JANUS_FIFO, 2);
    CHECK_SZ(janus_queue_getters(q), 0);
    CHECK_SZ(janus_queue_putters(q), 0);
    janus_queue_free(q);
}

static void test_peek(void)
{
    begin_test("peek");
    const int64_t bad[] = {-2, -1000, INT64_MIN};
    void *item = V(55);
    double t0;

    /* Arguments: EINVAL, nothing written, nothing changed; also on a non-empty queue and
     * with timeouts that would wait (EINVAL answers at once). */
    janus_queue *q = new_queue(JANUS_FIFO, 0);
    CHECK_ST(janus_queue_peek(q, NULL, JANUS_NO_WAIT), JANUS_EINVAL);
    CHECK_ST(janus_queue_peek(q, NULL, 50), JANUS_EINVAL);
    CHECK_ST(janus_queue_peek(q, NULL, JANUS_WAIT_FOREVER), JANUS_EINVAL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_ST(janus_queue_peek(q, &item, bad[i]), JANUS_EINVAL);
        CHECK_PTR(item, V(55));
    }
    /* Empty, NO_WAIT: EMPTY at once, *item_out untouched. */
    CHECK_ST(janus_queue_peek(q, &item, JANUS_NO_WAIT), JANUS_EMPTY);
    CHECK_PTR(item, V(55));
    /* A waiting peek times out with EMPTY. */
    t0 = now_ms();
    CHECK_ST(janus_queue_peek(q, &item, 50), JANUS_EMPTY);
    CHECK_MS(now_ms() - t0, 40, 3000);
    CHECK_PTR(item, V(55));

    /* FIFO: the next item, left in place; the following get returns the same pointer. */
    put_range(q, 1, 3);
    CHECK_PEEK(q, 1);
    CHECK_PEEK(q, 1); /* twice: still there */
    CHECK_SZ(janus_queue_unfinished_tasks(q), 3);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_ST(janus_queue_peek(q, &item, bad[i]), JANUS_EINVAL);
    CHECK_ST(janus_queue_peek(q, NULL, JANUS_NO_WAIT), JANUS_EINVAL);
    CHECK_GET(q, 1);
    CHECK_PEEK(q, 2);
    /* A waiting peek with an item there answers at once. */
    t0 = now_ms();
    item = NULL;
    CHECK_ST(janus_queue_peek(q, &item, 5000), JANUS_OK);
    CHECK_PTR(item, V(2));
    CHECK_ST(janus_queue_peek(q, &item, JANUS_WAIT_FOREVER), JANUS_OK);
    CHECK_PTR(item, V(2));
    CHECK_ST(janus_queue_peek(q, &item, INT64_MAX), JANUS_OK);
    CHECK_PTR(item, V(2));
    CHECK_MS(now_ms() - t0, 0, 1000);
    /* The queue left its lock-free path: FIFO order still holds, with puts, put_many,
     * get_many in between. */
    put_range(q, 4, 5);
    void *in[3] = {V(6), V(7), V(8)};
    size_t n = 0;
    CHECK_ST(janus_queue_put_many(q, in, 3, &n, JANUS_NO_WAIT), JANUS_OK);
    CHECK_SZ(n, 3);
    CHECK_GET(q, 2);
    CHECK_PEEK(q, 3);
    void *out[4];
    CHECK_ST(janus_queue_get_many(q, out, 4, &n, JANUS_NO_WAIT), JANUS_OK);
    CHECK(n == 4 && out[0] == V(3) && out[1] == V(4) && out[2] == V(5) && out[3] == V(6));
    CHECK_PEEK(q, 7);
    CHECK_GET(q, 7);
    CHECK_GET(q, 8);
    CHECK_ST(janus_queue_peek(q, &item, JANUS_NO_WAIT), JANUS_EMPTY);
    janus_queue_free(q);

    /* A bounded FIFO queue whose items are in its lock-free ring when it is peeked. */
    q = new_queue(JANUS_FIFO, 4);
    put_range(q, 1, 4);
    CHECK_PEEK(q, 1);
    CHECK_ST(janus_queue_put(q, V(5), JANUS_NO_WAIT), JANUS_FULL);
    CHECK(janus_queue_full(q));
    CHECK_GET(q, 1);
    put_range(q, 5, 5);
    for (intptr_t i = 2; i <= 5; i++) {
        CHECK_PEEK(q, i);
        CHECK_GET(q, i);
    }
    janus_queue_free(q);

    /* LIFO and PRIORITY order. */
    q = new_queue(JANUS_LIFO, 0);
    put_range(q, 1, 3);
    CHECK_PEEK(q, 3);
    CHECK_GET(q, 3);
    CHECK_PEEK(q, 2);
    put_range(q, 9, 9);
    CHECK_PEEK(q, 9);
    CHECK_GET(q, 9);
    CHECK_GET(q, 2);
    CHECK_PEEK(q, 1);
    janus_queue_free(q);

    q = new_queue(JANUS_PRIORITY, 0);
    CHECK_ST(janus_queue_put(q, V(5), JANUS_NO_WAIT), JANUS_OK);
    CHECK_ST(janus_queue_put(q, V(-3), JANUS_NO_WAIT), JANUS_OK);
    CHECK_ST(janus_queue_put(q, V(7), JANUS_NO_WAIT), JANUS_OK);
    CHECK_PEEK(q, -3);
    CHECK_ST(janus_queue_put(q, V(-10), JANUS_NO_WAIT), JANUS_OK);
    CHECK_PEEK(q, -10);
    CHECK_GET(q, -10);
    CHECK_PEEK(q, -3);
    CHECK_GET(q, -3);
    CHECK_PEEK(q, 5);
    janus_queue_free(q);

    /* Stable priority: peek shows the first inserted among equals. */
    prio_item a = {1, 1}, b = {1, 2}, c = {0, 3};
    compare_ctx cc;
    cc.magic = TRACK_MAGIC;
    cc.calls = 0;
    janus_options o;
    memset(&o, 0, sizeof o);
    o.kind = JANUS_PRIORITY;
    o.compare = compare_prio;
    o.ctx = &cc;
    q = janus_queue_new_with(&o);
    if (q == NULL)
        FATAL("janus_queue_new_with returned NULL");
    CHECK_ST(janus_queue_put(q, &a, JANUS_NO_WAIT), JANUS_OK);
    CHECK_ST(janus_queue_put(q, &b, JANUS_NO_WAIT), JANUS_OK);
    CHECK_PEEK(q, &a);
    CHECK_ST(janus_queue_put(q, &c, JANUS_NO_WAIT), JANUS_OK);
    CHECK_PEEK(q, &c);
    CHECK_GET(q, &c);
    CHECK_PEEK(q, &a);
    CHECK_GET(q, &a);
    CHECK_PEEK(q, &b);
    janus_queue_free(q);

    /* NULL is an item like any other: peek answers OK with *item_out = NULL. */
    tracker *t = tracker_new();
    q = tracked_queue(JANUS_FIFO, 0, t);
    CHECK_ST(janus_queue_put(q, NULL, JANUS_NO_WAIT), JANUS_OK);
    CHECK_ST(janus_queue_put(q, V(1), JANUS_NO_WAIT), JANUS_OK);
    item = V(99);
    CHECK_ST(janus_queue_peek(q, &item, JANUS_NO_WAIT), JANUS_OK);
    CHECK_PTR(item, NULL);
    CHECK_SZ(janus_queue_qsize(q), 2);
    CHECK_GET(q, 0);
    CHECK_PEEK(q, 1);
    /* A peeked item is still the queue's: an immediate shutdown destroys it (once). */
    CHECK_ST(janus_queue_shutdown(q, true), JANUS_OK);
    CHECK_SZ(tracker_destroyed(t, 1), 1);
    CHECK_ST(janus_queue_peek(q, &item, JANUS_NO_WAIT), JANUS_SHUTDOWN);
    CHECK_ST(janus_queue_peek(q, &item, 50), JANUS_SHUTDOWN);
    CHECK_ST(janus_queue_peek(q, &item, JANUS_WAIT_FOREVER), JANUS_SHUTDOWN);
    janus_queue_free(q);
    CHECK_SZ(tracker_total(t), 1);
    CHECK_TRACKER(t);
    tracker_free(t);

    /* A waiting peek is woken by a put from another thread, and leaves the item. */
    q = new_queue(JANUS_FIFO, 0);
    worker w;
    memset(&w, 0, sizeof w);
    worker_start(&w, OP_PEEK, q, 10000);
    wait_blocked(&w);
    CHECK(!worker_done(&w));
    CHECK_ST(janus_queue_put(q, V(42), JANUS_NO_WAIT), JANUS_OK);
    worker_finish(&w, 10000);
    CHECK_ST(w.status, JANUS_OK);
    CHECK_PTR(w.item, V(42));
    CHECK_MS(w.elapsed_ms, 0, 9000);
    CHECK_SZ(janus_queue_qsize(q), 1);
    CHECK_GET(q, 42);
    /* The same waiting forever, and several peeks at once. */
    worker ws[3];
    memset(ws, 0, sizeof ws);
    for (int i = 0; i < 3; i++)
        worker_start(&ws[i], OP_PEEK, q, i == 0 ? JANUS_WAIT_FOREVER : 10000);
    for (int i = 0; i < 3; i++)
        wait_blocked(&ws[i]);
    CHECK_ST(janus_queue_put(q, V(43), JANUS_NO_WAIT), JANUS_OK);
    for (int i = 0; i < 3; i++) {
        worker_finish(&ws[i], 10000);
        CHECK_ST(ws[i].status, JANUS_OK);
        CHECK_PTR(ws[i].item, V(43));
    }
    CHECK_SZ(janus_queue_qsize(q), 1);
    CHECK_GET(q, 43);
    /* A waiting peek is woken by a normal shutdown of the empty queue: SHUTDOWN. */
    memset(&w, 0, sizeof w);
    worker_start(&w, OP_PEEK, q, JANUS_WAIT_FOREVER);
    wait_blocked(&w);
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    worker_finish(&w, 10000);
    CHECK_ST(w.status, JANUS_SHUTDOWN);
    CHECK_ST(janus_queue_wait_closed(q, 5000), JANUS_OK);
    janus_queue_free(q);

    /* After a normal shutdown: the items left are still peeked, then SHUTDOWN. */
    q = new_queue(JANUS_LIFO, 0);
    put_range(q, 1, 2);
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    CHECK_PEEK(q, 2);
    CHECK_GET(q, 2);
    CHECK_ST(janus_queue_peek(q, &item, 1000), JANUS_OK);
    CHECK_PTR(item, V(1));
    CHECK_GET(q, 1);
    t0 = now_ms();
    CHECK_ST(janus_queue_peek(q, &item, JANUS_NO_WAIT), JANUS_SHUTDOWN);
    CHECK_ST(janus_queue_peek(q, &item, 5000), JANUS_SHUTDOWN);
    CHECK_ST(janus_queue_peek(q, &item, JANUS_WAIT_FOREVER), JANUS_SHUTDOWN);
    CHECK_MS(now_ms() - t0, 0, 2500);
    janus_queue_free(q);
}

static void test_clear(void)
{
    begin_test("clear");
    tracker *t = tracker_new();
    size_t n;

    CHECK_ST(janus_queue_clear(NULL, NULL), JANUS_EINVAL);
    n = 5;
    CHECK_ST(janus_queue_clear(NULL, &n), JANUS_EINVAL);
    CHECK_SZ(n, 5);

    /* Every kind: the items go to destroy exactly once; the one handed out does not. */
    for (int k = 0; k < 3; k++) {
        intptr_t base = 100 * (k + 1);
        janus_queue *q = tracked_queue((janus_kind)k, 0, t);
        size_t before = tracker_total(t);
        n = 99;
        CHECK_ST(janus_queue_clear(q, &n), JANUS_OK); /* empty: nothing */
        CHECK_SZ(n, 0);
        put_range(q, base + 1, base + 5);
        void *item = NULL;
        CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_OK);
        track_handed(t, item);
        n = 99;
        CHECK_ST(janus_queue_clear(q, &n), JANUS_OK);
        CHECK_SZ(n, 4);
        CHECK_SZ(tracker_total(t), before + 4);
        size_t once = 0;
        for (intptr_t i = base + 1; i <= base + 5; i++)
            once += tracker_destroyed(t, i) == 1;
        CHECK_SZ(once, 4);
        CHECK_SZ(tracker_destroyed(t, N(item)), 0);
        CHECK_SZ(janus_queue_qsize(q), 0);
        CHECK(janus_queue_empty(q));
        CHECK_SZ(janus_queue_unfinished_tasks(q), 1); /* 5 put - 4 discarded */
        CHECK(!janus_queue_is_shutdown(q));
        /* Nothing left: a second clear discards nothing. */
        n = 99;
        CHECK_ST(janus_queue_clear(q, &n), JANUS_OK);
        CHECK_SZ(n, 0);
        CHECK_SZ(tracker_total(t), before + 4);
        /* cleared_out may be NULL. */
        put_range(q, base + 6, base + 7);
        CHECK_ST(janus_queue_clear(q, NULL), JANUS_OK);
        CHECK(tracker_destroyed(t, base + 6) == 1 && tracker_destroyed(t, base + 7) == 1);
        CHECK_SZ(tracker_total(t), before + 6);
        CHECK_SZ(janus_queue_unfinished_tasks(q), 1);
        /* The queue goes on working. */
        put_range(q, base + 8, base + 8);
        CHECK_GET(q, base + 8);
        track_handed(t, V(base + 8));
        CHECK_ST(janus_queue_task_done(q), JANUS_OK);
        CHECK_ST(janus_queue_task_done(q), JANUS_OK);
        CHECK_ST(janus_queue_join(q, JANUS_NO_WAIT), JANUS_OK);
        janus_queue_free(q);
        CHECK_SZ(tracker_total(t), before + 6);
    }

    /* unfinished_tasks goes down by the number cleared, never below 0. */
    janus_queue *q = tracked_queue(JANUS_FIFO, 0, t);
    size_t before = tracker_total(t);
    put_range(q, 1, 3);
    CHECK_ST(janus_queue_task_done(q), JANUS_OK);
    CHECK_ST(janus_queue_task_done(q), JANUS_OK);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 1);
    n = 0;
    CHECK_ST(janus_queue_clear(q, &n), JANUS_OK);
    CHECK_SZ(n, 3);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 0);
    CHECK_ST(janus_queue_task_done(q), JANUS_EINVAL);
    CHECK_ST(janus_queue_join(q, JANUS_NO_WAIT), JANUS_OK);
    /* A NULL item is cleared (destroyed) like any other. */
    CHECK_ST(janus_queue_put(q, NULL, JANUS_NO_WAIT), JANUS_OK);
    CHECK_ST(janus_queue_clear(q, &n), JANUS_OK);
    CHECK_SZ(n, 1);
    CHECK_SZ(tracker_destroyed(t, 0), 1);
    CHECK_SZ(tracker_total(t), before + 4);

    /* A join waiting for the cleared items returns. */
    put_range(q, 11, 12);
    worker j;
    memset(&j, 0, sizeof j);
    worker_start(&j, OP_JOIN, q, 10000);
    wait_blocked(&j);
    CHECK(!worker_done(&j));
    CHECK_ST(janus_queue_clear(q, &n), JANUS_OK);
    CHECK_SZ(n, 2);
    worker_finish(&j, 10000);
    CHECK_ST(j.status, JANUS_OK);
    CHECK_MS(j.elapsed_ms, 0, 9000);

    /* After a normal shutdown, clear discards what was left; gets then answer SHUTDOWN. */
    put_range(q, 21, 22);
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    CHECK_ST(janus_queue_clear(q, &n), JANUS_OK);
    CHECK_SZ(n, 2);
    void *item = V(1);
    CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_SHUTDOWN);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 0);
    janus_queue_free(q);
    CHECK_SZ(tracker_total(t), before + 8);

    /* A putter blocked on a full queue is admitted after clear; several are admitted first
     * come, first served, as much as there is room. */
    q = tracked_queue(JANUS_FIFO, 2, t);
    before = tracker_total(t);
    put_range(q, 31, 32);
    worker p[3];
    memset(p, 0, sizeof p);
    for (int i = 0; i < 3; i++) {
        p[i].item = V(33 + i);
        worker_start(&p[i], OP_PUT, q, 10000);
        wait_putters(q, (size_t)i + 1); /* listed before the next starts: the order is known */
    }
    CHECK_SZ(janus_queue_putters(q), 3);
    CHECK_ST(janus_queue_clear(q, &n), JANUS_OK);
    CHECK_SZ(n, 2);
    worker_finish(&p[0], 10000);
    worker_finish(&p[1], 10000);
    CHECK_ST(p[0].status, JANUS_OK);
    CHECK_ST(p[1].status, JANUS_OK);
    CHECK_SZ(janus_queue_qsize(q), 2);
    CHECK_SZ(janus_queue_putters(q), 1);
    CHECK(!worker_done(&p[2])); /* still no room for the third */
    CHECK(tracker_destroyed(t, 31) == 1 && tracker_destroyed(t, 32) == 1);
    CHECK_GET(q, 33);
    track_handed(t, V(33));
    worker_finish(&p[2], 10000);
    CHECK_ST(p[2].status, JANUS_OK);
    CHECK_GET(q, 34);
    track_handed(t, V(34));
    CHECK_GET(q, 35);
    track_handed(t, V(35));
    CHECK_SZ(tracker_total(t), before + 2);
    janus_queue_free(q);

    /* A bounded LIFO and a PRIORITY queue admit a blocked putter too. */
    for (int k = 1; k < 3; k++) {
        intptr_t v = 400 + 10 * k;
        q = tracked_queue((janus_kind)k, 1, t);
        put_range(q, v, v);
        worker w;
        memset(&w, 0, sizeof w);
        w.item = V(v + 1);
        worker_start(&w, OP_PUT, q, 10000);
        wait_putters(q, 1);
        CHECK_ST(janus_queue_clear(q, &n), JANUS_OK);
        CHECK_SZ(n, 1);
        CHECK_SZ(tracker_destroyed(t, v), 1);
        worker_finish(&w, 10000);
        CHECK_ST(w.status, JANUS_OK);
        CHECK_GET(q, v + 1);
        track_handed(t, V(v + 1));
        janus_queue_free(q);
    }

    /* A FIFO queue with items in its lock-free path (ring, and unbounded blocks). */
    for (int bounded = 0; bounded < 2; bounded++) {
        intptr_t v = 600 + 100 * bounded;
        q = tracked_queue(JANUS_FIFO, bounded ? 8 : 0, t);
        before = tracker_total(t);
        put_range(q, v + 1, v + 6);
        CHECK_GET(q, v + 1);
        track_handed(t, V(v + 1));
        CHECK_ST(janus_queue_clear(q, &n), JANUS_OK);
        CHECK_SZ(n, 5);
        CHECK_SZ(tracker_total(t), before + 5);
        CHECK_SZ(janus_queue_qsize(q), 0);
        CHECK_SZ(janus_queue_unfinished_tasks(q), 1);
        put_range(q, v + 11, v + 18);
        if (bounded)
            CHECK_ST(janus_queue_put(q, V(v + 19), JANUS_NO_WAIT), JANUS_FULL);
        for (intptr_t i = v + 11; i <= v + 18; i++) {
            CHECK_GET(q, i);
            track_handed(t, V(i));
        }
        janus_queue_free(q);
        CHECK_SZ(tracker_total(t), before + 5);
    }

    /* Without destroy, clear just forgets the items (and counts them). */
    q = new_queue(JANUS_LIFO, 0);
    put_range(q, 1, 10);
    CHECK_ST(janus_queue_clear(q, &n), JANUS_OK);
    CHECK_SZ(n, 10);
    CHECK_SZ(janus_queue_qsize(q), 0);
    CHECK_SZ(janus_queue_unfinished_tasks(q), 0);
    janus_queue_free(q);

    CHECK_TRACKER(t);
    tracker_free(t);
}

static void test_set_maxsize(void)
{
    begin_test("set_maxsize");
    size_t n;
    CHECK_ST(janus_queue_set_maxsize(NULL, 3), JANUS_EINVAL);

    /* Growing admits blocked putters, first come first served, as far as the room goes. */
    janus_queue *q = new_queue(JANUS_FIFO, 2);
    put_range(q, 1, 2);
    CHECK(janus_queue_full(q));
    CHECK_ST(janus_queue_put(q, V(3), JANUS_NO_WAIT), JANUS_FULL);
    worker p[3];
    memset(p, 0, sizeof p);
    for (int i = 0; i < 3; i++) {
        p[i].item = V(11 + i);
        worker_start(&p[i], OP_PUT, q, i == 2 ? JANUS_WAIT_FOREVER : 10000);
        wait_putters(q, (size_t)i + 1);
    }
    CHECK_ST(janus_queue_set_maxsize(q, 4), JANUS_OK);
    CHECK_SZ(janus_queue_maxsize(q), 4);
    worker_finish(&p[0], 10000);
    worker_finish(&p[1], 10000);
    CHECK_ST(p[0].status, JANUS_OK);
    CHECK_ST(p[1].status, JANUS_OK);
    CHECK_SZ(janus_queue_qsize(q), 4);
    CHECK(janus_queue_full(q));
    CHECK_SZ(janus_queue_putters(q), 1);
    CHECK(!worker_done(&p[2]));
    /* 0: unbounded, the last one goes in. */
    CHECK_ST(janus_queue_set_maxsize(q, 0), JANUS_OK);
    worker_finish(&p[2], 10000);
    CHECK_ST(p[2].status, JANUS_OK);
    CHECK_SZ(janus_queue_maxsize(q), 0);
    CHECK_SZ(janus_queue_qsize(q), 5);
    CHECK(!janus_queue_full(q));
    CHECK_SZ(janus_queue_putters(q), 0);
    CHECK_GET(q, 1);
    CHECK_GET(q, 2);
    CHECK_GET(q, 11);
    CHECK_GET(q, 12);
    CHECK_GET(q, 13);
    put_range(q, 100, 299); /* unbounded now */
    CHECK(!janus_queue_full(q));
    CHECK_SZ(janus_queue_qsize(q), 200);

    /* Shrinking keeps the items; puts answer FULL until gets bring qsize below the limit. */
    CHECK_ST(janus_queue_set_maxsize(q, 198), JANUS_OK);
    CHECK_SZ(janus_queue_maxsize(q), 198);
    CHECK_SZ(janus_queue_qsize(q), 200);
    CHECK(janus_queue_full(q));
    CHECK_ST(janus_queue_put(q, V(7), JANUS_NO_WAIT), JANUS_FULL);
    double t0 = now_ms();
    CHECK_ST(janus_queue_put(q, V(7), 50), JANUS_FULL);
    CHECK_MS(now_ms() - t0, 40, 3000);
    n = 99;
    void *one = V(7);
    CHECK_ST(janus_queue_put_many(q, &one, 1, &n, JANUS_NO_WAIT), JANUS_FULL);
    CHECK_SZ(n, 0);
    CHECK_GET(q, 100);
    CHECK_GET(q, 101);
    CHECK_SZ(janus_queue_qsize(q), 198);
    CHECK(janus_queue_full(q)); /* 198 <= 198: still full */
    CHECK_ST(janus_queue_put(q, V(7), JANUS_NO_WAIT), JANUS_FULL);
    CHECK_GET(q, 102);
    CHECK(!janus_queue_full(q));
    CHECK_ST(janus_queue_put(q, V(300), JANUS_NO_WAIT), JANUS_OK);
    CHECK(janus_queue_full(q));
    CHECK_ST(janus_queue_put(q, V(7), JANUS_NO_WAIT), JANUS_FULL);
    CHECK_SZ(janus_queue_qsize(q), 198);
    /* Every item kept, in order. */
    size_t order_errors = 0;
    for (intptr_t i = 103; i <= 300; i++) {
        void *item = NULL;
        order_errors += janus_queue_get(q, &item, JANUS_NO_WAIT) != JANUS_OK || item != V(i);
    }
    CHECK_SZ(order_errors, 0);
    CHECK(janus_queue_empty(q));
    janus_queue_free(q);

    /* Shrinking while a putter waits: it stays blocked until qsize is below the new limit. */
    q = new_queue(JANUS_LIFO, 3);
    put_range(q, 1, 3);
    worker w;
    memset(&w, 0, sizeof w);
    w.item = V(4);
    worker_start(&w, OP_PUT, q, 10000);
    wait_putters(q, 1);
    CHECK_ST(janus_queue_set_maxsize(q, 2), JANUS_OK);
    CHECK_GET(q, 3); /* qsize 2: not below 2 */
    CHECK_SZ(janus_queue_putters(q), 1);
    CHECK_SZ(janus_queue_qsize(q), 2);
    CHECK(!worker_done(&w));
    CHECK_GET(q, 2); /* qsize 1: room */
    worker_finish(&w, 10000);
    CHECK_ST(w.status, JANUS_OK);
    CHECK_SZ(janus_queue_qsize(q), 2);
    CHECK(janus_queue_full(q));
    CHECK_GET(q, 4);
    CHECK_GET(q, 1);
    /* The same value again changes nothing. */
    CHECK_ST(janus_queue_set_maxsize(q, 2), JANUS_OK);
    CHECK_SZ(janus_queue_maxsize(q), 2);
    janus_queue_free(q);

    /* Values above INT64_MAX (and other huge ones) come back as given; such a queue is
     * never full. */
    q = new_queue(JANUS_PRIORITY, 1);
    put_range(q, 1, 1);
    memset(&w, 0, sizeof w);
    w.item = V(2);
    worker_start(&w, OP_PUT, q, 10000);
    wait_putters(q, 1);
    CHECK_ST(janus_queue_set_maxsize(q, SIZE_MAX), JANUS_OK);
    worker_finish(&w, 10000);
    CHECK_ST(w.status, JANUS_OK);
    const size_t huge[] = {SIZE_MAX, SIZE_MAX - 1, (size_t)INT64_MAX + 1, (size_t)INT64_MAX,
                           (size_t)1 << 40, (size_t)INT64_MAX + 12345};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        CHECK_ST(janus_queue_set_maxsize(q, huge[i]), JANUS_OK);
        report(janus_queue_maxsize(q) == huge[i], __FILE__, __LINE__,
               "janus_queue_maxsize after set_maxsize(%zu): got %zu", huge[i],
               janus_queue_maxsize(q));
        CHECK(!janus_queue_full(q));
        CHECK_ST(janus_queue_put(q, V(10 + (intptr_t)i), JANUS_NO_WAIT), JANUS_OK);
    }
    CHECK_SZ(janus_queue_qsize(q), 2 + sizeof huge / sizeof huge[0]);
    CHECK_ST(janus_queue_set_maxsize(q, 1), JANUS_OK);
    CHECK_SZ(janus_queue_maxsize(q), 1);
    CHECK(janus_queue_full(q));
    CHECK_ST(janus_queue_put(q, V(0), JANUS_NO_WAIT), JANUS_FULL);
    CHECK_GET(q, 1);
    CHECK_GET(q, 2);
    janus_queue_free(q);

    /* A queue made with a huge maxsize reports it as given too. */
    q = new_queue(JANUS_FIFO, (size_t)INT64_MAX + 1);
    report(janus_queue_maxsize(q) == (size_t)INT64_MAX + 1, __FILE__, __LINE__,
           "janus_queue_maxsize of a queue made with 2^63: got %zu", janus_queue_maxsize(q));
    janus_queue_free(q);

    /* A FIFO queue that had items in its lock-free path (the ring, and unbounded blocks). */
    for (int bounded = 0; bounded < 2; bounded++) {
        q = new_queue(JANUS_FIFO, bounded ? 4 : 0);
        put_range(q, 1, 4);
        CHECK_GET(q, 1);
        put_range(q, 5, 5);
        if (bounded)
            CHECK_ST(janus_queue_put(q, V(6), JANUS_NO_WAIT), JANUS_FULL);
        CHECK_ST(janus_queue_set_maxsize(q, 6), JANUS_OK);
        CHECK_SZ(janus_queue_maxsize(q), 6);
        CHECK_SZ(janus_queue_qsize(q), 4);
        put_range(q, 6, 7);
        CHECK(janus_queue_full(q));
        CHECK_ST(janus_queue_put(q, V(8), JANUS_NO_WAIT), JANUS_FULL);
        CHECK_ST(janus_queue_set_maxsize(q, 3), JANUS_OK);
        CHECK_SZ(janus_queue_qsize(q), 6);
        CHECK(janus_queue_full(q));
        for (intptr_t i = 2; i <= 4; i++)
            CHECK_GET(q, i);
        CHECK(janus_queue_full(q)); /* 3 <= 3 */
        CHECK_ST(janus_queue_put(q, V(8), JANUS_NO_WAIT), JANUS_FULL);
        CHECK_GET(q, 5);
        put_range(q, 8, 8);
        for (intptr_t i = 6; i <= 8; i++)
            CHECK_GET(q, i);
        CHECK(janus_queue_empty(q));
        CHECK_SZ(janus_queue_unfinished_tasks(q), 8);
        janus_queue_free(q);
    }

    /* Growing an unbounded queue from 0 to a limit: it becomes bounded. */
    q = new_queue(JANUS_FIFO, 0);
    put_range(q, 1, 3);
    CHECK_ST(janus_queue_set_maxsize(q, 3), JANUS_OK);
    CHECK(janus_queue_full(q));
    CHECK_ST(janus_queue_put(q, V(4), JANUS_NO_WAIT), JANUS_FULL);
    /* After shutdown: the limit changes, puts still answer SHUTDOWN. */
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    CHECK_ST(janus_queue_set_maxsize(q, 10), JANUS_OK);
    CHECK_SZ(janus_queue_maxsize(q), 10);
    CHECK_ST(janus_queue_put(q, V(4), JANUS_NO_WAIT), JANUS_SHUTDOWN);
    CHECK_GET(q, 1);
    janus_queue_free(q);
}

static void test_waiting_counts(void)
{
    begin_test("getters and putters");
    janus_queue *q = new_queue(JANUS_FIFO, 1);
    CHECK_SZ(janus_queue_getters(q), 0);
    CHECK_SZ(janus_queue_putters(q), 0);

    /* Blocked getters: get and get_many. */
    worker g[3];
    memset(g, 0, sizeof g);
    for (int i = 0; i < 3; i++) {
        g[i].count = 4;
        worker_start(&g[i], i == 1 ? OP_GET_MANY : OP_GET, q, 10000);
        wait_getters(q, (size_t)i + 1);
    }
    CHECK_SZ(janus_queue_getters(q), 3);
    CHECK_SZ(janus_queue_putters(q), 0);
    for (int i = 0; i < 3; i++) {
        CHECK_ST(janus_queue_put(q, V(1 + i), 5000), JANUS_OK);
        worker_finish(&g[i], 10000); /* first come, first served */
        CHECK_ST(g[i].status, JANUS_OK);
        CHECK_SZ(janus_queue_getters(q), 2 - (size_t)i);
    }
    CHECK_PTR(g[0].item, V(1));
    CHECK(g[1].done_count == 1 && g[1].items[0] == V(2));
    CHECK_PTR(g[2].item, V(3));

    /* A getter that times out is no longer counted. */
    worker gt;
    memset(&gt, 0, sizeof gt);
    worker_start(&gt, OP_GET, q, 100);
    wait_getters(q, 1);
    worker_finish(&gt, 10000);
    CHECK_ST(gt.status, JANUS_EMPTY);
    CHECK_SZ(janus_queue_getters(q), 0);

    /* Blocked putters: put and put_many. */
    put_range(q, 10, 10);
    worker p[2];
    memset(p, 0, sizeof p);
    p[0].item = V(11);
    worker_start(&p[0], OP_PUT, q, 10000);
    wait_putters(q, 1);
    p[1].items[0] = V(12);
    p[1].items[1] = V(13);
    p[1].count = 2;
    worker_start(&p[1], OP_PUT_MANY, q, 10000);
    wait_putters(q, 2);
    CHECK_SZ(janus_queue_putters(q), 2);
    CHECK_SZ(janus_queue_getters(q), 0);
    /* Shutdown wakes them all: none is counted after. */
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    worker_finish(&p[0], 10000);
    worker_finish(&p[1], 10000);
    CHECK_ST(p[0].status, JANUS_SHUTDOWN);
    CHECK_ST(p[1].status, JANUS_SHUTDOWN);
    CHECK_SZ(janus_queue_putters(q), 0);
    janus_queue_free(q);

    /* Swift tasks waiting in get count too. */
    q = new_queue(JANUS_FIFO, 0);
    consume_ctx *c = consume_ctx_new(0, NULL);
    janus_consumer *cons = janus_consume_async(q, consume_fn, c, 2);
    CHECK(cons != NULL);
    wait_getters(q, 2);
    CHECK_SZ(janus_queue_getters(q), 2);
    janus_consumer_cancel(cons);
    CHECK_ST(janus_consumer_wait(cons, 10000), JANUS_OK);
    consumer_mark_ended(c);
    double limit = now_ms() + 5000;
    while (janus_queue_getters(q) != 0 && now_ms() < limit)
        sleep_ms(1);
    CHECK_SZ(janus_queue_getters(q), 0);
    janus_consumer_free(cons);
    consume_ctx_free(c);
    janus_queue_free(q);

    /* A Swift task waiting in put (a producer on a full queue) counts as a putter. */
    q = new_queue(JANUS_FIFO, 1);
    produce_ctx pc;
    produce_ctx_init(&pc, 1, 0);
    janus_producer *prod = janus_produce_async(q, produce_fn, &pc);
    CHECK(prod != NULL);
    wait_putters(q, 1); /* item 1 is in, item 2 waits */
    CHECK_SZ(janus_queue_putters(q), 1);
    CHECK_SZ(janus_queue_getters(q), 0);
    janus_producer_cancel(prod);
    CHECK_ST(janus_producer_wait(prod, 10000), JANUS_OK);
    producer_mark_ended(&pc);
    limit = now_ms() + 5000;
    while (janus_queue_putters(q) != 0 && now_ms() < limit)
        sleep_ms(1);
    CHECK_SZ(janus_queue_putters(q), 0);
    janus_producer_free(prod);
    janus_queue_free(q);
    pthread_mutex_destroy(&pc.lock);
}

/* ------------------------------------------------------------------------ */
/* Tests: the readiness descriptors                                          */
/* ------------------------------------------------------------------------ */

/* Whether fd polls readable right now (poll with timeout 0). */
static int fd_ready(int fd)
{
    struct pollfd p;
    int rc;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    do {
        rc = poll(&p, 1, 0);
    } while (rc < 0 && errno == EINTR);
    return rc > 0 && (p.revents & POLLIN) != 0;
}

static int fd_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

#define CHECK_READY(fd, want)                                                        \
    report(fd_ready(fd) == (want), __FILE__, __LINE__, "fd %d (%s): expected %s", (fd), \
           #fd, (want) ? "readable" : "quiet")

typedef struct poll_waiter {
    pthread_t thread;
    int fd;
    int timeout_ms;
    int rc;
    double elapsed_ms;
    int done; /* __atomic */
} poll_waiter;

static void *poll_waiter_main(void *arg)
{
    poll_waiter *w = arg;
    struct pollfd p;
    p.fd = w->fd;
    p.events = POLLIN;
    p.revents = 0;
    double t0 = now_ms();
    do {
        w->rc = poll(&p, 1, w->timeout_ms);
    } while (w->rc < 0 && errno == EINTR);
    w->elapsed_ms = now_ms() - t0;
    __atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void test_fd_arguments(void)
{
    begin_test("janus_queue_fd: arguments, one descriptor per readiness");
    janus_queue *q = new_queue(JANUS_FIFO, 2);
    int fd = -7;
    CHECK_ST(janus_queue_fd(NULL, JANUS_READABLE, &fd), JANUS_EINVAL);
    CHECK_ST(janus_queue_fd(q, JANUS_READABLE, NULL), JANUS_EINVAL);
    CHECK_ST(janus_queue_fd(q, JANUS_WRITABLE, NULL), JANUS_EINVAL);
    const int bad[] = {0, 3, -1, 4, 1000, INT32_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        janus_status st = janus_queue_fd(q, (janus_ready)bad[i], &fd);
        report(st == JANUS_EINVAL, __FILE__, __LINE__, "janus_queue_fd(what %d): got %s",
               bad[i], status_name(st));
        CHECK(fd == -7);
        CHECK_ST(janus_queue_fd(q, (janus_ready)bad[i], NULL), JANUS_EINVAL);
    }
    int r1 = -1, r2 = -1, w1 = -1, w2 = -1;
    CHECK_ST(janus_queue_fd(q, JANUS_READABLE, &r1), JANUS_OK);
    CHECK(r1 >= 0);
    CHECK_ST(janus_queue_fd(q, JANUS_READABLE, &r2), JANUS_OK);
    CHECK(r1 == r2);
    CHECK_ST(janus_queue_fd(q, JANUS_WRITABLE, &w1), JANUS_OK);
    CHECK(w1 >= 0 && w1 != r1);
    CHECK_ST(janus_queue_fd(q, JANUS_WRITABLE, &w2), JANUS_OK);
    CHECK(w1 == w2);
    for (int i = 0; i < 10; i++) {
        CHECK_ST(janus_queue_fd(q, JANUS_READABLE, &r2), JANUS_OK);
        CHECK(r1 == r2);
    }
    /* Still EINVAL for bad `what` once made; the descriptors did not change. */
    CHECK_ST(janus_queue_fd(q, (janus_ready)3, &fd), JANUS_EINVAL);
    CHECK(fd == -7);
    /* Close-on-exec and nonblocking, as documented. */
    int fdflags = fcntl(r1, F_GETFD), flflags = fcntl(r1, F_GETFL);
    CHECK(fdflags != -1 && (fdflags & FD_CLOEXEC));
    CHECK(flflags != -1 && (flflags & O_NONBLOCK));
    fdflags = fcntl(w1, F_GETFD);
    flflags = fcntl(w1, F_GETFL);
    CHECK(fdflags != -1 && (fdflags & FD_CLOEXEC));
    CHECK(flflags != -1 && (flflags & O_NONBLOCK));
    /* Open while the queue lives (also after a shutdown), closed by janus_queue_free. */
    CHECK(fd_open(r1) && fd_open(w1));
    CHECK_ST(janus_queue_shutdown(q, true), JANUS_OK);
    CHECK(fd_open(r1) && fd_open(w1));
    CHECK_ST(janus_queue_fd(q, JANUS_READABLE, &r2), JANUS_OK);
    CHECK(r1 == r2);
    janus_queue_free(q);
    errno = 0;
    CHECK(fcntl(r1, F_GETFD) == -1 && errno == EBADF);
    errno = 0;
    CHECK(fcntl(w1, F_GETFD) == -1 && errno == EBADF);

    /* A queue that never asked for a descriptor makes none. */
    int probe = open("/dev/null", O_RDONLY);
    CHECK(probe >= 0);
    if (probe >= 0)
        close(probe);
    q = new_queue(JANUS_FIFO, 0);
    put_range(q, 1, 2);
    CHECK_GET(q, 1);
    int probe2 = open("/dev/null", O_RDONLY);
    CHECK(probe2 == probe); /* the lowest free number is still the same */
    if (probe2 >= 0)
        close(probe2);
    janus_queue_free(q);
}

static void test_fd_readable(void)
{
    begin_test("janus_queue_fd: JANUS_READABLE");
    for (int k = 0; k < 3; k++) {
        janus_queue *q = new_queue((janus_kind)k, k == 1 ? 0 : 8);
        int rfd = -1;
        void *item = NULL, *out[4];
        size_t n;
        CHECK_ST(janus_queue_fd(q, JANUS_READABLE, &rfd), JANUS_OK);
        CHECK_READY(rfd, 0); /* fresh, empty: not readable */
        CHECK_READY(rfd, 0); /* polling does not change it */
        put_range(q, 1, 1);
        CHECK_READY(rfd, 1);
        put_range(q, 2, 3);
        CHECK_READY(rfd, 1);
        /* A get that leaves items: still readable. */
        CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_OK);
        CHECK_READY(rfd, 1);
        CHECK_ST(janus_queue_peek(q, &item, JANUS_NO_WAIT), JANUS_OK);
        CHECK_READY(rfd, 1);
        CHECK_ST(janus_queue_get_many(q, out, 4, &n, JANUS_NO_WAIT), JANUS_OK);
        CHECK_SZ(n, 2);
        /* Empty now, but only a NO_WAIT get answering EMPTY makes it quiet. */
        CHECK_READY(rfd, 1);
        CHECK_ST(janus_queue_get(q, &item, 20), JANUS_EMPTY); /* a timed get does not */
        CHECK_READY(rfd, 1);
        CHECK_ST(janus_queue_peek(q, &item, JANUS_NO_WAIT), JANUS_EMPTY); /* nor a peek */
        CHECK_READY(rfd, 1);
        CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_EMPTY);
        CHECK_READY(rfd, 0);
        CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_EMPTY);
        CHECK_READY(rfd, 0);
        /* The next put makes it readable again. */
        put_range(q, 4, 4);
        CHECK_READY(rfd, 1);
        CHECK_READY(rfd, 1);
        CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_OK);
        CHECK_READY(rfd, 1);
        /* get_many with NO_WAIT answering EMPTY quiets it too. */
        n = 99;
        CHECK_ST(janus_queue_get_many(q, out, 4, &n, JANUS_NO_WAIT), JANUS_EMPTY);
        CHECK_SZ(n, 0);
        CHECK_READY(rfd, 0);
        /* put_many, and a NULL item, make it readable. */
        void *in[2] = {V(5), V(6)};
        CHECK_ST(janus_queue_put_many(q, in, 2, &n, JANUS_NO_WAIT), JANUS_OK);
        CHECK_READY(rfd, 1);
        CHECK_ST(janus_queue_get_many(q, out, 4, &n, JANUS_NO_WAIT), JANUS_OK);
        CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_EMPTY);
        CHECK_READY(rfd, 0);
        CHECK_ST(janus_queue_put(q, NULL, JANUS_NO_WAIT), JANUS_OK);
        CHECK_READY(rfd, 1);
        /* clear empties the queue; the descriptor stays readable until a NO_WAIT EMPTY. */
        CHECK_ST(janus_queue_clear(q, &n), JANUS_OK);
        CHECK_SZ(n, 1);
        CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_EMPTY);
        CHECK_READY(rfd, 0);
        /* An event-loop thread blocked in poll() is woken by a put. */
        poll_waiter pw;
        memset(&pw, 0, sizeof pw);
        pw.fd = rfd;
        pw.timeout_ms = 10000;
        if (pthread_create(&pw.thread, NULL, poll_waiter_main, &pw) != 0)
            FATAL("pthread_create failed");
        sleep_ms(20); /* not ordering: the outcome is the same if it polls after the put */
        put_range(q, 7, 7);
        pthread_join(pw.thread, NULL);
        CHECK(pw.rc == 1);
        CHECK_MS(pw.elapsed_ms, 0, 9000);
        CHECK_GET(q, 7);
        CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_EMPTY);
        CHECK_READY(rfd, 0);
        /* A put from another thread while a getter waits: the getter takes it; the
         * descriptor may then wake a loop that finds nothing (a spurious wakeup). */
        worker g;
        memset(&g, 0, sizeof g);
        worker_start(&g, OP_GET, q, 10000);
        wait_getters(q, 1);
        put_range(q, 8, 8);
        worker_finish(&g, 10000);
        CHECK_ST(g.status, JANUS_OK);
        CHECK_PTR(g.item, V(8));
        CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_EMPTY);
        CHECK_READY(rfd, 0);
        /* Shutdown makes it readable, and it stays readable. */
        CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
        CHECK_READY(rfd, 1);
        CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_SHUTDOWN);
        CHECK_READY(rfd, 1);
        CHECK_ST(janus_queue_get_many(q, out, 4, &n, JANUS_NO_WAIT), JANUS_SHUTDOWN);
        CHECK_READY(rfd, 1);
        CHECK_ST(janus_queue_shutdown(q, true), JANUS_OK);
        CHECK_READY(rfd, 1);
        CHECK(fd_open(rfd));
        janus_queue_free(q);
        CHECK(!fd_open(rfd));
    }

    /* Made on a queue with items: readable at once; made after a shutdown: readable. */
    janus_queue *q = new_queue(JANUS_FIFO, 0);
    int rfd = -1;
    void *item;
    put_range(q, 1, 1);
    CHECK_ST(janus_queue_fd(q, JANUS_READABLE, &rfd), JANUS_OK);
    CHECK_READY(rfd, 1);
    CHECK_GET(q, 1);
    CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_EMPTY);
    CHECK_READY(rfd, 0);
    janus_queue_free(q);
    q = new_queue(JANUS_LIFO, 0);
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    CHECK_ST(janus_queue_fd(q, JANUS_READABLE, &rfd), JANUS_OK);
    CHECK_READY(rfd, 1);
    CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_SHUTDOWN);
    CHECK_READY(rfd, 1);
    janus_queue_free(q);

    /* Shutdown while the descriptor is quiet wakes a loop blocked in poll. */
    q = new_queue(JANUS_FIFO, 0);
    CHECK_ST(janus_queue_fd(q, JANUS_READABLE, &rfd), JANUS_OK);
    poll_waiter pw;
    memset(&pw, 0, sizeof pw);
    pw.fd = rfd;
    pw.timeout_ms = 10000;
    if (pthread_create(&pw.thread, NULL, poll_waiter_main, &pw) != 0)
        FATAL("pthread_create failed");
    sleep_ms(20); /* not ordering: the outcome is the same if it polls after the shutdown */
    CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
    pthread_join(pw.thread, NULL);
    CHECK(pw.rc == 1);
    CHECK_MS(pw.elapsed_ms, 0, 9000);
    janus_queue_free(q);
}

static void test_fd_writable(void)
{
    begin_test("janus_queue_fd: JANUS_WRITABLE");
    void *item = NULL;
    size_t n;

    /* Unbounded: always writable. */
    janus_queue *q = new_queue(JANUS_FIFO, 0);
    int wfd = -1;
    CHECK_ST(janus_queue_fd(q, JANUS_WRITABLE, &wfd), JANUS_OK);
    CHECK_READY(wfd, 1);
    put_range(q, 1, 1000);
    CHECK_READY(wfd, 1);
    janus_queue_free(q);

    for (int k = 0; k < 3; k++) {
        q = new_queue((janus_kind)k, 2);
        CHECK_ST(janus_queue_fd(q, JANUS_WRITABLE, &wfd), JANUS_OK);
        CHECK_READY(wfd, 1);
        put_range(q, 1, 2);
        /* Full, but only a NO_WAIT put answering FULL makes it quiet. */
        CHECK_READY(wfd, 1);
        CHECK_ST(janus_queue_put(q, V(3), 20), JANUS_FULL); /* a timed put does not */
        CHECK_READY(wfd, 1);
        CHECK_ST(janus_queue_put(q, V(3), JANUS_NO_WAIT), JANUS_FULL);
        CHECK_READY(wfd, 0);
        CHECK_ST(janus_queue_put(q, V(3), JANUS_NO_WAIT), JANUS_FULL);
        CHECK_READY(wfd, 0);
        /* A get frees room: readable again. */
        CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_OK);
        CHECK_READY(wfd, 1);
        put_range(q, 3, 3);
        CHECK_READY(wfd, 1);
        /* put_many with NO_WAIT that answers FULL quiets it too. */
        void *in[2] = {V(4), V(5)};
        n = 99;
        CHECK_ST(janus_queue_put_many(q, in, 2, &n, JANUS_NO_WAIT), JANUS_FULL);
        CHECK_SZ(n, 0);
        CHECK_READY(wfd, 0);
        /* get_many frees room. */
        void *out[4];
        CHECK_ST(janus_queue_get_many(q, out, 4, &n, JANUS_NO_WAIT), JANUS_OK);
        CHECK_SZ(n, 2);
        CHECK_READY(wfd, 1);
        /* clear frees room. */
        put_range(q, 6, 7);
        CHECK_ST(janus_queue_put(q, V(8), JANUS_NO_WAIT), JANUS_FULL);
        CHECK_READY(wfd, 0);
        CHECK_ST(janus_queue_clear(q, &n), JANUS_OK);
        CHECK_READY(wfd, 1);
        /* A larger maxsize makes room; a smaller one keeps it readable until a FULL. */
        put_range(q, 9, 10);
        CHECK_ST(janus_queue_put(q, V(11), JANUS_NO_WAIT), JANUS_FULL);
        CHECK_READY(wfd, 0);
        CHECK_ST(janus_queue_set_maxsize(q, 3), JANUS_OK);
        CHECK_READY(wfd, 1);
        CHECK_ST(janus_queue_set_maxsize(q, 1), JANUS_OK);
        CHECK_READY(wfd, 1);
        CHECK_ST(janus_queue_put(q, V(11), JANUS_NO_WAIT), JANUS_FULL);
        CHECK_READY(wfd, 0);
        CHECK_ST(janus_queue_set_maxsize(q, 0), JANUS_OK); /* unbounded */
        CHECK_READY(wfd, 1);
        CHECK_ST(janus_queue_set_maxsize(q, 2), JANUS_OK);
        CHECK_ST(janus_queue_put(q, V(11), JANUS_NO_WAIT), JANUS_FULL);
        CHECK_READY(wfd, 0);
        /* A loop blocked in poll() on it is woken by a get in another thread. */
        poll_waiter pw;
        memset(&pw, 0, sizeof pw);
        pw.fd = wfd;
        pw.timeout_ms = 10000;
        if (pthread_create(&pw.thread, NULL, poll_waiter_main, &pw) != 0)
            FATAL("pthread_create failed");
        sleep_ms(20); /* not ordering: the outcome is the same if it polls after the get */
        CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_OK);
        pthread_join(pw.thread, NULL);
        CHECK(pw.rc == 1);
        CHECK_MS(pw.elapsed_ms, 0, 9000);
        put_range(q, 12, 12);
        CHECK_ST(janus_queue_put(q, V(13), JANUS_NO_WAIT), JANUS_FULL);
        CHECK_READY(wfd, 0);
        /* Shutdown: readable, and it stays so (puts answer SHUTDOWN). */
        CHECK_ST(janus_queue_shutdown(q, false), JANUS_OK);
        CHECK_READY(wfd, 1);
        CHECK_ST(janus_queue_put(q, V(13), JANUS_NO_WAIT), JANUS_SHUTDOWN);
        CHECK_READY(wfd, 1);
        CHECK(fd_open(wfd));
        janus_queue_free(q);
        CHECK(!fd_open(wfd));
    }

    /* Both descriptors of one queue, each with its own rule. */
    q = new_queue(JANUS_FIFO, 1);
    int rfd = -1;
    CHECK_ST(janus_queue_fd(q, JANUS_READABLE, &rfd), JANUS_OK);
    CHECK_ST(janus_queue_fd(q, JANUS_WRITABLE, &wfd), JANUS_OK);
    CHECK_READY(rfd, 0);
    CHECK_READY(wfd, 1);
    put_range(q, 1, 1);
    CHECK_READY(rfd, 1);
    CHECK_READY(wfd, 1);
    CHECK_ST(janus_queue_put(q, V(2), JANUS_NO_WAIT), JANUS_FULL);
    CHECK_READY(rfd, 1);
    CHECK_READY(wfd, 0);
    CHECK_GET(q, 1);
    CHECK_READY(rfd, 1);
    CHECK_READY(wfd, 1);
    CHECK_ST(janus_queue_get(q, &item, JANUS_NO_WAIT), JANUS_EMPTY);
    CHECK_READY(rfd, 0);
    CHECK_READY(wfd, 1);
    janus_queue_free(q);
    CHECK(!fd_open(rfd) && !fd_open(wfd));
}

static void test_fd_emfile(void)
{
    begin_test("janus_queue_fd: no descriptor left (EMFILE)");
    janus_queue *q = new_queue(JANUS_FIFO, 4);
    struct rlimit old;
    if (getrlimit(RLIMIT_NOFILE, &old) != 0) {
        report(0, __FILE__, __LINE__, "getrlimit failed");
        janus_queue_free(q);
        return;
    }
    /* The lowest free descriptor number: every one below it is open, so a limit equal to it
     * leaves none. */
    int lowest = open("/dev/null", O_RDONLY);
    if (lowest < 0) {
        report(0, __FILE__, __LINE__, "open /dev/null failed");
        janus_queue_free(q);
        return;
    }
    close(lowest);
    struct rlimit low = old;
    low.rlim_cur = (rlim_t)lowest;
    if (setrlimit(RLIMIT_NOFILE, &low) != 0) {
        report(0, __FILE__, __LINE__, "setrlimit failed");
        janus_queue_free(q);
        return;
    }
    int probe = open("/dev/null", O_RDONLY);
    int probe_errno = errno;
    int fd = -7;
    errno = 0;
    janus_status st_r = janus_queue_fd(q, JANUS_READABLE, &fd);
    int err_r = errno;
    int fd_after_r = fd;
    errno = 0;
    janus_status st_w = janus_queue_fd(q, JANUS_WRITABLE, &fd);
    int err_w = errno;
    /* The queue still works meanwhile. */
    janus_status st_put = janus_queue_put(q, V(1), JANUS_NO_WAIT);
    void *item = NULL;
    janus_status st_get = janus_queue_get(q, &item, JANUS_NO_WAIT);
    janus_status st_empty = janus_queue_get(q, &item, JANUS_NO_WAIT);
    setrlimit(RLIMIT_NOFILE, &old); /* restored before any check can print */
    if (probe >= 0)
        close(probe);
    CHECK(probe < 0 && probe_errno == EMFILE); /* the test's premise */
    CHECK_ST(st_r, JANUS_ESYS);
    report(err_r == EMFILE, __FILE__, __LINE__, "errno after JANUS_ESYS: %d (%s)", err_r,
           strerror(err_r));
    CHECK(fd_after_r == -7);
    CHECK_ST(st_w, JANUS_ESYS);
    CHECK(err_w == EMFILE);
    CHECK(fd == -7);
    CHECK_ST(st_put, JANUS_OK);
    CHECK_ST(st_get, JANUS_OK);
    CHECK_PTR(item, V(1));
    CHECK_ST(st_empty, JANUS_EMPTY);
    /* Nothing changed: once there are descriptors again, the call works. */
    CHECK_ST(janus_queue_fd(q, JANUS_READABLE, &fd), JANUS_OK);
    CHECK(fd >= 0);
    CHECK_READY(fd, 0);
    put_range(q, 2, 2);
    CHECK_READY(fd, 1);
    int wfd = -1;
    CHECK_ST(janus_queue_fd(q, JANUS_WRITABLE, &wfd), JANUS_OK);
    CHECK(wfd >= 0 && wfd != fd);
    CHECK_READY(wfd, 1);
    janus_queue_free(q);
    CHECK(!fd_open(fd));
}

/* ------------------------------------------------------------------------ */
/* Tests: an event loop racing blocking consumers                           */
/* ------------------------------------------------------------------------ */

#define RACE_PRODUCERS 4
#define RACE_PER_PRODUCER 10000
#define RACE_TAIL 3000 /* put by the main thread once only the loop consumes */
#define RACE_MAGIC 0x72616365u
#define RACE_QUIET_LIMIT_MS 2000.0

typedef struct race_tok {
    unsigned magic;
    int producer; /* 0 .. RACE_PRODUCERS - 1; RACE_PRODUCERS: the main thread's tail */
    int seq;
} race_tok;

typedef struct race {
    janus_queue *q;
    int rfd;
    int use_epoll_et;        /* the loop waits with epoll, edge-triggered */
    unsigned *seen[RACE_PRODUCERS + 1]; /* per token: times consumed (__atomic) */
    long got;                /* __atomic: tokens consumed by anyone */
    long bad;                /* __atomic: foreign tokens, order errors, odd statuses */
    int stop_blocking;       /* __atomic */
    /* the loop's */
    long loop_got; /* __atomic */
    long loop_wakeups, loop_spurious, loop_stalls;
    double loop_worst_quiet_ms;
    janus_status loop_end;
    int loop_done;           /* __atomic */
} race;

typedef struct race_thread {
    race *r;
    int index;
    long got;
    pthread_t thread;
} race_thread;

static race_tok *race_tok_new(int producer, int seq)
{
    race_tok *t = malloc(sizeof *t);
    if (t == NULL)
        FATAL("out of memory");
    t->magic = RACE_MAGIC;
    t->producer = producer;
    t->seq = seq;
    return t;
}

/* One consumed token: counted, order checked (FIFO: per producer, increasing for each
 * consumer), freed, task_done. */
static void race_take(race *r, void *item, int *last)
{
    race_tok *t = item;
    if (t == NULL || t->magic != RACE_MAGIC || t->producer < 0 || t->producer > RACE_PRODUCERS ||
        t->seq < 0 || t->seq >= (t->producer == RACE_PRODUCERS ? RACE_TAIL : RACE_PER_PRODUCER)) {
        __atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
        return;
    }
    __atomic_add_fetch(&r->seen[t->producer][t->seq], 1, __ATOMIC_RELAXED);
    if (t->seq <= last[t->producer])
        __atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
    last[t->producer] = t->seq;
    t->magic = 0;
    free(t);
    if (janus_queue_task_done(r->q) != JANUS_OK)
        __atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&r->got, 1, __ATOMIC_RELEASE);
}

static void *race_producer_main(void *arg)
{
    race_thread *p = arg;
    race *r = p->r;
    for (int seq = 0; seq < RACE_PER_PRODUCER;) {
        if (seq % 16 == 0 && seq + 3 < RACE_PER_PRODUCER) {
            void *batch[3];
            size_t n = 0;
            for (int i = 0; i < 3; i++)
                batch[i] = race_tok_new(p->index, seq + i);
            janus_status st = janus_queue_put_many(r->q, batch, 3, &n, JANUS_WAIT_FOREVER);
            for (size_t i = n; i < 3; i++)
                free(batch[i]);
            if (st != JANUS_OK) {
                __atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
                return NULL;
            }
            seq += 3;
        } else {
            race_tok *t = race_tok_new(p->index, seq);
            janus_status st = janus_queue_put(r->q, t, seq % 5 == 0 ? 60000 : JANUS_WAIT_FOREVER);
            if (st != JANUS_OK) {
                free(t);
                __atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
                return NULL;
            }
            seq++;
        }
    }
    return NULL;
}

static void *race_blocking_main(void *arg)
{
    race_thread *c = arg;
    race *r = c->r;
    int last[RACE_PRODUCERS + 1];
    for (int i = 0; i <= RACE_PRODUCERS; i++)
        last[i] = -1;
    while (!__atomic_load_n(&r->stop_blocking, __ATOMIC_ACQUIRE)) {
        void *items[4];
        size_t n = 0;
        janus_status st;
        if (c->index & 1) {
            st = janus_queue_get_many(r->q, items, 4, &n, 20);
        } else {
            st = janus_queue_get(r->q, &items[0], 20);
            n = st == JANUS_OK;
        }
        if (st == JANUS_EMPTY)
            continue;
        if (st != JANUS_OK) {
            __atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
            break;
        }
        for (size_t i = 0; i < n; i++)
            race_take(r, items[i], last);
        c->got += (long)n;
    }
    return NULL;
}

/* The event loop: waits for the descriptor (poll, or epoll edge-triggered), then drains with
 * JANUS_NO_WAIT until EMPTY; ends on SHUTDOWN.  Watches that the descriptor never stays quiet
 * while items are queued. */
static void *race_loop_main(void *arg)
{
    race *r = arg;
    int last[RACE_PRODUCERS + 1];
    for (int i = 0; i <= RACE_PRODUCERS; i++)
        last[i] = -1;
    int ep = -1;
    if (r->use_epoll_et) {
        ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev;
        memset(&ev, 0, sizeof ev);
        ev.events = EPOLLIN | EPOLLET;
        ev.data.fd = r->rfd;
        if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, r->rfd, &ev) != 0)
            FATAL("epoll setup failed");
    }
    double quiet_since = -1;
    r->loop_end = (janus_status)-1;
    for (;;) {
        int rc;
        if (ep >= 0) {
            struct epoll_event ev;
            rc = epoll_wait(ep, &ev, 1, 50);
        } else {
            struct pollfd p;
            p.fd = r->rfd;
            p.events = POLLIN;
            p.revents = 0;
            rc = poll(&p, 1, 50);
        }
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            __atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
            break;
        }
        if (rc == 0) {
            /* Quiet: fine while the queue is empty; items queued for long means a lost wake. */
            if (janus_queue_qsize(r->q) > 0) {
                double t = now_ms();
                if (quiet_since < 0)
                    quiet_since = t;
                if (t - quiet_since > r->loop_worst_quiet_ms)
                    r->loop_worst_quiet_ms = t - quiet_since;
                if (t - quiet_since > RACE_QUIET_LIMIT_MS) {
                    r->loop_stalls++;
                    quiet_since = -1;
                }
            } else {
                quiet_since = -1;
            }
            continue;
        }
        quiet_since = -1;
        r->loop_wakeups++;
        long got_now = 0;
        for (;;) {
            void *items[8];
            size_t n = 0;
            janus_status st;
            if ((r->loop_wakeups + got_now) & 1) {
                st = janus_queue_get(r->q, &items[0], JANUS_NO_WAIT);
                n = st == JANUS_OK;
            } else {
                st = janus_queue_get_many(r->q, items, 8, &n, JANUS_NO_WAIT);
            }
            if (st == JANUS_OK) {
                for (size_t i = 0; i < n; i++)
                    race_take(r, items[i], last);
                got_now += (long)n;
                continue;
            }
            if (st == JANUS_EMPTY)
                break;
            r->loop_end = st;
            if (st != JANUS_SHUTDOWN)
                __atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
            goto out;
        }
        __atomic_add_fetch(&r->loop_got, got_now, __ATOMIC_RELAXED);
        if (got_now == 0)
            r->loop_spurious++;
    }
out:
    if (ep >= 0)
        close(ep);
    __atomic_store_n(&r->loop_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Waits until r->got reaches want (or limit_ms passes): 1 if it did. */
static int race_wait_got(race *r, long want, double limit_ms)
{
    double limit = now_ms() + limit_ms;
    while (__atomic_load_n(&r->got, __ATOMIC_ACQUIRE) < want) {
        if (now_ms() > limit)
            return 0;
        sleep_ms(1);
    }
    return 1;
}

static void race_run(int use_epoll_et, size_t maxsize)
{
    race r;
    memset(&r, 0, sizeof r);
    r.use_epoll_et = use_epoll_et;
    r.q = new_queue(JANUS_FIFO, maxsize);
    for (int i = 0; i <= RACE_PRODUCERS; i++) {
        r.seen[i] = calloc(i == RACE_PRODUCERS ? RACE_TAIL : RACE_PER_PRODUCER, sizeof(unsigned));
        if (r.seen[i] == NULL)
            FATAL("out of memory");
    }
    CHECK_ST(janus_queue_fd(r.q, JANUS_READABLE, &r.rfd), JANUS_OK);
    pthread_t loop;
    if (pthread_create(&loop, NULL, race_loop_main, &r) != 0)
        FATAL("pthread_create failed");
    race_thread cons[2], prod[RACE_PRODUCERS];
    for (int i = 0; i < 2; i++) {
        memset(&cons[i], 0, sizeof cons[i]);
        cons[i].r = &r;
        cons[i].index = i;
        if (pthread_create(&cons[i].thread, NULL, race_blocking_main, &cons[i]) != 0)
            FATAL("pthread_create failed");
    }
    for (int i = 0; i < RACE_PRODUCERS; i++) {
        memset(&prod[i], 0, sizeof prod[i]);
        prod[i].r = &r;
        prod[i].index = i;
        if (pthread_create(&prod[i].thread, NULL, race_producer_main, &prod[i]) != 0)
            FATAL("pthread_create failed");
    }
    for (int i = 0; i < RACE_PRODUCERS; i++)
        pthread_join(prod[i].thread, NULL);
    const long phase1 = (long)RACE_PRODUCERS * RACE_PER_PRODUCER;
    CHECK(race_wait_got(&r, phase1, 15000));
    __atomic_store_n(&r.stop_blocking, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 2; i++)
        pthread_join(cons[i].thread, NULL);
    long loop_phase1 = __atomic_load_n(&r.loop_got, __ATOMIC_RELAXED);

    /* Phase 2: only the loop consumes, so it must be woken for every item. */
    int tail_put = 0;
    for (int seq = 0; seq < RACE_TAIL; seq++) {
        race_tok *t = race_tok_new(RACE_PRODUCERS, seq);
        if (janus_queue_put(r.q, t, 10000) != JANUS_OK) {
            free(t);
            break;
        }
        tail_put++;
        if (seq % 97 == 0) /* now and then let the loop drain to EMPTY and go quiet */
            race_wait_got(&r, phase1 + tail_put, 5000);
    }
    CHECK(tail_put == RACE_TAIL);
    CHECK(race_wait_got(&r, phase1 + tail_put, 15000));
    CHECK_ST(janus_queue_join(r.q, 5000), JANUS_OK);

    /* Shutdown: the descriptor becomes readable and the loop leaves on SHUTDOWN. */
    CHECK_ST(janus_queue_shutdown(r.q, false), JANUS_OK);
    double limit = now_ms() + 5000;
    while (!__atomic_load_n(&r.loop_done, __ATOMIC_ACQUIRE) && now_ms() < limit)
        sleep_ms(1);
    if (!__atomic_load_n(&r.loop_done, __ATOMIC_ACQUIRE))
        FATAL("the event loop did not end after shutdown");
    pthread_join(loop, NULL);
    CHECK_ST(r.loop_end, JANUS_SHUTDOWN);
    CHECK_READY(r.rfd, 1);

    size_t not_once = 0;
    for (int p = 0; p <= RACE_PRODUCERS; p++) {
        int count = p == RACE_PRODUCERS ? RACE_TAIL : RACE_PER_PRODUCER;
        for (int s = 0; s < count; s++)
            not_once += r.seen[p][s] != 1;
        free(r.seen[p]);
    }
    CHECK_SZ(not_once, 0);
    CHECK(r.bad == 0);
    report(r.loop_stalls == 0, __FILE__, __LINE__,
           "the descriptor stayed quiet for > %.0f ms with items queued %ld times (worst %.0f ms)",
           RACE_QUIET_LIMIT_MS, r.loop_stalls, r.loop_worst_quiet_ms);
    CHECK(r.loop_got >= RACE_TAIL);
    CHECK_SZ(janus_queue_qsize(r.q), 0);
    CHECK_SZ(janus_queue_unfinished_tasks(r.q), 0);
    CHECK_ST(janus_queue_wait_closed(r.q, 5000), JANUS_OK);
    janus_queue_free(r.q);
    CHECK(!fd_open(r.rfd));
    printf("# event loop (%s, maxsize %zu): %ld of %ld items in phase 1 (blocking getters %ld + "
           "%ld), %ld wakeups, %ld spurious, longest quiet with items %.1f ms\n",
           use_epoll_et ? "epoll EPOLLET" : "poll", maxsize, loop_phase1, phase1, cons[0].got,
           cons[1].got, r.loop_wakeups, r.loop_spurious, r.loop_worst_quiet_ms);
}

/* The mirror image: an event-loop producer on the writable descriptor of a bounded FIFO queue
 * (its lock-free ring), two blocking consumers.  The loop puts with JANUS_NO_WAIT until FULL,
 * then waits; the descriptor must never stay quiet while there is room. */
#define WRACE_ITEMS 40000

typedef struct wrace {
    janus_queue *q;
    int wfd;
    size_t maxsize;
    unsigned *seen;      /* per item: times got (__atomic) */
    long got;            /* __atomic */
    long bad;            /* __atomic */
    long wakeups, spurious, stalls, fulls;
    double worst_quiet_ms;
} wrace;

static void *wrace_loop(void *arg)
{
    wrace *w = arg;
    intptr_t next = 1;
    double quiet_since = -1;
    while (next <= WRACE_ITEMS) {
        /* Put until FULL (or done). */
        long put_now = 0;
        while (next <= WRACE_ITEMS) {
            janus_status st;
            if (next % 9 == 0 && next + 1 <= WRACE_ITEMS) {
                void *two[2] = {V(next), V(next + 1)};
                size_t n = 0;
                st = janus_queue_put_many(w->q, two, 2, &n, JANUS_NO_WAIT);
                next += (intptr_t)n;
                put_now += (long)n;
            } else {
                st = janus_queue_put(w->q, V(next), JANUS_NO_WAIT);
                if (st == JANUS_OK) {
                    next++;
                    put_now++;
                }
            }
            if (st == JANUS_FULL) {
                w->fulls++;
                break;
            }
            if (st != JANUS_OK) {
                __atomic_add_fetch(&w->bad, 1, __ATOMIC_RELAXED);
                return NULL;
            }
        }
        if (next > WRACE_ITEMS)
            break;
        if (put_now == 0)
            w->spurious++;
        /* Wait for room. */
        for (;;) {
            struct pollfd p;
            p.fd = w->wfd;
            p.events = POLLIN;
            p.revents = 0;
            int rc = poll(&p, 1, 50);
            if (rc < 0 && errno == EINTR)
                continue;
            if (rc < 0) {
                __atomic_add_fetch(&w->bad, 1, __ATOMIC_RELAXED);
                return NULL;
            }
            if (rc > 0) {
                quiet_since = -1;
                w->wakeups++;
                break;
            }
            if (janus_queue_qsize(w->q) < w->maxsize) {
                double t = now_ms();
                if (quiet_since < 0)
                    quiet_since = t;
                if (t - quiet_since > w->worst_quiet_ms)
                    w->worst_quiet_ms = t - quiet_since;
                if (t - quiet_since > RACE_QUIET_LIMIT_MS) {
                    w->stalls++;
                    quiet_since = -1;
                    break; /* counted; go on putting */
                }
            } else {
                quiet_since = -1;
            }
        }
    }
    return NULL;
}

static void *wrace_consumer(void *arg)
{
    wrace *w = arg;
    for (;;) {
        void *items[3];
        size_t n = 0;
        janus_status st = janus_queue_get_many(w->q, items, 3, &n, 10000);
        if (st == JANUS_SHUTDOWN)
            return NULL;
        if (st != JANUS_OK) {
            __atomic_add_fetch(&w->bad, 1, __ATOMIC_RELAXED);
            return NULL;
        }
        for (size_t i = 0; i < n; i++) {
            intptr_t v = N(items[i]);
            if (v < 1 || v > WRACE_ITEMS)
                __atomic_add_fetch(&w->bad, 1, __ATOMIC_RELAXED);
            else
                __atomic_add_fetch(&w->seen[v - 1], 1, __ATOMIC_RELAXED);
            janus_queue_task_done(w->q);
        }
        __atomic_add_fetch(&w->got, (long)n, __ATOMIC_RELEASE);
    }
}

static void test_fd_writable_loop_race(void)
{
    begin_test("janus_queue_fd: event-loop producer on JANUS_WRITABLE vs blocking consumers");
    wrace w;
    memset(&w, 0, sizeof w);
    w.maxsize = 16;
    w.q = new_queue(JANUS_FIFO, w.maxsize);
    w.seen = calloc(WRACE_ITEMS, sizeof *w.seen);
    if (w.seen == NULL)
        FATAL("out of memory");
    CHECK_ST(janus_queue_fd(w.q, JANUS_WRITABLE, &w.wfd), JANUS_OK);
    pthread_t loop, cons[2];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&cons[i], NULL, wrace_consumer, &w) != 0)
            FATAL("pthread_create failed");
    if (pthread_create(&loop, NULL, wrace_loop, &w) != 0)
        FATAL("pthread_create failed");
    pthread_join(loop, NULL);
    double limit = now_ms() + 15000;
    while (__atomic_load_n(&w.got, __ATOMIC_ACQUIRE) < WRACE_ITEMS && now_ms() < limit)
        sleep_ms(1);
    CHECK_ST(janus_queue_join(w.q, 5000), JANUS_OK);
    CHECK_ST(janus_queue_shutdown(w.q, false), JANUS_OK);
    for (int i = 0; i < 2; i++)
        pthread_join(cons[i], NULL);
    CHECK_READY(w.wfd, 1);
    size_t not_once = 0;
    for (size_t i = 0; i < WRACE_ITEMS; i++)
        not_once += w.seen[i] != 1;
    CHECK_SZ(not_once, 0);
    CHECK(w.bad == 0);
    report(w.stalls == 0, __FILE__, __LINE__,
           "the writable descriptor stayed quiet for > %.0f ms with room %ld times (worst %.0f ms)",
           RACE_QUIET_LIMIT_MS, w.stalls, w.worst_quiet_ms);
    CHECK(w.fulls > 0); /* the loop did wait for room */
    janus_queue_free(w.q);
    CHECK(!fd_open(w.wfd));
    free(w.seen);
    printf("# writable event loop: %d items, %ld FULL answers, %ld wakeups (%ld found no room), "
           "longest quiet with room %.1f ms\n", WRACE_ITEMS, w.fulls, w.wakeups, w.spurious,
           w.worst_quiet_ms);
}

static void test_fd_event_loop_race(void)
{
    begin_test("janus_queue_fd: event loop vs blocking consumers, exactly once");
    race_run(0, 64);
    begin_test("janus_queue_fd: event loop (epoll, edge-triggered), unbounded queue");
    race_run(1, 0);
}

/* A FIFO queue leaving its lock-free path (the first peek or set_maxsize) while a producer and a
 * consumer use that path: FIFO order must survive.  The lane gets a backlog first, then the
 * consumer starts just as the queue leaves the lane, a slightly different moment each round. */
#define LANE_ROUNDS 400
#define LANE_ITEMS 600

typedef struct lane_pair {
    janus_queue *q;
    int go_producer, go_consumer; /* __atomic */
    long out_of_order;
    intptr_t first_bad, first_bad_after;
    janus_status producer_status, consumer_status;
} lane_pair;

static void *lane_pair_producer(void *arg)
{
    lane_pair *l = arg;
    while (!__atomic_load_n(&l->go_producer, __ATOMIC_ACQUIRE)) {
    }
    for (intptr_t i = 1; i <= LANE_ITEMS; i++) {
        janus_status st = janus_queue_put(l->q, V(i), 10000);
        if (st != JANUS_OK) {
            l->producer_status = st;
            break;
        }
    }
    return NULL;
}

static void *lane_pair_consumer(void *arg)
{
    lane_pair *l = arg;
    while (!__atomic_load_n(&l->go_consumer, __ATOMIC_ACQUIRE)) {
    }
    intptr_t last = 0;
    for (int k = 0; k < LANE_ITEMS; k++) {
        void *x = NULL;
        janus_status st = janus_queue_get(l->q, &x, 10000);
        if (st != JANUS_OK) {
            l->consumer_status = st;
            break;
        }
        if (N(x) <= last && l->out_of_order++ == 0) {
            l->first_bad = N(x);
            l->first_bad_after = last;
        }
        last = N(x);
    }
    return NULL;
}

static void test_lane_leave_order(void)
{
    begin_test("FIFO order when the queue leaves its lock-free path under load");
    int bad_rounds = 0, bad_status = 0;
    for (int round = 0; round < LANE_ROUNDS; round++) {
        int use_peek = round % 2 == 0;
        size_t maxsize = (round / 2) % 2 ? 8 : 0;
        lane_pair l;
        memset(&l, 0, sizeof l);
        l.q = new_queue(JANUS_FIFO, maxsize);
        pthread_t p, c;
        if (pthread_create(&p, NULL, lane_pair_producer, &l) != 0 ||
            pthread_create(&c, NULL, lane_pair_consumer, &l) != 0)
            FATAL("pthread_create failed");
        __atomic_store_n(&l.go_producer, 1, __ATOMIC_RELEASE);
        size_t backlog = maxsize ? maxsize : 256;
        double limit = now_ms() + 2000;
        while (janus_queue_qsize(l.q) < backlog && now_ms() < limit) {
        }
        __atomic_store_n(&l.go_consumer, 1, __ATOMIC_RELEASE);
        for (volatile int spin = 0; spin < (round * 7919) % 3000; spin++) {
        }
        void *x;
        if (use_peek)
            (void)janus_queue_peek(l.q, &x, JANUS_NO_WAIT);
        else
            (void)janus_queue_set_maxsize(l.q, maxsize ? maxsize + 1 : 100000);
        pthread_join(p, NULL);
        pthread_join(c, NULL);
        if (l.producer_status != JANUS_OK || l.consumer_status != JANUS_OK)
            bad_status++;
        if (l.out_of_order) {
            if (bad_rounds < 3)
                printf("# round %d (%s, maxsize %zu): item %ld came after item %ld\n", round,
                       use_peek ? "peek" : "set_maxsize", maxsize, (long)l.first_bad,
                       (long)l.first_bad_after);
            bad_rounds++;
        }
        janus_queue_free(l.q);
    }
    CHECK(bad_status == 0);
    report(bad_rounds == 0, __FILE__, __LINE__,
           "FIFO order broken in %d of %d rounds (one producer, one consumer, the first peek or "
           "set_maxsize made while they run)", bad_rounds, LANE_ROUNDS);
}

/* ------------------------------------------------------------------------ */

int main(void)
{
    pthread_t dog;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (pthread_create(&dog, NULL, watchdog, NULL) != 0)
        FATAL("pthread_create failed");
    pthread_detach(dog);

    double t0 = now_ms();
    test_version_and_strerror();
    test_new();
    test_null_queue();
    test_orderings();
    test_priority_default();
    test_priority_stable_custom();
    test_snapshots();
    test_null_item();
    test_nowait_and_timeouts();
    test_invalid_arguments();
    test_huge_timeouts();
    test_blocking_handoff();
    test_fairness();
    test_task_done_join();
    test_put_many();
    test_get_many();
    test_shutdown_normal();
    test_shutdown_immediate();
    test_shutdown_idempotent();
    test_wait_closed();
    test_close_and_free_destroy();
    test_free_while_blocked();
    test_stress_threads();
    test_consumer_basic();
    test_consumer_stop();
    test_consumer_shutdown_drain();
    test_consumer_wait_cancel_free();
    test_producer_basic();
    test_producer_stop();
    test_producer_to_consumer();
    test_new_functions_null();
    test_peek();
    test_clear();
    test_set_maxsize();
    test_waiting_counts();
    test_fd_arguments();
    test_fd_readable();
    test_fd_writable();
    test_fd_emfile();
    test_fd_event_loop_race();
    test_fd_writable_loop_race();
    test_lane_leave_order();
    __atomic_store_n(&g_deadline_ms, 0, __ATOMIC_RELEASE);

    printf("# all tests ran in %.0f ms\n", now_ms() - t0);
    print_summary(0);
    return g_failed == 0 ? 0 : 1;
}
