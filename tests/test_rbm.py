"""coursekit.rbm against brute-force enumeration, autograd, torch.nn and scikit-learn's formulas.

That RBM.fit applies the update its docstring states, with RBM.cd_gradient, is tested in test_rbm_training.py.
"""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from coursekit.dbn import DBN
from coursekit.models import mlp
from coursekit.rbm import RBM, all_binary_states


def tiny_rbm(n_visible: int = 6, n_hidden: int = 4, seed: int = 0, scale: float = 1.0) -> RBM:
    """A tiny RBM with weights and biases large enough that its distribution is far from uniform."""
    rbm = RBM(n_visible, n_hidden, seed=seed)
    g = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():
        rbm.weight.copy_(torch.randn(n_hidden, n_visible, generator=g) * scale)
        rbm.visible_bias.copy_(torch.randn(n_visible, generator=g) * 0.5 * scale)
        rbm.hidden_bias.copy_(torch.randn(n_hidden, generator=g) * 0.5 * scale)
    return rbm


def tiny_data() -> torch.Tensor:
    """Binary 6-pixel data with structure: two prototype patterns with a little noise."""
    g = torch.Generator().manual_seed(7)
    protos = torch.tensor([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]], dtype=torch.float32)
    rows = protos[torch.randint(0, 2, (200,), generator=g)]
    flips = (torch.rand(rows.shape, generator=g) < 0.05).float()
    return (rows + flips) % 2


def joint_table(rbm: RBM) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """All (v, h) pairs and their exact probabilities, computed from the energy alone (float64)."""
    vs = all_binary_states(rbm.n_visible)
    hs = all_binary_states(rbm.n_hidden)
    v = vs.repeat_interleave(len(hs), 0)
    h = hs.repeat(len(vs), 1)
    e = rbm.energy(v, h).double()
    p = torch.softmax(-e, 0)
    return v, h, p


def cosine(a: dict, b: dict) -> float:
    fa = torch.cat([a[k].flatten().double() for k in ("weight", "visible_bias", "hidden_bias")])
    fb = torch.cat([b[k].flatten().double() for k in ("weight", "visible_bias", "hidden_bias")])
    return float(fa @ fb / (fa.norm() * fb.norm()))


def exact_gradient(rbm: RBM, data: torch.Tensor) -> dict:
    """Gradient of the exact mean log-likelihood, by autograd through the enumerated log Z."""
    rbm.requires_grad_(True)
    ll = rbm.log_likelihood(data).mean()
    gw, ga, gb = torch.autograd.grad(ll, [rbm.weight, rbm.visible_bias, rbm.hidden_bias])
    rbm.requires_grad_(False)
    return {"weight": gw, "visible_bias": ga, "hidden_bias": gb}


def mean_log_likelihood(rbm: RBM, data: torch.Tensor) -> float:
    with torch.no_grad():
        return float(rbm.log_likelihood(data).mean())


# ------------------------------------------------------------------ the model's formulas

def test_all_binary_states_counts_in_order():
    s = all_binary_states(3)
    assert s.shape == (8, 3)
    assert s[5].tolist() == [1.0, 0.0, 1.0]
    assert len({tuple(r) for r in s.tolist()}) == 8


def test_energy_matches_the_formula_written_with_einsum():
    rbm = tiny_rbm()
    v = all_binary_states(6)[::7]
    h = all_binary_states(4).repeat(2, 1)[: len(v)]
    expected = -(v * rbm.visible_bias).sum(1) - (h * rbm.hidden_bias).sum(1) - torch.einsum(
        "nj,ji,ni->n", h, rbm.weight, v)
    torch.testing.assert_close(rbm.energy(v, h), expected)


def test_free_energy_matches_brute_force_sum_over_hidden_states():
    rbm = tiny_rbm()
    vs = all_binary_states(6)
    hs = all_binary_states(4)
    for v in vs[::5]:
        e = rbm.energy(v[None].repeat(len(hs), 1), hs).double()
        brute = -torch.logsumexp(-e, 0)
        assert float(rbm.free_energy(v[None])[0]) == pytest.approx(float(brute), abs=1e-5)


