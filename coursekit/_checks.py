"""Argument checks shared by the public functions (validate at the door).

Each helper raises a ``TypeError`` or ``ValueError`` whose message names the
argument, what it got and what is allowed, so a learner can fix the call
without reading coursekit's source.
"""
from __future__ import annotations

import difflib
import numbers
from typing import Any, Iterable

import torch

from ._i18n import _


def check_choice(name: str, value: Any, allowed: Iterable[str]) -> str:
    """Return the entry of ``allowed`` that ``value`` names; raise otherwise.

    Matching ignores case and treats ``-`` and ``_`` alike, so "leaky-relu",
    "Leaky_ReLU" and "leaky_relu" all name the same choice.
    """
    allowed = list(allowed)
    if not isinstance(value, str):
        raise TypeError(
            _("{name} must be a string, one of {allowed}; got {type} {value}").format(
                name=name, allowed=allowed, type=type(value).__name__, value=repr(value))
        )
    norm = _norm(value)
    for option in allowed:
        if _norm(option) == norm:
            return option
    close = _closest(value, allowed)
    if close is not None:
        raise ValueError(_("unknown {name} {value}; allowed: {allowed}; did you mean {close}?").format(
            name=name, value=repr(value), allowed=", ".join(allowed), close=repr(close)))
    raise ValueError(_("unknown {name} {value}; allowed: {allowed}").format(
        name=name, value=repr(value), allowed=", ".join(allowed)))


def _norm(text: str) -> str:
    return text.strip().lower().replace("-", "_")


