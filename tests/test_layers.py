"""Scratch Dropout and BatchNorm1d against torch.nn's own modules."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from coursekit.layers import BatchNorm1d, Dropout, batchnorm_backward, dropout_mask

# ----------------------------------------------------------------------------- Dropout


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.9])
def test_dropout_matches_torch_dropout_with_the_same_seed(p):
    x = torch.randn(64, 40)
    torch.manual_seed(123)
    ours = Dropout(p)(x)
    torch.manual_seed(123)
    ref = nn.Dropout(p)(x)
    assert torch.equal(ours, ref), "same seed, same mask, same rounding: the outputs should be identical"


def test_dropout_gradient_matches_torch_dropout():
    x1 = torch.randn(32, 16, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    w = torch.randn(32, 16)
    torch.manual_seed(7)
    (Dropout(0.4)(x1) * w).sum().backward()
    torch.manual_seed(7)
    (nn.Dropout(0.4)(x2) * w).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.7])
def test_dropout_keep_rate_is_one_minus_p(p):
    layer = Dropout(p)
    out = layer(torch.ones(200, 500))
    kept = (out != 0).float().mean().item()
    # 100,000 Bernoulli draws: standard error <= 0.0016; allow 5 of them
    assert abs(kept - (1 - p)) < 0.008
    assert torch.equal(layer.last_mask, (out != 0).float())


@pytest.mark.parametrize("p", [0.2, 0.5, 0.7])
def test_inverted_dropout_keeps_expectation(p):
    x = torch.rand(400, 250) + 0.5
    out = Dropout(p)(x)
    # each entry: mean x, variance x^2 p / (1 - p); compare the means with 5 standard errors
    se = math.sqrt((x ** 2).sum().item() * p / (1 - p)) / x.numel()
    assert abs(out.mean().item() - x.mean().item()) < 5 * se
    kept = out[out != 0]
    torch.testing.assert_close(kept, (x / (1 - p))[out != 0])


def test_dropout_is_identity_in_eval_mode():
    layer = Dropout(0.5).eval()
    x = torch.randn(10, 20)
    assert layer(x) is x
    assert layer.last_mask is None
    torch.testing.assert_close(nn.Dropout(0.5).eval()(x), layer(x))


def test_dropout_draws_a_fresh_mask_every_call():
    layer = Dropout(0.5)
    x = torch.ones(20, 30)
    assert not torch.equal(layer(x), layer(x))


def test_dropout_edge_probabilities_match_torch():
    x = torch.randn(5, 6)
    torch.testing.assert_close(Dropout(0.0)(x), x)
    torch.testing.assert_close(Dropout(1.0)(x), nn.Dropout(1.0)(x))
    assert torch.count_nonzero(Dropout(1.0)(x)) == 0


def test_dropout_has_no_parameters_and_a_pytorch_like_repr():
    layer = Dropout(0.3)
    assert list(layer.parameters()) == []
    assert repr(layer) == "Dropout(p=0.3, inplace=False)"
    assert repr(nn.Dropout(0.3)) == repr(layer)


def test_dropout_rejects_bad_arguments():
    with pytest.raises(ValueError, match="p must be <= 1"):
        Dropout(1.5)
    with pytest.raises(ValueError, match="p must be >= 0"):
        Dropout(-0.1)
    with pytest.raises(TypeError, match="p must be a number"):
        Dropout("0.5")
    with pytest.raises(TypeError, match="inplace"):
        Dropout(0.5, inplace=1)
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        Dropout(0.5)([1.0, 2.0])


def test_dropout_mask_is_reproducible_with_a_generator():
    a = dropout_mask((50, 8), 0.3, generator=torch.Generator().manual_seed(1))
    b = dropout_mask((50, 8), 0.3, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    assert set(a.unique().tolist()) <= {0.0, 1.0}
    with pytest.raises(TypeError, match="generator"):
        dropout_mask((2, 2), 0.5, generator=1)
    with pytest.raises(ValueError, match="shape"):
        dropout_mask((2, -1), 0.5)


def _mc_net(p, batchnorm=False):
    torch.manual_seed(0)
    layers = [nn.Linear(4, 12)] + ([nn.BatchNorm1d(12)] if batchnorm else []) + [nn.ReLU(), Dropout(p), nn.Linear(12, 3)]
    net = nn.Sequential(*layers)
    if batchnorm:
        net[1].running_mean.fill_(1.0)
    return net.eval()


def test_mc_dropout_predict_averages_thinned_networks_and_restores_every_mode():
    from coursekit.layers import mc_dropout_predict

    x = torch.randn(6, 4)
    net = _mc_net(0.0)
    with torch.no_grad():
        full = torch.softmax(net(x), 1)
    torch.testing.assert_close(mc_dropout_predict(net, x, n_samples=3), full)  # no dropout: every pass the same
    net = _mc_net(0.5, batchnorm=True)
    torch.manual_seed(1)
    probs = mc_dropout_predict(net, x, n_samples=5)
    torch.manual_seed(1)
    passes = []
    for _ in range(5):  # the same passes by hand: dropout on, batch norm on its running statistics
        net[3].train()
        with torch.no_grad():
            passes.append(torch.softmax(net(x), 1))
        net[3].eval()
    torch.testing.assert_close(probs, torch.stack(passes).mean(0))
    torch.testing.assert_close(probs.sum(1), torch.ones(6))
    assert not any(m.training for m in net.modules())
    with pytest.raises(ValueError, match="n_samples"):
        mc_dropout_predict(net, x, n_samples=0)


# -------------------------------------------------------------------------- BatchNorm1d

def _pair(num_features=5, **kwargs):
    ours, ref = BatchNorm1d(num_features, **kwargs), nn.BatchNorm1d(num_features, **kwargs)
    if ref.affine:  # non-trivial gamma and beta, the same in both
        with torch.no_grad():
            ref.weight.copy_(torch.rand(num_features) + 0.5)
            ref.bias.copy_(torch.randn(num_features))
            ours.weight.copy_(ref.weight)
            ours.bias.copy_(ref.bias)
    return ours, ref


@pytest.mark.parametrize("shape", [(16, 5), (8, 5, 7)])
def test_batchnorm_train_mode_output_matches_torch(shape):
    ours, ref = _pair(5)
    x = torch.randn(*shape) * 3 + 2
    torch.testing.assert_close(ours(x), ref(x))


def test_batchnorm_normalizes_each_feature_to_zero_mean_unit_variance():
    layer = BatchNorm1d(4, affine=False)
    y = layer(torch.randn(256, 4) * torch.tensor([0.5, 1.0, 10.0, 100.0]) + 5)
    torch.testing.assert_close(y.mean(0), torch.zeros(4), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var(0, unbiased=False), torch.ones(4), atol=1e-3, rtol=0)


def test_batchnorm_gradients_match_torch():
    ours, ref = _pair(6)
    x1 = (torch.randn(12, 6) * 2 + 1).requires_grad_(True)
    x2 = x1.detach().clone().requires_grad_(True)
    w = torch.randn(12, 6)
    (ours(x1) * w).sum().backward()
    (ref(x2) * w).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    torch.testing.assert_close(ours.weight.grad, ref.weight.grad)
    torch.testing.assert_close(ours.bias.grad, ref.bias.grad)


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("shape", [(10, 5), (4, 5, 3)])
def test_batchnorm_running_stats_match_torch_over_several_steps(momentum, shape):
    ours, ref = _pair(5, momentum=momentum)
    for step in range(6):
        x = torch.randn(*shape) * (step + 1) + step
        torch.testing.assert_close(ours(x), ref(x))
        torch.testing.assert_close(ours.running_mean, ref.running_mean)
        torch.testing.assert_close(ours.running_var, ref.running_var)
        assert int(ours.num_batches_tracked) == int(ref.num_batches_tracked) == step + 1


def test_batchnorm_running_variance_is_the_unbiased_batch_variance():
    layer = BatchNorm1d(3, momentum=1.0)  # momentum 1: running stats = last batch's
    x = torch.randn(5, 3)
    layer(x)
    torch.testing.assert_close(layer.running_mean, x.mean(0))
    torch.testing.assert_close(layer.running_var, x.var(0, unbiased=True))


def test_batchnorm_eval_mode_uses_running_stats_like_torch():
    ours, ref = _pair(5)
    for _ in range(4):
        x = torch.randn(20, 5) * 2 - 1
        ours(x), ref(x)
    ours.eval(), ref.eval()
    x = torch.randn(3, 5)
    torch.testing.assert_close(ours(x), ref(x))
    before = ours.running_mean.clone()
    ours(torch.randn(7, 5) + 100)
    assert torch.equal(ours.running_mean, before), "eval mode must not update the running statistics"
    one = torch.randn(1, 5)  # a batch of one is fine in eval mode
    torch.testing.assert_close(ours(one), ref(one))


def test_batchnorm_without_running_stats_or_affine_matches_torch():
    ours, ref = _pair(4, affine=False, track_running_stats=False)
    assert ours.running_mean is None and ours.weight is None
    ours.eval(), ref.eval()
    x = torch.randn(9, 4) * 4
    torch.testing.assert_close(ours(x), ref(x))


def test_batchnorm_repr_and_bias_flag_follow_torch():
    import inspect

    assert repr(BatchNorm1d(5)) == (
        "BatchNorm1d(5, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)")
    no_beta = BatchNorm1d(3, bias=False)
    assert no_beta.bias is None and no_beta.weight is not None
    x = torch.randn(6, 3)
    torch.testing.assert_close(no_beta(x), nn.functional.batch_norm(x, None, None, training=True))
    if "bias" in inspect.signature(nn.BatchNorm1d).parameters:  # PyTorch releases with the flag
        assert repr(BatchNorm1d(5)) == repr(nn.BatchNorm1d(5))
        ref = nn.BatchNorm1d(3, bias=False)
        assert set(no_beta.state_dict()) == set(ref.state_dict())
        torch.testing.assert_close(no_beta(x), ref(x))
    with pytest.raises(TypeError, match="bias must be True or False"):
        BatchNorm1d(3, bias=None)


def test_batchnorm_state_dict_moves_between_scratch_and_torch():
    ours, ref = _pair(5)
    for _ in range(3):
        ref(torch.randn(8, 5) + 3)
    ours.load_state_dict(ref.state_dict())
    assert set(ours.state_dict()) == set(ref.state_dict())
    ours.eval(), ref.eval()
    x = torch.randn(4, 5)
    torch.testing.assert_close(ours(x), ref(x))


def test_batchnorm_in_a_network_trains_like_torch():
    torch.manual_seed(0)
    net_ref = nn.Sequential(nn.Linear(8, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))
    net_ours = nn.Sequential(nn.Linear(8, 6), BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))
    net_ours.load_state_dict(net_ref.state_dict())
    opts = [torch.optim.SGD(n.parameters(), lr=0.1) for n in (net_ref, net_ours)]
    for _ in range(5):
        x, y = torch.randn(16, 8), torch.randint(0, 3, (16,))
        for net, opt in zip((net_ref, net_ours), opts):
            opt.zero_grad()
            nn.functional.cross_entropy(net(x), y).backward()
            opt.step()
    for (k, a), b in zip(net_ref.state_dict().items(), net_ours.state_dict().values()):
        torch.testing.assert_close(a, b, msg=lambda m, k=k: f"{k}: {m}")


@pytest.mark.parametrize("n, c, eps", [(8, 4, 1e-5), (2, 3, 1e-5), (5, 2, 0.5)])
def test_batchnorm_backward_by_hand_matches_autograd(n, c, eps):
    gen = torch.Generator().manual_seed(n * 10 + c)
    x = (torch.randn(n, c, generator=gen, dtype=torch.float64) * 2 + 1).requires_grad_(True)
    gamma = (torch.rand(c, generator=gen, dtype=torch.float64) + 0.5).requires_grad_(True)
    beta = torch.randn(c, generator=gen, dtype=torch.float64).requires_grad_(True)
    dout = torch.randn(n, c, generator=gen, dtype=torch.float64)
    y = nn.functional.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)
    (y * dout).sum().backward()
    dx, dgamma, dbeta = batchnorm_backward(dout, x.detach(), gamma.detach(), eps=eps)
    torch.testing.assert_close(dx, x.grad)
    torch.testing.assert_close(dgamma, gamma.grad)
    torch.testing.assert_close(dbeta, beta.grad)


def test_batchnorm_backward_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        batchnorm_backward(torch.randn(4, 3), torch.randn(4, 2), torch.ones(2))
    with pytest.raises(ValueError, match="N >= 2"):
        batchnorm_backward(torch.randn(1, 2), torch.randn(1, 2), torch.ones(2))


def test_batchnorm_refuses_one_value_per_feature_in_training_like_torch():
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        BatchNorm1d(3)(torch.randn(1, 3))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        nn.BatchNorm1d(3)(torch.randn(1, 3))


def test_batchnorm_reset_running_stats():
    layer = BatchNorm1d(2)
    layer(torch.randn(4, 2) + 5)
    layer.reset_running_stats()
    assert torch.equal(layer.running_mean, torch.zeros(2))
    assert torch.equal(layer.running_var, torch.ones(2))
    assert int(layer.num_batches_tracked) == 0


def test_batchnorm_rejects_bad_arguments_and_shapes():
    with pytest.raises(ValueError, match="num_features must be >= 1"):
        BatchNorm1d(0)
    with pytest.raises(TypeError, match="num_features must be an integer"):
        BatchNorm1d(3.0)
    with pytest.raises(ValueError, match="momentum must be <= 1"):
        BatchNorm1d(3, momentum=2.0)
    with pytest.raises(ValueError, match="eps must be > 0"):
        BatchNorm1d(3, eps=0.0)
    with pytest.raises(TypeError, match="affine"):
        BatchNorm1d(3, affine="yes")
    with pytest.raises(ValueError, match=r"x must have shape \(N, 3\)"):
        BatchNorm1d(3)(torch.randn(4, 5))
    with pytest.raises(ValueError, match=r"x must have shape"):
        BatchNorm1d(3)(torch.randn(4))


# ------------------------------------------------------------------- tracker and widgets

def _tiny_data(n=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=g)
    y = (x[:, 0] > 0).long()
    return x, y


def test_unit_input_tracker_records_percentiles_of_the_hooked_input():
    from coursekit.diagnostics import UnitInputTracker
    from coursekit.models import mlp
    from coursekit.train import fit

    x, y = _tiny_data()
    model = mlp([6, 8, 8, 2], activation="sigmoid", batchnorm=True, seed=0)
    tracker = UnitInputTracker(model.act2, x, y, unit=3, every=2)
    fit(model, (x, y), optimizer="sgd", lr=0.5, epochs=3, batch_size=10, progress=False, callbacks=[tracker])
    assert tracker.steps == [0, 2, 4, 6, 8, 10, 12]
    assert tracker.values.shape == (7, 3)
    assert model.training, "the tracker must restore train mode"
    assert not model.act2._forward_pre_hooks, "the tracker must remove its hook"
    # the last record equals a brute-force recomputation in eval mode
    model.eval()
    with torch.no_grad():
        z = model.bn2(model.fc2(model.act1(model.bn1(model.fc1(x)))))[:, 3]
        acc = (model(x).argmax(1) == y).float().mean().item()
    expected = torch.quantile(z, torch.tensor([0.15, 0.50, 0.85]))
    torch.testing.assert_close(torch.tensor(tracker.values[-1], dtype=torch.float32), expected)
    assert tracker.accuracy[-1] == pytest.approx(acc)
    assert (tracker.values[:, 0] <= tracker.values[:, 1]).all() and (tracker.values[:, 1] <= tracker.values[:, 2]).all()


def test_unit_input_tracker_records_every_unit_when_unit_is_none():
    from coursekit.diagnostics import UnitInputTracker
    from coursekit.models import mlp
    from coursekit.train import fit

    x, y = _tiny_data()
    model = mlp([6, 8, 5, 2], activation="sigmoid", seed=0)
    every = UnitInputTracker(model.act2, x, y, unit=None, every=3)
    one = UnitInputTracker(model.act2, x, y, unit=4, every=3)
    fit(model, (x, y), optimizer="sgd", lr=0.5, epochs=2, batch_size=10, progress=False, callbacks=[every, one])
    assert every.values.shape == (3, 5, 3)
    np.testing.assert_allclose(every.values[:, 4, :], one.values, rtol=1e-6)
    with pytest.raises(ValueError, match="unit must be < 5"):
        fit(model, (x, y), epochs=1, batch_size=10, progress=False,
            callbacks=[UnitInputTracker(model.act2, x, y, unit=9)])


def test_unit_input_tracker_can_skip_step_zero_and_rejects_bad_arguments():
    from coursekit.diagnostics import UnitInputTracker
    from coursekit.models import mlp
    from coursekit.train import fit

    x, y = _tiny_data()
    model = mlp([6, 4, 2], seed=0)
    tracker = UnitInputTracker(model.act1, x, y, every=4, at_start=False)
    fit(model, (x, y), epochs=2, batch_size=10, progress=False, callbacks=[tracker])
    assert tracker.steps == [4, 8]
    with pytest.raises(TypeError, match="module"):
        UnitInputTracker("act1", x, y)
    with pytest.raises(ValueError, match="every must be >= 1"):
        UnitInputTracker(model.act1, x, y, every=0)
    with pytest.raises(ValueError, match="same, non-zero number"):
        UnitInputTracker(model.act1, x, y[:-1])
    with pytest.raises(ValueError, match=r"percentiles\[1\] must be <= 100"):
        UnitInputTracker(model.act1, x, y, percentiles=(50, 150))
    with pytest.raises(TypeError, match="at_start"):
        UnitInputTracker(model.act1, x, y, at_start="no")


def test_bn_statistics_trace_follows_the_momentum_recursion():
    from coursekit.layers import bn_statistics_trace

    tr = bn_statistics_trace(batch_size=5, momentum=0.2, steps=30, seed=3)
    m, rm, rv = 0.2, 0.0, 1.0
    for t in range(30):  # brute-force exponential moving averages of the batch statistics
        rm = (1 - m) * rm + m * tr["batch_mean"][t]
        rv = (1 - m) * rv + m * tr["batch_var"][t]
        assert tr["running_mean"][t] == pytest.approx(rm, rel=1e-4, abs=1e-5)
        assert tr["running_var"][t] == pytest.approx(rv, rel=1e-4, abs=1e-5)
    assert tr["true_mean"] == 2.0 and tr["true_var"] == 9.0


def test_bn_statistics_trace_matches_batchnorm_modules_fed_the_same_batches():
    from coursekit.layers import bn_statistics_trace

    pop = torch.randn(300) * 2 + 1
    tr = bn_statistics_trace(batch_size=6, momentum=0.3, steps=25, population=pop, seed=4)
    g = torch.Generator().manual_seed(4)  # the same draws as the trace
    draws = pop[torch.randint(0, pop.numel(), (25, 6), generator=g)]
    ours, ref = BatchNorm1d(1, momentum=0.3), nn.BatchNorm1d(1, momentum=0.3)
    for t in range(25):
        ours(draws[t].unsqueeze(1)), ref(draws[t].unsqueeze(1))
        assert tr["batch_mean"][t] == pytest.approx(draws[t].mean().item(), abs=1e-5)
        for module in (ours, ref):
            assert tr["running_mean"][t] == pytest.approx(module.running_mean.item(), rel=1e-4, abs=1e-5)
            assert tr["running_var"][t] == pytest.approx(module.running_var.item(), rel=1e-4, abs=1e-5)


def test_bn_statistics_trace_matches_a_population():
    from coursekit.layers import bn_statistics_trace

    pop = torch.linspace(-1.0, 5.0, 101)
    tr = bn_statistics_trace(batch_size=16, momentum=0.1, steps=400, population=pop, seed=0)
    assert tr["true_mean"] == pytest.approx(2.0, abs=1e-5)
    assert tr["true_var"] == pytest.approx(pop.var(unbiased=False).item(), rel=1e-5)
    # after many steps the running statistics sit near the population's
    assert abs(tr["running_mean"][-50:].mean() - 2.0) < 0.2
    assert abs(tr["running_var"][-50:].mean() / tr["true_var"] - 1) < 0.2
    # bigger batches make the batch means less noisy (standard error ~ 1/sqrt(B))
    small = bn_statistics_trace(batch_size=4, momentum=0.1, steps=400, population=pop, seed=0)
    assert small["batch_mean"].std() > 1.5 * tr["batch_mean"].std()


def test_bn_statistics_trace_rejects_bad_arguments():
    from coursekit.layers import bn_statistics_trace

    with pytest.raises(ValueError, match="batch_size must be >= 2"):
        bn_statistics_trace(1, 0.1)
    with pytest.raises(ValueError, match="momentum must be > 0"):
        bn_statistics_trace(8, 0.0)
    with pytest.raises(ValueError, match="population must have 1 dimensions"):
        bn_statistics_trace(8, 0.1, population=torch.zeros(3, 3))
    with pytest.raises(ValueError, match="true_std must be > 0"):
        bn_statistics_trace(8, 0.1, true_std=0.0)


def _fake_sweep():
    from coursekit.train import History

    sweep = {}
    for i, p in enumerate((0.0, 0.3, 0.5)):
        sweep[p] = History(epoch=[1, 2, 3], train_loss=[1.0, 0.5, 0.2 + i / 10], val_loss=[1.1, 0.7, 0.6],
                           train_acc=[0.5, 0.8, 0.9], val_acc=[0.5, 0.7, 0.8], label=f"p={p}")
    return sweep


def test_draw_dropout_network_crosses_out_the_masked_units():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from coursekit.layers import dropout_mask
    from coursekit.plots import draw_dropout_network

    sizes = (4, 10, 10, 3)
    fig = draw_dropout_network(0.5, sizes=sizes, sample=5)
    g = torch.Generator().manual_seed(5)
    dropped = sum(int((dropout_mask((n,), 0.5, generator=g) == 0).sum()) for n in sizes[1:-1])
    assert f"{dropped} of 20 hidden units dropped" in fig.axes[0].get_title()
    plt.close(fig)
    fig0 = draw_dropout_network(0.0, sizes=sizes)
    assert "0 of 20 hidden units dropped" in fig0.axes[0].get_title()
    plt.close(fig0)
    fig2 = draw_dropout_network(0.3, sweep=_fake_sweep())
    assert len(fig2.axes) == 2 and "p = 0.30" in fig2.axes[1].get_title()
    plt.close(fig2)


def test_draw_dropout_network_adds_the_eval_mode_training_loss_when_recorded():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from coursekit.plots import draw_dropout_network

    sweep = _fake_sweep()
    fig = draw_dropout_network(0.3, sweep=sweep)
    labels = [line.get_label() for line in fig.axes[1].get_lines()]
    assert "train (eval mode)" not in labels, "without eval_train the History has no eval-mode loss to draw"
    plt.close(fig)
    sweep[0.3].eval_train_loss = [0.9, 0.3, 0.05]
    fig = draw_dropout_network(0.3, sweep=sweep)
    lines = {line.get_label(): line for line in fig.axes[1].get_lines()}
    assert "train (eval mode)" in lines and "train (dropout on)" in lines, sorted(lines)
    assert list(lines["train (eval mode)"].get_ydata()) == [0.9, 0.3, 0.05], "the dashed curve is eval_train_loss"
    plt.close(fig)


def test_draw_dropout_network_rejects_bad_arguments():
    from coursekit.plots import draw_dropout_network

    with pytest.raises(ValueError, match="not in the sweep"):
        draw_dropout_network(0.2, sweep=_fake_sweep())
    with pytest.raises(TypeError, match="sweep must be a non-empty dict"):
        draw_dropout_network(0.3, sweep=[1, 2])
    with pytest.raises(ValueError, match="p must be <= 1"):
        draw_dropout_network(1.2)
    with pytest.raises(ValueError, match="at least one hidden"):
        draw_dropout_network(0.3, sizes=(4, 3))
    with pytest.raises(ValueError, match=r"sizes\[1\] must be <= 30"):
        draw_dropout_network(0.3, sizes=(4, 100, 3))


def test_draw_bn_tracking_returns_two_labelled_panels():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from coursekit.plots import plot_bn_tracking

    fig = plot_bn_tracking(batch_size=8, momentum=0.1, steps=50)
    assert len(fig.axes) == 2
    assert fig.axes[0].get_title().startswith("mean") and fig.axes[1].get_title().startswith("variance")
    plt.close(fig)


def test_every_public_function_and_class_of_layers_is_exported():
    import inspect

    from coursekit import layers

    public = {n for n, v in vars(layers).items()
              if not n.startswith("_") and (inspect.isfunction(v) or inspect.isclass(v)) and v.__module__ == layers.__name__}
    assert public == set(layers.__all__), "every public function and class should be in __all__ (and nothing else)"
