/*
 * test_select.c - janus_select() of include/janus.h: every bad input, each
 * behaviour the header promises, fairness, and exactness under stress.
 *
 * The last line printed is "N passed, N failed" (exit status 1 if any
 * failed).  Ordering between threads is made certain with janus_queue_getters
 * / janus_queue_putters (a select waiting is listed in each queue's line like
 * a get or put), never with sleeps; checks on time are generous bounds only.
 * alarm() ends a hung run.
 */
#define _GNU_SOURCE

#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "janus.h"

static int g_passed, g_failed;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        int ok_ = (cond) ? 1 : 0;                                            \
        pthread_mutex_lock(&g_lock);                                         \
        if (ok_) {                                                           \
            g_passed++;                                                      \
        } else {                                                             \
            g_failed++;                                                      \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);           \
            printf(__VA_ARGS__);                                             \
            printf("\n");                                                    \
        }                                                                    \
        pthread_mutex_unlock(&g_lock);                                       \
    } while (0)

#define ITEM(n) ((void *)(uintptr_t)(n))

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Waits until q lists at least n getters (or putters): a gate, not a sleep. */
static void wait_getters(janus_queue *q, size_t n)
{
    while (janus_queue_getters(q) < n)
        usleep(100);
}

static void wait_putters(janus_queue *q, size_t n)
{
    while (janus_queue_putters(q) < n)
        usleep(100);
}

static janus_select_op get_op(janus_queue *q)
{
    janus_select_op op = { q, JANUS_SELECT_GET, NULL };
    return op;
}

static janus_select_op put_op(janus_queue *q, void *item)
{
    janus_select_op op = { q, JANUS_SELECT_PUT, item };
    return op;
}

static const janus_kind kinds[3] = { JANUS_FIFO, JANUS_LIFO, JANUS_PRIORITY };
static const char *kind_names[3] = { "fifo", "lifo", "priority" };

/* ------------------------------------------------------------------------ */

static void test_invalid(void)
{
    janus_queue *q = janus_queue_new(JANUS_FIFO, 0);
    janus_select_op ops[JANUS_SELECT_MAX + 1];
    size_t index = 77;
    for (int i = 0; i <= JANUS_SELECT_MAX; i++)
        ops[i] = put_op(q, ITEM(i));
    CHECK(janus_select(NULL, 1, &index, 0) == JANUS_EINVAL, "NULL ops");
    CHECK(janus_select(ops, 1, NULL, 0) == JANUS_EINVAL, "NULL index_out");
    CHECK(janus_select(ops, 0, &index, 0) == JANUS_EINVAL, "count 0");
    CHECK(janus_select(ops, JANUS_SELECT_MAX + 1, &index, 0) == JANUS_EINVAL, "count too large");
    CHECK(janus_select(ops, (size_t)-1, &index, 0) == JANUS_EINVAL, "count SIZE_MAX");
    CHECK(janus_select(ops, 1, &index, -2) == JANUS_EINVAL, "timeout -2");
    CHECK(janus_select(ops, 1, &index, INT64_MIN) == JANUS_EINVAL, "timeout INT64_MIN");
    ops[1].queue = NULL;
    CHECK(janus_select(ops, 2, &index, JANUS_WAIT_FOREVER) == JANUS_EINVAL, "NULL queue");
    ops[1].queue = q;
    ops[1].kind = (janus_select_kind)0;
    CHECK(janus_select(ops, 2, &index, JANUS_WAIT_FOREVER) == JANUS_EINVAL, "kind 0");
    ops[1].kind = (janus_select_kind)3;
    CHECK(janus_select(ops, 2, &index, JANUS_WAIT_FOREVER) == JANUS_EINVAL, "kind 3");
    /* Nothing was done by any of them, even the valid put before the bad op. */
    CHECK(index == 77, "index_out written on EINVAL: %zu", index);
    CHECK(janus_queue_qsize(q) == 0, "a put happened: %zu", janus_queue_qsize(q));
    CHECK(janus_queue_unfinished_tasks(q) == 0, "unfinished %zu", janus_queue_unfinished_tasks(q));
    /* The full count is accepted. */
    ops[1].kind = JANUS_SELECT_PUT;
    CHECK(janus_select(ops, JANUS_SELECT_MAX, &index, 0) == JANUS_OK, "64 ops");
    CHECK(janus_queue_qsize(q) == 1, "exactly one put: %zu", janus_queue_qsize(q));
    janus_queue_free(q);
}

