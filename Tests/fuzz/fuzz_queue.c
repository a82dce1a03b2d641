/*
 * fuzz_queue.c - a libFuzzer target for the non-waiting C API of libjanus.so.
 *
 * Each input is a little program: a byte stream decoded into a sequence of
 * janus_* calls on up to NSLOTS queues, single-threaded.  Every call is also
 * applied to a reference model of SPEC.md §2-3 (a plain array per queue:
 * FIFO / LIFO / stable priority, maxsize, unfinished count, shutdown flag) and
 * every answer of the library (status, item, counts, snapshots) is compared
 * with the model's.  Any difference aborts with a message, so libFuzzer saves
 * the input as a crash.
 *
 * Calls never wait: they use JANUS_NO_WAIT, or a real timeout
 * (JANUS_WAIT_FOREVER, INT64_MAX ...) only where the model says the call must
 * answer at once (a get from a non-empty queue, a join at 0 ...).  A library
 * that waits there hangs, which libFuzzer reports with -timeout.
 *
 * Items are malloc'd tokens carrying an id (plus NULL, a valid item).  A
 * registry tracks where each token is (with the harness, in a queue, handed
 * out, destroyed); the destroy callback checks that it runs only for tokens
 * the queue owns, only inside a call that discards, exactly once each, and
 * frees the token (so a second destroy or a later use is an ASan error).  At
 * the end of each input every queue is freed and every token must have been
 * got (and freed by the harness), refused (freed by the harness), or
 * discarded (destroyed exactly once, or - on a queue without destroy -
 * forgotten by the queue and freed by the harness).
 *
 * The extras are driven the same way: peek (the model's next item, left in
 * place), clear (every item discarded, as by an immediate shutdown but without
 * shutting down), set_maxsize (any value of the maxsize table, huge ones too),
 * getters / putters (always 0: nobody waits in a single-threaded program).
 * The readiness descriptors (janus_queue_fd) are modelled by janus.h's rule:
 * made readable iff a get would not wait (item there or shut down), resp. a
 * put would not wait (room or shut down); from then on the readable one turns
 * quiet only when a get / get_many with JANUS_NO_WAIT answers JANUS_EMPTY and
 * readable again once an item is there or the queue is shut down; the writable
 * one the same with a put / put_many answering JANUS_FULL and room.  After
 * every step each descriptor's poll() readiness (timeout 0) must match the
 * model, and janus_queue_free must close them.
 *
 * Build and run: see Makefile (make build / make run SECONDS=30).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "janus.h"

/* See the Makefile: janus_queue_maxsize() answers INT64_MAX for a maxsize
 * above INT64_MAX instead of "the limit q was made with".  Defined to 1 it
 * accepts that answer (only that one); 0 is the strict contract. */
#ifndef FUZZ_TOLERATE_CLAMPED_MAXSIZE
#define FUZZ_TOLERATE_CLAMPED_MAXSIZE 0
#endif
/* janus.h: put_many answering JANUS_EINVAL leaves *put_count_out unwritten
 * ("nothing changed"). */
static bool einval_count_ok(size_t n, size_t before)
{
    return n == before;
}

/* ------------------------------------------------------------------------ */
/* Failing                                                                  */
/* ------------------------------------------------------------------------ */

static const char *g_op = "(none)";   /* the call being checked, for messages */
static unsigned g_step;                /* its index in the input */

static void fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

static void fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "\nFUZZ MODEL MISMATCH at %s:%d, step %u, op %s: ", file, line, g_step, g_op);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    fflush(stderr);
    abort();
}

#define FAIL(...) fail(__FILE__, __LINE__, __VA_ARGS__)
#define EXPECT(cond, ...) do { if (!(cond)) FAIL(__VA_ARGS__); } while (0)
#define EXPECT_STATUS(got, want) \
    EXPECT((got) == (want), "status %d (%s), expected %d (%s)", (int)(got), \
           janus_strerror(got), (int)(want), janus_strerror(want))

/* ------------------------------------------------------------------------ */
/* Tokens and their registry                                                */
/* ------------------------------------------------------------------------ */

#define TOKEN_MAGIC 0x4a414e55u /* "JANU" */

typedef struct token {
    uint32_t magic;
    uint32_t id;
    int key;   /* priority key for the compare callback, 0..3 */
    int slot;  /* the queue it was put in */
} token;

typedef enum tstate {
    T_HARNESS = 1,  /* made, not yet put */
    T_PUTTING,      /* inside a put call (compare may see it) */
    T_QUEUED,       /* owned by the queue */
    T_GOT,          /* handed out by a get, checked and freed by the harness */
    T_REFUSED,      /* a put did not take it; freed by the harness */
    T_DESTROYED,    /* discarded; destroy ran once and freed it */
    T_FORGOTTEN     /* discarded by a queue without destroy; freed by the harness */
} tstate;

static unsigned char *g_reg;   /* tstate by token id */
static size_t g_reg_cap;
static uint32_t g_next_id;     /* ids start at 1 */

static token *token_new(int key, int slot)
{
    if (g_next_id + 1 >= g_reg_cap) {
        size_t cap = g_reg_cap ? g_reg_cap * 2 : 256;
        unsigned char *r = realloc(g_reg, cap);
        if (!r) abort();
        memset(r + g_reg_cap, 0, cap - g_reg_cap);
        g_reg = r;
        g_reg_cap = cap;
    }
    token *t = malloc(sizeof *t);
    if (!t) abort();
    t->magic = TOKEN_MAGIC;
    t->id = ++g_next_id;
    t->key = key;
    t->slot = slot;
    g_reg[t->id] = T_HARNESS;
    return t;
}

static void token_check(const token *t)
{
    EXPECT(t->magic == TOKEN_MAGIC, "item %p is not a live token (magic %08x)", (const void *)t,
           t->magic);
    EXPECT(t->id >= 1 && t->id <= g_next_id, "token %p has a bad id %u", (const void *)t, t->id);
}

static void token_release(token *t, tstate final)
{
    g_reg[t->id] = (unsigned char)final;
    t->magic = 0xdeadbeefu;
    free(t);
}

/* ------------------------------------------------------------------------ */
/* The reference model                                                      */
/* ------------------------------------------------------------------------ */

typedef struct mitem {
    token *tok;      /* NULL: the NULL item */
    intptr_t key;    /* the priority key the library compares with */
} mitem;

#define NSLOTS 3

typedef struct slot {
    janus_queue *q;          /* NULL: no queue in this slot */
    int index;
    janus_kind kind;
    size_t maxsize;
    bool has_destroy;
    bool has_compare;
    /* model state */
    mitem *items;            /* in insertion order */
    size_t len, cap;
    size_t unfinished;
    bool shutdown;
    /* readiness descriptors: -1 until asked for; whether each is quiet (not readable) */
    int rfd, wfd;
    bool r_quiet, w_quiet;
    /* callback bookkeeping */
    bool discard_allowed;    /* inside a call that may discard */
    size_t destroyed_tokens; /* destroy calls seen in this call */
    size_t destroyed_nulls;
} slot;

static slot g_slots[NSLOTS];

#define NULL_ITEM_KEY 2  /* what the compare callback ranks NULL as */

