/*
 * demo_epoll.c - a janus queue as one more descriptor in an epoll loop.
 *
 * The third face of the queue: besides blocking threads and Swift tasks, an
 * event loop can consume from it.  janus_queue_fd(q, JANUS_READABLE) gives a
 * descriptor that is readable while a get would not wait; the loop waits for
 * it in epoll_wait next to its other descriptors (here a timerfd ticking
 * every 10 ms) and, when it fires, gets with JANUS_NO_WAIT until the queue
 * answers JANUS_EMPTY.  Nothing in the loop ever blocks in the queue.
 *
 * Feeding the queue (maxsize 64): 3 C producer threads (blocking puts) and
 * 2 Swift producer tasks (janus_produce_async, async puts), N tokens each.
 * A token is a heap block holding (producer id, sequence number).  The loop
 * is the only consumer, so it checks that each producer's tokens arrive
 * exactly once and in the order they were made.  When every producer is done
 * the main thread shuts the queue down normally; the loop drains what is left
 * and stops when a get answers JANUS_SHUTDOWN (the descriptor stays readable
 * after a shutdown, so that answer is sure to come).
 *
 * The loop also writes: a second, small queue (maxsize 4) is emptied slowly
 * by a thread, and the loop puts values 1..64 into it only when its
 * JANUS_WRITABLE descriptor says there is room, with JANUS_NO_WAIT puts until
 * the queue answers JANUS_FULL.
 *
 * The timer shows that the loop stays responsive while items flow: it must
 * count ticks between the first token and the last.
 *
 *   usage: demo_epoll [N]          N = tokens per producer (default 20000)
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "janus.h"

#define C_PRODUCERS      3
#define SWIFT_PRODUCERS  2
#define PRODUCERS        (C_PRODUCERS + SWIFT_PRODUCERS)  /* ids 0..2 C, 3..4 Swift */
#define DEFAULT_N        20000
#define MAX_N            10000000UL
#define QUEUE_MAXSIZE    64
#define TICK_MS          10
/* At most this many items per wakeup, then back to epoll_wait: the timer (and
 * any other descriptor) gets its turn even while producers keep the queue
 * full.  Stopping early is safe: level-triggered, the queue descriptor is
 * reported again at once, since no get has answered JANUS_EMPTY yet. */
#define BATCH            256
/* Each C producer pauses about FLOW_MS in all, in up to PAUSES pauses spread
 * evenly over its tokens, so that the flow lasts some timer ticks however
 * fast the machine is and however few tokens there are. */
#define FLOW_MS          50
#define PAUSES           50
#define SMALL_MAXSIZE    4
#define SMALL_ITEMS      64
/* A demo should fail, not hang: give up once nothing has moved for this long
 * (slow is fine, e.g. under valgrind; stuck is not). */
#define STALL_SECONDS    10
#define STALL_TICKS      (STALL_SECONDS * 1000 / TICK_MS)

/* What epoll_event.data carries: which descriptor fired. */
enum { TAG_QUEUE = 1, TAG_SMALL = 2, TAG_TIMER = 3 };

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

/* The main queue's destroy callback: frees tokens the queue throws away.  In
 * a good run there are none (a normal shutdown discards nothing); after a
 * failure the loop shuts the queue down immediately and this frees the rest,
 * so even a failing run leaks nothing.  Counted atomically: it runs on
 * whichever thread discards (or on a Swift thread for a stopped producer). */
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

typedef struct c_producer {
    janus_queue *q;
    unsigned id;
    size_t n;
    size_t put;             /* tokens the queue accepted */
    janus_status status;    /* JANUS_OK, or why it stopped early */
} c_producer;

static void *c_produce(void *arg)
{
    c_producer *p = arg;
    size_t pauses = p->n < PAUSES ? p->n : PAUSES;
    size_t pause_every = p->n / pauses;
    long pause_ms = FLOW_MS / (long)pauses;
    p->status = JANUS_OK;
    for (size_t seq = 0; seq < p->n; seq++) {
        if ((seq + 1) % pause_every == 0)
            sleep_ms(pause_ms);
        token *t = make_token(p->id, seq);
        if (t == NULL) {
            p->status = JANUS_ENOMEM;
            break;
        }
        janus_status s = janus_queue_put(p->q, t, JANUS_WAIT_FOREVER);
        if (s != JANUS_OK) {          /* shut down (after a failure): t is still ours */
            free(t);
            p->status = s;
            break;
        }
        p->put++;
    }
    return NULL;
}

