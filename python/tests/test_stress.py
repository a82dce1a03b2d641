"""Threads and loops at once with exact accounting; references; the GIL; no deadlock."""
import asyncio
import gc
import sys
import threading
import time
import tracemalloc

import pytest

import janus_swift as janus

from conftest import start


@pytest.mark.parametrize("maxsize", [0, 8])
def test_mpmc_threads_and_loops_exact_accounting(kind, maxsize):
    """3 producer threads + 1 producer loop, 2 consumer threads + 1 consumer loop: every
    (producer, seq) comes out exactly once, and per producer in order for FIFO."""
    q = kind(maxsize)
    per, n_thread_prod, n_thread_cons = 4000, 3, 2
    producers = n_thread_prod + 1
    total = per * producers
    out = []
    lock = threading.Lock()
    loop_produced = threading.Event()

    def take(item):
        with lock:
            out.append(item)

    def thread_producer(p):
        for i in range(per):
            q.sync_q.put((p, i))

    def thread_consumer():
        local = []
        while True:
            try:
                local.append(q.sync_q.get(timeout=10))
            except janus.SyncQueueShutDown:
                break
            q.sync_q.task_done()
        with lock:
            out.extend(local)

    def loop_side():
        async def produce():
            for i in range(per):
                await q.async_q.put((n_thread_prod, i))
            loop_produced.set()

        async def consume():
            local = []
            while True:
                try:
                    local.append(await q.async_q.get())
                except janus.AsyncQueueShutDown:
                    break
                q.async_q.task_done()
            with lock:
                out.extend(local)

        async def main():
            await asyncio.gather(produce(), consume())

        asyncio.run(main())

    cons = [start(thread_consumer) for _ in range(n_thread_cons)]
    side = start(loop_side)
    prods = [start(thread_producer, p) for p in range(n_thread_prod)]
    for t in prods:
        t.join(60)
    assert loop_produced.wait(60)
    q.sync_q.join()
    q.shutdown()
    for t in cons + [side]:
        t.join(60)
        assert not t.is_alive()
    assert len(out) == total
    assert sorted(out) == sorted((p, i) for p in range(producers) for i in range(per))
    assert q.sync_q.unfinished_tasks == 0 and q.sync_q.qsize() == 0


def test_fifo_per_producer_order_single_consumer():
    q = janus.Queue(16)
    per, n = 10000, 4
    for p in range(n):
        start(lambda p=p: [q.sync_q.put((p, i)) for i in range(per)])
    last = [-1] * n
    for _ in range(per * n):
        p, i = q.sync_q.get(timeout=20)
        assert i == last[p] + 1
        last[p] = i
    assert last == [per - 1] * n


def test_refcounts_put_get(kind):
    q = kind()
    obj = (1, object())
    base = sys.getrefcount(obj)
    for _ in range(100):
        q.sync_q.put(obj)
    assert sys.getrefcount(obj) == base + 100
    for _ in range(50):
        assert q.sync_q.get() is obj
    assert sys.getrefcount(obj) == base + 50
    for _ in range(50):
        assert q.async_q.get_nowait() is obj
    assert sys.getrefcount(obj) == base


def test_refcounts_failed_puts_keep_nothing(kind):
    q = kind(1)
    obj = (1, object())
    q.sync_q.put(obj)
    base = sys.getrefcount(obj)
    for _ in range(100):
        with pytest.raises(janus.SyncQueueFull):
            q.sync_q.put_nowait(obj)
        with pytest.raises(janus.SyncQueueFull):
            q.sync_q.put(obj, timeout=0.0001)
    q.shutdown()
    with pytest.raises(janus.SyncQueueShutDown):
        q.sync_q.put(obj)
    assert sys.getrefcount(obj) == base


@pytest.mark.parametrize("how", ["immediate", "close", "gc", "normal_then_immediate"])
def test_discarded_items_are_released(kind, how):
    class Tracked:
        alive = 0

        def __init__(self, p):
            self.p = p
            Tracked.alive += 1

        def __lt__(self, other):
            return self.p < other.p

        def __del__(self):
            Tracked.alive -= 1

    q = kind()
    for i in range(1000):
        q.sync_q.put(Tracked(i))
    kept = q.sync_q.get()
    assert Tracked.alive == 1000
    if how == "immediate":
        q.shutdown(immediate=True)
    elif how == "close":
        q.close()
    elif how == "normal_then_immediate":
        q.shutdown()
        assert Tracked.alive == 1000
        q.shutdown(immediate=True)
    else:
        del q
        gc.collect()
    assert Tracked.alive == 1
    del kept
    assert Tracked.alive == 0


