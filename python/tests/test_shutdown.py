"""shutdown(immediate), close, closed, wait_closed, aclose: both faces (CPython 3.13 rules)."""
import asyncio
import time

import pytest

import janus_swift as janus

from conftest import run, start


def test_normal_shutdown_drains_then_raises(kind):
    q = kind(5)
    for i in range(3):
        q.sync_q.put(i)
    q.shutdown()
    with pytest.raises(janus.SyncQueueShutDown):
        q.sync_q.put(9)
    with pytest.raises(janus.SyncQueueShutDown):
        q.sync_q.put_nowait(9)
    with pytest.raises(janus.AsyncQueueShutDown):
        q.async_q.put_nowait(9)
    assert q.sync_q.unfinished_tasks == 3
    got = [q.sync_q.get(), q.async_q.get_nowait(), q.sync_q.get(timeout=1)]
    assert sorted(got) == [0, 1, 2]
    with pytest.raises(janus.SyncQueueShutDown):  # not Empty
        q.sync_q.get()
    with pytest.raises(janus.SyncQueueShutDown):
        q.sync_q.get_nowait()
    with pytest.raises(janus.AsyncQueueShutDown):
        q.async_q.get_nowait()
    assert not q.closed or q.sync_q.unfinished_tasks == 3  # join still waits
    for _ in range(3):
        q.sync_q.task_done()
    q.sync_q.join()


def test_immediate_shutdown_discards(kind):
    q = kind()
    for i in range(4):
        q.sync_q.put(i)
    q.sync_q.get()  # taken: still needs its task_done
    q.shutdown(immediate=True)
    assert q.sync_q.qsize() == 0
    assert q.sync_q.unfinished_tasks == 1
    with pytest.raises(janus.SyncQueueShutDown):
        q.sync_q.get()
    with pytest.raises(janus.AsyncQueueShutDown):
        q.async_q.get_nowait()
    q.sync_q.task_done()
    q.sync_q.join()


def test_shutdown_idempotent_any_order(kind):
    q = kind()
    q.sync_q.put(1)
    q.sync_q.put(2)
    q.shutdown()
    q.shutdown()
    assert q.sync_q.qsize() == 2
    q.async_q.shutdown(immediate=True)  # discards what the normal one left
    assert q.sync_q.qsize() == 0 and q.sync_q.unfinished_tasks == 0
    q.shutdown()
    q.close()


def test_shutdown_wakes_blocked_threads(kind):
    q = kind(1)
    errors = []

    def getter(qq):
        try:
            qq.sync_q.get()
        except janus.SyncQueueShutDown:
            errors.append("get")

    def putter(qq):
        try:
            qq.sync_q.put(2)
            qq.sync_q.put(3)
        except janus.SyncQueueShutDown:
            errors.append("put")

    q2 = kind(1)
    ts = [start(getter, q), start(getter, q), start(putter, q2)]
    time.sleep(0.05)
    q.shutdown()
    q2.shutdown()
    for t in ts:
        t.join(5)
        assert not t.is_alive()
    assert sorted(errors) == ["get", "get", "put"]
    assert q2.sync_q.qsize() == 1  # the waiting putter's item never went in


def test_shutdown_wakes_async_waiters(kind):
    async def main():
        q = kind(1)
        getters = [asyncio.ensure_future(q.async_q.get()) for _ in range(3)]
        q2 = kind(1)
        await q2.async_q.put(1)
        putter = asyncio.ensure_future(q2.async_q.put(2))
        await asyncio.sleep(0.01)
        q.shutdown()
        q2.shutdown(immediate=True)
        for g in getters:
            with pytest.raises(janus.AsyncQueueShutDown):
                await asyncio.wait_for(g, 5)
        with pytest.raises(janus.AsyncQueueShutDown):
            await asyncio.wait_for(putter, 5)
        with pytest.raises(janus.AsyncQueueShutDown):
            await q.async_q.get()
        with pytest.raises(janus.AsyncQueueShutDown):
            await q.async_q.put(1)

    run(main())


def test_shutdown_from_thread_wakes_async_getter():
    async def main():
        q = janus.Queue()
        start(lambda: (time.sleep(0.03), q.sync_q.shutdown()))
        with pytest.raises(janus.AsyncQueueShutDown):
            await asyncio.wait_for(q.async_q.get(), 5)

    run(main())


def test_immediate_shutdown_releases_joins():
    async def main():
        q = janus.Queue()
        for i in range(3):
            q.sync_q.put(i)
        t = start(q.sync_q.join)
        j = asyncio.ensure_future(q.async_q.join())
        await asyncio.sleep(0.02)
        assert not j.done()
        q.close()
        await asyncio.wait_for(j, 5)
        await asyncio.get_running_loop().run_in_executor(None, t.join, 5)
        assert not t.is_alive()

    run(main())


def test_normal_shutdown_join_still_waits():
    async def main():
        q = janus.Queue()
        q.sync_q.put(1)
        q.shutdown()
        j = asyncio.ensure_future(q.async_q.join())
        await asyncio.sleep(0.02)
        assert not j.done()
        await q.async_q.get()
        q.async_q.task_done()
        await asyncio.wait_for(j, 5)

    run(main())


def test_wait_closed_on_open_queue_is_runtimeerror():
    async def main():
        q = janus.Queue()
        with pytest.raises(RuntimeError):
            await q.wait_closed()
        assert not q.closed

    run(main())


def test_closed_waits_for_callers_inside(kind):
    async def main():
        q = kind()
        t = start(lambda: pytest.raises(janus.SyncQueueShutDown, q.sync_q.get))
        await asyncio.sleep(0.02)
        q.close()
        await asyncio.wait_for(q.wait_closed(), 5)
        assert q.closed
        t.join(5)

    run(main())


def test_aclose(kind):
    async def main():
        q = kind()
        q.sync_q.put(1)
        await q.aclose()
        assert q.closed
        assert q.sync_q.qsize() == 0
        await q.wait_closed()  # again: fine

    run(main())


def test_closed_property_before_and_after():
    q = janus.Queue()
    assert not q.closed and not q.sync_q.closed and not q.async_q.closed
    q.close()
    assert q.closed
