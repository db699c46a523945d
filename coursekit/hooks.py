"""The hook core of :class:`coursekit.diagnostics.LayerStats`: register, record, always remove.

In the spirit of fastai's ``Hooks``: a context manager that hangs PyTorch hooks
on named modules, calls plain statistic functions on what flows through them
(``fn(module, output) -> dict``; the course's own are in
:mod:`coursekit.diagnostics`), keeps what they return, and takes every hook
off again on the way out, even if the body raised.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch
from torch import nn

from ._checks import check_bool, check_int, check_module, check_sequence

__all__ = ["Hooks"]


class Hooks:
    """Hooks on named modules that record what statistic functions return, and are always removed.

    A context manager: entering registers a forward pre-hook on ``model`` (it counts
    the passes), a forward hook on each module of ``modules`` (which hangs a gradient
    hook on the module's output) and a gradient hook on each tensor of ``weights``;
    leaving removes every one of them, also when the body raised. Every ``every``-th
    pass with gradients enabled is recorded (passes under ``torch.no_grad()`` only with
    ``include_no_grad``): ``records[name]`` gets one dict per recorded pass, filled by
    ``forward`` functions ``fn(module, output)``, and when ``backward()`` runs, by
    ``backward`` functions ``fn(module, grad)`` and ``weight_stats`` functions
    ``fn(weight, grad)`` (into ``weight_records``). :attr:`steps` holds each record's pass number.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb`` (through
    :class:`coursekit.diagnostics.LayerStats`, which is this core with the course's statistics).
    """

    def __init__(self, model: nn.Module, modules: dict, forward=(), backward=(), weights=None, weight_stats=(),
                 *, every: int = 1, include_no_grad: bool = False) -> None:
        self.model = check_module("model", model)
        if not isinstance(modules, dict) or not all(isinstance(m, nn.Module) for m in modules.values()):
            raise TypeError(f"modules must be a dict name -> nn.Module, e.g. {{'act1': model.act1}}; got {modules!r}")
        self.modules, self.weight_params = modules, dict(weights or {})
        fns = {"forward": forward, "backward": backward, "weight_stats": weight_stats}
        for what, given in fns.items():
            fns[what] = check_sequence(what, given, "[ck.diagnostics.mean_std]")
            for i, fn in enumerate(fns[what]):
                if not callable(fn):
                    raise TypeError(f"{what}[{i}] must be a function (module, tensor) -> dict; got {type(fn).__name__}")
        self.forward, self.backward, self.weight_stats = fns.values()
        self.every = check_int("every", every, minimum=1)
        self.include_no_grad = check_bool("include_no_grad", include_no_grad)
        self._steps: list[int] = []
        self.records: dict[str, list[dict]] = {n: [] for n in modules}
        self.weight_records: dict[str, list[dict]] = {n: [] for n in self.weight_params}
        self.last_outputs: dict[str, np.ndarray] = {}
        self.last_grads: dict[str, np.ndarray] = {}
        self._handles: list[Any] = []
        self._attached, self._passes = False, 0
        self._current: int | None = None   # the record the forward pass now running writes to
        self._backward: int | None = None  # the record the next backward writes weight gradients to

    def __enter__(self):
        if self._attached:
            raise RuntimeError(f"this {type(self).__name__} is already attached; use one `with` block at a time")
        try:
            self._handles.append(self.model.register_forward_pre_hook(self._on_pass))
            for name, module in self.modules.items():
                self._handles.append(module.register_forward_hook(functools.partial(self._on_output, name)))
            for name, p in self.weight_params.items():
                if p.requires_grad:
                    self._handles.append(p.register_hook(functools.partial(self._on_weight_grad, name)))
        except Exception:
            self.__exit__()
            raise
        self._attached = True
        return self

    def __exit__(self, *exc: Any) -> None:
        while self._handles:
            self._handles.pop().remove()
        self._attached, self._current, self._backward = False, None, None

    attach, detach = __enter__, __exit__

    steps = property(lambda self: np.array(self._steps, dtype=int),
                     doc="The pass numbers (1-based; the training steps inside ``fit``) that were recorded.")
    n_records = property(lambda self: len(self._steps), doc="How many passes were recorded.")

    def _on_pass(self, module: nn.Module, inputs: Any) -> None:
        grad = torch.is_grad_enabled()
        if not (grad or self.include_no_grad):
            self._current = None  # a pass without gradients has no backward: the last one's stays due
            return
        self._passes += 1
        recorded = (self._passes - 1) % self.every == 0
        self._current = len(self._steps) if recorded else None
        if grad:
            self._backward = self._current
        if recorded:
            self._steps.append(self._passes)
            for recs in (*self.records.values(), *self.weight_records.values()):
                recs.append({})

    def _on_output(self, name: str, module: nn.Module, inputs: Any, output: Any) -> None:
        idx = self._current
        if idx is None or not isinstance(output, torch.Tensor):
            return
        with torch.no_grad():
            out = output.detach().float()
            for fn in self.forward:
                self.records[name][idx].update(fn(module, out))
            self.last_outputs[name] = out.cpu().numpy().copy()
        if output.requires_grad:
            output.register_hook(functools.partial(self._on_grad, name, module, idx))

    def _on_grad(self, name: str, module: nn.Module, idx: int, grad: torch.Tensor) -> None:
        if self._attached:
            with torch.no_grad():
                for fn in self.backward:
                    self.records[name][idx].update(fn(module, grad.detach()))
                if idx == len(self._steps) - 1:
                    self.last_grads[name] = grad.detach().float().cpu().numpy().copy()

    def _on_weight_grad(self, name: str, grad: torch.Tensor) -> None:
        if self._backward is not None and self._attached:
            with torch.no_grad():
                for fn in self.weight_stats:
                    self.weight_records[name][self._backward].update(fn(self.weight_params[name], grad.detach()))
