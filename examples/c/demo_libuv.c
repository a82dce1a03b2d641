/*
 * demo_libuv.c - a janus queue in a libuv loop.
 *
 * The same idea as demo_epoll.c with libuv: the queue's JANUS_READABLE
 * descriptor is watched by a uv_poll_t (UV_READABLE), next to a uv_timer_t
 * that ticks every 10 ms.  When the poll handle fires, the callback gets with
 * JANUS_NO_WAIT until the queue answers JANUS_EMPTY; nothing in the loop ever
 * blocks in the queue.
 *
 * Feeding the queue (maxsize 64): 2 C producer threads and 1 Swift producer
 * task (janus_produce_async), N heap tokens each, a token being (producer id,
 * sequence number).  The loop, the only consumer, checks that each
 * producer's tokens arrive exactly once and in order.  Here the loop itself
 * decides when to stop: on each tick it looks whether every producer is done
 * (the C threads say so through a counter, the Swift one through
 * janus_producer_wait with JANUS_NO_WAIT) and then shuts the queue down
 * normally; once a get answers JANUS_SHUTDOWN the callback closes both
 * handles and uv_run returns.
 *
 *   usage: demo_libuv [N]          N = tokens per producer (default 20000)
 *
 * Built only where libuv is installed (Debian: apt-get install libuv1-dev).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "janus.h"

#define C_PRODUCERS      2
#define PRODUCERS        (C_PRODUCERS + 1)  /* ids 0..1 C threads, 2 the Swift task */
#define SWIFT_ID         C_PRODUCERS
#define DEFAULT_N        20000
#define MAX_N            10000000UL
#define QUEUE_MAXSIZE    64
#define TICK_MS          10
/* At most this many items per callback, then back to the loop so that the
 * timer gets its turn; the poll handle fires again at once, since no get has
 * answered JANUS_EMPTY yet (the descriptor is level-like, janus.h). */
#define BATCH            256
/* Each C producer pauses FLOW_MS in all (in up to PAUSES pauses), so that
 * the flow lasts a few ticks however fast the machine is. */
#define FLOW_MS          50
#define PAUSES           50
/* Fail rather than hang once nothing has moved for this long. */
#define STALL_SECONDS    10
#define STALL_TICKS      (STALL_SECONDS * 1000 / TICK_MS)
#define STRINGIFY_(x)    #x
#define STRINGIFY(x)     STRINGIFY_(x)

typedef struct token {
    unsigned producer;
    size_t seq;
} token;

static token *make_token(unsigned producer, size_t seq)
{
    token *t = malloc(sizeof *t);
    if (t != NULL) {
        t->producer = producer;
        t->seq = seq;
    }
    return t;
}

/* Frees the tokens the queue throws away: none in a good run (a normal
 * shutdown keeps them for the loop), the rest after a failure. */
static size_t destroyed;

