"""Tests for coursekit.diagnostics: LayerStats against manual autograd, hook hygiene, widget functions."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from coursekit.diagnostics import LayerStats, StatsTable
from coursekit.flow import activation_curve, activation_profile, gradient_flow, plateau_and_escape, xor_losses
from coursekit.models import mlp
from coursekit.plots import plot_activation_profile, plot_gradient_flow
from coursekit.train import fit


def _batch(n=40, d=12, classes=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randint(0, classes, (n,), generator=g)


def _manual(model, x, y):
    """Outputs of every sub-module, their gradients and the weight gradients by plain autograd."""
    outs = {}
    h = x
    for name, m in model.named_children():
        h = m(h)
        h.retain_grad()
        outs[name] = h
    F.cross_entropy(h, y).backward()
    grads = {n: o.grad.detach().clone() for n, o in outs.items()}
    wgrads = {n: m.weight.grad.detach().clone() for n, m in model.named_children() if isinstance(m, nn.Linear)}
    return {n: o.detach() for n, o in outs.items()}, grads, wgrads


def _all_hooks_empty(model):
    for m in model.modules():
        for d in (m._forward_hooks, m._forward_pre_hooks, m._backward_hooks, m._backward_pre_hooks):
            if len(d):
                return False
    for p in model.parameters():
        if p._backward_hooks:  # a tensor hook left on a weight
            return False
    return True


def test_output_gradients_match_manual_autograd():
    x, y = _batch()
    model = mlp([12, 8, 8, 3], "tanh", seed=0)
    ref = mlp([12, 8, 8, 3], "tanh", seed=0)
    outs, grads, wgrads = _manual(ref, x, y)
    with LayerStats(model, layers=["fc1", "act1", "act2", "out"]) as stats:
        F.cross_entropy(model(x), y).backward()
    for name in ("fc1", "act1", "act2", "out"):
        g = grads[name]
        assert stats.grad_norm[name][0] == pytest.approx(float(g.norm()), rel=1e-5)
        assert stats.grad_mean[name][0] == pytest.approx(float(g.mean()), rel=1e-4, abs=1e-9)
        assert stats.grad_std[name][0] == pytest.approx(float(g.std()), rel=1e-5)
        np.testing.assert_allclose(stats.last_grad[name], g.numpy(), rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(stats.last_act[name], outs[name].numpy(), rtol=1e-6)


def test_weight_gradient_norm_and_ratio_match_manual_autograd():
    x, y = _batch()
    model = mlp([12, 8, 8, 3], "sigmoid", seed=0)
    ref = mlp([12, 8, 8, 3], "sigmoid", seed=0)
    _, _, wgrads = _manual(ref, x, y)
    with LayerStats(model) as stats:
        F.cross_entropy(model(x), y).backward()
    assert stats.weights == ["fc1", "fc2", "out"]
    for name, g in wgrads.items():
        w = dict(ref.named_children())[name].weight.detach()
        assert stats.weight_grad_norm[name][0] == pytest.approx(float(g.norm()), rel=1e-5)
        assert stats.grad_data_ratio[name][0] == pytest.approx(float(g.std() / w.std()), rel=1e-5)
        assert stats.weight_std[name][0] == pytest.approx(float(w.std()), rel=1e-6)
        # the hook saw the same gradient that .grad holds afterwards
        got = dict(model.named_children())[name].weight.grad
        torch.testing.assert_close(got, g)


def test_activation_statistics_match_numpy():
    x, y = _batch(n=64)
    model = mlp([12, 16, 3], "relu", seed=0)
    with LayerStats(model, percentiles=(15, 50, 85)) as stats:
        out = model(x)
    a = torch.relu(model.fc1(x)).detach().numpy()
    assert stats.act_mean["act1"][0] == pytest.approx(a.mean(), rel=1e-5)
    assert stats.act_std["act1"][0] == pytest.approx(a.std(ddof=1), rel=1e-5)
    np.testing.assert_allclose(stats.act_percentiles["act1"][0], np.percentile(a, [15, 50, 85]), rtol=1e-5)
    dead = (a <= 0).all(axis=0).mean()
    assert stats.dead["act1"][0] == pytest.approx(dead)
    assert np.isnan(stats.saturated["act1"][0])  # ReLU cannot saturate
    assert out.requires_grad and np.isnan(stats.grad_norm["act1"][0])  # no backward: NaN, not 0


def test_unit_percentiles_follow_one_column():
    x, _ = _batch(n=50)
    model = mlp([12, 6, 3], "sigmoid", seed=0)
    with LayerStats(model, layers=["fc1"], unit=2) as stats:
        model(x)
    col = model.fc1(x)[:, 2].detach().numpy()
    np.testing.assert_allclose(stats.act_percentiles["fc1"][0], np.percentile(col, [15, 50, 85]), rtol=1e-5)


def test_saturation_uses_karpathys_tanh_rule_and_the_same_rule_for_sigmoid():
    class Fixed(nn.Module):
        def __init__(self, act):
            super().__init__()
            self.act = act

        def forward(self, x):
            return self.act(x)

    x = torch.tensor([[-3.0, -2.0, 0.0, 1.0, 2.5]])  # tanh: -0.995 -0.964 0 0.762 0.987
    with LayerStats(Fixed(nn.Tanh()), include_no_grad=True) as s:
        with torch.no_grad():
            Fixed(nn.Tanh())  # a module outside the watched model is not counted
            s.model(x)
    assert s.saturated["act"][0] == pytest.approx(2 / 5)
    assert np.isnan(s.dead["act"][0])
    # sigmoid(2x) = (1 + tanh(x)) / 2: the same inputs doubled give the same verdicts
    with LayerStats(Fixed(nn.Sigmoid()), include_no_grad=True) as s2:
        s2.model(2 * x)
    assert s2.saturated["act"][0] == pytest.approx(2 / 5)


def test_dead_counts_units_that_never_fire_on_the_batch():
    lin = nn.Linear(3, 4)
    with torch.no_grad():
        lin.weight.zero_()
        lin.bias.copy_(torch.tensor([-1.0, -0.5, 0.5, 1.0]))  # two units always off
    model = nn.Sequential(lin, nn.ReLU())
    with LayerStats(model) as stats:
        model(torch.randn(20, 3))
    assert stats.layers == ["1"]
    assert stats.dead["1"][0] == pytest.approx(0.5)


def test_hooks_are_removed_on_exit():
    model = mlp([12, 8, 8, 3], "relu", seed=0)
    with LayerStats(model, layers="linear") as stats:
        assert not _all_hooks_empty(model)
        F.cross_entropy(model(_batch()[0]), _batch()[1]).backward()
    assert _all_hooks_empty(model)
    assert "detached" in repr(stats)


def test_hooks_are_removed_when_the_body_raises():
    model = mlp([12, 8, 3], "relu", seed=0)
    with pytest.raises(RuntimeError, match="boom"):
        with LayerStats(model):
            model(_batch()[0])
            raise RuntimeError("boom")
    assert _all_hooks_empty(model)


def test_nothing_is_recorded_after_exit():
    x, y = _batch()
    model = mlp([12, 8, 3], "relu", seed=0)
    with LayerStats(model) as stats:
        loss = F.cross_entropy(model(x), y)
    loss.backward()  # backward after the block: gradients are not recorded
    model(x)
    assert stats.n_records == 1
    assert np.isnan(stats.grad_norm["act1"][0]) and np.isnan(stats.weight_grad_norm["fc1"][0])


def test_no_grad_passes_are_skipped_unless_asked():
    x, _ = _batch()
    model = mlp([12, 8, 3], "relu", seed=0)
    with LayerStats(model) as stats:
        with torch.no_grad():
            model(x)
        model(x)
    assert list(stats.steps) == [1]
    with LayerStats(model, include_no_grad=True) as stats2:
        with torch.no_grad():
            model(x)
    assert stats2.n_records == 1


def test_every_records_every_kth_training_step_of_fit():
    x, y = _batch(n=60)
    model = mlp([12, 8, 3], "sigmoid", seed=0)
    with LayerStats(model, every=3) as stats:
        hist = fit(model, (x, y, x, y), optimizer="sgd", lr=0.1, epochs=2, batch_size=10, progress=False)
    assert len(hist.step_loss) == 12
    assert list(stats.steps) == [1, 4, 7, 10]  # validation passes (no_grad) neither counted nor recorded
    assert stats.act_mean["act1"].shape == (4,)
    assert np.isfinite(stats.weight_grad_norm["fc1"]).all() and np.isfinite(stats.grad_norm["act1"]).all()
    assert _all_hooks_empty(model)


def test_default_layers_are_activations_else_linear():
    assert LayerStats(mlp([4, 5, 5, 2], "gelu")).layers == ["act1", "act2"]
    assert LayerStats(nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))).layers == ["0", "1"]
    assert LayerStats(mlp([4, 5, 2]), layers="linear").layers == ["fc1", "out"]


def test_table_has_one_row_per_layer_and_prints_rounded():
    x, y = _batch()
    model = mlp([12, 8, 8, 3], "tanh", seed=0)
    with LayerStats(model) as stats:
        F.cross_entropy(model(x), y).backward()
    table = stats.table()
    assert isinstance(table, StatsTable)
    assert [r["layer"] for r in table] == ["act1", "act2", "out"]
    assert table[0]["weight"] == "fc1"
    assert table[0]["weight_grad_norm"] == pytest.approx(stats.weight_grad_norm["fc1"][0])
    assert {"p15", "p50", "p85", "saturated", "dead", "grad_norm"} <= set(table.columns())
    np.testing.assert_allclose(table.column("act_std")[:2], [stats.act_std["act1"][0], stats.act_std["act2"][0]])
    text = str(table)
    assert text.splitlines()[0].split()[:3] == ["layer", "kind", "act_mean"]
    assert "nan" not in text
    with pytest.raises(KeyError, match="no column"):
        table.column("nope")


def test_table_before_recording_is_a_clear_error():
    with pytest.raises(ValueError, match="nothing recorded"):
        LayerStats(mlp([4, 3, 2])).table()


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"layers": ["fc9"]}, ValueError, "not a module of model"),
        ({"layers": [3]}, TypeError, "layers\\[0\\]"),
        ({"layers": "everything"}, ValueError, "unknown layers"),
        ({"layers": ["fc1", "fc1"]}, ValueError, "twice"),
        ({"every": 0}, ValueError, "every must be >= 1"),
        ({"every": 1.5}, TypeError, "every must be an integer"),
        ({"percentiles": (50, 150)}, ValueError, "percentiles\\[1\\]"),
        ({"percentiles": "50"}, TypeError, "percentiles"),
        ({"saturation": 1.0}, ValueError, "saturation"),
        ({"unit": -1}, ValueError, "unit"),
        ({"include_no_grad": "yes"}, TypeError, "include_no_grad"),
    ],
)
def test_bad_arguments_are_rejected_with_a_message(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        LayerStats(mlp([4, 3, 2], "relu"), **kwargs)


def test_model_must_be_a_module_and_unit_in_range():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        LayerStats("model")
    model = mlp([4, 3, 2], "relu")
    with pytest.raises(ValueError, match="unit 5 is out of range"):
        with LayerStats(model, unit=5):
            model(torch.randn(2, 4))
    assert _all_hooks_empty(model)


def test_attach_twice_is_refused():
    stats = LayerStats(mlp([4, 3, 2]))
    with stats:
        with pytest.raises(RuntimeError, match="already attached"):
            stats.attach()


# --------------------------------------------------------------------------- widget functions


def test_gradient_flow_vanishes_through_deep_sigmoid_not_relu_with_he():
    sig = gradient_flow(6, "sigmoid")
    assert sig["weights"] == ["fc1", "fc2", "fc3", "fc4", "fc5", "fc6", "out"]
    assert sig["weight_grad_norm"].shape == (7,) and sig["act_std"].shape == (6,)
    assert sig["weight_grad_norm"][0] < 1e-2 * sig["weight_grad_norm"][-1]
    assert np.all(np.diff(np.log(sig["weight_grad_norm"])) > 0)  # grows toward the output at every layer
    relu_he = gradient_flow(6, "relu", "kaiming_normal")
    assert relu_he["weight_grad_norm"][0] > 0.1 * relu_he["weight_grad_norm"][-1]
    assert np.isnan(sig["dead"]).all() and np.isfinite(relu_he["dead"]).all()


def test_gradient_flow_matches_layerstats_on_the_same_model():
    x, y = _batch(n=30, d=64, classes=10)
    r = gradient_flow(3, "tanh", x=x, y=y, seed=4)
    model = mlp([64, 64, 64, 64, 10], "tanh", seed=4)
    F.cross_entropy(model(x), y).backward()
    norms = [m.weight.grad.norm().item() for m in model.modules() if isinstance(m, nn.Linear)]
    np.testing.assert_allclose(r["weight_grad_norm"], norms, rtol=1e-5)
    assert len(r["act_values"]) == 3 and r["act_values"][0].shape == (30 * 64,)


def test_gradient_flow_bad_inputs():
    with pytest.raises(ValueError, match="unknown activation"):
        gradient_flow(3, "swish")
    with pytest.raises(ValueError, match="depth must be >= 1"):
        gradient_flow(0)
    with pytest.raises(ValueError, match="weight_scale"):
        gradient_flow(3, weight_scale=0.0)
    with pytest.raises(ValueError, match="unknown init"):
        gradient_flow(3, init="orthogonal")
    with pytest.raises(ValueError, match="both x and y"):
        gradient_flow(3, x=torch.zeros(2, 64))


def test_mlp_weight_scale_multiplies_the_weights():
    a = mlp([64, 64, 64, 64, 10], "relu", seed=1)
    b = mlp([64, 64, 64, 64, 10], "relu", seed=1, weight_scale=2.5)
    torch.testing.assert_close(b.fc2.weight, 2.5 * a.fc2.weight)
    he = mlp([64, 64, 64, 64, 10], "relu", init="kaiming_normal", seed=1)
    assert he.fc2.weight.std().item() == pytest.approx((2 / 64) ** 0.5, rel=0.1)


def _lab_xor_losses(sizes, steps, seed, lr=1.0):
    """Lab 08's own loop, one network at a time: nn.Sequential, torch.optim.SGD, BCE on a final sigmoid."""
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = torch.tensor([[0.0], [1.0], [1.0], [0.0]])
    model = mlp(sizes, "sigmoid", seed=seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    out = []
    for _ in range(steps):
        loss = F.binary_cross_entropy(torch.sigmoid(model(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        out.append(loss.item())
    return np.array(out)


def test_xor_losses_trains_each_seed_as_the_lab_loop_does():
    batched = xor_losses([2, 3, 1], 200, [0, 5, 777])
    assert batched.shape == (3, 200)
    for row, seed in zip(batched, [0, 5, 777]):
        np.testing.assert_allclose(row, _lab_xor_losses([2, 3, 1], 200, seed), rtol=1e-4, atol=1e-6)
    deep = xor_losses([2, 4, 4, 1], 50, [1])
    np.testing.assert_allclose(deep[0], _lab_xor_losses([2, 4, 4, 1], 50, 1), rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="seeds"):
        xor_losses([2, 2, 1], 10, [])


def test_plateau_and_escape_counts_steps_near_ln2_and_the_first_step_below():
    ln2 = np.log(2)
    losses = np.array([ln2, ln2 + 0.005, ln2 - 0.02, 0.3, 0.09, 0.05])
    assert plateau_and_escape(losses) == (2, 5)
    assert plateau_and_escape(np.full(4, ln2)) == (4, None)


def test_gradient_flow_says_where_float32_overflowed():
    with pytest.warns(RuntimeWarning, match=r"overflowed float32 at act21 .*Lower weight_scale or depth"):
        r = gradient_flow(depth=30, activation="relu", init="normal", weight_scale=10)
    assert r["overflow"] == "act21" and not np.isfinite(r["loss"])
    assert np.all(np.isfinite(r["act_std"][:20])) and not np.isfinite(r["act_std"][20])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a network whose numbers stay finite gets no warning
        assert gradient_flow(depth=6, activation="relu", init="kaiming_normal")["overflow"] is None


@pytest.mark.parametrize("x, error, match", [
    (["a", "b"], TypeError, r"x must hold numbers .*got \['a', 'b'\]"),
    ([], ValueError, "x is empty"),
    ([0.0, float("inf")], ValueError, "x must hold finite numbers"),
    ([[1.0, 2.0], [3.0]], TypeError, "x must hold numbers"),
])
def test_activation_curve_names_a_bad_x(x, error, match):
    with pytest.raises(error, match=match):
        activation_curve("tanh", x)


def test_activation_curve_takes_lists_arrays_and_tensors_alike():
    want = activation_curve("gelu", np.array([-1.0, 0.5]))["f"]
    np.testing.assert_array_equal(activation_curve("gelu", [-1.0, 0.5])["f"], want)
    np.testing.assert_array_equal(activation_curve("gelu", torch.tensor([-1.0, 0.5]))["f"], want)


def test_widget_digits_cache_gives_gradient_flows_own_numbers(monkeypatch):
    from coursekit import flow
    from coursekit.plots import _widget_cache

    for seed in (0, 3):
        x, y = _widget_cache.digits_batch(256, seed)
        fx, fy = flow.digits_batch(256, seed)
        assert torch.equal(x, fx) and torch.equal(y, fy)
        for args in ((4, "sigmoid", "pytorch_default", 1.0), (3, "relu", "kaiming_normal", 2.0)):
            cached = gradient_flow(*args, seed=seed, x=x, y=y)
            plain = gradient_flow(*args, seed=seed)
            for key, value in plain.items():
                if isinstance(value, np.ndarray):
                    np.testing.assert_array_equal(cached[key], value, err_msg=key)
                elif isinstance(value, list) and value and isinstance(value[0], np.ndarray):
                    for a, b in zip(cached[key], value):
                        np.testing.assert_array_equal(a, b, err_msg=key)
                else:
                    assert cached[key] == value, key
    x[:] = -1.0  # what a caller does with its copy does not reach the kept batch
    assert torch.equal(_widget_cache.digits_batch(256, 0)[0], flow.digits_batch(256, 0)[0])
    reads = []
    monkeypatch.setattr(flow, "load_digits", lambda: reads.append(1) or pytest.fail("read again"))
    plot_gradient_flow(2, "tanh", seed=3)
    plot_activation_profile("relu", 2, seed=0)
    plt_close_all()
    assert reads == [], "the widget's redraws should reuse the digits batch it read before"


def plt_close_all():
    import matplotlib.pyplot as plt

    plt.close("all")


def test_activation_curve_derivatives_match_the_formulas():
    c = activation_curve("sigmoid")
    s = 1 / (1 + np.exp(-c["x"]))
    np.testing.assert_allclose(c["df"], s * (1 - s), atol=1e-12)
    assert c["df"].max() == pytest.approx(0.25) and c["x"][c["df"].argmax()] == pytest.approx(0.0)
    r = activation_curve("relu", np.array([-2.0, -0.5, 0.5, 3.0]))
    np.testing.assert_array_equal(r["df"], [0, 0, 1, 1])
    np.testing.assert_array_equal(r["f"], [0, 0, 0.5, 3.0])


def test_activation_profile_and_figures():
    import matplotlib.pyplot as plt

    p = activation_profile("relu", depth=4)
    assert p["dead"].shape == (4,) and np.isnan(p["saturated"]).all()
    fig = plot_activation_profile("tanh", depth=3)
    assert len(fig.axes) == 2
    plt.close(fig)
    # "never > 0" is called dead only for ReLU: a LeakyReLU unit below 0 still passes a gradient
    labels = {act: [t.get_text() for t in plot_activation_profile(act, depth=3).axes[1].get_legend().texts][0]
              for act in ("relu", "leaky_relu")}
    plt.close("all")
    assert labels["relu"].startswith("dead") and "still has a gradient" in labels["leaky_relu"]
    fig = plot_gradient_flow(4, "sigmoid")
    assert len(fig.axes) == 2 and fig.axes[0].get_yscale() == "log"
    plt.close(fig)


def test_last_values_are_ordered_input_side_first():
    x, y = _batch()
    model = mlp([12, 8, 8, 8, 3], "sigmoid", seed=0)
    with LayerStats(model) as stats:
        F.cross_entropy(model(x), y).backward()  # backward fills gradients output side first
    assert list(stats.last_grad) == ["act1", "act2", "act3"] == list(stats.last_act)


def test_gradient_flow_widget_redraws_when_a_control_changes():
    import ipywidgets as W

    from coursekit.widgets import interactive_figure

    panel = interactive_figure(
        plot_gradient_flow,
        depth=W.IntSlider(value=3, min=1, max=8), activation=["sigmoid", "relu"],
        init=["pytorch_default", "kaiming_normal"],
        weight_scale=W.FloatLogSlider(value=1.0, base=10, min=-1, max=1),
    )
    assert panel.calls == 1
    panel.controls["activation"].value = "relu"
    panel.controls["depth"].value = 5
    assert panel.calls == 3
    assert panel.last_figure.get_suptitle().startswith("5 hidden relu layers")


def test_activation_profile_widget_redraws_when_a_control_changes():
    from coursekit.widgets import interactive_figure

    panel = interactive_figure(plot_activation_profile, activation=["relu", "tanh"], depth=(2, 6))
    panel.controls["activation"].value = "tanh"
    assert panel.calls == 2
    assert panel.last_figure.axes[0].get_title() == "tanh and its derivative"


# ----------------------------------------------------------------------------- statistics as plain functions


def test_a_learners_statistic_is_one_function_and_comes_back_by_its_key():
    from coursekit.diagnostics import mean_std

    def positive(module, output):
        return {"positive": float((output > 0).float().mean())}

    model = mlp([4, 8, 8, 3], "tanh", seed=0)
    x, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
    with LayerStats(model, stats=[mean_std, positive]) as stats:
        nn.functional.cross_entropy(model(x), y).backward()
    h1 = torch.tanh(model.fc1(x))
    assert stats.values("positive")["act1"][0] == pytest.approx(float((h1 > 0).float().mean()))
    assert stats.act_std["act1"][0] == pytest.approx(float(h1.std()), rel=1e-5)
    assert np.isnan(stats.saturated["act1"][0])  # not asked for: NaN, not a stale default
    assert np.isfinite(stats.grad_norm["act1"][0])  # gradients are still recorded
    row = stats.table()[0]
    assert row["positive"] == stats.values("positive")["act1"][0] and np.isnan(row["p50"])
    with pytest.raises(TypeError, match=r"stats\[0\] must be a function \(module, output\) -> dict"):
        LayerStats(model, stats=["mean"])


def test_hooks_core_removes_every_hook_even_when_the_body_raises():
    from coursekit.hooks import Hooks

    model = mlp([4, 8, 3], seed=0)
    seen = []
    hooks = Hooks(model, {"fc1": model.fc1}, [lambda m, out: seen.append(out.shape) or {"n": out.shape[0]}])
    with pytest.raises(RuntimeError, match="boom"):
        with hooks:
            model(torch.randn(5, 4))
            raise RuntimeError("boom")
    model(torch.randn(7, 4))  # after the block: nothing records
    assert seen == [torch.Size([5, 8])] and hooks.records["fc1"] == [{"n": 5}] and list(hooks.steps) == [1]
    assert not model._forward_hooks and not model._forward_pre_hooks and not model.fc1._forward_hooks