static void model_push(slot *s, token *t)
{
    if (s->len == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->items = realloc(s->items, s->cap * sizeof *s->items);
        if (!s->items) abort();
    }
    mitem m;
    m.tok = t;
    if (s->kind == JANUS_PRIORITY && !s->has_compare)
        m.key = (intptr_t)(void *)t;   /* janus.h: NULL compare = (intptr_t)item */
    else
        m.key = t ? t->key : NULL_ITEM_KEY;
    s->items[s->len++] = m;
    s->unfinished++;
}

/* Index of the item a get takes next. */
static size_t model_next_index(const slot *s)
{
    switch (s->kind) {
    case JANUS_FIFO:
        return 0;
    case JANUS_LIFO:
        return s->len - 1;
    case JANUS_PRIORITY: {
        size_t best = 0;   /* lowest key; the first inserted among equals (stable) */
        for (size_t i = 1; i < s->len; i++)
            if (s->items[i].key < s->items[best].key) best = i;
        return best;
    }
    }
    abort();
}

static token *model_pop(slot *s)
{
    size_t i = model_next_index(s);
    token *t = s->items[i].tok;
    memmove(&s->items[i], &s->items[i + 1], (s->len - i - 1) * sizeof *s->items);
    s->len--;
    return t;
}

static bool model_full(const slot *s) { return s->maxsize > 0 && s->len >= s->maxsize; }

/* janus.h's descriptor rule, after a step: an item (or shutdown) makes the readable
 * descriptor readable again, room (or shutdown) the writable one. */
static void model_settle_fds(slot *s)
{
    if (s->rfd >= 0 && s->r_quiet && (s->len > 0 || s->shutdown)) s->r_quiet = false;
    if (s->wfd >= 0 && s->w_quiet && (!model_full(s) || s->shutdown)) s->w_quiet = false;
}

/* A get / get_many with JANUS_NO_WAIT answered JANUS_EMPTY: the readable one goes quiet. */
static void model_quiet_readable(slot *s)
{
    if (s->rfd >= 0) s->r_quiet = true;
}

/* A put / put_many with JANUS_NO_WAIT answered JANUS_FULL: the writable one goes quiet. */
static void model_quiet_writable(slot *s)
{
    if (s->wfd >= 0) s->w_quiet = true;
}

static bool fd_ready(int fd)
{
    struct pollfd p;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    int rc;
    do {
        rc = poll(&p, 1, 0);
    } while (rc < 0 && errno == EINTR);
    EXPECT(rc >= 0, "poll(%d) failed: errno %d", fd, errno);
    EXPECT(!(p.revents & (POLLERR | POLLNVAL)), "poll(%d): revents %#x", fd, (unsigned)p.revents);
    return rc > 0 && (p.revents & POLLIN);
}

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                */
/* ------------------------------------------------------------------------ */

static void destroy_cb(void *item, void *ctx)
{
    slot *s = ctx;
    EXPECT(s >= g_slots && s < g_slots + NSLOTS, "destroy got a bad ctx %p", ctx);
    EXPECT(s->has_destroy, "destroy called for a queue made without it");
    EXPECT(s->discard_allowed, "destroy(%p) called outside a discarding call", item);
    if (!item) {
        s->destroyed_nulls++;
        return;
    }
    token *t = item;
    token_check(t);   /* a token destroyed twice was freed: ASan stops here */
    EXPECT(t->slot == s->index, "destroy of queue %d got token %u of queue %d", s->index, t->id,
           t->slot);
    EXPECT(g_reg[t->id] == T_QUEUED, "destroy of token %u in state %d (not owned by the queue)",
           t->id, g_reg[t->id]);
    s->destroyed_tokens++;
    token_release(t, T_DESTROYED);
}

static int compare_cb(const void *a, const void *b, void *ctx)
{
    const slot *s = ctx;
    EXPECT(s >= g_slots && s < g_slots + NSLOTS, "compare got a bad ctx %p", ctx);
    EXPECT(s->has_compare && s->kind == JANUS_PRIORITY, "compare called on queue %d", s->index);
    int ka = NULL_ITEM_KEY, kb = NULL_ITEM_KEY;
    if (a) {
        const token *t = a;
        token_check(t);
        EXPECT(g_reg[t->id] == T_QUEUED || g_reg[t->id] == T_PUTTING,
               "compare saw token %u in state %d", t->id, g_reg[t->id]);
        ka = t->key;
    }
    if (b) {
        const token *t = b;
        token_check(t);
        EXPECT(g_reg[t->id] == T_QUEUED || g_reg[t->id] == T_PUTTING,
               "compare saw token %u in state %d", t->id, g_reg[t->id]);
        kb = t->key;
    }
    return ka - kb;
}

/* ------------------------------------------------------------------------ */
/* Input decoding                                                           */
/* ------------------------------------------------------------------------ */

typedef struct reader {
    const uint8_t *p;
    size_t n, i;
} reader;

static uint8_t rd(reader *r) { return r->i < r->n ? r->p[r->i++] : 0; }

static const size_t k_maxsizes[] = {
    0, 1, 2, 3, 4, 5, 8, 0, 1, 2, 16, (size_t)1 << 40, SIZE_MAX, (size_t)INT64_MAX + 1,
    (size_t)INT64_MAX, 0,
};

/* Timeouts that wait, used only where the model says the call answers at once. */
static const int64_t k_wait_timeouts[] = {JANUS_WAIT_FOREVER, 1, 50, 1000, INT64_MAX, INT64_MAX - 1,
                                          (int64_t)1 << 40, 86400000};
/* Invalid timeouts: negative and not JANUS_WAIT_FOREVER. */
static const int64_t k_bad_timeouts[] = {-2, -3, -1000, INT64_MIN, INT64_MIN + 1, -1000000007};

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

static int64_t wait_timeout(reader *r) { return k_wait_timeouts[rd(r) % NELEMS(k_wait_timeouts)]; }
static int64_t bad_timeout_of(uint8_t b) { return k_bad_timeouts[b % NELEMS(k_bad_timeouts)]; }

/* A new item for slot s: a token with key 0..3, or (1 in 8) NULL. */
static token *item_new(reader *r, slot *s)
{
    uint8_t b = rd(r);
    if ((b & 0x70) == 0x70) return NULL;
    return token_new(b & 3, s->index);
}

/* ------------------------------------------------------------------------ */
/* Checks shared by the operations                                          */
/* ------------------------------------------------------------------------ */

