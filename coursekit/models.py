"""Model builders: multilayer perceptrons with readable layer names, and the activations by name.

Introduced in ``notebooks/00_start_here.ipynb``.

:data:`ACTIVATIONS` is the course's one list of activation names; :func:`mlp` is
its one network builder, from the two-layer net of notebook 00 to the deep
stacks of notebooks 01, 02 and 04 (``init=``, ``weight_scale=``, ``head=False``).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import torch
from torch import nn

from ._checks import check_bool, check_choice, check_float, check_int
from .init import initialize, resolve_scheme

__all__ = ["mlp", "activation", "ACTIVATIONS", "MAX_LAYER_WEIGHTS"]

#: The most weights one Linear layer of :func:`mlp` may have: 100 million, 400 MB in float32 (a course network
#: has well under a million; a size typed with one zero too many should fail here, not deep in nn.Linear).
MAX_LAYER_WEIGHTS = 100_000_000

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
    *,
    init: str | None = None,
    nonlinearity: str | None = None,
    weight_scale: float = 1.0,
    head: bool = True,
) -> nn.Sequential:
    """Build a fully connected network ``sizes[0] -> ... -> sizes[-1]``.

    Hidden layer ``i`` is ``fc{i}`` (Linear), then ``bn{i}`` (BatchNorm1d, if
    ``batchnorm``), ``act{i}``, ``drop{i}`` (if ``dropout > 0``); the last layer
    ``out`` is a plain Linear producing logits. Each hidden layer gets its *own*
    activation, batch-norm and dropout module (the study notes' reuse of one module is
    harmless for ReLU and Dropout but wrong for BatchNorm: see notebook 07).

    Args:
        sizes: layer widths, input first, output last; at least two entries, all >= 1,
            and no layer with more than :data:`MAX_LAYER_WEIGHTS` weights.
        activation: hidden activation by name (see :data:`ACTIVATIONS`).
        dropout: probability of *dropping* a hidden unit, in [0, 1).
        batchnorm: add ``nn.BatchNorm1d`` to every hidden layer.
        bn_position: "before" the activation (Linear-BN-ReLU, the study notes' and the
            paper's order) or "after" it (Linear-ReLU-BN).
        bias: whether the Linear layers have biases.
        seed: if given, the weights are drawn from ``torch.manual_seed(seed)``
            without disturbing the global random state, so two calls with the
            same seed give identical networks.
        init: re-initialize the weights with a scheme of
            :data:`coursekit.init.SCHEME_NAMES` (biases start at zero). The gain
            follows the course's one rule (:mod:`coursekit.init`): Xavier gain 1,
            He the gain of ``activation``, unless ``nonlinearity`` names another;
            "he" always uses ReLU's gain, and "normal" is N(0, 1) as in the
            original labs. Default (None or "pytorch_default"): PyTorch's own
            ``nn.Linear`` initialization.
        nonlinearity: the gain for a Xavier or He ``init`` (see :func:`coursekit.init.initialize`).
        weight_scale: multiply every Linear weight by this after initializing, > 0.
        head: with False there is no separate output layer: every Linear,
            the last one too, is a hidden layer ``fc{i}`` followed by its
            activation (a stack for signal-propagation experiments).

    Returns:
        An ``nn.Sequential`` with named layers, e.g. ``model.fc1``, ``model.out``.

    Introduced in ``notebooks/00_start_here.ipynb``.
    """
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"sizes must be a sequence of ints such as [64, 100, 10]; got {sizes!r}")
    sizes = [check_int(f"sizes[{i}]", s, minimum=1) for i, s in enumerate(sizes)]
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output size; got {sizes}")
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if n_in * n_out > MAX_LAYER_WEIGHTS:
            raise ValueError(f"sizes[{i}] x sizes[{i + 1}] = {n_in} x {n_out} = {n_in * n_out:.3g} weights in one "
                             f"layer ({4 * n_in * n_out / 1e9:.3g} GB in float32); mlp allows at most "
                             f"{MAX_LAYER_WEIGHTS:_} (400 MB) per layer: is a size mistyped?")
    act_key = check_choice("activation", activation, ACTIVATIONS)
    dropout = check_float("dropout", dropout, 0.0, 1.0, max_inclusive=False)
    batchnorm = check_bool("batchnorm", batchnorm)
    bn_position = check_choice("bn_position", bn_position, ("before", "after"))
    bias = check_bool("bias", bias)
    head = check_bool("head", head)
    if seed is not None:
        seed = check_int("seed", seed, minimum=0)
    weight_scale = check_float("weight_scale", weight_scale, 0.0, min_inclusive=False, finite=True)
    scheme = gain = None
    if init is not None:
        scheme, gain = resolve_scheme(init, act_key, nonlinearity)
    elif nonlinearity is not None:
        raise ValueError(f"nonlinearity={nonlinearity!r} is only used with init=...; got init=None")
    hidden = list(zip(sizes[:-1], sizes[1:])) if not head else list(zip(sizes[:-2], sizes[1:-1]))

    def build() -> nn.Sequential:
        layers: "OrderedDict[str, nn.Module]" = OrderedDict()
        for i, (n_in, n_out) in enumerate(hidden, start=1):
            layers[f"fc{i}"] = nn.Linear(n_in, n_out, bias=bias)
            if batchnorm and bn_position == "before":
                layers[f"bn{i}"] = nn.BatchNorm1d(n_out)
            layers[f"act{i}"] = ACTIVATIONS[act_key]()
            if batchnorm and bn_position == "after":
                layers[f"bn{i}"] = nn.BatchNorm1d(n_out)
            if dropout > 0:
                layers[f"drop{i}"] = nn.Dropout(dropout)
        if head:
            layers["out"] = nn.Linear(sizes[-2], sizes[-1], bias=bias)
        return nn.Sequential(layers)

    if seed is None:
        model = build()
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = build()
    if scheme is not None and scheme != "pytorch_default":
        initialize(model, scheme, nonlinearity=gain, seed=seed)
    if weight_scale != 1.0:
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.Linear):
                    m.weight.mul_(weight_scale)
    return model
