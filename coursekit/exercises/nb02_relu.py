"""Exercises of ``notebooks/02_relu.ipynb``: relu_grad, count_dead_units, backprop_factor.

SPOILERS: the reference solutions. Each ``_register(Exercise(...))`` below is one
exercise (signature, instructions, reference, seeded cases, known mistakes with
their hints); a new exercise for this notebook is one more such entry.
"""
from __future__ import annotations

from typing import Sequence

import torch

from .._i18n import N_
from ..flow import gradient_flow
from .engine import _rand, _randn, _register, _t
from .pieces import Case, Exercise, Mistake

# =========================================================================== 02 ReLU


def _relu_grad(z):
    return (z > 0).to(z.dtype)


_register(Exercise(
    name="relu_grad",
    notebook="02_relu.ipynb",
    signature="def relu_grad(z: torch.Tensor) -> torch.Tensor:",
    instructions=N_("Return the derivative of ReLU(z) = max(0, z) at every entry of z: 1.0 where z > 0, "
                  "0.0 elsewhere (at exactly z = 0 PyTorch uses 0), as a tensor of z's shape."),
    reference=_relu_grad,
    cases=(
        Case(N_("z = [-2, -0.5, 0, 0.5, 2], zero included"), lambda: {"z": _t([-2.0, -0.5, 0.0, 0.5, 2.0])}),
        Case(N_("a random 2-D batch"), lambda: {"z": _randn(31, 6, 5)}),
        Case(N_("all negative"), lambda: {"z": -_rand(32, 8) - 0.1}),
        Case(N_("exact zeros in a batch"), lambda: {"z": torch.relu(_randn(33, 4, 6)) * (_rand(34, 4, 6) < 0.5)}),
    ),
    mistakes=(
        Mistake(N_("that is ReLU itself, max(0, z); its derivative is 1 where z > 0 and 0 elsewhere."),
                fn=lambda z: torch.relu(z)),
        Mistake(N_("at exactly z = 0 PyTorch's ReLU has derivative 0: use z > 0, not z >= 0."),
                fn=lambda z: (z >= 0).to(z.dtype)),
        Mistake(N_("negative inputs have derivative 0, not -1 (that is torch.sign)."),
                fn=lambda z: torch.sign(z)),
        Mistake(N_("that is LeakyReLU's derivative (0.01 for z < 0); ReLU's is exactly 0 there."),
                fn=lambda z: torch.where(z > 0, 1.0, 0.01).to(z.dtype)),
        Mistake(N_("reversed: the derivative is 1 where z > 0 and 0 where z < 0."),
                fn=lambda z: (z < 0).to(z.dtype)),
    ),
    hint=N_("ReLU passes positive inputs through unchanged (slope 1) and flattens the rest (slope 0)."),
))


def _count_dead_units(acts):
    return int((acts == 0).all(dim=0).sum())


def _acts_with_dead(seed: int, n: int, units: int, dead: Sequence[int]) -> torch.Tensor:
    acts = torch.relu(_randn(seed, n, units) + 0.3)
    acts[:, list(dead)] = 0.0
    return acts


_register(Exercise(
    name="count_dead_units",
    notebook="02_relu.ipynb",
    signature="def count_dead_units(acts: torch.Tensor) -> int:",
    instructions=N_("acts holds ReLU activations of shape (n_examples, n_units): one row per example, one column "
                  "per unit. A unit is dead if it outputs 0 for every example. Return how many units are dead, "
                  "as an int."),
    reference=_count_dead_units,
    cases=(
        Case(N_("4 examples, 5 units, 2 of them dead"), lambda: {"acts": _t([[0.0, 1.0, 0.0, 0.0, 2.0],
                                                                          [0.0, 0.0, 0.0, 3.0, 0.0],
                                                                          [0.0, 0.5, 0.0, 0.0, 0.0],
                                                                          [0.0, 0.0, 0.0, 1.0, 1.0]])}),
        Case(N_("32 examples, 20 units, 3 dead"), lambda: {"acts": _acts_with_dead(41, 32, 20, [2, 7, 19])}),
        Case(N_("no dead unit"), lambda: {"acts": torch.relu(_randn(42, 16, 10)) + 0.01}),
        Case(N_("every unit dead"), lambda: {"acts": torch.zeros(8, 6, dtype=torch.float64)}),
        Case(N_("a single example"), lambda: {"acts": _t([[0.0, 1.5, 0.0, 0.2]])}),
    ),
    outputs=("dead units",),
    mistakes=(
        Mistake(N_("you counted zero entries; a unit (a column) is dead only if it is zero for every example: "
                "(acts == 0).all(dim=0).sum()."),
                fn=lambda acts: int((acts == 0).sum())),
        Mistake(N_("each column is a unit and each row an example: reduce over the examples, dim=0."),
                fn=lambda acts: int((acts == 0).all(dim=1).sum())),
        Mistake(N_("a unit is dead only if it is zero for *every* example: use .all(dim=0), not .any(dim=0)."),
                fn=lambda acts: int((acts == 0).any(dim=0).sum())),
        Mistake(N_("return the number of dead units (an int), not their fraction."),
                fn=lambda acts: float((acts == 0).all(dim=0).double().mean())),
        Mistake(N_("you counted the live units; count the ones that never fire."),
                fn=lambda acts: int((acts != 0).any(dim=0).sum())),
    ),
    hint=N_("a unit is a column of acts; it is dead when the whole column is zero."),
))


