"""Tests for coursekit.exercises: every checker accepts right answers and names the mistake in wrong ones.

Three kinds of evidence:

1. each reference solution agrees with an independent reference (autograd,
   torch.optim, torch.nn, brute-force enumeration) on every one of its cases;
2. correct solutions written differently from the reference (the way a learner
   might) pass the check;
3. plausible wrong solutions, written here as a learner would write them (not
   taken from the module's own list of mistakes), fail with the intended hint.
"""
from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from coursekit import exercises as ex
from coursekit import flow as ck_flow
from coursekit.exercises import EXERCISES, check

TOPIC_NOTEBOOKS = ("01_", "02_", "03_", "04_", "05_", "06_", "07_", "08_")


def _cases(name):
    return [case.make() for case in EXERCISES[name].cases]


def _ref(name, args):
    return EXERCISES[name].reference(*args.values())


# ----------------------------------------------------------------------------- the registry


def test_at_least_two_exercises_for_every_topic_notebook():
    for prefix in TOPIC_NOTEBOOKS:
        names = [n for n, e in EXERCISES.items() if e.notebook.startswith(prefix)]
        assert len(names) >= 2, f"notebook {prefix}* has exercises {names}"
    assert len(EXERCISES) >= 14


def test_every_exercise_is_documented_and_has_edge_cases_and_hints():
    for name, e in EXERCISES.items():
        assert e.name == name
        assert e.signature.startswith(f"def {name}(") and e.signature.rstrip().endswith(":")
        assert len(e.instructions) > 40
        assert len(e.cases) >= 4, f"{name} has only {len(e.cases)} cases"
        assert len(e.mistakes) >= 2, f"{name} knows only {len(e.mistakes)} mistakes"
        labels = [c.label for c in e.cases]
        assert len(set(labels)) == len(labels), f"{name} has duplicate case labels"


def test_list_exercises_filters_by_notebook_and_describe_shows_no_solution():
    assert ex.list_exercises("03") == ["momentum_step", "adam_step", "steps_to_floor"]
    assert ex.list_exercises("07_batch_norm.ipynb") == ["batchnorm_forward_train", "update_running_stats",
                                                       "predict_running_mean", "batchnorm_backward"]
    assert ex.list_exercises("08") == ["pick_best_rate", "one_fix"]
    assert ex.list_exercises() == list(EXERCISES)
    text = ex.describe("adam_step")
    assert text.startswith("def adam_step(") and "bias" in text and "return (theta, m, v)" in text
    with pytest.raises(ValueError, match="did you mean 'adam_step'"):
        ex.describe("adam_stp")
    with pytest.raises(TypeError, match="notebook must be a string"):
        ex.list_exercises(3)


def test_list_exercises_takes_a_notebook_number_without_its_zero_and_names_the_notebooks_otherwise():
    assert ex.list_exercises("3") == ex.list_exercises("03") == ex.list_exercises("03_optimizers")
    assert ex.list_exercises("8") == ["pick_best_rate", "one_fix"]
    for missing in ("99", "00", "optimizers"):
        with pytest.raises(ValueError, match=rf"got '{missing}'\. The notebooks with exercises: "
                                             r"01_vanishing_gradients\.ipynb, 02_relu\.ipynb, .*08_putting_it"):
            ex.list_exercises(missing)


def test_a_numpy_array_or_a_list_where_a_tensor_is_asked_for_is_named_with_the_values_right(capsys):
    def relu_grad(z):
        return (z > 0).double().numpy()

    result = check("relu_grad", relu_grad)
    assert not result and result.status == "wrong"
    assert "expected a torch.Tensor, got a NumPy array (the values are right)" in capsys.readouterr().out
    assert "torch.as_tensor" in result.hint
    result = check("relu_grad", lambda z: (z > 0).double().tolist(), quiet=True)
    assert "expected a torch.Tensor, got a list of" in result.message and "(the values are right)" in result.message
    result = check("relu_grad", lambda z: (z < 0).double().numpy(), quiet=True)  # wrong values: those come first
    assert "expected" in result.message and "torch.Tensor" not in result.message
    result = check("dropout_forward", lambda x, p, training, generator=None:
                   EXERCISES["dropout_forward"].reference(x, p, training, generator).numpy(), quiet=True)
    assert "expected a torch.Tensor, got a NumPy array (the values are right)" in result.message


def test_a_single_number_may_come_as_a_python_float_or_a_numpy_scalar():
    ref = EXERCISES["chain_gradient"].reference
    assert check("chain_gradient", lambda w, z: float(ref(w, z)), quiet=True)
    assert check("chain_gradient", lambda w, z: np.float64(ref(w, z)), quiet=True)


@pytest.mark.parametrize("name", list(EXERCISES))
def test_reference_passes_its_own_check(name, capsys):
    result = check(name, EXERCISES[name].reference)
    out = capsys.readouterr().out
    n = len(EXERCISES[name].cases)
    assert result and result.passed and result.status == "pass"
    assert out == f"✓ {name}: {n}/{n} cases match\n"
    assert result.cases_passed == result.cases_total == n


@pytest.mark.parametrize("name", list(EXERCISES))
def test_every_known_mistake_is_caught_with_its_own_hint(name):
    # The module's own list of wrong answers: each must fail, and get *its* hint
    # (not a neighbour's), so no hint is dead code.
    e = EXERCISES[name]
    for mistake in e.mistakes:
        if mistake.fn is None:
            continue
        result = check(name, mistake.fn, quiet=True)
        assert not result, f"{name}: a known mistake passed: {mistake.hint}"
        assert result.hint == mistake.hint, f"{name}: expected hint {mistake.hint!r}, got {result.message!r}"


