/*
 * hostile.c - libjanus.so against hostile callers.  Each check is counted;
 * the last line is "N passed, N failed" (exit status 1 if any failed).
 *
 *  1. janus_queue_free while threads are blocked in get, in put, and in join;
 *     while a janus_consume_async consumer runs (busy, and idle), and while a
 *     janus_produce_async producer waits on a full queue.  Blocked calls
 *     return JANUS_SHUTDOWN, the items still queued go to destroy exactly
 *     once, a blocked putter keeps its item, nothing leaks.
 *  2. A slow destroy callback (1 ms per item): it runs with no lock held,
 *     so other threads are served meanwhile.  A slow consume callback.
 *  3. An inconsistent compare function (random answers) on a PRIORITY queue:
 *     no crash, every item comes out (or is destroyed) exactly once.
 *  4. 5,000 queues created, used and freed in a loop (some with a consumer).
 *  5. 2,000 threads blocked in get plus 2,000 Swift tasks waiting (consumers)
 *     on one queue, all woken by one shutdown, all ending promptly.  Threads
 *     get 64 KiB stacks; if the system cannot make that many, the test scales
 *     down and says so.
 *  6. The extras and the readiness descriptors: NULL and bad arguments in every parameter of
 *     peek, clear, set_maxsize, getters/putters and janus_queue_fd, and huge maxsize values;
 *     set_maxsize churning while threads block in put and get; a FIFO queue leaving its
 *     lock-free lane (first peek / set_maxsize / clear) under load; clear racing producers
 *     and consumers (destroy ledger); peek racing gets (the peeked pointer is always a token
 *     that was put); free while threads wait in peek; janus_queue_fd asked by many threads
 *     at once (one descriptor each); queues freed with their descriptors in an epoll set (they
 *     close, leave the set, nothing leaks); pollers woken by set_maxsize and shutdown.
 *
 * Waiting until a call is really blocked: the C API has no waiter count, so a
 * thread increments a shared counter just before its blocking call, the main
 * thread polls that counter, then gives a bounded grace period (GRACE_MS) for
 * the last threads to get from the increment into the call and park.  That
 * grace period is the one sleep used for ordering in this file.  For a free,
 * it is also what makes the test legal: no call may *start* on a freed queue.
 *
 * Environment: HOSTILE_SCALE=valgrind shrinks the counts (same checks) for a
 * run under valgrind.  A watchdog fails the run (exit 1) instead of hanging
 * if one test takes far longer than its budget.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "janus.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_ACQ_REL)

/* ------------------------------------------------------------------------ */
/* Checks, timing, watchdog                                                 */
/* ------------------------------------------------------------------------ */

static pthread_mutex_t g_print_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_passed, g_failed;
static const char *g_test = "(none)";
static int g_scale_valgrind;

