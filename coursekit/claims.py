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
stays below 50 %: on 3/3 seeds and on the mean``.

Where a claim compares numbers, say so with :func:`above` and :func:`below`
(combined with ``&``): the verdict is the same, and the claim census
(``make census``) also learns *by how much* each seed held::

    ck.claims.claim("ReLU reaches 90 % where sigmoid stays below 50 %", runs,
                    lambda r: ck.claims.above(r["relu"], 0.90) & ck.claims.below(r["sigmoid"], 0.50))

A claim that does not hold prints a ``✗`` line instead: what did not hold, on
which seeds, and how often the census saw it hold over many other seeds; the
notebook goes on. With the environment variable ``COURSEKIT_CLAIMS=strict``
(the tests and the census set it) it raises an ``AssertionError`` that states
the expected result and the failing numbers.
"""
from __future__ import annotations

import json
import math
import numbers
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ._checks import check_int
from ._i18n import N_, _
from .tables import StatsTable

__all__ = ["seeds", "over_seeds", "SeedRuns", "claim", "Claim", "above", "below", "Margin", "spread",
           "PASS_MARK", "FAIL_MARK", "MODE_ENV", "LOG_ENV", "LEDGER"]

PASS_MARK = "✓"
FAIL_MARK = "✗"
#: ``COURSEKIT_CLAIMS=strict``: a claim that does not hold raises (tests, census); unset: it prints ✗.
MODE_ENV = "COURSEKIT_CLAIMS"
#: ``COURSEKIT_CLAIMS_LOG=path``: append one JSON line per claim checked (what ``tools/census.py`` reads).
LOG_ENV = "COURSEKIT_CLAIMS_LOG"
#: The committed census ledger: how often each claim of the notebooks held over many seed triplets.
LEDGER = Path(__file__).with_name("claims_ledger.json")


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


@dataclass(frozen=True)
class Margin:
    """A comparison that remembers by how much it held: what :func:`above` and :func:`below` return.

    ``bool(m)`` is the verdict; ``m.margins`` is one ``(label, margin)`` per
    comparison, a margin being how far the measured value lies on the right side
    of its threshold (negative: on the wrong side; NaN: the value was NaN).
    Combine comparisons with ``&`` (all must hold) or ``|`` (one must hold).
    """

    held: bool
    margins: tuple[tuple[str, float], ...]

    def __bool__(self) -> bool:
        return self.held

    def __and__(self, other: "Margin | bool") -> "Margin":
        other = _as_margin(other, "the right side of &")
        return Margin(self.held and other.held, self.margins + other.margins)

    def __or__(self, other: "Margin | bool") -> "Margin":
        other = _as_margin(other, "the right side of |")
        return Margin(self.held or other.held, self.margins + other.margins)

    __rand__ = __and__
    __ror__ = __or__


def _as_margin(value: Any, what: str) -> Margin:
    if isinstance(value, Margin):
        return value
    if isinstance(value, (bool, np.bool_)):
        return Margin(bool(value), ())
    raise TypeError(f"{what} must be ck.claims.above(...), ck.claims.below(...) or True/False; "
                    f"got {type(value).__name__}")


def _compare(value: Any, threshold: Any, label: str | None, sign: str) -> Margin:
    for name, v in (("value", value), ("threshold", threshold)):
        if not _is_number(v) and not (isinstance(v, np.ndarray) and v.ndim == 0):
            raise TypeError(f"{name} must be a number; got {type(v).__name__} {v!r}")
    value, threshold = float(value), float(threshold)
    if math.isnan(threshold):
        raise ValueError("threshold must be a number, not NaN")
    margin = value - threshold if sign == ">=" else threshold - value
    held = value >= threshold if sign == ">=" else value < threshold  # False when value is NaN
    text = label if label is not None else f"value {sign} {threshold:g}"
    return Margin(bool(held), ((text, margin),))


def above(value: float, threshold: float, label: str | None = None) -> Margin:
    """``value >= threshold``, remembering the margin ``value - threshold``.

    Args:
        value: the measured number (NaN never holds).
        threshold: the number the text names.
        label: a short name for the census ledger (default ``"value >= threshold"``).
    """
    return _compare(value, threshold, label, ">=")


def below(value: float, threshold: float, label: str | None = None) -> Margin:
    """``value < threshold``, remembering the margin ``threshold - value``; see :func:`above`."""
    return _compare(value, threshold, label, "<")


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


def _check_distinct(seed_list: list[int], name: str) -> None:
    repeated = sorted({s for s in seed_list if seed_list.count(s) > 1})
    if repeated:
        raise ValueError(f"{name} repeats seed(s) {repeated}: {seed_list}; a run repeated is not another "
                         "sample, so 'on 3/3 seeds' would promise what was not measured. Use distinct seeds, "
                         "e.g. ck.claims.seeds(SEED)")


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
    _check_distinct(chosen, "seed_list")
    return SeedRuns(chosen, [experiment(s) for s in chosen])


@dataclass
class Claim:
    """The verdict of :func:`claim`; ``bool(c)`` is whether it held."""

    statement: str
    held: list[bool]
    mean_held: bool | None
    required: int
    seeds: list[int] = field(default_factory=list)
    #: per seed (then the mean, if checked): the ``(label, margin)`` pairs of a numeric claim
    margins: list[tuple[tuple[str, float], ...]] = field(default_factory=list)
    #: why the claim did not hold, with the numbers of the seeds where it failed ("" if it held)
    why: str = ""

    def __bool__(self) -> bool:
        return sum(self.held) >= self.required and self.mean_held is not False

    def _ipython_display_(self) -> None:
        """Show nothing as a cell's last value: :func:`claim` has printed the line already."""

    @property
    def line(self) -> str:
        """The one stable line: the statement and on how many seeds it held (✓), or what failed (✗)."""
        n = len(self.held)
        if self.required == 0:  # a claim about the mean only: how many seeds agree may differ between machines
            form = "mean only"
        elif self and self.required < n:  # how many beyond the required ones may differ between machines
            form = "at least"
        elif n > 1:
            form = "count" if self.required == n else "count, required"
        else:
            form = "one" if self.held[0] else "none"
        mean = {None: "", True: "mean", False: "not mean"}[self.mean_held]
        template = _LINES[(bool(self), form, mean)]
        return _(template).format(mark=PASS_MARK if self else FAIL_MARK, statement=self.statement,
                                  held=sum(self.held), n=n, required=self.required)


