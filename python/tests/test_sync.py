"""The blocking face, as queue.Queue."""
import threading
import time

import pytest

import janus_swift as janus

from conftest import start


def test_fifo_order():
    q = janus.Queue()
    for i in range(10):
        q.sync_q.put(i)
    assert [q.sync_q.get() for _ in range(10)] == list(range(10))


def test_lifo_order():
    q = janus.LifoQueue()
    for i in range(10):
        q.sync_q.put(i)
    assert [q.sync_q.get() for _ in range(10)] == list(range(9, -1, -1))


def test_priority_order_and_stable_ties():
    q = janus.PriorityQueue()
    items = [(3, "c"), (1, "a"), (2, "b"), (1, "a2"), (0, "z"), (1, "a3")]
    for it in items:
        q.sync_q.put(it)
    assert [q.sync_q.get() for _ in items] == sorted(items, key=lambda t: t[0])


class Prio:
    """Compares by priority only, so ties are real ties."""

    def __init__(self, p, tag):
        self.p, self.tag = p, tag

    def __lt__(self, other):
        return self.p < other.p


def test_priority_ties_first_in_first_out():
    q = janus.PriorityQueue()
    import random
    rnd = random.Random(7)
    items = [Prio(rnd.randrange(5), i) for i in range(2000)]
    for it in items:
        q.sync_q.put(it)
    out = [q.sync_q.get() for _ in items]
    assert [(x.p, x.tag) for x in out] == sorted((x.p, x.tag) for x in items)


def test_priority_plain_numbers_and_heap_growth():
    import random
    q = janus.PriorityQueue()
    vals = [random.random() for _ in range(5000)]
    for v in vals:
        q.sync_q.put(v)
    assert [q.sync_q.get() for _ in vals] == sorted(vals)


def test_priority_uncomparable_is_typeerror_and_changes_nothing():
    q = janus.PriorityQueue(3)
    q.sync_q.put((1, "a"))
    q.sync_q.put((2, "b"))
    with pytest.raises(TypeError):
        q.sync_q.put("not a tuple")
    with pytest.raises(TypeError):
        q.async_q.put_nowait(object())
    assert q.sync_q.qsize() == 2
    assert q.sync_q.unfinished_tasks == 2
    q.sync_q.put((0, "z"))  # room is still there: the failed puts took none
    assert q.sync_q.full()
    assert [q.sync_q.get() for _ in range(3)] == [(0, "z"), (1, "a"), (2, "b")]


def test_priority_uncomparable_in_pop_loses_nothing():
    # Insertion only compares along one path; siblings meet first on a get.
    q = janus.PriorityQueue()
    for it in [(0, "z"), (1, "x"), (1, 2)]:
        q.sync_q.put(it)
    got = [q.sync_q.get() for _ in range(3)]
    assert got[0] == (0, "z")
    assert sorted(map(repr, got)) == sorted(map(repr, [(0, "z"), (1, "x"), (1, 2)]))
    assert q.sync_q.empty()


def test_priority_reentrant_comparison_is_an_error_not_a_hang():
    q = janus.PriorityQueue()

    class Bad:
        def __lt__(self, other):
            q.sync_q.qsize()  # snapshots are fine
            q.sync_q.put_nowait(Bad())
            return True

    q.sync_q.put(Bad())
    with pytest.raises(RuntimeError):
        q.sync_q.put(Bad())
    assert q.sync_q.qsize() == 1


def test_nowait_empty_full(kind):
    q = kind(1)
    with pytest.raises(janus.SyncQueueEmpty):
        q.sync_q.get_nowait()
    with pytest.raises(janus.SyncQueueEmpty):
        q.sync_q.get(block=False)
    with pytest.raises(janus.SyncQueueEmpty):
        q.sync_q.get(False, 10)  # timeout ignored without block
    q.sync_q.put_nowait(1)
    with pytest.raises(janus.SyncQueueFull):
        q.sync_q.put_nowait(2)
    with pytest.raises(janus.SyncQueueFull):
        q.sync_q.put(2, block=False)
    with pytest.raises(janus.SyncQueueFull):
        q.sync_q.put(2, False, -1)  # timeout ignored without block, even negative


