"""What :func:`coursekit.train.fit` and :func:`~coursekit.train.evaluate` check at the door.

The data against the model and the loss, before any step is taken: inputs
finite and of the width and dtype of the model's first layer, class labels
integers within the model's outputs, validation splits of matching lengths,
and what a custom loss returns. Each error names the split the learner passed
(``data.x_train``, ``data[3] (y_val)``, ...), what it got and the fix.

Introduced in ``notebooks/00_start_here.ipynb`` (with :func:`coursekit.train.fit`).
"""
from __future__ import annotations

import torch
from torch import nn

from ._checks import check_tensor
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
        raise TypeError(f"{name} must be a floating-point tensor (the model's layers compute in "
                        f"{first.weight.dtype}); got {x.dtype}: convert it, e.g. {_code(name)}.float()"
                        + (" / 255 for pixels in 0..255" if x.dtype == torch.uint8 else ""))
    if x.dtype != first.weight.dtype:
        raise TypeError(f"{name} has dtype {x.dtype} but the model's parameters are {first.weight.dtype}: "
                        f"convert one to the other, e.g. {_code(name)}.to({first.weight.dtype})")
    width = first.in_features if isinstance(first, nn.Linear) else first.num_features
    got = x.shape[-1] if isinstance(first, nn.Linear) else (x.shape[1] if x.dim() > 1 else None)
    if x.dim() < 2 or got != width:
        raise ValueError(f"{name} must have shape (examples, {width}): the model's first layer takes {width} "
                         f"features; got shape {tuple(x.shape)} (build the model for {got} inputs, "
                         f"or reshape {_code(name)})")


def check_targets(name: str, y: torch.Tensor, kind: str) -> tuple[torch.Tensor, int | None]:
    """Reject targets the loss cannot use; return them (integer labels as int64) and the largest label."""
    check_tensor(name, y)
    if kind == "cross_entropy":
        if y.is_floating_point() and y.dim() < 2:
            raise TypeError(f"{name} must hold class indices as integers (torch.int64) for loss='cross_entropy'; "
                            f"got {y.dtype}: convert it with {_code(name)}.long()")
        if y.is_floating_point():  # class probabilities, one row per example
            check_tensor(name, y, finite=True)
            return y, None
        if y.dtype == torch.bool:
            raise TypeError(f"{name} must hold class indices as integers (torch.int64); got torch.bool: "
                            f"use {_code(name)}.long()")
        if y.dim() == 2 and y.shape[1] == 1:
            raise ValueError(f"{name} must have shape ({y.shape[0]},), one class index per example; "
                             f"got shape {tuple(y.shape)}: use {_code(name)}.squeeze(1)")
        y = y.long()
        bad = y[(y < 0) & (y != -100)]  # -100 is PyTorch's "ignore this example"
        if bad.numel():
            raise ValueError(f"{name} must hold class indices 0, 1, 2, ...; got the label {int(bad[0])}")
        return y, int(y.max()) if y.numel() else None
    if kind == "custom":
        return y, None  # only your loss knows what its targets may be
    check_tensor(name, y, finite=True)
    if kind == "bce" and y.numel() and (float(y.min()) < 0 or float(y.max()) > 1):
        raise ValueError(f"{name} must hold targets in [0, 1] for loss='bce'; got values from "
                         f"{float(y.min()):.3g} to {float(y.max()):.3g}")
    return y, None


def check_output(out, name: str, y: torch.Tensor, kind: str, label_max: int | None) -> None:
    """Compare the model's output on a first batch with the targets the loss will get."""
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"model must return a tensor of outputs; it returned {type(out).__name__}")
    if kind == "cross_entropy":
        if y.is_floating_point():
            if out.shape != y.shape:
                raise ValueError(f"{name} holds class probabilities of shape {tuple(y.shape[1:])} per example, "
                                 f"but the model outputs shape {tuple(out.shape[1:])}")
        elif out.dim() < 2:
            raise ValueError(f"loss='cross_entropy' needs one output per class, shape (batch, classes); the model "
                             f"outputs shape {tuple(out.shape)}")
        elif label_max is not None and label_max >= out.shape[1]:
            raise ValueError(f"{name} holds labels up to {label_max}, but the model outputs {out.shape[1]} "
                             f"classes (labels 0 to {out.shape[1] - 1}): give its last layer {label_max + 1} units, "
                             f"e.g. mlp([..., {label_max + 1}])")
    elif kind != "custom" and out.shape != y.shape:
        raise ValueError(f"loss={kind!r} compares the output with {name} element by element, but for a batch the "
                         f"model outputs shape {tuple(out.shape)} and {name} has shape {tuple(y.shape)}: reshape "
                         f"{name} (e.g. {_code(name)}.reshape({', '.join(map(str, (-1, *out.shape[1:])))})) "
                         f"or change the model's last layer")


def check_loss_value(value) -> None:
    """What a custom loss returned must be one number, as a tensor that autograd can differentiate."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"loss must return a tensor with one number (e.g. F.mse_loss(out, y)); it returned "
                        f"{type(value).__name__} {value!r}: build it from torch operations, without .item() or float()")
    if value.numel() != 1:
        raise ValueError(f"loss must return one number per batch; it returned a tensor of shape "
                         f"{tuple(value.shape)}: reduce it, e.g. with .mean()")
    if not value.requires_grad:
        raise ValueError("loss returned a tensor that does not depend on the model's output (no gradient): "
                         "compute it from the output with torch operations, without .detach() or .item()")


def check_data(model, kind, x_train, y_train, x_val, y_val, names):
    """All the door checks of fit's data; returns the targets (labels as int64) and the largest label."""
    nx, ny, nxv, nyv = names
    if x_train.shape[0] != y_train.shape[0] or x_train.shape[0] == 0:
        raise ValueError(f"{nx} and {ny} must hold the same, non-zero number of examples; "
                         f"got {x_train.shape[0]} and {y_train.shape[0]}")
    check_inputs(model, nx, x_train)
    y_train, label_max = check_targets(ny, y_train, kind)
    if x_val is not None and y_val is not None and (len(x_val) or len(y_val)):
        if x_val.shape[0] != y_val.shape[0]:
            raise ValueError(f"{nxv} and {nyv} must hold the same number of examples; "
                             f"got {x_val.shape[0]} and {y_val.shape[0]}")
        check_inputs(model, nxv, x_val)
        if x_val.shape[1:] != x_train.shape[1:]:
            raise ValueError(f"{nxv} must have the shape of {nx} per example, {tuple(x_train.shape[1:])}; "
                             f"got {tuple(x_val.shape[1:])}")
        y_val, val_max = check_targets(nyv, y_val, kind)
        if y_val.shape[1:] != y_train.shape[1:]:
            raise ValueError(f"{nyv} must have the shape of {ny} per example, {tuple(y_train.shape[1:])}; "
                             f"got {tuple(y_val.shape[1:])}")
        if val_max is not None and label_max is not None and val_max > label_max:
            return y_train, y_val, val_max, nyv
    return y_train, y_val, label_max, ny
