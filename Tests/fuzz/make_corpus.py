#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_queue.c into corpus/ (one small file per seed).

The encoding mirrors LLVMFuzzerTestOneInput: an op byte is OP + OP_COUNT * slot;
then the op's argument bytes.  Regenerate with `python3 make_corpus.py` after
changing the encoding in fuzz_queue.c (the committed files are its output).
"""
import os

OPS = ["NEW", "PUT", "GET", "PUT_MANY", "GET_MANY", "TASK_DONE", "JOIN", "SNAPSHOT",
       "SHUTDOWN", "SHUTDOWN_NOW", "CLOSE", "WAIT_CLOSED", "BAD", "PUT_T", "GET_T",
       "PUT_MANY_T", "GET_MANY_T", "JOIN_T", "WAIT_CLOSED_T", "FREE", "PUT2", "GET2",
       "PEEK", "PEEK_T", "CLEAR", "SET_MAXSIZE", "WAITING", "FD"]
OP = {name: i for i, name in enumerate(OPS)}
KIND = {"fifo": 0, "lifo": 1, "prio": 2}
# index into k_maxsizes of fuzz_queue.c
MAXSIZE = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 8: 6, 16: 10, "1<<40": 11, "SIZE_MAX": 12,
           "2^63": 13, "INT64_MAX": 14}
# the argument byte of FD: which descriptors to ask for
FD = {"readable": 0, "writable": 1, "both": 2, "again": 3}


def op(name, slot=0):
    return bytes([OP[name] + len(OPS) * slot])


def new(kind, maxsize, slot=0, with_options=True, destroy=True, compare=False, bad_kind=False):
    """The NEW op with a config byte found by search (its bits mean several things)."""
    for a in range(256):
        if a % 3 != KIND[kind]:
            continue
        if (a >> 6 != 0) != with_options:
            continue
        if with_options and bool(a & 0x08) != destroy:
            continue
        if with_options and bool(a & 0x10) != compare:
            continue
        if ((a & 0x24) == 0x24) != bad_kind:
            continue
        return op("NEW", slot) + bytes([a, MAXSIZE[maxsize]])
    raise ValueError("no config byte for that combination")


def item(key=0, null=False):
    return bytes([0x70 if null else key & 3])


def put(key=0, slot=0, null=False):
    return op("PUT", slot) + item(key, null)


def put_many(keys, slot=0, null_array=False):
    data = op("PUT_MANY", slot) + bytes([len(keys)]) + b"".join(item(k) for k in keys)
    if not keys:
        data += bytes([1 if null_array else 0])  # count 0: items NULL or not
    return data


def get_many(n, slot=0):
    return op("GET_MANY", slot) + bytes([n - 1])


def peek(slot=0):
    return op("PEEK", slot)


def peek_t(timeout_index=0, slot=0):
    return op("PEEK_T", slot) + bytes([timeout_index])


def clear(slot=0, null_out=False):
    return op("CLEAR", slot) + bytes([1 if null_out else 0])


def set_maxsize(maxsize, slot=0):
    return op("SET_MAXSIZE", slot) + bytes([MAXSIZE[maxsize]])


def fd(which="both", slot=0):
    return op("FD", slot) + bytes([FD[which]])


def put_t(key=0, timeout_index=0, slot=0):
    return op("PUT_T", slot) + item(key) + bytes([timeout_index])


SEEDS = {
    "01-fifo-basic": new("fifo", 0) + put(1) + put(2) + put(null=True) + op("GET") + op("GET")
    + op("TASK_DONE") + op("TASK_DONE") + op("JOIN") + op("SNAPSHOT") + op("GET") + op("TASK_DONE")
    + op("JOIN") + op("TASK_DONE") + op("GET"),
    "02-lifo-bounded": new("lifo", 2) + put(0) + put(1) + put(2) + op("GET") + put(3)
    + put_many([0, 1, 2]) + get_many(5) + op("GET"),
    "03-priority-compare": new("prio", 0, compare=True) + put(3) + put(1) + put(2) + put(1)
    + put(0) + put(null=True) + put(1) + op("GET") * 8,
    "04-priority-address": new("prio", 3, destroy=False) + put(0) + put(null=True) + put(0)
    + put(null=True) + op("GET") + put(1) + op("GET") * 4,
    "05-many": new("fifo", 5) + put_many([0, 1, 2]) + put_many([1, 2, 3, 0]) + get_many(2)
    + get_many(9) + put_many([]) + put_many([], null_array=True) + get_many(1),
    "06-shutdown-immediate": new("fifo", 0) + put(1) + put(2) + put(null=True) + op("GET")
    + op("SHUTDOWN_NOW") + op("GET") + op("PUT") + item(0) + op("TASK_DONE") + op("TASK_DONE")
    + op("JOIN") + op("WAIT_CLOSED"),
    "07-close-wait-closed": new("lifo", 1) + op("WAIT_CLOSED") + put(0) + op("CLOSE")
    + op("WAIT_CLOSED") + op("WAIT_CLOSED_T") + bytes([0]) + put(1) + get_many(3)
    + op("SHUTDOWN") + op("CLOSE"),
    "08-bad-inputs": new("fifo", 2) + put(0) + b"".join(op("BAD") + bytes([i, i // 2, i % 3])
                                                       for i in range(32)) + op("GET"),
    "09-timed-forms": new("prio", 4, compare=True) + op("PUT_T") + item(2) + bytes([0])
    + op("PUT_T") + item(1) + bytes([4]) + op("GET_T") + bytes([1]) + op("JOIN_T") + bytes([0])
    + op("PUT_MANY_T") + bytes([3, 0, 1, 2, 4]) + op("GET_MANY_T") + bytes([8, 0])
    + op("TASK_DONE") * 5 + op("JOIN_T") + bytes([2]) + op("SHUTDOWN") + op("GET_T") + bytes([0])
    + op("WAIT_CLOSED_T") + bytes([3]),
    "10-free-with-items": new("fifo", 0) + put(0) + put(null=True) + op("FREE")
    + new("lifo", 0, destroy=False) + put(1) + put(2) + op("FREE")
    + new("prio", 8, with_options=False) + put(3) + put(1) + op("GET"),
    "11-three-queues": new("fifo", 1) + new("lifo", 3, slot=1) + new("prio", 0, slot=2, compare=True)
    + put(0) + put(1, slot=1) + put(2, slot=2) + put(1) + op("GET", 1) + op("GET", 2)
    + op("SHUTDOWN", 1) + op("CLOSE", 2) + op("GET") + op("GET", 1),
    "12-huge-maxsize-bad-kind": new("fifo", "1<<40") + put(0) + op("SNAPSHOT")
    + new("lifo", "SIZE_MAX", slot=1) + put(1, slot=1)
    + new("prio", 2, slot=2, bad_kind=True) + put(2, slot=2) + op("GET", 2),
    "13-shutdown-then-immediate": new("fifo", 3) + put_many([0, 1, 2]) + op("SHUTDOWN")
    + op("GET") + op("PUT") + item(0) + op("SHUTDOWN_NOW") + op("GET") + op("JOIN")
    + op("TASK_DONE") + op("JOIN") + op("TASK_DONE"),
    # The extras: peek in each order, waiting forms where they answer at once, after shutdown.
    "14-peek": new("fifo", 4) + peek() + put(1) + put(2) + peek() + op("GET") + peek()
    + put(null=True) + peek() + op("GET") + peek() + op("GET") + peek() + peek_t(0)
    + new("lifo", 0, slot=1) + put(0, slot=1) + put(3, slot=1) + peek(slot=1) + op("GET", 1)
    + peek_t(4, slot=1) + new("prio", 0, slot=2, compare=True) + put(3, slot=2)
    + put(1, slot=2) + put(1, slot=2) + peek(slot=2) + op("GET", 2) + peek(slot=2)
    + op("SHUTDOWN", 1) + peek(slot=1) + op("GET", 1) + peek(slot=1) + peek_t(0, slot=1)
    + op("CLOSE", 2) + peek(slot=2),
    "15-clear": new("fifo", 0) + clear() + put(1) + put(null=True) + put(2) + op("GET") + clear()
    + op("TASK_DONE") + op("JOIN") + put(0) + put(1) + op("TASK_DONE") + op("TASK_DONE")
    + clear(null_out=True) + op("TASK_DONE") + new("lifo", 2, slot=1, destroy=False)
    + put(0, slot=1) + put(1, slot=1) + clear(slot=1) + put(2, slot=1)
    + op("SHUTDOWN", 1) + clear(slot=1) + op("GET", 1)
    + new("prio", 3, slot=2, compare=True) + put(2, slot=2) + put(0, slot=2) + clear(slot=2)
    + put(1, slot=2) + op("GET", 2),
    "16-set-maxsize": new("fifo", 2) + put(0) + put(1) + put(2) + set_maxsize(4) + put(2)
    + put(3) + put(0) + set_maxsize(1) + put(0) + op("GET") + op("GET") + op("GET") + put(0)
    + op("GET") + put(1) + set_maxsize(0) + put(1) + put(2) + set_maxsize("SIZE_MAX") + put(3)
    + set_maxsize("2^63") + put(0) + set_maxsize("INT64_MAX") + set_maxsize("1<<40")
    + get_many(9) + new("lifo", 0, slot=1) + set_maxsize(1, slot=1) + put(0, slot=1)
    + put(1, slot=1) + op("GET", 1),
    "17-fd-readable": new("fifo", 0) + fd("readable") + put(1) + op("GET") + op("GET")
    + put(2) + put(3) + op("GET") + op("GET_T") + bytes([0]) + op("GET") + put(0)
    + get_many(4) + get_many(4) + fd("again") + put_many([1, 2]) + peek() + clear() + op("GET")
    + put(1) + op("SHUTDOWN") + op("GET") + op("GET") + op("FREE"),
    "18-fd-writable": new("lifo", 2) + fd("writable") + put(0) + put(1) + put(2) + op("GET")
    + put(2) + put(3) + put_many([0, 1]) + get_many(2) + put_many([0, 1, 2]) + set_maxsize(4)
    + put(3) + put(0) + set_maxsize(1) + put(0) + clear() + put(0) + put(1)
    + set_maxsize(0) + put(2) + set_maxsize(2) + put(3) + op("SHUTDOWN") + put(0) + op("FREE"),
    "19-fd-both-lanes": new("fifo", 3) + put(0) + fd("both") + put(1) + put(2) + put(3)
    + op("GET") + op("GET") + op("GET") + op("GET") + peek() + put(1) + set_maxsize(1)
    + put(2) + op("GET") + op("GET") + op("WAITING") + new("prio", 1, slot=1)
    + fd("both", slot=1) + put(3, slot=1) + put(1, slot=1) + op("GET", 1) + op("GET", 1)
    + op("SHUTDOWN_NOW", 1) + fd("again", slot=1) + op("CLOSE") + fd("again"),
}

if __name__ == "__main__":
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(here, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(here, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(SEEDS)} seeds to {here}")
