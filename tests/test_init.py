"""Tests for coursekit.init: the schemes' sampled statistics against their formulas,
agreement with torch.nn.init, seeds, argument checks, and the signal-through-depth
experiment against autograd."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from coursekit import depth as ck_depth
from coursekit import init as ck_init
from coursekit.depth import DepthSignal, signal_through_depth
from coursekit.init import SCHEMES, expected_std, initialize, scheme_label
from coursekit.models import mlp
from coursekit.plots import plot_depth_histograms, plot_depth_profiles, plot_signal_through_depth

# (fan_in, fan_out): square, wide, narrow; every weight matrix has >= 4,000 entries,
# so a sampled std is within ~1 % of the truth (5 % tolerance = several sigmas).
SHAPES = [(256, 256), (784, 64), (64, 400), (1000, 10)]

# The formulas, written out independently of coursekit's expected_std.
GAINS = {"linear": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3.0, "relu": math.sqrt(2.0), "selu": 0.75}


def formula_std(scheme: str, fan_in: int, fan_out: int, gain: float, std: float = 1.0, a: float = 1.0):
    if scheme == "normal":
        return std
    if scheme == "uniform":
        return a / math.sqrt(3)
    if scheme.startswith("xavier"):
        return gain * math.sqrt(2.0 / (fan_in + fan_out))
    if scheme.startswith("kaiming"):
        return gain * math.sqrt(1.0 / fan_in)
    if scheme == "pytorch_default":
        return 1.0 / math.sqrt(fan_in) / math.sqrt(3)
    return 0.0


def layer(fan_in: int, fan_out: int) -> nn.Linear:
    return nn.Linear(fan_in, fan_out)


# --------------------------------------------------------------------------- sampled statistics vs formulas

@pytest.mark.parametrize("fan_in,fan_out", SHAPES)
@pytest.mark.parametrize("scheme", ["normal", "uniform", "xavier_uniform", "xavier_normal",
                                    "kaiming_uniform", "kaiming_normal", "pytorch_default"])
def test_sampled_std_matches_the_formula(scheme, fan_in, fan_out):
    nl = "relu" if scheme.startswith(("xavier", "kaiming")) else None  # the others take no gain
    lin = initialize(layer(fan_in, fan_out), scheme, nonlinearity=nl, std=0.3, a=0.2, seed=1)
    w = lin.weight.detach().double()
    want = formula_std(scheme, fan_in, fan_out, GAINS["relu"], std=0.3, a=0.2)
    assert w.mean().abs() < 0.05 * want
    assert w.std().item() == pytest.approx(want, rel=0.05)
    assert expected_std(scheme, fan_in, fan_out, nonlinearity=nl, std=0.3, a=0.2) == pytest.approx(want)


@pytest.mark.parametrize("fan_in,fan_out", SHAPES)
@pytest.mark.parametrize("scheme", ["uniform", "xavier_uniform", "kaiming_uniform", "pytorch_default"])
def test_uniform_schemes_fill_their_bound_sqrt3_times_the_std(scheme, fan_in, fan_out):
    nl = "tanh" if scheme.startswith(("xavier", "kaiming")) else None
    lin = initialize(layer(fan_in, fan_out), scheme, nonlinearity=nl, a=0.2, seed=2)
    w = lin.weight.detach().double().abs()
    bound = math.sqrt(3) * formula_std(scheme, fan_in, fan_out, GAINS["tanh"], a=0.2)
    assert w.max() <= bound * (1 + 1e-6)
    assert w.max() > 0.99 * bound  # thousands of draws reach the edge
    # a uniform U(-b, b) has E|w| = b / 2 (a normal would give 0.46 b)
    assert w.mean().item() == pytest.approx(bound / 2, rel=0.03)


@pytest.mark.parametrize("scheme", ["normal", "xavier_normal", "kaiming_normal"])
def test_normal_schemes_are_gaussian_not_uniform(scheme):
    nl = "relu" if scheme.startswith(("xavier", "kaiming")) else None
    lin = initialize(layer(400, 300), scheme, nonlinearity=nl, std=0.05, seed=3)
    w = lin.weight.detach().double()
    s = w.std()
    assert (w.abs().mean() / s).item() == pytest.approx(math.sqrt(2 / math.pi), abs=0.01)
    assert ((w / s) ** 4).mean().item() == pytest.approx(3.0, abs=0.15)  # Gaussian kurtosis


@pytest.mark.parametrize("nonlinearity", ["linear", "sigmoid", "tanh", "relu", "selu"])
@pytest.mark.parametrize("scheme", ["xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal"])
def test_gain_follows_the_nonlinearity(scheme, nonlinearity):
    fan_in, fan_out = 300, 200
    lin = initialize(layer(fan_in, fan_out), scheme, nonlinearity=nonlinearity, seed=4)
    want = formula_std(scheme, fan_in, fan_out, GAINS[nonlinearity])
    assert lin.weight.std().item() == pytest.approx(want, rel=0.05)
    assert GAINS[nonlinearity] == pytest.approx(nn.init.calculate_gain(nonlinearity))


@pytest.mark.parametrize("slope", [0.01, 0.2])
def test_leaky_relu_gain_uses_the_negative_slope(slope):
    lin = initialize(layer(500, 500), "kaiming_normal", nonlinearity="leaky_relu", negative_slope=slope, seed=5)
    want = math.sqrt(2.0 / (1 + slope ** 2)) / math.sqrt(500)
    assert lin.weight.std().item() == pytest.approx(want, rel=0.05)
    assert expected_std("kaiming_normal", 500, 500, "leaky_relu", negative_slope=slope) == pytest.approx(want)


def test_he_variance_is_two_over_fan_in_and_xavier_two_over_the_sum():
    fi, fo = 784, 256
    he = initialize(layer(fi, fo), "kaiming_normal", nonlinearity="relu", seed=6).weight.var().item()
    xa = initialize(layer(fi, fo), "xavier_normal", nonlinearity="linear", seed=6).weight.var().item()
    assert he == pytest.approx(2 / fi, rel=0.05)
    assert xa == pytest.approx(2 / (fi + fo), rel=0.05)


def test_conv_layers_use_channels_times_kernel_as_fan_in():
    conv = nn.Conv2d(16, 32, kernel_size=3)
    initialize(conv, "kaiming_normal", nonlinearity="relu", seed=7)
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / (16 * 9)), rel=0.05)
    assert torch.all(conv.bias == 0)


# --------------------------------------------------------------------------- same draws as torch.nn.init

@pytest.mark.parametrize("scheme,reference", [
    ("xavier_uniform", lambda w: nn.init.xavier_uniform_(w)),
    ("xavier_normal", lambda w: nn.init.xavier_normal_(w)),
    ("kaiming_uniform", lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu")),
    ("kaiming_normal", lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")),
    ("normal", lambda w: nn.init.normal_(w)),
])
def test_initialize_draws_exactly_what_torch_nn_init_draws(scheme, reference):
    sizes = [(64, 32), (32, 10)]
    model = nn.Sequential(*[nn.Linear(i, o) for i, o in sizes])
    nonlinearity = {"xavier": "linear", "kaiming": "relu"}.get(scheme.split("_")[0])
    initialize(model, scheme, nonlinearity=nonlinearity, seed=11)
    torch.manual_seed(11)
    for lin, (i, o) in zip(model, sizes):
        w = reference(torch.empty(o, i))
        assert torch.equal(lin.weight.detach(), w)
        assert torch.all(lin.bias == 0)


def test_pytorch_default_is_what_nn_linear_does_and_is_uniform_one_over_sqrt_fan_in():
    torch.manual_seed(12)
    fresh = nn.Linear(784, 256)
    ours = initialize(nn.Linear(784, 256), "pytorch_default", seed=12)
    assert torch.equal(fresh.weight, ours.weight) and torch.equal(fresh.bias, ours.bias)
    bound = 1 / math.sqrt(784)
    assert ours.weight.abs().max() <= bound and ours.weight.abs().max() > 0.99 * bound
    assert ours.bias.abs().max() <= bound
    # kaiming_uniform_ with a = sqrt(5): gain sqrt(2 / (1 + 5)), bound gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in)
    gain = nn.init.calculate_gain("leaky_relu", math.sqrt(5))
    assert gain * math.sqrt(3 / 784) == pytest.approx(bound)


def test_zeros_and_constant_make_every_weight_equal():
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    initialize(model, "zeros")
    assert all(torch.all(p == 0) for p in model.parameters())
    initialize(model, "constant", value=0.25, bias=0.5)
    assert torch.all(model[0].weight == 0.25) and torch.all(model[2].weight == 0.25)
    assert torch.all(model[0].bias == 0.5)
    assert expected_std("zeros", 5, 4) == 0.0 and expected_std("constant", 5, 4) == 0.0


def test_bias_keep_leaves_biases_alone():
    lin = nn.Linear(10, 5)
    before = lin.bias.detach().clone()
    initialize(lin, "xavier_uniform", bias="keep", seed=0)
    assert torch.equal(lin.bias.detach(), before)


def test_batchnorm_parameters_are_left_alone():
    model = nn.Sequential(nn.Linear(6, 6), nn.BatchNorm1d(6))
    initialize(model, "zeros")
    assert torch.all(model[1].weight == 1) and torch.all(model[1].bias == 0)


# --------------------------------------------------------------------------- seeds

def test_same_seed_same_weights_other_seed_other_weights():
    a = initialize(nn.Linear(20, 20), "kaiming_uniform", seed=3).weight
    b = initialize(nn.Linear(20, 20), "kaiming_uniform", seed=3).weight
    c = initialize(nn.Linear(20, 20), "kaiming_uniform", seed=4).weight
    assert torch.equal(a, b) and not torch.equal(a, c)


def deep_stack(depth, activation, scheme, width, seed, *, nonlinearity=None, **kw):
    """The stack signal_through_depth measures, as a module: Linear(bias=False) -> activation, ``depth`` times,
    initialized by ``mlp(..., init=scheme)``, so with the gain the course's one rule gives."""
    return mlp([width] * (depth + 1), activation, bias=False, head=False, init=scheme, nonlinearity=nonlinearity,
               seed=seed, **kw)


