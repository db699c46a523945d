#!/usr/bin/env python3
"""Make an nbgrader course directory from the course notebooks: the source notebooks with nbgrader's metadata.

Usage (from the project root; ``make nbgrader-source COURSE=~/course`` runs the first line):

    python tools/make_nbgrader.py ~/course                      # one assignment per notebook with exercises
    python tools/make_nbgrader.py ~/course notebooks/03_optimizers.ipynb --points adam_step=2
    python tools/make_nbgrader.py ~/course --assignment week1 notebooks/01_*.ipynb notebooks/02_*.ipynb
    python tools/make_nbgrader.py ~/course --compact --assignment drill   # the exercises only, one notebook
    python tools/make_nbgrader.py ~/course --hidden-seed 8141   # hidden cases in the grade cells

It writes ``COURSE/source/<assignment>/<notebook>.ipynb`` and, if the course has
none yet, ``COURSE/nbgrader_config.py`` (from ``deploy/nbgrader/nbgrader_config.py``).
Then the teacher runs nbgrader as usual, in ``COURSE``: ``nbgrader generate_assignment``,
``release_assignment``/``collect`` (or copy folders), ``autograde``, ``generate_feedback``.

What a source notebook is: the course notebook with nbgrader's cell metadata
added, and only these changes:

- every exercise cell, found exactly as ``make student`` finds it (the same
  function, :func:`make_student.find_exercise_cells`), becomes an nbgrader
  *solution* cell; nbgrader's ClearSolutions blanks what lies between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION``, as ``make student`` does. The
  exercise's instructions (from ``coursekit.exercises``) go in a comment above
  the BEGIN line, so the learner's copy keeps them;
- the cell that checks an exercise (``ck.exercises.check("name", name)``) becomes
  a locked *grade* cell worth the exercise's points, calling
  ``coursekit.grading.grade`` instead: the same check and the same printed line,
  and ``0`` as the cell's value when a case fails (all or nothing). With
  ``--hidden-seed``, a ``### BEGIN HIDDEN TESTS`` region in it adds hidden cases
  (``coursekit.grading.hidden_cases``); an exercise for which the seed draws none
  (``one_fix`` takes no arguments) gets no such region, and a warning says so;
- the outputs of those cells (and of later cells that use an exercise's
  function) are cleared, as in the student edition: they came from the solution.

``--compact`` makes one short notebook per assignment instead: the notebooks'
import lines and module aliases (``S = ck.surfaces``) that the exercises use and
``setup_notebook``, then for every exercise the Markdown cell before it, the
exercise and its grade cell. It autogrades in seconds, where a
whole course notebook retrains its experiments (up to a minute) per learner.

An existing source notebook that differs (a teacher's edit, hidden cases) is kept
unless ``--force``. Bad solution markers stop the tool before it writes anything,
with the same messages as ``make student``; so does a cell after an exercise that
mentions it but does not parse (a check cell with a syntax error), naming the cell
and the error.
"""
from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_student as ms  # noqa: E402  (the one definition of an exercise cell and its markers)

ROOT = Path(__file__).resolve().parents[1]
CONFIG_TEMPLATE = ROOT / "deploy" / "nbgrader" / "nbgrader_config.py"
DEFAULT_POINTS = 1.0
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
_ID_BAD = re.compile(r"[^A-Za-z0-9_-]")


class GradingError(ValueError):
    """A notebook cannot be turned into an nbgrader source notebook; the message says where and why."""


@dataclass
class Written:
    """One source notebook: where it went, its exercises and points, what happened."""

    target: str
    exercises: list[str] = field(default_factory=list)
    points: dict[str, float] = field(default_factory=dict)
    status: str = "written"  # "written", "unchanged", "kept-edited"
    warnings: list[str] = field(default_factory=list)


