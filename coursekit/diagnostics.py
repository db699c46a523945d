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
module's name (``"act1"``, ``"fc1"``, ...): nothing hidden.

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
    check_sequence,
    check_tensor,
    did_you_mean,
)
from .train import Callback

__all__ = [
    "LayerStats",
    "StatsTable",
    "ACTIVATION_TYPES",
    "UnitInputTracker",
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


class StatsTable(list):
    """A list of row dicts that prints as a small fixed-width table.

    Each row is a plain ``dict`` (``row["act_std"]``); ``str(table)`` and the
    notebook display show rounded numbers, NaN as ``-``.

    Args:
        rows: the row dicts.
        formats: column -> format string, added to (or replacing) :attr:`FORMATS`.
        text_left: left-align the columns whose values are text (names read best
            that way); numbers are always right-aligned.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """

    #: column -> format used when printing
    FORMATS = {
        "act_mean": "{:.3f}", "act_std": "{:.3f}", "saturated": "{:.0%}", "dead": "{:.0%}",
        "grad_norm": "{:.1e}", "weight_grad_norm": "{:.1e}", "grad_data_ratio": "{:.1e}",
    }

    def __init__(self, rows: Any = (), *, formats: dict[str, str] | None = None, text_left: bool = False) -> None:
        super().__init__(rows)
        self.formats = {**self.FORMATS, **(formats or {})}
        self.text_left = text_left

    def columns(self) -> list[str]:
        """Column names in order of first appearance."""
        cols: list[str] = []
        for row in self:
            for k in row:
                if k not in cols:
                    cols.append(k)
        return cols

    def column(self, name: str) -> np.ndarray:
        """One column as a NumPy array (NaN where a row has no value)."""
        if name not in self.columns():
            raise KeyError(f"no column {name!r}; columns: {', '.join(self.columns())}")
        return np.array([row.get(name, float("nan")) for row in self], dtype=float)

    def _fmt(self, col: str, value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, (float, np.floating)):
            if math.isnan(value):
                return "-"
            fmt = self.formats.get(col, "{:.1e}" if "grad" in col else "{:.3f}")
            return fmt.format(value)
        return str(value)

    def __str__(self) -> str:
        if not self:
            return "(empty table)"
        cols = self.columns()
        cells = [[self._fmt(c, row.get(c)) for c in cols] for row in self]
        widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(cols)]
        left = [self.text_left and isinstance(self[0].get(c), str) for c in cols]

        def line(values: list[str]) -> str:
            text = "  ".join(v.ljust(w) if lft else v.rjust(w) for v, w, lft in zip(values, widths, left))
            return text.rstrip() if self.text_left else text

        return "\n".join([line(cols)] + [line(r) for r in cells])

    def __repr__(self) -> str:
        return self.__str__()

    def _repr_pretty_(self, p, cycle) -> None:  # IPython display uses this
        p.text(self.__str__())


