"""check under bad input and faults: it never hangs, never raises, never leaks state.

From the issue "Bad input and faults": an endless loop is stopped (per-case time
limit), sys.exit() is reported, grad mode and the default dtype are put back, the
verifier never sees inputs the learner changed in place, a function whose
parameters don't fit the exercise's is told so, and dtype problems are named.
Every loop that could hang is bounded: by ``timeout=`` and, for the main-thread
tests, by faulthandler killing the run after 60 s should the limit ever break.
"""
from __future__ import annotations

import ast
import faulthandler
import math
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import coursekit.exercises as exercises
from coursekit.exercises import EXERCISES, check, engine

PACKAGE = Path(exercises.__file__).resolve().parent
HAS_ALARM = hasattr(signal, "setitimer") and hasattr(signal, "SIGALRM")


@pytest.fixture
def bounded():
    """Kill the test run (with tracebacks) if a test here hangs for a minute."""
    faulthandler.dump_traceback_later(60, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def _relu_grad(z):
    return (z > 0).to(z.dtype)


# ----------------------------------------------------------------------- time limit


def test_an_endless_loop_is_stopped_with_one_line_naming_the_case_and_the_limit(bounded, capsys):
    def relu_grad(z):
        while True:
            pass

    result = check("relu_grad", relu_grad, timeout=0.5)  # `while True` ends only by the limit (or `bounded`)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "Traceback" not in out
    assert not result and result.status == "timeout"
    assert out.startswith("✗ relu_grad: stopped at case 1 of 4 (z = [-2, -0.5, 0, 0.5, 2], zero included): ")
    assert "did not return within 0.5 s" in out and "in relu_grad, line" in out and "`while True:`" in out
    assert "a loop that never ends" in result.hint and "timeout=" in result.hint


def test_an_endless_loop_that_catches_exception_is_stopped_too(bounded):
    def relu_grad(z):
        while True:
            try:
                z = z + 0
            except Exception:  # the stop is a BaseException: this does not swallow it
                pass

    result = check("relu_grad", relu_grad, quiet=True, timeout=0.5)
    assert result.status == "timeout" and "within 0.5 s" in result.message


def test_after_one_timeout_check_stops_and_runs_no_further_case(bounded):
    calls = []

    def relu_grad(z):
        calls.append(1)
        if len(calls) == 2:
            while True:
                pass
        return _relu_grad(z)

    result = check("relu_grad", relu_grad, quiet=True, timeout=0.5)
    assert result.status == "timeout" and "stopped at case 2 of 4" in result.message
    assert len(calls) == 2 and result.cases_passed == 1 and result.cases_total == 4


def test_a_function_that_swallows_the_stop_and_returns_is_still_reported(bounded):
    def relu_grad(z):
        try:
            while True:
                pass
        except BaseException:
            return _relu_grad(z)

    result = check("relu_grad", relu_grad, quiet=True, timeout=0.3)
    assert result.status == "timeout"


def test_an_exercise_without_a_limit_of_its_own_gets_the_module_setting(bounded, monkeypatch):
    assert EXERCISES["relu_grad"].timeout is None
    monkeypatch.setattr(engine, "TIMEOUT", 0.3)

    def relu_grad(z):
        while True:
            pass

    result = check("relu_grad", relu_grad, quiet=True)
    assert result.status == "timeout" and "within 0.3 s" in result.message


def test_a_correct_solution_passes_under_the_limit_and_with_no_limit():
    assert check("dropout_forward", EXERCISES["dropout_forward"].reference, quiet=True, timeout=5)
    assert check("relu_grad", _relu_grad, quiet=True, timeout=math.inf)


@pytest.mark.parametrize("timeout", [0, -1, "soon", float("nan"), True])
def test_a_bad_timeout_is_explained_not_raised(timeout):
    result = check("relu_grad", _relu_grad, quiet=True, timeout=timeout)
    assert result.status == "bad-call" and "timeout must be a number of seconds above 0" in result.message


@pytest.mark.skipif(not HAS_ALARM, reason="no SIGALRM on this platform")
def test_the_previous_alarm_handler_and_timer_are_put_back(bounded):
    fired = []

    def theirs(signum, frame):
        fired.append(signum)

    previous = signal.signal(signal.SIGALRM, theirs)
    try:
        signal.setitimer(signal.ITIMER_REAL, 100.0)

        def relu_grad(z):
            while True:
                pass

        assert check("relu_grad", relu_grad, quiet=True, timeout=0.3).status == "timeout"
        assert check("relu_grad", _relu_grad, quiet=True, timeout=0.3)
        assert signal.getsignal(signal.SIGALRM) is theirs
        delay, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 90 < delay <= 100  # their timer runs on, less the time check took
        assert fired == []
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_ctrl_c_still_interrupts_check_and_leaves_no_timer_behind(bounded):
    before = signal.getsignal(signal.SIGALRM) if HAS_ALARM else None

    def relu_grad(z):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        check("relu_grad", relu_grad, quiet=True, timeout=1)
    if HAS_ALARM:
        assert signal.getsignal(signal.SIGALRM) is before
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def _in_a_thread(fn, **kwargs):
    box = {}
    thread = threading.Thread(target=lambda: box.update(result=check("relu_grad", fn, quiet=True, **kwargs)),
                              daemon=True)
    thread.start()
    thread.join(15)
    assert not thread.is_alive(), "check hung outside the main thread"
    return box["result"]


def test_outside_the_main_thread_the_limit_is_enforced_by_tracing():
    # Loops bounded by the clock too, so a broken fallback fails instead of spinning for ever:
    # after 10 s they return the right answer, which would pass if the limit did not stop them.
    def relu_grad(z):
        end = time.monotonic() + 10
        while time.monotonic() < end:
            pass
        return _relu_grad(z)

    def relu_grad_catching(z):
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                z = z + 0
            except Exception:
                pass
        return _relu_grad(z)

    for fn in (relu_grad, relu_grad_catching):
        result = _in_a_thread(fn, timeout=0.5)
        assert result.status == "timeout" and "within 0.5 s" in result.message, result.message
    result = _in_a_thread(_relu_grad, timeout=2)
    assert result.passed


# ---------------------------------------------------------------------- sys.exit


@pytest.mark.parametrize("code, shown", [(1, "SystemExit: 1"), (None, "SystemExit)"), ("bye", "SystemExit: 'bye'")])
def test_sys_exit_is_reported_in_one_line_not_raised(code, shown, capsys):
    def relu_grad(z):
        sys.exit(code)

    result = check("relu_grad", relu_grad)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and not result and result.status == "error"
    assert f"your function tried to exit Python ({shown}" in out and "in relu_grad, line" in out
    assert "sys.exit()" in result.hint


# ------------------------------------------------------------------ global state


def test_grad_mode_and_default_dtype_are_put_back_after_check():
    def relu_grad(z):
        torch.set_grad_enabled(False)
        torch.set_default_dtype(torch.float64)
        return (z > 0).to(z.dtype)

    try:
        assert check("relu_grad", relu_grad, quiet=True)
        assert torch.is_grad_enabled() and torch.get_default_dtype() == torch.float32
        with torch.no_grad():  # put back as it was, not forced on
            check("relu_grad", relu_grad, quiet=True)
            assert not torch.is_grad_enabled()
    finally:
        torch.set_grad_enabled(True)
        torch.set_default_dtype(torch.float32)


def test_no_case_sees_what_an_earlier_case_changed():
    seen = []

    def relu_grad(z):
        seen.append((torch.is_grad_enabled(), torch.get_default_dtype(), float(torch.rand(()))))
        torch.set_grad_enabled(False)
        torch.set_default_dtype(torch.float64)
        torch.rand(100)  # and moves the global generator on
        return (z > 0).to(z.dtype)

    try:
        assert check("relu_grad", relu_grad, quiet=True)
    finally:
        torch.set_grad_enabled(True)
        torch.set_default_dtype(torch.float32)
    assert len(seen) == 4 and len(set(seen)) == 1 and seen[0][:2] == (True, torch.float32)


def test_the_global_rng_is_still_caught_though_each_case_starts_from_the_same_state():
    def dropout_forward(x, p, training, generator=None):
        if not training:
            return x
        return x * (torch.rand(x.shape, dtype=x.dtype) >= p) / (1 - p)

    result = check("dropout_forward", dropout_forward, quiet=True)
    assert "draw the random numbers from the generator" in result.hint


# --------------------------------------------------------------- in-place inputs


def test_a_correct_in_place_dropout_passes():
    # Before: the verifier read the x the learner had scaled in place and said "missing 1/(1 - p) scale".
    def dropout_forward(x, p, training, generator=None):
        if not training:
            return x
        x.mul_((torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p).to(x.dtype))
        if p < 1:
            x.div_(1 - p)
        return x

    result = check("dropout_forward", dropout_forward, quiet=True)
    assert result.passed, result.message


@pytest.mark.parametrize("name, fn", [
    ("inverted_dropout", lambda x, p, mask: x.mul_(mask).div_(1 - p) if p < 1 else x.zero_()),
    ("batchnorm_forward_train", lambda x, g, b, eps=1e-5: x.sub_(x.mean(0)).div_((x.var(0, unbiased=False) + eps)
                                                                                  .sqrt()).mul_(g).add_(b)),
    ("update_running_stats", lambda rm, rv, x, m=0.1: (rm.mul_(1 - m).add_(m * x.mean(0)),
                                                       rv.mul_(1 - m).add_(m * x.var(0)))),
    ("momentum_step", lambda th, b, g, lr, mu: (th.sub_(lr * b.mul_(mu).add_(g)), b)),
])
def test_correct_in_place_solutions_pass_everywhere(name, fn):
    assert check(name, fn, quiet=True).passed


# --------------------------------------------------------------------- signatures


def _adam(theta, m, v, grad, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    return theta - lr * (m / (1 - beta1 ** t)) / ((v / (1 - beta2 ** t)).sqrt() + eps), m, v


def test_parameters_in_another_order_are_named_with_both_signatures(capsys):
    def adam_step(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        return _adam(theta, m, v, g, t, lr, beta1, beta2, eps)

    result = check("adam_step", adam_step)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and not result and result.status == "bad-signature"
    assert "your adam_step(theta, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08) takes its arguments " \
           "in a different order from the exercise's adam_step(theta, m, v, grad, t, lr=1e-3, beta1=0.9, " \
           "beta2=0.999, eps=1e-8)" in out
    assert "your m gets the exercise's v, your v gets the exercise's grad" in out
    assert "expected" not in out and "rename" in result.hint


def test_renamed_parameters_in_the_same_positions_pass():
    def adam_step(params, m1, m2, g, step, lr=1e-3, b1=0.9, b2=0.999, e=1e-8):
        return _adam(params, m1, m2, g, step, lr, b1, b2, e)

    assert check("adam_step", adam_step, quiet=True).passed
    assert check("relu_grad", lambda x: (x > 0).to(x.dtype), quiet=True).passed
    assert check("relu_grad", lambda z, slope=0.0: (z > 0).to(z.dtype), quiet=True).passed  # an extra optional one


def test_renamed_parameters_with_a_wrong_formula_get_the_usual_hint():
    def adam_step(theta, m, v, g, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        return theta - lr * m / (v.sqrt() + eps), m, v

    result = check("adam_step", adam_step, quiet=True)
    assert result.status == "wrong" and "bias correction missing" in result.hint


@pytest.mark.parametrize("name, fn, text", [
    ("adam_step", lambda theta, m, v, grad, t: theta,
     "your adam_step(theta, m, v, grad, t) takes 5 arguments, but the exercise's adam_step(theta, m, v, grad, t, "
     "lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8) has 9, and check passes all 9"),
    ("relu_grad", lambda z, slope: z, "your relu_grad(z, slope) needs 2 arguments, but the exercise's relu_grad(z) "
                                      "has only 1"),
    ("relu_grad", lambda z, *, slope: z, "your relu_grad(z, *, slope) needs the keyword argument slope, which the "
                                         "exercise's relu_grad(z) does not have"),
])
def test_a_different_number_of_parameters_is_reported_before_any_call(name, fn, text):
    result = check(name, fn, quiet=True)
    assert result.status == "bad-signature" and text in result.message, result.message
    assert result.message.count("\n") == 0


def test_functions_without_a_python_signature_are_still_checked():
    assert check("relu_grad", torch.relu, quiet=True).status == "wrong"
    assert check("adam_step", lambda *args: args[0], quiet=True).status == "wrong"


# -------------------------------------------------------------------------- dtypes


def _sd(z):
    s = torch.sigmoid(z)
    return s * (1 - s)


@pytest.mark.parametrize("fn, text", [
    (lambda z: _sd(z) + 0j, "expected real numbers, got a complex tensor of shape (1,) (dtype torch.complex128)"),
    (lambda z: _sd(z).numpy() + 0j, "got a complex NumPy array of shape (1,) (dtype complex128)"),
    (lambda z: _sd(z).long(), "has an integer dtype (torch.int64), which cannot hold the answer's fractions"),
    (lambda z: _sd(z).half(), "your result has dtype torch.float16"),
])
def test_dtype_problems_name_the_dtype(fn, text):
    result = check("sigmoid_derivative", fn, quiet=True)
    assert not result and text in result.message, result.message


def test_an_int_where_a_float_is_expected_is_named():
    result = check("xavier_uniform_bound", lambda fi, fo, gain=1.0: int(gain * math.sqrt(6 / (fi + fo))), quiet=True)
    assert "your result is a Python int" in result.message and "floating point" in result.hint


def test_a_float_where_an_int_is_expected_and_bools_still_pass():
    assert check("count_dead_units", lambda acts: float((acts == 0).all(dim=0).sum()), quiet=True)
    assert check("relu_grad", lambda z: z > 0, quiet=True)
    result = check("relu_grad", lambda z: np.asarray(z > 0), quiet=True)  # bools are fine, an array is not a tensor
    assert "expected a torch.Tensor, got a NumPy array (the values are right)" in result.message


# ----------------------------------------------------------------- the package


def test_the_package_is_an_engine_plus_one_spec_module_per_notebook():
    specs = sorted(p.stem for p in PACKAGE.glob("nb0*_*.py"))
    assert specs == ["nb01_vanishing_gradients", "nb02_relu", "nb03_optimizers", "nb04_initialization",
                     "nb05_rbm", "nb06_dropout", "nb07_batch_norm", "nb08_putting_it_together"]
    for name, ex in EXERCISES.items():
        module = ex.reference.__module__.rsplit(".", 1)[-1]
        assert module in specs and ex.notebook.startswith(module[2:4] + "_"), (name, module, ex.notebook)
    # course order: the notebooks' order, each notebook's exercises in the order they are posed
    assert [ex.notebook for ex in EXERCISES.values()] == sorted(ex.notebook for ex in EXERCISES.values())
    for path in PACKAGE.glob("*.py"):
        source = path.read_text()
        assert len(source.splitlines()) < 600, f"{path.name} is getting long: split it"
        if not path.stem.startswith("nb"):
            assert "_register(Exercise(" not in source, f"{path.name} holds an exercise"
        for node in ast.walk(ast.parse(source)):  # sibling imports at the top only
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    assert not (isinstance(inner, ast.ImportFrom) and inner.level > 0), \
                        f"{path.name}: function-local import in {node.name}"


# ------------------------------------------------------------- check never raises


def test_a_sparse_answer_is_compared_by_its_values():
    assert check("relu_grad", lambda z: (z > 0).to(z.dtype).to_sparse(), quiet=True)


def test_a_failure_inside_check_itself_is_still_one_line_not_a_traceback(monkeypatch, capsys):
    def broken(*args):
        raise RuntimeError("an answer check did not foresee\nsecond line")

    monkeypatch.setattr(engine, "_compare", broken)
    result = check("relu_grad", _relu_grad)
    out = capsys.readouterr().out
    assert result.status == "error" and out.count("\n") == 1
    assert "check could not handle your function's answer (RuntimeError: an answer check did not foresee)" in out
