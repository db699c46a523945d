"""Weight initialization schemes by name, built on ``torch.nn.init``, and the experiment behind them.

Introduced in ``notebooks/04_initialization.ipynb`` (and used from notebook 00 on).

- :func:`initialize` applies a scheme to every Linear/Conv layer of a model;
  :func:`expected_std` gives the formula for a layer shape.
- :func:`signal_through_depth` sends a signal up and a gradient down a deep
  stack at initialization (Glorot & Bengio's Fig. 6/7, He et al.'s derivation);
  ``coursekit.plots.plot_depth_profiles``, ``plot_depth_histograms`` and
  ``plot_signal_through_depth`` (the notebook's widget) draw it.

The vocabulary of initialization lives here once: :data:`SCHEMES` (with the
short name "he" in :data:`ALIASES`), :data:`NONLINEARITIES` for the gains, and
:func:`gain_nonlinearity`, the activation-to-gain map that
:func:`coursekit.models.mlp` and the recipes of notebook 08 use.
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
    "gain_nonlinearity",
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


def gain_nonlinearity(activation: str) -> str:
    """The gain :func:`initialize` should use for a network with this activation.

    The activation's own name where PyTorch defines a gain for it ("relu",
    "leaky_relu", "tanh", "sigmoid"), else "linear" (gain 1).

    Introduced in ``notebooks/04_initialization.ipynb``.
    """
    return activation if activation in ("relu", "leaky_relu", "tanh", "sigmoid") else "linear"


def resolve_scheme(name: str, activation: str) -> tuple[str, str]:
    """``(scheme, nonlinearity)`` for an initialization named in a network's settings.

    "Xavier" means one thing everywhere in the course: Glorot & Bengio's scheme
    with gain 1 (``xavier_uniform_(w)``, whatever the activation). The He schemes
    get the gain of the network's ``activation`` (:func:`gain_nonlinearity`), as
    ``kaiming_normal_(w, nonlinearity=activation)``; an alias of :data:`ALIASES`
    brings its own gain; the other schemes use none ("linear").

    Introduced in ``notebooks/08_putting_it_together.ipynb``.
    """
    key = check_choice("init", name, SCHEME_NAMES)
    if key in ALIASES:
        return ALIASES[key]
    if key.startswith("kaiming"):
        return key, gain_nonlinearity(activation)
    return key, "linear"


def _default_nonlinearity(scheme: str, nonlinearity: str | None) -> str:
    """PyTorch's conventions when no nonlinearity is named: ``xavier_*_(w)`` uses
    gain 1 ("linear"), ``kaiming_*_(w)`` the ReLU gain sqrt(2)."""
    if nonlinearity is not None:
        return check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
    return "linear" if scheme.startswith("xavier") else "relu"


def _gain(nonlinearity: str, negative_slope: float) -> float:
    if nonlinearity == "leaky_relu":
        return nn.init.calculate_gain("leaky_relu", negative_slope)
    return nn.init.calculate_gain(nonlinearity)


def expected_std(
    scheme: str, fan_in: int, fan_out: int, nonlinearity: str | None = None,
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
    nonlinearity = _default_nonlinearity(scheme, nonlinearity)
    if scheme in ("zeros", "constant"):
        return 0.0
    if scheme == "normal":
        return check_float("std", std, 0.0, finite=True)
    if scheme == "uniform":
        return check_float("a", a, 0.0, finite=True) / math.sqrt(3)
    if scheme.startswith("xavier"):
        return _gain(nonlinearity, negative_slope) * math.sqrt(2.0 / (fan_in + fan_out))
    if scheme.startswith("kaiming"):
        return _gain(nonlinearity, negative_slope) / math.sqrt(fan_in)
    # pytorch_default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    return 1.0 / math.sqrt(fan_in) / math.sqrt(3)


def _init_weight_(
    w: torch.Tensor, scheme: str, *, gain: float, nonlinearity: str, negative_slope: float,
    std: float, a: float, value: float, generator: torch.Generator | None = None,
) -> None:
    """Fill one weight tensor in place by ``scheme`` (arguments already validated).

    ``generator``: draw from it instead of PyTorch's global generator (the same numbers as
    after ``torch.manual_seed`` with the generator's seed, without the cost of reseeding).
    """
    g = generator
    if scheme == "zeros":
        nn.init.zeros_(w)
    elif scheme == "constant":
        nn.init.constant_(w, value)
    elif scheme == "normal":
        nn.init.normal_(w, 0.0, std, generator=g)
    elif scheme == "uniform":
        nn.init.uniform_(w, -a, a, generator=g)
    elif scheme == "xavier_uniform":
        nn.init.xavier_uniform_(w, gain=gain, generator=g)
    elif scheme == "xavier_normal":
        nn.init.xavier_normal_(w, gain=gain, generator=g)
    elif scheme == "kaiming_uniform":
        nn.init.kaiming_uniform_(w, a=negative_slope if nonlinearity == "leaky_relu" else 0,
                                 nonlinearity=nonlinearity, generator=g)
    elif scheme == "kaiming_normal":
        nn.init.kaiming_normal_(w, a=negative_slope if nonlinearity == "leaky_relu" else 0,
                                nonlinearity=nonlinearity, generator=g)
    else:  # pytorch_default, the weight part of nn.Linear.reset_parameters
        nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=g)


def initialize(
    model: nn.Module,
    scheme: str,
    *,
    nonlinearity: str | None = None,
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
            Default (None) follows PyTorch: Xavier with gain 1 (as
            ``xavier_uniform_(w)`` and Glorot & Bengio's paper), He with ReLU's
            gain sqrt(2) (as ``kaiming_normal_(w)``).
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
    if nonlinearity is not None and not scheme.startswith(("xavier", "kaiming")):
        raise ValueError(f"nonlinearity={nonlinearity!r} has no effect on scheme {scheme!r}: only the Xavier and "
                         "He (kaiming) schemes use a gain; leave nonlinearity out")
    nonlinearity = _default_nonlinearity(scheme, nonlinearity)
    std = check_float("std", std, 0.0, finite=True)
    a = check_float("a", a, 0.0, finite=True)
    value = check_float("value", value, finite=True)
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
    gain = _gain(nonlinearity, negative_slope)

    def apply() -> None:
        with torch.no_grad():
            for layer in layers:
                if scheme == "pytorch_default":
                    layer.reset_parameters()
                    continue
                _init_weight_(layer.weight, scheme, gain=gain, nonlinearity=nonlinearity,
                              negative_slope=negative_slope, std=std, a=a, value=value)
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


def _depth_args(scheme: str, activation: str, nonlinearity: str | None) -> tuple[str, float]:
    """The nonlinearity and gain used for the Xavier and He schemes (PyTorch's conventions by default)."""
    if nonlinearity is None:
        if scheme.startswith("kaiming"):
            nonlinearity = "linear" if activation == "identity" else activation
        else:
            nonlinearity = "linear"
    nonlinearity = check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
    return nonlinearity, _gain(nonlinearity, 0.01)


#: Recently drawn weights of :func:`signal_through_depth`, by setting (the widget redraws the same
#: networks at other depths: depth d's weights are the first d layers of a deeper stack's).
_WEIGHT_CACHE: dict[tuple, torch.Tensor] = {}
_CACHE_ENTRIES, _CACHE_MAX_ELEMENTS = 6, 4_000_000


def _depth_weights(nets: int, depth: int, width: int, seed: int, scheme: str, gain: float,
                   nonlinearity: str, std: float, a: float, value: float) -> torch.Tensor:
    """The (nets, depth, width, width) float64 weights, drawn exactly as initialize() draws them:
    network ``i`` from seed ``seed + i``, layer after layer. Cached, and a shallower request reuses
    the first layers of a deeper stack drawn before (the same numbers)."""
    key = (scheme, nonlinearity, gain, width, nets, seed, std, a, value)
    cached = _WEIGHT_CACHE.get(key)
    if cached is not None and cached.shape[1] >= depth:
        return cached[:, :depth]
    weights = torch.empty(nets, depth, width, width)
    with torch.no_grad():
        for i in range(nets):
            gen = torch.Generator().manual_seed(seed + i)
            for layer in range(depth):
                _init_weight_(weights[i, layer], scheme, gain=gain, nonlinearity=nonlinearity,
                              negative_slope=0.01, std=std, a=a, value=value, generator=gen)
    weights = weights.to(torch.float64)
    if weights.numel() <= _CACHE_MAX_ELEMENTS:
        _WEIGHT_CACHE.pop(key, None)
        while len(_WEIGHT_CACHE) >= _CACHE_ENTRIES:
            _WEIGHT_CACHE.pop(next(iter(_WEIGHT_CACHE)))
        _WEIGHT_CACHE[key] = weights
    return weights


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
        scheme: a scheme of :data:`SCHEMES`.
        width: units per layer, >= 2.
        n: number of inputs, >= 2.
        seed: seed of the input, the top gradient and the first network's
            weights (network ``i`` uses ``seed + i``: its weights are those of
            ``ck.models.mlp([width] * (depth + 1), activation, bias=False, head=False,
            init=scheme, nonlinearity=..., seed=seed + i)``).
        nets: number of independently initialized networks, 1 to 64. (One network
            of width 128 wanders by a factor ~1.5 over 30 layers; the pooled
            value of 8 stays close to the expectation. The defaults, 8 nets of 16
            inputs, cost as much as one net of 128 inputs.)
        std, a, value: parameters of "normal" (std), "uniform" (bound a) and "constant".
        nonlinearity: the gain of the Xavier and He schemes; default PyTorch's
            conventions: ``xavier_*_(w)`` with gain 1 (as in Glorot &
            Bengio) and ``kaiming_*_(w, nonlinearity=activation)``.
        samples: values kept per layer for histograms, >= 1.

    Returns:
        A :class:`DepthSignal`.

    Introduced in ``notebooks/04_initialization.ipynb``.
    """
    depth = check_int("depth", depth, minimum=1, maximum=500)
    activation = check_choice("activation", activation, DEPTH_ACTIVATIONS)
    scheme = check_choice("scheme", scheme, SCHEMES)
    width = check_int("width", width, minimum=2)
    n = check_int("n", n, minimum=2)
    seed = check_int("seed", seed, minimum=0)
    nets = check_int("nets", nets, minimum=1, maximum=64)
    std = check_float("std", std, 0.0, finite=True)
    a = check_float("a", a, 0.0, finite=True)
    value = check_float("value", value, finite=True)
    samples = check_int("samples", samples, minimum=1)
    nonlinearity, gain = _depth_args(scheme, activation, nonlinearity)

    weights = _depth_weights(nets, depth, width, seed, scheme, gain, nonlinearity, std, a, value)
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
