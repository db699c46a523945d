"""Optimizers written from scratch, one short ``update`` each, and the family tree they form.

Introduced in ``notebooks/03_optimizers.ipynb``.

Every class here is a real ``torch.optim.Optimizer``: it plugs into
``coursekit.train.fit``, ``coursekit.surfaces.trajectory`` or any PyTorch loop.
Each one follows ``torch.optim``'s conventions exactly (same defaults, same
order of operations up to floating-point rounding), so for the same start and
the same gradients it produces the same parameters step for step; the tests in
``tests/test_optim.py`` check this against ``torch.optim`` over many steps.

The shared loop lives in :class:`ScratchOptimizer`; a subclass only writes its
update rule for one parameter tensor, in plain tensor arithmetic::

    g = gradient,  t = step number (1, 2, ...),  eta = learning rate

    SGD        p <- p - eta * g
    Momentum   b <- mu * b + g                (b = g on the first step)
               p <- p - eta * b
    Nesterov   b <- mu * b + g                (b = g on the first step)
               p <- p - eta * (g + mu * b)
    Adagrad    G <- G + g^2
               p <- p - eta * g / (sqrt(G) + eps)
    RMSProp    G <- alpha * G + (1 - alpha) * g^2
               p <- p - eta * g / (sqrt(G) + eps)
    Adam       m <- beta1 * m + (1 - beta1) * g
               v <- beta2 * v + (1 - beta2) * g^2
               p <- p - eta * m_hat / (sqrt(v_hat) + eps),
               m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from ._checks import check_choice, check_float

__all__ = [
    "ScratchOptimizer", "SGD", "Momentum", "Nesterov", "Adagrad", "RMSProp", "Adam",
    "SCRATCH", "make", "FAMILY", "plot_family_tree",
]


def _check_betas(betas: Any) -> tuple[float, float]:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2); got {betas!r}")
    b1 = check_float("betas[0]", betas[0], 0.0, 1.0, max_inclusive=False)
    b2 = check_float("betas[1]", betas[1], 0.0, 1.0, max_inclusive=False)
    return b1, b2


class ScratchOptimizer(torch.optim.Optimizer):
    """The loop every optimizer shares; subclasses write only :meth:`update`.

    ``step()`` visits every parameter that has a gradient, counts the step in
    ``state["step"]`` (1 on the first call) and calls
    ``update(p, g, state, group)`` with gradients switched off, where ``p`` is
    the parameter tensor (change it in place), ``g`` its gradient, ``state`` a
    dict kept between steps for this parameter, and ``group`` its hyper-parameters
    (``group["lr"]``...). Learning-rate schedulers work as with ``torch.optim``,
    because the learning rate is read from ``group`` on every step.

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
                state = self.state[p]
                state["step"] = state.get("step", 0) + 1
                self.update(p, p.grad, state, group)
        return loss

    def update(self, p: torch.Tensor, g: torch.Tensor, state: dict, group: dict) -> None:
        """Change ``p`` in place from its gradient ``g``; override in a subclass."""
        raise NotImplementedError


class SGD(ScratchOptimizer):
    """Plain (stochastic) gradient descent: ``p <- p - lr * g``.

    Matches ``torch.optim.SGD(params, lr)``.

    Args:
        params: parameters (or parameter groups) to optimize.
        lr: learning rate ``eta``, > 0.

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3) -> None:
        lr = check_float("lr", lr, 0.0, min_inclusive=False)
        super().__init__(params, dict(lr=lr))

    def update(self, p, g, state, group):
        p -= group["lr"] * g


class Momentum(ScratchOptimizer):
    """Classical momentum, in PyTorch's form: a running sum of gradients sets the direction.

    ``b <- momentum * b + g`` (``b = g`` on the first step), then ``p <- p - lr * b``.

    This is Polyak's heavy ball. Sutskever et al. (2013) write it as
    ``v <- mu v - lr g; p <- p + v``: the same steps for a constant learning
    rate (``v = -lr * b``). Matches ``torch.optim.SGD(params, lr, momentum=momentum)``.

    Args:
        params: parameters to optimize.
        lr: learning rate, > 0.
        momentum: ``mu`` in [0, 1): how much of the previous direction is kept.

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0.9) -> None:
        lr = check_float("lr", lr, 0.0, min_inclusive=False)
        momentum = check_float("momentum", momentum, 0.0, 1.0, max_inclusive=False)
        super().__init__(params, dict(lr=lr, momentum=momentum))

    def update(self, p, g, state, group):
        if "b" not in state:
            state["b"] = g.clone()
        else:
            state["b"] = group["momentum"] * state["b"] + g
        p -= group["lr"] * state["b"]


