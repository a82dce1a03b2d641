"""janus_swift: Python's janus (mixed sync/async queues) on libjanus.

The API is janus 2.0's: ``Queue``, ``LifoQueue``, ``PriorityQueue``, each with a blocking
``.sync_q`` for threads and an ``.async_q`` for asyncio, plus the same exception names.
Replace ``import janus`` with ``import janus_swift as janus`` and janus's examples run
unchanged.  Differences (see README.md): PriorityQueue ties come out first in, first out;
a queue is bound to no event loop (any number of loops in any threads may use it); a
negative ``timeout`` is a ValueError on every queue, bounded or not.
"""

import asyncio
import sys
import threading
from asyncio import QueueEmpty as AsyncQueueEmpty
from asyncio import QueueFull as AsyncQueueFull
from asyncio import get_running_loop as _running_loop
from collections import deque
from queue import Empty as SyncQueueEmpty
from queue import Full as SyncQueueFull
from typing import Any, Callable, Deque, Dict, Generic, Optional, Protocol, Tuple, TypeVar

from . import _janus

if sys.version_info >= (3, 13):
    from asyncio import QueueShutDown as AsyncQueueShutDown
    from queue import ShutDown as SyncQueueShutDown
else:
    # As janus 2.0 defines them before 3.13 (same names, same bases).
    class QueueShutDown(Exception):
        pass

    AsyncQueueShutDown = QueueShutDown

    class ShutDown(Exception):
        pass

    SyncQueueShutDown = ShutDown

__version__ = "0.1.0"
__all__ = (
    "Queue",
    "PriorityQueue",
    "LifoQueue",
    "SyncQueue",
    "SyncQueueEmpty",
    "SyncQueueFull",
    "SyncQueueShutDown",
    "AsyncQueue",
    "AsyncQueueEmpty",
    "AsyncQueueFull",
    "AsyncQueueShutDown",
    "BaseQueue",
)

_janus._setup(
    SyncQueueEmpty,
    SyncQueueFull,
    SyncQueueShutDown,
    AsyncQueueEmpty,
    AsyncQueueFull,
    AsyncQueueShutDown,
    threading.main_thread().ident,
)

T = TypeVar("T")
OptFloat = Optional[float]
_EMPTY = _janus.EMPTY
_READABLE = _janus.READABLE
_WRITABLE = _janus.WRITABLE


class BaseQueue(Protocol[T]):
    @property
    def maxsize(self) -> int: ...

    @property
    def closed(self) -> bool: ...

    def task_done(self) -> None: ...

    def qsize(self) -> int: ...

    @property
    def unfinished_tasks(self) -> int: ...

    def empty(self) -> bool: ...

    def full(self) -> bool: ...

    def put_nowait(self, item: T) -> None: ...

    def get_nowait(self) -> T: ...

    def shutdown(self, immediate: bool = False) -> None: ...


class SyncQueue(BaseQueue[T], Protocol[T]):
    def put(self, item: T, block: bool = True, timeout: OptFloat = None) -> None: ...

    def get(self, block: bool = True, timeout: OptFloat = None) -> T: ...

    def join(self) -> None: ...


class AsyncQueue(BaseQueue[T], Protocol[T]):
    async def put(self, item: T) -> None: ...

    async def get(self) -> T: ...

    async def join(self) -> None: ...


class _SyncQueueProxy(_janus.Face, Generic[T]):
    """The blocking face: every method is native code; waits release the GIL."""

    __slots__ = ()


class _FdWaiters:
    """The coroutines of one event loop waiting on one descriptor of one queue.

    The descriptor is level-triggered: readable while a get (or put) would not wait, and
    quiet only after a try that found the queue empty (full).  So: one reader per loop
    while someone waits, which wakes one waiter at a time; the woken coroutine tries, and
    if it does not take the item (another consumer did, or it was cancelled) the
    descriptor is still readable and the next waiter is woken.  No item is ever taken by
    anyone but the coroutine that returns it, so cancellation loses nothing.
    """

    __slots__ = ("loop", "fd", "face", "futs", "woken", "registered", "idle_pending")

    def __init__(self, face: Any, loop: asyncio.AbstractEventLoop, fd: int) -> None:
        self.face = face
        self.loop = loop
        self.fd = fd
        self.futs: Deque["asyncio.Future[None]"] = deque()
        self.woken = False
        self.registered: Any = None  # the face, while the loop watches its descriptor
        self.idle_pending = False

    def add(self, fut: "asyncio.Future[None]") -> None:
        self.futs.append(fut)
        if self.registered is None:
            # While registered, the loop holds the queue alive (through us): the
            # descriptor must not be freed under the loop's selector.
            self.registered = self.face
            self.loop.add_reader(self.fd, self.fire)

    def fire(self) -> None:
        if self.woken:
            return  # the woken one has not run yet: it will try (and hand on) first
        futs = self.futs
        while futs:
            fut = futs.popleft()
            if not fut.done():
                fut.set_result(None)
                self.woken = True
                return
        self._stop()

    def done(self, fut: "asyncio.Future[None]") -> None:
        if fut.done() and not fut.cancelled():
            self.woken = False  # we were the woken one: the next fire may wake another
        else:
            try:
                self.futs.remove(fut)
            except ValueError:
                pass
        if not self.futs and not self.woken and not self.idle_pending:
            # Stop watching on the next iteration, not now: a coroutine that waits again
            # at once (a consumer loop, a ping-pong) then keeps the registration, which
            # saves two epoll_ctl calls and asyncio's handle work per wait.  Not later than
            # that: a registered reader keeps the queue alive.
            self.idle_pending = True
            self.loop.call_soon(self._idle)

    def _idle(self) -> None:
        self.idle_pending = False
        if not self.futs and not self.woken:
            self._stop()

    def _stop(self) -> None:
        if self.registered is not None:
            self.registered = None
            self.loop.remove_reader(self.fd)