# ------------------------------------------------- 1. references vs independent references


def test_sigmoid_derivative_matches_autograd():
    for args in _cases("sigmoid_derivative"):
        z = args["z"].clone().requires_grad_(True)
        torch.sigmoid(z).sum().backward()
        torch.testing.assert_close(_ref("sigmoid_derivative", args), z.grad)


def test_chain_gradient_matches_autograd_through_each_layer():
    for args in _cases("chain_gradient"):
        w, z = args["w"], args["z"]
        total = torch.tensor(1.0, dtype=torch.float64)
        for wl, zl in zip(w, z):
            u = (zl / wl).clone().requires_grad_(True)  # the layer's input h_{l-1}
            (g,) = torch.autograd.grad(torch.sigmoid(wl * u), u)
            total = total * g
        torch.testing.assert_close(_ref("chain_gradient", args), total, rtol=1e-9, atol=0)
    bound = _ref("chain_gradient", {"w": torch.ones(5, dtype=torch.float64), "z": torch.zeros(5, dtype=torch.float64)})
    assert math.isclose(float(bound), 0.25 ** 5)


def test_relu_grad_matches_autograd_including_zero():
    for args in _cases("relu_grad"):
        z = args["z"].clone().requires_grad_(True)
        torch.relu(z).sum().backward()
        torch.testing.assert_close(_ref("relu_grad", args), z.grad)


def test_count_dead_units_matches_a_plain_loop():
    for args in _cases("count_dead_units"):
        acts = args["acts"].tolist()
        dead = sum(all(row[j] == 0 for row in acts) for j in range(len(acts[0])))
        assert _ref("count_dead_units", args) == dead


def test_momentum_step_matches_torch_sgd():
    for args in _cases("momentum_step"):
        theta, b, grad, lr, mu = args.values()
        p = torch.nn.Parameter(theta.clone())
        opt = torch.optim.SGD([p], lr=lr, momentum=mu)
        if mu > 0:
            opt.state[p]["momentum_buffer"] = b.clone()
        p.grad = grad.clone()
        opt.step()
        new_theta, new_b = _ref("momentum_step", args)
        torch.testing.assert_close(new_theta, p.detach())
        torch.testing.assert_close(new_b, opt.state[p]["momentum_buffer"] if mu > 0 else grad)


def test_adam_step_matches_torch_adam():
    for args in _cases("adam_step"):
        theta, m, v, grad, t, lr, beta1, beta2, eps = args.values()
        p = torch.nn.Parameter(theta.clone())
        opt = torch.optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps, foreach=False)
        opt.state[p] = {"step": torch.tensor(float(t - 1)), "exp_avg": m.clone(), "exp_avg_sq": v.clone()}
        p.grad = grad.clone()
        opt.step()
        new_theta, new_m, new_v = _ref("adam_step", args)
        torch.testing.assert_close(new_theta, p.detach())
        torch.testing.assert_close(new_m, opt.state[p]["exp_avg"])
        torch.testing.assert_close(new_v, opt.state[p]["exp_avg_sq"])


def test_xavier_uniform_bound_matches_torch_init():
    g = torch.Generator().manual_seed(0)
    for args in _cases("xavier_uniform_bound"):
        fan_in, fan_out, gain = args.values()
        if fan_in * fan_out < 1000:
            continue  # too few weights for an empirical maximum
        w = torch.empty(fan_out, fan_in, dtype=torch.float64)
        torch.nn.init.xavier_uniform_(w, gain=gain, generator=g)
        bound = _ref("xavier_uniform_bound", args)
        assert float(w.abs().max()) <= bound
        assert float(w.abs().max()) > 0.98 * bound
        assert math.isclose(float(w.var()), gain ** 2 * 2 / (fan_in + fan_out), rel_tol=0.05)


