"""Python's janus on this machine, for comparison in `make bench` (skipped if not installed).

Prints the same line format as the other benches: thread -> asyncio task items/s (unbounded
and maxsize 1024) and the thread -> task -> thread round trip in microseconds. Usage:
janus_py.py [items] [rounds].
"""
import asyncio
import statistics
import sys
import threading
import time

try:
    import janus
except ImportError:
    print("python_janus skipped (pip install janus to include it)", file=sys.stderr)
    sys.exit(0)

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 3


async def thread_to_task(maxsize):
    queue = janus.Queue(maxsize)

    def produce():
        for i in range(N):
            queue.sync_q.put(i)

    start = time.perf_counter()
    thread = threading.Thread(target=produce)
    thread.start()
    total = 0
    for _ in range(N):
        total += await queue.async_q.get()
    elapsed = time.perf_counter() - start
    thread.join()
    await queue.aclose()
    assert total == N * (N - 1) // 2
    return N / elapsed


async def ping_pong(rounds=5000):
    ping, pong = janus.Queue(), janus.Queue()

    async def echo():
        for _ in range(rounds):
            await pong.async_q.put(await ping.async_q.get())

    samples = []

    def driver():
        for i in range(rounds):
            t0 = time.perf_counter()
            ping.sync_q.put(i)
            pong.sync_q.get()
            samples.append(time.perf_counter() - t0)

    task = asyncio.create_task(echo())
    thread = threading.Thread(target=driver)
    thread.start()
    await task
    await asyncio.get_running_loop().run_in_executor(None, thread.join)
    await ping.aclose()
    await pong.aclose()
    return statistics.median(samples) * 1e6


def figure(name, unit, values):
    print(f"{name} {statistics.median(values):.2f} {unit}", flush=True)


async def main():
    # Scenario names as the other benches' (bench/peers): t2a = thread -> task, rtt = round trip.
    figure("python_janus_t2a_unbounded", "items/s", [await thread_to_task(0) for _ in range(RUNS)])
    figure("python_janus_t2a_1024", "items/s", [await thread_to_task(1024) for _ in range(RUNS)])
    figure("python_janus_rtt_t_a_t", "us", [await ping_pong() for _ in range(RUNS)])


asyncio.run(main())
