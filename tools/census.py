#!/usr/bin/env python3
"""The claim census: run notebooks at many seeds, record every claim and assert, write the ledger.

A claim checked on the committed seeds says little about the seed a learner picks.
The census executes each chosen notebook once per seed triplet (``SEED = base``
injected after the cell tagged ``parameters``; the notebook derives its seeds
with ``ck.claims.seeds(SEED)``), several notebooks at a time, and does not stop
at a failed claim: ``ck.claims.claim`` prints a ✗ line and appends a record (on
which seeds it held, and by how much where the claim is numeric) to a log that
the census reads; a cell whose plain ``assert`` fails is recorded and the next
cell runs.

The ledger (``coursekit/claims_ledger.json``, and the readable
``docs/claims-ledger.md``) lists, per notebook and cell, each claim with the
triplets it held on out of those tried, under the default kernels and under
PyTorch's scalar kernels (``ATEN_CPU_CAPABILITY=default``, as another CPU), its
worst margin, and the date and versions it was measured with. ``claim`` quotes it
in the ✗ line a learner sees at a rare seed. Running the census on some notebooks
replaces only their entries.

    python tools/census.py                                # every notebook, 20 triplets + 3 scalar
    python tools/census.py notebooks/05_rbm_dbn_pretraining.ipynb --triplets 10 --scalar 2 -j 2
    python tools/census.py --check                        # exit 1 if any claim of the ledger failed somewhere

The bases are ``--start``, ``--start + 10``, ... (default 100: no committed run
uses them; the notebooks' own seeds are 0-4). Each job takes about a notebook's
run time; 20 triplets of the nine notebooks take about an hour on two cores.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
LEDGER_JSON = ROOT / "coursekit" / "claims_ledger.json"
LEDGER_MD = ROOT / "docs" / "claims-ledger.md"
STEP = 10  # bases this far apart: triplets (or up to ten seeds a comparison) never overlap
SCALAR = {"ATEN_CPU_CAPABILITY": "default"}


# ---------------------------------------------------------------- one job (runs in its own process)

def run_job(path: Path, base: int, out: Path) -> None:
    """Execute one notebook with ``SEED = base``; write what happened to ``out`` (JSON)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    keep, cells = [], []
    for i, cell in enumerate(nb.cells):
        # widget cells only display controls (the widget tests drive them); no front end is attached here
        if cell.cell_type == "code" and "interactive_figure(" in cell.source:
            continue
        keep.append(i)
        cells.append(cell)
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            keep.append(-1)
            cells.append(nbformat.v4.new_code_cell(f"SEED = {base}  # injected by the census"))
    nb.cells = cells
    log = out.with_suffix(".claims.jsonl")
    log.write_text("")
    os.environ["COURSEKIT_CLAIMS"] = "learn"  # a failed claim prints ✗ and the notebook goes on
    os.environ["COURSEKIT_CLAIMS_LOG"] = str(log)

    def mark(cell, cell_index, **_):
        with open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps({"cell": keep[cell_index]}) + "\n")

    client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}}, on_cell_execute=mark)
    start = time.perf_counter()
    crashed = ""
    try:
        client.execute()
    except Exception as err:  # the kernel died, a cell ran past its time limit
        crashed = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"
    seconds = time.perf_counter() - start

    claims, cell = [], None
    for line in log.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if "cell" in rec and len(rec) == 1:
            cell = rec["cell"]
        else:
            claims.append({**rec, "cell": cell})
    asserts, errors = [], []
    for idx, c in zip(keep, nb.cells):
        if c.cell_type != "code" or idx < 0:
            continue
        err = next((o for o in c.get("outputs", []) if o.get("output_type") == "error"), None)
        has_assert = any(line.lstrip().startswith("assert ") for line in c.source.splitlines())
        if err is not None:
            errors.append({"cell": idx, "ename": err["ename"], "evalue": (err["evalue"] or "").splitlines()[:1]})
        if has_assert:
            asserts.append({"cell": idx, "ok": err is None,
                            "error": None if err is None else f"{err['ename']}: {(err['evalue'] or '')[:300]}"})
    out.write_text(json.dumps({"notebook": path.name, "path": str(path), "base": base, "seconds": seconds, "crashed": crashed,
                               "scalar": os.environ.get("ATEN_CPU_CAPABILITY") == "default",
                               "claims": claims, "asserts": asserts, "errors": errors}, ensure_ascii=False))


# ---------------------------------------------------------------- the ledger

def _versions() -> dict[str, str]:
    import numpy
    import torch
    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__,
            "machine": platform.machine()}


