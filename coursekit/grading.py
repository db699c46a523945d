"""Grading the exercises with nbgrader: the grade cells' side of ``tools/make_nbgrader.py``.

A grade cell (nbgrader's "autograder tests" cell) of an nbgrader assignment made
from the course runs::

    from coursekit.grading import grade
    grade("adam_step", adam_step)

:func:`grade` runs the same check as ``ck.exercises.check`` and prints the same
one line (verdict and hint), which is what the learner reads, in the notebook and
in nbgrader's feedback. The exercise is worth the cell's points, all or nothing:
when every case matches, the cell displays nothing and nbgrader gives it full
points; otherwise the cell's value is ``0`` (nbgrader's "partial credit" reads a
cell's numeric result), so the cell never raises and *Run All* goes on through a
learner's notebook.

What a grade cell makes sure of, whatever the learner's code does:

- a loop that never ends inside the learner's function is stopped by check's own
  time limit (5 s a case; ``grade(..., timeout=)`` changes it): zero, and a line
  that says where it stopped;
- ``sys.exit()``, ``exit()`` or ``quit()`` inside the function are reported as an
  error of that exercise (in a notebook kernel ``exit()`` would otherwise end the
  kernel after the cell and lose every later grade);
- warnings and anything else written to stderr while the checks run go to stdout:
  nbgrader gives zero to a grade cell with any stderr output, and a harmless
  warning must not cost a correct answer its points.

Hidden cases (what a teacher adds so that an answer fitted to the public cases does
not pass): :func:`hidden_cases`, written by the teacher between nbgrader's
``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS`` in the grade cell of the
source notebook (``tools/make_nbgrader.py --hidden-seed N`` writes it into every
grade cell). nbgrader removes that region from the learner's copy and puts it back
when it autogrades, so the learner never sees the seed or the cases.

Introduced for teachers in README.md, *Teaching*; not used in the course notebooks.
"""
from __future__ import annotations

import builtins
import contextlib
import copy
import dataclasses
import os
import sys
from typing import Any, Iterable, Iterator, Mapping

import torch

from .exercises import EXERCISES, check
from .exercises.pieces import Case, CheckResult, Exercise

_HIDDEN: dict[str, tuple[Case, ...]] = {}


