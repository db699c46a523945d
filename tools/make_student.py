#!/usr/bin/env python3
"""Generate the student editions of the notebooks: exercises become stubs, answers disappear.

Usage (from the project root; ``make student`` runs the first line):

    python tools/make_student.py                      # every notebooks/NN_*.ipynb -> student/
    python tools/make_student.py notebooks/03_optimizers.ipynb
    python tools/make_student.py --force              # also overwrite copies you have edited

The notebooks in ``notebooks/`` are the instructor source: complete, executed and
tested by nbval. An exercise there is a code cell whose solution sits between two
marker lines (the nbgrader convention)::

    def adam_step(theta, m, v, grad, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        \"\"\"One Adam step; returns (theta, m, v).\"\"\"
        ### BEGIN SOLUTION
        ...the reference solution...
        ### END SOLUTION

and the cell after it checks it: ``ck.exercises.check("adam_step", adam_step)``.

For each notebook, the student edition in ``student/`` (which git ignores) is the
same notebook with these changes, and only these:

- every solution block, markers included, is replaced by one stub line at the
  same indentation, ``raise NotImplementedError("<the exercise's instructions>")``
  (the instructions come from ``coursekit.exercises``); the lines before and after
  the markers (the ``def`` line, the docstring, a ``return``) stay;
- outputs are cleared, and execution counts reset, in the exercise cells and in
  every later code cell that uses an exercise's function (the check cells, for
  a start). Those outputs came from the reference solution: a check cell would
  show a ✓ the learner has not earned yet, and a cell that runs the solution
  could print the very numbers the exercise asks for;
- all other outputs stay: the figures, tables and checked numbers come from the
  course's own experiments and ``coursekit``, not from the exercises, they are
  what the text talks about, and keeping them lets a learner read a notebook
  (and see where it is going) before running it. They reveal nothing the text
  does not already say;
- a short note at the top says how to work through the exercises, where to peek
  when stuck (the instructor notebook in ``notebooks/``: there in a clone and on
  Binder, on a class hub once the teacher hands out the solutions) and how the
  learner's edits are kept on each route (``make student``, the hub's link, Binder);
- the notebook's metadata records that it is a student edition and a hash of its
  cells' sources, which is how a later run recognises a copy the learner has
  edited: such a copy is kept (and reported) unless ``--force`` is given.

Every other cell is kept exactly, so the student edition runs top to bottom
(*Run All*): a stub raises only when its function is called, and a check cell
catches that and prints "not implemented yet" instead of stopping the run.
Running the tool twice gives byte-identical files.

Which cells are exercise cells is decided by :func:`find_exercise_cells`, which
``tools/make_nbgrader.py`` uses too, so nbgrader's copies blank the same cells.

Bad markers stop the tool before it writes anything, with an error that names the
notebook and the cell: a BEGIN without END, an END without BEGIN, a BEGIN inside
a block, a marker in a Markdown cell, or a line that looks like a marker but is
not written exactly ``### BEGIN SOLUTION`` / ``### END SOLUTION`` (``### BEGIN
SOLUTIONS``, ``SOLUTON``, ``BEGIN_SOLUTION``, ``BEGIN-SOLUTION``...: see
:func:`near_marker`, which ``make_nbgrader.py`` uses too), so that a typo can never
leak a solution into a student edition.
"""
from __future__ import annotations

import argparse
import copy
import difflib
import hashlib
import json
import os
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
# A line that looks like a marker, written loosely (``## begin solution``, ``### BEGIN SOLUTIONS``,
# ``### BEGIN_SOLUTION``, ``# END-SOLUTON``, ``### SOLUTION BEGIN``): a comment whose first two words are
# a begin/end word and a word close to "solution" (either order, or run together). nbgrader itself takes any
# line *containing* "BEGIN SOLUTION" / "END SOLUTION" for a marker, so such a line that is not exactly one
# is caught too. Used by both tools (make_nbgrader.py imports it), so a typo can never leak a solution.
_COMMENT = re.compile(r"^\s*#+(?P<text>.*)$")
_WORD = re.compile(r"[A-Za-z]+")
_VERBS = ("begin", "end", "start", "stop")
_DEF = re.compile(r"^(\s*)def\s+([A-Za-z_]\w*)\s*\(")
BANNER_ID = "student-edition-note"
FALLBACK_INSTRUCTIONS = "write your solution here (see the exercise above), then run the check below it."


