"""Training recipes: the choices that make a deep network trainable, as a plain dict.

Introduced in ``notebooks/08_putting_it_together.ipynb``.

A *recipe* is a ``dict`` with five entries, one per fix the course studies::

    broken = {"activation": "sigmoid", "init": "normal", "optimizer": "sgd",
              "batchnorm": False, "dropout": 0.0}
    fixed = {**broken, "activation": "relu", "init": "he", "optimizer": "adam",
             "batchnorm": True, "dropout": 0.1}

Because it is a plain dict, "change exactly one thing" is one line of Python
(``{**recipe, "init": "he"}``), and the helpers below only do the bookkeeping:

- :func:`build` turns a recipe into a network (:func:`coursekit.models.mlp` +
  :func:`coursekit.init.initialize`) and the ``fit`` arguments for its optimizer;
- :func:`layer_grad_norms` measures, with :class:`coursekit.diagnostics.LayerStats`,
  the gradient norm of every weight at initialization;
- :func:`run` does both, trains with :func:`coursekit.train.fit` and returns a
  :class:`RecipeRun`; :func:`table` prints runs side by side.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from ._checks import (
    check_bool,
    check_choice,
    check_device,
    check_float,
    check_int,
    check_module,
    check_same_length,
    check_tensor,
)
from .data import Dataset
from .diagnostics import LayerStats
from .init import SCHEME_NAMES
from .models import ACTIVATIONS, mlp
from .optim import OPTIMIZERS
from .tables import StatsTable
from .train import fit, model_device

__all__ = [
    "RECIPE_KEYS", "DEFAULT_LRS", "check_recipe", "describe", "build",
    "layer_grad_norms", "RecipeRun", "run", "table",
]

#: The entries every recipe has, in the order the course introduces the fixes.
RECIPE_KEYS = ("activation", "init", "optimizer", "batchnorm", "dropout")

#: Learning rate used for each optimizer unless the recipe has an ``"lr"`` entry
#: or ``lrs`` says otherwise: plain SGD's usual 0.1, Adam's paper default 1e-3.
DEFAULT_LRS = {"sgd": 0.1, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.01, "rmsprop": 1e-3,
               "adadelta": 1.0, "adam": 1e-3, "adamw": 1e-3, "nadam": 2e-3}
assert set(DEFAULT_LRS) == set(OPTIMIZERS), "every optimizer needs a default learning rate"


def check_recipe(recipe: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a recipe and return a normalized copy.

    Args:
        recipe: a mapping with exactly the keys of :data:`RECIPE_KEYS`, plus an
            optional ``"lr"`` (a number > 0): ``activation`` (a name of
            :data:`coursekit.models.ACTIVATIONS`), ``init`` (a name of
            :data:`coursekit.init.SCHEME_NAMES`: "normal" is N(0, 1) as in the
            original labs, "he" is He et al.'s std sqrt(2 / fan_in)), ``optimizer``
            (one of :data:`coursekit.optim.OPTIMIZERS`),
            ``batchnorm`` (True/False) and ``dropout`` (probability of dropping
            a hidden unit, in [0, 1)).

    Returns:
        A new ``dict`` with canonical names (e.g. "ReLU" becomes "relu").

    Raises:
        TypeError: ``recipe`` is not a mapping, or an entry has the wrong type.
        ValueError: a key is missing or unknown, or a value is not allowed.

    Introduced in ``notebooks/08_putting_it_together.ipynb``.
    """
    if not isinstance(recipe, Mapping):
        raise TypeError(f"recipe must be a dict with keys {list(RECIPE_KEYS)}; got {type(recipe).__name__}")
    missing = [k for k in RECIPE_KEYS if k not in recipe]
    if missing:
        raise ValueError(f"recipe is missing {missing}; a recipe needs {list(RECIPE_KEYS)} (and optionally 'lr')")
    unknown = [k for k in recipe if k not in (*RECIPE_KEYS, "lr")]
    if unknown:
        raise ValueError(f"recipe has unknown keys {unknown}; allowed: {list(RECIPE_KEYS)} and 'lr'")
    out: dict[str, Any] = {
        "activation": check_choice("recipe['activation']", recipe["activation"], ACTIVATIONS),
        "init": check_choice("recipe['init']", recipe["init"], SCHEME_NAMES),
        "optimizer": check_choice("recipe['optimizer']", recipe["optimizer"], OPTIMIZERS),
    }
    out["batchnorm"] = check_bool("recipe['batchnorm']", recipe["batchnorm"])
    out["dropout"] = check_float("recipe['dropout']", recipe["dropout"], 0.0, 1.0, max_inclusive=False)
    if "lr" in recipe:
        out["lr"] = check_float("recipe['lr']", recipe["lr"], 0.0, min_inclusive=False, finite=True)
    return out