static void report(bool ok, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void report(bool ok, int line, const char *fmt, ...)
{
    pthread_mutex_lock(&g_print_lock);
    if (ok) {
        g_passed++;
    } else {
        g_failed++;
        va_list ap;
        printf("FAIL hostile.c:%d [%s] ", line, LOAD(&g_test));
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        fflush(stdout);
    }
    pthread_mutex_unlock(&g_print_lock);
}

#define CHECK(cond, ...) report(!!(cond), __LINE__, __VA_ARGS__)

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double ms_since(uint64_t t0) { return (double)(now_ns() - t0) / 1e6; }

static void sleep_us(unsigned us)
{
    struct timespec ts = {us / 1000000u, (long)(us % 1000000u) * 1000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* The grace period after every waiter has announced itself (see the top). */
static unsigned grace_ms(void) { return g_scale_valgrind ? 1000 : 200; }

/* Polls *counter until it reaches n (or timeout_ms passes), then the grace period. */
static bool wait_announced(const int *counter, int n, unsigned timeout_ms)
{
    uint64_t t0 = now_ns();
    while (LOAD(counter) < n) {
        if (ms_since(t0) > timeout_ms) return false;
        sleep_us(1000);
    }
    sleep_us(grace_ms() * 1000u);
    return true;
}

static uint64_t g_deadline_ns;  /* atomic; 0 = none */

static void begin_test(const char *name, unsigned budget_s)
{
    if (g_scale_valgrind) budget_s *= 20;
    STORE(&g_test, name);
    STORE(&g_deadline_ns, now_ns() + (uint64_t)budget_s * 1000000000u);
    printf("-- %s\n", name);
    fflush(stdout);
}

static void *watchdog(void *arg)
{
    (void)arg;
    for (;;) {
        sleep_us(200000);
        uint64_t d = LOAD(&g_deadline_ns);
        if (d && now_ns() > d) {
            pthread_mutex_lock(&g_print_lock);
            printf("FAIL watchdog: test \"%s\" overran its time budget (a call did not return)\n",
                   LOAD(&g_test));
            printf("%d passed, %d failed\n", g_passed, g_failed + 1);
            fflush(stdout);
            _exit(1);
        }
    }
    return NULL;
}

/* Threads with small stacks (64 KiB): 0 on success. */
static int start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 * 1024);
    int rc = pthread_create(t, &a, fn, arg);
    pthread_attr_destroy(&a);
    return rc;
}

static const char *status_name(janus_status s)
{
    switch (s) {
    case JANUS_OK: return "OK";
    case JANUS_EMPTY: return "EMPTY";
    case JANUS_FULL: return "FULL";
    case JANUS_TIMEOUT: return "TIMEOUT";
    case JANUS_SHUTDOWN: return "SHUTDOWN";
    case JANUS_EINVAL: return "EINVAL";
    case JANUS_ENOMEM: return "ENOMEM";
    case JANUS_EMISUSE: return "EMISUSE";
    case JANUS_ESYS: return "ESYS";
    case JANUS_EFORK: return "EFORK";
    }
    return "?";
}

/* ------------------------------------------------------------------------ */
/* Tokens and the ledger                                                    */
/* ------------------------------------------------------------------------ */

#define TOK_MAGIC 0x484f5354u /* "HOST" */
#define LEDGER_CAP (1u << 20)

#define END_GOT 1u        /* a get, or a consumer fn */
#define END_DESTROYED 16u /* the destroy callback */
#define END_KEPT 64u      /* a put failed: the caller kept it */

typedef struct tok {
    uint32_t magic;
    uint32_t id;
    uint32_t key;
} tok;

static unsigned char *g_ledger;
static uint32_t g_made;       /* atomic */
static uint32_t g_destroyed;  /* atomic */
static unsigned g_destroy_sleep_us;

static void ledger_reset(void)
{
    memset(g_ledger, 0, LOAD(&g_made) < LEDGER_CAP ? LOAD(&g_made) + 1 : LEDGER_CAP);
    STORE(&g_made, 0);
    STORE(&g_destroyed, 0);
    STORE(&g_destroy_sleep_us, 0);
}

static tok *tok_new(void)
{
    uint32_t id = ADD(&g_made, 1);
    if (id >= LEDGER_CAP) {
        fprintf(stderr, "hostile: ledger full\n");
        abort();
    }
    tok *t = malloc(sizeof *t);
    if (!t) abort();
    t->magic = TOK_MAGIC;
    t->id = id;
    t->key = (uint32_t)(id * 2654435761u) >> 29;
    return t;
}

static int g_end_errors;  /* atomic: reported once per test by ledger_check */

static void tok_end(void *p, unsigned how)
{
    tok *t = p;
    if (!t || t->magic != TOK_MAGIC || t->id >= LOAD(&g_made)) {
        if (ADD(&g_end_errors, 1) < 5)
            printf("  bad item %p ended (how %u)\n", p, how);
        return;
    }
    unsigned char old = __atomic_fetch_add(&g_ledger[t->id], (unsigned char)how, __ATOMIC_ACQ_REL);
    if (old != 0 && ADD(&g_end_errors, 1) < 5)
        printf("  item %u ended twice (ledger %u, now +%u)\n", t->id, old, how);
    t->magic = 0;
    free(t);
}

static void destroy_cb(void *item, void *ctx)
{
    (void)ctx;
    unsigned us = LOAD(&g_destroy_sleep_us);
    if (us) sleep_us(us);
    ADD(&g_destroyed, 1);
    tok_end(item, END_DESTROYED);
}

/* Every token made so far ended exactly once.  Returns the counts by kind of end. */
static void ledger_check(const char *what, unsigned *got, unsigned *destroyed, unsigned *kept)
{
    unsigned g = 0, d = 0, k = 0, lost = 0, twice = 0;
    uint32_t made = LOAD(&g_made);
    for (uint32_t i = 0; i < made; i++) {
        unsigned char v = g_ledger[i];
        if (v == END_GOT) g++;
        else if (v == END_DESTROYED) d++;
        else if (v == END_KEPT) k++;
        else if (v == 0) lost++;
        else twice++;
    }
    CHECK(lost == 0 && twice == 0 && LOAD(&g_end_errors) == 0,
          "%s: of %u items %u never ended, %u ended twice, %d bad ends", what, made, lost, twice,
          LOAD(&g_end_errors));
    STORE(&g_end_errors, 0);
    if (got) *got = g;
    if (destroyed) *destroyed = d;
    if (kept) *kept = k;
}

static janus_queue *new_queue(janus_kind kind, size_t maxsize, janus_compare_fn compare)
{
    janus_options o;
    memset(&o, 0, sizeof o);
    o.kind = kind;
    o.maxsize = maxsize;
    o.destroy = destroy_cb;
    o.compare = compare;
    janus_queue *q = janus_queue_new_with(&o);
    if (!q) {
        printf("janus_queue_new_with gave NULL\n");
        exit(1);
    }
    return q;
}

/* ------------------------------------------------------------------------ */
/* Blocked threads                                                          */
/* ------------------------------------------------------------------------ */

typedef struct blocked {
    janus_queue *q;
    int *announced;
    int64_t timeout;
    tok *item;            /* for putters: its item */
    janus_status status;
    uint64_t returned_ns;
} blocked;

static void *blocked_get(void *arg)
{
    blocked *b = arg;
    void *x = NULL;
    ADD(b->announced, 1);
    b->status = janus_queue_get(b->q, &x, b->timeout);
    b->returned_ns = now_ns();
    if (b->status == JANUS_OK) tok_end(x, END_GOT);
    return NULL;
}

static void *blocked_put(void *arg)
{
    blocked *b = arg;
    ADD(b->announced, 1);
    b->status = janus_queue_put(b->q, b->item, b->timeout);
    b->returned_ns = now_ns();
    if (b->status != JANUS_OK) tok_end(b->item, END_KEPT);
    return NULL;
}

static void *blocked_join(void *arg)
{
    blocked *b = arg;
    ADD(b->announced, 1);
    b->status = janus_queue_join(b->q, b->timeout);
    b->returned_ns = now_ns();
    return NULL;
}

/* Starts n threads running fn on b[0..n-1] (alternately waiting forever and with a long
 * timeout; putters get a fresh token each), waits until all have announced themselves, frees
 * the queue and joins them. Returns when janus_queue_free was called (now_ns); *free_ms, if
 * not NULL, is how long the free itself took. */
static uint64_t free_with_blocked(janus_queue *q, blocked *b, pthread_t *t, int n,
                                  void *(*fn)(void *), bool with_items, double *free_ms)
{
    int announced = 0;
    for (int i = 0; i < n; i++) {
        memset(&b[i], 0, sizeof b[i]);
        b[i].q = q;
        b[i].announced = &announced;
        b[i].timeout = i % 2 ? JANUS_WAIT_FOREVER : 60000;  /* forever, and a long timeout */
        b[i].item = with_items ? tok_new() : NULL;
        b[i].status = (janus_status)-1;
        if (start_thread(&t[i], fn, &b[i]) != 0) {
            printf("cannot start a thread\n");
            exit(1);
        }
    }
    CHECK(wait_announced(&announced, n, 10000), "threads did not start");
    uint64_t t0 = now_ns();
    janus_queue_free(q);
    if (free_ms) *free_ms = ms_since(t0);
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    return t0;
}

/* 1a/1b: free while n threads block in get (empty queue) or put (full queue). */
static void test_free_blocked(bool putters)
{
    begin_test(putters ? "free while threads are blocked in put" :
                         "free while threads are blocked in get", 30);
    ledger_reset();
    enum { N = 8, FILL = 5 };
    janus_queue *q = new_queue(putters ? JANUS_LIFO : JANUS_FIFO, putters ? FILL : 0, NULL);
    if (putters)
        for (int i = 0; i < FILL; i++) CHECK(janus_queue_put(q, tok_new(), 0) == JANUS_OK, "fill");
    blocked b[N];
    pthread_t t[N];
    double free_ms = 0;
    uint64_t t0 = free_with_blocked(q, b, t, N, putters ? blocked_put : blocked_get, putters, &free_ms);
    double woke_ms = 0;
    for (int i = 0; i < N; i++) {
        CHECK(b[i].status == JANUS_SHUTDOWN, "blocked %s %d (timeout %" PRId64 ") answered %s",
              putters ? "put" : "get", i, b[i].timeout, status_name(b[i].status));
        double w = (double)(b[i].returned_ns - t0) / 1e6;
        if (w > woke_ms) woke_ms = w;
    }
    CHECK(woke_ms < 5000, "the blocked callers took %.0f ms to return after free", woke_ms);
    unsigned got, destroyed, kept;
    ledger_check("after free", &got, &destroyed, &kept);
    CHECK(destroyed == (putters ? FILL : 0), "free destroyed %u items, %d were queued", destroyed,
          putters ? FILL : 0);
    CHECK(kept == (putters ? N : 0), "%u putters kept their item, expected %d", kept,
          putters ? N : 0);
    printf("   %d blocked %s returned JANUS_SHUTDOWN within %.1f ms of free (free took %.1f ms);"
           " %u queued items destroyed\n", N, putters ? "putters" : "getters", woke_ms, free_ms,
           destroyed);
}

/* 1c: free while threads block in join. With every unfinished item still queued the
 * discard brings the count to 0, so the joins end (OK; SHUTDOWN also accepted). With one
 * item taken and never marked done, no task_done can come any more: janus_queue_free
 * says blocked calls return JANUS_SHUTDOWN, and they must, promptly, not hang. */
static void test_free_blocked_join(bool one_taken)
{
    begin_test(one_taken ? "free while threads are blocked in join, one item taken and not done" :
                           "free while threads are blocked in join", 30);
    ledger_reset();
    enum { N = 4, ITEMS = 10 };
    janus_queue *q = new_queue(JANUS_FIFO, 0, NULL);
    for (int i = 0; i < ITEMS; i++) janus_queue_put(q, tok_new(), 0);
    if (one_taken) {
        void *x = NULL;
        CHECK(janus_queue_get(q, &x, 0) == JANUS_OK, "take one item");
        tok_end(x, END_GOT);
    }
    blocked b[N];
    pthread_t t[N];
    uint64_t t0 = free_with_blocked(q, b, t, N, blocked_join, false, NULL);
    for (int i = 0; i < N; i++) {
        CHECK(b[i].status == JANUS_SHUTDOWN || (!one_taken && b[i].status == JANUS_OK),
              "blocked join %d answered %s", i, status_name(b[i].status));
        CHECK((double)(b[i].returned_ns - t0) / 1e6 < 5000, "blocked join %d took %.0f ms", i,
              (double)(b[i].returned_ns - t0) / 1e6);
    }
    double worst = 0;
    for (int i = 0; i < N; i++)
        if ((double)(b[i].returned_ns - t0) / 1e6 > worst) worst = (double)(b[i].returned_ns - t0) / 1e6;
    unsigned destroyed;
    ledger_check("after free", NULL, &destroyed, NULL);
    CHECK(destroyed == ITEMS - (one_taken ? 1u : 0u), "free destroyed %u of %d items", destroyed,
          ITEMS - (one_taken ? 1 : 0));
    printf("   %d blocked joins returned %s within %.1f ms of free; %u queued items destroyed\n", N,
           status_name(b[0].status), worst, destroyed);
}

/* ------------------------------------------------------------------------ */
/* Consumers and producers at free                                          */
/* ------------------------------------------------------------------------ */

typedef struct cctx {
    unsigned sleep_us;
    int calls;       /* atomic */
    int ended;       /* atomic: janus_consumer_wait said it ended */
    int late_calls;  /* atomic: fn calls after that */
} cctx;

static int consume_fn(void *item, void *ctx)
{
    cctx *c = ctx;
    if (LOAD(&c->ended)) ADD(&c->late_calls, 1);
    if (c->sleep_us) sleep_us(c->sleep_us);
    ADD(&c->calls, 1);
    tok_end(item, END_GOT);
    return 0;
}

typedef struct pctx {
    int made;   /* atomic */
    int limit;  /* 0: none */
} pctx;

static janus_status produce_fn(void **out, void *ctx)
{
    pctx *p = ctx;
    if (p->limit && LOAD(&p->made) >= p->limit) return JANUS_EMPTY;
    ADD(&p->made, 1);
    *out = tok_new();
    return JANUS_OK;
}

/* 1d: free while a consumer of 4 tasks is busy (items in flight and queued), and
 * while one is idle (its tasks wait in get); then free the consumer. */
static void test_free_consumer(bool busy)
{
    begin_test(busy ? "free while a consumer runs (busy)" : "free while a consumer runs (idle)", 30);
    ledger_reset();
    int items = busy ? (g_scale_valgrind ? 200 : 2000) : 0;
    janus_queue *q = new_queue(JANUS_FIFO, 0, NULL);
    for (int i = 0; i < items; i++) janus_queue_put(q, tok_new(), 0);
    cctx c;
    memset(&c, 0, sizeof c);
    c.sleep_us = busy ? 200 : 0;
    janus_consumer *con = janus_consume_async(q, consume_fn, &c, 4);
    CHECK(con != NULL, "janus_consume_async gave NULL");
    if (!con) return;
    if (busy) {
        uint64_t t0 = now_ns();  /* until a few items are through */
        while (LOAD(&c.calls) < 20 && ms_since(t0) < 10000) sleep_us(1000);
    } else {
        sleep_us(grace_ms() * 1000u);  /* the grace period: let the tasks suspend in get */
    }
    janus_queue_free(q);
    uint64_t t0 = now_ns();
    janus_status st = janus_consumer_wait(con, 10000);
    double ms = ms_since(t0);
    CHECK(st == JANUS_OK, "janus_consumer_wait after free answered %s", status_name(st));
    STORE(&c.ended, 1);
    janus_consumer_free(con);
    CHECK(LOAD(&c.late_calls) == 0, "fn called %d times after the consumer ended", c.late_calls);
    unsigned got, destroyed;
    ledger_check("after free", &got, &destroyed, NULL);
    CHECK((int)(got + destroyed) == items, "%u consumed + %u destroyed of %d", got, destroyed,
          items);
    printf("   consumer ended %.1f ms after free: %u items consumed, %u destroyed\n", ms, got,
           destroyed);
}

/* 1e: free while a producer waits on a full queue: its held item goes to destroy. */
static void test_free_producer(void)
{
    begin_test("free while a producer waits on a full queue", 30);
    ledger_reset();
    janus_queue *q = new_queue(JANUS_FIFO, 3, NULL);
    pctx p = {0, 0};
    janus_producer *pr = janus_produce_async(q, produce_fn, &p);
    CHECK(pr != NULL, "janus_produce_async gave NULL");
    if (!pr) return;
    uint64_t t0 = now_ns();
    while (!(janus_queue_full(q) && LOAD(&p.made) >= 4) && ms_since(t0) < 10000) sleep_us(1000);
    sleep_us(grace_ms() * 1000u);  /* the grace period: let its put suspend */
    janus_queue_free(q);
    janus_status st = janus_producer_wait(pr, 10000);
    CHECK(st == JANUS_OK, "janus_producer_wait after free answered %s", status_name(st));
    janus_producer_free(pr);
    unsigned destroyed;
    ledger_check("after free", NULL, &destroyed, NULL);
    CHECK((int)destroyed == LOAD(&p.made), "%u destroyed of %d made (3 queued + 1 held)", destroyed,
          p.made);
    printf("   producer ended after free; %u items destroyed (%d made: 3 queued, 1 held)\n",
           destroyed, LOAD(&p.made));
}

/* ------------------------------------------------------------------------ */
/* Slow callbacks                                                           */
/* ------------------------------------------------------------------------ */

typedef struct prober {
    janus_queue *q;
    int *destroy_started;  /* set by the test once destroy runs */
    double worst_ms;
    janus_status put_status;
    int probes;
} prober;

static void *probe_thread(void *arg)
{
    prober *p = arg;
    while (!LOAD(p->destroy_started)) sleep_us(200);
    for (int i = 0; i < 20; i++) {
        tok *t = tok_new();
        uint64_t t0 = now_ns();
        p->put_status = janus_queue_put(p->q, t, JANUS_NO_WAIT);
        (void)janus_queue_qsize(p->q);
        (void)janus_queue_is_shutdown(p->q);
        double ms = ms_since(t0);
        if (p->put_status != JANUS_OK) tok_end(t, END_KEPT);
        if (ms > p->worst_ms) p->worst_ms = ms;
        p->probes++;
        sleep_us(2000);
    }
    return NULL;
}

static int g_destroy_started;

static void slow_destroy_cb(void *item, void *ctx)
{
    STORE(&g_destroy_started, 1);
    destroy_cb(item, ctx);
}

/* 2a: a destroy of 1 ms per item: close takes ~N ms, but runs with no lock held, so
 * another thread's calls answer at once (put: SHUTDOWN) meanwhile. */
static void test_slow_destroy(void)
{
    begin_test("slow destroy callback (1 ms per item)", 30);
    ledger_reset();
    int n = g_scale_valgrind ? 50 : 200;
    janus_options o;
    memset(&o, 0, sizeof o);
    o.kind = JANUS_FIFO;
    o.destroy = slow_destroy_cb;
    janus_queue *q = janus_queue_new_with(&o);
    for (int i = 0; i < n; i++) janus_queue_put(q, tok_new(), 0);
    STORE(&g_destroy_started, 0);
    STORE(&g_destroy_sleep_us, 1000u);
    prober p;
    memset(&p, 0, sizeof p);
    p.q = q;
    p.destroy_started = &g_destroy_started;
    pthread_t t;
    if (start_thread(&t, probe_thread, &p) != 0) exit(1);
    uint64_t t0 = now_ns();
    janus_queue_close(q);
    double close_ms = ms_since(t0);
    pthread_join(t, NULL);
    STORE(&g_destroy_sleep_us, 0);
    CHECK(close_ms >= n * 0.9, "close with %d slow destroys took only %.0f ms", n, close_ms);
    CHECK(p.probes == 20 && p.put_status == JANUS_SHUTDOWN,
          "a put during the destroys answered %s", status_name(p.put_status));
    /* Under the lock, the first probe would wait for (nearly) the whole close. */
    CHECK(p.worst_ms < close_ms / 2, "calls during the destroys took up to %.1f ms (close %.0f ms):"
          " destroy seems to run under the queue lock", p.worst_ms, close_ms);
    /* free: nothing left to destroy */
    uint32_t d = LOAD(&g_destroyed);
    janus_queue_free(q);
    CHECK(LOAD(&g_destroyed) == d, "free destroyed again after close");
    unsigned destroyed;
    ledger_check("after close", NULL, &destroyed, NULL);
    CHECK((int)destroyed == n, "%u of %d destroyed", destroyed, n);
    printf("   close: %d destroys in %.0f ms; calls from another thread meanwhile: worst %.2f ms\n",
           n, close_ms, p.worst_ms);
}

typedef struct cgetter {
    janus_queue *q;
    int got;
} cgetter;

/* A C thread that gets now and then (every 2 ms), so the slow consumer does most. */
static void *getter_thread(void *arg)
{
    cgetter *g = arg;
    for (;;) {
        sleep_us(2000);
        void *x;
        janus_status st = janus_queue_get(g->q, &x, 5);
        if (st == JANUS_OK) {
            g->got++;
            tok_end(x, END_GOT);
            janus_queue_task_done(g->q);
        } else if (st == JANUS_SHUTDOWN) {
            break;
        } else if (st != JANUS_EMPTY) {
            CHECK(0, "getter: get answered %s", status_name(st));
            break;
        }
    }
    return NULL;
}

/* 2b: a consume fn of 1 ms per item, 2 tasks, on a small bounded queue with a C
 * producer and a C getter: everything arrives exactly once; join works. */
static void test_slow_consume(void)
{
    begin_test("slow consume callback (1 ms per item)", 30);
    ledger_reset();
    int n = g_scale_valgrind ? 60 : 300;
    janus_queue *q = new_queue(JANUS_FIFO, 4, NULL);
    cctx c;
    memset(&c, 0, sizeof c);
    c.sleep_us = 1000;
    janus_consumer *con = janus_consume_async(q, consume_fn, &c, 2);
    CHECK(con != NULL, "janus_consume_async gave NULL");
    if (!con) return;
    cgetter g = {q, 0};
    pthread_t t;
    if (start_thread(&t, getter_thread, &g) != 0) exit(1);
    uint64_t t0 = now_ns();
    int put = 0;
    for (int i = 0; i < n; i++) {
        tok *x = tok_new();
        janus_status st = janus_queue_put(q, x, 10000);
        CHECK(st == JANUS_OK, "put answered %s", status_name(st));
        if (st == JANUS_OK)
            put++;
        else
            tok_end(x, END_KEPT);
    }
    janus_status st = janus_queue_join(q, 20000);
    CHECK(st == JANUS_OK, "join answered %s", status_name(st));
    double ms = ms_since(t0);
    janus_queue_shutdown(q, false);
    pthread_join(t, NULL);
    st = janus_consumer_wait(con, 10000);
    CHECK(st == JANUS_OK, "janus_consumer_wait answered %s", status_name(st));
    STORE(&c.ended, 1);
    janus_consumer_free(con);
    unsigned got;
    ledger_check("after drain", &got, NULL, NULL);
    CHECK((int)got == put, "%u got of %d put", got, put);
    CHECK(LOAD(&c.calls) + g.got == put, "fn %d + getter %d of %d", c.calls, g.got, put);
    janus_queue_free(q);
    printf("   %d items in %.0f ms: %d by the slow consumer, %d by a C thread\n", put, ms,
           LOAD(&c.calls), g.got);
}

/* ------------------------------------------------------------------------ */
/* Inconsistent compare                                                     */
/* ------------------------------------------------------------------------ */

static uint64_t g_cmp_counter;

static int random_compare(const void *a, const void *b, void *ctx)
{
    (void)a;
    (void)b;
    (void)ctx;
    uint64_t z = ADD(&g_cmp_counter, 1) * 0x9E3779B97F4A7C15ULL;
    z ^= z >> 31;
    z *= 0xBF58476D1CE4E5B9ULL;
    z ^= z >> 29;
    return (int)(z % 3) - 1;
}

typedef struct prio_worker {
    janus_queue *q;
    int n;
    int got;
    unsigned seed;
} prio_worker;

static void *prio_producer(void *arg)
{
    prio_worker *w = arg;
    for (int i = 0; i < w->n; i++) {
        tok *t = tok_new();
        janus_status st = janus_queue_put(w->q, t, 10000);
        if (st != JANUS_OK) {
            CHECK(0, "put answered %s", status_name(st));
            tok_end(t, END_KEPT);
        }
    }
    return NULL;
}

static void *prio_consumer(void *arg)
{
    prio_worker *w = arg;
    for (;;) {
        void *items[8];
        size_t n = 0;
        janus_status st = janus_queue_get_many(w->q, items, 1 + (w->seed++ % 8), &n, 5);
        if (st == JANUS_OK) {
            for (size_t i = 0; i < n; i++) {
                tok_end(items[i], END_GOT);
                janus_queue_task_done(w->q);
            }
            w->got += (int)n;
        } else if (st == JANUS_SHUTDOWN) {
            break;
        } else if (st != JANUS_EMPTY) {
            CHECK(0, "get_many answered %s", status_name(st));
            break;
        }
    }
    return NULL;
}

static void test_inconsistent_compare(void)
{
    begin_test("inconsistent compare function (random answers)", 30);
    ledger_reset();
    int n = g_scale_valgrind ? 500 : 5000;

    /* Single thread: interleaved puts and gets, qsize exact all along, then a drain. */
    janus_queue *q = new_queue(JANUS_PRIORITY, 0, random_compare);
    size_t held = 0;
    bool size_ok = true;
    unsigned r = 1;
    for (int i = 0; i < n; i++) {
        janus_queue_put(q, tok_new(), 0);
        held++;
        r = r * 1103515245u + 12345u;
        if ((r >> 16) % 3 == 0) {
            void *x;
            if (janus_queue_get(q, &x, 0) == JANUS_OK) {
                tok_end(x, END_GOT);
                held--;
            }
        }
        if (janus_queue_qsize(q) != held) size_ok = false;
    }
    CHECK(size_ok, "qsize disagreed with the items put and got");
    void *x;
    while (janus_queue_get(q, &x, 0) == JANUS_OK) {
        tok_end(x, END_GOT);
        held--;
    }
    CHECK(held == 0 && janus_queue_qsize(q) == 0, "after the drain %zu items missing, qsize %zu",
          held, janus_queue_qsize(q));
    janus_queue_free(q);
    unsigned got;
    ledger_check("single thread", &got, NULL, NULL);
    CHECK((int)got == n, "%u of %d got", got, n);

    /* Threads: 2 producers, 2 getters, an async consumer; then a normal shutdown. */
    ledger_reset();
    q = new_queue(JANUS_PRIORITY, 16, random_compare);
    cctx c;
    memset(&c, 0, sizeof c);
    janus_consumer *con = janus_consume_async(q, consume_fn, &c, 2);
    prio_worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].q = q;
        w[i].n = n / 2;
        w[i].seed = (unsigned)i;
        if (start_thread(&t[i], i < 2 ? prio_producer : prio_consumer, &w[i]) != 0) exit(1);
    }
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    janus_queue_shutdown(q, false);
    pthread_join(t[2], NULL);
    pthread_join(t[3], NULL);
    CHECK(janus_consumer_wait(con, 10000) == JANUS_OK, "consumer did not end");
    STORE(&c.ended, 1);
    janus_consumer_free(con);
    CHECK(janus_queue_qsize(q) == 0 && janus_queue_unfinished_tasks(q) == 0,
          "qsize %zu, unfinished %zu after the drain", janus_queue_qsize(q),
          janus_queue_unfinished_tasks(q));
    janus_queue_free(q);
    ledger_check("threads", &got, NULL, NULL);
    CHECK((int)got == 2 * (n / 2), "%u of %d got", got, 2 * (n / 2));

    /* Immediate shutdown of a heap built by a random compare: each item destroyed once. */
    ledger_reset();
    q = new_queue(JANUS_PRIORITY, 0, random_compare);
    for (int i = 0; i < n; i++) janus_queue_put(q, tok_new(), 0);
    for (int i = 0; i < n / 3; i++)
        if (janus_queue_get(q, &x, 0) == JANUS_OK) tok_end(x, END_GOT);
    janus_queue_close(q);
    janus_queue_free(q);
    unsigned destroyed;
    ledger_check("immediate shutdown", &got, &destroyed, NULL);
    CHECK((int)(got + destroyed) == n, "%u got + %u destroyed of %d", got, destroyed, n);
    printf("   %" PRIu64 " random compare answers; nothing lost or doubled\n",
           LOAD(&g_cmp_counter));
}