# A claim's line, one whole sentence per case: (held, how many seeds, the mean) -> the line.
_LINES = {
    (True, "mean only", "mean"): N_("{mark} {statement}: on the mean of {n} seeds"),
    (False, "mean only", "not mean"): N_("{mark} {statement}: does not hold here, on the mean of {n} seeds"),
    (True, "at least", ""): N_("{mark} {statement}: on at least {required} of {n} seeds"),
    (True, "at least", "mean"): N_("{mark} {statement}: on at least {required} of {n} seeds and on the mean"),
    (True, "count", ""): N_("{mark} {statement}: on {held}/{n} seeds"),
    (True, "count", "mean"): N_("{mark} {statement}: on {held}/{n} seeds and on the mean"),
    (True, "one", ""): N_("{mark} {statement}: on 1 seed"),
    (True, "one", "mean"): N_("{mark} {statement}: on 1 seed and on the mean"),
    (False, "count", ""): N_("{mark} {statement}: does not hold here, on {held}/{n} seeds"),
    (False, "count", "mean"): N_("{mark} {statement}: does not hold here, on {held}/{n} seeds and on the mean"),
    (False, "count", "not mean"): N_("{mark} {statement}: does not hold here, on {held}/{n} seeds, not on the mean"),
    (False, "count, required", ""): N_(
        "{mark} {statement}: does not hold here, on {held}/{n} seeds (at least {required} required)"),
    (False, "count, required", "mean"): N_(
        "{mark} {statement}: does not hold here, on {held}/{n} seeds (at least {required} required) and on the mean"),
    (False, "count, required", "not mean"): N_(
        "{mark} {statement}: does not hold here, on {held}/{n} seeds (at least {required} required), not on the "
        "mean"),
    (False, "one", "not mean"): N_("{mark} {statement}: does not hold here, on 1 seed, not on the mean"),
    (False, "none", ""): N_("{mark} {statement}: does not hold here, on 0/1 seeds"),
    (False, "none", "mean"): N_("{mark} {statement}: does not hold here, on 0/1 seeds and on the mean"),
    (False, "none", "not mean"): N_("{mark} {statement}: does not hold here, on 0/1 seeds, not on the mean"),
}


def _show(result: Any) -> str:
    if isinstance(result, dict):
        return ", ".join(f"{k} {v:.4g}" for k, v in result.items() if _is_number(v))
    return f"{result:.4g}" if _is_number(result) else repr(result)