class _AsyncQueueProxy(_janus.Face, Generic[T]):
    """The asyncio face: the nowait calls are native; put/get/join are coroutines that wait
    on the queue's descriptors in the running loop (no thread, no task per waiter)."""

    __slots__ = ("_waiters",)

    def __init__(self, core: Any) -> None:
        super().__init__(core, True)
        self._waiters: Dict[Tuple[asyncio.AbstractEventLoop, int], _FdWaiters] = {}

    def _waiters_for(self, what: int) -> _FdWaiters:
        loop = _running_loop()
        key = (loop, what)
        w = self._waiters.get(key)
        if w is None or w.loop.is_closed():
            w = self._waiters[key] = _FdWaiters(self, loop, self._fd(what))
        return w

    async def get(self) -> T:
        item = self._try_get()
        if item is _EMPTY:
            item = await self._get_wait()
        return item  # type: ignore[no-any-return]

    async def _get_wait(self) -> Any:
        return await self._wait_until(_READABLE, self._try_get)

    async def put(self, item: T) -> None:
        if not self._try_put(item):
            try_put = self._try_put
            await self._wait_until(_WRITABLE, lambda: None if try_put(item) else _EMPTY)

    async def _wait_until(self, what: int, attempt: Callable[[], Any]) -> Any:
        """Waits on the queue's descriptor `what` until `attempt()` answers something other
        than _EMPTY. The coroutine makes the attempt itself, after each wakeup, so an item or
        a slot is only ever taken by the waiter that returns it: a cancelled wait takes
        nothing."""
        w = self._waiters_for(what)
        loop = w.loop
        while True:
            fut = loop.create_future()
            w.add(fut)
            try:
                await fut
            finally:
                w.done(fut)
            result = attempt()
            if result is not _EMPTY:
                return result

    async def join(self) -> None:
        if self.unfinished_tasks == 0:
            return
        loop = _running_loop()
        fut = loop.create_future()
        self._add_joiner(loop, fut)
        await fut


class Queue(Generic[T]):
    """A FIFO queue with a blocking face (``sync_q``) and an asyncio face (``async_q``).

    ``maxsize <= 0`` means unbounded.  Unlike janus, it may be made outside a running
    event loop and used from any number of loops.
    """

    _kind = _janus.FIFO

    def __init__(self, maxsize: int = 0) -> None:
        core = _janus.Core(self._kind, maxsize)
        self._sync_queue: _SyncQueueProxy[T] = _SyncQueueProxy(core, False)
        self._async_queue: _AsyncQueueProxy[T] = _AsyncQueueProxy(core)

    def shutdown(self, immediate: bool = False) -> None:
        """Shut the queue down: puts raise ShutDown; gets return what is left and then
        raise ShutDown (immediate: at once, the items are dropped).  Wakes every waiter."""
        self._sync_queue.shutdown(immediate)

    def close(self) -> None:
        """shutdown(immediate=True)."""
        self._sync_queue.shutdown(True)

    async def wait_closed(self) -> None:
        """Wait until no caller is still inside; RuntimeError if not shut down."""
        if not self._sync_queue._is_shutdown():
            raise RuntimeError("Waiting for non-closed queue")
        await asyncio.sleep(0)
        # Blocked threads leave within microseconds of the shutdown that woke them; poll
        # with a growing delay rather than park a thread in janus_queue_wait_closed().
        delay = 0.0005
        while not self._sync_queue.closed:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)

    async def aclose(self) -> None:
        """close() then wait_closed()."""
        self.close()
        await self.wait_closed()

    @property
    def closed(self) -> bool:
        return self._sync_queue.closed

    @property
    def maxsize(self) -> int:
        return self._sync_queue.maxsize

    @property
    def sync_q(self) -> "_SyncQueueProxy[T]":
        return self._sync_queue

    @property
    def async_q(self) -> "_AsyncQueueProxy[T]":
        return self._async_queue


class PriorityQueue(Queue[T]):
    """Lowest first, as queue.PriorityQueue (items are usually (priority, data) tuples);
    unlike janus, items of equal priority come out in insertion order."""

    _kind = _janus.PRIORITY


class LifoQueue(Queue[T]):
    """Last in, first out."""

    _kind = _janus.LIFO
