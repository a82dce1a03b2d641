/*
 * demo_consumers.c - C threads produce, Swift tasks consume.
 *
 * Four C pthreads each put N items into one bounded FIFO janus_queue through
 * the blocking face; janus_consume_async() starts four Swift concurrency
 * tasks that take the items from the async face and call consume() for each.
 * At the end every item of every producer must have arrived exactly once.
 *
 *   usage: demo_consumers [N]      N = items per producer (default 250000)
 *
 * Items are not pointers to anything: the producer id and the sequence number
 * are packed into the void * itself, so the hot path allocates nothing.
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

#define PRODUCERS       4
#define CONSUMER_TASKS  4
#define DEFAULT_N       250000
#define MAX_N           100000000UL
/* Bounded so that memory stays small and the producers really block on a
 * full queue until a Swift task makes room: both faces wait on each other. */
#define QUEUE_MAXSIZE   4096
/* A demo should fail, not hang: give up waiting once nothing has moved for
 * this many seconds (slow is fine, e.g. under valgrind; stuck is not). */
#define STALL_SECONDS   10

/* item = (seq << PRODUCER_BITS) | producer id, as an integer in a void *. */
#define PRODUCER_BITS   8
#define PRODUCER_MASK   ((uintptr_t)((1u << PRODUCER_BITS) - 1))

static void *pack_item(unsigned producer, size_t seq)
{
    return (void *)(((uintptr_t)seq << PRODUCER_BITS) | (uintptr_t)producer);
}

static void unpack_item(void *item, unsigned *producer, size_t *seq)
{
    uintptr_t v = (uintptr_t)item;
    *producer = (unsigned)(v & PRODUCER_MASK);
    *seq = (size_t)(v >> PRODUCER_BITS);
}

/* Shared by the four Swift consumer tasks.  consume() runs on Swift's
 * cooperative threads, several at once, so every field it writes is updated
 * with GCC __atomic builtins (C99 has no <stdatomic.h>). */
typedef struct consume_state {
    size_t n;                       /* items per producer */
    size_t total;                   /* PRODUCERS * n */
    unsigned char *seen;            /* PRODUCERS * n bits: arrived yet? */
    size_t per_producer[PRODUCERS]; /* items received from each producer */
    size_t consumed;                /* items received in all */
    size_t errors;                  /* duplicates and impossible items */
} consume_state;

/* Called by a Swift task for every item it takes; the library calls
 * task_done after we return.  Always returns 0 ("go on"): stopping the
 * consumer early would leave items unfinished and janus_queue_join waiting,
 * so problems are counted and reported at the end instead. */
static int consume(void *item, void *ctx)
{
    consume_state *st = ctx;
    unsigned producer;
    size_t seq;

    unpack_item(item, &producer, &seq);
    if (producer >= PRODUCERS || seq >= st->n) {
        if (__atomic_add_fetch(&st->errors, 1, __ATOMIC_RELAXED) <= 5)
            fprintf(stderr, "consumer: impossible item %p\n", item);
        return 0;
    }

    size_t bit = (size_t)producer * st->n + seq;
    unsigned char mask = (unsigned char)(1u << (bit % 8));
    unsigned char old = __atomic_fetch_or(&st->seen[bit / 8], mask, __ATOMIC_RELAXED);
    if (old & mask) {
        if (__atomic_add_fetch(&st->errors, 1, __ATOMIC_RELAXED) <= 5)
            fprintf(stderr, "consumer: duplicate item %zu of producer %u\n", seq, producer);
        return 0;
    }
    __atomic_add_fetch(&st->per_producer[producer], 1, __ATOMIC_RELAXED);

    /* Exactly one task sees each value of the counter, so each progress
     * line is printed once. */
    size_t done = __atomic_add_fetch(&st->consumed, 1, __ATOMIC_RELAXED);
    size_t quarter = st->total / 4;
    if (quarter > 0 && done % quarter == 0 && done < st->total)
        printf("progress: %3zu%% consumed (%zu of %zu items)\n",
               done / quarter * 25, done, st->total);
    return 0;
}

typedef struct producer_arg {
    janus_queue *q;
    unsigned id;
    size_t n;
    size_t put;             /* items the queue accepted */
    janus_status status;    /* JANUS_OK, or why the producer stopped early */
} producer_arg;

