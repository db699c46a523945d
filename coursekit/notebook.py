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

from . import __version__, _i18n
from ._checks import check_bool, check_int
from ._i18n import ngettext
from .plots.style import use_course_style, use_korean_font

__all__ = ["setup_notebook", "seed_everything", "set_language"]


def seed_everything(seed: int = 0) -> None:
    """Seed Python's ``random``, NumPy's global generator and PyTorch (CPU and CUDA).

    Introduced in ``notebooks/00_start_here.ipynb``.
    """
    seed = check_int("seed", seed, minimum=0)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def set_language(lang: str = "en") -> None:
    """Switch what the package says to the learner to ``lang``: "en" (English, the default) or "ko" (Korean).

    Exercise tasks, check verdicts and hints, the framing of claim lines and the common errors of
    ``fit`` and of the data loaders speak that language from then on (a claim's statement stays as
    the notebook wrote it), and figures draw their text in a font with Korean glyphs ("ko") or in
    matplotlib's own ("en"). One setting for the whole process; :func:`setup_notebook` calls it.

    Introduced in ``notebooks/00_start_here.ipynb``.
    """
    code = _i18n.set_language(lang)
    use_korean_font(code == "ko")


def setup_notebook(seed: int = 0, threads: int = 1, dpi: int = 72, quiet: bool = False, lang: str = "en") -> None:
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
        lang: the language of the package's messages to the learner: "en" (English, the
            default) or "ko" (Korean; figures then use a font with Korean glyphs). See
            :func:`set_language`.

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
    lang = _i18n._check_language(lang)
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
    set_language(lang)
    # Where new models live, so where fit trains them: the CPU unless you set a default device.
    device = torch.empty(()).device.type
    line = ngettext("coursekit {version} | seed {seed} | {threads} thread | device {device}",
                    "coursekit {version} | seed {seed} | {threads} threads | device {device}",
                    threads).format(version=__version__, seed=seed, threads=threads, device=device)
    if not quiet:
        print(line)
