#!/usr/bin/env python3
"""Redraw time of every in-class widget, as a learner triggers it, measured side by side.

Each widget is built as its notebook builds it (the same draw function, the same
controls and starting values), through ``coursekit.widgets.interactive_figure``,
and the controls that the browser test moves are moved here too: the first
slider one step away and back, the first drop-down to its next option and back.
Each move's full redraw (compute, draw, render the PNG the browser shows) is
timed. Target: median at most 150 ms in the browser, where the round trip through
the kernel and the page adds about 40-60 ms on a 2-core machine (the browser test
prints those latencies), so the redraw itself should stay near 90 ms or below.

Three columns, measured in the same run with the moves interleaved so machine
noise hits all alike: "reused", what the notebooks do (the draw function gets
the previous figure back and empties its axes, see ``coursekit.plots.panels``,
and ``live_png`` renders the texts through the widget text cache,
``coursekit/plots/_fast_text_png.py``); "savefig", the same but rendered by plain
``fig.savefig`` (``live_png(fig, text_cache=False)``); and "new figure", the
function hidden behind a wrapper so every move builds a new figure (with the
text cache). Their ratios are the gains of the text cache and of reusing the
figure. A bare two-panel figure built anew each move is the floor of the old way.

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
    """(name, draw function, controls as in the notebook, [(control to move, two values), ...])."""
    import ipywidgets as W

    population = torch.randn(4096) * 2 + 1
    log_slider = dict(base=10, continuous_update=False)
    return [
        ("floor: bare 2-panel figure", bare_figure, {"n": (2, 20)}, [("n", [5, 6])]),
        ("01 gradient flow", ck.plots.plot_gradient_flow,
         {"depth": W.IntSlider(value=6, min=1, max=15), "activation": ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu"],
          "init": ["pytorch_default", "xavier_uniform", "kaiming_normal", "normal"],
          "weight_scale": W.FloatLogSlider(value=1.0, min=-1, max=1, step=0.05, **log_slider)},
         [("depth", [7, 6]), ("activation", ["tanh", "sigmoid"])]),
        ("02 activation profile", ck.plots.plot_activation_profile,
         {"activation": ["relu", "leaky_relu", "elu", "gelu", "tanh", "sigmoid"], "depth": W.IntSlider(value=8, min=1, max=15),
          "init": ["pytorch_default", "xavier_uniform", "kaiming_normal", "normal"],
          "weight_scale": W.FloatLogSlider(value=1.0, min=-1, max=1, step=0.05, **log_slider)},
         [("depth", [9, 8]), ("activation", ["leaky_relu", "relu"])]),
        ("03 optimizer trajectory", ck.plots.plot_trajectory,
         {"surface": W.Dropdown(options=list(ck.surfaces.SURFACES), value="beale"),
          "optimizer": W.Dropdown(options=list(ck.optim.OPTIMIZERS), value="momentum"),
          "lr": W.FloatLogSlider(value=0.003, min=-4, max=0, step=0.25, **log_slider),
          "momentum": W.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01),
          "steps": W.IntSlider(value=100, min=10, max=150, step=10), "noise": W.FloatSlider(value=0.0, min=0.0, max=2.0, step=0.1)},
         [("lr", [0.003 * 10 ** 0.25, 0.003]), ("surface", [list(ck.surfaces.SURFACES)[1], "beale"])]),
        ("04 signal through depth", functools.partial(ck.plots.plot_signal_through_depth, width=128, gradients=False, nets=4),
         {"depth": W.IntSlider(value=30, min=2, max=50), "activation": ["tanh", "relu", "leaky_relu", "sigmoid", "identity"],
          "scheme": ["xavier_normal", "xavier_uniform", "kaiming_normal", "kaiming_uniform", "pytorch_default", "normal"],
          "std": W.FloatLogSlider(value=1.0, min=-3, max=0.5, step=0.1, **log_slider)},
         [("depth", [31, 30]), ("activation", ["relu", "tanh"])]),
        ("06 dropout network + sweep", functools.partial(ck.plots.draw_dropout_network, sweep=_dropout_sweep()),
         {"p": W.SelectionSlider(options=[0.0, 0.3, 0.5, 0.7], value=0.3), "sample": (0, 20)}, [("p", [0.5, 0.3])]),
        ("07 batch-norm statistics", functools.partial(ck.plots.plot_bn_tracking, steps=200, population=population),
         {"batch_size": W.SelectionSlider(options=[2, 4, 8, 16, 32, 64, 128], value=32),
          "momentum": W.SelectionSlider(options=[0.01, 0.03, 0.1, 0.3, 0.5, 0.9], value=0.1)},
         [("batch_size", [64, 32])]),
    ]


def _panel(draw, controls):
    with contextlib.redirect_stdout(io.StringIO()):  # no kernel here: display() would print
        return ck.widgets.interactive_figure(draw, **controls)


def _plain_png(fig):
    return ck.plots.live_png(fig, text_cache=False)


def _move(panel, name, value, *, text_cache: bool = True) -> float:
    """Move one control and time the redraw; ``text_cache=False``: the PNG by plain ``savefig``."""
    ck.widgets.live_png = ck.plots.live_png if text_cache else _plain_png
    try:
        w0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            panel.controls[name].value = value
        return time.perf_counter() - w0
    finally:
        ck.widgets.live_png = ck.plots.live_png


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    ck.setup_notebook(quiet=True)
    print(f"median redraw over {args.repeats} moves, ms (compute + draw + PNG); target: reused <= 90 ms")
    print(f"  {'widget':28s} {'moved':13s} {'reused':>7s} {'savefig':>8s} {'new figure':>11s} "
          f"{'cache/savefig':>13s} {'reused/new':>10s}")
    for k, (name, draw, _, moves) in enumerate(widgets()):
        for moved, values in moves:
            # each panel gets its own control widgets (a widget given as a control is used as is)
            reused = _panel(draw, widgets()[k][2])
            plain = _panel(draw, widgets()[k][2])
            fresh = _panel(lambda **kw: draw(**kw), widgets()[k][2])  # no `fig` parameter: a new figure each move
            if name.startswith("floor"):
                reused = None
            t_reused, t_plain, t_fresh = [], [], []
            for i in range(args.repeats + 1):
                value = values[i % 2]
                a = _move(reused, moved, value) if reused is not None else float("nan")
                c = _move(plain, moved, value, text_cache=False) if reused is not None else float("nan")
                b = _move(fresh, moved, value)
                if i:  # the first move warms caches
                    t_reused.append(a)
                    t_plain.append(c)
                    t_fresh.append(b)
            r, f = 1000 * statistics.median(t_reused), 1000 * statistics.median(t_fresh)
            pl = 1000 * statistics.median(t_plain)
            if reused is None:
                print(f"  {name:28s} {moved:13s} {'':>7s} {'':>8s} {f:11.0f}")
                continue
            verdict = "OK" if r <= 90 else "OVER"
            verdict_plain = "OK" if pl <= 90 else "OVER"
            print(f"  {name:28s} {moved:13s} {r:7.0f} {pl:8.0f} {f:11.0f} {r / pl:13.2f} {r / f:10.2f}  "
                  f"cache {verdict}, savefig {verdict_plain}")


if __name__ == "__main__":
    main()
