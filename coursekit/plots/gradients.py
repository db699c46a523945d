"""Figures of what flows through a deep network: per-layer gradient norms, histograms, statistics.

Introduced in ``notebooks/01_vanishing_gradients.ipynb`` and ``notebooks/02_relu.ipynb``. The
numbers come from :class:`coursekit.diagnostics.LayerStats` and :mod:`coursekit.flow`
(``gradient_flow``, ``activation_profile``); these functions only draw them.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..flow import activation_profile, gradient_flow
from ._widget_cache import digits_batch
from .style import _log_ticks, _pin_labels, color, panels

# --------------------------------------------------------------------------- per-layer diagnostics
# Added with coursekit.diagnostics (notebooks 01 and 02). They take plain dicts
# (layer name -> numbers), so they draw what LayerStats records without knowing it.

__all__ = ["plot_grad_norms", "plot_layer_histograms", "plot_layer_stats", "plot_gradient_flow", "plot_activation_profile"]


def _layer_axes(ax, figsize):
    """(figure, axes, whether we created the figure and so own its layout)."""

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
        ax.set_yscale("log")
        # at most five labels, "10⁻⁵" in plain text (mathtext is slow to lay out), no minor ticks
        _log_ticks(ax)
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
    title: str | None = None, xlabel: str = "value", density: bool = True, legend: str = "auto",
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
        legend: "auto" names every layer up to 6 layers, beyond that the first
            and the last; "ends" always names only the first and the last; "none"
            draws no legend (say in the title which colour is which: less text,
            a faster redraw, as in the widget of notebook 01).

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """

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
    if legend not in ("auto", "ends", "none"):
        raise ValueError(f"legend must be 'auto', 'ends' or 'none'; got {legend!r}")
    edges = np.linspace(lo, hi, bins + 1)
    centers = (edges[:-1] + edges[1:]) / 2
    fig, ax, own = _layer_axes(ax, (5, 3.2))
    cmap = plt.get_cmap("viridis")
    n = len(arrays)
    every = legend == "auto" and n <= 6
    for i, (name, a) in enumerate(arrays.items()):
        counts, _ = np.histogram(np.clip(a, lo, hi), bins=edges, density=density)
        # beyond 6 layers the legend names only the first and the last (the colours run in between)
        shown = every or i in (0, n - 1)
        ax.plot(centers, counts, color=cmap(0.9 * (1 - i / max(n - 1, 1))), lw=1.5,
                label=(name if every or n == 1 else f"{name} ({'input' if i == 0 else 'output'} side)") if shown
                else "_nolegend_")
    ax.set(xlabel=xlabel, ylabel="density" if density else "count")
    if title:
        ax.set_title(title)
    if legend != "none":
        ax.legend(fontsize=7, ncol=2 if every and 3 < n <= 6 else 1)
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


def plot_gradient_flow(
    depth: int = 6,
    activation: str = "sigmoid",
    init: str = "pytorch_default",
    weight_scale: float = 1.0,
    *,
    seed: int = 0,
    result: dict | None = None,
    fig=None,
):
    """Draw :func:`gradient_flow`: weight-gradient norm per layer (log scale) and activation histograms.

    The widget of ``notebooks/01_vanishing_gradients.ipynb`` calls this with the
    slider values; the notebook also calls it once with fixed values for a
    static figure. Pass ``result`` (what :func:`gradient_flow` returned) to draw
    without recomputing, and ``fig`` (a Figure this function returned before)
    to redraw into it, as the widget does (see :func:`coursekit.plots.panels`).

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """

    if result is None:
        x, y = digits_batch(256, seed)  # gradient_flow's own batch, read once (widget speed-up)
        result = gradient_flow(depth, activation, init, weight_scale, seed=seed, x=x, y=y)
    r = result
    fig, (ax_g, ax_h) = panels(2, (9, 3.2), fig=fig)
    plot_grad_norms({r["activation"]: dict(zip(r["weights"], r["weight_grad_norm"]))}, ax=ax_g,
                    title="weight-gradient norm per layer", legend=False)  # the suptitle names the run
    act = r["activation"]
    rng = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}.get(act)
    plot_layer_histograms(dict(zip(r["layers"], r["act_values"])), ax=ax_h, value_range=rng, legend="none",
                          title=f"activations: light act1 ... dark act{r['depth']}", xlabel="activation value")
    ax_h.tick_params(axis="y", labelleft=False)  # the shapes are the point, not the density's units
    _pin_labels(ax_g, left=38)  # tick labels up to "10⁻¹⁵"
    _pin_labels(ax_h, left=10)
    fig.suptitle(f"{r['depth']} hidden {act} layers, {r['init']} init x {r['weight_scale']:g}: "
                 f"loss {r['loss']:.3f}", fontsize=10)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.2, top=0.82, wspace=0.25)
    return fig


def plot_activation_profile(
    activation: str = "relu", depth: int = 8, init: str = "pytorch_default", weight_scale: float = 1.0,
    *, seed: int = 0, fig=None,
):
    """Draw :func:`activation_profile`: f and f' on the left, dead and saturated % per layer on the right.

    Pass ``fig`` (a Figure this function returned before) to redraw into it, as
    the widget does (see :func:`coursekit.plots.panels`).

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/02_relu.ipynb``.
    """

    x, y = digits_batch(256, seed)  # gradient_flow's own batch, read once (widget speed-up)
    r = activation_profile(activation, depth, init, weight_scale, seed=seed, x=x, y=y)
    fig, (ax_f, ax_d) = panels(2, (9, 3.2), fig=fig)
    c = color(r["activation"])
    # the x label says which curve is which: a legend box costs more to render than one line of text
    ax_f.plot(r["x"], r["f"], color=c, lw=2)
    ax_f.plot(r["x"], r["df"], color=c, lw=1.5, ls="--")
    ax_f.axhline(0, color="k", lw=0.5)
    ax_f.set(xlabel="x   (solid: f(x); dashed: f'(x), by autograd)", title=f"{r['activation']} and its derivative",
             ylim=(-1.2, 2.2))
    idx = np.arange(1, len(r["layers"]) + 1)
    dead = np.nan_to_num(r["dead"], nan=0.0) * 100
    sat = np.nan_to_num(r["saturated"], nan=0.0) * 100
    # "never > 0" means dead only for ReLU: LeakyReLU, ELU and GELU still pass a gradient below 0
    never = "dead (never > 0 on the batch)" if r["activation"] == "relu" else "never > 0 (still has a gradient)"
    # bars as thick vertical lines: one LineCollection each instead of one Rectangle per layer (faster
    # to build and to draw); their width is 0.4 of a layer's slot, in points
    width = 0.4 * 0.44 * fig.get_figwidth() * 72 / (len(idx) + 1)
    ax_d.vlines(idx - 0.2, 0, dead, lw=width, color="#555555", label=never)
    ax_d.vlines(idx + 0.2, 0, sat, lw=width, color=c, label="saturated (sigmoid, tanh)")
    ax_d.set(xlabel="hidden layer (input side first)", ylabel="% of the layer", ylim=(0, 105),
             xlim=(0.4, len(idx) + 0.6), title=f"{r['depth']} layers at init, one digits batch",
             xticks=idx[::-(-len(idx) // 5)], yticks=(0, 50, 100))
    ax_d.legend(fontsize=8, loc="upper left")
    _pin_labels(ax_f, left=26)  # tick labels like "−1"
    _pin_labels(ax_d, left=28)  # "100"
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.16, top=0.9, wspace=0.25)
    return fig
