"""StatsTable: a list of row dicts that prints as a small fixed-width table.

Used wherever the package returns a table of numbers: :meth:`coursekit.claims.SeedRuns.table`,
:func:`coursekit.recipes.table` and :meth:`coursekit.diagnostics.LayerStats.table`.
It is also importable as ``coursekit.diagnostics.StatsTable``.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["StatsTable"]


class StatsTable(list):
    """A list of row dicts that prints as a small fixed-width table.

    Each row is a plain ``dict`` (``row["act_std"]``); ``str(table)`` and the
    notebook display show rounded numbers, NaN as ``-``.

    Args:
        rows: the row dicts.
        formats: column -> format string, added to (or replacing) :attr:`FORMATS`.
        text_left: left-align the columns whose values are text (names read best
            that way); numbers are always right-aligned.

    Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
    """

    #: column -> format used when printing
    FORMATS = {
        "act_mean": "{:.3f}", "act_std": "{:.3f}", "saturated": "{:.0%}", "dead": "{:.0%}",
        "grad_norm": "{:.1e}", "weight_grad_norm": "{:.1e}", "grad_data_ratio": "{:.1e}",
    }

    def __init__(self, rows: Any = (), *, formats: dict[str, str] | None = None, text_left: bool = False) -> None:
        super().__init__(rows)
        self.formats = {**self.FORMATS, **(formats or {})}
        self.text_left = text_left

    def columns(self) -> list[str]:
        """Column names in order of first appearance."""
        cols: list[str] = []
        for row in self:
            for k in row:
                if k not in cols:
                    cols.append(k)
        return cols

    def column(self, name: str) -> np.ndarray:
        """One column as a NumPy array (NaN where a row has no value)."""
        if name not in self.columns():
            raise KeyError(f"no column {name!r}; columns: {', '.join(self.columns())}")
        return np.array([row.get(name, float("nan")) for row in self], dtype=float)

    def _fmt(self, col: str, value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, (float, np.floating)):
            if math.isnan(value):
                return "-"
            fmt = self.formats.get(col, "{:.1e}" if "grad" in col else "{:.3f}")
            return fmt.format(value)
        return str(value)

    def __str__(self) -> str:
        if not self:
            return "(empty table)"
        cols = self.columns()
        cells = [[self._fmt(c, row.get(c)) for c in cols] for row in self]
        widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(cols)]
        left = [self.text_left and isinstance(self[0].get(c), str) for c in cols]

        def line(values: list[str]) -> str:
            text = "  ".join(v.ljust(w) if lft else v.rjust(w) for v, w, lft in zip(values, widths, left))
            return text.rstrip() if self.text_left else text

        return "\n".join([line(cols)] + [line(r) for r in cells])

    def __repr__(self) -> str:
        return self.__str__()

    def _repr_pretty_(self, p, cycle) -> None:  # IPython display uses this
        p.text(self.__str__())


# ------------------------------------------------------------------ statistics: plain functions
# A statistic is ``fn(module, output) -> dict`` of numbers (or arrays) for one pass: write your own in a cell
# and pass it in ``LayerStats(model, stats=[mean_std, my_stat])``; ``stats.values("my_key")`` gives it back.
# Gradient statistics are ``fn(module, grad) -> dict`` (dL/d(output)); weight ones ``fn(weight, grad) -> dict``.
