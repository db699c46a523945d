"""The course's look: one colour per technique, figure panels that widgets redraw into, tick helpers.

Every figure module of :mod:`coursekit.plots` draws with these, so sigmoid is
the same orange and ReLU the same blue in every notebook (:data:`COLORS`).

Widgets redraw often, so three things here exist for speed, and only here:
:func:`panels` empties the axes of a widget's previous figure instead of
building new ones (and keeps to five ticks an axis), :data:`LIVE_STYLE` is the
rc style of live redraws (no grid lines, titles at a fixed height, no font
hinting), and :func:`live_png` renders a live redraw, its texts through the
widget text cache of :mod:`coursekit.plots._fast_text_png` (text is most of the
drawing time, and a widget draws the same tick labels and titles again and
again). ``benchmarks/bench_widgets.py`` measures each gain side by side.

The widget's redraw, in one place: :func:`coursekit.widgets.interactive_figure`
calls the draw function (which starts with :func:`panels`) and then :func:`live_png`.
"""
from __future__ import annotations

import io
import math
from typing import Sequence

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, MaxNLocator, NullFormatter, NullLocator
from matplotlib.transforms import ScaledTranslation

from . import _fast_text_png

__all__ = ["COLORS", "KOREAN_FONT", "LIVE_STYLE", "color", "live_png", "panels", "use_course_style", "use_korean_font"]

#: A colour per technique, used wherever that technique appears (colour-blind-safe
#: Okabe-Ito palette first, then Tableau).
COLORS = {
    # activations
    "sigmoid": "#E69F00", "tanh": "#CC79A7", "relu": "#0072B2", "leaky_relu": "#56B4E9",
    "elu": "#009E73", "gelu": "#D55E00", "identity": "#999999",
    # optimizers
    "sgd": "#7f7f7f", "momentum": "#E69F00", "nesterov": "#D55E00", "adagrad": "#56B4E9",
    "rmsprop": "#009E73", "adadelta": "#F0E442", "adam": "#0072B2", "adamw": "#17becf", "nadam": "#CC79A7",
    # initializations
    "zeros": "#999999", "normal": "#E69F00", "uniform": "#F0E442", "xavier_uniform": "#009E73",
    "xavier_normal": "#56B4E9", "kaiming_uniform": "#CC79A7", "kaiming_normal": "#0072B2",
    "pytorch_default": "#7f7f7f",
    # regularization / normalization
    "baseline": "#7f7f7f", "dropout": "#009E73", "batchnorm": "#D55E00", "pretrained": "#CC79A7",
    "softmax": "#7f7f7f", "mlp": "#0072B2",
    # splits
    "train": "#0072B2", "val": "#D55E00", "test": "#009E73",
}

#: The rc style of live widget redraws (the static twin of each figure keeps the defaults):
#: no grid lines and titles at a fixed height, which saves two layout passes, and text
#: without font hinting, which renders faster at the course's 72 dpi and looks the same.
LIVE_STYLE = {"axes.grid": False, "axes.titley": 1.0, "text.hinting": "no_hinting"}