/* ------------------------------------------------------------------------ */
/* Many queues                                                              */
/* ------------------------------------------------------------------------ */

static int key_compare(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    const tok *x = a, *y = b;
    return (int)x->key - (int)y->key;
}

static void test_many_queues(void)
{
    begin_test("5,000 queues created, used and freed", 60);
    ledger_reset();
    int n = g_scale_valgrind ? 500 : 5000;
    unsigned r = 7;
    int bad = 0, consumers = 0;
    uint64_t t0 = now_ns();
    for (int i = 0; i < n; i++) {
        r = r * 1103515245u + 12345u;
        janus_kind kind = (janus_kind)(i % 3);
        size_t maxsize = (r >> 8) % 4 == 0 ? 0 : 1 + (r >> 12) % 16;
        janus_queue *q = new_queue(kind, maxsize, kind == JANUS_PRIORITY && (i & 8) ? key_compare
                                                                                  : NULL);
        int puts = (int)((r >> 16) % 24);
        for (int k = 0; k < puts; k++) {
            tok *t = tok_new();
            if (janus_queue_put(q, t, JANUS_NO_WAIT) != JANUS_OK) tok_end(t, END_KEPT);
        }
        int gets = (int)((r >> 20) % 12);
        for (int k = 0; k < gets; k++) {
            void *x;
            if (janus_queue_get(q, &x, JANUS_NO_WAIT) == JANUS_OK) {
                tok_end(x, END_GOT);
                janus_queue_task_done(q);
            }
        }
        if (i % 50 == 0) {
            /* now and then a consumer too, stopped before the free */
            cctx c;
            memset(&c, 0, sizeof c);
            janus_consumer *con = janus_consume_async(q, consume_fn, &c, 1 + i % 3);
            janus_queue_shutdown(q, false);
            if (janus_consumer_wait(con, 10000) != JANUS_OK) bad++;
            janus_consumer_free(con);
            consumers++;
        } else {
            switch ((r >> 24) % 4) {
            case 0: janus_queue_shutdown(q, false); break;
            case 1: janus_queue_close(q); break;
            default: break;  /* just free it */
            }
        }
        janus_queue_free(q);
    }
    double ms = ms_since(t0);
    CHECK(bad == 0, "%d consumers did not end", bad);
    unsigned got, destroyed, kept;
    ledger_check("many queues", &got, &destroyed, &kept);
    printf("   %d queues (%d with a consumer) in %.0f ms: %u items got, %u destroyed, %u refused\n",
           n, consumers, ms, got, destroyed, kept);
}

