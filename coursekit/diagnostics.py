"""Per-layer diagnostics: look inside a network while it runs.

Introduced in ``notebooks/01_vanishing_gradients.ipynb`` (and used again in
``02_relu``, ``04_initialization``, ``06_dropout`` and ``07_batch_norm``).

The main tool is :class:`LayerStats`, a context manager in the spirit of
fastai's ``Hooks`` and Karpathy's makemore part 3 diagnostics::

    with LayerStats(model) as stats:          # hooks go on here ...
        loss = F.cross_entropy(model(x), y)
        loss.backward()
    # ... and are gone here, even if the body raised
    print(stats.table())                      # one row per layer
    stats.act_std["act1"]                     # NumPy array, one value per recorded pass

It works the same around a whole training run, because it records every forward
pass made with gradients enabled (the training steps) and skips passes under
``torch.no_grad()`` (the validation that :func:`coursekit.train.fit` runs)::

    with LayerStats(model, every=10) as stats:
        history = ck.train.fit(model, data, epochs=5)
    stats.steps                               # which training steps were recorded
    stats.act_mean["act4"]                    # Glorot & Bengio's Fig. 2, one curve

Everything it records is a plain NumPy array in a plain ``dict`` keyed by the
module's name (``"act1"``, ``"fc1"``, ...): nothing hidden. Each statistic is a
plain function ``fn(module, output) -> dict`` (:func:`mean_std`, :func:`saturated`,
:func:`dead`, :func:`act_percentiles`; :func:`grad_stats` and
:func:`weight_grad_stats` for the gradients), so you can add your own in a cell;
the hooks themselves (register, record, always remove) are :class:`coursekit.hooks.Hooks`.

:class:`UnitInputTracker` is a training callback that watches one unit's input
distribution (Ioffe & Szegedy's Fig. 1, notebook 07). The deep nets at
initialization that notebooks 01 and 02 look at are built and measured in
:mod:`coursekit.flow`.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from ._checks import (
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_module,
    check_same_length,
    check_sequence,
    check_tensor,
    did_you_mean,
)
from .hooks import Hooks
from .tables import StatsTable
from .train import Callback, model_device

__all__ = [
    "LayerStats",
    "Hooks",
    "StatsTable",
    "ACTIVATION_TYPES",
    "UnitInputTracker",
    "mean_std", "saturated", "dead", "act_percentiles", "grad_stats", "weight_grad_stats",
]

#: Module classes that count as activation layers when ``LayerStats`` picks its
#: layers by default.
ACTIVATION_TYPES: tuple[type, ...] = (
    nn.Sigmoid, nn.Tanh, nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SELU, nn.CELU,
    nn.SiLU, nn.Softplus, nn.ReLU6, nn.PReLU, nn.Hardtanh, nn.Softsign, nn.Mish,
)
_SATURATING = (nn.Sigmoid, nn.Tanh)
_WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
_SCALARS = ("act_mean", "act_std", "saturated", "dead", "grad_mean", "grad_std", "grad_norm")
_WSCALARS = ("weight_grad_norm", "weight_std", "grad_data_ratio")
_BUILT_IN = {*_SCALARS, "act_percentiles"}


def _kind(module: nn.Module) -> str:
    """A short name for what a module is: "sigmoid", "tanh", "relu", ..., "linear"."""
    if isinstance(module, nn.Sigmoid):
        return "sigmoid"
    if isinstance(module, nn.Tanh):
        return "tanh"
    if isinstance(module, nn.LeakyReLU):
        return "leaky_relu"
    if isinstance(module, _WEIGHTED):
        return "linear"
    return type(module).__name__.lower()


def mean_std(module: nn.Module, output: torch.Tensor) -> dict:
    """``act_mean`` and ``act_std`` over all the values of a layer's output."""
    flat = output.reshape(-1)
    return {"act_mean": float(flat.mean()), "act_std": float(flat.std()) if flat.numel() > 1 else 0.0}