/* State of one Swift producer.  swift_next() is called by that one task, one
 * call at a time; `made` is also read by main to watch progress, hence the
 * __atomic accesses (C99 has no <stdatomic.h>). */
typedef struct swift_producer {
    unsigned id;
    size_t n;
    size_t made;            /* tokens handed to the library */
    int out_of_memory;
} swift_producer;

/* Runs on a Swift concurrency thread: it must not block (malloc is fine). */
static janus_status swift_next(void **item_out, void *ctx)
{
    swift_producer *p = ctx;
    size_t seq = __atomic_load_n(&p->made, __ATOMIC_RELAXED);
    if (seq == p->n)
        return JANUS_EMPTY;           /* any status but JANUS_OK: no more */
    token *t = make_token(p->id, seq);
    if (t == NULL) {
        __atomic_store_n(&p->out_of_memory, 1, __ATOMIC_RELAXED);
        return JANUS_ENOMEM;
    }
    *item_out = t;                    /* the task puts it; if it cannot, destroy frees it */
    __atomic_store_n(&p->made, seq + 1, __ATOMIC_RELAXED);
    return JANUS_OK;
}

/* janus_producer_wait(p, JANUS_WAIT_FOREVER), except that it gives up with
 * JANUS_TIMEOUT if the producer makes nothing for STALL_SECONDS. */
static janus_status wait_swift_producer(janus_producer *p, const swift_producer *sp)
{
    size_t last = __atomic_load_n(&sp->made, __ATOMIC_RELAXED);
    int still = 0;
    for (;;) {
        janus_status s = janus_producer_wait(p, 1000);
        if (s != JANUS_TIMEOUT)
            return s;
        size_t now = __atomic_load_n(&sp->made, __ATOMIC_RELAXED);
        if (now != last) {
            last = now;
            still = 0;
        } else if (++still >= STALL_SECONDS) {
            return JANUS_TIMEOUT;
        }
    }
}

/* ---- the thread that empties the small queue, slowly ------------------- */

typedef struct drainer {
    janus_queue *small;
    size_t got;             /* values taken; they must be 1, 2, 3 ... */
    size_t out_of_order;
    janus_status status;    /* JANUS_OK, or the unexpected status that stopped it */
} drainer;

static void *drain_small(void *arg)
{
    drainer *d = arg;
    d->status = JANUS_OK;
    for (;;) {
        void *item;
        janus_status s = janus_queue_get(d->small, &item, JANUS_WAIT_FOREVER);
        if (s == JANUS_SHUTDOWN)
            break;                    /* the loop put everything and shut it down */
        if (s != JANUS_OK) {
            d->status = s;
            break;
        }
        if ((uintptr_t)item != d->got + 1)
            d->out_of_order++;
        d->got++;
        janus_queue_task_done(d->small);
        sleep_ms(1);                  /* slower than the loop: the small queue fills up */
    }
    return NULL;
}

/* ---- the event loop ---------------------------------------------------- */

typedef struct loop_state {
    janus_queue *q;                 /* read side: the tokens */
    janus_queue *small;             /* write side: values 1..SMALL_ITEMS */
    /* Only the loop thread writes these; main reads them after joining it. */
    size_t next_seq[PRODUCERS];     /* the sequence number expected next */
    size_t received;
    size_t bad;                     /* unknown producer, lost, repeated or out of order */
    size_t wakeups;                 /* times the queue descriptor fired */
    size_t cut_short;               /* ... and the loop left after BATCH items */
    size_t found_nothing;           /* ... and the first get already answered EMPTY */
    unsigned long long ticks;
    unsigned long long ticks_at_first, ticks_at_last;  /* when the first / last token came */
    size_t small_put;
    size_t small_wakeups;           /* times the writable descriptor fired */
    size_t small_fulls;             /* JANUS_FULL answers: the loop had to wait for room */
    int failed;
} loop_state;

static void check_token(loop_state *ls, const token *t)
{
    if (ls->received == 0)
        ls->ticks_at_first = ls->ticks;
    ls->received++;
    ls->ticks_at_last = ls->ticks;
    /* One consumer: each producer's tokens must come exactly in the order
     * 0, 1, 2 ...  Anything else is a lost, repeated or reordered token. */
    if (t->producer >= PRODUCERS || t->seq != ls->next_seq[t->producer]) {
        if (ls->bad++ == 0)
            fprintf(stderr, "loop: token (%u, %zu) unexpected\n", t->producer, t->seq);
        return;
    }
    ls->next_seq[t->producer]++;
}

