/*
 * _janus.c - the native half of janus_swift: Python objects in a libjanus queue.
 *
 * Two types:
 *   Core  owns one janus_queue and, for a PriorityQueue, the heap of Python objects.
 *   Face  a view of a Core with one set of exceptions: the sync face (queue.Empty ...) or
 *         the async face (asyncio.QueueEmpty ...).  janus_swift/__init__.py subclasses it;
 *         the async subclass adds the coroutines, which wait on the queue's descriptors.
 *
 * The GIL.  No thread may hold the GIL while it waits for something that a thread without
 * the GIL holds and that needs the GIL to let go.  So:
 * - FIFO / LIFO: the janus queue stores the PyObject pointers itself and gets no compare
 *   callback, so nobody ever needs the GIL while holding janus's lock.  A call that cannot
 *   wait (JANUS_NO_WAIT, the snapshots, shutdown) is made with the GIL held: it only ever
 *   waits for janus's short internal lock.  A call that may wait is made with the GIL
 *   released (Py_BEGIN_ALLOW_THREADS).
 * - PRIORITY: comparing Python objects needs the GIL, and janus would run a compare
 *   callback with its lock held (a thread holding the GIL and waiting for that lock would
 *   deadlock with it).  So the janus queue is a plain FIFO of NULL tokens, which carries
 *   the count, maxsize, shutdown, task_done/join and the descriptors, and the objects live
 *   in a heap of our own guarded by `hlock`.  Every token move is a JANUS_NO_WAIT call made
 *   while holding hlock, so tokens == heap entries whenever hlock is free (no window where a
 *   getter holds a token with no object behind it).  hlock is taken the way CPython's own
 *   extension locks are: try first, and if that fails wait with the GIL released, because a
 *   comparison running under hlock (Python __lt__) may itself give up the GIL.  Waiting for
 *   an item or room is done on the janus descriptor (poll) with no lock and no GIL.
 * - destroy (the items an immediate shutdown, close or free discards) runs with no janus
 *   lock held, on the calling thread; it takes the GIL with PyGILState_Ensure, which is a
 *   no-op when the caller already holds it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "janus.h"

/* Blocking calls made on the main thread wait in slices this long, so that Ctrl-C
 * (a signal handled only on the main thread, between bytecodes) is seen, as it is in
 * queue.Queue.get().  Other threads wait in one call, which keeps their place in janus's
 * first-come-first-served waiter list. */
#define SLICE_MS 100

/* The exceptions, given by __init__.py through _setup() (the ShutDown classes depend on the
 * Python version), and the "nothing there" sentinel of _try_get. */
static PyObject *SyncEmpty, *SyncFull, *SyncShutDown, *AsyncEmpty, *AsyncFull, *AsyncShutDown;
static PyObject *EmptySentinel;
static PyObject *WakeFunc;           /* _wake(fut): resolves an async join's future */
static unsigned long main_ident;     /* the thread that gets Ctrl-C */

/* ------------------------------------------------------------------------ */
/* Core                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct {
    PyObject *item;
    uint64_t seq; /* insertion order: equal priorities come out first in, first out */
} entry;

typedef struct {
    PyObject_HEAD
    janus_queue *q;
    int kind;
    Py_ssize_t maxsize;      /* as given (janus keeps 0 for "unbounded") */
    /* PRIORITY only */
    PyThread_type_lock hlock;
    atomic_ulong howner;     /* thread holding hlock, to refuse re-entry from __lt__ */
    entry *heap;
    size_t hlen, hcap;
    uint64_t seq;
    /* waits that are not inside janus (priority queues wait on a descriptor): they count
     * as callers inside for `closed`, as janus counts its own */
    atomic_long inside;
    /* async joiners: a list of (loop, future), resolved when unfinished_tasks reaches 0 */
    PyObject *joiners;
} Core;

static PyTypeObject CoreType;

