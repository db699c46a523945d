#!/usr/bin/env python3
"""Redraw time of every in-class widget, as a learner triggers it, measured side by side.

Each widget is built exactly as its notebook builds it, through
``coursekit.widgets.interactive_figure``; one control is moved back and forth
and each move's full redraw (compute, draw, render the PNG the browser shows)
is timed. A bare two-panel figure rendered the same way is the floor that no
matplotlib widget can beat on this machine. Target: median under 150 ms.

    python benchmarks/bench_widgets.py [--repeats 9]

Columns: the full redraw (wall and CPU time), and "draw" alone: the plain
function behind the widget computing its numbers and building the figure,
without rendering the PNG (the rest is matplotlib's rendering).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

import coursekit as ck  # noqa: E402
from coursekit import surfaces as S  # noqa: E402


def bare_figure(n):
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for ax in axes:
        ax.plot(range(n))
    return fig


def widgets():
    """(name, draw function, controls, control to move, values to cycle)."""
    population = torch.randn(4096) * 2 + 1
    return [
        ("floor: bare 2-panel figure", bare_figure, {"n": (2, 20)}, "n", [5, 6]),
        ("01 gradient flow", ck.diagnostics.plot_gradient_flow,
         {"depth": (1, 15), "activation": ["sigmoid", "relu"]}, "depth", [6, 10]),
        ("02 activation profile", ck.diagnostics.plot_activation_profile,
         {"activation": ["relu", "sigmoid"], "depth": (1, 15)}, "depth", [8, 12]),
        ("03 optimizer trajectory", S.draw_trajectory,
         {"surface": ["beale", "rosenbrock"], "optimizer": ["momentum", "adam"], "steps": (10, 150, 10)},
         "optimizer", ["momentum", "adam"]),
        ("04 signal through depth", lambda depth, activation, scheme: ck.init.plot_signal_through_depth(
            depth, activation, scheme, gradients=False, nets=4),
         {"depth": (2, 50), "activation": ["tanh", "relu"], "scheme": ["xavier_normal", "kaiming_normal"]},
         "depth", [30, 40]),
        ("06 dropout network", lambda p, sample: ck.layers.draw_dropout_network(p, sample=sample),
         {"p": (0.0, 0.7, 0.1), "sample": (0, 20)}, "sample", [1, 2]),
        ("07 batch-norm statistics", lambda batch_size, momentum: ck.layers.draw_bn_tracking(
            batch_size, momentum, steps=200, population=population),
         {"batch_size": (2, 128), "momentum": (0.01, 0.9)}, "batch_size", [32, 8]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    ck.setup_notebook(quiet=True)
    print(f"median over {args.repeats} moves, ms; target: redraw < 150 ms")
    print(f"  {'widget':28s} {'redraw wall / CPU':>18s} {'draw':>6s}")
    for name, draw, controls, moved, values in widgets():
        with contextlib.redirect_stdout(io.StringIO()):
            panel = ck.widgets.interactive_figure(draw, **controls)
        walls, cpus = [], []
        for i in range(args.repeats + 1):
            w0, c0 = time.perf_counter(), time.process_time()
            with contextlib.redirect_stdout(io.StringIO()):  # no kernel here: display() would print
                panel.controls[moved].value = values[i % 2]
            if i:  # the first move warms caches
                walls.append(time.perf_counter() - w0)
                cpus.append(time.process_time() - c0)
        values_now = {k: w.value for k, w in panel.controls.items()}
        draws = []
        for i in range(args.repeats):
            d0 = time.perf_counter()
            plt.close(draw(**{**values_now, moved: values[i % 2]}))
            draws.append(time.perf_counter() - d0)
        wall, cpu = 1000 * statistics.median(walls), 1000 * statistics.median(cpus)
        only = 1000 * statistics.median(draws)
        verdict = "" if name.startswith("floor") else ("OK" if wall < 150 else "OVER")
        print(f"  {name:28s} {wall:9.0f} / {cpu:4.0f}   {only:5.0f}  {verdict}")


if __name__ == "__main__":
    main()
