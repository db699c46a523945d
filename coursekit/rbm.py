"""Restricted Boltzmann machines and deep belief networks, vectorised in PyTorch.

Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.

A Bernoulli-Bernoulli RBM has ``n_visible`` binary visible units ``v`` and
``n_hidden`` binary hidden units ``h``, joined by a weight matrix ``W`` (shape
``n_hidden x n_visible``, the layout of ``nn.Linear(n_visible, n_hidden).weight``)
and with biases ``a`` (visible) and ``b`` (hidden). There are no connections
inside a layer: that is the "restricted". Its energy and probability are::

    E(v, h) = -a.v - b.h - h.W.v          p(v, h) = exp(-E(v, h)) / Z

and, because a layer's units do not talk to each other, both conditionals
factorise into independent logistic units::

    p(h_j = 1 | v) = sigmoid(b_j + W_j . v)      p(v_i = 1 | h) = sigmoid(a_i + h . W[:, i])

Summing ``h`` out gives the free energy ``F(v) = -a.v - sum_j softplus(b_j + W_j . v)``
with ``p(v) = exp(-F(v)) / Z``.

Everything here is written to be read beside the notebook, and checked by
``tests/test_rbm.py`` against brute-force enumeration and autograd.
"""
from __future__ import annotations

import time
from typing import Callable

import torch
from torch import nn
from torch.nn import functional as F

from . import rbm_exact
from ._checks import check_bool, check_float, check_generator, check_int, check_unit_states
from ._fit_checks import check_rbm_fit
from .rbm_exact import MAX_ENUMERATION_UNITS, all_binary_states
from .rbm_history import RBMHistory, record_epoch

__all__ = [
    "RBM", "RBMHistory", "all_binary_states", "MAX_ENUMERATION_UNITS",
]


# --------------------------------------------------------------------------- helpers

def _check_generator(generator: torch.Generator | None) -> torch.Generator | None:
    return check_generator("generator", generator)


# --------------------------------------------------------------------------- RBM

