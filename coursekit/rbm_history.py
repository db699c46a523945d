"""What :meth:`coursekit.rbm.RBM.fit` measures after every epoch: the :class:`RBMHistory`.

Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch.nn import functional as F

__all__ = ["RBMHistory", "record_epoch"]


@dataclass
class RBMHistory:
    """What :meth:`RBM.fit` measured after every epoch.

    Attributes:
        epoch: 1..epochs.
        recon_error: mean squared reconstruction error per pixel on the monitoring
            subset of the training data, ``(v - p(v | h))^2`` with ``h`` sampled
            from ``p(h | v)``. Cheap and popular, but the practical guide warns it
            is *not* what CD optimises: watch it, don't trust it.
        pseudo_likelihood: mean pseudo-log-likelihood of the monitoring subset
            (scikit-learn's estimator, see :meth:`RBM.pseudo_likelihood`).
        free_energy_train, free_energy_val: mean free energy of the training
            monitoring subset and of the held-out data (empty without ``x_val``).
        steps_per_epoch: minibatch updates per epoch.
        wall_time: seconds spent in ``fit`` (never print it in a checked notebook).
        label: a name for legends.
        diverged_epoch: the epoch during which the parameters became NaN or
            infinite and training stopped (``nan_policy="stop"``); None otherwise.

    Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
    """

    epoch: list[int] = field(default_factory=list)
    recon_error: list[float] = field(default_factory=list)
    pseudo_likelihood: list[float] = field(default_factory=list)
    free_energy_train: list[float] = field(default_factory=list)
    free_energy_val: list[float] = field(default_factory=list)
    steps_per_epoch: int = 0
    wall_time: float = 0.0
    label: str = ""
    diverged_epoch: int | None = None

    @property
    def free_energy_gap(self) -> list[float]:
        """Held-out minus training mean free energy per epoch (the guide's overfitting monitor).

        ``p(v)`` is proportional to ``exp(-F(v))``, so a positive, growing gap means
        the model gives the training images ever more probability than unseen
        ones: it is starting to overfit.
        """
        return [fv - ft for fv, ft in zip(self.free_energy_val, self.free_energy_train)]

    def __repr__(self) -> str:
        last = f", recon_error {self.recon_error[-1]:.4f}" if self.recon_error else ""
        name = f"{self.label!r}, " if self.label else ""
        bad = f", diverged in epoch {self.diverged_epoch}" if self.diverged_epoch is not None else ""
        return f"RBMHistory({name}{len(self.epoch)} epochs{last}{bad})"


def record_epoch(history: RBMHistory, rbm, epoch: int, x_mon: torch.Tensor, x_val: torch.Tensor | None,
                 gen: torch.Generator) -> None:
    """Measure what :class:`RBMHistory` holds after one epoch of ``RBM.fit``, with its own random stream."""
    with torch.no_grad():
        w, a, b = rbm.weight, rbm.visible_bias, rbm.hidden_bias
        ph = torch.sigmoid(F.linear(x_mon, w, b))
        h = (torch.rand(ph.shape, generator=gen, device=ph.device, dtype=ph.dtype) < ph).to(ph.dtype)
        pv = torch.sigmoid(torch.addmm(a, h, w))
        stats = [((x_mon - pv) ** 2).mean(), rbm._pseudo_likelihood(x_mon, gen).mean(),
                 rbm._free_energy(x_mon).mean()]
        if x_val is not None:
            stats.append(rbm._free_energy(x_val).mean())
        values = torch.stack(stats).double().cpu().tolist()  # one device sync per epoch
    history.epoch.append(epoch)
    history.recon_error.append(values[0])
    history.pseudo_likelihood.append(values[1])
    history.free_energy_train.append(values[2])
    if x_val is not None:
        history.free_energy_val.append(values[3])
