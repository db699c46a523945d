"""Figures of dropout and batch normalization (notebooks 06 and 07).

Introduced in ``notebooks/06_dropout.ipynb`` and ``notebooks/07_batch_norm.ipynb``.
"""
from __future__ import annotations

import numpy as np
import torch
from matplotlib.collections import LineCollection
from matplotlib.ticker import FuncFormatter, NullLocator

from .._checks import check_float, check_int
from ..layers import bn_statistics_trace, dropout_mask
from ..train import History
from .style import color, panels

# ------------------------------------------------------------------ widgets' draw functions


def _network_positions(sizes: list[int]):

    pos = []
    for i, n in enumerate(sizes):
        ys = np.linspace(0.5, -0.5, n) * (n - 1) / max(max(sizes) - 1, 1)
        pos.append(np.column_stack([np.full(n, float(i)), ys]))
    return pos


__all__ = ["draw_dropout_network", "plot_bn_tracking"]


def draw_dropout_network(
    p: float,
    sweep: dict | None = None,
    sizes: tuple[int, ...] = (6, 10, 10, 10, 4),
    sample: int = 0,
    fig=None,
):
    """Which units one dropout mask removes from a small network, beside a sweep's curves.

    Left: a network with ``sizes`` units per layer; every *hidden* unit is
    dropped with probability ``p`` (as the study notes' code does: inputs and outputs
    are kept); dropped units are crossed out and their connections vanish.
    Right (when ``sweep`` is given): training and validation loss per epoch of
    the run trained with this ``p`` (bold), the other runs faint; the title gives
    that run's validation error averaged over its last five epochs. The training
    loss is ``History.train_loss``, measured with dropout on; a run trained with
    ``fit(..., eval_train=True)`` also gets its training loss in eval mode, dashed.

    Args:
        p: drop probability in [0, 1] (the paper's keep probability is ``1 - p``).
        sweep: optional ``{p: History}`` from a drop-probability sweep; ``p``
            must be one of its keys (rounded to 3 decimals).
        sizes: units per layer, input first; at least 3 layers, each 1-30 units.
        sample: seed of the mask, so a class can ask for "another mask".
        fig: a Figure this function returned before, to redraw into (what the
            widget does; see :func:`coursekit.plots.panels`); default a new one.

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/06_dropout.ipynb``.
    """
    p = check_float("p", p, 0.0, 1.0)
    sample = check_int("sample", sample, minimum=0)
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"sizes must be a sequence of ints such as (6, 10, 10, 4); got {sizes!r}")
    sizes = [check_int(f"sizes[{i}]", s, minimum=1, maximum=30) for i, s in enumerate(sizes)]
    if len(sizes) < 3:
        raise ValueError(f"sizes needs an input, at least one hidden and an output layer; got {sizes}")
    run = None
    if sweep is not None:
        if not isinstance(sweep, dict) or not sweep:
            raise TypeError("sweep must be a non-empty dict {drop probability: History}")
        for key, h in sweep.items():
            if not isinstance(h, History):
                raise TypeError(f"sweep[{key!r}] must be a coursekit History; got {type(h).__name__}")
        keys = {round(float(k), 3): k for k in sweep}
        if round(p, 3) not in keys:
            raise ValueError(f"p={p} is not in the sweep; allowed: {sorted(keys)}")
        run = sweep[keys[round(p, 3)]]

    gen = torch.Generator().manual_seed(sample)
    masks = [np.ones(sizes[0], dtype=bool)]
    for n in sizes[1:-1]:
        masks.append(dropout_mask((n,), p, generator=gen).numpy().astype(bool))
    masks.append(np.ones(sizes[-1], dtype=bool))
    pos = _network_positions(sizes)

    # Fixed margins instead of tight_layout, and few artists (one scatter per kind of unit):
    # the widget redraws in well under 150 ms.
    ncols = 2 if run is not None else 1
    fig, axes = panels(ncols, (4.4 * ncols + (0.4 if run is not None else 0), 3.3), fig=fig)
    fig.subplots_adjust(left=0.03 if run is None else 0.02, right=0.97, bottom=0.15, top=0.9, wspace=0.22)
    ax = axes[0]
    segs = []
    for i in range(len(sizes) - 1):
        a = pos[i][masks[i]]
        b = pos[i + 1][masks[i + 1]]
        if len(a) and len(b):
            segs.extend(np.stack(np.broadcast_arrays(a[:, None, :], b[None, :, :]), axis=2).reshape(-1, 2, 2))
    ax.add_collection(LineCollection(segs, colors="0.55", linewidths=0.5, alpha=0.6, zorder=1))
    every = np.concatenate(pos)
    kept = np.concatenate(masks)
    is_hidden = np.concatenate([np.full(n, 0 < i < len(sizes) - 1) for i, n in enumerate(sizes)])
    faces = np.where(is_hidden[kept], color("dropout"), "0.35")
    ax.scatter(every[kept, 0], every[kept, 1], s=70, c=faces, edgecolors="k", linewidths=0.6, zorder=2)
    if (~kept).any():
        ax.scatter(every[~kept, 0], every[~kept, 1], s=70, c="white", edgecolors="0.6", linewidths=0.6, zorder=2)
        ax.scatter(every[~kept, 0], every[~kept, 1], s=40, marker="x", c="#D55E00", linewidths=1.2, zorder=3)
    hidden = sum(sizes[1:-1])
    dropped = int((~kept).sum())
    ax.set_xlim(-0.4, len(sizes) - 0.6)
    ax.set_ylim(-0.6, 0.6)
    ax.set_xticks(range(len(sizes)))
    ax.set_xticklabels(["input"] + [f"hidden {i}" for i in range(1, len(sizes) - 1)] + ["output"], fontsize=8)
    ax.tick_params(length=0)
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(f"p = {p:.2f} (keep {1 - p:.2f}): {dropped} of {hidden} hidden units dropped", fontsize=9)

    if run is not None:

        ax2 = axes[1]
        for key, h in sweep.items():
            if h is not run:
                ax2.plot(h.epoch, h.val_loss, color="0.8", lw=0.8)
        ax2.plot(run.epoch, run.train_loss, color=color("train"), lw=1.8, label="train (dropout on)")
        if run.eval_train_loss:  # fit(..., eval_train=True): the same images scored in eval mode
            ax2.plot(run.epoch, run.eval_train_loss, color=color("train"), lw=1.4, ls="--", label="train (eval mode)")
        ax2.plot(run.epoch, run.val_loss, color=color("val"), lw=1.8, label="validation")
        err = 1.0 - float(np.mean(run.val_acc[-5:])) if run.val_acc else float("nan")  # as the notebook's tables
        ax2.set_yscale("log")
        ax2.yaxis.set_minor_locator(NullLocator())
        ax2.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # plain text: no mathtext parsing
        ax2.set_xlabel("epoch", fontsize=9)
        ax2.set_ylabel("loss", fontsize=9, labelpad=1)
        ax2.set_title(f"sweep run p = {p:.2f}: val error {err:.3f} (last 5 epochs)", fontsize=9)
        ax2.legend(fontsize=8, loc="lower left")
    return fig


