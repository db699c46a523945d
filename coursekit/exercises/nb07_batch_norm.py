"""Exercises of ``notebooks/07_batch_norm.ipynb``: batchnorm_forward_train, update_running_stats,
predict_running_mean, batchnorm_backward.

SPOILERS: the reference solutions. Each ``_register(Exercise(...))`` below is one
exercise (signature, instructions, reference, seeded cases, known mistakes with
their hints); a new exercise for this notebook is one more such entry.
"""
from __future__ import annotations

from typing import Any

import torch

from .._i18n import N_
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
    instructions=N_("Batch norm in training mode for x of shape (batch, features): per feature, the batch mean and "
                  "the biased variance (divide by batch, as BatchNorm1d does); x_hat = (x - mean) / sqrt(var + eps); "
                  "return gamma * x_hat + beta."),
    reference=_batchnorm_forward_train,
    cases=(
        Case(N_("a batch of 8, 4 features"), _bn_case(121, 8, 4)),
        Case(N_("a batch of 2, the smallest"), _bn_case(122, 2, 3)),
        Case(N_("a feature that is constant over the batch"), _bn_case(123, 6, 3, constant_feature=True)),
        Case(N_("eps = 0.5, large enough to matter"), _bn_case(124, 5, 4, eps=0.5)),
        Case(N_("a square batch, 5 x 5"), _bn_case(125, 5, 5)),
    ),
    mistakes=(
        Mistake(N_("normalize with the *biased* batch variance (divide by N): x.var(dim=0, unbiased=False), as "
                "BatchNorm1d does in training; the unbiased one is only for the running estimate."),
                fn=lambda x, g, b, eps=1e-5: g * (x - x.mean(0)) / torch.sqrt(x.var(0) + eps) + b),
        Mistake(N_("the statistics are per feature, over the batch: reduce over dim=0."),
                fn=lambda x, g, b, eps=1e-5: g * (x - x.mean(1, keepdim=True))
                / torch.sqrt(x.var(1, unbiased=False, keepdim=True) + eps) + b),
        Mistake(N_("eps goes inside the square root: (x - mean) / sqrt(var + eps)."),
                fn=lambda x, g, b, eps=1e-5: g * (x - x.mean(0)) / (x.var(0, unbiased=False).sqrt() + eps) + b),
        Mistake(N_("add eps to the variance: it keeps a feature that is constant over the batch from dividing 0 by 0."),
                fn=lambda x, g, b, eps=1e-5: g * (x - x.mean(0)) / x.var(0, unbiased=False).sqrt() + b),
        Mistake(N_("divide by the standard deviation sqrt(var + eps), not by the variance."),
                fn=lambda x, g, b, eps=1e-5: g * (x - x.mean(0)) / (x.var(0, unbiased=False) + eps) + b),
        Mistake(N_("finish with the learnable scale and shift: gamma * x_hat + beta."),
                fn=lambda x, g, b, eps=1e-5: (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + eps)),
        Mistake(N_("gamma scales and beta shifts: gamma * x_hat + beta, not beta * x_hat + gamma."),
                fn=lambda x, g, b, eps=1e-5: b * (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + eps) + g),
    ),
    hint=N_("mean and var over dim 0 (biased), x_hat = (x - mean) / sqrt(var + eps), then gamma * x_hat + beta."),
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
    instructions=N_("Update batch norm's running statistics with a batch x of shape (batch, features), as "
                  "BatchNorm1d does in training: new = (1 - momentum) * running + momentum * batch_stat, where the "
                  "batch variance is the UNBIASED one (divide by batch - 1). Return (new_mean, new_var)."),
    reference=_update_running_stats,
    cases=(
        Case(N_("PyTorch's start, mean 0 and var 1, a batch of 8"), _rs_case(131, 8, 4, 0.1, fresh=True)),
        Case(N_("a batch of 2, where unbiased and biased differ by 2x"), _rs_case(132, 2, 3, 0.1)),
        Case(N_("momentum = 0.3"), _rs_case(133, 6, 5, 0.3)),
        Case(N_("momentum = 1: just the batch's statistics"), _rs_case(134, 5, 3, 1.0)),
        Case(N_("momentum = 0: nothing changes"), _rs_case(135, 4, 3, 0.0)),
    ),
    outputs=("running_mean", "running_var"),
    mistakes=(
        Mistake(N_("the running variance uses the *unbiased* batch variance (divide by batch - 1), as PyTorch does: "
                "x.var(dim=0) or var * n / (n - 1)."),
                fn=lambda rm, rv, x, m=0.1: ((1 - m) * rm + m * x.mean(0), (1 - m) * rv + m * x.var(0, unbiased=False))),
        Mistake(N_("PyTorch's momentum is the weight of the *new* batch: (1 - momentum) * running + momentum * batch "
                "(the opposite of an optimizer's momentum)."),
                fn=lambda rm, rv, x, m=0.1: (m * rm + (1 - m) * x.mean(0), m * rv + (1 - m) * x.var(0))),
        Mistake(N_("track the variance, not the standard deviation: use x.var(dim=0), not x.std(dim=0)."),
                fn=lambda rm, rv, x, m=0.1: ((1 - m) * rm + m * x.mean(0), (1 - m) * rv + m * x.std(0))),
        Mistake(N_("the statistics are per feature, over the batch: reduce over dim=0."),
                fn=lambda rm, rv, x, m=0.1: ((1 - m) * rm + m * x.mean(1).mean(), (1 - m) * rv + m * x.var(1).mean())),
        Mistake(N_("update the running variance too, the same way as the mean."),
                fn=lambda rm, rv, x, m=0.1: ((1 - m) * rm + m * x.mean(0), rv)),
    ),
    hint=N_("new_mean = (1 - momentum) * running_mean + momentum * x.mean(0); likewise the variance with x.var(0)."),
))