/* ------------------------------------------------------------------------ */
/* 2,000 threads + 2,000 tasks woken by one shutdown                        */
/* ------------------------------------------------------------------------ */

static void test_thundering_herd(void)
{
    begin_test("2,000 blocked threads + 2,000 waiting tasks, one shutdown", 60);
    ledger_reset();
    int want_threads = g_scale_valgrind ? 100 : 2000;
    int want_tasks = g_scale_valgrind ? 100 : 2000;
    janus_queue *q = new_queue(JANUS_FIFO, 0, NULL);
    blocked *b = calloc((size_t)want_threads, sizeof *b);
    pthread_t *t = calloc((size_t)want_threads, sizeof *t);
    if (!b || !t) exit(1);
    int announced = 0, threads = 0;
    for (; threads < want_threads; threads++) {
        b[threads].q = q;
        b[threads].announced = &announced;
        b[threads].timeout = threads % 2 ? JANUS_WAIT_FOREVER : 600000;
        b[threads].status = (janus_status)-1;
        if (start_thread(&t[threads], blocked_get, &b[threads]) != 0) break;
    }
    if (threads < want_threads)
        printf("   NOTE: the system made only %d of %d threads; scaled down to %d\n", threads,
               want_threads, threads);
    /* Tasks: half as 1-task consumers, half as consumers of 50 tasks. */
    int single = want_tasks / 2, multi = (want_tasks - single) / 50;
    int nconsumers = single + multi;
    janus_consumer **cons = calloc((size_t)nconsumers, sizeof *cons);
    cctx *cc = calloc((size_t)nconsumers, sizeof *cc);
    if (!cons || !cc) exit(1);
    int tasks = 0, refused = 0;
    for (int i = 0; i < nconsumers; i++) {
        size_t nt = i < single ? 1 : 50;
        cons[i] = janus_consume_async(q, consume_fn, &cc[i], nt);
        if (cons[i])
            tasks += (int)nt;
        else
            refused++;
    }
    CHECK(refused == 0, "janus_consume_async gave NULL for %d of %d consumers", refused,
          nconsumers);
    CHECK(wait_announced(&announced, threads, 30000), "only %d of %d threads started",
          LOAD(&announced), threads);
    /* Tasks announce nothing: the grace period of wait_announced was their time to
     * suspend too (one that has not would see the shutdown at once: same outcome). */
    sleep_us(grace_ms() * 1000u * 2);

    uint64_t t0 = now_ns();
    CHECK(janus_queue_shutdown(q, false) == JANUS_OK, "shutdown failed");
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    double threads_ms = 0;
    int wrong = 0;
    for (int i = 0; i < threads; i++) {
        if (b[i].status != JANUS_SHUTDOWN && wrong++ < 3)
            CHECK(0, "thread %d: get answered %s", i, status_name(b[i].status));
        double w = (double)(b[i].returned_ns - t0) / 1e6;
        if (w > threads_ms) threads_ms = w;
    }
    CHECK(wrong == 0, "%d of %d blocked getters did not answer SHUTDOWN", wrong, threads);
    int not_ended = 0;
    for (int i = 0; i < nconsumers; i++)
        if (cons[i] && janus_consumer_wait(cons[i], 10000) != JANUS_OK) not_ended++;
    double tasks_ms = ms_since(t0);
    CHECK(not_ended == 0, "%d consumers did not end within 10 s of the shutdown", not_ended);
    janus_status st = janus_queue_wait_closed(q, 10000);
    CHECK(st == JANUS_OK, "wait_closed answered %s", status_name(st));
    double limit = g_scale_valgrind ? 60000 : 5000;
    CHECK(threads_ms < limit, "the blocked threads took %.0f ms to return", threads_ms);
    CHECK(tasks_ms < limit, "the consumers took %.0f ms to end", tasks_ms);
    for (int i = 0; i < nconsumers; i++) {
        STORE(&cc[i].ended, 1);
        janus_consumer_free(cons[i]);
    }
    janus_queue_free(q);
    ledger_check("herd", NULL, NULL, NULL);
    printf("   %d threads (64 KiB stacks) returned JANUS_SHUTDOWN within %.0f ms; %d tasks in %d"
           " consumers ended within %.0f ms\n", threads, threads_ms, tasks, nconsumers, tasks_ms);
    free(cons);
    free(cc);
    free(b);
    free(t);
}

/* ------------------------------------------------------------------------ */
/* peek, clear, set_maxsize, getters/putters, janus_queue_fd                */
/* ------------------------------------------------------------------------ */

/* Open descriptors of this process (the listing's own not counted). */
static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1;
}

static bool fd_is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

/* The body of a start gate's spin: nothing (the threads start at the same moment), except
 * under valgrind, whose one-thread-at-a-time scheduler makes a busy spin crawl. */
static void gate_relax(void)
{
    if (g_scale_valgrind) sleep_us(50);
}

static bool fd_readable(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    int rc;
    do rc = poll(&p, 1, 0); while (rc < 0 && errno == EINTR);
    return rc > 0 && (p.revents & POLLIN);
}

/* 6a: NULL and bad arguments in every parameter of the new functions; huge maxsize values.
 * Each call answers at once (even with a timeout that would wait) and changes nothing. */