def plot_bn_tracking(
    batch_size: int,
    momentum: float,
    steps: int = 200,
    population: torch.Tensor | None = None,
    seed: int = 0,
    fig=None,
):
    """Batch statistics and running statistics of a BatchNorm against the true ones.

    Two panels (mean, variance) over the steps of :func:`bn_statistics_trace`:
    each minibatch's statistic as a dot, the running estimate (what eval mode
    uses) as a line, the population's value dashed. Small batches make noisy
    dots; a large momentum makes the running line follow that noise, a small
    one makes it slow to leave its start (mean 0, variance 1).

    Args:
        batch_size, momentum, steps, population, seed: as in :func:`bn_statistics_trace`
            (without ``population``: N(2, 3^2)).
        fig: a Figure this function returned before, to redraw into (what the
            widget does; see :func:`coursekit.plots.panels`); default a new one.

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/07_batch_norm.ipynb``.
    """

    tr = bn_statistics_trace(batch_size, momentum, steps, population=population, seed=seed)
    tail = slice(len(tr["step"]) // 2, None)
    fig, axes = panels(2, (8.4, 3.2), fig=fig)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.15, top=0.8, wspace=0.2)  # no tight_layout: faster
    for ax, key, name in ((axes[0], "mean", "mean"), (axes[1], "var", "variance")):
        true = tr[f"true_{key}"]
        ax.plot(tr["step"], tr[f"batch_{key}"], ls="none", marker="o", ms=2.5, mew=0, color="0.65",
                label="each batch", zorder=1)
        ax.plot(tr["step"], tr[f"running_{key}"], color=color("batchnorm"), lw=2, label="running", zorder=3)
        ax.axhline(true, color="k", ls="--", lw=1, label="true", zorder=2)
        run_err = np.abs(tr[f"running_{key}"][tail] - true).mean()
        batch_err = np.abs(tr[f"batch_{key}"][tail] - true).mean()
        ax.set_xlabel("step", fontsize=9)
        ax.set_title(f"{name}: mean |error| batch {batch_err:.2f}, running {run_err:.2f}", fontsize=9)
    axes[1].set_ylim(0, max(3 * tr["true_var"], 1.2))
    axes[0].legend(fontsize=8, loc="upper right")  # a fixed place: "best" searches every point
    fig.text(0.5, 0.98, f"batch size {batch_size}, momentum {momentum:g} (errors over the last half of the steps)",
             ha="center", va="top", fontsize=10)
    return fig
