"""The scratch optimizers of coursekit.optim against torch.optim, step for step."""
from __future__ import annotations

import copy

import pytest
import torch

from coursekit import optim as ck_optim
from coursekit import plots
from coursekit.models import mlp

# name -> (scratch factory, torch.optim factory), with non-default hyper-parameters
# as well as the defaults, so a convention mix-up (e.g. dampening, bias correction) shows.
PAIRS = {
    "sgd": (lambda ps: ck_optim.SGD(ps, lr=0.05), lambda ps: torch.optim.SGD(ps, lr=0.05)),
    "momentum": (lambda ps: ck_optim.Momentum(ps, lr=0.03, momentum=0.9),
                 lambda ps: torch.optim.SGD(ps, lr=0.03, momentum=0.9)),
    "momentum_0.5": (lambda ps: ck_optim.Momentum(ps, lr=0.05, momentum=0.5),
                     lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.5)),
    "nesterov": (lambda ps: ck_optim.Nesterov(ps, lr=0.03, momentum=0.9),
                 lambda ps: torch.optim.SGD(ps, lr=0.03, momentum=0.9, nesterov=True)),
    "adagrad": (lambda ps: ck_optim.Adagrad(ps, lr=0.05), lambda ps: torch.optim.Adagrad(ps, lr=0.05)),
    "adagrad_eps": (lambda ps: ck_optim.Adagrad(ps, lr=0.05, eps=1e-3),
                    lambda ps: torch.optim.Adagrad(ps, lr=0.05, eps=1e-3)),
    "rmsprop": (lambda ps: ck_optim.RMSProp(ps, lr=3e-3), lambda ps: torch.optim.RMSprop(ps, lr=3e-3)),
    "rmsprop_alpha": (lambda ps: ck_optim.RMSProp(ps, lr=1e-3, alpha=0.9, eps=1e-6),
                      lambda ps: torch.optim.RMSprop(ps, lr=1e-3, alpha=0.9, eps=1e-6)),
    "adam": (lambda ps: ck_optim.Adam(ps, lr=3e-3), lambda ps: torch.optim.Adam(ps, lr=3e-3)),
    "adam_betas": (lambda ps: ck_optim.Adam(ps, lr=1e-2, betas=(0.8, 0.99), eps=1e-6),
                   lambda ps: torch.optim.Adam(ps, lr=1e-2, betas=(0.8, 0.99), eps=1e-6)),
}


def _problem(dtype: torch.dtype, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(96, 8, generator=g, dtype=dtype)
    y = torch.randint(0, 3, (96,), generator=g)
    return x, y


def _run_pair(make_a, make_b, dtype, steps, model_sizes=(8, 12, 3)):
    """Train two identical models side by side; return the largest parameter gap seen at any step."""
    x, y = _problem(dtype)
    a = mlp(list(model_sizes), seed=3).to(dtype)
    b = copy.deepcopy(a)
    opt_a, opt_b = make_a(a.parameters()), make_b(b.parameters())
    worst = 0.0
    for t in range(steps):
        xb, yb = x[(t % 3) * 32:(t % 3 + 1) * 32], y[(t % 3) * 32:(t % 3 + 1) * 32]
        for model, opt in ((a, opt_a), (b, opt_b)):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
        for pa, pb in zip(a.parameters(), b.parameters()):
            assert torch.allclose(pa, pb, rtol=1e-9, atol=1e-11), f"parameters differ at step {t + 1}"
            worst = max(worst, float((pa - pb).detach().abs().max()))
    return worst


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_scratch_optimizer_matches_torch_optim_for_300_steps_in_float64(name):
    make_scratch, make_torch = PAIRS[name]
    worst = _run_pair(make_scratch, make_torch, torch.float64, steps=300)
    assert worst < 1e-10


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_scratch_optimizer_matches_torch_optim_in_float32_on_a_convex_problem(name):
    # Softmax regression is convex, so float32 rounding differences are not amplified while the
    # optimizer is still descending (near the minimum, sign-like steps of RMSProp/Adam make the
    # last bits decide the side of each oscillation: float64 above checks the long run).
    make_scratch, make_torch = PAIRS[name]
    x, y = _problem(torch.float32)
    a = torch.nn.Linear(8, 3)
    b = copy.deepcopy(a)
    opt_a, opt_b = make_scratch(a.parameters()), make_torch(b.parameters())
    for _ in range(100):
        for model, opt in ((a, opt_a), (b, opt_b)):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", sorted(ck_optim.SCRATCH))
def test_make_optimizer_scratch_builds_the_same_steps_as_torch_optim(name):
    worst = _run_pair(lambda ps: ck_optim.make_optimizer(name, ps, lr=0.02, momentum=0.8, scratch=True),
                      lambda ps: ck_optim.make_optimizer(name, ps, lr=0.02, momentum=0.8), torch.float64, steps=50)
    assert worst < 1e-10


def test_adam_first_step_moves_each_coordinate_by_lr_against_the_gradient_sign():
    # With m_hat = g and v_hat = g^2 at t = 1, Adam's first step is lr * sign(g) (up to eps).
    p = torch.nn.Parameter(torch.tensor([3.0, -0.002, 50.0], dtype=torch.float64))
    opt = ck_optim.Adam([p], lr=0.1)
    (p * torch.tensor([2.0, -1e-3, 7.0], dtype=torch.float64)).sum().backward()
    opt.step()
    torch.testing.assert_close(p.detach(), torch.tensor([2.9, -0.002 + 0.1, 49.9], dtype=torch.float64),
                               rtol=0, atol=1e-6)


def test_momentum_equals_sutskever_velocity_form():
    # v <- mu v - lr g; p <- p + v  (Sutskever et al. 2013) gives the same points as PyTorch's form.
    mu, lr = 0.9, 0.1
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
    opt = ck_optim.Momentum([p], lr=lr, momentum=mu)
    q, v = torch.tensor([1.0, -2.0], dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    scale = torch.tensor([1.0, 10.0], dtype=torch.float64)
    for _ in range(30):
        opt.zero_grad()
        (0.5 * scale * p ** 2).sum().backward()
        opt.step()
        v = mu * v - lr * scale * q
        q = q + v
        torch.testing.assert_close(p.detach(), q, rtol=1e-12, atol=1e-12)


def test_parameters_without_gradient_are_left_alone():
    used = torch.nn.Parameter(torch.ones(2))
    unused = torch.nn.Parameter(torch.ones(2))
    opt = ck_optim.Adam([used, unused], lr=0.1)
    used.sum().backward()
    opt.step()
    assert torch.equal(unused.detach(), torch.ones(2))
    assert not torch.equal(used.detach(), torch.ones(2))
    assert unused not in opt.state or not opt.state[unused]


def test_step_with_closure_returns_the_loss():
    p = torch.nn.Parameter(torch.tensor([2.0]))
    opt = ck_optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p ** 2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss.detach()) == pytest.approx(4.0)
    assert float(p.detach()) == pytest.approx(1.0)  # 2 - 0.25 * 4


def test_state_dict_round_trip_continues_identically():
    x, y = _problem(torch.float64)

    def steps(model, opt, n, offset=0):
        for t in range(offset, offset + n):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x[t % 3::3]), y[t % 3::3]).backward()
            opt.step()

    a = mlp([8, 6, 3], seed=1).to(torch.float64)
    b = copy.deepcopy(a)
    opt_a = ck_optim.Adam(a.parameters(), lr=0.01)
    steps(a, opt_a, 20)
    opt_b = ck_optim.Adam(b.parameters(), lr=0.01)
    steps(b, opt_b, 10)
    saved = copy.deepcopy(opt_b.state_dict())
    opt_c = ck_optim.Adam(b.parameters(), lr=0.01)
    opt_c.load_state_dict(saved)
    steps(b, opt_c, 10, offset=10)
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb, rtol=1e-12, atol=1e-12)


