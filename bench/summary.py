"""Reads bench/results.txt and prints each janus figure against the baselines and targets."""
import sys

figures = {}
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) >= 3 and not line.startswith("#"):
        try:
            figures[parts[0]] = float(parts[1])
        except ValueError:
            pass

base_mc = figures.get("baseline_c_mutex_condvar_unbounded")
base_stream = figures.get("baseline_swift_asyncstream_from_thread")
print("\nsummary (x = times the baseline measured in this run):")
for name, value in figures.items():
    if name.startswith("janus_") or name.startswith("swift_"):
        if name.endswith("pingpong_thread_task_thread"):
            ref = figures.get("baseline_c_mutex_condvar_pingpong")
            print(f"  {name:<44} {value:8.2f} us   (C mutex+condvar ping-pong {ref:.2f} us)")
        elif "allocations" in name or "bytes" in name:
            print(f"  {name:<44} {value:8.2f}")
        elif base_mc and base_stream:
            print(f"  {name:<44} {value/1e6:8.2f} M/s  {value/base_mc:5.2f}x C mutex+condvar  {value/base_stream:7.1f}x AsyncStream")
