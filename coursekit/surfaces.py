"""Two-dimensional loss surfaces and optimizer trajectories on them.

Introduced in ``notebooks/03_optimizers.ipynb``.

A :class:`Surface` is a differentiable torch function ``f(x, y)`` with what we
know about it (its minima, the value there, a good window to look at). On it,
:func:`trajectory` runs a real ``torch.optim`` optimizer (or any
``torch.optim.Optimizer``, such as the scratch ones in :mod:`coursekit.optim`)
from a starting point and records the path and the loss at every step.
The figures layer draws them (:func:`coursekit.plots.plot_trajectories`,
:func:`coursekit.plots.plot_trajectory` behind the notebook's widget).

The surfaces (all in :data:`SURFACES`):

- ``"ill_conditioned"``: ``x^2/20 + 3 y^2``, a narrow valley (curvatures 0.1 and 6,
  condition number 60), minimum 0 at (0, 0);
- ``"rosenbrock"``: ``(1 - x)^2 + 100 (y - x^2)^2``, a curved banana valley,
  minimum 0 at (1, 1);
- ``"beale"``: ``(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2``,
  flat plateaus and steep walls, minimum 0 at (3, 0.5);
- ``"saddle"``: ``x^2 - y^2``, no minimum (unbounded below), a saddle point at (0, 0)
  whose ridge is the x axis;
- ``"himmelblau"``: ``(x^2 + y - 11)^2 + (x + y^2 - 7)^2``, four minima, all 0.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ._checks import check_choice, check_float, check_int, check_sequence
from .optim import build_optimizer

__all__ = [
    "Surface", "SURFACES", "get", "Trajectory", "trajectory", "tune_lr",
    "zigzag_fraction", "steps_to_leave", "largest_climb", "climb_step", "swing",
]

Point = tuple[float, float]


@dataclass(frozen=True)
class Surface:
    """A differentiable function of two variables with its known minima.

    Attributes:
        name: the key in :data:`SURFACES`.
        title: a readable name for figures.
        formula: the formula as plain text.
        fn: ``fn(x, y) -> tensor``, elementwise on tensors of any (equal) shape,
            built from torch operations so autograd differentiates it.
        minima: the global minima ``(x, y)``; empty when there is none.
        min_value: the value at the minima (``None`` when unbounded below).
        saddles: known saddle points.
        xlim, ylim: a window that shows the interesting part.
        start: a starting point used by the notebook's demonstrations.
        log_levels: draw contour levels on a log scale (for surfaces >= 0
            whose values span many orders of magnitude).

    Call it on a point: ``surface(p)`` with ``p`` a tensor of shape (..., 2).

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """

    name: str
    title: str
    formula: str
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = field(repr=False)
    minima: tuple[Point, ...]
    min_value: float | None
    saddles: tuple[Point, ...]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    start: Point
    log_levels: bool = True

    def __call__(self, point: torch.Tensor) -> torch.Tensor:
        """``f`` at ``point``, a tensor of shape (..., 2); differentiable."""
        if not isinstance(point, torch.Tensor):
            raise TypeError(f"point must be a torch.Tensor of shape (..., 2); got {type(point).__name__}")
        if point.dim() == 0 or point.shape[-1] != 2:
            raise ValueError(f"point must have shape (..., 2); got {tuple(point.shape)}")
        x, y = point.unbind(-1)
        return self.fn(x, y)

    def value(self, x: float, y: float) -> float:
        """``f(x, y)`` as a Python float (computed in float64)."""
        return float(self(torch.tensor([float(x), float(y)], dtype=torch.float64)))

    def gradient(self, x: float, y: float) -> np.ndarray:
        """The gradient ``(df/dx, df/dy)`` at ``(x, y)`` by autograd, in float64."""
        p = torch.tensor([float(x), float(y)], dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad(self(p), p)
        return g.numpy()

    def nearest_minimum(self, x: float, y: float) -> Point | None:
        """The known minimum closest to ``(x, y)`` (``None`` if the surface has none)."""
        if not self.minima:
            return None
        return min(self.minima, key=lambda m: math.hypot(m[0] - x, m[1] - y))

    def grid(self, n: int = 120, xlim: tuple[float, float] | None = None,
             ylim: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(X, Y, Z)`` on an ``n`` x ``n`` grid over the window, for contour plots."""
        n = check_int("n", n, minimum=2, maximum=2000)
        xlim = tuple(xlim or self.xlim)
        ylim = tuple(ylim or self.ylim)
        xs = torch.linspace(xlim[0], xlim[1], n, dtype=torch.float64)
        ys = torch.linspace(ylim[0], ylim[1], n, dtype=torch.float64)
        Y, X = torch.meshgrid(ys, xs, indexing="ij")
        with torch.no_grad():
            Z = self.fn(X, Y)
        return X.numpy(), Y.numpy(), Z.numpy()


