"""The pieces of an exercise and of a check's result: :class:`Exercise`, :class:`Case`,
:class:`Mistake`, :class:`Failure`, :class:`CheckResult` (re-exported by
:mod:`coursekit.exercises`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .._i18n import N_


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
            reference; ``args`` are made by ``make`` for the verifier alone (not
            the ones the learner's function got, which it may have changed in
            place); ``rerun()`` calls the learner's function again on fresh
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
        timeout: seconds each call of the learner's function may take, for an
            exercise whose solution does real work, with the reason beside it
            (None: the engine's ``TIMEOUT``).
    """

    name: str
    notebook: str
    signature: str
    instructions: str
    reference: Callable[..., Any]
    cases: tuple[Case, ...]
    outputs: tuple[str, ...] = ("result",)
    mistakes: tuple[Mistake, ...] = ()
    hint: str = N_("compare your formula with the one in the text above, term by term.")
    error_hint: str | None = None
    rtol: float | None = None
    atol: float | None = None
    timeout: float | None = None


@dataclass
class CheckResult:
    """What :func:`check` found. True (in ``if``/``assert``) exactly when every case matched.

    Attributes:
        name: the exercise.
        passed: every case matched.
        status: "pass", "wrong" (a case differs), "error" (the function raised, or
            called sys.exit), "not-implemented" (it raised NotImplementedError),
            "timeout" (a case ran past the time limit; check stopped there),
            "bad-signature" (its parameters don't fit the exercise's: too few, too
            many, or the exercise's names in other positions) or "bad-call" (check
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
