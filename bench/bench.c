/* The C side of `make bench`: janus driven from C pthreads, against a plain mutex+condvar
 * queue measured in the same run. Prints one line per figure:
 *   <scenario> <value> <unit>
 * Each figure is the median of RUNS runs. */
#define _GNU_SOURCE
#include "janus.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <malloc.h>

/* ---------------- allocation counting ----------------
 * The bench defines malloc & co. itself, forwarding to glibc's __libc_* entry points: symbols
 * of the executable take precedence over libc's for every library loaded, so libjanus.so's
 * allocations (the Swift runtime allocates through malloc) are counted here too. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);
static long alloc_count;
#define COUNT() __atomic_fetch_add(&alloc_count, 1, __ATOMIC_RELAXED)
void *malloc(size_t n) { COUNT(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { COUNT(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { COUNT(); return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t al, size_t n) { COUNT(); return __libc_memalign(al, n); }
void *aligned_alloc(size_t al, size_t n) { COUNT(); return __libc_memalign(al, n); }
int posix_memalign(void **out, size_t al, size_t n) {
    COUNT();
    void *p = __libc_memalign(al, n);
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}
static long allocs(void) { return __atomic_load_n(&alloc_count, __ATOMIC_RELAXED); }

static long N = 2000000;
static int RUNS = 5;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, n, sizeof *v, cmp_double);
    return v[n / 2];
}

static void die(const char *what, janus_status s) {
    fprintf(stderr, "bench: %s: %s\n", what, janus_strerror(s));
    exit(1);
}

/* ---------------- baseline: mutex + condvar ring queue ---------------- */

typedef struct {
    pthread_mutex_t m;
    pthread_cond_t not_empty, not_full;
    void **buf;
    size_t cap, head, count, maxsize;
} mc_queue;

static void mc_init(mc_queue *q, size_t maxsize) {
    pthread_mutex_init(&q->m, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    q->cap = 1 << 22;
    q->buf = malloc(q->cap * sizeof(void *));
    q->head = q->count = 0;
    q->maxsize = maxsize ? maxsize : q->cap;
}

static void mc_free(mc_queue *q) {
    free(q->buf);
    pthread_mutex_destroy(&q->m);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
}

static void mc_put(mc_queue *q, void *item) {
    pthread_mutex_lock(&q->m);
    while (q->count >= q->maxsize) pthread_cond_wait(&q->not_full, &q->m);
    q->buf[(q->head + q->count) & (q->cap - 1)] = item;
    q->count++;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->m);
}

static void *mc_get(mc_queue *q) {
    pthread_mutex_lock(&q->m);
    while (q->count == 0) pthread_cond_wait(&q->not_empty, &q->m);
    void *item = q->buf[q->head];
    q->head = (q->head + 1) & (q->cap - 1);
    q->count--;
    pthread_cond_signal(&q->not_full);
    pthread_mutex_unlock(&q->m);
    return item;
}

static void *mc_producer(void *arg) {
    mc_queue *q = arg;
    for (long i = 1; i <= N; i++) mc_put(q, (void *)(intptr_t)i);
    return NULL;
}

static double run_mc(size_t maxsize) {
    mc_queue q;
    mc_init(&q, maxsize);
    pthread_t t;
    double t0 = now_s();
    pthread_create(&t, NULL, mc_producer, &q);
    long sum = 0;
    for (long i = 1; i <= N; i++) sum += (long)(intptr_t)mc_get(&q);
    double dt = now_s() - t0;
    pthread_join(t, NULL);
    mc_free(&q);
    if (sum != N * (N + 1) / 2) { fprintf(stderr, "mc: bad sum\n"); exit(1); }
    return N / dt;
}

/* ---------------- janus ---------------- */

typedef struct {
    janus_queue *q;
    long count;
} producer_arg;