def _ill_conditioned(x, y):
    return x ** 2 / 20 + 3 * y ** 2


def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def _beale(x, y):
    xy = x * y  # computed once: fewer autograd nodes, faster steps
    return (1.5 - x + xy) ** 2 + (2.25 - x + xy * y) ** 2 + (2.625 - x + xy * y * y) ** 2


def _saddle(x, y):
    return x ** 2 - y ** 2


def _himmelblau(x, y):
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


#: The course's surfaces by name.
SURFACES: dict[str, Surface] = {
    s.name: s for s in (
        Surface("ill_conditioned", "ill-conditioned quadratic (narrow valley)", "x²/20 + 3y²", _ill_conditioned,
                minima=((0.0, 0.0),), min_value=0.0, saddles=(), xlim=(-10.0, 4.0), ylim=(-2.0, 2.0),
                start=(-9.0, 1.5)),
        Surface("rosenbrock", "Rosenbrock", "(1 − x)² + 100 (y − x²)²", _rosenbrock,
                minima=((1.0, 1.0),), min_value=0.0, saddles=(), xlim=(-2.0, 2.0), ylim=(-1.0, 3.0),
                start=(-1.5, 2.0)),
        Surface("beale", "Beale", "(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²", _beale,
                minima=((3.0, 0.5),), min_value=0.0, saddles=((0.0, 1.0),), xlim=(-1.0, 4.5),
                ylim=(-1.5, 2.0), start=(1.0, 1.5)),
        Surface("saddle", "saddle", "x² − y²", _saddle, minima=(), min_value=None, saddles=((0.0, 0.0),),
                xlim=(-1.5, 1.5), ylim=(-1.5, 1.5), start=(1.0, 1e-3), log_levels=False),
        Surface("himmelblau", "Himmelblau (four minima)", "(x² + y − 11)² + (x + y² − 7)²", _himmelblau,
                minima=((3.0, 2.0), (-2.805118086952745, 3.131312518250573),
                        (-3.779310253377747, -3.283185991286170), (3.584428340330492, -1.848126526964404)),
                min_value=0.0, saddles=(), xlim=(-5.0, 5.0), ylim=(-5.0, 5.0), start=(0.0, 0.0)),
    )
}


def get(surface: str | Surface) -> Surface:
    """The :class:`Surface` named ``surface`` (a Surface is returned as is).

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """
    if isinstance(surface, Surface):
        return surface
    return SURFACES[check_choice("surface", surface, SURFACES)]


