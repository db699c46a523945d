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

Two plain functions drive the class widgets and their static figures:
:func:`gradient_flow` / :func:`plot_gradient_flow` (notebook 01) and
:func:`activation_profile` / :func:`plot_activation_profile` (notebook 02).
"""
from __future__ import annotations

import functools
import math
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from ._checks import check_choice, check_float, check_int, check_module, check_tensor

__all__ = [
    "LayerStats",
    "StatsTable",
    "ACTIVATION_TYPES",
    "gradient_flow",
    "plot_gradient_flow",
    "activation_curve",
    "activation_profile",
    "plot_activation_profile",
    "deep_mlp",
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

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """

    #: column -> format used when printing
    FORMATS = {
        "act_mean": "{:.3f}", "act_std": "{:.3f}", "saturated": "{:.0%}", "dead": "{:.0%}",
        "grad_norm": "{:.1e}", "weight_grad_norm": "{:.1e}", "grad_data_ratio": "{:.1e}",
    }

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
            fmt = self.FORMATS.get(col, "{:.1e}" if "grad" in col else "{:.3f}")
            return fmt.format(value)
        return str(value)

    #: left-align columns whose values are text (names read best that way)
    LEFT_ALIGN_TEXT = False

    def __str__(self) -> str:
        if not self:
            return "(empty table)"
        cols = self.columns()
        cells = [[self._fmt(c, row.get(c)) for c in cols] for row in self]
        widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(cols)]
        left = [self.LEFT_ALIGN_TEXT and isinstance(self[0].get(c), str) for c in cols]

        def line(values: list[str]) -> str:
            text = "  ".join(v.ljust(w) if lft else v.rjust(w) for v, w, lft in zip(values, widths, left))
            return text.rstrip() if self.LEFT_ALIGN_TEXT else text

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
        bins: number of histogram bins per layer (>= 2).
        hist_range: ``(low, high)`` of the histograms; default: (0, 1) for
            sigmoid, (-1, 1) for tanh, else the range of the first recorded pass.
            Values outside are counted in the first or last bin.
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
      ``act_percentiles`` (shape ``(records, len(percentiles))``), ``act_hist``
      (``(records, bins)`` counts, edges in ``hist_edges``), ``saturated``
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
        bins: int = 50,
        hist_range: tuple[float, float] | None = None,
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
            for i, name in enumerate(layers):
                if not isinstance(name, str):
                    raise TypeError(f"layers[{i}] must be a module name (str); got {type(name).__name__}")
                if name not in named or name == "":
                    avail = ", ".join(n for n in named if n)
                    raise ValueError(f"layers[{i}] {name!r} is not a module of model; available: {avail}")
                chosen.append(name)
            if len(set(chosen)) != len(chosen):
                raise ValueError(f"layers lists a module twice: {list(layers)}")
        if not chosen:
            raise ValueError("no layer to watch: model has no activation, Linear or Conv module; pass layers=[...]")
        self.every = check_int("every", every, minimum=1)
        if isinstance(percentiles, (str, bytes)) or not hasattr(percentiles, "__iter__"):
            raise TypeError(f"percentiles must be a sequence of numbers such as (15, 50, 85); got {percentiles!r}")
        self.percentiles = tuple(check_float(f"percentiles[{i}]", q, 0.0, 100.0) for i, q in enumerate(percentiles))
        self._q = torch.tensor(self.percentiles, dtype=torch.float32) / 100.0
        self.bins = check_int("bins", bins, minimum=2)
        if hist_range is not None:
            if not (isinstance(hist_range, (tuple, list)) and len(hist_range) == 2):
                raise TypeError(f"hist_range must be a (low, high) pair or None; got {hist_range!r}")
            lo = check_float("hist_range[0]", hist_range[0])
            hi = check_float("hist_range[1]", hist_range[1])
            if not hi > lo:
                raise ValueError(f"hist_range must have low < high; got {hist_range!r}")
            hist_range = (lo, hi)
        self.hist_range = hist_range
        self.saturation = check_float("saturation", saturation, 0.0, 1.0, min_inclusive=False, max_inclusive=False)
        self.unit = None if unit is None else check_int("unit", unit, minimum=0)
        if not isinstance(include_no_grad, bool):
            raise TypeError(f"include_no_grad must be True or False; got {include_no_grad!r}")
        self.include_no_grad = include_no_grad

        self.layers: list[str] = chosen
        self.weights: list[str] = weighted
        self.kinds: dict[str, str] = {n: _kind(named[n]) for n in chosen}
        self._modules = {n: named[n] for n in chosen}
        self._weight_params = {n: named[n].weight for n in weighted}
        self._order = {n: i for i, n in enumerate(named)}
        self._handles: list[Any] = []
        self._attached = False
        self._passes = 0
        self._current: int | None = None
        self._steps: list[int] = []
        self._rec: dict[str, dict[str, list]] = {
            k: {n: [] for n in chosen} for k in (*_SCALARS, "act_percentiles", "act_hist")
        }
        self._wrec: dict[str, dict[str, list]] = {k: {n: [] for n in weighted} for k in _WSCALARS}
        self.hist_edges: dict[str, np.ndarray] = {}
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

    def __enter__(self) -> "LayerStats":
        return self.attach()

    def __exit__(self, *exc: Any) -> None:
        self.detach()

    def _on_pass(self, module: nn.Module, inputs: Any) -> None:
        if not (torch.is_grad_enabled() or self.include_no_grad):
            self._current = None
            return
        self._passes += 1
        if (self._passes - 1) % self.every:
            self._current = None
            return
        self._current = len(self._steps)
        self._steps.append(self._passes)
        nan = float("nan")
        for n in self.layers:
            for k in _SCALARS:
                self._rec[k][n].append(nan)
            self._rec["act_percentiles"][n].append(np.full(len(self.percentiles), nan))
            self._rec["act_hist"][n].append(np.zeros(self.bins))
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
            if name not in self.hist_edges:
                self.hist_edges[name] = self._edges(name, flat)
            edges = self.hist_edges[name]
            lo, hi = float(edges[0]), float(edges[-1])
            counts = torch.histc(flat.clamp(lo, hi).cpu(), bins=self.bins, min=lo, max=hi)
            rec["act_hist"][name][idx] = counts.numpy().astype(float)
            self._last_act[name] = out.cpu().numpy().copy()
        if output.requires_grad:
            output.register_hook(functools.partial(self._on_output_grad, name, idx))

    def _edges(self, name: str, flat: torch.Tensor) -> np.ndarray:
        if self.hist_range is not None:
            lo, hi = self.hist_range
        elif self.kinds[name] == "sigmoid":
            lo, hi = 0.0, 1.0
        elif self.kinds[name] == "tanh":
            lo, hi = -1.0, 1.0
        else:
            lo, hi = float(flat.min()), float(flat.max())
            if not hi > lo:
                lo, hi = lo - 0.5, hi + 0.5
        return np.linspace(lo, hi, self.bins + 1)

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
        idx = self._current
        if idx is None or not self._attached:
            return
        with torch.no_grad():
            g = grad.detach().float()
            w = self._weight_params[name].detach().float()
            w_std = float(w.std()) if w.numel() > 1 else 0.0
            g_std = float(g.std()) if g.numel() > 1 else 0.0
            self._wrec["weight_grad_norm"][name][idx] = float(g.norm())
            self._wrec["weight_std"][name][idx] = w_std
            self._wrec["grad_data_ratio"][name][idx] = g_std / w_std if w_std > 0 else float("inf")

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
    act_hist = property(
        lambda self: {n: (np.array(v, dtype=float) if v else np.zeros((0, self.bins)))
                      for n, v in self._rec["act_hist"].items()},
        doc="Histogram counts of each layer's output, shape (records, bins); edges in hist_edges.")
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