static void *put_thread(void *arg) {
    producer_arg *a = arg;
    for (long i = 1; i <= a->count; i++) {
        janus_status s = janus_queue_put(a->q, (void *)(intptr_t)i, JANUS_WAIT_FOREVER);
        if (s != JANUS_OK) die("put", s);
    }
    return NULL;
}

static void *put_many_thread(void *arg) {
    producer_arg *a = arg;
    void *items[256];
    for (long i = 1; i <= a->count;) {
        size_t n = 0;
        while (n < 256 && i <= a->count) items[n++] = (void *)(intptr_t)i++;
        size_t put = 0;
        janus_status s = janus_queue_put_many(a->q, items, n, &put, JANUS_WAIT_FOREVER);
        if (s != JANUS_OK) die("put_many", s);
    }
    return NULL;
}

/* thread -> thread, one item per call */
static double run_janus_tt(size_t maxsize) {
    janus_queue *q = janus_queue_new(JANUS_FIFO, maxsize);
    producer_arg a = {q, N};
    pthread_t t;
    double t0 = now_s();
    pthread_create(&t, NULL, put_thread, &a);
    long sum = 0;
    for (long i = 1; i <= N; i++) {
        void *item;
        janus_status s = janus_queue_get(q, &item, JANUS_WAIT_FOREVER);
        if (s != JANUS_OK) die("get", s);
        sum += (long)(intptr_t)item;
    }
    double dt = now_s() - t0;
    pthread_join(t, NULL);
    janus_queue_free(q);
    if (sum != N * (N + 1) / 2) { fprintf(stderr, "tt: bad sum\n"); exit(1); }
    return N / dt;
}

/* thread -> thread, batched both ways */
static double run_janus_tt_batch(size_t maxsize) {
    janus_queue *q = janus_queue_new(JANUS_FIFO, maxsize);
    producer_arg a = {q, N};
    pthread_t t;
    double t0 = now_s();
    pthread_create(&t, NULL, put_many_thread, &a);
    long sum = 0, got_total = 0;
    void *items[256];
    while (got_total < N) {
        size_t got = 0;
        janus_status s = janus_queue_get_many(q, items, 256, &got, JANUS_WAIT_FOREVER);
        if (s != JANUS_OK) die("get_many", s);
        for (size_t k = 0; k < got; k++) sum += (long)(intptr_t)items[k];
        got_total += (long)got;
    }
    double dt = now_s() - t0;
    pthread_join(t, NULL);
    janus_queue_free(q);
    if (sum != N * (N + 1) / 2) { fprintf(stderr, "tt batch: bad sum\n"); exit(1); }
    return N / dt;
}

/* thread -> Swift task via janus_consume_async */
static long consumed_sum;
static int consume_fn(void *item, void *ctx) {
    (void)ctx;
    consumed_sum += (long)(intptr_t)item; /* one task: no race */
    return 0;
}

static double run_janus_t_to_task(size_t maxsize, int batched) {
    janus_queue *q = janus_queue_new(JANUS_FIFO, maxsize);
    consumed_sum = 0;
    janus_consumer *c = janus_consume_async(q, consume_fn, NULL, 1);
    producer_arg a = {q, N};
    double t0 = now_s();
    if (batched) put_many_thread(&a); else put_thread(&a);
    janus_status s = janus_queue_join(q, JANUS_WAIT_FOREVER);
    double dt = now_s() - t0;
    if (s != JANUS_OK) die("join", s);
    janus_queue_shutdown(q, false);
    janus_consumer_wait(c, JANUS_WAIT_FOREVER);
    janus_consumer_free(c);
    janus_queue_free(q);
    if (consumed_sum != N * (N + 1) / 2) { fprintf(stderr, "t->task: bad sum\n"); exit(1); }
    return N / dt;
}

/* Swift task -> thread via janus_produce_async */
typedef struct { long next, last; } produce_ctx;
static janus_status produce_fn(void **item_out, void *ctx) {
    produce_ctx *p = ctx;
    if (p->next > p->last) return JANUS_SHUTDOWN;
    *item_out = (void *)(intptr_t)p->next++;
    return JANUS_OK;
}

