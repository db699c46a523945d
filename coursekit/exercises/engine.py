"""The checking engine of :mod:`coursekit.exercises`: running a learner's function on an
exercise's cases, comparing with the reference, finding the hint, and the registry.

No exercise lives here: each notebook's exercises are in its spec module
(``nb01_vanishing_gradients.py`` ... ``nb07_batch_norm.py``), which calls
:func:`_register` once per exercise. The helpers for writing cases (``_gen``,
``_randn``, ``_rand``, ``_binary``, ``_t``) are here so every spec module shares them.
"""
from __future__ import annotations

import difflib
import linecache
import math
import random
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

__all__ = [
    "check", "CheckResult", "Exercise", "Case", "Mistake", "Failure",
    "EXERCISES", "list_exercises", "describe",
]

PASS_MARK = "✓"
FAIL_MARK = "✗"
NOT_IMPLEMENTED = "not implemented yet: fill in the cell above"


# --------------------------------------------------------------------------- the pieces


@dataclass(frozen=True)
class Failure:
    """Why one case failed: what was expected, what came back, and (maybe) a hint."""

    text: str
    hint: str | None = None


@dataclass(frozen=True)
class Case:
    """One seeded input to an exercise.

    Attributes:
        label: a few words a learner can read ("t = 1, the very first step").
        make: returns a fresh dict of the arguments, in the signature's order (the
            function is called positionally, so a learner may rename parameters).
            Fresh for every call, so a function that changes its inputs in place
            cannot spoil the next comparison.
        verify: for exercises with randomness: ``verify(args, got, rerun)``
            returns a :class:`Failure` or None instead of comparing with the
            reference; ``rerun()`` calls the learner's function again on fresh
            arguments made by ``make``.
    """

    label: str
    make: Callable[[], dict[str, Any]]
    verify: Callable[[dict[str, Any], Any, Callable[[], Any]], Failure | None] | None = None


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer and the hint that points at it.

    Either ``fn``, a plausible wrong solution (when the learner's answer equals
    its answer on the failing case, the hint applies; among several, the one that
    agrees with the learner on the most cases wins), or ``test(args, expected,
    got) -> bool`` for mistakes easier to describe than to write.
    """

    hint: str
    fn: Callable[..., Any] | None = None
    test: Callable[[dict[str, Any], Any, Any], bool] | None = None


@dataclass(frozen=True)
class Exercise:
    """One exercise: what to write, how it is checked, and the hints for wrong answers.

    Attributes:
        name: the function's name, also the key in :data:`EXERCISES`.
        notebook: the notebook that poses it.
        signature: the ``def`` line a learner completes.
        instructions: what the function must do, in two or three sentences (the
            student editions put this into the stub's ``NotImplementedError``).
        reference: the solution (hidden from check's output).
        cases: the seeded inputs, edge cases included.
        outputs: names of the returned values: one name for a single value, several
            for a tuple (the order the function returns them in).
        mistakes: typical wrong answers and their hints, most specific first.
        hint: the hint when no known mistake explains the answer.
        error_hint: the hint when the learner's function raises (default: ``hint``).
        rtol, atol: tolerances; None picks them from the dtype (float64: 1e-6 and
            1e-9; float32: 1e-4 and 1e-6).
    """

    name: str
    notebook: str
    signature: str
    instructions: str
    reference: Callable[..., Any]
    cases: tuple[Case, ...]
    outputs: tuple[str, ...] = ("result",)
    mistakes: tuple[Mistake, ...] = ()
    hint: str = "compare your formula with the one in the text above, term by term."
    error_hint: str | None = None
    rtol: float | None = None
    atol: float | None = None


@dataclass
class CheckResult:
    """What :func:`check` found. True (in ``if``/``assert``) exactly when every case matched.

    Attributes:
        name: the exercise.
        passed: every case matched.
        status: "pass", "wrong" (a case differs), "error" (the function raised),
            "not-implemented" (it raised NotImplementedError) or "bad-call" (check
            itself was called with an unknown name or something that isn't a function).
        message: the one line :func:`check` printed.
        cases_passed, cases_total: how many cases matched, out of how many.
        hint: the hint in the message, if any.
    """

    name: str
    passed: bool
    status: str
    message: str
    cases_passed: int = 0
    cases_total: int = 0
    hint: str | None = None
    _printed: bool = field(default=False, repr=False, compare=False)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return self.message

    def _ipython_display_(self) -> None:
        # check() has just printed the line; showing the result of the same cell
        # again would print it twice. Displayed later on its own, it prints it.
        if self._printed:
            self._printed = False
            return
        print(self.message)


# --------------------------------------------------------------------------- check


def check(name: str, fn: Any, *, quiet: bool = False) -> CheckResult:
    """Run the learner's ``fn`` on exercise ``name``'s cases and print one line.

    Args:
        name: the exercise, e.g. "adam_step" (see :func:`list_exercises`).
        fn: the learner's function (the function itself, not a call to it).
        quiet: don't print; just return the result.

    Returns:
        A :class:`CheckResult`; ``bool(result)`` is ``result.passed``.

    Never raises because of the learner's code: exceptions from ``fn`` (including
    ``NotImplementedError`` from a student edition's stub) are reported in the line.
    Python's, NumPy's and PyTorch's global random states are restored afterwards.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """
    with _preserved_random_state():
        result = _run(name, fn)
    if not quiet:
        print(result.message)
        result._printed = True
    return result


def list_exercises(notebook: str | None = None) -> list[str]:
    """Names of the exercises, in course order; only one notebook's if ``notebook`` is
    given (its file name or its number, e.g. "03" or "03_optimizers.ipynb").

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """
    if notebook is None:
        return list(EXERCISES)
    if not isinstance(notebook, str):
        raise TypeError(f"notebook must be a string such as '03'; got {type(notebook).__name__}")
    key = Path(notebook).name
    return [n for n, ex in EXERCISES.items() if ex.notebook == key or ex.notebook.startswith(key + "_")
            or ex.notebook.startswith(key.removesuffix(".ipynb"))]


def describe(name: str) -> str:
    """The exercise's signature and instructions as text (no solution).

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """
    ex = _lookup(name)
    if ex is None:
        raise ValueError(_unknown_name_text(name))
    return f"{ex.signature}\n    {ex.instructions}\n(notebooks/{ex.notebook}; check with ck.exercises.check({name!r}, {name}))"


# --------------------------------------------------------------------------- internals


class _preserved_random_state:
    """Save and restore the global random states of random, NumPy and PyTorch (CPU)."""

    def __enter__(self) -> None:
        self._py = random.getstate()
        self._np = np.random.get_state()
        self._torch = torch.random.get_rng_state()

    def __exit__(self, *exc: Any) -> None:
        random.setstate(self._py)
        np.random.set_state(self._np)
        torch.random.set_rng_state(self._torch)


def _lookup(name: Any) -> Exercise | None:
    return EXERCISES.get(name) if isinstance(name, str) else None


def _unknown_name_text(name: Any) -> str:
    close = difflib.get_close_matches(str(name), list(EXERCISES), n=1)
    suggestion = f"; did you mean {close[0]!r}?" if close else f"; the exercises are: {', '.join(EXERCISES)}"
    return f"there is no exercise called {name!r}{suggestion}"


def _run(name: Any, fn: Any) -> CheckResult:
    ex = _lookup(name)
    if ex is None:
        return CheckResult(str(name), False, "bad-call", f"{FAIL_MARK} check: {_unknown_name_text(name)}")
    if not callable(fn):
        what = "None" if fn is None else f"a {type(fn).__name__}"
        msg = (f"{FAIL_MARK} {ex.name}: check needs your function itself, got {what}; "
               f"write check({ex.name!r}, {ex.name}) without parentheses after {ex.name}.")
        return CheckResult(ex.name, False, "bad-call", msg, 0, len(ex.cases))

    total = len(ex.cases)
    outcomes: list[tuple[Any, Failure | None]] = []  # (learner's answer, failure) per case
    for case in ex.cases:
        args = case.make()
        try:
            got = fn(*args.values())
        except NotImplementedError:
            return CheckResult(ex.name, False, "not-implemented", f"{FAIL_MARK} {ex.name}: {NOT_IMPLEMENTED}.",
                               0, total)
        except Exception as err:  # the learner's bug: report it in one line, keep going
            outcomes.append((_RAISED, Failure(_describe_exception(err, ex.name))))
            continue
        if case.verify is not None:
            failure = case.verify(args, got, lambda case=case: fn(*case.make().values()))
        else:
            expected = ex.reference(*case.make().values())
            failure = _compare(expected, got, ex)
        outcomes.append((got, failure))

    passed = sum(f is None for _, f in outcomes)
    if passed == total:
        return CheckResult(ex.name, True, "pass", f"{PASS_MARK} {ex.name}: {total}/{total} cases match",
                           total, total)
    first = next(i for i, (_, f) in enumerate(outcomes) if f is not None)
    got, failure = outcomes[first]
    status = "error" if got is _RAISED else "wrong"
    if got is _RAISED:
        hint = failure.hint or ex.error_hint or ex.hint
    else:
        hint = failure.hint or _known_mistake(ex, first, outcomes) or ex.hint
    label = ex.cases[first].label
    msg = (f"{FAIL_MARK} {ex.name}: {passed}/{total} cases match; case {first + 1} ({label}): "
           f"{failure.text}. Hint: {hint}")
    return CheckResult(ex.name, False, status, msg, passed, total, hint)


class _Raised:
    def __repr__(self) -> str:
        return "<raised>"


_RAISED = _Raised()


def _describe_exception(err: Exception, name: str) -> str:
    """One line: the exception, and the line of the learner's code that raised it."""
    first_line = (str(err).strip().splitlines() or [""])[0]
    if len(first_line) > 160:
        first_line = first_line[:157] + "..."
    text = f"your function raised {type(err).__name__}" + (f": {first_line}" if first_line else "")
    here = Path(__file__).resolve().parent  # this package: the engine and the spec modules
    torch_dir = Path(torch.__file__).resolve().parent
    where = None
    for frame in traceback.extract_tb(err.__traceback__):
        path = Path(frame.filename)
        try:
            resolved = path.resolve()
        except OSError:  # pragma: no cover - odd file names from exec()
            resolved = path
        if here in resolved.parents or torch_dir in resolved.parents or "site-packages" in resolved.parts:
            continue
        where = frame  # the last frame in the learner's own code
    if where is not None:
        source = (where.line or linecache.getline(where.filename, where.lineno)).strip()
        text += f" (in {where.name}, line {where.lineno}" + (f": `{source}`" if source else "") + ")"
    return text


# ------------------------------------------------------------------ comparing answers


def _as_parts(value: Any, n: int) -> list[Any] | None:
    if n == 1:
        return [value]
    if isinstance(value, (tuple, list)) and len(value) == n:
        return list(value)
    return None


def _to_tensor(value: Any) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        t = value.detach()
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


def _tolerances(ex: Exercise, *tensors: torch.Tensor) -> tuple[float, float]:
    loose = any(t.dtype in (torch.float32, torch.float16, torch.bfloat16) for t in tensors)
    rtol = ex.rtol if ex.rtol is not None else (1e-4 if loose else 1e-6)
    atol = ex.atol if ex.atol is not None else (1e-6 if loose else 1e-9)
    return rtol, atol


def _type_name(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} values"
    return f"a {type(value).__name__}"


def _compare(expected: Any, got: Any, ex: Exercise) -> Failure | None:
    """None when ``got`` matches ``expected``; otherwise what differs, in words."""
    names = ex.outputs
    n = len(names)
    if got is None:
        return Failure(f"expected {' and '.join(names) if n > 1 else 'a value'}, got None (your function returned nothing)",
                       "did you forget the `return` line? (if you updated tensors in place, return them too)")
    exp_parts = _as_parts(expected, n)
    got_parts = _as_parts(got, n)
    if got_parts is None:
        return Failure(f"expected {n} values ({', '.join(names)}), got {_type_name(got)}",
                       f"return all {n} values as a tuple: return {', '.join(names)}")
    for label, e, g in zip(names, exp_parts, got_parts):
        prefix = "" if n == 1 else f"{label}: "
        et, gt = _to_tensor(e), _to_tensor(g)
        if gt is None:
            return Failure(f"{prefix}expected a number or a tensor, got {_type_name(g)}")
        if et.numel() == 1 and gt.numel() == 1:
            et, gt = et.reshape(()), gt.reshape(())
        elif tuple(et.shape) != tuple(gt.shape):
            shape_hint = None
            if et.dim() == 0:
                shape_hint = "the answer is a single number: reduce over every element (e.g. .sum() or .prod())"
            elif gt.dim() == 0:
                shape_hint = f"return a tensor of shape {tuple(et.shape)}, one value per entry, not a single number"
            elif tuple(gt.shape) == tuple(reversed(et.shape)):
                shape_hint = "your result is transposed: check which dimension holds what"
            want = "a single number" if et.dim() == 0 else f"shape {tuple(et.shape)}"
            have = "a single number" if gt.dim() == 0 else f"a tensor of shape {tuple(gt.shape)}"
            return Failure(f"{prefix}expected {want}, got {have}", shape_hint)
        text = _value_difference(et, gt, ex, "" if label == "result" else label)
        if text is not None:
            return Failure(text)
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
        return f"{label + ': ' if label else ''}expected {a}, got {b}"
    index = np.unravel_index(flat, tuple(e64.shape))
    where = "[" + ", ".join(str(int(i)) for i in index) + "]"
    bad = int((~close).sum())
    more = f" ({bad} of {e64.numel()} entries differ)" if bad > 1 else ""
    return f"{label if label else 'at '}{where}: expected {a}, got {b}{more}"


def _format_pair(a: float, b: float) -> tuple[str, str]:
    """Format two numbers with just enough digits to show that they differ."""
    for digits in (4, 6, 8, 10, 13, 17):
        sa, sb = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if sa != sb:
            return sa, sb
    return sa, sb


def _known_mistake(ex: Exercise, first: int, outcomes: list[tuple[Any, Failure | None]]) -> str | None:
    """The hint of the known mistake that best explains the learner's answers, if any."""
    best_hint, best_score = None, 0
    for mistake in ex.mistakes:
        if mistake.test is not None:
            args = ex.cases[first].make()
            try:
                expected = ex.reference(*ex.cases[first].make().values())
                hit = bool(mistake.test(args, expected, outcomes[first][0]))
            except Exception:
                hit = False
            if hit:
                return mistake.hint  # a described mistake is specific: take it at once
            continue
        if mistake.fn is None:
            continue
        score = 0
        for i, (got, _) in enumerate(outcomes):
            if got is _RAISED:
                continue
            with _preserved_random_state():
                try:
                    wrong = mistake.fn(*ex.cases[i].make().values())
                except Exception:
                    continue
            matches = _compare(wrong, got, ex) is None
            if i == first and not matches:
                score = 0
                break
            score += matches
        if score > best_score:
            best_hint, best_score = mistake.hint, score
    return best_hint


# --------------------------------------------------------------------------- helpers for cases


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(seed: int, *shape: int, scale: float = 1.0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.randn(*shape, generator=_gen(seed), dtype=dtype) * scale


def _rand(seed: int, *shape: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.rand(*shape, generator=_gen(seed), dtype=dtype)


def _binary(seed: int, *shape: int, p: float = 0.5) -> torch.Tensor:
    return (_rand(seed, *shape) < p).to(torch.float64)


def _t(values: Sequence[Any], dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.tensor(values, dtype=dtype)


EXERCISES: dict[str, Exercise] = {}


def _register(ex: Exercise) -> None:
    EXERCISES[ex.name] = ex