def live_png(fig: Figure, *, text_cache: bool = True) -> bytes:
    """The PNG of a widget's redraw, at the figure's own size and dpi.

    No ``bbox_inches="tight"`` (a second layout pass: the draw functions lay
    their figures out) and light compression. With ``text_cache`` (what
    :func:`coursekit.widgets.interactive_figure` uses) the texts come from
    :mod:`coursekit.plots._fast_text_png`, the widget speed-up for text: the
    same picture but for texts on whole pixels, rendered faster because a widget
    draws the same tick labels and titles again and again
    (``benchmarks/bench_widgets.py`` prints the gain). ``text_cache=False`` is
    plain matplotlib, ``fig.savefig``. Close ``fig`` to pyplot first if it was
    made with pyplot (as ``interactive_figure`` does): the figure moves to a
    canvas of its own.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure; got {type(fig).__name__}")
    width, height = fig.get_size_inches() * fig.dpi
    if not (width >= 1 and height >= 1):
        w_in, h_in = (float(v) for v in fig.get_size_inches())
        raise ValueError(f"fig must be at least 1 x 1 pixels to render; got a figure of {width:g} x {height:g} "
                         f"pixels ({w_in:g} x {h_in:g} inches at {fig.dpi:g} dpi): give it a figsize above 0")
    if not isinstance(text_cache, bool):
        raise TypeError(f"text_cache must be True or False; got {text_cache!r}")
    if text_cache:
        return _fast_text_png.png(fig)
    if type(fig.canvas) is not FigureCanvasAgg:  # e.g. the text cache's canvas from an earlier call
        FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi, pil_kwargs={"compress_level": 1})
    return buf.getvalue()


_FALLBACK = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]


def color(name: str, index: int = 0) -> str:
    """The course colour for a technique name (case-insensitive), or a fallback by ``index``."""
    key = str(name).lower().replace("-", "_").replace(" ", "_")
    return COLORS.get(key, _FALLBACK[index % len(_FALLBACK)])


def panels(ncols: int, figsize: tuple[float, float], *, fig=None, width_ratios: Sequence[float] | None = None):
    """A row of ``ncols`` empty axes: in a new figure, or in ``fig``, emptied for a redraw.

    The draw functions behind the course's widgets start with this. A widget
    passes back the figure of its previous redraw, and that figure's axes are
    emptied instead of being built anew. The picture is the same as on a new
    figure and the redraw is faster (``benchmarks/bench_widgets.py`` measures the gain).

    Emptying removes every line, patch, collection, container (bars), text,
    image and legend, the titles and axis labels, and the figure's own texts
    and suptitle. It also resets both scales to linear (which brings back the
    default tick formatters), the colour cycle and autoscaling. On a new figure
    and on an emptied one alike, each axis gets at most five major ticks
    (:func:`_few_ticks`; a log scale or explicit ticks replace them). What a draw function
    sets on the axes themselves (spines, tick parameters) stays, so a draw
    function that reuses figures sets those every time.

    Args:
        ncols: number of axes in the row, >= 1.
        figsize: (width, height) in inches.
        fig: a Figure from an earlier call. If its axes don't match ``ncols``
            and ``width_ratios``, it is cleared and laid out again.
        width_ratios: relative widths of the axes (default: equal).

    Returns:
        ``(fig, axes)``, with ``axes`` a list of ``ncols`` Axes, left to right.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb`` (its widget).
    """
    if not isinstance(ncols, int) or isinstance(ncols, bool) or ncols < 1:
        raise ValueError(f"ncols must be an integer >= 1; got {ncols!r}")
    if (not isinstance(figsize, (tuple, list)) or len(figsize) != 2
            or not all(isinstance(v, (int, float)) and v > 0 for v in figsize)):
        raise ValueError(f"figsize must be (width, height) in inches, both > 0; got {figsize!r}")
    if width_ratios is not None:
        width_ratios = [float(w) for w in width_ratios]
        if len(width_ratios) != ncols or not all(w > 0 for w in width_ratios):
            raise ValueError(f"width_ratios must be {ncols} positive numbers; got {width_ratios!r}")
    gridspec_kw = {"width_ratios": width_ratios} if width_ratios is not None else {}

    def lay_out(f):
        axes = list(f.subplots(1, ncols, squeeze=False, gridspec_kw=gridspec_kw)[0])
        for ax in axes:
            _few_ticks(ax)
        return f, axes

    if fig is None:
        return lay_out(plt.figure(figsize=figsize))
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure from an earlier call, or None; got {type(fig).__name__}")
    axes = fig.axes
    same = (len(axes) == ncols and all(ax.get_subplotspec() is not None for ax in axes)
            and list(axes[0].get_subplotspec().get_gridspec().get_width_ratios() or [1.0] * ncols)
            == list(width_ratios or [1.0] * ncols))
    if tuple(fig.get_size_inches()) != tuple(float(v) for v in figsize):
        fig.set_size_inches(figsize)
    if not same:
        fig.clear()
        return lay_out(fig)
    for artist in list(fig.texts):
        artist.remove()
    if getattr(fig, "_suptitle", None) is not None:
        fig._suptitle.remove()
        fig._suptitle = None
    for ax in axes:
        _empty_axes(ax)
    return fig, list(axes)


def _empty_axes(ax) -> None:
    """Remove what was drawn on ``ax`` but keep the Axes and its tick objects (see :func:`panels`)."""
    for container in list(ax.containers):  # bars, error bars, stems: they and their parts
        container.remove()
    for artist in (*ax.lines, *ax.patches, *ax.collections, *ax.texts, *ax.images, *ax.artists, *ax.tables):
        artist.remove()
    if ax.legend_ is not None:
        ax.legend_.remove()
    for loc in ("left", "center", "right"):
        ax.set_title("", loc=loc)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xscale("linear")
    ax.set_yscale("linear")
    ax.set_prop_cycle(None)
    ax.relim()
    ax.set_autoscale_on(True)
    _few_ticks(ax)


def _pin_labels(ax, *, below: float = 22, left: float = 30) -> None:
    """Put the axis labels ``below`` and ``left`` points away from the axes, once and for all.

    Matplotlib otherwise measures every tick label on every draw to place the
    axis labels (about a third of a small figure's drawing time). A draw
    function with fixed margins chooses the distances for its longest tick
    labels: about 22 points below for one line of tick labels, and 30 to the
    left for labels like "0.25" (38 for "10⁻¹⁵").
    """
    to_points = ax.figure.dpi_scale_trans
    ax.xaxis.set_label_coords(0.5, 0, transform=ax.transAxes + ScaledTranslation(0, -below / 72, to_points))
    ax.yaxis.set_label_coords(0, 0.5, transform=ax.transAxes + ScaledTranslation(-left / 72, 0, to_points))


def _few_ticks(ax) -> None:
    """At most five ticks on each linear axis (a draw function may set its own).

    Each tick label is a text to lay out and render on every redraw, and text is
    most of a widget's drawing time; five labels read as well as eight.
    """
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))


def _log_ticks(ax) -> None:
    """Readable log-scale ticks: plain numbers over a short range, a few decades over a long one.

    (Also fast: few tick labels and no minor labels, which matters in a widget.)
    """
    lo, hi = ax.get_ylim()
    lo = max(lo, 1e-300)
    if hi / lo < 30:
        # 1-2-5 steps of the decades the range touches, thinned to at most five labels
        first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
        ticks = [m * 10.0 ** k for k in range(first, last + 1) for m in (1, 2, 5) if lo <= m * 10.0 ** k <= hi]
        if len(ticks) > 5:
            ticks = [t for t in ticks if f"{t:g}"[0] in "15"]
        if len(ticks) < 2:  # less than a 1-2-5 step apart: both ends, rounded
            ticks = [float(f"{lo:.2g}"), float(f"{hi:.2g}")]
        ax.yaxis.set_major_locator(FixedLocator(ticks))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_locator(NullLocator())
    else:
        ax.yaxis.set_major_locator(LogLocator(base=10, numticks=4))
        ax.yaxis.set_major_formatter(FuncFormatter(_power_of_ten))
        ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_minor_formatter(NullFormatter())


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power_of_ten(value: float, _pos=None) -> str:
    """"10⁻⁵" in plain unicode (no mathtext: it is parsed anew on every redraw, slowly)."""
    if value <= 0:
        return ""
    exponent = round(math.log10(value))
    if exponent == 0:
        return "1"
    return "10" + str(exponent).translate(_SUPERSCRIPT)


def _few_xticks(ax, n: int = 4) -> None:
    ax.xaxis.set_major_locator(MaxNLocator(nbins=n, integer=True))


def use_course_style(dpi: int = 72) -> None:
    """Set the course's matplotlib defaults (what ``setup_notebook`` does for figures).

    Modest figures at ``dpi``, light grid, no top and right spines, PNG output inline.

    Introduced in ``notebooks/00_start_here.ipynb``.
    """
    matplotlib.rcParams.update({
        "figure.dpi": dpi,
        "savefig.dpi": dpi,
        "figure.figsize": (6, 3.5),
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "font.size": 10,
        "legend.frameon": False,
        "image.interpolation": "nearest",
        "svg.hashsalt": "coursekit",
    })
    try:  # inside IPython: PNG output at the same dpi, no "bbox inches" surprises
        from IPython import get_ipython

        ip = get_ipython()
        if ip is not None:
            from matplotlib_inline.backend_inline import set_matplotlib_formats

            set_matplotlib_formats("png")
            matplotlib.rcParams["figure.dpi"] = dpi
    except ImportError:
        pass


#: The font of Korean figure text: NanumGothic, shipped by the ``koreanize-matplotlib`` package (a
#: dependency of coursekit, so every learner's environment has it); DejaVu Sans, matplotlib's own
#: font, stays behind it for the glyphs NanumGothic lacks (the minus sign, Greek letters, ✓).
KOREAN_FONT = "NanumGothic"
_KOREAN_FAMILY = [KOREAN_FONT, "DejaVu Sans"]
_saved_family: list[str] | None = None


def _korean_font_files() -> list[str]:
    """The .ttf files of koreanize-matplotlib, found without importing it (its import sets rcParams)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("Korean figure text needs the package koreanize-matplotlib (it ships the NanumGothic "
                          "font): install it with `python -m pip install koreanize-matplotlib`")
    folder = Path(list(spec.submodule_search_locations)[0]) / "fonts"
    files = sorted(str(f) for f in folder.glob("NanumGothic*.ttf"))
    if not files:
        raise ImportError(f"koreanize-matplotlib is installed but has no NanumGothic font in its fonts folder "
                          f"({folder.name}/); reinstall it")
    return files


def use_korean_font(on: bool = True) -> None:
    """Draw figure text in NanumGothic (``on=True``), so Korean titles and labels have their glyphs;
    ``on=False`` puts back the font family that was set before (what ``setup_notebook`` does per ``lang``).

    The font files come from ``koreanize-matplotlib``; they are registered with matplotlib's font
    manager once. With ``on=False`` and the Korean font never set, nothing changes.
    """
    from matplotlib import font_manager

    global _saved_family
    if on:
        known = {f.name for f in font_manager.fontManager.ttflist}
        if KOREAN_FONT not in known:
            for path in _korean_font_files():
                font_manager.fontManager.addfont(path)
        if _saved_family is None:
            _saved_family = list(matplotlib.rcParams["font.family"])
        matplotlib.rcParams["font.family"] = list(_KOREAN_FAMILY)
    elif _saved_family is not None:
        matplotlib.rcParams["font.family"] = _saved_family
        _saved_family = None