static void item_destroy(void *item, void *ctx)
{
    (void)ctx;
    PyGILState_STATE g = PyGILState_Ensure();
    Py_XDECREF((PyObject *)item);
    PyGILState_Release(g);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The next wait, in janus milliseconds, towards `deadline` (ns, monotonic; -1 = none).
 * 0 means the deadline has passed.  *last says whether a timeout of this wait is the
 * caller's timeout (rather than the end of a slice). */
static int64_t next_wait(int64_t deadline, int on_main, int *last)
{
    if (deadline < 0) {
        *last = !on_main;
        return on_main ? SLICE_MS : JANUS_WAIT_FOREVER;
    }
    int64_t left = deadline - now_ns();
    if (left <= 0) {
        *last = 1;
        return 0;
    }
    int64_t ms = (left + 999999) / 1000000; /* round up: never wake before the deadline */
    if (on_main && ms > SLICE_MS) {
        *last = 0;
        return SLICE_MS;
    }
    *last = 1;
    return ms;
}

static PyObject *set_status_error(janus_status st)
{
    if (st == JANUS_ENOMEM)
        return PyErr_NoMemory();
    if (st == JANUS_ESYS)
        return PyErr_SetFromErrno(PyExc_OSError);
    PyErr_Format(PyExc_RuntimeError, "libjanus: %s (status %d)", janus_strerror(st), (int)st);
    return NULL;
}

/* --- the priority heap (hlock held) ------------------------------------- */

static int hlock_acquire(Core *c)
{
    unsigned long me = PyThread_get_thread_ident();
    if (atomic_load_explicit(&c->howner, memory_order_relaxed) == me) {
        PyErr_SetString(PyExc_RuntimeError,
                        "PriorityQueue used from inside a comparison of its own items");
        return -1;
    }
    if (!PyThread_acquire_lock(c->hlock, NOWAIT_LOCK)) {
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(c->hlock, WAIT_LOCK);
        Py_END_ALLOW_THREADS
    }
    atomic_store_explicit(&c->howner, me, memory_order_relaxed);
    return 0;
}

static void hlock_release(Core *c)
{
    atomic_store_explicit(&c->howner, 0, memory_order_relaxed);
    PyThread_release_lock(c->hlock);
}

/* 1 if a comes out before b, 0 if not, -1 on a Python error (e.g. TypeError). */
static int entry_before(const entry *a, const entry *b)
{
    int r = PyObject_RichCompareBool(a->item, b->item, Py_LT);
    if (r != 0)
        return r;
    r = PyObject_RichCompareBool(b->item, a->item, Py_LT);
    if (r < 0)
        return -1;
    if (r)
        return 0;
    return a->seq < b->seq; /* equal priority: first in, first out */
}

static int heap_reserve(Core *c)
{
    if (c->hlen < c->hcap)
        return 0;
    size_t cap = c->hcap ? c->hcap * 2 : 16;
    entry *h = PyMem_Realloc(c->heap, cap * sizeof(entry));
    if (!h) {
        PyErr_NoMemory();
        return -1;
    }
    c->heap = h;
    c->hcap = cap;
    return 0;
}

/* Gives storage back after a burst (memory follows load). */
static void heap_shrink(Core *c)
{
    if (c->hcap > 64 && c->hlen < c->hcap / 4) {
        size_t cap = c->hcap / 2;
        entry *h = PyMem_Realloc(c->heap, cap * sizeof(entry));
        if (h) {
            c->heap = h;
            c->hcap = cap;
        }
    }
}

/* Inserts item (a reference the heap takes over on success).  If a comparison fails the
 * heap is restored exactly as it was and -1 is returned with the error set: the item is
 * not inserted. */
static int heap_push(Core *c, PyObject *item)
{
    if (heap_reserve(c) < 0)
        return -1;
    entry e = {item, c->seq++};
    size_t path[64]; /* from the new leaf up to the root: at most 64 levels in a size_t */
    size_t n = 0;
    for (size_t i = c->hlen;; i = (i - 1) / 2) {
        path[n++] = i;
        if (i == 0)
            break;
    }
    c->hlen++;
    size_t k = 1; /* the hole is at path[k - 1] */
    for (; k < n; k++) {
        int r = entry_before(&e, &c->heap[path[k]]);
        if (r < 0) {
            /* Undo: the parents moved down one step each; move them back up. */
            for (size_t j = k - 1; j >= 1; j--)
                c->heap[path[j]] = c->heap[path[j - 1]];
            c->hlen--;
            return -1;
        }
        if (!r)
            break;
        c->heap[path[k - 1]] = c->heap[path[k]];
    }
    c->heap[path[k - 1]] = e;
    return 0;
}

/* Takes the first item out (hlen > 0).  A comparison that fails while re-ordering the rest
 * cannot take the item back from the caller: the error is dropped, the remaining items keep
 * a possibly imperfect order, and none is lost (queue.PriorityQueue would raise and lose
 * the item). */
static PyObject *heap_pop(Core *c)
{
    PyObject *top = c->heap[0].item;
    entry last = c->heap[--c->hlen];
    size_t n = c->hlen, i = 0;
    if (n > 0) {
        for (;;) {
            size_t l = 2 * i + 1, best = l;
            if (l >= n)
                break;
            if (l + 1 < n) {
                int r = entry_before(&c->heap[l + 1], &c->heap[l]);
                if (r < 0)
                    goto failed;
                if (r)
                    best = l + 1;
            }
            int r = entry_before(&c->heap[best], &last);
            if (r < 0)
                goto failed;
            if (!r)
                break;
            c->heap[i] = c->heap[best];
            i = best;
        }
        goto place;
    failed:
        PyErr_Clear();
    place:
        c->heap[i] = last;
    }
    heap_shrink(c);
    return top;
}

/* --- kind-independent steps that never wait ----------------------------- */

/* Tries to put item without waiting.  Returns a janus status, or -1 with a Python error. */
static int core_try_put(Core *c, PyObject *item)
{
    janus_status st;
    if (c->kind != JANUS_PRIORITY) {
        Py_INCREF(item);
        st = janus_queue_put(c->q, item, JANUS_NO_WAIT);
        if (st != JANUS_OK)
            Py_DECREF(item); /* still the caller's: never the last reference */
        return (int)st;
    }
    if (hlock_acquire(c) < 0)
        return -1;
    st = janus_queue_put(c->q, NULL, JANUS_NO_WAIT);
    if (st == JANUS_OK) {
        Py_INCREF(item);
        if (heap_push(c, item) < 0) {
            /* Not comparable: take the token back (there is one: tokens == entries + 1 while
             * we hold hlock) and its count, so the failed put changed nothing. */
            void *tok;
            janus_queue_get(c->q, &tok, JANUS_NO_WAIT);
            janus_queue_task_done(c->q);
            hlock_release(c);
            Py_DECREF(item);
            return -1;
        }
    }
    hlock_release(c);
    return (int)st;
}

/* Tries to get without waiting: *out is a new reference on JANUS_OK. */
static int core_try_get(Core *c, PyObject **out)
{
    janus_status st;
    if (c->kind != JANUS_PRIORITY) {
        void *p;
        st = janus_queue_get(c->q, &p, JANUS_NO_WAIT);
        if (st == JANUS_OK)
            *out = (PyObject *)p;
        return (int)st;
    }
    if (hlock_acquire(c) < 0)
        return -1;
    void *tok;
    st = janus_queue_get(c->q, &tok, JANUS_NO_WAIT);
    if (st == JANUS_OK)
        *out = heap_pop(c);
    hlock_release(c);
    return (int)st;
}

/* Waits (GIL released, no lock held) until the descriptor of `what` is readable or the
 * wait ends; used by priority queues.  Returns 0, or -1 with a Python error (a signal). */
static int core_poll(Core *c, janus_ready what, int64_t ms)
{
    int fd;
    janus_status st = janus_queue_fd(c->q, what, &fd);
    if (st != JANUS_OK) {
        set_status_error(st);
        return -1;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    atomic_fetch_add(&c->inside, 1);
    Py_BEGIN_ALLOW_THREADS
    poll(&p, 1, ms > INT32_MAX ? INT32_MAX : (int)ms);
    Py_END_ALLOW_THREADS
    atomic_fetch_sub(&c->inside, 1);
    return PyErr_CheckSignals();
}

/* Resolves the async joiners if no task is unfinished. */
static int core_wake_joiners(Core *c)
{
    if (PyList_GET_SIZE(c->joiners) == 0 || janus_queue_unfinished_tasks(c->q) != 0)
        return 0;
    PyObject *list = c->joiners;
    c->joiners = PyList_New(0);
    if (!c->joiners) {
        c->joiners = list;
        return -1;
    }
    Py_ssize_t n = PyList_GET_SIZE(list);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *pair = PyList_GET_ITEM(list, i);
        PyObject *loop = PyTuple_GET_ITEM(pair, 0), *fut = PyTuple_GET_ITEM(pair, 1);
        PyObject *r = PyObject_CallMethod(loop, "call_soon_threadsafe", "OO", WakeFunc, fut);
        if (r)
            Py_DECREF(r);
        else
            PyErr_Clear(); /* a closed loop: nobody is left to wake there */
    }
    Py_DECREF(list);
    return 0;
}

static int core_shutdown(Core *c, int immediate)
{
    if (c->kind != JANUS_PRIORITY) {
        janus_queue_shutdown(c->q, immediate);
        return core_wake_joiners(c);
    }
    if (hlock_acquire(c) < 0)
        return -1;
    janus_queue_shutdown(c->q, immediate); /* tokens carry no destroy */
    entry *gone = NULL;
    size_t ngone = 0;
    if (immediate && c->hlen) {
        /* The tokens are gone, so are the objects; release them after hlock, since a
         * __del__ may use the queue. */
        gone = c->heap;
        ngone = c->hlen;
        c->heap = NULL;
        c->hlen = c->hcap = 0;
    }
    hlock_release(c);
    for (size_t i = 0; i < ngone; i++)
        Py_DECREF(gone[i].item);
    PyMem_Free(gone);
    return core_wake_joiners(c);
}

/* --- the Core type ------------------------------------------------------- */

static PyObject *Core_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"kind", "maxsize", NULL};
    int kind = 0;
    Py_ssize_t maxsize = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|in", kwlist, &kind, &maxsize))
        return NULL;
    if (kind != JANUS_FIFO && kind != JANUS_LIFO && kind != JANUS_PRIORITY) {
        PyErr_SetString(PyExc_ValueError, "kind must be 0 (FIFO), 1 (LIFO) or 2 (PRIORITY)");
        return NULL;
    }
    Core *c = (Core *)type->tp_alloc(type, 0);
    if (!c)
        return NULL;
    c->kind = kind;
    c->maxsize = maxsize;
    atomic_init(&c->howner, 0);
    atomic_init(&c->inside, 0);
    c->joiners = PyList_New(0);
    if (!c->joiners)
        goto fail;
    janus_options o = {0};
    o.kind = kind == JANUS_PRIORITY ? JANUS_FIFO : (janus_kind)kind;
    o.maxsize = maxsize > 0 ? (size_t)maxsize : 0;
    if (kind == JANUS_PRIORITY) {
        c->hlock = PyThread_allocate_lock();
        if (!c->hlock) {
            PyErr_NoMemory();
            goto fail;
        }
    } else {
        o.destroy = item_destroy;
    }
    c->q = janus_queue_new_with(&o);
    if (!c->q) {
        PyErr_NoMemory();
        goto fail;
    }
    return (PyObject *)c;
