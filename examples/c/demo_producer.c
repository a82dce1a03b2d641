/*
 * demo_producer.c - a Swift task produces, C threads consume.
 *
 * janus_produce_async() starts one Swift concurrency task that calls
 * next_item() for items 1..N and awaits the async put of each into a bounded
 * FIFO queue (so a full queue holds the Swift task back without blocking a
 * thread).  Two C pthreads take the items with the blocking janus_queue_get
 * until the queue is shut down, and call janus_queue_task_done for each.
 *
 *   usage: demo_producer [N]       N = items to produce (default 200000)
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "janus.h"

#define CONSUMERS     2
#define DEFAULT_N     200000
#define MAX_N         100000000UL
/* Small, so the Swift producer really waits for the C consumers. */
#define QUEUE_MAXSIZE 64
/* A demo should fail, not hang: give up waiting once nothing has moved for
 * this many seconds (slow is fine, e.g. under valgrind; stuck is not). */
#define STALL_SECONDS 10

/* State of the Swift producer.  next_item() is only ever called by that one
 * task, one call at a time, so it needs no lock; only `produced` is also read
 * by main while the task runs (to watch progress), hence the __atomic. */
typedef struct produce_state {
    uintptr_t next;     /* next value to hand out */
    uintptr_t last;     /* N */
    size_t produced;    /* items handed to the library */
} produce_state;

static janus_status next_item(void **item_out, void *ctx)
{
    produce_state *ps = ctx;
    if (ps->next > ps->last)
        return JANUS_EMPTY;   /* any status but JANUS_OK means "no more" */
    *item_out = (void *)ps->next++;   /* the value itself is the item */
    __atomic_add_fetch(&ps->produced, 1, __ATOMIC_RELAXED);
    return JANUS_OK;
}

typedef struct consumer_arg {
    janus_queue *q;
    int id;
    size_t count;           /* items taken */
    uint64_t sum;           /* their sum */
    uintptr_t last;         /* last value taken, for the order check */
    size_t out_of_order;
    janus_status status;    /* JANUS_OK, or the unexpected status that stopped us */
} consumer_arg;

static void *consume(void *arg)
{
    consumer_arg *c = arg;
    c->status = JANUS_OK;
    for (;;) {
        void *item;
        janus_status s = janus_queue_get(c->q, &item, JANUS_WAIT_FOREVER);
        if (s == JANUS_SHUTDOWN)
            break;              /* shut down and drained: the normal end */
        if (s != JANUS_OK) {
            fprintf(stderr, "consumer %d: janus_queue_get: %s\n", c->id, janus_strerror(s));
            c->status = s;
            break;
        }
        uintptr_t v = (uintptr_t)item;
        /* One producer and a FIFO queue: whatever one thread takes later was
         * put later, so each consumer must see increasing values (the two
         * consumers interleave, which is fine). */
        if (v <= c->last)
            c->out_of_order++;
        c->last = v;
        c->sum += v;
        c->count++;
        s = janus_queue_task_done(c->q);
        if (s != JANUS_OK) {
            fprintf(stderr, "consumer %d: janus_queue_task_done: %s\n", c->id, janus_strerror(s));
            c->status = s;
            break;
        }
    }
    if (c->status != JANUS_OK) {
        /* Without this consumer the producer and main could wait forever:
         * shut the queue down so that everyone stops and main reports it. */
        janus_queue_shutdown(c->q, true);
    }
    return NULL;
}

/* janus_producer_wait(p, JANUS_WAIT_FOREVER), except that it gives up with
 * JANUS_TIMEOUT if the producer stops making items for STALL_SECONDS. */
static janus_status producer_wait_or_stall(janus_producer *p, const produce_state *ps)
{
    size_t last = __atomic_load_n(&ps->produced, __ATOMIC_RELAXED);
    int still = 0;
    for (;;) {
        janus_status s = janus_producer_wait(p, 1000);
        if (s != JANUS_TIMEOUT)
            return s;
        size_t now = __atomic_load_n(&ps->produced, __ATOMIC_RELAXED);
        if (now != last) {
            last = now;
            still = 0;
        } else if (++still >= STALL_SECONDS) {
            return JANUS_TIMEOUT;
        }
    }
}

/* janus_queue_join(q, JANUS_WAIT_FOREVER), except that it gives up with
 * JANUS_TIMEOUT if unfinished_tasks stops moving for STALL_SECONDS. */
static janus_status join_or_stall(janus_queue *q)
{
    size_t last = janus_queue_unfinished_tasks(q);
    int still = 0;
    for (;;) {
        janus_status s = janus_queue_join(q, 1000);
        if (s != JANUS_TIMEOUT)
            return s;
        size_t now = janus_queue_unfinished_tasks(q);
        if (now != last) {
            last = now;
            still = 0;
        } else if (++still >= STALL_SECONDS) {
            return JANUS_TIMEOUT;
        }
    }
}

