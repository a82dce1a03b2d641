/*
 * fork_test.c - a child of a process that has libjanus.so loaded can use janus.
 *
 *   fork_test STATE CHILDREN [SECONDS]
 *
 * STATE is what the parent did before it forks:
 *   loaded          nothing: the library is only loaded
 *   blocking        threads used the blocking face (and one queue stays alive)
 *   async-stopped   a consumer and a producer (Swift tasks) ran and were freed
 *   async-running   a consumer and a producer still run, a thread is blocked in a get
 *
 * The parent then forks CHILDREN children one after another (with SECONDS, as many as fit in
 * that time, at least CHILDREN).  Each child races its first calls from its main thread and two
 * other threads, released together by a barrier:
 *   - main puts 20,000 numbered items into a fresh FIFO queue of maxsize 64, and threads A and B
 *     get them (and task_done) until it is shut down: every item exactly once;
 *   - main starts an async consumer (2 Swift tasks) on a second queue and feeds it 2,000 items;
 *   - B starts an async producer of 1,000 items into a third queue, and A takes them through the
 *     queue's readable descriptor (poll, then a no-wait get): all of them, in order;
 *   - and the parent's own objects answer JANUS_EFORK at once in the child (they are the
 *     parent's: janus.h, "fork").
 * Where Swift concurrency cannot run in the child (the parent had started its threads: see
 * janus.h), the async calls must answer NULL with errno ECHILD at once, and the child checks that
 * instead.
 *
 * The parent is the watchdog: a child that has not exited after CHILD_LIMIT_S seconds is a hang.
 * It is shown with gdb (when installed) and killed.  The last line is "N passed, N failed".
 */
#define _GNU_SOURCE

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "janus.h"

#define ITEMS_BLOCKING 20000
#define ITEMS_CONSUMER 2000
#define ITEMS_PRODUCER 1000
#define CHILD_LIMIT_S 20

/* How a child fails: its exit status says which check. */
enum { CHILD_OK = 0, CHILD_BLOCKING = 10, CHILD_CONSUMER, CHILD_PRODUCER, CHILD_PARENT_OBJECTS, CHILD_SETUP };

static const char *g_state;
static bool g_async_expected; /* may the child run Swift tasks? (janus.h, "fork") */

/* The parent's objects, made before the fork. */
static janus_queue *g_parent_q;
static janus_consumer *g_parent_consumer;
static janus_producer *g_parent_producer;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------------ */
/* The child                                                                */
/* ------------------------------------------------------------------------ */

typedef struct {
    pthread_barrier_t start;
    janus_queue *blocking;    /* main -> A, B */
    janus_queue *consumed;    /* main -> async consumer */
    janus_queue *produced;    /* async producer -> A (descriptor) */
    janus_producer *producer; /* started by B */
    long got[2];              /* items A and B took from `blocking` */
    long long sum[2];
    int produced_ok;          /* A took the producer's items, in order */
    long consumed_count;      /* __atomic: the consumer's callback counts */
    long long consumed_sum;
    int producer_next;        /* the producer's callback (one task) */
    int async_ok;             /* the async calls answered as expected */
} child_t;

static int consume_one(void *item, void *ctx)
{
    child_t *c = ctx;
    __atomic_add_fetch(&c->consumed_count, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&c->consumed_sum, (long long)(intptr_t)item, __ATOMIC_RELAXED);
    return 0;
}

static janus_status produce_one(void **item_out, void *ctx)
{
    child_t *c = ctx;
    if (c->producer_next >= ITEMS_PRODUCER) return JANUS_SHUTDOWN; /* stop */
    *item_out = (void *)(intptr_t)(++c->producer_next);
    return JANUS_OK;
}

/* The child's number: each child lets its getters start a little later than the last, from 0 to
 * 60 us after the barrier, so that across children every ordering of the first calls comes up
 * (above all main's first full-queue put spinning before the getters' first gets). */
static int g_child;

static void stagger(void)
{
    double until = now_s() + (double)(g_child % 61) * 1e-6;
    while (now_s() < until) {
    }
}

static void drain_blocking(child_t *c, int who)
{
    void *item;
    stagger();
    while (janus_queue_get(c->blocking, &item, JANUS_WAIT_FOREVER) == JANUS_OK) {
        c->got[who]++;
        c->sum[who] += (intptr_t)item;
        janus_queue_task_done(c->blocking);
    }
}