def test_learning_rate_scheduler_changes_the_scratch_step_like_torchs():
    def run(make):
        p = torch.nn.Parameter(torch.tensor([5.0, -3.0], dtype=torch.float64))
        opt = make([p])
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
        for _ in range(20):
            opt.zero_grad()
            (p ** 2).sum().backward()
            opt.step()
            sched.step()
        return p.detach()

    torch.testing.assert_close(run(lambda ps: ck_optim.Momentum(ps, lr=0.05, momentum=0.9)),
                               run(lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9)))


@pytest.mark.parametrize("call, exc, match", [
    (lambda ps: ck_optim.SGD(ps, lr=0.0), ValueError, "lr must be > 0"),
    (lambda ps: ck_optim.SGD(ps, lr="fast"), TypeError, "lr must be a number"),
    (lambda ps: ck_optim.Momentum(ps, lr=0.1, momentum=1.0), ValueError, "momentum must be < 1"),
    (lambda ps: ck_optim.Nesterov(ps, lr=0.1, momentum=0.0), ValueError, "momentum must be > 0"),
    (lambda ps: ck_optim.Adagrad(ps, lr=0.1, eps=-1.0), ValueError, "eps must be >= 0"),
    (lambda ps: ck_optim.RMSProp(ps, lr=0.1, alpha=1.5), ValueError, "alpha must be < 1"),
    (lambda ps: ck_optim.Adam(ps, betas=0.9), TypeError, "betas must be a pair"),
    (lambda ps: ck_optim.Adam(ps, betas=(0.9, 1.0)), ValueError, r"betas\[1\] must be < 1"),
    (lambda ps: ck_optim.make_optimizer("lbfgs", ps, lr=0.1, scratch=True), ValueError, "unknown optimizer 'lbfgs'"),
])
def test_bad_hyper_parameters_raise_clear_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call([torch.nn.Parameter(torch.ones(1))])


def test_family_tree_follows_the_seed_chart():
    fam = ck_optim.FAMILY
    assert fam["SGD"][0] == ("GD",)
    assert fam["NAG"][0] == ("Momentum",) and fam["Momentum"][1] == "direction"
    assert fam["RMSProp"][0] == ("Adagrad",) and fam["AdaDelta"][0] == ("Adagrad",)
    assert fam["Adagrad"][1] == "size"
    assert set(fam["Adam"][0]) == {"RMSProp", "Momentum"}
    assert set(fam["Nadam"][0]) == {"Adam", "NAG"}


def test_plot_family_tree_draws_one_box_per_method():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plots.draw_family_tree()
    boxes = [t for t in fig.axes[0].texts if t.get_bbox_patch() is not None]
    assert len(boxes) == len(ck_optim.FAMILY)
    plt.close(fig)
