"""The shape of the API: janus 2.0's names, types and exceptions."""
import asyncio
import queue
import sys
import threading

import janus_swift as janus
from janus_swift import _janus

from conftest import run


def test_exports_match_janus_2():
    assert set(janus.__all__) == {
        "Queue", "PriorityQueue", "LifoQueue", "SyncQueue", "SyncQueueEmpty", "SyncQueueFull",
        "SyncQueueShutDown", "AsyncQueue", "AsyncQueueEmpty", "AsyncQueueFull",
        "AsyncQueueShutDown", "BaseQueue",
    }
    for name in janus.__all__:
        assert hasattr(janus, name)


def test_exception_types():
    assert janus.SyncQueueEmpty is queue.Empty
    assert janus.SyncQueueFull is queue.Full
    assert janus.AsyncQueueEmpty is asyncio.QueueEmpty
    assert janus.AsyncQueueFull is asyncio.QueueFull
    if sys.version_info >= (3, 13):
        assert janus.SyncQueueShutDown is queue.ShutDown
        assert janus.AsyncQueueShutDown is asyncio.QueueShutDown
    else:
        assert issubclass(janus.SyncQueueShutDown, Exception)
        assert issubclass(janus.AsyncQueueShutDown, Exception)
        assert janus.SyncQueueShutDown is not janus.AsyncQueueShutDown


def test_does_not_shadow_janus():
    assert janus.__name__ == "janus_swift"


def test_faces_are_the_same_object_each_time(kind):
    q = kind()
    assert q.sync_q is q.sync_q
    assert q.async_q is q.async_q
    assert q.sync_q is not q.async_q


def test_generic_subscription():
    assert janus.Queue[int] is not None
    assert janus.PriorityQueue[int] is not None
    assert janus.LifoQueue[str] is not None
    q: janus.Queue[int] = janus.Queue[int]()
    q.sync_q.put(1)
    assert q.sync_q.get() == 1
    s: janus.SyncQueue[int] = q.sync_q
    a: janus.AsyncQueue[int] = q.async_q
    b: janus.BaseQueue[int] = a
    assert s and a and b


def test_protocol_members():
    for name in ("put", "get", "join", "put_nowait", "get_nowait", "task_done", "qsize",
                 "empty", "full", "shutdown"):
        q = janus.Queue()
        assert callable(getattr(q.sync_q, name))
        assert callable(getattr(q.async_q, name))
    for name in ("maxsize", "closed", "unfinished_tasks"):
        assert hasattr(janus.Queue().sync_q, name)
        assert hasattr(janus.Queue().async_q, name)
    assert asyncio.iscoroutinefunction(janus.Queue().async_q.get)
    assert asyncio.iscoroutinefunction(janus.Queue().async_q.put)
    assert asyncio.iscoroutinefunction(janus.Queue().async_q.join)


def test_py_typed_shipped():
    import importlib.resources
    assert importlib.resources.files("janus_swift").joinpath("py.typed").is_file()


def test_maxsize_property(kind):
    for m in (0, -1, 1, 10):
        q = kind(m)
        assert q.maxsize == m == q.sync_q.maxsize == q.async_q.maxsize


def test_made_outside_a_loop_used_inside():
    q = janus.Queue()
    q.sync_q.put(5)

    async def main():
        return await q.async_q.get()

    assert run(main()) == 5


def test_janus_readme_example_with_only_the_import_changed():
    """janus's README quick start, verbatim but for the import line."""
    import janus_swift as janus  # the only change: was `import janus`
    got = []

    def threaded(sync_q: janus.SyncQueue[int]) -> None:
        for i in range(100):
            sync_q.put(i)
        sync_q.join()

    async def async_coro(async_q: janus.AsyncQueue[int]) -> None:
        for i in range(100):
            val = await async_q.get()
            assert val == i
            got.append(val)
            async_q.task_done()

    async def main() -> None:
        queue: janus.Queue[int] = janus.Queue()
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(None, threaded, queue.sync_q)
        await async_coro(queue.async_q)
        await fut
        queue.close()
        await queue.wait_closed()

    asyncio.run(main())
    assert got == list(range(100))


def test_libjanus_version():
    assert _janus.libjanus_version().count(".") == 2
