"""coursekit.models.mlp: structure, names, seeding, bad input."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from coursekit.models import ACTIVATIONS, activation, mlp


def test_mlp_layer_names_and_order():
    m = mlp([64, 32, 16, 10], activation="sigmoid", dropout=0.3, batchnorm=True)
    assert list(dict(m.named_children())) == [
        "fc1", "bn1", "act1", "drop1", "fc2", "bn2", "act2", "drop2", "out"]
    assert isinstance(m.act1, nn.Sigmoid) and m.drop1.p == pytest.approx(0.3)
    assert m.act1 is not m.act2 and m.bn1 is not m.bn2  # separate modules per layer
    assert m(torch.zeros(5, 64)).shape == (5, 10)


def test_mlp_bn_after_activation_and_plain_softmax_regression():
    m = mlp([8, 4, 2], batchnorm=True, bn_position="after")
    assert list(dict(m.named_children())) == ["fc1", "act1", "bn1", "out"]
    soft = mlp([64, 10])
    assert list(dict(soft.named_children())) == ["out"]


# Each activation's values, written out here from its formula (not read from the builder's table).
_Z = torch.tensor([-3.0, -0.5, 0.0, 0.5, 3.0], dtype=torch.float64)
FORMULAS = {
    "sigmoid": lambda z: 1 / (1 + torch.exp(-z)),
    "tanh": lambda z: (torch.exp(z) - torch.exp(-z)) / (torch.exp(z) + torch.exp(-z)),
    "relu": lambda z: torch.where(z > 0, z, 0 * z),
    "leaky_relu": lambda z: torch.where(z > 0, z, 0.01 * z),
    "elu": lambda z: torch.where(z > 0, z, torch.exp(z) - 1),
    "gelu": lambda z: z * 0.5 * (1 + torch.erf(z / 2 ** 0.5)),
    "identity": lambda z: z,
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_every_activation_name_computes_its_formula_in_the_network(name):
    assert name in FORMULAS, f"{name!r} needs its formula in this test"
    torch.testing.assert_close(activation(name)(_Z), FORMULAS[name](_Z), rtol=1e-12, atol=1e-12)
    m = mlp([5, 5, 2], activation=name, seed=0).double()
    with torch.no_grad():  # the hidden layer's output is the activation of fc1's
        torch.testing.assert_close(m.act1(m.fc1(_Z[None])), FORMULAS[name](m.fc1(_Z[None])), rtol=1e-12, atol=1e-12)


def test_activation_names_are_forgiving_about_case_and_dashes():
    assert isinstance(mlp([3, 4, 2], activation="Leaky-ReLU").act1, nn.LeakyReLU)


def test_seed_gives_identical_networks_without_touching_global_rng():
    torch.manual_seed(5)
    before = torch.rand(1)
    torch.manual_seed(5)
    a = mlp([10, 20, 3], seed=1)
    after = torch.rand(1)
    b = mlp([10, 20, 3], seed=1)
    assert torch.equal(before, after)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    c = mlp([10, 20, 3], seed=2)
    assert not torch.equal(a.fc1.weight, c.fc1.weight)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"sizes": [64]}, ValueError, "at least an input and an output"),
    ({"sizes": [64, 0, 10]}, ValueError, r"sizes\[1\] must be >= 1"),
    ({"sizes": "64,10"}, TypeError, "sizes must be a sequence"),
    ({"sizes": [64, 10.5]}, TypeError, r"sizes\[1\] must be an integer"),
    ({"sizes": [64, 10], "activation": "relu6"}, ValueError, "unknown activation 'relu6'; allowed: sigmoid"),
    ({"sizes": [64, 10], "dropout": 1.0}, ValueError, "dropout must be < 1.0"),
    ({"sizes": [64, 10], "dropout": -0.1}, ValueError, "dropout must be >= 0.0"),
    ({"sizes": [64, 10], "batchnorm": "yes"}, TypeError, "batchnorm must be True or False"),
    ({"sizes": [64, 10], "bn_position": "middle"}, ValueError, "unknown bn_position"),
    ({"sizes": [64, 10], "bias": "no"}, TypeError, "bias must be True or False"),
    ({"sizes": [64, 10], "head": 0}, TypeError, "head must be True or False"),
    ({"sizes": [64, 10], "init": "glorot"}, ValueError, "unknown init 'glorot'"),
    ({"sizes": [64, 10], "nonlinearity": "relu"}, ValueError, "only used with init"),
    ({"sizes": [64, 10], "weight_scale": 0.0}, ValueError, "weight_scale must be > 0.0"),
    ({"sizes": [64, 10], "weight_scale": float("inf")}, ValueError, "weight_scale must be a finite number"),
    ({"sizes": [64, 10], "init": "normal", "nonlinearity": "relu"}, ValueError, "has no effect on scheme 'normal'"),
])
def test_mlp_rejects_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        mlp(**kwargs)


def test_mlp_init_xavier_has_gain_one_and_he_the_activation_gain():
    xa = mlp([400, 400, 10], "tanh", init="xavier_normal", seed=0).fc1.weight
    he = mlp([400, 400, 10], "tanh", init="kaiming_normal", seed=0).fc1.weight
    he_alias = mlp([400, 400, 10], "tanh", init="he", seed=0).fc1.weight
    assert xa.std().item() == pytest.approx((2 / 800) ** 0.5, rel=0.03)
    assert he.std().item() == pytest.approx(5 / 3 / 400 ** 0.5, rel=0.03)
    assert he_alias.std().item() == pytest.approx((2 / 400) ** 0.5, rel=0.03)


def test_mlp_without_head_is_a_stack_of_hidden_layers():
    net = mlp([8, 8, 8], "relu", bias=False, head=False)
    assert [n for n, _ in net.named_children()] == ["fc1", "act1", "fc2", "act2"]
    assert net.fc2.bias is None


def test_mlp_refuses_a_layer_too_big_to_allocate_naming_the_sizes_and_the_limit():
    with pytest.raises(ValueError, match=r"sizes\[0\] x sizes\[1\] = 8 x 1000000000000 .* at most 100_000_000"):
        mlp([8, 10**12, 3])
    with pytest.raises(ValueError, match=r"sizes\[1\] x sizes\[2\]"):
        mlp([8, 20_000, 20_000, 3])
    assert mlp([8, 10_000, 3]).fc1.weight.shape == (10_000, 8)  # big but sane


def test_mlp_he_init_gives_the_gain_initialize_gives_the_same_net():
    from coursekit.init import initialize

    built = mlp([256, 256, 10], "tanh", init="kaiming_normal", seed=1)
    applied = initialize(mlp([256, 256, 10], "tanh"), "kaiming_normal", seed=1)
    assert all(torch.equal(a, b) for a, b in zip(built.parameters(), applied.parameters()))
    assert built.fc1.weight.std().item() == pytest.approx(5 / 3 / 16, rel=0.03)