@dataclass
class Trajectory:
    """The path of one optimizer on one surface.

    Attributes:
        path: (steps + 1, 2) array, the start first; rows after a divergence are NaN.
        loss: (steps + 1,) array, ``f`` at each point of ``path``.
        surface: the surface's name.
        label: a name for legends (the optimizer's name when built from one).
        lr: the learning rate when known.
        diverged: the point ran away (beyond ``max_norm``) or ``f`` became inf/NaN;
            the steps after that are NaN.

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """

    path: np.ndarray
    loss: np.ndarray
    surface: str
    label: str = ""
    lr: float | None = None
    diverged: bool = False

    @property
    def steps(self) -> int:
        """Number of optimizer steps asked for (``len(path) - 1``)."""
        return len(self.path) - 1

    @property
    def final(self) -> np.ndarray:
        """The last point reached (before any divergence); NaN if not even the start was finite."""
        ok = np.nonzero(np.isfinite(self.path).all(axis=1))[0]
        return self.path[ok[-1]] if ok.size else np.full(2, np.nan)

    @property
    def final_loss(self) -> float:
        """``f`` at the last step; ``inf`` when the run diverged."""
        return float("inf") if self.diverged else float(self.loss[-1])

    def distance_to(self, point: Sequence[float] | None = None) -> np.ndarray:
        """Distance of every point of the path to ``point`` (default: the surface's nearest minimum
        to the final point)."""
        if point is None:
            point = get(self.surface).nearest_minimum(*self.final)
            if point is None:
                raise ValueError(f"surface {self.surface!r} has no minimum: pass a point")
        return np.hypot(self.path[:, 0] - point[0], self.path[:, 1] - point[1])

    def __repr__(self) -> str:
        lr = f", lr={self.lr:g}" if self.lr is not None else ""
        x, y = self.final
        return (f"Trajectory({self.label!r} on {self.surface!r}{lr}, {self.steps} steps, "
                f"final ({x:.3f}, {y:.3f}), loss {self.final_loss:.4g}{', diverged' if self.diverged else ''})")


def _check_point(name: str, value: Any) -> Point:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().tolist()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{name} must be a point (x, y); got {value!r}")
    x = check_float(f"{name}[0]", value[0])
    y = check_float(f"{name}[1]", value[1])
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return x, y


def trajectory(
    surface: str | Surface,
    optimizer: str | Callable[[list[torch.Tensor]], torch.optim.Optimizer],
    start: Sequence[float] | None = None,
    steps: int = 100,
    *,
    lr: float | None = None,
    momentum: float = 0.9,
    label: str | None = None,
    max_norm: float = 1e6,
    noise: float = 0.0,
    seed: int = 0,
) -> Trajectory:
    """Run an optimizer on a 2-D surface from ``start`` and record where it goes.

    The point ``(x, y)`` is a float64 tensor with ``requires_grad``; each step
    is the usual ``zero_grad(); loss = f(point); loss.backward(); step()`` (the
    gradient is reset with ``point.grad = None``, which is what
    ``zero_grad(set_to_none=True)`` does, without its bookkeeping on every step).

    Args:
        surface: a :class:`Surface` or its name (see :data:`SURFACES`).
        optimizer: a name for :func:`coursekit.optim.make_optimizer` ("sgd",
            "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam",
            "adamw", "nadam"; needs ``lr``), or a factory ``params -> Optimizer``
            such as ``lambda ps: torch.optim.Adam(ps, lr=0.1)`` or
            ``functools.partial(coursekit.optim.Adam, lr=0.1)``.
        start: the starting point ``(x, y)`` (default: the surface's ``start``).
        steps: optimizer steps, >= 1.
        lr: learning rate, with an optimizer name only.
        momentum: momentum for "momentum" and "nesterov" (with a name only).
        label: legend name (default: the optimizer's name, or its class name).
        max_norm: stop, and mark the run ``diverged``, once ``|(x, y)|`` exceeds this.
        noise: the std of Gaussian noise added to each coordinate of the gradient before
            every step, like the noise of a minibatch gradient (0: the exact gradient, the default).
            The path and loss are still of the true surface.
        seed: seed of that noise (the same seed gives the same noise, whatever the optimizer).

    Returns:
        A :class:`Trajectory` with ``path`` (steps + 1, 2) and ``loss`` (steps + 1,).

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """
    surf = get(surface)
    start = surf.start if start is None else _check_point("start", start)
    steps = check_int("steps", steps, minimum=1)
    if lr is not None:
        lr = check_float("lr", lr, 0.0, min_inclusive=False, finite=True)
    momentum = check_float("momentum", momentum, 0.0, 1.0, max_inclusive=False)
    max_norm = check_float("max_norm", max_norm, 0.0, min_inclusive=False)
    if math.hypot(*start) > max_norm:
        raise ValueError(f"start {start} is farther than max_norm={max_norm:g} from the origin, where a run counts "
                         f"as diverged: start closer, or raise max_norm")
    noise = check_float("noise", noise, 0.0, finite=True)
    seed = check_int("seed", seed, minimum=0)
    gen = torch.Generator().manual_seed(seed) if noise > 0 else None
    point = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = build_optimizer(optimizer, [point], lr, momentum)
    if label is None:
        label = optimizer if isinstance(optimizer, str) else type(opt).__name__
    path: list[list[float]] = []
    losses: list[float] = []
    diverged = False
    for t in range(steps + 1):
        point.grad = None  # what opt.zero_grad(set_to_none=True) does, without its bookkeeping per step
        f = surf(point)
        xy, value = point.tolist(), f.item()
        if not (math.isfinite(value) and math.isfinite(xy[0]) and math.isfinite(xy[1])) \
                or math.hypot(*xy) > max_norm:
            diverged = True
            break
        path.append(xy)
        losses.append(value)
        if t == steps:
            break
        f.backward()
        if gen is not None:
            point.grad.add_(torch.randn(2, generator=gen, dtype=torch.float64), alpha=noise)
        opt.step()
    missing = steps + 1 - len(path)
    path_arr = np.array(path + [[math.nan, math.nan]] * missing, dtype=np.float64).reshape(steps + 1, 2)
    loss_arr = np.array(losses + [math.nan] * missing, dtype=np.float64)
    return Trajectory(path_arr, loss_arr, surf.name, str(label), lr, diverged)