static void destroy_token(void *item, void *ctx)
{
    (void)ctx;
    free(item);
    __atomic_add_fetch(&destroyed, 1, __ATOMIC_RELAXED);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- producers --------------------------------------------------------- */

/* C producer threads that have finished (for the loop's timer to see). */
static int c_done;

typedef struct c_producer {
    janus_queue *q;
    unsigned id;
    size_t n;
    size_t put;
    janus_status status;
} c_producer;

static void *c_produce(void *arg)
{
    c_producer *p = arg;
    size_t pauses = p->n < PAUSES ? p->n : PAUSES;
    size_t pause_every = p->n / pauses;
    p->status = JANUS_OK;
    for (size_t seq = 0; seq < p->n; seq++) {
        if ((seq + 1) % pause_every == 0)
            sleep_ms(FLOW_MS / (long)pauses);
        token *t = make_token(p->id, seq);
        if (t == NULL) {
            p->status = JANUS_ENOMEM;
            break;
        }
        janus_status s = janus_queue_put(p->q, t, JANUS_WAIT_FOREVER);
        if (s != JANUS_OK) {          /* shut down after a failure: t is still ours */
            free(t);
            p->status = s;
            break;
        }
        p->put++;
    }
    __atomic_add_fetch(&c_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* The Swift producer's state: swift_next() runs in that one task, one call
 * at a time; main reads `made` at the end only, after the task has ended. */
typedef struct swift_producer {
    size_t n;
    size_t made;
    int out_of_memory;
} swift_producer;

/* Runs on a Swift concurrency thread: must not block. */
static janus_status swift_next(void **item_out, void *ctx)
{
    swift_producer *p = ctx;
    if (p->made == p->n)
        return JANUS_EMPTY;           /* not JANUS_OK: no more */
    token *t = make_token(SWIFT_ID, p->made);
    if (t == NULL) {
        p->out_of_memory = 1;
        return JANUS_ENOMEM;
    }
    *item_out = t;
    p->made++;
    return JANUS_OK;
}

/* ---- the loop ---------------------------------------------------------- */

typedef struct app {
    janus_queue *q;
    janus_producer *swift;
    int c_started;                  /* C producer threads running */
    uv_poll_t poll;
    uv_timer_t timer;
    /* Touched by the loop's callbacks only (all on the main thread). */
    size_t next_seq[PRODUCERS];
    size_t received;
    size_t bad;
    size_t callbacks;
    unsigned long long ticks, ticks_at_first, ticks_at_last, idle_ticks;
    int shutdown_sent;              /* the timer has shut the queue down */
    int closing;
    int failed;
} app;

/* Stops the loop: closed handles are the last thing uv_run waits for. */
static void close_all(app *a)
{
    if (a->closing)
        return;
    a->closing = 1;
    uv_poll_stop(&a->poll);
    uv_close((uv_handle_t *)&a->poll, NULL);
    uv_close((uv_handle_t *)&a->timer, NULL);
}

static void fail(app *a, const char *what, const char *why)
{
    fprintf(stderr, "demo_libuv: %s: %s\n", what, why);
    a->failed = 1;
    /* No consumer any more: make the producers' puts return SHUTDOWN; the
     * queued tokens go to destroy_token. */
    janus_queue_shutdown(a->q, true);
    close_all(a);
}

static void check_token(app *a, const token *t)
{
    if (a->received == 0)
        a->ticks_at_first = a->ticks;
    a->received++;
    a->ticks_at_last = a->ticks;
    a->idle_ticks = 0;
    /* The only consumer: each producer's tokens come as 0, 1, 2 ... */
    if (t->producer >= PRODUCERS || t->seq != a->next_seq[t->producer]) {
        if (a->bad++ == 0)
            fprintf(stderr, "demo_libuv: token (%u, %zu) unexpected\n", t->producer, t->seq);
        return;
    }
    a->next_seq[t->producer]++;
}

static void on_queue_readable(uv_poll_t *handle, int status, int events)
{
    app *a = handle->data;
    (void)events;
    if (status < 0) {
        fail(a, "uv_poll", uv_strerror(status));
        return;
    }
    a->callbacks++;
    for (int taken = 0; taken < BATCH; taken++) {
        void *item;
        janus_status s = janus_queue_get(a->q, &item, JANUS_NO_WAIT);
        if (s == JANUS_EMPTY)
            return;                   /* quiet now; the next put wakes us */
        if (s == JANUS_SHUTDOWN) {
            close_all(a);             /* drained and shut down: the end */
            return;
        }
        if (s != JANUS_OK) {
            fail(a, "janus_queue_get", janus_strerror(s));
            return;
        }
        check_token(a, item);
        free(item);
        s = janus_queue_task_done(a->q);
        if (s != JANUS_OK) {
            fail(a, "janus_queue_task_done", janus_strerror(s));
            return;
        }
    }
}

static void on_tick(uv_timer_t *handle)
{
    app *a = handle->data;
    a->ticks++;
    if (++a->idle_ticks > STALL_TICKS) {
        fail(a, "stalled", "nothing moved for " STRINGIFY(STALL_SECONDS) " s");
        return;
    }
    if (a->shutdown_sent)
        return;
    /* Every producer done?  A non-blocking look: the loop must not wait. */
    int c_finished = __atomic_load_n(&c_done, __ATOMIC_ACQUIRE);
    if (c_finished == a->c_started &&
        (a->swift == NULL || janus_producer_wait(a->swift, JANUS_NO_WAIT) == JANUS_OK)) {
        /* No more tokens come.  A normal shutdown keeps the queued ones: the
         * poll callback takes them, then its get answers JANUS_SHUTDOWN. */
        janus_queue_shutdown(a->q, false);
        a->shutdown_sent = 1;
    }
}

/* ---- main -------------------------------------------------------------- */

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

int main(int argc, char **argv)
{
    size_t n = DEFAULT_N;
    if (argc > 2 || (argc == 2 && parse_count(argv[1], &n) != 0)) {
        fprintf(stderr, "usage: %s [tokens per producer (1..%lu)]\n", argv[0], MAX_N);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    int ok = 1, r, fd;
    janus_status s;
    janus_options opts = { .kind = JANUS_FIFO, .maxsize = QUEUE_MAXSIZE, .destroy = destroy_token };
    app a;
    memset(&a, 0, sizeof a);
    a.q = janus_queue_new_with(&opts);
    if (a.q == NULL) {
        fprintf(stderr, "janus_queue_new_with failed\n");
        return 1;
    }
    s = janus_queue_fd(a.q, JANUS_READABLE, &fd);  /* the queue's: never close it */
    if (s != JANUS_OK) {
        fprintf(stderr, "janus_queue_fd: %s (%s)\n", janus_strerror(s), strerror(errno));
        janus_queue_free(a.q);
        return 1;
    }
    printf("libjanus %s, libuv %s: a uv_poll_t loop consumes %d C threads + 1 Swift task x "
           "%zu tokens (queue maxsize %d)\n", janus_version_string(), uv_version_string(),
           C_PRODUCERS, n, QUEUE_MAXSIZE);

    uv_loop_t loop;
    if ((r = uv_loop_init(&loop)) != 0 || (r = uv_poll_init(&loop, &a.poll, fd)) != 0) {
        fprintf(stderr, "uv init: %s\n", uv_strerror(r));
        janus_queue_free(a.q);
        return 1;
    }
    a.poll.data = &a;
    uv_timer_init(&loop, &a.timer);
    a.timer.data = &a;
    /* UV_READABLE: a readable janus descriptor means "a get would not wait". */
    if ((r = uv_poll_start(&a.poll, UV_READABLE, on_queue_readable)) != 0 ||
        (r = uv_timer_start(&a.timer, on_tick, TICK_MS, TICK_MS)) != 0) {
        fprintf(stderr, "uv start: %s\n", uv_strerror(r));
        janus_queue_free(a.q);
        return 1;
    }

    swift_producer sp = { n, 0, 0 };
    a.swift = janus_produce_async(a.q, swift_next, &sp);
    if (a.swift == NULL) {
        fprintf(stderr, "janus_produce_async failed\n");
        ok = 0;
    }
    c_producer cp[C_PRODUCERS];
    pthread_t threads[C_PRODUCERS];
    for (int i = 0; i < C_PRODUCERS; i++) {
        cp[i] = (c_producer){ a.q, (unsigned)i, n, 0, JANUS_OK };
        int err = pthread_create(&threads[i], NULL, c_produce, &cp[i]);
        if (err != 0) {
            fprintf(stderr, "pthread_create: %s\n", strerror(err));
            ok = 0;
            break;
        }
        a.c_started++;
    }

    uv_run(&loop, UV_RUN_DEFAULT);  /* returns once close_all() has closed both handles */

    for (int i = 0; i < a.c_started; i++) {
        pthread_join(threads[i], NULL);
        if (cp[i].status != JANUS_OK || cp[i].put != n)
            ok = 0;
    }
    if (a.swift != NULL) {
        janus_producer_free(a.swift);  /* ended already (or, after a failure, stopped now) */
        if (sp.made != n || sp.out_of_memory)
            ok = 0;
    }
    /* Every handle was closed, so the loop has nothing left to release. */
    r = uv_loop_close(&loop);

    size_t total = (size_t)PRODUCERS * n;
    int tokens_ok = !a.failed && a.bad == 0 && a.received == total;
    for (int p = 0; p < PRODUCERS; p++)
        if (a.next_seq[p] != n)
            tokens_ok = 0;
    unsigned long long ticks_flowing = a.ticks_at_last - a.ticks_at_first;
    size_t discarded = __atomic_load_n(&destroyed, __ATOMIC_RELAXED);
    int queue_ok = discarded == 0 && janus_queue_unfinished_tasks(a.q) == 0 &&
                   janus_queue_is_shutdown(a.q) && r == 0;
    if (!tokens_ok || ticks_flowing < 1 || !queue_ok)
        ok = 0;

    printf("loop: %zu of %zu tokens in %zu poll callbacks; each producer's exactly once, in "
           "order: %s\n", a.received, total, a.callbacks, tokens_ok ? "OK" : "FAILED");
    printf("loop: %llu timer ticks, %llu of them while tokens flowed: %s\n", a.ticks,
           ticks_flowing, ticks_flowing >= 1 ? "OK" : "FAILED (the loop was not responsive)");
    printf("queue: shut down by the timer, %zu unfinished, %zu discarded; uv_loop_close: %s\n",
           janus_queue_unfinished_tasks(a.q), discarded, r == 0 ? "OK" : uv_strerror(r));

    janus_queue_free(a.q);
    printf("demo_libuv: %s\n", ok ? "OK" : "FAILED");
    return ok ? 0 : 1;
}
