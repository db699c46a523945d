"""Figures of optimizers: test surfaces, paths on them, the family tree (notebook 03).

The paths come from :func:`coursekit.surfaces.trajectory`; the family tree's
content is :data:`coursekit.optim.FAMILY`.

Introduced in ``notebooks/03_optimizers.ipynb``.
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from .._checks import check_int
from ..optim import FAMILY
from ..surfaces import Surface, Trajectory, get, trajectory
from .style import _pin_labels, color, panels

# ----------------------------------------------------------------------------- drawing


def _levels(surf: Surface, Z: np.ndarray, n: int) -> np.ndarray:
    if surf.log_levels:
        zmin = surf.min_value if surf.min_value is not None else float(np.nanmin(Z))
        top = float(np.nanpercentile(Z, 99))
        lo = max(float(np.nanmin(Z)) - zmin, top * 1e-6, 1e-6)
        return zmin + np.logspace(np.log10(lo), np.log10(max(top - zmin, lo * 10)), n)
    return np.linspace(float(np.nanmin(Z)), float(np.nanmax(Z)), n)


__all__ = ["plot_surface", "plot_trajectories", "plot_trajectory", "draw_family_tree"]


def plot_surface(surface: str | Surface, ax=None, levels: int = 25, grid: int = 120, minima: bool = True):
    """Contour lines of a surface with its minima (stars) and saddle points (crosses).

    Args:
        surface: a :class:`Surface` or its name.
        ax: draw into this Axes (default: a new figure).
        levels: number of contour levels (log-spaced for ``log_levels`` surfaces).
        grid: grid points per side.
        minima: mark minima and saddle points.

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """

    surf = get(surface)
    levels = check_int("levels", levels, minimum=2, maximum=200)
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 3.8))
    else:
        fig = ax.figure
    X, Y, Z = surf.grid(grid)
    ax.contour(X, Y, Z, levels=_levels(surf, Z, levels), cmap="Greys_r",
               linewidths=0.7, alpha=0.55)
    if minima:
        for mx, my in surf.minima:
            ax.plot(mx, my, marker="*", ms=13, color="black", mec="white", mew=0.8, ls="none", zorder=5)
        for sx, sy in surf.saddles:
            ax.plot(sx, sy, marker="X", ms=8, color="black", mec="white", mew=0.8, ls="none", zorder=5)
    ax.set(xlim=surf.xlim, ylim=surf.ylim, xlabel="x", ylabel="y")
    ax.set_title(f"{surf.title}\n{surf.formula}", fontsize=9)
    ax.grid(False)
    return fig


def plot_trajectories(
    surface: str | Surface,
    trajectories: Sequence[Trajectory],
    ax=None,
    title: str | None = None,
    legend: bool = True,
    levels: int = 25,
    grid: int = 120,
    markers: bool = True,
    legend_loc: str = "best",
):
    """Several optimizer paths over the contours of one surface, with a legend.

    Each path is drawn in its optimizer's course colour
    (:func:`coursekit.plots.color` of its label); a dot marks the start and a
    ring the end.

    Args:
        surface: a :class:`Surface` or its name.
        trajectories: :class:`Trajectory` objects on that surface.
        ax: draw into this Axes (default: a new figure).
        title: axis title (default: the surface's title and formula).
        legend: add a legend with each label (and learning rate when known).
        levels, grid: contour settings (see :func:`plot_surface`).
        markers: draw a small dot at every step (shows the step sizes).
        legend_loc: where the legend goes (a matplotlib ``loc`` such as "lower left").

    Paths are drawn in the given order, so the last one is on top.

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """

    surf = get(surface)
    trajectories = list(trajectories)
    for i, tr in enumerate(trajectories):
        if not isinstance(tr, Trajectory):
            raise TypeError(f"trajectories[{i}] must be a Trajectory (from trajectory()); got {type(tr).__name__}")
        if tr.surface != surf.name:
            raise ValueError(f"trajectories[{i}] ran on {tr.surface!r}, not on {surf.name!r}")
    fig = plot_surface(surf, ax=ax, levels=levels, grid=grid)
    ax = ax if ax is not None else fig.axes[0]
    for i, tr in enumerate(trajectories):
        c = color(tr.label, i)
        lab = tr.label + (f" (lr {tr.lr:g})" if tr.lr is not None else "") + (" diverged" if tr.diverged else "")
        ax.plot(tr.path[:, 0], tr.path[:, 1], color=c, lw=1.6, label=lab, zorder=3,
                marker="o" if markers else None, ms=2.2)
        ax.plot(*tr.path[0], marker="o", ms=6, color=c, zorder=4)
        ax.plot(*tr.final, marker="o", ms=8, mfc="none", mec=c, mew=1.8, zorder=4)
    ax.set(xlim=surf.xlim, ylim=surf.ylim)
    if title is not None:
        ax.set_title(title, fontsize=9)
    if legend and trajectories:
        ax.legend(fontsize=7, loc=legend_loc, framealpha=0.85, frameon=True)
    return fig


def plot_trajectory(
    surface: str = "beale",
    optimizer: str = "adam",
    lr: float = 0.1,
    momentum: float = 0.9,
    steps: int = 100,
    start: Sequence[float] | None = None,
    noise: float = 0.0,
    seed: int = 0,
    fig=None,
):
    """The widget's figure: one optimizer's path on a surface (left) and its loss per step (right).

    A plain function: the notebook's widget only wires sliders to it, and a
    static cell calls it with fixed values.

    Args:
        surface: a name from :data:`SURFACES`.
        optimizer: an optimizer name (see :func:`coursekit.optim.make_optimizer`).
        lr: learning rate, > 0.
        momentum: used by "momentum" and "nesterov".
        steps: optimizer steps, >= 1.
        start: starting point (default: the surface's).
        noise, seed: Gaussian noise added to every gradient, like a minibatch's, and its seed
            (see :func:`coursekit.surfaces.trajectory`; 0 = the exact gradient).
        fig: a Figure this function returned before, to redraw into (what the
            widget does; see :func:`coursekit.plots.panels`); default a new one.

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """

    surf = get(surface)
    tr = trajectory(surf, optimizer, start, steps, lr=lr, momentum=momentum, noise=noise, seed=seed)
    # Fixed margins instead of tight_layout, few ticks and a coarse contour grid:
    # text layout dominates the cost of a redraw, and the widget must answer fast.
    fig, (ax_p, ax_l) = panels(2, (8.0, 3.4), fig=fig, width_ratios=[1.2, 1])
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.88, wspace=0.28)
    plot_trajectories(surf, [tr], ax=ax_p, legend=False, levels=15, grid=80, title="")
    t = np.arange(tr.steps + 1)
    if surf.min_value is not None:
        gap = np.maximum(tr.loss - surf.min_value, 1e-16)
        ax_l.plot(t, np.log10(gap), color=color(tr.label))
        ax_l.set_ylabel("log10( f − f(minimum) )")
    else:
        ax_l.plot(t, tr.loss, color=color(tr.label))
        ax_l.set_ylabel("f")
    ax_p.locator_params(nbins=4)
    ax_l.locator_params(nbins=3)
    ax_l.set_xlabel("step")
    _pin_labels(ax_p, left=30)  # tick labels like "−2.5"
    _pin_labels(ax_l, left=30)  # "−10"
    end = tr.final
    status = "diverged" if tr.diverged else f"ends at ({end[0]:.2f}, {end[1]:.2f})"
    mom = f", momentum {momentum:g}" if tr.label in ("momentum", "nesterov") else ""
    mom += f", noise {noise:g}" if noise > 0 else ""
    # Titles as plain texts: Axes.set_title re-measures the tick labels on every draw.
    ax_p.text(0.5, 1.03, surf.title, transform=ax_p.transAxes, ha="center", va="bottom", fontsize=9)
    ax_l.text(0.5, 1.03, f"{tr.label}, lr {lr:g}{mom}: {status}", transform=ax_l.transAxes,
              ha="center", va="bottom", fontsize=9)
    return fig


# Box centres (x, y) in a 0..10 x 0..7 canvas: direction on the left, size on the right.
_LAYOUT = {
    "GD": (5.0, 6.4), "SGD": (5.0, 5.1),
    "Momentum": (2.0, 3.8), "NAG": (2.0, 2.3),
    "Adagrad": (8.4, 3.8), "RMSProp": (6.9, 2.3), "AdaDelta": (9.9, 2.3),
    "Adam": (5.0, 1.0), "Nadam": (2.0, -0.1),
}


def draw_family_tree(ax=None):
    """Draw the study notes' optimizer family tree: each box holds one update rule.

    GD -> SGD; fixing the step *direction*: Momentum -> NAG; fixing the step
    *size*: Adagrad -> RMSProp and AdaDelta; Adam = RMSProp + Momentum;
    Nadam = Adam + NAG. Boxes use the course colours
    (:func:`coursekit.plots.color`).

    Args:
        ax: draw into this Axes (default: a new figure).

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """

    if ax is None:
        fig, ax = plt.subplots(figsize=(11, 6.2))
    else:
        fig = ax.figure
    ax.set_xlim(-0.3, 11.5)
    ax.set_ylim(-0.7, 7.1)
    ax.axis("off")
    # The two directions of improvement as shaded bands.
    ax.axvspan(-0.3, 3.9, ymin=0.2, ymax=0.66, color=color("momentum"), alpha=0.07, lw=0)
    ax.axvspan(5.4, 11.5, ymin=0.2, ymax=0.66, color=color("rmsprop"), alpha=0.07, lw=0)
    ax.text(1.8, 4.75, "fix the step DIRECTION", ha="center", fontsize=10, weight="bold", color="#444444")
    ax.text(8.45, 4.75, "fix the step SIZE", ha="center", fontsize=10, weight="bold", color="#444444")

    titles = {"Adam": "Adam = RMSProp + Momentum", "Nadam": "Nadam = Adam + NAG"}
    for name, (parents, _, rule) in FAMILY.items():
        x, y = _LAYOUT[name]
        key = {"GD": "sgd", "NAG": "nesterov"}.get(name, name.lower())
        c = color(key) if name != "GD" else "#333333"
        ax.text(
            x, y, f"{titles.get(name, name)}\n{rule}", ha="center", va="center", fontsize=9, zorder=3,
            bbox=dict(boxstyle="round,pad=0.4", facecolor="white", edgecolor=c, linewidth=2.2),
        )
    for name, (parents, _, _) in FAMILY.items():
        for parent in parents:
            (x0, y0), (x1, y1) = _LAYOUT[parent], _LAYOUT[name]
            # From the parent's lower edge to the child's upper edge (sideways when level).
            start = (x0, y0 - 0.42) if y0 - y1 > 0.9 else (x0 + 0.9 * (1 if x1 > x0 else -1), y0 - 0.2)
            end = (x1, y1 + 0.42) if y0 - y1 > 0.9 else (x1 + 1.2 * (1 if x0 > x1 else -1), y1 + 0.2)
            ax.annotate("", xy=end, xytext=start, zorder=1,
                        arrowprops=dict(arrowstyle="-|>", color="#666666", lw=1.2, mutation_scale=12,
                                        shrinkA=0, shrinkB=0))
    ax.set_title("The family tree of gradient descent (after the study notes' slide)", fontsize=11)
    return fig