def _meta(grade_id: str, *, solution: bool, grade: bool, locked: bool, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": _ID_BAD.sub("_", grade_id)[:60], "locked": locked,
            "schema_version": 3, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def _instructions_comment(source: str) -> str:
    """The exercise's instructions as comment lines above each BEGIN line (kept in the learner's copy)."""
    lines = source.splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.strip() == ms.BEGIN:
            name = ms._enclosing_def(lines, i)
            message = ms._instructions(name)
            indent = line[: len(line) - len(line.lstrip())]
            out += [f"{indent}# {chunk}" for chunk in textwrap.wrap("Task: " + message, width=max(40, 94 - len(indent)))]
        out.append(line)
    return "\n".join(out)


def _check_calls(source: str, names: set[str]) -> list[tuple[ast.Call, str]]:
    """The calls ``<...>.check("name", ...)`` / ``check("name", ...)`` of an exercise in ``names``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        first = node.args[0]
        if called == "check" and isinstance(first, ast.Constant) and first.value in names:
            calls.append((node, first.value))
    return sorted(calls, key=lambda c: (c[0].lineno, c[0].col_offset))


def _grade_source(source: str, call: ast.Call, name: str, hidden_seed: int | None,
                  timeout: float | None = None) -> str:
    """The check cell's source with its check call made a grade call (and the hidden region, if any)."""
    lines = source.splitlines(keepends=True)
    if timeout is not None and not any(k.arg == "timeout" for k in call.keywords):
        close = sum(len(x) for x in lines[: call.end_lineno - 1]) + _byte_to_char(lines[call.end_lineno - 1],
                                                                                 call.end_col_offset) - 1
        source = source[:close] + f", timeout={timeout:g}" + source[close:]
        lines = source.splitlines(keepends=True)
    func = call.func
    # replace the called function's text (one line in the course's cells) by `grade`
    start = sum(len(x) for x in lines[: func.lineno - 1]) + _byte_to_char(lines[func.lineno - 1], func.col_offset)
    end = sum(len(x) for x in lines[: func.end_lineno - 1]) + _byte_to_char(lines[func.end_lineno - 1],
                                                                            func.end_col_offset)
    body = source[:start] + "grade" + source[end:]
    imports = "from coursekit.grading import grade" + (", hidden_cases" if hidden_seed is not None else "")
    parts = [imports, ""]
    if hidden_seed is not None:
        parts += [BEGIN_HIDDEN, f"hidden_cases({name!r}, seed={hidden_seed})", END_HIDDEN]
    return "\n".join(parts + [body.rstrip("\n")])


def _byte_to_char(line: str, col: int) -> int:
    return len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))


def _clear(cell) -> None:
    cell.outputs = []
    cell.execution_count = None


def nbgrader_notebook(nb, label: str, points: dict[str, float] | None = None, default_points: float = DEFAULT_POINTS,
                      hidden_seed: int | None = None, timeout: float | None = None):
    """Return ``(source_notebook, exercises, points, warnings)`` for one course notebook.

    ``nb`` is not modified. Raises :class:`make_student.MarkerError` for malformed
    markers and :class:`GradingError` for a cell that checks several exercises.
    """
    points = dict(points or {})
    nb = copy.deepcopy(nb)
    found = ms.find_exercise_cells(nb, label)
    names = [n for f in found for n in f.names]
    warnings: list[str] = []
    graded: dict[str, float] = {}
    if not found:
        return nb, [], {}, []
    first = found[0].index
    for f in found:
        cell = nb.cells[f.index]
        if f.top_level:
            warnings.append(f"{f.where}: a solution block outside a function: blanked, but no check grades it")
        cell.source = _instructions_comment(cell.source)
        cell.metadata["nbgrader"] = _meta("_".join(f.names) or f"solution_{f.index + 1}", solution=True,
                                          grade=False, locked=False)
        cell.metadata["coursekit"] = {"exercises": list(f.names)}
        _clear(cell)
    uses = re.compile(r"(?<![.\w])(" + "|".join(map(re.escape, names)) + r")\b") if names else None
    exercise_indices = {f.index for f in found}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or i in exercise_indices or i < first:
            continue
        problem = _syntax_error(cell.source)
        if problem is not None and uses is not None and uses.search(cell.source):
            mentioned = ", ".join(dict.fromkeys(uses.findall(cell.source)))
            raise GradingError(f"{ms._where(label, i, cell)}: does not parse ({problem}), so it cannot check "
                               f"{mentioned}: fix the cell")
        calls = _check_calls(cell.source, set(names) - set(graded))
        if len(calls) > 1:
            raise GradingError(f"{ms._where(label, i, cell)}: checks {len(calls)} exercises "
                               f"({', '.join(n for _, n in calls)}); nbgrader scores a cell as one: "
                               "put each check in its own cell")
        if calls:
            call, name = calls[0]
            graded[name] = float(points.pop(name, default_points))
            seed = hidden_seed
            if hidden_seed is not None:
                drawn, why = _seeded_cases(name, hidden_seed)
                if not drawn:
                    seed = None
                    warnings.append(f"{label}: {name}: --hidden-seed draws no hidden case for it ({why}); its grade "
                                    "cell has no hidden tests" + ("" if "no arguments" in why else
                                    f": write some with hidden_cases({name!r}, cases=[...]) in the source notebook"))
            cell.source = _grade_source(cell.source, call, name, seed, timeout)
            cell.metadata["nbgrader"] = _meta(f"check_{name}", solution=False, grade=True, locked=True,
                                              points=graded[name])
            cell.metadata["coursekit"] = {"exercises": [name]}
            _clear(cell)
        elif uses is not None and uses.search(cell.source):
            _clear(cell)  # its outputs came from the solution
    for name in names:
        if name not in graded:
            warnings.append(f"{label}: exercise {name} has no check cell after it: blanked but not graded")
    nb.metadata["coursekit"] = {"edition": "nbgrader-source", "source": label, "exercises": names}
    nbformat.validate(nb)
    return nb, names, graded, warnings