static void check_snapshots(slot *s)
{
    janus_queue *q = s->q;
    size_t qs = janus_queue_qsize(q);
    EXPECT(qs == s->len, "qsize %zu, model %zu", qs, s->len);
    EXPECT(janus_queue_empty(q) == (s->len == 0), "empty %d, model len %zu", janus_queue_empty(q),
           s->len);
    EXPECT(janus_queue_full(q) == model_full(s), "full %d, model len %zu maxsize %zu",
           janus_queue_full(q), s->len, s->maxsize);
    size_t ms = janus_queue_maxsize(q);
#if FUZZ_TOLERATE_CLAMPED_MAXSIZE
    if (!(s->maxsize > (size_t)INT64_MAX && ms == (size_t)INT64_MAX))
#endif
        EXPECT(ms == s->maxsize, "maxsize %zu, made with / set to %zu", ms, s->maxsize);
    size_t uf = janus_queue_unfinished_tasks(q);
    EXPECT(uf == s->unfinished, "unfinished_tasks %zu, model %zu", uf, s->unfinished);
    EXPECT(janus_queue_is_shutdown(q) == s->shutdown, "is_shutdown %d, model %d",
           janus_queue_is_shutdown(q), s->shutdown);
    /* Single-threaded: nobody ever waits. */
    EXPECT(janus_queue_getters(q) == 0, "getters %zu, nobody waits", janus_queue_getters(q));
    EXPECT(janus_queue_putters(q) == 0, "putters %zu, nobody waits", janus_queue_putters(q));
    model_settle_fds(s);
    if (s->rfd >= 0) {
        bool ready = fd_ready(s->rfd);
        EXPECT(ready == !s->r_quiet, "readable descriptor %s, model %s (len %zu, shut down %d)",
               ready ? "readable" : "quiet", s->r_quiet ? "quiet" : "readable", s->len, s->shutdown);
    }
    if (s->wfd >= 0) {
        bool ready = fd_ready(s->wfd);
        EXPECT(ready == !s->w_quiet,
               "writable descriptor %s, model %s (len %zu, maxsize %zu, shut down %d)",
               ready ? "readable" : "quiet", s->w_quiet ? "quiet" : "readable", s->len, s->maxsize,
               s->shutdown);
    }
}

/* A token the library handed out must be the model's next item. */
static void check_got(slot *s, void *got)
{
    EXPECT(s->len > 0, "got %p from a queue the model says is empty", got);
    size_t i = model_next_index(s);
    token *want = s->items[i].tok;
    if (got != (void *)want) {
        FAIL("got item %p (id %u), expected %p (id %u) [kind %d, %zu queued]", got,
             got ? ((token *)got)->id : 0, (void *)want, want ? want->id : 0, (int)s->kind, s->len);
    }
    model_pop(s);
    if (want) {
        token_check(want);
        EXPECT(g_reg[want->id] == T_QUEUED, "got token %u in state %d", want->id, g_reg[want->id]);
        token_release(want, T_GOT);
    }
}

/* Before a call that may discard: open the window in which destroy may run. */
static void discard_begin(slot *s)
{
    s->discard_allowed = true;
    s->destroyed_tokens = 0;
    s->destroyed_nulls = 0;
}

/* After it: the model's items were discarded; check destroy ran once for each. */
static void discard_end_all(slot *s)
{
    s->discard_allowed = false;
    size_t toks = 0, nulls = 0;
    for (size_t i = 0; i < s->len; i++) {
        token *t = s->items[i].tok;
        if (!t) {
            nulls++;
            continue;
        }
        toks++;
        if (s->has_destroy) {
            /* destroy freed it: look only at the registry */
            continue;
        }
        token_check(t);
        EXPECT(g_reg[t->id] == T_QUEUED, "discarded token %u in state %d", t->id, g_reg[t->id]);
        token_release(t, T_FORGOTTEN);
    }
    if (s->has_destroy) {
        EXPECT(s->destroyed_tokens == toks && s->destroyed_nulls == nulls,
               "discard destroyed %zu tokens + %zu NULLs, model had %zu + %zu", s->destroyed_tokens,
               s->destroyed_nulls, toks, nulls);
    }
    s->unfinished = s->unfinished > s->len ? s->unfinished - s->len : 0;
    s->len = 0;
}

/* A call that must not discard: nothing may have been destroyed. */
static void discard_none(slot *s)
{
    s->discard_allowed = false;
}

/* ------------------------------------------------------------------------ */
/* Queue life cycle                                                         */
/* ------------------------------------------------------------------------ */

/* The ids of the model's tokens, to look them up in the registry after a
 * discard (destroy has freed the tokens by then).  NULL when there are none. */
static uint32_t *model_ids(const slot *s, size_t *count)
{
    *count = 0;
    if (!s->len) return NULL;
    uint32_t *ids = malloc(s->len * sizeof *ids);
    if (!ids) abort();
    for (size_t i = 0; i < s->len; i++)
        if (s->items[i].tok) ids[(*count)++] = s->items[i].tok->id;
    return ids;
}

static void check_destroyed(const slot *s, const uint32_t *ids, size_t count, const char *by)
{
    if (!s->has_destroy) return;
    for (size_t i = 0; i < count; i++)
        EXPECT(g_reg[ids[i]] == T_DESTROYED, "token %u not destroyed by %s", ids[i], by);
}

static void slot_free(slot *s)
{
    if (!s->q) return;
    g_op = "janus_queue_free";
    size_t nids;
    uint32_t *ids = model_ids(s, &nids);
    discard_begin(s);
    janus_queue_free(s->q);
    discard_end_all(s);
    check_destroyed(s, ids, nids, "free");
    free(ids);
    /* Nobody else is inside the queue: its descriptors are closed now. */
    if (s->rfd >= 0) {
        errno = 0;
        EXPECT(fcntl(s->rfd, F_GETFD) == -1 && errno == EBADF,
               "readable descriptor %d still open after janus_queue_free", s->rfd);
    }
    if (s->wfd >= 0) {
        errno = 0;
        EXPECT(fcntl(s->wfd, F_GETFD) == -1 && errno == EBADF,
               "writable descriptor %d still open after janus_queue_free", s->wfd);
    }
    s->rfd = s->wfd = -1;
    s->r_quiet = s->w_quiet = false;
    s->q = NULL;
    s->unfinished = 0;
    s->shutdown = false;
}

static void slot_new(slot *s, reader *r)
{
    slot_free(s);
    uint8_t a = rd(r), b = rd(r);
    int mode = a >> 6;  /* 0: janus_queue_new; else janus_queue_new_with */
    janus_kind kind = (janus_kind)(a % 3);
    size_t maxsize = k_maxsizes[b % NELEMS(k_maxsizes)];
    bool has_destroy = mode != 0 && (a & 0x08);
    bool has_compare = mode != 0 && (a & 0x10) && kind == JANUS_PRIORITY;

    /* Bad kinds are refused, whatever the rest. */
    if ((a & 0x24) == 0x24) {
        g_op = "janus_queue_new(bad kind)";
        static const int bad_kinds[] = {3, 4, -1, 1000, 0x7fffffff};
        int bk = bad_kinds[b % NELEMS(bad_kinds)];
        janus_queue *bad = janus_queue_new((janus_kind)bk, maxsize);
        EXPECT(bad == NULL, "janus_queue_new(kind %d) gave a queue", bk);
        janus_options o;
        memset(&o, 0, sizeof o);
        o.kind = (janus_kind)bk;
        o.destroy = destroy_cb;
        o.compare = compare_cb;
        o.ctx = s;
        bad = janus_queue_new_with(&o);
        EXPECT(bad == NULL, "janus_queue_new_with(kind %d) gave a queue", bk);
        EXPECT(janus_queue_new_with(NULL) == NULL, "janus_queue_new_with(NULL) gave a queue");
    }

    janus_queue *q;
    if (mode == 0) {
        g_op = "janus_queue_new";
        q = janus_queue_new(kind, maxsize);
    } else {
        g_op = "janus_queue_new_with";
        janus_options o;
        memset(&o, 0xa5, sizeof o);  /* the options are copied: scribble on them after */
        o.kind = kind;
        o.maxsize = maxsize;
        o.destroy = has_destroy ? destroy_cb : NULL;
        /* compare is ignored for FIFO/LIFO: pass one anyway sometimes */
        o.compare = (has_compare || (kind != JANUS_PRIORITY && (a & 0x10))) ? compare_cb : NULL;
        o.ctx = s;
        q = janus_queue_new_with(&o);
        memset(&o, 0x5a, sizeof o);
    }
    EXPECT(q != NULL, "queue_new(kind %d, maxsize %zu) gave NULL", (int)kind, maxsize);
    s->q = q;
    s->kind = kind;
    s->maxsize = maxsize;
    s->has_destroy = has_destroy;
    s->has_compare = has_compare;
    s->len = 0;
    s->unfinished = 0;
    s->shutdown = false;
    s->rfd = s->wfd = -1;
    s->r_quiet = s->w_quiet = false;
    /* A compare passed to a FIFO/LIFO queue must never be called; compare_cb
     * checks has_compare && PRIORITY. */
}

