"""Claims over seeds: run an experiment on several seeds, then check what the text says on each.

Introduced in ``notebooks/00_start_here.ipynb``; every notebook uses it.

A finding that holds for one random seed is not a finding: a different seed
(or a different CPU, whose last bits differ) can move a trained accuracy by
several points. So a comparison that a conclusion rests on runs on at least
three seeds derived from the notebook's ``SEED``, and the claim is checked on
every seed *and* on the mean::

    runs = ck.claims.over_seeds(experiment, ck.claims.seeds(SEED))   # experiment(seed) -> dict
    print(runs.table())                  # mean, min and max of each number (these vary by machine)
    ck.claims.claim("ReLU reaches 90 % where sigmoid stays below 50 %", runs,
                    lambda r: r["relu"] >= 0.90 and r["sigmoid"] < 0.50)

``claim`` prints one line that is the same on every machine (thresholds and a
verdict, never a measured number), e.g. ``✓ ReLU reaches 90 % where sigmoid
stays below 50 %: on 3/3 seeds and on the mean``, and raises an
``AssertionError`` that states the expected result and the failing numbers when
it does not hold.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ._checks import check_int
from .tables import StatsTable

__all__ = ["seeds", "over_seeds", "SeedRuns", "claim", "Claim", "spread", "PASS_MARK"]

PASS_MARK = "✓"


def seeds(base: int, n: int = 3) -> list[int]:
    """The seeds of a comparison: ``base``, ``base + 1``, ..., ``base + n - 1``.

    Args:
        base: the notebook's ``SEED`` (from its *parameters* cell), >= 0.
        n: how many seeds, >= 1 (3 or more for a comparison a conclusion rests on).

    Introduced in ``notebooks/00_start_here.ipynb``.
    """
    base = check_int("base", base, minimum=0)
    n = check_int("n", n, minimum=1, maximum=1000)
    return [base + i for i in range(n)]


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


@dataclass
class SeedRuns:
    """What :func:`over_seeds` returns: one result per seed.

    A result is a number, or a ``dict`` whose numeric entries are the measurements
    (other entries, such as a ``History`` for a figure, are kept as they are).

    Attributes:
        seeds: the seeds, in order.
        results: what the experiment returned for each seed.
    """

    seeds: list[int]
    results: list[Any]

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self):
        return iter(zip(self.seeds, self.results))

    def keys(self) -> list[str]:
        """The numeric entries of the results (empty if each result is a plain number)."""
        first = self.results[0]
        if not isinstance(first, dict):
            return []
        return [k for k, v in first.items() if _is_number(v)]

    def values(self, key: str | None = None) -> np.ndarray:
        """One measurement over the seeds, as an array (``key`` names a dict entry)."""
        out = []
        for seed, r in self:
            if key is None:
                if isinstance(r, dict):
                    raise ValueError(f"the results are dicts: name an entry, one of {self.keys()}")
                v = r
            else:
                if not isinstance(r, dict) or key not in r:
                    have = self.keys() if isinstance(r, dict) else "plain numbers"
                    raise KeyError(f"no entry {key!r} in the result of seed {seed}; entries: {have}")
                v = r[key]
            if not _is_number(v):
                raise TypeError(f"entry {key!r} of seed {seed} is {type(v).__name__}, not a number")
            out.append(float(v))
        return np.array(out)

    def get(self, key: str) -> list[Any]:
        """One entry of every result, whatever it is (e.g. the ``History`` of each seed)."""
        return [r[key] for r in self.results]

    def mean(self, key: str | None = None) -> float:
        """The mean over the seeds of one measurement."""
        return float(self.values(key).mean())

    def mean_result(self) -> Any:
        """The results averaged over the seeds: a number, or a dict of the numeric entries' means."""
        if not isinstance(self.results[0], dict):
            return self.mean()
        return {k: self.mean(k) for k in self.keys()}

    def table(self, keys: Sequence[str] | None = None, fmt: str = "{:.3f}") -> StatsTable:
        """Mean, min and max of each measurement, and its value on every seed.

        Args:
            keys: which entries (default: every numeric entry).
            fmt: the format of the numbers.
        """
        names = list(keys) if keys is not None else (self.keys() or [None])
        cols = ["mean", "min", "max", *(f"seed {s}" for s in self.seeds)]
        rows = StatsTable(formats={c: fmt for c in cols}, text_left=True)
        for k in names:
            v = self.values(k)
            row: dict[str, Any] = {"measurement": k if k is not None else "value",
                                   "mean": float(v.mean()), "min": float(v.min()), "max": float(v.max())}
            row.update({f"seed {s}": float(x) for s, x in zip(self.seeds, v)})
            rows.append(row)
        return rows