class Nesterov(ScratchOptimizer):
    """Nesterov's accelerated gradient (NAG), in PyTorch's form: momentum that looks ahead.

    ``b <- momentum * b + g`` (``b = g`` on the first step), then
    ``p <- p - lr * (g + momentum * b)``.

    Sutskever et al. (2013) evaluate the gradient at the look-ahead point
    ``p + mu v`` instead; rewriting their update in terms of the look-ahead
    parameters gives exactly this rule, which needs only the gradient at the
    current parameters. Matches ``torch.optim.SGD(params, lr, momentum, nesterov=True)``.

    Args:
        params: parameters to optimize.
        lr: learning rate, > 0.
        momentum: ``mu`` in (0, 1).

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0.9) -> None:
        lr = check_float("lr", lr, 0.0, min_inclusive=False)
        momentum = check_float("momentum", momentum, 0.0, 1.0, min_inclusive=False, max_inclusive=False)
        super().__init__(params, dict(lr=lr, momentum=momentum))

    def update(self, p, g, state, group):
        mu = group["momentum"]
        if "b" not in state:
            state["b"] = g.clone()
        else:
            state["b"] = mu * state["b"] + g
        p -= group["lr"] * (g + mu * state["b"])


class Adagrad(ScratchOptimizer):
    """Adagrad (Duchi et al. 2011): each coordinate's step shrinks with its own gradient history.

    ``G <- G + g^2`` (elementwise, ``G = 0`` at the start), then
    ``p <- p - lr * g / (sqrt(G) + eps)``. ``G`` only grows, so steps only shrink.

    Matches ``torch.optim.Adagrad(params, lr, eps=eps)`` (no ``lr_decay``,
    initial accumulator 0).

    Args:
        params: parameters to optimize.
        lr: learning rate, > 0 (PyTorch's default 0.01).
        eps: added to the denominator for numerical safety, >= 0.

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, eps: float = 1e-10) -> None:
        lr = check_float("lr", lr, 0.0, min_inclusive=False)
        eps = check_float("eps", eps, 0.0)
        super().__init__(params, dict(lr=lr, eps=eps))

    def update(self, p, g, state, group):
        state["G"] = state.get("G", torch.zeros_like(p)) + g * g
        p -= group["lr"] * g / (state["G"].sqrt() + group["eps"])