class MarkerError(ValueError):
    """A notebook's solution markers are malformed; the message names the notebook and the cell."""


def _solution_like(word: str) -> bool:
    word = word.lower()
    return word in ("sol", "soln", "solns") or (len(word) >= 5 and difflib.SequenceMatcher(
        None, word, "solution").ratio() >= 0.8)


def _verb_like(word: str) -> bool:
    word = word.lower()
    return word in _VERBS or word in ("begins", "beginning", "ends", "edn", "bgin", "begn", "beign", "start")


def _split_run_together(word: str) -> bool:
    """``BEGINSOLUTION``, ``endsolutions``: a begin/end word run together with a solution word."""
    low = word.lower()
    return any(low.startswith(v) and _solution_like(low[len(v):]) for v in _VERBS)


def marker_kind(line: str) -> str | None:
    """``"begin"`` or ``"end"`` for a line that is exactly a solution marker (spaces around it aside), else None."""
    stripped = line.strip()
    return "begin" if stripped == BEGIN else "end" if stripped == END else None


def near_marker(line: str, code: bool = True) -> bool:
    """True if ``line`` looks like a solution marker but is not exactly one: both tools refuse such a line.

    A comment whose first two words are a begin/end word and a word close to "solution" (in either
    order, or run together as one word), and, in code (``code=True``), any line that nbgrader itself
    would take for a marker (it contains ``BEGIN SOLUTION`` or ``END SOLUTION``). Prose and code that
    merely mention a solution (``# begin with the solution above``, ``begin_solution = 3``) are not.
    """
    if marker_kind(line) is not None:
        return False
    if code and ("BEGIN SOLUTION" in line or "END SOLUTION" in line):
        return True
    comment = _COMMENT.match(line)
    if comment is None:
        return False
    words = _WORD.findall(comment.group("text"))[:2]
    if not words:
        return False
    if _split_run_together(words[0]):
        return True
    if len(words) < 2:
        return False
    first, second = words
    return (_verb_like(first) and _solution_like(second)) or (_solution_like(first) and _verb_like(second))


@dataclass
class Report:
    """What happened to one notebook."""

    source: str
    target: str
    exercises: list[str] = field(default_factory=list)
    cleared: int = 0
    status: str = "written"  # "written", "unchanged", "kept-edited"
    warnings: list[str] = field(default_factory=list)


def _label(path: Path) -> str:
    """A path as the learner would type it: relative to the project or working folder."""
    path = Path(path).resolve()
    for base in (ROOT, Path.cwd()):
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            continue
    return path.name


def _where(nb_label: str, index: int, cell) -> str:
    first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
    if len(first) > 50:
        first = first[:47] + "..."
    return f"{nb_label}, cell {index + 1} ({cell.cell_type} cell starting {first!r})"


FALLBACK_INSTRUCTIONS_KO = "위 연습 문제를 보고 여기에 답을 작성한 다음, 아래의 확인 셀을 실행한다."


def _translator(lang: str):
    """``text -> text in lang``: the package's own catalog (coursekit/locale), where the exercises'
    instructions are translated; English is the text itself."""
    if lang == "en":
        return lambda text: text
    import gettext

    from coursekit import _i18n

    catalog = gettext.translation(_i18n.DOMAIN, localedir=str(_i18n.LOCALE_DIR), languages=[lang])
    return catalog.gettext


def _instructions(name: str | None, lang: str = "en") -> str:
    fallback = FALLBACK_INSTRUCTIONS_KO if lang == "ko" else FALLBACK_INSTRUCTIONS
    if name is None:
        return fallback
    try:
        from coursekit.exercises import EXERCISES
    except Exception:  # pragma: no cover - coursekit not importable: still make the editions
        return f"{name}: {fallback}"
    ex = EXERCISES.get(name)
    return f"{name}: {_translator(lang)(ex.instructions)}" if ex is not None else f"{name}: {fallback}"


def _py_string(text: str) -> str:
    return f'"{text}"' if '"' not in text and "\\" not in text else repr(text)


