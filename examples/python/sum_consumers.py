#!/usr/bin/env python3
"""libjanus from Python with ctypes: Python threads feed Swift async consumers.

    python3 sum_consumers.py [path/to/libjanus.so] [items-per-thread]

The library path is argv[1], else $JANUS_LIB, else ../../.build/release/libjanus.so
relative to this file.  Four Python threads put the integers 0 .. 4*n-1 (as
void * values; 0 is NULL, a valid item) into one bounded queue; a Swift
consumer with four tasks (janus_consume_async) takes them and calls back into
Python, which sums them.  Every item must arrive exactly once.  Prints one
result line; exits 0 if the sum and counts are right, 1 if not.

Points that matter with ctypes:
- Every function gets argtypes and restype (below): int64_t timeouts,
  size_t sizes and bool results are not C int, and a void * restype left to
  the default int would be truncated to 32 bits.
- ctypes.CDLL releases the GIL around each call, so a Python thread blocked
  in janus_queue_put() does not stop the Swift threads from calling back in.
- The consume callback runs on Swift concurrency threads, several at once:
  ctypes takes the GIL for it, and a threading.Lock guards the shared state.
  It must not block (janus.h): taking the GIL and a short lock is fine, a
  blocking janus call is not.
- The CFUNCTYPE object must stay alive for as long as the consumer can call
  it: it is kept in a variable until janus_consumer_free() has returned.
"""

import ctypes
import os
import sys
import threading
import time
from ctypes import (CFUNCTYPE, POINTER, Structure, c_bool, c_char_p, c_int,
                    c_int64, c_size_t, c_uint, c_void_p)

# janus_status, janus_kind (C enums: int)
JANUS_OK, JANUS_EMPTY, JANUS_FULL, JANUS_TIMEOUT, JANUS_SHUTDOWN = 0, 1, 2, 3, 4
JANUS_EINVAL, JANUS_ENOMEM, JANUS_EMISUSE = 20, 21, 22
JANUS_FIFO, JANUS_LIFO, JANUS_PRIORITY = 0, 1, 2
JANUS_NO_WAIT = 0
JANUS_WAIT_FOREVER = -1

janus_status = c_int
janus_kind = c_int
queue_p = c_void_p      # janus_queue *, opaque
consumer_p = c_void_p   # janus_consumer *, opaque
producer_p = c_void_p   # janus_producer *, opaque

DESTROY_FN = CFUNCTYPE(None, c_void_p, c_void_p)               # janus_destroy_fn
COMPARE_FN = CFUNCTYPE(c_int, c_void_p, c_void_p, c_void_p)    # janus_compare_fn
CONSUME_FN = CFUNCTYPE(c_int, c_void_p, c_void_p)              # janus_consume_fn
PRODUCE_FN = CFUNCTYPE(janus_status, POINTER(c_void_p), c_void_p)  # janus_produce_fn


class JanusOptions(Structure):
    _fields_ = [("kind", janus_kind), ("maxsize", c_size_t), ("destroy", DESTROY_FN),
                ("compare", COMPARE_FN), ("ctx", c_void_p)]


# name: (restype, argtypes) for every function of janus.h.
PROTOTYPES = {
    "janus_queue_new": (queue_p, [janus_kind, c_size_t]),
    "janus_queue_new_with": (queue_p, [POINTER(JanusOptions)]),
    "janus_queue_free": (None, [queue_p]),
    "janus_queue_put": (janus_status, [queue_p, c_void_p, c_int64]),
    "janus_queue_get": (janus_status, [queue_p, POINTER(c_void_p), c_int64]),
    "janus_queue_put_many": (janus_status, [queue_p, POINTER(c_void_p), c_size_t,
                                            POINTER(c_size_t), c_int64]),
    "janus_queue_get_many": (janus_status, [queue_p, POINTER(c_void_p), c_size_t,
                                            POINTER(c_size_t), c_int64]),
    "janus_queue_task_done": (janus_status, [queue_p]),
    "janus_queue_join": (janus_status, [queue_p, c_int64]),
    "janus_queue_qsize": (c_size_t, [queue_p]),
    "janus_queue_empty": (c_bool, [queue_p]),
    "janus_queue_full": (c_bool, [queue_p]),
    "janus_queue_maxsize": (c_size_t, [queue_p]),
    "janus_queue_unfinished_tasks": (c_size_t, [queue_p]),
    "janus_queue_shutdown": (janus_status, [queue_p, c_bool]),
    "janus_queue_close": (None, [queue_p]),
    "janus_queue_is_shutdown": (c_bool, [queue_p]),
    "janus_queue_wait_closed": (janus_status, [queue_p, c_int64]),
    "janus_strerror": (c_char_p, [janus_status]),
    "janus_version_number": (c_uint, []),
    "janus_version_string": (c_char_p, []),
    "janus_consume_async": (consumer_p, [queue_p, CONSUME_FN, c_void_p, c_size_t]),
    "janus_consumer_wait": (janus_status, [consumer_p, c_int64]),
    "janus_consumer_cancel": (None, [consumer_p]),
    "janus_consumer_free": (None, [consumer_p]),
    "janus_produce_async": (producer_p, [queue_p, PRODUCE_FN, c_void_p]),
    "janus_producer_wait": (janus_status, [producer_p, c_int64]),
    "janus_producer_cancel": (None, [producer_p]),
    "janus_producer_free": (None, [producer_p]),
}


