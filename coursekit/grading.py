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
- warnings and anything else written to stderr while the checks run go to stdout,
  from Python (``sys.stderr``) and from native code (file descriptor 2: OpenMP,
  PyTorch's C++ warnings): nbgrader gives zero to a grade cell with any stderr
  output, and a harmless warning must not cost a correct answer its points.

Hidden cases (what a teacher adds so that an answer fitted to the public cases does
not pass): :func:`hidden_cases`, written by the teacher between nbgrader's
``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS`` in the grade cell of the
source notebook (``tools/make_nbgrader.py --hidden-seed N`` writes it into every
grade cell whose exercise the seed draws hidden cases for, and names the others).
A teacher's own cases are checked against the exercise's signature when they are
added, so a malformed one fails there, not as the learner's error. nbgrader removes that region
from the learner's copy and puts it back
when it autogrades, so the learner never sees the seed or the cases.

Introduced for teachers in docs/teaching.md, *Grading with nbgrader*; not used in the course notebooks.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import copy
import dataclasses
import os
import random
import sys
import tempfile
from typing import Any, Iterable, Iterator, Mapping

import torch

from .exercises import EXERCISES, check
from .exercises.guards import exercise_parameters
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
        seed: a secret number: hidden variants of the public cases, drawn by a
            generator seeded with ``seed`` (see :func:`seeded_cases`): each tensor
            argument shuffled along its first dimension, each dict argument's values
            shuffled among its keys; for an exercise whose arguments are all scalars,
            new combinations of the values its public cases use. A variant on which
            the reference itself fails is left out. An exercise with nothing to draw
            from (``one_fix`` takes no arguments) gets none: :func:`seeded_cases`
            says why, and ``tools/make_nbgrader.py --hidden-seed`` says so per exercise.
        cases: cases written by the teacher: each a dict of the arguments (by name;
            arguments with a default may be left out), a ``(label, dict)`` pair, or a
            :class:`~coursekit.exercises.Case`. Each is checked against the exercise's
            signature when it is added. The reference gives the expected answer.

    Raises:
        ValueError: an unknown exercise, or a case whose arguments do not fit the
            exercise's signature (naming the case and the argument).

    Calling it again for the same exercise replaces its hidden cases.
    """
    ex = EXERCISES.get(name)
    if ex is None:
        raise ValueError(f"hidden_cases: there is no exercise called {name!r}")
    with _stderr_to_stdout():  # it runs in the grade cell: stderr there would cost the learner the points
        made: list[Case] = list(seeded_cases(name, seed)[0]) if seed is not None else []
    for item in cases:
        label = f"hidden case {len(made) + 1}"
        if isinstance(item, Case):
            _bind(ex, item.make(), f"{label} ({item.label!r})")
            made.append(dataclasses.replace(item, label=f"{label}: {item.label}"))
            continue
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Mapping):
            label, item = f"{label}: {item[0]}", item[1]
        if not isinstance(item, Mapping):
            raise TypeError(f"hidden_cases: a case is a dict of arguments, a (label, dict) pair or a Case; got {item!r}")
        frozen = _bind(ex, dict(item), label)
        made.append(Case(label, lambda frozen=frozen: copy.deepcopy(frozen)))
    _HIDDEN[name] = tuple(made)
    return len(made)


def seeded_cases(name: str, seed: int) -> tuple[tuple[Case, ...], str | None]:
    """The hidden variants ``hidden_cases(name, seed=seed)`` adds, and why there are none (None if there are some).

    The variants of the public cases: tensors shuffled along their first dimension and
    dicts' values among their keys (one variant per case that has such an argument);
    for an exercise whose arguments are all scalars (numbers, strings), up to one new
    combination per public case of the values the public cases give each argument
    (``fan_in`` of one case with ``fan_out`` and ``gain`` of others). Values stay
    within what the exercise's own cases use; a variant the reference fails on (or
    answers with another type than on the public cases) is left out.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"hidden_cases: seed must be an int; got {seed!r}")
    ex = EXERCISES.get(name)
    if ex is None:
        raise ValueError(f"hidden_cases: there is no exercise called {name!r}")
    made: list[Case] = []
    public = [case.make() for case in ex.cases]
    shuffled_any = False
    for i, (case, args) in enumerate(zip(ex.cases, public)):
        if not any(_shuffles(value) for value in args.values()):
            continue  # nothing to shuffle: a variant would repeat the case
        shuffled_any = True
        variant = _variant(case, seed * 1009 + i, f"hidden case {len(made) + 1}, a variant of case {i + 1}")
        drawn = variant.make()
        if all(_equal(a, b) for a, b in zip(args.values(), drawn.values())):
            continue  # every shuffle gave the case back (equal rows): it would only repeat it
        if _reference_handles(ex, variant):
            made.append(variant)
    if shuffled_any:
        return tuple(made), None if made else "the reference fails on every shuffled variant"
    params = [n for n, _ in exercise_parameters(ex.signature)]
    if not params:
        return (), f"{name} takes no arguments: every case is the same call"
    if any(case.verify is not None for case in ex.cases):
        return (), f"{name}'s cases are checked by a verifier, not by the reference's answer"
    for i, case in enumerate(_recombined(ex, public, seed)):
        made.append(dataclasses.replace(case, label=f"hidden case {len(made) + 1}, {case.label}"))
    if made:
        return tuple(made), None
    return (), (f"{name}'s public cases give no new combination of their values (one argument varies, "
                "or the reference fails on every new one)")


