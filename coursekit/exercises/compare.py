"""Comparing a learner's answer with the reference, in words: :func:`_compare` returns None
when they match, otherwise a :class:`Failure` saying what differs (shape, value, dtype)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .._i18n import N_, _
from .pieces import Exercise, Failure

COMPLEX_HINT = N_("the answer is real: a complex dtype comes from a complex number somewhere in the formula (1j, "
                "torch.complex, a fractional power of a negative number); return a float tensor.")
TENSOR_HINT = N_("return a torch tensor, as the exercise asks: compute with torch functions on the input tensors "
               "(or wrap your result in torch.as_tensor(...)).")
INTEGER_HINT = N_("compute in floating point: an integer dtype throws the fractions away (use true division /, "
                "float tensors, and no int() or // on the result).")


def _as_parts(value: Any, n: int) -> list[Any] | None:
    if n == 1:
        return [value]
    if isinstance(value, (tuple, list)) and len(value) == n:
        return list(value)
    return None


def _to_tensor(value: Any) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        t = value.detach()
        if t.device.type != "cpu":
            t = t.cpu()
        if t.layout != torch.strided:  # sparse: compare its values
            t = t.to_dense()
    else:
        try:
            t = torch.as_tensor(np.asarray(value))
        except Exception:
            return None
    if t.dtype == torch.bool:
        t = t.to(torch.float64)
    if not (t.is_floating_point() or t.dtype in (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)):
        return None
    return t


_INTEGER_DTYPES = (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)


def _is_complex(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return value.is_complex()
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        return np.iscomplexobj(value)
    return isinstance(value, complex)


def _dtype_note(e: torch.Tensor, g: torch.Tensor, got: Any) -> tuple[str, str] | None:
    """(note, hint) when the learner's dtype explains a difference in value: integers or half precision."""
    if not e.is_floating_point():
        return None
    if (g.dtype in _INTEGER_DTYPES and not bool((e == e.round()).all())
            and bool(((g.to(torch.float64) - e.to(torch.float64)).abs() < 1).all())):  # the fractions got lost
        if isinstance(got, int):
            note = _("your result is a Python int, which cannot hold the answer's fractions")
        else:
            note = _("your result has an integer dtype ({dtype}), which cannot hold the answer's fractions").format(
                dtype=g.dtype)
        return note, _(INTEGER_HINT)
    if g.dtype in (torch.float16, torch.bfloat16) and e.dtype in (torch.float32, torch.float64):
        return (_("your result has dtype {dtype}, which keeps only about 3 significant digits").format(dtype=g.dtype),
                _("compute in float32 or float64 (the dtype of the inputs), not in half precision."))
    return None


def _tolerances(ex: Exercise, *tensors: torch.Tensor) -> tuple[float, float]:
    loose = any(t.dtype in (torch.float32, torch.float16, torch.bfloat16) for t in tensors)
    rtol = ex.rtol if ex.rtol is not None else (1e-4 if loose else 1e-6)
    atol = ex.atol if ex.atol is not None else (1e-6 if loose else 1e-9)
    return rtol, atol


def _type_name(value: Any) -> str:
    if value is None:
        return "None"
    if _is_complex(value):
        if isinstance(value, torch.Tensor):
            return _("a complex tensor of shape {shape} (dtype {dtype})").format(shape=tuple(value.shape),
                                                                               dtype=value.dtype)
        if isinstance(value, np.ndarray):
            return _("a complex NumPy array of shape {shape} (dtype {dtype})").format(shape=tuple(value.shape),
                                                                                    dtype=value.dtype)
        return _("a complex number ({type})").format(type=type(value).__name__)
    if isinstance(value, torch.Tensor):
        if not (value.is_floating_point() or value.dtype in _INTEGER_DTYPES or value.dtype == torch.bool):
            return _("a tensor of shape {shape} with dtype {dtype}").format(shape=tuple(value.shape), dtype=value.dtype)
        return _("a tensor of shape {shape}").format(shape=tuple(value.shape))
    if isinstance(value, (tuple, list)):
        return _("a {type} of {n} values").format(type=type(value).__name__, n=len(value))
    return _("a {type}").format(type=type(value).__name__)


def _not_a_tensor(got: Any, prefix: str = "") -> Failure | None:
    """A Failure when ``got``, whose values are right, is not a torch.Tensor (a NumPy array, a list)."""
    if isinstance(got, torch.Tensor):
        return None
    kind = _("a NumPy array") if isinstance(got, np.ndarray) else _type_name(got)
    return Failure(prefix + _("expected a torch.Tensor, got {kind} (the values are right)").format(kind=kind),
                   _(TENSOR_HINT))


def _tensor_answer(verify):
    """A case's verifier that also asks for a torch.Tensor once the values pass (see :func:`_not_a_tensor`)."""
    def verify_tensor(args: dict[str, Any], got: Any, rerun) -> Failure | None:
        return verify(args, got, rerun) or _not_a_tensor(got)
    return verify_tensor


