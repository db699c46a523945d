#!/usr/bin/env python3
"""Measure what one learner costs a JupyterHub server: CPU seconds and peak RAM of a kernel per notebook.

Usage (from the project root, in the course environment; Linux only, it reads /proc):

    .venv/bin/python deploy/jupyterhub/measure_learner_cost.py                 # every notebooks/NN_*.ipynb
    .venv/bin/python deploy/jupyterhub/measure_learner_cost.py notebooks/00_start_here.ipynb
    .venv/bin/python deploy/jupyterhub/measure_learner_cost.py --student       # the student editions instead

Each notebook runs top to bottom (*Run All*) in a fresh kernel, one notebook at a
time, with its default parameters (the default ``SEED``), exactly as a learner runs
it, and with the environment the hub gives every learner (``OMP_NUM_THREADS=1``
and friends, see ``jupyterhub_config.py``). For the kernel process it records:

- CPU seconds, user + system, of the kernel and of any children it waited for
  (``/proc/<pid>/stat`` via psutil): this is what the server's cores must supply;
- peak resident memory (``VmHWM`` in ``/proc/<pid>/status``): what its RAM must hold;
- wall-clock seconds (depends on what else the machine is doing; CPU seconds do not).

By default it measures the instructor notebooks in ``notebooks/``: a learner who
has done every exercise runs the same code, which is the upper bound (a student
edition runs a stub instead of each solution, a few milliseconds less).

Then it prints the arithmetic for a class on one server: how many learners fit
in RAM, and how long it takes when all of them press *Run All* at once on 2 and
on 16 cores (CPU-bound kernels share the cores: N learners x CPU seconds / cores).
The figures are approximate: they change with the notebooks, the CPU and torch.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What the hub sets for every learner (jupyterhub_config.py): one thread per kernel.
LEARNER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
GIB = 1024**3


def _proc_status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def run_notebook(path: Path, timeout: int = 1200) -> dict:
    """Run one notebook top to bottom in a fresh kernel; return its kernel's cost."""
    import nbformat
    import psutil
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}})
    env = {**os.environ, **LEARNER_ENV}
    t0 = time.perf_counter()
    with client.setup_kernel(env=env):
        pid = client.km.provisioner.process.pid
        proc = psutil.Process(pid)
        start_rss = proc.memory_info().rss
        cpu0 = proc.cpu_times()
        t_ready = time.perf_counter()
        lost = []
        for index, cell in enumerate(nb.cells):
            try:
                client.execute_cell(cell, index)
            except CellTimeoutError:
                # No reply within the timeout. Seen here now and then on a widget cell under load:
                # the kernel had finished the cell and sat idle, the reply never came. Idle time
                # costs no CPU, so go on with the next cell (it waits for the kernel if still busy).
                lost.append(index)
        wall = time.perf_counter() - t_ready
        cpu = proc.cpu_times()
        peak_kib = _proc_status_kib(pid, "VmHWM")
    cpu_s = sum(getattr(cpu, k) for k in ("user", "system", "children_user", "children_system"))
    cpu_start = sum(getattr(cpu0, k) for k in ("user", "system", "children_user", "children_system"))
    return {
        "notebook": path.name,
        "code_cells": sum(c.cell_type == "code" for c in nb.cells),
        "cpu_s": cpu_s,  # includes starting the kernel (about a second)
        "cpu_start_s": cpu_start,
        "wall_s": wall,
        "startup_s": t_ready - t0,
        "peak_rss_gib": peak_kib * 1024 / GIB,
        "start_rss_gib": start_rss / GIB,
        "lost_replies": lost,
    }


