/*
 * stress.c - stress test and soak for libjanus.so: C threads and Swift tasks
 * on both faces of one queue, with random timeouts, cancellation and shutdown.
 *
 *   stress [seconds [seed]]      (default 5 s, seed from the clock; printed)
 *
 * The run is a series of rounds, cycling through FIFO / LIFO / PRIORITY, each
 * bounded (random maxsize 1..64) and unbounded, until `seconds` have passed
 * (at least one round of each of the six).  Every round has a seed of its own
 * that decides its kind, its maxsize and every random choice in it; the first
 * round's seed is the run's seed.  A failing round prints its seed and the
 * command that starts a run with that very round (`make soak SEED=...`):
 * the same choices, though not the same interleaving of threads.  In every
 * round, on one queue:
 *
 * - 2 C producer threads: put / put_many with random timeouts (JANUS_NO_WAIT,
 *   1 ms, 5 ms, forever); a JANUS_FULL item is retried or taken back;
 * - 2 C consumer threads: get / get_many with random timeouts, task_done at
 *   once or later in batches, join with short timeouts; they stop at
 *   JANUS_SHUTDOWN, so they drain the queue;
 * - Swift tasks: two janus_produce_async producers, a janus_consume_async
 *   consumer of 3 tasks and one of 1 task.  The main thread cancels them at
 *   random moments (a consumer's taken item must reach fn or destroy), fn
 *   sometimes says stop, and every one that ends is freed and replaced (the
 *   stop contract of janus.h is checked where C can see it: fn never runs
 *   after janus_consumer_wait reported the end, and a consumer that said stop
 *   ends; the bound on calls after the stop mark needs the mark, which only
 *   the Swift test suite can see: Tests/JanusCAPITests);
 * - at a random moment the main thread shuts the queue down (random mode,
 *   sometimes both modes), then waits for everything to end.
 *
 * Items are heap tokens (producer instance, sequence number, priority).  Every
 * token ends exactly once, in a ledger: got (by a C consumer or a consumer
 * fn), destroyed (by the queue's destroy callback) or taken back by the C
 * producer whose put failed.  At the end of each round the ledger must show
 * exactly one end for every token made, the queue must be empty with no
 * unfinished task, join must answer at once and wait_closed must succeed.
 * For FIFO each single consumer (C thread or 1-task consumer) must see each
 * producer's items in increasing order.  A bounded queue must never report
 * qsize > maxsize.
 *
 * A watchdog thread fails the run (printing what every thread was doing, then
 * exit status 1) if a round overruns its time by STRESS_GRACE_S seconds
 * (environment, default 30), instead of hanging.
 *
 * Output: one line per round, then "N passed, N failed" (rounds); exit status
 * 1 if any check failed.
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

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_ACQ_REL)

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_us(unsigned us)
{
    struct timespec ts = {us / 1000000u, (long)(us % 1000000u) * 1000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* xorshift64*: one state per thread (or per task-serial context). */