def describe(recipe: Mapping[str, Any]) -> str:
    """A short human name for a recipe, e.g. ``"relu · he · adam · BN · dropout 0.1"``.

    Introduced in ``notebooks/08_putting_it_together.ipynb``.
    """
    return _describe(check_recipe(recipe))


def _describe(r: dict[str, Any]) -> str:
    init = "N(0,1)" if r["init"] == "normal" else r["init"]
    parts = [r["activation"], init, r["optimizer"]]
    if r["batchnorm"]:
        parts.append("BN")
    if r["dropout"] > 0:
        parts.append(f"dropout {r['dropout']:g}")
    return " · ".join(parts)


def build(
    recipe: Mapping[str, Any],
    sizes: Sequence[int],
    seed: int = 0,
    lrs: Mapping[str, float] | None = None,
) -> tuple[nn.Sequential, dict[str, Any]]:
    """Build the network a recipe describes and the optimizer arguments for ``fit``.

    It does exactly this (so you can also write it by hand)::

        model = ck.models.mlp(sizes, activation, dropout=dropout, batchnorm=batchnorm, init=init, seed=seed)
        fit_kwargs = {"optimizer": optimizer, "lr": lr}

    where "normal" is N(0, 1) and "he" is ``kaiming_normal`` with ReLU's gain
    (std sqrt(2 / fan_in)) *whatever the activation*, so removing ReLU from a
    recipe changes only the activation. Other schemes use the gain of the
    recipe's activation. Biases start at zero. The BatchNorm layers keep
    PyTorch's start (scale 1, shift 0).

    Args:
        recipe: see :func:`check_recipe`.
        sizes: layer widths, input first, output last (see :func:`coursekit.models.mlp`).
        seed: seed of the weights: the same recipe, sizes and seed always give the same network.
        lrs: learning rate per optimizer name, overriding :data:`DEFAULT_LRS`
            (a recipe's own ``"lr"`` wins over both).

    Returns:
        ``(model, fit_kwargs)``; pass ``**fit_kwargs`` to :func:`coursekit.train.fit`.

    Introduced in ``notebooks/08_putting_it_together.ipynb``.
    """
    return _build(check_recipe(recipe), sizes, check_int("seed", seed, minimum=0), _check_lrs(lrs))


def _check_lrs(lrs: Mapping[str, float] | None) -> dict[str, float]:
    """:data:`DEFAULT_LRS` with ``lrs`` (checked) over it."""
    rates = dict(DEFAULT_LRS)
    if lrs is not None:
        if not isinstance(lrs, Mapping):
            raise TypeError(f"lrs must be a dict such as {{'sgd': 0.1, 'adam': 0.001}}; got {type(lrs).__name__}")
        for name, value in lrs.items():
            key = check_choice("lrs key", name, OPTIMIZERS)
            rates[key] = check_float(f"lrs[{name!r}]", value, 0.0, min_inclusive=False, finite=True)
    return rates


def _build(r: dict[str, Any], sizes, seed: int, rates: dict[str, float]) -> tuple[nn.Sequential, dict[str, Any]]:
    """:func:`build` for a recipe, seed and rates already checked."""
    model = mlp(sizes, activation=r["activation"], dropout=r["dropout"], batchnorm=r["batchnorm"],
                init=r["init"], seed=seed)
    return model, {"optimizer": r["optimizer"], "lr": r.get("lr", rates[r["optimizer"]])}


def _rng_devices() -> list[int]:
    return [torch.cuda.current_device()] if torch.cuda.is_available() else []


def layer_grad_norms(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, seed: int = 0,
) -> tuple[dict[str, float], float, dict[str, float]]:
    """Gradient norm of every weight for one forward and backward pass (cross-entropy).

    Runs the model in its current mode (training mode for a fresh network, so
    dropout drops and batch norm uses the batch's statistics, as in the first
    training step), records with :class:`coursekit.diagnostics.LayerStats`,
    then clears the gradients again. Dropout masks are drawn from ``seed``
    without disturbing the global random state.

    Args:
        model: the network (its Linear layers are measured, input side first).
        x, y: a batch of inputs and class indices.
        seed: seed of the dropout masks.

    Returns:
        ``(weight_grad_norms, loss, act_std)``: ``{"fc1": ..., ..., "out": ...}``
        the L2 norms of dL/dW, the loss as a float, and the std of each
        activation layer's output (``{"act1": ..., ...}``).

    Introduced in ``notebooks/08_putting_it_together.ipynb``.
    """
    check_module("model", model)
    check_tensor("x", x, ndim=2)
    check_tensor("y", y, ndim=1)
    check_same_length(("x", "y"), x, y)
    return _layer_grad_norms(model, x, y, check_int("seed", seed, minimum=0))


