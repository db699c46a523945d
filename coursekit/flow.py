"""A fresh deep MLP, one forward and backward pass: what flows through it at initialization.

Introduced in ``notebooks/01_vanishing_gradients.ipynb`` (:func:`gradient_flow`, :func:`xor_losses`) and
``notebooks/02_relu.ipynb`` (:func:`activation_curve`, :func:`activation_profile`).

These plain functions compute what the class widgets of notebooks 01 and 02 show
(``coursekit.plots.plot_gradient_flow`` and ``plot_activation_profile`` draw it);
the network is :func:`coursekit.models.mlp`, the measurement
:class:`coursekit.diagnostics.LayerStats`.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import torch
from torch import nn

from ._checks import check_choice, check_float, check_int, check_tensor
from .data import load_digits
from .diagnostics import LayerStats
from .init import SCHEME_NAMES
from .models import ACTIVATIONS, mlp
from .models import activation as make_activation

__all__ = ["gradient_flow", "digits_batch", "activation_curve", "activation_profile", "xor_losses",
           "plateau_and_escape"]


def digits_batch(n_examples: int = 256, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n_examples`` digits of the training split, drawn without replacement by ``seed``: ``(x, y)``.

    The batch :func:`gradient_flow` measures with when it is given no ``x`` and ``y``.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """
    n_examples = check_int("n_examples", n_examples, minimum=1, maximum=1077)
    seed = check_int("seed", seed, minimum=0)
    ds = load_digits()
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(ds.y_train), generator=g)[:n_examples]
    return ds.x_train[idx], ds.y_train[idx]


def gradient_flow(
    depth: int = 6,
    activation: str = "sigmoid",
    init: str = "pytorch_default",
    weight_scale: float = 1.0,
    *,
    width: int = 64,
    seed: int = 0,
    n_examples: int = 256,
    x: torch.Tensor | None = None,
    y: torch.Tensor | None = None,
) -> dict[str, Any]:
    """One forward and backward pass of a fresh deep MLP; per-layer numbers for a picture.

    Builds ``ck.models.mlp([64] + [width] * depth + [10], activation, init=init,
    weight_scale=weight_scale, seed=seed)`` (``depth`` hidden layers), runs a
    batch of digits (or ``x``, ``y``) through it with cross-entropy, and
    records everything with :class:`LayerStats`.

    Args:
        depth: hidden layers, 1-100.
        activation: "sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu" or "identity".
        init: "pytorch_default" (U(+-1/sqrt(fan_in)), Glorot's "standard"),
            "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "he", "normal"
            (N(0, 1)); the gains follow :mod:`coursekit.init`'s one rule (He: the activation's).
        weight_scale: multiply every weight by this after initializing.
        width: units per hidden layer.
        seed: seed of the weights (and of which digits form the batch).
        n_examples: batch size drawn from the digits training split.
        x, y: your own batch instead (``x`` of shape (n, 64) unless you change
            nothing else, ``y`` class indices).

    Returns:
        A dict of plain values, input side first:
        ``weights`` (names "fc1".."out"), ``weight_grad_norm`` (array, one per
        Linear), ``grad_data_ratio``; ``layers`` ("act1"...), ``act_mean``,
        ``act_std``, ``saturated``, ``dead``, ``grad_norm`` (of dL/d activation),
        ``act_values`` and ``grad_values`` (lists of flat arrays, one per
        layer); ``loss`` (float) and the settings; ``overflow``: None, or the
        first layer whose values overflowed float32 (say, ``weight_scale=10``
        past about 20 ReLU layers), which a ``RuntimeWarning`` also names: the
        numbers from there on are inf or NaN.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """
    depth = check_int("depth", depth, minimum=1, maximum=100)
    act_key = check_choice("activation", activation, ACTIVATIONS)
    width = check_int("width", width, minimum=1)
    init = check_choice("init", init, SCHEME_NAMES)
    weight_scale = check_float("weight_scale", weight_scale, 0.0, min_inclusive=False, finite=True)
    seed = check_int("seed", seed, minimum=0)
    n_examples = check_int("n_examples", n_examples, minimum=1, maximum=1077)

    def build(n_in: int = 64, n_out: int = 10) -> nn.Sequential:
        return mlp([n_in] + [width] * depth + [n_out], act_key, init=init, weight_scale=weight_scale, seed=seed)

    model = build()
    if x is None and y is None:
        x, y = digits_batch(n_examples, seed)
    elif x is None or y is None:
        raise ValueError("pass both x and y, or neither (then a digits batch is used)")
    else:
        check_tensor("x", x, ndim=2, finite=True)
        check_tensor("y", y, ndim=1)
        if not x.is_floating_point():
            raise TypeError(f"x must be a floating-point tensor; got {x.dtype}: use x.float()")
        if y.is_floating_point() or y.dtype == torch.bool:
            raise TypeError(f"y must hold class indices as integers (torch.int64); got {y.dtype}: use y.long()")
        if x.shape[0] != y.shape[0] or x.shape[0] == 0:
            raise ValueError(f"x and y must hold the same, non-zero number of examples; got {x.shape[0]} and "
                             f"{y.shape[0]}")
        if int(y.min()) < 0:
            raise ValueError(f"y must hold class indices 0, 1, 2, ...; got the label {int(y.min())}")
        x, y = x.float(), y.long()
        if x.shape[1] != 64 or int(y.max()) >= 10:  # the output layer gets one unit per class
            model = build(int(x.shape[1]), max(int(y.max()) + 1, 10 if x.shape[1] == 64 else 1))
    act_names = [f"act{i}" for i in range(1, depth + 1)]
    with LayerStats(model, layers=act_names, percentiles=()) as stats:
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
    w = stats.weights
    act_std = np.array([stats.act_std[n][-1] for n in act_names])
    overflow = _first_overflow(stats, act_names, float(loss.detach()))
    if overflow is not None:
        finite = act_std[np.isfinite(act_std) & (act_std > 0)]
        per_layer = (finite[-1] / finite[0]) ** (1 / (len(finite) - 1)) if len(finite) > 1 else None
        growth = f" (the activations' std grows about x{per_layer:.3g} per layer)" if per_layer else ""
        warnings.warn(f"gradient_flow(depth={depth}, activation={act_key!r}, init={init!r}, "
                      f"weight_scale={weight_scale:g}): the values overflowed float32 at {overflow}{growth}: the "
                      f"loss and the numbers from {overflow} on are inf or NaN. Lower weight_scale or depth; "
                      f"ck.depth.signal_through_depth computes in float64 and shows how far they grow.",
                      RuntimeWarning, stacklevel=2)
    return {
        "depth": depth, "activation": act_key,
        "init": init, "weight_scale": float(weight_scale), "loss": float(loss.detach()),
        "weights": w,
        "weight_grad_norm": np.array([stats.weight_grad_norm[n][-1] for n in w]),
        "grad_data_ratio": np.array([stats.grad_data_ratio[n][-1] for n in w]),
        "layers": act_names,
        "act_mean": np.array([stats.act_mean[n][-1] for n in act_names]),
        "act_std": act_std,
        "saturated": np.array([stats.saturated[n][-1] for n in act_names]),
        "dead": np.array([stats.dead[n][-1] for n in act_names]),
        "grad_norm": np.array([stats.grad_norm[n][-1] for n in act_names]),
        "act_values": [stats.last_act[n].reshape(-1) for n in act_names],
        "grad_values": [stats.last_grad[n].reshape(-1) for n in act_names],
        "overflow": overflow,
    }


