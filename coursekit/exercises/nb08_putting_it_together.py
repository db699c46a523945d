"""Exercises of ``notebooks/08_putting_it_together.ipynb``: pick_best_rate, one_fix.

SPOILERS: the reference solutions. Each ``_register(Exercise(...))`` below is one
exercise (signature, instructions, reference, seeded cases, known mistakes with
their hints). ``one_fix`` is a small experiment the learner designs: its check
trains the broken recipe with the learner's change and with every other single
change, and compares (the measurement is the reference, not a formula).
"""
from __future__ import annotations

from typing import Any

from .. import data as ck_data
from .. import recipes
from .._i18n import N_, _
from .engine import _register
from .pieces import Case, Exercise, Failure, Mistake

# =========================================================================== 08 putting it together


def _pick_best_rate(results):
    means = {lr: sum(v) / len(v) for lr, v in results.items()}
    best = max(means.values())
    return min(lr for lr, m in means.items() if m == best)


def _rates_case(results: dict[float, list[float]]):
    return lambda: {"results": {lr: list(v) for lr, v in results.items()}}


_register(Exercise(
    name="pick_best_rate",
    notebook="08_putting_it_together.ipynb",
    signature="def pick_best_rate(results):",
    instructions=N_("results maps each learning rate to a list of validation accuracies, one per seed. Return the "
                  "rate with the highest MEAN accuracy over the seeds; on a tie, the smaller rate."),
    reference=_pick_best_rate,
    cases=(
        Case(N_("three rates, a clear winner"), _rates_case({0.001: [0.95, 0.96, 0.94], 0.01: [0.97, 0.97, 0.96],
                                                          0.03: [0.90, 0.86, 0.91]})),
        Case(N_("the best single seed is not the best mean"), _rates_case({0.001: [0.95, 0.95, 0.95],
                                                                       0.01: [0.99, 0.80, 0.85]})),
        Case(N_("a tie: the smaller rate"), _rates_case({0.03: [0.9, 0.8], 0.01: [0.8, 0.9], 0.1: [0.5, 0.5]})),
        Case(N_("the rates not in order"), _rates_case({0.1: [0.5, 0.6], 0.001: [0.7, 0.7], 0.01: [0.72, 0.71]})),
        Case(N_("a single rate"), _rates_case({0.003: [0.9, 0.91, 0.92]})),
        Case(N_("the last seed is not the mean"), _rates_case({0.001: [0.90, 0.90, 0.97], 0.01: [0.95, 0.95, 0.94]})),
    ),
    mistakes=(
        Mistake(N_("compare the *mean* over the seeds, not the best single seed: one lucky seed is not a finding."),
                fn=lambda results: max(results, key=lambda lr: max(results[lr]))),
        Mistake(N_("return the learning rate (a key of results), not its accuracy."),
                fn=lambda results: max(sum(v) / len(v) for v in results.values())),
        Mistake(N_("on a tie, return the smaller rate: sort the rates, or compare with > rather than >=."),
                fn=lambda results: max(sorted(results), key=lambda lr: (sum(results[lr]) / len(results[lr]), lr))),
        Mistake(N_("use every seed: the mean of the whole list, not only its last entry."),
                fn=lambda results: max(sorted(results), key=lambda lr: results[lr][-1])),
    ),
    hint=N_("mean = sum(accs) / len(accs) for each rate; keep the rate with the largest mean, the smaller rate on a tie."),
))


#: The broken start of notebook 08 and its budget; one_fix's check trains with these.
BROKEN = {"activation": "sigmoid", "init": "normal", "optimizer": "sgd", "batchnorm": False, "dropout": 0.0}
BUDGET = {"hidden": [128] * 6, "epochs": 10, "batch_size": 100, "seed": 0, "lrs": {"sgd": 0.1, "adam": 1e-3}}
#: The single changes the check compares a learner's fix with.
SINGLE_FIXES = ({"activation": "relu"}, {"init": "he"}, {"init": "pytorch_default"}, {"optimizer": "adam"},
                {"batchnorm": True}, {"dropout": 0.1})
FIX_MARGIN, PREDICTION_MARGIN = 0.05, 0.10


def _measure(change: dict) -> float:
    """Validation accuracy of BROKEN with one `change`, trained on notebook 08's budget (seed 0)."""
    b = BUDGET
    run = recipes.run({**BROKEN, **change}, ck_data.load("digits"), b["hidden"], epochs=b["epochs"],
                      batch_size=b["batch_size"], seed=b["seed"], lrs=b["lrs"])
    return float(run.val_acc)


def _one_fix():
    return {"batchnorm": True}, 0.86


def _shape_problem(got: Any) -> Failure | None:
    if not (isinstance(got, tuple) and len(got) == 2 and isinstance(got[0], dict)):
        return Failure(_("expected (change, predicted_accuracy), e.g. ({{'optimizer': 'adam'}}, 0.5); got {got}"
                         ).format(got=repr(got)),
                       _("return a tuple of two things: a dict with one entry, and a number."))
    return None


