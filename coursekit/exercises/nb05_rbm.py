"""Exercises of ``notebooks/05_rbm_dbn_pretraining.ipynb``: free_energy, cd1_update, exact_log_likelihood.

SPOILERS: the reference solutions. Each ``_register(Exercise(...))`` below is one
exercise (signature, instructions, reference, seeded cases, known mistakes with
their hints); a new exercise for this notebook is one more such entry.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F

from .._i18n import N_
from .engine import _binary, _randn, _register
from .pieces import Case, Exercise, Mistake

# =========================================================================== 05 RBM and DBN
# W has shape (n_hidden, n_visible), the layout of nn.Linear(n_visible, n_hidden).weight and of
# coursekit.rbm.RBM.weight: the hidden units' input is v @ W.T + b, the visible units' is h @ W + a.


def _free_energy(v, W, a, b):
    return -(v @ a) - F.softplus(v @ W.T + b).sum(dim=-1)


def _rbm(seed: int, batch: int, n_v: int, n_h: int, scale: float = 0.5, dtype=torch.float64):
    def make() -> dict[str, Any]:
        return {"v": _binary(seed, batch, n_v).to(dtype), "W": _randn(seed + 1, n_h, n_v, scale=scale).to(dtype),
                "a": _randn(seed + 2, n_v, scale=0.3).to(dtype), "b": _randn(seed + 3, n_h, scale=0.3).to(dtype)}
    return make


_register(Exercise(
    name="free_energy",
    notebook="05_rbm_dbn_pretraining.ipynb",
    signature="def free_energy(v, W, a, b):",
    instructions=N_("Return the free energy of each row of v (shape (batch, n_visible)) under an RBM with weights "
                  "W (n_hidden, n_visible), visible bias a and hidden bias b: "
                  "F(v) = -sum_i a_i v_i - sum_j log(1 + exp(b_j + sum_i W_ji v_i)), a tensor of shape (batch,). "
                  "Compute log(1 + exp(x)) in a form that cannot overflow."),
    reference=_free_energy,
    cases=(
        Case(N_("a batch of 4, a square W (5 hidden, 5 visible)"), _rbm(84, 4, 5, 5)),
        Case(N_("one example, 3 visible, 2 hidden"), _rbm(81, 1, 3, 2)),
        Case(N_("a batch of 5, 6 visible, 4 hidden"), _rbm(82, 5, 6, 4)),
        Case(N_("the all-zeros visible vector"), lambda: {**_rbm(83, 3, 4, 5)(), "v": torch.zeros(3, 4, dtype=torch.float64)}),
        Case(N_("large weights in float32, where exp overflows"), _rbm(85, 4, 8, 3, scale=60.0, dtype=torch.float32)),
    ),
    outputs=("F",),
    mistakes=(
        Mistake(N_("log(1 + exp(x)) overflows for large x (exp(89) is inf in float32): use "
                "torch.nn.functional.softplus(x), which is safe."),
                fn=lambda v, W, a, b: -(v @ a) - torch.log(1 + torch.exp(v @ W.T + b)).sum(dim=-1)),
        Mistake(N_("F(v) = -v @ a - sum softplus(...): both terms carry a minus sign."),
                fn=lambda v, W, a, b: (v @ a) + F.softplus(v @ W.T + b).sum(dim=-1)),
        Mistake(N_("don't forget the visible-bias term -v @ a."),
                fn=lambda v, W, a, b: -F.softplus(v @ W.T + b).sum(dim=-1)),
        Mistake(N_("sum over the hidden units, don't average them."),
                fn=lambda v, W, a, b: -(v @ a) - F.softplus(v @ W.T + b).mean(dim=-1)),
        Mistake(N_("the hidden units are summed out, which gives log(1 + e^x) (softplus), not sigmoid(x)."),
                fn=lambda v, W, a, b: -(v @ a) - torch.sigmoid(v @ W.T + b).sum(dim=-1)),
        Mistake(N_("W has shape (n_hidden, n_visible), like nn.Linear's weight: the hidden input is v @ W.T + b."),
                fn=lambda v, W, a, b: -(v @ a) - F.softplus(v @ W + b).sum(dim=-1)),
    ),
    hint=N_("F(v) = -v @ a - softplus(v @ W.T + b).sum(dim=-1): one number per row of v."),
    error_hint=N_("check the shapes: v is (batch, n_visible) and W is (n_hidden, n_visible), so v @ W.T + b is "
               "(batch, n_hidden) and v @ a is (batch,)."),
))


def _cd1_update(v0, h0, W, a, b, lr):
    ph0 = torch.sigmoid(v0 @ W.T + b)
    v1 = torch.sigmoid(h0 @ W + a)
    ph1 = torch.sigmoid(v1 @ W.T + b)
    n = v0.shape[0]
    W = W + lr * (ph0.T @ v0 - ph1.T @ v1) / n
    a = a + lr * (v0 - v1).mean(dim=0)
    b = b + lr * (ph0 - ph1).mean(dim=0)
    return W, a, b


def _cd1_wrong(v0, h0, W, a, b, lr, *, sign=1.0, average=True, pos_sample=False, recon_from_prob=False,
               biases=True, neg_hidden_sample=False):
    ph0 = torch.sigmoid(v0 @ W.T + b)
    v1 = torch.sigmoid((ph0 if recon_from_prob else h0) @ W + a)
    ph1 = torch.sigmoid(v1 @ W.T + b)
    pos = h0 if pos_sample else ph0
    neg = h0 if neg_hidden_sample else ph1
    n = v0.shape[0] if average else 1
    W2 = W + sign * lr * (pos.T @ v0 - neg.T @ v1) / n
    if not biases:
        return W2, a, b
    return W2, a + sign * lr * (v0 - v1).sum(dim=0) / n, b + sign * lr * (pos - neg).sum(dim=0) / n


def _cd1(seed: int, batch: int, n_v: int, n_h: int, lr: float = 0.1) -> Callable[[], dict[str, Any]]:
    def make() -> dict[str, Any]:
        return {"v0": _binary(seed, batch, n_v), "h0": _binary(seed + 1, batch, n_h),
                "W": _randn(seed + 2, n_h, n_v, scale=0.5), "a": _randn(seed + 3, n_v, scale=0.2),
                "b": _randn(seed + 4, n_h, scale=0.2), "lr": lr}
    return make


_register(Exercise(
    name="cd1_update",
    notebook="05_rbm_dbn_pretraining.ipynb",
    signature="def cd1_update(v0, h0, W, a, b, lr):",
    instructions=N_("One CD-1 update, with no random numbers of its own. v0: a batch of data (batch, n_visible); "
                  "h0: hidden states already sampled from p(h | v0); W: (n_hidden, n_visible). Positive "
                  "statistics from the data and p(h = 1 | v0); the reconstruction v1 = p(v = 1 | h0), as "
                  "probabilities; negative statistics from v1 and p(h = 1 | v1). Move W, a and b by "
                  "lr * (positive - negative), averaged over the batch, and return the new (W, a, b)."),
    reference=_cd1_update,
    cases=(
        Case(N_("one example, 3 visible, 2 hidden"), _cd1(91, 1, 3, 2)),
        Case(N_("a batch of 6, 5 visible, 4 hidden"), _cd1(92, 6, 5, 4)),
        Case(N_("a square W, batch of 4"), _cd1(93, 4, 4, 4, lr=0.5)),
        Case(N_("lr = 0: nothing changes"), _cd1(94, 3, 4, 2, lr=0.0)),
        Case(N_("all hidden samples off"), lambda: {**_cd1(95, 5, 6, 3)(), "h0": torch.zeros(5, 3, dtype=torch.float64)}),
    ),
    outputs=("W", "a", "b"),
    mistakes=(
        Mistake(N_("CD-1 *raises* the probability of the data: add lr * (positive - negative) statistics; "
                "you subtracted them."),
                fn=lambda *x: _cd1_wrong(*x, sign=-1.0)),
        Mistake(N_("average the statistics over the batch: divide the sums by the batch size."),
                fn=lambda *x: _cd1_wrong(*x, average=False)),
        Mistake(N_("in the positive statistics use the probabilities ph0 = sigmoid(v0 @ W.T + b), not the sample h0 "
                "(the sample only drives the reconstruction)."),
                fn=lambda *x: _cd1_wrong(*x, pos_sample=True)),
        Mistake(N_("the reconstruction starts from the *sampled* hidden states: v1 = sigmoid(h0 @ W + a)."),
                fn=lambda *x: _cd1_wrong(*x, recon_from_prob=True)),
        Mistake(N_("the negative statistics use ph1 = sigmoid(v1 @ W.T + b), the hidden probabilities given the "
                "reconstruction, not h0."),
                fn=lambda *x: _cd1_wrong(*x, neg_hidden_sample=True)),
        Mistake(N_("update the biases too: a += lr * mean(v0 - v1), b += lr * mean(ph0 - ph1)."),
                fn=lambda *x: _cd1_wrong(*x, biases=False)),
    ),
    hint=N_("positive phase from the data (v0, ph0), negative phase from the reconstruction (v1, ph1); "
         "update = lr * (positive - negative) averaged over the batch."),
    error_hint=N_("check the shapes: W is (n_hidden, n_visible), so v0 @ W.T is (batch, n_hidden), h0 @ W is "
               "(batch, n_visible), and the weight statistics ph0.T @ v0 are (n_hidden, n_visible) like W."),
))


def _every_image(n_v: int, dtype: torch.dtype) -> torch.Tensor:
    codes = torch.arange(2 ** n_v).unsqueeze(1)
    return ((codes >> torch.arange(n_v - 1, -1, -1)) & 1).to(dtype)


def _exact_log_likelihood(v, W, a, b):
    every = _every_image(W.shape[1], v.dtype)
    log_z = torch.logsumexp(-_free_energy(every, W, a, b), dim=0)
    return -_free_energy(v, W, a, b) - log_z


def _ll_without_log_z(v, W, a, b):
    return -_free_energy(v, W, a, b)


def _ll_log_z_over_batch(v, W, a, b):
    return -_free_energy(v, W, a, b) - torch.logsumexp(-_free_energy(v, W, a, b), dim=0)


def _ll_sign(v, W, a, b):
    every = _every_image(W.shape[1], v.dtype)
    return _free_energy(v, W, a, b) - torch.logsumexp(_free_energy(every, W, a, b), dim=0)


def _ll_naive(v, W, a, b):
    every = _every_image(W.shape[1], v.dtype)
    return -_free_energy(v, W, a, b) - torch.log(torch.exp(-_free_energy(every, W, a, b)).sum())


_register(Exercise(
    name="exact_log_likelihood",
    notebook="05_rbm_dbn_pretraining.ipynb",
    signature="def exact_log_likelihood(v, W, a, b):",
    instructions=N_("Return log p(v) = -F(v) - log Z for every row of v (batch, n_visible) under a small RBM with "
                  "weights W (n_hidden, n_visible), visible bias a and hidden bias b, a tensor of shape (batch,). "
                  "log Z = logsumexp of -F(v') over all 2**n_visible binary images v' (all_binary_states lists "
                  "them); use softplus for F and torch.logsumexp for log Z, so that nothing overflows."),
    reference=_exact_log_likelihood,
    cases=(
        Case(N_("a batch of 5, 4 visible, 3 hidden"), _rbm(121, 5, 4, 3)),
        Case(N_("one example, 2 visible, 2 hidden"), _rbm(122, 1, 2, 2)),
        Case(N_("the 6-pixel bars RBM's size, 6 visible, 4 hidden"), _rbm(123, 8, 6, 4, scale=1.0)),
        Case(N_("one visible unit"), _rbm(124, 3, 1, 2)),
        Case(N_("large weights in float32, where exp(-F) overflows"), _rbm(125, 4, 5, 3, scale=60.0, dtype=torch.float32)),
    ),
    outputs=("log_p",),
    mistakes=(
        Mistake(N_("log p(v) needs log Z: -F(v) alone is log of the *unnormalised* probability; subtract "
                "log Z = logsumexp(-F(v')) over every binary image v'."),
                fn=_ll_without_log_z),
        Mistake(N_("Z sums over every possible image (all_binary_states(n_visible)), not over the images in the batch."),
                fn=_ll_log_z_over_batch),
        Mistake(N_("p(v) = exp(-F(v)) / Z: both the free energy of v and the ones inside log Z carry a minus sign."),
                fn=_ll_sign),
        Mistake(N_("log(sum(exp(...))) overflows for large weights: use torch.logsumexp, which is safe."),
                test=lambda args, expected, got: not bool(torch.isfinite(torch.as_tensor(got)).all())),
    ),
    hint=N_("log p(v) = -F(v) - torch.logsumexp(-F(all_binary_states(n_visible)), dim=0), with F from exercise 1."),
    error_hint=N_("check the shapes: all_binary_states(n) is (2**n, n), so its free energies form a vector of "
               "2**n numbers, and log Z is one number."),
))