def over_seeds(experiment: Callable[[int], Any], seed_list: Iterable[int]) -> SeedRuns:
    """Run ``experiment(seed)`` for every seed and collect the results.

    Args:
        experiment: a function of one seed, returning a number or a dict (see :class:`SeedRuns`).
        seed_list: the seeds, e.g. ``ck.claims.seeds(SEED)``.

    Introduced in ``notebooks/00_start_here.ipynb``.
    """
    if not callable(experiment):
        raise TypeError(f"experiment must be a function of one seed; got {type(experiment).__name__}")
    if isinstance(seed_list, (str, bytes)) or not hasattr(seed_list, "__iter__"):
        raise TypeError(f"seed_list must be a list of seeds such as ck.claims.seeds(SEED); got {seed_list!r}")
    chosen = [check_int(f"seed_list[{i}]", s, minimum=0) for i, s in enumerate(seed_list)]
    if not chosen:
        raise ValueError("seed_list is empty: give at least one seed (three for a comparison)")
    return SeedRuns(chosen, [experiment(s) for s in chosen])


@dataclass
class Claim:
    """The verdict of :func:`claim`; ``bool(c)`` is whether it held."""

    statement: str
    held: list[bool]
    mean_held: bool | None
    required: int

    def __bool__(self) -> bool:
        return sum(self.held) >= self.required and self.mean_held is not False

    def _ipython_display_(self) -> None:
        """Show nothing as a cell's last value: :func:`claim` has printed the line already."""

    @property
    def line(self) -> str:
        """The one stable line: the statement and on how many seeds it held."""
        n = len(self.held)
        where = f"on {sum(self.held)}/{n} seeds" if n > 1 else "on 1 seed"
        if self.required < n:
            where += f" (at least {self.required} required)"
        if self.mean_held is not None:
            where += " and on the mean"
        return f"{PASS_MARK} {self.statement}: {where}"


def _show(result: Any) -> str:
    if isinstance(result, dict):
        return ", ".join(f"{k} {v:.4g}" for k, v in result.items() if _is_number(v))
    return f"{result:.4g}" if _is_number(result) else repr(result)


def claim(
    statement: str,
    runs: SeedRuns,
    holds: Callable[[Any], bool],
    *,
    on_mean: bool = True,
    at_least: int | None = None,
    quiet: bool = False,
) -> Claim:
    """Check a claim on every seed (and on the mean); print one stable line, or raise.

    Args:
        statement: what the text claims, as a sentence about the result
            ("ReLU reaches 90 % where sigmoid stays below 50 %").
        runs: what :func:`over_seeds` returned.
        holds: ``holds(result) -> bool`` for one seed's result (and for
            ``runs.mean_result()``, the mean of each measurement).
        on_mean: also require the claim of the mean result.
        at_least: how many seeds must satisfy it (default: all). Use a majority
            only where the text says so and why.
        quiet: return the verdict without printing.

    Returns:
        A :class:`Claim`.

    Raises:
        AssertionError: the claim does not hold; the message states the expected
            result and the numbers of each seed where it failed.

    Introduced in ``notebooks/00_start_here.ipynb``.
    """
    if not isinstance(statement, str) or not statement.strip():
        raise TypeError(f"statement must be a sentence saying what is claimed; got {statement!r}")
    if not isinstance(runs, SeedRuns):
        raise TypeError(f"runs must be what ck.claims.over_seeds returns; got {type(runs).__name__}")
    if not callable(holds):
        raise TypeError(f"holds must be a function result -> bool; got {type(holds).__name__}")
    n = len(runs)
    required = n if at_least is None else check_int("at_least", at_least, minimum=1, maximum=n)
    held = [bool(holds(r)) for r in runs.results]
    mean_result = runs.mean_result() if on_mean else None
    mean_held = bool(holds(mean_result)) if on_mean else None
    verdict = Claim(statement, held, mean_held, required)
    if not verdict:
        failed = [f"seed {s} ({_show(r)})" for (s, r), ok in zip(runs, held) if not ok]
        where = "on every seed" if required == n else f"on at least {required} of {n} seeds"
        msg = f"expected: {statement}, {where}" + (" and on the mean" if on_mean else "")
        if failed:
            msg += f"; it does not hold on {', '.join(failed)}"
        if mean_held is False:
            msg += f"; nor on the mean ({_show(mean_result)})"
        raise AssertionError(msg)
    if not quiet:
        print(verdict.line)
    return verdict


def spread(values: Sequence[float]) -> str:
    """``"0.95 (0.94-0.96)"``: a mean and its range over seeds, for tables and prose."""
    v = np.asarray(list(values), dtype=float)
    if v.size == 0 or not np.all(np.isfinite(v)):
        return "nan" if v.size else "-"
    digits = max(2, -int(math.floor(math.log10(max(float(v.max() - v.min()), 1e-12)))) + 1) if v.size > 1 else 3
    digits = min(digits, 4)
    return f"{v.mean():.{digits}f} ({v.min():.{digits}f}-{v.max():.{digits}f})"