def test_seeded_initialize_leaves_the_global_random_state_alone():
    lin = nn.Linear(30, 30)
    state = torch.get_rng_state()
    initialize(lin, "xavier_normal", seed=5)
    mlp([8] * 4, "tanh", bias=False, head=False, init="kaiming_normal", seed=2)
    signal_through_depth(3, "relu", "xavier_uniform", width=8, n=4, seed=1, nets=2)
    assert torch.equal(torch.get_rng_state(), state)


# --------------------------------------------------------------------------- bad arguments

@pytest.mark.parametrize("kwargs,error,match", [
    ({"scheme": "glorot"}, ValueError, "unknown scheme"),
    ({"scheme": 3}, TypeError, "scheme must be a string"),
    ({"scheme": "xavier_uniform", "nonlinearity": "swish"}, ValueError, "unknown nonlinearity"),
    ({"scheme": "normal", "std": -1.0}, ValueError, "std must be >= 0"),
    ({"scheme": "normal", "std": float("nan")}, ValueError, "std must be a number"),
    ({"scheme": "uniform", "a": -0.1}, ValueError, "a must be >= 0"),
    ({"scheme": "constant", "value": "big"}, TypeError, "value must be a number"),
    ({"scheme": "kaiming_normal", "negative_slope": -0.1}, ValueError, "negative_slope must be >= 0"),
    ({"scheme": "normal", "bias": "random"}, ValueError, "unknown bias"),
    ({"scheme": "normal", "seed": -1}, ValueError, "seed must be >= 0"),
    ({"scheme": "normal", "seed": 1.5}, TypeError, "seed must be an integer"),
])
def test_initialize_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        initialize(nn.Linear(3, 3), **kwargs)