static void test_new_bad_arguments(void)
{
    begin_test("peek/clear/set_maxsize/getters/putters/fd: bad arguments, huge maxsize", 30);
    ledger_reset();
    static const int64_t timeouts[] = {JANUS_NO_WAIT, JANUS_WAIT_FOREVER, 50, INT64_MAX, -2,
                                       INT64_MIN, -1000};
    static const int64_t bad_timeouts[] = {-2, -3, -1000, INT64_MIN, INT64_MIN + 1};
    static const int bad_what[] = {0, 3, -1, 4, 7, 255, 1 << 16, INT32_MAX, INT32_MIN};
    static const size_t huge[] = {SIZE_MAX, SIZE_MAX - 1, (size_t)INT64_MAX + 1, (size_t)INT64_MAX,
                                  (size_t)INT64_MAX - 1, (size_t)1 << 62, (size_t)1 << 40,
                                  (size_t)UINT32_MAX + 1, 2, 1, 0};
    int wrong = 0;
    uint64_t t0 = now_ns();

    /* NULL queue, every combination. */
    for (size_t i = 0; i < NELEMS(timeouts); i++) {
        void *x = (void *)&g_passed;
        if (janus_queue_peek(NULL, &x, timeouts[i]) != JANUS_EINVAL || x != (void *)&g_passed)
            wrong++;
        if (janus_queue_peek(NULL, NULL, timeouts[i]) != JANUS_EINVAL) wrong++;
    }
    size_t n = 4242;
    if (janus_queue_clear(NULL, &n) != JANUS_EINVAL || n != 4242) wrong++;
    if (janus_queue_clear(NULL, NULL) != JANUS_EINVAL) wrong++;
    for (size_t i = 0; i < NELEMS(huge); i++)
        if (janus_queue_set_maxsize(NULL, huge[i]) != JANUS_EINVAL) wrong++;
    if (janus_queue_getters(NULL) != 0 || janus_queue_putters(NULL) != 0) wrong++;
    int fd = -42;
    for (int w = -2; w <= 4; w++) {
        if (janus_queue_fd(NULL, (janus_ready)w, &fd) != JANUS_EINVAL || fd != -42) wrong++;
        if (janus_queue_fd(NULL, (janus_ready)w, NULL) != JANUS_EINVAL) wrong++;
    }
    CHECK(wrong == 0, "%d calls with a NULL queue did not answer EINVAL / 0 untouched", wrong);

    /* A real queue with one item, bad other arguments. */
    for (int k = 0; k < 3; k++) {
        wrong = 0;
        janus_queue *q = new_queue((janus_kind)k, 2, k == 2 ? key_compare : NULL);
        tok *held = tok_new();
        CHECK(janus_queue_put(q, held, 0) == JANUS_OK, "put");
        int fds_before = count_fds();
        for (size_t i = 0; i < NELEMS(timeouts); i++)
            if (janus_queue_peek(q, NULL, timeouts[i]) != JANUS_EINVAL) wrong++;
        for (size_t i = 0; i < NELEMS(bad_timeouts); i++) {
            void *x = (void *)&g_passed;
            if (janus_queue_peek(q, &x, bad_timeouts[i]) != JANUS_EINVAL || x != (void *)&g_passed)
                wrong++;
        }
        for (size_t i = 0; i < NELEMS(bad_what); i++) {
            fd = -42;
            if (janus_queue_fd(q, (janus_ready)bad_what[i], &fd) != JANUS_EINVAL || fd != -42)
                wrong++;
            if (janus_queue_fd(q, (janus_ready)bad_what[i], NULL) != JANUS_EINVAL) wrong++;
        }
        /* A NULL fd_out for a good `what` makes no descriptor. */
        if (janus_queue_fd(q, JANUS_READABLE, NULL) != JANUS_EINVAL) wrong++;
        if (janus_queue_fd(q, JANUS_WRITABLE, NULL) != JANUS_EINVAL) wrong++;
        CHECK(count_fds() == fds_before, "kind %d: refused janus_queue_fd calls made %d descriptors",
              k, count_fds() - fds_before);
        CHECK(janus_queue_qsize(q) == 1 && janus_queue_unfinished_tasks(q) == 1 &&
                  janus_queue_maxsize(q) == 2 && !janus_queue_is_shutdown(q) &&
                  janus_queue_getters(q) == 0 && janus_queue_putters(q) == 0,
              "kind %d: the refused calls changed the queue (qsize %zu, unfinished %zu, maxsize %zu)",
              k, janus_queue_qsize(q), janus_queue_unfinished_tasks(q), janus_queue_maxsize(q));
        CHECK(wrong == 0, "kind %d: %d refused calls did not answer EINVAL untouched", k, wrong);
        void *x = NULL;
        CHECK(janus_queue_peek(q, &x, JANUS_WAIT_FOREVER) == JANUS_OK && x == held,
              "kind %d: peek after the refused calls", k);

        /* Huge limits, set and read back as given; full and put follow the limit. */
        wrong = 0;
        for (size_t i = 0; i < NELEMS(huge); i++) {
            size_t v = huge[i];
            if (janus_queue_set_maxsize(q, v) != JANUS_OK) wrong++;
            if (janus_queue_maxsize(q) != v) {
                if (wrong++ < 3)
                    printf("   kind %d: set_maxsize(%zu), then janus_queue_maxsize = %zu\n", k, v,
                           janus_queue_maxsize(q));
            }
            size_t qs = janus_queue_qsize(q);
            bool room = v == 0 || qs < v;
            if (janus_queue_full(q) != !room) wrong++;
            tok *t = tok_new();
            janus_status st = janus_queue_put(q, t, JANUS_NO_WAIT);
            if (st != (room ? JANUS_OK : JANUS_FULL)) wrong++;
            if (st != JANUS_OK) tok_end(t, END_KEPT);
        }
        CHECK(wrong == 0, "kind %d: %d wrong answers around huge maxsize values", k, wrong);
        janus_queue_free(q);
    }
    /* Made with a huge limit: reported as given. */
    wrong = 0;
    for (size_t i = 0; i < NELEMS(huge); i++) {
        janus_queue *q = new_queue((janus_kind)(i % 3), huge[i], NULL);
        if (janus_queue_maxsize(q) != huge[i]) {
            if (wrong++ < 3)
                printf("   janus_queue_new(maxsize %zu): janus_queue_maxsize = %zu\n", huge[i],
                       janus_queue_maxsize(q));
        }
        tok *t = tok_new();
        if (janus_queue_put(q, t, JANUS_NO_WAIT) != JANUS_OK) {
            wrong++;
            tok_end(t, END_KEPT);
        }
        janus_queue_free(q);
    }
    CHECK(wrong == 0, "%d queues made with a huge maxsize misreport it or refuse a put", wrong);
    CHECK(ms_since(t0) < 5000, "the refused calls took %.0f ms (one waited?)", ms_since(t0));
    ledger_check("bad arguments", NULL, NULL, NULL);
}

/* 6b: set_maxsize changed over and over while threads block in put and in get. Every item ends
 * exactly once, no putter is stranded once the limit opens, the waiting counts stay sane. */
typedef struct churn {
    janus_queue *q;
    int stop;        /* atomic: the twiddler and the monitor stop */
    int producers_done; /* atomic */
    int items;       /* per producer */
    int puts_ok;     /* atomic */
    int full_answers;/* atomic */
    int got;         /* atomic */
    int bad;         /* atomic */
    int bad_counts;  /* atomic: getters/putters above the thread counts */
    int twiddles;    /* atomic */
    int nproducers, nconsumers;
    unsigned seed;
} churn;

static const size_t k_churn_limits[] = {1, 0, 2, 3, SIZE_MAX, 1, 5, 8, 2, (size_t)INT64_MAX + 1, 1, 4};

static void *churn_producer(void *arg)
{
    churn *c = arg;
    unsigned r = (unsigned)(uintptr_t)&r;
    for (int i = 0; i < c->items; i++) {
        tok *t = tok_new();
        for (;;) {
            r = r * 1103515245u + 12345u;
            int64_t timeout = (r >> 16) % 4 == 0 ? JANUS_NO_WAIT : (r >> 16) % 4 == 1 ? 2 : JANUS_WAIT_FOREVER;
            janus_status st;
            if ((r >> 20) % 8 == 0) {
                void *one = t;
                size_t n = 99;
                st = janus_queue_put_many(c->q, &one, 1, &n, timeout);
                if ((st == JANUS_OK) != (n == 1)) ADD(&c->bad, 1);
            } else {
                st = janus_queue_put(c->q, t, timeout);
            }
            if (st == JANUS_OK) {
                ADD(&c->puts_ok, 1);
                break;
            }
            if (st == JANUS_FULL) {
                ADD(&c->full_answers, 1);
                continue;
            }
            ADD(&c->bad, 1);
            tok_end(t, END_KEPT);
            return NULL;
        }
    }
    return NULL;
}

static void *churn_consumer(void *arg)
{
    churn *c = arg;
    unsigned r = (unsigned)(uintptr_t)&r;
    for (;;) {
        r = r * 1103515245u + 12345u;
        void *items[4];
        size_t n = 0;
        janus_status st;
        int64_t timeout = (r >> 16) % 3 == 0 ? JANUS_NO_WAIT : (r >> 16) % 3 == 1 ? 3 : 50;
        if ((r >> 20) % 2) {
            st = janus_queue_get_many(c->q, items, 1 + (r >> 24) % 4, &n, timeout);
        } else {
            st = janus_queue_get(c->q, &items[0], timeout);
            n = st == JANUS_OK;
        }
        if (st == JANUS_OK) {
            for (size_t i = 0; i < n; i++) {
                tok_end(items[i], END_GOT);
                janus_queue_task_done(c->q);
            }
            ADD(&c->got, (int)n);
        } else if (st == JANUS_SHUTDOWN) {
            return NULL;
        } else if (st != JANUS_EMPTY) {
            ADD(&c->bad, 1);
            return NULL;
        }
    }
}

static void *churn_twiddler(void *arg)
{
    churn *c = arg;
    unsigned i = 0;
    while (!LOAD(&c->stop)) {
        size_t v = k_churn_limits[i++ % NELEMS(k_churn_limits)];
        if (janus_queue_set_maxsize(c->q, v) != JANUS_OK) ADD(&c->bad, 1);
        ADD(&c->twiddles, 1);
        if (i % 8 == 0) sleep_us(200);  /* let waiters pile up now and then */
    }
    return NULL;
}

static void *churn_monitor(void *arg)
{
    churn *c = arg;
    while (!LOAD(&c->stop)) {
        size_t g = janus_queue_getters(c->q), p = janus_queue_putters(c->q);
        if (g > (size_t)c->nconsumers || p > (size_t)c->nproducers) ADD(&c->bad_counts, 1);
        size_t m = janus_queue_maxsize(c->q);
        bool known = false;
        for (size_t i = 0; i < NELEMS(k_churn_limits); i++) known |= m == k_churn_limits[i];
        if (!known) ADD(&c->bad, 1);
        sleep_us(100);
    }
    return NULL;
}

static void test_set_maxsize_churn(janus_kind kind)
{
    static char name[96];
    snprintf(name, sizeof name, "set_maxsize churning while threads block in put and get (kind %d)",
             (int)kind);
    begin_test(name, 60);
    ledger_reset();
    enum { P = 4, C = 3 };
    churn c;
    memset(&c, 0, sizeof c);
    c.q = new_queue(kind, 2, kind == JANUS_PRIORITY ? key_compare : NULL);
    c.items = g_scale_valgrind ? 300 : 4000;
    c.nproducers = P;
    c.nconsumers = C;
    pthread_t pt[P], ct[C], tw, mon;
    for (int i = 0; i < C; i++)
        if (start_thread(&ct[i], churn_consumer, &c) != 0) exit(1);
    for (int i = 0; i < P; i++)
        if (start_thread(&pt[i], churn_producer, &c) != 0) exit(1);
    if (start_thread(&tw, churn_twiddler, &c) != 0) exit(1);
    if (start_thread(&mon, churn_monitor, &c) != 0) exit(1);
    for (int i = 0; i < P; i++) pthread_join(pt[i], NULL);
    STORE(&c.stop, 1);
    pthread_join(tw, NULL);
    pthread_join(mon, NULL);
    /* Drain with the consumers, then shut down. */
    uint64_t t0 = now_ns();
    while (LOAD(&c.got) < LOAD(&c.puts_ok) && ms_since(t0) < 20000) sleep_us(1000);
    CHECK(LOAD(&c.got) == LOAD(&c.puts_ok), "only %d of %d items were got after the churn",
          LOAD(&c.got), LOAD(&c.puts_ok));
    CHECK(janus_queue_putters(c.q) == 0, "%zu putters still listed after every put returned",
          janus_queue_putters(c.q));
    janus_queue_shutdown(c.q, false);
    for (int i = 0; i < C; i++) pthread_join(ct[i], NULL);
    CHECK(LOAD(&c.bad) == 0, "%d wrong answers (statuses, counts, maxsize)", LOAD(&c.bad));
    CHECK(LOAD(&c.bad_counts) == 0, "getters/putters above the number of threads %d times",
          LOAD(&c.bad_counts));
    CHECK(janus_queue_qsize(c.q) == 0 && janus_queue_unfinished_tasks(c.q) == 0,
          "after the drain: qsize %zu, unfinished %zu", janus_queue_qsize(c.q),
          janus_queue_unfinished_tasks(c.q));
    CHECK(janus_queue_wait_closed(c.q, 10000) == JANUS_OK, "wait_closed");
    janus_queue_free(c.q);
    unsigned got, destroyed, kept;
    ledger_check("set_maxsize churn", &got, &destroyed, &kept);
    CHECK((int)got == P * c.items && destroyed == 0 && kept == 0,
          "%u got, %u destroyed, %u kept of %d", got, destroyed, kept, P * c.items);
    printf("   %d items through %d limit changes (%d FULL answers retried)\n", P * c.items,
           LOAD(&c.twiddles), LOAD(&c.full_answers));
}

