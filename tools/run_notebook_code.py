#!/usr/bin/env python3
"""Run the code cells of notebooks in a plain Python process, without Jupyter.

For machines that have PyTorch but no Jupyter stack, such as a GPU box used to
check that the course also runs there (``fit`` trains where the model is, so
a plain run stays on the CPU; with ``torch.set_default_device("cuda")`` in a
copy of a notebook it runs on the GPU, where the numbers differ from the
committed ones and only the checking cells must pass). Widget cells (those that call
``interactive_figure``) and IPython magics are skipped; figures are drawn
with the Agg backend and closed.

    python tools/run_notebook_code.py notebooks/*.ipynb

Prints one line per notebook: cells run, skipped, seconds, and the first
failing cell with its error. Exits 1 if any cell failed.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
import traceback
from pathlib import Path


def code_cells(path: Path) -> list[tuple[int, str]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            src = "".join(cell["source"])
            cells.append((i, src))
    return cells


def skip_reason(src: str) -> str | None:
    if "interactive_figure(" in src or "import ipywidgets" in src:
        return "widget"
    if any(line.lstrip().startswith(("%", "!")) for line in src.splitlines()):
        return "magic"
    return None


def run(path: Path) -> tuple[int, int, float, str | None]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    namespace: dict = {"__name__": "__main__"}
    ran = skipped = 0
    start = time.perf_counter()
    old_cwd = os.getcwd()
    os.chdir(path.parent)  # notebooks run from their folder, as in Jupyter
    try:
        for index, src in code_cells(path):
            if skip_reason(src):
                skipped += 1
                continue
            out = io.StringIO()
            try:
                with contextlib.redirect_stdout(out):
                    exec(compile(src, f"{path.name}[cell {index}]", "exec"), namespace)
            except Exception:
                tail = traceback.format_exc().strip().splitlines()[-1]
                return ran, skipped, time.perf_counter() - start, f"cell {index}: {tail}\n{out.getvalue()[-600:]}"
            finally:
                plt.close("all")
            ran += 1
    finally:
        os.chdir(old_cwd)
    return ran, skipped, time.perf_counter() - start, None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args()
    failed = 0
    for path in args.notebooks:
        ran, skipped, seconds, error = run(path.resolve())
        status = "ok" if error is None else "FAILED"
        print(f"{path.name}: {status}, {ran} cells run, {skipped} skipped, {seconds:.0f} s")
        if error:
            failed += 1
            print("   ", error.replace("\n", "\n    "))
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