def test_initialize_rejects_non_modules_and_models_without_layers():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        initialize(torch.zeros(3, 3), "normal")
    with pytest.raises(ValueError, match="no nn.Linear"):
        initialize(nn.Sequential(nn.ReLU()), "normal")


def test_scheme_names_are_forgiving_about_case_and_dashes():
    lin = initialize(nn.Linear(50, 50), "Kaiming-Normal", seed=0)
    assert lin.weight.std().item() == pytest.approx(math.sqrt(2 / 50), rel=0.15)


@pytest.mark.parametrize("kwargs,error,match", [
    ({"scheme": "glorot"}, ValueError, "unknown scheme"),
    ({"fan_in": 0}, ValueError, "fan_in must be >= 1"),
    ({"fan_out": 2.0}, TypeError, "fan_out must be an integer"),
    ({"nonlinearity": "gelu"}, ValueError, "unknown nonlinearity"),
])
def test_expected_std_rejects_bad_arguments(kwargs, error, match):
    args = {"scheme": "xavier_normal", "fan_in": 10, "fan_out": 10, **kwargs}
    with pytest.raises(error, match=match):
        expected_std(**args)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_scheme_draws_the_std_its_formula_states_on_a_large_layer(scheme):
    """Each scheme the module offers (a new one too: it needs a formula in formula_std) against the formula
    written out here, measured on 240,000 weights."""
    fan_in, fan_out = 600, 400
    lin = initialize(layer(fan_in, fan_out), scheme, std=0.2, a=0.3, value=0.7, seed=8)
    if scheme in ("zeros", "constant"):
        assert torch.all(lin.weight == torch.tensor(0.0 if scheme == "zeros" else 0.7))
        return
    w = lin.weight.detach().double()
    g = 1.0 if scheme.startswith("xavier") else GAINS["relu"]  # no activation to read: Xavier 1, He ReLU's
    want = formula_std(scheme, fan_in, fan_out, g, std=0.2, a=0.3)
    assert w.std().item() == pytest.approx(want, rel=0.02)
    assert expected_std(scheme, fan_in, fan_out, std=0.2, a=0.3) == pytest.approx(want, rel=1e-12)