# ---------------------------------------------------------------------- widget functions


@functools.lru_cache(maxsize=4)
def _digits_batch(n_examples: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    from .data import load_digits

    ds = load_digits()
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(ds.y_train), generator=g)[:n_examples]
    return ds.x_train[idx].clone(), ds.y_train[idx].clone()


_INITS = ("pytorch_default", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "normal")


def deep_mlp(
    depth: int, activation: str = "sigmoid", width: int = 64, n_in: int = 64, n_out: int = 10,
    init: str = "pytorch_default", weight_scale: float = 1.0, seed: int = 0,
) -> nn.Sequential:
    """A ``depth``-hidden-layer MLP of constant ``width``, initialized by name and scaled.

    ``init`` is passed to :func:`coursekit.init.initialize` (the gain follows
    ``activation`` where PyTorch defines one; "normal" draws N(0, 1) like the
    seed's labs); then every Linear weight is multiplied by ``weight_scale``.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """
    from .init import initialize
    from .models import ACTIVATIONS, mlp

    depth = check_int("depth", depth, minimum=1, maximum=100)
    activation = check_choice("activation", activation, ACTIVATIONS)
    width = check_int("width", width, minimum=1)
    init = check_choice("init", init, _INITS)
    weight_scale = check_float("weight_scale", weight_scale, 0.0, min_inclusive=False)
    seed = check_int("seed", seed, minimum=0)
    model = mlp([n_in] + [width] * depth + [n_out], activation=activation, seed=seed)
    if init != "pytorch_default":
        gains = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu", "leaky_relu": "leaky_relu"}
        initialize(model, init, nonlinearity=gains.get(activation, "linear"), seed=seed)
    if weight_scale != 1.0:
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.Linear):
                    m.weight.mul_(weight_scale)
    return model