def _compare(expected: Any, got: Any, ex: Exercise, *, types: bool = True) -> Failure | None:
    """None when ``got`` matches ``expected``; otherwise what differs, in words.

    Where the expected answer is a tensor with at least one dimension, the answer
    must be a torch.Tensor too (``types=False``: compare values only); a single
    number may come as a tensor, a Python number or a NumPy scalar.
    """
    names = ex.outputs
    n = len(names)
    if got is None:
        if n > 1:
            text = _("expected {names}, got None (your function returned nothing)").format(names=" and ".join(names))
        else:
            text = _("expected a value, got None (your function returned nothing)")
        return Failure(text, _("did you forget the `return` line? (if you updated tensors in place, return them too)"))
    exp_parts = _as_parts(expected, n)
    got_parts = _as_parts(got, n)
    if got_parts is None:
        return Failure(_("expected {n} values ({names}), got {got}").format(n=n, names=", ".join(names),
                                                                           got=_type_name(got)),
                       _("return all {n} values as a tuple: return {names}").format(n=n, names=", ".join(names)))
    for label, e, g in zip(names, exp_parts, got_parts):
        prefix = "" if n == 1 else f"{label}: "
        et, gt = _to_tensor(e), _to_tensor(g)
        if gt is None:
            if _is_complex(g):
                return Failure(prefix + _("expected real numbers, got {got}").format(got=_type_name(g)),
                               _(COMPLEX_HINT))
            return Failure(prefix + _("expected a number or a tensor, got {got}").format(got=_type_name(g)))
        if et.numel() == 1 and gt.numel() == 1:
            et, gt = et.reshape(()), gt.reshape(())
        elif tuple(et.shape) != tuple(gt.shape):
            shape_hint = None
            if et.dim() == 0:
                shape_hint = _("the answer is a single number: reduce over every element (e.g. .sum() or .prod())")
            elif gt.dim() == 0:
                shape_hint = _("return a tensor of shape {shape}, one value per entry, not a single number").format(
                    shape=tuple(et.shape))
            elif tuple(gt.shape) == tuple(reversed(et.shape)):
                shape_hint = _("your result is transposed: check which dimension holds what")
            if et.dim() == 0:  # then gt has a dimension: the shapes differ
                text = _("expected a single number, got a tensor of shape {got}").format(got=tuple(gt.shape))
            elif gt.dim() == 0:
                text = _("expected shape {shape}, got a single number").format(shape=tuple(et.shape))
            else:
                text = _("expected shape {shape}, got a tensor of shape {got}").format(shape=tuple(et.shape),
                                                                                    got=tuple(gt.shape))
            return Failure(prefix + text, shape_hint)
        text = _value_difference(et, gt, ex, "" if label == "result" else label)
        if text is not None:
            note = _dtype_note(et, gt, g)
            return Failure(text) if note is None else Failure(_("{difference}; {note}").format(
                difference=text, note=note[0]), note[1])
        if types and isinstance(e, torch.Tensor) and e.dim() >= 1:
            problem = _not_a_tensor(g, prefix)
            if problem is not None:
                return problem
    return None


def _value_difference(e: torch.Tensor, g: torch.Tensor, ex: Exercise, label: str = "") -> str | None:
    rtol, atol = _tolerances(ex, e, g)
    e64, g64 = e.to(torch.float64), g.to(torch.float64)
    close = torch.isclose(g64, e64, rtol=rtol, atol=atol, equal_nan=True)
    if bool(close.all()):
        return None
    diff = (g64 - e64).abs()
    diff = torch.where(close, torch.zeros_like(diff), torch.nan_to_num(diff, nan=math.inf, posinf=math.inf))
    flat = int(torch.argmax(diff))
    ev, gv = e64.reshape(-1)[flat].item(), g64.reshape(-1)[flat].item()
    a, b = _format_pair(ev, gv)
    if e64.dim() == 0:
        return (label + ": " if label else "") + _("expected {expected}, got {got}").format(expected=a, got=b)
    index = np.unravel_index(flat, tuple(e64.shape))
    where = "[" + ", ".join(str(int(i)) for i in index) + "]"
    bad = int((~close).sum())
    if label:
        if bad > 1:
            return _("{label}{index}: expected {expected}, got {got} ({bad} of {n} entries differ)").format(
                label=label, index=where, expected=a, got=b, bad=bad, n=e64.numel())
        return _("{label}{index}: expected {expected}, got {got}").format(label=label, index=where, expected=a, got=b)
    if bad > 1:
        return _("at {index}: expected {expected}, got {got} ({bad} of {n} entries differ)").format(
            index=where, expected=a, got=b, bad=bad, n=e64.numel())
    return _("at {index}: expected {expected}, got {got}").format(index=where, expected=a, got=b)


def _format_pair(a: float, b: float) -> tuple[str, str]:
    """Format two numbers with just enough digits to show that they differ."""
    for digits in (4, 6, 8, 10, 13, 17):
        sa, sb = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if sa != sb:
            return sa, sb
    return sa, sb
