"""Weight initialization schemes by name, the one rule for their gains, and the experiment behind them.

Introduced in ``notebooks/04_initialization.ipynb`` (and used from notebook 00 on).

- :func:`initialize` applies a scheme to every Linear/Conv layer of a model;
  :func:`expected_std` gives the formula for a layer shape. Xavier (Glorot &
  Bengio, 2010) and He (Kaiming He et al., 2015) are written out in
  :func:`init_weight_`, three lines each: the fans, the gain, the std (or bound).
- :func:`signal_through_depth` sends a signal up and a gradient down a deep
  stack at initialization (Glorot & Bengio's Fig. 6/7, He et al.'s derivation);
  ``coursekit.plots.plot_depth_profiles``, ``plot_depth_histograms`` and
  ``plot_signal_through_depth`` (the notebook's widget) draw it.

One rule for the gain
---------------------
The Xavier and He schemes scale the weights by a gain ``g`` for the activation
that follows a layer (``torch.nn.init.calculate_gain``). :func:`resolve_scheme`
decides it, the same way for :func:`initialize`, :func:`coursekit.models.mlp`,
:func:`signal_through_depth` and so :func:`coursekit.flow.gradient_flow`:

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
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ._checks import check_choice, check_float, check_int, check_module

__all__ = [
    "DEPTH_ACTIVATIONS",
    "SCHEMES",
    "ALIASES",
    "NONLINEARITIES",
    "SCHEME_NAMES",
    "DepthSignal",
    "expected_std",
    "gain",
    "gain_nonlinearity",
    "init_weight_",
    "initialize",
    "resolve_scheme",
    "scheme_label",
    "signal_through_depth",
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


# --------------------------------------------------------------------------- signal through depth

#: Activations that :func:`signal_through_depth` knows (with their derivative).
DEPTH_ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "identity")

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


@dataclass(repr=False)
class DepthSignal:
    """Per-layer statistics of deep stacks of ``Linear -> activation`` blocks at initialization.

    Layer 0 is the input; layer ``l`` (1..depth) is the output ``x_l`` of the
    ``l``-th block. Every array has ``depth + 1`` entries along its last axis.

    Attributes:
        activation, scheme, width, n, nets: what was simulated (``n`` inputs
            through ``nets`` independently initialized networks).
        label: a short name for legends, e.g. "He normal".
        act_std: std of each layer's output ``x_l``, pooled over the networks
            (index 0: the input).
        pre_std: pooled std of each pre-activation ``y_l = W_l x_{l-1}`` (index 0: NaN).
        grad_std: pooled std of the back-propagated gradient ``dL/dx_l``
            (index ``depth``: the unit-variance gradient sent in at the top).
        act_std_nets, grad_std_nets: the same per network, shape ``(nets, depth + 1)``.
        act_samples, grad_samples: ``(depth + 1, k)`` float32 values of ``x_l`` and
            ``dL/dx_l`` (the same positions in every layer), for histograms.

    Introduced in ``notebooks/04_initialization.ipynb``.
    """

    activation: str
    scheme: str
    width: int
    n: int
    nets: int
    label: str
    act_std: np.ndarray
    pre_std: np.ndarray
    grad_std: np.ndarray
    act_std_nets: np.ndarray
    grad_std_nets: np.ndarray
    act_samples: np.ndarray
    grad_samples: np.ndarray

    @property
    def depth(self) -> int:
        """Number of ``Linear -> activation`` blocks."""
        return len(self.act_std) - 1

    @property
    def act_ratio(self) -> np.ndarray:
        """``act_std`` divided by the input's std (1 = the signal kept its size)."""
        return self.act_std / self.act_std[0]

    @property
    def grad_ratio(self) -> np.ndarray:
        """``grad_std`` divided by the std of the gradient sent in at the top."""
        return self.grad_std / self.grad_std[-1]

    def __repr__(self) -> str:
        return (f"DepthSignal({self.label}, {self.activation}, {self.depth} layers of {self.width}, "
                f"{self.nets} nets: output/input std {self.act_ratio[-1]:.3g}, "
                f"bottom/top gradient std {self.grad_ratio[0]:.3g})")


