"""Surfaces (gradients, known minima) and the trajectory helper of coursekit.surfaces."""
from __future__ import annotations

import functools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from coursekit import optim as ck_optim  # noqa: E402
from coursekit import plots  # noqa: E402
from coursekit import surfaces as S  # noqa: E402

NAMES = sorted(S.SURFACES)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------------------- surfaces

@pytest.mark.parametrize("name", NAMES)
def test_autograd_gradient_matches_central_finite_differences(name):
    surf = S.get(name)
    rng = np.random.default_rng(0)
    h = 1e-6
    for _ in range(5):
        x = rng.uniform(*surf.xlim)
        y = rng.uniform(*surf.ylim)
        fd = np.array([
            (surf.value(x + h, y) - surf.value(x - h, y)) / (2 * h),
            (surf.value(x, y + h) - surf.value(x, y - h)) / (2 * h),
        ])
        np.testing.assert_allclose(surf.gradient(x, y), fd, rtol=1e-5, atol=1e-5 * (1 + np.abs(fd).max()))


@pytest.mark.parametrize("name", [n for n in NAMES if S.SURFACES[n].minima])
def test_known_minima_have_zero_gradient_and_the_stated_value(name):
    surf = S.get(name)
    for mx, my in surf.minima:
        assert np.abs(surf.gradient(mx, my)).max() < 1e-9
        assert surf.value(mx, my) == pytest.approx(surf.min_value, abs=1e-12)


@pytest.mark.parametrize("name", [n for n in NAMES if S.SURFACES[n].minima])
def test_no_grid_point_is_below_the_stated_minimum(name):
    # Brute force over the plotting window: the stated minimum value is the lowest there.
    surf = S.get(name)
    _, _, Z = surf.grid(301)
    assert Z.min() >= surf.min_value - 1e-12
    # ... and each minimum is a local minimum: the Hessian there is positive definite.
    for m in surf.minima:
        hess = torch.autograd.functional.hessian(lambda p: surf(p), torch.tensor(m, dtype=torch.float64))
        assert torch.linalg.eigvalsh(hess).min() > 0


def test_himmelblau_has_four_distinct_minima():
    surf = S.get("himmelblau")
    pts = np.array(surf.minima)
    assert len(pts) == 4
    assert min(np.hypot(*(a - b)) for i, a in enumerate(pts) for b in pts[i + 1:]) > 1.0


@pytest.mark.parametrize("name", [n for n in NAMES if S.SURFACES[n].saddles])
def test_saddle_points_are_flat_with_curvature_of_both_signs(name):
    surf = S.get(name)
    for s in surf.saddles:
        assert np.abs(surf.gradient(*s)).max() < 1e-9
        hess = torch.autograd.functional.hessian(lambda p: surf(p), torch.tensor(s, dtype=torch.float64))
        eig = torch.linalg.eigvalsh(hess)
        assert eig.min() < 0 < eig.max()


def test_ill_conditioned_quadratic_has_the_stated_curvatures():
    surf = S.get("ill_conditioned")
    hess = torch.autograd.functional.hessian(lambda p: surf(p), torch.zeros(2, dtype=torch.float64))
    torch.testing.assert_close(hess, torch.diag(torch.tensor([0.1, 6.0], dtype=torch.float64)))


def test_surface_is_evaluated_elementwise_on_batches_of_points():
    surf = S.get("rosenbrock")
    pts = torch.tensor([[1.0, 1.0], [0.0, 0.0], [-1.0, 2.0]], dtype=torch.float64)
    np.testing.assert_allclose(surf(pts).numpy(), [0.0, 1.0, 4.0 + 100.0])


def test_surface_rejects_points_of_the_wrong_shape():
    surf = S.get("beale")
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        surf(torch.zeros(3))
    with pytest.raises(TypeError, match="point must be a torch.Tensor"):
        surf([1.0, 2.0])


def test_unknown_surface_name_lists_the_choices():
    with pytest.raises(ValueError, match="unknown surface 'bowl'.*rosenbrock"):
        S.get("bowl")


# ----------------------------------------------------------------------------- trajectory

