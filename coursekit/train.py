"""Training and evaluation: one small, readable loop used by every notebook.

Introduced in ``notebooks/00_start_here.ipynb``.

``fit`` does what the original labs did by hand (``model.train()``, zero_grad,
forward, loss, backward, step; ``model.eval()`` and ``torch.no_grad()`` to
measure) and records what the notebooks plot. Callbacks let the diagnostics of
later notebooks watch each step without changing the loop.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn

from ._checks import check_choice, check_device, check_int, check_module, check_same_length, check_tensor
from ._fit_checks import check_fit, check_loss_value, check_output, check_targets
from ._i18n import _
from .data import batches
from .optim import build_optimizer

__all__ = ["fit", "evaluate", "History", "Callback", "DivergedError", "LOSSES", "LOSS_FUNCTIONS", "NAN_POLICIES",
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
        train_loss, train_acc: mean minibatch loss / accuracy over each epoch,
            measured in training mode while the weights change, as the original
            labs' ``avg_cost``: with dropout on (a network with dropout is scored
            with units dropped) and batch norm on each batch's statistics. Not the
            accuracy of the trained network on its training set: for that, use
            ``evaluate(model, x_train, y_train)`` after training or
            ``fit(..., eval_train=True)`` per epoch, both in eval mode.
        eval_train_loss, eval_train_acc: loss / accuracy on the whole training
            split after each epoch, in eval mode (only with ``fit(..., eval_train=True)``;
            empty lists otherwise). Compare these with ``val_acc`` to measure a gap.
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
    eval_train_loss: list[float] = field(default_factory=list)
    eval_train_acc: list[float] = field(default_factory=list)
    steps_per_epoch: int = 0
    wall_time: float = 0.0
    label: str = ""
    diverged_step: int | None = None

    @property
    def final_val_acc(self) -> float:
        """Validation accuracy after the last epoch (NaN without validation data)."""
        return self.val_acc[-1] if self.val_acc else float("nan")

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
    return check_device("device", device)


#: The loss functions ``fit(loss=...)`` knows by name: ``(model output, targets) -> mean loss``.
LOSS_FUNCTIONS: dict[str, Callable] = {
    "cross_entropy": nn.functional.cross_entropy,
    "bce_with_logits": lambda out, y: nn.functional.binary_cross_entropy_with_logits(out, y.to(out.dtype)),
    "bce": lambda out, y: nn.functional.binary_cross_entropy(out, y.to(out.dtype)),
    "mse": lambda out, y: nn.functional.mse_loss(out, y.to(out.dtype)),
}


def _predictions(out: torch.Tensor, y: torch.Tensor, kind: str) -> torch.Tensor | None:
    """What the model predicts for each example, in the targets' terms; None where accuracy means nothing."""
    if kind in ("cross_entropy", "custom") and out.dim() == 2 and y.dim() == 1 and not y.is_floating_point():
        return out.argmax(1)
    if kind in ("bce_with_logits", "bce"):
        return out > (0 if kind == "bce_with_logits" else 0.5)
    return None


def _n_correct(pred: torch.Tensor, y: torch.Tensor, kind: str) -> int:
    """How many of :func:`_predictions`' ``pred`` match ``y`` (every output of an example, for "bce")."""
    if kind in ("cross_entropy", "custom"):
        return int((pred == y).sum())
    hit = pred.to(y.dtype) == y
    return int((hit.all(dim=-1) if hit.dim() > 1 else hit).sum())


