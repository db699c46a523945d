"""Bad input and faults across the public API: every error names the argument, nothing is silently wrong.

Each case of ``CASES`` is one call a learner might make, the exception it must
raise and a regular expression the message must match: the name of the
argument, what it got or what is allowed (and "did you mean" for a near-miss
name). The tests after the table check behaviours that are not one error:
divergence policies, BatchNorm with a last batch of one, hooks that survive
NaN, ... Download faults are in ``tests/test_data.py``.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

import coursekit as ck
from coursekit import _checks as C
from coursekit import data as D
from coursekit import diagnostics as G
from coursekit import flow as FL
from coursekit import init as I
from coursekit import layers as L
from coursekit import models as M
from coursekit import optim as O
from coursekit import recipes as R
from coursekit import surfaces as S
from coursekit import train as T
from coursekit.dbn import DBN
from coursekit.rbm import RBM

INF, NAN = float("inf"), float("nan")
BROKEN = {"activation": "sigmoid", "init": "normal", "optimizer": "sgd", "batchnorm": False, "dropout": 0.0}


def net(**kwargs) -> nn.Sequential:
    return M.mlp([64, 16, 10], seed=0, **kwargs)


def small(d, n=64):
    """The first n training examples of digits as (x, y), and the validation split."""
    return d.x_train[:n], d.y_train[:n], d.x_val[:32], d.y_val[:32]


def with_nan(x, value=NAN):
    x = x.clone()
    x[1, 2] = value
    return x


def fit(d, data=None, model=None, **kwargs):
    kwargs = {"epochs": 1, "progress": False, **kwargs}
    return T.fit(model if model is not None else net(), data if data is not None else small(d)[:2], **kwargs)


def fit4(d, x=None, y=None, xv=None, yv=None, **kwargs):
    """fit on (x_train, y_train, x_val, y_val), replacing the splits given."""
    x0, y0, xv0, yv0 = small(d)
    pick = lambda a, b: a if a is not None else b  # noqa: E731
    return fit(d, (pick(x, x0), pick(y, y0), pick(xv, xv0), pick(yv, yv0)), **kwargs)


def rbm_fit(d, **kwargs):
    return RBM(64, 8, seed=0).fit(kwargs.pop("x", d.x_train[:40]), **{"epochs": 1, "monitor": False, **kwargs})


CASES = [
    # ---------------------------------------------------------------- _checks
    (lambda d: C.check_choice("optimizer", "adamw2", O.OPTIMIZERS), ValueError,
     r"unknown optimizer 'adamw2'; allowed: sgd, .*; did you mean 'adamw'\?"),
    (lambda d: C.check_choice("scheme", "he_normal", I.SCHEMES), ValueError, r"unknown scheme 'he_normal'; allowed"),
    (lambda d: C.check_tensor("x", torch.zeros(1, dtype=torch.complex64)), TypeError, r"x must be a real tensor"),
    (lambda d: C.check_tensor("x", with_nan(torch.zeros(3, 3)), finite=True), ValueError, r"x must hold finite"),
    (lambda d: C.check_generator("generator", 0), TypeError, r"generator must be a torch.Generator"),
    (lambda d: C.check_sequence("lrs", 0.1, "[0.1]"), TypeError, r"lrs must be a list such as \[0.1\]; got float"),
    (lambda d: C.check_float("lr", INF, finite=True), ValueError, r"lr must be a finite number; got inf"),
    (lambda d: C.check_bool("bias", "no"), TypeError, r"bias must be True or False; got str 'no'"),
    # ---------------------------------------------------------------- train.fit: rates and divergence
    (lambda d: fit(d, lr=INF), ValueError, r"lr must be a finite number; got inf"),
    (lambda d: fit(d, lr=NAN), ValueError, r"lr must be a number, got NaN"),
    (lambda d: fit(d, optimizer="sgd", lr=1e30, batch_size=16), T.DivergedError,
     r"loss became (nan|inf|-inf) at epoch 1, step \d+ of that epoch \(step \d+ of the run\)"
     r".*learning rate too high \(SGD with lr=1e\+30.*nan_policy='stop'"),
    (lambda d: fit(d, nan_policy="stopp"), ValueError, r"unknown nan_policy 'stopp'; allowed: .*did you mean 'stop'"),
    (lambda d: fit(d, optimizer="adamw2"), ValueError, r"unknown optimizer 'adamw2'.*did you mean 'adamw'"),
    (lambda d: fit(d, loss="cross_entropyy"), ValueError, r"unknown loss 'cross_entropyy'.*'cross_entropy'\?"),
    (lambda d: fit(d, optimizer=torch.optim.SGD(net().parameters(), lr=0.1)), ValueError,
     r"optimizer was built over other parameters"),
    (lambda d: (lambda m: fit(d, model=m, optimizer=torch.optim.SGD(m.parameters(), lr=0.1), lr=5.0))(net()),
     ValueError, r"lr=5.0 would be ignored"),
    (lambda d: fit(d, optimizer=42), TypeError, r"optimizer must be a name such as 'adam'"),
    # ---------------------------------------------------------------- train.fit: the data, named by split
    (lambda d: fit4(d, x=with_nan(small(d)[0])), ValueError, r"data\[0\] \(x_train\) must hold finite numbers"),
    (lambda d: fit4(d, xv=with_nan(small(d)[2], INF)), ValueError, r"data\[2\] \(x_val\) must hold finite"),
    (lambda d: fit(d, (small(d)[0], small(d)[1] + 5)), ValueError,
     r"y_train\) holds labels up to 14, but the model outputs 10 classes"),
    (lambda d: fit4(d, yv=small(d)[3] + 3), ValueError, r"data\[3\] \(y_val\) holds labels up to 12"),
    (lambda d: fit(d, (small(d)[0], small(d)[1].float())), TypeError,
     r"y_train\) must hold class indices as integers .*\.long\(\)"),
    (lambda d: fit(d, (small(d)[0], small(d)[1][:, None])), ValueError, r"y_train\) must have shape \(64,\).*squeeze"),
    (lambda d: fit(d, (small(d)[0], small(d)[1] - 1)), ValueError, r"y_train\) must hold class indices.*label -1"),
    (lambda d: fit(d, (small(d)[0], small(d)[1] > 4)), TypeError, r"y_train\) must hold class indices.*torch.bool"),
    (lambda d: fit(d, (small(d)[0].double(), small(d)[1])), TypeError,
     r"x_train\) has dtype torch.float64 but the model's parameters are torch.float32"),
    (lambda d: fit(d, ((small(d)[0] * 255).to(torch.uint8), small(d)[1])), TypeError,
     r"x_train\) must be a floating-point tensor.*/ 255"),
    (lambda d: fit(d, (small(d)[0][:, :63], small(d)[1])), ValueError,
     r"x_train\) must have shape \(examples, 64\).*got shape \(64, 63\)"),
    (lambda d: fit4(d, xv=small(d)[2][:, :60]), ValueError, r"data\[2\] \(x_val\) must have shape \(examples, 64\)"),
    (lambda d: fit4(d, yv=small(d)[3][:-1]), ValueError,
     r"data\[2\] \(x_val\) and data\[3\] \(y_val\) must hold the same number of examples; got 32 and 31"),
    (lambda d: fit(d, (small(d)[0], small(d)[1][:-1])), ValueError, r"x_train\) and data\[1\] \(y_train\) must hold"),
    (lambda d: fit(d, (d.x_train[:0], d.y_train[:0])), ValueError,
     r"x_train\) and .*y_train\) must hold the same, non-zero number"),
    (lambda d: fit(d, (small(d)[0], small(d)[1], small(d)[2])), TypeError, r"data must be .*got tuple of length 3"),
    (lambda d: fit(d, (small(d)[0], [1, 2])), TypeError, r"data\[1\] \(y_train\) must be a torch.Tensor"),
    (lambda d: fit(d, "digits"), TypeError, r"data must be a coursekit Dataset"),
    (lambda d: fit(d, (small(d)[0], torch.rand(64)), model=M.mlp([64, 1]), loss="mse"), ValueError,
     r"loss='mse' compares the output with data\[1\] \(y_train\).*reshape"),
    (lambda d: fit(d, (small(d)[0], torch.rand(64, 1) * 3), model=nn.Sequential(M.mlp([64, 1]), nn.Sigmoid()),
                   loss="bce"), ValueError, r"y_train\) must hold targets in \[0, 1\] for loss='bce'"),
    # ---------------------------------------------------------------- train.fit: the other arguments
    (lambda d: fit(d, callbacks=T.Callback()), TypeError, r"callbacks must be a list of Callback objects; got a"),
    (lambda d: fit(d, callbacks=[print]), TypeError, r"callbacks\[0\] must be a coursekit.train.Callback"),
    (lambda d: fit(d, loss=lambda out, y: 2.3), TypeError, r"loss must return a tensor .* it returned float 2.3"),
    (lambda d: fit(d, loss=lambda out, y: nn.functional.cross_entropy(out, y, reduction="none")), ValueError,
     r"loss must return one number per batch; .*shape \(64,\).*\.mean\(\)"),
    (lambda d: fit(d, loss=lambda out, y: nn.functional.cross_entropy(out.detach(), y)), ValueError,
     r"loss returned a tensor that does not depend on the model's output"),
    (lambda d: fit(d, model=net(batchnorm=True), batch_size=1), ValueError,
     r"BatchNorm1d layers needs at least 2 examples per batch.*batch_size=1"),
    (lambda d: fit(d, progress="no"), TypeError, r"progress must be True or False"),
    (lambda d: fit(d, label=3), TypeError, r"label must be a string; got int 3"),
    (lambda d: fit(d, epochs=0), ValueError, r"epochs must be >= 1; got 0"),
    (lambda d: fit(d, epochs=2.0), TypeError, r"epochs must be an integer; got float 2.0"),
    (lambda d: fit(d, batch_size=2.5), TypeError, r"batch_size must be an integer"),
    (lambda d: fit(d, max_steps=0), ValueError, r"max_steps must be >= 1"),
    (lambda d: fit(d, device="gpu0"), ValueError, r"device must be like 'cpu', 'cuda'"),
    (lambda d: fit(d, model="mlp"), TypeError, r"model must be a torch.nn.Module"),
    (lambda d: T.evaluate(net(), d.x_val, d.y_val + 3), ValueError, r"y holds labels up to 12"),
    (lambda d: T.evaluate(net(), d.x_val.numpy(), d.y_val), TypeError, r"x must be a torch.Tensor"),
    (lambda d: T.evaluate(net(), d.x_val, d.y_val, batch_size=0), ValueError, r"batch_size must be >= 1"),
    # ---------------------------------------------------------------- optim
    (lambda d: O.make_optimizer("adam", net().parameters(), lr=INF), ValueError, r"lr must be a finite number"),
    (lambda d: O.make_optimizer("rmsprob", net().parameters(), lr=0.1), ValueError, r"did you mean 'rmsprop'"),
    (lambda d: O.make_optimizer("momentum", net().parameters(), lr=0.1, momentum=1.0), ValueError,
     r"momentum must be < 1.0"),
    (lambda d: O.SGD(net().parameters(), lr=INF), ValueError, r"lr must be a finite number"),
    (lambda d: O.Adam(net().parameters(), betas=(0.9,)), TypeError, r"betas must be a pair"),
    (lambda d: O.Adagrad(net().parameters(), eps=INF), ValueError, r"eps must be a finite number"),
    (lambda d: O.build_optimizer("adam", net().parameters(), None), ValueError, r"lr is required"),
    (lambda d: O.make_optimizer("adam", net().parameters(), lr=0.1, scratch="no"), TypeError,
     r"scratch must be True or False"),
    (lambda d: O.build_optimizer(lambda ps: 3, net().parameters(), None), TypeError,
     r"optimizer factory must return a torch.optim.Optimizer; got int"),
    # ---------------------------------------------------------------- models
    (lambda d: M.mlp([64, 10], bias="no"), TypeError, r"bias must be True or False; got str 'no'"),
    (lambda d: M.mlp([64, 10], batchnorm="yes"), TypeError, r"batchnorm must be True or False"),
    (lambda d: M.mlp([64, 10], head=1), TypeError, r"head must be True or False"),
    (lambda d: M.mlp([64]), ValueError, r"sizes needs at least an input and an output"),
    (lambda d: M.mlp("64,10"), TypeError, r"sizes must be a sequence of ints"),
    (lambda d: M.mlp([64, 0, 10]), ValueError, r"sizes\[1\] must be >= 1"),
    (lambda d: M.mlp([64, 10], activation="rellu"), ValueError, r"unknown activation 'rellu'.*did you mean 'relu'"),
    (lambda d: M.mlp([64, 10], weight_scale=INF), ValueError, r"weight_scale must be a finite number"),
    (lambda d: M.mlp([64, 10], dropout=1.0), ValueError, r"dropout must be < 1.0"),
    (lambda d: M.mlp([64, 10], nonlinearity="relu"), ValueError, r"nonlinearity='relu' is only used with init"),
    (lambda d: M.activation("sigmod"), ValueError, r"did you mean 'sigmoid'"),
    # ---------------------------------------------------------------- init
    (lambda d: I.initialize(net(), "normal", std=INF), ValueError, r"std must be a finite number"),
    (lambda d: I.initialize(net(), "constant", value=INF), ValueError, r"value must be a finite number"),
    (lambda d: I.initialize(net(), "uniform", a=-1.0), ValueError, r"a must be >= 0.0"),
    (lambda d: I.initialize(net(), "normal", nonlinearity="relu"), ValueError,
     r"nonlinearity='relu' has no effect on scheme 'normal'"),
    (lambda d: I.initialize(net(), "xavier_unifrom"), ValueError, r"did you mean 'xavier_uniform'"),
    (lambda d: I.initialize(net(), "kaiming_normal", nonlinearity="rellu"), ValueError, r"did you mean 'relu'"),
    (lambda d: I.initialize(net(), "normal", bias="zero"), ValueError, r"unknown bias 'zero'.*did you mean 'zeros'"),
    (lambda d: I.initialize(nn.ReLU(), "normal"), ValueError, r"model has no nn.Linear or nn.Conv layer"),
    (lambda d: ck.depth.signal_through_depth(5, scheme="normal", std=INF), ValueError, r"std must be a finite number"),
    (lambda d: ck.depth.signal_through_depth(0), ValueError, r"depth must be >= 1"),
    (lambda d: I.expected_std("normal", 3, 3, std=INF), ValueError, r"std must be a finite number"),
    # ---------------------------------------------------------------- data
    (lambda d: D.batches(d.x_train, d.y_train, 0), ValueError, r"batch_size must be >= 1; got 0"),
    (lambda d: D.batches(d.x_train, d.y_train, 4, generator=0), TypeError, r"generator must be a torch.Generator"),
    (lambda d: D.batches(d.x_train, d.y_train[:3], 2), ValueError, r"x and y must have the same number of examples"),
    (lambda d: D.batches(d.x_train, d.y_train, 2, shuffle="no"), TypeError, r"shuffle must be True or False"),
    (lambda d: D.load("mnsit"), ValueError, r"unknown name 'mnsit'.*did you mean 'mnist'"),
    (lambda d: D.load_digits(val_fraction=0.6), ValueError, r"val_fraction must be < 0.5"),
    (lambda d: D.load_mnist(root=5), TypeError, r"root must be a folder path"),
    (lambda d: D.load_mnist(root="/nonexistent-coursekit", download="no"), TypeError, r"download must be True or"),
    (lambda d: d.subset(5), ValueError, r"n_train must be >= 10"),
    # ---------------------------------------------------------------- diagnostics
    (lambda d: G.LayerStats(net(), layers=[]), ValueError, r"layers is empty: name at least one module"),
    (lambda d: G.LayerStats(net(), layers=["actt1"]), ValueError,
     r"layers\[0\] 'actt1' is not a module of model; available: .*did you mean 'act1'"),
    (lambda d: G.LayerStats(net(), layers="linearr"), ValueError, r"unknown layers 'linearr'.*did you mean 'linear'"),
    (lambda d: G.LayerStats(net(), layers=["act1", "act1"]), ValueError, r"layers lists a module twice"),
    (lambda d: G.LayerStats(net(), every=0), ValueError, r"every must be >= 1"),
    (lambda d: G.LayerStats(net(), percentiles=50), TypeError, r"percentiles must be a list such as \(15, 50, 85\)"),
    (lambda d: G.LayerStats(net(), percentiles=(150,)), ValueError, r"percentiles\[0\] must be <= 100"),
    (lambda d: G.LayerStats(net(), include_no_grad="yes"), TypeError, r"include_no_grad must be True or False"),
    (lambda d: G.LayerStats(net(), saturation=1.0), ValueError, r"saturation must be < 1.0"),
    (lambda d: G.LayerStats("net"), TypeError, r"model must be a torch.nn.Module"),
    (lambda d: G.LayerStats(net()).table(), ValueError, r"nothing recorded yet"),
    (lambda d: G.UnitInputTracker(net().act1, d.x_val, d.y_val[:3]), ValueError, r"x and y must hold the same"),
    (lambda d: G.UnitInputTracker(net().act1, with_nan(d.x_val), d.y_val), ValueError, r"x must hold finite"),
    (lambda d: G.UnitInputTracker(net().act1, d.x_val, d.y_val, at_start="no"), TypeError,
     r"at_start must be True or False"),
    (lambda d: G.UnitInputTracker("act1", d.x_val, d.y_val), TypeError, r"module must be a torch.nn.Module"),
    # ---------------------------------------------------------------- flow
    (lambda d: FL.gradient_flow(depth=0), ValueError, r"depth must be >= 1"),
    (lambda d: FL.gradient_flow(activation="sigmod"), ValueError, r"did you mean 'sigmoid'"),
    (lambda d: FL.gradient_flow(init="xavier"), ValueError, r"unknown init 'xavier'.*did you mean"),
    (lambda d: FL.gradient_flow(x=d.x_val), ValueError, r"pass both x and y, or neither"),
    (lambda d: FL.gradient_flow(x=d.x_val, y=d.y_val.float()), TypeError, r"y must hold class indices as integers"),
    (lambda d: FL.gradient_flow(x=with_nan(d.x_val), y=d.y_val), ValueError, r"x must hold finite numbers"),
    (lambda d: FL.gradient_flow(x=d.x_val, y=d.y_val[:3]), ValueError, r"x and y must hold the same"),
    (lambda d: FL.gradient_flow(x=d.x_val, y=d.y_val - 1), ValueError, r"y must hold class indices.*label -1"),
    (lambda d: FL.gradient_flow(weight_scale=INF), ValueError, r"weight_scale must be a finite number"),
    (lambda d: FL.activation_curve("rellu"), ValueError, r"did you mean 'relu'"),
    # ---------------------------------------------------------------- surfaces
    (lambda d: S.trajectory("beale", "sgd", start=(2e6, 0), lr=0.1), ValueError,
     r"start \(2000000.0, 0.0\) is farther than max_norm=1e\+06"),
    (lambda d: S.trajectory("beale", "sgd", lr=INF), ValueError, r"lr must be a finite number"),
    (lambda d: S.trajectory("beale", "sgd", start=(1.0, NAN), lr=0.1), ValueError, r"start\[1\] must be a number"),
    (lambda d: S.trajectory("rosenbrok", "sgd", lr=0.1), ValueError, r"unknown surface 'rosenbrok'.*'rosenbrock'"),
    (lambda d: S.trajectory("beale", "sgd", steps=0, lr=0.1), ValueError, r"steps must be >= 1"),
    (lambda d: S.trajectory("beale", "sgd"), ValueError, r"lr is required"),
    (lambda d: S.tune_lr("ill_conditioned", "sgd", [1.0, 3.0], steps=60), ValueError,
     r"every learning rate in lrs diverged with 'sgd' on 'ill_conditioned' \(1, 3\)"),
    (lambda d: S.tune_lr("beale", "sgd", 0.1), TypeError, r"lrs must be a list"),
    (lambda d: S.tune_lr("beale", "sgd", []), ValueError, r"lrs is empty"),
    (lambda d: S.tune_lr("beale", "sgd", [INF]), ValueError, r"lrs\[0\] must be a finite number"),
    (lambda d: S.tune_lr("beale", "sgd", [0.1], score="los"), ValueError, r"unknown score 'los'.*did you mean 'loss'"),
    (lambda d: S.steps_to_leave(S.trajectory("saddle", "sgd", steps=2, lr=0.1), 0.0), ValueError,
     r"radius must be > 0"),
    (lambda d: S.zigzag_fraction(S.trajectory("saddle", "sgd", steps=2, lr=0.1), axis=2), ValueError,
     r"axis must be <= 1"),
    # ---------------------------------------------------------------- rbm and dbn
    (lambda d: rbm_fit(d, lr=INF), ValueError, r"lr must be a finite number"),
    (lambda d: rbm_fit(d, lr=1e30), FloatingPointError,
     r"weights became NaN or infinite during epoch 1 \(updates 1 to 4\).*lr=1e\+30 is too high"),
    (lambda d: rbm_fit(d, persistent="yes"), TypeError, r"persistent must be True or False"),
    (lambda d: rbm_fit(d, nan_policy="rais"), ValueError, r"unknown nan_policy 'rais'.*did you mean 'raise'"),
    (lambda d: rbm_fit(d, x=d.x_train[:40] * 2), ValueError, r"x must hold values in \[0, 1\]"),
    (lambda d: rbm_fit(d, x=with_nan(d.x_train[:40])), ValueError, r"x contains NaN or infinite values"),
    (lambda d: rbm_fit(d, x=d.x_train[:40, :60]), ValueError, r"x must have 64 columns"),
    (lambda d: rbm_fit(d, weight_decay=INF), ValueError, r"weight_decay must be a finite number"),
    (lambda d: rbm_fit(d, label=1), TypeError, r"label must be a string"),
    (lambda d: RBM(64, 8).sample(2, generator=1), TypeError, r"generator must be a torch.Generator"),
    (lambda d: RBM(64, 8).cd_gradient(d.x_train[:4], sample_visible="no"), TypeError,
     r"sample_visible must be True or False"),
    (lambda d: DBN([64, 8, 4]).fit(d.x_train[:40], epochs=2.0), TypeError,
     r"epochs must be one int or a list of 2 ints \(one per RBM\); got float 2.0"),
    (lambda d: DBN([64, 8, 4]).fit(d.x_train[:40], epochs=[1]), ValueError, r"epochs must be one int or one per RBM"),
    (lambda d: DBN([64, 8, 4]).fit(d.x_train[:40], epochs=[1, 0]), ValueError, r"epochs\[1\] must be >= 1"),
    (lambda d: DBN([64, 8, 4]).fit(d.x_train[:40], label="x"), TypeError, r"label is set by DBN.fit for each layer"),
    (lambda d: DBN([64, 8, 4]).fit(d.x_train[:40], lrr=0.1), TypeError,
     r"unknown argument 'lrr' for RBM.fit; allowed: .*did you mean 'lr'"),
    (lambda d: DBN([64]), ValueError, r"sizes needs at least a visible and a hidden size"),
    (lambda d: DBN([64, 8]).to_sequential(0), ValueError, r"n_outputs must be >= 1"),
    # ---------------------------------------------------------------- recipes
    (lambda d: R.check_recipe({k: v for k, v in BROKEN.items() if k != "dropout"}), ValueError,
     r"recipe is missing \['dropout'\]"),
    (lambda d: R.check_recipe({**BROKEN, "activation": "rellu"}), ValueError,
     r"unknown recipe\['activation'\] 'rellu'.*did you mean 'relu'"),
    (lambda d: R.check_recipe({**BROKEN, "batchnorm": "no"}), TypeError, r"recipe\['batchnorm'\] must be True or"),
    (lambda d: R.check_recipe({**BROKEN, "lr": INF}), ValueError, r"recipe\['lr'\] must be a finite number"),
    (lambda d: R.build(BROKEN, [64, 8, 10], lrs={"adam": INF}), ValueError, r"lrs\['adam'\] must be a finite number"),
    (lambda d: R.run(BROKEN, small(d)[:2], [8], epochs=1), TypeError, r"data must be a coursekit Dataset"),
    (lambda d: R.table([1]), TypeError, r"runs\[0\] must be a RecipeRun"),
    # ---------------------------------------------------------------- layers and notebook set-up
    (lambda d: L.Dropout(p=1.5), ValueError, r"p must be <= 1.0"),
    (lambda d: L.BatchNorm1d(0), ValueError, r"num_features must be >= 1"),
    (lambda d: L.bn_statistics_trace(batch_size=1, momentum=0.1), ValueError, r"batch_size must be >= 2"),
    (lambda d: ck.setup_notebook(quiet="no"), TypeError, r"quiet must be True or False"),
    (lambda d: ck.setup_notebook(dpi=10), ValueError, r"dpi must be >= 20"),
]


@pytest.mark.parametrize("call, exc, match", CASES, ids=[f"case{i:03d}" for i in range(len(CASES))])
def test_bad_input_raises_an_error_that_names_the_argument(digits, call, exc, match):
    with pytest.raises(exc, match=match):
        call(digits)


def test_there_are_at_least_80_cases():
    assert len(CASES) >= 80


# ------------------------------------------------------------------ widgets (need ipywidgets)

WIDGET_CASES = [
    (lambda W: W.control("d", (5, 1)), ValueError, r"control 'd': min must not be larger than max.*got \(5, 1\)"),
    (lambda W: W.control("d", (0, 1, 0)), ValueError, r"control 'd': step must be > 0"),
    (lambda W: W.control("d", (0.0, INF)), ValueError, r"control 'd': \(min, max\[, step\]\) must be finite numbers"),
    (lambda W: W.control("d", {"a": 1}), TypeError, r"control 'd': expected an ipywidgets control"),
    (lambda W: W.interactive_figure(lambda depth: None, depth=(1, 3)), TypeError,
     r"draw must return a matplotlib Figure; <lambda> returned NoneType \(did you forget `return fig`\?\)"),
    (lambda W: W.interactive_figure(lambda depth: 1, fig=(1, 3)), ValueError, r"'fig' is not a control name"),
    (lambda W: W.interactive_figure(3, depth=(1, 3)), TypeError, r"draw must be a function"),
    (lambda W: W.interactive_figure(lambda depth: 1), ValueError, r"give at least one control"),
]


@pytest.mark.parametrize("call, exc, match", WIDGET_CASES, ids=[f"widget{i}" for i in range(len(WIDGET_CASES))])
def test_bad_widget_input_raises_an_error_that_names_it(call, exc, match):
    pytest.importorskip("ipywidgets")
    from coursekit import widgets as W

    with pytest.raises(exc, match=match):
        call(W)


# ------------------------------------------------------------------ behaviours, not single errors

def test_diverging_fit_raises_by_default_with_the_history_and_keeps_the_last_finite_weights(digits):
    model = net()
    with pytest.raises(T.DivergedError) as err:
        T.fit(model, digits, optimizer="sgd", lr=1e30, epochs=2, progress=False)
    e = err.value
    assert e.epoch == 1 and e.step >= 1 and not math.isfinite(e.loss)
    assert e.history.diverged_step == e.step and len(e.history.step_loss) == e.step
    assert not np.isfinite(e.history.step_loss[-1]) and np.isfinite(e.history.step_loss[:-1]).all()
    assert all(torch.isfinite(p).all() for p in model.parameters())  # the bad step was not applied


def test_diverging_fit_with_stop_returns_a_short_history_and_continue_trains_on(digits):
    stopped = T.fit(net(), digits, optimizer="sgd", lr=1e30, epochs=3, progress=False, nan_policy="stop")
    assert stopped.epoch == [1] and stopped.diverged_step == len(stopped.step_loss)
    assert math.isnan(stopped.train_loss[-1]) and len(stopped.val_acc) == 1
    assert f"diverged at step {stopped.diverged_step}" in repr(stopped)
    went_on = T.fit(net(), digits, optimizer="sgd", lr=1e30, epochs=3, progress=False, nan_policy="continue")
    assert went_on.epoch == [1, 2, 3] and went_on.diverged_step == stopped.diverged_step
    assert len(went_on.step_loss) == 3 * went_on.steps_per_epoch and np.isnan(went_on.train_loss).all()


def test_a_finite_run_is_the_same_under_every_policy(digits):
    runs = [T.fit(net(), digits, epochs=2, progress=False, nan_policy=p) for p in T.NAN_POLICIES]
    for h in runs[1:]:
        assert np.array_equal(h.step_loss, runs[0].step_loss) and h.val_acc == runs[0].val_acc
    assert all(h.diverged_step is None for h in runs)


def test_recipes_run_reports_divergence_instead_of_raising(digits):
    relu_normal = {**BROKEN, "activation": "relu"}  # N(0, 1) weights with ReLU: blows up on purpose
    run = R.run(relu_normal, digits, [64] * 6, epochs=1, batch_size=100)
    assert run.diverged and run.history.diverged_step is not None


def test_batchnorm_model_leaves_out_a_last_batch_of_one(digits):
    assert len(digits.y_train) % 4 == 1  # 1077 examples: batches of 4 leave one over
    h = T.fit(net(batchnorm=True), digits, batch_size=4, epochs=1, progress=False)
    assert h.steps_per_epoch == 269 and len(h.step_loss) == 269 and np.isfinite(h.step_loss).all()
    plain = T.fit(net(), digits, batch_size=4, epochs=1, progress=False)  # no BatchNorm: every example is used
    assert plain.steps_per_epoch == 270


def test_integer_labels_of_any_integer_type_train_like_int64(digits):
    x, y, xv, yv = small(digits)
    a = T.fit(net(), (x, y, xv, yv), epochs=2, progress=False)
    b = T.fit(net(), (x, y.to(torch.uint8), xv, yv.to(torch.int32)), epochs=2, progress=False)
    assert np.array_equal(a.step_loss, b.step_loss) and a.val_acc == b.val_acc


def test_layer_stats_keeps_weight_gradients_across_a_no_grad_pass(digits):
    x, y = digits.x_train[:32], digits.y_train[:32]
    ref_model, model = net(), net()
    with G.LayerStats(ref_model) as ref:
        nn.functional.cross_entropy(ref_model(x), y).backward()
    with G.LayerStats(model) as stats:
        loss = nn.functional.cross_entropy(model(x), y)
        with torch.no_grad():
            model(x)  # e.g. a validation pass between forward and backward
        loss.backward()
    for w in stats.weights:
        assert np.isfinite(stats.weight_grad_norm[w]).all()
        assert np.allclose(stats.weight_grad_norm[w], ref.weight_grad_norm[w])


@pytest.mark.parametrize("bad", [NAN, INF])
def test_layer_stats_records_non_finite_values_without_breaking_the_forward_pass(digits, bad):
    x, y = with_nan(digits.x_train[:32], bad), digits.y_train[:32]
    model = net()
    expected = model(x)
    with G.LayerStats(model, unit=0) as stats:
        out = model(x)
        nn.functional.cross_entropy(out, y).backward()
    assert torch.equal(out.isnan(), expected.isnan()) and torch.equal(out.nan_to_num(), expected.nan_to_num())
    assert stats.n_records == 1
    str(stats.table())  # prints, non-finite values included
    assert not np.isfinite(stats.act_mean["act1"][0])


def test_gradient_flow_works_across_its_documented_range():
    with pytest.warns(RuntimeWarning, match="overflowed float32 at act21"):   # and says so where it overflows
        r = FL.gradient_flow(depth=30, activation="relu", init="normal", weight_scale=10)
    assert r["overflow"] == "act21"
    assert len(r["layers"]) == 30 and len(r["weight_grad_norm"]) == 31 and len(r["act_values"]) == 30


def test_gradient_flow_takes_labels_above_nine(digits):
    x, y = digits.x_val[:40], torch.arange(40) % 12
    r = FL.gradient_flow(depth=2, x=x, y=y)
    assert math.isfinite(r["loss"]) and r["weights"][-1] == "out"
    same = FL.gradient_flow(depth=2, x=x, y=y % 10)  # labels 0..9 keep the 10-unit output layer
    assert same["loss"] == pytest.approx(FL.gradient_flow(depth=2, x=x, y=y % 10)["loss"])


def test_rbm_stop_keeps_the_parameters_of_the_last_finite_epoch(digits):
    rbm = RBM(64, 8, seed=0)
    h = rbm.fit(digits.x_train[:40], epochs=3, lr=1e30, nan_policy="stop", monitor=False)
    assert h.diverged_epoch == 1 and all(torch.isfinite(p).all() for p in rbm.parameters())
    assert "diverged in epoch 1" in repr(h)


def test_a_trajectory_without_a_finite_point_still_prints():
    tr = S.Trajectory(np.full((3, 2), np.nan), np.full(3, np.nan), "beale", diverged=True)
    assert np.isnan(tr.final).all() and "diverged" in repr(tr)


def test_batches_checks_its_arguments_before_the_first_batch(digits):
    with pytest.raises(ValueError, match="batch_size"):
        D.batches(digits.x_train, digits.y_train, -1)  # no next() needed
    assert sum(len(yb) for _, yb in D.batches(digits.x_train, digits.y_train, 100)) == len(digits.y_train)