def _seeded_cases(name: str, seed: int) -> tuple[int, str | None]:
    """How many hidden cases ``hidden_cases(name, seed=seed)`` draws in the grade cell, and why none if none."""
    from coursekit.exercises import EXERCISES
    from coursekit.grading import seeded_cases

    if name not in EXERCISES:
        return 0, f"coursekit.exercises has no exercise {name!r}"
    cases, why = seeded_cases(name, seed)
    return len(cases), why


def _syntax_error(source: str) -> str | None:
    """Why a code cell does not parse as Python (IPython's magics and shell escapes allowed), or None."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except Exception:  # no IPython: parse it as it is
        pass
    try:
        ast.parse(source)
    except SyntaxError as err:
        return f"SyntaxError on line {err.lineno}: {err.msg}"
    return None


def compact_notebook(parts: list[tuple[str, object]], only: set[str] | None = None):
    """One notebook holding the exercises of several source notebooks (made by :func:`nbgrader_notebook`).

    ``parts`` is ``[(label, source_notebook), ...]``. The first code cell holds
    the notebooks' import lines that the exercises use (in order, once each), their
    module aliases that the exercises use (``S = ck.surfaces``) and, if they call
    it, ``ck.setup_notebook(seed=0)``; then per exercise the Markdown cell before
    it, the exercise cell and its grade cell. ``only``: just these exercises.
    """
    imports: list[str] = []
    imported = {"ck"}  # the names the import lines bind
    aliases: list[tuple[str, str]] = []  # (line, the name its module comes from)
    setup = False
    cells = []
    for label, nb in parts:
        stem = Path(label).stem
        section = []

        def wanted(cell) -> bool:
            meta = cell.metadata.get("nbgrader", {})
            if not (meta.get("solution") or meta.get("grade")):
                return False
            return only is None or bool(only & set(cell.metadata.get("coursekit", {}).get("exercises", [])))

        needed = set().union(*[_free_names(c.source) for c in nb.cells
                               if wanted(c) and c.metadata["nbgrader"]["solution"]])
        plain = [c for c in nb.cells if c.cell_type == "code" and "nbgrader" not in c.metadata]
        for cell in plain:
            for line, name, root in _alias_lines(cell.source):
                if name in needed and (line, root) not in aliases:
                    aliases.append((line, root))
                    needed.add(root)  # and the import of its module
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and "nbgrader" not in cell.metadata:
                setup |= "setup_notebook(" in cell.source
                for line, bound in _import_lines(cell.source):
                    # only what the exercises use (the notebook's other imports would slow every kernel start)
                    if line not in imports and needed.intersection(bound):
                        imports.append(line)
                        imported.update(bound)
            meta = cell.metadata.get("nbgrader", {})
            if wanted(cell):
                if meta.get("solution"):
                    text = next((c for c in reversed(nb.cells[:i]) if c.cell_type == "markdown"), None)
                    if text is not None and text not in section:
                        section.append(text)
                section.append(cell)
        if section:
            cells.append(nbformat.v4.new_markdown_cell(f"## The exercises of `{Path(label).name}`"))
            for cell in section:
                cell = copy.deepcopy(cell)
                if "id" in cell:
                    cell["id"] = _ID_BAD.sub("-", f"{stem[:2]}-{cell['id']}")[:64]
                if cell.cell_type == "code":
                    _clear(cell)
                cells.append(cell)
    if "import coursekit as ck" not in imports:
        imports.insert(0, "import coursekit as ck")
    prelude = "\n".join(imports)
    alias_lines = [line for line, root in aliases if root in imported]
    if alias_lines:
        prelude += "\n\n" + "\n".join(alias_lines)
    if setup:
        prelude += "\n\nck.setup_notebook(seed=0)"
    names = [Path(label).name for label, _ in parts]
    head = nbformat.v4.new_markdown_cell(
        "# Exercises\n\nThe exercises of " + ", ".join(f"`{n}`" for n in names) + ". Run the first cell, then "
        "for each exercise fill in the function and run the check cell under it.")
    nb = nbformat.v4.new_notebook(cells=[head, nbformat.v4.new_code_cell(prelude), *cells])
    first = parts[0][1].metadata if parts else {}
    nb.metadata = {k: copy.deepcopy(first[k]) for k in ("kernelspec", "language_info") if k in first}
    nb.metadata["coursekit"] = {"edition": "nbgrader-source", "source": names,
                                "exercises": [n for _, p in parts for n in p.metadata.get("coursekit", {})
                                              .get("exercises", []) if only is None or n in only]}
    nbformat.validate(nb)
    return nb


def _free_names(source: str) -> set[str]:
    """The global names a cell's code reads (its functions' parameters and local variables left out)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    free: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            local = {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg] if x is not None}
            local |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            free |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                     and n.id not in local}
    top = [n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for stmt in top:
        free |= {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return free


def _top_level(source: str) -> list[ast.stmt]:
    """The top-level statements of a cell; none if it does not parse (a learner's half-written cell)."""
    try:
        return ast.parse(source).body
    except SyntaxError:
        return []


def _alias_lines(source: str) -> list[tuple[str, str, str]]:
    """The top-level ``NAME = module.attribute`` lines of a cell (``S = ck.surfaces``): (line, NAME, module)."""
    found = []
    for node in _top_level(source):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Attribute)):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name):
                found.append((ast.get_source_segment(source, node), node.targets[0].id, root.id))
    return found