static double run_janus_task_to_t(size_t maxsize) {
    janus_queue *q = janus_queue_new(JANUS_FIFO, maxsize);
    produce_ctx pc = {1, N};
    double t0 = now_s();
    janus_producer *p = janus_produce_async(q, produce_fn, &pc);
    long sum = 0;
    for (long i = 1; i <= N; i++) {
        void *item;
        janus_status s = janus_queue_get(q, &item, JANUS_WAIT_FOREVER);
        if (s != JANUS_OK) die("get", s);
        sum += (long)(intptr_t)item;
    }
    double dt = now_s() - t0;
    janus_producer_wait(p, JANUS_WAIT_FOREVER);
    janus_producer_free(p);
    janus_queue_free(q);
    if (sum != N * (N + 1) / 2) { fprintf(stderr, "task->t: bad sum\n"); exit(1); }
    return N / dt;
}

/* ping-pong: thread -> task -> thread */
static janus_queue *pong_q;
static int echo_fn(void *item, void *ctx) {
    (void)ctx;
    janus_status s = janus_queue_put(pong_q, item, JANUS_NO_WAIT); /* unbounded: never full */
    if (s != JANUS_OK) die("echo put", s);
    return 0;
}

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

static double run_pingpong_us(long rounds) {
    janus_queue *ping = janus_queue_new(JANUS_FIFO, 0);
    pong_q = janus_queue_new(JANUS_FIFO, 0);
    janus_consumer *c = janus_consume_async(ping, echo_fn, NULL, 1);
    long *ns = malloc(rounds * sizeof(long));
    for (long i = 0; i < rounds; i++) {
        double t0 = now_s();
        janus_queue_put(ping, (void *)(intptr_t)i, JANUS_WAIT_FOREVER);
        void *back;
        janus_status s = janus_queue_get(pong_q, &back, JANUS_WAIT_FOREVER);
        if (s != JANUS_OK || (intptr_t)back != i) die("pong", s);
        ns[i] = (long)((now_s() - t0) * 1e9);
    }
    qsort(ns, rounds, sizeof(long), cmp_long);
    double med = ns[rounds / 2] / 1000.0;
    free(ns);
    janus_queue_shutdown(ping, false);
    janus_consumer_wait(c, JANUS_WAIT_FOREVER);
    janus_consumer_free(c);
    janus_queue_free(ping);
    janus_queue_free(pong_q);
    return med;
}

/* baseline ping-pong: two mutex+condvar queues between two threads */
static mc_queue mc_ping, mc_pong;
static long mc_rounds;
static void *mc_echo(void *arg) {
    (void)arg;
    for (long i = 0; i < mc_rounds; i++) mc_put(&mc_pong, mc_get(&mc_ping));
    return NULL;
}

static double run_mc_pingpong_us(long rounds) {
    mc_init(&mc_ping, 0);
    mc_init(&mc_pong, 0);
    mc_rounds = rounds;
    pthread_t t;
    pthread_create(&t, NULL, mc_echo, NULL);
    long *ns = malloc(rounds * sizeof(long));
    for (long i = 0; i < rounds; i++) {
        double t0 = now_s();
        mc_put(&mc_ping, (void *)(intptr_t)i);
        (void)mc_get(&mc_pong);
        ns[i] = (long)((now_s() - t0) * 1e9);
    }
    pthread_join(t, NULL);
    qsort(ns, rounds, sizeof(long), cmp_long);
    double med = ns[rounds / 2] / 1000.0;
    free(ns);
    mc_free(&mc_ping);
    mc_free(&mc_pong);
    return med;
}

