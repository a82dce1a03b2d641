import asyncio
import threading

import pytest

import janus_swift as janus

KINDS = [janus.Queue, janus.LifoQueue, janus.PriorityQueue]


@pytest.fixture(params=KINDS, ids=["fifo", "lifo", "priority"])
def kind(request):
    return request.param


def run(coro):
    return asyncio.run(coro)


def start(fn, *args):
    t = threading.Thread(target=fn, args=args, daemon=True)
    t.start()
    return t