/* ------------------------------------------------------------------------ */
/* Operations                                                               */
/* ------------------------------------------------------------------------ */

static void op_put(slot *s, reader *r, bool timed)
{
    g_op = timed ? "put(timeout)" : "put(NO_WAIT)";
    token *t = item_new(r, s);
    int64_t timeout = JANUS_NO_WAIT;
    bool would_wait = !s->shutdown && model_full(s);
    if (timed) {
        int64_t w = wait_timeout(r);
        if (!would_wait) timeout = w;
    }
    janus_status want = s->shutdown ? JANUS_SHUTDOWN : model_full(s) ? JANUS_FULL : JANUS_OK;
    if (t) g_reg[t->id] = T_PUTTING;
    discard_none(s);
    janus_status st = janus_queue_put(s->q, t, timeout);
    EXPECT_STATUS(st, want);
    if (st == JANUS_FULL && timeout == JANUS_NO_WAIT) model_quiet_writable(s);
    if (st == JANUS_OK) {
        if (t) g_reg[t->id] = T_QUEUED;
        model_push(s, t);
    } else if (t) {
        token_release(t, T_REFUSED);
    }
}

static void op_get(slot *s, reader *r, bool timed)
{
    g_op = timed ? "get(timeout)" : "get(NO_WAIT)";
    int64_t timeout = JANUS_NO_WAIT;
    bool would_wait = !s->shutdown && s->len == 0;
    if (timed) {
        int64_t w = wait_timeout(r);
        if (!would_wait) timeout = w;
    }
    janus_status want = s->len ? JANUS_OK : s->shutdown ? JANUS_SHUTDOWN : JANUS_EMPTY;
    void *sentinel = (void *)&g_slots;  /* not an item */
    void *out = sentinel;
    discard_none(s);
    janus_status st = janus_queue_get(s->q, &out, timeout);
    EXPECT_STATUS(st, want);
    if (st == JANUS_EMPTY && timeout == JANUS_NO_WAIT) model_quiet_readable(s);
    if (st == JANUS_OK)
        check_got(s, out);
    else
        EXPECT(out == sentinel, "get answered %d but wrote *item_out", (int)st);
}

/* A no-wait select over 1 to 3 operations on the slots (a get, or a put of a new token; the
 * same queue may come twice). The model cannot know which ready operation the rotating start
 * picks, so it checks that the one reported was ready and that exactly it happened: a get
 * hands out the model's next item (or answers SHUTDOWN on a shut-down, drained queue), a put
 * goes in (or answers SHUTDOWN); every other operation did not happen (its token is still the
 * caller's). None ready: JANUS_TIMEOUT, nothing changed. */
static void op_select(reader *r)
{
    g_op = "select(NO_WAIT)";
    size_t n = 1 + rd(r) % 3;
    janus_select_op ops[3];
    slot *on[3];
    token *toks[3] = {NULL, NULL, NULL};
    bool ready[3] = {false, false, false}, any = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = rd(r);
        slot *s = &g_slots[b % NSLOTS];
        if (!s->q) {  /* only slots that exist */
            n = i;
            break;
        }
        on[i] = s;
        discard_none(s);
        if (b & 8) {
            toks[i] = item_new(r, s);
            if (toks[i]) g_reg[toks[i]->id] = T_PUTTING;
            ops[i] = (janus_select_op){s->q, JANUS_SELECT_PUT, toks[i]};
            ready[i] = s->shutdown || !model_full(s);
        } else {
            ops[i] = (janus_select_op){s->q, JANUS_SELECT_GET, NULL};
            ready[i] = s->shutdown || s->len > 0;
        }
        any = any || ready[i];
    }
    if (n == 0) return;
    size_t index = 99;
    janus_status st = janus_select(ops, n, &index, JANUS_NO_WAIT);
    if (!any) {
        EXPECT_STATUS(st, JANUS_TIMEOUT);
        EXPECT(index == 99, "a select that did nothing wrote its index (%zu)", index);
    } else {
        EXPECT(st == JANUS_OK || st == JANUS_SHUTDOWN, "select answered %d with a ready operation", (int)st);
        EXPECT(index < n && ready[index], "select picked operation %zu, which was not ready", index);
    }
    for (size_t i = 0; i < n; i++) {
        bool won = any && i == index && index < n;
        slot *s = on[i];
        if (ops[i].kind == JANUS_SELECT_GET) {
            if (!won) continue;
            if (s->len > 0) {
                EXPECT_STATUS(st, JANUS_OK);
                check_got(s, ops[i].item);
            } else {
                EXPECT_STATUS(st, JANUS_SHUTDOWN);
            }
        } else if (won && !s->shutdown) {
            EXPECT_STATUS(st, JANUS_OK);
            if (toks[i]) g_reg[toks[i]->id] = T_QUEUED;
            model_push(s, toks[i]);
        } else {
            if (won) EXPECT_STATUS(st, JANUS_SHUTDOWN);
            if (toks[i]) token_release(toks[i], T_REFUSED);
        }
    }
    for (size_t i = 0; i < n; i++) check_snapshots(on[i]);
}

#define MANY_MAX 9

static void op_put_many(slot *s, reader *r, bool timed)
{
    g_op = timed ? "put_many(timeout)" : "put_many(NO_WAIT)";
    size_t count = rd(r) % MANY_MAX;
    void *items[MANY_MAX];
    for (size_t i = 0; i < count; i++) items[i] = item_new(r, s);
    size_t room = s->maxsize == 0 ? SIZE_MAX : (s->len >= s->maxsize ? 0 : s->maxsize - s->len);
    int64_t timeout = JANUS_NO_WAIT;
    if (timed) {
        int64_t w = wait_timeout(r);
        bool would_wait = !s->shutdown && count > room;
        if (!would_wait) timeout = w;
    }
    janus_status want;
    size_t want_n;
    if (count == 0) {
        want = JANUS_OK;   /* "count 0 is a no-op" */
        want_n = 0;
    } else if (s->shutdown) {
        want = JANUS_SHUTDOWN;
        want_n = 0;
    } else if (count <= room) {
        want = JANUS_OK;
        want_n = count;
    } else {
        want = JANUS_FULL;
        want_n = room;
    }
    for (size_t i = 0; i < count; i++)
        if (items[i]) g_reg[((token *)items[i])->id] = T_PUTTING;
    size_t n = 12345;
    /* items == NULL is fine when count is 0 */
    void *const *arg = (count == 0 && (rd(r) & 1)) ? NULL : items;
    discard_none(s);
    janus_status st = janus_queue_put_many(s->q, arg, count, &n, timeout);
    EXPECT_STATUS(st, want);
    if (st == JANUS_FULL && timeout == JANUS_NO_WAIT) model_quiet_writable(s);
    EXPECT(n == want_n, "put_many put %zu of %zu, model %zu", n, count, want_n);
    for (size_t i = 0; i < count; i++) {
        token *t = items[i];
        if (i < n) {
            if (t) g_reg[t->id] = T_QUEUED;
            model_push(s, t);
        } else if (t) {
            token_release(t, T_REFUSED);
        }
    }
}