def test_trajectory_records_start_every_step_and_the_loss_there():
    tr = S.trajectory("beale", "adam", start=(1.0, 1.5), steps=25, lr=0.05)
    assert tr.path.shape == (26, 2) and tr.loss.shape == (26,)
    np.testing.assert_array_equal(tr.path[0], [1.0, 1.5])
    surf = S.get("beale")
    np.testing.assert_allclose(tr.loss, [surf.value(x, y) for x, y in tr.path], rtol=1e-12)
    assert not tr.diverged and tr.label == "adam" and tr.lr == 0.05 and tr.steps == 25


def test_sgd_trajectory_equals_hand_written_gradient_descent():
    # Independent reference: f = x^2/20 + 3 y^2 has gradient (x/10, 6y).
    lr = 0.2
    tr = S.trajectory("ill_conditioned", "sgd", start=(-4.0, 1.0), steps=30, lr=lr)
    p = np.array([-4.0, 1.0])
    for t in range(31):
        np.testing.assert_allclose(tr.path[t], p, rtol=1e-12, atol=1e-15)
        p = p - lr * np.array([p[0] / 10, 6 * p[1]])


def test_trajectory_accepts_a_factory_and_scratch_optimizers_give_the_same_path():
    by_name = S.trajectory("rosenbrock", "adam", steps=60, lr=0.05)
    by_factory = S.trajectory("rosenbrock", lambda ps: torch.optim.Adam(ps, lr=0.05), steps=60)
    scratch = S.trajectory("rosenbrock", functools.partial(ck_optim.Adam, lr=0.05), steps=60)
    np.testing.assert_allclose(by_factory.path, by_name.path, rtol=0, atol=0)
    np.testing.assert_allclose(scratch.path, by_name.path, rtol=1e-10, atol=1e-12)
    assert by_factory.label == "Adam" and by_factory.lr is None


def test_momentum_setting_reaches_the_optimizer():
    a = S.trajectory("ill_conditioned", "momentum", steps=20, lr=0.1, momentum=0.5)
    b = S.trajectory("ill_conditioned", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.5), steps=20)
    np.testing.assert_array_equal(a.path, b.path)


def test_divergent_run_is_flagged_and_padded_with_nan():
    tr = S.trajectory("ill_conditioned", "sgd", steps=50, lr=1.0)  # 1 - 6 * lr = -5: explodes
    assert tr.diverged
    assert tr.path.shape == (51, 2) and np.isnan(tr.path[-1]).all() and np.isnan(tr.loss[-1])
    assert np.isfinite(tr.final).all()
    assert tr.final_loss == float("inf")


def test_start_exactly_on_the_saddle_ridge_never_leaves_it():
    # The gradient of x^2 - y^2 at y = 0 has no y component, for every optimizer.
    for name in ("sgd", "momentum", "adam", "rmsprop"):
        tr = S.trajectory("saddle", name, start=(1.0, 0.0), steps=40, lr=0.05)
        assert np.all(tr.path[:, 1] == 0.0)


def test_distance_to_nearest_minimum():
    tr = S.trajectory("himmelblau", "sgd", start=(2.5, 2.5), steps=200, lr=0.01)
    d = tr.distance_to()
    assert d.shape == (201,) and d[-1] < 1e-3  # ends in the minimum (3, 2)
    with pytest.raises(ValueError, match="has no minimum"):
        S.trajectory("saddle", "sgd", steps=2, lr=0.1).distance_to()


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(surface="beale", optimizer="adam", steps=0, lr=0.1), ValueError, "steps must be >= 1"),
    (dict(surface="beale", optimizer="adam", steps=5), ValueError, "lr is required"),
    (dict(surface="beale", optimizer="adam", steps=5, lr=-1.0), ValueError, "lr must be > 0"),
    (dict(surface="beale", optimizer="adamm", steps=5, lr=0.1), ValueError, "unknown optimizer 'adamm'"),
    (dict(surface="beale", optimizer=lambda ps: torch.optim.SGD(ps, lr=0.1), steps=5, lr=0.1),
     ValueError, "lr is only used with an optimizer name"),
    (dict(surface="beale", optimizer=lambda ps: "not an optimizer", steps=5), TypeError,
     "must return a torch.optim.Optimizer"),
    (dict(surface="beale", optimizer=3, steps=5), TypeError, "optimizer must be a name"),
    (dict(surface="beale", optimizer="sgd", start=(1.0,), steps=5, lr=0.1), ValueError,
     r"start must be a point \(x, y\)"),
    (dict(surface="beale", optimizer="sgd", start=(1.0, float("inf")), steps=5, lr=0.1), ValueError,
     "start must be finite"),
    (dict(surface="beale", optimizer="momentum", steps=5, lr=0.1, momentum=1.2), ValueError,
     "momentum must be < 1"),
    (dict(surface="cliff", optimizer="sgd", steps=5, lr=0.1), ValueError, "unknown surface"),
])
def test_trajectory_rejects_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        S.trajectory(**kwargs)


