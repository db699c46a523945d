"""The checking engine of :mod:`coursekit.exercises`: running a learner's function on an
exercise's cases, finding the hint for a wrong answer, and the registry.

No exercise lives here: each notebook's exercises are in its spec module
(``nb01_vanishing_gradients.py`` ... ``nb08_putting_it_together.py``), which calls
:func:`_register` once per exercise. The helpers for writing cases (``_gen``,
``_randn``, ``_rand``, ``_binary``, ``_t``) are here so every spec module shares them.
Beside it: ``pieces.py`` (the dataclasses), ``compare.py`` (an answer against the
reference, in words) and ``guards.py`` (time limit, global state, signatures).
"""
from __future__ import annotations

import difflib
import linecache
import traceback
from pathlib import Path
from typing import Any, Sequence

import torch

from .._i18n import N_, _
from .compare import _compare
from .guards import GlobalState, Timeout, call_with_limit, count_problem, learner_signature, order_problem
from .pieces import Case, CheckResult, Exercise, Failure

PASS_MARK = "✓"
FAIL_MARK = "✗"
NOT_IMPLEMENTED = N_("not implemented yet: fill in the cell above")

TIMEOUT = 5.0
"""Seconds each case may take before check stops the learner's function, unless the exercise sets its own
limit (``Exercise.timeout``) or the call does (``check(..., timeout=)``)."""

TIMEOUT_HINT = N_("look for a loop that never ends: a `while` whose condition never becomes false (is what it tests "
                "changed inside the loop?); if your function is only slow, check(..., timeout=30) allows more time.")
EXIT_HINT = N_("return the answer instead of calling sys.exit() or exit(): they stop the whole program (or the "
             "notebook's cell), not just your function.")
SIGNATURE_HINT = N_("keep the parameters of the exercise's def line, in its order: you may rename them, "
                  "but not reorder, add or drop them.")


# --------------------------------------------------------------------------- check


def check(name: str, fn: Any, *, quiet: bool = False, timeout: float | None = None) -> CheckResult:
    """Run the learner's ``fn`` on exercise ``name``'s cases and print one line.

    Args:
        name: the exercise, e.g. "adam_step" (see :func:`list_exercises`).
        fn: the learner's function (the function itself, not a call to it).
        quiet: don't print; just return the result.
        timeout: seconds each case may run: the exercise's own limit if it sets
            one, else :data:`TIMEOUT`; ``math.inf``: no limit. A case that runs
            longer is stopped, and check reports it and runs no further case.

    Returns:
        A :class:`CheckResult`; ``bool(result)`` is ``result.passed``.

    What it does, case by case (:func:`_run`): make the case's inputs, call
    ``fn`` on them, compare the answer with the reference's (:mod:`.compare`),
    and keep the first failure for the line, with the hint of the likeliest
    mistake. The learner's function gets fresh inputs for every call, so
    changing them in place is fine.

    Around each call, two guards (:mod:`coursekit.exercises.guards`):

    - a time limit. In your own notebook, Jupyter's Interrupt button would stop
      a loop that never ends too; the limit is there for the grader
      (:func:`coursekit.grading.grade` runs this same check unattended, as does
      CI), where nobody presses it, and it also tells you where the loop was;
    - Python's, NumPy's and PyTorch's random states, grad mode and the default
      dtype, put back before every case and afterwards.

    Never raises because of the learner's code: exceptions from ``fn`` (including
    ``NotImplementedError`` from a student edition's stub, and ``SystemExit`` from
    ``sys.exit()``) are reported in the line; only Ctrl-C (KeyboardInterrupt)
    gets through.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """
    ex = _lookup(name)
    own = ex.timeout if ex is not None and ex.timeout is not None else TIMEOUT
    limit = own if timeout is None else timeout
    with GlobalState():
        if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not limit > 0:
            result = CheckResult(str(name), False, "bad-call", _(
                "{mark} check: timeout must be a number of seconds above 0; got {timeout}").format(
                    mark=FAIL_MARK, timeout=repr(timeout)))
        else:
            try:
                result = _run(name, fn, float(limit))
            except Exception as err:  # a bug of check's own, with an answer it did not foresee: still one line
                text = (str(err).strip().splitlines() or [""])[0][:160]
                result = CheckResult(str(name), False, "error", _(
                    "{mark} {name}: check could not handle your function's answer ({error}: {text}); "
                    "please report this to the course.").format(mark=FAIL_MARK, name=name,
                                                                error=type(err).__name__, text=text))
    if not quiet:
        print(result.message)
        result._printed = True
    return result


