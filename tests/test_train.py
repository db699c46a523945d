"""coursekit.train: fit and evaluate against a hand-written loop, modes, callbacks, bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from coursekit.data import batches
from coursekit.models import mlp
from coursekit.optim import make_optimizer
from coursekit.train import Callback, DivergedError, History, evaluate, fit, pick_device


def test_fit_matches_a_hand_written_loop_step_for_step(digits):
    a = mlp([64, 32, 10], seed=0)
    b = mlp([64, 32, 10], seed=0)
    hist = fit(a, digits, optimizer="sgd", lr=0.1, epochs=2, batch_size=50, seed=3, progress=False)
    opt = torch.optim.SGD(b.parameters(), lr=0.1)
    gen = torch.Generator().manual_seed(3)
    losses = []
    for _ in range(2):
        b.train()
        for xb, yb in batches(digits.x_train, digits.y_train, 50, generator=gen):
            loss = nn.functional.cross_entropy(b(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    assert np.allclose(hist.step_loss, losses, atol=1e-6)
    assert all(torch.allclose(p, q, atol=1e-6) for p, q in zip(a.parameters(), b.parameters()))


def test_fit_learns_digits_and_records_everything(digits):
    model = mlp([64, 64, 10], seed=0)
    h = fit(model, digits, epochs=8, lr=3e-3, progress=False, label="mlp")
    assert isinstance(h, History) and h.label == "mlp"
    assert h.epoch == list(range(1, 9)) and len(h.val_acc) == 8 and len(h.train_loss) == 8
    assert len(h.step_loss) == 8 * h.steps_per_epoch == 8 * 11
    assert h.final_val_acc > 0.9 and h.train_loss[-1] < h.train_loss[0]
    assert h.epochs_to(0.5) is not None and h.epochs_to(1.01) is None
    assert h.wall_time > 0
    loss, acc = evaluate(model, digits.x_val, digits.y_val)
    assert acc == pytest.approx(h.val_acc[-1]) and loss == pytest.approx(h.val_loss[-1])
    assert "final val_acc" in repr(h)


class ModeSpy(Callback):
    def __init__(self, model):
        self.model, self.modes, self.epochs = model, [], []

    def on_step_end(self, step, loss):
        self.modes.append(self.model.training)

    def on_epoch_end(self, epoch, history):
        self.epochs.append((epoch, len(history.val_acc)))


def test_fit_trains_in_train_mode_and_measures_in_eval_mode(digits):
    model = mlp([64, 32, 10], dropout=0.5, seed=0)
    spy = ModeSpy(model)
    fit(model, digits, epochs=2, callbacks=[spy], progress=False)
    assert all(spy.modes) and len(spy.modes) == 22
    assert spy.epochs == [(1, 1), (2, 2)]
    # evaluate is deterministic despite dropout (eval mode) and restores the mode
    model.train()
    first = evaluate(model, digits.x_val, digits.y_val)
    assert evaluate(model, digits.x_val, digits.y_val) == first and model.training


def test_fit_accepts_tuples_optimizer_objects_and_factories():
    x = torch.randn(40, 3)
    y = (x[:, 0] > 0).long()
    m = mlp([3, 8, 2], seed=0)
    h = fit(m, (x, y), optimizer=torch.optim.Adam(m.parameters(), 1e-2), epochs=3, batch_size=8, progress=False)
    assert h.val_acc == [] and math.isnan(h.final_val_acc) and len(h.train_acc) == 3
    h2 = fit(m, (x, y, x, y), optimizer=lambda p: torch.optim.SGD(p, lr=0.1), epochs=1, progress=False)
    assert len(h2.val_acc) == 1


def test_fit_binary_loss_and_max_steps():
    x = torch.tensor([[0.0, 0], [0, 1], [1, 0], [1, 1]])
    y = torch.tensor([[0.0], [1], [1], [0]])
    m = mlp([2, 8, 1], activation="tanh", seed=0)
    h = fit(m, (x, y, x, y), optimizer="adam", lr=0.05, epochs=500, batch_size=4,
            loss="bce_with_logits", progress=False, max_steps=300)
    assert len(h.step_loss) == 300 and h.final_val_acc == 1.0


def test_progress_bar_can_be_shown(digits, capsys):
    fit(mlp([64, 10], seed=0), digits, epochs=1, progress=True)
    assert "1/1" in capsys.readouterr().err


def test_make_optimizer_names():
    p = [nn.Parameter(torch.zeros(2))]
    assert isinstance(make_optimizer("adam", p, 1e-3), torch.optim.Adam)
    nag = make_optimizer("nesterov", p, 0.1, momentum=0.8)
    assert nag.defaults["nesterov"] and nag.defaults["momentum"] == 0.8
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'"):
        make_optimizer("adamax", p, 1e-3)
    with pytest.raises(ValueError, match="lr must be > 0"):
        make_optimizer("sgd", p, 0.0)


def test_fit_trains_where_the_model_is_even_when_cuda_is_available(digits, monkeypatch):
    # A GPU machine must print the notebooks' CPU numbers, and a learner's next cell,
    # model(data.x_val), must still work: fit does not move a model on its own.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    model = torch.nn.Sequential(torch.nn.Linear(64, 10))
    fit(model, digits, epochs=1, progress=False)
    assert next(model.parameters()).device.type == "cpu"
    assert model(digits.x_val[:3]).shape == (3, 10)
    assert pick_device().type == "cuda"  # the helper still names the best device for your own code


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_fit_on_cuda_when_asked_matches_the_cpu(digits):
    runs = {}
    for dev in ("cpu", "cuda"):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
        runs[dev] = fit(model, digits, epochs=3, progress=False, device=dev)
        assert next(model.parameters()).device.type == dev  # asked for: moved there, and stays
        assert evaluate(model, digits.x_val, digits.y_val)[1] == pytest.approx(runs[dev].final_val_acc)
    assert runs["cuda"].final_val_acc == pytest.approx(runs["cpu"].final_val_acc, abs=0.02)


def test_pick_device_defaults_and_validates():
    assert pick_device("cpu").type == "cpu"
    assert pick_device().type in ("cpu", "cuda")
    with pytest.raises(ValueError, match="device must be like"):
        pick_device("gpu0")


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"epochs": 0}, ValueError, "epochs must be >= 1"),
    ({"batch_size": 2.5}, TypeError, "batch_size must be an integer"),
    ({"loss": "hinge"}, ValueError, "unknown loss 'hinge'"),
    ({"optimizer": 3}, TypeError, "optimizer must be a name"),
    ({"optimizer": lambda p: "sgd"}, TypeError, "factory must return"),
    ({"callbacks": [print]}, TypeError, "callbacks.0. must be a coursekit.train.Callback"),
])
def test_fit_rejects_bad_arguments(digits, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fit(mlp([64, 10]), digits, progress=False, **kwargs)


def test_fit_rejects_bad_data():
    with pytest.raises(TypeError, match="data must be a coursekit Dataset"):
        fit(mlp([2, 2]), [1, 2, 3], progress=False)
    with pytest.raises(ValueError, match="same, non-zero number"):
        fit(mlp([2, 2]), (torch.zeros(3, 2), torch.zeros(2).long()), progress=False)
    with pytest.raises(ValueError, match="same, non-zero number"):
        evaluate(mlp([2, 2]), torch.zeros(3, 2), torch.zeros(2).long())


def test_liveplot_callback_redraws_in_place(digits, monkeypatch):
    shown = []

    class Handle:
        def update(self, fig):
            shown.append(("update", len(fig.axes)))

    def fake_display(fig, display_id=False):
        shown.append(("display", len(fig.axes)))
        return Handle()

    import IPython.display

    monkeypatch.setattr(IPython.display, "display", fake_display)
    from coursekit.plots import LivePlot

    fit(mlp([64, 10], seed=0), digits, epochs=3, callbacks=[LivePlot()], progress=False)
    assert shown == [("display", 2), ("update", 2), ("update", 2)]


# ----------------------------------------------------------------------------- issue 28's fit cases


def test_a_factory_whose_optimizer_is_over_other_parameters_is_refused(digits):
    other = mlp([64, 10], seed=1)
    model = mlp([64, 10], seed=0)
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(ValueError, match="factory built its optimizer over other parameters.*lambda ps"):
        fit(model, digits, optimizer=lambda ps: torch.optim.SGD(other.parameters(), lr=0.1), epochs=1,
            progress=False)
    assert all(torch.equal(p, q) for p, q in zip(before, model.parameters()))
    # a factory over a subset of the given parameters is fine (e.g. freezing a layer)
    fit(model, digits, optimizer=lambda ps: torch.optim.SGD(list(ps)[:2], lr=0.1), epochs=1, progress=False)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks a PyTorch without CUDA")
def test_cuda_on_a_pytorch_without_cuda_names_the_argument_and_the_fix(digits):
    with pytest.raises(ValueError, match=r"device='cuda'.*available: cpu.*make lab TORCH=cuda"):
        fit(mlp([64, 10]), digits, device="cuda", progress=False)
    with pytest.raises(ValueError, match=r"device='cuda:0'.*make lab TORCH=cuda"):
        pick_device("cuda:0")


def test_divergence_at_the_first_step_does_not_blame_the_learning_rate():
    x = torch.full((20, 4), 3e38)  # inputs on an absurd scale: the very first loss is not finite
    y = torch.zeros(20, dtype=torch.long)
    with pytest.raises(DivergedError, match="step 1 of the run.*learning rate is not the cause.*initial weights") as e:
        fit(mlp([4, 8, 2], seed=0), (x, y), optimizer="sgd", lr=1e-3, epochs=1, progress=False)
    assert "lr=" not in str(e.value) and e.value.step == 1
    with pytest.raises(DivergedError, match=r"step [2-9]\d* of the run.*learning rate too high \(SGD with lr=1e\+30"):
        fit(mlp([64, 16, 10], seed=0), (torch.rand(200, 64), torch.randint(0, 10, (200,))), optimizer="sgd",
            lr=1e30, epochs=3, batch_size=10, progress=False)


# ----------------------------------------------------------------------------- train_acc and the honest measure


def test_eval_train_measures_the_training_split_in_eval_mode(digits):
    small = digits.subset(150, seed=0)
    model = mlp([64, 64, 10], "relu", dropout=0.5, seed=0)
    torch.manual_seed(0)
    h = fit(model, small, lr=3e-3, epochs=4, batch_size=50, eval_train=True, progress=False)
    assert len(h.eval_train_acc) == len(h.eval_train_loss) == 4
    assert h.eval_train_acc[-1] == pytest.approx(evaluate(model, small.x_train, small.y_train)[1])
    # train_acc is the minibatch mean in training mode: dropout drops, so it is not the eval-mode number
    assert h.train_acc != h.eval_train_acc
    assert fit(mlp([64, 10]), small, epochs=1, progress=False).eval_train_acc == []


def test_the_loop_records_what_a_hand_loop_computes(digits):
    # the epoch means are computed from the per-step numbers, once an epoch
    model = mlp([64, 32, 10], "relu", dropout=0.2, seed=0)
    torch.manual_seed(0)
    h = fit(model, (digits.x_train, digits.y_train), optimizer="sgd", lr=0.1, epochs=1, batch_size=64,
            progress=False)
    sizes = [min(64, len(digits.y_train) - i) for i in range(0, len(digits.y_train), 64)]
    assert h.train_loss[0] == pytest.approx(float(np.dot(h.step_loss, sizes)) / sum(sizes), rel=1e-6)
    assert h.step_loss.dtype == np.float32 and len(h.step_loss) == h.steps_per_epoch == len(sizes)