# ----------------------------------------------------------------------------- tuning and measures

def test_tune_lr_keeps_the_lowest_final_loss_and_ranks_divergence_last():
    grid = [0.01, 0.1, 0.3, 1.0]
    best, runs = S.tune_lr("ill_conditioned", "sgd", grid, steps=60)
    assert sorted(runs) == grid and runs[1.0].diverged
    finals = {lr: tr.final_loss for lr, tr in runs.items()}
    assert best == min(finals, key=finals.get) == 0.3


def test_tune_lr_rejects_an_empty_grid_and_distance_without_minimum():
    with pytest.raises(ValueError, match="lrs is empty"):
        S.tune_lr("beale", "sgd", [])
    with pytest.raises(ValueError, match="needs a surface with a minimum"):
        S.tune_lr("saddle", "sgd", [0.1], score="distance")


def _fake(path):
    path = np.asarray(path, dtype=float)
    return S.Trajectory(path, np.zeros(len(path)), "ill_conditioned", "fake")


def test_zigzag_fraction_counts_reversals():
    assert S.zigzag_fraction(_fake([[0, 1], [0, -1], [0, 1], [0, -1]])) == 1.0
    assert S.zigzag_fraction(_fake([[0, 3], [0, 2], [0, 1], [0, 0]])) == 0.0
    assert S.zigzag_fraction(_fake([[0, 0], [1, 0], [0, 0], [1, 0]]), axis=0) == 1.0
    # SGD on the valley at lr 0.3: y is multiplied by 1 - 6 * 0.3 = -0.8 every step.
    tr = S.trajectory("ill_conditioned", "sgd", steps=40, lr=0.3)
    assert S.zigzag_fraction(tr) == 1.0 and S.zigzag_fraction(tr, axis=0) == 0.0


def test_largest_climb():
    tr = _fake([[0, 0], [3, 4], [3, 0]])
    tr.loss = np.array([5.0, 2.0, 3.5])
    assert S.largest_climb(tr) == pytest.approx(1.5)
    tr.loss = np.array([5.0, 2.0, 1.0])
    assert S.largest_climb(tr) == 0.0
    # Gradient descent with a small step never climbs; heavy momentum on the valley does.
    assert S.largest_climb(S.trajectory("ill_conditioned", "sgd", steps=60, lr=0.1)) == 0.0
    assert S.largest_climb(S.trajectory("ill_conditioned", "momentum", steps=60, lr=0.1)) > 0.5


def test_steps_to_leave():
    tr = _fake([[0, 0], [0, 0.5], [0, 1.5], [0, 3]])
    assert S.steps_to_leave(tr, 1.0) == 2
    assert S.steps_to_leave(tr, 5.0) is None
    with pytest.raises(ValueError, match="radius must be > 0"):
        S.steps_to_leave(tr, 0.0)


# ----------------------------------------------------------------------------- drawing

def test_plot_trajectories_draws_each_path_with_its_course_colour_and_a_legend():
    from coursekit.plots import color

    trs = [S.trajectory("beale", n, steps=10, lr=0.01) for n in ("sgd", "adam")]
    fig = plots.plot_trajectories("beale", trs)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["sgd (lr 0.01)", "adam (lr 0.01)"]
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert matplotlib.colors.same_color(lines["adam (lr 0.01)"].get_color(), color("adam"))
    np.testing.assert_allclose(lines["sgd (lr 0.01)"].get_xydata(), trs[0].path)


def test_plot_trajectories_rejects_a_path_from_another_surface():
    tr = S.trajectory("beale", "sgd", steps=3, lr=0.01)
    with pytest.raises(ValueError, match="ran on 'beale', not on 'saddle'"):
        plots.plot_trajectories("saddle", [tr])
    with pytest.raises(TypeError, match="must be a Trajectory"):
        plots.plot_trajectories("beale", [tr.path])


