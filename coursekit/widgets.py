"""Thin widgets for class: controls wired to a plain drawing function.

Introduced in ``notebooks/01_vanishing_gradients.ipynb``.

A widget here never computes anything itself: it calls a plain draw function of
the figures layer (``coursekit.plots``), which computes with the topic module
(``coursekit.flow``, ``coursekit.surfaces``, ...); tests call both directly and
the notebook also uses the draw function for a static figure. The widget's
redraw is ``render`` inside :func:`interactive_figure`: the draw function (into
the previous figure), then :func:`coursekit.plots.live_png`. The tricks that keep
it fast (reusing the figure, the live style) live in :mod:`coursekit.plots.style`,
the text cache in :mod:`coursekit.plots._fast_text_png`.
Figures are matplotlib PNGs shown in an ``ipywidgets.Image`` (its bytes travel
to the browser as a binary message, with no base64 and no output area to
rebuild), so no front-end extension beyond what ``pip install ipywidgets``
brings is needed; an ``Output`` widget beneath it shows a redraw's error.
"""
from __future__ import annotations

import inspect
import math
import time
from typing import Any, Callable

import ipywidgets as W
import matplotlib
import matplotlib.pyplot as plt

from .plots.style import LIVE_STYLE, live_png

__all__ = ["interactive_figure", "control"]


def control(name: str, spec: Any):
    """Turn an ``interact``-style abbreviation into an ipywidgets control.

    - an existing widget is returned as is;
    - ``(min, max)`` or ``(min, max, step)`` of ints -> ``IntSlider``; with a
      float -> ``FloatSlider``;
    - a list or tuple of strings -> ``Dropdown``;
    - a bool -> ``Checkbox``.

    The first value of a slider is its ``min`` unless the spec is a widget; pass
    a widget to choose a starting value.
    """
    style = {"description_width": "initial"}
    if isinstance(spec, W.ValueWidget):
        return spec
    if isinstance(spec, bool):
        return W.Checkbox(value=spec, description=name, style=style)
    if isinstance(spec, (list, tuple)) and spec and all(isinstance(s, str) for s in spec):
        return W.Dropdown(options=list(spec), value=spec[0], description=name, style=style)
    if isinstance(spec, tuple) and len(spec) in (2, 3) and all(isinstance(s, (int, float)) for s in spec):
        if any(isinstance(s, bool) for s in spec) or not all(math.isfinite(s) for s in spec):
            raise ValueError(f"control {name!r}: (min, max[, step]) must be finite numbers (not True/False); "
                             f"got {spec!r}")
        if spec[0] > spec[1]:
            raise ValueError(f"control {name!r}: min must not be larger than max in (min, max[, step]); "
                             f"got {spec!r}")
        if len(spec) == 3 and spec[2] <= 0:
            raise ValueError(f"control {name!r}: step must be > 0 in (min, max, step); got {spec!r}")
        if all(isinstance(s, int) for s in spec):
            step = spec[2] if len(spec) == 3 else 1
            return W.IntSlider(min=spec[0], max=spec[1], step=step, value=spec[0], description=name,
                               continuous_update=False, style=style)
        step = spec[2] if len(spec) == 3 else (spec[1] - spec[0]) / 20
        return W.FloatSlider(min=spec[0], max=spec[1], step=step, value=spec[0], description=name,
                             continuous_update=False, style=style)
    raise TypeError(
        f"control {name!r}: expected an ipywidgets control, (min, max[, step]), a list of strings "
        f"or a bool; got {spec!r}"
    )


def _accepts_fig(draw: Callable[..., Any]) -> bool:
    """Whether ``draw`` takes a ``fig`` keyword (then redraws go into the previous figure)."""
    try:
        params = inspect.signature(draw).parameters
    except (TypeError, ValueError):  # some builtins have no signature
        return False
    p = params.get("fig")
    return p is not None and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)


def interactive_figure(draw: Callable[..., Any], **controls: Any):
    """Wire ``controls`` to ``draw(**values) -> matplotlib Figure``; redraw on every change.

    Args:
        draw: a plain function returning a Figure. If it takes a ``fig``
            keyword, every redraw after the first passes the previous Figure
            back, so the function can draw into it instead of building a new
            one (see :func:`coursekit.plots.panels`). Figures are closed after
            display, so they do not pile up.
        controls: keyword -> control spec (see :func:`control`).

    Returns:
        An ``ipywidgets.VBox`` with extra attributes a test or a teacher can use:
        ``controls`` (dict name -> widget), ``image`` (the Image widget that
        shows the figure), ``output`` (the Output widget for errors),
        ``redraw()``, ``last_figure`` (the most recent Figure), ``last_png``
        (its PNG bytes, what the learner sees), ``last_seconds`` (time of the
        most recent compute-and-draw), ``calls`` (how many times ``draw`` ran)
        and ``last_error`` (the exception of the most recent redraw, or None).

    If ``draw`` raises when the widget is built, the error reaches the caller.
    If it raises later, for one combination of control values, the error is
    shown in place of the figure and the controls keep working.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """
    if not callable(draw):
        raise TypeError(f"draw must be a function returning a matplotlib Figure; got {type(draw).__name__}")
    if not controls:
        raise ValueError("give at least one control, e.g. depth=(2, 20)")
    if "fig" in controls:
        raise ValueError("'fig' is not a control name: interactive_figure passes the previous figure as fig")
    widgets = {name: control(name, spec) for name, spec in controls.items()}
    reuse = _accepts_fig(draw)
    out = W.Output()
    image = W.Image(format="png")
    panel = W.VBox([W.VBox(list(widgets.values())), image, out])
    panel.controls = widgets
    panel.image = image
    panel.output = out
    panel.last_figure = None
    panel.last_png = b""
    panel.last_seconds = float("nan")
    panel.last_error = None
    panel.calls = 0

    def render(**values: Any) -> bytes:
        # The live style (the static twin in the notebook keeps the defaults) is
        # read both while drawing and while rendering.
        with matplotlib.rc_context(LIVE_STYLE):
            if reuse and panel.last_figure is not None:
                fig = draw(**values, fig=panel.last_figure)
            else:
                fig = draw(**values)
            if not isinstance(fig, matplotlib.figure.Figure):
                raise TypeError(f"draw must return a matplotlib Figure; {getattr(draw, '__name__', 'draw')} returned "
                                f"{type(fig).__name__}" + (" (did you forget `return fig`?)" if fig is None else ""))
            plt.close(fig)  # out of pyplot's list (the inline backend would show it again); still drawable
            png = live_png(fig)
        panel.last_figure = fig
        return png

    def redraw(*_: Any) -> None:
        values = {name: w.value for name, w in widgets.items()}
        start = time.perf_counter()
        try:
            png = render(**values)
        except Exception as exc:
            if panel.calls == 0:
                raise
            panel.last_error = exc
            panel.last_figure = None  # it may be half drawn: start the next one afresh
            image.layout.display = "none"  # the error takes the figure's place
            out.outputs = ()  # set directly: works with or without a kernel attached
            out.append_stderr(f"cannot draw {values}: {type(exc).__name__}: {exc}\n")
            return
        image.value = png
        if panel.last_error is not None:
            out.outputs = ()
            image.layout.display = None
        panel.last_seconds = time.perf_counter() - start
        panel.last_png = png
        panel.last_error = None
        panel.calls += 1

    for w in widgets.values():
        w.observe(redraw, names="value")
    panel.redraw = redraw
    redraw()
    return panel