class LayerStats:
    """Record per-layer activation and gradient statistics with hooks that never leak.

    On ``__enter__`` it registers a forward pre-hook on ``model`` (to count
    passes), a forward hook on each chosen layer (which also hangs a gradient
    hook on the layer's output tensor) and a gradient hook on each weight; on
    ``__exit__`` it removes every one of them, also when the body raised.

    A *pass* is one call of ``model`` made with gradients enabled (a training
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
        every: record every ``every``-th pass (>= 1). Recording a pass costs a few
            times a small model's own training step (on digits, every=1 makes
            ``fit`` about 4x slower, every=10 about 1.4x); over long runs, record
            every 10th step or so, and pass ``percentiles=()`` if you don't need them.
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

    What is recorded (each a ``dict`` from name to a NumPy array with one
    entry per recorded pass, in the order of :attr:`steps`):

    - per layer (keys of :attr:`layers`): ``act_mean``, ``act_std``,
      ``act_percentiles`` (shape ``(records, len(percentiles))``), ``saturated``
      (fraction of the layer's values that are saturated; NaN for layers that
      cannot saturate), ``dead`` (fraction of units whose output is <= 0 for
      *every* example of the batch; NaN for sigmoid and tanh), and of the
      gradient of the loss with respect to the layer's output: ``grad_mean``,
      ``grad_std``, ``grad_norm`` (L2 norm over the whole batch);
    - per weight (keys of :attr:`weights`, the Linear/Conv modules' names):
      ``weight_grad_norm`` (L2 norm of dL/dW), ``weight_std`` and
      ``grad_data_ratio`` = std(dL/dW) / std(W), Karpathy's gradient:data ratio;
    - ``last_act`` / ``last_grad``: the layer outputs and their gradients of
      the last recorded pass, as arrays (for histograms).

    Gradients that were never computed (no ``backward()``) stay NaN.

    Example::

        with LayerStats(model) as stats:
            F.cross_entropy(model(x), y).backward()
        stats.table()

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
    ) -> None:
        self.model = check_module("model", model)
        named = dict(model.named_modules())
        weighted = [n for n, m in named.items() if isinstance(m, _WEIGHTED) and n]
        if layers is None or (isinstance(layers, str) and layers == "activations"):
            chosen = [n for n, m in named.items() if n and isinstance(m, ACTIVATION_TYPES)]
            if not chosen:
                chosen = list(weighted)
        elif isinstance(layers, str):
            key = check_choice("layers", layers, ("activations", "linear"))
            chosen = list(weighted) if key == "linear" else []
        else:
            if not hasattr(layers, "__iter__"):
                raise TypeError(
                    f"layers must be None, 'activations', 'linear' or a list of module names; got {layers!r}"
                )
            chosen = []
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
                chosen.append(name)
            if len(set(chosen)) != len(chosen):
                raise ValueError(f"layers lists a module twice: {list(layers)}")
        if not chosen:
            raise ValueError("no layer to watch: model has no activation, Linear or Conv module; pass layers=[...]")
        self.every = check_int("every", every, minimum=1)
        percentiles = check_sequence("percentiles", percentiles, "(15, 50, 85)")
        self.percentiles = tuple(check_float(f"percentiles[{i}]", q, 0.0, 100.0) for i, q in enumerate(percentiles))
        self._q = torch.tensor(self.percentiles, dtype=torch.float32) / 100.0
        self.saturation = check_float("saturation", saturation, 0.0, 1.0, min_inclusive=False, max_inclusive=False)
        self.unit = None if unit is None else check_int("unit", unit, minimum=0)
        self.include_no_grad = check_bool("include_no_grad", include_no_grad)

        self.layers: list[str] = chosen
        self.weights: list[str] = weighted
        self.kinds: dict[str, str] = {n: _kind(named[n]) for n in chosen}
        self._modules = {n: named[n] for n in chosen}
        self._weight_params = {n: named[n].weight for n in weighted}
        self._order = {n: i for i, n in enumerate(named)}
        self._handles: list[Any] = []
        self._attached = False
        self._passes = 0
        self._current: int | None = None   # the record the forward pass now running writes to
        self._backward: int | None = None  # the record the next backward writes weight gradients to
        self._steps: list[int] = []
        self._rec: dict[str, dict[str, list]] = {
            k: {n: [] for n in chosen} for k in (*_SCALARS, "act_percentiles")
        }
        self._wrec: dict[str, dict[str, list]] = {k: {n: [] for n in weighted} for k in _WSCALARS}
        self._last_act: dict[str, np.ndarray] = {}
        self._last_grad: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ hooks
    def attach(self) -> "LayerStats":
        """Register the hooks (what ``with`` does on entry); returns ``self``."""
        if self._attached:
            raise RuntimeError("this LayerStats is already attached; use one `with` block at a time")
        try:
            self._handles.append(self.model.register_forward_pre_hook(self._on_pass))
            for name, module in self._modules.items():
                self._handles.append(module.register_forward_hook(functools.partial(self._on_output, name)))
            for name, p in self._weight_params.items():
                if p.requires_grad:
                    self._handles.append(p.register_hook(functools.partial(self._on_weight_grad, name)))
        except Exception:
            self.detach()
            raise
        self._attached = True
        return self

    def detach(self) -> None:
        """Remove every hook this object registered (what ``with`` does on exit)."""
        while self._handles:
            self._handles.pop().remove()
        self._attached = False
        self._current = None
        self._backward = None

    def __enter__(self) -> "LayerStats":
        return self.attach()

    def __exit__(self, *exc: Any) -> None:
        self.detach()

    def _on_pass(self, module: nn.Module, inputs: Any) -> None:
        grad = torch.is_grad_enabled()
        if not (grad or self.include_no_grad):
            self._current = None  # a pass without gradients has no backward: the last one's stays due
            return
        self._passes += 1
        if (self._passes - 1) % self.every:
            self._current = None
            if grad:
                self._backward = None
            return
        self._current = len(self._steps)
        if grad:
            self._backward = self._current
        self._steps.append(self._passes)
        nan = float("nan")
        for n in self.layers:
            for k in _SCALARS:
                self._rec[k][n].append(nan)
            self._rec["act_percentiles"][n].append(np.full(len(self.percentiles), nan))
        for n in self.weights:
            for k in _WSCALARS:
                self._wrec[k][n].append(nan)

    def _on_output(self, name: str, module: nn.Module, inputs: Any, output: Any) -> None:
        idx = self._current
        if idx is None or not isinstance(output, torch.Tensor):
            return
        with torch.no_grad():
            out = output.detach().float()
            flat = out.reshape(-1)
            rec = self._rec
            rec["act_mean"][name][idx] = float(flat.mean())
            rec["act_std"][name][idx] = float(flat.std()) if flat.numel() > 1 else 0.0
            kind = self.kinds[name]
            if kind in ("sigmoid", "tanh"):
                t = 2 * flat - 1 if kind == "sigmoid" else flat
                rec["saturated"][name][idx] = float((t.abs() > self.saturation).float().mean())
            else:
                units = out.reshape(out.shape[0], -1) if out.dim() > 1 else out.reshape(-1, 1)
                rec["dead"][name][idx] = float((units <= 0).all(dim=0).float().mean())
            values = flat
            if self.unit is not None:
                if out.dim() < 2 or self.unit >= out.shape[1]:
                    raise ValueError(f"unit {self.unit} is out of range for layer {name!r} of shape "
                                     f"{tuple(out.shape)}")
                values = out[:, self.unit].reshape(-1)
            if self.percentiles:
                if values.numel() <= 2**24:  # torch.quantile's limit
                    q = self._q.to(values.device)
                    rec["act_percentiles"][name][idx] = torch.quantile(values, q).cpu().double().numpy()
                else:
                    rec["act_percentiles"][name][idx] = np.quantile(values.cpu().double().numpy(), self._q.numpy())
            self._last_act[name] = out.cpu().numpy().copy()
        if output.requires_grad:
            output.register_hook(functools.partial(self._on_output_grad, name, idx))

    def _on_output_grad(self, name: str, idx: int, grad: torch.Tensor) -> None:
        if not self._attached:
            return
        with torch.no_grad():
            g = grad.detach().float()
            flat = g.reshape(-1)
            self._rec["grad_mean"][name][idx] = float(flat.mean())
            self._rec["grad_std"][name][idx] = float(flat.std()) if flat.numel() > 1 else 0.0
            self._rec["grad_norm"][name][idx] = float(flat.norm())
            if idx == len(self._steps) - 1:
                self._last_grad[name] = g.cpu().numpy().copy()

    def _on_weight_grad(self, name: str, grad: torch.Tensor) -> None:
        idx = self._backward
        if idx is None or not self._attached:
            return
        with torch.no_grad():
            g = grad.detach().float()
            w = self._weight_params[name].detach().float()
            w_std = float(w.std()) if w.numel() > 1 else 0.0
            g_std = float(g.std()) if g.numel() > 1 else 0.0
            self._wrec["weight_grad_norm"][name][idx] = float(g.norm())
            self._wrec["weight_std"][name][idx] = w_std
            if not (math.isfinite(w_std) and math.isfinite(g_std)):
                ratio = float("nan")  # a non-finite weight or gradient: recorded as such, never an error
            else:
                ratio = g_std / w_std if w_std > 0 else float("inf")
            self._wrec["grad_data_ratio"][name][idx] = ratio

    # ------------------------------------------------------------------ results
    @property
    def steps(self) -> np.ndarray:
        """The pass numbers (1-based; the training steps inside ``fit``) that were recorded."""
        return np.array(self._steps, dtype=int)

    @property
    def last_act(self) -> dict[str, np.ndarray]:
        """Each layer's output in the last recorded pass (input side first), for histograms."""
        return {n: self._last_act[n] for n in self.layers if n in self._last_act}

    @property
    def last_grad(self) -> dict[str, np.ndarray]:
        """dL/d(output) of each layer in the last recorded pass (input side first; filled by backward)."""
        return {n: self._last_grad[n] for n in self.layers if n in self._last_grad}

    @property
    def n_records(self) -> int:
        """How many passes were recorded."""
        return len(self._steps)

    def _get(self, key: str) -> dict[str, np.ndarray]:
        src = self._rec[key] if key in self._rec else self._wrec[key]
        return {n: np.array(v, dtype=float) for n, v in src.items()}

    act_mean = property(lambda self: self._get("act_mean"), doc="Mean of each layer's output, per record.")
    act_std = property(lambda self: self._get("act_std"), doc="Std of each layer's output, per record.")
    act_percentiles = property(
        lambda self: {n: (np.array(v, dtype=float) if v else np.zeros((0, len(self.percentiles))))
                      for n, v in self._rec["act_percentiles"].items()},
        doc="Percentiles of each layer's output, shape (records, len(percentiles)).")
    saturated = property(lambda self: self._get("saturated"),
                         doc="Fraction of saturated sigmoid/tanh values, per record (NaN otherwise).")
    dead = property(lambda self: self._get("dead"),
                    doc="Fraction of units <= 0 for every example of the batch, per record (NaN for sigmoid/tanh).")
    grad_mean = property(lambda self: self._get("grad_mean"), doc="Mean of dL/d(output), per record.")
    grad_std = property(lambda self: self._get("grad_std"), doc="Std of dL/d(output), per record.")
    grad_norm = property(lambda self: self._get("grad_norm"), doc="L2 norm of dL/d(output), per record.")
    weight_grad_norm = property(lambda self: self._get("weight_grad_norm"), doc="L2 norm of dL/dW, per record.")
    weight_std = property(lambda self: self._get("weight_std"), doc="Std of each weight W, per record.")
    grad_data_ratio = property(lambda self: self._get("grad_data_ratio"),
                               doc="std(dL/dW) / std(W), per record (Karpathy's gradient:data ratio).")

    def _weight_of(self) -> dict[str, str]:
        """Each watched layer -> the nearest Linear/Conv at or before it in module order."""
        out = {}
        for n in self.layers:
            before = [w for w in self.weights if self._order[w] <= self._order[n]]
            if before:
                out[n] = max(before, key=self._order.__getitem__)
        return out

    def table(self, record: int = -1) -> StatsTable:
        """One row per watched layer (and per weight not tied to a layer) for one record.

        Args:
            record: which recorded pass (index into :attr:`steps`; -1 = the last).

        Returns:
            A :class:`StatsTable` (a list of dicts) with columns ``layer``,
            ``kind``, ``act_mean``, ``act_std``, one ``p<q>`` per percentile,
            ``saturated``, ``dead``, ``grad_norm`` (of dL/d(output)), ``weight``
            (the Linear that feeds the layer), ``weight_grad_norm`` and
            ``grad_data_ratio``. NaN where something does not apply or was not computed.
        """
        if not self._steps:
            raise ValueError("nothing recorded yet: run the model inside the `with LayerStats(...)` block")
        n = len(self._steps)
        record = check_int("record", record, minimum=-n, maximum=n - 1)
        feeds = self._weight_of()
        rows: list[tuple[int, dict]] = []
        nan = float("nan")
        for name in self.layers:
            row: dict[str, Any] = {"layer": name, "kind": self.kinds[name]}
            row["act_mean"] = self._rec["act_mean"][name][record]
            row["act_std"] = self._rec["act_std"][name][record]
            for q, v in zip(self.percentiles, self._rec["act_percentiles"][name][record]):
                row[f"p{q:g}"] = float(v)
            for k in ("saturated", "dead", "grad_norm"):
                row[k] = self._rec[k][name][record]
            w = feeds.get(name)
            row["weight"] = w if w is not None else "-"
            row["weight_grad_norm"] = self._wrec["weight_grad_norm"][w][record] if w else nan
            row["grad_data_ratio"] = self._wrec["grad_data_ratio"][w][record] if w else nan
            rows.append((self._order[name], row))
        tied = set(feeds.values()) | set(self.layers)
        for w in self.weights:
            if w in tied:
                continue
            row = {"layer": w, "kind": "linear", "act_mean": nan, "act_std": nan}
            for q in self.percentiles:
                row[f"p{q:g}"] = nan
            row.update(saturated=nan, dead=nan, grad_norm=nan, weight=w,
                       weight_grad_norm=self._wrec["weight_grad_norm"][w][record],
                       grad_data_ratio=self._wrec["grad_data_ratio"][w][record])
            rows.append((self._order[w], row))
        return StatsTable(r for _, r in sorted(rows, key=lambda t: t[0]))

    def __repr__(self) -> str:
        state = "attached" if self._attached else "detached"
        return (f"LayerStats({len(self.layers)} layers, {len(self.weights)} weights, "
                f"{len(self._steps)} records, {state})")


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
        if x.shape[0] != y.shape[0] or x.shape[0] == 0:
            raise ValueError(f"x and y must hold the same, non-zero number of examples; "
                             f"got {x.shape[0]} and {y.shape[0]}")
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
