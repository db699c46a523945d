#!/usr/bin/env python3
"""Speed of the dropout and batch-norm widgets' callbacks (notebooks 06 and 07).

The widget of ``notebooks/06_dropout.ipynb`` calls
``coursekit.layers.draw_dropout_network(p, sweep=..., sample=...)`` (a network picture with one
random mask, beside the precomputed sweep's loss curves); the one of
``notebooks/07_batch_norm.ipynb`` calls
``coursekit.layers.draw_bn_tracking(batch_size, momentum, steps=200, population=...)``.
For a few settings this script times, as medians over repeated calls:

- compute: the computation alone (the masks / ``bn_statistics_trace``);
- draw: building the figure (compute included), what the draw function returns;
- callback: draw + the PNG that IPython's inline backend renders (``bbox_inches="tight"``)
  + closing the figure, i.e. what a learner waits for after moving a slider.

Target: callback under 150 ms (median) on one thread.

Two clocks: wall time (what a learner waits) and this process's CPU time (the same on an
idle machine; on a shared, busy machine wall time is inflated by other processes).

Usage: .venv/bin/python benchmarks/bench_layers_widgets.py [--repeat 7]
"""
from __future__ import annotations

import argparse
import io
import statistics
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import torch

from coursekit.layers import (
    bn_statistics_trace,
    draw_bn_tracking,
    draw_dropout_network,
    dropout_mask,
)
from coursekit.notebook import setup_notebook
from coursekit.train import History

DROPOUT_SETTINGS = [(0.0, 0), (0.3, 0), (0.7, 5)]          # (p, sample)
BN_SETTINGS = [(32, 0.1), (2, 0.9), (128, 0.01)]            # (batch_size, momentum)


def fake_sweep(epochs: int = 40) -> dict:
    """A sweep of six Histories shaped like notebook 06's (no training needed)."""
    rng = np.random.default_rng(0)
    sweep = {}
    for p in (0.0, 0.1, 0.2, 0.3, 0.5, 0.7):
        e = np.arange(1, epochs + 1)
        sweep[p] = History(epoch=list(e), train_loss=list(2 * np.exp(-e / (3 + 10 * p)) + 1e-3),
                           val_loss=list(0.25 + 2 * np.exp(-e / 5) + 0.01 * rng.random(epochs)),
                           train_acc=[1.0] * epochs, val_acc=[0.95] * epochs, label=f"p={p}")
    return sweep


def timed(fn, repeat: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def callback(draw) -> None:
    fig = draw()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)


def draw_only(draw) -> None:
    plt.close(draw())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    setup_notebook(seed=0, quiet=True)
    sweep = fake_sweep()
    population = torch.randn(1077) * 0.3 - 0.4   # like notebook 07's hidden unit
    callback(lambda: draw_dropout_network(0.3, sweep=sweep))   # warm-up (font cache, first draw)

    print(f"median of {args.repeat} calls, milliseconds (wall / cpu); target: callback < 150 ms")
    print(f"{'widget':34s} {'compute':>15s} {'draw':>15s} {'callback':>15s}")

    def baseline():  # the floor: a two-panel figure with one short line each, rendered the same way
        fig = plt.figure(figsize=(8.4, 3.2))
        for ax in fig.subplots(1, 2):
            ax.plot([1, 2, 3], [1, 3, 2])
        return fig

    base = timed(lambda: callback(baseline), args.repeat)
    print(f"{'baseline: empty two-panel figure':34s} {'':>15s} {'':>15s} {base[0]:7.1f} / {base[1]:5.1f}")
    worst = 0.0
    for p, sample in DROPOUT_SETTINGS:
        def compute(p=p, sample=sample):
            g = torch.Generator().manual_seed(sample)
            return [dropout_mask((10,), p, generator=g) for _ in range(3)]

        def draw_d(p=p, sample=sample):
            return draw_dropout_network(p, sweep=sweep, sample=sample)

        c, d, cb = timed(compute, args.repeat), timed(lambda: draw_only(draw_d), args.repeat), \
            timed(lambda: callback(draw_d), args.repeat)
        worst = max(worst, cb[0])
        print(f"{f'dropout p={p} sample={sample}':34s} {c[0]:7.1f} / {c[1]:5.1f} {d[0]:7.1f} / {d[1]:5.1f} "
              f"{cb[0]:7.1f} / {cb[1]:5.1f}")
    for bs, mom in BN_SETTINGS:
        def compute_bn(bs=bs, mom=mom):
            return bn_statistics_trace(bs, mom, steps=200, population=population)

        def draw_bn(bs=bs, mom=mom):
            return draw_bn_tracking(bs, mom, steps=200, population=population)

        c, d, cb = timed(compute_bn, args.repeat), timed(lambda: draw_only(draw_bn), args.repeat), \
            timed(lambda: callback(draw_bn), args.repeat)
        worst = max(worst, cb[0])
        print(f"{f'bn batch={bs} momentum={mom}':34s} {c[0]:7.1f} / {c[1]:5.1f} {d[0]:7.1f} / {d[1]:5.1f} "
              f"{cb[0]:7.1f} / {cb[1]:5.1f}")
    print(f"slowest callback (wall): {worst:.0f} ms = {worst / base[0]:.1f} x the baseline figure "
          f"-> {'OK' if worst < 150 else 'over the 150 ms target on this machine'}")


if __name__ == "__main__":
    main()