def stub_lines(indent: str, message: str, width: int = 96) -> list[str]:
    """``raise NotImplementedError("message")`` at ``indent``, wrapped to ``width`` columns."""
    one = f"{indent}raise NotImplementedError({_py_string(message)})"
    if len(one) <= width:
        return [one]
    chunks = textwrap.wrap(message, width=max(30, width - len(indent) - 8), drop_whitespace=False)
    lines = [f"{indent}raise NotImplementedError("]
    lines += [f"{indent}    {_py_string(chunk)}" for chunk in chunks]
    lines.append(f"{indent})")
    return lines


def _enclosing_def(lines: list[str], begin: int) -> str | None:
    """The name of the function whose body holds line ``begin``, if any."""
    indent = len(lines[begin]) - len(lines[begin].lstrip())
    for line in reversed(lines[:begin]):
        m = _DEF.match(line)
        if m and len(m.group(1)) < indent:
            return m.group(2)
    return None


def _stub_code_cell(source: str, where: str, lang: str = "en") -> tuple[str, list[str], bool]:
    """Replace each solution block of a code cell by a stub.

    Returns the new source, the exercise names found (functions holding a block)
    and whether a block sits at the top level of the cell.
    """
    lines = source.splitlines()
    out: list[str] = []
    names: list[str] = []
    top_level = False
    open_at: int | None = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        kind = marker_kind(line)
        is_begin, is_end = kind == "begin", kind == "end"
        if not (is_begin or is_end):
            if near_marker(line):
                raise MarkerError(
                    f"{where}: line {i + 1} looks like a solution marker but is not written exactly "
                    f"{BEGIN!r} or {END!r}: {stripped!r}"
                )
            if open_at is None:
                out.append(line)
            continue
        if is_begin:
            if open_at is not None:
                raise MarkerError(
                    f"{where}: {BEGIN!r} on line {i + 1} is inside the solution block opened on line "
                    f"{open_at + 1} (nested markers); close that block with {END!r} first"
                )
            open_at = i
            continue
        if open_at is None:
            raise MarkerError(f"{where}: {END!r} on line {i + 1} without a {BEGIN!r} before it")
        indent = lines[open_at][: len(lines[open_at]) - len(lines[open_at].lstrip())]
        name = _enclosing_def(lines, open_at)
        if name is None:
            top_level = True
        elif name not in names:
            names.append(name)
        out.extend(stub_lines(indent, _instructions(name, lang)))
        open_at = None
    if open_at is not None:
        raise MarkerError(f"{where}: {BEGIN!r} on line {open_at + 1} has no {END!r} after it")
    return "\n".join(out), names, top_level