/* Allocations per million items while streaming thread -> task, after a warm-up. */
static double run_allocs_per_item(size_t maxsize) {
    janus_queue *q = janus_queue_new(JANUS_FIFO, maxsize);
    consumed_sum = 0;
    janus_consumer *c = janus_consume_async(q, consume_fn, NULL, 1);
    producer_arg warm = {q, 100000};
    put_thread(&warm);
    janus_queue_join(q, JANUS_WAIT_FOREVER);
    long before = allocs();
    producer_arg a = {q, N};
    put_thread(&a);
    janus_queue_join(q, JANUS_WAIT_FOREVER);
    long after = allocs();
    janus_queue_shutdown(q, false);
    janus_consumer_wait(c, JANUS_WAIT_FOREVER);
    janus_consumer_free(c);
    janus_queue_free(q);
    return (double)(after - before) * 1e6 / (double)N;
}

/* Heap bytes per queued pointer with 1,000,000 items in an unbounded queue. */
static double run_bytes_per_item(void) {
    const long count = 1000000;
    janus_queue *q = janus_queue_new(JANUS_FIFO, 0);
    struct mallinfo2 m0 = mallinfo2();
    for (long i = 0; i < count; i++) janus_queue_put(q, (void *)(intptr_t)i, JANUS_NO_WAIT);
    struct mallinfo2 m1 = mallinfo2();
    janus_queue_free(q);
    return (double)((long)(m1.uordblks + m1.hblkhd) - (long)(m0.uordblks + m0.hblkhd)) / count;
}

#define FIGURE(name, unit, expr)                                   \
    do {                                                           \
        double v[16];                                              \
        for (int r = 0; r < RUNS; r++) v[r] = (expr);              \
        printf("%-44s %14.2f %s\n", name, median(v, RUNS), unit);  \
        fflush(stdout);                                            \
    } while (0)

int main(int argc, char **argv) {
    if (argc > 1) N = atol(argv[1]);
    if (argc > 2) RUNS = atoi(argv[2]);
    if (RUNS < 1 || RUNS > 16) RUNS = 5;
    const char *only = getenv("BENCH_ONLY");
#define WANT(tag) (!only || strstr(only, tag))
    if (WANT("base")) {
        FIGURE("baseline_c_mutex_condvar_unbounded", "items/s", run_mc(0));
        FIGURE("baseline_c_mutex_condvar_1024", "items/s", run_mc(1024));
        FIGURE("baseline_c_mutex_condvar_pingpong", "us", run_mc_pingpong_us(20000));
    }
    if (WANT("t2task")) {
        FIGURE("janus_thread_to_task_unbounded", "items/s", run_janus_t_to_task(0, 0));
        FIGURE("janus_thread_to_task_1024", "items/s", run_janus_t_to_task(1024, 0));
        FIGURE("janus_thread_to_task_batched_unbounded", "items/s", run_janus_t_to_task(0, 1));
    }
    if (WANT("task2t")) {
        FIGURE("janus_task_to_thread_unbounded", "items/s", run_janus_task_to_t(0));
        FIGURE("janus_task_to_thread_1024", "items/s", run_janus_task_to_t(1024));
    }
    if (WANT("t2t")) {
        FIGURE("janus_thread_to_thread_unbounded", "items/s", run_janus_tt(0));
        FIGURE("janus_thread_to_thread_1024", "items/s", run_janus_tt(1024));
        FIGURE("janus_thread_to_thread_batched_unbounded", "items/s", run_janus_tt_batch(0));
        FIGURE("janus_thread_to_thread_batched_1024", "items/s", run_janus_tt_batch(1024));
    }
    if (WANT("mem")) {
        FIGURE("janus_allocations_per_million_items_thread_to_task", "allocs", run_allocs_per_item(0));
        FIGURE("janus_allocations_per_million_items_thread_to_task_1024", "allocs", run_allocs_per_item(1024));
        FIGURE("janus_bytes_per_queued_pointer", "bytes", run_bytes_per_item());
    }
    if (WANT("ping")) {
        FIGURE("janus_pingpong_thread_task_thread", "us", run_pingpong_us(20000));
    }
    return 0;
}
