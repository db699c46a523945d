"""What :func:`coursekit.exercises.check` puts around each call of a learner's function.

- a time limit (:func:`call_with_limit`), so a loop that never ends stops with a
  message instead of hanging the notebook;
- the global state a function may change, saved and put back
  (:class:`GlobalState`): the random states of Python, NumPy and PyTorch, grad
  mode and the default dtype;
- the learner's parameters compared with the exercise's ``def`` line
  (:func:`count_problem`, :func:`order_problem`), so a function that takes its
  arguments in another order is told so instead of getting a wrong number.

How the time limit is enforced: in the main thread of a platform with SIGALRM
(Linux, macOS: every notebook kernel there), by ``signal.setitimer(ITIMER_REAL)``;
the alarm raises :class:`Timeout` inside the learner's code, again every
``REPEAT`` seconds until the call ends, and the previous SIGALRM handler and
timer are put back afterwards. Elsewhere (Windows, or a thread other than the
main one) by ``sys.settrace``, best effort: it stops Python code, not a single
long call into C (a huge matrix product, ``time.sleep``), and it is skipped while
a debugger or coverage tool is tracing. :class:`Timeout` derives from
BaseException, so a learner's ``except Exception:`` does not swallow it; a bare
``except:`` inside a loop that never ends can, and only Ctrl-C stops that.
"""
from __future__ import annotations

import ast
import inspect
import math
import random
import signal
import sys
import threading
import time
from typing import Any, Callable

import numpy as np
import torch

from .._i18n import _, ngettext

REPEAT = 0.1  # seconds between further alarms while the learner's code keeps running


class Timeout(BaseException):
    """The learner's function ran past the time limit (a BaseException: ``except Exception`` won't catch it)."""


# --------------------------------------------------------------------------- the time limit


def call_with_limit(fn: Callable[..., Any], args: tuple[Any, ...], seconds: float | None) -> Any:
    """``fn(*args)``, stopped with :class:`Timeout` once it has run ``seconds`` (None: no limit).

    Raises Timeout also when the function swallowed the stop and returned, or raised
    something else, after the limit. KeyboardInterrupt passes through untouched.
    """
    if seconds is None or not math.isfinite(seconds):
        return fn(*args)
    if _alarm_available():
        return _call_with_alarm(fn, args, seconds)
    return _call_with_trace(fn, args, seconds)


def _alarm_available() -> bool:
    return (hasattr(signal, "setitimer") and hasattr(signal, "SIGALRM")
            and threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGALRM) is not None)  # None: a handler set outside Python


class _Alarm:
    def __init__(self) -> None:
        self.active = True
        self.expired = False

    def __call__(self, signum: int, frame: Any) -> None:
        self.expired = True
        # Never raise inside this module's own frames: there the call has already
        # ended and the timer is being taken down.
        if self.active and (frame is None or frame.f_globals is not globals()):
            raise Timeout()


def _call_with_alarm(fn: Callable[..., Any], args: tuple[Any, ...], seconds: float) -> Any:
    alarm = _Alarm()
    previous_handler = signal.signal(signal.SIGALRM, alarm)
    previous_timer = signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-6), REPEAT)
    started = time.monotonic()
    try:
        try:
            value = fn(*args)
        finally:
            alarm.active = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous_handler)
            delay, interval = previous_timer
            if delay > 0:  # someone else's timer was running: give it its remaining time back
                signal.setitimer(signal.ITIMER_REAL, max(delay - (time.monotonic() - started), 1e-6), interval)
    except (Timeout, KeyboardInterrupt):
        raise
    except BaseException as err:
        if alarm.expired:
            raise Timeout() from err
        raise
    if alarm.expired:
        raise Timeout()
    return value


def _call_with_trace(fn: Callable[..., Any], args: tuple[Any, ...], seconds: float) -> Any:
    if sys.gettrace() is not None:  # a debugger or coverage is tracing: leave it alone, no limit
        return fn(*args)
    deadline = time.monotonic() + seconds
    expired = False

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        nonlocal expired
        if time.monotonic() > deadline:
            expired = True
            raise Timeout()
        return tracer

    sys.settrace(tracer)
    try:
        try:
            value = fn(*args)
        finally:
            sys.settrace(None)
    except (Timeout, KeyboardInterrupt):
        raise
    except BaseException as err:
        if expired:
            raise Timeout() from err
        raise
    if expired:
        raise Timeout()
    return value


# --------------------------------------------------------------------------- global state


