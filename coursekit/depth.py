"""Signal through depth: a signal sent up, and a gradient down, deep stacks at initialization.

Introduced in ``notebooks/04_initialization.ipynb``: the experiment behind Glorot &
Bengio's Fig. 6/7 and He et al.'s derivation, for every scheme of :mod:`coursekit.init`
(whose :func:`~coursekit.init.resolve_scheme` decides the gains, as everywhere else).
``coursekit.plots.plot_depth_profiles``, ``plot_depth_histograms`` and
``plot_signal_through_depth`` (the notebook's widget) draw what it returns.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ._checks import check_choice, check_float, check_int
from .init import SCHEME_NAMES, gain, init_weight_, resolve_scheme, scheme_label

__all__ = ["DEPTH_ACTIVATIONS", "DepthSignal", "signal_through_depth"]

#: Activations that :func:`signal_through_depth` knows (with their derivative).
DEPTH_ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "identity")


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
