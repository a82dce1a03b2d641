/*
 * demo_bounded.c - a bounded queue, timeouts, ownership and an immediate
 * shutdown.
 *
 * A fast producer thread puts N heap-allocated jobs into a queue of at most
 * 8 items, waiting at most 10 ms per put: on JANUS_FULL the job is still
 * ours, so it says so and tries again.  A deliberately slow consumer thread
 * takes jobs with a 50 ms timeout.  When the producer is done, main shuts the
 * queue down immediately: the jobs still queued are discarded and the queue
 * hands each one to destroy_job() exactly once.  In the end
 *     jobs put == jobs consumed + jobs destroyed
 * and nothing leaks (try it under valgrind or -fsanitize=address).
 *
 *   usage: demo_bounded [N]        N = jobs to put (default 100)
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "janus.h"

#define DEFAULT_N        100
#define MAX_N            1000000UL
#define QUEUE_MAXSIZE    8
#define PUT_TIMEOUT_MS   10
#define GET_TIMEOUT_MS   50
/* The consumer spends WORK_MS per job, and every HICCUP_EVERY-th job
 * HICCUP_MS: longer than PUT_TIMEOUT_MS, so the producer sees JANUS_FULL. */
#define WORK_MS          2
#define HICCUP_EVERY     10
#define HICCUP_MS        30

typedef struct job {
    unsigned id;
    char label[24];
} job;

/* Jobs freed by the queue.  destroy_job() runs on whichever thread discards
 * them (here main, in janus_queue_shutdown), so count atomically anyway. */
typedef struct destroy_stats {
    size_t destroyed;
} destroy_stats;

