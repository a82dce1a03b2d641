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
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    int announced = 0;
    blocked b[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        b[i].q = q;
        b[i].announced = &announced;
        b[i].timeout = i % 2 ? JANUS_WAIT_FOREVER : 60000;  /* forever, and a long timeout */
        b[i].item = putters ? tok_new() : NULL;
        b[i].status = (janus_status)-1;
        if (start_thread(&t[i], putters ? blocked_put : blocked_get, &b[i]) != 0) {
            printf("cannot start a thread\n");
            exit(1);
        }
    }
    CHECK(wait_announced(&announced, N, 10000), "threads did not start");
    uint64_t t0 = now_ns();
    janus_queue_free(q);
    double free_ms = ms_since(t0);
    for (int i = 0; i < N; i++) pthread_join(t[i], NULL);
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
    int announced = 0;
    blocked b[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        memset(&b[i], 0, sizeof b[i]);
        b[i].q = q;
        b[i].announced = &announced;
        b[i].timeout = i % 2 ? JANUS_WAIT_FOREVER : 60000;
        b[i].status = (janus_status)-1;
        if (start_thread(&t[i], blocked_join, &b[i]) != 0) exit(1);
    }
    CHECK(wait_announced(&announced, N, 10000), "threads did not start");
    uint64_t t0 = now_ns();
    janus_queue_free(q);
    for (int i = 0; i < N; i++) pthread_join(t[i], NULL);
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

int main(void)
{
    const char *scale = getenv("HOSTILE_SCALE");
    g_scale_valgrind = scale && strcmp(scale, "valgrind") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    g_ledger = calloc(LEDGER_CAP, 1);
    if (!g_ledger) return 1;
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

    STORE(&g_deadline_ns, 0);
    free(g_ledger);
    printf("hostile: %.1f s%s\n", ms_since(t0) / 1000, g_scale_valgrind ? " (scaled for valgrind)" : "");
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
