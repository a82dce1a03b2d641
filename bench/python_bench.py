"""The Python rows of `make bench`: janus_swift (python/, on libjanus) against Python's janus
2.0.0 and culsans, in the same run, the three alternating scenario by scenario.

Scenarios (names as the other benches', bench/peers):
  t2a_unbounded, t2a_1024   a thread puts N ints, an asyncio task gets them  (items/s)
  a2t_unbounded, a2t_1024   an asyncio task puts N ints, a thread gets them  (items/s)
  rtt_t_a_t                 thread -> task -> thread ping-pong, median round trip (us)

Usage: python_bench.py [items] [rounds].  A library that is not importable is skipped with a
message (bench/run.sh installs all three into .build-python/bench-venv).
"""
import asyncio
import importlib
import statistics
import sys
import threading
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 1
RTT_ROUNDS = 2000

# (figure prefix, module)
LIBS = [("python_janus_swift", "janus_swift"), ("python_janus", "janus"), ("python_culsans", "culsans")]


async def thread_to_task(mod, maxsize):
    queue = mod.Queue(maxsize)
    sync_q, async_q = queue.sync_q, queue.async_q

    def produce():
        put = sync_q.put
        for i in range(N):
            put(i)

    start = time.perf_counter()
    thread = threading.Thread(target=produce)
    thread.start()
    total = 0
    get = async_q.get
    for _ in range(N):
        total += await get()
    elapsed = time.perf_counter() - start
    thread.join()
    await queue.aclose()
    assert total == N * (N - 1) // 2
    return N / elapsed


async def task_to_thread(mod, maxsize):
    queue = mod.Queue(maxsize)
    sync_q, async_q = queue.sync_q, queue.async_q
    result = []

    def consume():
        get = sync_q.get
        total = 0
        for _ in range(N):
            total += get()
        result.append(total)

    start = time.perf_counter()
    thread = threading.Thread(target=consume)
    thread.start()
    put = async_q.put
    for i in range(N):
        await put(i)
    await asyncio.get_running_loop().run_in_executor(None, thread.join)
    elapsed = time.perf_counter() - start
    await queue.aclose()
    assert result == [N * (N - 1) // 2]
    return N / elapsed


async def ping_pong(mod):
    ping, pong = mod.Queue(), mod.Queue()

    async def echo():
        for _ in range(RTT_ROUNDS):
            await pong.async_q.put(await ping.async_q.get())

    samples = []

    def driver():
        for i in range(RTT_ROUNDS):
            t0 = time.perf_counter()
            ping.sync_q.put(i)
            pong.sync_q.get()
            samples.append(time.perf_counter() - t0)

    task = asyncio.ensure_future(echo())
    thread = threading.Thread(target=driver)
    thread.start()
    await task
    await asyncio.get_running_loop().run_in_executor(None, thread.join)
    await ping.aclose()
    await pong.aclose()
    return statistics.median(samples) * 1e6


SCENARIOS = [
    ("t2a_unbounded", "items/s", lambda m: thread_to_task(m, 0)),
    ("t2a_1024", "items/s", lambda m: thread_to_task(m, 1024)),
    ("a2t_unbounded", "items/s", lambda m: task_to_thread(m, 0)),
    ("a2t_1024", "items/s", lambda m: task_to_thread(m, 1024)),
    ("rtt_t_a_t", "us", ping_pong),
]


async def main():
    mods = []
    for prefix, name in LIBS:
        try:
            mods.append((prefix, importlib.import_module(name)))
        except ImportError:
            print(f"{prefix} skipped (pip install {name.replace('_', '-')})", file=sys.stderr)
    for scenario, unit, fn in SCENARIOS:
        values = {prefix: [] for prefix, _ in mods}
        for _ in range(RUNS):
            for prefix, mod in mods:  # alternate: a slow spell falls on all alike
                values[prefix].append(await fn(mod))
        for prefix, _ in mods:
            print(f"{prefix}_{scenario} {statistics.median(values[prefix]):.2f} {unit}", flush=True)


asyncio.run(main())