# --------------------------------------------------------------------------- internals


def _recombined(ex: Exercise, public: list[dict[str, Any]], seed: int) -> list[Case]:
    """New combinations of the public cases' argument values (all scalars), fair for the reference."""
    keys = list(public[0]) if public else []
    if not keys or any(list(args) != keys for args in public):
        return []
    values = {k: [] for k in keys}
    for args in public:
        for k in keys:
            if not any(_same(args[k], v) for v in values[k]):
                values[k].append(args[k])
    seen = [tuple(args[k] for k in keys) for args in public]
    answer_types = set()
    with _quiet():
        for args in public:
            try:
                answer_types.add(type(ex.reference(*copy.deepcopy(args).values())))
            except Exception:
                pass
    rng = random.Random(seed * 1009 + 7919)
    made: list[Case] = []
    for _ in range(40 * len(public)):
        if len(made) >= len(public):
            break
        combo = tuple(rng.choice(values[k]) for k in keys)
        if any(all(_same(a, b) for a, b in zip(combo, old)) for old in seen):
            continue
        seen.append(combo)
        frozen = dict(zip(keys, combo))
        described = ", ".join(f"{k} = {v!r}" for k, v in frozen.items())
        case = Case(described, lambda frozen=frozen: copy.deepcopy(frozen))
        with _quiet():
            try:
                fair = type(ex.reference(*case.make().values())) in answer_types
            except Exception:
                fair = False
        if fair:
            made.append(case)
    return made


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and repr(a) == repr(b)


def _bind(ex: Exercise, args: dict[str, Any], label: str) -> dict[str, Any]:
    """``args`` in the exercise's parameter order, defaults filled in; a clear error if they do not fit."""
    params = exercise_parameters(ex.signature)
    names = [n for n, _ in params]
    call = f"{ex.name}({', '.join(names)})"
    extra = [k for k in args if k not in names]
    if extra:
        raise ValueError(f"hidden_cases({ex.name!r}): {label} has the argument {extra[0]!r}, which {call} does not "
                         f"take; its arguments are {', '.join(names) or 'none'}")
    bound = {}
    for n, default in params:
        if n in args:
            bound[n] = args[n]
            continue
        if default is None:
            raise ValueError(f"hidden_cases({ex.name!r}): {label} lacks the argument {n!r} of {call}")
        try:
            bound[n] = ast.literal_eval(default)
        except (ValueError, SyntaxError):
            raise ValueError(f"hidden_cases({ex.name!r}): {label} leaves out {n!r}, whose default {default} is not "
                             "a plain value: give it in the case") from None
    return bound


def _variant(case: Case, seed: int, label: str) -> Case:
    def make() -> dict[str, Any]:
        gen = torch.Generator().manual_seed(seed)
        args = case.make()
        for _ in range(10):  # a permutation may leave everything in place: draw again (deterministically)
            shuffled = {key: _shuffled(value, gen) for key, value in args.items()}
            if not all(_equal(a, b) for a, b in zip(args.values(), shuffled.values())):
                return shuffled
        return shuffled
    return Case(label, make, case.verify)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape
                and a.dtype == b.dtype and bool(torch.equal(a, b)))
    return _same(a, b)


def _shuffles(value: Any) -> bool:
    if isinstance(value, dict):
        return len(value) > 1
    return isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape[0] > 1


def _shuffled(value: Any, gen: torch.Generator) -> Any:
    if not _shuffles(value):
        return value
    if isinstance(value, dict):  # the values change keys, the keys keep their order
        keys, values = list(value), list(value.values())
        order = torch.randperm(len(values), generator=gen).tolist()
        return {k: values[j] for k, j in zip(keys, order)}
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
    """Everything written to stderr while the checks run goes to stdout, as text.

    ``sys.stderr`` (Python's warnings, ``print(..., file=sys.stderr)``) is redirected,
    and so is file descriptor 2 itself, where native code writes (OpenMP notices,
    PyTorch's C++ warnings): in a kernel, ipykernel forwards fd 2 into the cell as a
    ``stderr`` stream, which nbgrader scores as zero. fd 2 goes into a temporary file
    while the checks run and is restored afterwards; what the file caught is printed
    on stdout.
    """
    with contextlib.redirect_stderr(sys.stdout), _fd2_to_stdout():
        yield


@contextlib.contextmanager
def _fd2_to_stdout(emit: bool = True) -> Iterator[None]:
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 at all (a detached process): nothing native can write there either
        yield
        return
    with tempfile.TemporaryFile() as sink:
        for stream in (sys.__stderr__, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            caught = sink.read().decode("utf-8", errors="replace")
            if caught and emit:
                sys.stdout.write(caught if caught.endswith("\n") else caught + "\n")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with open(os.devnull, "w", encoding="utf-8") as sink, contextlib.redirect_stdout(sink), \
            contextlib.redirect_stderr(sink), _fd2_to_stdout(emit=False):
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