/* The queue descriptor fired: take tokens with JANUS_NO_WAIT until the queue
 * answers JANUS_EMPTY (that answer makes the descriptor quiet until the next
 * put) or BATCH were taken.  Returns 1 once a get answered JANUS_SHUTDOWN
 * (shut down and drained), -1 on an error, 0 otherwise. */
static int drain_queue(loop_state *ls)
{
    ls->wakeups++;
    for (int taken = 0; taken < BATCH; taken++) {
        void *item;
        janus_status s = janus_queue_get(ls->q, &item, JANUS_NO_WAIT);
        if (s == JANUS_EMPTY) {
            if (taken == 0)
                ls->found_nothing++;
            return 0;
        }
        if (s == JANUS_SHUTDOWN)
            return 1;
        if (s != JANUS_OK) {
            fprintf(stderr, "loop: janus_queue_get: %s\n", janus_strerror(s));
            return -1;
        }
        check_token(ls, item);
        free(item);                   /* the get made it ours */
        s = janus_queue_task_done(ls->q);
        if (s != JANUS_OK) {
            fprintf(stderr, "loop: janus_queue_task_done: %s\n", janus_strerror(s));
            return -1;
        }
    }
    ls->cut_short++;
    return 0;
}

/* The small queue's writable descriptor fired: put the next values with
 * JANUS_NO_WAIT until the queue answers JANUS_FULL (the descriptor is quiet
 * from then on until the drainer makes room; the value stays ours and is put
 * on a later wakeup) or all are in.  Returns 1 when all are in, -1 on an
 * error, 0 otherwise. */
static int fill_small(loop_state *ls)
{
    ls->small_wakeups++;
    while (ls->small_put < SMALL_ITEMS) {
        void *value = (void *)(uintptr_t)(ls->small_put + 1);
        janus_status s = janus_queue_put(ls->small, value, JANUS_NO_WAIT);
        if (s == JANUS_FULL) {
            ls->small_fulls++;
            return 0;
        }
        if (s != JANUS_OK) {
            fprintf(stderr, "loop: janus_queue_put: %s\n", janus_strerror(s));
            return -1;
        }
        ls->small_put++;
    }
    return 1;
}

static int watch(int ep, int fd, uint32_t tag)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;              /* both janus descriptors: EPOLLIN, level-triggered */
    ev.data.u32 = tag;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        perror("epoll_ctl(EPOLL_CTL_ADD)");
        return -1;
    }
    return 0;
}

static void unwatch(int ep, int fd)
{
    /* The third argument must be non-NULL on kernels before 2.6.9. */
    struct epoll_event unused;
    memset(&unused, 0, sizeof unused);
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, &unused);
}