DEPTH = 6


def _backprop_factor(activation, init, seed):
    g = gradient_flow(DEPTH, activation, init, seed=seed)["grad_norm"]
    return float((g[0] / g[-1]) ** (1 / (DEPTH - 1)))


def _factor_of(activation, init, seed, entry="grad_norm", power=1 / (DEPTH - 1), invert=False):
    """A wrong variant of the measurement, for the hints."""
    g = gradient_flow(DEPTH, activation, init, seed=seed)[entry]
    ratio = g[-1] / g[0] if invert else g[0] / g[-1]
    return float(ratio ** power)


_register(Exercise(
    name="backprop_factor",
    timeout=30.0,  # the first case also reads the digits (gradient_flow loads them on first use)
    notebook="02_relu.ipynb",
    signature="def backprop_factor(activation: str, init: str, seed: int) -> float:",
    instructions=N_("Measure a fresh network of 6 hidden layers with ck.flow.gradient_flow(6, activation, init, "
                  "seed=seed); its entry 'grad_norm' holds the norm of dL/dh of every hidden layer, input side "
                  "first (act1 ... act6). Return the average factor per layer by which that gradient changes on "
                  "its way down from act6 to act1, (grad_norm[0] / grad_norm[-1]) ** (1 / 5), as a float."),
    reference=_backprop_factor,
    cases=(
        Case(N_("relu, PyTorch's default initialization"), lambda: dict(activation="relu", init="pytorch_default", seed=0)),
        Case(N_("relu, He's initialization"), lambda: dict(activation="relu", init="kaiming_normal", seed=1)),
        Case(N_("tanh, PyTorch's default initialization"), lambda: dict(activation="tanh", init="pytorch_default", seed=2)),
        Case(N_("sigmoid, PyTorch's default initialization"), lambda: dict(activation="sigmoid", init="pytorch_default", seed=0)),
        Case(N_("leaky_relu, Xavier's initialization"), lambda: dict(activation="leaky_relu", init="xavier_uniform", seed=3)),
    ),
    outputs=("factor per layer",),
    mistakes=(
        Mistake(N_("that is the factor on the way *up*, from act1 to act6: divide act1's norm by act6's, "
                "grad_norm[0] / grad_norm[-1]."),
                fn=lambda activation, init, seed: _factor_of(activation, init, seed, invert=True)),
        Mistake(N_("use 'grad_norm' (dL/dh, the back-propagated gradient), not 'weight_grad_norm' (the weights' "
                "gradients, which look much flatter)."),
                fn=lambda activation, init, seed: _factor_of(activation, init, seed, entry="weight_grad_norm")),
        Mistake(N_("from act6 down to act1 the gradient passes 5 layers, not 6: take the 5th root, ** (1 / 5)."),
                fn=lambda activation, init, seed: _factor_of(activation, init, seed, power=1 / DEPTH)),
        Mistake(N_("that is the whole fall from act6 to act1; the factor per layer is its 5th root, ** (1 / 5)."),
                fn=lambda activation, init, seed: _factor_of(activation, init, seed, power=1.0)),
        Mistake(N_("pass init and seed on: gradient_flow(6, activation, init, seed=seed)."),
                fn=lambda activation, init, seed: _backprop_factor(activation, "pytorch_default", 0)),
    ),
    hint=N_("g = ck.flow.gradient_flow(6, activation, init, seed=seed)['grad_norm'], then return "
          "float((g[0] / g[-1]) ** (1 / 5))."),
    rtol=1e-6,
    atol=0.0,
))