# --------------------------------------------------------------------------- He and Xavier, bit for bit torch's

@pytest.mark.parametrize("shape", [(40, 30), (8, 3, 5, 5)])
@pytest.mark.parametrize("nonlinearity", ["relu", "tanh", "sigmoid", "linear", "leaky_relu"])
@pytest.mark.parametrize("scheme,torch_fn", [
    ("kaiming_normal", lambda w, nl, g: nn.init.kaiming_normal_(w, a=0.01 if nl == "leaky_relu" else 0,
                                                                nonlinearity=nl, generator=g)),
    ("kaiming_uniform", lambda w, nl, g: nn.init.kaiming_uniform_(w, a=0.01 if nl == "leaky_relu" else 0,
                                                                  nonlinearity=nl, generator=g)),
    ("xavier_normal", lambda w, nl, g: nn.init.xavier_normal_(w, gain=nn.init.calculate_gain(nl, 0.01), generator=g)),
    ("xavier_uniform", lambda w, nl, g: nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain(nl, 0.01),
                                                                generator=g)),
])
def test_init_weight_written_out_draws_exactly_what_torch_nn_init_draws(scheme, torch_fn, nonlinearity, shape):
    ours = ck_init.init_weight_(torch.empty(shape), scheme, g=ck_init.gain(nonlinearity, 0.01),
                                generator=torch.Generator().manual_seed(21))
    theirs = torch_fn(torch.empty(shape), nonlinearity, torch.Generator().manual_seed(21))
    assert torch.equal(ours, theirs)


def test_init_weight_pytorch_default_is_nn_linears_own_draw():
    ours = ck_init.init_weight_(torch.empty(30, 70), "pytorch_default", generator=torch.Generator().manual_seed(5))
    theirs = nn.init.kaiming_uniform_(torch.empty(30, 70), a=math.sqrt(5), generator=torch.Generator().manual_seed(5))
    assert torch.equal(ours, theirs)


# --------------------------------------------------------------------------- one rule for gains

RULE_ACTIVATIONS = ["relu", "tanh", "sigmoid", "leaky_relu", "identity"]
RULE_GAIN = {"relu": math.sqrt(2), "tanh": 5 / 3, "sigmoid": 1.0, "leaky_relu": math.sqrt(2 / (1 + 0.01 ** 2)),
             "identity": 1.0}