def test_he_normal_std_matches_torch_kaiming_normal():
    g = torch.Generator().manual_seed(0)
    for args in _cases("he_normal_std"):
        fan_in, slope = args.values()
        w = torch.empty(max(200_000 // fan_in, 100), fan_in, dtype=torch.float64)
        torch.nn.init.kaiming_normal_(w, a=slope, mode="fan_in", nonlinearity="leaky_relu", generator=g)
        assert math.isclose(float(w.std()), _ref("he_normal_std", args), rel_tol=0.02)


def _brute_force_free_energy(v, W, a, b):
    """-log sum_h exp(-E(v, h)) over every binary h, E = -a.v - b.h - h.W.v, in float64."""
    v, W, a, b = (t.to(torch.float64) for t in (v, W, a, b))
    hs = torch.tensor(list(itertools.product([0.0, 1.0], repeat=W.shape[0])), dtype=torch.float64)
    neg_energy = (v @ a)[:, None] + (hs @ b)[None, :] + v @ W.T @ hs.T  # (batch, 2**n_hidden)
    return -torch.logsumexp(neg_energy, dim=1)


def test_free_energy_matches_brute_force_enumeration():
    for args in _cases("free_energy"):
        expected = _brute_force_free_energy(*args.values())
        got = _ref("free_energy", args)
        assert torch.isfinite(got).all()
        torch.testing.assert_close(got.to(torch.float64), expected, rtol=1e-5, atol=1e-4)


def test_cd1_update_matches_autograd_of_the_free_energy_difference():
    # CD-1's update direction is -d/dtheta [F(v0) - F(v1)] averaged over the batch,
    # with the reconstruction v1 held fixed.
    for args in _cases("cd1_update"):
        v0, h0, W, a, b, lr = args.values()
        v1 = torch.sigmoid(h0 @ W + a)
        params = [t.clone().requires_grad_(True) for t in (W, a, b)]

        def fe(v, W_, a_, b_):
            return -(v @ a_) - F.softplus(v @ W_.T + b_).sum(1)

        loss = fe(v0, *params).mean() - fe(v1, *params).mean()
        grads = torch.autograd.grad(loss, params)
        expected = [p.detach() - lr * g for p, g in zip(params, grads)]
        for got, want in zip(_ref("cd1_update", args), expected):
            torch.testing.assert_close(got, want)


def test_cd1_update_agrees_with_coursekit_rbm_cd_gradient():
    # The notebook's own RBM class, CD-1 without visible sampling, fed the same hidden sample.
    from coursekit.rbm import RBM

    args = _cases("cd1_update")[1]
    v0, h0, W, a, b, lr = args.values()
    rbm = RBM(W.shape[1], W.shape[0]).double()
    with torch.no_grad():
        rbm.weight.copy_(W)
        rbm.visible_bias.copy_(a)
        rbm.hidden_bias.copy_(b)
    # cd_gradient draws its own sample; compare the deterministic part by hand instead:
    ph0 = rbm.hidden_probs(v0)
    v1 = rbm.visible_probs(h0)
    ph1 = rbm.hidden_probs(v1)
    dW = (ph0.T @ v0 - ph1.T @ v1) / v0.shape[0]
    torch.testing.assert_close(_ref("cd1_update", args)[0], W + lr * dW)


def test_inverted_dropout_matches_elementwise_definition_and_keeps_the_mean():
    for args in _cases("inverted_dropout"):
        x, p, mask = args.values()
        want = torch.tensor([xi / (1 - p) if (mi == 1 and p < 1) else 0.0
                             for xi, mi in zip(x.reshape(-1).tolist(), mask.reshape(-1).tolist())],
                            dtype=torch.float64).reshape(x.shape)
        torch.testing.assert_close(_ref("inverted_dropout", args), want)
    x = torch.ones(200_000, dtype=torch.float64)
    mask = (torch.rand(200_000, generator=torch.Generator().manual_seed(1), dtype=torch.float64) >= 0.3).double()
    assert abs(float(_ref("inverted_dropout", {"x": x, "p": 0.3, "mask": mask}).mean()) - 1.0) < 0.01


def test_dropout_reference_behaves_like_torch_dropout():
    x = torch.rand(300, 400, dtype=torch.float64) + 0.5
    ours = EXERCISES["dropout_forward"].reference(x, 0.25, True, torch.Generator().manual_seed(3))
    theirs = F.dropout(x, 0.25, training=True)
    for out in (ours, theirs):
        kept = out != 0
        assert abs(float((~kept).double().mean()) - 0.25) < 0.01
        torch.testing.assert_close(out[kept], x[kept] / 0.75)
    torch.testing.assert_close(EXERCISES["dropout_forward"].reference(x, 0.25, False), F.dropout(x, 0.25, training=False))


def test_batchnorm_forward_train_matches_torch_batchnorm1d():
    for args in _cases("batchnorm_forward_train"):
        x, gamma, beta, eps = args.values()
        bn = torch.nn.BatchNorm1d(x.shape[1], eps=eps).double().train()
        with torch.no_grad():
            bn.weight.copy_(gamma)
            bn.bias.copy_(beta)
        torch.testing.assert_close(_ref("batchnorm_forward_train", args), bn(x).detach())


def test_update_running_stats_matches_torch_batchnorm1d():
    for args in _cases("update_running_stats"):
        rm, rv, x, momentum = args.values()
        bn = torch.nn.BatchNorm1d(x.shape[1], momentum=momentum).double().train()
        bn.running_mean.copy_(rm)
        bn.running_var.copy_(rv)
        bn(x)
        new_mean, new_var = _ref("update_running_stats", args)
        torch.testing.assert_close(new_mean, bn.running_mean)
        torch.testing.assert_close(new_var, bn.running_var)


def test_predict_running_mean_reference_matches_the_closed_form():
    for args in _cases("predict_running_mean"):
        mu, m, steps = args.values()
        assert abs(_ref("predict_running_mean", args) - mu * (1 - (1 - m) ** steps)) < 1e-12


def test_batchnorm_backward_reference_matches_the_closed_form_of_coursekit_layers():
    from coursekit.layers import batchnorm_backward

    for args in _cases("batchnorm_backward"):
        for got, want in zip(batchnorm_backward(*args.values()), _ref("batchnorm_backward", args)):
            torch.testing.assert_close(got, want)


# ---------------------------------------------- 2. correct solutions written another way pass


def _sigmoid_derivative_autograd(z):
    z = z.detach().clone().requires_grad_(True)
    torch.sigmoid(z).sum().backward()
    return z.grad


def _dropout_with_bernoulli(x, p, training, generator=None):
    if not training:
        return x
    keep = torch.empty_like(x).bernoulli_(1 - p, generator=generator)
    return x * keep / (1 - p) if p < 1 else x * 0


def _adam_in_place(theta, m, v, grad, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m.mul_(beta1).add_(grad, alpha=1 - beta1)  # updating the given tensors in place is fine
    v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    step = lr / (1 - beta1 ** t)
    denom = (v / (1 - beta2 ** t)).sqrt().add_(eps)
    theta.addcdiv_(m, denom, value=-step)
    return theta, m, v


def _states(n, dtype):
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=n)), dtype=dtype)


def _mc_correct_loop(model, x, n_samples):
    drops = [m for m in model.modules() if isinstance(m, torch.nn.Dropout)]
    for m in drops:
        m.train()
    total = 0
    with torch.no_grad():
        for _ in range(n_samples):
            total = total + F.softmax(model(x), dim=-1)
    for m in drops:
        m.eval()
    return total / n_samples