static void test_nowait(void)
{
    for (int k = 0; k < 3; k++) {
        janus_queue *a = janus_queue_new(kinds[k], 1);
        janus_queue *b = janus_queue_new(kinds[k], 1);
        janus_select_op ops[2] = { get_op(a), get_op(b) };
        size_t index = 99;
        CHECK(janus_select(ops, 2, &index, JANUS_NO_WAIT) == JANUS_TIMEOUT, "%s: empty", kind_names[k]);
        CHECK(index == 99, "index written on TIMEOUT");
        /* One ready get: exactly it, the other queue untouched. */
        janus_queue_put(b, ITEM(5), 0);
        ops[0].item = ITEM(1234);
        CHECK(janus_select(ops, 2, &index, JANUS_NO_WAIT) == JANUS_OK, "%s: one ready", kind_names[k]);
        CHECK(index == 1 && ops[1].item == ITEM(5), "%s: index %zu item %p", kind_names[k], index, ops[1].item);
        CHECK(ops[0].item == ITEM(1234), "the other op's item was written");
        CHECK(janus_queue_unfinished_tasks(b) == 1, "get changed unfinished");
        /* Puts: a is full-free, b has room: full one is skipped. */
        janus_queue_put(a, ITEM(7), 0);
        janus_select_op puts[2] = { put_op(a, ITEM(8)), put_op(b, ITEM(9)) };
        CHECK(janus_select(puts, 2, &index, JANUS_NO_WAIT) == JANUS_OK && index == 1, "%s: put into room",
              kind_names[k]);
        CHECK(janus_queue_qsize(a) == 1 && janus_queue_qsize(b) == 1, "sizes");
        CHECK(janus_select(puts, 2, &index, JANUS_NO_WAIT) == JANUS_TIMEOUT, "%s: both full", kind_names[k]);
        CHECK(janus_select(puts, 2, &index, 30) == JANUS_TIMEOUT, "%s: both full, 30 ms", kind_names[k]);
        CHECK(janus_queue_unfinished_tasks(a) == 1 && janus_queue_unfinished_tasks(b) == 2,
              "unfinished %zu %zu", janus_queue_unfinished_tasks(a), janus_queue_unfinished_tasks(b));
        janus_queue_free(a);
        janus_queue_free(b);
    }
}

static void test_shutdown_ready(void)
{
    janus_queue *a = janus_queue_new(JANUS_FIFO, 0);
    janus_queue *b = janus_queue_new(JANUS_LIFO, 0);
    janus_select_op ops[2] = { get_op(a), get_op(b) };
    size_t index = 99;
    janus_queue_shutdown(b, false);
    CHECK(janus_select(ops, 2, &index, JANUS_WAIT_FOREVER) == JANUS_SHUTDOWN && index == 1, "get on shut down");
    janus_select_op puts[2] = { put_op(a, ITEM(1)), put_op(b, ITEM(2)) };
    janus_queue_shutdown(a, false);
    CHECK(janus_select(puts, 2, &index, JANUS_WAIT_FOREVER) == JANUS_SHUTDOWN && index < 2, "all shut down");
    CHECK(janus_queue_qsize(a) == 0 && janus_queue_qsize(b) == 0, "put into shut-down queue");
    CHECK(janus_select(ops, 2, &index, JANUS_NO_WAIT) == JANUS_SHUTDOWN, "no wait, all shut down");
    janus_queue_free(a);
    janus_queue_free(b);
    /* A normal shutdown leaves items to get. */
    a = janus_queue_new(JANUS_PRIORITY, 0);
    janus_queue_put(a, ITEM(4), 0);
    janus_queue_shutdown(a, false);
    janus_select_op one = get_op(a);
    CHECK(janus_select(&one, 1, &index, JANUS_WAIT_FOREVER) == JANUS_OK && one.item == ITEM(4), "drain");
    CHECK(janus_select(&one, 1, &index, JANUS_WAIT_FOREVER) == JANUS_SHUTDOWN && index == 0, "drained");
    janus_queue_free(a);
}