@pytest.mark.parametrize("activation", RULE_ACTIVATIONS)
@pytest.mark.parametrize("scheme", ["xavier_normal", "xavier_uniform", "kaiming_normal", "kaiming_uniform", "he"])
def test_one_scheme_one_net_one_std_through_initialize_mlp_and_signal_through_depth(scheme, activation):
    width, depth, seed = 256, 2, 3
    built = mlp([width] * (depth + 1), activation, bias=False, head=False, init=scheme, seed=seed)
    applied = initialize(mlp([width] * (depth + 1), activation, bias=False, head=False), scheme, seed=seed)
    for a, b in zip(built.parameters(), applied.parameters()):
        assert torch.equal(a, b), f"mlp(init={scheme!r}) and initialize(net, {scheme!r}) should draw the same weights"
    g = 1.0 if scheme.startswith("xavier") else math.sqrt(2) if scheme == "he" else RULE_GAIN[activation]
    want = g * (math.sqrt(2 / (2 * width)) if scheme.startswith("xavier") else 1 / math.sqrt(width))
    assert built.fc1.weight.std().item() == pytest.approx(want, rel=0.02)
    assert expected_std(scheme, width, width, activation=activation) == pytest.approx(want, rel=1e-12)
    # signal_through_depth measures the same network: its first pre-activation is fc1 of the same input
    sig = signal_through_depth(depth, activation, scheme, width, n=8, seed=seed, nets=1)
    x0 = torch.randn(8, width, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    y1 = built.double().fc1(x0)
    assert sig.pre_std[1] == pytest.approx(y1.std().item(), rel=1e-9)


def test_initialize_takes_he_gain_from_the_models_activation_like_mlp():
    tanh_net = nn.Sequential(nn.Linear(256, 256), nn.Tanh(), nn.Linear(256, 10))
    w = initialize(tanh_net, "kaiming_normal", seed=0)[0].weight
    assert w.std().item() == pytest.approx(5 / 3 / 16, rel=0.02), "a tanh network's He init takes tanh's gain 5/3"
    named = initialize(tanh_net, "kaiming_normal", nonlinearity="relu", seed=0)[0].weight
    assert named.std().item() == pytest.approx(math.sqrt(2) / 16, rel=0.02), "a named nonlinearity wins"
    leaky = initialize(nn.Sequential(nn.Linear(400, 400), nn.LeakyReLU(0.5)), "kaiming_normal", seed=0)[0].weight
    assert leaky.std().item() == pytest.approx(math.sqrt(2 / 1.25) / 20, rel=0.02), "the module's own slope"


def test_initialize_refuses_to_guess_the_gain_of_a_model_with_several_activations():
    mixed = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8), nn.Sigmoid())
    with pytest.raises(ValueError, match=r"several kinds of activation \(ReLU, Sigmoid\).*nonlinearity="):
        initialize(mixed, "kaiming_uniform")
    initialize(mixed, "kaiming_uniform", nonlinearity="relu")  # named: fine
    initialize(mixed, "xavier_uniform")  # Xavier's gain does not depend on the activation


def test_a_nonlinearity_for_a_scheme_without_gain_is_an_error_everywhere():
    with pytest.raises(ValueError, match="has no effect on scheme 'normal'"):
        mlp([4, 4, 2], init="normal", nonlinearity="relu")
    with pytest.raises(ValueError, match="has no effect on scheme 'normal'"):
        signal_through_depth(2, "relu", "normal", width=4, n=3, nonlinearity="relu")


# --------------------------------------------------------------------------- signal through depth

def _autograd_reference(depth, activation, scheme, width, n, seed, nets, **kw):
    """Per-layer pooled stds of x_l and dL/dx_l for L = sum(x_depth * g), by autograd on deep_stack."""
    gen = torch.Generator().manual_seed(seed)
    x0 = torch.randn(n, width, generator=gen, dtype=torch.float64)
    g = torch.randn(n, width, generator=gen, dtype=torch.float64)
    acts, grads = [], []
    for i in range(nets):
        model = deep_stack(depth, activation, scheme, width, seed + i, **kw)
        if scheme == "normal":  # mlp's "normal" is N(0, 1); the test's stack uses std 0.3
            initialize(model, "normal", std=0.3, seed=seed + i)
        model = model.double()
        xs = [x0.clone().requires_grad_(True)]
        h = xs[0]
        for module in model:
            h = module(h)
            if not isinstance(module, nn.Linear):
                h.retain_grad()
                xs.append(h)
        (h * g).sum().backward()
        acts.append(torch.stack([t.detach() for t in xs]))
        grads.append(torch.stack([t.grad for t in xs]))
    acts, grads = torch.stack(acts, 1), torch.stack(grads, 1)  # (layers, nets, n, width)
    return acts.reshape(depth + 1, -1).std(1).numpy(), grads.reshape(depth + 1, -1).std(1).numpy()


@pytest.mark.parametrize("activation,scheme", [("relu", "kaiming_normal"), ("tanh", "xavier_uniform"),
                                                ("sigmoid", "pytorch_default"), ("leaky_relu", "normal")])
def test_signal_through_depth_matches_autograd_on_deep_stack(activation, scheme):
    sig = signal_through_depth(6, activation, scheme, width=16, n=10, seed=3, nets=2, std=0.3)
    ref_act, ref_grad = _autograd_reference(6, activation, scheme, 16, 10, 3, 2)
    np.testing.assert_allclose(sig.act_std, ref_act, rtol=1e-9)
    np.testing.assert_allclose(sig.grad_std, ref_grad, rtol=1e-9)
    assert sig.act_std_nets.shape == (2, 7) and sig.act_samples.shape[0] == 7


