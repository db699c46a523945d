"""What :func:`coursekit.train.fit`, :func:`~coursekit.train.evaluate` and :meth:`coursekit.rbm.RBM.fit` check at the door.

The data against the model and the loss, before any step is taken: inputs
finite and of the width and dtype of the model's first layer, class labels
integers within the model's outputs, validation splits of matching lengths,
and what a custom loss returns. Each error names the split the learner passed
(``data.x_train``, ``data[3] (y_val)``, ...), what it got and the fix.

Introduced in ``notebooks/00_start_here.ipynb`` (with :func:`coursekit.train.fit`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from ._checks import (
    check_bool,
    check_choice,
    check_device,
    check_float,
    check_int,
    check_module,
    check_same_length,
    check_sequence,
    check_tensor,
)
from ._i18n import _
from .data import Dataset
from .layers import BatchNorm1d as ScratchBatchNorm1d


def _first_layer(model: nn.Module) -> nn.Module:
    """The module a Sequential (nested or not) applies first; the model itself otherwise."""
    while isinstance(model, nn.Sequential) and len(model) > 0:
        model = model[0]
    return model


def _code(name: str) -> str:
    """The part of an argument's name that is code: "data[1]" of "data[1] (y_train)"."""
    return name.split(" (")[0]


def check_inputs(model: nn.Module, name: str, x: torch.Tensor) -> None:
    """Reject inputs the model's first layer cannot take: NaN/inf, integers, another float dtype, wrong width."""
    check_tensor(name, x, finite=True)
    first = _first_layer(model)
    if not isinstance(first, (nn.Linear, nn.BatchNorm1d, ScratchBatchNorm1d)) or first.weight is None:
        return  # a model of your own: its first forward pass will tell
    if not x.is_floating_point():
        if x.dtype == torch.uint8:
            msg = _("{name} must be a floating-point tensor (the model's layers compute in {dtype}); got {got}: "
                    "convert it, e.g. {code}.float() / 255 for pixels in 0..255")
        else:
            msg = _("{name} must be a floating-point tensor (the model's layers compute in {dtype}); got {got}: "
                    "convert it, e.g. {code}.float()")
        raise TypeError(msg.format(name=name, dtype=first.weight.dtype, got=x.dtype, code=_code(name)))
    if x.dtype != first.weight.dtype:
        raise TypeError(_("{name} has dtype {dtype} but the model's parameters are {dtype2}: convert one to the "
                          "other, e.g. {code}.to({dtype2})").format(
                name=name, dtype=x.dtype, dtype2=first.weight.dtype, code=_code(name)))
    width = first.in_features if isinstance(first, nn.Linear) else first.num_features
    got = x.shape[-1] if isinstance(first, nn.Linear) else (x.shape[1] if x.dim() > 1 else None)
    if x.dim() < 2 or got != width:
        raise ValueError(_("{name} must have shape (examples, {width}): the model's first layer takes {width} "
                           "features; got shape {shape} (build the model for {got} inputs, or reshape {code})").format(
                name=name, width=width, shape=tuple(x.shape), got=got, code=_code(name)))


