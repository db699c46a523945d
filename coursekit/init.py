"""Weight initialization schemes by name, built on ``torch.nn.init``.

Introduced in ``notebooks/04_initialization.ipynb`` (and used from notebook 00 on).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ._checks import check_choice, check_float, check_int, check_module

__all__ = ["initialize", "SCHEMES", "expected_std"]

SCHEMES = (
    "zeros",
    "constant",
    "normal",
    "uniform",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "pytorch_default",
)

_NONLINEARITIES = ("relu", "leaky_relu", "tanh", "sigmoid", "linear", "selu")


def _gain(nonlinearity: str, negative_slope: float) -> float:
    if nonlinearity == "leaky_relu":
        return nn.init.calculate_gain("leaky_relu", negative_slope)
    return nn.init.calculate_gain(nonlinearity)


def expected_std(
    scheme: str, fan_in: int, fan_out: int, nonlinearity: str = "relu",
    std: float = 1.0, a: float = 1.0, negative_slope: float = 0.01,
) -> float:
    """Standard deviation of the weights a scheme draws for a (fan_out x fan_in) layer.

    The formula, not a sample: Xavier ``gain * sqrt(2 / (fan_in + fan_out))``, He
    ``gain / sqrt(fan_in)``, a uniform U(-b, b) has std ``b / sqrt(3)``.

    Introduced in ``notebooks/04_initialization.ipynb``.
    """
    scheme = check_choice("scheme", scheme, SCHEMES)
    fan_in = check_int("fan_in", fan_in, minimum=1)
    fan_out = check_int("fan_out", fan_out, minimum=1)
    nonlinearity = check_choice("nonlinearity", nonlinearity, _NONLINEARITIES)
    if scheme in ("zeros", "constant"):
        return 0.0
    if scheme == "normal":
        return check_float("std", std, 0.0)
    if scheme == "uniform":
        return check_float("a", a, 0.0) / math.sqrt(3)
    if scheme.startswith("xavier"):
        return _gain(nonlinearity, negative_slope) * math.sqrt(2.0 / (fan_in + fan_out))
    if scheme.startswith("kaiming"):
        return _gain(nonlinearity, negative_slope) / math.sqrt(fan_in)
    # pytorch_default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    return 1.0 / math.sqrt(fan_in) / math.sqrt(3)


def initialize(
    model: nn.Module,
    scheme: str,
    *,
    nonlinearity: str = "relu",
    std: float = 1.0,
    a: float = 1.0,
    value: float = 0.0,
    negative_slope: float = 0.01,
    bias: str | float = "zeros",
    seed: int | None = None,
) -> nn.Module:
    """Re-initialize every ``nn.Linear`` (and ``nn.Conv*d``) weight of ``model`` in place.

    Args:
        model: the network; its BatchNorm layers are left alone.
        scheme: "zeros", "constant" (``value``), "normal" (N(0, std^2)),
            "uniform" (U(-a, a)), "xavier_uniform", "xavier_normal",
            "kaiming_uniform", "kaiming_normal" (He; gain from ``nonlinearity``),
            or "pytorch_default" (what ``nn.Linear`` does: ``kaiming_uniform_``
            with ``a=sqrt(5)``, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), biases too).
        nonlinearity: the activation that follows, for the gain of the Xavier and
            He schemes: "relu", "leaky_relu", "tanh", "sigmoid", "linear", "selu".
            (Xavier's paper uses gain 1: pass "linear" or "sigmoid" for that.)
        std: standard deviation for "normal".
        a: bound for "uniform".
        value: the constant for "constant".
        negative_slope: LeakyReLU slope for the "leaky_relu" gain.
        bias: "zeros" (default), "keep" (leave as is) or a number to fill biases with.
        seed: if given, draw from ``torch.manual_seed(seed)`` without disturbing
            the global random state.

    Returns:
        ``model`` itself, for chaining.

    Introduced in ``notebooks/04_initialization.ipynb``.
    """
    check_module("model", model)
    scheme = check_choice("scheme", scheme, SCHEMES)
    nonlinearity = check_choice("nonlinearity", nonlinearity, _NONLINEARITIES)
    std = check_float("std", std, 0.0)
    a = check_float("a", a, 0.0)
    value = check_float("value", value)
    negative_slope = check_float("negative_slope", negative_slope, 0.0)
    if isinstance(bias, str):
        bias = check_choice("bias", bias, ("zeros", "keep"))
    else:
        bias = check_float("bias", bias)
    if seed is not None:
        seed = check_int("seed", seed, minimum=0)
    layers = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))]
    if not layers:
        raise ValueError("model has no nn.Linear or nn.Conv layer to initialize")
    gain = _gain(nonlinearity, negative_slope)

    def apply() -> None:
        with torch.no_grad():
            for layer in layers:
                w = layer.weight
                if scheme == "zeros":
                    nn.init.zeros_(w)
                elif scheme == "constant":
                    nn.init.constant_(w, value)
                elif scheme == "normal":
                    nn.init.normal_(w, 0.0, std)
                elif scheme == "uniform":
                    nn.init.uniform_(w, -a, a)
                elif scheme == "xavier_uniform":
                    nn.init.xavier_uniform_(w, gain=gain)
                elif scheme == "xavier_normal":
                    nn.init.xavier_normal_(w, gain=gain)
                elif scheme == "kaiming_uniform":
                    nn.init.kaiming_uniform_(w, a=negative_slope if nonlinearity == "leaky_relu" else 0,
                                             nonlinearity=nonlinearity)
                elif scheme == "kaiming_normal":
                    nn.init.kaiming_normal_(w, a=negative_slope if nonlinearity == "leaky_relu" else 0,
                                            nonlinearity=nonlinearity)
                elif scheme == "pytorch_default":
                    layer.reset_parameters()
                    continue
                if layer.bias is not None:
                    if bias == "zeros":
                        nn.init.zeros_(layer.bias)
                    elif bias != "keep":
                        nn.init.constant_(layer.bias, float(bias))

    if seed is None:
        apply()
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            apply()
    return model
