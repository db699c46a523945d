"""Weight initialization schemes by name, built on ``torch.nn.init``, and the experiment behind them.

Introduced in ``notebooks/04_initialization.ipynb`` (and used from notebook 00 on).

- :func:`initialize` applies a scheme to every Linear/Conv layer of a model;
  :func:`expected_std` gives the formula for a layer shape.
- :func:`signal_through_depth` sends a signal up and a gradient down a deep
  stack at initialization (Glorot & Bengio's Fig. 6/7, He et al.'s derivation);
  :func:`plot_depth_profiles`, :func:`plot_depth_histograms` and
  :func:`plot_signal_through_depth` (the notebook's widget) draw it.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ._checks import check_choice, check_float, check_int, check_module

__all__ = [
    "DEPTH_ACTIVATIONS",
    "SCHEMES",
    "DepthSignal",
    "deep_stack",
    "expected_std",
    "initialize",
    "plot_depth_histograms",
    "plot_depth_profiles",
    "plot_signal_through_depth",
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

_NONLINEARITIES = ("relu", "leaky_relu", "tanh", "sigmoid", "linear", "selu")


def _default_nonlinearity(scheme: str, nonlinearity: str | None) -> str:
    """PyTorch's conventions when no nonlinearity is named: ``xavier_*_(w)`` uses
    gain 1 ("linear"), ``kaiming_*_(w)`` the ReLU gain sqrt(2)."""
    if nonlinearity is not None:
        return check_choice("nonlinearity", nonlinearity, _NONLINEARITIES)
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
        return check_float("std", std, 0.0)
    if scheme == "uniform":
        return check_float("a", a, 0.0) / math.sqrt(3)
    if scheme.startswith("xavier"):
        return _gain(nonlinearity, negative_slope) * math.sqrt(2.0 / (fan_in + fan_out))
    if scheme.startswith("kaiming"):
        return _gain(nonlinearity, negative_slope) / math.sqrt(fan_in)
    # pytorch_default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    return 1.0 / math.sqrt(fan_in) / math.sqrt(3)


def _init_weight_(
    w: torch.Tensor, scheme: str, *, gain: float, nonlinearity: str, negative_slope: float,
    std: float, a: float, value: float,
) -> None:
    """Fill one weight tensor in place by ``scheme`` (arguments already validated)."""
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
    else:  # pytorch_default, the weight part of nn.Linear.reset_parameters
        nn.init.kaiming_uniform_(w, a=math.sqrt(5))


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
    nonlinearity = _default_nonlinearity(scheme, nonlinearity)
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
    nonlinearity = check_choice("nonlinearity", nonlinearity, _NONLINEARITIES)
    return nonlinearity, _gain(nonlinearity, 0.01)


def deep_stack(
    depth: int, activation: str = "relu", scheme: str = "kaiming_normal", width: int = 128,
    seed: int = 0, *, std: float = 1.0, a: float = 1.0, value: float = 0.0,
    nonlinearity: str | None = None,
) -> nn.Sequential:
    """``depth`` blocks ``Linear(width, width, bias=False) -> activation``, weights from ``scheme``.

    The network that :func:`signal_through_depth` measures, as a real ``nn.Module``
    (to check it with autograd, or to train it). Network ``i`` of
    ``signal_through_depth(..., seed=s)`` has the weights of ``deep_stack(..., seed=s + i)``.

    Args:
        depth: number of blocks, >= 1.
        activation: one of :data:`DEPTH_ACTIVATIONS`.
        scheme: one of :data:`SCHEMES` (see :func:`initialize`).
        width: units per layer, >= 1.
        seed: seed of the weights (the global random state is left alone).
        std, a, value: the parameters of "normal", "uniform" and "constant".
        nonlinearity: the gain used by the Xavier and He schemes. Default
            (``None``): PyTorch's conventions, ``xavier_*_(w)`` with gain 1 (as
            in Glorot & Bengio) and ``kaiming_*_(w, nonlinearity=activation)``.

    Introduced in ``notebooks/04_initialization.ipynb``.
    """
    depth = check_int("depth", depth, minimum=1)
    activation = check_choice("activation", activation, DEPTH_ACTIVATIONS)
    scheme = check_choice("scheme", scheme, SCHEMES)
    width = check_int("width", width, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    nonlinearity, _ = _depth_args(scheme, activation, nonlinearity)
    act_cls = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
               "leaky_relu": lambda: nn.LeakyReLU(0.01), "identity": nn.Identity}[activation]
    with torch.random.fork_rng(devices=[]):  # nn.Linear's own draws must not move the global state
        layers: list[nn.Module] = []
        for _ in range(depth):
            layers += [nn.Linear(width, width, bias=False), act_cls()]
    model = nn.Sequential(*layers)
    return initialize(model, scheme, nonlinearity=nonlinearity, std=std, a=a, value=value, seed=seed)


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
            weights (network ``i`` uses ``seed + i``, like :func:`deep_stack`).
        nets: number of independently initialized networks, 1 to 64. (One network
            of width 128 wanders by a factor ~1.5 over 30 layers; the pooled
            value of 8 stays close to the expectation. The defaults, 8 nets of 16
            inputs, cost as much as one net of 128 inputs.)
        std, a, value: parameters of "normal" (std), "uniform" (bound a) and "constant".
        nonlinearity: the gain of the Xavier and He schemes; default PyTorch's
            conventions (see :func:`deep_stack`).
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
    std = check_float("std", std, 0.0)
    a = check_float("a", a, 0.0)
    value = check_float("value", value)
    samples = check_int("samples", samples, minimum=1)
    nonlinearity, gain = _depth_args(scheme, activation, nonlinearity)

    # The weights, drawn exactly as initialize() / deep_stack() draw them.
    weights = torch.empty(nets, depth, width, width)
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        for i in range(nets):
            torch.manual_seed(seed + i)
            for layer in range(depth):
                _init_weight_(weights[i, layer], scheme, gain=gain, nonlinearity=nonlinearity,
                              negative_slope=0.01, std=std, a=a, value=value)
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


def _check_signal(name: str, value) -> DepthSignal:
    if not isinstance(value, DepthSignal):
        raise TypeError(f"{name} must be a DepthSignal (what signal_through_depth returns); "
                        f"got {type(value).__name__}")
    return value


def plot_depth_profiles(
    signals: Sequence[DepthSignal] | DepthSignal,
    quantity: str = "activation",
    ax=None,
    labels: Sequence[str] | None = None,
    each_net: bool = True,
    title: str | None = None,
):
    """Std per layer, relative to the input (activations) or to the top (gradients), log scale.

    One thick line per :class:`DepthSignal` (pooled over its networks; dashed
    for the uniform schemes, so they stay visible over their normal twins), thin
    lines for the single networks (``each_net``), and a grey band for "within a
    factor of 2". Glorot & Bengio's and He et al.'s quantity, layer by layer.

    Args:
        signals: one or more results of :func:`signal_through_depth`.
        quantity: "activation" (std of ``x_l`` / std of the input) or "gradient"
            (std of ``dL/dx_l`` / std of the gradient sent in at the top).
        ax: draw into this Axes instead of a new figure.
        labels: legend entries (default: each signal's label).
        each_net: also draw every single network, thin and faint.
        title: axis title (default: what is plotted).

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/04_initialization.ipynb``.
    """
    import matplotlib.pyplot as plt

    from .plots import color

    if isinstance(signals, DepthSignal):
        signals = [signals]
    signals = [_check_signal(f"signals[{i}]", s) for i, s in enumerate(signals)]
    if not signals:
        raise ValueError("signals is empty: pass at least one DepthSignal")
    quantity = check_choice("quantity", quantity, ("activation", "gradient"))
    labels = [s.label for s in signals] if labels is None else list(labels)
    if len(labels) != len(signals):
        raise ValueError(f"got {len(labels)} labels for {len(signals)} signals")
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(5, 3.2))
    else:
        fig = ax.figure
    depth = max(s.depth for s in signals)
    ax.axhspan(0.5, 2.0, color="0.85", alpha=0.5, lw=0, label="within ×2")
    ax.axhline(1.0, color="0.5", lw=0.8)
    for i, (s, lab) in enumerate(zip(signals, labels)):
        c = color(s.scheme, i) if len({x.scheme for x in signals}) == len(signals) else color("", i)
        layers = np.arange(s.depth + 1)
        if quantity == "activation":
            ratio, nets = s.act_ratio, s.act_std_nets / s.act_std[0]
        else:
            ratio, nets = s.grad_ratio, s.grad_std_nets / s.grad_std[-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(ratio > 0, ratio, np.nan)
            nets = np.where(nets > 0, nets, np.nan)
        ls = "--" if s.scheme.endswith("uniform") else "-"  # uniform twins stay visible over normal ones
        if each_net and s.nets > 1:
            ax.plot(layers, nets.T, color=c, lw=0.6, alpha=0.35)
        ax.plot(layers, ratio, color=c, lw=2, ls=ls, label=lab, zorder=3 if ls == "--" else 2)
    ax.set_yscale("log")
    _include_band(ax)
    ax.set_xlim(0, depth)
    _few_xticks(ax, 6)
    what = "activation std / input std" if quantity == "activation" else "gradient std / top gradient std"
    ax.set(xlabel="layer (0 = input)", ylabel=what)
    ax.set_title(title if title is not None else
                 ("activations, forward" if quantity == "activation" else "gradients, backward"))
    _log_ticks(ax)
    ax.legend(fontsize=8, loc="best" if own else "lower left")
    if own:
        fig.tight_layout()
    return fig


def _log_ticks(ax) -> None:
    """Readable log-scale ticks: plain numbers over a short range, a few decades over a long one.

    (Also fast: few tick labels and no minor labels, which matters in a widget.)
    """
    from matplotlib.ticker import (
        FixedLocator,
        FuncFormatter,
        LogLocator,
        NullFormatter,
        NullLocator,
    )

    lo, hi = ax.get_ylim()
    if hi / max(lo, 1e-300) < 30:
        ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10) if lo <= t <= hi] or [1]
        ax.yaxis.set_major_locator(FixedLocator(ticks))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_locator(NullLocator())
    else:
        ax.yaxis.set_major_locator(LogLocator(base=10, numticks=6))
        ax.yaxis.set_major_formatter(FuncFormatter(_power_of_ten))
        ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_minor_formatter(NullFormatter())


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power_of_ten(value: float, _pos=None) -> str:
    """"10⁻⁵" in plain unicode (no mathtext: it is parsed anew on every redraw, slowly)."""
    if value <= 0:
        return ""
    exponent = round(math.log10(value))
    if exponent == 0:
        return "1"
    return "10" + str(exponent).translate(_SUPERSCRIPT)


def _include_band(ax) -> None:
    """Make the y range show at least [0.3, 3] so the factor-2 band is always in view."""
    lo, hi = ax.get_ylim()
    ax.set_ylim(min(lo, 0.3), max(hi, 3.0))


def _default_layers(depth: int, count: int = 5) -> list[int]:
    return sorted({round(float(v)) for v in np.linspace(1, depth, min(count, depth))})


def plot_depth_histograms(
    signal: DepthSignal,
    quantity: str = "activation",
    layers: Sequence[int] | None = None,
    ax=None,
    bins: int = 30,
    title: str | None = None,
    legend: bool = True,
):
    """Histograms of a few layers' values on one common axis (Glorot & Bengio Fig. 6/7).

    Picks the values of a :class:`DepthSignal` and draws them with
    :func:`coursekit.plots.plot_layer_histograms`. The x range is the same for
    every layer (three stds of the widest layer shown; [-1, 1] at most for
    tanh), so a layer whose signal vanished is a spike at 0 and an exploding
    one spreads flat. For ReLU activations the exact zeros (about half of
    them) are left out and the axis starts at 0.

    Args:
        signal: a result of :func:`signal_through_depth`.
        quantity: "activation" (``x_l``) or "gradient" (``dL/dx_l``).
        layers: which layers (0..depth); default five evenly spaced from 1 to depth.
        ax: draw into this Axes instead of a new figure.
        bins: number of bins, >= 2.
        title: axis title.
        legend: keep the legend (layer numbers).

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/04_initialization.ipynb``.
    """
    from matplotlib.ticker import MaxNLocator

    from .plots import plot_layer_histograms

    signal = _check_signal("signal", signal)
    quantity = check_choice("quantity", quantity, ("activation", "gradient"))
    bins = check_int("bins", bins, minimum=2)
    if layers is None:
        layers = _default_layers(signal.depth)
    layers = [check_int(f"layers[{i}]", v, minimum=0, maximum=signal.depth) for i, v in enumerate(layers)]
    if not layers:
        raise ValueError("layers is empty: pass at least one layer index")
    data = signal.act_samples if quantity == "activation" else signal.grad_samples
    relu_like = quantity == "activation" and signal.activation == "relu"
    values = {}
    for layer in layers:
        v = data[layer].astype(np.float64)
        v = v[np.isfinite(v) & (v != 0)] if relu_like else v[np.isfinite(v)]
        values[f"layer {layer}"] = v if v.size else np.zeros(1)
    if quantity == "activation" and signal.activation == "sigmoid":
        centre = 0.5
    elif quantity == "activation" and not relu_like and signal.activation not in ("tanh",):
        centre = float(np.mean(np.concatenate(list(values.values()))))
    else:
        centre = 0.0
    spread = 3 * max(float(np.sqrt(np.mean((v - centre) ** 2))) for v in values.values())
    if quantity == "activation" and signal.activation in ("tanh", "sigmoid"):
        spread = min(spread, 1.0 if signal.activation == "tanh" else 0.5)
    spread = max(spread, 1e-300)
    lo, hi = (0.0, spread) if relu_like else (centre - spread, centre + spread)
    name = "activation value" if quantity == "activation" else "back-propagated gradient"
    xlabel = name + (" > 0" if relu_like else "")
    fig = plot_layer_histograms(values, ax=ax, bins=bins, value_range=(lo, hi), xlabel=xlabel)
    ax = fig.axes[0] if ax is None else ax
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
    ax.ticklabel_format(axis="both", style="sci", scilimits=(-2, 3))
    if title is not None:
        ax.set_title(title + (" (ReLU's zeros left out)" if relu_like else ""), fontsize=10)
    if not legend and ax.get_legend() is not None:
        ax.get_legend().remove()
    return fig


def plot_signal_through_depth(
    depth: int = 30,
    activation: str = "relu",
    scheme: str = "kaiming_normal",
    *,
    std: float = 1.0,
    width: int = 128,
    n: int = 16,
    nets: int = 8,
    seed: int = 0,
    layers: Sequence[int] | None = None,
    gradients: bool = True,
    fig=None,
):
    """One setting in one figure: std per layer (forward and backward) and per-layer histograms.

    The function behind the notebook's widget and its static figures. It calls
    :func:`signal_through_depth`, then draws the std of the activations (solid)
    and of the back-propagated gradients (dashed) per layer, relative to where
    each entered, and :func:`plot_depth_histograms` of the activations (and of
    the gradients if ``gradients``).

    Args:
        depth, activation, scheme, std, width, n, nets, seed: see :func:`signal_through_depth`.
        layers: layers shown in the histograms (default five evenly spaced).
        gradients: add a third panel with the gradients' histograms.
        fig: a Figure this function returned before, to redraw into (what the
            widget does; see :func:`coursekit.plots.panels`); default a new one.

    Returns:
        The matplotlib Figure (two or three panels).

    Introduced in ``notebooks/04_initialization.ipynb``.
    """
    from .plots import color, panels

    if not isinstance(gradients, bool):
        raise TypeError(f"gradients must be True or False; got {gradients!r}")
    sig = signal_through_depth(depth, activation, scheme, width, n, seed, nets=nets, std=std)
    n_panels = 3 if gradients else 2
    fig, axes = panels(n_panels, (4 * n_panels, 3.2), fig=fig)
    ax = axes[0]
    c = color(sig.scheme)
    steps = np.arange(sig.depth + 1)
    ax.axhspan(0.5, 2.0, color="0.85", alpha=0.5, lw=0, label="within ×2")
    ax.axhline(1.0, color="0.5", lw=0.8)
    with np.errstate(divide="ignore", invalid="ignore"):
        act = np.where(sig.act_ratio > 0, sig.act_ratio, np.nan)
        grad = np.where(sig.grad_ratio > 0, sig.grad_ratio, np.nan)
    ax.plot(steps, act, color=c, lw=2, label="activations")
    ax.plot(steps, grad, color=c, lw=2, ls="--", label="gradients")
    ax.set_yscale("log")
    _include_band(ax)
    _log_ticks(ax)
    _few_xticks(ax)
    ax.set(xlim=(0, sig.depth), xlabel="layer (0 = input)", ylabel="std / std where it entered")
    ax.set_title(f"{sig.label}, {sig.activation}", fontsize=10)
    ax.legend(fontsize=8, loc="best")
    plot_depth_histograms(sig, "activation", layers, ax=axes[1], title="activations")
    if gradients:
        plot_depth_histograms(sig, "gradient", layers, ax=axes[2], title="gradients", legend=False)
    # fixed margins instead of tight_layout: a widget redraws this figure, keep it fast
    fig.subplots_adjust(left=0.08 if gradients else 0.1, right=0.99, bottom=0.16, top=0.9, wspace=0.3)
    return fig


def _few_xticks(ax, n: int = 4) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=n, integer=True))
