"""Exact quantities of a tiny RBM, by enumerating every state: all binary vectors, ``log Z``, ``log p(v)``.

Only possible when one layer has at most :data:`MAX_ENUMERATION_UNITS` units
(``2 ** n`` states to sum). Notebook 05 uses them to check contrastive divergence
against the exact gradient; :meth:`coursekit.rbm.RBM.log_partition` and
:meth:`~coursekit.rbm.RBM.log_likelihood` call these functions.

Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
"""
from __future__ import annotations

import torch
from torch.nn import functional as F

from ._checks import check_int

__all__ = ["MAX_ENUMERATION_UNITS", "all_binary_states", "log_partition", "log_likelihood"]

#: Exact log-likelihoods enumerate ``2 ** min(n_visible, n_hidden)`` states; beyond
#: this many units the sum is too large to do by brute force.
MAX_ENUMERATION_UNITS = 20


def all_binary_states(n: int, dtype: torch.dtype = torch.float32, device: str | torch.device | None = None
                      ) -> torch.Tensor:
    """Every binary vector of length ``n``, one per row, in counting order.

    ``all_binary_states(2)`` is ``[[0, 0], [0, 1], [1, 0], [1, 1]]``.

    Args:
        n: vector length, 1 to :data:`MAX_ENUMERATION_UNITS`.
        dtype, device: of the returned tensor.

    Returns:
        A ``(2 ** n, n)`` tensor of zeros and ones.

    Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
    """
    n = check_int("n", n, minimum=1, maximum=MAX_ENUMERATION_UNITS)
    codes = torch.arange(2 ** n, device=device)
    bits = 2 ** torch.arange(n - 1, -1, -1, device=device)
    return ((codes[:, None] & bits) > 0).to(dtype)


def check_enumerable(rbm) -> None:
    """Raise a ``ValueError`` unless the smaller layer of ``rbm`` can be enumerated."""
    small = min(rbm.n_visible, rbm.n_hidden)
    if small > MAX_ENUMERATION_UNITS:
        raise ValueError(
            f"exact enumeration needs min(n_visible, n_hidden) <= {MAX_ENUMERATION_UNITS}; this RBM has "
            f"{rbm.n_visible} visible and {rbm.n_hidden} hidden units (2^{small} states to sum): "
            f"use pseudo_likelihood or the free-energy gap instead"
        )


def log_partition(rbm) -> torch.Tensor:
    """Exact ``log Z`` by enumerating every state of the smaller layer (float64, differentiable).

    ``Z = sum_v exp(-F(v))``; when there are fewer hidden than visible units
    the same sum is taken over ``h`` with the hidden-side free energy
    ``-b.h - sum_i softplus(a_i + h . W[:, i])``. Only for tiny RBMs
    (at most :data:`MAX_ENUMERATION_UNITS` units in one layer).

    Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
    """
    check_enumerable(rbm)
    w = rbm.weight.double()
    a, b = rbm.visible_bias.double(), rbm.hidden_bias.double()
    if rbm.n_hidden <= rbm.n_visible:
        n, side = rbm.n_hidden, "h"
    else:
        n, side = rbm.n_visible, "v"
    chunk = 1 << 14
    parts = []
    for start in range(0, 2 ** n, chunk):
        codes = torch.arange(start, min(start + chunk, 2 ** n), device=w.device)
        s = ((codes[:, None] & (2 ** torch.arange(n - 1, -1, -1, device=w.device))) > 0).double()
        if side == "h":
            neg_f = s @ b + F.softplus(torch.addmm(a, s, w)).sum(1)
        else:
            neg_f = s @ a + F.softplus(F.linear(s, w, b)).sum(1)
        parts.append(torch.logsumexp(neg_f, 0))
    return torch.logsumexp(torch.stack(parts), 0)


def log_likelihood(rbm, v: torch.Tensor) -> torch.Tensor:
    """Exact ``log p(v) = -F(v) - log Z`` per binary row (float64, differentiable).

    After ``rbm.requires_grad_()``, differentiate its mean with
    ``torch.autograd.grad`` to get the exact gradient that contrastive
    divergence approximates. Tiny RBMs only.

    Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
    """
    check_enumerable(rbm)
    v = v.double()  # binary rows (RBM.log_likelihood checks them)
    w = rbm.weight.double()
    a, b = rbm.visible_bias.double(), rbm.hidden_bias.double()
    neg_f = v @ a + F.softplus(F.linear(v, w, b)).sum(1)
    return neg_f - log_partition(rbm)
