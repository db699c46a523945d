"""coursekit: the companion package of the course "Why deep networks were hard to train".

Three layers (imported when used, so ``import coursekit`` stays light):

Topic modules compute numbers and never import matplotlib; read them beside the notebooks.

- ``coursekit.data``: the offline digits default, MNIST, Fashion-MNIST, minibatches (00);
  ``coursekit.idx`` reads, downloads and checks MNIST's IDX files
- ``coursekit.models``: ``mlp``, the one network builder, and the activations by name (00)
- ``coursekit.train``: ``fit``, ``evaluate``, ``History``, callbacks (00)
- ``coursekit.claims``: run an experiment over seeds, check a claim on every seed (00-08)
- ``coursekit.diagnostics``: ``LayerStats`` hooks, ``UnitInputTracker`` (01, 02, 07)
- ``coursekit.tables``: ``StatsTable``, the small printed tables of claims, recipes and diagnostics
- ``coursekit.flow``: a fresh deep net's gradient flow and activation profile (01, 02)
- ``coursekit.optim``: optimizer names, one factory, scratch optimizers (03)
- ``coursekit.surfaces``: test surfaces and optimizer trajectories (03)
- ``coursekit.init``: initialization schemes, He and Xavier written out, the one rule for gains (04)
- ``coursekit.depth``: a signal and a gradient through a deep stack at initialization (04)
- ``coursekit.rbm``, ``coursekit.dbn``: RBM (its CD-k step and the loop that trains it) and DBN (05);
  ``coursekit.rbm_exact`` (log Z by enumeration) and ``coursekit.rbm_history`` (what fit measures) beside them
- ``coursekit.layers``: scratch Dropout and BatchNorm1d (06, 07)
- ``coursekit.recipes``: the fixes of the course as one recipe (08)
- ``coursekit.exercises``: automatic checks for the exercises (01-08)

The figures layer, ``coursekit.plots``, draws what the topic modules return (one
module per topic, one style); ``coursekit.widgets`` wires controls to its draw
functions for class. ``coursekit.notebook`` holds ``setup_notebook``.

Start with ``notebooks/00_start_here.ipynb``.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = (
    "data", "idx", "models", "init", "depth", "train", "claims", "plots", "notebook", "diagnostics", "flow", "widgets",
    "surfaces", "optim", "rbm", "rbm_exact", "rbm_history", "dbn", "layers", "exercises", "recipes", "tables",
)

__all__ = ["__version__", "setup_notebook", "set_language", *_SUBMODULES]


def setup_notebook(*args: Any, **kwargs: Any) -> None:
    """Seed, fix threads and set figure defaults; see :func:`coursekit.notebook.setup_notebook`."""
    from .notebook import setup_notebook as _setup

    _setup(*args, **kwargs)


def set_language(lang: str = "en") -> None:
    """The language of the package's messages, "en" or "ko"; see :func:`coursekit.notebook.set_language`."""
    from .notebook import set_language as _set

    _set(lang)


def __getattr__(name: str) -> Any:
    # Lazy submodules: ``coursekit.data`` works after ``import coursekit`` without
    # paying for torch/matplotlib/scikit-learn until a notebook needs them.
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'coursekit' has no attribute {name!r}")