CORRECT_ALTERNATIVES = [
    ("sigmoid_derivative", _sigmoid_derivative_autograd),
    ("sigmoid_derivative", lambda z: torch.exp(-z.abs()) / (1 + torch.exp(-z.abs())) ** 2),
    ("chain_gradient", lambda w, z: math.prod((wl * torch.sigmoid(zl) * (1 - torch.sigmoid(zl))).item()
                                              for wl, zl in zip(w, z))),
    ("relu_grad", lambda z: torch.where(z > 0, 1.0, 0.0)),
    ("relu_grad", lambda z: z > 0),
    ("count_dead_units", lambda acts: torch.sum(acts.max(dim=0).values == 0)),
    ("momentum_step", lambda th, vel, g, lr, mu: (th - lr * (mu * vel + g), mu * vel + g)),
    ("adam_step", _adam_in_place),
    ("xavier_uniform_bound", lambda fi, fo, gain=1.0: math.sqrt(3.0) * gain * math.sqrt(2.0 / (fi + fo))),
    ("he_normal_std", lambda fi, a=0.0: torch.nn.init.calculate_gain("leaky_relu", a) / math.sqrt(fi)),
    ("free_energy", lambda v, W, a, b: -(v * a).sum(1) - torch.logaddexp(torch.zeros(()), F.linear(v, W, b)).sum(1)),
    ("cd1_update", lambda v0, h0, W, a, b, lr: tuple(
        p + lr * d for p, d in zip((W, a, b), _cd1_stats(v0, h0, W, a, b)))),
    ("inverted_dropout", lambda x, p, mask: torch.where(mask.bool(), x / max(1 - p, 1e-300), torch.zeros_like(x))),
    ("dropout_forward", _dropout_with_bernoulli),
    ("exact_log_likelihood", lambda v, W, a, b: (v @ a) + F.softplus(F.linear(v, W, b)).sum(1) - torch.logsumexp(
        _states(W.shape[1], v.dtype) @ a + F.softplus(F.linear(_states(W.shape[1], v.dtype), W, b)).sum(1), 0)),
    ("mc_dropout_probs", _mc_correct_loop),
    ("batchnorm_forward_train", lambda x, g, b, eps=1e-5: F.batch_norm(x, None, None, g, b, training=True, eps=eps)),
    ("update_running_stats", lambda rm, rv, x, m=0.1: (torch.lerp(rm, x.mean(0), m), torch.lerp(rv, x.var(0), m))),
    ("predict_running_mean", lambda mu, m, steps: mu - mu * (1 - m) ** steps),
    ("batchnorm_backward", lambda dout, x, g, eps=1e-5: __import__("coursekit").layers.batchnorm_backward(dout, x, g, eps)),
    ("pick_best_rate", lambda results: sorted(results, key=lambda lr: (-sum(results[lr]) / len(results[lr]), lr))[0]),
]


def _cd1_stats(v0, h0, W, a, b):
    n = len(v0)
    ph0 = torch.sigmoid(F.linear(v0, W, b))
    v1 = torch.sigmoid(F.linear(h0, W.T, a))
    ph1 = torch.sigmoid(F.linear(v1, W, b))
    return (torch.einsum("nh,nv->hv", ph0, v0) - torch.einsum("nh,nv->hv", ph1, v1)) / n, \
        (v0 - v1).sum(0) / n, (ph0 - ph1).sum(0) / n


@pytest.mark.parametrize("name, fn", CORRECT_ALTERNATIVES, ids=[n for n, _ in CORRECT_ALTERNATIVES])
def test_correct_solutions_written_differently_pass(name, fn):
    result = check(name, fn, quiet=True)
    assert result.passed, result.message


# ------------------------------------------------ 3. plausible wrong solutions get the intended hint


def _sd_naive(z):
    e = torch.exp(-z)
    return e / (1 + e) ** 2


