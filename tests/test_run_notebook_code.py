"""tools/run_notebook_code.py: notebooks' code without Jupyter (for GPU machines)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[1] / "tools" / "run_notebook_code.py"


def _notebook(path: Path, *sources: str) -> Path:
    cells = [{"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None}
             for s in sources]
    cells.insert(1, {"cell_type": "markdown", "metadata": {}, "source": "text"})
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def _run(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), *map(str, paths)], capture_output=True, text=True,
                          timeout=120)


def test_runs_cells_in_one_namespace_and_skips_widgets_and_magics(tmp_path):
    nb = _notebook(tmp_path / "good.ipynb", "x = 2", "%matplotlib inline", "import ipywidgets as W\nW.IntSlider()",
                   "assert x * 3 == 6\nopen('seen.txt', 'w').write('ok')")
    result = _run(nb)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "good.ipynb: ok, 2 cells run, 2 skipped" in result.stdout
    assert (tmp_path / "seen.txt").read_text() == "ok"  # run from the notebook's folder


def test_names_the_failing_cell_and_exits_1(tmp_path):
    good = _notebook(tmp_path / "a.ipynb", "y = 1")
    bad = _notebook(tmp_path / "b.ipynb", "print('before')", "assert 1 == 2, 'the claim no longer holds'", "z = 3")
    result = _run(good, bad)
    assert result.returncode == 1
    assert "a.ipynb: ok" in result.stdout
    assert "b.ipynb: FAILED, 1 cells run" in result.stdout
    assert "cell 2: AssertionError: the claim no longer holds" in result.stdout