def _import_lines(source: str) -> list[tuple[str, list[str]]]:
    """The top-level import statements of a cell, each with the names it binds."""
    found = []
    for node in _top_level(source):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound = [(a.asname or a.name).split(".")[0] for a in node.names]
            found.append((ast.get_source_segment(source, node), bound))
    return found


def _write(nb, target: Path, force: bool) -> str:
    text = nbformat.writes(nb)
    text += "" if text.endswith("\n") else "\n"
    if target.exists():
        if target.read_text(encoding="utf-8") == text:
            return "unchanged"
        if not force:
            return "kept-edited"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return "written"


def generate(sources: list[Path], course: Path, *, assignment: str | None = None, compact: bool = False,
             points: dict[str, float] | None = None, default_points: float = DEFAULT_POINTS,
             hidden_seed: int | None = None, force: bool = False, course_id: str = "coursekit",
             only: list[str] | None = None, timeout: float | None = None) -> list[Written]:
    """Write the nbgrader source notebooks of ``sources`` into ``course/source/`` (and a config if none).

    Without ``assignment``, one assignment per notebook that has exercises, named
    after the notebook (``03_optimizers``); with it, every notebook in that one.
    Everything is converted before anything is written. ``only`` (with ``compact``):
    just these exercises.
    """
    points = dict(points or {})
    if only is not None and not compact:
        raise GradingError("--only picks exercises for a --compact assignment; add --compact")
    wanted = set(only) if only is not None else None
    unknown = (set(points) | (wanted or set())) - _known_exercises()
    if unknown:
        raise GradingError(f"--points or --only names no exercise: {', '.join(sorted(unknown))}")
    converted, problems = [], []
    for src in sources:
        label = ms._label(src)
        try:
            nb = nbformat.read(src, as_version=4)
            converted.append((src, label, *nbgrader_notebook(nb, label, points, default_points, hidden_seed,
                                                             timeout)))
        except (ms.MarkerError, GradingError) as err:
            problems.append(str(err))
        except Exception as err:
            problems.append(f"{label}: not a readable notebook ({type(err).__name__}: {err})")
    if problems:
        raise GradingError("\n".join(problems))

    groups: dict[str, list] = {}
    for src, label, nb, names, graded, warnings in converted:
        if not names or (wanted is not None and not wanted & set(names)):
            continue  # nothing to grade
        groups.setdefault(assignment or Path(src).stem, []).append((src, label, nb, names, graded, warnings))
    written = []
    for name, items in groups.items():
        folder = course / "source" / name
        if compact:
            nb = compact_notebook([(label, nb) for _, label, nb, *_ in items], wanted)
            report = Written(ms._label(folder / f"{name}.ipynb"))
            for *_, names, graded, warnings in items:
                report.exercises += [n for n in names if wanted is None or n in wanted]
                report.points.update({n: p for n, p in graded.items() if wanted is None or n in wanted})
                report.warnings += warnings
            report.status = _write(nb, folder / f"{name}.ipynb", force)
            written.append(report)
            continue
        for src, label, nb, names, graded, warnings in items:
            target = folder / Path(src).name
            report = Written(ms._label(target), names, graded, warnings=warnings)
            report.status = _write(nb, target, force)
            written.append(report)
    config = course / "nbgrader_config.py"
    if not config.exists():
        course.mkdir(parents=True, exist_ok=True)
        text = CONFIG_TEMPLATE.read_text(encoding="utf-8")
        config.write_text(text.replace('"coursekit"', repr(course_id).replace("'", '"'), 1), encoding="utf-8")
    return written