static void *run_loop(void *arg)
{
    loop_state *ls = arg;
    int ep = -1, timer = -1, qfd = -1, sfd = -1;
    janus_status s;

    /* The descriptors are the queues': never read, write or close them. */
    if ((s = janus_queue_fd(ls->q, JANUS_READABLE, &qfd)) != JANUS_OK ||
        (s = janus_queue_fd(ls->small, JANUS_WRITABLE, &sfd)) != JANUS_OK) {
        fprintf(stderr, "loop: janus_queue_fd: %s (%s)\n", janus_strerror(s), strerror(errno));
        goto fail;
    }
    timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (timer < 0) {
        perror("timerfd_create");
        goto fail;
    }
    struct itimerspec every = { { 0, TICK_MS * 1000000L }, { 0, TICK_MS * 1000000L } };
    if (timerfd_settime(timer, 0, &every, NULL) != 0) {
        perror("timerfd_settime");
        goto fail;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        perror("epoll_create1");
        goto fail;
    }
    if (watch(ep, qfd, TAG_QUEUE) != 0 || watch(ep, sfd, TAG_SMALL) != 0 ||
        watch(ep, timer, TAG_TIMER) != 0)
        goto fail;

    int queue_open = 1, small_open = 1;
    unsigned long long idle_ticks = 0;  /* ticks since anything moved */
    while (queue_open || small_open) {
        struct epoll_event ev[3];
        int ready = epoll_wait(ep, ev, 3, -1);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            perror("epoll_wait");
            goto fail;
        }
        for (int i = 0; i < ready; i++) {
            int r;
            size_t before;
            switch (ev[i].data.u32) {
            case TAG_TIMER: {
                uint64_t expirations;
                if (read(timer, &expirations, sizeof expirations) == (ssize_t)sizeof expirations) {
                    ls->ticks += expirations;
                    idle_ticks += expirations;
                }
                if (idle_ticks > STALL_TICKS) {
                    fprintf(stderr, "loop: nothing moved for %d s\n", STALL_SECONDS);
                    goto fail;
                }
                break;
            }
            case TAG_QUEUE:
                before = ls->received;
                r = drain_queue(ls);
                if (ls->received != before)
                    idle_ticks = 0;
                if (r < 0)
                    goto fail;
                if (r == 1) {
                    /* Shut down and drained.  The descriptor stays readable
                     * for good now: stop watching it, or a level-triggered
                     * epoll_wait would report it on every turn. */
                    unwatch(ep, qfd);
                    queue_open = 0;
                }
                break;
            case TAG_SMALL:
                before = ls->small_put;
                r = fill_small(ls);
                if (ls->small_put != before)
                    idle_ticks = 0;
                if (r < 0)
                    goto fail;
                if (r == 1) {
                    /* All in.  An open queue with room stays writable: stop
                     * watching it, then let the drainer finish and stop. */
                    unwatch(ep, sfd);
                    janus_queue_shutdown(ls->small, false);
                    small_open = 0;
                }
                break;
            }
        }
    }
    /* The epoll set dies before the queues, so their descriptors need no
     * EPOLL_CTL_DEL first (janus.h: take them out of a set that outlives q). */
    close(ep);
    close(timer);
    return NULL;

