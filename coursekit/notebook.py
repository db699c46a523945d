"""Notebook set-up: seeds, threads, print precision and figure defaults in one call.

Introduced in ``notebooks/00_start_here.ipynb``; the first code cell of every
notebook calls :func:`setup_notebook`.
"""
from __future__ import annotations

import os
import random
import warnings

import numpy as np
import torch

from . import __version__
from ._checks import check_bool, check_int
from .plots.style import use_course_style

__all__ = ["setup_notebook", "seed_everything"]


def seed_everything(seed: int = 0) -> None:
    """Seed Python's ``random``, NumPy's global generator and PyTorch (CPU and CUDA).

    Introduced in ``notebooks/00_start_here.ipynb``.
    """
    seed = check_int("seed", seed, minimum=0)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def setup_notebook(seed: int = 0, threads: int = 1, dpi: int = 72, quiet: bool = False) -> None:
    """Make a notebook reproducible and consistent; call it in the first code cell.

    - seeds ``random``, NumPy and PyTorch with ``seed``;
    - fixes PyTorch's intra-op thread count (``threads=1`` by default: the
      small matrices of this course run fastest on one thread, and reductions
      give the same bits on every run, which nbval needs);
    - prints floats with 4 digits (NumPy and PyTorch);
    - sets matplotlib's inline figures to a modest size and ``dpi`` so the
      committed notebooks stay small, with the course's plain style;
    - turns on deterministic algorithms where PyTorch offers them.

    Args:
        seed: the seed, >= 0.
        threads: PyTorch CPU threads, >= 1.
        dpi: resolution of inline figures (72 keeps notebooks small).
        quiet: don't print the summary line.

    Prints one line (unless ``quiet``), e.g.
    ``coursekit 0.1.0 | seed 0 | 1 thread | device cpu``; returns nothing, so the
    cell shows that line once. "device" is where new models live and so where
    :func:`coursekit.train.fit` trains them: the CPU, also on a machine with a
    GPU, so that every machine prints the same numbers (move a model with
    ``model.to("cuda")`` or pass ``fit(..., device="cuda")`` to use one).

    Introduced in ``notebooks/00_start_here.ipynb``.
    """
    seed = check_int("seed", seed, minimum=0)
    threads = check_int("threads", threads, minimum=1)
    dpi = check_int("dpi", dpi, minimum=20, maximum=600)
    quiet = check_bool("quiet", quiet)
    torch.set_num_threads(threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    seed_everything(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    np.set_printoptions(precision=4, suppress=True)
    torch.set_printoptions(precision=4, sci_mode=False)
    # Noise that would otherwise land in stderr and differ between machines.
    warnings.filterwarnings("ignore", message=".*deterministic.*")
    warnings.filterwarnings("ignore", category=UserWarning, module="tqdm")
    warnings.filterwarnings("ignore", message="IProgress not found")
    use_course_style(dpi)
    # Where new models live, so where fit trains them: the CPU unless you set a default device.
    device = torch.empty(()).device.type
    line = f"coursekit {__version__} | seed {seed} | {threads} thread{'s' if threads > 1 else ''} | device {device}"
    if not quiet:
        print(line)