static void op_get_many(slot *s, reader *r, bool timed)
{
    g_op = timed ? "get_many(timeout)" : "get_many(NO_WAIT)";
    size_t maxc = 1 + rd(r) % MANY_MAX;
    int64_t timeout = JANUS_NO_WAIT;
    if (timed) {
        int64_t w = wait_timeout(r);
        bool would_wait = !s->shutdown && s->len == 0;
        if (!would_wait) timeout = w;
    }
    janus_status want = s->len ? JANUS_OK : s->shutdown ? JANUS_SHUTDOWN : JANUS_EMPTY;
    size_t want_n = s->len < maxc ? s->len : maxc;
    void *out[MANY_MAX + 1];
    void *sentinel = (void *)&g_slots;
    for (size_t i = 0; i <= MANY_MAX; i++) out[i] = sentinel;
    size_t n = 12345;
    discard_none(s);
    janus_status st = janus_queue_get_many(s->q, out, maxc, &n, timeout);
    EXPECT_STATUS(st, want);
    if (st == JANUS_EMPTY && timeout == JANUS_NO_WAIT) model_quiet_readable(s);
    EXPECT(n == want_n, "get_many got %zu (max %zu), model %zu", n, maxc, want_n);
    for (size_t i = 0; i < n; i++) check_got(s, out[i]);
    EXPECT(out[maxc] == sentinel, "get_many wrote past max_count");
}

static void op_task_done(slot *s)
{
    g_op = "task_done";
    janus_status want = s->unfinished ? JANUS_OK : JANUS_EINVAL;
    janus_status st = janus_queue_task_done(s->q);
    EXPECT_STATUS(st, want);
    if (st == JANUS_OK) s->unfinished--;
}

static void op_join(slot *s, reader *r, bool timed)
{
    g_op = timed ? "join(timeout)" : "join(NO_WAIT)";
    int64_t timeout = JANUS_NO_WAIT;
    if (timed) {
        int64_t w = wait_timeout(r);
        if (s->unfinished == 0) timeout = w;
    }
    janus_status want = s->unfinished ? JANUS_TIMEOUT : JANUS_OK;
    EXPECT_STATUS(janus_queue_join(s->q, timeout), want);
}

static void op_shutdown(slot *s, bool immediate, bool via_close)
{
    g_op = via_close ? "close" : immediate ? "shutdown(immediate)" : "shutdown(normal)";
    size_t nids = 0;
    uint32_t *ids = immediate ? model_ids(s, &nids) : NULL;
    if (immediate)
        discard_begin(s);
    else
        discard_none(s);
    if (via_close)
        janus_queue_close(s->q);
    else
        EXPECT_STATUS(janus_queue_shutdown(s->q, immediate), JANUS_OK);
    s->shutdown = true;
    if (immediate) {
        discard_end_all(s);
        check_destroyed(s, ids, nids, g_op);
    }
    free(ids);
}

static void op_wait_closed(slot *s, reader *r, bool timed)
{
    g_op = timed ? "wait_closed(timeout)" : "wait_closed(NO_WAIT)";
    /* Single-threaded: nobody is ever inside, so shut down = closed. */
    int64_t timeout = timed ? wait_timeout(r) : JANUS_NO_WAIT;
    janus_status want = s->shutdown ? JANUS_OK : JANUS_EMISUSE;
    EXPECT_STATUS(janus_queue_wait_closed(s->q, timeout), want);
}

/* peek: the model's next item, left in place; a real timeout only where the model
 * says it answers at once. */
static void op_peek(slot *s, reader *r, bool timed)
{
    g_op = timed ? "peek(timeout)" : "peek(NO_WAIT)";
    int64_t timeout = JANUS_NO_WAIT;
    bool would_wait = !s->shutdown && s->len == 0;
    if (timed) {
        int64_t w = wait_timeout(r);
        if (!would_wait) timeout = w;
    }
    janus_status want = s->len ? JANUS_OK : s->shutdown ? JANUS_SHUTDOWN : JANUS_EMPTY;
    void *sentinel = (void *)&g_slots;
    void *out = sentinel;
    discard_none(s);
    janus_status st = janus_queue_peek(s->q, &out, timeout);
    EXPECT_STATUS(st, want);
    if (st == JANUS_OK) {
        token *next = s->items[model_next_index(s)].tok;
        if (out != (void *)next)
            FAIL("peek gave %p (id %u), the next get gives %p (id %u) [kind %d, %zu queued]", out,
                 out ? ((token *)out)->id : 0, (void *)next, next ? next->id : 0, (int)s->kind,
                 s->len);
        if (next) {
            token_check(next);
            EXPECT(g_reg[next->id] == T_QUEUED, "peeked token %u in state %d", next->id,
                   g_reg[next->id]);
        }
    } else {
        EXPECT(out == sentinel, "peek answered %d but wrote *item_out", (int)st);
    }
}

/* clear: every item discarded (destroy once each), unfinished down by their number
 * (never below 0), *cleared_out their number; not a shutdown. */
static void op_clear(slot *s, reader *r)
{
    bool with_out = !(rd(r) & 1);
    g_op = with_out ? "clear" : "clear(NULL cleared_out)";
    size_t nids;
    uint32_t *ids = model_ids(s, &nids);
    size_t want_n = s->len;
    size_t n = 12345;
    discard_begin(s);
    janus_status st = janus_queue_clear(s->q, with_out ? &n : NULL);
    EXPECT_STATUS(st, JANUS_OK);
    discard_end_all(s);
    check_destroyed(s, ids, nids, "clear");
    free(ids);
    if (with_out) EXPECT(n == want_n, "clear reported %zu, model had %zu items", n, want_n);
}

static void op_set_maxsize(slot *s, reader *r)
{
    size_t v = k_maxsizes[rd(r) % NELEMS(k_maxsizes)];
    g_op = "set_maxsize";
    discard_none(s);
    EXPECT_STATUS(janus_queue_set_maxsize(s->q, v), JANUS_OK);
    s->maxsize = v;
}

static void op_waiting(slot *s)
{
    g_op = "getters/putters";
    EXPECT(janus_queue_getters(s->q) == 0 && janus_queue_putters(s->q) == 0,
           "getters %zu, putters %zu: nobody waits", janus_queue_getters(s->q),
           janus_queue_putters(s->q));
    EXPECT(janus_queue_getters(NULL) == 0 && janus_queue_putters(NULL) == 0,
           "getters/putters of NULL");
}