def _statement_of_assert(path: Path, cell: int) -> str:
    import nbformat
    src = nbformat.read(path, as_version=4).cells[cell].source
    lines = [ln.strip() for ln in src.splitlines() if ln.lstrip().startswith("assert ")]
    return f"assert in cell {cell}: {lines[0][:100]}" + (f" (+{len(lines) - 1} more)" if len(lines) > 1 else "")


def summarize(results: list[dict], kernels: str) -> dict[tuple[str, int, str], dict]:
    """(notebook, cell, statement) -> counts and worst margins, over the jobs of one kernel setting."""
    rows: dict[tuple[str, int, str], dict] = {}
    for res in results:
        nb = res["notebook"]
        for c in res["claims"]:
            key = (nb, c["cell"], c["statement"])
            row = rows.setdefault(key, {"held": 0, "tried": 0, "failed_at": [], "worst": {}})
            row["tried"] += 1
            row["held"] += bool(c["ok"])
            if not c["ok"]:
                row["failed_at"].append(res["base"])
            # a claim about the mean only (required 0) is judged by the mean's margins, the last entry
            counted = c["margins"][-1:] if c.get("required") == 0 else c["margins"]
            for per_seed in counted:
                for label, m in per_seed:
                    if m is None:
                        m = float("-inf")
                    row["worst"][label] = min(row["worst"].get(label, float("inf")), m)
        for a in res["asserts"]:
            key = (nb, a["cell"], _statement_of_assert(Path(res["path"]), a["cell"]))
            row = rows.setdefault(key, {"held": 0, "tried": 0, "failed_at": [], "worst": {}})
            row["tried"] += 1
            row["held"] += bool(a["ok"])
            if not a["ok"]:
                row["failed_at"].append(res["base"])
    for row in rows.values():
        row["kernels"] = kernels
    return rows