class GlobalState:
    """A snapshot of the global state a learner's function might change; :meth:`restore` puts it back.

    The random states of ``random``, NumPy and PyTorch (CPU, and CUDA when it is in
    use), grad mode (``torch.set_grad_enabled``) and the default dtype
    (``torch.set_default_dtype``). Also a context manager: restores on exit.
    """

    def __init__(self) -> None:
        self.python = random.getstate()
        self.numpy = np.random.get_state()
        self.torch = torch.random.get_rng_state()
        self.cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
        self.grad_enabled = torch.is_grad_enabled()
        self.default_dtype = torch.get_default_dtype()

    def restore_modes(self) -> None:
        """Put back grad mode and the default dtype (not the random states)."""
        if torch.is_grad_enabled() != self.grad_enabled:
            torch.set_grad_enabled(self.grad_enabled)
        if torch.get_default_dtype() != self.default_dtype:
            torch.set_default_dtype(self.default_dtype)

    def restore(self) -> None:
        """Put back everything: the random states, grad mode and the default dtype."""
        random.setstate(self.python)
        np.random.set_state(self.numpy)
        torch.random.set_rng_state(self.torch)
        if self.cuda is not None:
            torch.cuda.set_rng_state_all(self.cuda)
        self.restore_modes()

    def __enter__(self) -> GlobalState:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.restore()


# --------------------------------------------------------------------------- signatures


def exercise_parameters(signature: str) -> tuple[tuple[str, str | None], ...]:
    """The positional parameters of an exercise's ``def`` line: (name, default as written or None)."""
    source = signature.strip() + "\n    pass\n"
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef), signature
    params = [*node.args.posonlyargs, *node.args.args]
    defaults: list[str | None] = [None] * (len(params) - len(node.args.defaults))
    defaults += [ast.get_source_segment(source, d) for d in node.args.defaults]
    return tuple((p.arg, d) for p, d in zip(params, defaults))


def exercise_call(name: str, signature: str) -> str:
    """``adam_step(theta, m, v, grad, t, lr=1e-3, ...)``: the exercise's parameters, no annotations."""
    parts = [n if d is None else f"{n}={d}" for n, d in exercise_parameters(signature)]
    return f"{name}({', '.join(parts)})"


def learner_signature(fn: Any) -> inspect.Signature | None:
    """The learner's signature, or None where Python can't tell (some builtins)."""
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def learner_call(name: str, sig: inspect.Signature) -> str:
    """``adam_step(theta, g, m, ...)``: the learner's parameters, annotations left out."""
    plain = sig.replace(parameters=[p.replace(annotation=p.empty) for p in sig.parameters.values()],
                        return_annotation=sig.empty)
    return f"{name}{plain}"


_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _positional_names(sig: inspect.Signature) -> list[str]:
    return [p.name for p in sig.parameters.values() if p.kind in _POSITIONAL]


def count_problem(name: str, signature: str, sig: inspect.Signature) -> str | None:
    """Why the learner's function can't be called with the exercise's arguments, or None if it can.

    check passes every parameter of the exercise's ``def`` line, positionally.
    """
    n = len(exercise_parameters(signature))
    params = list(sig.parameters.values())
    positional = [p for p in params if p.kind in _POSITIONAL]
    takes_more = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params)
    required = [p for p in positional if p.default is p.empty]
    keyword_only = [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is p.empty]
    yours, theirs = learner_call(name, sig), exercise_call(name, signature)
    if len(positional) < n and not takes_more:
        return ngettext("your {yours} takes {k} argument, but the exercise's {theirs} has {n}, and check passes all {n}",
                        "your {yours} takes {k} arguments, but the exercise's {theirs} has {n}, and check passes all "
                        "{n}", len(positional)).format(yours=yours, k=len(positional), theirs=theirs, n=n)
    if len(required) > n:
        return ngettext("your {yours} needs {k} argument, but the exercise's {theirs} has only {n}",
                        "your {yours} needs {k} arguments, but the exercise's {theirs} has only {n}",
                        len(required)).format(yours=yours, k=len(required), theirs=theirs, n=n)
    if keyword_only:
        return ngettext("your {yours} needs the keyword argument {names}, which the exercise's {theirs} does not have",
                        "your {yours} needs the keyword arguments {names}, which the exercise's {theirs} does not "
                        "have", len(keyword_only)).format(yours=yours, names=", ".join(keyword_only), theirs=theirs)
    return None


def order_problem(name: str, signature: str, sig: inspect.Signature) -> str | None:
    """A description when the learner's parameters use the exercise's names in other positions, else None.

    Only names decide, compared position by position: a parameter renamed in its
    own position (``grad`` written ``g``) is fine; a name of the exercise's that
    sits at another position means the arguments arrive in an order the learner
    did not expect.
    """
    expected = [n for n, _ in exercise_parameters(signature)]
    mine = _positional_names(sig)[:len(expected)]
    moved = [(m, e) for m, e in zip(mine, expected) if m != e and m in expected]
    if not moved:
        return None
    gets = ", ".join(_("your {mine} gets the exercise's {theirs}").format(mine=m, theirs=e) for m, e in moved)
    return _("your {yours} takes its arguments in a different order from the exercise's {theirs}; check passes "
             "them in the exercise's order, so {gets}").format(yours=learner_call(name, sig),
                                                                theirs=exercise_call(name, signature), gets=gets)