/* janus_queue_fd for one readiness: the same descriptor every time; a new one starts
 * readable iff its condition holds now. */
static void fd_request(slot *s, janus_ready what)
{
    bool readable = what == JANUS_READABLE;
    g_op = readable ? "fd(READABLE)" : "fd(WRITABLE)";
    int *fd = readable ? &s->rfd : &s->wfd;
    int other = readable ? s->wfd : s->rfd;
    int got = -12345;
    janus_status st = janus_queue_fd(s->q, what, &got);
    EXPECT_STATUS(st, JANUS_OK);
    EXPECT(got >= 0, "janus_queue_fd gave descriptor %d", got);
    if (*fd >= 0) {
        EXPECT(got == *fd, "janus_queue_fd gave %d, earlier %d", got, *fd);
        return;
    }
    EXPECT(got != other, "readable and writable descriptors are both %d", got);
    int fdflags = fcntl(got, F_GETFD), flflags = fcntl(got, F_GETFL);
    EXPECT(fdflags != -1 && (fdflags & FD_CLOEXEC), "descriptor %d not close-on-exec", got);
    EXPECT(flflags != -1 && (flflags & O_NONBLOCK), "descriptor %d not nonblocking", got);
    *fd = got;
    if (readable)
        s->r_quiet = !(s->len > 0 || s->shutdown);
    else
        s->w_quiet = !(!model_full(s) || s->shutdown);
}

static void op_fd(slot *s, reader *r)
{
    uint8_t b = rd(r);
    switch (b % 4) {
    case 0: fd_request(s, JANUS_READABLE); break;
    case 1: fd_request(s, JANUS_WRITABLE); break;
    case 2:
        fd_request(s, JANUS_WRITABLE);
        fd_request(s, JANUS_READABLE);
        break;
    default:
        fd_request(s, JANUS_READABLE);
        fd_request(s, JANUS_WRITABLE);
        fd_request(s, JANUS_READABLE);
        break;
    }
    g_op = "fd (readiness)";
}

/* The lowest free descriptor number: what a new descriptor would get. */
static int lowest_free_fd(void)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    EXPECT(fd >= 0, "open /dev/null: errno %d", errno);
    close(fd);
    return fd;
}

static int nop_consume(void *item, void *ctx)
{
    (void)item;
    (void)ctx;
    FAIL("a consume fn was called by a consumer that should not exist");
}

static janus_status nop_produce(void **item_out, void *ctx)
{
    (void)item_out;
    (void)ctx;
    FAIL("a produce fn was called by a producer that should not exist");
}