def _predict_running_mean(mu, momentum, steps):
    """Run a fresh torch.nn.BatchNorm1d on `steps` batches of mean mu and read its running mean."""
    bn = torch.nn.BatchNorm1d(1, momentum=momentum).double().train()
    batch = torch.tensor([[mu - 1.0], [mu + 1.0]], dtype=torch.float64)   # mean exactly mu
    with torch.no_grad():
        for _ in range(steps):
            bn(batch)
    return float(bn.running_mean[0])


def _rm_case(mu: float, momentum: float, steps: int):
    return lambda: {"mu": mu, "momentum": momentum, "steps": steps}


_register(Exercise(
    name="predict_running_mean",
    notebook="07_batch_norm.ipynb",
    signature="def predict_running_mean(mu, momentum, steps):",
    instructions=N_("Predict the running mean of a fresh BatchNorm1d (it starts at 0) after `steps` training batches "
                  "that all have mean mu, with PyTorch's momentum convention; return a number. The check runs a "
                  "real torch.nn.BatchNorm1d and compares."),
    reference=_predict_running_mean,
    cases=(
        Case(N_("one step, momentum 0.1"), _rm_case(2.0, 0.1, 1)),
        Case(N_("ten steps, momentum 0.1"), _rm_case(2.0, 0.1, 10)),
        Case(N_("44 steps, momentum 0.1: about a hundredth of the gap left"), _rm_case(-3.0, 0.1, 44)),
        Case(N_("momentum 0.5, 3 steps"), _rm_case(1.5, 0.5, 3)),
        Case(N_("momentum 1: only the last batch counts"), _rm_case(4.0, 1.0, 2)),
        Case(N_("zero steps: still the start"), _rm_case(5.0, 0.1, 0)),
    ),
    mistakes=(
        Mistake(N_("PyTorch's momentum weights the *new* batch: each step closes a share `momentum` of the gap, so "
                "the gap left is (1 - momentum) ** steps (Keras's convention is the other way round)."),
                fn=lambda mu, m, steps: mu * (1 - m ** steps)),
        Mistake(N_("the running mean does not jump to mu: it starts at 0 and closes part of the gap at each step."),
                fn=lambda mu, m, steps: mu),
        Mistake(N_("every step closes part of the gap, not only the first: the gap left after k steps is "
                "(1 - momentum) ** k."),
                fn=lambda mu, m, steps: mu * m if steps else 0.0),
        Mistake(N_("what is left after k steps is the gap, (1 - momentum) ** k of mu; the running mean is mu minus that."),
                fn=lambda mu, m, steps: mu * (1 - m) ** steps),
    ),
    hint=N_("after one step: momentum * mu; the gap to mu shrinks by a factor (1 - momentum) per step."),
    atol=1e-9,
))