def test_timeouts(kind):
    q = kind(1)
    t0 = time.monotonic()
    with pytest.raises(janus.SyncQueueEmpty):
        q.sync_q.get(timeout=0.05)
    assert 0.045 <= time.monotonic() - t0 < 1.0
    with pytest.raises(janus.SyncQueueEmpty):
        q.sync_q.get(timeout=0)
    q.sync_q.put(1)
    t0 = time.monotonic()
    with pytest.raises(janus.SyncQueueFull):
        q.sync_q.put(2, timeout=0.05)
    assert 0.045 <= time.monotonic() - t0 < 1.0
    with pytest.raises(janus.SyncQueueFull):
        q.sync_q.put(2, timeout=0)


def test_negative_timeout_is_valueerror(kind):
    for q in (kind(), kind(1)):
        with pytest.raises(ValueError):
            q.sync_q.get(timeout=-1)
        with pytest.raises(ValueError):
            q.sync_q.put(1, timeout=-0.5)
        with pytest.raises(ValueError):
            q.sync_q.get(timeout=float("nan"))
        assert q.sync_q.qsize() == 0


def test_bad_arguments():
    q = janus.Queue()
    with pytest.raises(TypeError):
        q.sync_q.put()
    with pytest.raises(TypeError):
        q.sync_q.put(1, True, None, 4)
    with pytest.raises(TypeError):
        q.sync_q.get(bogus=1)
    with pytest.raises(TypeError):
        q.sync_q.get(timeout="x")
    q.sync_q.put(item=3, block=True, timeout=None)
    assert q.sync_q.get(block=True, timeout=1) == 3


def test_blocking_get_woken_by_put(kind):
    q = kind()
    t = start(lambda: (time.sleep(0.05), q.sync_q.put(7)))
    assert q.sync_q.get(timeout=5) == 7
    t.join()


def test_blocking_put_woken_by_get(kind):
    q = kind(1)
    q.sync_q.put(1)
    t = start(lambda: (time.sleep(0.05), q.sync_q.get()))
    q.sync_q.put(2, timeout=5)
    t.join()
    assert q.sync_q.get_nowait() == 2


def test_snapshots(kind):
    q = kind(2)
    assert q.sync_q.empty() and not q.sync_q.full() and q.sync_q.qsize() == 0
    q.sync_q.put(1)
    assert not q.sync_q.empty() and not q.sync_q.full() and q.sync_q.qsize() == 1
    q.sync_q.put(2)
    assert q.sync_q.full() and q.async_q.full() and q.async_q.qsize() == 2
    assert not kind().sync_q.full()


def test_none_is_an_item(kind):
    if kind is janus.PriorityQueue:
        pytest.skip("None is not orderable")
    q = kind()
    q.sync_q.put(None)
    q.sync_q.put(None)
    assert q.sync_q.get() is None
    assert q.sync_q.get_nowait() is None


def test_task_done_and_join(kind):
    q = kind()
    for i in range(5):
        q.sync_q.put(i)
    assert q.sync_q.unfinished_tasks == 5
    q.sync_q.get()
    assert q.sync_q.unfinished_tasks == 5  # get does not change it
    done = []

    def joiner():
        q.sync_q.join()
        done.append(True)

    t = start(joiner)
    for _ in range(4):
        q.sync_q.get()
    for _ in range(5):
        assert not done
        q.sync_q.task_done()
    t.join(5)
    assert done == [True]
    q.sync_q.join()  # at 0: returns at once, again
    with pytest.raises(ValueError):
        q.sync_q.task_done()
    assert q.sync_q.unfinished_tasks == 0