static int parse_count(const char *text, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v == 0 || v > MAX_N)
        return -1;
    *out = (size_t)v;
    return 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    size_t n = DEFAULT_N;
    if (argc > 2 || (argc == 2 && parse_count(argv[1], &n) != 0)) {
        fprintf(stderr, "usage: %s [items (1..%lu)]\n", argv[0], MAX_N);
        return 2;
    }
    printf("libjanus %s: 1 Swift producer task x %zu items -> %d C consumer threads\n",
           janus_version_string(), n, CONSUMERS);

    int ok = 1;
    janus_status s;
    consumer_arg args[CONSUMERS];
    pthread_t threads[CONSUMERS];
    int started = 0;
    produce_state ps = { 1, (uintptr_t)n, 0 };
    memset(args, 0, sizeof args);

    janus_queue *q = janus_queue_new(JANUS_FIFO, QUEUE_MAXSIZE);
    if (q == NULL) {
        fprintf(stderr, "janus_queue_new failed\n");
        return 1;
    }

    double t0 = now_seconds();
    for (int i = 0; i < CONSUMERS; i++) {
        args[i].q = q;
        args[i].id = i;
        int err = pthread_create(&threads[i], NULL, consume, &args[i]);
        if (err != 0) {
            fprintf(stderr, "pthread_create: %s\n", strerror(err));
            ok = 0;
            break;
        }
        started++;
    }

    janus_producer *p = NULL;
    if (ok) {
        p = janus_produce_async(q, next_item, &ps);
        if (p == NULL) {
            fprintf(stderr, "janus_produce_async failed\n");
            ok = 0;
        }
    }

    if (p != NULL) {
        /* 1. the Swift task has put everything (or stopped) ... */
        s = producer_wait_or_stall(p, &ps);
        if (s != JANUS_OK) {
            fprintf(stderr, "janus_producer_wait: %s\n", janus_strerror(s));
            ok = 0;
            /* Stuck: shut the queue down first so that freeing the producer
             * (which cancels it and waits) and joining the threads end. */
            janus_queue_shutdown(q, true);
        }
        janus_producer_free(p);
        size_t produced = __atomic_load_n(&ps.produced, __ATOMIC_RELAXED);
        if (produced != n) {
            fprintf(stderr, "producer stopped after %zu of %zu items\n", produced, n);
            ok = 0;
        }
    }
    if (ok) {
        /* 2. ... the C consumers have task_done'd every item ... */
        s = join_or_stall(q);
        if (s != JANUS_OK) {
            fprintf(stderr, "janus_queue_join: %s\n", janus_strerror(s));
            ok = 0;
        }
    }
    /* 3. ... so shutting down now loses nothing; the consumers, blocked on
     * the empty queue, wake up with JANUS_SHUTDOWN and return.  (After a
     * failure, discard whatever is left instead.) */
    s = janus_queue_shutdown(q, !ok);
    if (s != JANUS_OK) {
        fprintf(stderr, "janus_queue_shutdown: %s\n", janus_strerror(s));
        ok = 0;
    }
    size_t count = 0;
    uint64_t sum = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
        printf("consumer %d: %zu items, %s\n", i, args[i].count,
               args[i].out_of_order == 0 ? "in order" : "OUT OF ORDER");
        if (args[i].status != JANUS_OK || args[i].out_of_order != 0)
            ok = 0;
        count += args[i].count;
        sum += args[i].sum;
    }
    double elapsed = now_seconds() - t0;

    uint64_t want = (uint64_t)n * ((uint64_t)n + 1) / 2;
    if (count != n || sum != want) {
        fprintf(stderr, "got %zu items summing to %" PRIu64 ", want %zu summing to %" PRIu64 "\n",
                count, sum, n, want);
        ok = 0;
    }
    if (ok && (janus_queue_qsize(q) != 0 || janus_queue_unfinished_tasks(q) != 0)) {
        fprintf(stderr, "queue not drained: qsize %zu, unfinished %zu\n",
                janus_queue_qsize(q), janus_queue_unfinished_tasks(q));
        ok = 0;
    }
    printf("sum of 1..%zu = %" PRIu64 " from 1 Swift task to %d C threads: %s (%.2f M items/s)\n",
           n, sum, CONSUMERS, ok ? "OK" : "MISMATCH",
           elapsed > 0 ? (double)count / elapsed / 1e6 : 0.0);

    janus_queue_free(q);
    return ok ? 0 : 1;
}