fail:
    Py_DECREF(c);
    return NULL;
}

static void Core_dealloc(Core *c)
{
    /* Frees the queue: destroy releases what FIFO / LIFO still hold (the GIL is held, so
     * PyGILState_Ensure in it is a no-op).  Nobody can be blocked in it: every caller
     * holds a reference to a Face, hence to us. */
    janus_queue_free(c->q);
    for (size_t i = 0; i < c->hlen; i++)
        Py_DECREF(c->heap[i].item);
    PyMem_Free(c->heap);
    if (c->hlock)
        PyThread_free_lock(c->hlock);
    Py_XDECREF(c->joiners);
    Py_TYPE(c)->tp_free((PyObject *)c);
}

static PyTypeObject CoreType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "janus_swift._janus.Core",
    .tp_doc = "One libjanus queue holding Python objects (internal).",
    .tp_basicsize = sizeof(Core),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = Core_new,
    .tp_dealloc = (destructor)Core_dealloc,
};

/* ------------------------------------------------------------------------ */
/* Face                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    Core *core;
    int is_async;
    PyObject *exc_empty, *exc_full, *exc_shutdown; /* borrowed from the module */
} Face;

static int Face_init(Face *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"core", "is_async", NULL};
    PyObject *core;
    int is_async = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!|p", kwlist, &CoreType, &core, &is_async))
        return -1;
    if (!SyncEmpty) {
        PyErr_SetString(PyExc_RuntimeError, "janus_swift._janus._setup() was not called");
        return -1;
    }
    Py_INCREF(core);
    Py_XSETREF(self->core, (Core *)core);
    self->is_async = is_async;
    self->exc_empty = is_async ? AsyncEmpty : SyncEmpty;
    self->exc_full = is_async ? AsyncFull : SyncFull;
    self->exc_shutdown = is_async ? AsyncShutDown : SyncShutDown;
    return 0;
}