def saturated(module: nn.Module, output: torch.Tensor, threshold: float = 0.97) -> dict:
    """``saturated``: share of a sigmoid's or tanh's values with ``|t| > threshold`` (``t = 2 s - 1`` for the sigmoid)."""
    kind = _kind(module)
    if kind not in ("sigmoid", "tanh"):
        return {}
    t = 2 * output.reshape(-1) - 1 if kind == "sigmoid" else output.reshape(-1)
    return {"saturated": float((t.abs() > threshold).float().mean())}


def dead(module: nn.Module, output: torch.Tensor) -> dict:
    """``dead``: share of units whose output is <= 0 for every example of the batch (not for sigmoid/tanh)."""
    if _kind(module) in ("sigmoid", "tanh"):
        return {}
    units = output.reshape(output.shape[0], -1) if output.dim() > 1 else output.reshape(-1, 1)
    return {"dead": float((units <= 0).all(dim=0).float().mean())}


def act_percentiles(module: nn.Module, output: torch.Tensor, q: Sequence[float] = (15, 50, 85),
                unit: int | None = None) -> dict:
    """``act_percentiles``: the ``q`` percentiles of the output's values (of one column ``unit`` if given)."""
    values = output.reshape(-1)
    if unit is not None:
        if output.dim() < 2 or unit >= output.shape[1]:
            raise ValueError(f"unit {unit} is out of range for a layer output of shape {tuple(output.shape)}")
        values = output[:, unit].reshape(-1)
    qs = torch.tensor(tuple(q), dtype=torch.float32) / 100.0
    if values.numel() <= 2**24:  # torch.quantile's limit
        return {"act_percentiles": torch.quantile(values, qs.to(values.device)).cpu().double().numpy()}
    return {"act_percentiles": np.quantile(values.cpu().double().numpy(), qs.numpy())}


def grad_stats(module: nn.Module, grad: torch.Tensor) -> dict:
    """``grad_mean``, ``grad_std`` and ``grad_norm`` (L2, whole batch) of dL/d(output)."""
    flat = grad.float().reshape(-1)
    return {"grad_mean": float(flat.mean()), "grad_std": float(flat.std()) if flat.numel() > 1 else 0.0,
            "grad_norm": float(flat.norm())}


def weight_grad_stats(weight: torch.Tensor, grad: torch.Tensor) -> dict:
    """``weight_grad_norm`` (L2 of dL/dW), ``weight_std`` and ``grad_data_ratio`` = std(dL/dW) / std(W)."""
    g, w = grad.float(), weight.detach().float()
    w_std = float(w.std()) if w.numel() > 1 else 0.0
    g_std = float(g.std()) if g.numel() > 1 else 0.0
    if not (math.isfinite(w_std) and math.isfinite(g_std)):
        ratio = float("nan")  # a non-finite weight or gradient: recorded as such, never an error
    else:
        ratio = g_std / w_std if w_std > 0 else float("inf")
    return {"weight_grad_norm": float(g.norm()), "weight_std": w_std, "grad_data_ratio": ratio}


# ------------------------------------------------------------------ LayerStats: the hooks with the course's statistics