def test_he_keeps_relu_signal_xavier_halves_its_variance_per_layer_normal_explodes():
    kw = {"width": 128, "n": 32, "seed": 0, "nets": 8}
    he = signal_through_depth(30, "relu", "kaiming_normal", **kw)
    xa = signal_through_depth(30, "relu", "xavier_normal", **kw)
    big = signal_through_depth(30, "relu", "normal", std=1.0, **kw)
    assert np.all((he.act_ratio > 0.5) & (he.act_ratio < 2)), he.act_ratio
    assert np.all((he.grad_ratio > 0.5) & (he.grad_ratio < 2)), he.grad_ratio
    per_layer = (xa.act_std[30] / xa.act_std[1]) ** (1 / 29)
    assert per_layer == pytest.approx(1 / math.sqrt(2), abs=0.04)
    assert big.act_ratio[30] > 1e20 and np.all(np.isfinite(big.act_std))


def test_identity_network_with_gain_one_keeps_the_variance_exactly_in_expectation():
    sig = signal_through_depth(10, "identity", "kaiming_normal", width=256, n=32, nets=8, seed=1)
    assert np.all(np.abs(np.log(sig.act_ratio)) < np.log(1.5))


def test_zero_init_kills_the_signal_and_the_gradient():
    sig = signal_through_depth(4, "tanh", "zeros", width=8, n=4, nets=1)
    assert np.all(sig.act_std[1:] == 0) and np.all(sig.grad_std[:-1] == 0)


def test_schemes_see_the_same_input_and_top_gradient():
    a = signal_through_depth(3, "relu", "kaiming_normal", width=8, n=6, seed=2, nets=2)
    b = signal_through_depth(3, "relu", "pytorch_default", width=8, n=6, seed=2, nets=2)
    assert a.act_std[0] == b.act_std[0] and a.grad_std[-1] == b.grad_std[-1]
    np.testing.assert_array_equal(a.act_samples[0], b.act_samples[0])
    again = signal_through_depth(3, "relu", "kaiming_normal", width=8, n=6, seed=2, nets=2)
    np.testing.assert_array_equal(a.act_std, again.act_std)


def test_xavier_uses_gain_one_and_he_the_activation_gain_by_default():
    xa = deep_stack(1, "relu", "xavier_normal", width=400, seed=0).fc1.weight
    he = deep_stack(1, "tanh", "kaiming_normal", width=400, seed=0).fc1.weight
    assert xa.std().item() == pytest.approx(math.sqrt(2 / 800), rel=0.03)
    assert he.std().item() == pytest.approx(5 / 3 / math.sqrt(400), rel=0.03)
    he_relu_gain = deep_stack(1, "tanh", "kaiming_normal", width=400, seed=0, nonlinearity="relu").fc1.weight
    assert he_relu_gain.std().item() == pytest.approx(math.sqrt(2 / 400), rel=0.03)


@pytest.mark.parametrize("kwargs,error,match", [
    ({"depth": 0}, ValueError, "depth must be >= 1"),
    ({"activation": "swish"}, ValueError, "unknown activation"),
    ({"scheme": "lecun"}, ValueError, "unknown scheme"),
    ({"width": 1}, ValueError, "width must be >= 2"),
    ({"nets": 0}, ValueError, "nets must be >= 1"),
    ({"n": 3.0}, TypeError, "n must be an integer"),
    ({"std": -0.5}, ValueError, "std must be >= 0"),
    ({"nonlinearity": "gelu"}, ValueError, "unknown nonlinearity"),
])
def test_signal_through_depth_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        signal_through_depth(**{"depth": 2, "width": 4, "n": 3, **kwargs})


def test_scheme_label_names_schemes_for_legends():
    assert scheme_label("kaiming_normal") == "He normal"
    assert scheme_label("normal", std=0.01) == "N(0, 0.01²)"
    assert scheme_label("pytorch_default") == "PyTorch default"
    with pytest.raises(ValueError, match="unknown scheme"):
        scheme_label("he")


# --------------------------------------------------------------------------- figures and the widget

