#!/usr/bin/env python3
"""Speed of the optimizer-trajectory widget's callback (notebooks/03_optimizers.ipynb).

The widget calls ``coursekit.surfaces.draw_trajectory(surface, optimizer, lr,
momentum, steps)`` and shows the figure inline. This script times, for a few
settings, the compute alone (``trajectory``: a real ``torch.optim`` optimizer
stepping a 2-D point) and the whole callback (compute + draw + the PNG the
inline backend renders), and prints medians over repeated calls.

Target: the whole callback under 150 ms (median) on one thread, up to the
slider's maximum of 150 steps.

Two clocks are printed: wall time (what a learner waits) and this process's CPU
time (the same thing on an idle machine; on a shared, busy machine the wall time
is inflated by other processes, the CPU time much less).

Usage: .venv/bin/python benchmarks/bench_surfaces_widgets.py [--repeat 7]
"""
from __future__ import annotations

import argparse
import io
import statistics
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from coursekit.notebook import setup_notebook  # noqa: E402
from coursekit.surfaces import draw_trajectory, trajectory  # noqa: E402

# (surface, optimizer, lr, momentum, steps): the notebook's static figure, typical settings, and
# the slider's maximum of 150 steps.
SETTINGS = [
    ("beale", "momentum", 0.003, 0.9, 100),
    ("ill_conditioned", "sgd", 0.3, 0.9, 100),
    ("saddle", "rmsprop", 0.01, 0.9, 100),
    ("rosenbrock", "nesterov", 0.001, 0.9, 150),
    ("himmelblau", "adagrad", 0.3, 0.9, 150),
    ("beale", "adam", 0.3, 0.9, 150),
]


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of ``fn()`` over ``repeat`` calls (after one warm-up)."""
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall) * 1e3, statistics.median(cpu) * 1e3


def callback(surface: str, optimizer: str, lr: float, momentum: float, steps: int) -> None:
    """What the widget does on a change: compute, draw, render the inline PNG, close."""
    fig = draw_trajectory(surface, optimizer, lr=lr, momentum=momentum, steps=steps)
    fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")  # as IPython's inline display
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed calls per setting (median reported)")
    args = parser.parse_args()
    setup_notebook(seed=0, quiet=True)  # one thread, 72 dpi: as in the notebook
    print(f"{'setting':44s} {'compute ms':>16s} {'callback ms':>16s}")
    print(f"{'':44s} {'wall':>7s} {'cpu':>8s} {'wall':>7s} {'cpu':>8s}")
    worst_wall = worst_cpu = 0.0
    for surface, optimizer, lr, momentum, steps in SETTINGS:
        setting = (surface, optimizer, lr, momentum, steps)
        c_wall, c_cpu = timed(lambda s=setting: trajectory(s[0], s[1], steps=s[4], lr=s[2], momentum=s[3]),
                              args.repeat)
        w_wall, w_cpu = timed(lambda s=setting: callback(*s), args.repeat)
        worst_wall, worst_cpu = max(worst_wall, w_wall), max(worst_cpu, w_cpu)
        name = f"{surface}/{optimizer} lr={lr:g} steps={steps}"
        print(f"{name:44s} {c_wall:7.1f} {c_cpu:8.1f} {w_wall:7.1f} {w_cpu:8.1f}")
    verdict = "OK" if worst_cpu < 150 else "TOO SLOW"
    print(f"slowest callback median: {worst_wall:.0f} ms wall, {worst_cpu:.0f} ms cpu "
          f"(target < 150 ms): {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
