"""Tests for coursekit.recipes: recipes build what a hand-written model would, runs are reproducible."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from coursekit.data import Dataset
from coursekit.init import initialize
from coursekit.models import mlp
from coursekit.recipes import (
    RECIPE_KEYS,
    RecipeRun,
    build,
    check_recipe,
    describe,
    layer_grad_norms,
    run,
    table,
)

BROKEN = {"activation": "sigmoid", "init": "normal", "optimizer": "sgd", "batchnorm": False, "dropout": 0.0}
FULL = {"activation": "relu", "init": "he", "optimizer": "adam", "batchnorm": True, "dropout": 0.1}


def _data(n=120, d=10, classes=3, seed=0) -> Dataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, d, generator=g)
    w = torch.randn(d, classes, generator=g)
    y = (x @ w).argmax(1)
    return Dataset("toy", x[:80], y[:80], x[80:100], y[80:100], x[100:], y[100:], image_shape=(2, 5),
                   class_names=tuple(str(i) for i in range(classes)))


def _same_weights(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_build_matches_a_hand_built_network():
    sizes = [10, 16, 16, 3]
    model, kw = build(FULL, sizes, seed=3)
    by_hand = mlp(sizes, activation="relu", dropout=0.1, batchnorm=True, seed=3)
    initialize(by_hand, "kaiming_normal", nonlinearity="relu", seed=3)
    assert _same_weights(model, by_hand)
    assert kw == {"optimizer": "adam", "lr": 1e-3}
    broken, kw = build(BROKEN, sizes, seed=3)
    by_hand = mlp(sizes, activation="sigmoid", seed=3)
    initialize(by_hand, "normal", std=1.0, seed=3)
    assert _same_weights(broken, by_hand)
    assert kw == {"optimizer": "sgd", "lr": 0.1}


def test_he_and_normal_inits_have_the_advertised_std():
    sizes = [256, 256, 256, 10]
    he, _ = build({**BROKEN, "init": "he"}, sizes, seed=0)  # sigmoid net: He keeps ReLU's gain
    w = he.fc2.weight.detach()
    assert w.std().item() == pytest.approx(math.sqrt(2 / 256), rel=0.03)
    normal, _ = build(BROKEN, sizes, seed=0)
    assert normal.fc2.weight.detach().std().item() == pytest.approx(1.0, rel=0.03)
    assert torch.count_nonzero(normal.fc2.bias) == 0


def test_learning_rates_come_from_recipe_then_lrs_then_defaults():
    sizes = [4, 5, 2]
    assert build(BROKEN, sizes, lrs={"sgd": 0.5})[1]["lr"] == 0.5
    assert build({**BROKEN, "lr": 0.02}, sizes, lrs={"sgd": 0.5})[1]["lr"] == 0.02
    assert build(FULL, sizes, lrs={"sgd": 0.5})[1]["lr"] == 1e-3


def test_check_recipe_normalizes_names_and_rejects_bad_recipes():
    r = check_recipe({**FULL, "activation": "ReLU", "optimizer": "Adam"})
    assert r["activation"] == "relu" and r["optimizer"] == "adam" and list(r) == list(RECIPE_KEYS)
    with pytest.raises(TypeError, match="recipe must be a dict"):
        check_recipe(["relu"])
    with pytest.raises(ValueError, match="missing \\['dropout'\\]"):
        check_recipe({k: v for k, v in FULL.items() if k != "dropout"})
    with pytest.raises(ValueError, match="unknown keys \\['momentum'\\]"):
        check_recipe({**FULL, "momentum": 0.9})
    with pytest.raises(ValueError, match="recipe\\['init'\\]"):
        check_recipe({**FULL, "init": "glorot"})
    with pytest.raises(ValueError, match="recipe\\['dropout'\\] must be < 1"):
        check_recipe({**FULL, "dropout": 1.0})
    with pytest.raises(TypeError, match="recipe\\['batchnorm'\\] must be True or False"):
        check_recipe({**FULL, "batchnorm": 1})
    with pytest.raises(ValueError, match="lrs key"):
        build(FULL, [4, 5, 2], lrs={"adamm": 0.1})


def test_describe_names_every_fix():
    assert describe(BROKEN) == "sigmoid · N(0,1) · sgd"
    assert describe(FULL) == "relu · he · adam · BN · dropout 0.1"


def test_layer_grad_norms_match_plain_autograd():
    data = _data()
    model, _ = build(BROKEN, [10, 8, 8, 3], seed=1)
    norms, loss, act_std = layer_grad_norms(model, data.x_train, data.y_train)
    assert all(p.grad is None for p in model.parameters()), "gradients must be cleared afterwards"
    ref = F.cross_entropy(model(data.x_train), data.y_train)
    ref.backward()
    for name in ("fc1", "fc2", "out"):
        assert norms[name] == pytest.approx(getattr(model, name).weight.grad.norm().item(), rel=1e-5)
    assert list(norms) == ["fc1", "fc2", "out"]
    assert loss == pytest.approx(ref.item(), rel=1e-6)
    h = torch.sigmoid(model.fc1(data.x_train))
    assert act_std["act1"] == pytest.approx(h.std().item(), rel=1e-5)


def test_run_is_reproducible_and_leaves_the_global_random_state_alone():
    data = _data()
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = run(FULL, data, [12, 12], epochs=3, batch_size=16, seed=2, device="cpu")
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(999)  # a different global state must not change a run with dropout
    b = run(FULL, data, [12, 12], epochs=3, batch_size=16, seed=2, device="cpu")
    assert a.history.val_acc == b.history.val_acc and a.grad_norms == b.grad_norms
    c = run(FULL, data, [12, 12], epochs=3, batch_size=16, seed=3, device="cpu")
    assert c.grad_norms != a.grad_norms
    assert isinstance(a, RecipeRun) and a.label == "relu · he · adam · BN · dropout 0.1"
    assert a.grad_ratio == pytest.approx(a.grad_norms["fc1"] / a.grad_norms["out"])
    assert len(a.history.epoch) == 3 and not a.diverged


def test_eval_train_scores_the_training_split_in_eval_mode_without_changing_the_run():
    data = _data()
    plain = run(FULL, data, [12, 12], epochs=3, batch_size=16, seed=2, device="cpu")
    scored = run(FULL, data, [12, 12], epochs=3, batch_size=16, seed=2, device="cpu", eval_train=True)
    assert plain.history.eval_train_acc == [] and len(scored.history.eval_train_acc) == 3
    assert scored.history.val_acc == plain.history.val_acc, "scoring the training split should not change training"
    assert scored.history.eval_train_acc != scored.history.train_acc, "with dropout the two measures differ"
    with pytest.raises(TypeError, match="eval_train must be True or False"):
        run(FULL, data, [4], epochs=1, eval_train="yes")


def test_diverged_means_a_non_finite_training_loss():
    import numpy as np

    from coursekit.train import History

    h = History(label="x")
    h.step_loss = np.array([2.3, 1e30, np.nan])
    assert RecipeRun("x", check_recipe(BROKEN), 0, h).diverged
    h.step_loss = np.array([2.3, 1e30, 0.1])
    assert not RecipeRun("x", check_recipe(BROKEN), 0, h).diverged


def test_run_rejects_bad_arguments():
    data = _data()
    with pytest.raises(TypeError, match="data must be a coursekit Dataset"):
        run(FULL, (data.x_train, data.y_train), [4], epochs=1)
    with pytest.raises(TypeError, match="hidden must be a non-empty list"):
        run(FULL, data, [], epochs=1)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        run(FULL, data, [4], epochs=0)


def test_table_has_one_row_per_run_and_marks_unreached_accuracy():
    data = _data()
    a = run(BROKEN, data, [6], epochs=2, batch_size=40, label="broken", device="cpu")
    b = run(FULL, data, [6], epochs=2, batch_size=40, label="full", device="cpu")
    t = table([a, b], accuracy=1.0, baseline=a)
    assert [row["run"] for row in t] == ["broken", "full"]
    assert t.columns() == ["run", "val_acc", "change", "epochs_to_1", "grad_ratio", "init_loss", "diverged"]
    assert t[0]["change"] == 0.0
    text = str(t)
    assert "broken" in text and "full" in text and len(text.splitlines()) == 3
    ladder = table([a, b], baseline="previous")
    assert math.isnan(ladder[0]["change"]) and ladder[1]["change"] == pytest.approx(b.val_acc - a.val_acc)
    assert str(ladder).splitlines()[1].startswith("broken ")  # labels left-aligned
    with pytest.raises(ValueError, match="unknown baseline"):
        table([a, b], baseline="first")
    with pytest.raises(TypeError, match="runs\\[0\\] must be a RecipeRun"):
        table(["broken"])


def test_run_checks_its_recipe_once_at_the_door(digits, monkeypatch):
    import coursekit.recipes as R

    calls = []
    real = R.check_recipe
    monkeypatch.setattr(R, "check_recipe", lambda recipe: calls.append(1) or real(recipe))
    r = R.run({"activation": "relu", "init": "he", "optimizer": "adam", "batchnorm": False, "dropout": 0.0},
              digits, [16], epochs=1, seed=0)
    assert len(calls) == 1 and r.label == R.describe(r.recipe)