def single_user_server_rss() -> float:
    """Resident memory of an idle Jupyter server (what the hub starts for each learner), in GiB."""
    import urllib.request

    import psutil

    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        cmd = [sys.executable, "-m", "jupyter_server", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               f"--ServerApp.root_dir={tmp}", "--IdentityProvider.token=measure", "--allow-root"]
        env = {**os.environ, "JUPYTER_CONFIG_DIR": tmp, "JUPYTER_RUNTIME_DIR": tmp}
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                                start_new_session=True)
        try:
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            deadline = time.monotonic() + 120
            while True:  # until it answers, i.e. has loaded its extensions (JupyterLab, nbgitpuller, ...)
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the Jupyter server did not start: {' '.join(cmd)}")
                try:
                    opener.open(f"http://127.0.0.1:{port}/api/status?token=measure", timeout=5)
                    break
                except OSError:
                    time.sleep(0.5)
            return psutil.Process(proc.pid).memory_info().rss / GIB
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def arithmetic(rows: list[dict], server_gib: float, ram_gib: float = 24.0, overhead_gib: float = 1.0,
               minutes: float = 5.0) -> str:
    """The class-size arithmetic for a 2-core and a 16-core server with ``ram_gib`` of RAM."""
    worst = max(rows, key=lambda r: r["cpu_s"])
    heaviest = max(rows, key=lambda r: r["peak_rss_gib"])
    median_cpu = statistics.median(r["cpu_s"] for r in rows)
    per_learner = heaviest["peak_rss_gib"] + server_gib
    fit = int((ram_gib - overhead_gib) // per_learner)
    lines = [
        f"RAM: a learner = kernel peak {heaviest['peak_rss_gib']:.2f} GiB ({heaviest['notebook']}) "
        f"+ Jupyter server {server_gib:.2f} GiB = {per_learner:.2f} GiB;",
        f"     ({ram_gib:.0f} GiB - {overhead_gib:.0f} GiB for the system, hub and proxy) / {per_learner:.2f} GiB "
        f"= {fit} learners with a notebook open.",
        f"CPU: Run All costs {median_cpu:.0f} CPU s (median notebook), {worst['cpu_s']:.0f} CPU s at most "
        f"({worst['notebook']}).",
    ]
    for cores in (2, 16):
        n_fit = int(minutes * 60 * cores // worst["cpu_s"])
        lines.append(
            f"     {cores:>2} cores, all N press Run All at once: N x {worst['cpu_s']:.0f} s / {cores} "
            f"-> 30 learners wait {30 * worst['cpu_s'] / cores / 60:.1f} min, {fit} wait "
            f"{fit * worst['cpu_s'] / cores / 60:.1f} min; within {minutes:.0f} min: "
            f"{minutes * 60:.0f} x {cores} / {worst['cpu_s']:.0f} = {n_fit} learners"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN_*.ipynb")
    parser.add_argument("--student", action="store_true",
                        help="measure the student editions (written into a temporary folder) instead")
    parser.add_argument("--ram", type=float, default=24.0, help="the server's RAM in GiB (default 24)")
    parser.add_argument("--cell-timeout", type=int, default=120,
                        help="seconds to wait for a cell's reply before going on (default 120)")
    parser.add_argument("--minutes", type=float, default=5.0,
                        help="how long a class may wait for Run All to finish (default 5)")
    args = parser.parse_args(argv)
    if not Path("/proc/self/status").exists():
        print("measure_learner_cost: needs Linux (/proc)", file=sys.stderr)
        return 1
    sources = [p.resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    with tempfile.TemporaryDirectory() as tmp:
        if args.student:
            subprocess.run([sys.executable, str(ROOT / "tools" / "make_student.py"), "--out", tmp,
                            *map(str, sources)], check=True, stdout=subprocess.DEVNULL)
            sources = [Path(tmp) / p.name for p in sources]
        commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                                capture_output=True, text=True).stdout.strip() or "?"
        import torch

        print(f"# {time.strftime('%Y-%m-%d')}, commit {commit}, {platform.processor() or platform.machine()}, "
              f"{os.cpu_count()} cores, Python {platform.python_version()}, torch {torch.__version__}, "
              f"{'student editions' if args.student else 'instructor notebooks'}")
        print("| notebook | code cells | kernel CPU s (user+sys) | peak kernel RSS (GiB) | wall s |")
        print("|---|---:|---:|---:|---:|")
        rows = []
        for path in sources:
            row = run_notebook(path, timeout=args.cell_timeout)
            rows.append(row)
            print(f"| {row['notebook']} | {row['code_cells']} | {row['cpu_s']:.1f} | {row['peak_rss_gib']:.2f} "
                  f"| {row['wall_s']:.1f} |", flush=True)
            if row["lost_replies"]:
                print(f"  ({row['notebook']}: no reply for cell(s) {row['lost_replies']} within "
                      f"{args.cell_timeout} s, kernel idle; wall time includes the wait)", file=sys.stderr)
    server = single_user_server_rss()
    print(f"\nan idle kernel after start: {min(r['start_rss_gib'] for r in rows):.2f} GiB; an idle Jupyter "
          f"server (one per learner): {server:.2f} GiB")
    print(arithmetic(rows, server, ram_gib=args.ram, minutes=args.minutes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
