"""Widget speed-up: what a class widget's redraw would otherwise redo at every move of a control.

The one place where the figures layer keeps something between redraws. The topic
modules hold no caches: :func:`coursekit.flow.gradient_flow` reads the digits
from disk at every call, which is right for a learner's call and too slow
for a widget that redraws while a slider moves. The draw functions of
notebooks 01 and 02 take their batch from here and pass it on as ``x, y``;
``tests/test_diagnostics.py`` checks that this gives the very numbers of the
uncached call.
"""
from __future__ import annotations

import functools

import torch

from ..flow import digits_batch as _digits_batch


@functools.lru_cache(maxsize=8)
def _kept(n_examples: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    return _digits_batch(n_examples, seed)


def digits_batch(n_examples: int = 256, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`coursekit.flow.digits_batch`, read once per ``(n_examples, seed)``: copies of the kept batch."""
    x, y = _kept(n_examples, seed)
    return x.clone(), y.clone()