def _known_exercises() -> set[str]:
    from coursekit.exercises import EXERCISES

    return set(EXERCISES)


def _parse_points(items: list[str]) -> tuple[float | None, dict[str, float]]:
    default, per = None, {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            if sep:
                per[key.strip()] = float(value)
            else:
                default = float(item)
        except ValueError:
            raise GradingError(f"--points takes a number or NAME=NUMBER; got {item!r}") from None
    return default, per


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("course", type=Path, help="the nbgrader course directory (created if missing)")
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN_*.ipynb")
    parser.add_argument("--assignment", help="put every notebook into this one assignment")
    parser.add_argument("--compact", action="store_true", help="one notebook per assignment: the exercises only")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="with --compact: only this exercise (repeatable), e.g. for a quiz")
    parser.add_argument("--points", action="append", default=[], metavar="N|NAME=N",
                        help=f"points per exercise (default {DEFAULT_POINTS:g}), or for one exercise; repeatable")
    parser.add_argument("--hidden-seed", type=int, help="add hidden cases, seeded by this secret number, to each "
                        "grade cell (in nbgrader's hidden-tests region; a warning names each exercise that gets none)")
    parser.add_argument("--timeout", type=float, help="seconds each case of a check may take (default: check's "
                        "5 s); more for a busy grading server or for exercises whose checks train networks")
    parser.add_argument("--course-id", default="coursekit", help="course id for a new nbgrader_config.py")
    parser.add_argument("--force", action="store_true", help="overwrite source notebooks that differ")
    args = parser.parse_args(argv)
    sources = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    try:
        default, per = _parse_points(args.points)
        written = generate([Path(s) for s in sources], args.course, assignment=args.assignment,
                           compact=args.compact, points=per,
                           default_points=DEFAULT_POINTS if default is None else default,
                           hidden_seed=args.hidden_seed, force=args.force, course_id=args.course_id,
                           only=args.only, timeout=args.timeout)
    except (GradingError, ms.MarkerError) as err:
        print("make_nbgrader: nothing written:", file=sys.stderr)
        for line in str(err).splitlines():
            print(f"  {line}", file=sys.stderr)
        return 1
    total = 0.0
    for w in written:
        note = {"written": "", "unchanged": " (unchanged)",
                "kept-edited": " (KEPT: it differs from what this tool writes; --force overwrites it)"}[w.status]
        pts = ", ".join(f"{n} {p:g}" for n, p in w.points.items())
        print(f"{w.target}: {len(w.exercises)} exercise(s), {sum(w.points.values()):g} points ({pts}){note}")
        for warning in w.warnings:
            print(f"  warning: {warning}", file=sys.stderr)
        total += sum(w.points.values())
    print(f"{len(written)} source notebooks, {total:g} points. Next, in {args.course}: "
          "nbgrader generate_assignment <assignment>")
    return 0


if __name__ == "__main__":
    sys.exit(main())
