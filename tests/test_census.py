"""tools/census.py: notebooks over seed triplets, without stopping at a failed claim; the ledger it writes."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[1] / "tools" / "census.py"


def _notebook(path: Path) -> Path:
    def code(source, tags=()):
        return {"cell_type": "code", "metadata": {"tags": list(tags)}, "source": source, "outputs": [],
                "execution_count": None}
    cells = [
        code("SEED = 0", tags=["parameters"]),
        code("import coursekit as ck\n"
             "runs = ck.claims.over_seeds(lambda s: {'x': float(s % 20)}, ck.claims.seeds(SEED))\n"
             "ck.claims.claim('x stays below 12', runs, lambda r: ck.claims.below(r['x'], 12, 'x'))"),
        code("assert SEED < 15, 'SEED should be below 15'"),
        code("open('last_cell_ran.txt', 'w').write(str(SEED))"),
    ]
    path.write_text(json.dumps({"cells": cells, "metadata": {"kernelspec": {"name": "python3"}},
                                "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_the_census_goes_on_past_failures_and_counts_them_per_claim(tmp_path):
    nb = _notebook(tmp_path / "tiny.ipynb")
    ledger, md = tmp_path / "ledger.json", tmp_path / "ledger.md"
    # SEED 10: seeds 10-12, x reaches 12 at seed 12 (the claim fails), the assert holds;
    # SEED 20: seeds 20-22, x is 0-2 (the claim holds), the assert fails
    result = subprocess.run([sys.executable, str(TOOL), str(nb), "--triplets", "2", "--scalar", "0", "--start", "10",
                             "-j", "1", "--ledger", str(ledger), "--markdown", str(md)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr  # a claim failed somewhere
    assert (tmp_path / "last_cell_ran.txt").read_text() == "20", "every run should reach the last cell"
    rows = {r["statement"].split(":")[0]: r for r in json.loads(ledger.read_text())["claims"]}
    claim, check = rows["x stays below 12"], rows["assert in cell 2"]
    assert (claim["held"], claim["tried"], claim["failed_at"]) == (1, 2, [10])
    assert claim["worst_margin"] == {"x": 0.0}  # 12 is not below 12: no room left
    assert (check["held"], check["tried"], check["failed_at"]) == (1, 2, [20])
    assert claim["cell"] == 1 and check["cell"] == 2
    text = md.read_text()
    assert "| 1 | **x stays below 12** | 1/2 |" in text and "## tiny.ipynb" in text
    check_only = subprocess.run([sys.executable, str(TOOL), "--check", "--ledger", str(ledger)],
                                capture_output=True, text=True, timeout=60)
    assert check_only.returncode == 1 and "0 of 2 claims held everywhere" in check_only.stdout


def test_seeds_the_notebooks_use_are_refused():
    result = subprocess.run([sys.executable, str(TOOL), "--start", "2"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--start must be >= 5" in result.stderr


def test_kept_records_hold_every_seeds_numbers_and_ledgers_merge(tmp_path):
    nb = _notebook(tmp_path / "tiny.ipynb")
    keep, part, part_md = tmp_path / "records", tmp_path / "part.json", tmp_path / "part.md"
    subprocess.run([sys.executable, str(TOOL), str(nb), "--triplets", "1", "--scalar", "0", "--start", "20", "-j", "1",
                    "--ledger", str(part), "--markdown", str(part_md), "--keep", str(keep)],
                   capture_output=True, text=True, timeout=300)
    record = json.loads((keep / "tiny_20.json").read_text())
    (claim,) = record["claims"]
    assert [r["x"] for r in claim["results"]] == [0.0, 1.0, 2.0], "the seeds 20-22 give x = 0, 1, 2"
    assert record["scalar"] is False, "the default kernels: ATEN_CPU_CAPABILITY was not set"
    # a stopped census's records give the same ledger rows
    rebuilt = tmp_path / "rebuilt.json"
    subprocess.run([sys.executable, str(TOOL), "--from-records", str(keep), "--ledger", str(rebuilt),
                    "--markdown", str(tmp_path / "rebuilt.md")], check=True, capture_output=True, timeout=60)
    assert json.loads(rebuilt.read_text())["claims"] == json.loads(part.read_text())["claims"]
    # a ledger of another notebook keeps its rows; the part's notebook replaces its own
    main, written = tmp_path / "ledger.json", json.loads(part.read_text())
    row = next(c for c in written["claims"] if c["statement"] == "x stays below 12")
    main.write_text(json.dumps({"runs": {"other.ipynb": written["runs"]["tiny.ipynb"], "tiny.ipynb": {}},
                                "claims": [{**row, "notebook": "other.ipynb", "statement": "kept"},
                                           {**row, "statement": "stale"}]}))
    merged = subprocess.run([sys.executable, str(TOOL), "--merge", str(part), "--ledger", str(main),
                             "--markdown", str(tmp_path / "ledger.md")], capture_output=True, text=True, timeout=60)
    assert merged.returncode == 0, merged.stderr
    statements = {c["statement"] for c in json.loads(main.read_text())["claims"]}
    assert "kept" in statements and "stale" not in statements and "x stays below 12" in statements


def _census_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location("census_tool", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_summary_counts_what_held_and_what_did_not():
    census = _census_module()
    row = {"notebook": "a.ipynb", "held": 20, "tried": 20, "scalar_held": 2, "scalar_tried": 2}
    assert census.summary({"claims": [row, {**row, "notebook": "b.ipynb"}]}) == (
        "all 2 claims and checks of the 2 notebooks held on every seed triplet the census tried: at least "
        "20 triplets each (60 seeds) under the default kernels and 2 under the scalar kernels")
    text = census.summary({"claims": [row, {**row, "held": 19}]})
    assert text.startswith("1 of the 2 claims and checks of the 1 notebooks held") and "failed on 1 to 1 triplets each" in text


def test_readme_and_notebook_00_quote_the_committed_ledger():
    """What SEED promises is the measured rate: both texts hold the ledger's summary sentence."""
    import nbformat

    census = _census_module()
    sentence = census.summary(json.loads(census.LEDGER_JSON.read_text(encoding="utf-8")))
    root = TOOL.parents[1]
    flat = " ".join((root / "README.md").read_text(encoding="utf-8").split())
    assert sentence in flat, f"README.md should quote the ledger's summary: {sentence!r}"
    nb = nbformat.read(root / "notebooks" / "00_start_here.ipynb", as_version=4)
    text = " ".join(" ".join(c.source.split()) for c in nb.cells if c.cell_type == "markdown")
    assert sentence in text, f"notebook 00 should quote the ledger's summary: {sentence!r}"


def test_a_mean_only_claims_worst_margin_is_the_means():
    census = _census_module()
    claim = {"cell": 3, "statement": "x stays below 0.5 on average", "ok": True, "required": 0,
             "margins": [[["x", -0.4]], [["x", 0.5]], [["x", 0.2]], [["x", 0.1]]]}
    rows = census.summarize([{"notebook": "a.ipynb", "base": 300, "claims": [claim], "asserts": []}], "default")
    assert rows[("a.ipynb", 3, claim["statement"])]["worst"] == {"x": 0.1}
    rows = census.summarize([{"notebook": "a.ipynb", "base": 300, "claims": [{**claim, "required": 3}],
                              "asserts": []}], "default")
    assert rows[("a.ipynb", 3, claim["statement"])]["worst"] == {"x": -0.4}
