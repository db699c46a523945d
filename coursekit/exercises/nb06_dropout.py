"""Exercises of ``notebooks/06_dropout.ipynb``: inverted_dropout, dropout_forward.

SPOILERS: the reference solutions. Each ``_register(Exercise(...))`` below is one
exercise (signature, instructions, reference, seeded cases, known mistakes with
their hints); a new exercise for this notebook is one more such entry.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from .compare import _to_tensor, _type_name
from .engine import _gen, _rand, _randn, _register
from .pieces import Case, Exercise, Failure, Mistake

# =========================================================================== 06 dropout


def _inverted_dropout(x, p, mask):
    if p >= 1.0:
        return torch.zeros_like(x)
    return x * mask / (1.0 - p)


def _mask_case(seed: int, shape: tuple[int, ...], p: float) -> Callable[[], dict[str, Any]]:
    def make() -> dict[str, Any]:
        return {"x": _randn(seed, *shape), "p": p, "mask": (_rand(seed + 1, *shape) >= p).to(torch.float64)}
    return make


_register(Exercise(
    name="inverted_dropout",
    notebook="06_dropout.ipynb",
    signature="def inverted_dropout(x, p, mask):",
    instructions=("Training-mode inverted dropout with a given mask: mask has x's shape, 1.0 where a unit is kept "
                  "and 0.0 where it is dropped; p is the probability of dropping. Return x * mask scaled by "
                  "1 / (1 - p), so that every unit keeps its expected value; with p = 1 return zeros."),
    reference=_inverted_dropout,
    cases=(
        Case("p = 0.5 on a vector", _mask_case(101, (10,), 0.5)),
        Case("p = 0.2 on a batch", _mask_case(102, (4, 6), 0.2)),
        Case("p = 0: nothing dropped", _mask_case(103, (5,), 0.0)),
        Case("p = 0.8 on a batch", _mask_case(104, (3, 5), 0.8)),
        Case("p = 1: everything dropped", _mask_case(105, (6,), 1.0)),
    ),
    mistakes=(
        Mistake("missing 1/(1 - p) scale: inverted dropout scales the kept units up during training, so the "
                "expected value stays x and eval mode needs no change.",
                fn=lambda x, p, mask: x * mask),
        Mistake("multiply the kept units by 1 / (1 - p), not by (1 - p) (scaling down is what the original "
                "dropout did at test time).",
                fn=lambda x, p, mask: x * mask * (1 - p)),
        Mistake("divide by the *keep* probability 1 - p, not by p: PyTorch's p is the probability of dropping.",
                fn=lambda x, p, mask: x * mask / p),
        Mistake("mask is 1.0 for the units to keep: multiply by mask, not by 1 - mask.",
                fn=lambda x, p, mask: x * (1 - mask) / (1 - p)),
        Mistake("with p = 1 every unit is dropped: return zeros (dividing by 1 - p = 0 gives nan).",
                test=lambda args, expected, got: args["p"] >= 1.0 and torch.isnan(torch.as_tensor(got)).any()),
    ),
    hint="output = x * mask / (1 - p): dropped units are 0, kept ones are scaled up by 1 / (1 - p).",
))


def _dropout(x, p, training, generator=None):
    if not training or p == 0.0:
        return x
    if p >= 1.0:
        return torch.zeros_like(x)
    mask = (torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p).to(x.dtype)
    return x * mask / (1.0 - p)


def _dropout_case(seed: int, p: float, training: bool, shape: tuple[int, int] = (200, 500)):
    def make() -> dict[str, Any]:
        return {"x": _rand(seed, *shape) + 0.5, "p": p, "training": training, "generator": _gen(seed + 1)}
    return make


def _verify_dropout(args: dict[str, Any], got: Any, rerun: Callable[[], Any]) -> Failure | None:
    x, p, training = args["x"], args["p"], args["training"]
    if got is None:
        return Failure("expected a tensor, got None (your function returned nothing)",
                       "did you forget the `return` line?")
    g = _to_tensor(got)
    if g is None or tuple(g.shape) != tuple(x.shape):
        return Failure(f"expected a tensor of x's shape {tuple(x.shape)}, got {_type_name(got)}")
    g = g.to(torch.float64)
    if not training:
        if torch.allclose(g, x, rtol=1e-6, atol=1e-9):
            return None
        if torch.allclose(g, x * (1 - p), rtol=1e-6, atol=1e-9):
            return Failure("expected x unchanged in eval mode, got x * (1 - p)",
                           "inverted dropout already scaled during training: in eval mode return x as it is.")
        return Failure("expected x unchanged in eval mode, got something else",
                       "in eval mode (training=False) dropout does nothing: return x.")
    dropped = g == 0
    rate = float(dropped.double().mean())
    kept = ~dropped
    if p >= 1.0:
        if bool(dropped.all()):
            return None
        return Failure(f"expected every unit dropped with p = 1, got {rate:.3f} dropped",
                       "with p = 1 return zeros (and never divide by 1 - p = 0).")
    if abs(rate - p) > 0.02:
        if p > 0 and abs(rate - (1 - p)) <= 0.02:
            hint = "p is the probability of *dropping* a unit: keep it where torch.rand(...) >= p."
        elif rate == 0.0:
            hint = "in training mode, drop each unit with probability p (draw a random mask)."
        else:
            hint = "drop each unit independently with probability p: mask = torch.rand(x.shape, generator=generator) >= p."
        return Failure(f"expected a fraction of about {p:.2f} of the units dropped, got {rate:.3f}", hint)
    scale = g[kept] / x[kept]
    if not torch.allclose(scale, torch.full_like(scale, 1.0 / (1.0 - p)), rtol=1e-5):
        s = float(scale.median())
        if abs(s - 1.0) < 1e-6:
            hint = "missing 1/(1 - p) scale: kept units must be scaled up by 1 / (1 - p) in training."
        elif abs(s - (1 - p)) < 1e-6:
            hint = "multiply the kept units by 1 / (1 - p), not by (1 - p)."
        elif p > 0 and abs(s - 1.0 / p) < 1e-6:
            hint = "divide by the keep probability 1 - p, not by p."
        else:
            hint = "a kept unit must come out as x / (1 - p)."
        return Failure(f"expected kept units scaled by {1 / (1 - p):.4g}, got a typical scale of {s:.4g}", hint)
    again = _to_tensor(rerun())
    if again is None or tuple(again.shape) != tuple(g.shape) or not torch.equal(again.to(torch.float64), g):
        return Failure("expected the same mask from two generators seeded alike, got two different masks",
                       "draw the random numbers from the generator passed in: "
                       "torch.rand(x.shape, generator=generator), so a seed gives the same mask every time.")
    return None


_register(Exercise(
    name="dropout_forward",
    notebook="06_dropout.ipynb",
    signature="def dropout_forward(x, p, training, generator=None):",
    instructions=("Inverted dropout in both modes. training=True: drop each entry with probability p, using "
                  "torch.rand(x.shape, generator=generator) for the random numbers, and scale the kept ones by "
                  "1 / (1 - p) (zeros if p = 1). training=False: return x unchanged."),
    reference=_dropout,
    cases=(
        Case("eval mode, p = 0.5", _dropout_case(111, 0.5, False, (6, 7))),
        Case("training, p = 0.3, 100,000 units", _dropout_case(112, 0.3, True), verify=_verify_dropout),
        Case("training, p = 0.8", _dropout_case(113, 0.8, True), verify=_verify_dropout),
        Case("training, p = 0", _dropout_case(114, 0.0, True, (5, 4))),
        Case("training, p = 1", _dropout_case(115, 1.0, True, (3, 4)), verify=_verify_dropout),
    ),
    mistakes=(
        Mistake("in eval mode (training=False) dropout does nothing: return x unchanged.",
                test=lambda args, expected, got: not args["training"]),
        Mistake("with p = 0 nothing is dropped: return x (scale 1 / (1 - 0) = 1).",
                test=lambda args, expected, got: args["p"] == 0.0),
    ),
    hint="training: mask = torch.rand(x.shape, generator=generator) >= p; return x * mask / (1 - p). "
         "Eval: return x.",
))