def list_exercises(notebook: str | None = None) -> list[str]:
    """Names of the exercises, in course order; only one notebook's if ``notebook`` is
    given: its number ("03" or "3") or its file name ("03_optimizers.ipynb", "03_optimizers").

    Raises ValueError, naming the notebooks that have exercises, when ``notebook`` has none.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """
    if notebook is None:
        return list(EXERCISES)
    if not isinstance(notebook, str):
        raise TypeError(f"notebook must be a string such as '03'; got {type(notebook).__name__}")
    key = Path(notebook.strip()).name.removesuffix(".ipynb")
    if key.isdigit():
        key = f"{int(key):02d}"  # "3" is notebook 03
    names = [n for n, ex in EXERCISES.items()
             if ex.notebook.removesuffix(".ipynb") == key or ex.notebook.startswith(key + "_")]
    if not names:
        with_exercises = list(dict.fromkeys(ex.notebook for ex in EXERCISES.values()))
        raise ValueError(f"notebook must be one that has exercises, by number ('03') or file name; got "
                         f"{notebook!r}. The notebooks with exercises: {', '.join(with_exercises)}")
    return names


def describe(name: str) -> str:
    """The exercise's signature and instructions as text (no solution).

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """
    ex = _lookup(name)
    if ex is None:
        raise ValueError(_unknown_name_text(name))
    return _("{signature}\n    {instructions}\n(notebooks/{notebook}; check with ck.exercises.check({key}, {name}))"
             ).format(signature=ex.signature, instructions=_(ex.instructions), notebook=ex.notebook,
                      key=repr(name), name=name)


# --------------------------------------------------------------------------- internals


def _lookup(name: Any) -> Exercise | None:
    return EXERCISES.get(name) if isinstance(name, str) else None


def _unknown_name_text(name: Any) -> str:
    close = difflib.get_close_matches(str(name), list(EXERCISES), n=1)
    if close:
        return _("there is no exercise called {name}; did you mean {close}?").format(name=repr(name),
                                                                                     close=repr(close[0]))
    return _("there is no exercise called {name}; the exercises are: {names}").format(
        name=repr(name), names=", ".join(EXERCISES))


def _run(name: Any, fn: Any, limit: float) -> CheckResult:
    ex = _lookup(name)
    if ex is None:
        return CheckResult(str(name), False, "bad-call", _("{mark} check: {problem}").format(
            mark=FAIL_MARK, problem=_unknown_name_text(name)))
    if not callable(fn):
        if fn is None:
            msg = _("{mark} {name}: check needs your function itself, got None; "
                    "write check({key}, {name}) without parentheses after {name}.")
        else:
            msg = _("{mark} {name}: check needs your function itself, got a {type}; "
                    "write check({key}, {name}) without parentheses after {name}.")
        msg = msg.format(mark=FAIL_MARK, name=ex.name, key=repr(ex.name), type=type(fn).__name__)
        return CheckResult(ex.name, False, "bad-call", msg, 0, len(ex.cases))

    total = len(ex.cases)
    sig = learner_signature(fn)
    problem = count_problem(ex.name, ex.signature, sig) if sig is not None else None
    if problem is not None:  # every call would raise TypeError: say why instead
        hint = _(SIGNATURE_HINT)
        return CheckResult(ex.name, False, "bad-signature", _("{mark} {name}: {problem}. Hint: {hint}").format(
            mark=FAIL_MARK, name=ex.name, problem=problem, hint=hint), 0, total, hint)

    state = GlobalState()  # put back before every case, so no case sees what an earlier one changed

    def call(case: Case) -> Any:  # the learner's function on fresh inputs: no one else sees what it changes
        try:
            return call_with_limit(fn, tuple(case.make().values()), limit)
        finally:
            state.restore_modes()

    outcomes: list[tuple[Any, Failure | None]] = []  # (learner's answer, failure) per case
    for index, case in enumerate(ex.cases):
        state.restore()
        try:
            got = call(case)
            if case.verify is None:
                failure = None
            else:  # the verifier gets inputs of its own, and may call the learner's function again
                failure = case.verify(case.make(), got, lambda case=case: call(case))
        except NotImplementedError:
            return CheckResult(ex.name, False, "not-implemented", _("{mark} {name}: {problem}.").format(
                mark=FAIL_MARK, name=ex.name, problem=_(NOT_IMPLEMENTED)), 0, total)
        except Timeout as err:  # stop here: the next case would most likely hang as well
            return _timeout_result(ex, index, sum(f is None for _, f in outcomes), limit, err)
        except SystemExit as err:
            outcomes.append((_RAISED, Failure(_describe_exit(err), _(EXIT_HINT))))
            continue
        except Exception as err:  # the learner's bug: report it in one line, keep going
            outcomes.append((_RAISED, Failure(_describe_exception(err, ex.name))))
            continue
        if case.verify is None:
            expected = ex.reference(*case.make().values())
            failure = _compare(expected, got, ex)
        outcomes.append((got, failure))

    passed = sum(f is None for _, f in outcomes)
    if passed == total:
        return CheckResult(ex.name, True, "pass", _("{mark} {name}: {total}/{total} cases match").format(
            mark=PASS_MARK, name=ex.name, total=total), total, total)
    problem = order_problem(ex.name, ex.signature, sig) if sig is not None else None
    if problem is not None:
        hint = _(SIGNATURE_HINT)
        return CheckResult(ex.name, False, "bad-signature", _(
            "{mark} {name}: {passed}/{total} cases match; {problem}. Hint: {hint}").format(
                mark=FAIL_MARK, name=ex.name, passed=passed, total=total, problem=problem, hint=hint),
            passed, total, hint)
    first = next(i for i, (_, f) in enumerate(outcomes) if f is not None)
    got, failure = outcomes[first]
    status = "error" if got is _RAISED else "wrong"
    if got is _RAISED:
        hint = failure.hint or ex.error_hint or ex.hint
    else:
        hint = failure.hint or _known_mistake(ex, first, outcomes) or ex.hint
    hint = _(hint)
    label = _(ex.cases[first].label)
    msg = _("{mark} {name}: {passed}/{total} cases match; case {case} ({label}): {failure}. Hint: {hint}").format(
        mark=FAIL_MARK, name=ex.name, passed=passed, total=total, case=first + 1, label=label,
        failure=failure.text, hint=hint)
    return CheckResult(ex.name, False, status, msg, passed, total, hint)


