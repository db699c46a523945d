"""coursekit.rbm_fast, the loop that trains, equals the readable RBM.cd_gradient update it rearranges.

Both sides start from the same RBM and the same seeded generator and visit the
batches in the same order; the readable side is written with ``cd_gradient`` and
the update rule of ``RBM.fit``'s docstring, nothing else.
"""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from coursekit.rbm import RBM
from coursekit.rbm_fast import FastCD, draw_noise

CASES = pytest.mark.parametrize(
    "k, persistent, momentum, weight_decay, sample_visible",
    [(1, False, 0.0, 0.0, True),      # CD-1
     (1, False, 0.0, 0.01, False),    # CD-1, weight decay, visible probabilities
     (3, False, 0.5, 0.01, True),     # CD-k, momentum and weight decay
     (1, True, 0.0, 0.0, True),       # PCD-1
     (3, True, 0.5, 0.01, True),      # PCD-k, momentum and weight decay
     (2, True, 0.9, 0.0, False)],     # PCD-k, momentum, visible probabilities
    ids=["cd1", "cd1-decay-probs", "cd3-momentum-decay", "pcd1", "pcd3-momentum-decay", "pcd2-momentum-probs"],
)


def tiny_rbm(dtype: torch.dtype = torch.float32) -> RBM:
    """A 6-4 RBM with weights large enough that its samples are far from coin flips."""
    rbm = RBM(6, 4, seed=0, dtype=dtype)
    g = torch.Generator().manual_seed(100)
    with torch.no_grad():
        rbm.weight.copy_(torch.randn(4, 6, generator=g) * 0.5)
        rbm.visible_bias.copy_(torch.randn(6, generator=g) * 0.25)
        rbm.hidden_bias.copy_(torch.randn(4, generator=g) * 0.25)
    return rbm


def tiny_data(n: int) -> torch.Tensor:
    """Binary 6-pixel rows: a left or a right bar, 5 % of the pixels flipped."""
    g = torch.Generator().manual_seed(7)
    bars = torch.tensor([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]], dtype=torch.float32)
    rows = bars[torch.randint(0, 2, (n,), generator=g)]
    return (rows + (torch.rand(rows.shape, generator=g) < 0.05).float()) % 2