static void destroy_job(void *item, void *ctx)
{
    destroy_stats *ds = ctx;
    free(item);
    __atomic_add_fetch(&ds->destroyed, 1, __ATOMIC_RELAXED);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

typedef struct producer_arg {
    janus_queue *q;
    unsigned n;
    unsigned put;           /* jobs the queue accepted */
    unsigned fulls;         /* puts that timed out with JANUS_FULL */
    janus_status status;    /* JANUS_OK, or why we stopped early */
} producer_arg;

static void *produce(void *arg)
{
    producer_arg *p = arg;
    p->status = JANUS_OK;
    for (unsigned id = 0; id < p->n && p->status == JANUS_OK; id++) {
        job *j = malloc(sizeof *j);
        if (j == NULL) {
            p->status = JANUS_ENOMEM;
            break;
        }
        j->id = id;
        snprintf(j->label, sizeof j->label, "job #%u", id);
        for (;;) {
            janus_status s = janus_queue_put(p->q, j, PUT_TIMEOUT_MS);
            if (s == JANUS_OK) {          /* the queue owns j now */
                p->put++;
                break;
            }
            if (s == JANUS_FULL) {        /* no room within 10 ms: j is still ours */
                p->fulls++;
                printf("producer: queue full (%zu/%zu) for %d ms, %s stays with us, retrying\n",
                       janus_queue_qsize(p->q), janus_queue_maxsize(p->q), PUT_TIMEOUT_MS,
                       j->label);
                continue;
            }
            /* JANUS_SHUTDOWN or an error: j was not taken, so we free it. */
            fprintf(stderr, "producer: janus_queue_put(%s): %s\n", j->label, janus_strerror(s));
            free(j);
            p->status = s;
            break;
        }
    }
    return NULL;
}

typedef struct consumer_arg {
    janus_queue *q;
    unsigned consumed;
    unsigned timeouts;      /* gets that found nothing within 50 ms */
    unsigned out_of_order;
    janus_status status;    /* JANUS_OK, or the unexpected status that stopped us */
} consumer_arg;

static void *consume(void *arg)
{
    consumer_arg *c = arg;
    c->status = JANUS_OK;
    for (;;) {
        void *item;
        janus_status s = janus_queue_get(c->q, &item, GET_TIMEOUT_MS);
        if (s == JANUS_EMPTY) {           /* nothing within 50 ms: keep waiting */
            c->timeouts++;
            printf("consumer: nothing within %d ms, waiting again\n", GET_TIMEOUT_MS);
            continue;
        }
        if (s == JANUS_SHUTDOWN)          /* immediate shutdown: what's left is destroyed */
            break;
        if (s != JANUS_OK) {
            fprintf(stderr, "consumer: janus_queue_get: %s\n", janus_strerror(s));
            c->status = s;
            break;
        }
        job *j = item;                    /* ours now: we must free it */
        /* One producer and FIFO order: the jobs come in id order. */
        if (j->id != c->consumed)
            c->out_of_order++;
        sleep_ms(j->id % HICCUP_EVERY == HICCUP_EVERY - 1 ? HICCUP_MS : WORK_MS);
        free(j);
        c->consumed++;
        s = janus_queue_task_done(c->q);
        if (s != JANUS_OK) {
            fprintf(stderr, "consumer: janus_queue_task_done: %s\n", janus_strerror(s));
            c->status = s;
            break;
        }
    }
    if (c->status != JANUS_OK) {
        /* Without a consumer the producer would retry forever: shut the
         * queue down so that it stops and main reports the failure. */
        janus_queue_shutdown(c->q, true);
    }
    return NULL;
}

static int parse_count(const char *text, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v == 0 || v > MAX_N)
        return -1;
    *out = (unsigned)v;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned n = DEFAULT_N;
    if (argc > 2 || (argc == 2 && parse_count(argv[1], &n) != 0)) {
        fprintf(stderr, "usage: %s [jobs (1..%lu)]\n", argv[0], MAX_N);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    int ok = 1;
    janus_status s;
    destroy_stats ds = { 0 };
    janus_options opts = {
        .kind = JANUS_FIFO,
        .maxsize = QUEUE_MAXSIZE,
        .destroy = destroy_job,       /* frees jobs the queue discards */
        .ctx = &ds,                   /* handed to destroy_job */
    };

    janus_queue *q = janus_queue_new_with(&opts);
    if (q == NULL) {
        fprintf(stderr, "janus_queue_new_with failed\n");
        return 1;
    }
    printf("libjanus %s: %u jobs through a queue of maxsize %zu\n",
           janus_version_string(), n, janus_queue_maxsize(q));

    /* wait_closed is only meaningful once the queue is shut down. */
    s = janus_queue_wait_closed(q, JANUS_NO_WAIT);
    printf("wait_closed on an open queue: %s (expected)\n", janus_strerror(s));
    if (s != JANUS_EMISUSE)
        ok = 0;

    producer_arg pa = { q, n, 0, 0, JANUS_OK };
    consumer_arg ca = { q, 0, 0, 0, JANUS_OK };
    pthread_t producer, consumer;
    int err = pthread_create(&consumer, NULL, consume, &ca);
    if (err != 0) {
        fprintf(stderr, "pthread_create: %s\n", strerror(err));
        janus_queue_free(q);
        return 1;
    }
    err = pthread_create(&producer, NULL, produce, &pa);
    if (err != 0) {
        fprintf(stderr, "pthread_create: %s\n", strerror(err));
        ok = 0;
    } else {
        pthread_join(producer, NULL);
        if (pa.status != JANUS_OK)
            ok = 0;
        printf("producer: put %u jobs, %u times the queue stayed full for %d ms\n",
               pa.put, pa.fulls, PUT_TIMEOUT_MS);
    }

    /* Stop now rather than wait for the slow consumer: an immediate shutdown
     * discards the jobs still queued (destroy_job frees each, on this thread)
     * and makes the consumer's next get answer JANUS_SHUTDOWN. */
    size_t left = janus_queue_qsize(q);
    s = janus_queue_shutdown(q, true);
    if (s != JANUS_OK) {
        fprintf(stderr, "janus_queue_shutdown: %s\n", janus_strerror(s));
        ok = 0;
    }
    printf("main: immediate shutdown with about %zu jobs queued: %zu destroyed\n",
           left, __atomic_load_n(&ds.destroyed, __ATOMIC_RELAXED));

    /* After a shutdown a put fails and the item stays with the caller. */
    job *late = malloc(sizeof *late);
    if (late != NULL) {
        late->id = n;
        s = janus_queue_put(q, late, JANUS_NO_WAIT);
        printf("main: put after shutdown: %s, so we free the job ourselves\n", janus_strerror(s));
        if (s != JANUS_SHUTDOWN) {
            ok = 0;
            if (s == JANUS_OK)
                late = NULL;          /* the queue took it: free/destroy will */
        }
        free(late);
    }

    /* Wait until no caller is still inside the queue (the consumer may be
     * blocked in its get right now); bounded, so the demo cannot hang. */
    s = janus_queue_wait_closed(q, 5000);
    printf("main: wait_closed: %s\n", janus_strerror(s));
    if (s != JANUS_OK)
        ok = 0;

    pthread_join(consumer, NULL);
    if (ca.status != JANUS_OK || ca.out_of_order != 0)
        ok = 0;
    printf("consumer: %u jobs consumed (%u in wrong order), %u empty timeouts\n",
           ca.consumed, ca.out_of_order, ca.timeouts);

    /* Every taken job was task_done'd and every discarded one was subtracted
     * by the shutdown, so nothing is unfinished and join returns at once. */
    size_t unfinished = janus_queue_unfinished_tasks(q);
    s = janus_queue_join(q, JANUS_NO_WAIT);
    if (unfinished != 0 || s != JANUS_OK || !janus_queue_is_shutdown(q)) {
        fprintf(stderr, "after shutdown: unfinished %zu, join %s, is_shutdown %d\n",
                unfinished, janus_strerror(s), (int)janus_queue_is_shutdown(q));
        ok = 0;
    }

    janus_queue_free(q);   /* nothing left to destroy, but it would be */
    size_t destroyed = __atomic_load_n(&ds.destroyed, __ATOMIC_RELAXED);
    int adds_up = (size_t)pa.put == (size_t)ca.consumed + destroyed;
    if (!adds_up)
        ok = 0;
    printf("put %u = consumed %u + destroyed %zu: %s\n", pa.put, ca.consumed, destroyed,
           ok ? "OK" : "MISMATCH");
    return ok ? 0 : 1;
}