class Zero:
    """A failed exercise's score as a grade cell's value: ``0`` for nbgrader (text/plain), in words for people."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return "0"

    def _repr_markdown_(self) -> str:
        return f"**0 points** for `{self.name}` (see the line above)"


def grade(name: str, fn: Any, *, timeout: float | None = None) -> Zero | None:
    """Check ``fn`` as ``ck.exercises.check(name, fn)`` does, with the hidden cases, and print its line.

    Args:
        name: the exercise.
        fn: the learner's function.
        timeout: seconds per case (default: check's, 5 s).

    Returns:
        None when every case matched (nbgrader: full points), else a :class:`Zero`
        (its text is ``0``: nbgrader gives the cell no points).
    """
    result = grade_result(name, fn, timeout=timeout)
    print(result.message)
    return None if result.passed else Zero(str(name))


def grade_result(name: str, fn: Any, *, timeout: float | None = None) -> CheckResult:
    """The :class:`~coursekit.exercises.CheckResult` that :func:`grade` prints (public and hidden cases)."""
    with _with_hidden(name), _stderr_to_stdout(), _exit_raises(getattr(fn, "__globals__", None)):
        return check(name, fn, quiet=True, timeout=timeout)


def hidden_cases(name: str, *, seed: int | None = None, cases: Iterable[Any] = ()) -> int:
    """Add hidden cases to exercise ``name`` for the :func:`grade` calls that follow; returns their number.

    Args:
        name: the exercise.
        seed: a secret number: one variant of every public case, its tensor
            arguments shuffled along their first dimension (each argument on its
            own) by a generator seeded with ``seed``. Values, shapes and dtypes stay
            (binary stays binary, non-negative stays non-negative), the pairing
            changes, so the answers are new. A case with no tensor to shuffle
            (scalar arguments only) gets no variant: give such exercises
            ``cases=``. A variant on which the reference itself fails is left out.
        cases: cases written by the teacher: each a dict of the arguments in the
            exercise's order, a ``(label, dict)`` pair, or a
            :class:`~coursekit.exercises.Case`. The reference gives the expected answer.

    Calling it again for the same exercise replaces its hidden cases.
    """
    ex = EXERCISES.get(name)
    if ex is None:
        raise ValueError(f"hidden_cases: there is no exercise called {name!r}")
    made: list[Case] = []
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"hidden_cases: seed must be an int; got {seed!r}")
        for i, case in enumerate(ex.cases):
            if not any(_shuffles(value) for value in case.make().values()):
                continue  # nothing to shuffle (scalar arguments only): a variant would repeat the case
            variant = _variant(case, seed * 1009 + i, f"hidden case {len(made) + 1}, a variant of case {i + 1}")
            if _reference_handles(ex, variant):
                made.append(variant)
    for item in cases:
        label = f"hidden case {len(made) + 1}"
        if isinstance(item, Case):
            made.append(dataclasses.replace(item, label=f"{label}: {item.label}"))
            continue
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Mapping):
            label, item = f"{label}: {item[0]}", item[1]
        if not isinstance(item, Mapping):
            raise TypeError(f"hidden_cases: a case is a dict of arguments, a (label, dict) pair or a Case; got {item!r}")
        frozen = dict(item)
        made.append(Case(label, lambda frozen=frozen: copy.deepcopy(frozen)))
    _HIDDEN[name] = tuple(made)
    return len(made)


# --------------------------------------------------------------------------- internals


def _variant(case: Case, seed: int, label: str) -> Case:
    def make() -> dict[str, Any]:
        gen = torch.Generator().manual_seed(seed)
        args = case.make()
        return {key: _shuffled(value, gen) for key, value in args.items()}
    return Case(label, make, case.verify)


def _shuffles(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape[0] > 1


def _shuffled(value: Any, gen: torch.Generator) -> Any:
    if not _shuffles(value):
        return value
    order = torch.randperm(value.shape[0], generator=gen)
    out = value.detach()[order].clone()
    return out.requires_grad_(value.requires_grad) if value.requires_grad and out.is_floating_point() else out


def _reference_handles(ex: Exercise, case: Case) -> bool:
    """True if the reference solution passes ``case`` (a variant must be a fair case)."""
    with _quiet():
        try:
            if case.verify is None:
                ex.reference(*case.make().values())
                return True
            got = ex.reference(*case.make().values())
            return case.verify(case.make(), got, lambda: ex.reference(*case.make().values())) is None
        except Exception:
            return False


@contextlib.contextmanager
def _with_hidden(name: Any) -> Iterator[None]:
    extra = _HIDDEN.get(name, ()) if isinstance(name, str) else ()
    if not extra or name not in EXERCISES:
        yield
        return
    public = EXERCISES[name]
    EXERCISES[name] = dataclasses.replace(public, cases=public.cases + extra)
    try:
        yield
    finally:
        EXERCISES[name] = public


@contextlib.contextmanager
def _stderr_to_stdout() -> Iterator[None]:
    with contextlib.redirect_stderr(sys.stdout):
        yield


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with open(os.devnull, "w", encoding="utf-8") as sink, contextlib.redirect_stdout(sink), \
            contextlib.redirect_stderr(sink):
        yield


@contextlib.contextmanager
def _exit_raises(namespace: dict[str, Any] | None) -> Iterator[None]:
    """``exit()`` and ``quit()`` raise SystemExit (as in plain Python), which check reports.

    In an IPython kernel they are the shell's exit helpers (in the builtins and in
    the notebook's namespace, the learner function's globals), which end the
    kernel after the cell instead of raising.
    """
    places = [vars(builtins)] + ([namespace] if isinstance(namespace, dict) else [])
    missing = object()
    saved = [(place, n, place.get(n, missing)) for place in places for n in ("exit", "quit")]
    for place, n, old in saved:
        if place is vars(builtins) or old is not missing:
            place[n] = sys.exit  # a builtin: no frame of ours in the learner's traceback
    try:
        yield
    finally:
        for place, n, old in reversed(saved):
            if old is missing:
                place.pop(n, None)
            else:
                place[n] = old