def check_targets(name: str, y: torch.Tensor, kind: str) -> tuple[torch.Tensor, int | None]:
    """Reject targets the loss cannot use; return them (integer labels as int64) and the largest label."""
    check_tensor(name, y)
    if kind == "cross_entropy":
        if y.is_floating_point() and y.dim() < 2:
            raise TypeError(_("{name} must hold class indices as integers (torch.int64) for loss='cross_entropy'; "
                              "got {dtype}: convert it with {code}.long()").format(
                    name=name, dtype=y.dtype, code=_code(name)))
        if y.is_floating_point():  # class probabilities, one row per example
            check_tensor(name, y, finite=True)
            return y, None
        if y.dtype == torch.bool:
            raise TypeError(_("{name} must hold class indices as integers (torch.int64); got torch.bool: use "
                              "{code}.long()").format(
                    name=name, code=_code(name)))
        if y.dim() == 2 and y.shape[1] == 1:
            raise ValueError(_("{name} must have shape ({shape},), one class index per example; got shape {shape2}: "
                               "use {code}.squeeze(1)").format(
                    name=name, shape=y.shape[0], shape2=tuple(y.shape), code=_code(name)))
        y = y.long()
        bad = y[(y < 0) & (y != -100)]  # -100 is PyTorch's "ignore this example"
        if bad.numel():
            raise ValueError(_("{name} must hold class indices 0, 1, 2, ...; got the label {bad}").format(
                    name=name, bad=int(bad[0])))
        return y, int(y.max()) if y.numel() else None
    if kind == "custom":
        return y, None  # only your loss knows what its targets may be
    check_tensor(name, y, finite=True)
    if kind == "bce" and y.numel() and (float(y.min()) < 0 or float(y.max()) > 1):
        raise ValueError(_("{name} must hold targets in [0, 1] for loss='bce'; got values from {min} to {max}").format(
                name=name, min=format(float(y.min()), '.3g'), max=format(float(y.max()), '.3g')))
    return y, None


def check_output(out, name: str, y: torch.Tensor, kind: str, label_max: int | None) -> None:
    """Compare the model's output on a first batch with the targets the loss will get."""
    if not isinstance(out, torch.Tensor):
        raise TypeError(_("model must return a tensor of outputs; it returned {type}").format(
                type=type(out).__name__))
    if kind == "cross_entropy":
        if y.is_floating_point():
            if out.shape != y.shape:
                raise ValueError(_("{name} holds class probabilities of shape {shape} per example, but the model "
                                   "outputs shape {shape2}").format(
                        name=name, shape=tuple(y.shape[1:]), shape2=tuple(out.shape[1:])))
        elif out.dim() < 2:
            raise ValueError(_("loss='cross_entropy' needs one output per class, shape (batch, classes); the model "
                               "outputs shape {shape}").format(
                    shape=tuple(out.shape)))
        elif label_max is not None and label_max >= out.shape[1]:
            raise ValueError(_("{name} holds labels up to {label_max}, but the model outputs {shape} classes (labels "
                               "0 to {value}): give its last layer {value2} units, e.g. mlp([..., {value2}])").format(
                    name=name, label_max=label_max, shape=out.shape[1], value=out.shape[1] - 1, value2=label_max + 1))
    elif kind != "custom" and out.shape != y.shape:
        raise ValueError(_("loss={kind} compares the output with {name} element by element, but for a batch the "
                           "model outputs shape {shape} and {name} has shape {shape2}: reshape {name} (e.g. "
                           "{code}.reshape({map})) or change the model's last layer").format(
                kind=repr(kind), name=name, shape=tuple(out.shape), shape2=tuple(y.shape), code=_code(name),
                map=', '.join(map(str, (-1, *out.shape[1:])))))


