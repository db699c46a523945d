"""Scratch versions of two layers that made deep networks trainable: dropout and batch norm.

Introduced in ``notebooks/06_dropout.ipynb`` (:class:`Dropout`) and
``notebooks/07_batch_norm.ipynb`` (:class:`BatchNorm1d`).

Both are ordinary ``nn.Module`` classes with PyTorch's own names, arguments,
attributes and train/eval behaviour, written in a few readable lines so a
learner can see every step. Unit tests check them against ``torch.nn.Dropout``
and ``torch.nn.BatchNorm1d``; a state dict moves between the scratch and the
library batch norm unchanged.
"""
from __future__ import annotations

import torch
from torch import nn

from ._checks import check_float, check_int, check_tensor
from .train import Callback

__all__ = [
    "Dropout", "BatchNorm1d", "dropout_mask", "UnitInputTracker",
    "draw_dropout_network", "bn_statistics_trace", "draw_bn_tracking",
]


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
    ``Sequential`` (the seed's code does) without any harm.

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


# ------------------------------------------------------------------ watching a unit's input


class UnitInputTracker(Callback):
    """Record, every ``every`` steps, the percentiles of one unit's input and the accuracy.

    A :class:`coursekit.train.Callback` for ``fit``: at step 0 (before training,
    unless ``at_start=False``) and every ``every`` optimizer steps it puts the model in eval mode, runs
    ``x`` through it with a forward pre-hook on ``module`` (e.g. the last
    hidden sigmoid), keeps the chosen percentiles of the input that ``unit``
    receives and the accuracy on ``(x, y)``, then restores train mode and
    removes the hook. This is what Ioffe & Szegedy's Fig. 1 plots.

    Args:
        module: the module whose *input* is watched (an activation, typically).
        x, y: held-out inputs and labels the measurements are made on.
        unit: which feature of the module's input; None records every feature.
        every: record every this many steps, >= 1.
        percentiles: which percentiles, each in [0, 100].
        at_start: also record at step 0, before the first update. (A batch-norm
            network in eval mode then still uses running statistics that have
            seen no batch: mean 0, variance 1.)

    Attributes:
        steps: the steps recorded (0 first).
        accuracy: accuracy on ``(x, y)`` at each recorded step.
        values: array (len(steps), len(percentiles)) of the unit's input
            percentiles; with ``unit=None``, (len(steps), features, len(percentiles)).

    Introduced in ``notebooks/07_batch_norm.ipynb``.
    """

    def __init__(self, module: nn.Module, x: torch.Tensor, y: torch.Tensor, unit: int | None = 0,
                 every: int = 50, percentiles: tuple[float, ...] = (15, 50, 85),
                 at_start: bool = True) -> None:
        if not isinstance(module, nn.Module):
            raise TypeError(f"module must be a torch.nn.Module; got {type(module).__name__}")
        check_tensor("x", x)
        check_tensor("y", y)
        if x.shape[0] != y.shape[0] or x.shape[0] == 0:
            raise ValueError(f"x and y must hold the same, non-zero number of examples; "
                             f"got {x.shape[0]} and {y.shape[0]}")
        self.module = module
        self.x, self.y = x, y
        self.unit = None if unit is None else check_int("unit", unit, minimum=0)
        self.every = check_int("every", every, minimum=1)
        self.percentiles = tuple(check_float(f"percentiles[{i}]", q, 0.0, 100.0)
                                 for i, q in enumerate(percentiles))
        if not self.percentiles:
            raise ValueError("percentiles must name at least one percentile, e.g. (15, 50, 85)")
        if not isinstance(at_start, bool):
            raise TypeError(f"at_start must be True or False; got {at_start!r}")
        self.at_start = at_start
        self.steps: list[int] = []
        self.accuracy: list[float] = []
        self._values: list = []
        self._model: nn.Module | None = None

    @property
    def values(self):
        """The recorded percentiles as a NumPy array (steps x percentiles)."""
        import numpy as np

        if self.unit is None:
            if not self._values:
                return np.zeros((0, 0, len(self.percentiles)))
            return np.stack(self._values).astype(float)
        return np.asarray(self._values, dtype=float).reshape(len(self._values), len(self.percentiles))

    def on_fit_start(self, model: nn.Module) -> None:
        self._model = model
        if self.at_start:
            self._record(0)

    def on_step_end(self, step: int, loss: torch.Tensor) -> None:
        if step % self.every == 0:
            self._record(step)

    def _record(self, step: int) -> None:
        model = self._model
        captured: dict[str, torch.Tensor] = {}

        def hook(_module: nn.Module, inputs: tuple) -> None:
            captured["x"] = inputs[0].detach()

        handle = self.module.register_forward_pre_hook(hook)
        was_training = model.training
        model.eval()
        try:
            device = next((p.device for p in model.parameters()), self.x.device)
            with torch.no_grad():
                out = model(self.x.to(device))
        finally:
            handle.remove()
            model.train(was_training)
        if "x" not in captured:
            raise RuntimeError("the tracked module was not called during the forward pass")
        z = captured["x"].reshape(captured["x"].shape[0], -1).float().cpu()
        if self.unit is not None and self.unit >= z.shape[1]:
            raise ValueError(f"unit must be < {z.shape[1]}, the number of features of the module's input; "
                             f"got {self.unit}")
        q = torch.tensor(self.percentiles, dtype=torch.float32) / 100.0
        self.steps.append(int(step))
        self.accuracy.append(float((out.argmax(1).cpu() == self.y.cpu()).float().mean()))
        if self.unit is None:
            self._values.append(torch.quantile(z, q, dim=0).T.numpy())   # features x percentiles
        else:
            self._values.append(torch.quantile(z[:, self.unit], q).tolist())


# ------------------------------------------------------------------ widgets' draw functions

def _network_positions(sizes: list[int]):
    import numpy as np

    pos = []
    for i, n in enumerate(sizes):
        ys = np.linspace(0.5, -0.5, n) * (n - 1) / max(max(sizes) - 1, 1)
        pos.append(np.column_stack([np.full(n, float(i)), ys]))
    return pos


def draw_dropout_network(
    p: float,
    sweep: dict | None = None,
    sizes: tuple[int, ...] = (6, 10, 10, 10, 4),
    sample: int = 0,
    fig=None,
):
    """Which units one dropout mask removes from a small network, beside a sweep's curves.

    Left: a network with ``sizes`` units per layer; every *hidden* unit is
    dropped with probability ``p`` (as the seed's code does: inputs and outputs
    are kept); dropped units are crossed out and their connections vanish.
    Right (when ``sweep`` is given): training and validation loss per epoch of
    the run trained with this ``p`` (bold), the other runs faint.

    Args:
        p: drop probability in [0, 1] (the paper's keep probability is ``1 - p``).
        sweep: optional ``{p: History}`` from a drop-probability sweep; ``p``
            must be one of its keys (rounded to 3 decimals).
        sizes: units per layer, input first; at least 3 layers, each 1-30 units.
        sample: seed of the mask, so a class can ask for "another mask".
        fig: a Figure this function returned before, to redraw into (what the
            widget does; see :func:`coursekit.plots.panels`); default a new one.

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/06_dropout.ipynb``.
    """
    import numpy as np
    from matplotlib.collections import LineCollection

    from .plots import color, panels
    from .train import History

    p = check_float("p", p, 0.0, 1.0)
    sample = check_int("sample", sample, minimum=0)
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"sizes must be a sequence of ints such as (6, 10, 10, 4); got {sizes!r}")
    sizes = [check_int(f"sizes[{i}]", s, minimum=1, maximum=30) for i, s in enumerate(sizes)]
    if len(sizes) < 3:
        raise ValueError(f"sizes needs an input, at least one hidden and an output layer; got {sizes}")
    run = None
    if sweep is not None:
        if not isinstance(sweep, dict) or not sweep:
            raise TypeError("sweep must be a non-empty dict {drop probability: History}")
        for key, h in sweep.items():
            if not isinstance(h, History):
                raise TypeError(f"sweep[{key!r}] must be a coursekit History; got {type(h).__name__}")
        keys = {round(float(k), 3): k for k in sweep}
        if round(p, 3) not in keys:
            raise ValueError(f"p={p} is not in the sweep; allowed: {sorted(keys)}")
        run = sweep[keys[round(p, 3)]]

    gen = torch.Generator().manual_seed(sample)
    masks = [np.ones(sizes[0], dtype=bool)]
    for n in sizes[1:-1]:
        masks.append(dropout_mask((n,), p, generator=gen).numpy().astype(bool))
    masks.append(np.ones(sizes[-1], dtype=bool))
    pos = _network_positions(sizes)

    # Fixed margins instead of tight_layout, and few artists (one scatter per kind of unit):
    # the widget redraws in well under 150 ms.
    ncols = 2 if run is not None else 1
    fig, axes = panels(ncols, (4.4 * ncols + (0.4 if run is not None else 0), 3.3), fig=fig)
    fig.subplots_adjust(left=0.03 if run is None else 0.02, right=0.97, bottom=0.15, top=0.9, wspace=0.22)
    ax = axes[0]
    segs = []
    for i in range(len(sizes) - 1):
        a = pos[i][masks[i]]
        b = pos[i + 1][masks[i + 1]]
        if len(a) and len(b):
            segs.extend(np.stack(np.broadcast_arrays(a[:, None, :], b[None, :, :]), axis=2).reshape(-1, 2, 2))
    ax.add_collection(LineCollection(segs, colors="0.55", linewidths=0.5, alpha=0.6, zorder=1))
    every = np.concatenate(pos)
    kept = np.concatenate(masks)
    is_hidden = np.concatenate([np.full(n, 0 < i < len(sizes) - 1) for i, n in enumerate(sizes)])
    faces = np.where(is_hidden[kept], color("dropout"), "0.35")
    ax.scatter(every[kept, 0], every[kept, 1], s=70, c=faces, edgecolors="k", linewidths=0.6, zorder=2)
    if (~kept).any():
        ax.scatter(every[~kept, 0], every[~kept, 1], s=70, c="white", edgecolors="0.6", linewidths=0.6, zorder=2)
        ax.scatter(every[~kept, 0], every[~kept, 1], s=40, marker="x", c="#D55E00", linewidths=1.2, zorder=3)
    hidden = sum(sizes[1:-1])
    dropped = int((~kept).sum())
    ax.set_xlim(-0.4, len(sizes) - 0.6)
    ax.set_ylim(-0.6, 0.6)
    ax.set_xticks(range(len(sizes)))
    ax.set_xticklabels(["input"] + [f"hidden {i}" for i in range(1, len(sizes) - 1)] + ["output"], fontsize=8)
    ax.tick_params(length=0)
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(f"p = {p:.2f} (keep {1 - p:.2f}): {dropped} of {hidden} hidden units dropped", fontsize=9)

    if run is not None:
        from matplotlib.ticker import FuncFormatter, NullLocator

        ax2 = axes[1]
        for key, h in sweep.items():
            if h is not run:
                ax2.plot(h.epoch, h.val_loss, color="0.8", lw=0.8)
        ax2.plot(run.epoch, run.train_loss, color=color("train"), lw=1.8, label="train (dropout on)")
        ax2.plot(run.epoch, run.val_loss, color=color("val"), lw=1.8, label="validation")
        err = 1.0 - run.val_acc[-1] if run.val_acc else float("nan")
        ax2.set_yscale("log")
        ax2.yaxis.set_minor_locator(NullLocator())
        ax2.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # plain text: no mathtext parsing
        ax2.set_xlabel("epoch", fontsize=9)
        ax2.set_ylabel("loss", fontsize=9, labelpad=1)
        ax2.set_title(f"sweep run p = {p:.2f}: final val error {err:.3f}", fontsize=9)
        ax2.legend(fontsize=8, loc="lower left")
    return fig


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
    variance, and the running mean and variance after the update a training-mode
    ``BatchNorm1d(1, momentum=momentum)`` makes (starting from mean 0, variance 1;
    the tests check the numbers against the module itself).

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
    import numpy as np

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
    # The update BatchNorm1d makes in training mode (tests check it against the module), in
    # NumPy: 200 module calls would cost more than the whole figure.
    batch_mean = draws.mean(1).double().numpy()
    batch_var = draws.var(1, unbiased=True).double().numpy()
    rm, rv = np.empty(steps), np.empty(steps)
    m_run, v_run = 0.0, 1.0
    for t in range(steps):
        m_run = (1.0 - momentum) * m_run + momentum * batch_mean[t]
        v_run = (1.0 - momentum) * v_run + momentum * batch_var[t]
        rm[t], rv[t] = m_run, v_run
    return {
        "step": np.arange(1, steps + 1),
        "batch_mean": batch_mean,
        "batch_var": batch_var,
        "running_mean": rm,
        "running_var": rv,
        "true_mean": mu,
        "true_var": var,
    }