static void test_same_queue_twice(void)
{
    for (int k = 0; k < 3; k++) {
        janus_queue *q = janus_queue_new(kinds[k], 1);
        janus_select_op ops[2] = { get_op(q), put_op(q, ITEM(11)) };
        size_t index = 99;
        /* Empty: only the put can happen. */
        CHECK(janus_select(ops, 2, &index, JANUS_WAIT_FOREVER) == JANUS_OK && index == 1, "%s: put",
              kind_names[k]);
        CHECK(janus_queue_qsize(q) == 1 && janus_queue_unfinished_tasks(q) == 1, "%s: one put", kind_names[k]);
        /* Full: only the get can happen. */
        CHECK(janus_select(ops, 2, &index, JANUS_WAIT_FOREVER) == JANUS_OK && index == 0 && ops[0].item == ITEM(11),
              "%s: get", kind_names[k]);
        CHECK(janus_queue_qsize(q) == 0 && janus_queue_unfinished_tasks(q) == 1, "%s: one get", kind_names[k]);
        janus_queue_free(q);
    }
}

/* A selecting thread over ops; its answer is kept for the main thread. */
struct selector {
    pthread_t thread;
    janus_select_op ops[8];
    size_t count, index;
    int64_t timeout;
    janus_status status;
    double took_ms;
};

static void *selector_main(void *arg)
{
    struct selector *s = arg;
    double t0 = now_ms();
    s->status = janus_select(s->ops, s->count, &s->index, s->timeout);
    s->took_ms = now_ms() - t0;
    return NULL;
}

static void start_selector(struct selector *s) { pthread_create(&s->thread, NULL, selector_main, s); }

struct getter {
    pthread_t thread;
    janus_queue *q;
    void *item;
    janus_status status;
};

static void *getter_main(void *arg)
{
    struct getter *g = arg;
    g->status = janus_queue_get(g->q, &g->item, JANUS_WAIT_FOREVER);
    return NULL;
}

static void test_blocking(void)
{
    for (int k = 0; k < 3; k++) {
        janus_queue *a = janus_queue_new(kinds[k], 0);
        janus_queue *b = janus_queue_new(kinds[k], 0);
        struct selector s = { .ops = { get_op(a), get_op(b) }, .count = 2, .timeout = JANUS_WAIT_FOREVER };
        start_selector(&s);
        wait_getters(a, 1);
        wait_getters(b, 1);
        CHECK(janus_queue_put(b, ITEM(42), 0) == JANUS_OK, "put");
        pthread_join(s.thread, NULL);
        CHECK(s.status == JANUS_OK && s.index == 1 && s.ops[1].item == ITEM(42), "%s: %d %zu %p", kind_names[k],
              s.status, s.index, s.ops[1].item);
        /* It left a's line: a put into a stays there for the next get. */
        CHECK(janus_queue_getters(a) == 0 && janus_queue_getters(b) == 0, "%s: still listed", kind_names[k]);
        CHECK(janus_queue_put(a, ITEM(43), 0) == JANUS_OK && janus_queue_qsize(a) == 1, "%s: a kept its item",
              kind_names[k]);
        CHECK(janus_queue_qsize(b) == 0, "direct hand-off");

        /* A timeout: nothing happens, and it leaves both lines. */
        janus_queue *c = janus_queue_new(kinds[k], 0);
        struct selector t = { .ops = { get_op(b), get_op(c) }, .count = 2, .timeout = 50 };
        start_selector(&t);
        pthread_join(t.thread, NULL);
        CHECK(t.status == JANUS_TIMEOUT, "%s: timeout %d", kind_names[k], t.status);
        CHECK(t.took_ms >= 40 && t.took_ms < 5000, "%s: took %.1f ms", kind_names[k], t.took_ms);
        CHECK(janus_queue_getters(b) == 0 && janus_queue_getters(c) == 0, "listed after timeout");

        /* Shutdown while waiting: that queue's index. */
        struct selector u = { .ops = { get_op(b), get_op(c) }, .count = 2, .timeout = JANUS_WAIT_FOREVER };
        start_selector(&u);
        wait_getters(b, 1);
        wait_getters(c, 1);
        janus_queue_shutdown(c, true);
        pthread_join(u.thread, NULL);
        CHECK(u.status == JANUS_SHUTDOWN && u.index == 1, "%s: shutdown %d %zu", kind_names[k], u.status, u.index);
        CHECK(janus_queue_getters(b) == 0, "listed in b after shutdown of c");
        janus_queue_free(a);
        janus_queue_free(b);
        janus_queue_free(c);
    }
}

