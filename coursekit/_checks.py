"""Argument checks shared by the public functions (validate at the door).

Each helper raises a ``TypeError`` or ``ValueError`` whose message names the
argument, what it got and what is allowed, so a learner can fix the call
without reading coursekit's source.
"""
from __future__ import annotations

import numbers
from typing import Any, Iterable

import torch


def check_choice(name: str, value: Any, allowed: Iterable[str]) -> str:
    """Return the entry of ``allowed`` that ``value`` names; raise otherwise.

    Matching ignores case and treats ``-`` and ``_`` alike, so "leaky-relu",
    "Leaky_ReLU" and "leaky_relu" all name the same choice.
    """
    allowed = list(allowed)
    if not isinstance(value, str):
        raise TypeError(
            f"{name} must be a string, one of {allowed}; got {type(value).__name__} {value!r}"
        )
    norm = value.strip().lower().replace("-", "_")
    for option in allowed:
        if option.lower().replace("-", "_") == norm:
            return option
    raise ValueError(f"unknown {name} {value!r}; allowed: {', '.join(allowed)}")


def check_int(name: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as int if it is an integer within [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}; got {value}")
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
        raise TypeError(f"{name} must be a number; got {type(value).__name__} {value!r}")
    value = float(value)
    if value != value:  # NaN
        raise ValueError(f"{name} must be a number, got NaN")
    if finite and value in (float("inf"), float("-inf")):
        raise ValueError(f"{name} must be a finite number; got {value}")
    if minimum is not None:
        bad = value < minimum if min_inclusive else value <= minimum
        if bad:
            op = ">=" if min_inclusive else ">"
            raise ValueError(f"{name} must be {op} {minimum}; got {value}")
    if maximum is not None:
        bad = value > maximum if max_inclusive else value >= maximum
        if bad:
            op = "<=" if max_inclusive else "<"
            raise ValueError(f"{name} must be {op} {maximum}; got {value}")
    return value


def check_tensor(name: str, value: Any, ndim: int | None = None) -> torch.Tensor:
    """Return ``value`` if it is a torch.Tensor with ``ndim`` dimensions."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(value).__name__}")
    if ndim is not None and value.dim() != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions; got shape {tuple(value.shape)}")
    return value


def check_module(name: str, value: Any) -> torch.nn.Module:
    """Return ``value`` if it is a torch.nn.Module."""
    if not isinstance(value, torch.nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module; got {type(value).__name__}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is True or False (a string such as "no" is not: it would count as True)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False; got {type(value).__name__} {value!r}")
    return value
