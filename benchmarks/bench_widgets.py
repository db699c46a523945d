#!/usr/bin/env python3
"""Redraw time of every in-class widget, as a learner triggers it, measured side by side.

Each widget is built exactly as its notebook builds it, through
``coursekit.widgets.interactive_figure``; one control is moved back and forth
and each move's full redraw (compute, draw, render the PNG the browser shows)
is timed. Target: median under 150 ms.

Two columns, measured in the same run with the moves interleaved so machine
noise hits both alike: "reused", what the notebooks do (the draw function gets
the previous figure back and empties its axes, see ``coursekit.plots.panels``),
and "new figure", the same function hidden behind a wrapper so every move
builds a new figure; their ratio is the gain. A bare two-panel figure built
anew each move is the floor of the old way.

    python benchmarks/bench_widgets.py [--repeats 9]
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import io
import statistics
import time

import matplotlib

matplotlib.use("Agg")
import ipywidgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

import coursekit as ck  # noqa: E402


def bare_figure(n):
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for ax in axes:
        ax.plot(range(n))
    return fig


def _dropout_sweep():
    """A sweep like notebook 06's: one 40-epoch History per drop probability."""
    sweep = {}
    for p in (0.0, 0.3, 0.5, 0.7):
        e = torch.arange(1, 41, dtype=torch.float64)
        sweep[p] = ck.train.History(epoch=e.int().tolist(), train_loss=(2 * (1 + p) / e).tolist(),
                                    val_loss=(0.3 + 1 / e + 0.002 * e).tolist(),
                                    val_acc=(0.95 - 0.1 * p - 0.5 / e).tolist(), train_acc=[1.0] * 40)
    return sweep


def widgets():
    """(name, draw function, controls, control to move, values to cycle)."""
    population = torch.randn(4096) * 2 + 1
    return [
        ("floor: bare 2-panel figure", bare_figure, {"n": (2, 20)}, "n", [5, 6]),
        ("01 gradient flow", ck.plots.plot_gradient_flow,
         {"depth": (1, 15), "activation": ["sigmoid", "relu"]}, "depth", [6, 10]),
        ("02 activation profile", ck.plots.plot_activation_profile,
         {"activation": ["relu", "sigmoid"], "depth": (1, 15)}, "depth", [8, 12]),
        ("03 optimizer trajectory", ck.plots.plot_trajectory,
         {"surface": ["beale", "rosenbrock"], "optimizer": ["momentum", "adam"], "steps": (10, 150, 10)},
         "optimizer", ["momentum", "adam"]),
        ("04 signal through depth", functools.partial(ck.plots.plot_signal_through_depth, gradients=False, nets=4),
         {"depth": (2, 50), "activation": ["tanh", "relu"], "scheme": ["xavier_normal", "kaiming_normal"]},
         "depth", [30, 40]),
        ("06 dropout network + sweep", functools.partial(ck.plots.draw_dropout_network, sweep=_dropout_sweep()),
         {"p": ipywidgets.SelectionSlider(options=[0.0, 0.3, 0.5, 0.7], value=0.3), "sample": (0, 20)}, "sample", [1, 2]),
        ("07 batch-norm statistics", functools.partial(ck.plots.plot_bn_tracking, steps=200, population=population),
         {"batch_size": (2, 128), "momentum": (0.01, 0.9)}, "batch_size", [32, 8]),
    ]


def _panel(draw, controls):
    with contextlib.redirect_stdout(io.StringIO()):  # no kernel here: display() would print
        return ck.widgets.interactive_figure(draw, **controls)


def _move(panel, name, value) -> float:
    w0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        panel.controls[name].value = value
    return time.perf_counter() - w0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    ck.setup_notebook(quiet=True)
    print(f"median redraw over {args.repeats} moves, ms (compute + draw + PNG); target: reused < 150 ms")
    print(f"  {'widget':28s} {'reused':>7s} {'new figure':>11s} {'ratio':>6s}")
    for name, draw, controls, moved, values in widgets():
        reused = _panel(draw, controls)
        fresh = _panel(lambda **kw: draw(**kw), controls)  # no `fig` parameter: a new figure each move
        if name.startswith("floor"):
            reused = None
        t_reused, t_fresh = [], []
        for i in range(args.repeats + 1):
            value = values[i % 2]
            a = _move(reused, moved, value) if reused is not None else float("nan")
            b = _move(fresh, moved, value)
            if i:  # the first move warms caches
                t_reused.append(a)
                t_fresh.append(b)
        r, f = 1000 * statistics.median(t_reused), 1000 * statistics.median(t_fresh)
        if reused is None:
            print(f"  {name:28s} {'':>7s} {f:11.0f}")
            continue
        verdict = "OK" if r < 150 else "OVER"
        print(f"  {name:28s} {r:7.0f} {f:11.0f} {r / f:6.2f}  {verdict}")


if __name__ == "__main__":
    main()