def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss: str | Callable = "cross_entropy",
    batch_size: int = 4096,
) -> tuple[float, float]:
    """Loss and accuracy of ``model`` on ``(x, y)``, in eval mode and without gradients.

    The model's previous mode (train or eval) is restored afterwards. Accuracy is
    NaN for losses where it has no meaning (e.g. "mse"). This is the honest
    "accuracy on the training set": ``evaluate(model, data.x_train, data.y_train)``
    measures the trained network as it is used (dropout off, batch norm with its
    running statistics), unlike ``History.train_acc``, the mean over the epoch's
    minibatches in training mode.

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
    check_same_length(("x", "y"), x, y)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    kind = "custom" if callable(loss) else check_choice("loss", loss, LOSSES)
    fn = loss if callable(loss) else LOSS_FUNCTIONS[kind]
    y, label_max = check_targets("y", y, kind)
    return _evaluate(model, x, y, fn, kind, batch_size, model_device(model),
                     check_first=lambda out, yb: check_output(out, "y", yb, kind, label_max))


def _evaluate(model, x, y, fn, kind, batch_size=4096, device=None, check_first=None) -> tuple[float, float]:
    """:func:`evaluate` on inputs already checked (fit's validation pass trusts them)."""
    was_training = model.training
    model.eval()
    total, correct, n = 0.0, 0, x.shape[0]
    try:
        with torch.no_grad():
            for start in range(0, n, batch_size):
                xb, yb = x[start:start + batch_size], y[start:start + batch_size]
                if device is not None:
                    xb, yb = xb.to(device), yb.to(device)
                out = model(xb)
                if start == 0 and check_first is not None:
                    check_first(out, yb)
                total += float(fn(out, yb)) * xb.shape[0]
                pred = _predictions(out, yb, kind)
                correct = None if pred is None or correct is None else correct + _n_correct(pred, yb, kind)
    finally:
        model.train(was_training)
    return total / n, (correct / n if correct is not None else float("nan"))


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
    eval_train: bool = False,
) -> History:
    """Train ``model`` with minibatch gradient descent and return its :class:`History`.

    Each epoch: ``model.train()``, shuffled minibatches (seeded by ``seed``), one
    optimizer step per batch; then ``model.eval()`` and the validation loss and
    accuracy without gradients. Training runs where the model is, unless
    ``device`` says otherwise. The loop below is the whole algorithm; the
    bookkeeping (losses, accuracy, NaN policy, callbacks, progress bar) is in
    ``_Log`` beside it, and the checks of the arguments in
    :func:`coursekit._fit_checks.check_fit`.

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
        eval_train: after each epoch, also measure loss and accuracy on the whole
            training split in eval mode (``history.eval_train_loss``,
            ``history.eval_train_acc``): the honest training accuracy of a model
            with dropout or batch norm, at the price of one more pass per epoch.

    Returns:
        A :class:`History`.

    Raises:
        DivergedError: the training loss became NaN or infinite (``nan_policy="raise"``).

    Introduced in ``notebooks/00_start_here.ipynb``.
    """
    plan = check_fit(model, data, loss=loss, losses=LOSS_FUNCTIONS, epochs=epochs, batch_size=batch_size,
                     seed=seed, device=device, callbacks=callbacks, callback_type=Callback, progress=progress,
                     label=label, max_steps=max_steps, nan_policy=nan_policy, nan_policies=NAN_POLICIES,
                     eval_train=eval_train, model_device=model_device)
    model.to(plan.device)
    opt = build_optimizer(optimizer, model.parameters(), lr, default_lr=1e-3)
    x, y = plan.x_train.to(plan.device), plan.y_train.to(plan.device)
    order = torch.Generator().manual_seed(seed)  # the minibatch order, and nothing else
    log = _Log(model, opt, plan, History(label=label, steps_per_epoch=plan.steps_per_epoch),
               nan_policy=nan_policy, max_steps=max_steps)
    try:
        for epoch in log.epochs(epochs, progress):
            model.train()
            for xb, yb in batches(x, y, batch_size, shuffle=True, generator=order, drop_last=plan.drop_last):
                out = model(xb)
                if log.steps == 0:
                    plan.check_first_batch(out, yb)   # the output against the targets, before the first loss
                batch_loss = plan.loss_fn(out, yb)
                if log.record(batch_loss, out, yb):   # True: NaN or infinite (see nan_policy): skip the step
                    break
                opt.zero_grad(set_to_none=True)
                batch_loss.backward()
                opt.step()
                if log.after_step(batch_loss):        # callbacks; True once max_steps are done
                    break
            if log.end_epoch(epoch, eval_train, x, y):  # validation pass, epoch means; True: stop training
                break
    except RuntimeError as exc:
        if log.steps == 0:
            shape = (min(batch_size, x.shape[0]), *x.shape[1:])
            raise RuntimeError(_("training failed on the first batch of {name} (shape {shape}, {dtype}): {error}").format(
                name=plan.x_name, shape=shape, dtype=x.dtype, error=exc)) from exc
        raise
    finally:
        log.close()
    return log.finish()


