#!/usr/bin/env python3
"""What ``coursekit.train.fit`` costs over a hand-written loop, measured side by side in one run.

The original labs' lab-09 setting on digits: a 64-256-256-10 ReLU MLP, batch 100,
10 epochs, and the same ``torch.optim.Adam(model.parameters(), lr=1e-3)`` object
class for every contender (``fit`` is given the ready optimizer). The hand loop
is the one a learner writes: in-memory index-sliced batches
(``coursekit.data.batches``), ``loss.item()`` per step.

    hand loop      zero_grad, forward, loss, backward, step
    fit            coursekit.train.fit (also records per-step loss, epoch loss and
                   accuracy, checks each loss for NaN, notifies callbacks)

Each pair runs twice: with the per-epoch validation pass (loss and accuracy on
the validation split in eval mode, as ``fit`` does with a Dataset) and without
it (``fit`` given ``(x_train, y_train)``). Target: fit / hand <= 1.05 without
validation (fit's own overhead at most 5 %). Contenders are interleaved in
rounds and the median is reported, so machine noise hits all alike.

    python benchmarks/bench_fit.py [--rounds 7] [--epochs 10] [--threads 1]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from coursekit.data import batches, load_digits
from coursekit.models import mlp
from coursekit.train import fit

SIZES = [64, 256, 256, 10]


def val_metrics(model, x, y):
    model.eval()
    with torch.no_grad():
        out = model(x)
        loss = nn.functional.cross_entropy(out, y).item()
        acc = (out.argmax(1) == y).float().mean().item()
    return loss, acc


def hand_loop(data, epochs, seed, validate):
    model = mlp(SIZES, seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        total = 0.0
        for xb, yb in batches(data.x_train, data.y_train, 100, generator=gen):
            loss = nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        if validate:
            val_metrics(model, data.x_val, data.y_val)
    return time.perf_counter() - start


def coursekit_fit(data, epochs, seed, validate):
    model = mlp(SIZES, seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    split = data if validate else (data.x_train, data.y_train)
    start = time.perf_counter()
    fit(model, split, optimizer=opt, epochs=epochs, batch_size=100, seed=seed, progress=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_digits()
    contenders = {(name, validate): fn for validate in (True, False)
                  for name, fn in (("hand loop", hand_loop), ("fit", coursekit_fit))}
    for (_, validate), fn in contenders.items():  # warm-up
        fn(data, 1, 0, validate)
    times: dict = {key: [] for key in contenders}
    for r in range(args.rounds):
        for (name, validate), fn in contenders.items():
            times[(name, validate)].append(fn(data, args.epochs, r, validate))
    med = {key: statistics.median(t) for key, t in times.items()}
    print(f"digits, 64-256-256-10 ReLU MLP, torch.optim.Adam 1e-3, batch 100, {args.threads} thread(s), "
          f"median of {args.rounds} rounds x {args.epochs} epochs")
    for validate in (True, False):
        what = "with validation   " if validate else "without validation"
        hand, mine = med[("hand loop", validate)], med[("fit", validate)]
        ratio = mine / hand
        verdict = f"(target <= 1.05)  {'OK' if ratio <= 1.05 else 'MISSED'}" if not validate else ""
        print(f"  {what}  hand loop {1000 * hand / args.epochs:6.1f} ms/epoch   fit {1000 * mine / args.epochs:6.1f} "
              f"ms/epoch   fit / hand = {ratio:.3f}  {verdict}")


if __name__ == "__main__":
    main()