def test_log_partition_matches_enumeration_of_every_joint_state():
    for nv, nh in ((6, 4), (3, 7)):  # enumerates the hidden side, then the visible side
        rbm = tiny_rbm(nv, nh, seed=nv)
        vs, hs = all_binary_states(nv), all_binary_states(nh)
        v, h = vs.repeat_interleave(len(hs), 0), hs.repeat(len(vs), 1)
        brute = torch.logsumexp(-rbm.energy(v, h).double(), 0)
        assert float(rbm.log_partition()) == pytest.approx(float(brute), abs=1e-6)


def test_exact_probabilities_of_all_visible_states_sum_to_one():
    rbm = tiny_rbm()
    with torch.no_grad():
        p = rbm.log_likelihood(all_binary_states(6)).exp()
    assert float(p.sum()) == pytest.approx(1.0, abs=1e-9)


def test_conditionals_match_bayes_rule_on_the_enumerated_joint():
    rbm = tiny_rbm()
    v, h, p = joint_table(rbm)
    vs, hs = all_binary_states(6), all_binary_states(4)
    for i, vi in enumerate(vs[::9]):
        mask = (v == vi).all(1)
        cond = p[mask] / p[mask].sum()          # p(h | v = vi)
        brute = cond @ h[mask].double()         # p(h_j = 1 | v = vi)
        torch.testing.assert_close(rbm.hidden_probs(vi[None])[0].double(), brute, atol=1e-5, rtol=0)
    for hi in hs[::3]:
        mask = (h == hi).all(1)
        cond = p[mask] / p[mask].sum()
        brute = cond @ v[mask].double()
        torch.testing.assert_close(rbm.visible_probs(hi[None])[0].double(), brute, atol=1e-5, rtol=0)


def test_hidden_probs_of_a_batch_factorise_into_independent_units():
    rbm = tiny_rbm()
    v, h, p = joint_table(rbm)
    v0 = all_binary_states(6)[13]
    mask = (v == v0).all(1)
    cond = p[mask] / p[mask].sum()
    ph = rbm.hidden_probs(v0[None])[0].double()
    product = torch.prod(torch.where(h[mask] == 1, ph, 1 - ph), 1)
    torch.testing.assert_close(product, cond, atol=1e-6, rtol=0)


def test_transform_equals_sigmoid_of_an_nn_linear_with_the_rbm_weights():
    rbm = tiny_rbm(10, 5)
    lin = nn.Linear(10, 5)
    with torch.no_grad():
        lin.weight.copy_(rbm.weight)
        lin.bias.copy_(rbm.hidden_bias)
    x = torch.rand(8, 10)
    torch.testing.assert_close(rbm.transform(x), torch.sigmoid(lin(x)))
    assert not rbm.transform(x).requires_grad


