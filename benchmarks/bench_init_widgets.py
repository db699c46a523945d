#!/usr/bin/env python3
"""Speed of the initialization widget's callback (notebooks/04_initialization.ipynb).

The widget calls ``coursekit.init.plot_signal_through_depth(depth, activation, scheme)``
and shows the figure inline. This script times, for a few settings, the compute
alone (``signal_through_depth``) and the whole callback (compute + draw + the
PNG the inline backend renders), and prints medians over repeated calls.

Target: the whole widget callback under 150 ms (median) on one thread. The
widget draws two panels (std per layer, activation histograms); the static
figures in the notebook add a third (gradient histograms). A bare matplotlib
figure of the same size, rendered the same way, is timed alongside as a yardstick
for how fast this machine draws at all.

Two clocks are printed: wall time (what a learner waits) and this process's CPU
time (the same thing on an idle machine; on a shared, busy machine the wall time
is inflated by other processes, the CPU time much less).

Usage: .venv/bin/python benchmarks/bench_init_widgets.py [--repeat 7]
"""
from __future__ import annotations

import argparse
import io
import statistics
import time
from functools import partial

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import torch

from coursekit.init import plot_signal_through_depth, signal_through_depth
from coursekit.notebook import setup_notebook

SETTINGS = [
    (30, "relu", "kaiming_normal"),
    (30, "relu", "xavier_uniform"),
    (30, "tanh", "xavier_normal"),
    (30, "relu", "normal"),
    (50, "tanh", "pytorch_default"),
    (50, "relu", "kaiming_uniform"),
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


def render(fig) -> None:
    """What IPython's inline display does with a figure (PNG, tight bounding box), then close."""
    fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")
    plt.close(fig)


def callback(depth: int, activation: str, scheme: str, gradients: bool = False) -> None:
    """What the widget does on a change: compute, draw (2 panels), render the inline PNG."""
    render(plot_signal_through_depth(depth, activation, scheme, gradients=gradients))


def bare_figure(panels: int) -> None:
    """Reference: an almost empty figure of the same size (one line per panel), rendered alike."""
    fig, axes = plt.subplots(1, panels, figsize=(4 * panels, 3.2))
    for ax in axes:
        ax.plot([0, 1], [0, 1], label="line")
        ax.legend()
    render(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    setup_notebook(seed=0, quiet=True)  # one thread, 72 dpi, as in the notebook
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread; median of {args.repeat} calls")
    base2 = timed(partial(bare_figure, 2), args.repeat)
    base3 = timed(partial(bare_figure, 3), args.repeat)
    print(f"reference, a bare figure rendered the same way: 2 panels {base2[0]:.0f} / {base2[1]:.0f} ms, "
          f"3 panels {base3[0]:.0f} / {base3[1]:.0f} ms (wall / cpu)")
    print(f"{'setting':<34} {'compute':>13} {'widget, 2 panels':>18} {'static, 3 panels':>18}")
    worst = 0.0
    for depth, act, scheme in SETTINGS:
        cw, cc = timed(partial(signal_through_depth, depth, act, scheme), args.repeat)
        fw, fc = timed(partial(callback, depth, act, scheme), args.repeat)
        sw, sc = timed(partial(callback, depth, act, scheme, True), args.repeat)
        worst = max(worst, fc)
        print(f"{depth:>3} layers {act:<5} {scheme:<16} {cw:>5.0f} / {cc:>4.0f}   {fw:>7.0f} / {fc:>4.0f}"
              f" (x{fc / base2[1]:.1f})   {sw:>6.0f} / {sc:>4.0f} (x{sc / base3[1]:.1f})")
    print("(wall / cpu ms; (xN): cpu time relative to the bare figure with as many panels)")
    print(f"slowest widget callback: {worst:.0f} ms of CPU; target < 150 ms -> "
          f"{'OK' if worst < 150 else 'over target on this machine'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
