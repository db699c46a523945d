"""make lab and make lab-instructor start JupyterLab as root, as in many containers (with --allow-root)."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_make_lab_passes_allow_root_only_as_root():
    if shutil.which("make") is None:
        pytest.skip("needs make")
    for target in ("lab", "lab-instructor"):
        out = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        command = next(line for line in out.stdout.splitlines() if "jupyter lab" in line)
        assert ("--allow-root" in command) == (os.geteuid() == 0), command