static void *produce(void *arg)
{
    producer_arg *p = arg;

    printf("producer %u: putting %zu items\n", p->id, p->n);
    p->status = JANUS_OK;
    for (size_t seq = 0; seq < p->n; seq++) {
        /* Blocks while the queue is full; a Swift consumer's get wakes us. */
        janus_status s = janus_queue_put(p->q, pack_item(p->id, seq), JANUS_WAIT_FOREVER);
        if (s != JANUS_OK) {
            fprintf(stderr, "producer %u: janus_queue_put: %s\n", p->id, janus_strerror(s));
            p->status = s;
            break;
        }
        p->put++;
    }
    printf("producer %u: done, %zu items put\n", p->id, p->put);
    return NULL;
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
        fprintf(stderr, "usage: %s [items-per-producer (1..%lu)]\n", argv[0], MAX_N);
        return 2;
    }
    /* Progress lines come from Swift threads: show them as they happen. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("libjanus %s: %d C producer threads x %zu items -> %d Swift consumer tasks\n",
           janus_version_string(), PRODUCERS, n, CONSUMER_TASKS);

    int ok = 1;
    janus_consumer *c = NULL;
    producer_arg args[PRODUCERS];
    pthread_t threads[PRODUCERS];
    int started = 0;
    janus_status s;
    double t0 = 0, elapsed = 0;
    consume_state st;
    memset(&st, 0, sizeof st);
    memset(args, 0, sizeof args);
    st.n = n;
    st.total = n * PRODUCERS;

    janus_queue *q = janus_queue_new(JANUS_FIFO, QUEUE_MAXSIZE);
    if (q == NULL) {
        fprintf(stderr, "janus_queue_new failed\n");
        return 1;
    }
    st.seen = calloc((st.total + 7) / 8, 1);
    if (st.seen == NULL) {
        fprintf(stderr, "out of memory for %zu items\n", st.total);
        janus_queue_free(q);
        return 1;
    }

    /* Consumers first: they wait on the empty queue until items arrive. */
    c = janus_consume_async(q, consume, &st, CONSUMER_TASKS);
    if (c == NULL) {
        fprintf(stderr, "janus_consume_async failed\n");
        ok = 0;
        goto out;
    }

    t0 = now_seconds();
    for (int i = 0; i < PRODUCERS; i++) {
        args[i].q = q;
        args[i].id = (unsigned)i;
        args[i].n = n;
        int err = pthread_create(&threads[i], NULL, produce, &args[i]);
        if (err != 0) {
            fprintf(stderr, "pthread_create: %s\n", strerror(err));
            ok = 0;
            break;
        }
        started++;
    }
    if (!ok) {
        /* Wake producers that may be blocked on a full queue so they exit. */
        janus_queue_shutdown(q, true);
    }
    for (int i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
        if (args[i].status != JANUS_OK)
            ok = 0;
    }
    if (!ok)
        goto out;

    /* Every item is in; wait until the Swift tasks have task_done'd them
     * all, which also means every consume() call has returned. */
    s = join_or_stall(q);
    elapsed = now_seconds() - t0;
    if (s != JANUS_OK) {
        fprintf(stderr, "janus_queue_join: %s (%zu of %zu consumed, %zu unfinished)\n",
                janus_strerror(s), __atomic_load_n(&st.consumed, __ATOMIC_RELAXED),
                st.total, janus_queue_unfinished_tasks(q));
        ok = 0;
        goto out;
    }

out:
    /* Graceful end: consumers drain what is left (nothing, after a join),
     * see the queue shut down and stop.  On a failure, throw the rest away. */
    s = janus_queue_shutdown(q, !ok);
    if (s != JANUS_OK) {
        fprintf(stderr, "janus_queue_shutdown: %s\n", janus_strerror(s));
        ok = 0;
    }
    if (c != NULL) {
        if (!ok)
            janus_consumer_cancel(c);
        s = janus_consumer_wait(c, JANUS_WAIT_FOREVER);
        if (s != JANUS_OK) {
            fprintf(stderr, "janus_consumer_wait: %s\n", janus_strerror(s));
            ok = 0;
        }
        janus_consumer_free(c);
    }

    if (ok) {
        /* Count and bitmap: every item of every producer exactly once. */
        size_t consumed = __atomic_load_n(&st.consumed, __ATOMIC_ACQUIRE);
        size_t errors = __atomic_load_n(&st.errors, __ATOMIC_ACQUIRE);
        for (unsigned p = 0; p < PRODUCERS; p++) {
            size_t got = __atomic_load_n(&st.per_producer[p], __ATOMIC_ACQUIRE);
            if (got != n) {
                fprintf(stderr, "producer %u: %zu of %zu items arrived\n", p, got, n);
                ok = 0;
            }
        }
        size_t missing = 0;
        for (size_t bit = 0; bit < st.total; bit++)
            if (!(st.seen[bit / 8] & (1u << (bit % 8))))
                missing++;
        if (missing != 0 || errors != 0 || consumed != st.total) {
            fprintf(stderr, "%zu items missing, %zu duplicate or bad, %zu of %zu counted\n",
                    missing, errors, consumed, st.total);
            ok = 0;
        }
        if (janus_queue_qsize(q) != 0 || janus_queue_unfinished_tasks(q) != 0) {
            fprintf(stderr, "queue not drained: qsize %zu, unfinished %zu\n",
                    janus_queue_qsize(q), janus_queue_unfinished_tasks(q));
            ok = 0;
        }
        printf("consumed %zu items from %d C threads in %d Swift tasks: %s (%.2f M items/s)\n",
               consumed, PRODUCERS, CONSUMER_TASKS, ok ? "OK" : "MISMATCH",
               elapsed > 0 ? (double)consumed / elapsed / 1e6 : 0.0);
    } else {
        printf("FAILED\n");
    }

    janus_queue_free(q);
    free(st.seen);
    return ok ? 0 : 1;
}