static void *thread_a(void *arg)
{
    child_t *c = arg;
    pthread_barrier_wait(&c->start);
    drain_blocking(c, 0);
    if (!g_async_expected) return NULL;
    int fd = -1;
    if (janus_queue_fd(c->produced, JANUS_READABLE, &fd) != JANUS_OK) return NULL;
    int expect = 1;
    while (expect <= ITEMS_PRODUCER) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0) return NULL; /* the watchdog reports the stall */
        void *item;
        while (janus_queue_get(c->produced, &item, JANUS_NO_WAIT) == JANUS_OK) {
            if ((intptr_t)item != expect) return NULL;
            expect++;
        }
    }
    c->produced_ok = 1;
    return NULL;
}

static void *thread_b(void *arg)
{
    child_t *c = arg;
    pthread_barrier_wait(&c->start);
    if (g_async_expected) {
        c->producer = janus_produce_async(c->produced, produce_one, c);
    } else {
        errno = 0;
        janus_producer *p = janus_produce_async(c->produced, produce_one, c);
        if (p != NULL || errno != ECHILD) __atomic_store_n(&c->async_ok, 0, __ATOMIC_RELAXED);
        janus_producer_free(p);
    }
    drain_blocking(c, 1);
    return NULL;
}

/* The parent's objects are the parent's: every call answers at once, none touches them. */
static int check_parent_objects(void)
{
    if (g_parent_q) {
        void *item;
        if (janus_queue_put(g_parent_q, NULL, JANUS_WAIT_FOREVER) != JANUS_EFORK) return 0;
        if (janus_queue_get(g_parent_q, &item, JANUS_WAIT_FOREVER) != JANUS_EFORK) return 0;
        if (janus_queue_join(g_parent_q, JANUS_WAIT_FOREVER) != JANUS_EFORK) return 0;
        if (janus_queue_shutdown(g_parent_q, true) != JANUS_EFORK) return 0;
        if (janus_queue_qsize(g_parent_q) != 0) return 0;
        errno = 0;
        if (janus_consume_async(g_parent_q, consume_one, NULL, 1) != NULL || errno != ECHILD) return 0;
        janus_queue_close(g_parent_q);
        janus_queue_free(g_parent_q); /* releases nothing in the child, returns at once */
    }
    if (g_parent_consumer) {
        if (janus_consumer_wait(g_parent_consumer, JANUS_WAIT_FOREVER) != JANUS_EFORK) return 0;
        janus_consumer_cancel(g_parent_consumer);
        janus_consumer_free(g_parent_consumer);
    }
    if (g_parent_producer) {
        if (janus_producer_wait(g_parent_producer, JANUS_WAIT_FOREVER) != JANUS_EFORK) return 0;
        janus_producer_cancel(g_parent_producer);
        janus_producer_free(g_parent_producer);
    }
    return 1;
}

