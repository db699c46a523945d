"""Exercises of ``notebooks/04_initialization.ipynb``: xavier_uniform_bound, he_normal_std,
predict_signal_change.

SPOILERS: the reference solutions. Each ``_register(Exercise(...))`` below is one
exercise (signature, instructions, reference, seeded cases, known mistakes with
their hints); a new exercise for this notebook is one more such entry.
"""
from __future__ import annotations

import math

from .._i18n import N_
from .engine import _register
from .pieces import Case, Exercise, Mistake

# =========================================================================== 04 initialization


def _xavier_uniform_bound(fan_in, fan_out, gain=1.0):
    return gain * math.sqrt(6.0 / (fan_in + fan_out))


_register(Exercise(
    name="xavier_uniform_bound",
    notebook="04_initialization.ipynb",
    signature="def xavier_uniform_bound(fan_in: int, fan_out: int, gain: float = 1.0) -> float:",
    instructions=N_("Return the bound a of Xavier (Glorot) uniform initialization, W ~ U(-a, a), chosen so that "
                  "Var(W) = gain**2 * 2 / (fan_in + fan_out); a uniform U(-a, a) has variance a**2 / 3. "
                  "This is the bound torch.nn.init.xavier_uniform_ uses."),
    reference=_xavier_uniform_bound,
    cases=(
        Case(N_("fan_in 784, fan_out 256"), lambda: {"fan_in": 784, "fan_out": 256, "gain": 1.0}),
        Case(N_("a square 256 x 256 layer"), lambda: {"fan_in": 256, "fan_out": 256, "gain": 1.0}),
        Case(N_("one input, one output"), lambda: {"fan_in": 1, "fan_out": 1, "gain": 1.0}),
        Case(N_("fan_in 10, fan_out 1000"), lambda: {"fan_in": 10, "fan_out": 1000, "gain": 1.0}),
        Case(N_("tanh's gain 5/3, fan_in 64, fan_out 32"), lambda: {"fan_in": 64, "fan_out": 32, "gain": 5.0 / 3.0}),
    ),
    outputs=("bound",),
    mistakes=(
        Mistake(N_("Xavier uses both fans, so forward and backward signals keep their size: 6 / (fan_in + fan_out)."),
                fn=lambda fi, fo, g=1.0: g * math.sqrt(6.0 / fi)),
        Mistake(N_("that is the *std* of Xavier's normal init; the uniform bound is sqrt(3) times bigger: "
                "sqrt(6 / (fan_in + fan_out))."),
                fn=lambda fi, fo, g=1.0: g * math.sqrt(2.0 / (fi + fo))),
        Mistake(N_("take the square root: a = gain * sqrt(6 / (fan_in + fan_out))."),
                fn=lambda fi, fo, g=1.0: g * 6.0 / (fi + fo)),
        Mistake(N_("multiply by the gain (5/3 for tanh, sqrt(2) for ReLU): a = gain * sqrt(6 / (fan_in + fan_out))."),
                fn=lambda fi, fo, g=1.0: math.sqrt(6.0 / (fi + fo))),
        Mistake(N_("the gain multiplies the bound, outside the square root: gain * sqrt(6 / (fan_in + fan_out))."),
                fn=lambda fi, fo, g=1.0: math.sqrt(6.0 * g / (fi + fo))),
        Mistake(N_("that is the old 'standard' bound 1/sqrt(fan_in) that Glorot & Bengio replaced."),
                fn=lambda fi, fo, g=1.0: g / math.sqrt(fi)),
    ),
    hint=N_("solve a**2 / 3 = gain**2 * 2 / (fan_in + fan_out) for a."),
))


def _he_normal_std(fan_in, negative_slope=0.0):
    return math.sqrt(2.0 / ((1.0 + negative_slope ** 2) * fan_in))