/* 6c: the first peek / set_maxsize / clear of a FIFO queue takes it off its lock-free lane
 * while lock-free puts and gets run: repeated on fresh queues to hit that moment. FIFO order
 * per producer holds for each consumer across it; every item ends exactly once. */
typedef struct lane_run {
    janus_queue *q;
    int go;       /* atomic: the producers start */
    int go_consumers; /* atomic: the consumers start */
    int per;      /* items per producer */
    int got;      /* atomic */
    int bad;      /* atomic */
    int order;    /* atomic: a consumer saw a producer's items out of order */
} lane_run;

typedef struct lane_arg {
    lane_run *l;
    int index;
} lane_arg;

static void *lane_producer(void *arg)
{
    lane_arg *a = arg;
    lane_run *l = a->l;
    while (!LOAD(&l->go)) gate_relax();
    for (int i = 0; i < l->per; i++) {
        tok *t = tok_new();
        t->key = (uint32_t)a->index << 24 | (uint32_t)i;
        janus_status st = (i % 7 == 3) ? janus_queue_put(l->q, t, 5000)
                                       : janus_queue_put(l->q, t, JANUS_WAIT_FOREVER);
        if (st != JANUS_OK) {
            ADD(&l->bad, 1);
            tok_end(t, END_KEPT);
        }
    }
    return NULL;
}

static void *lane_consumer(void *arg)
{
    lane_arg *a = arg;
    lane_run *l = a->l;
    while (!LOAD(&l->go_consumers)) gate_relax();
    int last[2] = {-1, -1};
    for (;;) {
        void *items[3];
        size_t n = 0;
        janus_status st;
        if (a->index & 1) {
            st = janus_queue_get_many(l->q, items, 3, &n, 20);
        } else {
            st = janus_queue_get(l->q, &items[0], 20);
            n = st == JANUS_OK;
        }
        if (st == JANUS_OK) {
            for (size_t i = 0; i < n; i++) {
                tok *t = items[i];
                if (t && t->magic == TOK_MAGIC) {
                    int p = (int)(t->key >> 24) & 1, seq = (int)(t->key & 0xffffff);
                    if (seq <= last[p]) ADD(&l->order, 1);
                    last[p] = seq;
                }
                tok_end(items[i], END_GOT);
                janus_queue_task_done(l->q);
            }
            ADD(&l->got, (int)n);
        } else if (st == JANUS_SHUTDOWN) {
            return NULL;
        } else if (st != JANUS_EMPTY) {
            ADD(&l->bad, 1);
            return NULL;
        }
    }
}

static void test_lane_leave_race(void)
{
    begin_test("FIFO leaves its lock-free lane (peek, set_maxsize, clear) under load", 90);
    ledger_reset();
    int rounds = g_scale_valgrind ? 6 : 1500;
    int bad = 0, order = 0, peeked = 0, cleared_total = 0, stuck = 0;
    uint64_t t0 = now_ns();
    for (int round = 0; round < rounds; round++) {
        int op = round % 3;
        bool bounded = (round / 3) % 2;
        lane_run l;
        memset(&l, 0, sizeof l);
        l.q = new_queue(JANUS_FIFO, bounded ? 8 : 0, NULL);
        l.per = g_scale_valgrind ? 60 : 300;
        lane_arg pa[2] = {{&l, 0}, {&l, 1}}, ca[2] = {{&l, 0}, {&l, 1}};
        pthread_t pt[2], ct[2];
        for (int i = 0; i < 2; i++) {
            if (start_thread(&pt[i], lane_producer, &pa[i]) != 0) exit(1);
            if (start_thread(&ct[i], lane_consumer, &ca[i]) != 0) exit(1);
        }
        STORE(&l.go, 1);
        /* A backlog in the lane, then the consumers start (lock-free gets) just as the queue
         * leaves the lane, a slightly different moment each round. */
        size_t backlog = bounded ? 8 : 256;
        uint64_t t1 = now_ns();
        while (janus_queue_qsize(l.q) < backlog && ms_since(t1) < 2000) gate_relax();
        STORE(&l.go_consumers, 1);
        for (volatile int spin = 0; !g_scale_valgrind && spin < (round * 7919) % 3000; spin++) {
        }
        size_t cleared = 0;
        switch (op) {
        case 0: {
            void *x;
            janus_status st = janus_queue_peek(l.q, &x, JANUS_NO_WAIT);
            if (st == JANUS_OK) peeked++;
            else if (st != JANUS_EMPTY) bad++;
            break;
        }
        case 1:
            if (janus_queue_set_maxsize(l.q, bounded ? 3 : 5) != JANUS_OK) bad++;
            break;
        default:
            if (janus_queue_clear(l.q, &cleared) != JANUS_OK) bad++;
            break;
        }
        for (int i = 0; i < 2; i++) pthread_join(pt[i], NULL);
        int want = 2 * l.per - (int)cleared;
        t1 = now_ns();
        while (LOAD(&l.got) < want && ms_since(t1) < 10000) sleep_us(200);
        if (LOAD(&l.got) != want) {
            if (stuck++ < 3)
                printf("   round %d (op %d, %s): %d of %d items got, qsize %zu, cleared %zu\n",
                       round, op, bounded ? "bounded" : "unbounded", LOAD(&l.got), want,
                       janus_queue_qsize(l.q), cleared);
        }
        janus_queue_shutdown(l.q, false);
        for (int i = 0; i < 2; i++) pthread_join(ct[i], NULL);
        if (janus_queue_qsize(l.q) != 0 || janus_queue_unfinished_tasks(l.q) != 0) bad++;
        janus_queue_free(l.q);
        bad += LOAD(&l.bad);
        if (LOAD(&l.order) && order < 3)
            printf("   round %d (after the first %s of a%s FIFO queue): %d items of one producer"
                   " came out of order\n", round, op == 0 ? "peek" : op == 1 ? "set_maxsize" : "clear",
                   bounded ? " bounded" : "n unbounded", LOAD(&l.order));
        order += LOAD(&l.order);
        cleared_total += (int)cleared;
    }
    CHECK(stuck == 0, "%d rounds lost items (never got within 10 s)", stuck);
    CHECK(bad == 0, "%d wrong answers", bad);
    CHECK(order == 0, "FIFO order per producer broken %d times", order);
    unsigned got, destroyed, kept;
    ledger_check("lane leave", &got, &destroyed, &kept);
    CHECK((int)destroyed == cleared_total, "%u destroyed, clear reported %d", destroyed,
          cleared_total);
    printf("   %d rounds in %.0f ms: %u items got, %u cleared, %d peeks found an item\n", rounds,
           ms_since(t0), got, destroyed, peeked);
}

/* 6d: clear racing producers and consumers, with the destroy ledger: every item is got or
 * destroyed exactly once, clear's counts add up to the destroys, destroy runs on the clearing
 * thread, and the unfinished count ends at 0. */
static pthread_t g_clearer;
static int g_clear_wrong_thread;  /* atomic */

static void clear_destroy_cb(void *item, void *ctx)
{
    if (!pthread_equal(pthread_self(), g_clearer)) ADD(&g_clear_wrong_thread, 1);
    destroy_cb(item, ctx);
}

typedef struct clear_run {
    janus_queue *q;
    int per;
    int stop;        /* atomic: the clearer stops */
    int got;         /* atomic */
    int bad;         /* atomic */
    long cleared;    /* the clearer's sum of *cleared_out */
    int clears;
} clear_run;

static void *clear_producer(void *arg)
{
    clear_run *c = arg;
    for (int i = 0; i < c->per; i++) {
        tok *t = tok_new();
        janus_status st;
        if (i % 5 == 0) {
            void *one = t;
            size_t n = 0;
            st = janus_queue_put_many(c->q, &one, 1, &n, 10000);
        } else {
            st = janus_queue_put(c->q, t, 10000);
        }
        if (st != JANUS_OK) {
            ADD(&c->bad, 1);
            tok_end(t, END_KEPT);
        }
    }
    return NULL;
}

static void *clear_consumer(void *arg)
{
    clear_run *c = arg;
    for (;;) {
        void *items[4];
        size_t n = 0;
        janus_status st = janus_queue_get_many(c->q, items, 4, &n, 10);
        if (st == JANUS_OK) {
            for (size_t i = 0; i < n; i++) {
                tok_end(items[i], END_GOT);
                if (janus_queue_task_done(c->q) != JANUS_OK) ADD(&c->bad, 1);
            }
            ADD(&c->got, (int)n);
        } else if (st == JANUS_SHUTDOWN) {
            return NULL;
        } else if (st != JANUS_EMPTY) {
            ADD(&c->bad, 1);
            return NULL;
        }
    }
}

static void *clear_clearer(void *arg)
{
    clear_run *c = arg;
    g_clearer = pthread_self();  /* before its first clear: destroy compares with it */
    while (!LOAD(&c->stop)) {
        size_t n = 0;
        if (janus_queue_clear(c->q, &n) != JANUS_OK) ADD(&c->bad, 1);
        c->cleared += (long)n;
        c->clears++;
        sleep_us(50);
    }
    return NULL;
}

