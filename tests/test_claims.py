"""Claims over seeds (coursekit.claims): the seeds, the collected results, the verdict line."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from coursekit import claims as C
from coursekit.train import History


def _runs():
    return C.over_seeds(lambda s: {"relu": 0.9 + 0.01 * s, "sigmoid": 0.3 + 0.1 * s, "note": "x"}, C.seeds(0))


def test_seeds_derive_from_the_notebooks_seed():
    assert C.seeds(0) == [0, 1, 2]
    assert C.seeds(5, n=4) == [5, 6, 7, 8]


def test_over_seeds_collects_one_result_per_seed_and_keeps_non_numbers():
    runs = _runs()
    assert runs.seeds == [0, 1, 2] and runs.keys() == ["relu", "sigmoid"]
    np.testing.assert_allclose(runs.values("sigmoid"), [0.3, 0.4, 0.5])
    assert runs.mean("relu") == pytest.approx(0.91)
    assert runs.get("note") == ["x", "x", "x"]
    assert runs.mean_result() == pytest.approx({"relu": 0.91, "sigmoid": 0.4})


def test_claim_prints_one_stable_line_without_numbers(capsys):
    verdict = C.claim("ReLU reaches 90 % where sigmoid stays below 60 %", _runs(),
                      lambda r: r["relu"] >= 0.9 and r["sigmoid"] < 0.6)
    out = capsys.readouterr().out
    assert out == "✓ ReLU reaches 90 % where sigmoid stays below 60 %: on 3/3 seeds and on the mean\n"
    assert verdict and verdict.held == [True, True, True]


def test_a_claim_that_fails_on_one_seed_raises_with_the_expected_result_and_that_seed(monkeypatch):
    monkeypatch.setenv(C.MODE_ENV, "strict")
    with pytest.raises(AssertionError, match=r"expected: sigmoid stays below 45 %, on every seed and on the mean; "
                                             r"it does not hold on seed 2 \(relu 0\.92, sigmoid 0\.5\)"):
        C.claim("sigmoid stays below 45 %", _runs(), lambda r: r["sigmoid"] < 0.45)


def test_a_stated_majority_passes_and_says_so(capsys):
    C.claim("sigmoid stays below 45 %", _runs(), lambda r: r["sigmoid"] < 0.45, at_least=2)
    # the same line whether 2 or 3 seeds held: the count beyond the required ones may differ between machines
    assert capsys.readouterr().out == "✓ sigmoid stays below 45 %: on at least 2 of 3 seeds and on the mean\n"


def test_the_mean_must_hold_too(monkeypatch):
    monkeypatch.setenv(C.MODE_ENV, "strict")
    runs = C.over_seeds(lambda s: [0.0, 0.0, 3.0][s], C.seeds(0))
    with pytest.raises(AssertionError, match="nor on the mean"):
        C.claim("the value stays below 0.5", runs, lambda r: r < 0.5, at_least=2)


def test_a_claim_about_the_mean_only_says_so_and_fails_on_the_mean(monkeypatch, capsys):
    runs = C.over_seeds(lambda s: [0.0, 0.9, 0.3][s], C.seeds(0))   # mean 0.4; seed 1 alone is above 0.5
    verdict = C.claim("the value stays below 0.5 on average", runs, lambda r: r < 0.5, mean_only=True)
    assert verdict and verdict.held == [True, False, True]
    assert capsys.readouterr().out == "✓ the value stays below 0.5 on average: on the mean of 3 seeds\n"
    monkeypatch.setenv(C.MODE_ENV, "strict")
    with pytest.raises(AssertionError, match=r"expected: the value stays below 0\.3, on the mean of the seeds; "
                                             r"it does not hold on seed 1 \(0\.9\), seed 2 \(0\.3\); nor on the mean \(0\.4\)"):
        C.claim("the value stays below 0.3", runs, lambda r: r < 0.3, mean_only=True)


def test_table_gives_mean_min_max_and_every_seed():
    text = str(_runs().table())
    assert text.splitlines()[0].split() == ["measurement", "mean", "min", "max", "seed", "0", "seed", "1", "seed", "2"]
    assert "sigmoid" in text and "0.400" in text and "0.300" in text and "0.500" in text


def test_histories_are_kept_for_a_figure_with_the_spread():
    from coursekit.plots import compare_histories

    def run(seed):
        h = History(label="relu")
        h.epoch, h.val_acc = [1, 2, 3], [0.5 + 0.1 * seed, 0.6, 0.7]
        return {"history": h, "acc": h.val_acc[-1]}

    runs = C.over_seeds(run, C.seeds(0))
    fig = compare_histories([runs.get("history")])
    assert "mean of 3 seeds" in fig.axes[0].get_legend().get_texts()[0].get_text()
    assert len(fig.axes[0].collections) == 1  # the band


@pytest.mark.parametrize("call,error,match", [
    (lambda: C.seeds(-1), ValueError, "base must be >= 0"),
    (lambda: C.seeds(0, n=0), ValueError, "n must be >= 1"),
    (lambda: C.over_seeds(3, [0]), TypeError, "experiment must be a function"),
    (lambda: C.over_seeds(lambda s: s, []), ValueError, "seed_list is empty"),
    (lambda: C.over_seeds(lambda s: s, "012"), TypeError, "seed_list must be a list"),
    (lambda: C.claim("", _runs(), bool), TypeError, "statement"),
    (lambda: C.claim("x", [1, 2], bool), TypeError, "runs must be"),
    (lambda: C.claim("x", _runs(), lambda r: True, at_least=4), ValueError, "at_least must be <= 3"),
    (lambda: C.claim("x", _runs(), lambda r: True, mean_only=True, at_least=2), ValueError, "neither at_least"),
    (lambda: C.claim("x", _runs(), lambda r: True, mean_only=True, on_mean=False), ValueError, "on_mean=False"),
    (lambda: C.claim("x", _runs(), lambda r: True, mean_only="yes"), TypeError, "mean_only must be True or False"),
    (lambda: _runs().values("tanh"), KeyError, "no entry 'tanh'"),
    (lambda: _runs().values("note"), TypeError, "not a number"),
])
def test_bad_input_names_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_spread_formats_mean_and_range():
    assert C.spread([0.94, 0.95, 0.96]) == "0.950 (0.940-0.960)"


def test_for_a_learner_a_failed_claim_prints_a_cross_and_the_notebook_goes_on(monkeypatch, capsys):
    monkeypatch.delenv(C.MODE_ENV, raising=False)
    verdict = C.claim("sigmoid stays below 45 %", _runs(), lambda r: r["sigmoid"] < 0.45)
    out = capsys.readouterr().out
    assert not verdict and verdict.held == [True, True, False]
    first, why, census = out.splitlines()
    assert first == "✗ sigmoid stays below 45 %: does not hold here, on 2/3 seeds and on the mean"
    assert "seed 2 (relu 0.92, sigmoid 0.5)" in why
    assert "census" in census


def test_the_census_note_quotes_the_ledger(monkeypatch, tmp_path, capsys):
    ledger = tmp_path / "ledger.json"
    ledger.write_text('{"claims": [{"statement": "sigmoid stays below 45 %", "held": 19, "tried": 20}]}')
    monkeypatch.setattr(C, "LEDGER", ledger)
    C._ledger.cache_clear()
    try:
        C.claim("sigmoid stays below 45 %", _runs(), lambda r: r["sigmoid"] < 0.45)
    finally:
        C._ledger.cache_clear()
    assert "hold on 19 of 20 seed triplets: this seed is one of the rare ones" in capsys.readouterr().out
    ledger.write_text('{"claims": [{"statement": "sigmoid stays below 45 %", "held": 3, "tried": 5}]}')
    C._ledger.cache_clear()
    try:
        C.claim("sigmoid stays below 45 %", _runs(), lambda r: r["sigmoid"] < 0.45)
    finally:
        C._ledger.cache_clear()
    assert "hold on only 3 of 5 seed triplets: the claim is stronger than the effect" in capsys.readouterr().out


def test_an_unknown_mode_is_refused(monkeypatch):
    monkeypatch.setenv(C.MODE_ENV, "loud")
    with pytest.raises(ValueError, match="COURSEKIT_CLAIMS must be 'strict', 'learn' or unset; got 'loud'"):
        C.claim("x", _runs(), lambda r: True)


def test_above_and_below_give_the_verdict_and_the_margins():
    m = C.above(0.93, 0.90, "relu") & C.below(0.40, 0.50, "sigmoid")
    assert m and [label for label, _ in m.margins] == ["relu", "sigmoid"]
    assert [v for _, v in m.margins] == pytest.approx([0.03, 0.10])
    assert not (C.above(0.93, 0.90) & C.below(0.6, 0.5))
    assert C.above(0.5, 0.9) | C.below(0.4, 0.5)
    assert not C.below(0.5, 0.5), "below is strict"
    assert C.above(0.5, 0.5), "above includes the threshold"
    nan = C.above(float("nan"), 0.0)
    assert not nan and math.isnan(nan.margins[0][1])


def test_numeric_claims_are_logged_with_their_margins(monkeypatch, tmp_path, capsys):
    log = tmp_path / "claims.jsonl"
    monkeypatch.setenv(C.LOG_ENV, str(log))
    C.claim("ReLU reaches 90 %", _runs(), lambda r: C.above(r["relu"], 0.90, "relu"))
    C.claim("sigmoid stays below 45 %", _runs(), lambda r: C.below(r["sigmoid"], 0.45))
    first, second = (json.loads(line) for line in log.read_text().splitlines())
    assert first["ok"] and first["seeds"] == [0, 1, 2] and first["held"] == [True, True, True]
    assert [m[0][1] for m in first["margins"]] == pytest.approx([0.0, 0.01, 0.02, 0.01])  # 3 seeds, then the mean
    assert not second["ok"] and second["margins"][2][0][1] == pytest.approx(-0.05)
    # every seed's numbers, so that a census can recalibrate a threshold from what it measured
    assert [r["relu"] for r in first["results"]] == pytest.approx([0.90, 0.91, 0.92])


def test_repeated_seeds_are_refused():
    with pytest.raises(ValueError, match=r"seed_list repeats seed\(s\) \[0\]"):
        C.over_seeds(lambda s: s, [0, 0, 0])
    with pytest.raises(ValueError, match="runs.seeds repeats"):
        C.claim("x", C.SeedRuns([1, 1], [0.5, 0.5]), lambda r: True)


def test_a_nan_result_never_holds(monkeypatch):
    monkeypatch.setenv(C.MODE_ENV, "strict")
    runs = C.over_seeds(lambda s: {"relu": [0.9, float("nan"), 0.95][s], "sigmoid": 0.5}, C.seeds(0))
    with pytest.raises(AssertionError, match="seed 1 has NaN or infinite relu"):
        C.claim("sigmoid is not ahead of ReLU", runs, lambda r: not (r["relu"] < r["sigmoid"]))


def test_holds_must_return_a_verdict_not_an_array():
    runs = C.over_seeds(lambda s: {"acc": 0.9}, C.seeds(0))
    with pytest.raises(TypeError, match=r"returned an array of shape \(3,\).*\.all\(\)"):
        C.claim("x", runs, lambda r: np.array([True, False, True]))
    with pytest.raises(TypeError, match="returned float"):
        C.claim("x", runs, lambda r: r["acc"] and r["acc"])
    C.claim("numpy booleans are verdicts", runs, lambda r: np.float64(r["acc"]) > 0.5, quiet=True)


def test_holds_that_needs_a_non_numeric_entry_on_the_mean_is_explained():
    runs = C.over_seeds(lambda s: {"acc": 0.9, "curve": [0.1, 0.9]}, C.seeds(0))
    with pytest.raises(TypeError, match="mean keeps only the numeric entries.*on_mean=False"):
        C.claim("the curve rises", runs, lambda r: r["curve"][-1] > r["curve"][0])
    C.claim("the curve rises", runs, lambda r: r["curve"][-1] > r["curve"][0], on_mean=False, quiet=True)
