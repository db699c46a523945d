"""Exercises of ``notebooks/07_batch_norm.ipynb``: batchnorm_forward_train, update_running_stats.

SPOILERS: the reference solutions. Each ``_register(Exercise(...))`` below is one
exercise (signature, instructions, reference, seeded cases, known mistakes with
their hints); a new exercise for this notebook is one more such entry.
"""
from __future__ import annotations

from typing import Any

import torch

from .engine import _rand, _randn, _register
from .pieces import Case, Exercise, Mistake

# =========================================================================== 07 batch norm


def _batchnorm_forward_train(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=0)
    var = x.var(dim=0, unbiased=False)
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta


def _bn_case(seed: int, n: int, c: int, eps: float = 1e-5, constant_feature: bool = False):
    def make() -> dict[str, Any]:
        x = _randn(seed, n, c, scale=3.0) + 2.0
        if constant_feature:
            x[:, 0] = 1.5
        return {"x": x, "gamma": _rand(seed + 1, c) + 0.5, "beta": _randn(seed + 2, c), "eps": eps}
    return make


_register(Exercise(
    name="batchnorm_forward_train",
    notebook="07_batch_norm.ipynb",
    signature="def batchnorm_forward_train(x, gamma, beta, eps=1e-5):",
    instructions=("Batch norm in training mode for x of shape (batch, features): per feature, the batch mean and "
                  "the biased variance (divide by batch, as BatchNorm1d does); x_hat = (x - mean) / sqrt(var + eps); "
                  "return gamma * x_hat + beta."),
    reference=_batchnorm_forward_train,
    cases=(
        Case("a batch of 8, 4 features", _bn_case(121, 8, 4)),
        Case("a batch of 2, the smallest", _bn_case(122, 2, 3)),
        Case("a feature that is constant over the batch", _bn_case(123, 6, 3, constant_feature=True)),
        Case("eps = 0.5, large enough to matter", _bn_case(124, 5, 4, eps=0.5)),
        Case("a square batch, 5 x 5", _bn_case(125, 5, 5)),
    ),
    mistakes=(
        Mistake("normalize with the *biased* batch variance (divide by N): x.var(dim=0, unbiased=False), as "
                "BatchNorm1d does in training; the unbiased one is only for the running estimate.",
                fn=lambda x, g, b, eps=1e-5: g * (x - x.mean(0)) / torch.sqrt(x.var(0) + eps) + b),
        Mistake("the statistics are per feature, over the batch: reduce over dim=0.",
                fn=lambda x, g, b, eps=1e-5: g * (x - x.mean(1, keepdim=True))
                / torch.sqrt(x.var(1, unbiased=False, keepdim=True) + eps) + b),
        Mistake("eps goes inside the square root: (x - mean) / sqrt(var + eps).",
                fn=lambda x, g, b, eps=1e-5: g * (x - x.mean(0)) / (x.var(0, unbiased=False).sqrt() + eps) + b),
        Mistake("add eps to the variance: it keeps a feature that is constant over the batch from dividing 0 by 0.",
                fn=lambda x, g, b, eps=1e-5: g * (x - x.mean(0)) / x.var(0, unbiased=False).sqrt() + b),
        Mistake("divide by the standard deviation sqrt(var + eps), not by the variance.",
                fn=lambda x, g, b, eps=1e-5: g * (x - x.mean(0)) / (x.var(0, unbiased=False) + eps) + b),
        Mistake("finish with the learnable scale and shift: gamma * x_hat + beta.",
                fn=lambda x, g, b, eps=1e-5: (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + eps)),
        Mistake("gamma scales and beta shifts: gamma * x_hat + beta, not beta * x_hat + gamma.",
                fn=lambda x, g, b, eps=1e-5: b * (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + eps) + g),
    ),
    hint="mean and var over dim 0 (biased), x_hat = (x - mean) / sqrt(var + eps), then gamma * x_hat + beta.",
))


def _update_running_stats(running_mean, running_var, x, momentum=0.1):
    mean = x.mean(dim=0)
    var = x.var(dim=0, unbiased=True)
    return (1 - momentum) * running_mean + momentum * mean, (1 - momentum) * running_var + momentum * var


def _rs_case(seed: int, n: int, c: int, momentum: float, fresh: bool = False):
    def make() -> dict[str, Any]:
        rm = torch.zeros(c, dtype=torch.float64) if fresh else _randn(seed, c)
        rv = torch.ones(c, dtype=torch.float64) if fresh else _rand(seed + 1, c) + 0.5
        return {"running_mean": rm, "running_var": rv, "x": _randn(seed + 2, n, c, scale=2.0) + 1.0,
                "momentum": momentum}
    return make


_register(Exercise(
    name="update_running_stats",
    notebook="07_batch_norm.ipynb",
    signature="def update_running_stats(running_mean, running_var, x, momentum=0.1):",
    instructions=("Update batch norm's running statistics with a batch x of shape (batch, features), as "
                  "BatchNorm1d does in training: new = (1 - momentum) * running + momentum * batch_stat, where the "
                  "batch variance is the UNBIASED one (divide by batch - 1). Return (new_mean, new_var)."),
    reference=_update_running_stats,
    cases=(
        Case("PyTorch's start, mean 0 and var 1, a batch of 8", _rs_case(131, 8, 4, 0.1, fresh=True)),
        Case("a batch of 2, where unbiased and biased differ by 2x", _rs_case(132, 2, 3, 0.1)),
        Case("momentum = 0.3", _rs_case(133, 6, 5, 0.3)),
        Case("momentum = 1: just the batch's statistics", _rs_case(134, 5, 3, 1.0)),
        Case("momentum = 0: nothing changes", _rs_case(135, 4, 3, 0.0)),
    ),
    outputs=("running_mean", "running_var"),
    mistakes=(
        Mistake("the running variance uses the *unbiased* batch variance (divide by batch - 1), as PyTorch does: "
                "x.var(dim=0) or var * n / (n - 1).",
                fn=lambda rm, rv, x, m=0.1: ((1 - m) * rm + m * x.mean(0), (1 - m) * rv + m * x.var(0, unbiased=False))),
        Mistake("PyTorch's momentum is the weight of the *new* batch: (1 - momentum) * running + momentum * batch "
                "(the opposite of an optimizer's momentum).",
                fn=lambda rm, rv, x, m=0.1: (m * rm + (1 - m) * x.mean(0), m * rv + (1 - m) * x.var(0))),
        Mistake("track the variance, not the standard deviation: use x.var(dim=0), not x.std(dim=0).",
                fn=lambda rm, rv, x, m=0.1: ((1 - m) * rm + m * x.mean(0), (1 - m) * rv + m * x.std(0))),
        Mistake("the statistics are per feature, over the batch: reduce over dim=0.",
                fn=lambda rm, rv, x, m=0.1: ((1 - m) * rm + m * x.mean(1).mean(), (1 - m) * rv + m * x.var(1).mean())),
        Mistake("update the running variance too, the same way as the mean.",
                fn=lambda rm, rv, x, m=0.1: ((1 - m) * rm + m * x.mean(0), rv)),
    ),
    hint="new_mean = (1 - momentum) * running_mean + momentum * x.mean(0); likewise the variance with x.var(0).",
))