def test_plot_functions_return_figures_with_the_expected_panels():
    import matplotlib.pyplot as plt

    sig = signal_through_depth(5, "tanh", "xavier_uniform", width=16, n=8, nets=2)
    other = signal_through_depth(5, "tanh", "normal", std=0.01, width=16, n=8, nets=2)
    fig = plot_depth_profiles([sig, other], "gradient")
    assert len(fig.axes) == 1 and fig.axes[0].get_yscale() == "log"
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()][0] == "within ×2", \
        "the legend should name the band first, then one entry per signal"
    plt.close(fig)
    fig = plot_depth_histograms(sig, "activation", layers=[1, 5])
    assert len(fig.axes[0].get_legend().get_texts()) == 2
    plt.close(fig)
    fig = plot_signal_through_depth(5, "relu", "kaiming_normal", width=16, n=8)
    assert len(fig.axes) == 3
    key = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert all(w in key for w in ("activations", "gradients", "within ×2")), f"the key should name every line: {key!r}"
    assert "layer 1 (light) to 5 (dark)" in fig.axes[1].get_title(), "the title should say which layers are shown"
    plt.close(fig)
    fig = plot_signal_through_depth(5, "relu", "kaiming_normal", width=16, n=8, gradients=False)
    assert len(fig.axes) == 2
    plt.close(fig)


def test_plot_functions_reject_bad_arguments():
    sig = signal_through_depth(4, "relu", "kaiming_normal", width=8, n=4, nets=1)
    with pytest.raises(ValueError, match="unknown quantity"):
        plot_depth_profiles(sig, "weights")
    with pytest.raises(ValueError, match="signals is empty"):
        plot_depth_profiles([])
    with pytest.raises(TypeError, match="must be a DepthSignal"):
        plot_depth_histograms({"act": 1})
    with pytest.raises(ValueError, match=r"layers\[0\] must be <= 4"):
        plot_depth_histograms(sig, layers=[9])
    with pytest.raises(ValueError, match="got 1 labels for 2 signals"):
        plot_depth_profiles([sig, sig], labels=["one"])
    with pytest.raises(TypeError, match="gradients must be True or False"):
        plot_signal_through_depth(3, gradients="yes")


def test_widget_redraws_when_a_control_changes():
    import ipywidgets as W

    from coursekit.widgets import interactive_figure

    panel = interactive_figure(
        lambda depth, activation, scheme: plot_signal_through_depth(
            depth, activation, scheme, width=16, n=8, gradients=False),
        depth=W.IntSlider(value=5, min=2, max=10), activation=["relu", "tanh"],
        scheme=["kaiming_normal", "xavier_uniform"],
    )
    assert panel.calls == 1
    panel.controls["scheme"].value = "xavier_uniform"
    panel.controls["depth"].value = 7
    assert panel.calls == 3
    assert "Xavier uniform, relu" in panel.last_figure.axes[0].get_title()


def test_depth_signal_repr_is_short_and_rounded():
    sig = signal_through_depth(3, "relu", "kaiming_normal", width=8, n=4, nets=1)
    assert isinstance(sig, DepthSignal) and sig.depth == 3
    assert repr(sig).startswith("DepthSignal(He normal, relu, 3 layers of 8, 1 nets")
    assert ck_depth.DEPTH_ACTIVATIONS == ("relu", "tanh", "sigmoid", "leaky_relu", "identity")


def test_without_a_network_the_gains_are_pytorchs_xavier_1_and_he_relu():
    import math

    from torch import nn

    from coursekit.init import expected_std, initialize

    lin = nn.Linear(300, 100)
    initialize(lin, "xavier_uniform", seed=3)
    torch.manual_seed(3)
    ref = nn.init.xavier_uniform_(torch.empty(100, 300))
    assert torch.equal(lin.weight, ref)
    assert expected_std("xavier_normal", 300, 100) == pytest.approx(math.sqrt(2 / 400))
    assert expected_std("kaiming_normal", 300, 100) == pytest.approx(math.sqrt(2 / 300))
    assert expected_std("kaiming_normal", 300, 100, activation="tanh") == pytest.approx(5 / 3 / math.sqrt(300))


def test_signal_through_depth_leaves_the_global_random_state_alone():
    torch.manual_seed(11)
    before = torch.rand(3)
    torch.manual_seed(11)
    ck_depth.signal_through_depth(5, "relu", "kaiming_normal", 8, seed=2)
    assert torch.equal(torch.rand(3), before), "the global random state should be left alone"