def did_you_mean(value: str, allowed: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the entry of ``allowed`` closest to ``value`` (difflib), else ``""``."""
    close = _closest(value, allowed)
    return f"; did you mean {close!r}?" if close is not None else ""  # for messages not translated


def _closest(value: Any, allowed: Iterable[str]) -> str | None:
    """The entry of ``allowed`` closest to ``value`` (difflib), or None."""
    options = {_norm(o): o for o in allowed if isinstance(o, str)}
    close = difflib.get_close_matches(_norm(value), list(options), n=1, cutoff=0.6) if isinstance(value, str) else []
    return options[close[0]] if close else None


def check_int(name: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as int if it is an integer within [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(_("{name} must be an integer; got {type} {value}").format(
                name=name, type=type(value).__name__, value=repr(value)))
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(_("{name} must be >= {minimum}; got {value}").format(
                name=name, minimum=minimum, value=value))
    if maximum is not None and value > maximum:
        raise ValueError(_("{name} must be <= {maximum}; got {value}").format(
                name=name, maximum=maximum, value=value))
    return value


def check_float(
    name: str,
    value: Any,
    minimum: float | None = None,
    maximum: float | None = None,
    *,
    min_inclusive: bool = True,
    max_inclusive: bool = True,
    finite: bool = False,
) -> float:
    """Return ``value`` as float if it is a real number within the given bounds (and finite if asked)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(_("{name} must be a number; got {type} {value}").format(
                name=name, type=type(value).__name__, value=repr(value)))
    value = float(value)
    if value != value:  # NaN
        raise ValueError(_("{name} must be a number, got NaN").format(
                name=name))
    if finite and value in (float("inf"), float("-inf")):
        raise ValueError(_("{name} must be a finite number; got {value}").format(
                name=name, value=value))
    if minimum is not None:
        bad = value < minimum if min_inclusive else value <= minimum
        if bad:
            op = ">=" if min_inclusive else ">"
            raise ValueError(_("{name} must be {op} {minimum}; got {value}").format(
                    name=name, op=op, minimum=minimum, value=value))
    if maximum is not None:
        bad = value > maximum if max_inclusive else value >= maximum
        if bad:
            op = "<=" if max_inclusive else "<"
            raise ValueError(_("{name} must be {op} {maximum}; got {value}").format(
                    name=name, op=op, maximum=maximum, value=value))
    return value


def check_tensor(name: str, value: Any, ndim: int | None = None, *, finite: bool = False) -> torch.Tensor:
    """Return ``value`` if it is a real torch.Tensor with ``ndim`` dimensions (and no NaN or inf if ``finite``)."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(_("{name} must be a torch.Tensor; got {type}").format(
                name=name, type=type(value).__name__))
    if value.is_complex():
        raise TypeError(_("{name} must be a real tensor; got a complex tensor ({dtype}, shape {shape})").format(
                name=name, dtype=value.dtype, shape=tuple(value.shape)))
    if ndim is not None and value.dim() != ndim:
        raise ValueError(_("{name} must have {ndim} dimensions; got shape {shape}").format(
                name=name, ndim=ndim, shape=tuple(value.shape)))
    if finite and value.is_floating_point():
        bad = int((~torch.isfinite(value)).sum())
        if bad:
            raise ValueError(_("{name} must hold finite numbers; got {bad} NaN or infinite values of {numel}").format(
                    name=name, bad=bad, numel=value.numel()))
    return value


def check_module(name: str, value: Any) -> torch.nn.Module:
    """Return ``value`` if it is a torch.nn.Module."""
    if not isinstance(value, torch.nn.Module):
        raise TypeError(_("{name} must be a torch.nn.Module; got {type}").format(
                name=name, type=type(value).__name__))
    return value


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is True or False (a string such as "no" is not: it would count as True)."""
    if not isinstance(value, bool):
        raise TypeError(_("{name} must be True or False; got {type} {value}").format(
                name=name, type=type(value).__name__, value=repr(value)))
    return value


def check_generator(name: str, value: Any) -> torch.Generator | None:
    """Return ``value`` if it is a ``torch.Generator`` or None."""
    if value is not None and not isinstance(value, torch.Generator):
        raise TypeError(_("{name} must be a torch.Generator or None; got {type}").format(
                name=name, type=type(value).__name__))
    return value


def check_sequence(name: str, value: Any, example: str) -> list:
    """Return ``value`` as a list if it is a list, tuple or other iterable, but not a string or a single item.

    ``example`` shows what is expected, e.g. ``"[0.01, 0.1]"``.
    """
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(_("{name} must be a list such as {example}; got {type} {value}").format(
                name=name, example=example, type=type(value).__name__, value=repr(value)))
    return list(value)


def check_same_length(names: tuple[str, str], a: torch.Tensor, b: torch.Tensor, *, nonempty: bool = True) -> int:
    """Return the number of examples (first dimension) two tensors share; raise naming both otherwise.

    ``names`` are the two arguments as the caller knows them, e.g. ``("x", "y")`` or
    ``("data.x_val", "data.y_val")``; with ``nonempty`` (default) zero examples is an error too.
    """
    na, nb = (t.shape[0] if t.dim() else 1 for t in (a, b))
    if na != nb or (nonempty and na == 0):
        if nonempty:
            msg = _("{a} and {b} must hold the same, non-zero number of examples; got {na} and {nb}")
        else:
            msg = _("{a} and {b} must hold the same number of examples; got {na} and {nb}")
        raise ValueError(msg.format(a=names[0], b=names[1], na=na, nb=nb))
    return na


def check_device(name: str, value: Any) -> torch.device:
    """Return ``value`` as a ``torch.device`` this PyTorch can use ("cpu", "cuda", "cuda:0", "mps", ...).

    A CUDA device on a PyTorch without CUDA (the CPU wheel, or no GPU visible) is an
    error that names the argument and what is available, not torch's "Torch not
    compiled with CUDA enabled" from deep inside a later call.
    """
    try:
        device = torch.device(value)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(_("{name} must be like 'cpu', 'cuda' or 'cuda:0'; got {value} ({exc})").format(
                name=name, value=repr(value), exc=exc)) from None
    available = ["cpu"]
    if torch.cuda.is_available():
        available += ["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        available.append("mps")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            why = (_("this PyTorch is a CPU-only build") if torch.version.cuda is None
                   else _("this PyTorch has CUDA but sees no GPU"))
            raise ValueError(_("{name}={value}, but {why}; available: {available}. Leave {name} out (or pass 'cpu') "
                               "to run on the CPU; for a GPU, install a CUDA build of PyTorch with `make lab "
                               "TORCH=cuda` on a machine that has one").format(
                    name=name, value=repr(value), why=why, available=', '.join(available)))
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(_("{name}={value}, but this machine has {device_count} GPU(s); available: {available}").format(
                    name=name, value=repr(value), device_count=torch.cuda.device_count(),
                    available=', '.join(available)))
    if device.type == "mps" and "mps" not in available:
        raise ValueError(_("{name}={value}, but this PyTorch has no MPS (Apple GPU) backend; available: {available}").format(
                name=name, value=repr(value), available=', '.join(available)))
    return device


def check_unit_states(name: str, x, n_units: int, *, binary: bool = False, what: str = "visible") -> torch.Tensor:
    """Validate a batch of unit states at the door and return it as a float tensor.

    Requires a 2-D tensor (examples x ``n_units``), finite, with values in [0, 1];
    with ``binary=True`` only exact zeros and ones are allowed.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(_("{name} must be a torch.Tensor of shape (n, {n_units}); got {type}").format(
                name=name, n_units=n_units, type=type(x).__name__))
    if x.dim() != 2:
        if x.dim() == 1:
            msg = _("{name} must have 2 dimensions (examples x {n_units} {what} units); got shape {shape}: use "
                    "{name}[None] for a single example")
        else:
            msg = _("{name} must have 2 dimensions (examples x {n_units} {what} units); got shape {shape}")
        raise ValueError(msg.format(name=name, n_units=n_units, what=what, shape=tuple(x.shape)))
    if x.shape[1] != n_units:
        raise ValueError(
            _("{name} must have {n_units} columns (one per {what} unit); got shape {shape}").format(
                name=name, n_units=n_units, what=what, shape=tuple(x.shape))
        )
    if x.shape[0] == 0:
        raise ValueError(_("{name} holds no examples (shape {shape})").format(
                name=name, shape=tuple(x.shape)))
    if x.dtype == torch.bool or not x.is_floating_point():
        x = x.float()
    if not bool(torch.isfinite(x).all()):
        raise ValueError(_("{name} contains NaN or infinite values").format(
                name=name))
    lo, hi = float(x.min()), float(x.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(
            _("{name} must hold values in [0, 1] (binary states or probabilities); got min {lo}, max {hi}: scale the "
              "data first (e.g. x / x.max())").format(
                name=name, lo=format(lo, '.3g'), hi=format(hi, '.3g'))
        )
    if binary and not bool(((x == 0) | (x == 1)).all()):
        bad = x[(x != 0) & (x != 1)][0]
        raise ValueError(
            _("{name} must be binary (only 0 and 1) here; got a value {bad}: binarize it first, e.g. (x > "
              "0.5).float(), or sample it with torch.bernoulli(x)").format(
                name=name, bad=format(float(bad), '.3g'))
        )
    return x
