"""Figures of training runs: loss and accuracy curves, runs side by side, image grids.

Introduced in ``notebooks/00_start_here.ipynb``.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from ..train import Callback, History
from .style import color

__all__ = ["plot_history", "compare_histories", "show_images", "LivePlot"]


def plot_history(history, title: str | None = None):
    """Loss (per step and per epoch) and accuracy of one run, side by side.

    Args:
        history: a :class:`coursekit.train.History`.
        title: figure title (default: the history's label).

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/00_start_here.ipynb``.
    """

    _check_history(history, "history")
    fig, (ax_l, ax_a) = plt.subplots(1, 2, figsize=(8, 3))
    spe = max(history.steps_per_epoch, 1)
    steps = np.arange(1, len(history.step_loss) + 1) / spe
    ax_l.plot(steps, history.step_loss, color=color("train"), alpha=0.3, lw=0.8, label="train (step)")
    ax_l.plot(history.epoch, history.train_loss, color=color("train"), marker="o", ms=3, label="train (epoch)")
    if history.val_loss:
        ax_l.plot(history.epoch, history.val_loss, color=color("val"), marker="o", ms=3, label="validation")
    ax_l.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_l.legend(fontsize=8)
    ax_a.plot(history.epoch, history.train_acc, color=color("train"), marker="o", ms=3, label="train")
    if history.val_acc:
        ax_a.plot(history.epoch, history.val_acc, color=color("val"), marker="o", ms=3, label="validation")
    ax_a.set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(0, 1.02))
    ax_a.legend(fontsize=8)
    fig.suptitle(title if title is not None else (history.label or "training"))
    fig.tight_layout()
    return fig


def compare_histories(
    histories: Sequence, labels: Sequence[str] | None = None, metric: str = "val_acc",
    title: str | None = None, ax=None, logy: bool = False,
):
    """Several runs on one axis: the one-change-at-a-time comparison of the course.

    An entry may also be a list of Histories, the same run on several seeds
    (``runs.get("history")`` of :func:`coursekit.claims.over_seeds`): it is drawn
    as its mean over the seeds, a band from the lowest to the highest seed, and
    one thin line per seed, so the figure shows the spread a claim has to survive.

    Args:
        histories: :class:`coursekit.train.History` objects, or lists of them (one per seed).
        labels: legend entries (default: each history's label); a label that
            names a technique ("relu", "adam", ...) gets that technique's colour.
        metric: "val_acc", "val_loss", "train_acc", "train_loss" (per epoch) or
            "step_loss" (per step).
        title: axis title.
        ax: draw into this Axes instead of a new figure.
        logy: logarithmic y axis (useful for losses).

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/00_start_here.ipynb``.
    """

    metrics = ("val_acc", "val_loss", "train_acc", "train_loss", "step_loss")
    if metric not in metrics:
        raise ValueError(f"unknown metric {metric!r}; allowed: {', '.join(metrics)}")
    histories = [list(h) if isinstance(h, (list, tuple)) else [h] for h in histories]
    if not histories:
        raise ValueError("histories is empty: pass at least one History")
    for i, group in enumerate(histories):
        if not group:
            raise ValueError(f"histories[{i}] is an empty list: give at least one History per run")
        for j, h in enumerate(group):
            _check_history(h, f"histories[{i}]" + (f"[{j}]" if len(group) > 1 else ""))
    if labels is None:
        labels = [g[0].label or f"run {i}" for i, g in enumerate(histories)]
    labels = list(labels)
    if len(labels) != len(histories):
        raise ValueError(f"got {len(labels)} labels for {len(histories)} histories")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.5))
    else:
        fig = ax.figure
    for i, (group, lab) in enumerate(zip(histories, labels)):
        c = color(lab, i)
        n = min(len(getattr(h, metric)) for h in group)
        ys = np.array([np.asarray(getattr(h, metric), dtype=float)[:n] for h in group])
        x = np.arange(1, n + 1) if metric == "step_loss" else np.asarray(group[0].epoch[:n])
        if len(group) > 1:
            ax.fill_between(x, ys.min(0), ys.max(0), color=c, alpha=0.18, lw=0)
            for y in ys:
                ax.plot(x, y, color=c, lw=0.6, alpha=0.5)
            lab = f"{lab} (mean of {len(group)} seeds)"
        if metric == "step_loss":
            ax.plot(x, ys.mean(0), color=c, lw=1, label=lab)
        else:
            ax.plot(x, ys.mean(0), color=c, marker="o", ms=3, lw=1.5, label=lab)
    ax.set(xlabel="step" if metric == "step_loss" else "epoch", ylabel=metric.replace("_", " "))
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def show_images(
    images, labels: Sequence | None = None, image_shape: tuple[int, int] | None = None,
    ncols: int = 10, cmap: str = "gray_r", title: str | None = None, size: float = 0.9,
    vmin: float | None = None, vmax: float | None = None,
):
    """A grid of images (digits, RBM filters, reconstructions...).

    Args:
        images: array or tensor, (n, h, w) or (n, h*w) with ``image_shape``.
        labels: optional caption per image.
        image_shape: (h, w) when rows are flat vectors.
        ncols: images per row.
        cmap: matplotlib colour map.
        title: figure title.
        size: inches per image.
        vmin, vmax: colour limits (default: each image's own range).

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/00_start_here.ipynb``.
    """

    arr = images.detach().cpu().numpy() if hasattr(images, "detach") else np.asarray(images)
    if arr.ndim == 2:
        if image_shape is None:
            side = int(round(np.sqrt(arr.shape[1])))
            if side * side != arr.shape[1]:
                raise ValueError(f"rows of {arr.shape[1]} values are not square images: pass image_shape=(h, w)")
            image_shape = (side, side)
        if int(np.prod(image_shape)) != arr.shape[1]:
            raise ValueError(f"image_shape {image_shape} does not match rows of {arr.shape[1]} values")
        arr = arr.reshape(len(arr), *image_shape)
    if arr.ndim != 3 or len(arr) == 0:
        raise ValueError(f"images must be (n, h, w) or (n, h*w) with n >= 1; got shape {arr.shape}")
    if not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer; got {ncols!r}")
    if labels is not None and len(labels) != len(arr):
        raise ValueError(f"got {len(labels)} labels for {len(arr)} images")
    n = len(arr)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size * 1.1 + (0.3 if title else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(arr[i], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            if labels is not None:
                ax.set_title(str(labels[i]), fontsize=8, pad=2)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(pad=0.3)
    return fig


def _check_history(h, name: str) -> None:

    if not isinstance(h, History):
        raise TypeError(f"{name} must be a coursekit History (what fit returns); got {type(h).__name__}")


class LivePlot(Callback):
    """A :func:`coursekit.train.fit` callback that redraws the loss curves in place after each epoch.

    ``fit(model, data, callbacks=[ck.plots.LivePlot()])`` in JupyterLab or a notebook.

    Introduced in ``notebooks/00_start_here.ipynb``.
    """

    def __init__(self) -> None:
        self.handle = None

    def on_epoch_end(self, epoch: int, history: History) -> None:  # noqa: D102
        from IPython.display import display  # only inside Jupyter

        fig = plot_history(history)
        if self.handle is None:
            self.handle = display(fig, display_id=True)
        else:
            self.handle.update(fig)
        plt.close(fig)