def gradient_flow(
    depth: int = 6,
    activation: str = "sigmoid",
    init: str = "pytorch_default",
    weight_scale: float = 1.0,
    *,
    width: int = 64,
    seed: int = 0,
    n_examples: int = 256,
    x: torch.Tensor | None = None,
    y: torch.Tensor | None = None,
) -> dict[str, Any]:
    """One forward and backward pass of a fresh deep MLP; per-layer numbers for a picture.

    Builds :func:`deep_mlp` (``depth`` hidden layers of ``width`` units), runs a
    batch of digits (or ``x``, ``y``) through it with cross-entropy, and
    records everything with :class:`LayerStats`.

    Args:
        depth: hidden layers, 1-100.
        activation: "sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu" or "identity".
        init: "pytorch_default" (U(+-1/sqrt(fan_in)), Glorot's "standard"),
            "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "normal" (N(0, 1)).
        weight_scale: multiply every weight by this after initializing.
        width: units per hidden layer.
        seed: seed of the weights (and of which digits form the batch).
        n_examples: batch size drawn from the digits training split.
        x, y: your own batch instead (``x`` of shape (n, 64) unless you change
            nothing else, ``y`` class indices).

    Returns:
        A dict of plain values, input side first:
        ``weights`` (names "fc1".."out"), ``weight_grad_norm`` (array, one per
        Linear), ``grad_data_ratio``; ``layers`` ("act1"...), ``act_mean``,
        ``act_std``, ``saturated``, ``dead``, ``grad_norm`` (of dL/d activation),
        ``act_values`` and ``grad_values`` (lists of flat arrays, one per
        layer); ``loss`` (float) and the settings.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """
    from .models import ACTIVATIONS

    n_examples = check_int("n_examples", n_examples, minimum=1, maximum=1077)
    act_key = check_choice("activation", activation, ACTIVATIONS)
    model = deep_mlp(depth, activation, width=width, init=init, weight_scale=weight_scale, seed=seed)
    if x is None and y is None:
        x, y = _digits_batch(n_examples, seed)
    elif x is None or y is None:
        raise ValueError("pass both x and y, or neither (then a digits batch is used)")
    else:
        check_tensor("x", x, ndim=2)
        check_tensor("y", y, ndim=1)
        if x.shape[1] != 64:
            model = deep_mlp(depth, activation, width=width, n_in=int(x.shape[1]),
                             n_out=int(y.max()) + 1, init=init, weight_scale=weight_scale, seed=seed)
    act_names = [f"act{i}" for i in range(1, depth + 1)]
    with LayerStats(model, layers=act_names, percentiles=(), bins=2) as stats:
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
    w = stats.weights
    return {
        "depth": depth, "activation": act_key,
        "init": init, "weight_scale": float(weight_scale), "loss": float(loss.detach()),
        "weights": w,
        "weight_grad_norm": np.array([stats.weight_grad_norm[n][-1] for n in w]),
        "grad_data_ratio": np.array([stats.grad_data_ratio[n][-1] for n in w]),
        "layers": act_names,
        "act_mean": np.array([stats.act_mean[n][-1] for n in act_names]),
        "act_std": np.array([stats.act_std[n][-1] for n in act_names]),
        "saturated": np.array([stats.saturated[n][-1] for n in act_names]),
        "dead": np.array([stats.dead[n][-1] for n in act_names]),
        "grad_norm": np.array([stats.grad_norm[n][-1] for n in act_names]),
        "act_values": [stats.last_act[n].reshape(-1) for n in act_names],
        "grad_values": [stats.last_grad[n].reshape(-1) for n in act_names],
    }


def plot_gradient_flow(
    depth: int = 6,
    activation: str = "sigmoid",
    init: str = "pytorch_default",
    weight_scale: float = 1.0,
    *,
    seed: int = 0,
    result: dict | None = None,
    fig=None,
):
    """Draw :func:`gradient_flow`: weight-gradient norm per layer (log scale) and activation histograms.

    The widget of ``notebooks/01_vanishing_gradients.ipynb`` calls this with the
    slider values; the notebook also calls it once with fixed values for a
    static figure. Pass ``result`` (what :func:`gradient_flow` returned) to draw
    without recomputing, and ``fig`` (a Figure this function returned before)
    to redraw into it, as the widget does (see :func:`coursekit.plots.panels`).

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """
    from .plots import panels, plot_grad_norms, plot_layer_histograms

    r = result if result is not None else gradient_flow(depth, activation, init, weight_scale, seed=seed)
    fig, (ax_g, ax_h) = panels(2, (9, 3.2), fig=fig)
    plot_grad_norms({r["activation"]: dict(zip(r["weights"], r["weight_grad_norm"]))}, ax=ax_g,
                    title="weight-gradient norm per layer", legend=False)  # the suptitle names the run
    act = r["activation"]
    rng = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}.get(act)
    plot_layer_histograms(dict(zip(r["layers"], r["act_values"])), ax=ax_h, value_range=rng,
                          title=f"activations of each {act} layer", xlabel="activation value")
    fig.suptitle(f"{r['depth']} hidden {act} layers, {r['init']} init x {r['weight_scale']:g}: "
                 f"loss {r['loss']:.3f}", fontsize=10)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.2, top=0.82, wspace=0.25)
    return fig