def _layer_grad_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor, seed: int):
    """:func:`layer_grad_norms` on arguments already checked."""
    device = model_device(model)
    with torch.random.fork_rng(devices=_rng_devices()):
        torch.manual_seed(seed)
        with LayerStats(model, percentiles=()) as stats:
            loss = nn.functional.cross_entropy(model(x.to(device)), y.to(device))
            loss.backward()
    model.zero_grad(set_to_none=True)
    norms = {name: float(v[-1]) for name, v in stats.weight_grad_norm.items()}
    act_std = {name: float(v[-1]) for name, v in stats.act_std.items()}
    return norms, float(loss.detach()), act_std


@dataclass(repr=False)
class RecipeRun:
    """One recipe trained once: what :func:`run` returns.

    Attributes:
        label: the name given to the run (e.g. "+ He init").
        recipe: the normalized recipe.
        seed: seed of the weights, the minibatch order and the dropout masks.
        history: the :class:`coursekit.train.History` of the training.
        grad_norms: ``{"fc1": ..., "out": ...}`` weight-gradient norms at initialization.
        init_loss: the loss of that first pass.
        act_std: std of each activation layer's output at initialization.
        lr: the learning rate used.

    Introduced in ``notebooks/08_putting_it_together.ipynb``.
    """

    label: str
    recipe: dict[str, Any]
    seed: int
    history: Any
    grad_norms: dict[str, float] = field(default_factory=dict)
    init_loss: float = float("nan")
    act_std: dict[str, float] = field(default_factory=dict)
    lr: float = float("nan")

    @property
    def grad_ratio(self) -> float:
        """First layer's weight-gradient norm divided by the last layer's, at initialization.

        Near 1: every layer gets a gradient of similar size. Far below 1: the
        gradient vanishes on its way to the input (the first layer barely learns).
        """
        names = list(self.grad_norms)
        last = self.grad_norms[names[-1]]
        return self.grad_norms[names[0]] / last if last > 0 else float("inf")

    @property
    def val_acc(self) -> float:
        """Validation accuracy after the last epoch."""
        return self.history.final_val_acc

    @property
    def diverged(self) -> bool:
        """True when the training loss became NaN or infinite."""
        losses = np.asarray(self.history.step_loss, dtype=float)
        return bool(losses.size and not np.all(np.isfinite(losses)))

    def epochs_to(self, accuracy: float) -> int | None:
        """First epoch whose validation accuracy reaches ``accuracy``; None if never."""
        return self.history.epochs_to(accuracy)

    def __repr__(self) -> str:
        return (f"RecipeRun({self.label!r}: {_describe(self.recipe)}, seed {self.seed}, "
                f"val_acc {self.val_acc:.3f})")


