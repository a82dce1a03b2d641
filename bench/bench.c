/* The C side of `make bench`: janus driven from C pthreads through libjanus.so, and a plain
 * mutex+condvar ring queue as the simplest baseline. The peers (Rust, Go, Swift) have programs
 * of their own under bench/peers; bench/run.sh runs them all, alternating, in one run.
 *
 * Usage: janus-c-bench [items] [rounds]      (BENCH_ONLY=a,b runs the figures containing a or b)
 * Prints one line per figure: `<name> <value> <unit>`, each the median of the rounds.
 *
 * Scenario names are shared with the peers (bench/peers): t2a = a C thread puts, Swift tasks of
 * janus_consume_async get; a2t = janus_produce_async puts, a C thread gets; t2t = thread to
 * thread; mpmc4 = 4 senders and 4 receivers; rtt = round trip thread -> task -> thread;
 * slow50us/slow1ms = one item, then a pause, again and again: CPU time per item. */
#define _GNU_SOURCE
#include "janus.h"

#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* ---------------- allocation counting ----------------
 * The bench defines malloc & co. itself, forwarding to glibc's __libc_* entry points: symbols
 * of the executable take precedence over libc's for every library loaded, so libjanus.so's
 * allocations (the Swift runtime allocates through malloc) are counted here too. Counting is
 * off except while the allocation figures run, so it costs the other figures nothing. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);
static int counting;
static long alloc_count;
#define COUNT() \
    do { if (__atomic_load_n(&counting, __ATOMIC_RELAXED)) __atomic_fetch_add(&alloc_count, 1, __ATOMIC_RELAXED); } while (0)
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

static long N = 2000000;
static int RUNS = 5;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* User + system CPU seconds of the whole process. */
static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
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

static void check_sum(long sum, long count, const char *what) {
    if (sum != count * (count + 1) / 2) {
        fprintf(stderr, "bench: %s: wrong sum %ld\n", what, sum);
        exit(1);
    }
}

static pthread_t start(void *(*fn)(void *), void *arg) {
    pthread_t t;
    if (pthread_create(&t, NULL, fn, arg) != 0) {
        fprintf(stderr, "bench: pthread_create failed\n");
        exit(1);
    }
    return t;
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
    double t0 = now_s();
    pthread_t t = start(mc_producer, &q);
    long sum = 0;
    for (long i = 1; i <= N; i++) sum += (long)(intptr_t)mc_get(&q);
    double dt = now_s() - t0;
    pthread_join(t, NULL);
    mc_free(&q);
    check_sum(sum, N, "mutex+condvar");
    return N / dt;
}

/* ---------------- janus: threads ---------------- */

typedef struct {
    janus_queue *q;
    long first, count; /* puts first .. first+count-1 */
    long sum;          /* for getters */
} range_arg;

static void *put_range(void *arg) {
    range_arg *a = arg;
    for (long i = a->first; i < a->first + a->count; i++) {
        janus_status s = janus_queue_put(a->q, (void *)(intptr_t)i, JANUS_WAIT_FOREVER);
        if (s != JANUS_OK) die("put", s);
    }
    return NULL;
}

static void *put_many_range(void *arg) {
    range_arg *a = arg;
    void *items[256];
    long end = a->first + a->count;
    for (long i = a->first; i < end;) {
        size_t n = 0;
        while (n < 256 && i < end) items[n++] = (void *)(intptr_t)i++;
        size_t put = 0;
        janus_status s = janus_queue_put_many(a->q, items, n, &put, JANUS_WAIT_FOREVER);
        if (s != JANUS_OK) die("put_many", s);
    }
    return NULL;
}

/* Gets until the queue is shut down and drained. */
static void *get_until_shutdown(void *arg) {
    range_arg *a = arg;
    for (;;) {
        void *item;
        janus_status s = janus_queue_get(a->q, &item, JANUS_WAIT_FOREVER);
        if (s == JANUS_SHUTDOWN) return NULL;
        if (s != JANUS_OK) die("get", s);
        a->sum += (long)(intptr_t)item;
    }
}

/* with_fd: the queue has its readable descriptor made first (never polled), to show what a
 * descriptor that is not quiet costs the hot path: nothing but the flag test the lock-free put
 * makes anyway. */
static double run_t2t(janus_kind kind, size_t maxsize, int with_fd) {
    janus_queue *q = janus_queue_new(kind, maxsize);
    if (with_fd) {
        int fd;
        janus_status s = janus_queue_fd(q, JANUS_READABLE, &fd);
        if (s != JANUS_OK) die("fd", s);
    }
    range_arg a = {q, 1, N, 0};
    double t0 = now_s();
    pthread_t t = start(put_range, &a);
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
    check_sum(sum, N, "t2t");
    return N / dt;
}