def tune_lr(
    surface: str | Surface,
    optimizer: str,
    lrs: Iterable[float],
    start: Sequence[float] | None = None,
    steps: int = 100,
    *,
    momentum: float = 0.9,
    score: str = "loss",
) -> tuple[float, dict[float, Trajectory]]:
    """Try every learning rate of a small grid and keep the best: the honest way to compare.

    Args:
        surface: a :class:`Surface` or its name.
        optimizer: an optimizer name (see :func:`trajectory`).
        lrs: the grid of learning rates (each > 0).
        start: the starting point (default: the surface's).
        steps: steps per run.
        momentum: for "momentum" and "nesterov".
        score: "loss" (lowest final loss wins) or "distance" (closest final
            point to the nearest minimum wins). A diverged run scores worst.

    Returns:
        ``(best_lr, {lr: Trajectory})``; ties go to the smaller learning rate.

    Raises:
        ValueError: every rate diverged (there is no best one: try smaller rates).

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """
    surf = get(surface)
    lrs = check_sequence("lrs", lrs, "[0.01, 0.03, 0.1]")
    lrs = [check_float(f"lrs[{i}]", v, 0.0, min_inclusive=False, finite=True) for i, v in enumerate(lrs)]
    if not lrs:
        raise ValueError("lrs is empty: give at least one learning rate")
    score = check_choice("score", score, ("loss", "distance"))
    if score == "distance" and not surf.minima:
        raise ValueError(f"score='distance' needs a surface with a minimum; {surf.name!r} has none")
    runs = {lr: trajectory(surf, optimizer, start, steps, lr=lr, momentum=momentum) for lr in sorted(lrs)}

    def key(lr: float) -> float:
        tr = runs[lr]
        if tr.diverged:
            return float("inf")
        return tr.final_loss if score == "loss" else float(tr.distance_to()[-1])

    if all(tr.diverged for tr in runs.values()):
        raise ValueError(f"every learning rate in lrs diverged with {optimizer!r} on {surf.name!r} "
                         f"({', '.join(f'{lr:g}' for lr in sorted(runs))}): there is no best one; try smaller rates")
    best = min(sorted(runs), key=key)
    return best, runs