def test_exact_gradient_by_autograd_matches_data_minus_model_statistics():
    rbm = tiny_rbm()
    data = tiny_data()
    grads = exact_gradient(rbm, data)
    v, h, p = joint_table(rbm)
    with torch.no_grad():
        ph = rbm.hidden_probs(data).double()
        model_vh = (h.double() * p[:, None]).T @ v.double()
        data_vh = ph.T @ data.double() / len(data)
    torch.testing.assert_close(grads["weight"].double(), data_vh - model_vh, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(grads["visible_bias"].double(), data.double().mean(0) - p @ v.double(),
                               atol=1e-5, rtol=1e-4)


def test_init_visible_bias_is_the_log_odds_of_each_pixel():
    rbm = RBM(4, 3, seed=0)
    x = torch.tensor([[1, 0, 1, 0], [1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0]], dtype=torch.float32)
    rbm.init_visible_bias(x, eps=0.01)
    p = torch.tensor([0.75, 0.25, 0.5, 0.01])
    torch.testing.assert_close(rbm.visible_bias.detach(), torch.log(p / (1 - p)))
    # with h = 0 the visible units then reproduce the data's pixel means
    torch.testing.assert_close(rbm.visible_probs(torch.zeros(1, 3))[0], p)


def test_guide_defaults_small_weights_and_zero_hidden_biases():
    rbm = RBM(64, 100, seed=3)
    assert float(rbm.weight.std()) == pytest.approx(0.01, rel=0.1)
    assert float(rbm.hidden_bias.abs().max()) == 0.0
    assert not rbm.weight.requires_grad  # trained by CD, not by autograd
    torch.testing.assert_close(rbm.weight, RBM(64, 100, seed=3).weight)


def test_pseudo_likelihood_of_a_one_pixel_rbm_is_its_exact_log_likelihood():
    # flipping the only pixel gives log sigmoid(F(1 - v) - F(v)) = log p(v) exactly
    rbm = tiny_rbm(1, 3)
    v = torch.tensor([[0.0], [1.0]])
    torch.testing.assert_close(rbm.pseudo_likelihood(v).double(), rbm.log_likelihood(v).detach(),
                               atol=1e-5, rtol=0)


def test_pseudo_likelihood_equals_scikit_learn_score_samples_formula():
    pytest.importorskip("sklearn")
    from sklearn.neural_network import BernoulliRBM

    rbm = tiny_rbm(1, 3)
    sk = BernoulliRBM(n_components=3)
    sk.components_ = rbm.weight.detach().double().numpy()
    sk.intercept_hidden_ = rbm.hidden_bias.detach().double().numpy()
    sk.intercept_visible_ = rbm.visible_bias.detach().double().numpy()
    sk.n_features_in_ = 1
    v = torch.tensor([[0.0], [1.0], [0.3]])
    expected = torch.from_numpy(sk.score_samples(v.double().numpy()))
    torch.testing.assert_close(rbm.pseudo_likelihood(v).double(), expected, atol=1e-5, rtol=0)


# ------------------------------------------------------------------ CD and PCD on the tiny RBM

def test_cd1_gradient_points_the_same_way_as_the_exact_gradient():
    rbm = tiny_rbm(scale=0.5)
    data = tiny_data().repeat(20, 1)  # a large batch: little sampling noise left
    grads, chain = rbm.cd_gradient(data, 1, generator=torch.Generator().manual_seed(0))
    assert chain is None
    assert cosine(grads, exact_gradient(rbm, tiny_data())) > 0.8


def test_pcd_with_long_chains_estimates_the_exact_gradient():
    rbm = tiny_rbm(scale=0.5)
    data = tiny_data().repeat(20, 1)
    gen = torch.Generator().manual_seed(1)
    chain = torch.zeros(len(data), 4)
    # run the persistent chains to equilibrium, then take the estimate
    _, chain = rbm.cd_gradient(data, 50, chain=chain, generator=gen)
    grads, chain = rbm.cd_gradient(data, 1, chain=chain, generator=gen)
    assert chain.shape == (len(data), 4) and set(chain.unique().tolist()) <= {0.0, 1.0}
    assert cosine(grads, exact_gradient(rbm, tiny_data())) > 0.95


@pytest.mark.parametrize("persistent", [False, True])
def test_training_raises_the_exact_log_likelihood(persistent):
    rbm = RBM(6, 4, seed=0)
    data = tiny_data()
    before = mean_log_likelihood(rbm, data)
    rbm.init_visible_bias(data)
    after_bias = mean_log_likelihood(rbm, data)
    hist = rbm.fit(data, epochs=40, batch_size=10, lr=0.05, momentum=0.0, initial_momentum=None,
                   persistent=persistent, init_visible_bias=False, monitor=False, seed=0)
    after = mean_log_likelihood(rbm, data)
    assert after_bias > before  # the guide's visible-bias init alone helps
    # measured gains over 6 seeds: CD 2.2-2.3 nats, PCD 1.8-2.2 nats
    assert after > after_bias + 1.0, (before, after_bias, after)
    assert hist.steps_per_epoch == 20


def test_weight_decay_is_not_applied_to_the_biases():
    x = tiny_data()[:10]
    plain, decayed = tiny_rbm(), tiny_rbm()
    kw = dict(epochs=1, batch_size=10, lr=0.1, momentum=0.0, initial_momentum=None, shuffle=False,
              monitor=False, init_visible_bias=False, seed=0)
    plain.fit(x, weight_decay=0.0, **kw)
    decayed.fit(x, weight_decay=0.5, **kw)
    torch.testing.assert_close(plain.visible_bias, decayed.visible_bias)
    torch.testing.assert_close(plain.hidden_bias, decayed.hidden_bias)
    torch.testing.assert_close(decayed.weight, plain.weight - 0.1 * 0.5 * tiny_rbm().weight)


def test_fit_is_reproducible_and_monitoring_does_not_change_training(digits):
    x = digits.x_train[:300]
    a, b, c = RBM(64, 16, seed=1), RBM(64, 16, seed=1), RBM(64, 16, seed=1)
    a.fit(x, epochs=2, seed=3, x_val=digits.x_val)
    b.fit(x, epochs=2, seed=3, monitor=False)
    c.fit(x, epochs=2, seed=4)
    torch.testing.assert_close(a.weight, b.weight, atol=0, rtol=0)
    assert not torch.equal(a.weight, c.weight)
    assert a.num_updates == 2 * 30


def test_fit_tops_up_a_last_batch_that_batch_size_does_not_divide():
    x = tiny_data()[:23]
    rbm = RBM(6, 4, seed=0)
    hist = rbm.fit(x, epochs=2, batch_size=10, monitor=False)
    assert hist.steps_per_epoch == 3 and rbm.num_updates == 6
    big = RBM(6, 4, seed=0)
    big.fit(x[:3], epochs=1, batch_size=10, monitor=False)  # batch larger than the data
    assert torch.isfinite(big.weight).all()


def test_history_records_the_free_energy_gap_and_reconstruction_error(digits):
    rbm = RBM(64, 32, seed=0)
    hist = rbm.fit(digits.x_train, epochs=4, x_val=digits.x_val, lr=0.05)
    assert hist.epoch == [1, 2, 3, 4]
    assert len(hist.recon_error) == len(hist.pseudo_likelihood) == len(hist.free_energy_gap) == 4
    with torch.no_grad():
        fv = float(rbm.free_energy(digits.x_val).mean())
    assert hist.free_energy_val[-1] == pytest.approx(fv, abs=1e-4)
    assert hist.free_energy_gap[-1] == pytest.approx(hist.free_energy_val[-1] - hist.free_energy_train[-1])
    assert hist.recon_error[-1] < hist.recon_error[0]
    assert "4 epochs" in repr(hist)


def test_fit_trains_digits_features_that_beat_untrained_ones(digits):
    trained = RBM(64, 64, seed=0)
    trained.fit(digits.x_train, epochs=5, lr=0.05, persistent=True)
    untrained = RBM(64, 64, seed=0)
    gen = torch.Generator().manual_seed(0)
    pl_t = float(trained.pseudo_likelihood(digits.x_val, gen).mean())
    pl_u = float(untrained.init_visible_bias(digits.x_train).pseudo_likelihood(digits.x_val, gen).mean())
    assert pl_t > pl_u + 2


def test_gibbs_chains_sample_the_model_distribution():
    rbm = tiny_rbm(4, 3, scale=1.0)
    gen = torch.Generator().manual_seed(0)
    v = rbm.sample(4000, steps=30, generator=gen)  # probabilities of the last step
    assert v.shape == (4000, 4) and float(v.min()) >= 0 and float(v.max()) <= 1
    # one more step, binary, and compare the empirical distribution with the exact p(v)
    vb, _ = rbm.gibbs_step(torch.bernoulli(v, generator=gen), generator=gen)
    states = all_binary_states(4)
    codes = (vb @ torch.tensor([8.0, 4.0, 2.0, 1.0])).long()
    empirical = torch.bincount(codes, minlength=16).double() / len(vb)
    with torch.no_grad():
        exact = rbm.log_likelihood(states).exp()
    assert 0.5 * float((empirical - exact).abs().sum()) < 0.05


def test_sample_returns_snapshots_and_accepts_a_start():
    rbm = tiny_rbm()
    snaps = rbm.sample(start=tiny_data()[:5], steps=10, every=5, generator=torch.Generator().manual_seed(0))
    assert snaps.shape == (2, 5, 6)
    recon = rbm.reconstruct(tiny_data()[:5], generator=torch.Generator().manual_seed(0))
    assert recon.shape == (5, 6)


# ------------------------------------------------------------------ DBN

def test_dbn_shapes_and_greedy_layerwise_training(digits):
    x = digits.x_train[:200]
    dbn = DBN([64, 32, 16], seed=0)
    hists = dbn.fit(x, epochs=[2, 3], batch_size=20, lr=0.05, x_val=digits.x_val[:50])
    assert [len(h.epoch) for h in hists] == [2, 3]
    assert dbn.transform(x).shape == (200, 16)
    # the same thing by hand: layer 2 learns from layer 1's hidden probabilities
    r1, r2 = RBM(64, 32, seed=0), RBM(32, 16, seed=1)
    r1.fit(x, epochs=2, batch_size=20, lr=0.05, seed=0)
    r2.fit(r1.transform(x), epochs=3, batch_size=20, lr=0.05, seed=1)
    torch.testing.assert_close(dbn.rbms[1].weight, r2.weight, atol=0, rtol=0)


def test_fine_tune_network_holds_the_rbm_weights_and_a_fresh_output_layer(digits):
    x = digits.x_train[:100]
    dbn = DBN([64, 20, 12], seed=0)
    dbn.fit(x, epochs=1, monitor=False)
    net = dbn.to_sequential(10, seed=4)
    for i, rbm in enumerate(dbn.rbms, start=1):
        torch.testing.assert_close(getattr(net, f"fc{i}").weight, rbm.weight, atol=0, rtol=0)
        torch.testing.assert_close(getattr(net, f"fc{i}").bias, rbm.hidden_bias, atol=0, rtol=0)
        assert isinstance(getattr(net, f"act{i}"), nn.Sigmoid)
    reference = mlp([64, 20, 12, 10], activation="sigmoid", seed=4)
    torch.testing.assert_close(net.out.weight, reference.out.weight, atol=0, rtol=0)
    with torch.no_grad():
        torch.testing.assert_close(net[:-1](x), dbn.transform(x))
    # its own copy: fine-tuning must not change the DBN
    with torch.no_grad():
        net.fc1.weight.add_(1.0)
    assert not torch.equal(net.fc1.weight, dbn.rbms[0].weight)
    assert net(x).shape == (100, 10)


@pytest.mark.parametrize("init", ["xavier_uniform", "kaiming_normal"])
def test_the_fine_tune_network_has_exactly_the_output_layer_of_the_random_competitor(digits, init):
    dbn = DBN([64, 20, 12], seed=0)
    dbn.fit(digits.x_train[:50], epochs=1, monitor=False)
    net = dbn.to_sequential(10, seed=7, init=init)
    competitor = mlp([64, 20, 12, 10], activation="sigmoid", init=init, seed=7)
    torch.testing.assert_close(net.out.weight, competitor.out.weight, atol=0, rtol=0)
    torch.testing.assert_close(net.out.bias, competitor.out.bias, atol=0, rtol=0)
    assert not torch.equal(net.fc1.weight, competitor.fc1.weight), "the hidden layers should come from the RBMs"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_rbm_and_dbn_run_on_the_gpu(digits):
    dbn = DBN([64, 32, 16], seed=0, device="cuda")
    hists = dbn.fit(digits.x_train.cuda(), epochs=2, persistent=True, x_val=digits.x_val.cuda())
    assert dbn.transform(digits.x_val.cuda()).device.type == "cuda"
    assert math.isfinite(hists[-1].free_energy_gap[-1])
    rbm = dbn.rbms[0]
    assert rbm.sample(4, steps=3, generator=torch.Generator(device="cuda").manual_seed(0)).device.type == "cuda"
    assert dbn.to_sequential(10)(digits.x_val.cuda()).shape == (len(digits.x_val), 10)


# ------------------------------------------------------------------ bad inputs

def test_non_binary_states_are_rejected_where_binary_is_required():
    rbm = tiny_rbm()
    with pytest.raises(ValueError, match="must be binary"):
        rbm.log_likelihood(torch.full((2, 6), 0.5))
    with pytest.raises(ValueError, match="must be binary"):
        rbm.energy(torch.full((1, 6), 0.5), torch.zeros(1, 4))
    with pytest.raises(ValueError, match="chain must be binary"):
        rbm.cd_gradient(torch.zeros(2, 6), chain=torch.full((2, 4), 0.3))


def test_data_outside_zero_one_is_rejected_with_a_hint():
    rbm = RBM(64, 8)
    with pytest.raises(ValueError, match=r"values in \[0, 1\].*max 16"):
        rbm.fit(torch.full((10, 64), 16.0))
    with pytest.raises(ValueError, match="NaN"):
        rbm.transform(torch.full((2, 64), float("nan")))


def test_wrong_shapes_are_rejected_clearly():
    rbm = RBM(64, 8)
    with pytest.raises(ValueError, match="must have 64 columns"):
        rbm.fit(torch.rand(10, 63))
    with pytest.raises(ValueError, match=r"2 dimensions.*x\[None\]"):
        rbm.fit(torch.rand(64))
    with pytest.raises(ValueError, match="must have 8 columns"):
        rbm.visible_probs(torch.rand(3, 9))
    with pytest.raises(ValueError, match="same number of rows"):
        RBM(3, 2).energy(torch.zeros(2, 3), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="no examples"):
        rbm.transform(torch.zeros(0, 64))
    with pytest.raises(TypeError, match="torch.Tensor"):
        rbm.transform([[0.0] * 64])


def test_bad_arguments_name_the_argument():
    rbm = RBM(6, 4)
    x = tiny_data()
    with pytest.raises(ValueError, match="k must be >= 1"):
        rbm.fit(x, k=0)
    with pytest.raises(ValueError, match="lr must be > 0"):
        rbm.fit(x, lr=0.0)
    with pytest.raises(ValueError, match="momentum must be < 1"):
        rbm.fit(x, momentum=1.0)
    with pytest.raises(TypeError, match="persistent must be True or False"):
        rbm.fit(x, persistent="yes")
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        rbm.pseudo_likelihood(x, generator=0)
    with pytest.raises(ValueError, match="exactly one of n_samples"):
        rbm.sample()
    with pytest.raises(ValueError, match="exact enumeration needs"):
        RBM(64, 100).log_partition()
    with pytest.raises(TypeError, match="dtype must be a floating"):
        RBM(3, 2, dtype=torch.int64)
    with pytest.raises(ValueError, match="n_hidden must be >= 1"):
        RBM(3, 0)


def test_bad_dbn_arguments_are_rejected():
    with pytest.raises(ValueError, match="at least a visible and a hidden"):
        DBN([64])
    with pytest.raises(TypeError, match="sequence of ints"):
        DBN("64-32")
    dbn = DBN([6, 4, 3])
    with pytest.raises(ValueError, match="one int or one per RBM"):
        dbn.fit(tiny_data(), epochs=[1, 2, 3])
    with pytest.raises(ValueError, match="n_outputs must be >= 1"):
        dbn.to_sequential(0)


# ------------------------------------------------------------------ pictures, data and hooks

def test_draw_rbm_graph_draws_every_visible_hidden_edge_and_no_other():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = ck_draw(6, 4)
    ax = fig.axes[0]
    edges = [ln for ln in ax.lines if len(ln.get_xdata()) == 2]
    assert len(edges) == 6 * 4
    assert all(sorted(ln.get_ydata()) == [0, 1] for ln in edges)  # each joins the two layers
    plt.close(fig)
    fig = ck_draw(3, 2, weight=torch.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]]))
    plt.close(fig)
    with pytest.raises(ValueError, match=r"weight must be a tensor of shape \(2, 3\)"):
        ck_draw(3, 2, weight=torch.zeros(3, 2))


