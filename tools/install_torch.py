#!/usr/bin/env python3
"""Install a PyTorch build that fits this machine, before coursekit's other dependencies.

Why this exists: coursekit asks for ``torch>=2.2`` and nothing more, so you stay
free to choose your build. But a plain ``pip install torch`` on Linux takes the
CUDA build (several GB of NVIDIA libraries), and the notebooks train on the CPU on
every machine (their networks are small: a GPU would not be faster). This script,
run by ``make lab`` / ``make test`` inside the project's virtual environment, picks:

1. nothing, if the environment already has torch (whatever build you put there);
2. what you ask for, if ``COURSEKIT_TORCH`` is set: ``cpu``, ``cuda`` (PyPI's
   default build, CUDA on Linux), or any pip requirement such as ``torch==2.5.1``
   (``make lab TORCH=cuda`` sets it);
3. otherwise a CPU build, with or without an NVIDIA GPU (one found is named, with
   how to ask for CUDA): a CPU wheel that pip can already see locally (a
   ``--find-links`` wheelhouse from your pip configuration, as on classroom and
   CI machines), else PyTorch's own CPU index
   (https://download.pytorch.org/whl/cpu). On macOS and Windows PyPI's torch is
   already CPU-only, so plain PyPI is used there.

Run ``python tools/install_torch.py --dry-run`` to see the choice without installing.
"""
from __future__ import annotations

import argparse
import glob
import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
MINIMUM = "torch>=2.2"


def has_nvidia_gpu() -> bool:
    exe = shutil.which("nvidia-smi")
    if not exe:
        return False
    try:
        out = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and "GPU" in out.stdout


def pip_find_links() -> list[str]:
    """Folders named by ``find-links`` in pip's configuration (files and environment)."""
    try:
        out = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                             capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    links = []
    for line in out.splitlines():
        m = re.match(r"^[\w:.\-]*find-links='(.*)'$", line.strip())
        if m:
            links.extend(m.group(1).split())
    env = os.environ.get("PIP_FIND_LINKS")
    if env:
        links.extend(env.split())
    return [link.removeprefix("file://") for link in links if not link.startswith(("http://", "https://"))]


def local_cpu_wheel() -> str | None:
    """Version of a local ``torch-*+cpu`` wheel that fits this interpreter, if any."""
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    machine = platform.machine()
    best = None
    for folder in pip_find_links():
        for path in glob.glob(os.path.join(folder, f"torch-*+cpu-{tag}-{tag}-*.whl")):
            name = os.path.basename(path)
            if machine not in name:
                continue
            version = name.split("-")[1]
            key = tuple(int(p) for p in re.findall(r"\d+", version.split("+")[0]))
            if key >= (2, 2) and (best is None or key > best[0]):
                best = (key, version)
    return best[1] if best else None


def choose() -> tuple[list[str], str]:
    """The pip arguments to run and a sentence saying why."""
    wish = os.environ.get("COURSEKIT_TORCH", "").strip()
    if wish == "cuda":
        return [MINIMUM], "COURSEKIT_TORCH=cuda: PyPI's default build (CUDA on Linux)"
    if wish and wish != "cpu":
        return wish.split(), f"COURSEKIT_TORCH={wish!r}"
    if platform.system() != "Linux":
        return [MINIMUM], f"{platform.system()}: PyPI's torch is the CPU build here"
    # CPU by default, GPU or not: the course trains on the CPU, and the CUDA build is several GB.
    why = "a CPU build"
    if not wish and has_nvidia_gpu():
        why = ("an NVIDIA GPU was found, but the course trains on the CPU: a CPU build "
               "(TORCH=cuda, or COURSEKIT_TORCH=cuda, for PyPI's CUDA build)")
    local = local_cpu_wheel()
    if local:
        return [f"torch=={local}"], f"{why}: the CPU wheel torch {local} from a local wheelhouse"
    return [MINIMUM, "--index-url", CPU_INDEX], f"{why}: PyTorch's CPU index {CPU_INDEX}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="print the choice, install nothing")
    args = parser.parse_args()
    if importlib.util.find_spec("torch") is not None and not os.environ.get("COURSEKIT_TORCH"):
        import torch

        print(f"install_torch: torch {torch.__version__} is already installed; keeping it")
        return 0
    pip_args, why = choose()
    cmd = [sys.executable, "-m", "pip", "install", *pip_args]
    print(f"install_torch: {why}\n  {' '.join(cmd[1:])}")
    if args.dry_run:
        return 0
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
