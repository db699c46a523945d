"""Exercises with automatic checks: write a small function, find out at once whether it is right.

Each topic notebook (01-07) has at least two exercises at the point where the idea
has just been shown. An exercise is a function with a given signature; the cell
after it calls::

    ck.exercises.check("adam_step", adam_step)

which runs your function on several seeded inputs, edge cases included, compares
what comes back with a hidden reference, and prints **one line**: either

    ✓ adam_step: 6/6 cases match

or which case went wrong, what was expected, what came back, and a hint aimed at
the most likely mistake (it recognises the usual wrong answers: a missing
1/(1-p) scale, a biased variance where PyTorch uses the unbiased one, a bias
correction one step off, ...). A check never shows a traceback: if your function
raises, you get the error and the line of *your* code that raised it, in one line.
It never shows the reference code either. It also leaves the random state of
Python, NumPy and PyTorch as it found it, so adding a check changes no later
number in a notebook.

:func:`check` returns a :class:`CheckResult`, true when every case matched, so a
notebook can also write ``assert ck.exercises.check(...)``.

The registry :data:`EXERCISES` maps each name to an :class:`Exercise`: its
signature, instructions, notebook, reference solution, cases and the known wrong
answers with their hints. ``list_exercises()`` and ``describe(name)`` show them.
The student editions (``make student``, ``tools/make_student.py``) use the
instructions as the message of the stub that replaces each solution.

(The reference solutions are at the bottom of this file, so yes: reading this
module's source spoils every exercise. Try first.)

Introduced in ``notebooks/01_vanishing_gradients.ipynb``; every topic notebook uses it.
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
import torch.nn.functional as F

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
    here = Path(__file__).resolve()
    torch_dir = Path(torch.__file__).resolve().parent
    where = None
    for frame in traceback.extract_tb(err.__traceback__):
        path = Path(frame.filename)
        try:
            resolved = path.resolve()
        except OSError:  # pragma: no cover - odd file names from exec()
            resolved = path
        if resolved == here or torch_dir in resolved.parents or "site-packages" in resolved.parts:
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


# =========================================================================== 01 vanishing gradients
# SPOILERS below: the reference solutions.


def _sigmoid_derivative(z):
    s = torch.sigmoid(z)
    return s * (1 - s)


_register(Exercise(
    name="sigmoid_derivative",
    notebook="01_vanishing_gradients.ipynb",
    signature="def sigmoid_derivative(z: torch.Tensor) -> torch.Tensor:",
    instructions=("Return the derivative of the sigmoid at every entry of z, "
                  "sigma'(z) = sigma(z) * (1 - sigma(z)), as a tensor of z's shape. "
                  "It must stay finite for very large |z| (think about which formula you use)."),
    reference=_sigmoid_derivative,
    cases=(
        Case("z = 0, where the derivative is largest", lambda: {"z": _t([0.0])}),
        Case("a random vector", lambda: {"z": _randn(11, 7, scale=3.0)}),
        Case("a 2-D batch", lambda: {"z": _randn(12, 4, 5, scale=2.0)}),
        Case("saturated units, z = ±10 and ±30", lambda: {"z": _t([-30.0, -10.0, 10.0, 30.0])}),
        Case("z = -100 in float32, where exp(-z) overflows",
             lambda: {"z": torch.tensor([-100.0, -50.0, 0.5, 100.0], dtype=torch.float32)}),
    ),
    mistakes=(
        Mistake("s * (1 - s) needs s = sigmoid(z) first: s = torch.sigmoid(z), then s * (1 - s).",
                fn=lambda z: z * (1 - z)),
        Mistake("that is sigmoid(z) itself; its derivative is sigmoid(z) * (1 - sigmoid(z)).",
                fn=lambda z: torch.sigmoid(z)),
        Mistake("1 - s**2 is tanh's derivative; sigmoid's is s * (1 - s).",
                fn=lambda z: 1 - torch.sigmoid(z) ** 2),
        Mistake("both factors use s = sigmoid(z): s * (1 - s), not s * (1 - z).",
                fn=lambda z: torch.sigmoid(z) * (1 - z)),
        Mistake("d/dz 1/(1 + e^-z) = e^-z / (1 + e^-z)**2: the denominator is squared.",
                fn=lambda z: torch.exp(-z) / (1 + torch.exp(-z))),
        Mistake("exp(-z) overflows for very negative z (e^100 is inf in float32), and inf/inf gives nan: "
                "compute s = torch.sigmoid(z) (which is safe) and return s * (1 - s).",
                fn=lambda z: torch.exp(-z) / (1 + torch.exp(-z)) ** 2),
    ),
    hint="sigma'(z) = sigma(z) * (1 - sigma(z)); its largest value is 0.25, at z = 0.",
))


def _chain_gradient(w, z):
    s = torch.sigmoid(z)
    return torch.prod(w * s * (1 - s))


_register(Exercise(
    name="chain_gradient",
    notebook="01_vanishing_gradients.ipynb",
    signature="def chain_gradient(w: torch.Tensor, z: torch.Tensor) -> torch.Tensor:",
    instructions=("A chain of one-unit sigmoid layers, h_l = sigmoid(w[l] * h_{l-1}), has pre-activations "
                  "z[l] = w[l] * h_{l-1}. Return d h_L / d h_0, the product over all layers of "
                  "w[l] * sigma'(z[l]), as a single number (a 0-dim tensor)."),
    reference=_chain_gradient,
    cases=(
        Case("one layer", lambda: {"w": _t([2.0]), "z": _t([0.5])}),
        Case("5 layers at z = 0 with w = 1: the bound 0.25**5", lambda: {"w": torch.ones(5, dtype=torch.float64),
                                                                          "z": torch.zeros(5, dtype=torch.float64)}),
        Case("10 layers, random w and z", lambda: {"w": _randn(21, 10, scale=1.5), "z": _randn(22, 10)}),
        Case("30 layers: a very small product", lambda: {"w": torch.ones(30, dtype=torch.float64),
                                                         "z": _randn(23, 30, scale=0.5)}),
        Case("3 layers with w = 8: large weights can make it grow", lambda: {"w": torch.full((3,), 8.0, dtype=torch.float64),
                                                                            "z": torch.zeros(3, dtype=torch.float64)}),
    ),
    outputs=("gradient",),
    mistakes=(
        Mistake("the chain rule multiplies the layers' factors (torch.prod), it doesn't add them.",
                fn=lambda w, z: torch.sum(w * _sigmoid_derivative(z))),
        Mistake("each layer contributes w[l] * sigma'(z[l]): you left out the weights.",
                fn=lambda w, z: torch.prod(_sigmoid_derivative(z))),
        Mistake("use the derivative sigma'(z) = sigma(z) * (1 - sigma(z)), not sigma(z) itself.",
                fn=lambda w, z: torch.prod(w * torch.sigmoid(z))),
        Mistake("multiply the factors of all layers, not only the last one.",
                fn=lambda w, z: w[-1] * _sigmoid_derivative(z[-1])),
        Mistake("0.25**L is only the upper bound (reached at z = 0 with w = 1); use the actual w and z.",
                fn=lambda w, z: torch.tensor(0.25 ** len(z), dtype=torch.float64)),
    ),
    hint="d h_L / d h_0 = prod over l of w[l] * sigma'(z[l]) (the chain rule, one factor per layer).",
    rtol=1e-6,
    atol=0.0,
))


# =========================================================================== 02 ReLU


def _relu_grad(z):
    return (z > 0).to(z.dtype)


_register(Exercise(
    name="relu_grad",
    notebook="02_relu.ipynb",
    signature="def relu_grad(z: torch.Tensor) -> torch.Tensor:",
    instructions=("Return the derivative of ReLU(z) = max(0, z) at every entry of z: 1.0 where z > 0, "
                  "0.0 elsewhere (at exactly z = 0 PyTorch uses 0), as a tensor of z's shape."),
    reference=_relu_grad,
    cases=(
        Case("z = [-2, -0.5, 0, 0.5, 2], zero included", lambda: {"z": _t([-2.0, -0.5, 0.0, 0.5, 2.0])}),
        Case("a random 2-D batch", lambda: {"z": _randn(31, 6, 5)}),
        Case("all negative", lambda: {"z": -_rand(32, 8) - 0.1}),
        Case("exact zeros in a batch", lambda: {"z": torch.relu(_randn(33, 4, 6)) * (_rand(34, 4, 6) < 0.5)}),
    ),
    mistakes=(
        Mistake("that is ReLU itself, max(0, z); its derivative is 1 where z > 0 and 0 elsewhere.",
                fn=lambda z: torch.relu(z)),
        Mistake("at exactly z = 0 PyTorch's ReLU has derivative 0: use z > 0, not z >= 0.",
                fn=lambda z: (z >= 0).to(z.dtype)),
        Mistake("negative inputs have derivative 0, not -1 (that is torch.sign).",
                fn=lambda z: torch.sign(z)),
        Mistake("that is LeakyReLU's derivative (0.01 for z < 0); ReLU's is exactly 0 there.",
                fn=lambda z: torch.where(z > 0, 1.0, 0.01).to(z.dtype)),
        Mistake("reversed: the derivative is 1 where z > 0 and 0 where z < 0.",
                fn=lambda z: (z < 0).to(z.dtype)),
    ),
    hint="ReLU passes positive inputs through unchanged (slope 1) and flattens the rest (slope 0).",
))


def _count_dead_units(acts):
    return int((acts == 0).all(dim=0).sum())


def _acts_with_dead(seed: int, n: int, units: int, dead: Sequence[int]) -> torch.Tensor:
    acts = torch.relu(_randn(seed, n, units) + 0.3)
    acts[:, list(dead)] = 0.0
    return acts


_register(Exercise(
    name="count_dead_units",
    notebook="02_relu.ipynb",
    signature="def count_dead_units(acts: torch.Tensor) -> int:",
    instructions=("acts holds ReLU activations of shape (n_examples, n_units): one row per example, one column "
                  "per unit. A unit is dead if it outputs 0 for every example. Return how many units are dead, "
                  "as an int."),
    reference=_count_dead_units,
    cases=(
        Case("4 examples, 5 units, 2 of them dead", lambda: {"acts": _t([[0.0, 1.0, 0.0, 0.0, 2.0],
                                                                          [0.0, 0.0, 0.0, 3.0, 0.0],
                                                                          [0.0, 0.5, 0.0, 0.0, 0.0],
                                                                          [0.0, 0.0, 0.0, 1.0, 1.0]])}),
        Case("32 examples, 20 units, 3 dead", lambda: {"acts": _acts_with_dead(41, 32, 20, [2, 7, 19])}),
        Case("no dead unit", lambda: {"acts": torch.relu(_randn(42, 16, 10)) + 0.01}),
        Case("every unit dead", lambda: {"acts": torch.zeros(8, 6, dtype=torch.float64)}),
        Case("a single example", lambda: {"acts": _t([[0.0, 1.5, 0.0, 0.2]])}),
    ),
    outputs=("dead units",),
    mistakes=(
        Mistake("you counted zero entries; a unit (a column) is dead only if it is zero for every example: "
                "(acts == 0).all(dim=0).sum().",
                fn=lambda acts: int((acts == 0).sum())),
        Mistake("each column is a unit and each row an example: reduce over the examples, dim=0.",
                fn=lambda acts: int((acts == 0).all(dim=1).sum())),
        Mistake("a unit is dead only if it is zero for *every* example: use .all(dim=0), not .any(dim=0).",
                fn=lambda acts: int((acts == 0).any(dim=0).sum())),
        Mistake("return the number of dead units (an int), not their fraction.",
                fn=lambda acts: float((acts == 0).all(dim=0).double().mean())),
        Mistake("you counted the live units; count the ones that never fire.",
                fn=lambda acts: int((acts != 0).any(dim=0).sum())),
    ),
    hint="a unit is a column of acts; it is dead when the whole column is zero.",
))


# =========================================================================== 03 optimizers


def _momentum_step(theta, b, grad, lr, mu):
    b = mu * b + grad
    return theta - lr * b, b


_register(Exercise(
    name="momentum_step",
    notebook="03_optimizers.ipynb",
    signature="def momentum_step(theta, b, grad, lr, mu):",
    instructions=("One step of SGD with momentum in PyTorch's form: the momentum buffer b sums the gradients, "
                  "b = mu * b + grad, then theta = theta - lr * b. Return the new (theta, b)."),
    reference=_momentum_step,
    cases=(
        Case("the first step, b = 0",
             lambda: {"theta": _randn(51, 4), "b": torch.zeros(4, dtype=torch.float64),
                      "grad": _randn(52, 4), "lr": 0.1, "mu": 0.9}),
        Case("a later step, mu = 0.9",
             lambda: {"theta": _randn(53, 5), "b": _randn(54, 5), "grad": _randn(55, 5), "lr": 0.05,
                      "mu": 0.9}),
        Case("mu = 0: plain SGD",
             lambda: {"theta": _randn(56, 3), "b": _randn(57, 3), "grad": _randn(58, 3), "lr": 0.1,
                      "mu": 0.0}),
        Case("a 2-D weight matrix, mu = 0.5",
             lambda: {"theta": _randn(59, 3, 4), "b": _randn(60, 3, 4), "grad": _randn(61, 3, 4),
                      "lr": 0.2, "mu": 0.5}),
    ),
    outputs=("theta", "b"),
    mistakes=(
        Mistake("this course uses PyTorch's form, not the velocity form v = mu * v - lr * grad: the buffer sums "
                "gradients, b = mu * b + grad, and the step is theta - lr * b (b holds no lr).",
                fn=lambda theta, b, g, lr, mu: (theta + (mu * b - lr * g), mu * b - lr * g)),
        Mistake("step with the *new* buffer: first b = mu * b + grad, then theta - lr * b.",
                fn=lambda theta, b, g, lr, mu: (theta - lr * b, mu * b + g)),
        Mistake("no (1 - mu) factor: momentum adds the whole gradient, b = mu * b + grad "
                "(the (1 - beta) average is Adam's).",
                fn=lambda theta, b, g, lr, mu: (theta - lr * (mu * b + (1 - mu) * g), mu * b + (1 - mu) * g)),
        Mistake("the new buffer keeps mu times the old one: b = mu * b + grad.",
                fn=lambda theta, b, g, lr, mu: (theta - lr * g, g)),
        Mistake("step against the gradient: theta - lr * b, not theta + lr * b.",
                fn=lambda theta, b, g, lr, mu: (theta + lr * (mu * b + g), mu * b + g)),
    ),
    hint="b = mu * b + grad; theta = theta - lr * b; return (theta, b).",
))


def _adam_step(theta, m, v, grad, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return theta - lr * m_hat / (torch.sqrt(v_hat) + eps), m, v


def _adam_wrong(theta, m, v, grad, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, *, correct_t=None,
                eps_inside=False, square=True, keep_hat=False, average=True, betas_swapped=False):
    if betas_swapped:
        beta1, beta2 = beta2, beta1
    m = beta1 * m + ((1 - beta1) if average else 1.0) * grad
    v = beta2 * v + ((1 - beta2) if average else 1.0) * (grad * grad if square else grad)
    tt = t if correct_t is None else correct_t(t)
    m_hat = m / (1 - beta1 ** tt) if tt is not False else m
    v_hat = v / (1 - beta2 ** tt) if tt is not False else v
    denom = torch.sqrt(v_hat + eps) if eps_inside else torch.sqrt(v_hat) + eps
    new_theta = theta - lr * m_hat / denom
    return (new_theta, m_hat, v_hat) if keep_hat else (new_theta, m, v)


def _adam_case(seed: int, shape: tuple[int, ...], t: int, **hyper: float) -> Callable[[], dict[str, Any]]:
    def make() -> dict[str, Any]:
        zeros = torch.zeros(shape, dtype=torch.float64)
        first = t == 1
        args = {
            "theta": _randn(seed, *shape),
            "m": zeros.clone() if first else _randn(seed + 1, *shape, scale=0.1),
            "v": zeros.clone() if first else _rand(seed + 2, *shape) * 0.01,
            "grad": _randn(seed + 3, *shape),
            "t": t,
            "lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
        }
        args.update(hyper)
        return args
    return make


def _adam_tiny_gradients() -> dict[str, Any]:
    return {"theta": _randn(71, 4), "m": torch.zeros(4, dtype=torch.float64), "v": torch.zeros(4, dtype=torch.float64),
            "grad": _randn(72, 4, scale=1e-6), "t": 1, "lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


_register(Exercise(
    name="adam_step",
    notebook="03_optimizers.ipynb",
    signature="def adam_step(theta, m, v, grad, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):",
    instructions=("One Adam step; t is the number of this step (1 on the first update). Update the averages "
                  "m = beta1*m + (1-beta1)*grad and v = beta2*v + (1-beta2)*grad**2, correct their bias "
                  "(m_hat = m / (1 - beta1**t), v_hat likewise with beta2), step theta - lr * m_hat / "
                  "(sqrt(v_hat) + eps), and return (theta, m, v) with the uncorrected m and v."),
    reference=_adam_step,
    cases=(
        Case("t = 1, the very first step, m = v = 0", _adam_case(61, (5,), 1, lr=0.1)),
        Case("t = 10, with earlier averages", _adam_case(62, (4,), 10, lr=0.1)),
        Case("t = 1000, where the correction has faded", _adam_case(63, (3,), 1000, lr=0.1)),
        Case("tiny gradients (1e-6): Adam's step does not shrink with them", _adam_tiny_gradients),
        Case("a 2-D tensor with betas (0.5, 0.9) and eps 1e-3", _adam_case(64, (3, 2), 3, lr=0.05, beta1=0.5,
                                                                            beta2=0.9, eps=1e-3)),
    ),
    outputs=("theta", "m", "v"),
    mistakes=(
        Mistake("bias correction missing: at step t divide m by (1 - beta1**t) and v by (1 - beta2**t) "
                "before the step.",
                fn=lambda *a: _adam_wrong(*a, correct_t=lambda t: False)),
        Mistake("bias correction one step off: t is already the number of this step (1 on the first update), "
                "so use beta**t, not beta**(t + 1).",
                fn=lambda *a: _adam_wrong(*a, correct_t=lambda t: t + 1)),
        Mistake("bias correction one step off: t is already the number of this step (1 on the first update), "
                "so use beta**t, not beta**(t - 1).",
                fn=lambda *a: _adam_wrong(*a, correct_t=lambda t: t - 1)),
        Mistake("eps goes outside the square root: m_hat / (sqrt(v_hat) + eps).",
                fn=lambda *a: _adam_wrong(*a, eps_inside=True)),
        Mistake("v averages the *squared* gradient: v = beta2*v + (1 - beta2) * grad**2.",
                fn=lambda *a: _adam_wrong(*a, square=False)),
        Mistake("return the raw averages m and v (the state for the next step), not the bias-corrected "
                "m_hat and v_hat.",
                fn=lambda *a: _adam_wrong(*a, keep_hat=True)),
        Mistake("m and v are averages: m = beta1*m + (1 - beta1)*grad (and likewise v); don't drop the (1 - beta).",
                fn=lambda *a: _adam_wrong(*a, average=False)),
        Mistake("beta1 belongs to m (the gradient's average) and beta2 to v (the squared gradient's).",
                fn=lambda *a: _adam_wrong(*a, betas_swapped=True)),
    ),
    hint="follow the five lines in order: m, v, m_hat, v_hat, then theta; use the hyper-parameters passed in.",
))


# =========================================================================== 04 initialization


def _xavier_uniform_bound(fan_in, fan_out, gain=1.0):
    return gain * math.sqrt(6.0 / (fan_in + fan_out))


_register(Exercise(
    name="xavier_uniform_bound",
    notebook="04_initialization.ipynb",
    signature="def xavier_uniform_bound(fan_in: int, fan_out: int, gain: float = 1.0) -> float:",
    instructions=("Return the bound a of Xavier (Glorot) uniform initialization, W ~ U(-a, a), chosen so that "
                  "Var(W) = gain**2 * 2 / (fan_in + fan_out); a uniform U(-a, a) has variance a**2 / 3. "
                  "This is the bound torch.nn.init.xavier_uniform_ uses."),
    reference=_xavier_uniform_bound,
    cases=(
        Case("fan_in 784, fan_out 256", lambda: {"fan_in": 784, "fan_out": 256, "gain": 1.0}),
        Case("a square 256 x 256 layer", lambda: {"fan_in": 256, "fan_out": 256, "gain": 1.0}),
        Case("one input, one output", lambda: {"fan_in": 1, "fan_out": 1, "gain": 1.0}),
        Case("fan_in 10, fan_out 1000", lambda: {"fan_in": 10, "fan_out": 1000, "gain": 1.0}),
        Case("tanh's gain 5/3, fan_in 64, fan_out 32", lambda: {"fan_in": 64, "fan_out": 32, "gain": 5.0 / 3.0}),
    ),
    outputs=("bound",),
    mistakes=(
        Mistake("Xavier uses both fans, so forward and backward signals keep their size: 6 / (fan_in + fan_out).",
                fn=lambda fi, fo, g=1.0: g * math.sqrt(6.0 / fi)),
        Mistake("that is the *std* of Xavier's normal init; the uniform bound is sqrt(3) times bigger: "
                "sqrt(6 / (fan_in + fan_out)).",
                fn=lambda fi, fo, g=1.0: g * math.sqrt(2.0 / (fi + fo))),
        Mistake("take the square root: a = gain * sqrt(6 / (fan_in + fan_out)).",
                fn=lambda fi, fo, g=1.0: g * 6.0 / (fi + fo)),
        Mistake("multiply by the gain (5/3 for tanh, sqrt(2) for ReLU): a = gain * sqrt(6 / (fan_in + fan_out)).",
                fn=lambda fi, fo, g=1.0: math.sqrt(6.0 / (fi + fo))),
        Mistake("the gain multiplies the bound, outside the square root: gain * sqrt(6 / (fan_in + fan_out)).",
                fn=lambda fi, fo, g=1.0: math.sqrt(6.0 * g / (fi + fo))),
        Mistake("that is the old 'standard' bound 1/sqrt(fan_in) that Glorot & Bengio replaced.",
                fn=lambda fi, fo, g=1.0: g / math.sqrt(fi)),
    ),
    hint="solve a**2 / 3 = gain**2 * 2 / (fan_in + fan_out) for a.",
))


def _he_normal_std(fan_in, negative_slope=0.0):
    return math.sqrt(2.0 / ((1.0 + negative_slope ** 2) * fan_in))


_register(Exercise(
    name="he_normal_std",
    notebook="04_initialization.ipynb",
    signature="def he_normal_std(fan_in: int, negative_slope: float = 0.0) -> float:",
    instructions=("Return the std of He (Kaiming) normal initialization for a (leaky) ReLU layer: "
                  "std = gain / sqrt(fan_in) with gain**2 = 2 / (1 + negative_slope**2) "
                  "(negative_slope = 0 for ReLU), as torch.nn.init.kaiming_normal_ uses."),
    reference=_he_normal_std,
    cases=(
        Case("fan_in 784, ReLU", lambda: {"fan_in": 784, "negative_slope": 0.0}),
        Case("fan_in 1", lambda: {"fan_in": 1, "negative_slope": 0.0}),
        Case("fan_in 64", lambda: {"fan_in": 64, "negative_slope": 0.0}),
        Case("LeakyReLU with slope 0.2, fan_in 100", lambda: {"fan_in": 100, "negative_slope": 0.2}),
        Case("slope 1 (a linear layer), fan_in 50", lambda: {"fan_in": 50, "negative_slope": 1.0}),
    ),
    outputs=("std",),
    mistakes=(
        Mistake("ReLU zeroes half of its input and halves the signal's second moment; He doubles the variance "
                "to make up for it: std = sqrt(2 / fan_in), not sqrt(1 / fan_in).",
                fn=lambda fi, a=0.0: math.sqrt(1.0 / fi)),
        Mistake("2 / fan_in is the variance; return the std, its square root.",
                fn=lambda fi, a=0.0: 2.0 / ((1.0 + a ** 2) * fi)),
        Mistake("sqrt(6 / fan_in) is He's *uniform* bound (sqrt(3) times the std); return the normal std.",
                fn=lambda fi, a=0.0: math.sqrt(6.0 / ((1.0 + a ** 2) * fi))),
        Mistake("take the square root of the whole fraction: sqrt(2 / fan_in), not sqrt(2) / fan_in.",
                fn=lambda fi, a=0.0: math.sqrt(2.0 / (1.0 + a ** 2)) / fi),
        Mistake("with a leaky slope the gain shrinks: gain**2 = 2 / (1 + negative_slope**2).",
                fn=lambda fi, a=0.0: math.sqrt(2.0 / fi)),
        Mistake("square the slope: gain**2 = 2 / (1 + negative_slope**2).",
                fn=lambda fi, a=0.0: math.sqrt(2.0 / ((1.0 + a) * fi))),
    ),
    hint="Var(W) = gain**2 / fan_in keeps the signal's size through a (leaky) ReLU layer; return its sqrt.",
))


# =========================================================================== 05 RBM and DBN
# W has shape (n_hidden, n_visible), the layout of nn.Linear(n_visible, n_hidden).weight and of
# coursekit.rbm.RBM.weight: the hidden units' input is v @ W.T + b, the visible units' is h @ W + a.


def _free_energy(v, W, a, b):
    return -(v @ a) - F.softplus(v @ W.T + b).sum(dim=-1)


def _rbm(seed: int, batch: int, n_v: int, n_h: int, scale: float = 0.5, dtype=torch.float64):
    def make() -> dict[str, Any]:
        return {"v": _binary(seed, batch, n_v).to(dtype), "W": _randn(seed + 1, n_h, n_v, scale=scale).to(dtype),
                "a": _randn(seed + 2, n_v, scale=0.3).to(dtype), "b": _randn(seed + 3, n_h, scale=0.3).to(dtype)}
    return make


_register(Exercise(
    name="free_energy",
    notebook="05_rbm_dbn_pretraining.ipynb",
    signature="def free_energy(v, W, a, b):",
    instructions=("Return the free energy of each row of v (shape (batch, n_visible)) under an RBM with weights "
                  "W (n_hidden, n_visible), visible bias a and hidden bias b: "
                  "F(v) = -sum_i a_i v_i - sum_j log(1 + exp(b_j + sum_i W_ji v_i)), a tensor of shape (batch,). "
                  "Compute log(1 + exp(x)) in a form that cannot overflow."),
    reference=_free_energy,
    cases=(
        Case("a batch of 4, a square W (5 hidden, 5 visible)", _rbm(84, 4, 5, 5)),
        Case("one example, 3 visible, 2 hidden", _rbm(81, 1, 3, 2)),
        Case("a batch of 5, 6 visible, 4 hidden", _rbm(82, 5, 6, 4)),
        Case("the all-zeros visible vector", lambda: {**_rbm(83, 3, 4, 5)(), "v": torch.zeros(3, 4, dtype=torch.float64)}),
        Case("large weights in float32, where exp overflows", _rbm(85, 4, 8, 3, scale=60.0, dtype=torch.float32)),
    ),
    outputs=("F",),
    mistakes=(
        Mistake("log(1 + exp(x)) overflows for large x (exp(89) is inf in float32): use "
                "torch.nn.functional.softplus(x), which is safe.",
                fn=lambda v, W, a, b: -(v @ a) - torch.log(1 + torch.exp(v @ W.T + b)).sum(dim=-1)),
        Mistake("F(v) = -v @ a - sum softplus(...): both terms carry a minus sign.",
                fn=lambda v, W, a, b: (v @ a) + F.softplus(v @ W.T + b).sum(dim=-1)),
        Mistake("don't forget the visible-bias term -v @ a.",
                fn=lambda v, W, a, b: -F.softplus(v @ W.T + b).sum(dim=-1)),
        Mistake("sum over the hidden units, don't average them.",
                fn=lambda v, W, a, b: -(v @ a) - F.softplus(v @ W.T + b).mean(dim=-1)),
        Mistake("the hidden units are summed out, which gives log(1 + e^x) (softplus), not sigmoid(x).",
                fn=lambda v, W, a, b: -(v @ a) - torch.sigmoid(v @ W.T + b).sum(dim=-1)),
        Mistake("W has shape (n_hidden, n_visible), like nn.Linear's weight: the hidden input is v @ W.T + b.",
                fn=lambda v, W, a, b: -(v @ a) - F.softplus(v @ W + b).sum(dim=-1)),
    ),
    hint="F(v) = -v @ a - softplus(v @ W.T + b).sum(dim=-1): one number per row of v.",
    error_hint="check the shapes: v is (batch, n_visible) and W is (n_hidden, n_visible), so v @ W.T + b is "
               "(batch, n_hidden) and v @ a is (batch,).",
))


def _cd1_update(v0, h0, W, a, b, lr):
    ph0 = torch.sigmoid(v0 @ W.T + b)
    v1 = torch.sigmoid(h0 @ W + a)
    ph1 = torch.sigmoid(v1 @ W.T + b)
    n = v0.shape[0]
    W = W + lr * (ph0.T @ v0 - ph1.T @ v1) / n
    a = a + lr * (v0 - v1).mean(dim=0)
    b = b + lr * (ph0 - ph1).mean(dim=0)
    return W, a, b


def _cd1_wrong(v0, h0, W, a, b, lr, *, sign=1.0, average=True, pos_sample=False, recon_from_prob=False,
               biases=True, neg_hidden_sample=False):
    ph0 = torch.sigmoid(v0 @ W.T + b)
    v1 = torch.sigmoid((ph0 if recon_from_prob else h0) @ W + a)
    ph1 = torch.sigmoid(v1 @ W.T + b)
    pos = h0 if pos_sample else ph0
    neg = h0 if neg_hidden_sample else ph1
    n = v0.shape[0] if average else 1
    W2 = W + sign * lr * (pos.T @ v0 - neg.T @ v1) / n
    if not biases:
        return W2, a, b
    return W2, a + sign * lr * (v0 - v1).sum(dim=0) / n, b + sign * lr * (pos - neg).sum(dim=0) / n


def _cd1(seed: int, batch: int, n_v: int, n_h: int, lr: float = 0.1) -> Callable[[], dict[str, Any]]:
    def make() -> dict[str, Any]:
        return {"v0": _binary(seed, batch, n_v), "h0": _binary(seed + 1, batch, n_h),
                "W": _randn(seed + 2, n_h, n_v, scale=0.5), "a": _randn(seed + 3, n_v, scale=0.2),
                "b": _randn(seed + 4, n_h, scale=0.2), "lr": lr}
    return make


_register(Exercise(
    name="cd1_update",
    notebook="05_rbm_dbn_pretraining.ipynb",
    signature="def cd1_update(v0, h0, W, a, b, lr):",
    instructions=("One CD-1 update, with no random numbers of its own. v0: a batch of data (batch, n_visible); "
                  "h0: hidden states already sampled from p(h | v0); W: (n_hidden, n_visible). Positive "
                  "statistics from the data and p(h = 1 | v0); the reconstruction v1 = p(v = 1 | h0), as "
                  "probabilities; negative statistics from v1 and p(h = 1 | v1). Move W, a and b by "
                  "lr * (positive - negative), averaged over the batch, and return the new (W, a, b)."),
    reference=_cd1_update,
    cases=(
        Case("one example, 3 visible, 2 hidden", _cd1(91, 1, 3, 2)),
        Case("a batch of 6, 5 visible, 4 hidden", _cd1(92, 6, 5, 4)),
        Case("a square W, batch of 4", _cd1(93, 4, 4, 4, lr=0.5)),
        Case("lr = 0: nothing changes", _cd1(94, 3, 4, 2, lr=0.0)),
        Case("all hidden samples off", lambda: {**_cd1(95, 5, 6, 3)(), "h0": torch.zeros(5, 3, dtype=torch.float64)}),
    ),
    outputs=("W", "a", "b"),
    mistakes=(
        Mistake("CD-1 *raises* the probability of the data: add lr * (positive - negative) statistics; "
                "you subtracted them.",
                fn=lambda *x: _cd1_wrong(*x, sign=-1.0)),
        Mistake("average the statistics over the batch: divide the sums by the batch size.",
                fn=lambda *x: _cd1_wrong(*x, average=False)),
        Mistake("in the positive statistics use the probabilities ph0 = sigmoid(v0 @ W.T + b), not the sample h0 "
                "(the sample only drives the reconstruction).",
                fn=lambda *x: _cd1_wrong(*x, pos_sample=True)),
        Mistake("the reconstruction starts from the *sampled* hidden states: v1 = sigmoid(h0 @ W + a).",
                fn=lambda *x: _cd1_wrong(*x, recon_from_prob=True)),
        Mistake("the negative statistics use ph1 = sigmoid(v1 @ W.T + b), the hidden probabilities given the "
                "reconstruction, not h0.",
                fn=lambda *x: _cd1_wrong(*x, neg_hidden_sample=True)),
        Mistake("update the biases too: a += lr * mean(v0 - v1), b += lr * mean(ph0 - ph1).",
                fn=lambda *x: _cd1_wrong(*x, biases=False)),
    ),
    hint="positive phase from the data (v0, ph0), negative phase from the reconstruction (v1, ph1); "
         "update = lr * (positive - negative) averaged over the batch.",
    error_hint="check the shapes: W is (n_hidden, n_visible), so v0 @ W.T is (batch, n_hidden), h0 @ W is "
               "(batch, n_visible), and the weight statistics ph0.T @ v0 are (n_hidden, n_visible) like W.",
))


# =========================================================================== 06 dropout


def _inverted_dropout(x, p, mask):
    if p >= 1.0:
        return torch.zeros_like(x)
    return x * mask / (1.0 - p)


def _mask_case(seed: int, shape: tuple[int, ...], p: float) -> Callable[[], dict[str, Any]]:
    def make() -> dict[str, Any]:
        return {"x": _randn(seed, *shape), "p": p, "mask": (_rand(seed + 1, *shape) >= p).to(torch.float64)}
    return make


_register(Exercise(
    name="inverted_dropout",
    notebook="06_dropout.ipynb",
    signature="def inverted_dropout(x, p, mask):",
    instructions=("Training-mode inverted dropout with a given mask: mask has x's shape, 1.0 where a unit is kept "
                  "and 0.0 where it is dropped; p is the probability of dropping. Return x * mask scaled by "
                  "1 / (1 - p), so that every unit keeps its expected value; with p = 1 return zeros."),
    reference=_inverted_dropout,
    cases=(
        Case("p = 0.5 on a vector", _mask_case(101, (10,), 0.5)),
        Case("p = 0.2 on a batch", _mask_case(102, (4, 6), 0.2)),
        Case("p = 0: nothing dropped", _mask_case(103, (5,), 0.0)),
        Case("p = 0.8 on a batch", _mask_case(104, (3, 5), 0.8)),
        Case("p = 1: everything dropped", _mask_case(105, (6,), 1.0)),
    ),
    mistakes=(
        Mistake("missing 1/(1 - p) scale: inverted dropout scales the kept units up during training, so the "
                "expected value stays x and eval mode needs no change.",
                fn=lambda x, p, mask: x * mask),
        Mistake("multiply the kept units by 1 / (1 - p), not by (1 - p) (scaling down is what the original "
                "dropout did at test time).",
                fn=lambda x, p, mask: x * mask * (1 - p)),
        Mistake("divide by the *keep* probability 1 - p, not by p: PyTorch's p is the probability of dropping.",
                fn=lambda x, p, mask: x * mask / p),
        Mistake("mask is 1.0 for the units to keep: multiply by mask, not by 1 - mask.",
                fn=lambda x, p, mask: x * (1 - mask) / (1 - p)),
        Mistake("with p = 1 every unit is dropped: return zeros (dividing by 1 - p = 0 gives nan).",
                test=lambda args, expected, got: args["p"] >= 1.0 and torch.isnan(torch.as_tensor(got)).any()),
    ),
    hint="output = x * mask / (1 - p): dropped units are 0, kept ones are scaled up by 1 / (1 - p).",
))


def _dropout(x, p, training, generator=None):
    if not training or p == 0.0:
        return x
    if p >= 1.0:
        return torch.zeros_like(x)
    mask = (torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p).to(x.dtype)
    return x * mask / (1.0 - p)


def _dropout_case(seed: int, p: float, training: bool, shape: tuple[int, int] = (200, 500)):
    def make() -> dict[str, Any]:
        return {"x": _rand(seed, *shape) + 0.5, "p": p, "training": training, "generator": _gen(seed + 1)}
    return make


def _verify_dropout(args: dict[str, Any], got: Any, rerun: Callable[[], Any]) -> Failure | None:
    x, p, training = args["x"], args["p"], args["training"]
    if got is None:
        return Failure("expected a tensor, got None (your function returned nothing)",
                       "did you forget the `return` line?")
    g = _to_tensor(got)
    if g is None or tuple(g.shape) != tuple(x.shape):
        return Failure(f"expected a tensor of x's shape {tuple(x.shape)}, got {_type_name(got)}")
    g = g.to(torch.float64)
    if not training:
        if torch.allclose(g, x, rtol=1e-6, atol=1e-9):
            return None
        if torch.allclose(g, x * (1 - p), rtol=1e-6, atol=1e-9):
            return Failure("expected x unchanged in eval mode, got x * (1 - p)",
                           "inverted dropout already scaled during training: in eval mode return x as it is.")
        return Failure("expected x unchanged in eval mode, got something else",
                       "in eval mode (training=False) dropout does nothing: return x.")
    dropped = g == 0
    rate = float(dropped.double().mean())
    kept = ~dropped
    if p >= 1.0:
        if bool(dropped.all()):
            return None
        return Failure(f"expected every unit dropped with p = 1, got {rate:.3f} dropped",
                       "with p = 1 return zeros (and never divide by 1 - p = 0).")
    if abs(rate - p) > 0.02:
        if p > 0 and abs(rate - (1 - p)) <= 0.02:
            hint = "p is the probability of *dropping* a unit: keep it where torch.rand(...) >= p."
        elif rate == 0.0:
            hint = "in training mode, drop each unit with probability p (draw a random mask)."
        else:
            hint = "drop each unit independently with probability p: mask = torch.rand(x.shape, generator=generator) >= p."
        return Failure(f"expected a fraction of about {p:.2f} of the units dropped, got {rate:.3f}", hint)
    scale = g[kept] / x[kept]
    if not torch.allclose(scale, torch.full_like(scale, 1.0 / (1.0 - p)), rtol=1e-5):
        s = float(scale.median())
        if abs(s - 1.0) < 1e-6:
            hint = "missing 1/(1 - p) scale: kept units must be scaled up by 1 / (1 - p) in training."
        elif abs(s - (1 - p)) < 1e-6:
            hint = "multiply the kept units by 1 / (1 - p), not by (1 - p)."
        elif p > 0 and abs(s - 1.0 / p) < 1e-6:
            hint = "divide by the keep probability 1 - p, not by p."
        else:
            hint = "a kept unit must come out as x / (1 - p)."
        return Failure(f"expected kept units scaled by {1 / (1 - p):.4g}, got a typical scale of {s:.4g}", hint)
    again = _to_tensor(rerun())
    if again is None or tuple(again.shape) != tuple(g.shape) or not torch.equal(again.to(torch.float64), g):
        return Failure("expected the same mask from two generators seeded alike, got two different masks",
                       "draw the random numbers from the generator passed in: "
                       "torch.rand(x.shape, generator=generator), so a seed gives the same mask every time.")
    return None


_register(Exercise(
    name="dropout_forward",
    notebook="06_dropout.ipynb",
    signature="def dropout_forward(x, p, training, generator=None):",
    instructions=("Inverted dropout in both modes. training=True: drop each entry with probability p, using "
                  "torch.rand(x.shape, generator=generator) for the random numbers, and scale the kept ones by "
                  "1 / (1 - p) (zeros if p = 1). training=False: return x unchanged."),
    reference=_dropout,
    cases=(
        Case("eval mode, p = 0.5", _dropout_case(111, 0.5, False, (6, 7))),
        Case("training, p = 0.3, 100,000 units", _dropout_case(112, 0.3, True), verify=_verify_dropout),
        Case("training, p = 0.8", _dropout_case(113, 0.8, True), verify=_verify_dropout),
        Case("training, p = 0", _dropout_case(114, 0.0, True, (5, 4))),
        Case("training, p = 1", _dropout_case(115, 1.0, True, (3, 4)), verify=_verify_dropout),
    ),
    mistakes=(
        Mistake("in eval mode (training=False) dropout does nothing: return x unchanged.",
                test=lambda args, expected, got: not args["training"]),
        Mistake("with p = 0 nothing is dropped: return x (scale 1 / (1 - 0) = 1).",
                test=lambda args, expected, got: args["p"] == 0.0),
    ),
    hint="training: mask = torch.rand(x.shape, generator=generator) >= p; return x * mask / (1 - p). "
         "Eval: return x.",
))


# =========================================================================== 07 batch norm


def _batchnorm_forward_train(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=0)
    var = x.var(dim=0, unbiased=False)
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta


def _bn_case(seed: int, n: int, c: int, eps: float = 1e-5, constant_feature: bool = False):
    def make() -> dict[str, Any]:
        x = _randn(seed, n, c, scale=3.0) + 2.0
        if constant_feature:
            x[:, 0] = 1.5
        return {"x": x, "gamma": _rand(seed + 1, c) + 0.5, "beta": _randn(seed + 2, c), "eps": eps}
    return make


_register(Exercise(
    name="batchnorm_forward_train",
    notebook="07_batch_norm.ipynb",
    signature="def batchnorm_forward_train(x, gamma, beta, eps=1e-5):",
    instructions=("Batch norm in training mode for x of shape (batch, features): per feature, the batch mean and "
                  "the biased variance (divide by batch, as BatchNorm1d does); x_hat = (x - mean) / sqrt(var + eps); "
                  "return gamma * x_hat + beta."),
    reference=_batchnorm_forward_train,
    cases=(
        Case("a batch of 8, 4 features", _bn_case(121, 8, 4)),
        Case("a batch of 2, the smallest", _bn_case(122, 2, 3)),
        Case("a feature that is constant over the batch", _bn_case(123, 6, 3, constant_feature=True)),
        Case("eps = 0.5, large enough to matter", _bn_case(124, 5, 4, eps=0.5)),
        Case("a square batch, 5 x 5", _bn_case(125, 5, 5)),
    ),
    mistakes=(
        Mistake("normalize with the *biased* batch variance (divide by N): x.var(dim=0, unbiased=False), as "
                "BatchNorm1d does in training; the unbiased one is only for the running estimate.",
                fn=lambda x, g, b, eps=1e-5: g * (x - x.mean(0)) / torch.sqrt(x.var(0) + eps) + b),
        Mistake("the statistics are per feature, over the batch: reduce over dim=0.",
                fn=lambda x, g, b, eps=1e-5: g * (x - x.mean(1, keepdim=True))
                / torch.sqrt(x.var(1, unbiased=False, keepdim=True) + eps) + b),
        Mistake("eps goes inside the square root: (x - mean) / sqrt(var + eps).",
                fn=lambda x, g, b, eps=1e-5: g * (x - x.mean(0)) / (x.var(0, unbiased=False).sqrt() + eps) + b),
        Mistake("add eps to the variance: it keeps a feature that is constant over the batch from dividing 0 by 0.",
                fn=lambda x, g, b, eps=1e-5: g * (x - x.mean(0)) / x.var(0, unbiased=False).sqrt() + b),
        Mistake("divide by the standard deviation sqrt(var + eps), not by the variance.",
                fn=lambda x, g, b, eps=1e-5: g * (x - x.mean(0)) / (x.var(0, unbiased=False) + eps) + b),
        Mistake("finish with the learnable scale and shift: gamma * x_hat + beta.",
                fn=lambda x, g, b, eps=1e-5: (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + eps)),
        Mistake("gamma scales and beta shifts: gamma * x_hat + beta, not beta * x_hat + gamma.",
                fn=lambda x, g, b, eps=1e-5: b * (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + eps) + g),
    ),
    hint="mean and var over dim 0 (biased), x_hat = (x - mean) / sqrt(var + eps), then gamma * x_hat + beta.",
))


def _update_running_stats(running_mean, running_var, x, momentum=0.1):
    mean = x.mean(dim=0)
    var = x.var(dim=0, unbiased=True)
    return (1 - momentum) * running_mean + momentum * mean, (1 - momentum) * running_var + momentum * var


def _rs_case(seed: int, n: int, c: int, momentum: float, fresh: bool = False):
    def make() -> dict[str, Any]:
        rm = torch.zeros(c, dtype=torch.float64) if fresh else _randn(seed, c)
        rv = torch.ones(c, dtype=torch.float64) if fresh else _rand(seed + 1, c) + 0.5
        return {"running_mean": rm, "running_var": rv, "x": _randn(seed + 2, n, c, scale=2.0) + 1.0,
                "momentum": momentum}
    return make


_register(Exercise(
    name="update_running_stats",
    notebook="07_batch_norm.ipynb",
    signature="def update_running_stats(running_mean, running_var, x, momentum=0.1):",
    instructions=("Update batch norm's running statistics with a batch x of shape (batch, features), as "
                  "BatchNorm1d does in training: new = (1 - momentum) * running + momentum * batch_stat, where the "
                  "batch variance is the UNBIASED one (divide by batch - 1). Return (new_mean, new_var)."),
    reference=_update_running_stats,
    cases=(
        Case("PyTorch's start, mean 0 and var 1, a batch of 8", _rs_case(131, 8, 4, 0.1, fresh=True)),
        Case("a batch of 2, where unbiased and biased differ by 2x", _rs_case(132, 2, 3, 0.1)),
        Case("momentum = 0.3", _rs_case(133, 6, 5, 0.3)),
        Case("momentum = 1: just the batch's statistics", _rs_case(134, 5, 3, 1.0)),
        Case("momentum = 0: nothing changes", _rs_case(135, 4, 3, 0.0)),
    ),
    outputs=("running_mean", "running_var"),
    mistakes=(
        Mistake("the running variance uses the *unbiased* batch variance (divide by batch - 1), as PyTorch does: "
                "x.var(dim=0) or var * n / (n - 1).",
                fn=lambda rm, rv, x, m=0.1: ((1 - m) * rm + m * x.mean(0), (1 - m) * rv + m * x.var(0, unbiased=False))),
        Mistake("PyTorch's momentum is the weight of the *new* batch: (1 - momentum) * running + momentum * batch "
                "(the opposite of an optimizer's momentum).",
                fn=lambda rm, rv, x, m=0.1: (m * rm + (1 - m) * x.mean(0), m * rv + (1 - m) * x.var(0))),
        Mistake("track the variance, not the standard deviation: use x.var(dim=0), not x.std(dim=0).",
                fn=lambda rm, rv, x, m=0.1: ((1 - m) * rm + m * x.mean(0), (1 - m) * rv + m * x.std(0))),
        Mistake("the statistics are per feature, over the batch: reduce over dim=0.",
                fn=lambda rm, rv, x, m=0.1: ((1 - m) * rm + m * x.mean(1).mean(), (1 - m) * rv + m * x.var(1).mean())),
        Mistake("update the running variance too, the same way as the mean.",
                fn=lambda rm, rv, x, m=0.1: ((1 - m) * rm + m * x.mean(0), rv)),
    ),
    hint="new_mean = (1 - momentum) * running_mean + momentum * x.mean(0); likewise the variance with x.var(0).",
))