/* Bad inputs: each must be JANUS_EINVAL (or the documented NULL answer) and change nothing. */
static void op_bad(slot *s, reader *r)
{
    /* Always three argument bytes, whatever the case uses, so that a mutation
     * of one op does not shift the ops after it. */
    uint8_t which = rd(r), x = rd(r), y = rd(r);
    reader sub = {&y, 1, 0};  /* item_new() reads its byte from y */
    janus_queue *q = s->q;
    void *out = (void *)&g_slots;
    size_t n = 777;
    void *items[2] = {NULL, NULL};
    switch (which % 32) {
    case 0:
        g_op = "put(NULL queue)";
        EXPECT_STATUS(janus_queue_put(NULL, NULL, x & 1 ? JANUS_NO_WAIT : JANUS_WAIT_FOREVER),
                      JANUS_EINVAL);
        break;
    case 1:
        g_op = "get(NULL queue)";
        EXPECT_STATUS(janus_queue_get(NULL, &out, JANUS_NO_WAIT), JANUS_EINVAL);
        EXPECT(out == (void *)&g_slots, "wrote *item_out");
        break;
    case 2:
        g_op = "get(NULL item_out)";
        EXPECT_STATUS(janus_queue_get(q, NULL, x & 1 ? JANUS_NO_WAIT : JANUS_WAIT_FOREVER),
                      JANUS_EINVAL);
        break;
    case 3: {
        g_op = "put(bad timeout)";
        token *t = item_new(&sub, s);
        if (t) g_reg[t->id] = T_PUTTING;
        EXPECT_STATUS(janus_queue_put(q, t, bad_timeout_of(x)), JANUS_EINVAL);
        if (t) token_release(t, T_REFUSED);
        break;
    }
    case 4:
        g_op = "get(bad timeout)";
        EXPECT_STATUS(janus_queue_get(q, &out, bad_timeout_of(x)), JANUS_EINVAL);
        EXPECT(out == (void *)&g_slots, "wrote *item_out");
        break;
    case 5:
        g_op = "put_many(NULL items, count > 0)";
        EXPECT_STATUS(janus_queue_put_many(q, NULL, 1 + x % 4, &n, JANUS_NO_WAIT),
                      JANUS_EINVAL);
        EXPECT(einval_count_ok(n, 777), "put_count_out %zu after EINVAL, expected 0", n);
        break;
    case 6: {
        g_op = "put_many(NULL put_count_out)";
        token *t = token_new(1, s->index);
        g_reg[t->id] = T_PUTTING;
        items[0] = t;
        EXPECT_STATUS(janus_queue_put_many(q, items, 2, NULL, JANUS_NO_WAIT), JANUS_EINVAL);
        token_release(t, T_REFUSED);
        break;
    }
    case 7: {
        g_op = "put_many(bad timeout)";
        token *t = token_new(1, s->index);
        g_reg[t->id] = T_PUTTING;
        items[0] = t;
        EXPECT_STATUS(janus_queue_put_many(q, items, 1 + y % 2, &n, bad_timeout_of(x)),
                      JANUS_EINVAL);
        EXPECT(einval_count_ok(n, 777), "put_count_out %zu after EINVAL, expected 0", n);
        token_release(t, T_REFUSED);
        break;
    }
    case 8:
        g_op = "get_many(NULL items_out)";
        EXPECT_STATUS(janus_queue_get_many(q, NULL, 3, &n, JANUS_NO_WAIT), JANUS_EINVAL);
        break;
    case 9:
        g_op = "get_many(NULL got_count_out)";
        EXPECT_STATUS(janus_queue_get_many(q, items, 2, NULL, JANUS_NO_WAIT), JANUS_EINVAL);
        EXPECT(items[0] == NULL && items[1] == NULL, "get_many wrote items on EINVAL");
        break;
    case 10:
        g_op = "get_many(max_count 0)";
        EXPECT_STATUS(janus_queue_get_many(q, items, 0, &n, JANUS_NO_WAIT), JANUS_EINVAL);
        break;
    case 11:
        g_op = "get_many(bad timeout)";
        EXPECT_STATUS(janus_queue_get_many(q, items, 2, &n, bad_timeout_of(x)), JANUS_EINVAL);
        EXPECT(items[0] == NULL && items[1] == NULL, "get_many wrote items on EINVAL");
        break;
    case 12:
        g_op = "join(bad timeout)";
        EXPECT_STATUS(janus_queue_join(q, bad_timeout_of(x)), JANUS_EINVAL);
        break;
    case 13:
        g_op = "wait_closed(bad timeout)";
        EXPECT_STATUS(janus_queue_wait_closed(q, bad_timeout_of(x)), JANUS_EINVAL);
        break;
    case 14:
        g_op = "NULL queue: task_done/join/shutdown/wait_closed/close";
        EXPECT_STATUS(janus_queue_task_done(NULL), JANUS_EINVAL);
        EXPECT_STATUS(janus_queue_join(NULL, JANUS_NO_WAIT), JANUS_EINVAL);
        EXPECT_STATUS(janus_queue_join(NULL, JANUS_WAIT_FOREVER), JANUS_EINVAL);
        EXPECT_STATUS(janus_queue_shutdown(NULL, x & 1), JANUS_EINVAL);
        EXPECT_STATUS(janus_queue_wait_closed(NULL, JANUS_NO_WAIT), JANUS_EINVAL);
        janus_queue_close(NULL);
        janus_queue_free(NULL);
        break;
    case 15:
        g_op = "NULL queue: snapshots";
        EXPECT(janus_queue_qsize(NULL) == 0, "qsize(NULL)");
        EXPECT(janus_queue_empty(NULL) == false, "empty(NULL)");
        EXPECT(janus_queue_full(NULL) == false, "full(NULL)");
        EXPECT(janus_queue_maxsize(NULL) == 0, "maxsize(NULL)");
        EXPECT(janus_queue_unfinished_tasks(NULL) == 0, "unfinished_tasks(NULL)");
        EXPECT(janus_queue_is_shutdown(NULL) == false, "is_shutdown(NULL)");
        break;
    case 16:
        g_op = "NULL queue: put_many/get_many";
        EXPECT_STATUS(janus_queue_put_many(NULL, items, 2, &n, JANUS_NO_WAIT), JANUS_EINVAL);
        EXPECT_STATUS(janus_queue_get_many(NULL, items, 2, &n, JANUS_NO_WAIT), JANUS_EINVAL);
        break;
    case 17: {
        g_op = "strerror / version";
        static const int codes[] = {0, 1, 2, 3, 4, 20, 21, 22, 5, 19, 23, -1, 1000, INT32_MIN};
        int c = codes[x % NELEMS(codes)];
        const char *m = janus_strerror((janus_status)c);
        EXPECT(m != NULL && m[0] != '\0', "strerror(%d) gave %s", c, m ? "\"\"" : "NULL");
        EXPECT(janus_version_number() == JANUS_VERSION_NUMBER, "version_number %u",
               janus_version_number());
        EXPECT(strcmp(janus_version_string(), JANUS_VERSION_STRING) == 0, "version_string %s",
               janus_version_string());
        break;
    }
    case 18:
        g_op = "consumer/producer NULL handles";
        EXPECT_STATUS(janus_consumer_wait(NULL, JANUS_NO_WAIT), JANUS_EINVAL);
        EXPECT_STATUS(janus_producer_wait(NULL, JANUS_NO_WAIT), JANUS_EINVAL);
        janus_consumer_cancel(NULL);
        janus_producer_cancel(NULL);
        janus_consumer_free(NULL);
        janus_producer_free(NULL);
        break;
    case 19:
        g_op = "consume_async/produce_async bad arguments";
        EXPECT(janus_consume_async(NULL, nop_consume, NULL, 1) == NULL, "consume_async(NULL q)");
        EXPECT(janus_consume_async(q, NULL, NULL, 1) == NULL, "consume_async(NULL fn)");
        EXPECT(janus_consume_async(q, nop_consume, NULL, 0) == NULL, "consume_async(0 tasks)");
        EXPECT(janus_produce_async(NULL, nop_produce, NULL) == NULL, "produce_async(NULL q)");
        EXPECT(janus_produce_async(q, NULL, NULL) == NULL, "produce_async(NULL fn)");
        break;
    case 20:
        g_op = "put_many(0 items, bad timeout)";
        EXPECT_STATUS(janus_queue_put_many(q, NULL, 0, &n, bad_timeout_of(x)), JANUS_EINVAL);
        EXPECT(einval_count_ok(n, 777), "put_count_out %zu after EINVAL, expected 0", n);
        break;
    case 21:
        g_op = "get(NULL item_out, bad timeout)";
        EXPECT_STATUS(janus_queue_get(q, NULL, bad_timeout_of(x)), JANUS_EINVAL);
        break;
    case 22:
        g_op = "get_many(NULL got_count_out, max_count 0)";
        EXPECT_STATUS(janus_queue_get_many(q, items, 0, NULL, JANUS_NO_WAIT), JANUS_EINVAL);
        break;
    case 24: {
        g_op = "peek(NULL queue)";
        static const int64_t t[] = {JANUS_NO_WAIT, JANUS_WAIT_FOREVER, 50, INT64_MAX, -2, INT64_MIN};
        EXPECT_STATUS(janus_queue_peek(NULL, &out, t[x % NELEMS(t)]), JANUS_EINVAL);
        EXPECT(out == (void *)&g_slots, "wrote *item_out");
        EXPECT_STATUS(janus_queue_peek(NULL, NULL, t[y % NELEMS(t)]), JANUS_EINVAL);
        break;
    }
    case 25:
        g_op = "peek(NULL item_out)";
        EXPECT_STATUS(janus_queue_peek(q, NULL, x & 1 ? JANUS_NO_WAIT : JANUS_WAIT_FOREVER),
                      JANUS_EINVAL);
        break;
    case 26:
        g_op = "peek(bad timeout)";
        EXPECT_STATUS(janus_queue_peek(q, &out, bad_timeout_of(x)), JANUS_EINVAL);
        EXPECT(out == (void *)&g_slots, "wrote *item_out");
        break;
    case 27:
        g_op = "clear(NULL queue)";
        EXPECT_STATUS(janus_queue_clear(NULL, x & 1 ? NULL : &n), JANUS_EINVAL);
        EXPECT(n == 777, "clear(NULL) wrote *cleared_out");
        break;
    case 28:
        g_op = "set_maxsize(NULL queue), getters/putters(NULL)";
        EXPECT_STATUS(janus_queue_set_maxsize(NULL, k_maxsizes[x % NELEMS(k_maxsizes)]),
                      JANUS_EINVAL);
        EXPECT(janus_queue_getters(NULL) == 0 && janus_queue_putters(NULL) == 0,
               "getters/putters of NULL");
        break;
    case 29: {
        g_op = "fd(NULL queue)";
        int fd = -777;
        janus_ready what = (janus_ready)(x % 4);
        EXPECT_STATUS(janus_queue_fd(NULL, what, &fd), JANUS_EINVAL);
        EXPECT(fd == -777, "fd(NULL) wrote *fd_out");
        EXPECT_STATUS(janus_queue_fd(NULL, what, NULL), JANUS_EINVAL);
        break;
    }
    case 30: {
        g_op = "fd(bad what)";
        static const int bad_what[] = {0, 3, -1, 4, 255, 1 << 20, INT32_MIN, INT32_MAX};
        int fd = -777;
        int before = lowest_free_fd();
        EXPECT_STATUS(janus_queue_fd(q, (janus_ready)bad_what[x % NELEMS(bad_what)], &fd),
                      JANUS_EINVAL);
        EXPECT(fd == -777, "fd(bad what) wrote *fd_out");
        EXPECT(lowest_free_fd() == before, "fd(bad what) made a descriptor");
        break;
    }
    case 31: {
        g_op = "fd(NULL fd_out)";
        int before = lowest_free_fd();
        EXPECT_STATUS(janus_queue_fd(q, x & 1 ? JANUS_WRITABLE : JANUS_READABLE, NULL),
                      JANUS_EINVAL);
        EXPECT(lowest_free_fd() == before, "fd(NULL fd_out) made a descriptor");
        break;
    }
    default:
        g_op = "put(NULL queue, bad timeout)";
        EXPECT_STATUS(janus_queue_put(NULL, NULL, bad_timeout_of(x)), JANUS_EINVAL);
        break;
    }
}