static int child_main(void)
{
    child_t c;
    memset(&c, 0, sizeof c);
    c.async_ok = 1;
    c.blocking = janus_queue_new(JANUS_FIFO, 64);
    c.consumed = janus_queue_new(JANUS_FIFO, 16);
    c.produced = janus_queue_new(JANUS_FIFO, 32);
    if (!c.blocking || !c.consumed || !c.produced) return CHILD_SETUP;
    if (pthread_barrier_init(&c.start, NULL, 3) != 0) return CHILD_SETUP;
    pthread_t a, b;
    if (pthread_create(&a, NULL, thread_a, &c) != 0) return CHILD_SETUP;
    if (pthread_create(&b, NULL, thread_b, &c) != 0) return CHILD_SETUP;
    pthread_barrier_wait(&c.start);

    long long expect_sum = 0;
    for (intptr_t i = 1; i <= ITEMS_BLOCKING; i++) {
        if (janus_queue_put(c.blocking, (void *)i, JANUS_WAIT_FOREVER) != JANUS_OK) return CHILD_BLOCKING;
        expect_sum += i;
    }
    janus_queue_shutdown(c.blocking, false);
    janus_consumer *consumer = NULL;
    if (g_async_expected) {
        consumer = janus_consume_async(c.consumed, consume_one, &c, 2);
        if (!consumer) c.async_ok = 0;
    } else {
        errno = 0;
        consumer = janus_consume_async(c.consumed, consume_one, &c, 2);
        if (consumer != NULL || errno != ECHILD) c.async_ok = 0;
    }
    long long consumer_sum = 0;
    if (consumer) {
        for (intptr_t i = 1; i <= ITEMS_CONSUMER; i++) {
            if (janus_queue_put(c.consumed, (void *)i, JANUS_WAIT_FOREVER) != JANUS_OK) return CHILD_CONSUMER;
            consumer_sum += i;
        }
        janus_queue_shutdown(c.consumed, false);
        if (janus_consumer_wait(consumer, JANUS_WAIT_FOREVER) != JANUS_OK) return CHILD_CONSUMER;
        janus_consumer_free(consumer);
    }
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    if (c.producer) {
        if (janus_producer_wait(c.producer, JANUS_WAIT_FOREVER) != JANUS_OK) return CHILD_PRODUCER;
        janus_producer_free(c.producer);
    }

    if (c.got[0] + c.got[1] != ITEMS_BLOCKING || c.sum[0] + c.sum[1] != expect_sum) return CHILD_BLOCKING;
    if (!c.async_ok) return CHILD_CONSUMER;
    if (consumer && (c.consumed_count != ITEMS_CONSUMER || c.consumed_sum != consumer_sum)) return CHILD_CONSUMER;
    if (g_async_expected && !c.produced_ok) return CHILD_PRODUCER;
    if (!check_parent_objects()) return CHILD_PARENT_OBJECTS;
    janus_queue_free(c.blocking);
    janus_queue_free(c.consumed);
    janus_queue_free(c.produced);
    return CHILD_OK;
}

/* ------------------------------------------------------------------------ */
/* The parent's states                                                      */
/* ------------------------------------------------------------------------ */

static void *parent_getter(void *arg)
{
    janus_queue *q = arg;
    void *item;
    while (janus_queue_get(q, &item, JANUS_WAIT_FOREVER) == JANUS_OK) janus_queue_task_done(q);
    return NULL;
}

static int parent_consume(void *item, void *ctx)
{
    (void)item;
    (void)ctx;
    return 0;
}

static janus_status parent_produce(void **item_out, void *ctx)
{
    (void)ctx;
    *item_out = NULL;
    return JANUS_OK; /* forever: held back by a full queue */
}

static janus_status parent_produce_few(void **item_out, void *ctx)
{
    int *left = ctx;
    if (*left == 0) return JANUS_SHUTDOWN;
    (*left)--;
    *item_out = NULL;
    return JANUS_OK;
}

static pthread_t g_blocked_getter;
static janus_queue *g_running_qs[3];

static int set_up_parent(void)
{
    if (strcmp(g_state, "loaded") == 0) return 1;
    if (strcmp(g_state, "blocking") == 0) {
        janus_queue *q = janus_queue_new(JANUS_FIFO, 8);
        pthread_t t;
        pthread_create(&t, NULL, parent_getter, q);
        for (int i = 0; i < 10000; i++) janus_queue_put(q, NULL, JANUS_WAIT_FOREVER);
        janus_queue_shutdown(q, false);
        pthread_join(t, NULL);
        janus_queue_free(q);
        g_parent_q = janus_queue_new(JANUS_FIFO, 0);
        janus_queue_put(g_parent_q, NULL, JANUS_NO_WAIT);
        return 1;
    }
    if (strcmp(g_state, "async-stopped") == 0) {
        janus_queue *q = janus_queue_new(JANUS_FIFO, 8);
        int left = 5000;
        janus_consumer *c = janus_consume_async(q, parent_consume, NULL, 2);
        janus_producer *p = janus_produce_async(q, parent_produce_few, &left);
        if (!c || !p) return 0;
        if (janus_producer_wait(p, JANUS_WAIT_FOREVER) != JANUS_OK) return 0;
        janus_queue_shutdown(q, false);
        if (janus_consumer_wait(c, JANUS_WAIT_FOREVER) != JANUS_OK) return 0;
        janus_producer_free(p);
        janus_consumer_free(c);
        janus_queue_free(q);
        return 1;
    }
    if (strcmp(g_state, "async-running") == 0) {
        for (int i = 0; i < 3; i++) g_running_qs[i] = janus_queue_new(JANUS_FIFO, 4);
        g_parent_q = g_running_qs[2];
        g_parent_consumer = janus_consume_async(g_running_qs[0], parent_consume, NULL, 2);
        g_parent_producer = janus_produce_async(g_running_qs[1], parent_produce, NULL);
        if (!g_parent_consumer || !g_parent_producer) return 0;
        pthread_create(&g_blocked_getter, NULL, parent_getter, g_running_qs[2]);
        /* Let the producer fill its queue and park. */
        while (janus_queue_qsize(g_running_qs[1]) < 4) usleep(1000);
        return 1;
    }
    return 0;
}

