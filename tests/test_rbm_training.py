"""RBM.fit applies exactly the update its docstring states, with the public RBM.cd_gradient.

Both sides start from the same RBM and the same seeded generator and visit the
batches in the same order; the reference side is written with ``cd_gradient`` and
the update rule of ``RBM.fit``'s docstring, nothing else (notebook 05 shows it).
"""
from __future__ import annotations

import pytest
import torch

from coursekit.rbm import RBM

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
def test_fit_equals_the_update_written_with_cd_gradient(k, persistent, momentum, weight_decay, sample_visible,
                                                        shuffle):
    # 23 rows in batches of 5: five updates an epoch, the last one topped up; three epochs, so that the
    # velocity and the persistent chains carry over from one epoch to the next
    x = tiny_data(23)
    trained, reference = tiny_rbm(), tiny_rbm()
    trained.fit(x, epochs=3, batch_size=5, lr=0.1, k=k, persistent=persistent, momentum=momentum,
                initial_momentum=None, weight_decay=weight_decay, sample_visible=sample_visible,
                shuffle=shuffle, monitor=False, init_visible_bias=False, seed=5)
    gen = torch.Generator().manual_seed(5)
    state = {"chain": torch.zeros(5, 4),  # PCD starts from h = 0
             "velocity": {name: torch.zeros_like(p) for name, p in reference.named_parameters()}}
    for _ in range(3):
        readable_epoch(reference, x, gen, state, batch_size=5, lr=0.1, k=k, persistent=persistent,
                       momentum=momentum, weight_decay=weight_decay, sample_visible=sample_visible, shuffle=shuffle)
    for (name, p), q in zip(trained.named_parameters(), reference.parameters()):
        torch.testing.assert_close(p, q, atol=1e-6, rtol=1e-6, msg=name)
    assert not torch.equal(trained.weight, tiny_rbm().weight), "fit should have changed the weights"
    assert trained.num_updates == 15
    if persistent:
        torch.testing.assert_close(trained.persistent_chain, state["chain"], atol=0, rtol=0)
    else:
        assert trained.persistent_chain is None


def test_the_initial_momentum_holds_for_the_first_epochs_then_switches():
    x = tiny_data(10)
    trained, reference = tiny_rbm(), tiny_rbm()
    trained.fit(x, epochs=4, batch_size=5, lr=0.1, momentum=0.9, initial_momentum=0.5, momentum_switch=2,
                weight_decay=0.0, shuffle=True, monitor=False, init_visible_bias=False, seed=3)
    gen = torch.Generator().manual_seed(3)
    state = {"chain": None, "velocity": {name: torch.zeros_like(p) for name, p in reference.named_parameters()}}
    for epoch in range(4):
        readable_epoch(reference, x, gen, state, batch_size=5, lr=0.1, k=1, persistent=False,
                       momentum=0.5 if epoch < 2 else 0.9, weight_decay=0.0, sample_visible=True, shuffle=True)
    for (name, p), q in zip(trained.named_parameters(), reference.parameters()):
        torch.testing.assert_close(p, q, atol=1e-6, rtol=1e-6, msg=name)


def test_a_diverging_fit_stops_or_raises_with_the_weights_of_the_epoch_before():
    x = tiny_data(20)
    rbm = tiny_rbm()
    rbm.fit(x, epochs=1, batch_size=5, lr=0.1, monitor=False, seed=0)
    good = rbm.weight.clone()
    hist = rbm.fit(x, epochs=3, batch_size=5, lr=1e30, monitor=False, seed=0, nan_policy="stop")
    assert hist.diverged_epoch == 1 and torch.equal(rbm.weight, good)
    with pytest.raises(FloatingPointError, match="during epoch 1"):
        rbm.fit(x, epochs=3, batch_size=5, lr=1e30, monitor=False, seed=0)
    assert torch.equal(rbm.weight, good)
    rbm.fit(x, epochs=2, batch_size=5, lr=1e30, monitor=False, seed=0, nan_policy="continue")
    assert not rbm._finite()
