"""Plot helpers with one consistent style across the course.

Introduced in ``notebooks/00_start_here.ipynb``. Every helper returns the
matplotlib ``Figure`` so a notebook can save, tweak or close it.

One colour per technique, reused in every notebook (:data:`COLORS`): sigmoid
is always the same orange, ReLU always the same blue, and so on.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = [
    "COLORS", "color", "plot_history", "compare_histories", "show_images",
    "plot_grad_norms", "plot_layer_histograms", "plot_layer_stats", "panels",
]

#: A colour per technique, used wherever that technique appears (colour-blind-safe
#: Okabe-Ito palette first, then Tableau).
COLORS = {
    # activations
    "sigmoid": "#E69F00", "tanh": "#CC79A7", "relu": "#0072B2", "leaky_relu": "#56B4E9",
    "elu": "#009E73", "gelu": "#D55E00", "identity": "#999999",
    # optimizers
    "sgd": "#7f7f7f", "momentum": "#E69F00", "nesterov": "#D55E00", "adagrad": "#56B4E9",
    "rmsprop": "#009E73", "adadelta": "#F0E442", "adam": "#0072B2", "adamw": "#17becf", "nadam": "#CC79A7",
    # initializations
    "zeros": "#999999", "normal": "#E69F00", "uniform": "#F0E442", "xavier_uniform": "#009E73",
    "xavier_normal": "#56B4E9", "kaiming_uniform": "#CC79A7", "kaiming_normal": "#0072B2",
    "pytorch_default": "#7f7f7f",
    # regularization / normalization
    "baseline": "#7f7f7f", "dropout": "#009E73", "batchnorm": "#D55E00", "pretrained": "#CC79A7",
    "softmax": "#7f7f7f", "mlp": "#0072B2",
    # splits
    "train": "#0072B2", "val": "#D55E00", "test": "#009E73",
}

_FALLBACK = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]


def color(name: str, index: int = 0) -> str:
    """The course colour for a technique name (case-insensitive), or a fallback by ``index``."""
    key = str(name).lower().replace("-", "_").replace(" ", "_")
    return COLORS.get(key, _FALLBACK[index % len(_FALLBACK)])


def panels(ncols: int, figsize: tuple[float, float], *, fig=None, width_ratios: Sequence[float] | None = None):
    """A row of ``ncols`` empty axes: in a new figure, or in ``fig``, emptied for a redraw.

    The draw functions behind the course's widgets start with this. A widget
    passes back the figure of its previous redraw, and that figure's axes are
    emptied instead of being built anew. The picture is the same as on a new
    figure, and the redraw takes about a quarter less time on a small CPU
    (``benchmarks/bench_widgets.py`` measures both ways side by side).

    Emptying removes every line, patch, collection, container (bars), text,
    image and legend, the titles and axis labels, and the figure's own texts
    and suptitle. It also
    resets both scales to linear (which brings back the default tick locators
    and formatters), the colour cycle and autoscaling. What a draw function
    sets on the axes themselves (spines, tick parameters) stays, so a draw
    function that reuses figures sets those every time.

    Args:
        ncols: number of axes in the row, >= 1.
        figsize: (width, height) in inches.
        fig: a Figure from an earlier call. If its axes don't match ``ncols``
            and ``width_ratios``, it is cleared and laid out again.
        width_ratios: relative widths of the axes (default: equal).

    Returns:
        ``(fig, axes)``, with ``axes`` a list of ``ncols`` Axes, left to right.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb`` (its widget).
    """
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    if not isinstance(ncols, int) or isinstance(ncols, bool) or ncols < 1:
        raise ValueError(f"ncols must be an integer >= 1; got {ncols!r}")
    if (not isinstance(figsize, (tuple, list)) or len(figsize) != 2
            or not all(isinstance(v, (int, float)) and v > 0 for v in figsize)):
        raise ValueError(f"figsize must be (width, height) in inches, both > 0; got {figsize!r}")
    if width_ratios is not None:
        width_ratios = [float(w) for w in width_ratios]
        if len(width_ratios) != ncols or not all(w > 0 for w in width_ratios):
            raise ValueError(f"width_ratios must be {ncols} positive numbers; got {width_ratios!r}")
    gridspec_kw = {"width_ratios": width_ratios} if width_ratios is not None else {}

    def lay_out(f):
        return f, list(f.subplots(1, ncols, squeeze=False, gridspec_kw=gridspec_kw)[0])

    if fig is None:
        return lay_out(plt.figure(figsize=figsize))
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure from an earlier call, or None; got {type(fig).__name__}")
    axes = fig.axes
    same = (len(axes) == ncols and all(ax.get_subplotspec() is not None for ax in axes)
            and list(axes[0].get_subplotspec().get_gridspec().get_width_ratios() or [1.0] * ncols)
            == list(width_ratios or [1.0] * ncols))
    if tuple(fig.get_size_inches()) != tuple(float(v) for v in figsize):
        fig.set_size_inches(figsize)
    if not same:
        fig.clear()
        return lay_out(fig)
    for artist in list(fig.texts):
        artist.remove()
    if getattr(fig, "_suptitle", None) is not None:
        fig._suptitle.remove()
        fig._suptitle = None
    for ax in axes:
        _empty_axes(ax)
    return fig, list(axes)


def _empty_axes(ax) -> None:
    """Remove what was drawn on ``ax`` but keep the Axes and its tick objects (see :func:`panels`)."""
    for container in list(ax.containers):  # bars, error bars, stems: they and their parts
        container.remove()
    for artist in (*ax.lines, *ax.patches, *ax.collections, *ax.texts, *ax.images, *ax.artists, *ax.tables):
        artist.remove()
    if ax.legend_ is not None:
        ax.legend_.remove()
    for loc in ("left", "center", "right"):
        ax.set_title("", loc=loc)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xscale("linear")
    ax.set_yscale("linear")
    ax.set_prop_cycle(None)
    ax.relim()
    ax.set_autoscale_on(True)


def plot_history(history, title: str | None = None):
    """Loss (per step and per epoch) and accuracy of one run, side by side.

    Args:
        history: a :class:`coursekit.train.History`.
        title: figure title (default: the history's label).

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/00_start_here.ipynb``.
    """
    import matplotlib.pyplot as plt

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

    Args:
        histories: :class:`coursekit.train.History` objects.
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
    import matplotlib.pyplot as plt

    metrics = ("val_acc", "val_loss", "train_acc", "train_loss", "step_loss")
    if metric not in metrics:
        raise ValueError(f"unknown metric {metric!r}; allowed: {', '.join(metrics)}")
    histories = list(histories)
    if not histories:
        raise ValueError("histories is empty: pass at least one History")
    for i, h in enumerate(histories):
        _check_history(h, f"histories[{i}]")
    if labels is None:
        labels = [h.label or f"run {i}" for i, h in enumerate(histories)]
    labels = list(labels)
    if len(labels) != len(histories):
        raise ValueError(f"got {len(labels)} labels for {len(histories)} histories")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.5))
    else:
        fig = ax.figure
    for i, (h, lab) in enumerate(zip(histories, labels)):
        y = np.asarray(getattr(h, metric))
        x = np.arange(1, len(y) + 1) if metric == "step_loss" else np.asarray(h.epoch)
        if metric == "step_loss":
            ax.plot(x, y, color=color(lab, i), lw=1, label=lab)
        else:
            ax.plot(x, y, color=color(lab, i), marker="o", ms=3, lw=1.5, label=lab)
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
    import matplotlib.pyplot as plt

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
    from .train import History

    if not isinstance(h, History):
        raise TypeError(f"{name} must be a coursekit History (what fit returns); got {type(h).__name__}")


# --------------------------------------------------------------------------- per-layer diagnostics
# Added with coursekit.diagnostics (notebooks 01 and 02). They take plain dicts
# (layer name -> numbers), so they draw what LayerStats records without knowing it.


def _layer_axes(ax, figsize):
    """(figure, axes, whether we created the figure and so own its layout)."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax, True
    return ax.figure, ax, False


def plot_grad_norms(
    norms, ax=None, title: str | None = "gradient norm per layer", logy: bool = True,
    ylabel: str = "gradient norm", legend: bool = True,
):
    """Gradient norm per layer, input side on the left, on a log scale.

    Args:
        norms: ``{layer: norm}`` for one run, or ``{label: {layer: norm}}`` for
            several runs on one axis (a label naming a technique, e.g.
            "sigmoid", gets that technique's colour). Layers are drawn in the
            order given.
        ax: draw into this Axes instead of a new figure.
        title: axis title.
        logy: logarithmic y axis (the point of the picture: orders of magnitude).
        ylabel: y-axis label.
        legend: name the runs in a legend (when they have labels); a single run
            whose title already names it can do without (and redraws faster).

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """
    if not hasattr(norms, "items") or not norms:
        raise TypeError(f"norms must be a non-empty dict {{layer: norm}} or {{label: {{layer: norm}}}}; got {norms!r}")
    first = next(iter(norms.values()))
    runs = norms if hasattr(first, "items") else {"": norms}
    fig, ax, own = _layer_axes(ax, (5, 3.2))
    names: list[str] = []
    for i, (label, per_layer) in enumerate(runs.items()):
        if not hasattr(per_layer, "items") or not per_layer:
            raise TypeError(f"norms[{label!r}] must be a non-empty dict {{layer: norm}}")
        layer_names = [str(k) for k in per_layer]
        if len(layer_names) > len(names):
            names = layer_names
        vals = np.asarray([float(v) for v in per_layer.values()], dtype=float)
        ax.plot(np.arange(len(vals)), vals, marker="o", ms=4, lw=1.5, color=color(label, i),
                label=label or None)
    # at most ~8 tick labels (text is what makes a redraw slow); always the first and the last layer
    step = max(1, -(-len(names) // 8))
    ticks = list(range(0, len(names), step))
    last = len(names) - 1
    if ticks[-1] != last:
        if len(ticks) > 1 and last - ticks[-1] < step:
            ticks[-1] = last  # too close to the previous label: show the last layer instead
        else:
            ticks.append(last)
    ax.set_xticks(ticks)
    ax.set_xticklabels([names[i] for i in ticks], fontsize=8)
    if logy:
        from matplotlib.ticker import FuncFormatter, NullLocator

        ax.set_yscale("log")
        # plain "1e-05" labels (not mathtext, which is slow to lay out) and no minor ticks: fast redraws
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0e}"))
    ax.set(xlabel="layer (input side first)", ylabel=ylabel)
    if title:
        ax.set_title(title)
    if legend and (len(runs) > 1 or next(iter(runs))):
        ax.legend(fontsize=8)
    if own:
        fig.tight_layout()
    return fig


def plot_layer_histograms(
    values, ax=None, bins: int = 50, value_range: tuple[float, float] | None = None,
    title: str | None = None, xlabel: str = "value", density: bool = True,
):
    """Per-layer histograms on one axis, one line per layer (Glorot & Bengio Fig. 6 / 7 style).

    Args:
        values: ``{layer: array}``, e.g. ``LayerStats.last_act`` (activations)
            or ``LayerStats.last_grad`` (back-propagated gradients); arrays of
            any shape, flattened. Layers are drawn input side first, from light
            to dark.
        ax: draw into this Axes instead of a new figure.
        bins: number of bins (shared by every layer, so the shapes compare).
        value_range: ``(low, high)``; default the range of all values together.
        title: axis title.
        xlabel: x-axis label.
        density: normalize each histogram to unit area (layers of different
            sizes compare); else raw counts.

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """
    import matplotlib.pyplot as plt

    if not hasattr(values, "items") or not values:
        raise TypeError(f"values must be a non-empty dict {{layer: array}}; got {type(values).__name__}")
    if not isinstance(bins, int) or bins < 2:
        raise ValueError(f"bins must be an integer >= 2; got {bins!r}")
    arrays = {str(k): np.asarray(v.detach().cpu() if hasattr(v, "detach") else v, dtype=float).reshape(-1)
              for k, v in values.items()}
    if value_range is None:
        finite = np.concatenate([a[np.isfinite(a)] for a in arrays.values()])
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if not hi > lo:
            lo, hi = lo - 0.5, hi + 0.5
    else:
        lo, hi = value_range
    edges = np.linspace(lo, hi, bins + 1)
    centers = (edges[:-1] + edges[1:]) / 2
    fig, ax, own = _layer_axes(ax, (5, 3.2))
    cmap = plt.get_cmap("viridis")
    n = len(arrays)
    for i, (name, a) in enumerate(arrays.items()):
        counts, _ = np.histogram(np.clip(a, lo, hi), bins=edges, density=density)
        # beyond 6 layers the legend names only the first and the last (the colours run in between)
        shown = n <= 6 or i in (0, n - 1)
        ax.plot(centers, counts, color=cmap(0.9 * (1 - i / max(n - 1, 1))), lw=1.5,
                label=(name if n <= 6 else f"{name} ({'input' if i == 0 else 'output'} side)") if shown
                else "_nolegend_")
    ax.set(xlabel=xlabel, ylabel="density" if density else "count")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7, ncol=2 if 3 < n <= 6 else 1)
    if own:
        fig.tight_layout()
    return fig


def plot_layer_stats(
    steps, mean, spread=None, ax=None, title: str | None = None, ylabel: str = "activation",
    xlabel: str = "step", band: str = "std",
):
    """Per-layer statistics over training, one colour per layer (Glorot & Bengio Fig. 2 style).

    Args:
        steps: x values (``LayerStats.steps``, or epochs), shape (records,).
        mean: ``{layer: array (records,)}``: the line, e.g. ``LayerStats.act_mean``.
        spread: optional band around it: ``{layer: array (records,)}`` drawn as
            mean +- spread (``band="std"``, e.g. ``LayerStats.act_std``), or
            ``{layer: array (records, 2)}`` drawn as [low, high] (``band="range"``,
            e.g. two columns of ``LayerStats.act_percentiles``).
        ax: draw into this Axes instead of a new figure.
        title, ylabel, xlabel: labels.
        band: "std" or "range" (see ``spread``).

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """
    import matplotlib.pyplot as plt

    if band not in ("std", "range"):
        raise ValueError(f"band must be 'std' or 'range'; got {band!r}")
    if not hasattr(mean, "items") or not mean:
        raise TypeError(f"mean must be a non-empty dict {{layer: array}}; got {type(mean).__name__}")
    x = np.asarray(steps, dtype=float).reshape(-1)
    fig, ax, own = _layer_axes(ax, (6, 3.2))
    cmap = plt.get_cmap("viridis")
    n = len(mean)
    for i, (name, m) in enumerate(mean.items()):
        m = np.asarray(m, dtype=float).reshape(-1)
        if m.shape != x.shape:
            raise ValueError(f"mean[{name!r}] has {m.size} values for {x.size} steps")
        c = cmap(0.9 * (1 - i / max(n - 1, 1)))
        ax.plot(x, m, color=c, lw=1.5, label=str(name))
        if spread is not None and name in spread:
            s = np.asarray(spread[name], dtype=float)
            if band == "std":
                lo, hi = m - s.reshape(-1), m + s.reshape(-1)
            else:
                if s.shape != (x.size, 2):
                    raise ValueError(f"spread[{name!r}] must have shape ({x.size}, 2) for band='range'")
                lo, hi = s[:, 0], s[:, 1]
            ax.fill_between(x, lo, hi, color=c, alpha=0.15, lw=0)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7, ncol=2 if n > 5 else 1)
    if own:
        fig.tight_layout()
    return fig
