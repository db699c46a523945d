#!/usr/bin/env python3
"""Epoch time of ``coursekit.train.fit`` against two hand-written loops, measured side by side.

The seed's lab-09 setting on digits: a 64-256-256-10 ReLU MLP, Adam lr 1e-3,
batch 100. Every contender does the same work per epoch: train over the
shuffled training split, then compute validation loss and accuracy in eval mode.

    (a) a hand-written loop over torch.utils.data.DataLoader(TensorDataset(...))
    (b) the same hand-written loop over in-memory index-sliced batches
    fit  coursekit.train.fit (records per-step loss, epoch metrics, callbacks)

Targets: fit <= 0.75x (a) and fit <= 1.05x (b). Contenders are interleaved in
rounds and the median epoch time is reported, so machine noise hits all alike.

    python benchmarks/bench_fit.py [--rounds 7] [--epochs 3] [--threads 1]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from coursekit.data import batches, load_digits
from coursekit.models import mlp
from coursekit.train import fit


def val_metrics(model, x, y):
    model.eval()
    with torch.no_grad():
        out = model(x)
        loss = nn.functional.cross_entropy(out, y).item()
        acc = (out.argmax(1) == y).float().mean().item()
    return loss, acc


def hand_loop_dataloader(data, epochs, seed):
    model = mlp([64, 256, 256, 10], seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=100, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        total = 0.0
        for xb, yb in loader:
            loss = nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        val_metrics(model, data.x_val, data.y_val)
    return (time.perf_counter() - start) / epochs


def hand_loop_in_memory(data, epochs, seed):
    model = mlp([64, 256, 256, 10], seed=0)
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
        val_metrics(model, data.x_val, data.y_val)
    return (time.perf_counter() - start) / epochs


def coursekit_fit(data, epochs, seed):
    model = mlp([64, 256, 256, 10], seed=0)
    start = time.perf_counter()
    fit(model, data, optimizer="adam", lr=1e-3, epochs=epochs, batch_size=100, seed=seed, progress=False)
    return (time.perf_counter() - start) / epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_digits()
    contenders = {"(a) DataLoader loop": hand_loop_dataloader, "(b) in-memory loop": hand_loop_in_memory,
                  "coursekit fit": coursekit_fit}
    for fn in contenders.values():  # warm-up
        fn(data, 1, 0)
    times = {name: [] for name in contenders}
    for r in range(args.rounds):
        for name, fn in contenders.items():
            times[name].append(fn(data, args.epochs, r))
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"digits, 64-256-256-10 ReLU MLP, Adam 1e-3, batch 100, {args.threads} thread(s), "
          f"median of {args.rounds} rounds x {args.epochs} epochs")
    for name, m in med.items():
        print(f"  {name:22s} {1000 * m:7.1f} ms/epoch")
    ra = med["coursekit fit"] / med["(a) DataLoader loop"]
    rb = med["coursekit fit"] / med["(b) in-memory loop"]
    print(f"fit / (a) = {ra:.2f}  (target <= 0.75)  {'OK' if ra <= 0.75 else 'MISSED'}")
    print(f"fit / (b) = {rb:.2f}  (target <= 1.05)  {'OK' if rb <= 1.05 else 'MISSED'}")


if __name__ == "__main__":
    main()
