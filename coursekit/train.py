"""Training and evaluation: one small, readable loop used by every notebook.

Introduced in ``notebooks/00_start_here.ipynb``.

``fit`` does what the original labs did by hand (``model.train()``, zero_grad,
forward, loss, backward, step; ``model.eval()`` and ``torch.no_grad()`` to
measure) and records what the notebooks plot. Callbacks let the diagnostics of
later notebooks watch each step without changing the loop.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn

from ._checks import check_bool, check_choice, check_int, check_module, check_sequence, check_tensor
from ._fit_checks import check_data, check_loss_value, check_output, check_targets
from .data import Dataset, batches
from .layers import BatchNorm1d as ScratchBatchNorm1d
from .optim import build_optimizer

__all__ = ["fit", "evaluate", "History", "Callback", "DivergedError", "LOSSES", "NAN_POLICIES",
           "model_device", "pick_device"]

LOSSES = ("cross_entropy", "bce_with_logits", "bce", "mse")

#: What :func:`fit` does when the training loss becomes NaN or infinite (see its ``nan_policy``).
NAN_POLICIES = ("raise", "stop", "continue")


class DivergedError(FloatingPointError):
    """Raised by :func:`fit` (``nan_policy="raise"``) when the training loss becomes NaN or infinite.

    Attributes:
        epoch, step: where it happened (``step`` counts from 1 over the whole run).
        loss: the non-finite loss value.
        history: the :class:`History` recorded up to there (its last step loss is the bad one).

    Introduced in ``notebooks/00_start_here.ipynb``.
    """

    def __init__(self, message: str, *, epoch: int, step: int, loss: float, history: "History") -> None:
        super().__init__(message)
        self.epoch, self.step, self.loss, self.history = epoch, step, loss, history


@dataclass
class History:
    """What a training run recorded.

    Attributes:
        step_loss: training loss of every minibatch step, shape (steps,).
        epoch: epoch numbers 1..epochs.
        train_loss, train_acc: mean minibatch loss / accuracy over each epoch
            (measured in train mode while learning, as the original labs' ``avg_cost``).
        val_loss, val_acc: loss / accuracy on the validation split after each
            epoch, in eval mode (empty lists when no validation data was given).
        steps_per_epoch: minibatches per epoch.
        wall_time: seconds spent in ``fit`` (not stable: never print it in a
            notebook that nbval checks).
        label: a name for legends and tables.
        diverged_step: the first step (counted from 1) whose training loss was
            NaN or infinite; None if there was none.

    Introduced in ``notebooks/00_start_here.ipynb``.
    """

    step_loss: np.ndarray = field(default_factory=lambda: np.zeros(0))
    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    steps_per_epoch: int = 0
    wall_time: float = 0.0
    label: str = ""
    diverged_step: int | None = None

    @property
    def final_val_acc(self) -> float:
        """Validation accuracy after the last epoch (NaN without validation data)."""
        return self.val_acc[-1] if self.val_acc else float("nan")

    @property
    def best_val_acc(self) -> float:
        """Best validation accuracy over the epochs (NaN without validation data)."""
        return max(self.val_acc) if self.val_acc else float("nan")

    def epochs_to(self, accuracy: float) -> int | None:
        """First epoch whose validation accuracy reaches ``accuracy``; None if never."""
        for e, acc in zip(self.epoch, self.val_acc):
            if acc >= accuracy:
                return e
        return None

    def __repr__(self) -> str:
        last = (f", final val_acc {self.final_val_acc:.3f}" if self.val_acc else "")
        name = f"{self.label!r}, " if self.label else ""
        bad = f", diverged at step {self.diverged_step}" if self.diverged_step is not None else ""
        return f"History({name}{len(self.epoch)} epochs, {len(self.step_loss)} steps{last}{bad})"


class Callback:
    """Base class for objects that watch training; override what you need.

    ``fit`` calls ``on_fit_start(model)``, then after every optimizer step
    ``on_step_end(step, loss)`` (``loss`` is the detached batch-loss tensor; call
    ``float(loss)`` if you need the number), after every epoch
    ``on_epoch_end(epoch, history)``, and finally ``on_fit_end(history)``.

    Introduced in ``notebooks/00_start_here.ipynb``; used by the diagnostics of
    ``notebooks/01_vanishing_gradients.ipynb``.
    """

    def on_fit_start(self, model: nn.Module) -> None:  # noqa: D102
        pass

    def on_step_end(self, step: int, loss: torch.Tensor) -> None:  # noqa: D102
        pass

    def on_epoch_end(self, epoch: int, history: History) -> None:  # noqa: D102
        pass

    def on_fit_end(self, history: History) -> None:  # noqa: D102
        pass


def model_device(model: torch.nn.Module) -> torch.device:
    """Where the model's first parameter (or buffer) lives; the default device for an empty model.

    This is where :func:`fit` trains unless told otherwise.

    Introduced in ``notebooks/00_start_here.ipynb``.
    """
    for t in (*model.parameters(), *model.buffers()):
        return t.device
    return torch.empty(()).device


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` if given, else CUDA when available, else the CPU.

    The best device of this machine, for your own code (``model.to(pick_device())``);
    :func:`fit` does not use it by default: it trains where the model is.

    Introduced in ``notebooks/00_start_here.ipynb``.
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be like 'cpu', 'cuda' or 'cuda:0'; got {device!r} ({exc})") from None


def _loss_fn(loss: str | Callable) -> tuple[Callable, str]:
    if callable(loss):
        return loss, "custom"
    key = check_choice("loss", loss, LOSSES)
    fn = {
        "cross_entropy": nn.functional.cross_entropy,
        "bce_with_logits": lambda out, y: nn.functional.binary_cross_entropy_with_logits(out, y.to(out.dtype)),
        "bce": lambda out, y: nn.functional.binary_cross_entropy(out, y.to(out.dtype)),
        "mse": lambda out, y: nn.functional.mse_loss(out, y.to(out.dtype)),
    }[key]
    return fn, key


def _n_correct(out: torch.Tensor, y: torch.Tensor, kind: str) -> torch.Tensor | None:
    """Number of correct predictions as a tensor, or None when accuracy has no meaning."""
    if kind in ("cross_entropy", "custom") and out.dim() == 2 and y.dim() == 1 and not y.is_floating_point():
        return (out.argmax(1) == y).sum()
    if kind == "bce_with_logits":
        return ((out > 0).to(y.dtype) == y).all(dim=-1).sum() if out.dim() > 1 else ((out > 0).to(y.dtype) == y).sum()
    if kind == "bce":
        return ((out > 0.5).to(y.dtype) == y).all(dim=-1).sum() if out.dim() > 1 else ((out > 0.5).to(y.dtype) == y).sum()
    return None


def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss: str | Callable = "cross_entropy",
    batch_size: int = 4096,
) -> tuple[float, float]:
    """Loss and accuracy of ``model`` on ``(x, y)``, in eval mode and without gradients.

    The model's previous mode (train or eval) is restored afterwards. Accuracy is
    NaN for losses where it has no meaning (e.g. "mse").

    Args:
        model: the network.
        x, y: inputs and targets (same first dimension).
        loss: "cross_entropy", "bce_with_logits", "bce", "mse" or a callable.
        batch_size: evaluation chunk size (memory only; the result does not depend on it).

    Returns:
        ``(mean loss, accuracy)`` as Python floats.

    Introduced in ``notebooks/00_start_here.ipynb``.
    """
    check_module("model", model)
    check_tensor("x", x)
    check_tensor("y", y)
    if x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ValueError(f"x and y must hold the same, non-zero number of examples; got {x.shape[0]} and {y.shape[0]}")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    fn, kind = _loss_fn(loss)
    y, label_max = check_targets("y", y, kind)
    was_training = model.training
    model.eval()
    device = next((p.device for p in model.parameters()), x.device)
    total, correct, n = 0.0, 0, x.shape[0]
    has_acc = True
    try:
        with torch.no_grad():
            for start in range(0, n, batch_size):
                xb = x[start:start + batch_size].to(device)
                yb = y[start:start + batch_size].to(device)
                out = model(xb)
                if start == 0:
                    check_output(out, "y", yb, kind, label_max)
                total += float(fn(out, yb)) * xb.shape[0]
                c = _n_correct(out, yb, kind)
                if c is None:
                    has_acc = False
                else:
                    correct += int(c)
    finally:
        model.train(was_training)
    return total / n, (correct / n if has_acc else float("nan"))


_SPLITS = ("x_train", "y_train", "x_val", "y_val")


def _unpack(data) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    if isinstance(data, Dataset):
        return data.x_train, data.y_train, data.x_val, data.y_val
    if isinstance(data, (tuple, list)) and len(data) in (2, 4):
        for i, t in enumerate(data):
            check_tensor(f"data[{i}] ({_SPLITS[i]})", t)
        if len(data) == 2:
            return data[0], data[1], None, None
        return tuple(data)  # type: ignore[return-value]
    raise TypeError(
        "data must be a coursekit Dataset, (x_train, y_train) or (x_train, y_train, x_val, y_val); "
        f"got {type(data).__name__}" + (f" of length {len(data)}" if isinstance(data, (tuple, list)) else "")
    )


def _data_names(data) -> tuple[str, str, str, str]:
    if isinstance(data, Dataset):
        return tuple(f"data.{n}" for n in _SPLITS)  # type: ignore[return-value]
    return tuple(f"data[{i}] ({n})" for i, n in enumerate(_SPLITS))  # type: ignore[return-value]


def _has_batchnorm1d(model: nn.Module) -> bool:
    return any(isinstance(m, (nn.BatchNorm1d, ScratchBatchNorm1d)) for m in model.modules())


def fit(
    model: nn.Module,
    data,
    *,
    optimizer: str | torch.optim.Optimizer | Callable = "adam",
    lr: float | None = None,
    epochs: int = 10,
    batch_size: int = 100,
    loss: str | Callable = "cross_entropy",
    seed: int = 0,
    device: str | torch.device | None = None,
    callbacks: Sequence[Callback] = (),
    progress: bool = True,
    label: str = "",
    max_steps: int | None = None,
    nan_policy: str = "raise",
) -> History:
    """Train ``model`` with minibatch gradient descent and return its :class:`History`.

    Each epoch: ``model.train()``, shuffled minibatches (seeded by ``seed``), one
    optimizer step per batch; then ``model.eval()`` and the validation loss and
    accuracy without gradients. Training runs where the model is, unless
    ``device`` says otherwise.

    The data are checked at the door, each problem named by its split
    (``data.x_train``, ``data[3] (y_val)``, ...): inputs must be finite and of the
    model's dtype and width, class labels integers from 0 to the number of
    outputs - 1, validation inputs and targets of equal length. Integer labels
    of another type (uint8, int32) are used as int64.

    A model with ``BatchNorm1d`` layers cannot train on a batch of one example:
    when ``batch_size`` leaves exactly one example over, that example is left out
    of the epoch (a different one each epoch, as the order is shuffled).

    Args:
        model: the network (``nn.Module``) to train in place.
        data: a :class:`~coursekit.data.Dataset`, ``(x_train, y_train)`` or
            ``(x_train, y_train, x_val, y_val)``.
        optimizer: a name of :data:`coursekit.optim.OPTIMIZERS` ("adam", "sgd", ...),
            a ready ``torch.optim.Optimizer`` over this model's parameters, or a
            factory ``params -> Optimizer`` (see :func:`coursekit.optim.build_optimizer`).
        lr: learning rate when ``optimizer`` is a name (default 1e-3); leave it
            out with a ready optimizer or a factory, which carry their own rate.
        epochs: passes over the training data, >= 1.
        batch_size: examples per step, >= 1.
        loss: "cross_entropy" (logits and class indices), "bce_with_logits",
            "bce" (probabilities), "mse", or a callable ``(output, target) -> loss``.
        seed: seed of the minibatch order (the model's initial weights are set
            where it is built: see :func:`coursekit.models.mlp`'s ``seed``).
        device: "cpu", "cuda", ...: move the model there and train there (the
            model stays there afterwards: give it inputs on that device, e.g.
            ``x.to("cuda")``). Default: where the model's parameters already
            are, so a new model trains on the CPU even when a GPU is present,
            and the notebooks' numbers are the same on every machine.
        callbacks: :class:`Callback` objects notified during training (e.g.
            :class:`coursekit.plots.LivePlot`, which redraws the loss curves after every epoch).
        progress: show a ``tqdm.auto`` bar over epochs.
        label: name stored in the History for legends and tables.
        max_steps: stop after this many optimizer steps (the epoch in progress
            is finished with a validation pass).
        nan_policy: what to do when a step's training loss is NaN or infinite
            (a learning rate too high, weights initialized too large...). The
            step is not applied. "raise" (default): raise :class:`DivergedError`,
            naming the epoch, the step and the likely causes; "stop": end training
            there, finish that epoch's record with a validation pass and return
            the History (``history.diverged_step`` says where); "continue": apply
            the step and train on regardless (the loss stays NaN), as a plain
            PyTorch loop does: for showing what divergence looks like.

    Returns:
        A :class:`History`.

    Raises:
        DivergedError: the training loss became NaN or infinite (``nan_policy="raise"``).

    Introduced in ``notebooks/00_start_here.ipynb``.
    """
    check_module("model", model)
    x_train, y_train, x_val, y_val = _unpack(data)
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    if max_steps is not None:
        max_steps = check_int("max_steps", max_steps, minimum=1)
    if isinstance(callbacks, Callback):
        raise TypeError(f"callbacks must be a list of Callback objects; got a single {type(callbacks).__name__}: "
                        f"pass callbacks=[...] around it")
    callbacks = check_sequence("callbacks", callbacks, "[ck.plots.LivePlot()]")
    for i, cb in enumerate(callbacks):
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks[{i}] must be a coursekit.train.Callback; got {type(cb).__name__}")
    progress = check_bool("progress", progress)
    if not isinstance(label, str):
        raise TypeError(f"label must be a string; got {type(label).__name__} {label!r}")
    nan_policy = check_choice("nan_policy", nan_policy, NAN_POLICIES)
    loss_fn, kind = _loss_fn(loss)
    y_train, y_val, label_max, label_name = check_data(model, kind, x_train, y_train, x_val, y_val,
                                                         _data_names(data))
    n_train = x_train.shape[0]
    drop_last = False
    if _has_batchnorm1d(model) and x_train.dim() == 2:
        if min(batch_size, n_train) < 2:
            raise ValueError(f"a model with BatchNorm1d layers needs at least 2 examples per batch in training "
                             f"mode; got batch_size={batch_size} and {n_train} training examples")
        drop_last = n_train % batch_size == 1  # a last batch of one example would fail: leave it out
    dev = pick_device(device) if device is not None else model_device(model)
    model.to(dev)
    opt = build_optimizer(optimizer, model.parameters(), lr, default_lr=1e-3)
    x_train, y_train = x_train.to(dev), y_train.to(dev)
    has_val = x_val is not None and y_val is not None and len(y_val) > 0
    if has_val:
        x_val, y_val = x_val.to(dev), y_val.to(dev)

    history = History(label=label, steps_per_epoch=n_train // batch_size if drop_last else -(-n_train // batch_size))
    watch = nan_policy != "continue"
    gen = torch.Generator().manual_seed(seed)
    step_losses: list[torch.Tensor] = []
    step = 0
    start = time.perf_counter()
    epoch_iter: Iterable[int] = range(1, epochs + 1)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(epoch_iter, desc=label or "epochs", unit="epoch")
        epoch_iter = bar
    for cb in callbacks:
        cb.on_fit_start(model)
    try:
        for ep in epoch_iter:
            model.train()
            epoch_losses: list[torch.Tensor] = []
            correct = torch.zeros((), dtype=torch.long, device=dev)
            seen = 0
            acc_ok = True
            ep_step = 0
            for xb, yb in batches(x_train, y_train, batch_size, shuffle=True, generator=gen, drop_last=drop_last):
                if step == 0:
                    try:
                        out = model(xb)
                    except RuntimeError as exc:
                        raise RuntimeError(f"the model failed on the first batch of x_train (shape "
                                           f"{tuple(xb.shape)}, {xb.dtype}): {exc}") from exc
                    check_output(out, label_name, yb, kind, label_max)
                else:
                    out = model(xb)
                batch_loss = loss_fn(out, yb)
                if kind == "custom":
                    check_loss_value(batch_loss)
                detached = batch_loss.detach()
                bad = watch and not bool(torch.isfinite(detached).all())
                if not bad:
                    opt.zero_grad(set_to_none=True)
                    batch_loss.backward()
                    opt.step()
                epoch_losses.append(detached * xb.shape[0])
                with torch.no_grad():
                    c = _n_correct(out, yb, kind)
                if c is None:
                    acc_ok = False
                else:
                    correct += c
                seen += xb.shape[0]
                step += 1
                ep_step += 1
                step_losses.append(detached)
                if bad:
                    history.diverged_step = step
                    if nan_policy == "raise":
                        raise DivergedError(_diverged_message(float(detached), ep, ep_step, step, opt),
                                            epoch=ep, step=step, loss=float(detached), history=history)
                    break  # "stop": the model keeps the weights from before this step
                for cb in callbacks:
                    cb.on_step_end(step, detached)
                if max_steps is not None and step >= max_steps:
                    break
            history.epoch.append(ep)
            history.train_loss.append(float(torch.stack(epoch_losses).sum()) / seen)
            history.train_acc.append(int(correct) / seen if acc_ok else float("nan"))
            if has_val:
                vl, va = evaluate(model, x_val, y_val, loss=loss if kind != "custom" else loss_fn)
                history.val_loss.append(vl)
                history.val_acc.append(va)
            if bar is not None:
                post = {"loss": f"{history.train_loss[-1]:.3f}"}
                if has_val:
                    post["val_acc"] = f"{history.val_acc[-1]:.3f}"
                bar.set_postfix(post)
            for cb in callbacks:
                cb.on_epoch_end(ep, history)
            if (max_steps is not None and step >= max_steps) or history.diverged_step is not None:
                break
    finally:
        if bar is not None:
            bar.close()
        history.step_loss = torch.stack(step_losses).float().cpu().numpy() if step_losses else np.zeros(0)
        history.wall_time = time.perf_counter() - start
        if history.diverged_step is None:  # "continue" does not watch each step: find it afterwards
            bad_steps = np.flatnonzero(~np.isfinite(history.step_loss))
            history.diverged_step = int(bad_steps[0]) + 1 if bad_steps.size else None
    for cb in callbacks:
        cb.on_fit_end(history)
    return history


def _diverged_message(loss: float, epoch: int, ep_step: int, step: int, opt: torch.optim.Optimizer) -> str:
    rate = opt.param_groups[0].get("lr") if opt.param_groups else None
    rate_text = f"{type(opt).__name__} with lr={rate:g}" if isinstance(rate, (int, float)) else type(opt).__name__
    return (f"the training loss became {loss} at epoch {epoch}, step {ep_step} of that epoch (step {step} of the "
            f"run); that step was not applied. Likely causes: a learning rate too high ({rate_text}: try one 10x "
            f"smaller), initial weights too large (e.g. N(0, 1) with ReLU: use He or Xavier initialization), or "
            f"inputs and targets the model or the loss cannot handle (values far too large, a log of 0). "
            f"Pass nan_policy='stop' to end training there and keep the history, or nan_policy='continue' "
            f"to train on regardless.")