def check_loss_value(value) -> None:
    """What a custom loss returned must be one number, as a tensor that autograd can differentiate."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(_("loss must return a tensor with one number (e.g. F.mse_loss(out, y)); it returned {type} "
                          "{value}: build it from torch operations, without .item() or float()").format(
                type=type(value).__name__, value=repr(value)))
    if value.numel() != 1:
        raise ValueError(_("loss must return one number per batch; it returned a tensor of shape {shape}: reduce it, "
                           "e.g. with .mean()").format(
                shape=tuple(value.shape)))
    if not value.requires_grad:
        raise ValueError(_("loss returned a tensor that does not depend on the model's output (no gradient): compute "
                           "it from the output with torch operations, without .detach() or .item()"))


def check_data(model, kind, x_train, y_train, x_val, y_val, names):
    """Check fit's four splits against the model and the loss ``kind``.

    Args:
        model: the network (its first layer sets the inputs' width and dtype).
        kind: the loss's key in :data:`coursekit.train.LOSSES`, or "custom".
        x_train, y_train, x_val, y_val: the splits (``x_val``/``y_val`` may be None).
        names: how the learner wrote the four splits, e.g. ``("data.x_train", ...)``.

    Returns:
        ``(y_train, y_val, label_max, label_name)``: the targets (integer labels as
        int64), the largest class label of either split (None when the targets
        are not class indices), and the name of the split that holds it, for the
        message when the model has too few outputs.
    """
    nx, ny, nxv, nyv = names
    check_same_length((nx, ny), x_train, y_train)
    check_inputs(model, nx, x_train)
    y_train, label_max = check_targets(ny, y_train, kind)
    if x_val is not None and y_val is not None and (len(x_val) or len(y_val)):
        check_same_length((nxv, nyv), x_val, y_val, nonempty=False)
        check_inputs(model, nxv, x_val)
        if x_val.shape[1:] != x_train.shape[1:]:
            raise ValueError(_("{nxv} must have the shape of {nx} per example, {shape}; got {shape2}").format(
                    nxv=nxv, nx=nx, shape=tuple(x_train.shape[1:]), shape2=tuple(x_val.shape[1:])))
        y_val, val_max = check_targets(nyv, y_val, kind)
        if y_val.shape[1:] != y_train.shape[1:]:
            raise ValueError(_("{nyv} must have the shape of {ny} per example, {shape}; got {shape2}").format(
                    nyv=nyv, ny=ny, shape=tuple(y_train.shape[1:]), shape2=tuple(y_val.shape[1:])))
        if val_max is not None and label_max is not None and val_max > label_max:
            return y_train, y_val, val_max, nyv
    return y_train, y_val, label_max, ny


_SPLITS = ("x_train", "y_train", "x_val", "y_val")


def _unpack(data) -> tuple[tuple, tuple[str, str, str, str]]:
    """The four splits of what fit's ``data`` holds (None for a missing validation split) and their names."""
    if isinstance(data, Dataset):
        return (data.x_train, data.y_train, data.x_val, data.y_val), tuple(f"data.{n}" for n in _SPLITS)
    if isinstance(data, (tuple, list)) and len(data) in (2, 4):
        names = tuple(f"data[{i}] ({n})" for i, n in enumerate(_SPLITS))
        for i, t in enumerate(data):
            check_tensor(names[i], t)
        return (tuple(data) if len(data) == 4 else (data[0], data[1], None, None)), names
    if isinstance(data, (tuple, list)):
        raise TypeError(_("data must be a coursekit Dataset, (x_train, y_train) or (x_train, y_train, x_val, y_val); "
                          "got {type} of length {n}").format(type=type(data).__name__, n=len(data)))
    raise TypeError(_("data must be a coursekit Dataset, (x_train, y_train) or (x_train, y_train, x_val, y_val); "
                      "got {type}").format(type=type(data).__name__))


@dataclass
class FitPlan:
    """What :func:`check_fit` found: the checked data and settings the loop trusts."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor | None
    y_val: torch.Tensor | None
    loss_fn: Callable
    kind: str
    label_max: int | None
    label_name: str
    x_name: str
    device: torch.device
    drop_last: bool
    steps_per_epoch: int
    callbacks: list

    def check_first_batch(self, out, yb: torch.Tensor) -> None:
        """The model's output on the first batch against the targets the loss will get."""
        check_output(out, self.label_name, yb, self.kind, self.label_max)


def check_fit(model, data, *, loss, losses, epochs, batch_size, seed, device, callbacks, callback_type,
              progress, label, max_steps, nan_policy, nan_policies, eval_train, model_device) -> FitPlan:
    """Every check :func:`coursekit.train.fit` makes before its first step, in one call."""
    check_module("model", model)
    splits, names = _unpack(data)
    check_int("epochs", epochs, minimum=1)
    check_int("batch_size", batch_size, minimum=1)
    check_int("seed", seed, minimum=0)
    if max_steps is not None:
        check_int("max_steps", max_steps, minimum=1)
    if isinstance(callbacks, callback_type):
        raise TypeError(_("callbacks must be a list of Callback objects; got a single {type}: pass callbacks=[...] "
                          "around it").format(
                type=type(callbacks).__name__))
    callbacks = check_sequence("callbacks", callbacks, "[ck.plots.LivePlot()]")
    for i, cb in enumerate(callbacks):
        if not isinstance(cb, callback_type):
            raise TypeError(_("callbacks[{i}] must be a coursekit.train.Callback; got {type}").format(
                    i=i, type=type(cb).__name__))
    check_bool("progress", progress)
    check_bool("eval_train", eval_train)
    if not isinstance(label, str):
        raise TypeError(_("label must be a string; got {type} {label}").format(
                type=type(label).__name__, label=repr(label)))
    check_choice("nan_policy", nan_policy, nan_policies)
    if callable(loss):
        loss_fn, kind = loss, "custom"
    else:
        kind = check_choice("loss", loss, losses)
        loss_fn = losses[kind]
    y_train, y_val, label_max, label_name = check_data(model, kind, *splits, names)
    x_train, x_val = splits[0], splits[2]
    n_train = x_train.shape[0]
    drop_last = False
    if x_train.dim() == 2 and any(isinstance(m, (nn.BatchNorm1d, ScratchBatchNorm1d)) for m in model.modules()):
        if min(batch_size, n_train) < 2:
            raise ValueError(_("a model with BatchNorm1d layers needs at least 2 examples per batch in training "
                               "mode; got batch_size={batch_size} and {n_train} training examples").format(
                    batch_size=batch_size, n_train=n_train))
        drop_last = n_train % batch_size == 1  # a last batch of one example would fail: leave it out
    dev = check_device("device", device) if device is not None else model_device(model)
    if x_val is None or y_val is None or len(y_val) == 0:
        x_val = y_val = None
    return FitPlan(x_train, y_train, x_val, y_val, loss_fn, kind, label_max, label_name, names[0], dev, drop_last,
                   n_train // batch_size if drop_last else -(-n_train // batch_size), callbacks)


def check_rbm_fit(rbm, x, epochs, batch_size, lr, k, persistent, momentum, initial_momentum, momentum_switch,
                  weight_decay, sample_visible, x_val, monitor, monitor_size, shuffle, init_visible_bias, seed,
                  label, on_epoch_end, nan_policy) -> tuple:
    """Every argument of :meth:`coursekit.rbm.RBM.fit`, checked once at the door; the normalised values."""
    x = rbm._check_v(x, "x")
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    lr = check_float("lr", lr, 0.0, min_inclusive=False, finite=True)
    k = check_int("k", k, minimum=1)
    for name, flag in (("persistent", persistent), ("sample_visible", sample_visible),
                       ("monitor", monitor), ("shuffle", shuffle)):
        check_bool(name, flag)
    momentum = check_float("momentum", momentum, 0.0, 1.0, max_inclusive=False)
    if initial_momentum is not None:
        initial_momentum = check_float("initial_momentum", initial_momentum, 0.0, 1.0, max_inclusive=False)
    momentum_switch = check_int("momentum_switch", momentum_switch, minimum=0)
    weight_decay = check_float("weight_decay", weight_decay, 0.0, finite=True)
    if x_val is not None:
        x_val = rbm._check_v(x_val, "x_val")
    if monitor_size is not None:
        monitor_size = check_int("monitor_size", monitor_size, minimum=1)
    if init_visible_bias is not None and not isinstance(init_visible_bias, bool):
        raise TypeError(_("init_visible_bias must be True, False or None; got {init_visible_bias}").format(
                init_visible_bias=repr(init_visible_bias)))
    seed = check_int("seed", seed, minimum=0)
    if on_epoch_end is not None and not callable(on_epoch_end):
        raise TypeError(_("on_epoch_end must be a function (epoch, rbm) -> None; got {on_epoch_end}").format(
                on_epoch_end=repr(on_epoch_end)))
    if not isinstance(label, str):
        raise TypeError(_("label must be a string; got {type} {label}").format(
                type=type(label).__name__, label=repr(label)))
    nan_policy = check_choice("nan_policy", nan_policy, ("raise", "stop", "continue"))
    return (x, epochs, batch_size, lr, k, momentum, initial_momentum, momentum_switch, weight_decay, x_val,
            monitor_size, seed, nan_policy)
