"""Exercises of ``notebooks/01_vanishing_gradients.ipynb``: sigmoid_derivative, chain_gradient, vanishing_depth.

SPOILERS: the reference solutions. Each ``_register(Exercise(...))`` below is one
exercise (signature, instructions, reference, seeded cases, known mistakes with
their hints); a new exercise for this notebook is one more such entry.
"""
from __future__ import annotations

import torch

from .._i18n import N_
from ..flow import gradient_flow
from .engine import _randn, _register, _t
from .pieces import Case, Exercise, Mistake

# =========================================================================== 01 vanishing gradients


def _sigmoid_derivative(z):
    s = torch.sigmoid(z)
    return s * (1 - s)


_register(Exercise(
    name="sigmoid_derivative",
    notebook="01_vanishing_gradients.ipynb",
    signature="def sigmoid_derivative(z: torch.Tensor) -> torch.Tensor:",
    instructions=N_("Return the derivative of the sigmoid at every entry of z, "
                  "sigma'(z) = sigma(z) * (1 - sigma(z)), as a tensor of z's shape. "
                  "It must stay finite for very large |z| (think about which formula you use)."),
    reference=_sigmoid_derivative,
    cases=(
        Case(N_("z = 0, where the derivative is largest"), lambda: {"z": _t([0.0])}),
        Case(N_("a random vector"), lambda: {"z": _randn(11, 7, scale=3.0)}),
        Case(N_("a 2-D batch"), lambda: {"z": _randn(12, 4, 5, scale=2.0)}),
        Case(N_("saturated units, z = ±10 and ±30"), lambda: {"z": _t([-30.0, -10.0, 10.0, 30.0])}),
        Case(N_("z = -100 in float32, where exp(-z) overflows"),
             lambda: {"z": torch.tensor([-100.0, -50.0, 0.5, 100.0], dtype=torch.float32)}),
    ),
    mistakes=(
        Mistake(N_("s * (1 - s) needs s = sigmoid(z) first: s = torch.sigmoid(z), then s * (1 - s)."),
                fn=lambda z: z * (1 - z)),
        Mistake(N_("that is sigmoid(z) itself; its derivative is sigmoid(z) * (1 - sigmoid(z))."),
                fn=lambda z: torch.sigmoid(z)),
        Mistake(N_("1 - s**2 is tanh's derivative; sigmoid's is s * (1 - s)."),
                fn=lambda z: 1 - torch.sigmoid(z) ** 2),
        Mistake(N_("both factors use s = sigmoid(z): s * (1 - s), not s * (1 - z)."),
                fn=lambda z: torch.sigmoid(z) * (1 - z)),
        Mistake(N_("d/dz 1/(1 + e^-z) = e^-z / (1 + e^-z)**2: the denominator is squared."),
                fn=lambda z: torch.exp(-z) / (1 + torch.exp(-z))),
        Mistake(N_("exp(-z) overflows for very negative z (e^100 is inf in float32), and inf/inf gives nan: "
                "compute s = torch.sigmoid(z) (which is safe) and return s * (1 - s)."),
                fn=lambda z: torch.exp(-z) / (1 + torch.exp(-z)) ** 2),
    ),
    hint=N_("sigma'(z) = sigma(z) * (1 - sigma(z)); its largest value is 0.25, at z = 0."),
))


def _chain_gradient(w, z):
    s = torch.sigmoid(z)
    return torch.prod(w * s * (1 - s))


