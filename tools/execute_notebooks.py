#!/usr/bin/env python3
"""Re-execute notebooks in place, top to bottom from a fresh kernel, and save them.

Usage (from the project root, inside .venv; ``make execute NB=...`` does this):

    python tools/execute_notebooks.py notebooks/01_vanishing_gradients.ipynb
    python tools/execute_notebooks.py            # every notebook in notebooks/

This is the one command to run before committing a changed notebook: nbval then
compares a fresh run against exactly what this stored. The kernel runs in the
notebook's folder with this interpreter, as nbval's ``--nbval-current-env`` does.
Execution counts are kept (nbval needs them); timing metadata is not.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def execute(path: Path, timeout: int = 600) -> float:
    nb = nbformat.read(path, as_version=4)
    # "python3" resolves to this interpreter's ipykernel (jupyter_client swaps the
    # kernelspec's "python" for sys.executable), i.e. the project's .venv.
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        store_widget_state=True,
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    for cell in nb.cells:
        cell.get("metadata", {}).pop("execution", None)
    nb.metadata.pop("papermill", None)
    lang = nb.metadata.get("language_info", {})
    lang.pop("version", None)  # keep the file stable across Python patch releases
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/*.ipynb")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args()
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    for path in paths:
        elapsed = execute(Path(path).resolve(), args.timeout)
        size = Path(path).stat().st_size / 1e6
        print(f"{path}: executed in {elapsed:.1f} s, {size:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