def activation_curve(activation: str, x: torch.Tensor | np.ndarray | None = None) -> dict[str, np.ndarray]:
    """An activation function and its derivative, the derivative taken by autograd.

    Args:
        activation: a name from :data:`coursekit.models.ACTIVATIONS`.
        x: where to evaluate (default 401 points on [-5, 5]).

    Returns:
        ``{"x": ..., "f": f(x), "df": f'(x)}`` as NumPy arrays.

    Introduced in ``notebooks/02_relu.ipynb``.
    """
    from .models import activation as make_activation

    module = make_activation(activation)
    if x is None:
        xt = torch.linspace(-5, 5, 401, dtype=torch.float64)
    else:
        xt = torch.as_tensor(np.asarray(x), dtype=torch.float64).reshape(-1)
    xt = xt.clone().requires_grad_(True)
    f = module(xt)
    (df,) = torch.autograd.grad(f.sum(), xt)
    return {"x": xt.detach().numpy(), "f": f.detach().numpy(), "df": df.numpy()}


def activation_profile(
    activation: str = "relu", depth: int = 8, init: str = "pytorch_default", weight_scale: float = 1.0,
    *, seed: int = 0,
) -> dict[str, Any]:
    """An activation's curve and derivative plus the dead / saturated fractions of a deep net using it.

    Combines :func:`activation_curve` with :func:`gradient_flow` (same deep
    MLP, one digits batch, at initialization).

    Returns:
        ``{"x", "f", "df"}`` of the curve, and ``layers``, ``dead``,
        ``saturated``, ``weight_grad_norm`` (arrays, input side first) of the net.

    Introduced in ``notebooks/02_relu.ipynb``.
    """
    curve = activation_curve(activation)
    flow = gradient_flow(depth, activation, init, weight_scale, seed=seed)
    return {**curve, **{k: flow[k] for k in ("layers", "dead", "saturated", "weight_grad_norm", "weights",
                                             "activation", "depth", "loss")}}


def plot_activation_profile(
    activation: str = "relu", depth: int = 8, init: str = "pytorch_default", weight_scale: float = 1.0,
    *, seed: int = 0, fig=None,
):
    """Draw :func:`activation_profile`: f and f' on the left, dead and saturated % per layer on the right.

    Pass ``fig`` (a Figure this function returned before) to redraw into it, as
    the widget does (see :func:`coursekit.plots.panels`).

    Returns:
        The matplotlib Figure.

    Introduced in ``notebooks/02_relu.ipynb``.
    """
    from .plots import color, panels

    r = activation_profile(activation, depth, init, weight_scale, seed=seed)
    fig, (ax_f, ax_d) = panels(2, (9, 3.2), fig=fig)
    c = color(r["activation"])
    ax_f.plot(r["x"], r["f"], color=c, lw=2, label="f(x)")
    ax_f.plot(r["x"], r["df"], color=c, lw=1.5, ls="--", label="f'(x) (autograd)")
    ax_f.axhline(0, color="k", lw=0.5)
    ax_f.set(xlabel="x", title=f"{r['activation']} and its derivative", ylim=(-1.2, 2.2))
    ax_f.legend(fontsize=8, loc="upper left")
    idx = np.arange(1, len(r["layers"]) + 1)
    dead = np.nan_to_num(r["dead"], nan=0.0) * 100
    sat = np.nan_to_num(r["saturated"], nan=0.0) * 100
    # "never > 0" means dead only for ReLU: LeakyReLU, ELU and GELU still pass a gradient below 0
    never = "dead (never > 0 on the batch)" if r["activation"] == "relu" else "never > 0 (still has a gradient)"
    ax_d.bar(idx - 0.2, dead, width=0.4, color="#555555", label=never)
    ax_d.bar(idx + 0.2, sat, width=0.4, color=c, label="saturated (sigmoid, tanh)")
    ax_d.set(xlabel="hidden layer (input side first)", ylabel="% of the layer", ylim=(0, 105),
             title=f"{r['depth']} layers at init, one digits batch",
             xticks=idx if len(idx) <= 8 else idx[::2])
    ax_d.legend(fontsize=8, loc="upper left")
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.16, top=0.9, wspace=0.25)
    return fig
