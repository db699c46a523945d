#!/usr/bin/env python3
"""Speed of the diagnostics widgets' callbacks (notebooks 01 and 02).

The widget of ``notebooks/01_vanishing_gradients.ipynb`` calls
``coursekit.diagnostics.plot_gradient_flow(depth, activation, init, weight_scale)``,
the one of ``notebooks/02_relu.ipynb`` calls
``coursekit.diagnostics.plot_activation_profile(activation, depth, init, weight_scale)``;
each shows the returned figure inline. For a few settings this script times,
as medians over repeated calls:

- compute: the plain function alone (``gradient_flow`` / ``activation_profile``);
- draw: building the figure (compute included), what the draw function returns;
- callback: draw + the PNG that IPython's inline backend renders (``bbox_inches="tight"``)
  + closing the figure, i.e. what a learner waits for after moving a slider.

Target: callback under 150 ms (median) on one thread.

A floor is printed first: an empty figure with the same two panels, rendered
the same way, so the callbacks' own cost can be read as a ratio to what any
two-panel inline figure costs on the machine at hand.

Two clocks: wall time (what a learner waits) and this process's CPU time (the
same on an idle machine; on a shared, busy machine wall time is inflated by other
processes, CPU time much less).

Usage: .venv/bin/python benchmarks/bench_diagnostics_widgets.py [--repeat 7]
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

from coursekit.diagnostics import (
    activation_profile,
    gradient_flow,
    plot_activation_profile,
    plot_gradient_flow,
)
from coursekit.notebook import setup_notebook

FLOW_SETTINGS = [  # (depth, activation, init, weight_scale): the widget's default, then extremes
    (6, "sigmoid", "pytorch_default", 1.0),
    (15, "sigmoid", "pytorch_default", 1.0),
    (15, "relu", "kaiming_normal", 1.0),
    (10, "tanh", "xavier_uniform", 3.0),
    (15, "gelu", "normal", 0.1),
]
PROFILE_SETTINGS = [  # (activation, depth, init, weight_scale)
    ("relu", 8, "pytorch_default", 1.0),
    ("leaky_relu", 15, "kaiming_normal", 1.0),
    ("sigmoid", 15, "normal", 10.0),
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


def draw_only(draw, *args) -> None:
    plt.close(draw(*args))


def callback(draw, *args) -> None:
    """What the widget does on a change: compute, draw, render the inline PNG, close."""
    fig = draw(*args)
    fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")
    plt.close(fig)


def bare_figure() -> None:
    """The floor: an empty two-panel figure of the same size, titled and labelled, rendered and closed."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for ax in axes:
        ax.set(title="title", xlabel="x", ylabel="y")
    fig.suptitle("suptitle")
    fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    setup_notebook(seed=0, quiet=True)  # one thread, 72 dpi, as in the notebooks
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread; median of {args.repeat} calls; "
          "ms as wall / cpu")
    bw, bc = timed(bare_figure, args.repeat)
    print(f"floor: an empty 2-panel figure rendered inline costs {bw:.0f} / {bc:.0f} ms on this machine")
    print(f"{'setting':<44} {'compute':>13} {'draw':>13} {'callback':>13}  callback cpu / floor")
    worst = 0.0
    rows = [(gradient_flow, plot_gradient_flow, s, "01 flow") for s in FLOW_SETTINGS]
    rows += [(activation_profile, plot_activation_profile, s, "02 profile") for s in PROFILE_SETTINGS]
    for compute, draw, setting, tag in rows:
        cw, cc = timed(partial(compute, *setting), args.repeat)
        dw, dc = timed(partial(draw_only, draw, *setting), args.repeat)
        fw, fc = timed(partial(callback, draw, *setting), args.repeat)
        worst = max(worst, fc)
        name = f"{tag} " + " ".join(str(s) for s in setting)
        print(f"{name:<44} {cw:>6.0f} / {cc:>4.0f} {dw:>6.0f} / {dc:>4.0f} {fw:>6.0f} / {fc:>4.0f}"
              f"  x{fc / bc:.1f}")
    print(f"slowest callback (CPU time): {worst:.0f} ms; target < 150 ms -> "
          f"{'OK' if worst < 150 else 'over target on this machine'} (the empty figure alone: {bc:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
