"""The package's layout rules (CONTRIBUTING.md, "Architecture"), checked on the source itself.

- Topic modules compute; only the figures layer (``coursekit/plots/``) and
  ``coursekit/widgets.py`` import matplotlib or ipywidgets.
- Topic modules never import the figures layer or the widgets.
- Sibling modules are imported at the top of a module, never inside a function
  (``coursekit/__init__.py`` loads its submodules lazily on purpose).
- The graph of imports between coursekit modules has no cycle.
- No module is much over 500 lines.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "coursekit"
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))
DRAWING = ("matplotlib", "ipywidgets", "IPython.display")
MAX_LINES = 560  # "about 500"; the readable RBM class alone is about 490 (see CONTRIBUTING)
LONG_ALLOWED: dict[str, int] = {}  # no exceptions: a module over MAX_LINES is split by what it is for


def _name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_figures(path: Path) -> bool:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] == "plots" or rel.name == "widgets.py"


def _imports(path: Path, me: str | None = None) -> list[tuple[str, bool, int]]:
    """(absolute module name, at module level?, line) for every import in ``path`` (module ``me``)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    me = me or _name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    found = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend((a.name, top, child.lineno) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - child.level + 1]
                    mod = ".".join(base + ([child.module] if child.module else []))
                else:
                    mod = child.module or ""
                found.append((mod, top, child.lineno))
                if child.module is None or child.level:  # "from . import x" names submodules
                    found.extend((f"{mod}.{a.name}", top, child.lineno) for a in child.names)
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # annotations only: never runs
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, False)
            else:
                visit(child, top)

    visit(tree, True)
    return found


def _modules_known() -> set[str]:
    return {_name(p) for p in MODULES}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_figures_layer_and_widgets_import_matplotlib(path):
    if _is_figures(path):
        return
    bad = [(m, line) for m, _, line in _imports(path) if m.split(".")[0] in ("matplotlib", "ipywidgets")
           or m.startswith("IPython.display")]
    assert not bad, f"{path.name} imports drawing libraries {bad}: move the drawing to coursekit/plots/"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_topic_modules_do_not_import_the_figures_layer(path):
    rel = path.relative_to(PACKAGE)
    if _is_figures(path) or rel.name in ("__init__.py", "notebook.py"):
        return  # notebook.setup_notebook applies the course's figure style
    bad = [(m, line) for m, _, line in _imports(path) if m.startswith(("coursekit.plots", "coursekit.widgets"))]
    assert not bad, f"{rel} imports the figures layer {bad}: topic modules return numbers, plots draws them"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_sibling_modules_are_imported_at_the_top(path):
    if path == PACKAGE / "__init__.py":
        return  # lazy submodules keep `import coursekit` light
    known = _modules_known()
    local = [(m, line) for m, top, line in _imports(path) if not top and (m in known or m == "coursekit")]
    assert not local, f"{path.relative_to(PACKAGE)} imports coursekit modules inside functions {local}"


def test_the_import_graph_has_no_cycle():
    known = _modules_known()
    graph = {}
    for path in MODULES:
        me = _name(path)
        deps = set()
        for m, top, _ in _imports(path):
            if not top or m == me:
                continue
            while m and m not in known:
                m = m.rpartition(".")[0]
            if m and m != me and not me.startswith(m + ".") and m != "coursekit":
                deps.add(m)
        graph[me] = deps
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                cycle = stack[stack.index(dep):] + [dep]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                walk(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_much_over_500_lines(path):
    n = len(path.read_text().splitlines())
    limit = LONG_ALLOWED.get(str(path.relative_to(PACKAGE)), MAX_LINES)
    assert n <= limit, f"{path.relative_to(PACKAGE)} has {n} lines (limit {limit}): split it by what it is for"


def test_the_rules_see_real_violations(tmp_path):
    """The checker itself: a function-local sibling import and a matplotlib import are found."""
    fake = tmp_path / "probe.py"
    fake.write_text("import torch\n\ndef f():\n    from .data import load\n    import matplotlib.pyplot as plt\n")
    found = _imports(fake, "coursekit.probe")
    assert ("coursekit.data", False, 4) in found and ("matplotlib.pyplot", False, 5) in found
    assert ("torch", True, 1) in found


def test_claims_do_not_depend_on_the_diagnostics():
    # a claim over seeds needs a table, not the hooks: StatsTable lives in coursekit/tables.py
    imported = {m for m, _, _ in _imports(PACKAGE / "claims.py")}
    assert "coursekit.diagnostics" not in imported, "claims.py should import StatsTable from coursekit.tables"
