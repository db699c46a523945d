"""Figures of restricted Boltzmann machines (notebook 05).

Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from .._checks import check_int

__all__ = ["draw_rbm_graph"]


def draw_rbm_graph(n_visible: int = 6, n_hidden: int = 4, weight: torch.Tensor | None = None, *, ax=None,
                   title: str | None = "a restricted Boltzmann machine"):
    """Draw an RBM as the bipartite graph it is: every visible unit joined to every hidden unit, no other edges.

    Args:
        n_visible, n_hidden: units per layer (1 to 16 each, to stay readable).
        weight: optional ``(n_hidden, n_visible)`` weights; edges are then coloured by
            sign (red positive, blue negative) and drawn thicker for larger ``|w|``.
        ax: draw into this Axes instead of a new figure.
        title: axis title (None for none).

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
    """
    n_visible = check_int("n_visible", n_visible, minimum=1, maximum=16)
    n_hidden = check_int("n_hidden", n_hidden, minimum=1, maximum=16)
    if weight is not None:
        if not isinstance(weight, torch.Tensor) or tuple(weight.shape) != (n_hidden, n_visible):
            got = tuple(weight.shape) if isinstance(weight, torch.Tensor) else type(weight).__name__
            raise ValueError(f"weight must be a tensor of shape ({n_hidden}, {n_visible}); got {got}")
        w = weight.detach().double().cpu().numpy()
        scale = float(np.abs(w).max()) or 1.0
    if ax is None:
        fig, ax = plt.subplots(figsize=(max(3.5, 0.6 * max(n_visible, n_hidden) + 1.5), 2.6))
    else:
        fig = ax.figure
    width = max(n_visible, n_hidden) - 1 or 1
    xv = np.linspace(0, width, n_visible) if n_visible > 1 else np.array([width / 2])
    xh = np.linspace(0, width, n_hidden) if n_hidden > 1 else np.array([width / 2])
    xh = (xh - xh.mean()) + xv.mean()
    for j in range(n_hidden):
        for i in range(n_visible):
            if weight is None:
                color, lw = "#999999", 0.8
            else:
                color = "#D55E00" if w[j, i] > 0 else "#0072B2"
                lw = 0.3 + 2.5 * abs(w[j, i]) / scale
            ax.plot([xv[i], xh[j]], [0, 1], color=color, lw=lw, alpha=0.8, zorder=1)
    ax.scatter(xv, np.zeros(n_visible), s=330, color="white", edgecolor="#E69F00", linewidth=2, zorder=2)
    ax.scatter(xh, np.ones(n_hidden), s=330, color="white", edgecolor="#009E73", linewidth=2, zorder=2)
    for i, x in enumerate(xv):
        ax.text(x, 0, f"v{i + 1}", ha="center", va="center", fontsize=8, zorder=3)
    for j, x in enumerate(xh):
        ax.text(x, 1, f"h{j + 1}", ha="center", va="center", fontsize=8, zorder=3)
    ax.text(xv.max() + 0.6, 0, "visible (data)", va="center", fontsize=9, color="#E69F00")
    ax.text(xv.max() + 0.6, 1, "hidden (features)", va="center", fontsize=9, color="#009E73")
    ax.set_xlim(-0.5, xv.max() + 3.2)
    ax.set_ylim(-0.35, 1.35)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