def _verify_valid_change(args: dict[str, Any], got: Any, rerun) -> Failure | None:
    problem = _shape_problem(got)
    if problem:
        return problem
    change, predicted = got
    if len(change) != 1:
        return Failure(_("expected a change of exactly one entry of the recipe; got {change}").format(
            change=repr(change)), _("one fix at a time: a dict with a single key, e.g. {'init': 'he'}."))
    try:
        recipes.check_recipe({**BROKEN, **change})
    except (TypeError, ValueError) as err:
        return Failure(_("expected a valid recipe change; {change} gives: {error}").format(change=repr(change),
                                                                                          error=err),
                       _("use a key and a value the recipes allow."))
    if isinstance(predicted, bool) or not isinstance(predicted, (int, float)) or not 0 <= predicted <= 1:
        return Failure(_("expected the prediction to be an accuracy between 0 and 1; got {predicted}").format(
            predicted=repr(predicted)), _("predict a validation accuracy such as 0.6."))
    return None


def _verify_changes_something(args: dict[str, Any], got: Any, rerun) -> Failure | None:
    problem = _verify_valid_change(args, got, rerun)
    if problem:
        return problem
    change = got[0]
    if change == {k: BROKEN[k] for k in change}:
        return Failure(_("expected a value other than the broken start's; {change} changes nothing").format(
            change=repr(change)), _("change the entry to something else."))
    return None


def _verify_good_fix(args: dict[str, Any], got: Any, rerun) -> Failure | None:
    problem = _verify_changes_something(args, got, rerun)
    if problem:
        return problem
    scores = [(_measure(c), c) for c in SINGLE_FIXES]  # every single fix, trained once
    best, best_change = max(scores, key=lambda sc: sc[0])
    measured = next((m for m, c in scores if c == got[0]), None)
    if measured is None:
        measured = _measure(got[0])
    if measured < best - FIX_MARGIN:
        return Failure(_("expected a fix within {margin} of the best single fix, {best_change}, which measured "
                         "{best}; yours, {change}, measured {measured}").format(
                             margin=f"{FIX_MARGIN:.2f}", best_change=repr(best_change), best=f"{best:.2f}",
                             change=repr(got[0]), measured=f"{measured:.2f}"))   # hint: a known mistake
    return None


def _verify_prediction(args: dict[str, Any], got: Any, rerun) -> Failure | None:
    problem = _verify_changes_something(args, got, rerun)
    if problem:
        return problem
    measured = _measure(got[0])
    if abs(got[1] - measured) > PREDICTION_MARGIN:
        return Failure(_("expected a prediction within {margin} of the measurement: your fix {change} measured "
                         "{measured}, you predicted {predicted}").format(
                             margin=f"{PREDICTION_MARGIN:.2f}", change=repr(got[0]), measured=f"{measured:.2f}",
                             predicted=f"{got[1]:.2f}"),
                       _("now that you know the measurement, ask what your prediction missed."))
    return None


_register(Exercise(
    name="one_fix",
    timeout=120.0,  # the check trains outside this limit; a learner's one_fix may train candidates first
    notebook="08_putting_it_together.ipynb",
    signature="def one_fix():",
    instructions=N_("Return (change, predicted_accuracy): change is a dict that sets ONE entry of the broken recipe "
                  "(activation, init, optimizer, batchnorm or dropout) to another allowed value, the single change "
                  "you expect to rescue the broken network most in 10 epochs; predicted_accuracy is the validation "
                  "accuracy you expect it to reach. The check trains it and every other single change."),
    reference=_one_fix,
    cases=(
        Case(N_("one entry, a valid value, a prediction between 0 and 1"), lambda: {}, verify=_verify_valid_change),
        Case(N_("the entry differs from the broken start's"), lambda: {}, verify=_verify_changes_something),
        Case(N_("trained (10 epochs, seed 0): within 5 points of the best single fix"), lambda: {},
             verify=_verify_good_fix),
        Case(N_("your prediction within 10 points of what your fix measured"), lambda: {}, verify=_verify_prediction),
    ),
    mistakes=(
        Mistake(N_("ReLU alone, with N(0, 1) weights, blows the signal up (notebook 08, step 1 of the ladder)."),
                test=lambda args, expected, got: isinstance(got, tuple) and got[:1] == ({"activation": "relu"},)),
        Mistake(N_("a better init alone leaves the sigmoid network with small weights and plain SGD: its gradients "
                "vanish (notebook 01), and it stays near chance."),
                test=lambda args, expected, got: isinstance(got, tuple) and isinstance(got[0], dict)
                and "init" in got[0] and _verify_good_fix(args, got, None) is not None),
        Mistake(N_("dropout fights overfitting; the broken network does not overfit, it fails to train."),
                test=lambda args, expected, got: isinstance(got, tuple) and isinstance(got[0], dict)
                and "dropout" in got[0] and _verify_good_fix(args, got, None) is not None),
    ),
    hint=N_("which fix repairs the scale of every layer, whatever the weights and the activation?"),
))