def write_ledger(results_default: list[dict], results_scalar: list[dict], notebooks: list[Path],
                 ledger_json: Path = LEDGER_JSON, ledger_md: Path = LEDGER_MD) -> dict:
    old = json.loads(ledger_json.read_text(encoding="utf-8")) if ledger_json.exists() else {"claims": []}
    names = {p.name for p in notebooks}
    kept = [c for c in old.get("claims", []) if c.get("notebook") not in names]
    d = summarize(results_default, "default")
    s = summarize(results_scalar, "scalar")
    new = []
    for key in sorted(set(d) | set(s), key=lambda k: (k[0], k[1] if k[1] is not None else -1, k[2])):
        nb, cell, statement = key
        rd = d.get(key, {"held": 0, "tried": 0, "failed_at": [], "worst": {}})
        rs = s.get(key, {"held": 0, "tried": 0, "failed_at": [], "worst": {}})
        worst = {k: min(rd["worst"].get(k, float("inf")), rs["worst"].get(k, float("inf")))
                 for k in {*rd["worst"], *rs["worst"]}}
        new.append({"notebook": nb, "cell": cell, "statement": statement,
                    "held": rd["held"], "tried": rd["tried"], "failed_at": rd["failed_at"],
                    "scalar_held": rs["held"], "scalar_tried": rs["tried"], "scalar_failed_at": rs["failed_at"],
                    "worst_margin": {k: (None if v in (float("inf"), float("-inf")) else round(v, 4))
                                     for k, v in sorted(worst.items())}})
    runs = {p.name: {"date": dt.date.today().isoformat(), **_versions(),
                     "bases": [r["base"] for r in results_default if r["notebook"] == p.name],
                     "scalar_bases": [r["base"] for r in results_scalar if r["notebook"] == p.name],
                     "seconds_median": _median([r["seconds"] for r in results_default if r["notebook"] == p.name]),
                     "crashed": [f"{r['base']}: {r['crashed']}" for r in results_default + results_scalar
                                 if r["notebook"] == p.name and r["crashed"]]}
            for p in notebooks}
    ledger = {"about": "written by tools/census.py; read by coursekit.claims for the ✗ line; see CONTRIBUTING.md",
              "runs": {**old.get("runs", {}), **runs},
              "claims": sorted(kept + new, key=lambda c: (c["notebook"], c["cell"] or -1, c["statement"]))}
    ledger_json.write_text(json.dumps(ledger, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    ledger_md.write_text(render_markdown(ledger), encoding="utf-8")
    return ledger


def merge_ledgers(parts: list[Path], ledger_json: Path = LEDGER_JSON, ledger_md: Path = LEDGER_MD) -> dict:
    """Each part's notebooks replace theirs in the ledger (censuses of different notebooks run side by side)."""
    ledger = json.loads(ledger_json.read_text(encoding="utf-8"))
    for part in parts:
        other = json.loads(part.read_text(encoding="utf-8"))
        names = set(other["runs"])
        ledger["runs"].update(other["runs"])
        ledger["claims"] = [c for c in ledger["claims"] if c["notebook"] not in names] + \
            [c for c in other["claims"] if c["notebook"] in names]
    ledger["claims"].sort(key=lambda c: (c["notebook"], c["cell"] or -1, c["statement"]))
    ledger_json.write_text(json.dumps(ledger, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    ledger_md.write_text(render_markdown(ledger), encoding="utf-8")
    return ledger


def summary(ledger: dict) -> str:
    """The sentence README.md and notebook 00 quote (tests/test_census.py holds them to it): how many
    claims and checks the ledger has, on how many triplets each held."""
    claims = ledger["claims"]
    n = len(claims)
    perfect = sum(c["held"] == c["tried"] and c["scalar_held"] == c["scalar_tried"] for c in claims)
    tried = min(c["tried"] for c in claims)
    scalar = min(c["scalar_tried"] for c in claims)
    notebooks = len({c["notebook"] for c in claims})
    head = (f"all {n} claims and checks of the {notebooks} notebooks" if perfect == n
            else f"{perfect} of the {n} claims and checks of the {notebooks} notebooks")
    text = (f"{head} held on every seed triplet the census tried: at least {tried} triplets each "
            f"({3 * tried} seeds) under the default kernels and {scalar} under the scalar kernels")
    if perfect < n:
        misses = sorted(c["tried"] + c["scalar_tried"] - c["held"] - c["scalar_held"] for c in claims
                        if c["held"] < c["tried"] or c["scalar_held"] < c["scalar_tried"])
        text += (f"; the other {n - perfect} failed on {misses[0]} to {misses[-1]} triplets each "
                 f"(the ledger names them)")
    return text


def _median(xs: list[float]) -> float | None:
    xs = sorted(xs)
    return round(xs[len(xs) // 2], 1) if xs else None


def render_markdown(ledger: dict) -> str:
    lines = ["# The claim census", "",
             "Written by `tools/census.py` (`make census`); do not edit by hand. Each row is one claim or",
             "assert of a notebook: on how many seed triplets it held under the default kernels and under",
             "PyTorch's scalar kernels (as on another CPU), and its worst margin (how far the measured value",
             "stayed on the right side of its threshold; negative where it failed). See CONTRIBUTING.md.",
             "Claims whose statement changed after a census, old beside new and why: "
             "[claims-changes.md](claims-changes.md).", ""]
    for nb, run in sorted(ledger["runs"].items()):
        lines += [f"## {nb}", "",
                  f"Measured {run['date']} with Python {run['python']}, torch {run['torch']}, NumPy {run['numpy']} "
                  f"({run['machine']}); bases {_ranges(run['bases'])} (default kernels), "
                  f"{_ranges(run['scalar_bases']) or 'none'} (scalar kernels); median run {run['seconds_median']} s."]
        if run["crashed"]:
            lines.append(f"Runs that stopped early: {'; '.join(run['crashed'])}.")
        lines += ["", "| cell | claim | default | scalar | worst margin | failed at SEED |",
                  "|---:|---|---:|---:|---|---|"]
        for c in ledger["claims"]:
            if c["notebook"] != nb:
                continue
            margin = ", ".join(f"{k} {v:+.3g}" if v is not None else f"{k} NaN" for k, v in c["worst_margin"].items())
            failed = ", ".join(map(str, c["failed_at"] + c["scalar_failed_at"]))
            ok = c["held"] == c["tried"] and c["scalar_held"] == c["scalar_tried"]
            statement = c["statement"].replace("|", "\\|")
            lines.append(f"| {c['cell']} | {'' if ok else '**'}{statement}{'' if ok else '**'} | "
                         f"{c['held']}/{c['tried']} | {c['scalar_held']}/{c['scalar_tried']} | {margin} | {failed} |")
        lines.append("")
    return "\n".join(lines)


def _ranges(xs: list[int]) -> str:
    return ", ".join(map(str, xs))


# ---------------------------------------------------------------- driver

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook")
    parser.add_argument("--triplets", type=int, default=20, help="seed triplets under the default kernels")
    parser.add_argument("--scalar", type=int, default=3, help="seed triplets under the scalar kernels")
    parser.add_argument("--start", type=int, default=100, help="the first base (>= 5; the notebooks use 0-4)")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="notebooks executed at a time")
    parser.add_argument("--check", action="store_true", help="only read the ledger: exit 1 if a claim ever failed")
    parser.add_argument("--ledger", type=Path, default=LEDGER_JSON, help="the JSON ledger to update")
    parser.add_argument("--markdown", type=Path, default=LEDGER_MD, help="the readable ledger to rewrite")
    parser.add_argument("--keep", type=Path, default=None,
                        help="a folder for each run's record (every claim's numbers per seed), to recalibrate from")
    parser.add_argument("--merge", type=Path, nargs="+", default=None, metavar="LEDGER",
                        help="copy the notebooks of these ledgers (censuses run apart) into --ledger; run nothing")
    parser.add_argument("--from-records", type=Path, default=None, metavar="DIR",
                        help="write the ledger from the records a stopped census kept in DIR (--keep); run nothing")
    parser.add_argument("--job", nargs=3, metavar=("NOTEBOOK", "BASE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.job:
        run_job(Path(args.job[0]), int(args.job[1]), Path(args.job[2]))
        return 0
    if args.merge:
        merge_ledgers(args.merge, args.ledger, args.markdown)
        return 0
    if args.from_records:
        results = [json.loads(f.read_text(encoding="utf-8")) for f in sorted(args.from_records.glob("*.json"))]
        if not results:
            parser.error(f"--from-records: no census records (*.json) in {args.from_records}")
        for r in results:
            r.setdefault("scalar", False)
        paths = sorted({Path(r["path"]) for r in results})
        write_ledger([r for r in results if not r["scalar"]], [r for r in results if r["scalar"]], paths,
                     args.ledger, args.markdown)
        print(f"census: ledger written from {len(results)} records of {', '.join(p.name for p in paths)}")
        return 0
    if args.check:
        ledger = json.loads(args.ledger.read_text(encoding="utf-8"))
        bad = [c for c in ledger["claims"] if c["held"] < c["tried"] or c["scalar_held"] < c["scalar_tried"]]
        for c in bad:
            print(f"{c['notebook']} cell {c['cell']}: {c['statement']}: {c['held']}/{c['tried']}, "
                  f"scalar {c['scalar_held']}/{c['scalar_tried']}")
        print(f"census ledger: {len(ledger['claims']) - len(bad)} of {len(ledger['claims'])} claims held everywhere")
        return 1 if bad else 0
    if args.start < 5:
        parser.error(f"--start must be >= 5 (the notebooks' own seeds are 0-4); got {args.start}")
    if args.triplets < 1 or args.scalar < 0 or args.jobs < 1:
        parser.error("--triplets and --jobs must be >= 1, --scalar >= 0")
    paths = [p.resolve() for p in args.notebooks] or NOTEBOOKS
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    bases = [args.start + STEP * i for i in range(args.triplets + args.scalar)]
    jobs = [(p, b, b in bases[args.triplets:]) for b in bases for p in paths]
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="coursekit-census-"))
    print(f"census: {len(paths)} notebooks x {len(bases)} triplets ({args.scalar} on the scalar kernels), "
          f"{args.jobs} at a time; bases {bases[0]}..{bases[-1]} step {STEP}; records in {tmp}", flush=True)
    start = time.perf_counter()

    def one(job):
        path, base, scalar = job
        out = tmp / f"{path.stem}_{base}.json"
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0", **(SCALAR if scalar else {})}
        subprocess.run([sys.executable, __file__, "--job", str(path), str(base), str(out)], env=env, check=False)
        res = json.loads(out.read_text()) if out.exists() else {
            "notebook": path.name, "base": base, "seconds": 0, "crashed": "the job wrote nothing",
            "claims": [], "asserts": [], "errors": []}
        res["scalar"] = scalar
        failed = [c["statement"] for c in res["claims"] if not c["ok"]] + \
                 [f"cell {a['cell']}: {a['error']}" for a in res["asserts"] if not a["ok"]]
        print(f"{'ok  ' if not failed and not res['crashed'] else 'FAIL'} {path.name} SEED={base}"
              f"{' scalar' if scalar else ''} ({res['seconds']:.0f} s)"
              + "".join(f"\n    ✗ {f[:160]}" for f in failed) + (f"\n    {res['crashed']}" if res["crashed"] else ""),
              flush=True)
        return res

    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(one, jobs))
    ledger = write_ledger([r for r in results if not r["scalar"]], [r for r in results if r["scalar"]], paths,
                          args.ledger, args.markdown)
    names = {p.name for p in paths}
    rows = [c for c in ledger["claims"] if c["notebook"] in names]
    bad = [c for c in rows if c["held"] < c["tried"] or c["scalar_held"] < c["scalar_tried"]]
    print(f"census: {len(rows) - len(bad)} of {len(rows)} claims and asserts held on every triplet; "
          f"{time.perf_counter() - start:.0f} s; ledger {args.ledger.name}, {args.markdown.name}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