static void Face_dealloc(Face *self)
{
    Py_XDECREF(self->core);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

#define CORE_OR_FAIL(self)                                                                \
    do {                                                                                  \
        if (!(self)->core) {                                                              \
            PyErr_SetString(PyExc_RuntimeError, "queue face not initialised");           \
            return NULL;                                                                  \
        }                                                                                 \
    } while (0)

/* Raises the face's exception for a status that is not JANUS_OK. */
static PyObject *face_raise(Face *self, int st)
{
    if (st < 0)
        return NULL; /* already set */
    switch (st) {
    case JANUS_EMPTY:
        PyErr_SetNone(self->exc_empty);
        return NULL;
    case JANUS_FULL:
        PyErr_SetNone(self->exc_full);
        return NULL;
    case JANUS_SHUTDOWN:
        PyErr_SetNone(self->exc_shutdown);
        return NULL;
    default:
        return set_status_error((janus_status)st);
    }
}

/* Parses (block=True, timeout=None) after `skip` positional arguments of a FASTCALL call
 * into a deadline: -1 = wait forever, 0 = do not wait, else a monotonic time in ns.
 * queue.Queue's rules: block=False ignores timeout; a negative timeout is ValueError. */
static int parse_block_timeout(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                               Py_ssize_t skip, const char *fname, PyObject **item,
                               int64_t *deadline)
{
    PyObject *vals[3] = {NULL, NULL, NULL}; /* item (if skip), block, timeout */
    static const char *names[3] = {"item", "block", "timeout"};
    Py_ssize_t first = skip ? 0 : 1, maxpos = 3 - first;
    if (nargs > maxpos) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %zd arguments (%zd given)", fname,
                     maxpos, nargs);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nargs; i++)
        vals[first + i] = args[i];
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, k);
        Py_ssize_t slot = -1;
        for (Py_ssize_t j = first; j < 3; j++)
            if (PyUnicode_CompareWithASCIIString(name, names[j]) == 0)
                slot = j;
        if (slot < 0) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", fname,
                         name);
            return -1;
        }
        if (vals[slot]) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", fname,
                         names[slot]);
            return -1;
        }
        vals[slot] = args[nargs + k];
    }
    if (skip) {
        if (!vals[0]) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument 'item'", fname);
            return -1;
        }
        *item = vals[0];
    }
    int block = 1;
    if (vals[1]) {
        block = PyObject_IsTrue(vals[1]);
        if (block < 0)
            return -1;
    }
    if (!block) {
        *deadline = 0;
        return 0;
    }
    if (!vals[2] || vals[2] == Py_None) {
        *deadline = -1;
        return 0;
    }
    double t = PyFloat_AsDouble(vals[2]);
    if (t == -1.0 && PyErr_Occurred())
        return -1;
    if (!(t >= 0)) { /* negative or NaN */
        PyErr_SetString(PyExc_ValueError, "'timeout' must be a non-negative number");
        return -1;
    }
    if (t == 0) {
        *deadline = 0;
        return 0;
    }
    if (t > 1e9) { /* ~31 years: a long wait, never an overflow */
        *deadline = -1;
        return 0;
    }
    *deadline = now_ns() + (int64_t)ceil(t * 1e9);
    return 0;
}

