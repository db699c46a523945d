"""The training loop behind :meth:`coursekit.rbm.RBM.fit`: CD-k / PCD-k, preallocated and in place.

This is the same update that :meth:`coursekit.rbm.RBM.cd_gradient` spells out
(plus momentum and weight decay, as :meth:`~coursekit.rbm.RBM.fit` documents),
rearranged so that a minibatch costs as few PyTorch calls as possible: the
biases folded into one augmented weight matrix, states kept transposed in
preallocated buffers written in place, random numbers drawn in blocks, no
``.item()`` inside the loop. It is kept apart from ``coursekit/rbm.py`` so
that the module a learner reads beside ``notebooks/05_rbm_dbn_pretraining.ipynb``
stays readable; a learner never needs to open this file.

Equal to the readable update, number for number up to float rounding:
``tests/test_rbm_fast.py`` trains one RBM with :class:`FastCD` and one with
``cd_gradient`` from the same generator, in the same batch order, for CD-1,
CD-k and PCD-k, with and without momentum and weight decay, and compares
them. Its speed against scikit-learn's ``BernoulliRBM`` is measured by
``benchmarks/bench_rbm.py``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:  # only for annotations: coursekit.rbm imports this module
    from .rbm import RBM

__all__ = ["FastCD", "draw_noise"]


def draw_noise(generator: torch.Generator | None, steps: int, k: int, n_hidden: int, n_visible: int,
               batch: int, sample_visible: bool, device: torch.device, dtype: torch.dtype
               ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The random numbers of ``steps`` CD-k / PCD-k updates, drawn in two calls.

    Returns ``uh`` of shape ``(steps, k, n_hidden + 1, batch)``: uniforms for the
    hidden samples (``h = u < p``), stored transposed with an extra last row of
    -1 so that comparing it with a probability column that ends in 1 yields the
    constant 1 of the augmented bias row; and ``lv`` of shape
    ``(steps, k, n_visible, batch)``: logits of uniforms for the visible samples
    (``u < sigmoid(x)`` is the same event as ``logit(u) < x``, so the visible
    sample needs no sigmoid), or None when visible units are not sampled.
    :class:`FastCD` and :meth:`coursekit.rbm.RBM.cd_gradient` both draw through
    this function, which is what lets a test compare them number for number.
    """
    uh = torch.rand(steps, k, n_hidden + 1, batch, generator=generator, device=device, dtype=dtype)
    uh[:, :, n_hidden].fill_(-1.0)
    lv = None
    if sample_visible:
        lv = torch.rand(steps, k, n_visible, batch, generator=generator, device=device, dtype=dtype).logit_()
    return uh, lv