class RBM(nn.Module):
    """A Bernoulli-Bernoulli restricted Boltzmann machine.

    Parameters follow Hinton's practical guide (2010): weights drawn from
    N(0, 0.01^2), hidden biases 0, visible biases 0 until :meth:`fit` (or
    :meth:`init_visible_bias`) sets them to ``log(p_i / (1 - p_i))`` of the data.

    Args:
        n_visible: number of visible units (pixels), >= 1.
        n_hidden: number of hidden units (feature detectors), >= 1.
        weight_std: standard deviation of the initial weights (guide: 0.01).
        seed: if given, the weights are drawn from this seed without touching
            the global random state, so equal seeds give equal RBMs.
        device: where the parameters live ("cpu", "cuda", ...; default CPU).
        dtype: floating dtype of the parameters (default float32).

    Attributes:
        weight: ``(n_hidden, n_visible)``, the layout of
            ``nn.Linear(n_visible, n_hidden).weight``. The parameters start with
            ``requires_grad=False`` (CD needs no autograd); call
            ``rbm.requires_grad_()`` to differentiate through them.
        visible_bias: ``(n_visible,)``, ``a`` in the formulas.
        hidden_bias: ``(n_hidden,)``, ``b``.
        num_updates: minibatch updates done by :meth:`fit` so far.
        persistent_chain: the hidden states of the persistent chains after a
            PCD :meth:`fit` (the "fantasy particles"), else None.

    Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
    """

    def __init__(self, n_visible: int, n_hidden: int, *, weight_std: float = 0.01, seed: int | None = None,
                 device: str | torch.device | None = None, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.n_visible = check_int("n_visible", n_visible, minimum=1)
        self.n_hidden = check_int("n_hidden", n_hidden, minimum=1)
        weight_std = check_float("weight_std", weight_std, 0.0)
        if seed is not None:
            seed = check_int("seed", seed, minimum=0)
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise TypeError(f"dtype must be a floating torch.dtype such as torch.float32; got {dtype!r}")
        dev = torch.device("cpu") if device is None else torch.device(device)
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        w = torch.randn(self.n_hidden, self.n_visible, generator=gen, dtype=torch.float64) * weight_std
        # CD does not use autograd: the parameters start with requires_grad=False, so
        # every result is a plain tensor. rbm.requires_grad_() turns autograd on (e.g.
        # to differentiate the exact log_likelihood of a tiny RBM).
        self.weight = nn.Parameter(w.to(device=dev, dtype=dtype), requires_grad=False)
        self.visible_bias = nn.Parameter(torch.zeros(self.n_visible, device=dev, dtype=dtype), requires_grad=False)
        self.hidden_bias = nn.Parameter(torch.zeros(self.n_hidden, device=dev, dtype=dtype), requires_grad=False)
        self.num_updates = 0
        self.persistent_chain: torch.Tensor | None = None

    def extra_repr(self) -> str:
        return f"n_visible={self.n_visible}, n_hidden={self.n_hidden}"

    @property
    def device(self) -> torch.device:
        """Where the parameters live."""
        return self.weight.device

    def _check_v(self, v, name: str = "v", binary: bool = False) -> torch.Tensor:
        return check_unit_states(name, v, self.n_visible, binary=binary, what="visible").to(
            device=self.weight.device, dtype=self.weight.dtype)

    def _check_h(self, h, name: str = "h", binary: bool = False) -> torch.Tensor:
        return check_unit_states(name, h, self.n_hidden, binary=binary, what="hidden").to(
            device=self.weight.device, dtype=self.weight.dtype)

    # ----------------------------------------------------------- the model's formulas

    def init_visible_bias(self, x: torch.Tensor, eps: float = 1e-3) -> "RBM":
        """Set visible biases to ``log(p_i / (1 - p_i))``, ``p_i`` the mean of pixel ``i`` in ``x``.

        The practical guide's advice (section 8): with ``h = 0`` the RBM then
        already reproduces each pixel's average. ``p_i`` is clipped to
        ``[eps, 1 - eps]`` so that always-black pixels get a large but finite bias.

        Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
        """
        x = self._check_v(x, "x")
        eps = check_float("eps", eps, 0.0, 0.5, min_inclusive=False, max_inclusive=False)
        p = x.mean(0).clamp(eps, 1 - eps)
        with torch.no_grad():
            self.visible_bias.copy_(torch.log(p / (1 - p)))
        return self

    def energy(self, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``E(v, h) = -a.v - b.h - h.W.v`` for binary rows ``v`` and ``h`` (paired row by row).

        Returns a ``(n,)`` tensor. Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
        """
        v = self._check_v(v, binary=True)
        h = self._check_h(h, binary=True)
        if v.shape[0] != h.shape[0]:
            raise ValueError(f"v and h must hold the same number of rows; got {v.shape[0]} and {h.shape[0]}")
        return -(v @ self.visible_bias) - (h @ self.hidden_bias) - ((h @ self.weight) * v).sum(1)

    def _free_energy(self, v: torch.Tensor) -> torch.Tensor:
        return -(v @ self.visible_bias) - F.softplus(F.linear(v, self.weight, self.hidden_bias)).sum(1)

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """``F(v) = -log sum_h exp(-E(v, h)) = -a.v - sum_j softplus(b_j + W_j . v)``.

        Lower free energy = more probable: ``p(v) = exp(-F(v)) / Z``. Accepts
        probabilities as well as binary rows (the formula is the same).

        Returns a ``(n,)`` tensor. Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
        """
        return self._free_energy(self._check_v(v))

    def hidden_probs(self, v: torch.Tensor) -> torch.Tensor:
        """``p(h_j = 1 | v) = sigmoid(b_j + W_j . v)`` for every row of ``v``: shape ``(n, n_hidden)``.

        Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
        """
        v = self._check_v(v)
        return torch.sigmoid(F.linear(v, self.weight, self.hidden_bias))

    def visible_probs(self, h: torch.Tensor) -> torch.Tensor:
        """``p(v_i = 1 | h) = sigmoid(a_i + h . W[:, i])`` for every row of ``h``: shape ``(n, n_visible)``.

        Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
        """
        h = self._check_h(h)
        return torch.sigmoid(torch.addmm(self.visible_bias, h, self.weight))

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """The features an RBM gives a classifier: hidden probabilities ``p(h = 1 | x)``.

        Same as :meth:`hidden_probs` (scikit-learn's ``BernoulliRBM.transform``),
        computed without gradients. Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
        """
        with torch.no_grad():
            return self.hidden_probs(x)

    def gibbs_step(self, v: torch.Tensor, generator: torch.Generator | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step of block Gibbs sampling: ``h ~ p(h | v)``, then ``v' ~ p(v | h)``.

        Returns ``(v_sample, v_probs)``: the new binary visible state and the
        probabilities it was drawn from (nicer to look at).
        Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
        """
        generator = _check_generator(generator)
        v = self._check_v(v)
        with torch.no_grad():
            h = torch.bernoulli(torch.sigmoid(F.linear(v, self.weight, self.hidden_bias)), generator=generator)
            pv = torch.sigmoid(torch.addmm(self.visible_bias, h, self.weight))
            return torch.bernoulli(pv, generator=generator), pv

    def reconstruct(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """``p(v | h)`` with ``h`` sampled from ``p(h | x)``: the "reconstruction" of each row.

        Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
        """
        return self.gibbs_step(x, generator)[1]

    def sample(self, n_samples: int | None = None, *, start: torch.Tensor | None = None, steps: int = 1000,
               every: int | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
        """Run Gibbs chains and return what they reach: ``p(v | h)`` of the last step.

        Args:
            n_samples: number of chains started from random binary noise
                (each pixel on with probability 0.5). Give this or ``start``.
            start: rows to start the chains from (e.g. training images).
            steps: Gibbs steps, >= 1.
            every: if given, return a snapshot every ``every`` steps instead of
                only the last one.
            generator: a seeded ``torch.Generator`` (on the RBM's device).

        Returns:
            ``(n, n_visible)`` probabilities, or ``(steps // every, n, n_visible)``
            snapshots when ``every`` is given.

        Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
        """
        generator = _check_generator(generator)
        steps = check_int("steps", steps, minimum=1)
        if every is not None:
            every = check_int("every", every, minimum=1, maximum=steps)
        if (n_samples is None) == (start is None):
            raise ValueError("give exactly one of n_samples (chains from noise) or start (chains from data)")
        if start is None:
            n_samples = check_int("n_samples", n_samples, minimum=1)
            v = torch.bernoulli(torch.full((n_samples, self.n_visible), 0.5, device=self.device,
                                           dtype=self.weight.dtype), generator=generator)
        else:
            v = self._check_v(start, "start")
        snaps = []
        with torch.no_grad():
            w, a, b = self.weight, self.visible_bias, self.hidden_bias
            for step in range(1, steps + 1):
                h = torch.bernoulli(torch.sigmoid(F.linear(v, w, b)), generator=generator)
                pv = torch.sigmoid(torch.addmm(a, h, w))
                v = torch.bernoulli(pv, generator=generator)
                if every is not None and step % every == 0:
                    snaps.append(pv)
        return torch.stack(snaps) if every is not None else pv

    # ----------------------------------------------------------- objectives

    def pseudo_likelihood(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Stochastic pseudo-log-likelihood per row, as scikit-learn's ``BernoulliRBM.score_samples``.

        For each row one pixel ``i`` is picked at random and flipped (``x_i -> 1 - x_i``);
        ``n_visible * log sigmoid(F(x_flipped) - F(x))`` estimates
        ``sum_i log p(x_i | x_rest)``, which needs no partition function.
        Higher is better; 0 is the ceiling.

        Returns a ``(n,)`` tensor. Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
        """
        generator = _check_generator(generator)
        x = self._check_v(x, "x")
        with torch.no_grad():
            return self._pseudo_likelihood(x, generator)

    def _pseudo_likelihood(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        idx = torch.randint(0, self.n_visible, (x.shape[0],), generator=generator, device=x.device)
        rows = torch.arange(x.shape[0], device=x.device)
        flipped = x.clone()
        flipped[rows, idx] = 1 - flipped[rows, idx]
        return self.n_visible * F.logsigmoid(self._free_energy(flipped) - self._free_energy(x))

    def log_partition(self) -> torch.Tensor:
        """Exact ``log Z`` by enumeration, for tiny RBMs: see :func:`coursekit.rbm_exact.log_partition`.

        Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
        """
        return rbm_exact.log_partition(self)

    def log_likelihood(self, v: torch.Tensor) -> torch.Tensor:
        """Exact ``log p(v)`` per binary row, for tiny RBMs: see :func:`coursekit.rbm_exact.log_likelihood`.

        Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
        """
        return rbm_exact.log_likelihood(self, self._check_v(v, binary=True))

    def cd_gradient(self, v: torch.Tensor, k: int = 1, *, chain: torch.Tensor | None = None,
                    sample_visible: bool = True, generator: torch.Generator | None = None
                    ) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        """The CD-k (or persistent CD-k) estimate of the log-likelihood gradient, written plainly.

        ``dlog p / dW_ji = <v_i h_j>_data - <v_i h_j>_model``. The data term uses
        ``p(h | v)`` of the batch; the model term is replaced by the statistics
        after ``k`` Gibbs steps, started from the data (CD-k) or, when ``chain``
        is given, from the persistent chains' hidden states (PCD-k, Tieleman 2008).
        Averaged over the batch. Binary states are drawn with ``torch.bernoulli``
        from ``generator``; :meth:`fit` calls this once per minibatch.

        Args:
            v: a batch of visible rows in [0, 1], shape ``(n, n_visible)``.
            k: Gibbs steps, >= 1.
            chain: binary hidden states ``(n, n_hidden)`` of persistent chains (PCD),
                or None for CD-k started from the data.
            sample_visible: draw binary visible states in the negative phase
                (True, as scikit-learn) or use their probabilities (False).
            generator: a seeded ``torch.Generator``.

        Returns:
            ``(grads, new_chain)``: ``grads`` maps ``"weight"``, ``"visible_bias"``
            and ``"hidden_bias"`` to tensors shaped like the parameters;
            ``new_chain`` is the chains' new hidden state (None for CD-k).

        Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
        """
        generator = _check_generator(generator)
        k = check_int("k", k, minimum=1)
        sample_visible = check_bool("sample_visible", sample_visible)
        v = self._check_v(v)
        if chain is not None:
            chain = self._check_h(chain, "chain", binary=True)
            if chain.shape[0] != v.shape[0]:
                raise ValueError(f"chain must have one row per example of v ({v.shape[0]}); got {chain.shape[0]}")
        return self._cd_gradient(v, k, chain, sample_visible, generator)

    def _cd_gradient(self, v: torch.Tensor, k: int, chain: torch.Tensor | None, sample_visible: bool,
                     generator: torch.Generator | None) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        # cd_gradient without the argument checks: fit checks its arguments once and calls this
        w, a, b = self.weight, self.visible_bias, self.hidden_bias
        with torch.no_grad():
            h_data = torch.sigmoid(F.linear(v, w, b))  # positive phase: p(h | data)
            h = chain if chain is not None else torch.bernoulli(h_data, generator=generator)
            for step in range(k):  # negative phase: k Gibbs steps
                v_probs = torch.sigmoid(F.linear(h, w.T, a))  # p(v | h)
                v_model = torch.bernoulli(v_probs, generator=generator) if sample_visible else v_probs
                h_model = torch.sigmoid(F.linear(v_model, w, b))  # p(h | v_model)
                if chain is not None or step < k - 1:
                    h = torch.bernoulli(h_model, generator=generator)
            n = v.shape[0]
            grads = {
                "weight": (h_data.T @ v - h_model.T @ v_model) / n,
                "visible_bias": (v - v_model).mean(0),
                "hidden_bias": (h_data - h_model).mean(0),
            }
        return grads, (h if chain is not None else None)

    # ----------------------------------------------------------- training

    def fit(
        self,
        x: torch.Tensor,
        *,
        epochs: int = 10,
        batch_size: int = 10,
        lr: float = 0.05,
        k: int = 1,
        persistent: bool = False,
        momentum: float = 0.9,
        initial_momentum: float | None = 0.5,
        momentum_switch: int = 5,
        weight_decay: float = 1e-4,
        sample_visible: bool = True,
        x_val: torch.Tensor | None = None,
        monitor: bool = True,
        monitor_size: int | None = None,
        shuffle: bool = True,
        init_visible_bias: bool | None = None,
        seed: int = 0,
        label: str = "",
        on_epoch_end: Callable[[int, "RBM"], None] | None = None,
        nan_policy: str = "raise",
    ) -> RBMHistory:
        """Train by contrastive divergence (CD-k) or persistent CD (PCD-k) and return a :class:`RBMHistory`.

        Each minibatch update is, for every parameter ``theta``::

            velocity = momentum * velocity + lr * (gradient_estimate - weight_decay * theta)
            theta    = theta + velocity

        with the weight decay applied to ``W`` only, never to the biases (the
        guide's advice). The gradient estimate is :meth:`cd_gradient`'s: the loop
        below is these two lines and nothing else.

        Args:
            x: training rows in [0, 1], shape ``(n, n_visible)``; greyscale values
                are used as probabilities, as scikit-learn and the guide do.
            epochs: passes over ``x``, >= 1.
            batch_size: examples per update (the guide: 10 to 100). When it does
                not divide ``n`` the last batch of each epoch is topped up with
                examples from the start of that epoch's order.
            lr: learning rate (multiplies the batch-mean gradient), > 0.
            k: Gibbs steps per update (CD-1 is the classic choice).
            persistent: keep ``batch_size`` Gibbs chains running across updates
                (PCD, scikit-learn's ``BernoulliRBM``) instead of restarting
                them at the data (CD).
            momentum: momentum after ``momentum_switch`` epochs (guide: 0.9).
            initial_momentum: momentum for the first ``momentum_switch`` epochs
                (guide: 0.5); None to use ``momentum`` throughout.
            momentum_switch: number of epochs at ``initial_momentum``.
            weight_decay: L2 "weight cost" on ``W`` only (guide: 1e-4).
            sample_visible: binary visible samples in the negative phase (True)
                or their probabilities (False, the guide's less noisy variant).
            x_val: held-out rows for the free-energy gap monitor.
            monitor: measure the :class:`RBMHistory` quantities after each epoch
                (with a separate random stream: training is the same either way).
            monitor_size: training rows used for monitoring (default: as many
                as ``x_val`` has, or 1000).
            shuffle: new random order every epoch (scikit-learn does not shuffle).
            init_visible_bias: set the visible biases from ``x`` first
                (:meth:`init_visible_bias`); None: only if this RBM is untrained.
            seed: seeds the minibatch order and every Gibbs sample.
            label: name stored in the history.
            on_epoch_end: called as ``on_epoch_end(epoch, rbm)`` after each epoch
                (e.g. to record the exact log-likelihood of a tiny RBM). The
                persistent chains live on between epochs, but not between calls
                to ``fit``: each call starts them afresh.
            nan_policy: what to do when the parameters become NaN or infinite
                during an epoch (checked after each epoch; a learning rate far too
                high): "raise" (default) a ``FloatingPointError`` naming the epoch,
                "stop" training there; with both the RBM keeps its parameters from
                the end of the epoch before. "continue" keeps the NaN parameters and
                goes on to the next epoch (there is nothing left to sample from).

        Returns:
            The :class:`RBMHistory`; the RBM is trained in place.

        Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
        """
        (x, epochs, batch_size, lr, k, momentum, initial_momentum, momentum_switch, weight_decay, x_val,
         monitor_size, seed, nan_policy) = check_rbm_fit(
            self, x, epochs, batch_size, lr, k, persistent, momentum, initial_momentum, momentum_switch,
            weight_decay, sample_visible, x_val, monitor, monitor_size, shuffle, init_visible_bias, seed, label,
            on_epoch_end, nan_policy)

        if init_visible_bias or (init_visible_bias is None and self.num_updates == 0):
            self.init_visible_bias(x)
        dev = self.device
        gen = torch.Generator(device=dev).manual_seed(seed)
        mon_gen = torch.Generator(device=dev).manual_seed(seed + 1)
        n = x.shape[0]
        mon_rows = x
        if monitor:
            m = monitor_size or (len(x_val) if x_val is not None else 1000)
            if m < n:
                mon_rows = x[torch.randperm(n, generator=mon_gen, device=dev)[:m]]
        history = RBMHistory(label=label, steps_per_epoch=-(-n // batch_size))
        start_time = time.perf_counter()
        momenta = [initial_momentum if (initial_momentum is not None and ep < momentum_switch) else momentum
                   for ep in range(epochs)]
        params = dict(self.named_parameters())
        velocity = {name: torch.zeros_like(p) for name, p in params.items()}
        chain = torch.zeros(batch_size, self.n_hidden, device=dev, dtype=x.dtype) if persistent else None
        n_batches = history.steps_per_epoch
        try:
            for ep in range(epochs):
                before = {name: p.clone() for name, p in self.named_parameters()} if nan_policy != "continue" else None
                order = torch.randperm(n, generator=gen, device=dev) if shuffle else torch.arange(n, device=dev)
                order = order.repeat(-(-n_batches * batch_size // n))[: n_batches * batch_size]  # top up the last batch
                for t in range(n_batches):
                    v = x[order[t * batch_size:(t + 1) * batch_size]]
                    try:
                        grads, chain = self._cd_gradient(v, k, chain, sample_visible, gen)
                    except RuntimeError:  # torch.bernoulli refuses NaN probabilities: the weights diverged
                        if self._finite():
                            raise
                        break
                    with torch.no_grad():
                        for name, p in params.items():
                            grad = grads[name] - weight_decay * p if name == "weight" else grads[name]
                            velocity[name].mul_(momenta[ep]).add_(grad, alpha=lr)  # momentum * velocity + lr * grad
                            p.add_(velocity[name])
                if before is not None and not self._finite():
                    with torch.no_grad():  # back to the end of the epoch before
                        for name, p in self.named_parameters():
                            p.copy_(before[name])
                    history.diverged_epoch = ep + 1
                    if nan_policy == "raise":
                        raise FloatingPointError(
                            f"RBM training diverged: the weights became NaN or infinite during epoch {ep + 1} "
                            f"(updates {self.num_updates + 1} to {self.num_updates + n_batches})"
                            f"; the RBM keeps its parameters from before that epoch. Likely cause: lr={lr:g} "
                            f"is too high (the guide uses 0.01 to 0.1); also check momentum={momenta[ep]:g}. "
                            f"Pass nan_policy='stop' to end training there, or 'continue' to train on.")
                    break
                self.num_updates += n_batches
                if monitor:
                    record_epoch(history, self, ep + 1, mon_rows, x_val, mon_gen)
                if on_epoch_end is not None:
                    on_epoch_end(ep + 1, self)
        finally:
            history.wall_time = time.perf_counter() - start_time
        self.persistent_chain = chain
        return history

    def _finite(self) -> bool:
        return all(bool(torch.isfinite(p).all()) for p in self.parameters())