static void test_fcfs(void)
{
    for (int k = 0; k < 3; k++) {
        /* A getter first, then a select: the getter is served first. */
        janus_queue *a = janus_queue_new(kinds[k], 0);
        janus_queue *b = janus_queue_new(kinds[k], 0);
        struct getter g = { .q = a };
        pthread_create(&g.thread, NULL, getter_main, &g);
        wait_getters(a, 1);
        struct selector s = { .ops = { get_op(a), get_op(b) }, .count = 2, .timeout = JANUS_WAIT_FOREVER };
        start_selector(&s);
        wait_getters(a, 2);
        wait_getters(b, 1);
        janus_queue_put(a, ITEM(1), 0);
        pthread_join(g.thread, NULL);
        CHECK(g.status == JANUS_OK && g.item == ITEM(1), "%s: the getter came first", kind_names[k]);
        janus_queue_put(a, ITEM(2), 0);
        pthread_join(s.thread, NULL);
        CHECK(s.status == JANUS_OK && s.index == 0 && s.ops[0].item == ITEM(2), "%s: then the select",
              kind_names[k]);

        /* A select first, then a getter: the select is served first. */
        struct selector t = { .ops = { get_op(a), get_op(b) }, .count = 2, .timeout = JANUS_WAIT_FOREVER };
        start_selector(&t);
        wait_getters(a, 1);
        wait_getters(b, 1);
        struct getter h = { .q = a };
        pthread_create(&h.thread, NULL, getter_main, &h);
        wait_getters(a, 2);
        janus_queue_put(a, ITEM(3), 0);
        pthread_join(t.thread, NULL);
        CHECK(t.status == JANUS_OK && t.index == 0 && t.ops[0].item == ITEM(3), "%s: select first", kind_names[k]);
        janus_queue_put(a, ITEM(4), 0);
        pthread_join(h.thread, NULL);
        CHECK(h.status == JANUS_OK && h.item == ITEM(4), "%s: then the getter", kind_names[k]);
        CHECK(janus_queue_qsize(a) == 0 && janus_queue_qsize(b) == 0, "left over");
        janus_queue_free(a);
        janus_queue_free(b);
    }
}

static void test_select_put_waits(void)
{
    for (int k = 0; k < 3; k++) {
        janus_queue *a = janus_queue_new(kinds[k], 1);
        janus_queue *b = janus_queue_new(kinds[k], 1);
        janus_queue_put(a, ITEM(1), 0);
        janus_queue_put(b, ITEM(2), 0);
        struct selector s = { .ops = { put_op(a, ITEM(10)), put_op(b, ITEM(20)) }, .count = 2,
                              .timeout = JANUS_WAIT_FOREVER };
        start_selector(&s);
        wait_putters(a, 1);
        wait_putters(b, 1);
        void *item = NULL;
        CHECK(janus_queue_get(a, &item, 0) == JANUS_OK && item == ITEM(1), "get a");
        pthread_join(s.thread, NULL);
        CHECK(s.status == JANUS_OK && s.index == 0, "%s: %d %zu", kind_names[k], s.status, s.index);
        CHECK(janus_queue_get(a, &item, 0) == JANUS_OK && item == ITEM(10), "%s: the select's item", kind_names[k]);
        CHECK(janus_queue_qsize(b) == 1 && janus_queue_putters(b) == 0, "%s: b untouched", kind_names[k]);
        CHECK(janus_queue_unfinished_tasks(b) == 1, "b unfinished");
        janus_queue_free(a);
        janus_queue_free(b);
    }
}

/* A put hands its item to a waiting select-get directly, also with a lane. */
static void test_handoff_lane(void)
{
    janus_queue *a = janus_queue_new(JANUS_FIFO, 4);
    janus_queue *b = janus_queue_new(JANUS_FIFO, 0);
    for (int round = 0; round < 50; round++) {
        struct selector s = { .ops = { get_op(a), get_op(b) }, .count = 2, .timeout = JANUS_WAIT_FOREVER };
        start_selector(&s);
        wait_getters(a, 1);
        wait_getters(b, 1);
        janus_queue *q = round % 2 ? a : b;
        janus_queue_put(q, ITEM(round), 0);
        pthread_join(s.thread, NULL);
        CHECK(s.status == JANUS_OK && s.index == (size_t)(round % 2 ? 0 : 1) && s.ops[s.index].item == ITEM(round),
              "round %d", round);
    }
    CHECK(janus_queue_qsize(a) == 0 && janus_queue_qsize(b) == 0, "sizes");
    janus_queue_free(a);
    janus_queue_free(b);
}

