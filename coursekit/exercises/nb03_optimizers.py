"""Exercises of ``notebooks/03_optimizers.ipynb``: momentum_step, adam_step, steps_to_floor.

SPOILERS: the reference solutions. Each ``_register(Exercise(...))`` below is one
exercise (signature, instructions, reference, seeded cases, known mistakes with
their hints); a new exercise for this notebook is one more such entry.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from .._i18n import N_
from ..surfaces import trajectory
from .engine import _rand, _randn, _register
from .pieces import Case, Exercise, Mistake

# =========================================================================== 03 optimizers


def _momentum_step(theta, b, grad, lr, mu):
    b = mu * b + grad
    return theta - lr * b, b


_register(Exercise(
    name="momentum_step",
    notebook="03_optimizers.ipynb",
    signature="def momentum_step(theta, b, grad, lr, mu):",
    instructions=N_("One step of SGD with momentum in PyTorch's form: the momentum buffer b sums the gradients, "
                  "b = mu * b + grad, then theta = theta - lr * b. Return the new (theta, b)."),
    reference=_momentum_step,
    cases=(
        Case(N_("the first step, b = 0"),
             lambda: {"theta": _randn(51, 4), "b": torch.zeros(4, dtype=torch.float64),
                      "grad": _randn(52, 4), "lr": 0.1, "mu": 0.9}),
        Case(N_("a later step, mu = 0.9"),
             lambda: {"theta": _randn(53, 5), "b": _randn(54, 5), "grad": _randn(55, 5), "lr": 0.05,
                      "mu": 0.9}),
        Case(N_("mu = 0: plain SGD"),
             lambda: {"theta": _randn(56, 3), "b": _randn(57, 3), "grad": _randn(58, 3), "lr": 0.1,
                      "mu": 0.0}),
        Case(N_("a 2-D weight matrix, mu = 0.5"),
             lambda: {"theta": _randn(59, 3, 4), "b": _randn(60, 3, 4), "grad": _randn(61, 3, 4),
                      "lr": 0.2, "mu": 0.5}),
    ),
    outputs=("theta", "b"),
    mistakes=(
        Mistake(N_("this course uses PyTorch's form, not the velocity form v = mu * v - lr * grad: the buffer sums "
                "gradients, b = mu * b + grad, and the step is theta - lr * b (b holds no lr)."),
                fn=lambda theta, b, g, lr, mu: (theta + (mu * b - lr * g), mu * b - lr * g)),
        Mistake(N_("step with the *new* buffer: first b = mu * b + grad, then theta - lr * b."),
                fn=lambda theta, b, g, lr, mu: (theta - lr * b, mu * b + g)),
        Mistake(N_("no (1 - mu) factor: momentum adds the whole gradient, b = mu * b + grad "
                "(the (1 - beta) average is Adam's)."),
                fn=lambda theta, b, g, lr, mu: (theta - lr * (mu * b + (1 - mu) * g), mu * b + (1 - mu) * g)),
        Mistake(N_("the new buffer keeps mu times the old one: b = mu * b + grad."),
                fn=lambda theta, b, g, lr, mu: (theta - lr * g, g)),
        Mistake(N_("step against the gradient: theta - lr * b, not theta + lr * b."),
                fn=lambda theta, b, g, lr, mu: (theta + lr * (mu * b + g), mu * b + g)),
    ),
    hint=N_("b = mu * b + grad; theta = theta - lr * b; return (theta, b)."),
))


def _adam_step(theta, m, v, grad, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return theta - lr * m_hat / (torch.sqrt(v_hat) + eps), m, v


def _adam_wrong(theta, m, v, grad, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, *, correct_t=None,
                eps_inside=False, square=True, keep_hat=False, average=True, betas_swapped=False):
    if betas_swapped:
        beta1, beta2 = beta2, beta1
    m = beta1 * m + ((1 - beta1) if average else 1.0) * grad
    v = beta2 * v + ((1 - beta2) if average else 1.0) * (grad * grad if square else grad)
    tt = t if correct_t is None else correct_t(t)
    m_hat = m / (1 - beta1 ** tt) if tt is not False else m
    v_hat = v / (1 - beta2 ** tt) if tt is not False else v
    denom = torch.sqrt(v_hat + eps) if eps_inside else torch.sqrt(v_hat) + eps
    new_theta = theta - lr * m_hat / denom
    return (new_theta, m_hat, v_hat) if keep_hat else (new_theta, m, v)


def _adam_case(seed: int, shape: tuple[int, ...], t: int, **hyper: float) -> Callable[[], dict[str, Any]]:
    def make() -> dict[str, Any]:
        zeros = torch.zeros(shape, dtype=torch.float64)
        first = t == 1
        args = {
            "theta": _randn(seed, *shape),
            "m": zeros.clone() if first else _randn(seed + 1, *shape, scale=0.1),
            "v": zeros.clone() if first else _rand(seed + 2, *shape) * 0.01,
            "grad": _randn(seed + 3, *shape),
            "t": t,
            "lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
        }
        args.update(hyper)
        return args
    return make


def _adam_tiny_gradients() -> dict[str, Any]:
    return {"theta": _randn(71, 4), "m": torch.zeros(4, dtype=torch.float64), "v": torch.zeros(4, dtype=torch.float64),
            "grad": _randn(72, 4, scale=1e-6), "t": 1, "lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


_register(Exercise(
    name="adam_step",
    notebook="03_optimizers.ipynb",
    signature="def adam_step(theta, m, v, grad, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):",
    instructions=N_("One Adam step; t is the number of this step (1 on the first update). Update the averages "
                  "m = beta1*m + (1-beta1)*grad and v = beta2*v + (1-beta2)*grad**2, correct their bias "
                  "(m_hat = m / (1 - beta1**t), v_hat likewise with beta2), step theta - lr * m_hat / "
                  "(sqrt(v_hat) + eps), and return (theta, m, v) with the uncorrected m and v."),
    reference=_adam_step,
    cases=(
        Case(N_("t = 1, the very first step, m = v = 0"), _adam_case(61, (5,), 1, lr=0.1)),
        Case(N_("t = 10, with earlier averages"), _adam_case(62, (4,), 10, lr=0.1)),
        Case(N_("t = 1000, where the correction has faded"), _adam_case(63, (3,), 1000, lr=0.1)),
        Case(N_("tiny gradients (1e-6): Adam's step does not shrink with them"), _adam_tiny_gradients),
        Case(N_("a 2-D tensor with betas (0.5, 0.9) and eps 1e-3"), _adam_case(64, (3, 2), 3, lr=0.05, beta1=0.5,
                                                                            beta2=0.9, eps=1e-3)),
    ),
    outputs=("theta", "m", "v"),
    mistakes=(
        Mistake(N_("bias correction missing: at step t divide m by (1 - beta1**t) and v by (1 - beta2**t) "
                "before the step."),
                fn=lambda *a: _adam_wrong(*a, correct_t=lambda t: False)),
        Mistake(N_("bias correction one step off: t is already the number of this step (1 on the first update), "
                "so use beta**t, not beta**(t + 1)."),
                fn=lambda *a: _adam_wrong(*a, correct_t=lambda t: t + 1)),
        Mistake(N_("bias correction one step off: t is already the number of this step (1 on the first update), "
                "so use beta**t, not beta**(t - 1)."),
                fn=lambda *a: _adam_wrong(*a, correct_t=lambda t: t - 1)),
        Mistake(N_("eps goes outside the square root: m_hat / (sqrt(v_hat) + eps)."),
                fn=lambda *a: _adam_wrong(*a, eps_inside=True)),
        Mistake(N_("v averages the *squared* gradient: v = beta2*v + (1 - beta2) * grad**2."),
                fn=lambda *a: _adam_wrong(*a, square=False)),
        Mistake(N_("return the raw averages m and v (the state for the next step), not the bias-corrected "
                "m_hat and v_hat."),
                fn=lambda *a: _adam_wrong(*a, keep_hat=True)),
        Mistake(N_("m and v are averages: m = beta1*m + (1 - beta1)*grad (and likewise v); don't drop the (1 - beta)."),
                fn=lambda *a: _adam_wrong(*a, average=False)),
        Mistake(N_("beta1 belongs to m (the gradient's average) and beta2 to v (the squared gradient's)."),
                fn=lambda *a: _adam_wrong(*a, betas_swapped=True)),
    ),
    hint=N_("follow the five lines in order: m, v, m_hat, v_hat, then theta; use the hyper-parameters passed in."),
))


def _steps_to_floor(optimizer, lr, threshold=0.01, steps=200):
    tr = trajectory("ill_conditioned", optimizer, None, steps, lr=lr)
    below = np.nonzero(tr.loss < threshold)[0]   # NaN after a divergence counts as not below
    return int(below[0]) if len(below) else -1


def _race(optimizer, lr, threshold=0.01, steps=200):
    return {"optimizer": optimizer, "lr": lr, "threshold": threshold, "steps": steps}


_register(Exercise(
    name="steps_to_floor",
    timeout=30.0,  # up to 200 optimizer steps; the first step in a process also loads part of PyTorch
    notebook="03_optimizers.ipynb",
    signature="def steps_to_floor(optimizer: str, lr: float, threshold: float = 0.01, steps: int = 200) -> int:",
    instructions=N_("Run ck.surfaces.trajectory on the narrow valley 'ill_conditioned' from its usual start with "
                  "this optimizer name and learning rate for `steps` steps, and return the first step at which "
                  "the loss is below `threshold` (0 is the start), or -1 if it never gets there."),
    reference=_steps_to_floor,
    cases=(
        Case(N_("SGD at lr 0.3"), lambda: _race("sgd", 0.3)),
        Case(N_("momentum at lr 0.3"), lambda: _race("momentum", 0.3)),
        Case(N_("NAG at lr 0.1"), lambda: _race("nesterov", 0.1)),
        Case(N_("Adam at lr 0.3"), lambda: _race("adam", 0.3)),
        Case(N_("SGD at lr 0.01, which never gets there"), lambda: _race("sgd", 0.01)),
        Case(N_("RMSProp at lr 0.1, threshold 0.1, 80 steps"), lambda: _race("rmsprop", 0.1, 0.1, 80)),
    ),
    outputs=("step",),
    mistakes=(
        Mistake(N_("count from the start: the path's first point is step 0, so the index into tr.loss is the step."),
                fn=lambda o, lr, th=0.01, n=200: (lambda k: k + 1 if k >= 0 else -1)(_steps_to_floor(o, lr, th, n))),
        Mistake(N_("'never' is -1: check whether any loss is below the threshold before taking the first index "
                "(argmax of an all-False array is 0)."),
                fn=lambda o, lr, th=0.01, n=200: max(_steps_to_floor(o, lr, th, n), 0)),
        Mistake(N_("measure the loss (tr.loss), not the distance to the minimum."),
                fn=lambda o, lr, th=0.01, n=200: (lambda d: int(d[0]) if len(d) else -1)(
                    np.nonzero(trajectory("ill_conditioned", o, None, n, lr=lr).distance_to((0.0, 0.0)) < th)[0])),
        Mistake(N_("use the arguments: run `steps` steps and compare with `threshold`."),
                fn=lambda o, lr, th=0.01, n=200: _steps_to_floor(o, lr)),
    ),
    hint=N_("tr = ck.surfaces.trajectory('ill_conditioned', optimizer, None, steps, lr=lr); the first i with "
         "tr.loss[i] < threshold, or -1."),
))