class _Raised:
    def __repr__(self) -> str:
        return "<raised>"


_RAISED = _Raised()


def _timeout_result(ex: Exercise, index: int, passed: int, limit: float, err: BaseException) -> CheckResult:
    total = len(ex.cases)
    where = _learner_line(err) or (_learner_line(err.__cause__) if err.__cause__ is not None else "")
    if where:
        msg = _("{mark} {name}: stopped at case {case} of {total} ({label}): your function did not return "
                "within {limit} s (stopped {where}). Hint: {hint}")
    else:
        msg = _("{mark} {name}: stopped at case {case} of {total} ({label}): your function did not return "
                "within {limit} s. Hint: {hint}")
    hint = _(TIMEOUT_HINT)
    msg = msg.format(mark=FAIL_MARK, name=ex.name, case=index + 1, total=total, label=_(ex.cases[index].label),
                     limit=f"{limit:g}", where=where, hint=hint)
    return CheckResult(ex.name, False, "timeout", msg, passed, total, hint)


def _describe_exit(err: SystemExit) -> str:
    code = "" if err.code is None else f": {err.code!r}"
    where = _learner_line(err)
    if where:
        return _("your function tried to exit Python (SystemExit{code}) ({where})").format(code=code, where=where)
    return _("your function tried to exit Python (SystemExit{code})").format(code=code)


def _describe_exception(err: BaseException, name: str) -> str:
    """One line: the exception, and the line of the learner's code that raised it."""
    first_line = (str(err).strip().splitlines() or [""])[0]
    if len(first_line) > 160:
        first_line = first_line[:157] + "..."
    error = type(err).__name__ + (f": {first_line}" if first_line else "")
    where = _learner_line(err)
    if where:
        return _("your function raised {error} ({where})").format(error=error, where=where)
    return _("your function raised {error}").format(error=error)


def _learner_line(err: BaseException) -> str:
    """``in f, line 3: `source``` for the last frame of the learner's own code in err's traceback, or ""."""
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
    if where is None:
        return ""
    source = (where.line or linecache.getline(where.filename, where.lineno)).strip()
    if source:
        return _("in {function}, line {line}: `{source}`").format(function=where.name, line=where.lineno,
                                                                  source=source)
    return _("in {function}, line {line}").format(function=where.name, line=where.lineno)


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
        for i, (got, _failure) in enumerate(outcomes):
            if got is _RAISED:
                continue
            with GlobalState():
                try:
                    wrong = mistake.fn(*ex.cases[i].make().values())
                except Exception:
                    continue
            matches = _compare(wrong, got, ex, types=False) is None
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