def run(
    recipe: Mapping[str, Any],
    data,
    hidden: Sequence[int],
    *,
    epochs: int,
    batch_size: int = 100,
    seed: int = 0,
    label: str = "",
    lrs: Mapping[str, float] | None = None,
    grad_examples: int = 512,
    device: str | torch.device | None = None,
    eval_train: bool = False,
) -> RecipeRun:
    """Build a recipe's network, measure its gradients at initialization, train it.

    The same recipe, data, budget and seed always give the same result, whatever
    ran before: the weights come from ``seed`` (:func:`build`), the minibatch
    order from ``fit(seed=seed)``, and the dropout masks from a private random
    state seeded with ``seed`` (the global one is left as it was).

    Args:
        recipe: see :func:`check_recipe`.
        data: a :class:`coursekit.data.Dataset` (with a validation split).
        hidden: hidden-layer widths, e.g. ``[128] * 6``; input and output sizes come from ``data``.
        epochs, batch_size: the training budget.
        seed: the seed of everything random in the run.
        label: a name for tables and legends (default: :func:`describe`).
        lrs: learning rate per optimizer (see :func:`build`).
        grad_examples: how many of the first training examples form the batch
            on which the gradients at initialization are measured.
        device: where to train, passed to ``fit`` (default: where the new
            model is built, the CPU unless you set a default device; so every
            machine gives the same numbers).
        eval_train: also measure the whole training split in eval mode after each
            epoch (``history.eval_train_acc``, passed to ``fit``): the training
            accuracy to compare with ``val_acc`` when the recipe has dropout or
            batch norm, whose ``history.train_acc`` is measured in training mode.

    Returns:
        A :class:`RecipeRun`. A run whose training loss becomes NaN or infinite is
        trained to the end (``fit(..., nan_policy="continue")``) and reported with
        ``diverged`` True, not raised: a broken recipe is one of the results.

    Introduced in ``notebooks/08_putting_it_together.ipynb``.
    """
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a coursekit Dataset (ck.data.load(...)); got {type(data).__name__}")
    if isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__len__") or len(hidden) == 0:
        raise TypeError(f"hidden must be a non-empty list of widths such as [128] * 6; got {hidden!r}")
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    grad_examples = check_int("grad_examples", grad_examples, minimum=1)
    if not isinstance(label, str):
        raise TypeError(f"label must be a string; got {type(label).__name__}")
    eval_train = check_bool("eval_train", eval_train)
    r = check_recipe(recipe)  # once, here at the door: the helpers below trust it
    model, fit_kwargs = _build(r, [data.n_features, *hidden, data.n_classes], seed, _check_lrs(lrs))
    dev = check_device("device", device) if device is not None else model_device(model)
    model.to(dev)
    label = label or _describe(r)
    x0, y0 = data.x_train[:grad_examples], data.y_train[:grad_examples]
    norms, loss0, act_std = _layer_grad_norms(model, x0, y0, seed)
    with torch.random.fork_rng(devices=_rng_devices()):
        torch.manual_seed(seed)
        # A recipe may diverge on purpose (ReLU with N(0, 1) weights): train on and report it as `diverged`.
        history = fit(model, data, epochs=epochs, batch_size=batch_size, seed=seed, device=dev,
                      progress=False, label=label, nan_policy="continue", eval_train=eval_train, **fit_kwargs)
    return RecipeRun(label=label, recipe=r, seed=seed, history=history, grad_norms=norms,
                     init_loss=loss0, act_std=act_std, lr=float(fit_kwargs["lr"]))


_TABLE_FORMATS = {"val_acc": "{:.3f}", "change": "{:+.3f}", "grad_ratio": "{:.2f}", "init_loss": "{:.3g}"}


def table(
    runs: Sequence[RecipeRun], accuracy: float = 0.9, baseline: RecipeRun | str | None = None,
) -> StatsTable:
    """One row per run: validation accuracy, epochs to ``accuracy``, gradient ratio, first loss.

    Columns: ``run`` (the label), ``val_acc`` (after the last epoch), ``change``
    (``val_acc`` minus the baseline's, if ``baseline`` is given: a run, or
    ``"previous"`` for the row above, as in a ladder of one change per step),
    ``epochs_to_<accuracy>`` ("-" = not reached within the budget),
    ``grad_ratio`` (first / last layer weight-gradient norm at initialization,
    see :attr:`RecipeRun.grad_ratio`), ``init_loss`` (loss before training) and
    ``diverged`` ("yes" if the loss became NaN or infinite).

    Introduced in ``notebooks/08_putting_it_together.ipynb``.
    """
    accuracy = check_float("accuracy", accuracy, 0.0, 1.0)
    runs = list(runs)
    for i, r in enumerate(runs):
        if not isinstance(r, RecipeRun):
            raise TypeError(f"runs[{i}] must be a RecipeRun (what ck.recipes.run returns); got {type(r).__name__}")
    if isinstance(baseline, str):
        check_choice("baseline", baseline, ("previous",))
    elif baseline is not None and not isinstance(baseline, RecipeRun):
        raise TypeError(f"baseline must be a RecipeRun, 'previous' or None; got {type(baseline).__name__}")
    col = f"epochs_to_{accuracy:g}"
    rows = StatsTable(formats=_TABLE_FORMATS, text_left=True)
    for i, r in enumerate(runs):
        row: dict[str, Any] = {"run": r.label, "val_acc": r.val_acc}
        if isinstance(baseline, RecipeRun):
            row["change"] = r.val_acc - baseline.val_acc
        elif baseline == "previous":
            row["change"] = r.val_acc - runs[i - 1].val_acc if i else float("nan")
        row[col] = r.epochs_to(accuracy)
        row["grad_ratio"] = r.grad_ratio
        row["init_loss"] = r.init_loss if math.isfinite(r.init_loss) else float("inf")
        row["diverged"] = "yes" if r.diverged else "no"
        rows.append(row)
    return rows
