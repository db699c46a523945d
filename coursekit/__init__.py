"""coursekit: the companion package of the course "Why deep networks were hard to train".

Modules, one per concern (imported when used, so ``import coursekit`` stays light):

- ``coursekit.data``: the offline digits default, MNIST, Fashion-MNIST, minibatches
- ``coursekit.models``: ``mlp`` with readable layer names
- ``coursekit.init``: initialization schemes by name
- ``coursekit.train``: ``fit``, ``evaluate``, ``History``
- ``coursekit.plots``: one consistent plotting style
- ``coursekit.notebook``: ``setup_notebook`` for the first cell of every notebook
- ``coursekit.widgets``: thin ipywidgets wiring for the in-class demos
- ``coursekit.diagnostics``: ``LayerStats`` hooks, gradient flow (notebooks 01, 02)
- ``coursekit.surfaces``, ``coursekit.optim``: test surfaces, scratch optimizers (03)
- ``coursekit.rbm``: RBM and DBN (05)
- ``coursekit.layers``: scratch Dropout and BatchNorm1d (06, 07)
- ``coursekit.recipes``: the fixes of the course as one recipe (08)
- ``coursekit.exercises``: automatic checks for the exercises

Start with ``notebooks/00_start_here.ipynb``.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = (
    "data", "models", "init", "train", "plots", "notebook", "diagnostics", "widgets",
    "surfaces", "optim", "rbm", "layers", "exercises", "recipes",
)

__all__ = ["__version__", "setup_notebook", *_SUBMODULES]


def setup_notebook(*args: Any, **kwargs: Any) -> None:
    """Seed, fix threads and set figure defaults; see :func:`coursekit.notebook.setup_notebook`."""
    from .notebook import setup_notebook as _setup

    _setup(*args, **kwargs)


def __getattr__(name: str) -> Any:
    # Lazy submodules: ``coursekit.data`` works after ``import coursekit`` without
    # paying for torch/matplotlib/scikit-learn until a notebook needs them.
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'coursekit' has no attribute {name!r}")