def readable_epoch(rbm: RBM, x: torch.Tensor, gen: torch.Generator, state: dict, *, batch_size: int, lr: float,
                   k: int, persistent: bool, momentum: float, weight_decay: float, sample_visible: bool,
                   shuffle: bool) -> None:
    """One epoch of RBM.fit's update rule, written with cd_gradient; ``state`` holds velocity and chains."""
    n = x.shape[0]
    n_batches = -(-n // batch_size)
    order = torch.randperm(n, generator=gen) if shuffle else torch.arange(n)
    order = order.repeat(-(-n_batches * batch_size // n))[: n_batches * batch_size]  # top up the last batch
    for t in range(n_batches):
        v = x[order[t * batch_size:(t + 1) * batch_size]]
        grads, chain = rbm.cd_gradient(v, k, chain=state["chain"] if persistent else None,
                                       sample_visible=sample_visible, generator=gen)
        state["chain"] = chain
        with torch.no_grad():
            for name, p in rbm.named_parameters():
                step = lr * (grads[name] - (weight_decay * p if name == "weight" else 0.0))
                state["velocity"][name] = momentum * state["velocity"][name] + step
                p.add_(state["velocity"][name])


@CASES
@pytest.mark.parametrize("shuffle", [True, False], ids=["shuffled", "in-order"])
def test_fast_cd_epoch_equals_readable_cd_gradient_updates(k, persistent, momentum, weight_decay, sample_visible,
                                                           shuffle):
    # 23 rows in batches of 5: five updates an epoch, the last one topped up; two epochs, so that the
    # velocity and the persistent chains carry over from one epoch to the next as in fit
    x = tiny_data(23).double()
    batch_size, lr = 5, 0.1
    fast, readable = tiny_rbm(torch.float64), tiny_rbm(torch.float64)
    gen_fast, gen_readable = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    loop = FastCD(fast, batch_size, k, persistent, sample_visible, use_momentum=momentum > 0,
                  updates_per_draw=1)  # one update's random numbers per draw: the order cd_gradient uses them in
    x_aug = loop.augment(x)
    state = {"chain": torch.zeros(batch_size, 4, dtype=torch.float64),  # PCD starts from h = 0
             "velocity": {name: torch.zeros_like(p) for name, p in readable.named_parameters()}}
    for _ in range(2):
        with torch.inference_mode():
            loop.epoch(x_aug, gen_fast, lr, momentum, weight_decay, shuffle)
        loop.write_back()
        readable_epoch(readable, x, gen_readable, state, batch_size=batch_size, lr=lr, k=k, persistent=persistent,
                       momentum=momentum, weight_decay=weight_decay, sample_visible=sample_visible, shuffle=shuffle)
        for (name, p), q in zip(fast.named_parameters(), readable.parameters()):
            torch.testing.assert_close(p, q, atol=1e-12, rtol=1e-12, msg=name)
        if persistent:
            torch.testing.assert_close(loop.persistent_chain(), state["chain"], atol=0, rtol=0)
    assert not torch.equal(fast.weight, tiny_rbm(torch.float64).weight)  # it did train
    assert torch.equal(gen_fast.get_state(), gen_readable.get_state())  # and used the same random numbers


@CASES
def test_fit_equals_readable_cd_gradient_updates_with_one_batch_per_epoch(k, persistent, momentum, weight_decay,
                                                                          sample_visible):
    # RBM.fit itself, with its own random-number blocks: with one batch per epoch they hold one update
    x = tiny_data(12)
    fast, readable = tiny_rbm(), tiny_rbm()
    fast.fit(x, epochs=3, batch_size=len(x), lr=0.1, k=k, persistent=persistent, momentum=momentum,
             initial_momentum=None, weight_decay=weight_decay, sample_visible=sample_visible,
             shuffle=False, monitor=False, init_visible_bias=False, seed=5)
    gen = torch.Generator().manual_seed(5)
    state = {"chain": torch.zeros(len(x), 4),
             "velocity": {name: torch.zeros_like(p) for name, p in readable.named_parameters()}}
    for _ in range(3):
        readable_epoch(readable, x, gen, state, batch_size=len(x), lr=0.1, k=k, persistent=persistent,
                       momentum=momentum, weight_decay=weight_decay, sample_visible=sample_visible, shuffle=False)
    for (name, p), q in zip(fast.named_parameters(), readable.parameters()):
        torch.testing.assert_close(p, q, atol=1e-5, rtol=1e-5, msg=name)
    if persistent:
        torch.testing.assert_close(fast.persistent_chain, state["chain"], atol=0, rtol=0)
    else:
        assert fast.persistent_chain is None


def test_draw_noise_holds_the_constant_bias_row_and_visible_logits():
    uh, lv = draw_noise(torch.Generator().manual_seed(0), 2, 3, 4, 6, 5, True, torch.device("cpu"), torch.float32)
    assert uh.shape == (2, 3, 5, 5) and lv.shape == (2, 3, 6, 5)
    assert bool((uh[:, :, 4] == -1).all()) and bool(((uh[:, :, :4] >= 0) & (uh[:, :, :4] < 1)).all())
    assert bool((uh[:, :, 4] < torch.ones(5)).all())  # "-1 < p = 1": the [h; 1] row stays 1 after sampling
    # logit(u) < x is the event u < sigmoid(x)
    assert float(lv.sigmoid().min()) >= 0 and float(lv.sigmoid().max()) <= 1
    _, none = draw_noise(None, 1, 1, 4, 6, 5, False, torch.device("cpu"), torch.float32)
    assert none is None


def test_rbm_fast_imports_without_importing_the_readable_module():
    # rbm.py imports rbm_fast; rbm_fast needs the RBM type only for annotations: no import cycle
    code = "import sys, coursekit.rbm_fast; assert 'coursekit.rbm' not in sys.modules, sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
