"""Redrawing into a widget's previous figure gives the same picture as a new figure.

Every draw function behind a notebook widget takes ``fig=`` (a figure it
returned before) so the widget can skip building axes on each move. These
tests render both ways and compare the pixels: a leftover artist, legend entry,
scale or title from the previous settings would show up as a difference.
"""
from __future__ import annotations

import functools
import io
import sys

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
    assert fig.texts == [] and fig.get_suptitle() == ""
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


def _rgb(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def test_live_png_matches_matplotlibs_own_rendering_except_text_on_whole_pixels():
    with matplotlib.rc_context(plots.LIVE_STYLE):
        fig = plots.plot_gradient_flow(depth=4, activation="tanh")
        plt.close(fig)
        plain = _pixels(fig)  # matplotlib's own renderer, savefig
        first = _rgb(plots.live_png(fig))
        again = _rgb(plots.live_png(fig))  # the same texts again: from the cache now
        savefig = _rgb(plots.live_png(fig, text_cache=False))
    assert np.array_equal(savefig, plain), "text_cache=False is plain savefig"
    assert first.shape == plain.shape and np.array_equal(first, again), "a cached text pastes as it rendered"
    differ = np.abs(first - plain).sum(axis=-1) > 0
    assert differ.mean() < 0.08, f"only the texts may move (to whole pixels); {differ.mean():.1%} of pixels differ"
    ink = (plain.sum(axis=-1) < 600).mean()
    assert abs((first.sum(axis=-1) < 600).mean() - ink) < 0.1 * ink, "as much ink as the usual rendering"
    # the lines and markers are not text: with every text removed, both renderings agree exactly
    for text in fig.findobj(matplotlib.text.Text):
        text.set_visible(False)
    assert np.array_equal(_rgb(plots.live_png(fig)), _rgb(plots.live_png(fig, text_cache=False)))


def test_live_png_draws_a_new_text_not_an_old_one():
    fig, (ax,) = plots.panels(1, (3, 2))
    plt.close(fig)
    ax.set_title("first title")
    one = _rgb(plots.live_png(fig))
    ax.set_title("other words")
    two = _rgb(plots.live_png(fig))
    ax.set_title("first title")
    assert not np.array_equal(one, two) and np.array_equal(one, _rgb(plots.live_png(fig)))


def test_without_the_matplotlib_calls_it_needs_the_text_cache_warns_once_and_draws_as_usual(monkeypatch):
    from matplotlib.backends.backend_agg import RendererAgg

    from coursekit.plots import _fast_text_png

    real = RendererAgg._prepare_font
    cache_path = _fast_text_png.TextCacheRenderer.draw_text.__code__

    def changed(self, prop):  # fails where the text cache calls it, as in another matplotlib; works elsewhere
        if sys._getframe(1).f_code is cache_path:
            raise AttributeError("_prepare_font works otherwise in this matplotlib")
        return real(self, prop)

    monkeypatch.setattr(RendererAgg, "_prepare_font", changed)
    monkeypatch.setattr(_fast_text_png, "_works", True)
    with matplotlib.rc_context(plots.LIVE_STYLE):
        fig = plots.plot_gradient_flow(depth=3, activation="relu")
        fig.axes[0].set_title("a title no earlier test drew")  # not in the cache yet: it must be rendered
        plt.close(fig)
        with pytest.warns(RuntimeWarning, match="text cache does not work with this matplotlib") as caught:
            plots.live_png(fig)  # texts already in the cache are pasted until the first that must be rendered
            png = plots.live_png(fig)
    assert len([w for w in caught if issubclass(w.category, RuntimeWarning)]) == 1, "warned once"
    assert np.array_equal(_rgb(png), _pixels(fig)), "after the warning, every text is drawn the usual way"


def test_live_png_of_a_zero_size_figure_names_the_argument():
    fig = plt.figure(figsize=(0, 3))
    plt.close(fig)
    with pytest.raises(ValueError, match=r"fig must be at least 1 x 1 pixels to render; got a figure of 0 x \d+ pixels"):
        plots.live_png(fig)
    with pytest.raises(TypeError, match="text_cache must be True or False; got 'yes'"):
        plots.live_png(plt.figure(figsize=(2, 2)), text_cache="yes")


def test_live_png_refuses_what_is_not_a_figure():
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure; got str"):
        plots.live_png("figure")
