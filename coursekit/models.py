"""Model builders: multilayer perceptrons with readable layer names.

Introduced in ``notebooks/00_start_here.ipynb``.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import torch
from torch import nn

from ._checks import check_choice, check_float, check_int

__all__ = ["mlp", "activation", "ACTIVATIONS", "linear_layers"]

ACTIVATIONS = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "identity": nn.Identity,
}


def activation(name: str) -> nn.Module:
    """Return a new activation module by name.

    Args:
        name: one of "sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "identity".

    Introduced in ``notebooks/02_relu.ipynb``.
    """
    key = check_choice("activation", name, ACTIVATIONS)
    return ACTIVATIONS[key]()


def mlp(
    sizes: Sequence[int],
    activation: str = "relu",
    dropout: float = 0.0,
    batchnorm: bool = False,
    bn_position: str = "before",
    bias: bool = True,
    seed: int | None = None,
) -> nn.Sequential:
    """Build a fully connected network ``sizes[0] -> ... -> sizes[-1]``.

    Hidden layer ``i`` is ``fc{i}`` (Linear), then ``bn{i}`` (BatchNorm1d, if
    ``batchnorm``), ``act{i}``, ``drop{i}`` (if ``dropout > 0``); the last layer
    ``out`` is a plain Linear producing logits. Each hidden layer gets its *own*
    activation, batch-norm and dropout module (the seed's reuse of one module is
    harmless for ReLU and Dropout but wrong for BatchNorm: see notebook 07).

    Args:
        sizes: layer widths, input first, output last; at least two entries, all >= 1.
        activation: hidden activation by name (see :data:`ACTIVATIONS`).
        dropout: probability of *dropping* a hidden unit, in [0, 1).
        batchnorm: add ``nn.BatchNorm1d`` to every hidden layer.
        bn_position: "before" the activation (Linear-BN-ReLU, the seed's and the
            paper's order) or "after" it (Linear-ReLU-BN).
        bias: whether the Linear layers have biases.
        seed: if given, the weights are drawn from ``torch.manual_seed(seed)``
            without disturbing the global random state, so two calls with the
            same seed give identical networks.

    Returns:
        An ``nn.Sequential`` with named layers, e.g. ``model.fc1``, ``model.out``.

    Introduced in ``notebooks/00_start_here.ipynb``.
    """
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"sizes must be a sequence of ints such as [64, 100, 10]; got {sizes!r}")
    sizes = [check_int(f"sizes[{i}]", s, minimum=1) for i, s in enumerate(sizes)]
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output size; got {sizes}")
    act_key = check_choice("activation", activation, ACTIVATIONS)
    dropout = check_float("dropout", dropout, 0.0, 1.0, max_inclusive=False)
    if not isinstance(batchnorm, bool):
        raise TypeError(f"batchnorm must be True or False; got {batchnorm!r}")
    bn_position = check_choice("bn_position", bn_position, ("before", "after"))
    if seed is not None:
        seed = check_int("seed", seed, minimum=0)

    def build() -> nn.Sequential:
        layers: "OrderedDict[str, nn.Module]" = OrderedDict()
        for i, (n_in, n_out) in enumerate(zip(sizes[:-2], sizes[1:-1]), start=1):
            layers[f"fc{i}"] = nn.Linear(n_in, n_out, bias=bias)
            if batchnorm and bn_position == "before":
                layers[f"bn{i}"] = nn.BatchNorm1d(n_out)
            layers[f"act{i}"] = ACTIVATIONS[act_key]()
            if batchnorm and bn_position == "after":
                layers[f"bn{i}"] = nn.BatchNorm1d(n_out)
            if dropout > 0:
                layers[f"drop{i}"] = nn.Dropout(dropout)
        layers["out"] = nn.Linear(sizes[-2], sizes[-1], bias=bias)
        return nn.Sequential(layers)

    if seed is None:
        return build()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def linear_layers(model: nn.Module) -> list[tuple[str, nn.Linear]]:
    """Return ``(name, layer)`` for every ``nn.Linear`` in ``model``, input side first.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    return [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