_register(Exercise(
    name="chain_gradient",
    notebook="01_vanishing_gradients.ipynb",
    signature="def chain_gradient(w: torch.Tensor, z: torch.Tensor) -> torch.Tensor:",
    instructions=N_("A chain of one-unit sigmoid layers, h_l = sigmoid(w[l] * h_{l-1}), has pre-activations "
                  "z[l] = w[l] * h_{l-1}. Return d h_L / d h_0, the product over all layers of "
                  "w[l] * sigma'(z[l]), as a single number (a 0-dim tensor)."),
    reference=_chain_gradient,
    cases=(
        Case(N_("one layer"), lambda: {"w": _t([2.0]), "z": _t([0.5])}),
        Case(N_("5 layers at z = 0 with w = 1: the bound 0.25**5"), lambda: {"w": torch.ones(5, dtype=torch.float64),
                                                                          "z": torch.zeros(5, dtype=torch.float64)}),
        Case(N_("10 layers, random w and z"), lambda: {"w": _randn(21, 10, scale=1.5), "z": _randn(22, 10)}),
        Case(N_("30 layers: a very small product"), lambda: {"w": torch.ones(30, dtype=torch.float64),
                                                         "z": _randn(23, 30, scale=0.5)}),
        Case(N_("3 layers with w = 8: large weights can make it grow"), lambda: {"w": torch.full((3,), 8.0, dtype=torch.float64),
                                                                            "z": torch.zeros(3, dtype=torch.float64)}),
    ),
    outputs=("gradient",),
    mistakes=(
        Mistake(N_("the chain rule multiplies the layers' factors (torch.prod), it doesn't add them."),
                fn=lambda w, z: torch.sum(w * _sigmoid_derivative(z))),
        Mistake(N_("each layer contributes w[l] * sigma'(z[l]): you left out the weights."),
                fn=lambda w, z: torch.prod(_sigmoid_derivative(z))),
        Mistake(N_("use the derivative sigma'(z) = sigma(z) * (1 - sigma(z)), not sigma(z) itself."),
                fn=lambda w, z: torch.prod(w * torch.sigmoid(z))),
        Mistake(N_("multiply the factors of all layers, not only the last one."),
                fn=lambda w, z: w[-1] * _sigmoid_derivative(z[-1])),
        Mistake(N_("0.25**L is only the upper bound (reached at z = 0 with w = 1); use the actual w and z."),
                fn=lambda w, z: torch.tensor(0.25 ** len(z), dtype=torch.float64)),
    ),
    hint=N_("d h_L / d h_0 = prod over l of w[l] * sigma'(z[l]) (the chain rule, one factor per layer)."),
    rtol=1e-6,
    atol=0.0,
))


MAX_DEPTH = 15


def _vanishing_depth(threshold, activation, seed):
    for depth in range(1, MAX_DEPTH + 1):
        if gradient_flow(depth, activation, seed=seed)["weight_grad_norm"][0] < threshold:
            return depth
    raise ValueError(f"no depth up to {MAX_DEPTH} reaches {threshold}")  # the cases never ask for this


def _depth_where(threshold, activation, seed, pick):
    """A wrong variant: the first depth where pick(norms) < threshold (MAX_DEPTH + 1 if none)."""
    for depth in range(1, MAX_DEPTH + 1):
        if pick(gradient_flow(depth, activation, seed=seed)["weight_grad_norm"]) < threshold:
            return depth
    return MAX_DEPTH + 1


_register(Exercise(
    name="vanishing_depth",
    timeout=60.0,  # a case runs up to 15 networks forward and back, the first also reads the digits
    notebook="01_vanishing_gradients.ipynb",
    signature="def vanishing_depth(threshold: float, activation: str, seed: int) -> int:",
    instructions=N_("For depth = 1, 2, ..., 15, measure a fresh network with "
                  "ck.flow.gradient_flow(depth, activation, seed=seed); its entry 'weight_grad_norm' holds the "
                  "weight-gradient norm of every layer, input side first. Return the smallest depth whose first "
                  "layer's norm is below threshold, as an int."),
    reference=_vanishing_depth,
    cases=(
        Case(N_("sigmoid, threshold 1e-4"), lambda: dict(threshold=1e-4, activation="sigmoid", seed=0)),
        Case(N_("sigmoid, threshold 1e-7, another seed"), lambda: dict(threshold=1e-7, activation="sigmoid", seed=1)),
        Case(N_("sigmoid, threshold 0.5: one layer is enough"),
             lambda: dict(threshold=0.5, activation="sigmoid", seed=2)),
        Case(N_("tanh, threshold 1e-2"), lambda: dict(threshold=1e-2, activation="tanh", seed=0)),
        Case(N_("relu, threshold 1e-3"), lambda: dict(threshold=1e-3, activation="relu", seed=2)),
    ),
    outputs=("depth",),
    mistakes=(
        Mistake(N_("that is one layer too few: return the first depth whose gradient is *below* the threshold, "
                "not the last one above it."),
                fn=lambda threshold, activation, seed: _vanishing_depth(threshold, activation, seed) - 1),
        Mistake(N_("weight_grad_norm lists the layers input side first: the first layer is [0]; [-1] is the "
                "output layer, which always gets a large gradient."),
                fn=lambda threshold, activation, seed: _depth_where(threshold, activation, seed, lambda g: g[-1])),
        Mistake(N_("compare the first layer's own norm with the threshold, not its ratio to the output layer's."),
                fn=lambda threshold, activation, seed: _depth_where(threshold, activation, seed,
                                                                    lambda g: g[0] / g[-1])),
        Mistake(N_("pass the seed on: gradient_flow(depth, activation, seed=seed); each seed is another network."),
                fn=lambda threshold, activation, seed: _vanishing_depth(threshold, activation, 0)),
    ),
    hint=N_("loop over depth in range(1, 16); for each, norms = ck.flow.gradient_flow(depth, activation, "
          "seed=seed)['weight_grad_norm'], and return depth as soon as norms[0] < threshold."),
    rtol=0.0,
    atol=0.0,
))
