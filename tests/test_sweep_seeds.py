"""tools/sweep_seeds.py: which notebooks the sweep runs on fresh seeds, and how a run is replayed."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SPEC = importlib.util.spec_from_file_location("sweep_seeds", Path(__file__).resolve().parents[1] / "tools" / "sweep_seeds.py")
sweep = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(sweep)


def _row(nb, held, tried, scalar_held=2, scalar_tried=2):
    return {"notebook": nb, "statement": "x", "held": held, "tried": tried, "scalar_held": scalar_held,
            "scalar_tried": scalar_tried}


def test_only_notebooks_whose_every_claim_held_on_twenty_triplets_or_more_get_fresh_seeds(tmp_path, monkeypatch):
    ledger = tmp_path / "ledger.json"
    ledger.write_text(json.dumps({"claims": [
        _row("a.ipynb", 22, 22), _row("a.ipynb", 20, 20),       # calibrated
        _row("b.ipynb", 21, 22),                                 # failed once
        _row("c.ipynb", 10, 10),                                 # too few triplets
        _row("d.ipynb", 20, 20, scalar_held=1),                  # failed on the scalar kernels
    ]}))
    monkeypatch.setattr(sweep, "LEDGER", ledger)
    assert sweep.calibrated() == {"a.ipynb"}
    monkeypatch.setattr(sweep, "LEDGER", tmp_path / "missing.json")
    assert sweep.calibrated() == set()


def test_fresh_seeds_avoid_the_committed_ones_and_can_be_replayed(monkeypatch):
    monkeypatch.delenv("COURSEKIT_SWEEP_SEED", raising=False)
    a, b = sweep.fresh_seeds()
    assert 1000 <= a < 10000 and b == a + 1
    assert sweep.fresh_seeds() == (a, b), "the same commit should give the same seeds"
    monkeypatch.setenv("COURSEKIT_SWEEP_SEED", "4321")
    assert sweep.fresh_seeds() == (4321, 4322)
