"""Redrawing into a widget's previous figure gives the same picture as a new figure.

Every draw function behind a notebook widget takes ``fig=`` (a figure it
returned before) so the widget can skip building axes on each move. These
tests render both ways and compare the pixels: a leftover artist, legend entry,
scale or title from the previous settings would show up as a difference.
"""
from __future__ import annotations

import functools
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from coursekit import plots, widgets  # noqa: E402
from coursekit.train import History  # noqa: E402


def _pixels(fig) -> np.ndarray:
    buf = io.BytesIO()
    with matplotlib.rc_context(plots.LIVE_STYLE):
        fig.savefig(buf, format="png", dpi=fig.dpi)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def _fresh(draw, kwargs):
    with matplotlib.rc_context(plots.LIVE_STYLE):
        fig = draw(**kwargs)
    pixels = _pixels(fig)
    plt.close(fig)
    return pixels


def _sweep():
    return {p: History(epoch=[1, 2, 3], train_loss=[1.0, 0.5, 0.2 + p], val_loss=[1.1, 0.7, 0.6 + p],
                       train_acc=[0.5, 0.7, 0.9], val_acc=[0.5, 0.6, 0.7 - p]) for p in (0.0, 0.3, 0.5)}


POPULATION = torch.randn(512, generator=torch.Generator().manual_seed(0)) * 2 + 1