def ck_draw(*args, **kwargs):
    from coursekit.plots import draw_rbm_graph

    return draw_rbm_graph(*args, **kwargs)


def test_sklearn_example_data_is_digits_plus_four_one_pixel_shifts():
    from coursekit.data import sklearn_example_data

    x_tr, x_te, y_tr, y_te = sklearn_example_data()
    assert x_tr.shape == (7188, 64) and x_te.shape == (1797, 64)
    assert len(y_tr) + len(y_te) == 5 * 1797
    assert float(x_tr.min()) == 0.0 and float(x_tr.max()) == 1.0


def test_on_epoch_end_is_called_after_every_epoch_with_the_trained_rbm():
    seen = []
    rbm = RBM(6, 4, seed=0)
    rbm.fit(tiny_data(), epochs=3, monitor=False,
            on_epoch_end=lambda epoch, model: seen.append((epoch, model.num_updates, model.weight.clone())))
    assert [e for e, _, _ in seen] == [1, 2, 3] and [n for _, n, _ in seen] == [20, 40, 60]
    torch.testing.assert_close(seen[-1][2], rbm.weight)
    with pytest.raises(TypeError, match="on_epoch_end must be a function"):
        rbm.fit(tiny_data(), on_epoch_end=3)


def test_trained_side_by_side_with_scikit_learn_the_rbms_match():
    # notebook 05's optional appendix run (COMPARE_LIBRARIES = True), on its three seeds: scikit-learn's
    # digits example, PCD-1 on both sides; features of equal use to a classifier, the same pseudo-likelihood
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import BernoulliRBM

    from coursekit.data import sklearn_example_data

    x_tr, x_te, y_tr, y_te = sklearn_example_data()
    for seed in (0, 1, 2):
        sk_rbm = BernoulliRBM(n_components=100, learning_rate=0.06, batch_size=10, n_iter=10, random_state=seed)
        sk_rbm.fit(x_tr)
        ck_rbm = RBM(64, 100, seed=seed)
        ck_rbm.fit(torch.from_numpy(x_tr), epochs=10, batch_size=10, lr=0.06, persistent=True, momentum=0.0,
                   initial_momentum=None, weight_decay=0.0, init_visible_bias=False, shuffle=False, monitor=False,
                   seed=seed)
        sk_as_ck = RBM(64, 100)
        with torch.no_grad():
            sk_as_ck.weight.copy_(torch.from_numpy(sk_rbm.components_))
            sk_as_ck.hidden_bias.copy_(torch.from_numpy(sk_rbm.intercept_hidden_))
            sk_as_ck.visible_bias.copy_(torch.from_numpy(sk_rbm.intercept_visible_))

        def score(features_tr, features_te):
            return LogisticRegression(solver="newton-cg", C=100.0).fit(features_tr, y_tr).score(features_te, y_te)

        acc_sk = score(sk_rbm.transform(x_tr), sk_rbm.transform(x_te))
        acc_ck = score(ck_rbm.transform(torch.from_numpy(x_tr)), ck_rbm.transform(torch.from_numpy(x_te)))
        pll = [float(m.pseudo_likelihood(torch.from_numpy(x_te), torch.Generator().manual_seed(seed)).mean())
               for m in (sk_as_ck, ck_rbm)]
        assert abs(acc_ck - acc_sk) < 0.02, f"seed {seed}: accuracy with RBM features within 0.02 ({acc_ck}, {acc_sk})"
        assert abs(pll[1] / pll[0] - 1) < 0.05, f"seed {seed}: pseudo-likelihood within 5 % ({pll[1]}, {pll[0]})"