def _batchnorm_backward(dout, x, gamma, eps=1e-5):
    """The reference: autograd through the forward pass (float64)."""
    with torch.enable_grad():
        xg = x.detach().clone().requires_grad_(True)
        gg = gamma.detach().clone().requires_grad_(True)
        bg = torch.zeros_like(gamma).requires_grad_(True)
        y = gg * (xg - xg.mean(0)) / torch.sqrt(xg.var(0, unbiased=False) + eps) + bg
        (y * dout).sum().backward()
    return xg.grad, gg.grad, bg.grad


def _bwd_case(seed: int, n: int, c: int, eps: float = 1e-5):
    def make() -> dict[str, Any]:
        return {"dout": _randn(seed, n, c), "x": _randn(seed + 1, n, c, scale=2.0) + 1.0,
                "gamma": _rand(seed + 2, c) + 0.5, "eps": eps}
    return make


def _bwd_no_mean_terms(dout, x, gamma, eps=1e-5):
    s = torch.sqrt(x.var(0, unbiased=False) + eps)
    x_hat = (x - x.mean(0)) / s
    return gamma * dout / s, (dout * x_hat).sum(0), dout.sum(0)


def _bwd_no_variance_term(dout, x, gamma, eps=1e-5):
    n = x.shape[0]
    s = torch.sqrt(x.var(0, unbiased=False) + eps)
    x_hat = (x - x.mean(0)) / s
    return gamma / (n * s) * (n * dout - dout.sum(0)), (dout * x_hat).sum(0), dout.sum(0)


def _bwd_unbiased(dout, x, gamma, eps=1e-5):
    n = x.shape[0]
    s = torch.sqrt(x.var(0, unbiased=True) + eps)
    x_hat = (x - x.mean(0)) / s
    dg, db = (dout * x_hat).sum(0), dout.sum(0)
    return gamma / (n * s) * (n * dout - db - x_hat * dg), dg, db


def _bwd_dgamma_without_xhat(dout, x, gamma, eps=1e-5):
    dx, _, db = _batchnorm_backward(dout, x, gamma, eps)
    return dx, dout.sum(0), db


def _bwd_no_gamma(dout, x, gamma, eps=1e-5):
    dx, dg, db = _batchnorm_backward(dout, x, gamma, eps)
    return dx / gamma, dg, db


_register(Exercise(
    name="batchnorm_backward",
    notebook="07_batch_norm.ipynb",
    signature="def batchnorm_backward(dout, x, gamma, eps=1e-5):",
    instructions=N_("The backward pass of batch norm in training mode for x and dout of shape (batch, features): "
                  "with x_hat = (x - mean) / s, s = sqrt(biased var + eps), return (dx, dgamma, dbeta) where "
                  "dbeta = sum of dout over the batch, dgamma = sum of dout * x_hat, and "
                  "dx = gamma / (N s) * (N dout - dbeta - x_hat * dgamma)."),
    reference=_batchnorm_backward,
    cases=(
        Case(N_("a batch of 8, 4 features"), _bwd_case(141, 8, 4)),
        Case(N_("a batch of 2, the smallest"), _bwd_case(142, 2, 3)),
        Case(N_("eps = 0.5, large enough to matter"), _bwd_case(143, 5, 3, eps=0.5)),
        Case(N_("a batch of 16, 1 feature"), _bwd_case(144, 16, 1)),
        Case(N_("a square batch, 5 x 5"), _bwd_case(145, 5, 5)),
    ),
    outputs=("dx", "dgamma", "dbeta"),
    mistakes=(
        Mistake(N_("mean and variance depend on every x_j too: dx needs the two batch sums, "
                "dx = gamma / (N s) * (N dout - sum(dout) - x_hat * sum(dout * x_hat))."),
                fn=_bwd_no_mean_terms),
        Mistake(N_("you kept the mean's term but not the variance's: subtract x_hat * sum(dout * x_hat) as well."),
                fn=_bwd_no_variance_term),
        Mistake(N_("the forward pass normalizes with the *biased* variance (divide by N): use it in s too."),
                fn=_bwd_unbiased),
        Mistake(N_("dgamma = sum over the batch of dout * x_hat (gamma multiplies x_hat), not the sum of dout."),
                fn=_bwd_dgamma_without_xhat),
        Mistake(N_("dL/dx_hat = gamma * dout: multiply by gamma."), fn=_bwd_no_gamma),
    ),
    hint=N_("dbeta = dout.sum(0); dgamma = (dout * x_hat).sum(0); dx = gamma / (N s) * (N dout - dbeta - x_hat * dgamma)."),
))