class FastCD:
    """The state of one :meth:`RBM.fit <coursekit.rbm.RBM.fit>` call: buffers, velocity, persistent chains.

    Folding the biases into one augmented matrix::

        Wa = [[W, b],      shape (n_hidden + 1, n_visible + 1)
              [a, 0]]

    turns "pre-activation = W v + b" into one matrix product with ``[v, 1]``
    and "update W, a and b" into two ``addmm_`` calls: the outer products of
    ``[h, 1]`` with ``[v, 1]`` carry the bias gradients in their last row and
    column. Hidden and visible states are kept transposed (units x batch) in
    preallocated buffers whose last row is constant 1, so every product writes
    straight into a contiguous buffer and nothing is allocated per update.
    One update is 9 calls: 3 products, 2 sigmoids, 2 in-place comparisons that
    sample, 2 ``addmm_`` for the update (plus 1-2 with momentum / weight decay).

    Args:
        rbm: the RBM to train; :meth:`write_back` copies ``Wa`` into its parameters.
        batch: examples per update.
        k: Gibbs steps per update.
        persistent: PCD-k (chains kept across updates, starting from ``h = 0``
            as scikit-learn's) instead of CD-k (chains restarted at the data).
        sample_visible: binary visible samples in the negative phase, or their
            probabilities.
        use_momentum: keep a velocity (needed whenever some epoch has momentum > 0).
        updates_per_draw: updates whose random numbers :func:`draw_noise` draws
            in one call; None: as many as fit in about 4 MB. It decides the order
            in which the generator's numbers are used, so changing it changes the
            samples; 1 uses them in the order of successive ``cd_gradient`` calls.
    """

    def __init__(self, rbm: RBM, batch: int, k: int, persistent: bool, sample_visible: bool,
                 use_momentum: bool, updates_per_draw: int | None = None) -> None:
        self.rbm, self.bs, self.k = rbm, batch, k
        self.persistent, self.sample_visible = persistent, sample_visible
        nh, nv = rbm.n_hidden, rbm.n_visible
        self.nh, self.nv = nh, nv
        dev, dt = rbm.device, rbm.weight.dtype
        self.dev, self.dt = dev, dt
        with torch.no_grad():
            wa = torch.zeros(nh + 1, nv + 1, device=dev, dtype=dt)
            wa[:nh, :nv] = rbm.weight
            wa[:nh, nv] = rbm.hidden_bias
            wa[nh, :nv] = rbm.visible_bias
        self.wa = wa
        self.w_h = wa[:nh]            # (nh, nv+1): hidden pre-activations from [v; 1]
        self.w_vt = wa[:, :nv].T      # (nv, nh+1): visible pre-activations from [h; 1]
        self.w_only = wa[:nh, :nv]    # the part that gets weight decay
        self.h_pos = torch.ones(nh + 1, batch, device=dev, dtype=dt)
        self.h_neg = torch.ones(nh + 1, batch, device=dev, dtype=dt)
        self.v_neg = torch.ones(nv + 1, batch, device=dev, dtype=dt)
        self.chain = torch.zeros(nh + 1, batch, device=dev, dtype=dt)  # PCD starts from h = 0, as scikit-learn
        self.chain[nh] = 1.0
        self.vel = torch.zeros_like(wa) if use_momentum else None
        self.vel_w = self.vel[:nh, :nv] if use_momentum else None
        # random numbers are drawn for this many updates at a time (about 4 MB)
        if updates_per_draw is None:
            updates_per_draw = max(1, (1 << 20) // (k * (nh + nv + 2) * batch))
        self.chunk = updates_per_draw

    def write_back(self) -> None:
        """Copy ``Wa`` into the RBM's ``weight``, ``hidden_bias`` and ``visible_bias``."""
        rbm, nh, nv = self.rbm, self.nh, self.nv
        with torch.no_grad():
            rbm.weight.copy_(self.wa[:nh, :nv])
            rbm.hidden_bias.copy_(self.wa[:nh, nv])
            rbm.visible_bias.copy_(self.wa[nh, :nv])

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        """``[x, 1]``: the data with the constant column that multiplies the hidden biases."""
        return torch.cat([x, torch.ones(x.shape[0], 1, device=x.device, dtype=x.dtype)], 1)

    def epoch(self, x_aug: torch.Tensor, gen: torch.Generator, lr: float, mom: float, wd: float,
              shuffle: bool) -> None:
        """One pass over ``x_aug`` (from :meth:`augment`): ``ceil(n / batch)`` updates of ``Wa`` in place.

        The order is ``torch.randperm(n, generator=gen)`` (or ``0..n-1`` without
        ``shuffle``); a last batch that ``batch`` does not fill is topped up from
        the start of that order. Call :meth:`write_back` to see the result in the RBM.
        """
        n, bs, k, nh, nv = x_aug.shape[0], self.bs, self.k, self.nh, self.nv
        nb = -(-n // bs)
        order = torch.randperm(n, generator=gen, device=self.dev) if shuffle else torch.arange(n, device=self.dev)
        if nb * bs > n:  # top up the last batch from the start of the order
            order = order.repeat(-(-nb * bs // n))[: nb * bs]
        xa = x_aug[order].view(nb, bs, nv + 1)  # one gather per epoch
        rows, cols = xa.unbind(0), xa.transpose(1, 2).unbind(0)
        c = lr / bs
        w_h, w_vt, wa = self.w_h, self.w_vt, self.wa
        h_pos, h_neg, v_neg = self.h_pos, self.h_neg, self.v_neg
        h_pos_h, h_neg_h, v_neg_v, v_neg_rows = h_pos[:nh], h_neg[:nh], v_neg[:nv], v_neg.T
        chain, persistent, sample_v = self.chain, self.persistent, self.sample_visible
        vel, vel_w, w_only = self.vel, self.vel_w, self.w_only
        use_mom = vel is not None
        decay = lr * wd
        for s0 in range(0, nb, self.chunk):
            m = min(self.chunk, nb - s0)
            uh, lv = draw_noise(gen, m, k, nh, nv, bs, sample_v, self.dev, self.dt)
            u_it = iter(uh.view(m * k, nh + 1, bs).unbind(0))
            l_it = iter(lv.view(m * k, nv, bs).unbind(0)) if sample_v else None
            for t in range(s0, s0 + m):
                xt = cols[t]
                torch.mm(w_h, xt, out=h_pos_h)
                h_pos_h.sigmoid_()
                if not persistent:
                    chain = next(u_it).lt_(h_pos)
                for j in range(k):
                    torch.mm(w_vt, chain, out=v_neg_v)
                    if sample_v:
                        v_neg_v.gt_(next(l_it))
                    else:
                        v_neg_v.sigmoid_()
                    torch.mm(w_h, v_neg, out=h_neg_h)
                    h_neg_h.sigmoid_()
                    if persistent or j < k - 1:
                        chain = next(u_it).lt_(h_neg)
                if use_mom:
                    vel.addmm_(h_pos, rows[t], beta=mom, alpha=c)
                    vel.addmm_(h_neg, v_neg_rows, alpha=-c)
                    if decay:
                        vel_w.add_(w_only, alpha=-decay)
                    wa.add_(vel)
                else:
                    if decay:
                        w_only.mul_(1.0 - decay)
                    wa.addmm_(h_pos, rows[t], alpha=c)
                    wa.addmm_(h_neg, v_neg_rows, alpha=-c)
        if persistent:
            self.chain = chain

    def persistent_chain(self) -> torch.Tensor:
        """The persistent chains' hidden states, ``(batch, n_hidden)``, as a new tensor."""
        return self.chain[: self.nh].T.clone()