/* put(item, block=True, timeout=None): queue.Queue.put. */
/* The blocking put or get of a PriorityQueue: its heap lives in the extension, so it waits on
 * the queue's descriptor (`what`) and tries again, until the try succeeds or `deadline` passes.
 * Returns the last try's status, or -1 with a Python exception set. */
static int priority_wait(Core *c, janus_ready what, int64_t deadline, int on_main, PyObject *item,
                         PyObject **out)
{
    int waiting = what == JANUS_WRITABLE ? JANUS_FULL : JANUS_EMPTY, st = waiting, last;
    for (;;) {
        int64_t ms = next_wait(deadline, on_main, &last);
        if (ms == 0)
            return st;
        if (core_poll(c, what, ms) < 0)
            return -1;
        st = what == JANUS_WRITABLE ? core_try_put(c, item) : core_try_get(c, out);
        if (st != waiting)
            return st;
    }
}

static PyObject *Face_put(Face *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kw)
{
    CORE_OR_FAIL(self);
    PyObject *item;
    int64_t deadline;
    if (parse_block_timeout(args, nargs, kw, 1, "put", &item, &deadline) < 0)
        return NULL;
    Core *c = self->core;
    int st = core_try_put(c, item);
    if (st == JANUS_FULL && deadline != 0) {
        int on_main = PyThread_get_thread_ident() == main_ident, last;
        if (c->kind == JANUS_PRIORITY) {
            st = priority_wait(c, JANUS_WRITABLE, deadline, on_main, item, NULL);
            if (st < 0)
                return NULL;
        } else {
            Py_INCREF(item); /* the queue's reference if the put succeeds */
            for (;;) {
                int64_t ms = next_wait(deadline, on_main, &last);
                if (ms == 0)
                    break;
                Py_BEGIN_ALLOW_THREADS
                st = janus_queue_put(c->q, item, ms);
                Py_END_ALLOW_THREADS
                if (st != JANUS_FULL || last)
                    break;
                if (PyErr_CheckSignals() < 0) {
                    Py_DECREF(item);
                    return NULL;
                }
            }
            if (st != JANUS_OK)
                Py_DECREF(item);
        }
    }
    if (st != JANUS_OK)
        return face_raise(self, st);
    Py_RETURN_NONE;
}

