"""Deep belief networks: RBMs stacked and trained greedily, then unrolled into an MLP.

Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``. Each layer is a
:class:`coursekit.rbm.RBM`; :meth:`DBN.to_sequential` gives the network that
supervised fine-tuning starts from.
"""
from __future__ import annotations

import inspect
from typing import Sequence

import numpy as np
import torch
from torch import nn

from ._checks import check_int, did_you_mean
from .models import mlp
from .rbm import RBM, RBMHistory

__all__ = ["DBN"]


class DBN(nn.Module):
    """A deep belief network: RBMs stacked and trained greedily, one layer at a time.

    ``DBN([64, 100, 100])`` holds two RBMs, 64-100 and 100-100. :meth:`fit`
    trains the first on the data, then the second on the first one's hidden
    probabilities, and so on (Hinton, Osindero & Teh 2006). :meth:`to_sequential`
    turns the stack into an ordinary feed-forward network for supervised
    fine-tuning.

    Args:
        sizes: layer widths, visible first; at least two entries.
        seed: seeds each RBM's initial weights (layer ``i`` gets ``seed + i``).
        device: where the parameters live (default CPU).

    Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
    """

    def __init__(self, sizes: Sequence[int], *, seed: int = 0, device: str | torch.device | None = None) -> None:
        super().__init__()
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
            raise TypeError(f"sizes must be a sequence of ints such as [64, 100, 100]; got {sizes!r}")
        sizes = [check_int(f"sizes[{i}]", s, minimum=1) for i, s in enumerate(sizes)]
        if len(sizes) < 2:
            raise ValueError(f"sizes needs at least a visible and a hidden size; got {sizes}")
        seed = check_int("seed", seed, minimum=0)
        self.sizes = sizes
        self.rbms = nn.ModuleList(
            RBM(n_in, n_out, seed=seed + i, device=device) for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]))
        )

    def extra_repr(self) -> str:
        return f"sizes={self.sizes}"

    def fit(self, x: torch.Tensor, *, epochs: int | Sequence[int] = 10, x_val: torch.Tensor | None = None,
            seed: int = 0, **fit_kwargs) -> list[RBMHistory]:
        """Greedy layer-wise pretraining: RBM ``i`` learns from RBM ``i-1``'s hidden probabilities.

        Args:
            x: training rows in [0, 1] (labels are not needed: this is unsupervised).
            epochs: epochs per RBM, one int for all or one per layer.
            x_val: held-out rows, passed up the stack for each layer's free-energy gap.
            seed: layer ``i`` trains with seed ``seed + i``.
            fit_kwargs: passed to every :meth:`RBM.fit` (``lr``, ``batch_size``, ``k``,
                ``persistent``, ``momentum``, ``weight_decay``...).

        Returns:
            One :class:`RBMHistory` per layer.

        Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
        """
        if isinstance(epochs, (int, np.integer)) and not isinstance(epochs, bool):
            per_layer = [check_int("epochs", epochs, minimum=1)] * len(self.rbms)
        elif isinstance(epochs, (list, tuple)):
            if len(epochs) != len(self.rbms):
                raise ValueError(f"epochs must be one int or one per RBM ({len(self.rbms)}); got {epochs!r}")
            per_layer = [check_int(f"epochs[{i}]", e, minimum=1) for i, e in enumerate(epochs)]
        else:
            raise TypeError(f"epochs must be one int or a list of {len(self.rbms)} ints (one per RBM); "
                            f"got {type(epochs).__name__} {epochs!r}")
        fixed = ("self", "x", "epochs", "x_val", "seed", "label")  # DBN.fit's own, or set per layer
        allowed = [n for n in inspect.signature(RBM.fit).parameters if n not in fixed]
        for name in fit_kwargs:
            if name == "label":
                raise TypeError("label is set by DBN.fit for each layer ('layer 1', 'layer 2', ...); leave it out")
            if name not in allowed:
                raise TypeError(f"unknown argument {name!r} for RBM.fit; allowed: {', '.join(allowed)}"
                                + did_you_mean(name, allowed))
        seed = check_int("seed", seed, minimum=0)
        x = self.rbms[0]._check_v(x, "x")
        if x_val is not None:
            x_val = self.rbms[0]._check_v(x_val, "x_val")
        histories = []
        for i, (rbm, ep) in enumerate(zip(self.rbms, per_layer)):
            histories.append(rbm.fit(x, epochs=ep, x_val=x_val, seed=seed + i, label=f"layer {i + 1}",
                                     **fit_kwargs))
            x = rbm.transform(x)
            if x_val is not None:
                x_val = rbm.transform(x_val)
        return histories

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """The top layer's hidden probabilities, passing ``x`` up the stack.

        Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
        """
        for rbm in self.rbms:
            x = rbm.transform(x)
        return x

    def to_sequential(self, n_outputs: int, *, seed: int = 0, init: str | None = None) -> nn.Sequential:
        """A feed-forward network initialised from the stack, ready for supervised fine-tuning.

        Builds ``coursekit.models.mlp(sizes + [n_outputs], activation="sigmoid", init=init, seed=seed)``
        (layers ``fc1, act1, ..., out``) and copies each RBM's ``weight`` and
        ``hidden_bias`` into ``fc{i}``. The new output layer ``out`` keeps the
        mlp's initialization: with the same ``seed`` and ``init`` it is exactly
        the output layer of the randomly initialised ``mlp``, so comparing the two
        networks changes the hidden layers and nothing else.

        Args:
            n_outputs: number of classes, >= 1.
            seed: seed of the network's random initialization (output layer).
            init: the scheme of that random initialization (see ``coursekit.init.initialize``; None:
                PyTorch's default); ``"xavier_uniform"`` to match a Xavier-initialised competitor.

        Returns:
            An ``nn.Sequential`` on the DBN's device, with its own copies of the weights.

        Introduced in ``notebooks/05_rbm_dbn_pretraining.ipynb``.
        """
        n_outputs = check_int("n_outputs", n_outputs, minimum=1)
        seed = check_int("seed", seed, minimum=0)
        net = mlp(self.sizes + [n_outputs], activation="sigmoid", init=init, seed=seed).to(self.rbms[0].device)
        with torch.no_grad():
            for i, rbm in enumerate(self.rbms, start=1):
                layer = getattr(net, f"fc{i}")
                layer.weight.copy_(rbm.weight)
                layer.bias.copy_(rbm.hidden_bias)
        return net

