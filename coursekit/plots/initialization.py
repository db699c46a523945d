"""Figures of a signal sent through a deep stack at initialization (notebook 04).

The experiment is :func:`coursekit.depth.signal_through_depth`; these functions draw
the :class:`~coursekit.depth.DepthSignal` it returns.

Introduced in ``notebooks/04_initialization.ipynb``.
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from .._checks import check_choice, check_int
from ..depth import DepthSignal, signal_through_depth
from .gradients import plot_layer_histograms
from .style import _few_xticks, _log_ticks, _pin_labels, color, panels

__all__ = ["plot_depth_profiles", "plot_depth_histograms", "plot_signal_through_depth", "plot_layer_profiles",
           "plot_variance_rule"]


def _check_signal(name: str, value) -> DepthSignal:
    if not isinstance(value, DepthSignal):
        raise TypeError(f"{name} must be a DepthSignal (what signal_through_depth returns); "
                        f"got {type(value).__name__}")
    return value


def plot_depth_profiles(
    signals: Sequence[DepthSignal] | DepthSignal,
    quantity: str = "activation",
    ax=None,
    labels: Sequence[str] | None = None,
    each_net: bool = True,
    title: str | None = None,
):
    """Std per layer, relative to the input (activations) or to the top (gradients), log scale.

    One thick line per :class:`DepthSignal` (pooled over its networks; dashed
    for the uniform schemes, so they stay visible over their normal twins), thin
    lines for the single networks (``each_net``), and a grey band for "within a
    factor of 2". Glorot & Bengio's and He et al.'s quantity, layer by layer.

    Args:
        signals: one or more results of :func:`signal_through_depth`.
        quantity: "activation" (std of ``x_l`` / std of the input) or "gradient"
            (std of ``dL/dx_l`` / std of the gradient sent in at the top).
        ax: draw into this Axes instead of a new figure.
        labels: legend entries (default: each signal's label).
        each_net: also draw every single network, thin and faint.
        title: axis title (default: what is plotted).

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/04_initialization.ipynb``.
    """

    if isinstance(signals, DepthSignal):
        signals = [signals]
    signals = [_check_signal(f"signals[{i}]", s) for i, s in enumerate(signals)]
    if not signals:
        raise ValueError("signals is empty: pass at least one DepthSignal")
    quantity = check_choice("quantity", quantity, ("activation", "gradient"))
    labels = [s.label for s in signals] if labels is None else list(labels)
    if len(labels) != len(signals):
        raise ValueError(f"got {len(labels)} labels for {len(signals)} signals")
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(5, 3.2))
    else:
        fig = ax.figure
    depth = max(s.depth for s in signals)
    ax.axhspan(0.5, 2.0, color="0.85", alpha=0.5, lw=0, label="within ×2")
    ax.axhline(1.0, color="0.5", lw=0.8)
    for i, (s, lab) in enumerate(zip(signals, labels)):
        c = color(s.scheme, i) if len({x.scheme for x in signals}) == len(signals) else color("", i)
        layers = np.arange(s.depth + 1)
        if quantity == "activation":
            ratio, nets = s.act_ratio, s.act_std_nets / s.act_std[0]
        else:
            ratio, nets = s.grad_ratio, s.grad_std_nets / s.grad_std[-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(ratio > 0, ratio, np.nan)
            nets = np.where(nets > 0, nets, np.nan)
        ls = "--" if s.scheme.endswith("uniform") else "-"  # uniform twins stay visible over normal ones
        if each_net and s.nets > 1:
            ax.plot(layers, nets.T, color=c, lw=0.6, alpha=0.35)
        ax.plot(layers, ratio, color=c, lw=2, ls=ls, label=lab, zorder=3 if ls == "--" else 2)
    ax.set_yscale("log")
    _include_band(ax)
    ax.set_xlim(0, depth)
    _few_xticks(ax, 6)
    what = "activation std / input std" if quantity == "activation" else "gradient std / top gradient std"
    ax.set(xlabel="layer (0 = input)", ylabel=what)
    ax.set_title(title if title is not None else
                 ("activations, forward" if quantity == "activation" else "gradients, backward"))
    _log_ticks(ax)
    ax.legend(fontsize=8, loc="best" if own else "lower left")
    if own:
        fig.tight_layout()
    return fig


def _include_band(ax) -> None:
    """Make the y range show at least [0.3, 3] so the factor-2 band is always in view."""
    lo, hi = ax.get_ylim()
    ax.set_ylim(min(lo, 0.3), max(hi, 3.0))


def _default_layers(depth: int, count: int = 5) -> list[int]:
    return sorted({round(float(v)) for v in np.linspace(1, depth, min(count, depth))})


def plot_depth_histograms(
    signal: DepthSignal,
    quantity: str = "activation",
    layers: Sequence[int] | None = None,
    ax=None,
    bins: int = 30,
    title: str | None = None,
    legend: bool = True,
):
    """Histograms of a few layers' values on one common axis (Glorot & Bengio Fig. 6/7).

    Picks the values of a :class:`DepthSignal` and draws them with
    :func:`coursekit.plots.plot_layer_histograms`. The x range is the same for
    every layer (three stds of the widest layer shown; [-1, 1] at most for
    tanh), so a layer whose signal vanished is a spike at 0 and an exploding
    one spreads flat. For ReLU activations the exact zeros (about half of
    them) are left out and the axis starts at 0.

    Args:
        signal: a result of :func:`signal_through_depth`.
        quantity: "activation" (``x_l``) or "gradient" (``dL/dx_l``).
        layers: which layers (0..depth); default five evenly spaced from 1 to depth.
        ax: draw into this Axes instead of a new figure.
        bins: number of bins, >= 2.
        title: axis title.
        legend: keep the legend (the first and the last layer shown, light to dark).

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/04_initialization.ipynb``.
    """

    signal = _check_signal("signal", signal)
    quantity = check_choice("quantity", quantity, ("activation", "gradient"))
    bins = check_int("bins", bins, minimum=2)
    if layers is None:
        layers = _default_layers(signal.depth)
    layers = [check_int(f"layers[{i}]", v, minimum=0, maximum=signal.depth) for i, v in enumerate(layers)]
    if not layers:
        raise ValueError("layers is empty: pass at least one layer index")
    data = signal.act_samples if quantity == "activation" else signal.grad_samples
    relu_like = quantity == "activation" and signal.activation == "relu"
    values = {}
    for layer in layers:
        v = data[layer].astype(np.float64)
        v = v[np.isfinite(v) & (v != 0)] if relu_like else v[np.isfinite(v)]
        values[f"layer {layer}"] = v if v.size else np.zeros(1)
    if quantity == "activation" and signal.activation == "sigmoid":
        centre = 0.5
    elif quantity == "activation" and not relu_like and signal.activation not in ("tanh",):
        centre = float(np.mean(np.concatenate(list(values.values()))))
    else:
        centre = 0.0
    spread = 3 * max(float(np.sqrt(np.mean((v - centre) ** 2))) for v in values.values())
    if quantity == "activation" and signal.activation in ("tanh", "sigmoid"):
        spread = min(spread, 1.0 if signal.activation == "tanh" else 0.5)
    spread = max(spread, 1e-300)
    lo, hi = (0.0, spread) if relu_like else (centre - spread, centre + spread)
    name = "activation value" if quantity == "activation" else "back-propagated gradient"
    xlabel = name + (" > 0 (ReLU's zeros left out)" if relu_like else "")
    # the legend names the first and the last layer shown; the colours run from light to dark between
    fig = plot_layer_histograms(values, ax=ax, bins=bins, value_range=(lo, hi), xlabel=xlabel,
                                legend="ends" if len(values) > 2 else "auto")
    ax = fig.axes[0] if ax is None else ax
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
    ax.ticklabel_format(axis="both", style="sci", scilimits=(-2, 3))
    if title is not None:
        ax.set_title(title, fontsize=10)
    if not legend and ax.get_legend() is not None:
        ax.get_legend().remove()
    elif ax.get_legend() is not None:
        # A fixed corner: loc="best" searches every position against every histogram's points on
        # each draw, a good part of a widget redraw's time; the histograms peak in the middle.
        ax.get_legend().set_loc("upper right")
    return fig


def plot_signal_through_depth(
    depth: int = 30,
    activation: str = "relu",
    scheme: str = "kaiming_normal",
    *,
    std: float = 1.0,
    width: int = 128,
    n: int = 16,
    nets: int = 8,
    seed: int = 0,
    layers: Sequence[int] | None = None,
    gradients: bool = True,
    fig=None,
):
    """One setting in one figure: std per layer (forward and backward) and per-layer histograms.

    The function behind the notebook's widget and its static figures. It calls
    :func:`signal_through_depth`, then draws the std of the activations (solid)
    and of the back-propagated gradients (dashed) per layer, relative to where
    each entered, and :func:`plot_depth_histograms` of the activations (and of
    the gradients if ``gradients``).

    Args:
        depth, activation, scheme, std, width, n, nets, seed: see :func:`signal_through_depth`.
        layers: layers shown in the histograms (default five evenly spaced).
        gradients: add a third panel with the gradients' histograms.
        fig: a Figure this function returned before, to redraw into (what the
            widget does; see :func:`coursekit.plots.panels`); default a new one.

    Returns:
        The matplotlib Figure (two or three panels).

    Introduced in ``notebooks/04_initialization.ipynb``.
    """

    if not isinstance(gradients, bool):
        raise TypeError(f"gradients must be True or False; got {gradients!r}")
    sig = signal_through_depth(depth, activation, scheme, width, n, seed, nets=nets, std=std)
    n_panels = 3 if gradients else 2
    fig, axes = panels(n_panels, (4 * n_panels, 3.2), fig=fig)
    ax = axes[0]
    c = color(sig.scheme)
    steps = np.arange(sig.depth + 1)
    ax.axhspan(0.5, 2.0, color="0.85", alpha=0.5, lw=0)
    ax.axhline(1.0, color="0.5", lw=0.8)
    with np.errstate(divide="ignore", invalid="ignore"):
        act = np.where(sig.act_ratio > 0, sig.act_ratio, np.nan)
        grad = np.where(sig.grad_ratio > 0, sig.grad_ratio, np.nan)
    ax.plot(steps, act, color=c, lw=2)
    ax.plot(steps, grad, color=c, lw=2, ls="--")
    ax.set_yscale("log")
    _include_band(ax)
    _log_ticks(ax)
    _few_xticks(ax)
    ax.set(xlim=(0, sig.depth), xlabel="layer (0 = input)", ylabel="std / std where it entered")
    ax.set_title(f"{sig.label}, {sig.activation}", fontsize=10)
    # a key in plain text instead of a legend (a legend's layout is two fifths of a redraw's
    # drawing time), in the upper left: the curves start at layer 0 near 1 and leave the band
    # to the right
    ax.text(0.02, 0.97, "solid: activations\ndashed: gradients\ngrey band: within ×2", transform=ax.transAxes,
            ha="left", va="top", fontsize=8)
    _pin_labels(ax, left=32)  # tick labels like "10⁻⁴"
    shown = list(layers) if layers is not None else _default_layers(sig.depth)
    key = f", layer {shown[0]} (light) to {shown[-1]} (dark)" if len(shown) > 1 else ""
    plot_depth_histograms(sig, "activation", layers, ax=axes[1], title="activations" + key, legend=False)
    if gradients:
        plot_depth_histograms(sig, "gradient", layers, ax=axes[2], title="gradients" + key, legend=False)
    for hist in axes[1:]:  # the shapes are the point, not the density's units
        hist.tick_params(axis="y", labelleft=False)
        _pin_labels(hist, left=10)
    # fixed margins instead of tight_layout: a widget redraws this figure, keep it fast
    fig.subplots_adjust(left=0.08 if gradients else 0.1, right=0.99, bottom=0.16, top=0.9, wspace=0.3)
    return fig


def plot_layer_profiles(profiles: dict, colors: dict | None = None, figsize=(10, 3.2)):
    """The std per hidden layer of a real network, forward (activations) and backward (gradients).

    Args:
        profiles: ``{name: (activation_std, gradient_std)}``, two arrays with one entry per
            hidden layer (e.g. from :class:`coursekit.diagnostics.LayerStats` at initialization).
        colors: ``{name: technique}`` for the course colour of each line (default: the name's).
        figsize: the figure's size in inches.

    Returns:
        The matplotlib Figure (two panels, log scale).

    Introduced in ``notebooks/04_initialization.ipynb``.
    """
    if not isinstance(profiles, dict) or not profiles:
        raise ValueError("profiles must be a non-empty dict {name: (activation_std, gradient_std)}")
    colors = colors or {}
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=figsize)
    for i, (name, (act_std, grad_std)) in enumerate(profiles.items()):
        c = color(colors.get(name, name), i)
        layers = np.arange(1, len(act_std) + 1)
        ax1.plot(layers, act_std, color=c, lw=2, label=name)
        ax2.plot(layers, grad_std, color=c, lw=2, label=name)
    ax1.set(yscale="log", xlabel="hidden layer", ylabel="activation std", title="forward, at initialization")
    ax2.set(yscale="log", xlabel="hidden layer", ylabel="gradient std", title="backward, at initialization")
    ax1.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_variance_rule(sigmas, measured: dict, width: int, figsize=(10, 3.4)):
    """The derivation in one picture: the std's change per layer against the weights' sigma.

    Left: the measured change per layer (points) and the prediction (lines), sigma * sqrt(n) for
    linear units and sigma * sqrt(n / 2) for ReLU, with the sigma that keeps the signal's size
    marked (1/sqrt(n) and sqrt(2/n)). Right: a normal and a uniform density with the same
    variance (the uniform's bound is sqrt(3) times the std).

    Args:
        sigmas: the weights' standard deviations tried.
        measured: ``{"identity": [...], "relu": [...]}``, the measured change per layer at each sigma.
        width: the layers' width n.
        figsize: the figure's size in inches.

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/04_initialization.ipynb``.
    """
    sigmas = np.asarray(sigmas, dtype=float)
    width = check_int("width", width, minimum=1)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=figsize)
    rules = (("identity", 1.0, 1 / np.sqrt(width), "linear: 1/√n"),
             ("relu", 0.5, np.sqrt(2 / width), "ReLU (He): √(2/n)"))
    for act, half, best, name in rules:
        c = color(act)
        ax.plot(sigmas, sigmas * np.sqrt(width * half), color=c, lw=1.5, label=f"{act}: predicted")
        if act in measured:
            ax.plot(sigmas, measured[act], "o", color=c, ms=5, label=f"{act}: measured")
        ax.axvline(best, color=c, ls=":", lw=1.2)
        ax.text(best, 0.03, f" {name}", color=c, fontsize=8, rotation=90, ha="right", va="bottom",
                transform=ax.get_xaxis_transform())
    ax.axhline(1, color="0.5", lw=0.8)
    ax.set(xscale="log", yscale="log", xlabel="σ of the weights", ylabel="std change per layer",
           title=f"one layer of {width} units")
    ax.set_xticks([0.02, 0.05, 0.1, 0.2, 0.5], labels=["0.02", "0.05", "0.1", "0.2", "0.5"])
    ax.set_yticks([0.2, 0.5, 1, 2, 5], labels=["0.2", "0.5", "1", "2", "5"])
    ax.minorticks_off()
    ax.legend(fontsize=8)
    t = np.linspace(-2.2, 2.2, 400)
    ax2.plot(t, np.exp(-t ** 2 / 2) / np.sqrt(2 * np.pi), color=color("kaiming_normal"), label="normal, std 1")
    ax2.plot(t, np.where(np.abs(t) <= np.sqrt(3), 1 / (2 * np.sqrt(3)), 0), color=color("kaiming_uniform"),
             label="uniform, bound √3 = 1.73")
    ax2.set(xlabel="weight", ylabel="density", title="same variance, two shapes")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig
