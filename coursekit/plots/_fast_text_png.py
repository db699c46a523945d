"""The widget speed-up for text: a PNG renderer that keeps each rendered text for the next redraw.

Private, and used in one place: :func:`coursekit.plots.style.live_png`, which a
widget (:func:`coursekit.widgets.interactive_figure`) calls after every move of a
control. Nothing else in the course draws through it: a static figure in a
notebook is rendered by matplotlib as usual.

Why it exists: matplotlib lays out and renders every text anew, glyph by glyph,
on every draw, and text is most of a small figure's drawing time. A widget draws
mostly the same texts each time (tick labels, titles, axis labels), so
:class:`TextCacheRenderer` renders a string once, with FreeType's whole-string
bitmap, and pastes that bitmap afterwards. The colour comes from the graphics
context when pasting, so one bitmap serves every colour. Texts land on whole
pixels (matplotlib places them to 1/64 of a pixel), which is the only visible
difference: ``tests/test_widget_redraw.py`` compares the pixels with matplotlib's
own renderer. ``benchmarks/bench_widgets.py`` prints the time it saves, side by
side with plain ``savefig``.

It calls three private parts of matplotlib's Agg backend (``_prepare_font``, the
C renderer's ``draw_text_image`` and FreeType's ``draw_glyphs_to_bitmap``). If a
matplotlib lacks them, the first failing text warns once (RuntimeWarning) and
every text from then on is drawn the usual way; the picture stays right.
Mathtext, TeX, and texts with font features or a language always go the usual way.
"""
from __future__ import annotations

import io
import math
import warnings

from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.figure import Figure

MAX_TEXTS = 2048  # strings kept (a few KB each); the cache is emptied when full

_cache: dict = {}
_works = True


def _fall_back(err: Exception) -> None:
    """From now on draw every text the usual way, and say so once."""
    global _works
    _works = False
    warnings.warn(f"coursekit's widget text cache does not work with this matplotlib ({type(err).__name__}: "
                  f"{err}); widgets draw text the usual way from now on (slower, same picture)",
                  RuntimeWarning, stacklevel=3)


class TextCacheRenderer(RendererAgg):
    """Agg, with each text's rendered bitmap kept for the next time the same text is drawn."""

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        special = ismath or (mtext is not None and (getattr(mtext, "get_fontfeatures", lambda: None)()
                                                     or getattr(mtext, "get_language", lambda: None)()))
        if special or not _works:
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        antialiased = gc.get_antialiased()
        key = (s, hash(prop), self.dpi, antialiased, get_hinting_flag())
        hit = _cache.get(key)
        try:
            if hit is None:
                font = self._prepare_font(prop)
                font.set_text(s, 0, flags=get_hinting_flag())
                font.draw_glyphs_to_bitmap(antialiased=antialiased)
                xo, yo = font.get_bitmap_offset()
                hit = (font.get_image().copy(), xo / 64.0, yo / 64.0, font.get_descent() / 64.0)
                if len(_cache) >= MAX_TEXTS:
                    _cache.clear()
                _cache[key] = hit
            image, xo, yo, descent = hit
            xd = descent * math.sin(math.radians(angle))
            yd = descent * math.cos(math.radians(angle))
            self._renderer.draw_text_image(image, round(x + xo + xd), round(y + yo + yd) + 1, angle, gc)
        except (AttributeError, TypeError) as err:  # another matplotlib: the usual way from now on
            _fall_back(err)
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)


class TextCacheCanvas(FigureCanvasAgg):
    """An Agg canvas that draws with :class:`TextCacheRenderer` (one per size and dpi)."""

    def get_renderer(self):
        w, h = self.figure.bbox.size
        key = (w, h, self.figure.dpi)
        if getattr(self, "_renderer_key", None) != key:
            self.renderer = TextCacheRenderer(w, h, self.figure.dpi)
            self._renderer_key = key
        return self.renderer


def png(fig: Figure) -> bytes:
    """``fig`` as PNG bytes at its own size and dpi, texts from the cache; ``fig`` moves to a canvas of its own."""
    if not isinstance(fig.canvas, TextCacheCanvas):
        TextCacheCanvas(fig)  # sets fig.canvas
    buf = io.BytesIO()
    fig.canvas.print_png(buf, pil_kwargs={"compress_level": 1})
    return buf.getvalue()