def _adam_no_correction(theta, m, v, grad, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    return theta - lr * m / (v.sqrt() + eps), m, v


def _adam_off_by_one(theta, m, v, grad, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t = t + 1  # "the step counter starts at 0, so the next step is t + 1"
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    return theta - lr * (m / (1 - beta1 ** t)) / ((v / (1 - beta2 ** t)).sqrt() + eps), m, v


def _adam_eps_inside(theta, m, v, grad, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return theta - lr * m_hat / torch.sqrt(v_hat + eps), m, v


def _adam_returns_hats(theta, m, v, grad, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = (beta1 * m + (1 - beta1) * grad) / (1 - beta1 ** t)
    v = (beta2 * v + (1 - beta2) * grad * grad) / (1 - beta2 ** t)
    return theta - lr * m / (v.sqrt() + eps), m, v


def _adam_default_lr(theta, m, v, grad, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = 0.9 * m + 0.1 * grad
    v = 0.999 * v + 0.001 * grad ** 2
    return theta - 1e-3 * (m / (1 - 0.9 ** t)) / ((v / (1 - 0.999 ** t)).sqrt() + 1e-8), m, v


def _bn_unbiased(x, gamma, beta, eps=1e-5):
    return gamma * (x - x.mean(0)) / torch.sqrt(x.var(0) + eps) + beta


def _bn_std_plus_eps(x, gamma, beta, eps=1e-5):
    return gamma * (x - x.mean(0)) / (x.std(0, unbiased=False) + eps) + beta


def _bn_wrong_dim(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=1, keepdim=True)
    var = x.var(dim=1, unbiased=False, keepdim=True)
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta


def _rs_biased(running_mean, running_var, x, momentum=0.1):
    return ((1 - momentum) * running_mean + momentum * x.mean(0),
            (1 - momentum) * running_var + momentum * x.var(0, unbiased=False))


def _rs_optimizer_momentum(running_mean, running_var, x, momentum=0.1):
    return (momentum * running_mean + (1 - momentum) * x.mean(0),
            momentum * running_var + (1 - momentum) * x.var(0))


def _rs_in_place_no_return(running_mean, running_var, x, momentum=0.1):
    running_mean.mul_(1 - momentum).add_(momentum * x.mean(0))
    running_var.mul_(1 - momentum).add_(momentum * x.var(0))


def _dropout_global_rng(x, p, training, generator=None):
    if not training:
        return x
    return x * (torch.rand(x.shape) >= p) / (1 - p)


def _dropout_unscaled(x, p, training, generator=None):
    if not training:
        return x
    return x * (torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p)


def _dropout_eval_scaled(x, p, training, generator=None):
    if not training:
        return x * (1 - p)
    return x * (torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p) / (1 - p)


def _dropout_keep_prob_p(x, p, training, generator=None):
    if not training:
        return x
    return x * (torch.rand(x.shape, generator=generator, dtype=x.dtype) < p) / (1 - p)


def _ll_forgot_log_z(v, W, a, b):
    return (v @ a) + F.softplus(v @ W.T + b).sum(1)


def _ll_batch_partition(v, W, a, b):
    neg_f = (v @ a) + F.softplus(v @ W.T + b).sum(1)
    return neg_f - torch.logsumexp(neg_f, 0)


def _ll_exp_then_log(v, W, a, b):
    every = _states(W.shape[1], v.dtype)
    neg_f = (v @ a) + F.softplus(v @ W.T + b).sum(1)
    z = torch.exp((every @ a) + F.softplus(every @ W.T + b).sum(1)).sum()
    return neg_f - torch.log(z)


def _mc_no_train_mode(model, x, n_samples):
    with torch.no_grad():
        return sum(torch.softmax(model(x), 1) for _ in range(n_samples)) / n_samples


def _mc_average_logits(model, x, n_samples):
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.train()
    with torch.no_grad():
        out = torch.softmax(sum(model(x) for _ in range(n_samples)) / n_samples, 1)
    model.eval()
    return out


def _mc_whole_model_train(model, x, n_samples):
    model.train()
    with torch.no_grad():
        out = torch.stack([torch.softmax(model(x), 1) for _ in range(n_samples)]).mean(0)
    model.eval()
    return out


def _cd1_minus(v0, h0, W, a, b, lr):
    ph0 = torch.sigmoid(v0 @ W.T + b)
    v1 = torch.sigmoid(h0 @ W + a)
    ph1 = torch.sigmoid(v1 @ W.T + b)
    n = len(v0)
    return (W - lr * (ph0.T @ v0 - ph1.T @ v1) / n, a - lr * (v0 - v1).mean(0), b - lr * (ph0 - ph1).mean(0))


def _cd1_summed(v0, h0, W, a, b, lr):
    ph0 = torch.sigmoid(v0 @ W.T + b)
    v1 = torch.sigmoid(h0 @ W + a)
    ph1 = torch.sigmoid(v1 @ W.T + b)
    return (W + lr * (ph0.T @ v0 - ph1.T @ v1), a + lr * (v0 - v1).sum(0), b + lr * (ph0 - ph1).sum(0))


def _cd1_sample_positive(v0, h0, W, a, b, lr):
    v1 = torch.sigmoid(h0 @ W + a)
    ph1 = torch.sigmoid(v1 @ W.T + b)
    n = len(v0)
    return (W + lr * (h0.T @ v0 - ph1.T @ v1) / n, a + lr * (v0 - v1).mean(0), b + lr * (h0 - ph1).mean(0))


def _cd1_weights_only(v0, h0, W, a, b, lr):
    ph0 = torch.sigmoid(v0 @ W.T + b)
    v1 = torch.sigmoid(h0 @ W + a)
    ph1 = torch.sigmoid(v1 @ W.T + b)
    return W + lr * (ph0.T @ v0 - ph1.T @ v1) / len(v0), a, b


def _bwd_parts(dout, x, gamma, eps=1e-5):
    s = torch.sqrt(x.var(0, unbiased=False) + eps)
    return s, (x - x.mean(0)) / s


def _bwd_only_upstream(dout, x, gamma, eps=1e-5):
    s, x_hat = _bwd_parts(dout, x, gamma, eps)
    return gamma * dout / s, (dout * x_hat).sum(0), dout.sum(0)


def _bwd_mean_term_only(dout, x, gamma, eps=1e-5):
    s, x_hat = _bwd_parts(dout, x, gamma, eps)
    return gamma * (dout - dout.mean(0)) / s, (dout * x_hat).sum(0), dout.sum(0)


def _bwd_dgamma_sum(dout, x, gamma, eps=1e-5):
    s, x_hat = _bwd_parts(dout, x, gamma, eps)
    n = x.shape[0]
    return gamma / (n * s) * (n * dout - dout.sum(0) - x_hat * (dout * x_hat).sum(0)), dout.sum(0), dout.sum(0)


def _vd(threshold, activation, seed, pick=lambda g: g[0]):
    """A learner's vanishing_depth, with a choice of what is compared with the threshold."""
    for depth in range(1, 16):
        if pick(ck_flow.gradient_flow(depth, activation, seed=seed)["weight_grad_norm"]) < threshold:
            return depth
    return 16


def _bf(activation, init, seed, entry="grad_norm"):
    """A learner's backprop_factor, with a choice of which norms it reads."""
    g = ck_flow.gradient_flow(6, activation, init, seed=seed)[entry]
    return float((g[0] / g[-1]) ** (1 / 5))


def _floor_trajectory(optimizer, lr, steps):
    return __import__("coursekit").surfaces.trajectory("ill_conditioned", optimizer, None, steps, lr=lr)


def _floor_off_by_one(optimizer, lr, threshold=0.01, steps=200):
    below = np.nonzero(_floor_trajectory(optimizer, lr, steps).loss < threshold)[0]
    return int(below[0]) + 1 if len(below) else -1


def _floor_argmax(optimizer, lr, threshold=0.01, steps=200):
    return int(np.argmax(_floor_trajectory(optimizer, lr, steps).loss < threshold))


def _floor_by_distance(optimizer, lr, threshold=0.01, steps=200):
    near = np.nonzero(_floor_trajectory(optimizer, lr, steps).distance_to((0.0, 0.0)) < threshold)[0]
    return int(near[0]) if len(near) else -1


WRONG = [
    # 01 vanishing gradients
    ("sigmoid_derivative", lambda z: z * (1 - z), "needs s = sigmoid(z) first"),
    ("sigmoid_derivative", lambda z: 1 - torch.sigmoid(z) ** 2, "tanh's derivative"),
    ("sigmoid_derivative", lambda z: torch.sigmoid(z) * (1 - z), "not s * (1 - z)"),
    ("sigmoid_derivative", _sd_naive, "overflows"),
    ("sigmoid_derivative", lambda z: torch.exp(-z) / (1 + torch.exp(-z)), "the denominator is squared"),
    ("chain_gradient", lambda w, z: (w * torch.sigmoid(z) * (1 - torch.sigmoid(z))).sum(), "multiplies"),
    ("chain_gradient", lambda w, z: torch.prod(torch.sigmoid(z) * (1 - torch.sigmoid(z))), "left out the weights"),
    ("chain_gradient", lambda w, z: torch.prod(w * torch.sigmoid(z)), "not sigma(z) itself"),
    ("chain_gradient", lambda w, z: torch.tensor(0.25) ** len(w), "only the upper bound"),
    ("chain_gradient", lambda w, z: torch.cumprod(w * torch.sigmoid(z) * (1 - torch.sigmoid(z)), 0),
     "a single number"),
    ("vanishing_depth", lambda t, a, s: _vd(t, a, s) - 1, "one layer too few"),
    ("vanishing_depth", lambda t, a, s: _vd(t, a, s, pick=lambda g: g[-1]), "[-1] is the output layer"),
    ("vanishing_depth", lambda t, a, s: _vd(t, a, s, pick=lambda g: g[0] / g[-1]), "not its ratio"),
    ("vanishing_depth", lambda t, a, s: _vd(t, a, 0), "pass the seed on"),
    # 02 ReLU
    ("relu_grad", lambda z: torch.relu(z), "that is ReLU itself"),
    ("relu_grad", lambda z: (z >= 0).float(), "z > 0, not z >= 0"),
    ("relu_grad", lambda z: torch.sign(z), "not -1"),
    ("relu_grad", lambda z: torch.where(z > 0, 1.0, 0.01), "LeakyReLU"),
    ("count_dead_units", lambda acts: int((acts == 0).sum()), "you counted zero entries"),
    ("count_dead_units", lambda acts: int((acts == 0).all(dim=1).sum()), "reduce over the examples, dim=0"),
    ("count_dead_units", lambda acts: int((acts == 0).any(dim=0).sum()), "not .any(dim=0)"),
    ("count_dead_units", lambda acts: (acts == 0).all(dim=0).float().mean().item(), "not their fraction"),
    ("backprop_factor", lambda act, init, s: _bf(act, init, s) ** -1, "on the way *up*"),
    ("backprop_factor", lambda act, init, s: _bf(act, init, s, entry="weight_grad_norm"), "not 'weight_grad_norm'"),
    ("backprop_factor", lambda act, init, s: _bf(act, init, s) ** (5 / 6), "5 layers, not 6"),
    ("backprop_factor", lambda act, init, s: _bf(act, init, s) ** 5, "the whole fall"),
    # 03 optimizers
    ("momentum_step", lambda th, v, g, lr, mu: (th + mu * v - lr * g, mu * v - lr * g), "not the velocity form"),
    ("momentum_step", lambda th, v, g, lr, mu: (th - lr * v, mu * v + g), "step with the *new* buffer"),
    ("momentum_step", lambda th, v, g, lr, mu: (th - lr * (mu * v + (1 - mu) * g), mu * v + (1 - mu) * g),
     "no (1 - mu) factor"),
    ("momentum_step", lambda th, v, g, lr, mu: (th + lr * (mu * v + g), mu * v + g), "step against the gradient"),
    ("adam_step", _adam_no_correction, "bias correction missing"),
    ("adam_step", _adam_off_by_one, "not beta**(t + 1)"),
    ("adam_step", _adam_eps_inside, "eps goes outside the square root"),
    ("adam_step", _adam_returns_hats, "not the bias-corrected"),
    ("adam_step", _adam_default_lr, "use the hyper-parameters passed in"),
    ("steps_to_floor", _floor_off_by_one, "count from the start"),
    ("steps_to_floor", _floor_argmax, "'never' is -1"),
    ("steps_to_floor", _floor_by_distance, "not the distance"),
    # 04 initialization
    ("xavier_uniform_bound", lambda fi, fo, gain=1.0: gain * math.sqrt(6 / fi), "uses both fans"),
    ("xavier_uniform_bound", lambda fi, fo, gain=1.0: gain * math.sqrt(2 / (fi + fo)), "that is the *std*"),
    ("xavier_uniform_bound", lambda fi, fo, gain=1.0: math.sqrt(6 / (fi + fo)), "multiply by the gain"),
    ("xavier_uniform_bound", lambda fi, fo, gain=1.0: 1 / math.sqrt(fi), "old 'standard' bound"),
    ("he_normal_std", lambda fi, a=0.0: math.sqrt(1 / fi), "not sqrt(1 / fan_in)"),
    ("he_normal_std", lambda fi, a=0.0: 2 / fi, "is the variance"),
    ("he_normal_std", lambda fi, a=0.0: math.sqrt(6 / fi), "*uniform* bound"),
    ("he_normal_std", lambda fi, a=0.0: math.sqrt(2 / fi), "with a leaky slope"),
    ("predict_signal_change", lambda d, act, s, n: (s * math.sqrt(n)) ** d, "ReLU zeroes the negative half"),
    ("predict_signal_change", lambda d, act, s, n: s * math.sqrt(n / 2 if act == "relu" else n), "raise it to the power"),
    ("predict_signal_change", lambda d, act, s, n: (s ** 2 * (n / 2 if act == "relu" else n)) ** d, "the *variance*"),
    ("predict_signal_change", lambda d, act, s, n: (s * math.sqrt(n / 2 if act == "relu" else n)) ** (d - 1),
     "not depth - 1"),
    # 05 RBM
    ("free_energy", lambda v, W, a, b: -(v @ a) - torch.log(1 + torch.exp(v @ W.T + b)).sum(1), "overflows"),
    ("free_energy", lambda v, W, a, b: -F.softplus(v @ W.T + b).sum(1), "visible-bias term"),
    ("free_energy", lambda v, W, a, b: v @ a + F.softplus(v @ W.T + b).sum(1), "minus sign"),
    ("free_energy", lambda v, W, a, b: -(v @ a) - F.softplus(v @ W + b).sum(1), "v @ W.T + b"),
    ("free_energy", lambda v, W, a, b: (-(v @ a) - F.softplus(v @ W.T + b).sum(1)).sum(), "one value per entry"),
    ("cd1_update", _cd1_minus, "you subtracted them"),
    ("cd1_update", _cd1_summed, "divide the sums by the batch size"),
    ("cd1_update", _cd1_sample_positive, "not the sample h0"),
    ("cd1_update", _cd1_weights_only, "update the biases too"),
    ("exact_log_likelihood", _ll_forgot_log_z, "needs log Z"),
    ("exact_log_likelihood", _ll_batch_partition, "not over the images in the batch"),
    ("exact_log_likelihood", _ll_exp_then_log, "use torch.logsumexp"),
    # 06 dropout
    ("inverted_dropout", lambda x, p, mask: x * mask, "missing 1/(1 - p) scale"),
    ("inverted_dropout", lambda x, p, mask: x * mask * (1 - p), "not by (1 - p)"),
    ("inverted_dropout", lambda x, p, mask: x * mask / p, "not by p"),
    ("inverted_dropout", lambda x, p, mask: x * mask / (1 - p), "with p = 1 every unit is dropped"),
    ("inverted_dropout", lambda x, p, mask: x * (1 - mask) / (1 - p), "mask is 1.0 for the units to keep"),
    ("dropout_forward", _dropout_unscaled, "missing 1/(1 - p) scale"),
    ("dropout_forward", _dropout_eval_scaled, "in eval mode"),
    ("dropout_forward", _dropout_keep_prob_p, "probability of *dropping*"),
    ("dropout_forward", _dropout_global_rng, "draw the random numbers from the generator"),
    ("mc_dropout_probs", _mc_no_train_mode, "switch the dropout layers to training mode"),
    ("mc_dropout_probs", _mc_average_logits, "softmax of the average logits"),
    ("mc_dropout_probs", _mc_whole_model_train, "model.train() also switches batch norm"),
    # 07 batch norm
    ("batchnorm_forward_train", _bn_unbiased, "*biased* batch variance"),
    ("batchnorm_forward_train", _bn_std_plus_eps, "eps goes inside the square root"),
    ("batchnorm_forward_train", _bn_wrong_dim, "reduce over dim=0"),
    ("batchnorm_forward_train", lambda x, g, b, eps=1e-5: (x - x.mean(0)) / (x.var(0, unbiased=False) + eps).sqrt(),
     "gamma * x_hat + beta"),
    ("update_running_stats", _rs_biased, "*unbiased* batch variance"),
    ("update_running_stats", _rs_optimizer_momentum, "weight of the *new* batch"),
    ("update_running_stats", lambda rm, rv, x, m=0.1: ((1 - m) * rm + m * x.mean(0), (1 - m) * rv + m * x.std(0)),
     "not the standard deviation"),
    ("update_running_stats", _rs_in_place_no_return, "did you forget the `return` line"),
    ("predict_running_mean", lambda mu, m, steps: mu * (1 - m ** steps), "weights the *new* batch"),
    ("predict_running_mean", lambda mu, m, steps: mu, "does not jump to mu"),
    ("predict_running_mean", lambda mu, m, steps: mu * (1 - m) ** steps, "the running mean is mu minus that"),
    ("predict_running_mean", lambda mu, m, steps: mu * (1 - (1 - m) ** (steps + 1)),
     "shrinks by a factor (1 - momentum)"),
    ("batchnorm_backward", _bwd_only_upstream, "two batch sums"),
    ("batchnorm_backward", _bwd_mean_term_only, "not the variance's"),
    ("batchnorm_backward", _bwd_dgamma_sum, "not the sum of dout"),
    # 08 putting it together
    ("pick_best_rate", lambda results: max(results, key=lambda lr: max(results[lr])), "not the best single seed"),
    ("pick_best_rate", lambda results: max(sum(v) / len(v) for v in results.values()), "not its accuracy"),
    ("pick_best_rate", lambda results: min(results, key=lambda lr: sum(results[lr]) / len(results[lr])),
     "the largest mean"),
    ("one_fix", lambda: ({"activation": "relu"}, 0.9), "blows the signal up"),
    ("one_fix", lambda: ({"init": "he"}, 0.9), "gradients vanish"),
    ("one_fix", lambda: ({"dropout": 0.3}, 0.5), "does not overfit"),
    ("one_fix", lambda: ({"batchnorm": True, "optimizer": "adam"}, 0.9), "one fix at a time"),
    ("one_fix", lambda: ({"batchnorm": True}, 0.3), "what your prediction missed"),
]


@pytest.mark.parametrize("name, fn, hint", WRONG, ids=[f"{n}-{h[:24]}" for n, _, h in WRONG])
def test_wrong_solution_fails_with_the_intended_hint(name, fn, hint, capsys):
    result = check(name, fn)
    out = capsys.readouterr().out
    assert not result and result.status == "wrong", result.message
    assert out.count("\n") == 1, f"check printed more than one line: {out!r}"
    assert out.startswith(f"✗ {name}: ") and "expected" in out and "Hint: " in out
    assert hint in out, f"expected the hint to mention {hint!r}; got {out!r}"


def test_the_tests_try_at_least_three_wrong_solutions_per_exercise():
    for name in EXERCISES:
        assert sum(n == name for n, _, _ in WRONG) >= 3, name


# ----------------------------------------------------------- learner-facing behaviour


def test_a_stub_that_raises_not_implemented_gets_the_friendly_message(capsys):
    def adam_step(theta, m, v, grad, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        raise NotImplementedError("adam_step: one Adam step ...")

    result = check("adam_step", adam_step)
    assert capsys.readouterr().out == "✗ adam_step: not implemented yet: fill in the cell above.\n"
    assert not result and result.status == "not-implemented" and result.cases_passed == 0


def test_a_crashing_function_gets_a_one_line_report_with_the_line_that_raised(capsys):
    def free_energy(v, W, a, b):
        visible = a @ v  # wrong order: raises when batch != n_visible
        return -visible - F.softplus(v @ W.T + b).sum(1)

    result = check("free_energy", free_energy)
    out = capsys.readouterr().out
    assert not result and result.status == "error"
    assert out.count("\n") == 1 and "Traceback" not in out
    assert "your function raised RuntimeError" in out
    assert "in free_energy, line" in out and "`visible = a @ v" in out
    assert "check the shapes" in out


def test_a_python_error_in_the_learners_code_is_reported_not_raised(capsys):
    def sigmoid_derivative(z):
        s = torch.sigmoid(z)
        return s * (1 - sigma)  # noqa: F821 - the learner's typo

    result = check("sigmoid_derivative", sigmoid_derivative)
    out = capsys.readouterr().out
    assert not result and "NameError: name 'sigma' is not defined" in out and out.count("\n") == 1


def test_returning_none_wrong_tuple_and_wrong_shape_are_explained():
    r = check("relu_grad", lambda z: None, quiet=True)
    assert "got None (your function returned nothing)" in r.message and "return" in r.hint
    r = check("adam_step", lambda *args: args[0], quiet=True)
    assert "expected 3 values (theta, m, v), got a tensor" in r.message
    r = check("relu_grad", lambda z: (z > 0).float().reshape(z.shape[::-1]), quiet=True)
    assert "expected shape (6, 5), got a tensor of shape (5, 6)" in r.message and "transposed" in r.message
    r = check("relu_grad", lambda z: "no idea", quiet=True)
    assert "expected a number or a tensor, got a str" in r.message


def test_check_called_wrongly_explains_itself_without_raising():
    r = check("adam_stepp", lambda: None, quiet=True)
    assert r.status == "bad-call" and "did you mean 'adam_step'" in r.message
    r = check("adam_step", None, quiet=True)
    assert r.status == "bad-call" and "without parentheses" in r.message
    r = check(42, len, quiet=True)
    assert r.status == "bad-call" and "no exercise called 42" in r.message


def test_messages_never_show_the_reference_code():
    for name, fn, _ in WRONG:
        msg = check(name, fn, quiet=True).message
        assert "\n" not in msg
        assert "def _" not in msg and "lambda" not in msg and "exercises.py" not in msg
        assert "coursekit/exercises" not in msg and "nb0" not in msg


def test_the_result_is_bool_like_and_prints_once_in_a_notebook(capsys):
    result = check("relu_grad", EXERCISES["relu_grad"].reference)
    assert capsys.readouterr().out.count("\n") == 1
    assert bool(result) is True and result.passed and str(result) == result.message
    result._ipython_display_()  # IPython showing the cell's value right after check printed it
    assert capsys.readouterr().out == ""
    result._ipython_display_()  # shown again later, on its own
    assert capsys.readouterr().out == result.message + "\n"
    assert not check("relu_grad", torch.relu, quiet=True)


def test_check_leaves_the_global_random_state_alone():
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    check("dropout_forward", _dropout_global_rng, quiet=True)  # draws from the global generator
    check("dropout_forward", EXERCISES["dropout_forward"].reference, quiet=True)
    after = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    assert after == (random.random(), float(np.random.rand()), float(torch.rand(1)))


def test_inputs_changed_in_place_do_not_spoil_the_comparison():
    # _adam_in_place changes m, v and theta in place; the reference gets fresh copies.
    assert check("adam_step", _adam_in_place, quiet=True).passed