static void test_clear_race(janus_kind kind)
{
    static char name[96];
    snprintf(name, sizeof name, "clear racing producers and consumers (kind %d)", (int)kind);
    begin_test(name, 60);
    ledger_reset();
    STORE(&g_clear_wrong_thread, 0);
    enum { P = 3, C = 2 };
    janus_options o;
    memset(&o, 0, sizeof o);
    o.kind = kind;
    o.maxsize = 16;
    o.destroy = clear_destroy_cb;
    o.compare = kind == JANUS_PRIORITY ? key_compare : NULL;
    clear_run c;
    memset(&c, 0, sizeof c);
    c.q = janus_queue_new_with(&o);
    if (!c.q) exit(1);
    c.per = g_scale_valgrind ? 500 : 6000;
    pthread_t pt[P], ct[C];
    for (int i = 0; i < C; i++)
        if (start_thread(&ct[i], clear_consumer, &c) != 0) exit(1);
    pthread_t clearer;
    if (pthread_create(&clearer, NULL, clear_clearer, &c) != 0) exit(1);
    for (int i = 0; i < P; i++)
        if (start_thread(&pt[i], clear_producer, &c) != 0) exit(1);
    for (int i = 0; i < P; i++) pthread_join(pt[i], NULL);
    STORE(&c.stop, 1);
    pthread_join(clearer, NULL);
    uint64_t t0 = now_ns();
    while (LOAD(&c.got) + c.cleared < (long)P * c.per && ms_since(t0) < 10000) sleep_us(500);
    janus_queue_shutdown(c.q, false);
    for (int i = 0; i < C; i++) pthread_join(ct[i], NULL);
    CHECK(LOAD(&c.bad) == 0, "%d wrong answers", LOAD(&c.bad));
    CHECK(LOAD(&c.got) + c.cleared == (long)P * c.per, "%d got + %ld cleared of %d put",
          LOAD(&c.got), c.cleared, P * c.per);
    CHECK((long)LOAD(&g_destroyed) == c.cleared, "%u destroyed, clear reported %ld",
          LOAD(&g_destroyed), c.cleared);
    CHECK(LOAD(&g_clear_wrong_thread) == 0, "destroy ran %d times off the clearing thread",
          LOAD(&g_clear_wrong_thread));
    CHECK(janus_queue_unfinished_tasks(c.q) == 0 && janus_queue_join(c.q, JANUS_NO_WAIT) == JANUS_OK,
          "unfinished %zu after everything was got or cleared", janus_queue_unfinished_tasks(c.q));
    janus_queue_free(c.q);
    unsigned got, destroyed, kept;
    ledger_check("clear race", &got, &destroyed, &kept);
    CHECK(kept == 0, "%u puts refused", kept);
    printf("   %d items: %u got, %u cleared by %d clears\n", P * c.per, got, destroyed, c.clears);
}

/* 6e: peek racing gets. The tokens live in a pool that is never freed, so a peeked pointer can
 * always be looked at: it must be one of the pool's tokens, already put. */
#define PEEK_POOL_MAX 40000

typedef struct ptok {
    uint32_t magic;
    uint32_t key;   /* for the priority compare */
    int put;        /* atomic: set just before its put */
    int got;        /* atomic: times got */
} ptok;

static ptok *g_pool;

typedef struct peek_run {
    janus_queue *q;
    int n;          /* pool tokens used */
    int next;       /* atomic: the next token to put */
    int peeks;      /* atomic: peeks that found an item */
    int bad_peeks;  /* atomic */
    int bad;        /* atomic */
    int got;        /* atomic */
} peek_run;

static int pool_compare(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    const ptok *x = a, *y = b;
    return (int)x->key - (int)y->key;
}

static bool in_pool(const void *p, int n)
{
    const char *c = p, *base = (const char *)g_pool;
    if (c < base || c >= base + (size_t)n * sizeof(ptok)) return false;
    return (size_t)(c - base) % sizeof(ptok) == 0;
}

static void *peek_producer(void *arg)
{
    peek_run *r = arg;
    for (;;) {
        int i = ADD(&r->next, 1);
        if (i >= r->n) return NULL;
        ptok *t = &g_pool[i];
        STORE(&t->put, 1);
        if (janus_queue_put(r->q, t, 10000) != JANUS_OK) ADD(&r->bad, 1);
    }
}

static void *peek_getter(void *arg)
{
    peek_run *r = arg;
    for (;;) {
        void *x;
        janus_status st = janus_queue_get(r->q, &x, 10);
        if (st == JANUS_OK) {
            if (!in_pool(x, r->n)) {
                ADD(&r->bad, 1);
                continue;
            }
            ADD(&((ptok *)x)->got, 1);
            ADD(&r->got, 1);
            janus_queue_task_done(r->q);
        } else if (st == JANUS_SHUTDOWN) {
            return NULL;
        } else if (st != JANUS_EMPTY) {
            ADD(&r->bad, 1);
            return NULL;
        }
    }
}

static void *peek_peeker(void *arg)
{
    peek_run *r = arg;
    unsigned k = 0;
    for (;;) {
        void *x = NULL;
        janus_status st = janus_queue_peek(r->q, &x, k++ % 3 == 0 ? 2 : JANUS_NO_WAIT);
        if (st == JANUS_OK) {
            const ptok *t = x;
            if (!in_pool(x, r->n) || t->magic != TOK_MAGIC || !LOAD(&t->put))
                ADD(&r->bad_peeks, 1);
            ADD(&r->peeks, 1);
        } else if (st == JANUS_SHUTDOWN) {
            return NULL;
        } else if (st != JANUS_EMPTY) {
            ADD(&r->bad, 1);
            return NULL;
        }
    }
}

static void test_peek_race(janus_kind kind)
{
    static char name[96];
    snprintf(name, sizeof name, "peek racing gets (kind %d)", (int)kind);
    begin_test(name, 60);
    enum { P = 2, G = 2, K = 2 };
    peek_run r;
    memset(&r, 0, sizeof r);
    r.n = g_scale_valgrind ? 2000 : PEEK_POOL_MAX;
    for (int i = 0; i < r.n; i++) {
        g_pool[i].magic = TOK_MAGIC;
        g_pool[i].key = (uint32_t)(i * 2654435761u) >> 28;
        g_pool[i].put = 0;
        g_pool[i].got = 0;
    }
    janus_options o;
    memset(&o, 0, sizeof o);
    o.kind = kind;
    o.maxsize = kind == JANUS_LIFO ? 0 : 32;
    o.compare = kind == JANUS_PRIORITY ? pool_compare : NULL;
    r.q = janus_queue_new_with(&o);
    if (!r.q) exit(1);
    pthread_t pt[P], gt[G], kt[K];
    for (int i = 0; i < G; i++)
        if (start_thread(&gt[i], peek_getter, &r) != 0) exit(1);
    for (int i = 0; i < P; i++)
        if (start_thread(&pt[i], peek_producer, &r) != 0) exit(1);
    /* The peekers come in once the items flow (a FIFO queue then leaves its lane under load). */
    while (LOAD(&r.got) < 100 && LOAD(&r.bad) == 0) sleep_us(100);
    for (int i = 0; i < K; i++)
        if (start_thread(&kt[i], peek_peeker, &r) != 0) exit(1);
    for (int i = 0; i < P; i++) pthread_join(pt[i], NULL);
    uint64_t t0 = now_ns();
    while (LOAD(&r.got) < r.n && ms_since(t0) < 10000) sleep_us(500);
    janus_queue_shutdown(r.q, false);
    for (int i = 0; i < G; i++) pthread_join(gt[i], NULL);
    for (int i = 0; i < K; i++) pthread_join(kt[i], NULL);
    int not_once = 0;
    for (int i = 0; i < r.n; i++) not_once += LOAD(&g_pool[i].got) != 1;
    CHECK(LOAD(&r.bad) == 0, "%d wrong answers", LOAD(&r.bad));
    CHECK(LOAD(&r.bad_peeks) == 0, "%d peeks gave a pointer that was not a token put",
          LOAD(&r.bad_peeks));
    CHECK(not_once == 0, "%d of %d tokens not got exactly once", not_once, r.n);
    CHECK(janus_queue_wait_closed(r.q, 10000) == JANUS_OK, "wait_closed after the peekers left");
    janus_queue_free(r.q);
    printf("   %d tokens got once each; %d peeks found an item\n", r.n, LOAD(&r.peeks));
}

/* 6f: free while threads wait in peek: they answer SHUTDOWN. */
static void *blocked_peek(void *arg)
{
    blocked *b = arg;
    void *x = NULL;
    ADD(b->announced, 1);
    b->status = janus_queue_peek(b->q, &x, b->timeout);
    b->returned_ns = now_ns();
    return NULL;
}

static void test_free_blocked_peek(void)
{
    begin_test("free while threads are blocked in peek", 30);
    ledger_reset();
    enum { N = 6 };
    janus_queue *q = new_queue(JANUS_FIFO, 0, NULL);
    blocked b[N];
    pthread_t t[N];
    uint64_t t0 = free_with_blocked(q, b, t, N, blocked_peek, false, NULL);
    int wrong = 0;
    double worst = 0;
    for (int i = 0; i < N; i++) {
        if (b[i].status != JANUS_SHUTDOWN) wrong++;
        double w = (double)(b[i].returned_ns - t0) / 1e6;
        if (w > worst) worst = w;
    }
    CHECK(wrong == 0, "%d of %d blocked peeks did not answer SHUTDOWN (first: %s)", wrong, N,
          status_name(b[0].status));
    CHECK(worst < 5000, "the blocked peeks took %.0f ms to return after free", worst);
    printf("   %d blocked peeks returned within %.1f ms of free\n", N, worst);
}

/* 6g: many threads ask for the descriptors of a fresh queue at the same moment: one each. */
typedef struct fd_asker {
    janus_queue *q;
    int *go;
    int rfd, wfd;
    janus_status st_r, st_w;
} fd_asker;

static void *fd_ask(void *arg)
{
    fd_asker *a = arg;
    while (!LOAD(a->go)) gate_relax();
    if (((uintptr_t)a >> 4) & 1) {
        a->st_w = janus_queue_fd(a->q, JANUS_WRITABLE, &a->wfd);
        a->st_r = janus_queue_fd(a->q, JANUS_READABLE, &a->rfd);
    } else {
        a->st_r = janus_queue_fd(a->q, JANUS_READABLE, &a->rfd);
        a->st_w = janus_queue_fd(a->q, JANUS_WRITABLE, &a->wfd);
    }
    return NULL;
}

static void test_fd_many_threads(void)
{
    begin_test("janus_queue_fd asked by many threads at once", 60);
    enum { T = 16 };
    int rounds = g_scale_valgrind ? 10 : 200;
    int differ = 0, failed = 0, leaks = 0, extra = 0, not_closed = 0;
    int base = count_fds();
    for (int round = 0; round < rounds; round++) {
        janus_queue *q = new_queue((janus_kind)(round % 3), round % 2 ? 4 : 0, NULL);
        int before = count_fds();
        int go = 0;
        fd_asker a[T];
        pthread_t t[T];
        for (int i = 0; i < T; i++) {
            a[i].q = q;
            a[i].go = &go;
            a[i].rfd = a[i].wfd = -1;
            if (start_thread(&t[i], fd_ask, &a[i]) != 0) exit(1);
        }
        STORE(&go, 1);
        for (int i = 0; i < T; i++) pthread_join(t[i], NULL);
        for (int i = 0; i < T; i++) {
            if (a[i].st_r != JANUS_OK || a[i].st_w != JANUS_OK) failed++;
            if (a[i].rfd != a[0].rfd || a[i].wfd != a[0].wfd) differ++;
        }
        if (a[0].rfd == a[0].wfd) differ++;
        if (count_fds() != before + 2) extra++;
        int rfd = a[0].rfd, wfd = a[0].wfd;
        janus_queue_free(q);
        if (fd_is_open(rfd) || fd_is_open(wfd)) not_closed++;
        if (count_fds() != before) leaks++;
    }
    CHECK(failed == 0, "%d janus_queue_fd calls failed", failed);
    CHECK(differ == 0, "%d threads got another descriptor than the first (or readable == writable)",
          differ);
    CHECK(extra == 0, "%d rounds made more (or fewer) than 2 descriptors", extra);
    CHECK(not_closed == 0 && leaks == 0 && count_fds() == base,
          "after free: %d rounds left a descriptor open, %d leaked (%d open now, %d before)",
          not_closed, leaks, count_fds(), base);
    printf("   %d rounds of %d threads: one readable and one writable descriptor each\n", rounds, T);
}