_register(Exercise(
    name="he_normal_std",
    notebook="04_initialization.ipynb",
    signature="def he_normal_std(fan_in: int, negative_slope: float = 0.0) -> float:",
    instructions=N_("Return the std of He (Kaiming) normal initialization for a (leaky) ReLU layer: "
                  "std = gain / sqrt(fan_in) with gain**2 = 2 / (1 + negative_slope**2) "
                  "(negative_slope = 0 for ReLU), as torch.nn.init.kaiming_normal_ uses."),
    reference=_he_normal_std,
    cases=(
        Case(N_("fan_in 784, ReLU"), lambda: {"fan_in": 784, "negative_slope": 0.0}),
        Case(N_("fan_in 1"), lambda: {"fan_in": 1, "negative_slope": 0.0}),
        Case(N_("fan_in 64"), lambda: {"fan_in": 64, "negative_slope": 0.0}),
        Case(N_("LeakyReLU with slope 0.2, fan_in 100"), lambda: {"fan_in": 100, "negative_slope": 0.2}),
        Case(N_("slope 1 (a linear layer), fan_in 50"), lambda: {"fan_in": 50, "negative_slope": 1.0}),
    ),
    outputs=("std",),
    mistakes=(
        Mistake(N_("ReLU zeroes half of its input and halves the signal's second moment; He doubles the variance "
                "to make up for it: std = sqrt(2 / fan_in), not sqrt(1 / fan_in)."),
                fn=lambda fi, a=0.0: math.sqrt(1.0 / fi)),
        Mistake(N_("2 / fan_in is the variance; return the std, its square root."),
                fn=lambda fi, a=0.0: 2.0 / ((1.0 + a ** 2) * fi)),
        Mistake(N_("sqrt(6 / fan_in) is He's *uniform* bound (sqrt(3) times the std); return the normal std."),
                fn=lambda fi, a=0.0: math.sqrt(6.0 / ((1.0 + a ** 2) * fi))),
        Mistake(N_("take the square root of the whole fraction: sqrt(2 / fan_in), not sqrt(2) / fan_in."),
                fn=lambda fi, a=0.0: math.sqrt(2.0 / (1.0 + a ** 2)) / fi),
        Mistake(N_("with a leaky slope the gain shrinks: gain**2 = 2 / (1 + negative_slope**2)."),
                fn=lambda fi, a=0.0: math.sqrt(2.0 / fi)),
        Mistake(N_("square the slope: gain**2 = 2 / (1 + negative_slope**2)."),
                fn=lambda fi, a=0.0: math.sqrt(2.0 / ((1.0 + a) * fi))),
    ),
    hint=N_("Var(W) = gain**2 / fan_in keeps the signal's size through a (leaky) ReLU layer; return its sqrt."),
))


def _predict_signal_change(depth, activation, weight_std, width):
    half = 0.5 if activation == "relu" else 1.0   # ReLU keeps half of E[y²]
    return (weight_std * math.sqrt(width * half)) ** depth


_register(Exercise(
    name="predict_signal_change",
    notebook="04_initialization.ipynb",
    signature=("def predict_signal_change(depth: int, activation: str, weight_std: float, "
               "width: int) -> float:"),
    instructions=N_("Predict, before measuring, by what factor the std of the activations changes over `depth` "
                  "layers of `width` units with weights N(0, weight_std**2), for activation 'relu' or 'identity': "
                  "the derivation's factor per layer, weight_std * sqrt(width) (times sqrt(1/2) for ReLU, which "
                  "keeps half of E[y**2]), raised to the number of layers. Return a Python float."),
    reference=_predict_signal_change,
    cases=(
        Case(N_("He for ReLU, 30 layers of 128"), lambda: {"depth": 30, "activation": "relu",
                                                       "weight_std": math.sqrt(2 / 128), "width": 128}),
        Case(N_("Xavier (gain 1) for ReLU, 30 layers of 128"), lambda: {"depth": 30, "activation": "relu",
                                                                   "weight_std": 1 / math.sqrt(128), "width": 128}),
        Case(N_("N(0, 0.01²), linear, 30 layers of 128"), lambda: {"depth": 30, "activation": "identity",
                                                              "weight_std": 0.01, "width": 128}),
        Case(N_("N(0, 1), ReLU, 5 layers of 64"), lambda: {"depth": 5, "activation": "relu",
                                                       "weight_std": 1.0, "width": 64}),
        Case(N_("one linear layer, std 1/16, width 256"), lambda: {"depth": 1, "activation": "identity",
                                                              "weight_std": 1 / 16, "width": 256}),
    ),
    outputs=("factor",),
    mistakes=(
        Mistake(N_("ReLU zeroes the negative half: E[relu(y)²] = Var(y) / 2, so each ReLU layer's factor is "
                "weight_std * sqrt(width / 2), not weight_std * sqrt(width)."),
                fn=lambda d, act, s, n: (s * math.sqrt(n)) ** d),
        Mistake(N_("that is the factor of one layer; the layers multiply: raise it to the power depth."),
                fn=lambda d, act, s, n: s * math.sqrt(n * (0.5 if act == "relu" else 1.0))),
        Mistake(N_("that is the change of the *variance*; the std changes by its square root per layer."),
                fn=lambda d, act, s, n: (s * s * n * (0.5 if act == "relu" else 1.0)) ** d),
        Mistake(N_("count every layer: the factor is raised to depth, not depth - 1."),
                fn=lambda d, act, s, n: (s * math.sqrt(n * (0.5 if act == "relu" else 1.0))) ** (d - 1)),
        Mistake(N_("Var(y) = width * Var(w) * E[x²]: the std of the weights enters squared inside the root, "
                "i.e. once outside it: weight_std * sqrt(width), not sqrt(weight_std * width)."),
                fn=lambda d, act, s, n: math.sqrt(s * n * (0.5 if act == "relu" else 1.0)) ** d),
    ),
    hint=N_("per layer: factor = weight_std * sqrt(width * c), c = 1/2 for ReLU, 1 for identity; over depth layers: factor**depth."),
))