def _first_overflow(stats: LayerStats, act_names: list[str], loss: float) -> str | None:
    """The first layer, input side first, whose activations (or their std) are not finite; "out" for the
    logits or loss; else the last layer (output side first) whose gradient is not finite; None when all are."""
    for name in act_names:
        if not (np.isfinite(stats.last_act[name]).all() and np.isfinite(stats.act_std[name][-1])):
            return name
    if not math.isfinite(loss):
        return "out"
    for name in reversed(act_names):
        if not (np.isfinite(stats.last_grad[name]).all() and np.isfinite(stats.grad_norm[name][-1])):
            return f"the gradient of {name}"
    return None


def _numbers(name: str, value: Any) -> np.ndarray:
    """``value`` as a non-empty float array of finite numbers, or an error naming ``name``."""
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        arr = np.asarray([None])
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold numbers (a tensor, an array or a list of floats such as "
                        f"[-1.0, 0.0, 1.0]); got {shown}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty: give at least one point, e.g. [-1.0, 0.0, 1.0]")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must hold finite numbers; got {shown}")
    return arr.astype(np.float64)


def activation_curve(activation: str, x: torch.Tensor | np.ndarray | None = None) -> dict[str, np.ndarray]:
    """An activation function and its derivative, the derivative taken by autograd.

    Args:
        activation: a name from :data:`coursekit.models.ACTIVATIONS`.
        x: where to evaluate: a tensor, array or list of finite numbers (default 401 points on [-5, 5]).

    Returns:
        ``{"x": ..., "f": f(x), "df": f'(x)}`` as NumPy arrays.

    Introduced in ``notebooks/02_relu.ipynb``.
    """
    module = make_activation(activation)
    if x is None:
        xt = torch.linspace(-5, 5, 401, dtype=torch.float64)
    else:
        xt = torch.as_tensor(_numbers("x", x), dtype=torch.float64).reshape(-1)
    xt = xt.clone().requires_grad_(True)
    f = module(xt)
    (df,) = torch.autograd.grad(f.sum(), xt)
    return {"x": xt.detach().numpy(), "f": f.detach().numpy(), "df": df.numpy()}