/* 6h: the queue freed while its descriptors are in an epoll set (and while a thread still
 * waits in a get): they close with the queue, leave the set, and nothing leaks. */
static void test_fd_epoll_free(void)
{
    begin_test("descriptors in an epoll set when the queue is freed", 30);
    ledger_reset();
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0, "epoll_create1: %s", strerror(errno));
    if (ep < 0) return;
    int base = count_fds();
    int rounds = g_scale_valgrind ? 20 : 500;
    int reported_wrong = 0, still_open = 0, stale = 0;
    for (int round = 0; round < rounds; round++) {
        janus_queue *q = new_queue((janus_kind)(round % 3), 2, NULL);
        int rfd = -1, wfd = -1;
        if (janus_queue_fd(q, JANUS_READABLE, &rfd) != JANUS_OK ||
            janus_queue_fd(q, JANUS_WRITABLE, &wfd) != JANUS_OK) {
            CHECK(0, "janus_queue_fd failed in round %d", round);
            janus_queue_free(q);
            break;
        }
        struct epoll_event ev;
        memset(&ev, 0, sizeof ev);
        ev.events = EPOLLIN | (round % 2 ? EPOLLET : 0);
        ev.data.fd = rfd;
        epoll_ctl(ep, EPOLL_CTL_ADD, rfd, &ev);
        ev.data.fd = wfd;
        epoll_ctl(ep, EPOLL_CTL_ADD, wfd, &ev);
        /* readable: an item; writable: room */
        tok *t = tok_new();
        janus_queue_put(q, t, 0);
        struct epoll_event out[4];
        int n = epoll_wait(ep, out, 4, 1000);
        bool saw_r = false, saw_w = false;
        for (int i = 0; i < n; i++) {
            saw_r |= out[i].data.fd == rfd;
            saw_w |= out[i].data.fd == wfd;
        }
        if (!saw_r || !saw_w) reported_wrong++;
        janus_queue_free(q);  /* the token goes to destroy */
        if (fd_is_open(rfd) || fd_is_open(wfd)) still_open++;
        if (epoll_wait(ep, out, 4, 0) != 0) stale++;
    }
    CHECK(reported_wrong == 0, "%d rounds: epoll did not report both descriptors ready",
          reported_wrong);
    CHECK(still_open == 0, "%d rounds: a descriptor still open after janus_queue_free", still_open);
    CHECK(stale == 0, "%d rounds: the epoll set still reported a descriptor after free", stale);
    CHECK(count_fds() == base, "%d descriptors open after the rounds, %d before", count_fds(), base);

    /* Freed while a thread waits in get on it: the descriptor stays usable until that call has
     * returned, then closes. */
    janus_queue *q = new_queue(JANUS_FIFO, 0, NULL);
    int rfd = -1;
    CHECK(janus_queue_fd(q, JANUS_READABLE, &rfd) == JANUS_OK, "janus_queue_fd");
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.fd = rfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, rfd, &ev);
    int announced = 0;
    blocked b;
    memset(&b, 0, sizeof b);
    b.q = q;
    b.announced = &announced;
    b.timeout = JANUS_WAIT_FOREVER;
    pthread_t th;
    if (start_thread(&th, blocked_get, &b) != 0) exit(1);
    CHECK(wait_announced(&announced, 1, 10000), "thread did not start");
    janus_queue_free(q);
    pthread_join(th, NULL);
    CHECK(b.status == JANUS_SHUTDOWN, "the blocked get answered %s", status_name(b.status));
    uint64_t t0 = now_ns();  /* the last reference may be let go just after the call returns */
    while (fd_is_open(rfd) && ms_since(t0) < 2000) sleep_us(1000);
    CHECK(!fd_is_open(rfd), "the readable descriptor is still open after free and the last call");
    CHECK(count_fds() == base, "%d descriptors open, %d before", count_fds(), base);
    close(ep);
    ledger_check("epoll free", NULL, NULL, NULL);
    printf("   %d queues freed with their descriptors in an epoll set: closed, no leak\n", rounds);
}

/* 6i: readiness under threads: a queue shut down wakes every poller; the writable descriptor
 * of a queue whose limit opens wakes a poller. */
typedef struct poller {
    int fd;
    int *announced;
    int rc;
    uint64_t returned_ns;
} poller;

static void *poller_main(void *arg)
{
    poller *p = arg;
    struct pollfd pf = {p->fd, POLLIN, 0};
    ADD(p->announced, 1);
    do p->rc = poll(&pf, 1, 30000); while (p->rc < 0 && errno == EINTR);
    p->returned_ns = now_ns();
    return NULL;
}

static void test_fd_wakes_pollers(void)
{
    begin_test("readiness descriptors wake threads blocked in poll", 30);
    ledger_reset();
    enum { N = 8 };
    janus_queue *q = new_queue(JANUS_FIFO, 1, NULL);
    int rfd = -1, wfd = -1;
    CHECK(janus_queue_fd(q, JANUS_READABLE, &rfd) == JANUS_OK &&
              janus_queue_fd(q, JANUS_WRITABLE, &wfd) == JANUS_OK, "janus_queue_fd");
    tok *t = tok_new();
    janus_queue_put(q, t, 0);
    void *x;
    CHECK(janus_queue_get(q, &x, 0) == JANUS_OK, "get");
    tok_end(x, END_GOT);
    CHECK(janus_queue_get(q, &x, 0) == JANUS_EMPTY, "get empty");
    t = tok_new();
    janus_queue_put(q, t, 0);
    tok *u = tok_new();
    CHECK(janus_queue_put(q, u, 0) == JANUS_FULL, "put full");
    tok_end(u, END_KEPT);
    CHECK(!fd_readable(wfd), "writable descriptor readable after FULL");
    /* Pollers on the writable descriptor; a larger limit wakes them all. */
    int announced = 0;
    poller p[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        p[i].fd = wfd;
        p[i].announced = &announced;
        p[i].rc = -1;
        if (start_thread(&th[i], poller_main, &p[i]) != 0) exit(1);
    }
    CHECK(wait_announced(&announced, N, 10000), "pollers did not start");
    uint64_t t0 = now_ns();
    janus_queue_set_maxsize(q, 2);
    int wrong = 0;
    double worst = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        if (p[i].rc != 1) wrong++;
        double w = (double)(p[i].returned_ns - t0) / 1e6;
        if (w > worst) worst = w;
    }
    CHECK(wrong == 0 && worst < 5000, "set_maxsize: %d of %d pollers not woken (worst %.0f ms)",
          wrong, N, worst);
    /* Pollers on the quiet readable descriptor; a shutdown wakes them all. */
    CHECK(janus_queue_get(q, &x, 0) == JANUS_OK, "get");
    tok_end(x, END_GOT);
    CHECK(janus_queue_get(q, &x, 0) == JANUS_EMPTY, "get empty");
    CHECK(!fd_readable(rfd), "readable descriptor readable after EMPTY");
    announced = 0;
    for (int i = 0; i < N; i++) {
        p[i].fd = rfd;
        p[i].announced = &announced;
        p[i].rc = -1;
        if (start_thread(&th[i], poller_main, &p[i]) != 0) exit(1);
    }
    CHECK(wait_announced(&announced, N, 10000), "pollers did not start");
    t0 = now_ns();
    janus_queue_shutdown(q, false);
    wrong = 0;
    worst = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        if (p[i].rc != 1) wrong++;
        double w = (double)(p[i].returned_ns - t0) / 1e6;
        if (w > worst) worst = w;
    }
    CHECK(wrong == 0 && worst < 5000, "shutdown: %d of %d pollers not woken (worst %.0f ms)", wrong,
          N, worst);
    CHECK(fd_readable(rfd) && fd_readable(wfd), "descriptors not readable after shutdown");
    janus_queue_free(q);
    ledger_check("pollers", NULL, NULL, NULL);
}

/* ------------------------------------------------------------------------ */

int main(void)
{
    const char *scale = getenv("HOSTILE_SCALE");
    g_scale_valgrind = scale && strcmp(scale, "valgrind") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    g_ledger = calloc(LEDGER_CAP, 1);
    if (!g_ledger) return 1;
    g_pool = calloc(PEEK_POOL_MAX, sizeof *g_pool);
    if (!g_pool) return 1;
    pthread_t wd;
    if (pthread_create(&wd, NULL, watchdog, NULL) != 0) return 1;
    pthread_detach(wd);
    uint64_t t0 = now_ns();

    test_free_blocked(false);
    test_free_blocked(true);
    test_free_blocked_join(false);
    test_free_blocked_join(true);
    test_free_consumer(true);
    test_free_consumer(false);
    test_free_producer();
    test_slow_destroy();
    test_slow_consume();
    test_inconsistent_compare();
    test_many_queues();
    test_thundering_herd();
    test_new_bad_arguments();
    test_set_maxsize_churn(JANUS_FIFO);
    test_set_maxsize_churn(JANUS_LIFO);
    test_set_maxsize_churn(JANUS_PRIORITY);
    test_lane_leave_race();
    test_clear_race(JANUS_FIFO);
    test_clear_race(JANUS_LIFO);
    test_clear_race(JANUS_PRIORITY);
    test_peek_race(JANUS_FIFO);
    test_peek_race(JANUS_LIFO);
    test_peek_race(JANUS_PRIORITY);
    test_free_blocked_peek();
    test_fd_many_threads();
    test_fd_epoll_free();
    test_fd_wakes_pollers();

    STORE(&g_deadline_ns, 0);
    free(g_ledger);
    free(g_pool);
    printf("hostile: %.1f s%s\n", ms_since(t0) / 1000, g_scale_valgrind ? " (scaled for valgrind)" : "");
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