fail:
    ls->failed = 1;
    /* Nobody will consume any more: stop everyone, so that the producers'
     * puts and the drainer's get return and main can report the failure.
     * The tokens left in the queue go to destroy_token. */
    janus_queue_shutdown(ls->q, true);
    janus_queue_shutdown(ls->small, true);
    if (ep >= 0)
        close(ep);
    if (timer >= 0)
        close(timer);
    return NULL;
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

    int ok = 1;
    janus_status s;
    janus_options opts = { .kind = JANUS_FIFO, .maxsize = QUEUE_MAXSIZE, .destroy = destroy_token };
    janus_queue *q = janus_queue_new_with(&opts);
    janus_queue *small = janus_queue_new(JANUS_FIFO, SMALL_MAXSIZE);  /* holds plain integers */
    if (q == NULL || small == NULL) {
        fprintf(stderr, "janus_queue_new failed\n");
        janus_queue_free(q);
        janus_queue_free(small);
        return 1;
    }
    printf("libjanus %s: an epoll loop consumes %d C threads + %d Swift tasks x %zu tokens "
           "(queue maxsize %d) and feeds a queue of maxsize %d\n", janus_version_string(),
           C_PRODUCERS, SWIFT_PRODUCERS, n, QUEUE_MAXSIZE, SMALL_MAXSIZE);

    loop_state ls;
    memset(&ls, 0, sizeof ls);
    ls.q = q;
    ls.small = small;
    drainer dr = { small, 0, 0, JANUS_OK };
    pthread_t loop_thread, drain_thread;
    int err = pthread_create(&loop_thread, NULL, run_loop, &ls);
    if (err != 0) {
        fprintf(stderr, "pthread_create: %s\n", strerror(err));
        janus_queue_free(q);
        janus_queue_free(small);
        return 1;
    }
    err = pthread_create(&drain_thread, NULL, drain_small, &dr);
    int drain_started = err == 0;
    if (!drain_started) {
        /* Without the drainer the loop would wait for room forever. */
        fprintf(stderr, "pthread_create: %s\n", strerror(err));
        ok = 0;
        janus_queue_shutdown(small, true);
    }

    swift_producer sp[SWIFT_PRODUCERS];
    janus_producer *swift[SWIFT_PRODUCERS] = { NULL };
    for (int i = 0; i < SWIFT_PRODUCERS; i++) {
        sp[i] = (swift_producer){ (unsigned)(C_PRODUCERS + i), n, 0, 0 };
        swift[i] = janus_produce_async(q, swift_next, &sp[i]);
        if (swift[i] == NULL) {
            fprintf(stderr, "janus_produce_async failed\n");
            ok = 0;
        }
    }
    c_producer cp[C_PRODUCERS];
    pthread_t c_threads[C_PRODUCERS];
    int c_started = 0;
    for (int i = 0; i < C_PRODUCERS; i++) {
        cp[i] = (c_producer){ q, (unsigned)i, n, 0, JANUS_OK };
        err = pthread_create(&c_threads[i], NULL, c_produce, &cp[i]);
        if (err != 0) {
            fprintf(stderr, "pthread_create: %s\n", strerror(err));
            ok = 0;
            break;
        }
        c_started++;
    }

    /* Every producer is done ... */
    for (int i = 0; i < c_started; i++) {
        pthread_join(c_threads[i], NULL);
        if (cp[i].status != JANUS_OK || cp[i].put != n) {
            fprintf(stderr, "C producer %d: put %zu of %zu (%s)\n", i, cp[i].put, n,
                    janus_strerror(cp[i].status));
            ok = 0;
        }
    }
    for (int i = 0; i < SWIFT_PRODUCERS; i++) {
        if (swift[i] == NULL)
            continue;
        s = wait_swift_producer(swift[i], &sp[i]);
        if (s != JANUS_OK) {
            fprintf(stderr, "janus_producer_wait: %s\n", janus_strerror(s));
            ok = 0;
            janus_queue_shutdown(q, true);   /* stuck: make freeing it end */
        }
        janus_producer_free(swift[i]);
        size_t made = __atomic_load_n(&sp[i].made, __ATOMIC_RELAXED);
        if (made != n || sp[i].out_of_memory) {
            fprintf(stderr, "Swift producer %d: made %zu of %zu\n", i, made, n);
            ok = 0;
        }
    }
    /* ... so no more tokens come: a normal shutdown keeps the ones still
     * queued for the loop, whose get answers JANUS_SHUTDOWN once they are
     * all taken.  (A second shutdown after a failure changes nothing.) */
    s = janus_queue_shutdown(q, false);
    if (s != JANUS_OK) {
        fprintf(stderr, "janus_queue_shutdown: %s\n", janus_strerror(s));
        ok = 0;
    }
    pthread_join(loop_thread, NULL);
    if (drain_started)
        pthread_join(drain_thread, NULL);

    /* The checks. */
    size_t total = (size_t)PRODUCERS * n;
    int tokens_ok = !ls.failed && ls.bad == 0 && ls.received == total;
    for (int p = 0; p < PRODUCERS; p++)
        if (ls.next_seq[p] != n)
            tokens_ok = 0;
    unsigned long long ticks_flowing = ls.ticks_at_last - ls.ticks_at_first;
    int ticks_ok = ticks_flowing >= 1;
    int small_ok = !ls.failed && ls.small_put == SMALL_ITEMS && ls.small_fulls >= 1 &&
                   dr.status == JANUS_OK && dr.got == SMALL_ITEMS && dr.out_of_order == 0;
    size_t discarded = __atomic_load_n(&destroyed, __ATOMIC_RELAXED);
    int queue_ok = discarded == 0 && janus_queue_qsize(q) == 0 &&
                   janus_queue_unfinished_tasks(q) == 0 && janus_queue_is_shutdown(q);
    if (!tokens_ok || !ticks_ok || !small_ok || !queue_ok)
        ok = 0;

    printf("loop: %zu of %zu tokens in %zu wakeups (%zu left after %d, %zu found nothing); "
           "each producer's exactly once, in order: %s\n", ls.received, total, ls.wakeups,
           ls.cut_short, BATCH, ls.found_nothing, tokens_ok ? "OK" : "FAILED");
    printf("loop: %llu timer ticks, %llu of them while tokens flowed: %s\n", ls.ticks,
           ticks_flowing, ticks_ok ? "OK" : "FAILED (the loop was not responsive)");
    printf("loop: put %zu values when writable (%zu wakeups, %zu FULL answers); the thread got "
           "%zu, in order: %s\n", ls.small_put, ls.small_wakeups, ls.small_fulls, dr.got,
           small_ok ? "OK" : "FAILED");
    printf("queue: shut down, %zu left, %zu unfinished, %zu discarded: %s\n",
           janus_queue_qsize(q), janus_queue_unfinished_tasks(q), discarded,
           queue_ok ? "OK" : "FAILED");

    janus_queue_free(q);
    janus_queue_free(small);
    printf("demo_epoll: %s\n", ok ? "OK" : "FAILED");
    return ok ? 0 : 1;
}
