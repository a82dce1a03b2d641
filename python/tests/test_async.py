"""The asyncio face, alone and against the blocking face."""
import asyncio
import threading
import time

import pytest

import janus_swift as janus

from conftest import run, start


def test_async_basics(kind):
    async def main():
        q = kind(2)
        await q.async_q.put(2)
        q.async_q.put_nowait(1)
        with pytest.raises(janus.AsyncQueueFull):
            q.async_q.put_nowait(3)
        assert q.async_q.full() and q.async_q.qsize() == 2 and not q.async_q.empty()
        got = {await q.async_q.get(), q.async_q.get_nowait()}
        with pytest.raises(janus.AsyncQueueEmpty):
            q.async_q.get_nowait()
        assert got == {1, 2}
        assert q.async_q.unfinished_tasks == 2
        q.async_q.task_done()
        q.async_q.task_done()
        with pytest.raises(ValueError):
            q.async_q.task_done()
        await q.async_q.join()
        await q.aclose()
        assert q.closed and q.async_q.closed and q.sync_q.closed

    run(main())


def test_async_orders():
    async def main():
        for kind, expect in ((janus.Queue, [3, 1, 2]), (janus.LifoQueue, [2, 1, 3]),
                             (janus.PriorityQueue, [1, 2, 3])):
            q = kind()
            for v in (3, 1, 2):
                await q.async_q.put(v)
            assert [await q.async_q.get() for _ in range(3)] == expect

    run(main())


def test_async_get_waits_for_async_put(kind):
    async def main():
        q = kind()

        async def later():
            await asyncio.sleep(0.02)
            await q.async_q.put(9)

        t = asyncio.ensure_future(later())
        assert await asyncio.wait_for(q.async_q.get(), 5) == 9
        await t

    run(main())


def test_async_put_waits_for_room(kind):
    async def main():
        q = kind(1)
        await q.async_q.put(1)
        putter = asyncio.ensure_future(q.async_q.put(2))
        await asyncio.sleep(0.02)
        assert not putter.done()
        assert await q.async_q.get() == 1
        await asyncio.wait_for(putter, 5)
        assert q.async_q.get_nowait() == 2

    run(main())


def test_thread_to_asyncio(kind):
    n = 20000

    async def main():
        q = kind(64)

        def produce():
            for i in range(n):
                q.sync_q.put(i)
            q.sync_q.join()

        t = start(produce)
        got = []
        for _ in range(n):
            got.append(await q.async_q.get())
            q.async_q.task_done()
        await asyncio.get_running_loop().run_in_executor(None, t.join)
        return got

    got = run(main())
    if kind is janus.Queue:
        assert got == list(range(n))
    assert sorted(got) == list(range(n))


def test_asyncio_to_thread(kind):
    n = 20000
    got = []

    async def main():
        q = kind(64)

        def consume():
            for _ in range(n):
                got.append(q.sync_q.get())
                q.sync_q.task_done()

        t = start(consume)
        for i in range(n):
            await q.async_q.put(i)
        await q.async_q.join()  # released by the thread's task_done calls
        t.join(5)

    run(main())
    assert sorted(got) == list(range(n))


def test_sync_join_released_by_async_task_done():
    async def main():
        q = janus.Queue()
        for i in range(3):
            q.sync_q.put(i)
        joined = threading.Event()
        t = start(lambda: (q.sync_q.join(), joined.set()))
        for _ in range(3):
            await q.async_q.get()
            assert not joined.is_set()
            q.async_q.task_done()
        await asyncio.get_running_loop().run_in_executor(None, joined.wait, 5)
        assert joined.is_set()
        t.join()

    run(main())


def test_async_join_released_by_sync_task_done_in_thread():
    async def main():
        q = janus.Queue()
        for i in range(3):
            q.sync_q.put(i)

        def worker():
            for _ in range(3):
                q.sync_q.get()
                time.sleep(0.01)
                q.sync_q.task_done()

        t = start(worker)
        await asyncio.wait_for(q.async_q.join(), 5)
        assert q.async_q.unfinished_tasks == 0
        t.join()

    run(main())


def test_async_join_cancel_then_join_again():
    async def main():
        q = janus.Queue()
        q.sync_q.put(1)
        for _ in range(40):
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(q.async_q.join(), 0.001)
        q.sync_q.get()
        q.sync_q.task_done()
        await asyncio.wait_for(q.async_q.join(), 5)

    run(main())