/* get(block=True, timeout=None): queue.Queue.get. */
static PyObject *Face_get(Face *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kw)
{
    CORE_OR_FAIL(self);
    int64_t deadline;
    if (parse_block_timeout(args, nargs, kw, 0, "get", NULL, &deadline) < 0)
        return NULL;
    Core *c = self->core;
    PyObject *out = NULL;
    int st = core_try_get(c, &out);
    if (st == JANUS_EMPTY && deadline != 0) {
        int on_main = PyThread_get_thread_ident() == main_ident, last;
        if (c->kind == JANUS_PRIORITY) {
            st = priority_wait(c, JANUS_READABLE, deadline, on_main, NULL, &out);
            if (st < 0)
                return NULL;
        } else {
            for (;;) {
                int64_t ms = next_wait(deadline, on_main, &last);
                if (ms == 0)
                    break;
                void *p = NULL;
                Py_BEGIN_ALLOW_THREADS
                st = janus_queue_get(c->q, &p, ms);
                Py_END_ALLOW_THREADS
                if (st == JANUS_OK)
                    out = (PyObject *)p;
                if (st != JANUS_EMPTY || last)
                    break;
                if (PyErr_CheckSignals() < 0)
                    return NULL;
            }
        }
    }
    if (st != JANUS_OK)
        return face_raise(self, st);
    return out;
}

static PyObject *Face_put_nowait(Face *self, PyObject *item)
{
    CORE_OR_FAIL(self);
    int st = core_try_put(self->core, item);
    if (st != JANUS_OK)
        return face_raise(self, st);
    Py_RETURN_NONE;
}

static PyObject *Face_get_nowait(Face *self, PyObject *Py_UNUSED(ignored))
{
    CORE_OR_FAIL(self);
    PyObject *out = NULL;
    int st = core_try_get(self->core, &out);
    if (st != JANUS_OK)
        return face_raise(self, st);
    return out;
}

/* _try_put(item) -> True if put, False if full; raises ShutDown (the coroutines' step). */
static PyObject *Face_try_put(Face *self, PyObject *item)
{
    CORE_OR_FAIL(self);
    int st = core_try_put(self->core, item);
    if (st == JANUS_OK)
        Py_RETURN_TRUE;
    if (st == JANUS_FULL)
        Py_RETURN_FALSE;
    return face_raise(self, st);
}

/* _try_get() -> the item, or the module's EMPTY sentinel; raises ShutDown. */
static PyObject *Face_try_get(Face *self, PyObject *Py_UNUSED(ignored))
{
    CORE_OR_FAIL(self);
    PyObject *out = NULL;
    int st = core_try_get(self->core, &out);
    if (st == JANUS_OK)
        return out;
    if (st == JANUS_EMPTY)
        return Py_NewRef(EmptySentinel);
    return face_raise(self, st);
}