static void test_free_while_waiting(void)
{
    janus_queue *a = janus_queue_new(JANUS_FIFO, 0);
    janus_queue *b = janus_queue_new(JANUS_LIFO, 0);
    struct selector s = { .ops = { get_op(a), get_op(b) }, .count = 2, .timeout = JANUS_WAIT_FOREVER };
    start_selector(&s);
    wait_getters(a, 1);
    wait_getters(b, 1);
    janus_queue_free(b);  /* the select is inside: it wakes with JANUS_SHUTDOWN */
    pthread_join(s.thread, NULL);
    CHECK(s.status == JANUS_SHUTDOWN && s.index == 1, "%d %zu", s.status, s.index);
    CHECK(janus_queue_getters(a) == 0, "left a");
    janus_queue_free(a);
}

static void test_fairness(void)
{
    enum { N = 100000 };
    janus_queue *a = janus_queue_new(JANUS_FIFO, 0);
    janus_queue *b = janus_queue_new(JANUS_LIFO, 0);
    janus_select_op puts[2] = { put_op(a, ITEM(1)), put_op(b, ITEM(2)) };
    size_t wins[2] = { 0, 0 }, index;
    for (int i = 0; i < N; i++)
        if (janus_select(puts, 2, &index, JANUS_NO_WAIT) == JANUS_OK)
            wins[index]++;
    CHECK(wins[0] + wins[1] == N, "puts %zu", wins[0] + wins[1]);
    CHECK(wins[0] <= N * 6 / 10 && wins[1] <= N * 6 / 10, "puts unfair: %zu %zu", wins[0], wins[1]);
    printf("fairness, puts over 2 ready queues: %zu / %zu\n", wins[0], wins[1]);
    janus_select_op gets[2] = { get_op(a), get_op(b) };
    size_t got[2] = { 0, 0 };
    /* Keep both ready: each has its puts; refill the one that wins. */
    for (int i = 0; i < N; i++) {
        if (janus_select(gets, 2, &index, JANUS_NO_WAIT) != JANUS_OK)
            break;
        got[index]++;
        janus_queue_put(index ? b : a, ITEM(3), 0);
    }
    CHECK(got[0] + got[1] == N, "gets %zu", got[0] + got[1]);
    CHECK(got[0] <= N * 6 / 10 && got[1] <= N * 6 / 10, "gets unfair: %zu %zu", got[0], got[1]);
    printf("fairness, gets over 2 ready queues: %zu / %zu\n", got[0], got[1]);
    janus_queue_free(a);
    janus_queue_free(b);
}

/* ------------------------------------------------------------------------ */
/* Stress: every item exactly once                                          */
/* ------------------------------------------------------------------------ */

enum { M = 4, PRODUCERS = 4, PER_PRODUCER = 50000, CONSUMERS = 3 };

static janus_queue *g_queues[M];
static uint64_t g_round; /* the soak's round: every round its own random streams */
static unsigned char g_seen[PRODUCERS][PER_PRODUCER];
static size_t g_taken; /* under g_lock */