# (draw function, a sequence of settings a learner might move through: structure changes on purpose)
CASES = {
    "01 gradient flow": (plots.plot_gradient_flow, [
        dict(depth=6, activation="sigmoid"),
        dict(depth=12, activation="relu", init="kaiming_normal", weight_scale=0.5),
        dict(depth=2, activation="tanh"),
    ]),
    "02 activation profile": (plots.plot_activation_profile, [
        dict(activation="relu", depth=8),
        dict(activation="sigmoid", depth=3),
        dict(activation="tanh", depth=12, weight_scale=3.0),
    ]),
    "03 optimizer trajectory": (plots.plot_trajectory, [
        dict(surface="beale", optimizer="momentum", lr=0.003),
        dict(surface="rosenbrock", optimizer="adam", lr=0.05, steps=40),
        dict(surface="saddle", optimizer="sgd", lr=0.1, steps=20),
    ]),
    "04 signal through depth": (functools.partial(plots.plot_signal_through_depth, nets=2, width=32), [
        dict(depth=20, activation="tanh", scheme="xavier_normal", gradients=False),
        dict(depth=8, activation="relu", scheme="kaiming_normal", gradients=False, std=0.1),
        dict(depth=12, activation="sigmoid", scheme="normal", gradients=True),  # three panels now
    ]),
    "06 dropout network": (plots.draw_dropout_network, [
        dict(p=0.3, sample=0),
        dict(p=0.5, sample=4, sweep=_sweep()),  # a second panel appears
        dict(p=0.0, sample=1, sweep=_sweep()),
        dict(p=0.3, sample=2),
    ]),
    "07 batch-norm statistics": (functools.partial(plots.plot_bn_tracking, steps=60, population=POPULATION), [
        dict(batch_size=32, momentum=0.1),
        dict(batch_size=4, momentum=0.9),
    ]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_redrawing_into_the_previous_figure_looks_like_a_new_figure(name):
    draw, settings = CASES[name]
    fig = None
    for kwargs in settings:
        with matplotlib.rc_context(plots.LIVE_STYLE):
            reused = draw(**kwargs, fig=fig)
        assert fig is None or reused is fig, "the figure passed in is the one drawn into"
        fig = reused
        got, want = _pixels(fig), _fresh(draw, kwargs)
        assert got.shape == want.shape, f"{name} {kwargs}: size {got.shape} != {want.shape}"
        differ = np.argwhere((got != want).any(axis=2))
        assert differ.size == 0, (
            f"{name} {kwargs}: {len(differ)} pixels differ from a new figure, "
            f"first at (row, col) {tuple(differ[0])}")
    plt.close(fig)


def test_panels_empties_a_figure_but_keeps_its_axes():
    fig, axes = plots.panels(2, (6, 3))
    assert len(axes) == 2 and tuple(fig.get_size_inches()) == (6, 3)
    axes[0].bar([1, 2], [3, 4], label="bars")
    axes[0].plot([1, 2], label="line")
    axes[0].set_yscale("log")
    axes[0].legend()
    axes[1].text(0.5, 0.5, "note")
    axes[1].set(title="t", xlabel="x", ylabel="y")
    fig.suptitle("s")
    fig.text(0.1, 0.1, "figure text")
    again, axes2 = plots.panels(2, (6, 3), fig=fig)
    assert again is fig and axes2 == axes
    for ax in axes2:
        assert not (ax.lines or ax.patches or ax.collections or ax.texts or ax.containers)
        assert ax.get_legend() is None and ax.get_title() == "" and ax.get_xlabel() == ""
        assert ax.get_yscale() == "linear" and ax.get_autoscale_on()
    assert fig.texts == [] and fig._suptitle is None
    plt.close(fig)


def test_panels_lays_a_figure_out_again_when_the_layout_changes():
    fig, axes = plots.panels(1, (4, 3))
    same, axes3 = plots.panels(3, (9, 3), fig=fig, width_ratios=[2, 1, 1])
    assert same is fig and len(fig.axes) == 3 and tuple(fig.get_size_inches()) == (9, 3)
    assert axes3[0].get_position().width > 1.5 * axes3[1].get_position().width
    _, axes3b = plots.panels(3, (9, 3), fig=fig)  # equal widths now: laid out again
    assert abs(axes3b[0].get_position().width - axes3b[1].get_position().width) < 1e-9
    plt.close(fig)


def test_panels_rejects_bad_arguments():
    with pytest.raises(ValueError, match="ncols must be an integer >= 1"):
        plots.panels(0, (4, 3))
    with pytest.raises(ValueError, match="figsize must be"):
        plots.panels(2, (4, -1))
    with pytest.raises(ValueError, match="width_ratios must be 2 positive numbers"):
        plots.panels(2, (4, 3), width_ratios=[1])
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure"):
        plots.panels(2, (4, 3), fig="figure")


def test_interactive_figure_passes_the_previous_figure_back():
    received = []

    def draw(n, fig=None):
        received.append(fig)
        fig, (ax,) = plots.panels(1, (4, 3), fig=fig)
        ax.plot(np.arange(n))
        return fig

    panel = widgets.interactive_figure(draw, n=(2, 10))
    first = panel.last_figure
    panel.controls["n"].value = 5
    panel.controls["n"].value = 7
    assert received == [None, first, first] and panel.last_figure is first
    assert len(first.axes[0].lines) == 1 and len(first.axes[0].lines[0].get_xdata()) == 7
    assert plt.fignum_exists(first.number) is False  # closed to pyplot, still drawable


def test_interactive_figure_shows_a_later_error_and_keeps_working():
    def draw(n, fig=None):
        if n == 3:
            raise ValueError("three is not allowed here")
        fig, (ax,) = plots.panels(1, (4, 3), fig=fig)
        ax.plot(np.arange(n))
        return fig

    with pytest.raises(ValueError, match="three"):  # at build time the error reaches the caller
        widgets.interactive_figure(draw, n=(3, 10))
    panel = widgets.interactive_figure(draw, n=(2, 10))
    assert panel.image.value == panel.last_png and panel.last_png.startswith(b"\x89PNG")
    panel.controls["n"].value = 3
    assert isinstance(panel.last_error, ValueError) and panel.calls == 1
    assert "three is not allowed here" in str(panel.output.outputs)
    assert panel.image.layout.display == "none"  # the error shows in the figure's place
    panel.controls["n"].value = 6
    assert panel.last_error is None and panel.calls == 2
    assert len(panel.last_figure.axes[0].lines[0].get_xdata()) == 6
    assert panel.image.value == panel.last_png and panel.image.layout.display is None
    assert panel.output.outputs == ()  # the error is gone with the new figure


def test_interactive_figure_reserves_the_name_fig():
    with pytest.raises(ValueError, match="'fig' is not a control name"):
        widgets.interactive_figure(lambda fig: plt.figure(), fig=(1, 2))


def test_live_png_matches_the_usual_rendering_except_text_on_whole_pixels():
    from coursekit.plots.style import _TextCacheRenderer

    with matplotlib.rc_context(plots.LIVE_STYLE):
        usual = plots.plot_gradient_flow(depth=4, activation="tanh")
        cached = plots.plot_gradient_flow(depth=4, activation="tanh")
        plain = _pixels(usual)
        plt.close(usual)
        plt.close(cached)
        _TextCacheRenderer._cache.clear()
        first = plots.live_png(cached)
        assert _TextCacheRenderer._cache, "the texts drawn should be kept for the next redraw"
        second = plots.live_png(cached)  # every text from the cache now
    a = np.asarray(Image.open(io.BytesIO(first)).convert("RGB")).astype(int)
    b = np.asarray(Image.open(io.BytesIO(second)).convert("RGB")).astype(int)
    assert a.shape == plain.shape and np.array_equal(a, b), "a cached text should paste exactly as it rendered"
    differ = np.abs(a - plain).sum(axis=-1) > 0
    assert differ.mean() < 0.08, f"only the texts may move (to whole pixels); {differ.mean():.1%} of pixels differ"
    ink = (plain.sum(axis=-1) < 600).mean()
    assert abs((a.sum(axis=-1) < 600).mean() - ink) < 0.1 * ink, "as much ink as the usual rendering"


def test_live_png_refuses_what_is_not_a_figure():
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure; got str"):
        plots.live_png("figure")