static uint64_t rnd(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t mix(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static unsigned below(uint64_t *s, unsigned n) { return (unsigned)(rnd(s) % n); }

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

static const char *kind_name(janus_kind k)
{
    return k == JANUS_FIFO ? "FIFO" : k == JANUS_LIFO ? "LIFO" : "PRIORITY";
}

/* ------------------------------------------------------------------------ */
/* Failures                                                                 */
/* ------------------------------------------------------------------------ */

static pthread_mutex_t g_print_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_round_failures;   /* checks failed in the current round (atomic) */

#define MAX_FAIL_PRINTS 20

static void fail_at(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_at(int line, const char *fmt, ...)
{
    int n = ADD(&g_round_failures, 1);
    if (n >= MAX_FAIL_PRINTS) return;
    va_list ap;
    pthread_mutex_lock(&g_print_lock);
    printf("FAIL stress.c:%d: ", line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    pthread_mutex_unlock(&g_print_lock);
}

#define FAIL(...) fail_at(__LINE__, __VA_ARGS__)
#define CHECK(cond, ...) do { if (!(cond)) FAIL(__VA_ARGS__); } while (0)

/* ------------------------------------------------------------------------ */
/* Items and the ledger                                                     */
/* ------------------------------------------------------------------------ */

#define ITEM_MAGIC 0x53545253u /* "STRS" */
#define MAX_INST 64            /* producer instances per round (C threads + async) */
#define LEDGER_CAP (1u << 22)  /* items per producer instance per round */

/* What ended an item: the ledger adds one of these per end, so a sum that is
 * not exactly one of them shows a lost or doubled item and how. */
#define END_GOT 1u
#define END_DESTROYED 16u
#define END_TAKEN_BACK 64u

typedef struct item {
    uint32_t magic;
    uint32_t inst;  /* producer instance */
    uint32_t seq;   /* 0, 1, 2 ... per instance, in put order */
    uint32_t prio;  /* priority key, 0..7 */
} item;

typedef struct round_s round_t;

typedef struct cons_ctx cons_ctx;
typedef struct prod_ctx prod_ctx;

#define NCPROD 2
#define NCCONS 2
#define NACONS 2  /* async consumers at a time: 3 tasks and 1 task */
#define NAPROD 2  /* async producers at a time */
#define MAX_ACONS 256

struct cons_ctx {       /* one janus_consume_async consumer */
    round_t *r;
    janus_consumer *c;
    size_t tasks;
    int stopped;        /* fn said stop (atomic) */
    int after_stop;     /* fn calls after that (atomic) */
    int ended;          /* janus_consumer_wait said it ended (atomic) */
    int cancelled;
    uint64_t cancel_ns;
    uint64_t calls;     /* atomic */
    uint64_t rng;       /* atomic counter, mixed */
    uint32_t last[MAX_INST]; /* FIFO order check (tasks == 1): last seq + 1 */
};

struct prod_ctx {       /* one janus_produce_async producer */
    round_t *r;
    janus_producer *p;
    uint32_t inst;
    int ended;          /* atomic */
    int cancelled;
    uint64_t cancel_ns;
    uint64_t rng;       /* used by its one task only */
};

typedef struct cthread {
    round_t *r;
    pthread_t tid;
    int index;
    uint64_t rng;
    const char *doing;  /* atomic pointer: for the watchdog */
    uint64_t ops;       /* atomic */
    uint32_t last[MAX_INST];
} cthread;

struct round_s {
    int number;
    uint64_t seed;             /* decides kind, maxsize and every random choice */
    janus_kind kind;
    size_t maxsize;
    janus_queue *q;
    unsigned char *ledger[MAX_INST];
    uint32_t made[MAX_INST];   /* items made per instance (atomic) */
    uint32_t ninst;            /* instances in use (atomic) */
    int capped;                /* a producer hit LEDGER_CAP (atomic) */
    /* counters (atomic) */
    uint64_t put_c, put_async_made, got_c, got_async, destroyed, taken_back;
    uint64_t task_done_c, joins_ok, joins_timeout, timeouts_get, timeouts_put;
    uint64_t cancels_c, cancels_p, stops_c, stops_p, compares;
    bool shut;                 /* atomic: shutdown has been called */
    cthread prod[NCPROD], cons[NCCONS];
    cons_ctx acons[MAX_ACONS];
    int nacons;
    prod_ctx aprod[MAX_INST];
    int naprod;
    int cur_acons[NACONS];     /* indexes into acons, -1 none */
    int cur_aprod[NAPROD];
    const char *phase;         /* atomic pointer: for the watchdog */
};

static round_t *g_round;       /* the round in progress, for the watchdog */

/* A new item for producer instance inst, or NULL when it is at LEDGER_CAP.
 * Only that instance's producer calls this (one thread or one task). */
static item *item_new(round_t *r, uint32_t inst, uint64_t *rng)
{
    uint32_t seq = LOAD(&r->made[inst]);
    if (seq >= LEDGER_CAP) {
        STORE(&r->capped, 1);
        return NULL;
    }
    item *it = malloc(sizeof *it);
    if (!it) {
        FAIL("out of memory");
        return NULL;
    }
    it->magic = ITEM_MAGIC;
    it->inst = inst;
    it->seq = seq;
    it->prio = (uint32_t)(rnd(rng) & 7);
    STORE(&r->made[inst], seq + 1);
    return it;
}

static bool item_valid(round_t *r, const item *it, const char *where)
{
    if (!it) {
        FAIL("%s: NULL item (none was put)", where);
        return false;
    }
    if (it->magic != ITEM_MAGIC) {
        FAIL("%s: item %p is not a live item (magic %08x)", where, (const void *)it, it->magic);
        return false;
    }
    if (it->inst >= LOAD(&r->ninst) || it->seq >= LOAD(&r->made[it->inst])) {
        FAIL("%s: item (%u, %u) was never made", where, it->inst, it->seq);
        return false;
    }
    return true;
}

/* Records the end of an item and frees it. */
static void item_end(round_t *r, item *it, unsigned how, const char *where)
{
    if (!item_valid(r, it, where)) return;
    unsigned char old = __atomic_fetch_add(&r->ledger[it->inst][it->seq], (unsigned char)how,
                                           __ATOMIC_ACQ_REL);
    if (old != 0)
        FAIL("%s: item (%u, %u) ended twice (ledger %u, now +%u)", where, it->inst, it->seq, old,
             how);
    it->magic = 0xdeaddeadu;
    free(it);
}

/* FIFO order for one consumer: each producer's items in increasing order. */
static void check_order(round_t *r, uint32_t *last, const item *it, const char *who)
{
    if (r->kind != JANUS_FIFO) return;
    uint32_t prev = last[it->inst];
    if (it->seq + 1 <= prev)
        FAIL("FIFO order: %s got item (%u, %u) after (%u, %u)", who, it->inst, it->seq, it->inst,
             prev - 1);
    last[it->inst] = it->seq + 1;
}

/* ------------------------------------------------------------------------ */
/* Queue callbacks                                                          */
/* ------------------------------------------------------------------------ */

static void destroy_cb(void *p, void *ctx)
{
    round_t *r = ctx;
    ADD(&r->destroyed, 1);
    item_end(r, p, END_DESTROYED, "destroy");
}

static int compare_cb(const void *a, const void *b, void *ctx)
{
    round_t *r = ctx;
    const item *x = a, *y = b;
    __atomic_fetch_add(&r->compares, 1, __ATOMIC_RELAXED);
    if (!x || !y || x->magic != ITEM_MAGIC || y->magic != ITEM_MAGIC) {
        FAIL("compare got a bad item (%p, %p)", a, b);
        return 0;
    }
    return (int)x->prio - (int)y->prio;
}

/* ------------------------------------------------------------------------ */
/* C threads                                                                */
/* ------------------------------------------------------------------------ */

static int64_t pick_timeout(uint64_t *rng, bool *forever)
{
    unsigned k = below(rng, 10);
    *forever = false;
    if (k < 3) return JANUS_NO_WAIT;
    if (k < 6) return 1;
    if (k < 8) return 5;
    *forever = true;
    return JANUS_WAIT_FOREVER;
}

static void check_bounded(round_t *r, const char *who)
{
    size_t n = janus_queue_qsize(r->q);
    if (r->maxsize) CHECK(n <= r->maxsize, "%s: qsize %zu > maxsize %zu", who, n, r->maxsize);
}

static void random_join(round_t *r, uint64_t *rng, const char *who)
{
    janus_status st = janus_queue_join(r->q, below(rng, 3));
    if (st == JANUS_OK)
        ADD(&r->joins_ok, 1);
    else if (st == JANUS_TIMEOUT)
        ADD(&r->joins_timeout, 1);
    else
        FAIL("%s: join answered %s", who, status_name(st));
}

#define MANY 16

static void *c_producer(void *arg)
{
    cthread *t = arg;
    round_t *r = t->r;
    uint32_t inst = (uint32_t)t->index;
    char who[32];
    snprintf(who, sizeof who, "C producer %d", t->index);
    for (;;) {
        ADD(&t->ops, 1);
        if (below(&t->rng, 64) == 0) {
            STORE(&t->doing, "join");
            random_join(r, &t->rng, who);
            check_bounded(r, who);
        }
        bool forever;
        int64_t timeout = pick_timeout(&t->rng, &forever);
        if (below(&t->rng, 5) != 0) {
            item *it = item_new(r, inst, &t->rng);
            if (!it) break;
            for (;;) {
                STORE(&t->doing, "put");
                janus_status st = janus_queue_put(r->q, it, timeout);
                STORE(&t->doing, "after put");
                if (st == JANUS_OK) {
                    ADD(&r->put_c, 1);
                    break;
                }
                if (st == JANUS_FULL) {
                    CHECK(!forever, "%s: put(WAIT_FOREVER) answered FULL", who);
                    CHECK(r->maxsize != 0, "%s: put on an unbounded queue answered FULL", who);
                    ADD(&r->timeouts_put, 1);
                    if (below(&t->rng, 2)) {  /* retry the same item */
                        timeout = pick_timeout(&t->rng, &forever);
                        continue;
                    }
                    ADD(&r->taken_back, 1);
                    item_end(r, it, END_TAKEN_BACK, who);
                    break;
                }
                ADD(&r->taken_back, 1);
                item_end(r, it, END_TAKEN_BACK, who);
                if (st == JANUS_SHUTDOWN) {
                    CHECK(LOAD(&r->shut), "%s: put answered SHUTDOWN before shutdown", who);
                    goto out;
                }
                FAIL("%s: put answered %s", who, status_name(st));
                goto out;
            }
        } else {
            void *items[MANY];
            size_t k = 1 + below(&t->rng, MANY), made = 0;
            for (; made < k; made++)
                if (!(items[made] = item_new(r, inst, &t->rng))) break;
            if (!made) break;
            size_t n = 9999;
            STORE(&t->doing, "put_many");
            janus_status st = janus_queue_put_many(r->q, items, made, &n, timeout);
            STORE(&t->doing, "after put_many");
            if (n > made) {
                FAIL("%s: put_many put %zu of %zu", who, n, made);
                n = 0;
            }
            ADD(&r->put_c, n);
            if (st == JANUS_OK)
                CHECK(n == made, "%s: put_many OK with %zu of %zu", who, n, made);
            else if (st == JANUS_FULL) {
                CHECK(n < made, "%s: put_many FULL with all %zu in", who, n);
                CHECK(!forever, "%s: put_many(WAIT_FOREVER) answered FULL", who);
                ADD(&r->timeouts_put, 1);
            } else if (st == JANUS_SHUTDOWN) {
                CHECK(n < made, "%s: put_many SHUTDOWN with all %zu in", who, n);
                CHECK(LOAD(&r->shut), "%s: put_many answered SHUTDOWN before shutdown", who);
            } else {
                FAIL("%s: put_many answered %s", who, status_name(st));
            }
            for (size_t i = n; i < made; i++) {
                ADD(&r->taken_back, 1);
                item_end(r, items[i], END_TAKEN_BACK, who);
            }
            if (st != JANUS_OK && st != JANUS_FULL) break;
            if (made < k) break;  /* at LEDGER_CAP */
        }
    }
out:
    STORE(&t->doing, "done");
    return NULL;
}

static void flush_task_done(round_t *r, size_t *pending, const char *who)
{
    while (*pending) {
        janus_status st = janus_queue_task_done(r->q);
        CHECK(st == JANUS_OK, "%s: task_done answered %s with %zu of ours pending", who,
              status_name(st), *pending);
        ADD(&r->task_done_c, 1);
        (*pending)--;
    }
}

static void *c_consumer(void *arg)
{
    cthread *t = arg;
    round_t *r = t->r;
    size_t pending = 0;  /* items got, task_done not yet called */
    char who[32];
    snprintf(who, sizeof who, "C consumer %d", t->index);
    for (;;) {
        ADD(&t->ops, 1);
        bool forever;
        int64_t timeout = pick_timeout(&t->rng, &forever);
        void *items[MANY];
        size_t n = 0;
        janus_status st;
        if (below(&t->rng, 10) < 7) {
            STORE(&t->doing, "get");
            st = janus_queue_get(r->q, &items[0], timeout);
            n = st == JANUS_OK;
        } else {
            size_t maxc = 1 + below(&t->rng, MANY);
            n = 9999;
            STORE(&t->doing, "get_many");
            st = janus_queue_get_many(r->q, items, maxc, &n, timeout);
            if (st == JANUS_OK)
                CHECK(n >= 1 && n <= maxc, "%s: get_many OK with %zu (max %zu)", who, n, maxc);
            else
                CHECK(n == 0, "%s: get_many %s with count %zu", who, status_name(st), n);
            if (st != JANUS_OK || n > maxc) n = 0;
        }
        STORE(&t->doing, "after get");
        if (st == JANUS_OK) {
            for (size_t i = 0; i < n; i++) {
                if (!item_valid(r, items[i], who)) continue;
                check_order(r, t->last, items[i], who);
                ADD(&r->got_c, 1);
                item_end(r, items[i], END_GOT, who);
            }
            pending += n;
            if (below(&t->rng, 10) < 7 || pending > 64) flush_task_done(r, &pending, who);
        } else if (st == JANUS_EMPTY) {
            CHECK(!forever, "%s: get(WAIT_FOREVER) answered EMPTY", who);
            ADD(&r->timeouts_get, 1);
            if (below(&t->rng, 8) == 0) {
                flush_task_done(r, &pending, who);
                STORE(&t->doing, "join");
                random_join(r, &t->rng, who);
            }
        } else if (st == JANUS_SHUTDOWN) {
            CHECK(LOAD(&r->shut), "%s: get answered SHUTDOWN before shutdown", who);
            break;
        } else {
            FAIL("%s: get answered %s", who, status_name(st));
            break;
        }
        if (below(&t->rng, 256) == 0) check_bounded(r, who);
    }
    flush_task_done(r, &pending, who);
    STORE(&t->doing, "done");
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Swift tasks: consumers and producers                                     */
/* ------------------------------------------------------------------------ */

static int consume_fn(void *p, void *ctx)
{
    cons_ctx *c = ctx;
    round_t *r = c->r;
    if (LOAD(&c->ended)) FAIL("consumer fn called after janus_consumer_wait reported the end");
    /* Calls after a call said stop: allowed while the stopping task has not set its mark
     * (janus.h, "Stopping"), which a preempted thread stretches; counted for the report. */
    if (LOAD(&c->stopped)) ADD(&c->after_stop, 1);
    ADD(&c->calls, 1);
    item *it = p;
    if (!item_valid(r, it, "consumer fn")) return 0;
    if (c->tasks == 1) check_order(r, c->last, it, "1-task consumer");
    ADD(&r->got_async, 1);
    item_end(r, it, END_GOT, "consumer fn");
    uint64_t x = mix(ADD(&c->rng, 1));
    if (x % 20000 == 0) {
        STORE(&c->stopped, 1);
        ADD(&r->stops_c, 1);
        return 1;
    }
    return 0;
}

static janus_status produce_fn(void **out, void *ctx)
{
    prod_ctx *p = ctx;
    round_t *r = p->r;
    if (LOAD(&p->ended)) FAIL("producer fn called after janus_producer_wait reported the end");
    if (rnd(&p->rng) % 50000 == 0) {
        ADD(&r->stops_p, 1);
        return JANUS_EMPTY;  /* anything but OK: stop */
    }
    item *it = item_new(r, p->inst, &p->rng);
    if (!it) return JANUS_EMPTY;
    ADD(&r->put_async_made, 1);
    *out = it;
    return JANUS_OK;
}

static uint64_t g_seed;

/* Round n's seed: the run's seed for round 0; then seeds whose remainder mod 6 (the kind of
 * round, see main) goes on from round 0's in turn. */
static uint64_t round_seed(int n)
{
    if (n == 0) return g_seed;
    uint64_t combo = (g_seed % 6 + (uint64_t)n) % 6;
    return (mix(g_seed + (uint64_t)n * 0x9e3779b97f4a7c15u) >> 4) * 6 + combo;
}

static int start_consumer(round_t *r, size_t tasks)
{
    if (r->nacons >= MAX_ACONS) return -1;
    int i = r->nacons++;
    cons_ctx *c = &r->acons[i];
    memset(c, 0, sizeof *c);
    c->r = r;
    c->tasks = tasks;
    c->rng = mix(r->seed ^ 0x5eed0000u ^ (uint64_t)i);
    c->c = janus_consume_async(r->q, consume_fn, c, tasks);
    CHECK(c->c != NULL, "janus_consume_async gave NULL");
    return c->c ? i : -1;
}

static int start_producer(round_t *r)
{
    uint32_t inst = LOAD(&r->ninst);
    if (inst >= MAX_INST || r->naprod >= MAX_INST) return -1;
    r->ledger[inst] = calloc(LEDGER_CAP, 1);
    if (!r->ledger[inst]) {
        FAIL("out of memory for a ledger");
        return -1;
    }
    STORE(&r->ninst, inst + 1);
    int i = r->naprod++;
    prod_ctx *p = &r->aprod[i];
    memset(p, 0, sizeof *p);
    p->r = r;
    p->inst = inst;
    p->rng = mix(r->seed ^ (0x100u + inst) << 8) | 1;
    p->p = janus_produce_async(r->q, produce_fn, p);
    CHECK(p->p != NULL, "janus_produce_async gave NULL");
    return p->p ? i : -1;
}

/* Ends (waits for, frees) a consumer that has ended or must end now. */
static void finish_consumer(cons_ctx *c, int64_t timeout_ms)
{
    janus_status st = janus_consumer_wait(c->c, timeout_ms);
    CHECK(st == JANUS_OK, "janus_consumer_wait(%" PRId64 " ms) answered %s%s", timeout_ms,
          status_name(st), c->cancelled ? " (after cancel)" : "");
    if (st != JANUS_OK) return;  /* leave it: the watchdog or the end of the run reports */
    STORE(&c->ended, 1);
    janus_consumer_free(c->c);
    c->c = NULL;
}

static void finish_producer(prod_ctx *p, int64_t timeout_ms)
{
    janus_status st = janus_producer_wait(p->p, timeout_ms);
    CHECK(st == JANUS_OK, "janus_producer_wait(%" PRId64 " ms) answered %s%s", timeout_ms,
          status_name(st), p->cancelled ? " (after cancel)" : "");
    if (st != JANUS_OK) return;
    STORE(&p->ended, 1);
    janus_producer_free(p->p);
    p->p = NULL;
}

/* ------------------------------------------------------------------------ */
/* Watchdog                                                                 */
/* ------------------------------------------------------------------------ */

static uint64_t g_deadline_ns;  /* atomic; 0 = none */

static void *snapshot_thread(void *arg)
{
    round_t *r = arg;
    printf("  queue: qsize %zu, unfinished_tasks %zu, shut down %d\n", janus_queue_qsize(r->q),
           janus_queue_unfinished_tasks(r->q), (int)janus_queue_is_shutdown(r->q));
    fflush(stdout);
    return NULL;
}

static void *watchdog(void *arg)
{
    (void)arg;
    for (;;) {
        sleep_us(100000);
        uint64_t d = LOAD(&g_deadline_ns);
        if (!d || now_ns() < d) continue;
        round_t *r = LOAD(&g_round);
        pthread_mutex_lock(&g_print_lock);
        printf("FAIL watchdog: round %d overran its time budget; phase: %s\n", r ? r->number : -1,
               r ? LOAD(&r->phase) : "?");
        if (r)
            printf("  round seed %" PRIu64 "; replay it first with: make soak SEED=%" PRIu64
                   " SECONDS=1\n", r->seed, r->seed);
        if (r) {
            printf("  %s maxsize %zu, shut down called: %d\n", kind_name(r->kind), r->maxsize,
                   (int)LOAD(&r->shut));
            for (int i = 0; i < NCPROD; i++)
                printf("  C producer %d: %s (%" PRIu64 " ops)\n", i, LOAD(&r->prod[i].doing),
                       LOAD(&r->prod[i].ops));
            for (int i = 0; i < NCCONS; i++)
                printf("  C consumer %d: %s (%" PRIu64 " ops)\n", i, LOAD(&r->cons[i].doing),
                       LOAD(&r->cons[i].ops));
            for (int i = 0; i < r->nacons; i++)
                if (r->acons[i].c)
                    printf("  consumer %d (%zu tasks): not yet freed, %" PRIu64 " items, cancelled %d,"
                           " said stop %d\n", i, r->acons[i].tasks, LOAD(&r->acons[i].calls),
                           r->acons[i].cancelled, LOAD(&r->acons[i].stopped));
            for (int i = 0; i < r->naprod; i++)
                if (r->aprod[i].p)
                    printf("  producer %d: not yet freed, %u items made, cancelled %d\n", i,
                           LOAD(&r->made[r->aprod[i].inst]), r->aprod[i].cancelled);
            printf("  counters: put %" PRIu64 " (C) + %" PRIu64 " made (async), got %" PRIu64
                   " (C) + %" PRIu64 " (async), destroyed %" PRIu64 "\n", LOAD(&r->put_c),
                   LOAD(&r->put_async_made), LOAD(&r->got_c), LOAD(&r->got_async),
                   LOAD(&r->destroyed));
        }
        fflush(stdout);
        pthread_mutex_unlock(&g_print_lock);
        if (r) {
            /* The queue lock may be the thing that is stuck: ask from a thread we can abandon. */
            pthread_t t;
            if (pthread_create(&t, NULL, snapshot_thread, r) == 0) {
                pthread_detach(t);
                sleep_us(1000000);
            }
        }
        printf("0 passed, 1 failed (watchdog)\n");
        fflush(stdout);
        _exit(1);
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* A round                                                                  */
/* ------------------------------------------------------------------------ */

static int64_t g_grace_ms = 30000;

static uint64_t g_total_moved, g_total_destroyed, g_total_cancels;

static bool run_round(round_t *r, unsigned round_ms)
{
    uint64_t rng = mix(r->seed * 7919u) | 1;
    uint64_t t0 = now_ns();
    STORE(&g_round_failures, 0);
    STORE(&g_deadline_ns, t0 + (uint64_t)round_ms * 1000000u + (uint64_t)g_grace_ms * 1000000u);
    STORE(&r->phase, "start");

    janus_options o;
    memset(&o, 0, sizeof o);
    o.kind = r->kind;
    o.maxsize = r->maxsize;
    o.destroy = destroy_cb;
    o.compare = r->kind == JANUS_PRIORITY ? compare_cb : NULL;
    o.ctx = r;
    r->q = janus_queue_new_with(&o);
    if (!r->q) {
        FAIL("janus_queue_new_with gave NULL");
        return false;
    }
    for (int i = 0; i < NACONS; i++) r->cur_acons[i] = -1;
    for (int i = 0; i < NAPROD; i++) r->cur_aprod[i] = -1;

    /* C threads: producer instances 0 and 1 are theirs. */
    for (int i = 0; i < NCPROD; i++) {
        r->ledger[i] = calloc(LEDGER_CAP, 1);
        if (!r->ledger[i]) {
            FAIL("out of memory for a ledger");
            return false;
        }
    }
    STORE(&r->ninst, NCPROD);
    for (int i = 0; i < NCPROD; i++) {
        cthread *t = &r->prod[i];
        t->r = r;
        t->index = i;
        t->rng = mix(r->seed ^ (uint64_t)(i + 1) << 16) | 1;
        t->doing = "starting";
        if (pthread_create(&t->tid, NULL, c_producer, t) != 0) {
            FAIL("pthread_create failed");
            return false;
        }
    }
    for (int i = 0; i < NCCONS; i++) {
        cthread *t = &r->cons[i];
        t->r = r;
        t->index = i;
        t->rng = mix(r->seed ^ (uint64_t)(i + 101) << 16) | 1;
        t->doing = "starting";
        if (pthread_create(&t->tid, NULL, c_consumer, t) != 0) {
            FAIL("pthread_create failed");
            return false;
        }
    }
    /* Swift tasks. */
    r->cur_acons[0] = start_consumer(r, 3);
    r->cur_acons[1] = start_consumer(r, 1);
    for (int i = 0; i < NAPROD; i++) r->cur_aprod[i] = start_producer(r);

    /* Until the shutdown moment: cancel, reap and replace at random. */
    STORE(&r->phase, "running");
    uint64_t shut_at = t0 + (uint64_t)round_ms * 1000000u * (30 + below(&rng, 61)) / 100;
    while (now_ns() < shut_at) {
        sleep_us(500 + below(&rng, 4500));
        unsigned act = below(&rng, 100);
        if (act < 8) {
            int k = r->cur_acons[below(&rng, NACONS)];
            if (k >= 0 && !r->acons[k].cancelled) {
                janus_consumer_cancel(r->acons[k].c);
                r->acons[k].cancelled = 1;
                r->acons[k].cancel_ns = now_ns();
                ADD(&r->cancels_c, 1);
            }
        } else if (act < 16) {
            int k = r->cur_aprod[below(&rng, NAPROD)];
            if (k >= 0 && !r->aprod[k].cancelled) {
                janus_producer_cancel(r->aprod[k].p);
                r->aprod[k].cancelled = 1;
                r->aprod[k].cancel_ns = now_ns();
                ADD(&r->cancels_p, 1);
            }
        } else if (act < 20) {
            check_bounded(r, "main");
        }
        /* Reap what ended (cancelled, or fn said stop) and start a replacement. */
        for (int s = 0; s < NACONS; s++) {
            int k = r->cur_acons[s];
            if (k < 0) continue;
            cons_ctx *c = &r->acons[k];
            janus_status st = janus_consumer_wait(c->c, JANUS_NO_WAIT);
            if (st == JANUS_OK) {
                CHECK(c->cancelled || LOAD(&c->stopped),
                      "a consumer ended before shutdown without cancel or stop");
                finish_consumer(c, JANUS_NO_WAIT);
                r->cur_acons[s] = start_consumer(r, c->tasks);
            } else {
                CHECK(st == JANUS_TIMEOUT, "janus_consumer_wait(NO_WAIT) answered %s",
                      status_name(st));
                if (c->cancelled && now_ns() - c->cancel_ns > 5000000000u) {
                    FAIL("a cancelled consumer still runs after 5 s");
                    c->cancelled = 0; /* report once */
                }
            }
        }
        for (int s = 0; s < NAPROD; s++) {
            int k = r->cur_aprod[s];
            if (k < 0) continue;
            prod_ctx *p = &r->aprod[k];
            janus_status st = janus_producer_wait(p->p, JANUS_NO_WAIT);
            if (st == JANUS_OK) {
                finish_producer(p, JANUS_NO_WAIT);
                r->cur_aprod[s] = start_producer(r);
            } else {
                CHECK(st == JANUS_TIMEOUT, "janus_producer_wait(NO_WAIT) answered %s",
                      status_name(st));
                if (p->cancelled && now_ns() - p->cancel_ns > 5000000000u) {
                    FAIL("a cancelled producer still runs after 5 s");
                    p->cancelled = 0;
                }
            }
        }
    }

    /* Shutdown, in a random mode; sometimes the other mode too. */
    bool immediate = below(&rng, 2);
    const char *mode = immediate ? "immediate" : "normal";
    STORE(&r->phase, "shutdown");
    STORE(&r->shut, true);
    CHECK(janus_queue_shutdown(r->q, immediate) == JANUS_OK, "shutdown failed");
    if (below(&rng, 4) == 0) {
        sleep_us(below(&rng, 2000));
        janus_queue_shutdown(r->q, !immediate);
        mode = immediate ? "immediate+normal" : "normal+immediate";
        immediate = true;
    }
    uint64_t t_shut = now_ns();
    size_t qsize_at_shutdown = janus_queue_qsize(r->q);

    /* Everything must end now. */
    STORE(&r->phase, "joining C threads");
    for (int i = 0; i < NCPROD; i++) pthread_join(r->prod[i].tid, NULL);
    for (int i = 0; i < NCCONS; i++) pthread_join(r->cons[i].tid, NULL);
    STORE(&r->phase, "waiting for Swift consumers and producers");
    for (int s = 0; s < NACONS; s++)
        if (r->cur_acons[s] >= 0) finish_consumer(&r->acons[r->cur_acons[s]], 10000);
    for (int s = 0; s < NAPROD; s++)
        if (r->cur_aprod[s] >= 0) finish_producer(&r->aprod[r->cur_aprod[s]], 10000);
    double drain_ms = (double)(now_ns() - t_shut) / 1e6;

    /* The queue is drained (C consumers stop only at SHUTDOWN) or was discarded. */
    STORE(&r->phase, "final checks");
    size_t qs = janus_queue_qsize(r->q), uf = janus_queue_unfinished_tasks(r->q);
    CHECK(qs == 0, "qsize %zu after everyone stopped", qs);
    CHECK(uf == 0, "unfinished_tasks %zu after everyone stopped", uf);
    CHECK(janus_queue_is_shutdown(r->q), "is_shutdown false after shutdown");
    janus_status st = janus_queue_join(r->q, JANUS_NO_WAIT);
    CHECK(st == JANUS_OK, "join(NO_WAIT) answered %s at the end", status_name(st));
    st = janus_queue_wait_closed(r->q, 5000);
    CHECK(st == JANUS_OK, "wait_closed(5 s) answered %s at the end", status_name(st));
    uint64_t destroyed_before_free = LOAD(&r->destroyed);
    STORE(&r->phase, "janus_queue_free");
    janus_queue_free(r->q);
    CHECK(LOAD(&r->destroyed) == destroyed_before_free, "free destroyed items of an empty queue");
    r->q = NULL;

    /* Every item made ended exactly once. */
    STORE(&r->phase, "ledger");
    uint64_t ends[3] = {0, 0, 0}, made = 0;
    uint32_t ninst = LOAD(&r->ninst);
    for (uint32_t i = 0; i < ninst; i++) {
        uint32_t m = LOAD(&r->made[i]);
        made += m;
        unsigned bad = 0;
        for (uint32_t s = 0; s < m; s++) {
            unsigned char v = r->ledger[i][s];
            if (v == END_GOT)
                ends[0]++;
            else if (v == END_DESTROYED)
                ends[1]++;
            else if (v == END_TAKEN_BACK)
                ends[2]++;
            else if (bad++ < 5)
                FAIL("item (%u, %u) of %s producer: %s (ledger %u)", i, s,
                     i < NCPROD ? "a C" : "an async", v == 0 ? "lost (never ended)" : "ended twice",
                     v);
        }
        if (bad > 5) FAIL("... %u items of producer %u in all", bad, i);
        free(r->ledger[i]);
        r->ledger[i] = NULL;
    }
    uint64_t got = LOAD(&r->got_c) + LOAD(&r->got_async);
    CHECK(ends[0] == got, "ledger shows %" PRIu64 " got, counters %" PRIu64, ends[0], got);
    CHECK(ends[1] == LOAD(&r->destroyed), "ledger shows %" PRIu64 " destroyed, counter %" PRIu64,
          ends[1], LOAD(&r->destroyed));
    g_total_moved += got;
    g_total_destroyed += ends[1];
    g_total_cancels += LOAD(&r->cancels_c) + LOAD(&r->cancels_p);
    int failures = LOAD(&g_round_failures);
    pthread_mutex_lock(&g_print_lock);
    printf("round %2d: %-8s maxsize %2zu  %4.2f s, shutdown(%s) at %.2f s, %zu left, drained in %.1f ms:"
           " made %" PRIu64 ", got %" PRIu64 " (C %" PRIu64 ", async %" PRIu64 "), destroyed %"
           PRIu64 ", taken back %" PRIu64 "; cancels %" PRIu64 "c/%" PRIu64 "p, stops %" PRIu64
           "c/%" PRIu64 "p, joins %" PRIu64 " ok/%" PRIu64 " timeout%s -- %s\n",
           r->number, kind_name(r->kind), r->maxsize, (double)(now_ns() - t0) / 1e9, mode,
           (double)(t_shut - t0) / 1e9, qsize_at_shutdown, drain_ms, made, got, LOAD(&r->got_c),
           LOAD(&r->got_async), ends[1], ends[2], LOAD(&r->cancels_c), LOAD(&r->cancels_p),
           LOAD(&r->stops_c), LOAD(&r->stops_p), LOAD(&r->joins_ok), LOAD(&r->joins_timeout),
           LOAD(&r->capped) ? " (a producer hit the per-round cap)" : "",
           failures ? "FAILED" : "ok");
    if (failures)
        printf("round %2d failed: seed %" PRIu64 "; replay it first with: make soak SEED=%" PRIu64
               " SECONDS=1 (or make soak-tsan ...)\n", r->number, r->seed, r->seed);
    fflush(stdout);
    pthread_mutex_unlock(&g_print_lock);
    STORE(&g_deadline_ns, 0);
    return failures == 0;
}

/* ------------------------------------------------------------------------ */
/* main                                                                     */
/* ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 5.0;
    if (!(seconds > 0)) seconds = 5.0;
    g_seed = argc > 2 ? strtoull(argv[2], NULL, 0) : (now_ns() ^ (uint64_t)getpid() << 32);
    const char *grace = getenv("STRESS_GRACE_S");
    if (grace && atoi(grace) > 0) g_grace_ms = (int64_t)atoi(grace) * 1000;
    setvbuf(stdout, NULL, _IOLBF, 0);

    unsigned round_ms = (unsigned)(seconds * 1000.0 / 6.0);
    if (round_ms < 150) round_ms = 150;
    if (round_ms > 2000) round_ms = 2000;
    printf("stress: %.1f s, seed %" PRIu64 " (rerun: stress %g %" PRIu64 "), rounds of %u ms,"
           " %d C producers + %d C consumers, 2 async consumers (3 tasks, 1 task) +"
           " %d async producers\n", seconds, g_seed, seconds, g_seed, round_ms, NCPROD, NCCONS,
           NAPROD);

    pthread_t wd;
    if (pthread_create(&wd, NULL, watchdog, NULL) != 0) {
        printf("cannot start the watchdog\n0 passed, 1 failed\n");
        return 1;
    }
    pthread_detach(wd);

    static const janus_kind kinds[] = {JANUS_FIFO, JANUS_LIFO, JANUS_PRIORITY};
    int passed = 0, failed = 0;
    uint64_t start = now_ns();
    for (int n = 0;; n++) {
        double elapsed = (double)(now_ns() - start) / 1e9;
        if (n >= 6 && elapsed >= seconds) break;
        round_t *r = calloc(1, sizeof *r);
        if (!r) {
            printf("out of memory\n");
            failed++;
            break;
        }
        r->number = n;
        r->seed = round_seed(n);
        /* The seed decides which of the six kinds of round this is: successive rounds take
         * them in turn, and a replayed seed gets its own round back. */
        unsigned combo = (unsigned)(r->seed % 6);
        uint64_t size_rng = mix(r->seed) | 1;
        r->kind = kinds[combo % 3];
        r->maxsize = combo < 3 ? 1 + below(&size_rng, 64) : 0;
        STORE(&g_round, r);
        if (run_round(r, round_ms))
            passed++;
        else
            failed++;
        STORE(&g_round, NULL);
        free(r);
    }
    printf("stress: %" PRIu64 " items moved through the queues, %" PRIu64 " destroyed, %" PRIu64
           " cancels, in %.1f s\n", g_total_moved, g_total_destroyed, g_total_cancels,
           (double)(now_ns() - start) / 1e9);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
