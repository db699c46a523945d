"""Tests for the per-layer plot helpers added to coursekit.plots with coursekit.diagnostics."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from coursekit.plots import plot_grad_norms, plot_layer_histograms, plot_layer_stats


def test_grad_norms_one_run_draws_one_point_per_layer_on_log_axis():
    fig = plot_grad_norms({"fc1": 1e-6, "fc2": 1e-4, "out": 1e-1})
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [1e-6, 1e-4, 1e-1])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["fc1", "fc2", "out"]
    plt.close(fig)


def test_grad_norms_several_runs_share_an_axis_with_technique_colours():
    from coursekit.plots import color

    fig = plot_grad_norms({"sigmoid": {"fc1": 1e-6, "out": 1.0}, "relu": {"fc1": 1e-2, "out": 1.0}})
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and ax.lines[1].get_color() == color("relu")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["sigmoid", "relu"]
    plt.close(fig)
    fig = plot_grad_norms({"sigmoid": {"fc1": 1e-6, "out": 1.0}}, legend=False)
    assert fig.axes[0].get_legend() is None and fig.axes[0].lines[0].get_color() == color("sigmoid")
    plt.close(fig)


def test_layer_histograms_integrate_to_one_per_layer():
    rng = np.random.default_rng(0)
    vals = {"act1": rng.normal(size=500), "act2": rng.normal(scale=0.1, size=500)}
    fig = plot_layer_histograms(vals, bins=20, value_range=(-3, 3))
    ax = fig.axes[0]
    width = 6 / 20
    for line in ax.lines:
        assert line.get_ydata().sum() * width == pytest.approx(1.0)
    plt.close(fig)


def test_layer_stats_draws_mean_line_and_band_per_layer():
    steps = np.array([1, 2, 3])
    fig = plot_layer_stats(steps, {"a": [0.5, 0.4, 0.3], "b": [0.5, 0.5, 0.5]}, {"a": [0.1, 0.1, 0.1]})
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and len(ax.collections) == 1
    plt.close(fig)
    fig = plot_layer_stats(steps, {"a": [0.5, 0.4, 0.3]}, {"a": np.array([[0, 1]] * 3)}, band="range")
    plt.close(fig)


def test_plot_helpers_reject_bad_input():
    with pytest.raises(TypeError, match="norms"):
        plot_grad_norms([1, 2])
    with pytest.raises(TypeError, match="values"):
        plot_layer_histograms({})
    with pytest.raises(ValueError, match="bins"):
        plot_layer_histograms({"a": [1.0, 2.0]}, bins=1)
    with pytest.raises(ValueError, match="band"):
        plot_layer_stats([1], {"a": [1]}, band="iqr")
    with pytest.raises(ValueError, match="3 steps"):
        plot_layer_stats([1, 2, 3], {"a": [1, 2]})
    with pytest.raises(ValueError, match="shape"):
        plot_layer_stats([1, 2], {"a": [1, 2]}, {"a": [1, 2]}, band="range")


def test_grad_norms_thins_tick_labels_but_keeps_first_and_last_layer():
    names = [f"fc{i}" for i in range(1, 16)] + ["out"]
    fig = plot_grad_norms({n: 10.0 ** -i for i, n in enumerate(names)})
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels[0] == "fc1" and labels[-1] == "out" and len(labels) <= 9
    plt.close(fig)
