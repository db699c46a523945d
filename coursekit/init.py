"""Weight initialization schemes by name, the one rule for their gains, and the experiment behind them.

Introduced in ``notebooks/04_initialization.ipynb`` (and used from notebook 00 on).

- :func:`initialize` applies a scheme to every Linear/Conv layer of a model;
  :func:`expected_std` gives the formula for a layer shape. Xavier (Glorot &
  Bengio, 2010) and He (Kaiming He et al., 2015) are written out in
  :func:`init_weight_`, three lines each: the fans, the gain, the std (or bound).
- The experiment behind the schemes, a signal sent up and a gradient down a
  deep stack at initialization, is :func:`coursekit.depth.signal_through_depth`.

One rule for the gain
---------------------
The Xavier and He schemes scale the weights by a gain ``g`` for the activation
that follows a layer (``torch.nn.init.calculate_gain``). :func:`resolve_scheme`
decides it, the same way for :func:`initialize`, :func:`coursekit.models.mlp`,
:func:`coursekit.depth.signal_through_depth` and so :func:`coursekit.flow.gradient_flow`:

1. ``nonlinearity=...`` given: that nonlinearity's gain.
2. Xavier: gain 1, whatever the activation (Glorot & Bengio's scheme, as
   ``xavier_normal_(w)``).
3. He (``kaiming_*``): the gain of the network's activation: the ``activation``
   of ``mlp`` and ``signal_through_depth``; for ``initialize``, the one kind of
   activation module the model holds (a model with several kinds must name
   ``nonlinearity``). When no activation is known (a lone ``nn.Linear``,
   ``expected_std`` without ``activation``): ReLU's, as ``kaiming_normal_(w)``.
4. ``"he"`` (:data:`ALIASES`): He normal with ReLU's gain, whatever the activation.

The gain by scheme and activation, and the std of the weights it gives::

    activation ->        relu  leaky_relu(s)   tanh  sigmoid  selu  identity, elu, gelu
    xavier_normal/_uniform  1    1              1     1        1     1
    kaiming_normal/_uniform √2   √(2/(1+s²))    5/3   1        3/4   1 (torch gives them no gain)
    he                      √2   √2             √2    √2       √2    √2

    xavier_normal    std g·√(2/(fan_in + fan_out))
    xavier_uniform   U(±b), b = √3·g·√(2/(fan_in + fan_out)): the same std
    kaiming_normal   std g/√fan_in                (He: √(2/fan_in) for ReLU)
    kaiming_uniform  U(±b), b = √3·g/√fan_in      : the same std
    pytorch_default  U(±1/√fan_in), std 1/√(3·fan_in)  (nn.Linear's own)
    normal, uniform  std ``std``; U(±a), std a/√3;  zeros, constant: 0

A uniform U(-b, b) has std b/√3. ``fan_in`` is the number of inputs of a unit
(in_features, times the kernel size for a convolution).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ._checks import check_choice, check_float, check_int, check_module

__all__ = [
        "SCHEMES",
    "ALIASES",
    "NONLINEARITIES",
    "SCHEME_NAMES",
    "expected_std",
    "gain",
    "gain_nonlinearity",
    "init_weight_",
    "initialize",
    "resolve_scheme",
    "scheme_label",
]

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

#: The nonlinearities whose gain ``torch.nn.init.calculate_gain`` knows (and the Xavier and He schemes use).
NONLINEARITIES = ("relu", "leaky_relu", "tanh", "sigmoid", "linear", "selu")

#: Short names for a scheme with a fixed gain: "he" is He et al.'s normal initialization,
#: std sqrt(2 / fan_in), whatever the activation (the recipes of notebook 08 use it).
ALIASES = {"he": ("kaiming_normal", "relu")}

#: Every name :func:`resolve_scheme` accepts.
SCHEME_NAMES = (*SCHEMES, *ALIASES)

#: Activation modules and the nonlinearity whose gain they take (:func:`initialize` reads a model's).
_ACTIVATION_MODULES = {nn.ReLU: "relu", nn.LeakyReLU: "leaky_relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid",
                       nn.SELU: "selu", nn.ELU: "elu", nn.GELU: "gelu", nn.Identity: "identity"}


def gain_nonlinearity(activation: str) -> str:
    """The nonlinearity whose gain a He scheme uses for a network with this activation.

    The activation's own name where PyTorch defines a gain for it ("relu",
    "leaky_relu", "tanh", "sigmoid", "selu"), else "linear" (gain 1: "identity",
    "elu", "gelu").

    Introduced in ``notebooks/04_initialization.ipynb``.
    """
    return activation if activation in ("relu", "leaky_relu", "tanh", "sigmoid", "selu") else "linear"


def gain(nonlinearity: str, negative_slope: float = 0.01) -> float:
    """The gain of a nonlinearity, ``torch.nn.init.calculate_gain`` (``negative_slope`` for "leaky_relu").

    Introduced in ``notebooks/04_initialization.ipynb``.
    """
    nonlinearity = check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
    if nonlinearity == "leaky_relu":
        return nn.init.calculate_gain("leaky_relu", negative_slope)
    return nn.init.calculate_gain(nonlinearity)


def resolve_scheme(name: str, activation: str | None = None, nonlinearity: str | None = None) -> tuple[str, str | None]:
    """``(scheme, nonlinearity)`` for a scheme's name: the course's one rule for gains.

    The rule (see the module's docstring for the table): a given
    ``nonlinearity`` wins; Xavier uses gain 1 ("linear"); He (``kaiming_*``)
    the gain of ``activation`` (:func:`gain_nonlinearity`), or ReLU's when
    ``activation`` is None; an alias of :data:`ALIASES` brings its own gain. The
    other schemes use no gain: the nonlinearity is None, and naming one is an error.

    Introduced in ``notebooks/04_initialization.ipynb``.
    """
    key = check_choice("init", name, SCHEME_NAMES)
    if nonlinearity is not None:
        nonlinearity = check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
    scheme, fixed = ALIASES.get(key, (key, None))
    if not scheme.startswith(("xavier", "kaiming")):
        if nonlinearity is not None:
            raise ValueError(f"nonlinearity={nonlinearity!r} has no effect on scheme {scheme!r}: only the Xavier "
                             "and He (kaiming) schemes use a gain; leave nonlinearity out")
        return scheme, None
    if nonlinearity is not None:
        return scheme, nonlinearity
    if fixed is not None:
        return scheme, fixed
    if scheme.startswith("xavier"):
        return scheme, "linear"
    return scheme, "relu" if activation is None else gain_nonlinearity(activation)


def _model_activation(model: nn.Module) -> tuple[str | None, float | None]:
    """The one kind of activation module in ``model`` and its LeakyReLU slope: ``(None, None)`` if none."""
    kinds = {type(m): m for m in model.modules() if isinstance(m, tuple(_ACTIVATION_MODULES))}
    if not kinds:
        return None, None
    if len(kinds) > 1:
        names = ", ".join(sorted(t.__name__ for t in kinds))
        raise ValueError(f"model has several kinds of activation ({names}): a He (kaiming) scheme takes the gain of "
                         f"the activation, so name it, e.g. nonlinearity='relu' (allowed: {', '.join(NONLINEARITIES)})")
    (kind, module), = kinds.items()
    return _ACTIVATION_MODULES[kind], getattr(module, "negative_slope", None)


def expected_std(
    scheme: str, fan_in: int, fan_out: int, nonlinearity: str | None = None,
    std: float = 1.0, a: float = 1.0, negative_slope: float = 0.01, *, activation: str | None = None,
) -> float:
    """Standard deviation of the weights a scheme draws for a (fan_out x fan_in) layer.

    The formula, not a sample (the table in :mod:`coursekit.init`): Xavier
    ``g * sqrt(2 / (fan_in + fan_out))``, He ``g / sqrt(fan_in)``, a uniform
    U(-b, b) has std ``b / sqrt(3)``. The gain ``g`` follows
    :func:`resolve_scheme` (``activation``: the network's, if any).

    Introduced in ``notebooks/04_initialization.ipynb``.
    """
    scheme = check_choice("scheme", scheme, SCHEME_NAMES)
    fan_in = check_int("fan_in", fan_in, minimum=1)
    fan_out = check_int("fan_out", fan_out, minimum=1)
    scheme, nonlinearity = resolve_scheme(scheme, activation, nonlinearity)
    negative_slope = check_float("negative_slope", negative_slope, 0.0, finite=True)
    if scheme in ("zeros", "constant"):
        return 0.0
    if scheme == "normal":
        return check_float("std", std, 0.0, finite=True)
    if scheme == "uniform":
        return check_float("a", a, 0.0, finite=True) / math.sqrt(3)
    if scheme.startswith("xavier"):
        return gain(nonlinearity, negative_slope) * math.sqrt(2.0 / (fan_in + fan_out))
    if scheme.startswith("kaiming"):
        return gain(nonlinearity, negative_slope) / math.sqrt(fan_in)
    return 1.0 / math.sqrt(fan_in) / math.sqrt(3)  # pytorch_default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))


def _fans(w: torch.Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight (out, in, *kernel): a convolution's fans count the kernel's positions."""
    receptive_field = math.prod(w.shape[2:])
    return w.shape[1] * receptive_field, w.shape[0] * receptive_field


@torch.no_grad()
def init_weight_(
    w: torch.Tensor, scheme: str, *, g: float = 1.0, std: float = 1.0, a: float = 1.0, value: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Fill one weight tensor in place by ``scheme`` with gain ``g``; the formulas written out.

    The same arithmetic as ``torch.nn.init``'s functions, so the same numbers
    (the tests compare them bit for bit). ``generator``: draw from it instead of
    PyTorch's global random state. Arguments are not checked: :func:`initialize`
    is the door.

    Introduced in ``notebooks/04_initialization.ipynb``.
    """
    if scheme == "zeros":
        return w.zero_()
    if scheme == "constant":
        return w.fill_(value)
    if scheme == "normal":
        return w.normal_(0.0, std, generator=generator)
    if scheme == "uniform":
        return w.uniform_(-a, a, generator=generator)
    if w.numel() == 0:
        return w
    fan_in, fan_out = _fans(w)
    if scheme == "xavier_normal":    # Glorot & Bengio: Var(w) = g² · 2 / (fan_in + fan_out)
        std = g * math.sqrt(2.0 / float(fan_in + fan_out))
        return w.normal_(0.0, std, generator=generator)
    if scheme == "xavier_uniform":   # the same variance from U(-b, b): b = √3 · std
        std = g * math.sqrt(2.0 / float(fan_in + fan_out))
        bound = math.sqrt(3.0) * std
        return w.uniform_(-bound, bound, generator=generator)
    if scheme == "kaiming_normal":   # He et al.: Var(w) = g² / fan_in (g² = 2 for ReLU)
        std = g / math.sqrt(fan_in)
        return w.normal_(0, std, generator=generator)
    if scheme == "kaiming_uniform":  # the same variance from U(-b, b)
        std = g / math.sqrt(fan_in)
        bound = math.sqrt(3.0) * std
        return w.uniform_(-bound, bound, generator=generator)
    # pytorch_default, nn.Linear's weights: He uniform with the gain of leaky_relu(a=√5), so b = 1/√fan_in
    std = nn.init.calculate_gain("leaky_relu", math.sqrt(5)) / math.sqrt(fan_in)
    bound = math.sqrt(3.0) * std
    return w.uniform_(-bound, bound, generator=generator)


def initialize(
    model: nn.Module,
    scheme: str,
    *,
    nonlinearity: str | None = None,
    std: float = 1.0,
    a: float = 1.0,
    value: float = 0.0,
    negative_slope: float | None = None,
    bias: str | float = "zeros",
    seed: int | None = None,
) -> nn.Module:
    """Re-initialize every ``nn.Linear`` (and ``nn.Conv*d``) weight of ``model`` in place.

    Args:
        model: the network; its BatchNorm layers are left alone.
        scheme: "zeros", "constant" (``value``), "normal" (N(0, std^2)),
            "uniform" (U(-a, a)), "xavier_uniform", "xavier_normal",
            "kaiming_uniform", "kaiming_normal" (He), "he" (He normal, ReLU's gain),
            or "pytorch_default" (what ``nn.Linear`` does: ``kaiming_uniform_``
            with ``a=sqrt(5)``, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), biases too).
        nonlinearity: the activation that follows, for the gain of the Xavier and
            He schemes: "relu", "leaky_relu", "tanh", "sigmoid", "linear", "selu".
            Default (None): the course's one rule (:mod:`coursekit.init`): Xavier
            with gain 1; He with the gain of the model's activation (the one kind
            of activation module it holds; ReLU's if it holds none).
        std: standard deviation for "normal".
        a: bound for "uniform".
        value: the constant for "constant".
        negative_slope: LeakyReLU slope for the "leaky_relu" gain (default: the
            model's LeakyReLU's own slope, else 0.01).
        bias: "zeros" (default), "keep" (leave as is) or a number to fill biases with.
        seed: if given, draw from ``torch.manual_seed(seed)`` without disturbing
            the global random state.

    Returns:
        ``model`` itself, for chaining.

    Introduced in ``notebooks/04_initialization.ipynb``.
    """
    check_module("model", model)
    key = check_choice("scheme", scheme, SCHEME_NAMES)
    activation, model_slope = _model_activation(model) if key.startswith("kaiming") and nonlinearity is None \
        else (None, None)
    scheme, nonlinearity = resolve_scheme(key, activation, nonlinearity)
    std = check_float("std", std, 0.0, finite=True)
    a = check_float("a", a, 0.0, finite=True)
    value = check_float("value", value, finite=True)
    if negative_slope is None:
        negative_slope = 0.01 if model_slope is None else model_slope
    negative_slope = check_float("negative_slope", negative_slope, 0.0, finite=True)
    if isinstance(bias, str):
        bias = check_choice("bias", bias, ("zeros", "keep"))
    else:
        bias = check_float("bias", bias, finite=True)
    if seed is not None:
        seed = check_int("seed", seed, minimum=0)
    layers = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))]
    if not layers:
        raise ValueError("model has no nn.Linear or nn.Conv layer to initialize")
    g = 1.0 if nonlinearity is None else gain(nonlinearity, negative_slope)

    def apply() -> None:
        with torch.no_grad():
            for layer in layers:
                if scheme == "pytorch_default":
                    layer.reset_parameters()
                    continue
                init_weight_(layer.weight, scheme, g=g, std=std, a=a, value=value)
                if layer.bias is not None:
                    if bias == "zeros":
                        layer.bias.zero_()
                    elif bias != "keep":
                        layer.bias.fill_(float(bias))

    if seed is None:
        apply()
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            apply()
    return model


_SCHEME_LABELS = {
    "zeros": "zeros",
    "constant": "constant {value:g}",
    "normal": "N(0, {std:g}²)",
    "uniform": "U(±{a:g})",
    "xavier_uniform": "Xavier uniform",
    "xavier_normal": "Xavier normal",
    "kaiming_uniform": "He uniform",
    "kaiming_normal": "He normal",
    "pytorch_default": "PyTorch default",
}


def scheme_label(scheme: str, std: float = 1.0, a: float = 1.0, value: float = 0.0) -> str:
    """A short name for a scheme in legends, e.g. "He normal" or "N(0, 0.01²)".

    Introduced in ``notebooks/04_initialization.ipynb``.
    """
    scheme = check_choice("scheme", scheme, SCHEMES)
    return _SCHEME_LABELS[scheme].format(std=std, a=a, value=value)
