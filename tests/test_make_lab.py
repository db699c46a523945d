"""make lab and make lab-instructor start JupyterLab as root, as in many containers (with --allow-root);
make checks the Python version first and never leaves a half-made venv behind."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_make_lab_passes_allow_root_only_as_root():
    if shutil.which("make") is None:
        pytest.skip("needs make")
    for target in ("lab", "lab-instructor", "lab-ko"):
        out = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        command = next(line for line in out.stdout.splitlines() if "jupyter lab" in line)
        assert ("--allow-root" in command) == (os.geteuid() == 0), command


# --- the venv rule: the Python version first, and nothing half-made left behind -----------------

def _make_venv(venv: Path, python: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "venv", f"PYTHON={python}", f"VENV={venv}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def _older_pythons() -> list[str]:
    """Interpreters below the floor found on this machine (PATH, pyenv's versions), for the real check."""
    found = [p for p in (shutil.which(f"python3.{minor}") for minor in range(6, 11)) if p]
    if shutil.which("pyenv"):
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=60).stdout.strip()
        found += sorted(str(p) for p in Path(root, "versions").glob("3.*/bin/python3"))
    old = []
    for exe in found:
        out = subprocess.run([exe, "-c", "import sys; print(sys.version_info[0] * 100 + sys.version_info[1])"],
                             capture_output=True, text=True, timeout=60)
        if out.returncode == 0 and int(out.stdout) < 311:
            old.append(exe)
    return old


def _load_check_python():
    spec = importlib.util.spec_from_file_location("check_python", ROOT / "tools" / "check_python.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_check_python_reads_the_floor_from_pyproject_and_says_it_in_one_line():
    tool = _load_check_python()
    minimum = tool.floor((ROOT / "pyproject.toml").read_text())
    assert minimum == (3, 11)
    assert tool.problem((3, 11, 7), minimum) is None and tool.problem((3, 13, 0), minimum) is None
    message = tool.problem((3, 9, 6), minimum, "python3")
    assert message is not None and "\n" not in message
    assert "needs Python >= 3.11" in message and "python3 is Python 3.9" in message and "PYTHON=" in message
    with pytest.raises(ValueError, match="requires-python"):
        tool.floor('[project]\nname = "x"\n')


def test_an_old_python_stops_make_before_anything_is_made(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("needs make")
    old = _older_pythons()
    if not old:
        pytest.skip("no Python older than 3.11 on this machine")
    for exe in old[:2]:
        venv = tmp_path / "venv"
        out = _make_venv(venv, exe)
        assert out.returncode != 0, out.stdout + out.stderr
        assert "coursekit needs Python >= 3.11" in out.stderr, out.stderr
        assert not venv.exists(), f"{exe}: make should stop before creating {venv}"


# A python3 as Debian and Ubuntu ship it without python3-venv: `-m venv DIR` writes DIR/bin/python, then
# fails (exit 1, "ensurepip is not available"); or, in the second case, it exits 0 with no pip in DIR.
FAKE_PYTHON = """#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin"
    printf '#!/bin/sh\\nexit 1\\n' > "$3/bin/python"
    chmod +x "$3/bin/python"
    echo "The virtual environment was not created successfully because ensurepip is not available." >&2
    exit {code}
fi
exec {real} "$@"
"""


@pytest.mark.parametrize("venv_exit", [1, 0], ids=["venv-fails", "venv-without-pip"])
def test_a_venv_without_pip_is_removed_and_the_apt_hint_printed(tmp_path, venv_exit):
    if shutil.which("make") is None:
        pytest.skip("needs make")
    fake = tmp_path / "python3"
    fake.write_text(FAKE_PYTHON.format(code=venv_exit, real=sys.executable))
    fake.chmod(0o755)
    venv = tmp_path / "venv"
    for attempt in (1, 2):  # the second run meets what the first left: nothing
        out = _make_venv(venv, str(fake))
        assert out.returncode != 0, f"attempt {attempt}: make should fail: {out.stdout}"
        assert "sudo apt install python3-venv" in out.stderr, out.stderr
        assert not venv.exists(), f"attempt {attempt}: the half-made {venv} should be removed"


@pytest.mark.slow
def test_make_venv_creates_a_venv_with_pip_and_keeps_it(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("needs make")
    venv = tmp_path / "venv"
    out = _make_venv(venv, sys.executable)
    assert out.returncode == 0, out.stdout + out.stderr
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "--version"], capture_output=True, timeout=120)
    assert pip.returncode == 0, "the new venv should run pip"
    again = _make_venv(venv, sys.executable)
    assert again.returncode == 0 and "creating" not in again.stdout, "a working venv is kept, not remade"


def test_make_clean_keeps_the_learner_s_copies():
    # README: "to change it later, make clean first": that must not delete the learner's work in student/
    if shutil.which("make") is None:
        pytest.skip("needs make")
    clean = subprocess.run(["make", "-n", "clean"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert clean.returncode == 0 and ".venv" in clean.stdout, clean.stdout + clean.stderr
    assert "student" not in clean.stdout, f"make clean should keep student/: {clean.stdout}"
    everything = subprocess.run(["make", "-n", "clean-all"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "rm -rf student" in everything.stdout, everything.stdout