/* Select: one C thread puts 1..N round-robin into `queues` FIFO queues of 1024; one C thread
 * takes them with janus_select over all of them (a fan-in; Go's select and crossbeam's Select
 * in the peers do the same). With one queue this is a select of one, against a plain get. */
typedef struct {
    janus_queue **qs;
    int queues;
} select_feed;

static void *put_round_robin(void *arg) {
    select_feed *f = arg;
    for (long i = 1; i <= N; i++) {
        janus_status s = janus_queue_put(f->qs[i % f->queues], (void *)(intptr_t)i, JANUS_WAIT_FOREVER);
        if (s != JANUS_OK) die("put", s);
    }
    return NULL;
}

static double run_select_t2t(int queues) {
    janus_queue *qs[8];
    janus_select_op ops[8];
    for (int k = 0; k < queues; k++) {
        qs[k] = janus_queue_new(JANUS_FIFO, 1024);
        ops[k] = (janus_select_op){qs[k], JANUS_SELECT_GET, NULL};
    }
    select_feed f = {qs, queues};
    double t0 = now_s();
    pthread_t t = start(put_round_robin, &f);
    long sum = 0;
    for (long i = 1; i <= N; i++) {
        size_t which;
        janus_status s = janus_select(ops, (size_t)queues, &which, JANUS_WAIT_FOREVER);
        if (s != JANUS_OK) die("select", s);
        sum += (long)(intptr_t)ops[which].item;
    }
    double dt = now_s() - t0;
    pthread_join(t, NULL);
    for (int k = 0; k < queues; k++) janus_queue_free(qs[k]);
    check_sum(sum, N, "select");
    return N / dt;
}

/* One thread, no contention: a put and then a get, N times; nanoseconds per pair (what one
 * operation through the C ABI costs by itself; janus_swift_pair_1024 is the Swift API's). */
static double run_pair_ns(size_t maxsize) {
    janus_queue *q = janus_queue_new(JANUS_FIFO, maxsize);
    long sum = 0;
    double t0 = now_s();
    for (long i = 1; i <= N; i++) {
        void *item;
        janus_status s = janus_queue_put(q, (void *)(intptr_t)i, JANUS_WAIT_FOREVER);
        if (s != JANUS_OK) die("put", s);
        s = janus_queue_get(q, &item, JANUS_WAIT_FOREVER);
        if (s != JANUS_OK) die("get", s);
        sum += (long)(intptr_t)item;
    }
    double dt = now_s() - t0;
    janus_queue_free(q);
    check_sum(sum, N, "pair");
    return dt * 1e9 / (double)N;
}

static double run_t2t_batch(size_t maxsize) {
    janus_queue *q = janus_queue_new(JANUS_FIFO, maxsize);
    range_arg a = {q, 1, N, 0};
    double t0 = now_s();
    pthread_t t = start(put_many_range, &a);
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
    check_sum(sum, N, "t2t batch");
    return N / dt;
}