class LayerStats(Hooks):
    """Record per-layer activation and gradient statistics with hooks that never leak.

    A :class:`coursekit.hooks.Hooks` over the chosen layers with the statistic functions above. A
    *pass* is one call of ``model`` made with gradients enabled (a training
    step, or a forward + backward you write by hand). Passes under
    ``torch.no_grad()`` (such as the validation inside
    :func:`coursekit.train.fit`) are neither recorded nor counted unless
    ``include_no_grad=True``. Every ``every``-th pass is recorded, starting with
    the first; the gradients of a recorded pass are filled in when you call
    ``backward()`` on a loss computed from it.

    Args:
        model: the network.
        layers: which modules to watch, by name (``model.named_modules()``
            names such as ``"act1"``). ``None`` (default) or ``"activations"``:
            every activation module (see :data:`ACTIVATION_TYPES`), or every
            Linear/Conv layer if the model has no activation module;
            ``"linear"``: every Linear/Conv layer's output (the pre-activations).
        every: record every ``every``-th pass (>= 1). Recording costs more than a
            small model's own training step: over long runs, record every 10th
            step or so, and pass ``percentiles=()`` if you don't need them.
        percentiles: which percentiles of each layer's output to record
            (values in [0, 100]); Ioffe & Szegedy's Fig. 1 uses (15, 50, 85).
        saturation: a sigmoid or tanh unit counts as saturated when
            ``|t| > saturation`` for tanh, or ``|2 s - 1| > saturation`` for the
            sigmoid (the same rule, as ``s(x) = (1 + tanh(x / 2)) / 2``). The
            default 0.97 is Karpathy's (makemore part 3).
        unit: if given, percentiles are those of this one unit (column) of
            each layer over the batch, as in Ioffe & Szegedy's Fig. 1; other
            statistics still use the whole layer.
        include_no_grad: also record passes run under ``torch.no_grad()``.
        stats: the statistics of each layer's output, functions
            ``fn(module, output) -> dict``; default: :func:`mean_std`,
            :func:`saturated`, :func:`dead` and :func:`act_percentiles` (set by
            the three arguments above). Your own is one function in a cell::

                def positive(module, output):
                    return {"positive": float((output > 0).float().mean())}

                with LayerStats(model, stats=[ck.diagnostics.mean_std, positive]) as s:
                    F.cross_entropy(model(x), y).backward()
                s.values("positive")        # {"act1": array([...]), ...}

    What is recorded (each a ``dict`` from name to a NumPy array with one
    entry per recorded pass, in the order of :attr:`steps`; :meth:`values` gives any key):

    - per layer (keys of :attr:`layers`): ``act_mean``, ``act_std``,
      ``act_percentiles`` (shape ``(records, len(percentiles))``), ``saturated``
      (NaN for layers that cannot saturate), ``dead`` (NaN for sigmoid and tanh),
      and of the gradient of the loss with respect to the layer's output:
      ``grad_mean``, ``grad_std``, ``grad_norm`` (:func:`grad_stats`);
    - per weight (keys of :attr:`weights`, the Linear/Conv modules' names):
      ``weight_grad_norm``, ``weight_std`` and ``grad_data_ratio``
      (:func:`weight_grad_stats`, Karpathy's gradient:data ratio);
    - ``last_act`` / ``last_grad``: the layer outputs and their gradients of
      the last recorded pass, as arrays (for histograms).

    Gradients that were never computed (no ``backward()``) stay NaN.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """

    def __init__(
        self,
        model: nn.Module,
        layers: str | Sequence[str] | None = None,
        *,
        every: int = 1,
        percentiles: Sequence[float] = (15, 50, 85),
        saturation: float = 0.97,
        unit: int | None = None,
        include_no_grad: bool = False,
        stats: Sequence | None = None,
    ) -> None:
        named = dict(check_module("model", model).named_modules())
        weighted = [n for n, m in named.items() if isinstance(m, _WEIGHTED) and n]
        chosen = _choose_layers(named, weighted, layers)
        qs = check_sequence("percentiles", percentiles, "(15, 50, 85)")
        self.percentiles = tuple(check_float(f"percentiles[{i}]", q, 0.0, 100.0) for i, q in enumerate(qs))
        self.saturation = check_float("saturation", saturation, 0.0, 1.0, min_inclusive=False, max_inclusive=False)
        self.unit = None if unit is None else check_int("unit", unit, minimum=0)
        if stats is None:
            stats = [mean_std, functools.partial(saturated, threshold=self.saturation), dead]
            if self.percentiles:
                stats.append(functools.partial(act_percentiles, q=self.percentiles, unit=self.unit))
        stats = check_sequence("stats", stats, "[ck.diagnostics.mean_std, my_stat]")
        for i, fn in enumerate(stats):
            if not callable(fn):
                raise TypeError(f"stats[{i}] must be a function (module, output) -> dict; got {type(fn).__name__}")
        super().__init__(model, {n: named[n] for n in chosen}, stats, [grad_stats],
                         {n: named[n].weight for n in weighted}, [weight_grad_stats],
                         every=every, include_no_grad=include_no_grad)
        self.layers: list[str] = chosen
        self.weights: list[str] = weighted
        self.kinds: dict[str, str] = {n: _kind(named[n]) for n in chosen}
        self._order = {n: i for i, n in enumerate(named)}

    # ------------------------------------------------------------------ results
    def values(self, key: str) -> dict[str, np.ndarray]:
        """What the statistics recorded under ``key``: name -> array, one entry per record (NaN where absent)."""
        recs = self.records if key not in _WSCALARS else self.weight_records
        if key == "act_percentiles":
            blank = np.full(len(self.percentiles), float("nan"))
            return {n: (np.array([r.get(key, blank) for r in v], dtype=float) if v
                        else np.zeros((0, len(self.percentiles)))) for n, v in recs.items()}
        return {n: np.array([r.get(key, float("nan")) for r in v], dtype=float) for n, v in recs.items()}

    last_act = property(lambda self: {n: self.last_outputs[n] for n in self.layers if n in self.last_outputs},
                        doc="Each layer's output in the last recorded pass (input side first), for histograms.")
    last_grad = property(lambda self: {n: self.last_grads[n] for n in self.layers if n in self.last_grads},
                         doc="dL/d(output) of each layer in the last recorded pass (filled by backward).")
    act_mean = property(lambda self: self.values("act_mean"), doc="Mean of each layer's output, per record.")
    act_std = property(lambda self: self.values("act_std"), doc="Std of each layer's output, per record.")
    act_percentiles = property(lambda self: self.values("act_percentiles"),
                               doc="Percentiles of each layer's output, shape (records, len(percentiles)).")
    saturated = property(lambda self: self.values("saturated"),
                         doc="Fraction of saturated sigmoid/tanh values, per record (NaN otherwise).")
    dead = property(lambda self: self.values("dead"),
                    doc="Fraction of units <= 0 for every example of the batch, per record (NaN for sigmoid/tanh).")
    grad_mean = property(lambda self: self.values("grad_mean"), doc="Mean of dL/d(output), per record.")
    grad_std = property(lambda self: self.values("grad_std"), doc="Std of dL/d(output), per record.")
    grad_norm = property(lambda self: self.values("grad_norm"), doc="L2 norm of dL/d(output), per record.")
    weight_grad_norm = property(lambda self: self.values("weight_grad_norm"), doc="L2 norm of dL/dW, per record.")
    weight_std = property(lambda self: self.values("weight_std"), doc="Std of each weight W, per record.")
    grad_data_ratio = property(lambda self: self.values("grad_data_ratio"),
                               doc="std(dL/dW) / std(W), per record (Karpathy's gradient:data ratio).")

    def table(self, record: int = -1) -> StatsTable:
        """One row per watched layer (and per weight not tied to a layer) for one record.

        Args:
            record: which recorded pass (index into :attr:`steps`; -1 = the last).

        Returns:
            A :class:`StatsTable` (a list of dicts) with columns ``layer``,
            ``kind``, ``act_mean``, ``act_std``, one ``p<q>`` per percentile,
            ``saturated``, ``dead``, ``grad_norm`` (of dL/d(output)), ``weight``
            (the Linear that feeds the layer), ``weight_grad_norm`` and
            ``grad_data_ratio``, then the keys of your own statistics. NaN where
            something does not apply or was not computed.
        """
        if not self._steps:
            raise ValueError("nothing recorded yet: run the model inside the `with LayerStats(...)` block")
        n = len(self._steps)
        record = check_int("record", record, minimum=-n, maximum=n - 1)
        nan = float("nan")
        feeds = {}  # each watched layer -> the nearest Linear/Conv at or before it in module order
        for name in self.layers:
            before = [w for w in self.weights if self._order[w] <= self._order[name]]
            if before:
                feeds[name] = max(before, key=self._order.__getitem__)
        rows: list[tuple[int, dict]] = []
        for name in [*self.layers, *(w for w in self.weights if w not in {*feeds.values(), *self.layers})]:
            rec = self.records[name][record] if name in self.records else {}
            w = feeds.get(name) if name in self.records else name
            row: dict[str, Any] = {"layer": name, "kind": self.kinds.get(name, "linear"),
                                   "act_mean": rec.get("act_mean", nan), "act_std": rec.get("act_std", nan)}
            pcts = rec.get("act_percentiles", [nan] * len(self.percentiles))
            row.update({f"p{q:g}": float(v) for q, v in zip(self.percentiles, pcts)})
            row.update({k: rec.get(k, nan) for k in ("saturated", "dead", "grad_norm")})
            wrec = self.weight_records[w][record] if w else {}
            row.update(weight=w if w is not None else "-", weight_grad_norm=wrec.get("weight_grad_norm", nan),
                       grad_data_ratio=wrec.get("grad_data_ratio", nan))
            row.update({k: v for k, v in rec.items() if k not in row and k not in _BUILT_IN})
            rows.append((self._order[name], row))
        return StatsTable(r for _, r in sorted(rows, key=lambda t: t[0]))

    def __repr__(self) -> str:
        state = "attached" if self._attached else "detached"
        return (f"LayerStats({len(self.layers)} layers, {len(self.weights)} weights, "
                f"{len(self._steps)} records, {state})")