# ----------------------------------------------------------------------------- measuring paths

def zigzag_fraction(tr: Trajectory, axis: int = 1, first: int | None = None) -> float:
    """Share of consecutive steps whose move along ``axis`` (0 = x, 1 = y) reverses direction.

    1.0 means every step goes back across the valley (a zig-zag); 0.0 means the
    coordinate moves one way only. Moves smaller than 1e-12 are ignored.

    Args:
        tr: a :class:`Trajectory`.
        axis: 0 for x, 1 for y.
        first: only look at the first ``first`` steps.

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """
    axis = check_int("axis", axis, minimum=0, maximum=1)
    path = tr.path[np.isfinite(tr.path).all(axis=1)]
    if first is not None:
        path = path[: check_int("first", first, minimum=2) + 1]
    d = np.diff(path[:, axis])
    d = d[np.abs(d) > 1e-12]
    if len(d) < 2:
        return 0.0
    return float(np.mean(np.sign(d[1:]) != np.sign(d[:-1])))


def largest_climb(tr: Trajectory) -> float:
    """How far the loss ever rose above the lowest value reached before: the size of an overshoot.

    ``max_t (loss[t] - min(loss[:t+1]))``; 0 when the loss went down (or stayed) at every step.
    Plain gradient descent with a small enough step never climbs; momentum, carried past the
    valley floor, climbs the opposite wall.

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """
    loss = tr.loss[np.isfinite(tr.loss)]
    if len(loss) == 0:
        return 0.0
    return float(np.max(loss - np.minimum.accumulate(loss)))


def steps_to_leave(tr: Trajectory, radius: float, center: Sequence[float] = (0.0, 0.0)) -> int | None:
    """First step at which the path is farther than ``radius`` from ``center``; None if never.

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """
    radius = check_float("radius", radius, 0.0, min_inclusive=False)
    cx, cy = _check_point("center", center)
    dist = np.hypot(tr.path[:, 0] - cx, tr.path[:, 1] - cy)
    over = np.nonzero(dist > radius)[0]
    if len(over):
        return int(over[0])
    if tr.diverged:  # it ran off past max_norm: it left at the first missing step
        return int(np.nonzero(~np.isfinite(tr.path[:, 0]))[0][0])
    return None


def climb_step(tr: Trajectory) -> int:
    """The step at which :func:`largest_climb` happens (0 when the loss never rose).

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """
    loss = tr.loss[np.isfinite(tr.loss)]
    if len(loss) == 0:
        return 0
    return int(np.argmax(loss - np.minimum.accumulate(loss)))


def swing(tr: Trajectory, axis: int = 1, first: int = 20) -> float:
    """How far the path swings across the valley: the mean ``|coordinate|`` over steps 1..``first``.

    :func:`zigzag_fraction` counts how often the path reverses along ``axis``; this measures
    how *wide* the swings are (distance from the nearest minimum's coordinate, or from 0 on a
    surface without one). A path that flips at every step but shrinks fast has a small swing.

    Args:
        tr: a :class:`Trajectory`.
        axis: 0 for x, 1 for y.
        first: the number of steps after the start to average over, >= 1.

    Introduced in ``notebooks/03_optimizers.ipynb``.
    """
    axis = check_int("axis", axis, minimum=0, maximum=1)
    first = check_int("first", first, minimum=1)
    centre = get(tr.surface).nearest_minimum(*tr.final)
    c = centre[axis] if centre is not None else 0.0
    part = tr.path[1:first + 1, axis]
    part = part[np.isfinite(part)]
    if len(part) == 0:
        return float("inf") if tr.diverged else 0.0
    return float(np.mean(np.abs(part - c)))