/* 4 threads put, 4 threads get. */
static double run_mpmc4_t2t(size_t maxsize) {
    janus_queue *q = janus_queue_new(JANUS_FIFO, maxsize);
    range_arg p[4], c[4];
    pthread_t pt[4], ct[4];
    long share = N / 4;
    double t0 = now_s();
    for (int i = 0; i < 4; i++) {
        c[i] = (range_arg){q, 0, 0, 0};
        ct[i] = start(get_until_shutdown, &c[i]);
    }
    for (int i = 0; i < 4; i++) {
        p[i] = (range_arg){q, 1 + i * share, share, 0};
        pt[i] = start(put_range, &p[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(pt[i], NULL);
    janus_queue_shutdown(q, false);
    long sum = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(ct[i], NULL);
        sum += c[i].sum;
    }
    double dt = now_s() - t0;
    janus_queue_free(q);
    check_sum(sum, 4 * share, "mpmc4 t2t");
    return 4 * share / dt;
}

/* ---------------- janus: C threads and Swift tasks ---------------- */

static long consumed_sum;
static int consume_one_task(void *item, void *ctx) {
    (void)ctx;
    consumed_sum += (long)(intptr_t)item; /* one task: no race */
    return 0;
}

static int consume_shared(void *item, void *ctx) {
    __atomic_fetch_add((long *)ctx, (long)(intptr_t)item, __ATOMIC_RELAXED);
    return 0;
}

/* A C thread puts, one consumer task gets; until join says all were consumed. */
static double run_t2a(size_t maxsize, int batched) {
    janus_queue *q = janus_queue_new(JANUS_FIFO, maxsize);
    consumed_sum = 0;
    janus_consumer *c = janus_consume_async(q, consume_one_task, NULL, 1);
    range_arg a = {q, 1, N, 0};
    double t0 = now_s();
    if (batched) put_many_range(&a); else put_range(&a);
    janus_status s = janus_queue_join(q, JANUS_WAIT_FOREVER);
    double dt = now_s() - t0;
    if (s != JANUS_OK) die("join", s);
    janus_queue_shutdown(q, false);
    janus_consumer_wait(c, JANUS_WAIT_FOREVER);
    janus_consumer_free(c);
    janus_queue_free(q);
    check_sum(consumed_sum, N, "t2a");
    return N / dt;
}

/* 4 C threads put, a consumer of 4 tasks gets. */
static double run_mpmc4_t2a(size_t maxsize) {
    janus_queue *q = janus_queue_new(JANUS_FIFO, maxsize);
    long sum = 0;
    janus_consumer *c = janus_consume_async(q, consume_shared, &sum, 4);
    range_arg p[4];
    pthread_t pt[4];
    long share = N / 4;
    double t0 = now_s();
    for (int i = 0; i < 4; i++) {
        p[i] = (range_arg){q, 1 + i * share, share, 0};
        pt[i] = start(put_range, &p[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(pt[i], NULL);
    janus_status s = janus_queue_join(q, JANUS_WAIT_FOREVER);
    double dt = now_s() - t0;
    if (s != JANUS_OK) die("join", s);
    janus_queue_shutdown(q, false);
    janus_consumer_wait(c, JANUS_WAIT_FOREVER);
    janus_consumer_free(c);
    janus_queue_free(q);
    check_sum(__atomic_load_n(&sum, __ATOMIC_RELAXED), 4 * share, "mpmc4 t2a");
    return 4 * share / dt;
}

typedef struct {
    long next, last;
} produce_ctx;

static janus_status produce_range(void **item_out, void *ctx) {
    produce_ctx *p = ctx;
    if (p->next > p->last) return JANUS_SHUTDOWN; /* stop */
    *item_out = (void *)(intptr_t)p->next++;
    return JANUS_OK;
}

/* janus_produce_async puts, a C thread gets. */
static double run_a2t(size_t maxsize) {
    janus_queue *q = janus_queue_new(JANUS_FIFO, maxsize);
    produce_ctx pc = {1, N};
    double t0 = now_s();
    janus_producer *p = janus_produce_async(q, produce_range, &pc);
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
    check_sum(sum, N, "a2t");
    return N / dt;
}

/* 4 producers of janus_produce_async put, 4 C threads get. */
static double run_mpmc4_a2t(size_t maxsize) {
    janus_queue *q = janus_queue_new(JANUS_FIFO, maxsize);
    long share = N / 4;
    produce_ctx pc[4];
    janus_producer *p[4];
    range_arg c[4];
    pthread_t ct[4];
    double t0 = now_s();
    for (int i = 0; i < 4; i++) {
        c[i] = (range_arg){q, 0, 0, 0};
        ct[i] = start(get_until_shutdown, &c[i]);
    }
    for (int i = 0; i < 4; i++) {
        pc[i] = (produce_ctx){1 + i * share, (i + 1) * share};
        p[i] = janus_produce_async(q, produce_range, &pc[i]);
    }
    for (int i = 0; i < 4; i++) janus_producer_wait(p[i], JANUS_WAIT_FOREVER);
    janus_queue_shutdown(q, false);
    long sum = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(ct[i], NULL);
        sum += c[i].sum;
    }
    double dt = now_s() - t0;
    for (int i = 0; i < 4; i++) janus_producer_free(p[i]);
    janus_queue_free(q);
    check_sum(sum, 4 * share, "mpmc4 a2t");
    return 4 * share / dt;
}

/* Round trip: a C thread puts on `ping`, a consumer task puts it back on `pong`. */
static janus_queue *pong_q;
static int echo_fn(void *item, void *ctx) {
    (void)ctx;
    janus_status s = janus_queue_put(pong_q, item, JANUS_NO_WAIT); /* unbounded: never full */
    if (s != JANUS_OK) die("echo put", s);
    return 0;
}

static double run_rtt_us(long rounds) {
    janus_queue *ping = janus_queue_new(JANUS_FIFO, 0);
    pong_q = janus_queue_new(JANUS_FIFO, 0);
    janus_consumer *c = janus_consume_async(ping, echo_fn, NULL, 1);
    double *us = malloc(rounds * sizeof(double));
    for (long i = 0; i < rounds; i++) {
        double t0 = now_s();
        janus_queue_put(ping, (void *)(intptr_t)i, JANUS_WAIT_FOREVER);
        void *back;
        janus_status s = janus_queue_get(pong_q, &back, JANUS_WAIT_FOREVER);
        if (s != JANUS_OK || (intptr_t)back != i) die("pong", s);
        us[i] = (now_s() - t0) * 1e6;
    }
    double med = median(us, (int)rounds);
    free(us);
    janus_queue_shutdown(ping, false);
    janus_consumer_wait(c, JANUS_WAIT_FOREVER);
    janus_consumer_free(c);
    janus_queue_free(ping);
    janus_queue_free(pong_q);
    return med;
}

/* Baseline round trip: two mutex+condvar queues between two threads. */
static mc_queue mc_ping, mc_pong;
static long mc_rounds;
static void *mc_echo(void *arg) {
    (void)arg;
    for (long i = 0; i < mc_rounds; i++) mc_put(&mc_pong, mc_get(&mc_ping));
    return NULL;
}

static double run_mc_rtt_us(long rounds) {
    mc_init(&mc_ping, 0);
    mc_init(&mc_pong, 0);
    mc_rounds = rounds;
    pthread_t t = start(mc_echo, NULL);
    double *us = malloc(rounds * sizeof(double));
    for (long i = 0; i < rounds; i++) {
        double t0 = now_s();
        mc_put(&mc_ping, (void *)(intptr_t)i);
        (void)mc_get(&mc_pong);
        us[i] = (now_s() - t0) * 1e6;
    }
    pthread_join(t, NULL);
    double med = median(us, (int)rounds);
    free(us);
    mc_free(&mc_ping);
    mc_free(&mc_pong);
    return med;
}

/* A slow stream: a C thread puts one item, sleeps `gap_us`, again; one consumer task.
 * Returns the process's CPU microseconds per item; `wall_us` gets the wall time per item. */
static double run_slow(long gap_us, long items, double *wall_us) {
    janus_queue *q = janus_queue_new(JANUS_FIFO, 0);
    consumed_sum = 0;
    janus_consumer *c = janus_consume_async(q, consume_one_task, NULL, 1);
    struct timespec gap = {0, gap_us * 1000};
    double c0 = cpu_s(), t0 = now_s();
    for (long i = 1; i <= items; i++) {
        janus_status s = janus_queue_put(q, (void *)(intptr_t)i, JANUS_WAIT_FOREVER);
        if (s != JANUS_OK) die("put", s);
        clock_nanosleep(CLOCK_MONOTONIC, 0, &gap, NULL);
    }
    janus_queue_join(q, JANUS_WAIT_FOREVER);
    double cpu = cpu_s() - c0, wall = now_s() - t0;
    janus_queue_shutdown(q, false);
    janus_consumer_wait(c, JANUS_WAIT_FOREVER);
    janus_consumer_free(c);
    janus_queue_free(q);
    check_sum(consumed_sum, items, "slow");
    *wall_us = wall / items * 1e6;
    return cpu / items * 1e6;
}

/* Allocations per million items streamed thread -> task in a steady state: the producer keeps
 * the backlog under ~1000 items (a stream, not a growing burst), after a warm-up. */
static void paced_put(janus_queue *q, long count) {
    for (long i = 1; i <= count; i++) {
        if ((i & 255) == 0)
            while (janus_queue_qsize(q) > 768) sched_yield();
        janus_status s = janus_queue_put(q, (void *)(intptr_t)i, JANUS_WAIT_FOREVER);
        if (s != JANUS_OK) die("put", s);
    }
}

static double run_allocs_per_million(size_t maxsize) {
    janus_queue *q = janus_queue_new(JANUS_FIFO, maxsize);
    janus_consumer *c = janus_consume_async(q, consume_one_task, NULL, 1);
    paced_put(q, 100000);
    janus_queue_join(q, JANUS_WAIT_FOREVER);
    __atomic_store_n(&alloc_count, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&counting, 1, __ATOMIC_RELAXED);
    paced_put(q, N);
    janus_queue_join(q, JANUS_WAIT_FOREVER);
    __atomic_store_n(&counting, 0, __ATOMIC_RELAXED);
    long counted = __atomic_load_n(&alloc_count, __ATOMIC_RELAXED);
    janus_queue_shutdown(q, false);
    janus_consumer_wait(c, JANUS_WAIT_FOREVER);
    janus_consumer_free(c);
    janus_queue_free(q);
    return (double)counted * 1e6 / (double)N;
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

static const char *only;
static int want(const char *name) {
    if (!only) return 1;
    char list[256];
    snprintf(list, sizeof list, "%s", only);
    for (char *tag = strtok(list, ","); tag; tag = strtok(NULL, ","))
        if (strstr(name, tag)) return 1;
    return 0;
}

#define FIGURE(name, unit, expr)                                      \
    do {                                                              \
        if (!want(name)) break;                                       \
        double v[16];                                                 \
        for (int r = 0; r < RUNS; r++) v[r] = (expr);                 \
        printf("%s %.2f %s\n", name, median(v, RUNS), unit);          \
        fflush(stdout);                                               \
    } while (0)

static void slow_figures(const char *cpu_name, const char *wall_name, long gap_us, long items) {
    if (!want(cpu_name)) return;
    double cpu[16], wall[16];
    int rounds = RUNS < 3 ? RUNS : 3;
    for (int r = 0; r < rounds; r++) cpu[r] = run_slow(gap_us, items, &wall[r]);
    printf("%s %.2f us_cpu\n", cpu_name, median(cpu, rounds));
    printf("%s %.2f us\n", wall_name, median(wall, rounds));
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc > 1) N = atol(argv[1]);
    if (argc > 2) RUNS = atoi(argv[2]);
    if (RUNS < 1 || RUNS > 16) RUNS = 5;
    only = getenv("BENCH_ONLY");
    const char *scale = getenv("SLOW_ITEMS_SCALE");
    double slow_scale = scale ? atof(scale) : 1.0;

    FIGURE("c_mutex_condvar_t2t_unbounded", "items/s", run_mc(0));
    FIGURE("c_mutex_condvar_t2t_1024", "items/s", run_mc(1024));
    FIGURE("c_mutex_condvar_rtt_t_t_t", "us", run_mc_rtt_us(20000));

    FIGURE("janus_c_t2a_unbounded", "items/s", run_t2a(0, 0));
    FIGURE("janus_c_t2a_1024", "items/s", run_t2a(1024, 0));
    FIGURE("janus_c_a2t_unbounded", "items/s", run_a2t(0));
    FIGURE("janus_c_a2t_1024", "items/s", run_a2t(1024));
    FIGURE("janus_c_t2t_unbounded", "items/s", run_t2t(JANUS_FIFO, 0, 0));
    FIGURE("janus_c_t2t_1024", "items/s", run_t2t(JANUS_FIFO, 1024, 0));
    FIGURE("janus_c_mpmc4_t2a_1024", "items/s", run_mpmc4_t2a(1024));
    FIGURE("janus_c_mpmc4_a2t_1024", "items/s", run_mpmc4_a2t(1024));
    FIGURE("janus_c_mpmc4_t2t_1024", "items/s", run_mpmc4_t2t(1024));
    FIGURE("janus_c_rtt_t_a_t", "us", run_rtt_us(20000));
    slow_figures("janus_c_slow50us_cpu", "janus_c_slow50us_wall", 50, (long)(20000 * slow_scale));
    slow_figures("janus_c_slow1ms_cpu", "janus_c_slow1ms_wall", 1000, (long)(2000 * slow_scale));
    FIGURE("janus_c_batch256_t2a_unbounded", "items/s", run_t2a(0, 1));
    FIGURE("janus_c_batch256_t2t_unbounded", "items/s", run_t2t_batch(0));
    FIGURE("janus_c_batch256_t2t_1024", "items/s", run_t2t_batch(1024));
    FIGURE("janus_c_fd_t2t_1024", "items/s", run_t2t(JANUS_FIFO, 1024, 1));
    FIGURE("janus_c_pair_1024", "ns", run_pair_ns(1024));
    FIGURE("janus_c_select1_t2t_1024", "items/s", run_select_t2t(1));
    FIGURE("janus_c_select2_t2t_1024", "items/s", run_select_t2t(2));
    FIGURE("janus_c_select8_t2t_1024", "items/s", run_select_t2t(8));
    FIGURE("janus_c_lifo_t2t_1024", "items/s", run_t2t(JANUS_LIFO, 1024, 0));
    FIGURE("janus_c_priority_t2t_1024", "items/s", run_t2t(JANUS_PRIORITY, 1024, 0));
    FIGURE("janus_c_allocs_per_million_t2a_unbounded", "allocs", run_allocs_per_million(0));
    FIGURE("janus_c_allocs_per_million_t2a_1024", "allocs", run_allocs_per_million(1024));
    FIGURE("janus_c_bytes_per_queued_pointer", "bytes", run_bytes_per_item());
    return 0;
}