def _act_and_slope(name: str, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The activation ``f(y)`` and its derivative ``f'(y)``."""
    if name == "relu":
        return torch.relu(y), (y > 0).to(y.dtype)
    if name == "leaky_relu":
        slope = (y > 0).to(y.dtype).mul_(0.99).add_(0.01)
        return y * slope, slope
    if name == "tanh":
        t = torch.tanh(y)
        return t, 1.0 - t * t
    if name == "sigmoid":
        s = torch.sigmoid(y)
        return s, s * (1.0 - s)
    return y, torch.ones_like(y)  # identity


def signal_through_depth(
    depth: int = 30,
    activation: str = "relu",
    scheme: str = "kaiming_normal",
    width: int = 128,
    n: int = 16,
    seed: int = 0,
    *,
    nets: int = 8,
    std: float = 1.0,
    a: float = 1.0,
    value: float = 0.0,
    nonlinearity: str | None = None,
    samples: int = 4000,
) -> DepthSignal:
    """Send a unit-variance signal up, and a unit-variance gradient down, deep stacks at initialization.

    The experiment behind Glorot & Bengio's Fig. 6/7 and He et al.'s derivation:
    ``n`` inputs ``x_0 ~ N(0, 1)`` go through ``depth`` blocks
    ``x_l = f(y_l)``, ``y_l = W_l x_{l-1}`` of ``width`` units (no biases,
    weights drawn by ``scheme``); a gradient ``dL/dx_depth ~ N(0, 1)`` is sent
    back by the chain rule, ``dL/dx_{l-1} = W_l^T (f'(y_l) * dL/dx_l)``.

    The derivations speak of *expected* variances over random weights; one
    finite network wanders around them, so the statistics are pooled over
    ``nets`` independently drawn networks (each also reported alone). Computed
    in float64, so an exploding signal shows its size instead of overflowing.
    The input and the top gradient depend only on ``seed``, not on the scheme:
    schemes are compared on the same data.

    Args:
        depth: number of blocks, 1 to 500.
        activation: "relu", "tanh", "sigmoid", "leaky_relu" (slope 0.01) or "identity".
        scheme: a scheme of :data:`SCHEME_NAMES`.
        width: units per layer, >= 2.
        n: number of inputs, >= 2.
        seed: seed of the input, the top gradient and the first network's
            weights (network ``i`` uses ``seed + i``: its weights are those of
            ``ck.models.mlp([width] * (depth + 1), activation, bias=False, head=False,
            init=scheme, nonlinearity=..., seed=seed + i)``).
        nets: number of independently initialized networks, 1 to 64. (One network
            of width 128 wanders by a factor ~1.5 over 30 layers; the pooled
            value of 8 stays close to the expectation.)
        std, a, value: parameters of "normal" (std), "uniform" (bound a) and "constant".
        nonlinearity: the gain of the Xavier and He schemes; default the course's
            one rule (:func:`resolve_scheme`): Xavier with gain 1 (as in Glorot &
            Bengio), He with the gain of ``activation``.
        samples: values kept per layer for histograms, >= 1.

    Returns:
        A :class:`DepthSignal`.

    Introduced in ``notebooks/04_initialization.ipynb``.
    """
    depth = check_int("depth", depth, minimum=1, maximum=500)
    activation = check_choice("activation", activation, DEPTH_ACTIVATIONS)
    scheme, nonlinearity = resolve_scheme(check_choice("scheme", scheme, SCHEME_NAMES), activation, nonlinearity)
    width = check_int("width", width, minimum=2)
    n = check_int("n", n, minimum=2)
    seed = check_int("seed", seed, minimum=0)
    nets = check_int("nets", nets, minimum=1, maximum=64)
    std = check_float("std", std, 0.0, finite=True)
    a = check_float("a", a, 0.0, finite=True)
    value = check_float("value", value, finite=True)
    samples = check_int("samples", samples, minimum=1)
    g = 1.0 if nonlinearity is None else gain(nonlinearity, 0.01)

    # network i's weights: those of ck.models.mlp(..., init=scheme, seed=seed + i), layer after layer
    weights = torch.empty(nets, depth, width, width)
    for i in range(nets):
        gen = torch.Generator().manual_seed(seed + i)
        for layer in range(depth):
            init_weight_(weights[i, layer], scheme, g=g, std=std, a=a, value=value, generator=gen)
    weights = weights.to(torch.float64)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, width, generator=gen, dtype=torch.float64).expand(nets, n, width)
    g = torch.randn(n, width, generator=gen, dtype=torch.float64).expand(nets, n, width)
    total = nets * n * width
    k = min(samples, total)
    pick = torch.arange(k) * (total // k)  # the same positions in every layer

    pres, acts, grads = [], [x], [g]
    slopes = []
    with torch.no_grad():
        for layer in range(depth):
            y = torch.matmul(x, weights[:, layer].transpose(1, 2))
            x, slope = _act_and_slope(activation, y)
            pres.append(y)
            acts.append(x)
            slopes.append(slope)
        for layer in range(depth - 1, -1, -1):
            g = torch.matmul(g * slopes[layer], weights[:, layer])
            grads.append(g)
    grads.reverse()

    def stats(ts: list[torch.Tensor]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        flat = torch.stack(ts).reshape(len(ts), nets, -1)  # (layers, nets, n * width)
        m = flat.mean(dim=2, keepdim=True)
        var_each = (flat - m).square_().mean(dim=2)  # two passes: exact even when std << mean
        m_all = m.mean(dim=1, keepdim=True)
        var_pooled = (var_each + (m - m_all).squeeze(2).square()).mean(dim=1)
        each = var_each.mul_(flat.shape[2] / (flat.shape[2] - 1)).sqrt_().T.numpy()
        pooled = var_pooled.mul_(total / (total - 1)).sqrt_().numpy()
        return pooled, each, flat.reshape(len(ts), -1)[:, pick].to(torch.float32).numpy()

    act_std, act_nets, act_samples = stats(acts)
    grad_std, grad_nets, grad_samples = stats(grads)
    pre_std = np.concatenate([[np.nan], stats(pres)[0]])
    return DepthSignal(
        activation=activation, scheme=scheme, width=width, n=n, nets=nets,
        label=scheme_label(scheme, std=std, a=a, value=value),
        act_std=act_std, pre_std=pre_std, grad_std=grad_std,
        act_std_nets=act_nets, grad_std_nets=grad_nets,
        act_samples=act_samples, grad_samples=grad_samples,
    )
