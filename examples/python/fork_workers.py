#!/usr/bin/env python3
"""libjanus and multiprocessing with the fork start method.

    python3 fork_workers.py [path/to/libjanus.so] [workers] [items]

The parent loads libjanus.so (ctypes) and makes a queue of its own; then a pool
of `workers` processes, forked from it, each makes a fresh queue and moves
`items` numbered items through it: its main thread puts, two Python threads
get, every item exactly once.  Each worker also checks that the parent's
queue answers JANUS_EFORK at once (janus.h, "fork": objects made before the
fork are the parent's).  Before libjanus repaired the Swift runtime's cached
thread id in forked children, such workers hung on their first contended call
more often than not; so every worker here must finish within a generous bound.

Exits 0 when every worker reported the right count and sum, 1 otherwise.
"""

import ctypes
import multiprocessing
import os
import sys
import threading
from ctypes import POINTER, c_int, c_int64, c_size_t, c_void_p

JANUS_OK, JANUS_SHUTDOWN, JANUS_EFORK = 0, 4, 24
JANUS_FIFO = 0
JANUS_NO_WAIT, JANUS_WAIT_FOREVER = 0, -1


def load(path):
    lib = ctypes.CDLL(path)
    for name, restype, argtypes in [
        ("janus_queue_new", c_void_p, [c_int, c_size_t]),
        ("janus_queue_free", None, [c_void_p]),
        ("janus_queue_put", c_int, [c_void_p, c_void_p, c_int64]),
        ("janus_queue_get", c_int, [c_void_p, POINTER(c_void_p), c_int64]),
        ("janus_queue_task_done", c_int, [c_void_p]),
        ("janus_queue_shutdown", c_int, [c_void_p, ctypes.c_bool]),
    ]:
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


LIB = None          # loaded in the parent, before the fork: the case that used to hang
PARENT_QUEUE = None


def worker(items):
    """Runs in a forked child: a fresh queue, main thread puts, two threads get."""
    lib = LIB
    q = lib.janus_queue_new(JANUS_FIFO, 64)
    got = [0, 0]
    sums = [0, 0]

    def getter(who):
        item = c_void_p()
        while lib.janus_queue_get(q, ctypes.byref(item), JANUS_WAIT_FOREVER) == JANUS_OK:
            got[who] += 1
            sums[who] += item.value or 0
            lib.janus_queue_task_done(q)

    threads = [threading.Thread(target=getter, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for i in range(1, items + 1):
        if lib.janus_queue_put(q, i, JANUS_WAIT_FOREVER) != JANUS_OK:
            return ("put failed", 0, 0)
    lib.janus_queue_shutdown(q, False)
    for t in threads:
        t.join()
    lib.janus_queue_free(q)
    status = lib.janus_queue_put(PARENT_QUEUE, None, JANUS_WAIT_FOREVER)
    if status != JANUS_EFORK:
        return ("parent's queue answered %d, not JANUS_EFORK" % status, 0, 0)
    return (None, sum(got), sum(sums))


def main():
    global LIB, PARENT_QUEUE
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "JANUS_LIB", os.path.join(here, "../../.build/release/libjanus.so"))
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    items = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
    tasks = workers * 8  # each worker process runs several tasks, each on a fresh queue

    LIB = load(path)
    PARENT_QUEUE = LIB.janus_queue_new(JANUS_FIFO, 0)
    expected_sum = items * (items + 1) // 2
    ctx = multiprocessing.get_context("fork")
    failures = 0
    with ctx.Pool(workers, maxtasksperchild=1) as pool:
        pending = [pool.apply_async(worker, (items,)) for _ in range(tasks)]
        for n, result in enumerate(pending):
            try:
                error, count, total = result.get(timeout=60)
            except multiprocessing.TimeoutError:
                print("FAIL task %d: no answer in 60 s (a hung worker)" % n)
                failures += 1
                continue
            if error or count != items or total != expected_sum:
                print("FAIL task %d: %s, %d items, sum %d" % (n, error, count, total))
                failures += 1
    LIB.janus_queue_free(PARENT_QUEUE)
    print("fork_workers: %d tasks in %d forked workers (one task per worker process), "
          "%d items each: %s" % (tasks, workers, items, "ok" if failures == 0 else "%d FAILED" % failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