def _not_finite(result: Any) -> list[str]:
    """The numeric entries of a result that are NaN or infinite."""
    items = result.items() if isinstance(result, dict) else [("value", result)]
    return [str(k) for k, v in items if _is_number(v) and not math.isfinite(float(v))]


def _verdict(holds: Callable[[Any], Any], result: Any, where: str) -> tuple[bool, tuple[tuple[str, float], ...]]:
    try:
        out = holds(result)
    except (KeyError, TypeError, IndexError, AttributeError) as err:
        if where != "the mean":
            raise
        raise TypeError(
            f"holds failed on the mean result ({type(err).__name__}: {err}). The mean keeps only the numeric "
            f"entries of the results ({_show(result) or 'none'}), so holds may use only those; compute any other "
            "quantity inside the experiment and return it as a number, or pass on_mean=False") from err
    if isinstance(out, Margin):
        return out.held, out.margins
    if isinstance(out, (bool, np.bool_)):
        return bool(out), ()
    shape = getattr(out, "shape", None)
    if shape is not None and tuple(shape) == () and "bool" in str(getattr(out, "dtype", "")):
        return bool(out), ()  # a 0-d NumPy or torch boolean
    got = f"an array of shape {tuple(shape)}" if shape is not None else f"{type(out).__name__} {out!r}"
    raise TypeError(f"holds must return True or False (or ck.claims.above/below, combined with &); on {where} it "
                    f"returned {got}. Reduce an array with .all() or .any(), and compare numbers explicitly")


def _census_note(statement: str) -> str:
    entry = _ledger().get(statement)
    if entry is None:
        return _("The census of the course has no record of this claim.")
    held, tried = entry["held"], entry["tried"]
    if tried and held >= 0.9 * tried:
        return _("The census saw it hold on {held} of {tried} seed triplets: this seed is one of the rare ones "
                 "where the effect is weaker than the text says, not a mistake in your code. "
                 "The conclusion rests on the many seeds the census tried.").format(held=held, tried=tried)
    return _("The census saw it hold on only {held} of {tried} seed triplets: the claim is stronger than the "
             "effect, which varies from seed to seed; it is a known defect of the course, not a mistake in your "
             "code.").format(held=held, tried=tried)