static PyObject *Face_task_done(Face *self, PyObject *Py_UNUSED(ignored))
{
    CORE_OR_FAIL(self);
    janus_status st = janus_queue_task_done(self->core->q);
    if (st == JANUS_EINVAL) {
        PyErr_SetString(PyExc_ValueError, "task_done() called too many times");
        return NULL;
    }
    if (st != JANUS_OK)
        return set_status_error(st);
    if (core_wake_joiners(self->core) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* join(): the blocking join (the async face overrides it with a coroutine). */
static PyObject *Face_join(Face *self, PyObject *Py_UNUSED(ignored))
{
    CORE_OR_FAIL(self);
    Core *c = self->core;
    int on_main = PyThread_get_thread_ident() == main_ident;
    for (;;) {
        janus_status st;
        Py_BEGIN_ALLOW_THREADS
        st = janus_queue_join(c->q, on_main ? SLICE_MS : JANUS_WAIT_FOREVER);
        Py_END_ALLOW_THREADS
        if (st == JANUS_OK)
            Py_RETURN_NONE;
        if (st != JANUS_TIMEOUT)
            return set_status_error(st);
        if (PyErr_CheckSignals() < 0)
            return NULL;
    }
}

static PyObject *Face_qsize(Face *self, PyObject *Py_UNUSED(ignored))
{
    CORE_OR_FAIL(self);
    return PyLong_FromSize_t(janus_queue_qsize(self->core->q));
}

static PyObject *Face_empty(Face *self, PyObject *Py_UNUSED(ignored))
{
    CORE_OR_FAIL(self);
    return PyBool_FromLong(janus_queue_empty(self->core->q));
}

static PyObject *Face_full(Face *self, PyObject *Py_UNUSED(ignored))
{
    CORE_OR_FAIL(self);
    return PyBool_FromLong(janus_queue_full(self->core->q));
}

static PyObject *Face_shutdown(Face *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"immediate", NULL};
    int immediate = 0;
    CORE_OR_FAIL(self);
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|p", kwlist, &immediate))
        return NULL;
    if (core_shutdown(self->core, immediate) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *Face_is_shutdown(Face *self, PyObject *Py_UNUSED(ignored))
{
    CORE_OR_FAIL(self);
    return PyBool_FromLong(janus_queue_is_shutdown(self->core->q));
}

/* _fd(what) -> the readiness descriptor (1 = READABLE, 2 = WRITABLE), owned by the queue. */
static PyObject *Face_fd(Face *self, PyObject *arg)
{
    CORE_OR_FAIL(self);
    long what = PyLong_AsLong(arg);
    if (what == -1 && PyErr_Occurred())
        return NULL;
    int fd;
    janus_status st = janus_queue_fd(self->core->q, (janus_ready)what, &fd);
    if (st == JANUS_EINVAL) {
        PyErr_SetString(PyExc_ValueError, "what must be 1 (readable) or 2 (writable)");
        return NULL;
    }
    if (st != JANUS_OK)
        return set_status_error(st);
    return PyLong_FromLong(fd);
}

/* _add_joiner(loop, future): future is resolved (through loop.call_soon_threadsafe) once
 * unfinished_tasks is 0 -- at once if it is 0 now.  Registering before looking at the
 * count is what makes a task_done on another thread impossible to miss (both run under
 * the GIL). */
static PyObject *Face_add_joiner(Face *self, PyObject *const *args, Py_ssize_t nargs)
{
    CORE_OR_FAIL(self);
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "_add_joiner(loop, future)");
        return NULL;
    }
    Core *c = self->core;
    /* Drop the entries of cancelled joins now and then, so that a join cancelled again and
     * again on a queue that never drains does not grow the list without bound. */
    Py_ssize_t n = PyList_GET_SIZE(c->joiners);
    if (n >= 32 && (n & (n - 1)) == 0) {
        PyObject *kept = PyList_New(0);
        if (!kept)
            return NULL;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *pair = PyList_GET_ITEM(c->joiners, i);
            PyObject *done = PyObject_CallMethod(PyTuple_GET_ITEM(pair, 1), "done", NULL);
            if (!done) {
                Py_DECREF(kept);
                return NULL;
            }
            int d = PyObject_IsTrue(done);
            Py_DECREF(done);
            if (!d && PyList_Append(kept, pair) < 0) {
                Py_DECREF(kept);
                return NULL;
            }
        }
        Py_SETREF(c->joiners, kept);
    }
    PyObject *pair = PyTuple_Pack(2, args[0], args[1]);
    if (!pair)
        return NULL;
    int r = PyList_Append(c->joiners, pair);
    Py_DECREF(pair);
    if (r < 0 || core_wake_joiners(c) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *Face_get_maxsize(Face *self, void *Py_UNUSED(closure))
{
    CORE_OR_FAIL(self);
    return PyLong_FromSsize_t(self->core->maxsize);
}

static PyObject *Face_get_unfinished(Face *self, void *Py_UNUSED(closure))
{
    CORE_OR_FAIL(self);
    return PyLong_FromSize_t(janus_queue_unfinished_tasks(self->core->q));
}

/* closed: shut down, and no caller still waiting inside (janus's own count, plus the
 * descriptor waits of priority queues). */
static PyObject *Face_get_closed(Face *self, void *Py_UNUSED(closure))
{
    CORE_OR_FAIL(self);
    Core *c = self->core;
    int closed = janus_queue_is_shutdown(c->q) &&
                 janus_queue_wait_closed(c->q, JANUS_NO_WAIT) == JANUS_OK &&
                 atomic_load(&c->inside) == 0;
    return PyBool_FromLong(closed);
}

static PyObject *Face_get_core(Face *self, void *Py_UNUSED(closure))
{
    CORE_OR_FAIL(self);
    return Py_NewRef((PyObject *)self->core);
}

#define FASTCALL_KW(f) (PyCFunction)(void (*)(void))(f), METH_FASTCALL | METH_KEYWORDS

static PyMethodDef Face_methods[] = {
    {"put", FASTCALL_KW(Face_put),
     "put(item, block=True, timeout=None): as queue.Queue.put."},
    {"get", FASTCALL_KW(Face_get), "get(block=True, timeout=None): as queue.Queue.get."},
    {"put_nowait", (PyCFunction)Face_put_nowait, METH_O, "Put without waiting, or raise Full."},
    {"get_nowait", (PyCFunction)Face_get_nowait, METH_NOARGS,
     "Get without waiting, or raise Empty."},
    {"_try_put", (PyCFunction)Face_try_put, METH_O, NULL},
    {"_try_get", (PyCFunction)Face_try_get, METH_NOARGS, NULL},
    {"task_done", (PyCFunction)Face_task_done, METH_NOARGS,
     "Mark one item as processed; ValueError if called more times than items were put."},
    {"join", (PyCFunction)Face_join, METH_NOARGS,
     "Block until every item put has had its task_done()."},
    {"qsize", (PyCFunction)Face_qsize, METH_NOARGS, "Number of items now."},
    {"empty", (PyCFunction)Face_empty, METH_NOARGS, "Whether the queue holds no item now."},
    {"full", (PyCFunction)Face_full, METH_NOARGS, "Whether 0 < maxsize <= qsize now."},
    {"shutdown", (PyCFunction)(void (*)(void))Face_shutdown, METH_VARARGS | METH_KEYWORDS,
     "shutdown(immediate=False): as queue.Queue.shutdown (Python 3.13)."},
    {"_is_shutdown", (PyCFunction)Face_is_shutdown, METH_NOARGS, NULL},
    {"_fd", (PyCFunction)Face_fd, METH_O, NULL},
    {"_add_joiner", (PyCFunction)(void (*)(void))Face_add_joiner, METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Face_getset[] = {
    {"maxsize", (getter)Face_get_maxsize, NULL, "The maxsize given (<= 0: unbounded).", NULL},
    {"unfinished_tasks", (getter)Face_get_unfinished, NULL,
     "Items put and not yet task_done'd.", NULL},
    {"closed", (getter)Face_get_closed, NULL,
     "Shut down, and no caller is still waiting inside.", NULL},
    {"_core", (getter)Face_get_core, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject FaceType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "janus_swift._janus.Face",
    .tp_doc = "One face (sync or async) of a queue (internal base class).",
    .tp_basicsize = sizeof(Face),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Face_init,
    .tp_dealloc = (destructor)Face_dealloc,
    .tp_methods = Face_methods,
    .tp_getset = Face_getset,
};

/* ------------------------------------------------------------------------ */
/* Module                                                                   */
/* ------------------------------------------------------------------------ */

static PyObject *mod_setup(PyObject *Py_UNUSED(m), PyObject *args)
{
    PyObject *e[6];
    unsigned long ident;
    if (!PyArg_ParseTuple(args, "OOOOOOk", &e[0], &e[1], &e[2], &e[3], &e[4], &e[5], &ident))
        return NULL;
    PyObject **slots[6] = {&SyncEmpty, &SyncFull, &SyncShutDown,
                           &AsyncEmpty, &AsyncFull, &AsyncShutDown};
    for (int i = 0; i < 6; i++) {
        Py_INCREF(e[i]);
        Py_XSETREF(*slots[i], e[i]);
    }
    main_ident = ident;
    Py_RETURN_NONE;
}

static PyObject *mod_wake(PyObject *Py_UNUSED(m), PyObject *fut)
{
    PyObject *done = PyObject_CallMethod(fut, "done", NULL);
    if (!done)
        return NULL;
    int d = PyObject_IsTrue(done);
    Py_DECREF(done);
    if (d < 0)
        return NULL;
    if (!d)
        return PyObject_CallMethod(fut, "set_result", "O", Py_None);
    Py_RETURN_NONE;
}

static PyObject *mod_version(PyObject *Py_UNUSED(m), PyObject *Py_UNUSED(ignored))
{
    return PyUnicode_FromString(janus_version_string());
}

static PyMethodDef mod_methods[] = {
    {"_setup", mod_setup, METH_VARARGS, NULL},
    {"_wake", mod_wake, METH_O, NULL},
    {"libjanus_version", mod_version, METH_NOARGS, "The version of the libjanus loaded."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moddef = {
    PyModuleDef_HEAD_INIT,
    .m_name = "janus_swift._janus",
    .m_doc = "Native core of janus_swift, on libjanus.",
    .m_size = -1,
    .m_methods = mod_methods,
};

PyMODINIT_FUNC PyInit__janus(void)
{
    if (PyType_Ready(&CoreType) < 0 || PyType_Ready(&FaceType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&moddef);
    if (!m)
        return NULL;
    EmptySentinel = PyObject_CallNoArgs((PyObject *)&PyBaseObject_Type);
    WakeFunc = PyObject_GetAttrString(m, "_wake");
    if (!EmptySentinel || !WakeFunc || PyModule_AddObjectRef(m, "EMPTY", EmptySentinel) < 0 ||
        PyModule_AddObjectRef(m, "Core", (PyObject *)&CoreType) < 0 ||
        PyModule_AddObjectRef(m, "Face", (PyObject *)&FaceType) < 0 ||
        PyModule_AddIntConstant(m, "FIFO", JANUS_FIFO) < 0 ||
        PyModule_AddIntConstant(m, "LIFO", JANUS_LIFO) < 0 ||
        PyModule_AddIntConstant(m, "PRIORITY", JANUS_PRIORITY) < 0 ||
        PyModule_AddIntConstant(m, "READABLE", JANUS_READABLE) < 0 ||
        PyModule_AddIntConstant(m, "WRITABLE", JANUS_WRITABLE) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