def _cells_hash(nb) -> str:
    payload = json.dumps([[c.cell_type, c.source] for c in nb.cells], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _banner(shown: str, link: str, names: list[str], lang: str = "en") -> str:
    if lang == "ko":
        return _banner_ko(shown, link, names)
    listed = ", ".join(f"`{n}`" for n in names)
    count = f"{len(names)} exercise{'s' if len(names) != 1 else ''}"
    return (
        f"> **Student edition.** This notebook has {count} for you ({listed}). Each is a function whose body "
        "is `raise NotImplementedError(...)`: replace that line with your code, run the cell, then run the "
        "check cell below it. The check prints ✓ when your function gives the right answers, and otherwise "
        "what it expected, what came back, and a hint.\n>\n"
        f"> **Stuck?** Each solution is in the same cell of the instructor notebook [`{shown}`]({link}). "
        "In a clone of the course and on Binder it is there now; on a class hub it arrives when your teacher "
        "hands out the solutions.\n>\n"
        "> **Your work:** in a clone, `make student` refreshes this folder and keeps a notebook you have edited; "
        "on a hub, opening your teacher's link again does the same; on Binder nothing is kept when the session "
        "ends (*File → Download* first)."
    )


def _banner_ko(shown: str, link: str, names: list[str]) -> str:
    """The same note for the Korean student editions (tools/i18n.py build --student)."""
    listed = ", ".join(f"`{n}`" for n in names)
    return (
        f"> **학생판.** 이 노트북에는 연습 문제가 {len(names)}개 있다({listed}). 각 문제는 본문이 "
        "`raise NotImplementedError(...)`인 함수다. 그 줄을 직접 작성한 코드로 바꾸고 셀을 실행한 다음, "
        "바로 아래의 확인 셀을 실행한다. 함수가 맞는 답을 내면 확인 셀이 ✓를 출력하고, 그렇지 않으면 기대한 값과 "
        "실제로 나온 값, 그리고 힌트를 보여 준다.\n>\n"
        f"> **막혔다면?** 각 풀이는 완성본 노트북 [`{shown}`]({link})의 같은 셀에 있다. 강의 저장소를 내려받았다면 "
        "지금 바로 볼 수 있다.\n>\n"
        "> **작업 보존:** `make lab-ko`(또는 `make student`)를 다시 실행하면 이 폴더가 새로 만들어지지만, "
        "직접 고친 노트북은 그대로 남는다."
    )


@dataclass(frozen=True)
class ExerciseCell:
    """A code cell that holds solution blocks: where it is, what it defines, and its stubbed source."""

    index: int  # position in nb.cells
    names: list[str]  # the functions whose bodies hold a block (the exercises), in order
    stubbed: str  # the source with every block replaced by its stub
    top_level: bool  # a block sits outside any function
    where: str  # how messages name the cell


def find_exercise_cells(nb, source_label: str, lang: str = "en") -> list[ExerciseCell]:
    """The exercise cells of a notebook: every code cell with a solution block, in order.

    The one definition of "an exercise cell" for every edition (``make student`` here,
    ``tools/make_nbgrader.py`` for nbgrader). Raises :class:`MarkerError` for a
    malformed marker and for a marker in a Markdown cell. ``nb`` is not modified. ``lang``: the
    language of the stubs' instructions ("en" or "ko", from the package's catalog).
    """
    found = []
    for i, cell in enumerate(nb.cells):
        where = _where(source_label, i, cell)
        if cell.cell_type != "code":
            for n, line in enumerate(cell.source.splitlines()):
                if marker_kind(line) is not None or near_marker(line, code=False):
                    raise MarkerError(
                        f"{where}: a solution marker on line {n + 1} ({line.strip()!r}); markers belong in "
                        "code cells only (to mention one in the text, write it inline in backticks)"
                    )
            continue
        lines = cell.source.splitlines()
        if not any(marker_kind(line) is not None or near_marker(line) for line in lines):
            continue
        stubbed, names, top_level = _stub_code_cell(cell.source, where, lang)
        found.append(ExerciseCell(i, names, stubbed, top_level, where))
    return found


def make_student_notebook(nb, source_label: str, link: str | None = None, shown: str | None = None,
                          lang: str = "en"):
    """Return ``(student_notebook, exercise_names, cleared_cells, warnings)`` for one instructor notebook.

    ``source_label`` names the notebook in messages and metadata; ``link`` is the
    instructor notebook's path relative to the student edition (for the note at
    the top) and ``shown`` how the note names it. ``nb`` is not modified. Raises
    :class:`MarkerError` for malformed markers.
    """
    link = link or "../" + source_label
    shown = shown or source_label
    nb = copy.deepcopy(nb)
    names: list[str] = []
    warnings: list[str] = []
    exercise_cells: set[int] = set()
    for found in find_exercise_cells(nb, source_label, lang):
        nb.cells[found.index].source = found.stubbed
        exercise_cells.add(found.index)
        names.extend(n for n in found.names if n not in names)
        if found.top_level:
            warnings.append(f"{found.where}: a solution block at the top level of the cell; in the student "
                            "edition Run All stops there (put the solution inside a function)")

    cleared = 0
    # A use is the bare name; ``rbm.free_energy(...)`` is a method of the same name, not the exercise.
    uses = re.compile(r"(?<![.\w])(" + "|".join(map(re.escape, names)) + r")\b") if names else None
    first_exercise = min(exercise_cells) if exercise_cells else None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        is_user = uses is not None and i > first_exercise and uses.search(cell.source) is not None
        if i in exercise_cells or is_user:
            if cell.get("outputs") or cell.get("execution_count") is not None:
                cleared += 1
            cell.outputs = []
            cell.execution_count = None
            if is_user and i not in exercise_cells and "check(" not in cell.source:
                warnings.append(f"{_where(source_label, i, cell)}: uses an exercise's function outside a check; "
                                "in the student edition it raises until the exercise is done")

    if names:
        banner = nbformat.v4.new_markdown_cell(_banner(shown, link, names, lang))
        if nb.nbformat == 4 and nb.nbformat_minor >= 5:
            banner["id"] = BANNER_ID
        else:
            banner.pop("id", None)
        nb.cells.insert(0, banner)
    nb.metadata["coursekit"] = {"edition": "student", "source": source_label, "exercises": names,
                                "cells_sha256": _cells_hash(nb)}
    nbformat.validate(nb)
    return nb, names, cleared, warnings


def _is_edited(path: Path) -> bool:
    """True if ``path`` is not a student edition as this tool wrote it (the learner changed a cell)."""
    try:
        existing = nbformat.read(path, as_version=4)
    except Exception:
        return True
    meta = existing.metadata.get("coursekit", {})
    return meta.get("edition") != "student" or meta.get("cells_sha256") != _cells_hash(existing)


def generate(sources: list[Path], out_dir: Path, force: bool = False, lang: str = "en") -> list[Report]:
    """Write the student edition of each source notebook into ``out_dir``.

    Every notebook is converted before anything is written: one bad marker
    anywhere raises :class:`MarkerError` (all problems in one message) and writes
    nothing. A copy in ``out_dir`` that the learner has edited is kept unless ``force``.
    ``lang`` is the language of the note at the top and of the stubs' instructions (the rest of the
    notebook is the source's).
    """
    made = []
    problems = []
    for src in sources:
        label = _label(src)
        try:
            nb = nbformat.read(src, as_version=4)
        except Exception as err:
            problems.append(f"{label}: not a readable notebook ({type(err).__name__}: {err})")
            continue
        link = Path(os.path.relpath(Path(src).resolve(), out_dir.resolve())).as_posix()
        shown = Path(os.path.relpath(Path(src).resolve(), out_dir.resolve().parent)).as_posix()
        try:
            made.append((src, label, *make_student_notebook(nb, label, link, shown, lang)))
        except MarkerError as err:
            problems.append(str(err))
    if problems:
        raise MarkerError("\n".join(problems))

    out_dir.mkdir(parents=True, exist_ok=True)
    reports = []
    for src, label, student, names, cleared, warnings in made:
        target = out_dir / Path(src).name
        report = Report(label, _label(target), names, cleared, warnings=warnings)
        text = nbformat.writes(student)
        text += "" if text.endswith("\n") else "\n"  # as nbformat.write does
        if target.exists():
            old = target.read_text(encoding="utf-8")
            if old == text:
                report.status = "unchanged"
            elif not force and _is_edited(target):
                report.status = "kept-edited"
        if report.status == "written":
            target.write_text(text, encoding="utf-8")
        reports.append(report)
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN_*.ipynb")
    parser.add_argument("--out", type=Path, default=ROOT / "student", help="output folder (default: student/)")
    parser.add_argument("--force", action="store_true", help="also overwrite student copies you have edited")
    args = parser.parse_args(argv)
    sources = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not sources:
        print("make_student: no notebooks found", file=sys.stderr)
        return 1
    try:
        reports = generate([Path(s) for s in sources], args.out, force=args.force)
    except MarkerError as err:
        print("make_student: nothing written, fix these solution markers first:", file=sys.stderr)
        for line in str(err).splitlines():
            print(f"  {line}", file=sys.stderr)
        return 1
    n_ex = 0
    for r in reports:
        n_ex += len(r.exercises)
        what = f"{len(r.exercises)} exercise(s): {', '.join(r.exercises)}" if r.exercises else "no exercises"
        note = {"written": "", "unchanged": " (unchanged)",
                "kept-edited": " (KEPT your edited copy; --force overwrites it)"}[r.status]
        print(f"{r.target}: {what}{note}")
        for w in r.warnings:
            print(f"  warning: {w}", file=sys.stderr)
    print(f"{len(reports)} notebooks, {n_ex} exercises. Open them with `make lab` (or jupyter lab {_label(args.out)}/).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