def _choose_layers(named: dict, weighted: list[str], layers) -> list[str]:
    """The module names LayerStats watches, from its ``layers`` argument."""
    if layers is None or (isinstance(layers, str) and layers == "activations"):
        chosen = [n for n, m in named.items() if n and isinstance(m, ACTIVATION_TYPES)] or list(weighted)
    elif isinstance(layers, str):
        chosen = list(weighted) if check_choice("layers", layers, ("activations", "linear")) == "linear" else []
    else:
        if not hasattr(layers, "__iter__"):
            raise TypeError(f"layers must be None, 'activations', 'linear' or a list of module names; got {layers!r}")
        layers = list(layers)
        if not layers:
            raise ValueError("layers is empty: name at least one module, e.g. layers=['act1'], or leave "
                             "layers=None to watch every activation")
        for i, name in enumerate(layers):
            if not isinstance(name, str):
                raise TypeError(f"layers[{i}] must be a module name (str); got {type(name).__name__}")
            if name not in named or name == "":
                avail = [n for n in named if n]
                raise ValueError(f"layers[{i}] {name!r} is not a module of model; available: "
                                 f"{', '.join(avail)}{did_you_mean(name, avail)}")
        if len(set(layers)) != len(layers):
            raise ValueError(f"layers lists a module twice: {layers}")
        chosen = layers
    if not chosen:
        raise ValueError("no layer to watch: model has no activation, Linear or Conv module; pass layers=[...]")
    return chosen


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
        check_module("module", module)
        check_tensor("x", x, finite=True)
        check_tensor("y", y)
        check_same_length(("x", "y"), x, y)
        self.module = module
        self.x, self.y = x, y
        self.unit = None if unit is None else check_int("unit", unit, minimum=0)
        self.every = check_int("every", every, minimum=1)
        self.percentiles = tuple(check_float(f"percentiles[{i}]", q, 0.0, 100.0)
                                 for i, q in enumerate(check_sequence("percentiles", percentiles, "(15, 50, 85)")))
        if not self.percentiles:
            raise ValueError("percentiles must name at least one percentile, e.g. (15, 50, 85)")
        self.at_start = check_bool("at_start", at_start)
        self.steps: list[int] = []
        self.accuracy: list[float] = []
        self._values: list = []
        self._model: nn.Module | None = None

    @property
    def values(self):
        """The recorded percentiles as a NumPy array (steps x percentiles)."""
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
            with torch.no_grad():
                out = model(self.x.to(model_device(model)))
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