class _Log:
    """fit's bookkeeping, apart from its loop: what is recorded per step and per epoch, and when to stop.

    Per step it keeps Python numbers and the batch's predictions (one ``loss.item()``
    a step, as a hand-written loop does); the epoch's mean loss and accuracy are
    computed from them once per epoch.
    """

    def __init__(self, model, opt, plan, history: History, *, nan_policy: str, max_steps: int | None) -> None:
        self.model, self.opt, self.plan, self.history = model, opt, plan, history
        self.nan_policy, self.max_steps = nan_policy, max_steps
        self.callbacks = plan.callbacks
        self.x_val = plan.x_val.to(plan.device) if plan.x_val is not None else None
        self.y_val = plan.y_val.to(plan.device) if plan.y_val is not None else None
        self.steps = 0
        self.step_losses: list[float] = []
        self.loss_dtype = torch.float32
        self.bar = None
        self.start = time.perf_counter()
        self._new_epoch()

    def _new_epoch(self) -> None:
        self.losses: list[float] = []
        self.sizes: list[int] = []
        self.preds: list[torch.Tensor] | None = []
        self.targets: list[torch.Tensor] = []

    def epochs(self, epochs: int, progress: bool) -> Iterable[int]:
        for cb in self.callbacks:
            cb.on_fit_start(self.model)
        if not progress:
            return range(1, epochs + 1)
        from tqdm.auto import tqdm

        self.bar = tqdm(range(1, epochs + 1), desc=self.history.label or "epochs", unit="epoch")
        return self.bar

    def record(self, batch_loss: torch.Tensor, out: torch.Tensor, yb: torch.Tensor) -> bool:
        """Count the step and keep its loss and predictions; True if its loss is NaN or infinite."""
        if self.steps == 0 and self.plan.kind == "custom":
            check_loss_value(batch_loss)
        value = batch_loss.item()
        self.loss_dtype = batch_loss.dtype
        self.steps += 1
        self.step_losses.append(value)
        self.losses.append(value)
        self.sizes.append(yb.shape[0])
        if self.preds is not None:
            pred = _predictions(out, yb, self.plan.kind)
            if pred is None:
                self.preds = None
            else:
                self.preds.append(pred)
                self.targets.append(yb)
        if math.isfinite(value) or self.nan_policy == "continue":
            return False
        self.history.diverged_step = self.steps
        if self.nan_policy == "raise":
            epoch = len(self.history.epoch) + 1
            raise DivergedError(_diverged_message(value, epoch, len(self.losses), self.steps, self.opt),
                                epoch=epoch, step=self.steps, loss=value, history=self.history)
        return True  # "stop": the model keeps the weights from before this step

    def after_step(self, batch_loss: torch.Tensor) -> bool:
        if self.callbacks:
            detached = batch_loss.detach()
            for cb in self.callbacks:
                cb.on_step_end(self.steps, detached)
        return self.max_steps is not None and self.steps >= self.max_steps

    def end_epoch(self, epoch: int, eval_train: bool, x: torch.Tensor, y: torch.Tensor) -> bool:
        """Append the epoch's means and the validation pass to the History; True when training must stop."""
        h, plan = self.history, self.plan
        seen = sum(self.sizes)
        losses = torch.tensor(self.losses, dtype=self.loss_dtype) * torch.tensor(self.sizes, dtype=self.loss_dtype)
        h.epoch.append(epoch)
        h.train_loss.append(float(losses.sum()) / seen)
        h.train_acc.append(float("nan") if self.preds is None else
                           _n_correct(torch.cat(self.preds), torch.cat(self.targets), plan.kind) / seen)
        self._new_epoch()
        if self.x_val is not None:
            vl, va = _evaluate(self.model, self.x_val, self.y_val, plan.loss_fn, plan.kind)
            h.val_loss.append(vl)
            h.val_acc.append(va)
        if eval_train:
            tl, ta = _evaluate(self.model, x, y, plan.loss_fn, plan.kind)
            h.eval_train_loss.append(tl)
            h.eval_train_acc.append(ta)
        if self.bar is not None:
            post = {"loss": f"{h.train_loss[-1]:.3f}"}
            if h.val_acc:
                post["val_acc"] = f"{h.val_acc[-1]:.3f}"
            self.bar.set_postfix(post)
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, h)
        return (self.max_steps is not None and self.steps >= self.max_steps) or h.diverged_step is not None

    def close(self) -> None:
        """Fill in the History (also when training raised): per-step losses, wall time, first bad step."""
        h = self.history
        if self.bar is not None:
            self.bar.close()
        h.step_loss = np.asarray(self.step_losses, dtype=np.float32)
        h.wall_time = time.perf_counter() - self.start
        if h.diverged_step is None:  # "continue" does not watch each step: find it afterwards
            bad_steps = np.flatnonzero(~np.isfinite(h.step_loss))
            h.diverged_step = int(bad_steps[0]) + 1 if bad_steps.size else None

    def finish(self) -> History:
        for cb in self.callbacks:
            cb.on_fit_end(self.history)
        return self.history


def _diverged_message(loss: float, epoch: int, ep_step: int, step: int, opt: torch.optim.Optimizer) -> str:
    where = _("the training loss became {loss} at epoch {epoch}, step {ep_step} of that epoch (step {step} of the "
              "run); that step was not applied.").format(loss=loss, epoch=epoch, ep_step=ep_step, step=step)
    policies = _("Pass nan_policy='stop' to end training there and keep the history, or nan_policy='continue' "
                 "to train on regardless.")
    if step == 1:  # no update has been made yet: the learning rate cannot be the cause
        causes = _("No update had been made yet, so the learning rate is not the cause. Likely causes: initial "
                   "weights too large (e.g. N(0, 1) with ReLU in a deep net: use He or Xavier initialization), inputs "
                   "on a large scale (pixels in 0..255: divide by 255; standardize the features), or targets the loss "
                   "cannot handle (a log of 0 with loss='bce').")
        return f"{where} {causes} {policies}"
    rate = opt.param_groups[0].get("lr") if opt.param_groups else None
    if isinstance(rate, (int, float)):
        rate_text = _("{optimizer} with lr={lr}").format(optimizer=type(opt).__name__, lr=f"{rate:g}")
    else:
        rate_text = type(opt).__name__
    causes = _("Likely causes: a learning rate too high ({rate}: try one 10x smaller), initial weights too large "
               "(e.g. N(0, 1) with ReLU: use He or Xavier initialization), or inputs and targets the model or the "
               "loss cannot handle (values far too large, a log of 0).").format(rate=rate_text)
    return f"{where} {causes} {policies}"
