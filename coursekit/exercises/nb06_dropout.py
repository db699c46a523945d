"""Exercises of ``notebooks/06_dropout.ipynb``: inverted_dropout, dropout_forward, mc_dropout_probs.

SPOILERS: the reference solutions. Each ``_register(Exercise(...))`` below is one
exercise (signature, instructions, reference, seeded cases, known mistakes with
their hints); a new exercise for this notebook is one more such entry.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import torch

from .._i18n import N_, _
from .compare import _tensor_answer, _to_tensor, _type_name
from .engine import _gen, _rand, _randn, _register
from .pieces import Case, Exercise, Failure, Mistake

# =========================================================================== 06 dropout


def _inverted_dropout(x, p, mask):
    if p >= 1.0:
        return torch.zeros_like(x)
    return x * mask / (1.0 - p)


def _mask_case(seed: int, shape: tuple[int, ...], p: float) -> Callable[[], dict[str, Any]]:
    def make() -> dict[str, Any]:
        return {"x": _randn(seed, *shape), "p": p, "mask": (_rand(seed + 1, *shape) >= p).to(torch.float64)}
    return make


_register(Exercise(
    name="inverted_dropout",
    notebook="06_dropout.ipynb",
    signature="def inverted_dropout(x, p, mask):",
    instructions=N_("Training-mode inverted dropout with a given mask: mask has x's shape, 1.0 where a unit is kept "
                  "and 0.0 where it is dropped; p is the probability of dropping. Return x * mask scaled by "
                  "1 / (1 - p), so that every unit keeps its expected value; with p = 1 return zeros."),
    reference=_inverted_dropout,
    cases=(
        Case(N_("p = 0.5 on a vector"), _mask_case(101, (10,), 0.5)),
        Case(N_("p = 0.2 on a batch"), _mask_case(102, (4, 6), 0.2)),
        Case(N_("p = 0: nothing dropped"), _mask_case(103, (5,), 0.0)),
        Case(N_("p = 0.8 on a batch"), _mask_case(104, (3, 5), 0.8)),
        Case(N_("p = 1: everything dropped"), _mask_case(105, (6,), 1.0)),
    ),
    mistakes=(
        Mistake(N_("missing 1/(1 - p) scale: inverted dropout scales the kept units up during training, so the "
                "expected value stays x and eval mode needs no change."),
                fn=lambda x, p, mask: x * mask),
        Mistake(N_("multiply the kept units by 1 / (1 - p), not by (1 - p) (scaling down is what the original "
                "dropout did at test time)."),
                fn=lambda x, p, mask: x * mask * (1 - p)),
        Mistake(N_("divide by the *keep* probability 1 - p, not by p: PyTorch's p is the probability of dropping."),
                fn=lambda x, p, mask: x * mask / p),
        Mistake(N_("mask is 1.0 for the units to keep: multiply by mask, not by 1 - mask."),
                fn=lambda x, p, mask: x * (1 - mask) / (1 - p)),
        Mistake(N_("with p = 1 every unit is dropped: return zeros (dividing by 1 - p = 0 gives nan)."),
                test=lambda args, expected, got: args["p"] >= 1.0 and torch.isnan(torch.as_tensor(got)).any()),
    ),
    hint=N_("output = x * mask / (1 - p): dropped units are 0, kept ones are scaled up by 1 / (1 - p)."),
))


def _dropout(x, p, training, generator=None):
    if not training or p == 0.0:
        return x
    if p >= 1.0:
        return torch.zeros_like(x)
    mask = (torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p).to(x.dtype)
    return x * mask / (1.0 - p)


def _dropout_case(seed: int, p: float, training: bool, shape: tuple[int, int] = (200, 500)):
    def make() -> dict[str, Any]:
        return {"x": _rand(seed, *shape) + 0.5, "p": p, "training": training, "generator": _gen(seed + 1)}
    return make


def _verify_dropout(args: dict[str, Any], got: Any, rerun: Callable[[], Any]) -> Failure | None:
    x, p, training = args["x"], args["p"], args["training"]
    if got is None:
        return Failure(_("expected a tensor, got None (your function returned nothing)"),
                       _("did you forget the `return` line?"))
    g = _to_tensor(got)
    if g is None or tuple(g.shape) != tuple(x.shape):
        return Failure(_("expected a tensor of x's shape {shape}, got {got}").format(shape=tuple(x.shape),
                                                                                   got=_type_name(got)))
    g = g.to(torch.float64)
    if not training:
        if torch.allclose(g, x, rtol=1e-6, atol=1e-9):
            return None
        if torch.allclose(g, x * (1 - p), rtol=1e-6, atol=1e-9):
            return Failure(_("expected x unchanged in eval mode, got x * (1 - p)"),
                           _("inverted dropout already scaled during training: in eval mode return x as it is."))
        return Failure(_("expected x unchanged in eval mode, got something else"),
                       _("in eval mode (training=False) dropout does nothing: return x."))
    dropped = g == 0
    rate = float(dropped.double().mean())
    kept = ~dropped
    if p >= 1.0:
        if bool(dropped.all()):
            return None
        return Failure(_("expected every unit dropped with p = 1, got {rate} dropped").format(rate=f"{rate:.3f}"),
                       _("with p = 1 return zeros (and never divide by 1 - p = 0)."))
    if abs(rate - p) > 0.02:
        if p > 0 and abs(rate - (1 - p)) <= 0.02:
            hint = _("p is the probability of *dropping* a unit: keep it where torch.rand(...) >= p.")
        elif rate == 0.0:
            hint = _("in training mode, drop each unit with probability p (draw a random mask).")
        else:
            hint = _("drop each unit independently with probability p: "
                     "mask = torch.rand(x.shape, generator=generator) >= p.")
        return Failure(_("expected a fraction of about {p} of the units dropped, got {rate}").format(
            p=f"{p:.2f}", rate=f"{rate:.3f}"), hint)
    scale = g[kept] / x[kept]
    if not torch.allclose(scale, torch.full_like(scale, 1.0 / (1.0 - p)), rtol=1e-5):
        s = float(scale.median())
        if abs(s - 1.0) < 1e-6:
            hint = _("missing 1/(1 - p) scale: kept units must be scaled up by 1 / (1 - p) in training.")
        elif abs(s - (1 - p)) < 1e-6:
            hint = _("multiply the kept units by 1 / (1 - p), not by (1 - p).")
        elif p > 0 and abs(s - 1.0 / p) < 1e-6:
            hint = _("divide by the keep probability 1 - p, not by p.")
        else:
            hint = _("a kept unit must come out as x / (1 - p).")
        return Failure(_("expected kept units scaled by {scale}, got a typical scale of {got}").format(
            scale=f"{1 / (1 - p):.4g}", got=f"{s:.4g}"), hint)
    again = _to_tensor(rerun())
    if again is None or tuple(again.shape) != tuple(g.shape) or not torch.equal(again.to(torch.float64), g):
        return Failure(_("expected the same mask from two generators seeded alike, got two different masks"),
                       _("draw the random numbers from the generator passed in: "
                         "torch.rand(x.shape, generator=generator), so a seed gives the same mask every time."))
    return None


_register(Exercise(
    name="dropout_forward",
    notebook="06_dropout.ipynb",
    signature="def dropout_forward(x, p, training, generator=None):",
    instructions=N_("Inverted dropout in both modes. training=True: drop each entry with probability p, using "
                  "torch.rand(x.shape, generator=generator) for the random numbers, and scale the kept ones by "
                  "1 / (1 - p) (zeros if p = 1). training=False: return x unchanged."),
    reference=_dropout,
    cases=(
        Case(N_("eval mode, p = 0.5"), _dropout_case(111, 0.5, False, (6, 7))),
        Case(N_("training, p = 0.3, 100,000 units"), _dropout_case(112, 0.3, True), verify=_tensor_answer(_verify_dropout)),
        Case(N_("training, p = 0.8"), _dropout_case(113, 0.8, True), verify=_tensor_answer(_verify_dropout)),
        Case(N_("training, p = 0"), _dropout_case(114, 0.0, True, (5, 4))),
        Case(N_("training, p = 1"), _dropout_case(115, 1.0, True, (3, 4)), verify=_tensor_answer(_verify_dropout)),
    ),
    mistakes=(
        Mistake(N_("in eval mode (training=False) dropout does nothing: return x unchanged."),
                test=lambda args, expected, got: not args["training"]),
        Mistake(N_("with p = 0 nothing is dropped: return x (scale 1 / (1 - 0) = 1)."),
                test=lambda args, expected, got: args["p"] == 0.0),
    ),
    hint=N_("training: mask = torch.rand(x.shape, generator=generator) >= p; return x * mask / (1 - p). "
         "Eval: return x."),
))


# ------------------------------------------------------------------ Monte Carlo dropout (a small experiment)


def _mc_dropout_probs(model, x, n_samples):
    model.eval()
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.train()
    with torch.no_grad():
        probs = torch.stack([torch.softmax(model(x), dim=1) for _ in range(n_samples)]).mean(dim=0)
    model.eval()
    return probs


def _mc_all_train(model, x, n_samples):  # model.train(): batch norm switches to batch statistics too
    model.train()
    with torch.no_grad():
        probs = torch.stack([torch.softmax(model(x), dim=1) for _ in range(n_samples)]).mean(dim=0)
    model.eval()
    return probs


def _mc_forgot_train(model, x, n_samples):
    model.eval()
    with torch.no_grad():
        return torch.stack([torch.softmax(model(x), dim=1) for _ in range(n_samples)]).mean(dim=0)


def _mc_mean_logits(model, x, n_samples):
    model.eval()
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.train()
    with torch.no_grad():
        logits = torch.stack([model(x) for _ in range(n_samples)]).mean(dim=0)
    model.eval()
    return torch.softmax(logits, dim=1)


def _mc_net(seed: int, p: float, batchnorm: bool = False, n_in: int = 5, hidden: int = 16, n_out: int = 3):
    torch.manual_seed(seed)
    layers: list[torch.nn.Module] = [torch.nn.Linear(n_in, hidden)]
    if batchnorm:
        layers.append(torch.nn.BatchNorm1d(hidden))
    layers += [torch.nn.ReLU(), torch.nn.Dropout(p), torch.nn.Linear(hidden, n_out)]
    net = torch.nn.Sequential(*layers).double()
    with torch.no_grad():
        for layer in net:
            if isinstance(layer, torch.nn.Linear):
                layer.weight.mul_(3.0)   # confident logits: the thinned networks disagree visibly
        if batchnorm:  # running statistics far from any batch's: batch statistics would change the answer
            net[1].running_mean.fill_(2.0)
            net[1].running_var.fill_(4.0)
    return net.eval()


_HINT_TRAIN = N_("switch the dropout layers to training mode before the passes (m.train() for every m that is a "
               "torch.nn.Dropout), so each pass draws a fresh mask.")
_HINT_BN = N_("switch on only the dropout layers: model.train() also switches batch norm to the statistics of the "
              "batch.")
_HINT_LOGITS = N_("apply softmax to each pass, then average: averaging the logits first is a different (geometric) "
                  "mean.")


def _mc_case(seed: int, p: float, n_samples: int = 400, batchnorm: bool = False, batch: int = 8):
    def make() -> dict[str, Any]:
        return {"model": _mc_net(seed, p, batchnorm), "x": _randn(seed + 1, batch, 5), "n_samples": n_samples}
    return make


def _close(a: torch.Tensor, b: torch.Tensor, tol: float) -> bool:
    return tuple(a.shape) == tuple(b.shape) and float((a - b).abs().max()) < tol


def _verify_mc(args: dict[str, Any], got: Any, rerun: Callable[[], Any]) -> Failure | None:
    model, x, n = args["model"], args["x"], args["n_samples"]
    if got is None:
        return Failure(_("expected a tensor of probabilities, got None (your function returned nothing)"),
                       _("did you forget the `return` line?"))
    g = _to_tensor(got)
    n_classes = model[-1].out_features
    if g is None or tuple(g.shape) != (len(x), n_classes):
        return Failure(_("expected a tensor of shape {shape}, got {got}").format(shape=(len(x), n_classes),
                                                                              got=_type_name(got)),
                       _("average over the samples (dim=0 of the stacked passes), one row of probabilities per "
                         "example."))
    g = g.detach().to(torch.float64)
    with torch.no_grad():
        eval_probs = torch.softmax(model.eval()(x), dim=1)
    if not torch.allclose(g.sum(1), torch.ones(len(x), dtype=torch.float64), atol=1e-6):
        return Failure(_("expected rows of probabilities that sum to 1, got rows that do not"),
                       _("apply softmax to each pass's logits, then average the probabilities."))
    has_dropout = any(isinstance(m, torch.nn.Dropout) and m.p > 0 for m in model.modules())
    torch.manual_seed(12345)
    truth = _mc_dropout_probs(model, x, 1000)   # many samples: the average the learner's estimate should be near
    tol = 0.02 if not has_dropout else 4.0 / math.sqrt(n) * 0.5 + 0.03
    if not has_dropout:
        if torch.allclose(g, eval_probs, atol=1e-6):
            return None
        return Failure(_("expected the eval-mode probabilities (this model has no dropout to sample), got others"),
                       _("with no dropout every pass is the same: the average is softmax(model(x)) in eval mode."))
    if torch.allclose(g, eval_probs, atol=1e-9):
        return Failure(_("expected an average over random thinned networks, got the full network's probabilities"),
                       _(_HINT_TRAIN))
    if _close(g, truth, tol):
        return None
    if any(isinstance(m, torch.nn.BatchNorm1d) for m in model.modules()):
        torch.manual_seed(12345)
        if _close(g, _mc_all_train(model, x, 1000), tol):
            return Failure(_("expected batch norm to keep its running statistics, got the batch statistics' "
                             "answer"), _(_HINT_BN))
    torch.manual_seed(12345)
    if _close(g, _mc_mean_logits(model, x, 1000), tol):
        return Failure(_("expected the average of the probabilities, got the softmax of the average logits"),
                       _(_HINT_LOGITS))
    return Failure(_("expected probabilities within {tol} of the average over many thinned networks, got a largest "
                     "difference of {difference}").format(tol=f"{tol:.2f}",
                                                          difference=f"{float((g - truth).abs().max()):.2f}"),
                   _("run n_samples = {n} forward passes with dropout on and average their softmax probabilities."
                     ).format(n=n))


_register(Exercise(
    name="mc_dropout_probs",
    notebook="06_dropout.ipynb",
    signature="def mc_dropout_probs(model, x, n_samples):",
    instructions=N_("Monte Carlo dropout: switch on only the dropout layers (m.train() for every m in model.modules() "
                  "that is a torch.nn.Dropout; model.train() would also switch batch norm to batch statistics), run "
                  "n_samples forward passes of x without gradients, average the softmax probabilities, put the model "
                  "back in eval mode and return the average, shape (batch, classes)."),
    reference=_mc_dropout_probs,
    cases=(
        Case(N_("dropout 0.5, 400 samples"), _mc_case(131, 0.5), verify=_tensor_answer(_verify_mc)),
        Case(N_("dropout 0.2, 400 samples"), _mc_case(132, 0.2), verify=_tensor_answer(_verify_mc)),
        Case(N_("no dropout (p = 0): every pass is the same"), _mc_case(133, 0.0, n_samples=3), verify=_tensor_answer(_verify_mc)),
        Case(N_("a network with batch norm, dropout 0.5"), _mc_case(134, 0.5, batchnorm=True), verify=_tensor_answer(_verify_mc)),
        Case(N_("one example"), _mc_case(135, 0.5, batch=1), verify=_tensor_answer(_verify_mc)),
    ),
    outputs=("probs",),
    mistakes=(
        Mistake(_HINT_TRAIN, fn=_mc_forgot_train),
        Mistake(_HINT_BN, fn=_mc_all_train),
        Mistake(_HINT_LOGITS, fn=_mc_mean_logits),
    ),
    hint=N_("for m in model.modules(): if isinstance(m, torch.nn.Dropout): m.train(); then average "
         "torch.softmax(model(x), dim=1) over n_samples passes under torch.no_grad(), and call model.eval()."),
))