@lru_cache(maxsize=1)
def _ledger() -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(LEDGER.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {c["statement"]: c for c in data.get("claims", []) if isinstance(c, dict) and "statement" in c}


def _numbers(result: Any) -> dict[str, float | None]:
    """The numeric entries of one result (NaN and infinities as None), for the census log."""
    items = result.items() if isinstance(result, dict) else [("value", result)]
    return {str(k): (float(v) if math.isfinite(float(v)) else None) for k, v in items if _is_number(v)}


def _log(verdict: Claim, runs: SeedRuns) -> None:
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    record = {"statement": verdict.statement, "seeds": verdict.seeds, "held": verdict.held, "why": verdict.why,
              "mean_held": verdict.mean_held, "required": verdict.required, "ok": bool(verdict),
              "margins": [[[label, (None if math.isnan(m) else m)] for label, m in ms] for ms in verdict.margins],
              "results": [_numbers(r) for _, r in runs]}
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")


def _strict() -> bool:
    mode = os.environ.get(MODE_ENV, "").strip().lower()
    if mode not in ("", "learn", "strict"):
        raise ValueError(f"the environment variable {MODE_ENV} must be 'strict', 'learn' or unset; got {mode!r}")
    return mode == "strict"


def claim(
    statement: str,
    runs: SeedRuns,
    holds: Callable[[Any], Any],
    *,
    on_mean: bool = True,
    at_least: int | None = None,
    mean_only: bool = False,
    quiet: bool = False,
) -> Claim:
    """Check a claim on every seed (and on the mean); print one stable line.

    Args:
        statement: what the text claims, as a sentence about the result
            ("ReLU reaches 90 % where sigmoid stays below 50 %").
        runs: what :func:`over_seeds` returned.
        holds: ``holds(result)`` for one seed's result (and for
            ``runs.mean_result()``, the mean of each numeric entry): ``True`` or
            ``False``, or, where the claim compares numbers,
            ``above(value, threshold) & below(...)`` so that the census records
            the margins. A result with a NaN or infinite entry never holds.
        on_mean: also require the claim of the mean result.
        at_least: how many seeds must satisfy it (default: all). Use a majority
            only where the text says so and why.
        mean_only: require the claim of the mean result only, for an effect that
            varies from seed to seed (the text then says how often it holds on one
            seed); prints ``on the mean of 3 seeds``. Not with ``at_least`` or
            ``on_mean=False``.
        quiet: return the verdict without printing.

    Returns:
        A :class:`Claim`. If it does not hold, a ``✗`` line says on which seeds it
        failed and how often the census saw the claim hold, and the notebook
        goes on; with ``COURSEKIT_CLAIMS=strict`` it raises instead.

    Raises:
        AssertionError: in strict mode, when the claim does not hold; the message
            states the expected result and the numbers of each seed where it failed.
        TypeError: ``holds`` returns something other than a verdict, or fails on
            the mean result.
        ValueError: the runs repeat a seed.

    Introduced in ``notebooks/00_start_here.ipynb``.
    """
    if not isinstance(statement, str) or not statement.strip():
        raise TypeError(f"statement must be a sentence saying what is claimed; got {statement!r}")
    if not isinstance(runs, SeedRuns):
        raise TypeError(f"runs must be what ck.claims.over_seeds returns; got {type(runs).__name__}")
    if not callable(holds):
        raise TypeError(f"holds must be a function result -> bool; got {type(holds).__name__}")
    strict = _strict()
    _check_distinct(list(runs.seeds), "runs.seeds")
    n = len(runs)
    if not isinstance(mean_only, bool):
        raise TypeError(f"mean_only must be True or False; got {mean_only!r}")
    if mean_only and (at_least is not None or not on_mean):
        raise ValueError(f"mean_only=True checks the mean only: it takes neither at_least (got {at_least!r}) "
                         f"nor on_mean=False (got on_mean={on_mean!r})")
    required = 0 if mean_only else n if at_least is None else check_int("at_least", at_least, minimum=1, maximum=n)
    held, margins, reasons = [], [], []
    for seed, r in runs:
        ok, ms = _verdict(holds, r, f"the result of seed {seed}")
        bad = _not_finite(r)
        if bad:
            ok = False
            reasons.append(_("seed {seed} has NaN or infinite {names}").format(seed=seed, names=", ".join(bad)))
        held.append(ok)
        margins.append(ms)
    mean_held = None
    mean_result = None
    if on_mean:
        mean_result = runs.mean_result()
        mean_held, ms = _verdict(holds, mean_result, "the mean")
        mean_held = mean_held and not _not_finite(mean_result)
        margins.append(ms)
    verdict = Claim(statement, held, mean_held, required, list(runs.seeds), margins)
    if not verdict:
        failed = [_("seed {seed} ({values})").format(seed=s, values=_show(r))
                  for (s, r), ok in zip(runs, held) if not ok]
        every = "mean only" if required == 0 else required == n
        msg = _(_EXPECTED[(every, on_mean)]).format(statement=statement, required=required, n=n)
        if failed:  # each further part is a clause of its own, after "; "
            msg += _("; it does not hold on {seeds}").format(seeds=", ".join(failed))
        if mean_held is False:
            msg += _("; nor on the mean ({values})").format(values=_show(mean_result))
        if reasons:
            msg += _(" ({reasons}: a run that diverged is not a finding)").format(reasons="; ".join(reasons))
        verdict.why = msg
    _log(verdict, runs)
    if not verdict and strict:
        raise AssertionError(verdict.why)
    if not quiet:
        print(verdict.line)
        if not verdict:
            print(f"  {verdict.why}.\n  {_census_note(statement)}")
    return verdict


# What a claim that failed expected: (required on every seed, also on the mean) -> the sentence.
_EXPECTED = {
    ("mean only", True): N_("expected: {statement}, on the mean of the seeds"),
    (True, True): N_("expected: {statement}, on every seed and on the mean"),
    (True, False): N_("expected: {statement}, on every seed"),
    (False, True): N_("expected: {statement}, on at least {required} of {n} seeds and on the mean"),
    (False, False): N_("expected: {statement}, on at least {required} of {n} seeds"),
}


def spread(values: Sequence[float]) -> str:
    """``"0.95 (0.94-0.96)"``: a mean and its range over seeds, for tables and prose."""
    v = np.asarray(list(values), dtype=float)
    if v.size == 0 or not np.all(np.isfinite(v)):
        return "nan" if v.size else "-"
    digits = max(2, -int(math.floor(math.log10(max(float(v.max() - v.min()), 1e-12)))) + 1) if v.size > 1 else 3
    digits = min(digits, 4)
    return f"{v.mean():.{digits}f} ({v.min():.{digits}f}-{v.max():.{digits}f})"
