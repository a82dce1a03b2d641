"""Draws bench/chart.png from bench/results.txt: items/s per scenario, janus beside the peers
measured in the same run. Needs matplotlib (pip install matplotlib); `make chart` runs it."""
import sys

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("chart skipped: pip install matplotlib")
    sys.exit(0)

sys.path.insert(0, __import__("os").path.dirname(__file__))
from summary import IMPLEMENTATIONS, read, split, spreads  # noqa: E402

results = sys.argv[1] if len(sys.argv) > 1 else "bench/results.txt"
output = sys.argv[2] if len(sys.argv) > 2 else "bench/chart.png"

header = [line[1:].strip() for line in open(results) if line.startswith("#")]
figures = read(results)
spread = spreads(results)

# The throughput scenarios that janus and at least one peer both ran, in a fixed order.
SCENARIOS = [
    "t2a_unbounded", "t2a_1024", "a2t_unbounded", "a2t_1024", "a2a_unbounded", "a2a_1024",
    "t2t_unbounded", "t2t_1024", "mpmc4_t2a_1024", "mpmc4_a2t_1024", "mpmc4_t2t_1024",
    "select2_t2t_1024", "select8_t2t_1024",
]
COLOURS = {
    "janus_c": "#1f4e9c", "janus_swift": "#4a86d6", "async_channel": "#d9822b",
    "flume": "#e3a857", "tokio_mpsc": "#b35c1e", "crossbeam": "#8c564b", "go_chan": "#2ca58d",
    "nio_producer": "#9467bd", "asyncstream": "#c5b0d5", "c_mutex_condvar": "#9e9e9e",
    "python_janus": "#cccccc",
}

rows = []
for scenario in SCENARIOS:
    row = {}
    for impl, _ in IMPLEMENTATIONS:
        name = f"{impl}_{scenario}"
        if name in figures and figures[name][1] == "items/s":
            row[impl] = figures[name][0] / 1e6
    if any(k.startswith("janus") for k in row) and len(row) > 1:
        rows.append((scenario, row))

impls = [impl for impl, _ in IMPLEMENTATIONS if any(impl in row for _, row in rows)]
labels = dict(IMPLEMENTATIONS)
height = 0.8 / max(1, len(impls))
fig, ax = plt.subplots(figsize=(11, 0.55 * len(rows) * max(1, len(impls)) / 3 + 2))
for i, impl in enumerate(impls):
    ys = [r - 0.4 + (i + 0.5) * height for r in range(len(rows))]
    values = [row.get(impl, 0) for _, row in rows]
    # The whiskers span the slowest to the fastest round (bench/results.txt's spread lines).
    lows, highs = [], []
    for (scenario, _), v in zip(rows, values):
        low, high, _ = spread.get(f"{impl}_{scenario}", (v * 1e6, v * 1e6, 1))
        lows.append(max(0, v - low / 1e6) if v else 0)
        highs.append(max(0, high / 1e6 - v) if v else 0)
    ax.barh(ys, values, height=height, color=COLOURS.get(impl, "#777777"), label=labels[impl],
            xerr=[lows, highs], error_kw={"elinewidth": 0.6, "capsize": 1.5, "ecolor": "#333333"})
    for y, v in zip(ys, values):
        if v:
            ax.text(v * 1.03, y, f"{v:.1f}", va="center", fontsize=6)
ax.set_yticks(range(len(rows)))
ax.set_yticklabels([s.replace("_", " ") for s, _ in rows], fontsize=8)
ax.invert_yaxis()
ax.set_xscale("log")
ax.set_xlabel("million items per second (log scale), whiskers: slowest to fastest round; "
              "t2a = thread to task, a2t = task to thread")
ax.set_title("janus and its peers, measured in one run\n" + " | ".join(header[:2]), fontsize=9)
ax.legend(fontsize=7, loc="lower right")
fig.tight_layout()
fig.savefig(output, dpi=110)
print("wrote", output)