static uint64_t rng_next(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

static void *stress_producer(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    uint64_t rng = 0x9E3779B97F4A7C15ull * (id + 1) + g_round * 0xBF58476D1CE4E5B9ull;
    for (uintptr_t seq = 0; seq < PER_PRODUCER;) {
        void *item = ITEM((id << 32) | seq);
        if (id % 2 == 0) {
            /* A selecting putter over all queues, with random timeouts. */
            janus_select_op ops[M];
            for (int i = 0; i < M; i++)
                ops[i] = put_op(g_queues[i], item);
            int64_t timeout = (int64_t)(rng_next(&rng) % 3);  /* 0, 1 or 2 ms */
            size_t index;
            janus_status status = janus_select(ops, M, &index, timeout);
            if (status == JANUS_OK)
                seq++;
            else if (status != JANUS_TIMEOUT)
                CHECK(0, "select put: %d", status);
        } else {
            janus_queue *q = g_queues[rng_next(&rng) % M];
            if (janus_queue_put(q, item, JANUS_WAIT_FOREVER) == JANUS_OK)
                seq++;
        }
    }
    return NULL;
}

static void account(void *item)
{
    uintptr_t v = (uintptr_t)item;
    uintptr_t id = v >> 32, seq = v & 0xffffffffu;
    pthread_mutex_lock(&g_lock);
    if (id < PRODUCERS && seq < PER_PRODUCER)
        g_seen[id][seq]++;
    g_taken++;
    pthread_mutex_unlock(&g_lock);
}

static void *stress_consumer(void *arg)
{
    uint64_t rng = 0xD1B54A32D192ED03ull * ((uintptr_t)arg + 1) + g_round * 0x94D049BB133111EBull;
    size_t shut = 0;
    while (shut < M) {
        janus_select_op ops[M];
        for (int i = 0; i < M; i++)
            ops[i] = get_op(g_queues[i]);
        uint64_t r = rng_next(&rng) % 4;
        int64_t timeout = r == 0 ? JANUS_NO_WAIT : r == 1 ? JANUS_WAIT_FOREVER : (int64_t)r;
        size_t index;
        janus_status status = janus_select(ops, M, &index, timeout);
        if (status == JANUS_OK) {
            account(ops[index].item);
            janus_queue_task_done(g_queues[index]);
        } else if (status == JANUS_SHUTDOWN) {
            /* All shut down and drained once every op answers shutdown. */
            shut = 0;
            for (int i = 0; i < M; i++)
                shut += janus_queue_is_shutdown(g_queues[i]) && janus_queue_qsize(g_queues[i]) == 0;
        } else if (status != JANUS_TIMEOUT) {
            CHECK(0, "select get: %d", status);
        }
    }
    return NULL;
}

static void test_stress(void)
{
    const janus_kind stress_kinds[M] = { JANUS_FIFO, JANUS_FIFO, JANUS_LIFO, JANUS_PRIORITY };
    const size_t sizes[M] = { 4, 0, 2, 8 };
    memset(g_seen, 0, sizeof g_seen);
    g_taken = 0;
    for (int i = 0; i < M; i++)
        g_queues[i] = janus_queue_new(stress_kinds[i], sizes[i]);
    pthread_t producers[PRODUCERS], consumers[CONSUMERS];
    for (uintptr_t i = 0; i < CONSUMERS; i++)
        pthread_create(&consumers[i], NULL, stress_consumer, (void *)i);
    for (uintptr_t i = 0; i < PRODUCERS; i++)
        pthread_create(&producers[i], NULL, stress_producer, (void *)i);
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(producers[i], NULL);
    for (int i = 0; i < M; i++)
        janus_queue_shutdown(g_queues[i], false);
    for (int i = 0; i < CONSUMERS; i++)
        pthread_join(consumers[i], NULL);
    size_t missing = 0, doubled = 0;
    for (int p = 0; p < PRODUCERS; p++)
        for (int s = 0; s < PER_PRODUCER; s++) {
            missing += g_seen[p][s] == 0;
            doubled += g_seen[p][s] > 1;
        }
    CHECK(missing == 0 && doubled == 0 && g_taken == (size_t)PRODUCERS * PER_PRODUCER,
          "missing %zu doubled %zu taken %zu", missing, doubled, g_taken);
    for (int i = 0; i < M; i++) {
        CHECK(janus_queue_qsize(g_queues[i]) == 0 && janus_queue_unfinished_tasks(g_queues[i]) == 0,
              "queue %d: %zu left, %zu unfinished", i, janus_queue_qsize(g_queues[i]),
              janus_queue_unfinished_tasks(g_queues[i]));
        CHECK(janus_queue_getters(g_queues[i]) == 0 && janus_queue_putters(g_queues[i]) == 0, "listed");
        janus_queue_free(g_queues[i]);
    }
    printf("stress: %d items through %d queues, exactly once\n", PRODUCERS * PER_PRODUCER, M);
}

/* test_select --soak SECONDS: the stress test, round after round, for that long (make soak). */
static int soak(long seconds)
{
    alarm((unsigned)seconds + 300);
    time_t end = time(NULL) + seconds;
    long rounds = 0;
    while (time(NULL) < end && g_failed == 0) {
        g_round = (uint64_t)rounds++;
        test_stress();
    }
    printf("select soak: %ld rounds of %d items, %s\n", rounds, PRODUCERS * PER_PRODUCER,
           g_failed ? "FAILED" : "every item exactly once");
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "--soak") == 0) return soak(atol(argv[2]));
    alarm(300);
    test_invalid();
    test_nowait();
    test_shutdown_ready();
    test_same_queue_twice();
    test_blocking();
    test_fcfs();
    test_select_put_waits();
    test_handoff_lane();
    test_free_while_waiting();
    test_fairness();
    test_stress();
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
