"""The figures layer: every matplotlib figure of the course, one module per topic.

The topic modules (``coursekit.diagnostics``, ``coursekit.init``, ``coursekit.surfaces``,
...) compute numbers and never import matplotlib; the functions here draw what they
return (or call them with the settings a widget passes). Two names, one rule:

- ``plot_*`` draws numbers on axes: curves, histograms, bars, paths on a surface;
- ``draw_*`` draws a diagram: a network's units and connections, a family tree.

Every function returns the matplotlib ``Figure`` (or draws into ``ax=``), and the
functions behind widgets take ``fig=`` to redraw into their previous figure.

- :mod:`.style`: the colour per technique (:func:`color`), :func:`panels`, the live style, :func:`live_png`
  (its widget text cache, a speed-up only: the private ``_fast_text_png``)
- :mod:`.training`: :func:`plot_history`, :func:`compare_histories`, :func:`show_images`, :class:`LivePlot` (00)
- :mod:`.gradients`: per-layer gradient norms and histograms, the gradient-flow and activation widgets (01, 02)
- :mod:`.optimizers`: surfaces, trajectories, the optimizers' family tree (03)
- :mod:`.initialization`: a signal through depth at initialization (04)
- :mod:`.rbm`: an RBM's graph (05)
- :mod:`.regularization`: a dropout mask on a network, BatchNorm's running statistics (06, 07)

Introduced in ``notebooks/00_start_here.ipynb``.
"""
from __future__ import annotations

from . import gradients, initialization, optimizers, rbm, regularization, style, training
from .gradients import *  # noqa: F403
from .initialization import *  # noqa: F403
from .optimizers import *  # noqa: F403
from .rbm import *  # noqa: F403
from .regularization import *  # noqa: F403
from .style import *  # noqa: F403
from .training import *  # noqa: F403

__all__ = [
    *style.__all__, *training.__all__, *gradients.__all__, *optimizers.__all__,
    *initialization.__all__, *rbm.__all__, *regularization.__all__,
]
