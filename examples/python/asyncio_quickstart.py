#!/usr/bin/env python3
"""janus's README quick start, on libjanus through ctypes and an asyncio loop.

    python3 asyncio_quickstart.py [path/to/libjanus.so] [items]

The library path is argv[1], else $JANUS_LIB, else ../../.build/release/libjanus.so
relative to this file, as for sum_consumers.py.

Python's janus quick start: a thread puts 0..99 with sync_q.put() and then
waits in sync_q.join(); a coroutine takes them with `await async_q.get()`,
checks the order and calls task_done().  Here the same program runs on the C
library, and the asyncio side is the queue's event-loop descriptor:

- janus_queue_fd(q, JANUS_READABLE) is a file descriptor that is readable
  while a get would not wait.  loop.add_reader() watches it, as it would a
  socket; the callback only sets an asyncio.Event.
- When woken, the coroutine gets with JANUS_NO_WAIT until the queue answers
  JANUS_EMPTY.  That answer is what makes the descriptor quiet again, so the
  coroutine never waits while an item is in the queue, and nothing in the
  event loop ever blocks.
- The thread's blocking calls (put, join) release the GIL inside ctypes, so
  the loop keeps running while the thread waits for room or for task_done.
- After join the thread shuts the queue down (normally: nothing is lost).
  The descriptor stays readable then, and the next get answers
  JANUS_SHUTDOWN: that is how the coroutine learns that the stream ended.

The queue is bounded (maxsize 10) so that the thread really waits for the
coroutine.  Prints the sum; exits 0 if it and the order are right, 1 if not.
"""

import asyncio
import ctypes
import os
import sys
from ctypes import POINTER, byref, c_bool, c_char_p, c_int, c_int64, c_size_t, c_void_p

JANUS_OK, JANUS_EMPTY, JANUS_FULL, JANUS_TIMEOUT, JANUS_SHUTDOWN = 0, 1, 2, 3, 4
JANUS_FIFO = 0
JANUS_NO_WAIT = 0
JANUS_WAIT_FOREVER = -1
JANUS_READABLE, JANUS_WRITABLE = 1, 2   # janus_ready

queue_p = c_void_p  # janus_queue *, opaque

# Only what this program calls; every function gets its real types (int64_t
# timeouts, size_t, bool and pointers are not all C int).
PROTOTYPES = {
    "janus_queue_new": (queue_p, [c_int, c_size_t]),
    "janus_queue_free": (None, [queue_p]),
    "janus_queue_put": (c_int, [queue_p, c_void_p, c_int64]),
    "janus_queue_get": (c_int, [queue_p, POINTER(c_void_p), c_int64]),
    "janus_queue_task_done": (c_int, [queue_p]),
    "janus_queue_join": (c_int, [queue_p, c_int64]),
    "janus_queue_shutdown": (c_int, [queue_p, c_bool]),
    "janus_queue_unfinished_tasks": (c_size_t, [queue_p]),
    "janus_queue_fd": (c_int, [queue_p, c_int, POINTER(c_int)]),
    "janus_strerror": (c_char_p, [c_int]),
    "janus_version_string": (c_char_p, []),
}


def load(path):
    lib = ctypes.CDLL(path)  # CDLL releases the GIL during each call
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


class JanusError(Exception):
    pass


def threaded(lib, q, count):
    """The blocking side, in a worker thread: sync_q.put() ... sync_q.join()."""
    try:
        for i in range(count):
            # The integer itself is the item (a void *); 0 is NULL, a valid item.
            st = lib.janus_queue_put(q, i, JANUS_WAIT_FOREVER)
            if st != JANUS_OK:
                raise JanusError("put %d: %s" % (i, lib.janus_strerror(st).decode()))
        st = lib.janus_queue_join(q, JANUS_WAIT_FOREVER)  # until every item had its task_done
        if st != JANUS_OK:
            raise JanusError("join: " + lib.janus_strerror(st).decode())
    finally:
        # Nothing more will come (also after an error): the coroutine's next
        # get answers JANUS_SHUTDOWN once the queue is drained.
        lib.janus_queue_shutdown(q, False)


async def async_coro(lib, q, fd, count):
    """The asyncio side: `val = await async_q.get(); async_q.task_done()`."""
    loop = asyncio.get_running_loop()
    readable = asyncio.Event()
    loop.add_reader(fd, readable.set)  # level-triggered: fires while readable
    item = c_void_p()
    expected, total = 0, 0
    try:
        while True:
            await readable.wait()
            readable.clear()
            # Take everything there is.  Stopping at JANUS_EMPTY matters: it
            # quiets the descriptor, so the reader does not fire again until
            # the next put.  (An item arriving after the clear() above sets
            # the event again; at worst we wake once for nothing.)
            while True:
                st = lib.janus_queue_get(q, byref(item), JANUS_NO_WAIT)
                if st == JANUS_EMPTY:
                    break
                if st == JANUS_SHUTDOWN:      # shut down and drained: the end
                    if expected != count:
                        raise JanusError("got %d of %d items" % (expected, count))
                    return total
                if st != JANUS_OK:
                    raise JanusError("get: " + lib.janus_strerror(st).decode())
                val = item.value or 0         # ctypes gives NULL as None
                try:
                    if val != expected:
                        raise JanusError("got %d, expected %d" % (val, expected))
                    expected += 1
                    total += val
                finally:
                    # Also for a bad item: the thread's join waits for it.
                    lib.janus_queue_task_done(q)
    finally:
        loop.remove_reader(fd)               # before the queue (and its fd) goes away


async def main(lib, count):
    q = lib.janus_queue_new(JANUS_FIFO, 10)
    if not q:
        raise JanusError("janus_queue_new failed")
    try:
        fd = c_int(-1)
        st = lib.janus_queue_fd(q, JANUS_READABLE, byref(fd))  # the queue's: never close it
        if st != JANUS_OK:
            raise JanusError("janus_queue_fd: " + lib.janus_strerror(st).decode())
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(None, threaded, lib, q, count)
        try:
            total = await async_coro(lib, q, fd.value, count)
        except BaseException:
            # Nobody consumes any more: end the thread's put or join, and let
            # it finish before q is freed; our error is the one to report.
            lib.janus_queue_shutdown(q, True)
            try:
                await fut
            except Exception:
                pass
            raise
        await fut                              # the thread's own error, if it had one
        if lib.janus_queue_unfinished_tasks(q) != 0:
            raise JanusError("unfinished tasks left")
        return total
    finally:
        lib.janus_queue_free(q)


def run():
    path = library_path()
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    try:
        lib = load(path)
    except (OSError, AttributeError) as e:
        print("asyncio quickstart: cannot load libjanus from %s: %s "
              "(build it with make lib, or pass its path / set JANUS_LIB)" % (path, e),
              file=sys.stderr)
        return 1
    try:
        total = asyncio.run(main(lib, count))
    except JanusError as e:
        print("asyncio quickstart: FAILED:", e, file=sys.stderr)
        return 1
    expected = count * (count - 1) // 2
    ok = total == expected
    print("asyncio quickstart: a thread put 0..%d, an asyncio coroutine woken by "
          "janus_queue_fd got them in order: sum %d, expected %d (libjanus %s): %s"
          % (count - 1, total, expected, lib.janus_version_string().decode(),
             "OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(run())
