"""Optimizers: the course's names for them, one factory, and each one written from scratch.

Introduced in ``notebooks/03_optimizers.ipynb``.

The vocabulary lives here once: :data:`OPTIMIZERS` are the names that
:func:`coursekit.train.fit`, :func:`coursekit.surfaces.trajectory` and the recipes
of notebook 08 accept, and :func:`make_optimizer` builds one by name, from
``torch.optim`` or (``scratch=True``) from the classes below.
:func:`build_optimizer` is the one place that turns what a learner passes as
``optimizer=`` (a name, a ready optimizer, a factory) into an optimizer.

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

from ._checks import check_bool, check_choice, check_float

__all__ = [
    "OPTIMIZERS", "make_optimizer", "build_optimizer",
    "ScratchOptimizer", "SGD", "Momentum", "Nesterov", "Adagrad", "RMSProp", "Adam",
    "SCRATCH", "FAMILY",
]

#: Every optimizer name the course knows ("momentum" is SGD with momentum, "nesterov" SGD with NAG).
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "nadam")


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
        lr = check_float("lr", lr, 0.0, min_inclusive=False, finite=True)
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
        lr = check_float("lr", lr, 0.0, min_inclusive=False, finite=True)
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
        lr = check_float("lr", lr, 0.0, min_inclusive=False, finite=True)
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
        lr = check_float("lr", lr, 0.0, min_inclusive=False, finite=True)
        eps = check_float("eps", eps, 0.0, finite=True)
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
        lr = check_float("lr", lr, 0.0, min_inclusive=False, finite=True)
        alpha = check_float("alpha", alpha, 0.0, 1.0, max_inclusive=False)
        eps = check_float("eps", eps, 0.0, finite=True)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps))

    def update(self, p, g, state, group):
        rho = group["alpha"]  # the table's rho; PyTorch's RMSprop calls it alpha
        state["G"] = rho * state.get("G", torch.zeros_like(p)) + (1 - rho) * (g * g)
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
        lr = check_float("lr", lr, 0.0, min_inclusive=False, finite=True)
        betas = _check_betas(betas)
        eps = check_float("eps", eps, 0.0, finite=True)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    def update(self, p, g, state, group):
        b1, b2 = group["betas"]
        t = state["step"]
        state["m"] = b1 * state.get("m", torch.zeros_like(p)) + (1 - b1) * g
        state["v"] = b2 * state.get("v", torch.zeros_like(p)) + (1 - b2) * (g * g)
        m_hat = state["m"] / (1 - b1 ** t)
        v_hat = state["v"] / (1 - b2 ** t)
        p -= group["lr"] * m_hat / (v_hat.sqrt() + group["eps"])


#: The scratch optimizers by name (a subset of :data:`OPTIMIZERS`).
SCRATCH: dict[str, type[ScratchOptimizer]] = {
    "sgd": SGD, "momentum": Momentum, "nesterov": Nesterov,
    "adagrad": Adagrad, "rmsprop": RMSProp, "adam": Adam,
}


def make_optimizer(
    name: str, params: Iterable[torch.nn.Parameter], lr: float, momentum: float = 0.9, *,
    scratch: bool = False, **kwargs: Any,
) -> torch.optim.Optimizer:
    """Build an optimizer by name.

    Args:
        name: one of :data:`OPTIMIZERS`: "sgd", "momentum" (SGD with ``momentum``),
            "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamw" or "nadam".
        params: the parameters to optimize (``model.parameters()``).
        lr: learning rate, > 0.
        momentum: used by "momentum" and "nesterov", in [0, 1).
        scratch: build this module's from-scratch class instead of ``torch.optim``'s
            (for the names in :data:`SCRATCH`); both give the same steps.
        kwargs: passed to the optimizer (e.g. ``weight_decay``, ``betas``).

    ``torch.optim``'s SGD, Adam and AdamW use PyTorch's fused implementation
    when the installed build has one (the same update rule in one kernel per step).

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """
    key = check_choice("optimizer", name, SCRATCH if check_bool("scratch", scratch) else OPTIMIZERS)
    lr = check_float("lr", lr, 0.0, min_inclusive=False, finite=True)
    momentum = check_float("momentum", momentum, 0.0, 1.0, max_inclusive=False)
    params = list(params)
    if scratch:
        if key in ("momentum", "nesterov"):
            kwargs = {"momentum": momentum, **kwargs}
        return SCRATCH[key](params, lr=lr, **kwargs)
    o = torch.optim
    if key in ("sgd", "momentum", "nesterov"):
        cls = o.SGD
        if key != "sgd":
            kwargs = {"momentum": momentum, "nesterov": key == "nesterov", **kwargs}
    else:
        cls = {"adagrad": o.Adagrad, "rmsprop": o.RMSprop, "adadelta": o.Adadelta, "adam": o.Adam,
               "adamw": o.AdamW, "nadam": o.NAdam}[key]
    if key in ("sgd", "momentum", "nesterov", "adam", "adamw") and "fused" not in kwargs and "foreach" not in kwargs:
        try:  # builds without fused CPU kernels fall back to the plain version
            return cls(params, lr=lr, fused=True, **kwargs)
        except (RuntimeError, TypeError, ValueError):
            pass
    return cls(params, lr=lr, **kwargs)


def build_optimizer(
    optimizer: Any, params: Iterable[torch.Tensor], lr: float | None, momentum: float = 0.9, *,
    default_lr: float | None = None,
) -> torch.optim.Optimizer:
    """Turn what a caller passed as ``optimizer=`` into an optimizer over ``params``.

    Args:
        optimizer: a name of :data:`OPTIMIZERS` (built with ``lr``, or ``default_lr``
            when ``lr`` is None), a ``torch.optim.Optimizer`` already built over
            exactly these parameters, or a factory ``params -> Optimizer``.
        params: the parameters to optimize.
        lr: the learning rate for a name; must be None for a ready optimizer or a
            factory (they carry their own rate), so a rate is never silently ignored.
        momentum: used by "momentum" and "nesterov".
        default_lr: the rate for a name when ``lr`` is None; if both are None, a
            name is an error.

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """
    params = list(params)
    if isinstance(optimizer, str):
        rate = lr if lr is not None else default_lr
        if rate is None:
            raise ValueError(f"lr is required when the optimizer is given by name ({optimizer!r})")
        return make_optimizer(optimizer, params, rate, momentum=momentum)
    if isinstance(optimizer, torch.optim.Optimizer):
        if lr is not None:
            raise ValueError(f"lr={lr!r} would be ignored: a ready optimizer has its own rate "
                             f"({optimizer.param_groups[0].get('lr')!r}); pass lr only with an optimizer name")
        return _check_over(optimizer, params, "optimizer was built over other parameters than this model's: "
                           "build it with torch.optim.Adam(model.parameters(), ...) for the model you train")
    if callable(optimizer):
        if lr is not None:
            raise ValueError("lr is only used with an optimizer name; put it in the factory instead, "
                             "e.g. lambda ps: torch.optim.Adam(ps, lr=0.1)")
        opt = optimizer(params)
        if not isinstance(opt, torch.optim.Optimizer):
            raise TypeError(f"the optimizer factory must return a torch.optim.Optimizer; got {type(opt).__name__}")
        return _check_over(opt, params, "the optimizer factory built its optimizer over other parameters than the "
                           "ones it was given: use its argument, e.g. lambda ps: torch.optim.SGD(ps, lr=0.1)")
    raise TypeError(
        f"optimizer must be a name such as 'adam' (one of {', '.join(OPTIMIZERS)}), a torch.optim.Optimizer "
        f"or a factory params -> Optimizer; got {type(optimizer).__name__} {optimizer!r}"
    )


def _check_over(opt: torch.optim.Optimizer, params: list, message: str) -> torch.optim.Optimizer:
    """``opt`` if every parameter it updates is one of ``params`` (and it updates some); raise otherwise."""
    mine = {id(p) for p in params}
    theirs = [p for g in opt.param_groups for p in g["params"]]
    if not theirs or any(id(p) not in mine for p in theirs):
        raise ValueError(message)
    return opt


# ----------------------------------------------------------------------------- family tree

#: The study notes' family tree: name -> (parents, what it fixes, its one-line update in matplotlib mathtext).
FAMILY: dict[str, tuple[tuple[str, ...], str, str]] = {
    "GD": ((), "start", r"$\theta \leftarrow \theta - \eta\,\nabla L(\theta)$  (all data)"),
    "SGD": (("GD",), "start", r"$\theta \leftarrow \theta - \eta\, g$  ($g$ from a minibatch)"),
    "Momentum": (("SGD",), "direction", r"$b \leftarrow \mu b + g;\ \ \theta \leftarrow \theta - \eta b$"),
    "NAG": (("Momentum",), "direction", r"$g$ taken at $\theta - \eta\mu b$ (look ahead)"),
    "Adagrad": (("SGD",), "size", r"$G \leftarrow G + g^2;\ \ \theta \leftarrow \theta - \eta\, g/\sqrt{G}$"),
    "RMSProp": (("Adagrad",), "size", r"$G \leftarrow \rho G + (1-\rho) g^2$  (forgets)"),
    "AdaDelta": (("Adagrad",), "size",
                 r"$\theta \leftarrow \theta - \frac{\mathrm{RMS}[\Delta\theta]}{\mathrm{RMS}[g]}\, g$  (no $\eta$)"),
    "Adam": (("RMSProp", "Momentum"), "both",
             r"$\theta \leftarrow \theta - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)$"),
    "Nadam": (("Adam", "NAG"), "both", r"Adam with NAG's look-ahead on $\hat m$"),
}
