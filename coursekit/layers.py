"""Scratch versions of two layers that made deep networks trainable: dropout and batch norm.

Introduced in ``notebooks/06_dropout.ipynb`` (:class:`Dropout`) and
``notebooks/07_batch_norm.ipynb`` (:class:`BatchNorm1d`).

Both are ordinary ``nn.Module`` classes with PyTorch's own names, arguments,
attributes and train/eval behaviour, written in a few readable lines so a
learner can see every step. Unit tests check them against ``torch.nn.Dropout``
and ``torch.nn.BatchNorm1d``; a state dict moves between the scratch and the
library batch norm unchanged. :func:`bn_statistics_trace` follows the statistics a
batch norm computes over a stream of minibatches (notebook 07's widget, drawn by
``coursekit.plots.plot_bn_tracking``).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ._checks import check_float, check_int, check_tensor

__all__ = ["Dropout", "BatchNorm1d", "dropout_mask", "mc_dropout_predict", "bn_statistics_trace",
           "batchnorm_backward"]


def dropout_mask(shape: tuple[int, ...] | torch.Size, p: float, generator: torch.Generator | None = None,
                 device: torch.device | str | None = None) -> torch.Tensor:
    """A 0/1 float mask that keeps each entry with probability ``1 - p``.

    Drawn with ``bernoulli_``, the call ``torch.nn.Dropout`` makes, so with the
    same random state the scratch and the library layer drop the same units.

    Args:
        shape: the mask's shape.
        p: probability of *dropping* an entry, in [0, 1] (PyTorch's convention;
            Srivastava et al. write p for the probability of *keeping* it).
        generator: an optional seeded ``torch.Generator``.
        device: where to create the mask.

    Returns:
        A float32 tensor of zeros (dropped) and ones (kept).

    Introduced in ``notebooks/06_dropout.ipynb``.
    """
    p = check_float("p", p, 0.0, 1.0)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None; got {type(generator).__name__}")
    shape = tuple(check_int(f"shape[{i}]", s, minimum=0) for i, s in enumerate(shape))
    return torch.empty(shape, device=device).bernoulli_(1.0 - p, generator=generator)


class Dropout(nn.Module):
    """Inverted dropout from scratch, with the semantics of ``torch.nn.Dropout``.

    In training mode each entry of the input is set to zero with probability
    ``p`` and the survivors are multiplied by ``1 / (1 - p)``, so every entry
    keeps its expected value: E[output] = (1 - p) * x / (1 - p) = x. In eval
    mode the layer is the identity: no rescaling is needed at test time, which
    is why the scaling is done during training ("inverted" dropout).

    A fresh mask is drawn at every call, and the module holds no parameters,
    which is why one ``Dropout`` object may appear several times in a
    ``Sequential`` (the study notes' code does) without any harm.

    Args:
        p: probability of *dropping* an entry, in [0, 1] (PyTorch's convention).
        inplace: accepted for API compatibility with ``nn.Dropout``; the scratch
            layer always returns a new tensor.

    Attributes:
        last_mask: the 0/1 mask of the most recent training-mode call (None
            before the first one, or after an eval-mode call); handy for pictures.

    Introduced in ``notebooks/06_dropout.ipynb``.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.p = check_float("p", p, 0.0, 1.0)
        if not isinstance(inplace, bool):
            raise TypeError(f"inplace must be True or False; got {inplace!r}")
        self.inplace = inplace
        self.last_mask: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor("x", x)
        if not self.training or self.p == 0.0:
            self.last_mask = None
            return x
        if self.p == 1.0:  # everything dropped; avoid 0 * inf
            self.last_mask = torch.zeros_like(x)
            return x * 0.0
        mask = dropout_mask(x.shape, self.p, device=x.device).to(x.dtype)
        self.last_mask = mask
        return x * (mask / (1.0 - self.p))  # scale the mask first, as PyTorch does: same bits

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


def mc_dropout_predict(model: nn.Module, x: torch.Tensor, n_samples: int = 30) -> torch.Tensor:
    """Monte Carlo dropout: class probabilities averaged over ``n_samples`` random thinned networks.

    Only the dropout layers (``torch.nn.Dropout`` and :class:`Dropout`) are put in
    training mode, so each forward pass draws fresh masks while batch norm keeps
    using its running statistics; every module's mode is restored afterwards. The
    masks come from PyTorch's global random state (seed it for repeatable results).
    The alternative, the full network with inverted dropout's test-time identity, is
    the paper's *weight scaling* approximation: ``softmax(model.eval()(x))``.

    Args:
        model: a classifier returning logits.
        x: a batch of inputs.
        n_samples: forward passes to average, >= 1.

    Returns:
        The mean of ``softmax(model(x))`` over the passes, shape ``(batch, classes)``.

    Introduced in ``notebooks/06_dropout.ipynb``.
    """
    n_samples = check_int("n_samples", n_samples, minimum=1)
    modes = {m: m.training for m in model.modules()}
    try:
        model.eval()
        for m in model.modules():
            if isinstance(m, (nn.Dropout, Dropout)):
                m.train()
        with torch.no_grad():
            total = torch.softmax(model(x), dim=1)
            for _ in range(n_samples - 1):
                total += torch.softmax(model(x), dim=1)
    finally:
        for m, mode in modes.items():
            m.training = mode
    return total / n_samples


class BatchNorm1d(nn.Module):
    """Batch normalization from scratch, with the semantics of ``torch.nn.BatchNorm1d``.

    Training mode, for an input of shape (N, C) or (N, C, L):

    1. the mean and the (biased) variance of each feature over the batch (and
       over L), ``mu_B`` and ``var_B``;
    2. normalize: ``x_hat = (x - mu_B) / sqrt(var_B + eps)``;
    3. scale and shift with learnable ``weight`` (gamma) and ``bias`` (beta):
       ``y = gamma * x_hat + beta``;
    4. update the running statistics used in eval mode, an exponential moving
       average with ``momentum``: ``running = (1 - momentum) * running +
       momentum * batch_stat``, where the variance is the *unbiased* one,
       ``var_B * n / (n - 1)`` with n values per feature.

    Eval mode normalizes with ``running_mean`` and ``running_var`` instead, so
    an example's output no longer depends on the rest of its batch.

    Args:
        num_features: C, the number of features (channels).
        eps: added to the variance for numerical safety.
        momentum: weight of the newest batch in the running averages, in [0, 1];
            None for a cumulative (equal-weight) average, as in PyTorch.
        affine: learn ``weight`` and ``bias`` (otherwise gamma = 1, beta = 0).
        track_running_stats: keep running statistics; if False, batch
            statistics are used in eval mode too.
        bias: with ``affine``, also learn the shift beta (keyword-only, as in
            recent PyTorch releases; False keeps only gamma).

    Attributes and buffers have PyTorch's names (``weight``, ``bias``,
    ``running_mean``, ``running_var``, ``num_batches_tracked``), so
    ``load_state_dict`` works in both directions with ``nn.BatchNorm1d``.

    Introduced in ``notebooks/07_batch_norm.ipynb``.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.num_features = check_int("num_features", num_features, minimum=1)
        self.eps = check_float("eps", eps, 0.0, min_inclusive=False)
        self.momentum = None if momentum is None else check_float("momentum", momentum, 0.0, 1.0)
        for name, flag in (("affine", affine), ("track_running_stats", track_running_stats), ("bias", bias)):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be True or False; got {flag!r}")
        self.affine = affine
        self.use_bias = bias
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features))
        else:
            self.register_parameter("weight", None)
        if affine and bias:
            self.bias = nn.Parameter(torch.zeros(num_features))
        else:
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen (as PyTorch)."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1.0)
            self.num_batches_tracked.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor("x", x)
        if x.dim() not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(
                f"x must have shape (N, {self.num_features}) or (N, {self.num_features}, L); "
                f"got {tuple(x.shape)}"
            )
        dims = (0,) if x.dim() == 2 else (0, 2)
        shape = (1, -1) if x.dim() == 2 else (1, -1, 1)
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats:
            n = x.numel() // self.num_features  # values per feature
            if self.training and n <= 1:
                raise ValueError(
                    f"Expected more than 1 value per channel when training, got input size {tuple(x.shape)}"
                )
            mean = x.mean(dim=dims)
            var = x.var(dim=dims, unbiased=False)  # biased: what the batch is normalized with
            if self.training and self.track_running_stats:
                with torch.no_grad():
                    self.num_batches_tracked += 1
                    m = (1.0 / float(self.num_batches_tracked)) if self.momentum is None else self.momentum
                    unbiased = var * n / (n - 1)
                    self.running_mean.mul_(1.0 - m).add_(m * mean)
                    self.running_var.mul_(1.0 - m).add_(m * unbiased)
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + self.eps)
        if self.weight is not None:
            x_hat = x_hat * self.weight.reshape(shape)
        if self.bias is not None:
            x_hat = x_hat + self.bias.reshape(shape)
        return x_hat

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.use_bias}, track_running_stats={self.track_running_stats}")


def batchnorm_backward(
    dout: torch.Tensor, x: torch.Tensor, gamma: torch.Tensor, eps: float = 1e-5,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The backward pass of batch norm in training mode, written out (no autograd).

    For ``y = gamma * x_hat + beta`` with ``x_hat = (x - mean) / s``,
    ``s = sqrt(var + eps)`` (biased variance over the batch) and ``dout = dL/dy``::

        dbeta  = sum_i dout_i
        dgamma = sum_i dout_i * x_hat_i
        dx_i   = gamma / (N s) * (N dout_i - dbeta - x_hat_i * dgamma)

    Args:
        dout: the upstream gradient, shape (N, C).
        x: the input of the forward pass, shape (N, C), N >= 2.
        gamma: the scale, shape (C,).
        eps: as in the forward pass.

    Returns:
        ``(dx, dgamma, dbeta)``.

    Introduced in ``notebooks/07_batch_norm.ipynb`` (exercise 4; tests check it against autograd).
    """
    check_tensor("x", x, ndim=2)
    check_tensor("dout", dout, ndim=2)
    check_tensor("gamma", gamma, ndim=1)
    eps = check_float("eps", eps, 0.0, min_inclusive=False)
    if dout.shape != x.shape or gamma.shape[0] != x.shape[1] or x.shape[0] < 2:
        raise ValueError(f"dout and x must have the same shape (N, C) with N >= 2, and gamma shape (C,); "
                         f"got {tuple(dout.shape)}, {tuple(x.shape)} and {tuple(gamma.shape)}")
    n = x.shape[0]
    s = torch.sqrt(x.var(dim=0, unbiased=False) + eps)
    x_hat = (x - x.mean(dim=0)) / s
    dbeta = dout.sum(dim=0)
    dgamma = (dout * x_hat).sum(dim=0)
    dx = gamma / (n * s) * (n * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta


def bn_statistics_trace(
    batch_size: int,
    momentum: float,
    steps: int = 200,
    population: torch.Tensor | None = None,
    true_mean: float = 2.0,
    true_std: float = 3.0,
    seed: int = 0,
) -> dict:
    """The statistics a :class:`BatchNorm1d` of one feature computes over a stream of minibatches.

    Each step draws ``batch_size`` values (from ``population`` with replacement,
    or from N(true_mean, true_std^2)) and records the batch mean and (unbiased)
    variance, and the running mean and variance after each batch has gone through a
    training-mode ``torch.nn.BatchNorm1d(1, momentum=momentum)`` (running mean 0 and
    variance 1 at the start): the running averages are the module's own buffers. (The
    scratch :class:`BatchNorm1d` above updates them the same way; the tests feed both.)

    Args:
        batch_size: values per minibatch, >= 2.
        momentum: the running averages' momentum, in (0, 1].
        steps: how many minibatches, >= 1.
        population: optional 1-D tensor of values the batches are drawn from
            (e.g. one hidden unit's pre-activations over a data set).
        true_mean, true_std: the Gaussian used when ``population`` is None.
        seed: seed of the draws.

    Returns:
        A dict of NumPy arrays ``step``, ``batch_mean``, ``batch_var``,
        ``running_mean``, ``running_var`` and floats ``true_mean``, ``true_var``.

    Introduced in ``notebooks/07_batch_norm.ipynb``.
    """
    batch_size = check_int("batch_size", batch_size, minimum=2)
    momentum = check_float("momentum", momentum, 0.0, 1.0, min_inclusive=False)
    steps = check_int("steps", steps, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    gen = torch.Generator().manual_seed(seed)
    if population is not None:
        pop = check_tensor("population", population, ndim=1).detach().float().cpu()
        if pop.numel() < 2:
            raise ValueError(f"population needs at least 2 values; got {pop.numel()}")
        mu, var = float(pop.mean()), float(pop.var(unbiased=False))
        draws = pop[torch.randint(0, pop.numel(), (steps, batch_size), generator=gen)]
    else:
        mu = check_float("true_mean", true_mean)
        sd = check_float("true_std", true_std, 0.0, min_inclusive=False)
        var = sd * sd
        draws = mu + sd * torch.randn(steps, batch_size, generator=gen)
    bn = nn.BatchNorm1d(1, momentum=momentum)  # a fresh layer in training mode
    rm, rv = np.empty(steps), np.empty(steps)
    with torch.no_grad():
        for t in range(steps):
            bn(draws[t].reshape(-1, 1))  # one minibatch of batch_size values of the one feature
            rm[t], rv[t] = bn.running_mean.item(), bn.running_var.item()
    batch_mean = draws.mean(1).double().numpy()
    batch_var = draws.var(1, unbiased=True).double().numpy()
    return {
        "step": np.arange(1, steps + 1),
        "batch_mean": batch_mean,
        "batch_var": batch_var,
        "running_mean": rm,
        "running_var": rv,
        "true_mean": mu,
        "true_var": var,
    }