@pytest.mark.parametrize("name", NAMES)
def test_draw_trajectory_returns_path_and_loss_panels(name):
    fig = plots.plot_trajectory(name, "momentum", lr=0.01, momentum=0.9, steps=30)
    assert len(fig.axes) == 2
    assert fig.axes[1].get_xlabel() == "step"


def test_widget_redraws_when_a_control_changes():
    from coursekit.widgets import interactive_figure

    w = interactive_figure(plots.plot_trajectory, surface=list(S.SURFACES), optimizer=["sgd", "adam"],
                           lr=(0.01, 0.3, 0.01), momentum=(0.0, 0.95, 0.05), steps=(10, 200, 10))
    calls = w.calls
    w.controls["optimizer"].value = "adam"
    assert w.calls == calls + 1
    assert any("adam, lr" in txt.get_text() for txt in w.last_figure.axes[1].texts)


def test_noise_zero_is_the_exact_gradient_and_noise_is_seeded():
    exact = S.trajectory("ill_conditioned", "sgd", steps=20, lr=0.1)
    np.testing.assert_array_equal(S.trajectory("ill_conditioned", "sgd", steps=20, lr=0.1, noise=0.0, seed=5).path,
                                  exact.path)
    a = S.trajectory("ill_conditioned", "sgd", steps=20, lr=0.1, noise=0.5, seed=1)
    b = S.trajectory("ill_conditioned", "sgd", steps=20, lr=0.1, noise=0.5, seed=1)
    c = S.trajectory("ill_conditioned", "sgd", steps=20, lr=0.1, noise=0.5, seed=2)
    np.testing.assert_array_equal(a.path, b.path)
    assert not np.array_equal(a.path, c.path) and not np.array_equal(a.path, exact.path)


def test_noise_adds_gaussian_noise_to_each_gradient_step():
    # One SGD step: the move is lr * (gradient + noise * z), z ~ N(0, 1) drawn from the seed's generator.
    tr = S.trajectory("ill_conditioned", "sgd", start=(1.0, 1.0), steps=1, lr=0.1, noise=2.0, seed=3)
    z = torch.randn(2, generator=torch.Generator().manual_seed(3), dtype=torch.float64).numpy()
    grad = S.get("ill_conditioned").gradient(1.0, 1.0)
    np.testing.assert_allclose(tr.path[1], np.array([1.0, 1.0]) - 0.1 * (grad + 2.0 * z), rtol=1e-12)


def test_noise_must_be_a_finite_non_negative_number():
    with pytest.raises(ValueError, match="noise"):
        S.trajectory("beale", "sgd", steps=2, lr=0.01, noise=-1.0)


def test_swing_measures_the_width_of_the_zigzag_not_its_count():
    # SGD at lr 0.3 on x²/20 + 3y²: y is multiplied by -0.8 each step, so |y_t| = 1.5 * 0.8**t.
    tr = S.trajectory("ill_conditioned", "sgd", steps=100, lr=0.3)
    expected = np.mean(1.5 * 0.8 ** np.arange(1, 21))
    assert S.swing(tr) == pytest.approx(expected, rel=1e-9)
    assert S.zigzag_fraction(tr) == 1.0
    mom = S.trajectory("ill_conditioned", "momentum", steps=100, lr=0.3)
    assert S.zigzag_fraction(mom) < S.zigzag_fraction(tr) and S.swing(mom) > 2 * S.swing(tr)


def test_climb_step_is_where_the_largest_climb_happens():
    tr = S.trajectory("ill_conditioned", "momentum", steps=100, lr=0.3)
    t = S.climb_step(tr)
    assert tr.loss[t] - tr.loss[: t + 1].min() == pytest.approx(S.largest_climb(tr))
    assert S.climb_step(S.trajectory("ill_conditioned", "sgd", steps=50, lr=0.3)) == 0


def test_the_valley_window_shows_momentums_overshoot():
    mom = S.trajectory("ill_conditioned", "momentum", steps=100, lr=0.3)
    assert np.nanmax(mom.path[:, 0]) < S.get("ill_conditioned").xlim[1]