/* ------------------------------------------------------------------------ */
/* The fuzz entry point                                                     */
/* ------------------------------------------------------------------------ */

enum {
    OP_NEW, OP_PUT, OP_GET, OP_PUT_MANY, OP_GET_MANY, OP_TASK_DONE, OP_JOIN, OP_SNAPSHOT,
    OP_SHUTDOWN, OP_SHUTDOWN_NOW, OP_CLOSE, OP_WAIT_CLOSED, OP_BAD, OP_PUT_T, OP_GET_T,
    OP_PUT_MANY_T, OP_GET_MANY_T, OP_JOIN_T, OP_WAIT_CLOSED_T, OP_FREE,
    OP_PUT2, OP_GET2, OP_PEEK, OP_PEEK_T, OP_CLEAR, OP_SET_MAXSIZE, OP_WAITING, OP_FD,
    OP_SELECT, OP_COUNT
};

static void reset_input(void)
{
    for (int i = 0; i < NSLOTS; i++) {
        slot *s = &g_slots[i];
        free(s->items);
        memset(s, 0, sizeof *s);
        s->index = i;
        s->rfd = s->wfd = -1;
    }
    g_next_id = 0;
    if (g_reg) memset(g_reg, 0, g_reg_cap);
}

static void end_input(void)
{
    for (int i = 0; i < NSLOTS; i++) slot_free(&g_slots[i]);
    g_op = "end of input: token accounting";
    for (uint32_t id = 1; id <= g_next_id; id++) {
        tstate st = (tstate)g_reg[id];
        EXPECT(st == T_GOT || st == T_REFUSED || st == T_DESTROYED || st == T_FORGOTTEN,
               "token %u ends in state %d", id, (int)st);
    }
    for (int i = 0; i < NSLOTS; i++) {
        free(g_slots[i].items);
        g_slots[i].items = NULL;
        g_slots[i].cap = 0;
    }
}

/* FUZZ_TRACE=1 in the environment prints every step (for reading a crash). */
static int g_trace;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *t = getenv("FUZZ_TRACE");
    g_trace = t && *t && strcmp(t, "0") != 0;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size, 0};
    reset_input();
    g_step = 0;
    while (r.i < r.n) {
        uint8_t b = rd(&r);
        int op = b % OP_COUNT;
        slot *s = &g_slots[(b / OP_COUNT) % NSLOTS];
        g_step++;
        g_op = "(decoding)";
        if (!s->q) op = OP_NEW;  /* a slot is made on first use */
        switch (op) {
        case OP_NEW: slot_new(s, &r); break;
        case OP_PUT: case OP_PUT2: op_put(s, &r, false); break;
        case OP_GET: case OP_GET2: op_get(s, &r, false); break;
        case OP_PUT_MANY: op_put_many(s, &r, false); break;
        case OP_GET_MANY: op_get_many(s, &r, false); break;
        case OP_TASK_DONE: op_task_done(s); break;
        case OP_JOIN: op_join(s, &r, false); break;
        case OP_SNAPSHOT: g_op = "snapshots"; break;
        case OP_SHUTDOWN: op_shutdown(s, false, false); break;
        case OP_SHUTDOWN_NOW: op_shutdown(s, true, false); break;
        case OP_CLOSE: op_shutdown(s, true, true); break;
        case OP_WAIT_CLOSED: op_wait_closed(s, &r, false); break;
        case OP_BAD: op_bad(s, &r); break;
        case OP_PUT_T: op_put(s, &r, true); break;
        case OP_GET_T: op_get(s, &r, true); break;
        case OP_PUT_MANY_T: op_put_many(s, &r, true); break;
        case OP_GET_MANY_T: op_get_many(s, &r, true); break;
        case OP_JOIN_T: op_join(s, &r, true); break;
        case OP_WAIT_CLOSED_T: op_wait_closed(s, &r, true); break;
        case OP_FREE: slot_free(s); break;
        case OP_PEEK: op_peek(s, &r, false); break;
        case OP_PEEK_T: op_peek(s, &r, true); break;
        case OP_CLEAR: op_clear(s, &r); break;
        case OP_SET_MAXSIZE: op_set_maxsize(s, &r); break;
        case OP_WAITING: op_waiting(s); break;
        case OP_FD: op_fd(s, &r); break;
        case OP_SELECT: op_select(&r); break;
        }
        if (s->q) check_snapshots(s);
        if (g_trace)
            fprintf(stderr, "step %u: queue %d %-34s kind %d maxsize %zu len %zu unfinished %zu%s"
                    "%s%s\n", g_step, s->index, g_op, (int)s->kind, s->maxsize, s->len,
                    s->unfinished, s->shutdown ? " shut down" : "",
                    s->rfd < 0 ? "" : s->r_quiet ? " R:quiet" : " R:ready",
                    s->wfd < 0 ? "" : s->w_quiet ? " W:quiet" : " W:ready");
    }
    end_input();
    return 0;
}

/* ------------------------------------------------------------------------ */
/* A driver without libFuzzer, for valgrind (make valgrind)                 */
/* ------------------------------------------------------------------------ */
/* Built with -DFUZZ_STANDALONE_MAIN by any C compiler:
 *   fuzz_queue_replay FILE...            runs each input once
 *   fuzz_queue_replay --random N [SEED]  runs N pseudo-random inputs (<= 512 bytes) */
#ifdef FUZZ_STANDALONE_MAIN
int main(int argc, char **argv)
{
    LLVMFuzzerInitialize(&argc, &argv);
    unsigned runs = 0;
    if (argc >= 3 && strcmp(argv[1], "--random") == 0) {
        unsigned n = (unsigned)strtoul(argv[2], NULL, 0);
        uint64_t x = argc >= 4 ? strtoull(argv[3], NULL, 0) : 0x853c49e6748fea9bULL;
        static uint8_t buf[512];
        for (; runs < n; runs++) {
            size_t len = 0;
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            len = (size_t)(x % sizeof buf);
            for (size_t i = 0; i < len; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                buf[i] = (uint8_t)(x >> 24);
            }
            LLVMFuzzerTestOneInput(buf, len);
        }
    } else {
        for (int a = 1; a < argc; a++) {
            FILE *f = fopen(argv[a], "rb");
            if (!f) {
                fprintf(stderr, "cannot open %s\n", argv[a]);
                return 2;
            }
            static uint8_t buf[1 << 16];
            size_t len = fread(buf, 1, sizeof buf, f);
            fclose(f);
            LLVMFuzzerTestOneInput(buf, len);
            runs++;
        }
    }
    printf("fuzz_queue_replay: %u inputs, no mismatch\n", runs);
    return 0;
}
#endif
