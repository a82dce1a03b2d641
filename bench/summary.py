"""The figures of `make bench`, side by side.

  summary.py --medians RAW   reads every `<name> <value> <unit>` line of the rounds and prints
                             one line per figure, the median (bench/run.sh writes that to
                             bench/results.txt)
  summary.py RESULTS         prints the targets of the fast-path issue as ratios against the
                             peers measured in the same run, then a table per scenario
"""
import statistics
import sys

# (what, janus figure, peer figure or None for an absolute goal, "ge"/"le", goal)
TARGETS = [
    ("C thread -> async consumer, unbounded", "janus_c_t2a_unbounded", "async_channel_t2a_unbounded", "ge", 1.5),
    ("C thread -> async consumer, 1024", "janus_c_t2a_1024", "async_channel_t2a_1024", "ge", 1.5),
    ("async producer -> C thread, 1024", "janus_c_a2t_1024", "async_channel_a2t_1024", "ge", 1.5),
    ("Swift API thread -> task, unbounded", "janus_swift_t2a_unbounded", "async_channel_t2a_unbounded", "ge", 1.5),
    ("Swift API thread -> task, 1024", "janus_swift_t2a_1024", "async_channel_t2a_1024", "ge", 1.5),
    ("Swift API task -> thread, unbounded", "janus_swift_a2t_unbounded", "async_channel_a2t_unbounded", "ge", 1.5),
    ("Swift API task -> thread, 1024", "janus_swift_a2t_1024", "async_channel_a2t_1024", "ge", 1.5),
    ("4 C threads -> 4 async consumers, 1024", "janus_c_mpmc4_t2a_1024", "async_channel_mpmc4_t2a_1024", "ge", 1.0),
    ("4 async producers -> 4 C threads, 1024", "janus_c_mpmc4_a2t_1024", "async_channel_mpmc4_a2t_1024", "ge", 1.0),
    ("C thread -> C thread, unbounded", "janus_c_t2t_unbounded", "crossbeam_t2t_unbounded", "ge", 1.0),
    ("C thread -> C thread, 1024", "janus_c_t2t_1024", "crossbeam_t2t_1024", "ge", 1.0),
    ("put_many/get_many 256, unbounded (items/s)", "janus_c_batch256_t2t_unbounded", None, "ge", 100e6),
    ("put_many/get_many 256, 1024 (items/s)", "janus_c_batch256_t2t_1024", None, "ge", 100e6),
    ("round trip thread -> task -> thread", "janus_c_rtt_t_a_t", "async_channel_rtt_t_a_t", "le", 0.2),
    ("CPU per item, 50 us stream", "janus_c_slow50us_cpu", "async_channel_slow50us_cpu", "le", 1.0),
    ("CPU per item, 1 ms stream", "janus_c_slow1ms_cpu", "async_channel_slow1ms_cpu", "le", 1.0),
    ("Python thread -> asyncio, unbounded, vs janus", "python_janus_swift_t2a_unbounded", "python_janus_t2a_unbounded", "ge", 10),
    ("Python thread -> asyncio, 1024, vs janus", "python_janus_swift_t2a_1024", "python_janus_t2a_1024", "ge", 10),
    ("Python asyncio -> thread, unbounded, vs janus", "python_janus_swift_a2t_unbounded", "python_janus_a2t_unbounded", "ge", 10),
    ("Python asyncio -> thread, 1024, vs janus", "python_janus_swift_a2t_1024", "python_janus_a2t_1024", "ge", 10),
    ("Python thread -> asyncio, unbounded, vs culsans", "python_janus_swift_t2a_unbounded", "python_culsans_t2a_unbounded", "ge", 3),
    ("Python thread -> asyncio, 1024, vs culsans", "python_janus_swift_t2a_1024", "python_culsans_t2a_1024", "ge", 3),
    ("Python asyncio -> thread, unbounded, vs culsans", "python_janus_swift_a2t_unbounded", "python_culsans_a2t_unbounded", "ge", 3),
    ("Python asyncio -> thread, 1024, vs culsans", "python_janus_swift_a2t_1024", "python_culsans_a2t_1024", "ge", 3),
    ("Python round trip thread -> asyncio -> thread", "python_janus_swift_rtt_t_a_t", "python_janus_rtt_t_a_t", "le", 0.2),
    ("select of 1 queue vs a plain get, thread -> thread, 1024", "janus_c_select1_t2t_1024", "janus_c_t2t_1024", "ge", 1 / 1.3),
    ("select over 2 queues vs a plain get, thread -> thread, 1024", "janus_c_select2_t2t_1024", "janus_c_t2t_1024", "ge", 0.5),
    ("select over 2 queues vs Go select", "janus_c_select2_t2t_1024", "go_chan_select2_t2t_1024", "ge", 1.0),
    ("select over 8 queues vs Go select", "janus_c_select8_t2t_1024", "go_chan_select8_t2t_1024", "ge", 1.0),
    ("select over 2 queues vs crossbeam Select", "janus_c_select2_t2t_1024", "crossbeam_select2_t2t_1024", "ge", 1.0),
    ("select over 8 queues vs crossbeam Select", "janus_c_select8_t2t_1024", "crossbeam_select8_t2t_1024", "ge", 1.0),
    ("heap bytes per queued pointer", "janus_c_bytes_per_queued_pointer", None, "le", 16),
    ("allocations per million items, steady stream, unbounded", "janus_c_allocs_per_million_t2a_unbounded", None, "le", 100),
    ("allocations per million items, steady stream, 1024", "janus_c_allocs_per_million_t2a_1024", None, "le", 100),
]

