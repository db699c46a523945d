"""Exercises with automatic checks: write a small function, find out at once whether it is right.

Each topic notebook (01-08) has two or more exercises at the point where the idea
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
It never shows the reference code either. A function that runs for more than a
few seconds on one case (a loop that never ends) is stopped, and the line says
where; ``check(..., timeout=30)`` gives a slow one more time. Parameters in
another order than the exercise's ``def`` line are pointed out (renaming them is
fine), and your function may change its inputs in place. A check also leaves the
random state of Python, NumPy and PyTorch, grad mode and the default dtype as it
found them, so adding a check changes no later number in a notebook.

:func:`check` returns a :class:`CheckResult`, true when every case matched, so a
notebook can also write ``assert ck.exercises.check(...)``.

The registry :data:`EXERCISES` maps each name to an :class:`Exercise`: its
signature, instructions, notebook, reference solution, cases and the known wrong
answers with their hints. ``list_exercises()`` and ``describe(name)`` show them.
The student editions (``make student``, ``tools/make_student.py``) use the
instructions as the message of the stub that replaces each solution.

(The reference solutions are in this package's spec modules, one per notebook,
``nb01_vanishing_gradients.py`` to ``nb08_putting_it_together.py``, so yes: reading their
source spoils every exercise. Try first.)

Introduced in ``notebooks/01_vanishing_gradients.ipynb``; every topic notebook uses it.
"""
from __future__ import annotations

# The spec modules register their exercises in EXERCISES when imported; importing
# them in course order keeps EXERCISES (and list_exercises()) in course order.
from . import (  # noqa: F401  (imported for their registrations)
    nb01_vanishing_gradients,
    nb02_relu,
    nb03_optimizers,
    nb04_initialization,
    nb05_rbm,
    nb06_dropout,
    nb07_batch_norm,
    nb08_putting_it_together,
)
from .engine import EXERCISES, check, describe, list_exercises
from .pieces import Case, CheckResult, Exercise, Failure, Mistake

__all__ = [
    "check", "CheckResult", "Exercise", "Case", "Mistake", "Failure",
    "EXERCISES", "list_exercises", "describe",
]