static void tear_down_parent(void)
{
    if (strcmp(g_state, "async-running") == 0) {
        janus_consumer_free(g_parent_consumer);
        janus_producer_free(g_parent_producer);
        janus_queue_shutdown(g_running_qs[2], true);
        pthread_join(g_blocked_getter, NULL);
        for (int i = 0; i < 3; i++) janus_queue_free(g_running_qs[i]);
    } else if (g_parent_q) {
        janus_queue_free(g_parent_q);
    }
}

/* Shows where every thread of a hung child sleeps, if gdb is there. */
static void show_hung_child(pid_t pid)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "command -v gdb >/dev/null && timeout 60 gdb -p %d -batch -ex 'thread apply all bt 12' "
             "2>/dev/null | grep -E '^(Thread|#)' | head -80",
             (int)pid);
    if (system(cmd) != 0) { /* nothing to show */
    }
}

static const char *why(int code)
{
    switch (code) {
    case CHILD_BLOCKING: return "blocking-face items wrong";
    case CHILD_CONSUMER: return "async consumer wrong";
    case CHILD_PRODUCER: return "async producer / descriptor wrong";
    case CHILD_PARENT_OBJECTS: return "a parent's object did not answer JANUS_EFORK";
    case CHILD_SETUP: return "setup failed";
    default: return "unexpected exit";
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s loaded|blocking|async-stopped|async-running CHILDREN [SECONDS]\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    g_state = argv[1];
    int children = atoi(argv[2]);
    double seconds = argc > 3 ? atof(argv[3]) : 0;
    /* janus.h, "fork": Swift tasks run in a child unless the parent had started them. */
    g_async_expected = strcmp(g_state, "loaded") == 0 || strcmp(g_state, "blocking") == 0;
    if (!set_up_parent()) {
        printf("FAIL %s: parent setup\n0 passed, 1 failed\n", g_state);
        return 1;
    }
    int passed = 0, failed = 0, hung = 0;
    double start = now_s(), slowest = 0;
    for (int n = 0; n < children || now_s() - start < seconds; n++) {
        double t0 = now_s();
        pid_t pid = fork();
        if (pid < 0) {
            printf("FAIL fork: %s\n", strerror(errno));
            failed++;
            break;
        }
        if (pid == 0) {
            g_child = n;
            _exit(child_main());
        }
        int status = 0;
        pid_t done = 0;
        while ((done = waitpid(pid, &status, WNOHANG)) == 0 && now_s() - t0 < CHILD_LIMIT_S) usleep(200);
        double took = now_s() - t0;
        if (took > slowest) slowest = took;
        if (done == 0) {
            printf("FAIL %s child %d: hung (no exit after %d s)\n", g_state, n, CHILD_LIMIT_S);
            show_hung_child(pid);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            hung++;
            failed++;
        } else if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_OK) {
            passed++;
        } else {
            if (WIFSIGNALED(status))
                printf("FAIL %s child %d: killed by signal %d\n", g_state, n, WTERMSIG(status));
            else
                printf("FAIL %s child %d: %s (exit %d)\n", g_state, n, why(WEXITSTATUS(status)),
                       WEXITSTATUS(status));
            failed++;
        }
    }
    tear_down_parent();
    printf("fork %s: %d children, %d hung, slowest %.3f s, async in the child %s\n", g_state, passed + failed,
           hung, slowest, g_async_expected ? "expected to run" : "expected to answer ECHILD");
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