IMPLEMENTATIONS = [
    ("janus_c", "janus C ABI"),
    ("janus_swift", "janus Swift API"),
    ("async_channel", "async-channel"),
    ("flume", "flume"),
    ("tokio_mpsc", "tokio mpsc"),
    ("crossbeam", "crossbeam-channel"),
    ("go_chan", "Go chan"),
    ("nio_producer", "NIOAsyncSequenceProducer"),
    ("asyncstream", "AsyncStream"),
    ("asyncchannel", "AsyncChannel"),
    ("c_mutex_condvar", "C mutex+condvar"),
    ("python_janus_swift", "janus_swift (Python)"),
    ("python_janus", "Python janus"),
    ("python_culsans", "culsans"),
]


def spreads(path):
    """name -> (min, max, rounds) from the `# spread` lines that --medians writes."""
    found = {}
    for line in open(path):
        parts = line.split()
        if len(parts) == 6 and parts[:2] == ["#", "spread"]:
            found[parts[2]] = (float(parts[3]), float(parts[4]), int(parts[5]))
    return found


def read(path):
    """name -> (value, unit), in file order."""
    figures = {}
    for line in open(path):
        parts = line.split()
        if line.startswith("#") or len(parts) != 3:
            continue
        try:
            figures[parts[0]] = (float(parts[1]), parts[2])
        except ValueError:
            pass
    return figures


def medians(path):
    values, units, order = {}, {}, []
    for line in open(path):
        parts = line.split()
        if len(parts) != 3:
            continue
        try:
            value = float(parts[1])
        except ValueError:
            continue
        if parts[0] not in values:
            order.append(parts[0])
            values[parts[0]] = []
        values[parts[0]].append(value)
        units[parts[0]] = parts[2]
    for name in order:
        print(f"{name} {statistics.median(values[name]):.2f} {units[name]}")
        # Every round counts, not only the median: the slowest and fastest round, as a comment
        # line that the readers of the medians pass over (spreads() reads it).
        print(f"# spread {name} {min(values[name]):.2f} {max(values[name]):.2f} {len(values[name])}")


def split(name):
    for prefix, _ in IMPLEMENTATIONS:
        if name.startswith(prefix + "_"):
            return prefix, name[len(prefix) + 1:]
    return None, name


def show(value, unit):
    if unit == "items/s":
        return f"{value / 1e6:.2f} M/s"
    return f"{value:.2f} {unit}"


def summary(path):
    figures = read(path)
    print("targets (ratios against peers measured in the same run):")
    met = 0
    known = 0
    for what, ours, peer, sense, goal in TARGETS:
        if ours not in figures or (peer and peer not in figures):
            print(f"  {what:<58} (not measured: {ours if ours not in figures else peer} missing)")
            continue
        value, unit = figures[ours]
        if peer:
            ratio = value / figures[peer][0]
            achieved = ratio >= goal if sense == "ge" else ratio <= goal
            text = f"{show(value, unit)} vs {show(*figures[peer])}: {ratio:.2f}x (goal {'>=' if sense == 'ge' else '<='} {goal}x)"
        else:
            achieved = value >= goal if sense == "ge" else value <= goal
            text = f"{show(value, unit)} (goal {'>=' if sense == 'ge' else '<='} {show(goal, unit)})"
        known += 1
        met += achieved
        print(f"  {'met ' if achieved else 'MISS'} {what:<53} {text}")
    print(f"  {met} of {known} targets met")

    # One speed: for janus's throughput figures, the slowest round against the median.
    spread = spreads(path)
    print("\nspread over the rounds (janus throughput: slowest round >= 0.7x the median):")
    steady = total = 0
    for name, (value, unit) in figures.items():
        if not name.startswith("janus_") or unit != "items/s" or name not in spread:
            continue
        low, high, rounds = spread[name]
        ok = low >= 0.7 * value
        total += 1
        steady += ok
        print(f"  {'ok  ' if ok else 'SLOW'} {name:<44} median {show(value, unit)}, rounds {show(low, unit)} - {show(high, unit)} ({rounds})")
    print(f"  {steady} of {total} janus throughput figures without a slow round")

    scenarios = {}
    for name, (value, unit) in figures.items():
        impl, scenario = split(name)
        if impl:
            scenarios.setdefault(scenario, {})[impl] = (value, unit)
    print("\nper scenario:")
    for scenario, row in scenarios.items():
        cells = [f"{label} {show(*row[impl])}" for impl, label in IMPLEMENTATIONS if impl in row]
        print(f"  {scenario:<34} " + " | ".join(cells))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--medians":
        medians(sys.argv[2])
    else:
        summary(sys.argv[1] if len(sys.argv) > 1 else "bench/results.txt")