def activation_profile(
    activation: str = "relu", depth: int = 8, init: str = "pytorch_default", weight_scale: float = 1.0,
    *, seed: int = 0, x: torch.Tensor | None = None, y: torch.Tensor | None = None,
) -> dict[str, Any]:
    """An activation's curve and derivative plus the dead / saturated fractions of a deep net using it.

    Combines :func:`activation_curve` with :func:`gradient_flow` (same deep
    MLP, one digits batch, at initialization; ``x``, ``y``: another batch, as
    in :func:`gradient_flow`).

    Returns:
        ``{"x", "f", "df"}`` of the curve, and ``layers``, ``dead``,
        ``saturated``, ``weight_grad_norm`` (arrays, input side first) of the net.

    Introduced in ``notebooks/02_relu.ipynb``.
    """
    curve = activation_curve(activation)
    flow = gradient_flow(depth, activation, init, weight_scale, seed=seed, x=x, y=y)
    return {**curve, **{k: flow[k] for k in ("layers", "dead", "saturated", "weight_grad_norm", "weights",
                                             "activation", "depth", "loss")}}


XOR_X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = torch.tensor([[0.0], [1.0], [1.0], [0.0]])


def xor_losses(sizes, steps: int, seeds, lr: float = 1.0) -> np.ndarray:
    """Full-batch SGD on XOR with sigmoid units and binary cross-entropy (the original labs' lab 08), one net per seed.

    Each seed's network starts from exactly the weights of ``mlp(sizes, "sigmoid",
    seed=seed)`` (the labs' ``torch.manual_seed`` followed by ``nn.Linear`` calls)
    and takes ``steps`` plain SGD steps on the four XOR points, with a sigmoid on
    the output and BCE, as in the lab. The networks train side by side in one
    batched computation (a stack of weight matrices, one per seed), which is the
    same arithmetic as training them one after the other, only faster: each
    network's loss depends on its own weights alone.

    Args:
        sizes: layer widths, e.g. [2, 2, 1] or [2, 10, 10, 10, 1].
        steps: SGD steps, >= 1.
        seeds: the seeds, e.g. ``ck.claims.seeds(SEED)``.
        lr: the learning rate (the lab's is 1).

    Returns:
        The loss at every step, shape ``(len(seeds), steps)``.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """
    steps = check_int("steps", steps, minimum=1)
    lr = check_float("lr", lr, 0.0, min_inclusive=False, finite=True)
    seeds = [check_int("seed", s, minimum=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed")
    nets = [mlp(list(sizes), "sigmoid", seed=s) for s in seeds]
    linears = [[m for m in net if isinstance(m, nn.Linear)] for net in nets]
    # one (n_seeds, fan_in, fan_out) weight and one (n_seeds, 1, fan_out) bias per layer
    weights = [torch.stack([ls[i].weight.detach().T for ls in linears]).requires_grad_(True)
               for i in range(len(linears[0]))]
    biases = [torch.stack([ls[i].bias.detach()[None] for ls in linears]).requires_grad_(True)
              for i in range(len(linears[0]))]
    params = weights + biases
    x = XOR_X.expand(len(seeds), -1, -1)
    y = XOR_Y.expand(len(seeds), -1, -1)
    losses = torch.empty(len(seeds), steps)
    for step in range(steps):
        h = x
        for w, b in zip(weights, biases):
            h = torch.sigmoid(torch.baddbmm(b, h, w))   # every layer, the last one too: the lab's final Sigmoid
        per_net = nn.functional.binary_cross_entropy(h, y, reduction="none").mean(dim=(1, 2))
        grads = torch.autograd.grad(per_net.sum(), params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p -= lr * g
        losses[:, step] = per_net.detach()
    return losses.numpy()


def plateau_and_escape(losses, tol: float = 0.01, escaped_below: float = 0.1) -> tuple[int, int | None]:
    """How long an XOR loss curve sits on the ln 2 plateau, and when it escapes.

    Returns:
        ``(steps within tol of ln 2, first step (1-based) with a loss below
        escaped_below, or None if it never got there)``.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """
    losses = np.asarray(losses, dtype=float).reshape(-1)
    on_plateau = int((np.abs(losses - np.log(2)) < tol).sum())
    escaped = np.flatnonzero(losses < escaped_below)
    return on_plateau, (int(escaped[0]) + 1 if escaped.size else None)
