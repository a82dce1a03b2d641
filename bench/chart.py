"""Draws bench/chart.png from bench/results.txt: items/s per scenario against the baselines
measured in the same run. Needs matplotlib (pip install matplotlib); `make chart` runs it."""
import sys

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("chart skipped: pip install matplotlib")
    sys.exit(0)

results = sys.argv[1] if len(sys.argv) > 1 else "bench/results.txt"
output = sys.argv[2] if len(sys.argv) > 2 else "bench/chart.png"

machine = ""
figures = []
for line in open(results):
    if line.startswith("# machine:"):
        machine = line[len("# machine:"):].strip()
    parts = line.split()
    if len(parts) == 3 and parts[2] == "items/s":
        figures.append((parts[0], float(parts[1])))

def colour(name):
    if name.startswith("baseline") or name.startswith("python"):
        return "#9e9e9e"
    return "#2b6cb0" if name.startswith("janus") else "#38a169"

figures.sort(key=lambda f: f[1])
names = [n.replace("_", " ") for n, _ in figures]
values = [v / 1e6 for _, v in figures]
fig, ax = plt.subplots(figsize=(10, 0.32 * len(figures) + 1.5))
ax.barh(names, values, color=[colour(n) for n, _ in figures])
ax.set_xscale("log")
ax.set_xlabel("million items per second (log scale)")
ax.set_title("janus throughput: C ABI (blue), Swift API (green), baselines (grey)\n" + machine, fontsize=9)
for y, v in enumerate(values):
    ax.text(v * 1.05, y, f"{v:.2f}", va="center", fontsize=7)
ax.tick_params(axis="y", labelsize=7)
fig.tight_layout()
fig.savefig(output, dpi=110)
print("wrote", output)