def load(path):
    """Loads libjanus and declares every prototype (fails if one is missing)."""
    lib = ctypes.CDLL(path)  # CDLL: the GIL is released during each call
    for name, (restype, argtypes) in PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


def library_path():
    if len(sys.argv) > 1:
        return sys.argv[1]
    if os.environ.get("JANUS_LIB"):
        return os.environ["JANUS_LIB"]
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", ".build", "release", "libjanus.so"))


def main():
    path = library_path()
    per_thread = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    producers, swift_tasks, maxsize = 4, 4, 256
    total = producers * per_thread

    try:
        lib = load(path)
    except (OSError, AttributeError) as e:
        print("python demo: cannot load libjanus from %s: %s "
              "(build it with make lib, or pass its path / set JANUS_LIB)" % (path, e),
              file=sys.stderr)
        return 1
    errors = []

    def status_name(st):
        return lib.janus_strerror(st).decode()

    # Shared by the Swift tasks: guarded by lock.
    lock = threading.Lock()
    state = {"sum": 0, "count": 0, "bad": 0, "threads": set()}
    seen = bytearray(total)

    def consume(item, _ctx):
        # ctypes passes a NULL void * as None: item 0.
        value = item or 0
        try:
            with lock:
                state["sum"] += value
                state["count"] += 1
                state["threads"].add(threading.get_ident())
                if 0 <= value < total and seen[value] == 0:
                    seen[value] = 1
                else:
                    state["bad"] += 1
            return 0  # go on
        except BaseException:  # nothing may propagate into Swift
            return 1  # stop the consumer

    consume_cb = CONSUME_FN(consume)  # must outlive the consumer: kept until freed

    q = lib.janus_queue_new(JANUS_FIFO, maxsize)
    if not q:
        print("python demo: janus_queue_new failed")
        return 1
    consumer = lib.janus_consume_async(q, consume_cb, None, swift_tasks)
    if not consumer:
        lib.janus_queue_free(q)
        print("python demo: janus_consume_async failed")
        return 1

    def produce(first):
        for value in range(first, total, producers):
            st = lib.janus_queue_put(q, value, JANUS_WAIT_FOREVER)
            if st != JANUS_OK:
                errors.append("put %d: %s" % (value, status_name(st)))
                return

    start = time.monotonic()
    threads = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    st = lib.janus_queue_join(q, 30000)           # every item has had its task_done
    if st != JANUS_OK:
        errors.append("join: " + status_name(st))
    st = lib.janus_queue_shutdown(q, False)       # let the consumer end
    if st != JANUS_OK:
        errors.append("shutdown: " + status_name(st))
    st = lib.janus_consumer_wait(consumer, 30000)
    if st != JANUS_OK:
        errors.append("consumer_wait: " + status_name(st))
    if lib.janus_queue_unfinished_tasks(q) != 0 or not lib.janus_queue_is_shutdown(q):
        errors.append("queue not drained and shut down")
    lib.janus_consumer_free(consumer)             # fn is never called after this
    lib.janus_queue_free(q)
    elapsed = time.monotonic() - start
    del consume_cb                                # only now may the callback go

    expected = total * (total - 1) // 2
    with lock:
        got_sum, count, bad = state["sum"], state["count"], state["bad"]
        swift_threads = len(state["threads"])
    missing = seen.count(0)
    ok = not errors and got_sum == expected and count == total and bad == 0 and missing == 0
    for e in errors:
        print("error:", e, file=sys.stderr)
    print("python demo: %d threads x %d items -> %d Swift tasks on %d threads: "
          "sum %d expected %d, count %d, missing %d, duplicated/bad %d, %.2f s "
          "(libjanus %s): %s"
          % (producers, per_thread, swift_tasks, swift_threads, got_sum, expected, count,
             missing, bad, elapsed, lib.janus_version_string().decode(),
             "OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