def draw_bn_tracking(
    batch_size: int,
    momentum: float,
    steps: int = 200,
    population: torch.Tensor | None = None,
    seed: int = 0,
    fig=None,
):
    """Batch statistics and running statistics of a BatchNorm against the true ones.

    Two panels (mean, variance) over the steps of :func:`bn_statistics_trace`:
    each minibatch's statistic as a dot, the running estimate (what eval mode
    uses) as a line, the population's value dashed. Small batches make noisy
    dots; a large momentum makes the running line follow that noise, a small
    one makes it slow to leave its start (mean 0, variance 1).

    Args:
        batch_size, momentum, steps, population, seed: as in :func:`bn_statistics_trace`
            (without ``population``: N(2, 3^2)).
        fig: a Figure this function returned before, to redraw into (what the
            widget does; see :func:`coursekit.plots.panels`); default a new one.

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/07_batch_norm.ipynb``.
    """
    import numpy as np

    from .plots import color, panels

    tr = bn_statistics_trace(batch_size, momentum, steps, population=population, seed=seed)
    tail = slice(len(tr["step"]) // 2, None)
    fig, axes = panels(2, (8.4, 3.2), fig=fig)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.15, top=0.8, wspace=0.2)  # no tight_layout: faster
    for ax, key, name in ((axes[0], "mean", "mean"), (axes[1], "var", "variance")):
        true = tr[f"true_{key}"]
        ax.plot(tr["step"], tr[f"batch_{key}"], ls="none", marker="o", ms=2.5, mew=0, color="0.65",
                label="each batch", zorder=1)
        ax.plot(tr["step"], tr[f"running_{key}"], color=color("batchnorm"), lw=2, label="running", zorder=3)
        ax.axhline(true, color="k", ls="--", lw=1, label="true", zorder=2)
        run_err = np.abs(tr[f"running_{key}"][tail] - true).mean()
        batch_err = np.abs(tr[f"batch_{key}"][tail] - true).mean()
        ax.set_xlabel("step", fontsize=9)
        ax.set_title(f"{name}: mean |error| batch {batch_err:.2f}, running {run_err:.2f}", fontsize=9)
    axes[1].set_ylim(0, max(3 * tr["true_var"], 1.2))
    axes[0].legend(fontsize=8, loc="upper right")  # a fixed place: "best" searches every point
    fig.text(0.5, 0.98, f"batch size {batch_size}, momentum {momentum:g} (errors over the last half of the steps)",
             ha="center", va="top", fontsize=10)
    return fig