def test_wait_for_timeout_on_get_and_put():
    async def main():
        q = janus.Queue(1)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(q.async_q.get(), 0.02)
        await q.async_q.put(1)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(q.async_q.put(2), 0.02)
        assert q.async_q.qsize() == 1 and q.async_q.unfinished_tasks == 1
        assert await q.async_q.get() == 1

    run(main())


def test_asyncio_timeout_context():
    if not hasattr(asyncio, "timeout"):
        pytest.skip("asyncio.timeout is 3.11+")

    async def main():
        q = janus.Queue()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.02):
                await q.async_q.get()
        q.sync_q.put(5)
        async with asyncio.timeout(1):
            assert await q.async_q.get() == 5

    run(main())


def test_cancelled_get_loses_no_item(kind):
    """A getter that is cancelled after the item arrived but before it ran hands on."""
    async def main():
        q = kind()
        g1 = asyncio.ensure_future(q.async_q.get())
        g2 = asyncio.ensure_future(q.async_q.get())
        await asyncio.sleep(0.01)
        q.sync_q.put(1)
        # Let the descriptor wake g1, then cancel it before it runs.
        for _ in range(100):
            w = next(iter(q.async_q._waiters.values()))
            if w.woken:
                break
            await asyncio.sleep(0)
        g1.cancel()
        assert await asyncio.wait_for(g2, 5) == 1
        with pytest.raises(asyncio.CancelledError):
            await g1
        assert q.async_q.qsize() == 0

    run(main())


def test_many_cancellations_lose_nothing():
    async def main():
        q = janus.Queue()
        n = 2000
        start(lambda: [q.sync_q.put(i) or (i % 50 == 0 and time.sleep(0.001)) for i in range(n)])
        got = []
        while len(got) < n:
            try:
                got.append(await asyncio.wait_for(q.async_q.get(), 0.0005))
            except asyncio.TimeoutError:
                pass
        assert sorted(got) == list(range(n))
        assert q.async_q.qsize() == 0

    run(main())


def test_cancelled_put_inserts_nothing():
    async def main():
        q = janus.Queue(1)
        await q.async_q.put(1)
        p = asyncio.ensure_future(q.async_q.put(2))
        await asyncio.sleep(0.01)
        p.cancel()
        with pytest.raises(asyncio.CancelledError):
            await p
        assert q.async_q.get_nowait() == 1
        with pytest.raises(janus.AsyncQueueEmpty):
            q.async_q.get_nowait()

    run(main())


def test_many_waiters_one_loop(kind):
    async def main():
        q = kind()
        getters = [asyncio.ensure_future(q.async_q.get()) for _ in range(50)]
        await asyncio.sleep(0.01)
        for i in range(50):
            q.sync_q.put(i)
        got = await asyncio.wait_for(asyncio.gather(*getters), 5)
        assert sorted(got) == list(range(50))
        # The reader is gone once nobody waits.
        assert all(w.registered is None for w in q.async_q._waiters.values())

    run(main())


def test_several_loops_in_several_threads(kind):
    """janus cannot: one queue, four event loops in four threads, plus threads."""
    q = kind(32)
    n_loops, per = 4, 3000
    results = [None] * n_loops

    def loop_thread(k):
        async def produce():
            for i in range(per):
                await q.async_q.put((k, i))

        async def main():
            got = []
            p = asyncio.ensure_future(produce())
            for _ in range(per):
                got.append(await q.async_q.get())
                q.async_q.task_done()
            await p
            return got

        results[k] = asyncio.run(main())

    threads = [start(loop_thread, k) for k in range(n_loops)]
    for t in threads:
        t.join(60)
        assert not t.is_alive()
    flat = sorted(x for r in results for x in r)
    assert flat == sorted((k, i) for k in range(n_loops) for i in range(per))
    q.sync_q.join()


def test_get_from_two_loops_one_item_each():
    q = janus.Queue()
    out = []

    def loop_thread():
        async def main():
            out.append(await asyncio.wait_for(q.async_q.get(), 5))

        asyncio.run(main())

    ts = [start(loop_thread) for _ in range(2)]
    time.sleep(0.05)
    q.sync_q.put("a")
    q.sync_q.put("b")
    for t in ts:
        t.join(10)
    assert sorted(out) == ["a", "b"]


def test_queue_survives_a_closed_loop():
    q = janus.Queue()

    async def wait_a_bit():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(q.async_q.get(), 0.01)

    run(wait_a_bit())
    q.sync_q.put(1)

    async def get():
        return await q.async_q.get()

    assert run(get()) == 1