class RMSProp(ScratchOptimizer):
    """RMSProp (Hinton's lecture 6e, 2012): Adagrad with a leaky, moving average of g^2.

    ``G <- alpha * G + (1 - alpha) * g^2`` (``G = 0`` at the start), then
    ``p <- p - lr * g / (sqrt(G) + eps)``. Old gradients are forgotten, so the
    step size can grow again.

    Matches ``torch.optim.RMSprop(params, lr, alpha=alpha, eps=eps)``.

    Args:
        params: parameters to optimize.
        lr: learning rate, > 0 (PyTorch's default 0.01).
        alpha: decay of the average, in [0, 1) (PyTorch's ``alpha``, often called rho).
        eps: added to the denominator, >= 0.

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8) -> None:
        lr = check_float("lr", lr, 0.0, min_inclusive=False)
        alpha = check_float("alpha", alpha, 0.0, 1.0, max_inclusive=False)
        eps = check_float("eps", eps, 0.0)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps))

    def update(self, p, g, state, group):
        a = group["alpha"]
        state["G"] = a * state.get("G", torch.zeros_like(p)) + (1 - a) * (g * g)
        p -= group["lr"] * g / (state["G"].sqrt() + group["eps"])


class Adam(ScratchOptimizer):
    """Adam (Kingma & Ba 2015) = RMSProp's step size + momentum's direction, bias-corrected.

    ``m <- beta1 * m + (1 - beta1) * g`` and ``v <- beta2 * v + (1 - beta2) * g^2``
    (both 0 at the start); at step ``t`` the averages are un-biased,
    ``m_hat = m / (1 - beta1^t)``, ``v_hat = v / (1 - beta2^t)``, and
    ``p <- p - lr * m_hat / (sqrt(v_hat) + eps)``.

    Defaults are the paper's: lr 1e-3, betas (0.9, 0.999), eps 1e-8. Matches
    ``torch.optim.Adam(params, lr, betas, eps)``.

    Args:
        params: parameters to optimize.
        lr: learning rate, > 0.
        betas: decay of the first and second moment averages, each in [0, 1).
        eps: added to the denominator, >= 0.

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """

    def __init__(
        self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
    ) -> None:
        lr = check_float("lr", lr, 0.0, min_inclusive=False)
        betas = _check_betas(betas)
        eps = check_float("eps", eps, 0.0)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    def update(self, p, g, state, group):
        b1, b2 = group["betas"]
        t = state["step"]
        state["m"] = b1 * state.get("m", torch.zeros_like(p)) + (1 - b1) * g
        state["v"] = b2 * state.get("v", torch.zeros_like(p)) + (1 - b2) * (g * g)
        m_hat = state["m"] / (1 - b1 ** t)
        v_hat = state["v"] / (1 - b2 ** t)
        p -= group["lr"] * m_hat / (v_hat.sqrt() + group["eps"])


#: The scratch optimizers by the names :func:`coursekit.train.make_optimizer` uses.
SCRATCH: dict[str, type[ScratchOptimizer]] = {
    "sgd": SGD, "momentum": Momentum, "nesterov": Nesterov,
    "adagrad": Adagrad, "rmsprop": RMSProp, "adam": Adam,
}


def make(name: str, params: Iterable, lr: float, momentum: float = 0.9) -> ScratchOptimizer:
    """Build a scratch optimizer by name, mirroring :func:`coursekit.train.make_optimizer`.

    ``make("adam", params, lr)`` and ``coursekit.train.make_optimizer("adam", params, lr)``
    give the same steps; the first is the code of this module, the second ``torch.optim``.

    Args:
        name: "sgd", "momentum", "nesterov", "adagrad", "rmsprop" or "adam".
        params: the parameters to optimize.
        lr: learning rate, > 0.
        momentum: used by "momentum" and "nesterov".

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """
    key = check_choice("optimizer", name, SCRATCH)
    if key in ("momentum", "nesterov"):
        return SCRATCH[key](params, lr=lr, momentum=momentum)
    return SCRATCH[key](params, lr=lr)


# ----------------------------------------------------------------------------- family tree

#: The seed's family tree: name -> (parents, what it fixes, its one-line update in matplotlib mathtext).
FAMILY: dict[str, tuple[tuple[str, ...], str, str]] = {
    "GD": ((), "start", r"$\theta \leftarrow \theta - \eta\,\nabla L(\theta)$  (all data)"),
    "SGD": (("GD",), "start", r"$\theta \leftarrow \theta - \eta\, g$  ($g$ from a minibatch)"),
    "Momentum": (("SGD",), "direction", r"$v \leftarrow \mu v + g;\ \ \theta \leftarrow \theta - \eta v$"),
    "NAG": (("Momentum",), "direction", r"$g$ taken at $\theta - \eta\mu v$ (look ahead)"),
    "Adagrad": (("SGD",), "size", r"$G \leftarrow G + g^2;\ \ \theta \leftarrow \theta - \eta\, g/\sqrt{G}$"),
    "RMSProp": (("Adagrad",), "size", r"$G \leftarrow \rho G + (1-\rho) g^2$  (forgets)"),
    "AdaDelta": (("Adagrad",), "size",
                 r"$\theta \leftarrow \theta - \frac{\mathrm{RMS}[\Delta\theta]}{\mathrm{RMS}[g]}\, g$  (no $\eta$)"),
    "Adam": (("RMSProp", "Momentum"), "both",
             r"$\theta \leftarrow \theta - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)$"),
    "Nadam": (("Adam", "NAG"), "both", r"Adam with NAG's look-ahead on $\hat m$"),
}

# Box centres (x, y) in a 0..10 x 0..7 canvas: direction on the left, size on the right.
_LAYOUT = {
    "GD": (5.0, 6.4), "SGD": (5.0, 5.1),
    "Momentum": (2.0, 3.8), "NAG": (2.0, 2.3),
    "Adagrad": (8.4, 3.8), "RMSProp": (6.9, 2.3), "AdaDelta": (9.9, 2.3),
    "Adam": (5.0, 1.0), "Nadam": (2.0, -0.1),
}


def plot_family_tree(ax=None):
    """Draw the seed's optimizer family tree: each box holds one update rule.

    GD -> SGD; fixing the step *direction*: Momentum -> NAG; fixing the step
    *size*: Adagrad -> RMSProp and AdaDelta; Adam = RMSProp + Momentum;
    Nadam = Adam + NAG. Boxes use the course colours
    (:func:`coursekit.plots.color`).

    Args:
        ax: draw into this Axes (default: a new figure).

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """
    import matplotlib.pyplot as plt

    from .plots import color

    if ax is None:
        fig, ax = plt.subplots(figsize=(11, 6.2))
    else:
        fig = ax.figure
    ax.set_xlim(-0.3, 11.5)
    ax.set_ylim(-0.7, 7.1)
    ax.axis("off")
    # The two directions of improvement as shaded bands.
    ax.axvspan(-0.3, 3.9, ymin=0.2, ymax=0.66, color=color("momentum"), alpha=0.07, lw=0)
    ax.axvspan(5.4, 11.5, ymin=0.2, ymax=0.66, color=color("rmsprop"), alpha=0.07, lw=0)
    ax.text(1.8, 4.75, "fix the step DIRECTION", ha="center", fontsize=10, weight="bold", color="#444444")
    ax.text(8.45, 4.75, "fix the step SIZE", ha="center", fontsize=10, weight="bold", color="#444444")

    titles = {"Adam": "Adam = RMSProp + Momentum", "Nadam": "Nadam = Adam + NAG"}
    for name, (parents, _, rule) in FAMILY.items():
        x, y = _LAYOUT[name]
        key = {"GD": "sgd", "NAG": "nesterov"}.get(name, name.lower())
        c = color(key) if name != "GD" else "#333333"
        ax.text(
            x, y, f"{titles.get(name, name)}\n{rule}", ha="center", va="center", fontsize=9, zorder=3,
            bbox=dict(boxstyle="round,pad=0.4", facecolor="white", edgecolor=c, linewidth=2.2),
        )
    for name, (parents, _, _) in FAMILY.items():
        for parent in parents:
            (x0, y0), (x1, y1) = _LAYOUT[parent], _LAYOUT[name]
            # From the parent's lower edge to the child's upper edge (sideways when level).
            start = (x0, y0 - 0.42) if y0 - y1 > 0.9 else (x0 + 0.9 * (1 if x1 > x0 else -1), y0 - 0.2)
            end = (x1, y1 + 0.42) if y0 - y1 > 0.9 else (x1 + 1.2 * (1 if x0 > x1 else -1), y1 + 0.2)
            ax.annotate("", xy=end, xytext=start, zorder=1,
                        arrowprops=dict(arrowstyle="-|>", color="#666666", lw=1.2, mutation_scale=12,
                                        shrinkA=0, shrinkB=0))
    ax.set_title("The family tree of gradient descent (after the seed's slide)", fontsize=11)
    return fig