def test_del_during_discard_may_use_the_queue(kind):
    """destroy runs with no lock held: a __del__ may call the queue."""
    q = kind()
    seen = []

    class Probe:
        def __init__(self, p):
            self.p = p

        def __lt__(self, other):
            return self.p < other.p

        def __del__(self):
            seen.append(q.sync_q.qsize())

    for i in range(10):
        q.sync_q.put(Probe(i))
    q.close()
    assert len(seen) == 10


def test_no_leak_over_100k_items_tracemalloc(kind):
    q = kind(1000)
    n = 100_000

    def cycle():
        def produce():
            for i in range(n):
                q.sync_q.put((i, "x" * (i % 7)))

        t = start(produce)
        for _ in range(n):
            q.sync_q.get()
            q.sync_q.task_done()
        t.join()

    cycle()  # warm up: heap arrays, descriptors, interned objects
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    cycle()
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    assert grown < 64 * 1024, grown


def test_no_leak_async_100k(kind):
    n = 100_000
    q = kind(256)

    async def cycle():
        async def produce():
            for i in range(n):
                await q.async_q.put((i, str(i)))

        p = asyncio.ensure_future(produce())
        for _ in range(n):
            await q.async_q.get()
        await p

    asyncio.run(cycle())
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    asyncio.run(cycle())
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    assert grown < 256 * 1024, grown


def test_blocked_get_releases_the_gil(kind):
    q = kind()
    t = start(lambda: q.sync_q.get(timeout=3))
    time.sleep(0.05)
    # Pure Python work in this thread must run at full speed while the other is blocked.
    t0 = time.monotonic()
    x = 0
    for i in range(2_000_000):
        x += i
    elapsed = time.monotonic() - t0
    q.sync_q.put((0, 0))
    t.join(5)
    assert elapsed < 2.5
    assert not t.is_alive()


def test_blocked_put_and_join_release_the_gil(kind):
    q = kind(1)
    q.sync_q.put((0, 0))
    counter = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            counter[0] += 1

    t1 = start(lambda: q.sync_q.put((1, 1), timeout=2))
    t2 = start(q.sync_q.join)
    s = start(spin)
    time.sleep(0.3)
    n = counter[0]
    stop.set()
    s.join()
    assert n > 10_000  # the spinner ran while the others were blocked
    q.sync_q.get()
    q.sync_q.task_done()
    t1.join(5)
    q.sync_q.get()
    q.sync_q.task_done()
    t2.join(5)
    assert not t1.is_alive() and not t2.is_alive()


def test_priority_no_deadlock_with_slow_comparisons():
    """Comparisons that run Python code (and give up the GIL mid-way) on several threads at
    once, with gets waiting: must neither deadlock nor lose anything."""
    class Slow:
        def __init__(self, p, tag):
            self.p, self.tag = p, tag

        def __lt__(self, other):
            if self.p % 97 == 0:
                time.sleep(0)  # gives the GIL away while the heap lock is held
            return self.p < other.p

    q = janus.PriorityQueue(50)
    n_prod, per = 4, 1500
    got = []
    lock = threading.Lock()

    def prod(k):
        for i in range(per):
            q.sync_q.put(Slow((i * 31 + k) % 1000, (k, i)))

    def cons():
        while True:
            try:
                x = q.sync_q.get(timeout=20)
            except janus.SyncQueueShutDown:
                return
            with lock:
                got.append(x.tag)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads as often as possible
    try:
        cs = [start(cons) for _ in range(3)]

        def loop_side():
            async def main():
                for i in range(per):
                    await q.async_q.put(Slow(i % 1000, ("loop", i)))
            asyncio.run(main())

        ps = [start(prod, k) for k in range(n_prod)] + [start(loop_side)]
        for t in ps:
            t.join(60)
            assert not t.is_alive(), "deadlock"
        deadline = time.monotonic() + 30
        while q.sync_q.qsize() and time.monotonic() < deadline:
            time.sleep(0.01)
        q.shutdown()
        for t in cs:
            t.join(30)
            assert not t.is_alive(), "deadlock"
    finally:
        sys.setswitchinterval(old)
    assert sorted(map(repr, got)) == sorted(
        map(repr, [(k, i) for k in range(n_prod) for i in range(per)]
            + [("loop", i) for i in range(per)]))


def test_thread_producer_async_consumer_priority_order():
    async def main():
        q = janus.PriorityQueue()
        for v in [5, 3, 9, 1]:
            q.sync_q.put(v)
        return [await q.async_q.get() for _ in range(4)]

    assert asyncio.run(main()) == [1, 3, 5, 9]
