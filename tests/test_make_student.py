"""Tests for tools/make_student.py: student editions from instructor notebooks.

Small synthetic notebooks are written into tmp_path, so these tests do not
depend on the course's notebooks (one test also runs the tool over them).
"""
from __future__ import annotations

import ast
import importlib.util
import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from coursekit.exercises import EXERCISES, check

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("make_student", ROOT / "tools" / "make_student.py")
ms = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("make_student", ms)  # dataclasses look their module up there
_spec.loader.exec_module(ms)

SOLUTION_LINE = "positive = (z > 0)  # the secret solution line"
EXERCISE_SOURCE = '''def relu_grad(z):
    """ReLU's derivative: 1 where z > 0, else 0."""
    ### BEGIN SOLUTION
    positive = (z > 0)  # the secret solution line
    return positive.to(z.dtype)
    ### END SOLUTION'''
TWO_BLOCKS_SOURCE = '''def he_normal_std(fan_in, negative_slope=0.0):
    ### BEGIN SOLUTION
    gain = (2.0 / (1.0 + negative_slope ** 2)) ** 0.5  # secret gain
    ### END SOLUTION
    return gain / fan_in ** 0.5


def xavier_uniform_bound(fan_in, fan_out, gain=1.0):
    ### BEGIN SOLUTION
    return gain * (6.0 / (fan_in + fan_out)) ** 0.5  # secret bound
    ### END SOLUTION'''


def instructor_notebook(extra_cells=()):
    """A small instructor notebook: setup, a figure cell, one exercise, its check, more cells."""
    nb = new_notebook()
    nb.cells = [
        new_markdown_cell("# 02 · ReLU\n\nSome text."),
        new_code_cell("import coursekit as ck\nck.setup_notebook(seed=0)", execution_count=1,
                      outputs=[new_output("stream", name="stdout", text="coursekit 0.1.0 | seed 0\n")]),
        new_code_cell("x = 2 + 2\nx", execution_count=2,
                      outputs=[new_output("execute_result", data={"text/plain": "4"}, execution_count=2)]),
        new_markdown_cell("## Exercise: ReLU's gradient\n\nWrite `relu_grad(z)`."),
        new_code_cell(EXERCISE_SOURCE, execution_count=3),
        new_code_cell('ck.exercises.check("relu_grad", relu_grad)', execution_count=4,
                      outputs=[new_output("stream", name="stdout", text="✓ relu_grad: 4/4 cases match\n")]),
        new_code_cell("print('after the exercise')", execution_count=5,
                      outputs=[new_output("stream", name="stdout", text="after the exercise\n")]),
        *extra_cells,
    ]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    nbformat.validate(nb)
    return nb


def write(nb, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def student_of(tmp_path, nb, name="02_relu.ipynb"):
    src = write(nb, tmp_path / "notebooks" / name)
    reports = ms.generate([src], tmp_path / "student")
    return nbformat.read(tmp_path / "student" / name, as_version=4), reports[0]


# ------------------------------------------------------------------------ the stubs


def test_solution_block_becomes_a_stub_with_the_exercise_instructions(tmp_path):
    student, report = student_of(tmp_path, instructor_notebook())
    assert report.exercises == ["relu_grad"]
    cell = next(c for c in student.cells if "def relu_grad" in c.source)
    lines = cell.source.splitlines()
    assert lines[0] == "def relu_grad(z):"
    assert lines[1] == '    """ReLU\'s derivative: 1 where z > 0, else 0."""'  # docstring kept
    assert lines[2].startswith("    raise NotImplementedError(")  # at the marker's indentation
    tree = ast.parse(cell.source)
    raise_node = tree.body[0].body[-1]
    message = raise_node.exc.args[0].value  # implicitly concatenated pieces parse as one constant
    assert message == f"relu_grad: {EXERCISES['relu_grad'].instructions}"


def test_no_solution_text_or_marker_is_left_anywhere(tmp_path):
    nb = instructor_notebook([new_code_cell(TWO_BLOCKS_SOURCE)])
    write(nb, tmp_path / "notebooks" / "04_init.ipynb")
    ms.generate([tmp_path / "notebooks" / "04_init.ipynb"], tmp_path / "student")
    text = (tmp_path / "student" / "04_init.ipynb").read_text(encoding="utf-8")
    for secret in ("secret solution line", "positive.to(z.dtype)", "secret gain", "secret bound",
                   "BEGIN SOLUTION\\n", "END SOLUTION\\n", "### END SOLUTION\""):
        assert secret not in text, secret


def test_lines_around_the_markers_stay_and_every_block_gets_a_stub(tmp_path):
    student, report = student_of(tmp_path, instructor_notebook([new_code_cell(TWO_BLOCKS_SOURCE)]))
    assert report.exercises == ["relu_grad", "he_normal_std", "xavier_uniform_bound"]
    cell = next(c for c in student.cells if "def he_normal_std" in c.source)
    assert "    return gain / fan_in ** 0.5" in cell.source  # the line after END stays
    assert cell.source.count("raise NotImplementedError(") == 2
    assert "he_normal_std: Return the std" in cell.source.replace('"\n        "', "")
    compile(cell.source, "<cell>", "exec")


def test_long_instructions_wrap_into_valid_python_with_the_whole_message():
    message = "adam_step: " + EXERCISES["adam_step"].instructions
    lines = ms.stub_lines("    ", message, width=96)
    assert len(lines) > 1 and all(len(line) <= 100 for line in lines)
    tree = ast.parse("def f():\n" + "\n".join(lines))
    call = tree.body[0].body[0].exc
    assert call.args[0].value == message


def test_a_block_outside_a_known_exercise_gets_the_general_instructions(tmp_path):
    cell = new_code_cell("def my_helper(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION")
    student, report = student_of(tmp_path, instructor_notebook([cell]))
    stubbed = student.cells[-1].source
    assert "my_helper: write your solution here" in stubbed and "2 * x" not in stubbed


def test_a_top_level_block_is_stubbed_with_a_warning(tmp_path):
    cell = new_code_cell("answer = None\n### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION\nprint(answer)")
    student, report = student_of(tmp_path, instructor_notebook([cell]))
    assert student.cells[-1].source.splitlines()[1].startswith("raise NotImplementedError(")
    assert any("top level" in w for w in report.warnings)


# ------------------------------------------------------------------ cells and outputs


def test_non_exercise_cells_are_kept_exactly_and_in_order(tmp_path):
    nb = instructor_notebook()
    student, _ = student_of(tmp_path, nb)
    assert student.cells[0].id == ms.BANNER_ID and "Student edition" in student.cells[0].source
    assert "[`notebooks/02_relu.ipynb`](../notebooks/02_relu.ipynb)" in student.cells[0].source
    body = student.cells[1:]
    assert [c.id for c in body] == [c.id for c in nb.cells]
    for original, copy in zip(nb.cells, body):
        if "relu_grad" in original.source and original.cell_type == "code":
            continue
        assert copy == original, f"cell {original.id} changed"


def test_outputs_of_exercise_and_check_cells_are_cleared_and_the_rest_kept(tmp_path):
    nb = instructor_notebook([new_code_cell("relu_grad(torch.ones(2))", execution_count=6,
                                            outputs=[new_output("stream", name="stdout", text="tensor([1., 1.])\n")])])
    student, report = student_of(tmp_path, nb)
    by_id = {c.id: c for c in student.cells}
    exercise, check_cell, user = by_id["cell-4"], by_id["cell-5"], by_id["cell-7"]
    for cell in (exercise, check_cell, user):
        assert cell.outputs == [] and cell.execution_count is None
    assert by_id["cell-1"].outputs == nb.cells[1].outputs and by_id["cell-1"].execution_count == 1
    assert by_id["cell-2"].outputs == nb.cells[2].outputs
    assert by_id["cell-6"].outputs == nb.cells[6].outputs  # a later cell that doesn't use the exercise
    assert report.cleared == 3
    assert any("cell 8" in w and "outside a check" in w for w in report.warnings)


def test_a_method_with_the_exercises_name_is_not_a_use_of_it(tmp_path):
    # notebook 05 asks for free_energy(v, W, a, b) and later calls rbm.free_energy(v): that cell's
    # outputs come from coursekit, not from the learner's function, and stay.
    method_call = new_code_cell("print(model.relu_grad(2), model.relu_grad_table)", execution_count=6,
                                outputs=[new_output("stream", name="stdout", text="1 []\n")])
    student, report = student_of(tmp_path, instructor_notebook([method_call]))
    assert student.cells[-1].outputs == method_call.outputs and student.cells[-1].execution_count == 6
    assert report.cleared == 2 and not report.warnings


def test_a_notebook_without_exercises_is_copied_with_only_a_metadata_note(tmp_path):
    nb = instructor_notebook()
    nb.cells = [c for c in nb.cells if "relu_grad" not in c.source]
    student, report = student_of(tmp_path, nb, "00_start.ipynb")
    assert report.exercises == [] and student.cells == nb.cells
    assert student.metadata["coursekit"]["edition"] == "student"


def test_the_output_is_a_valid_notebook_with_student_metadata(tmp_path):
    student, _ = student_of(tmp_path, instructor_notebook())
    nbformat.validate(student)
    meta = student.metadata["coursekit"]
    assert meta["edition"] == "student" and meta["exercises"] == ["relu_grad"]
    assert meta["source"].endswith("02_relu.ipynb") and len(meta["cells_sha256"]) == 64
    assert not Path(meta["source"]).is_absolute()


# --------------------------------------------------------------------- re-running


def test_running_twice_gives_identical_files(tmp_path):
    src = write(instructor_notebook([new_code_cell(TWO_BLOCKS_SOURCE)]), tmp_path / "notebooks" / "03_x.ipynb")
    out = tmp_path / "student"
    first = ms.generate([src], out)[0]
    before = (out / "03_x.ipynb").read_bytes()
    second = ms.generate([src], out)[0]
    assert (out / "03_x.ipynb").read_bytes() == before
    assert first.status == "written" and second.status == "unchanged"
    ms.generate([src], tmp_path / "other")
    assert (tmp_path / "other" / "03_x.ipynb").read_bytes() == before


def test_a_copy_the_learner_edited_is_kept_unless_forced(tmp_path):
    src = write(instructor_notebook(), tmp_path / "notebooks" / "02_relu.ipynb")
    out = tmp_path / "student"
    ms.generate([src], out)
    edited = nbformat.read(out / "02_relu.ipynb", as_version=4)
    cell = next(c for c in edited.cells if "def relu_grad" in c.source)
    cell.source = "def relu_grad(z):\n    return (z > 0).float()  # my answer"
    nbformat.write(edited, out / "02_relu.ipynb")
    nb = instructor_notebook()
    nb.cells[0].source += "\n\nA changed introduction."
    write(nb, src)
    assert ms.generate([src], out)[0].status == "kept-edited"
    assert "my answer" in (out / "02_relu.ipynb").read_text(encoding="utf-8")
    assert ms.generate([src], out, force=True)[0].status == "written"
    assert "my answer" not in (out / "02_relu.ipynb").read_text(encoding="utf-8")


def test_an_unedited_copy_follows_a_changed_source(tmp_path):
    src = write(instructor_notebook(), tmp_path / "notebooks" / "02_relu.ipynb")
    out = tmp_path / "student"
    ms.generate([src], out)
    ran = nbformat.read(out / "02_relu.ipynb", as_version=4)  # the learner only ran cells: outputs change
    ran.cells[-1].outputs = [new_output("stream", name="stdout", text="ran again\n")]
    nbformat.write(ran, out / "02_relu.ipynb")
    nb = instructor_notebook()
    nb.cells[0].source += "\n\nA changed introduction."
    write(nb, src)
    assert ms.generate([src], out)[0].status == "written"
    assert "A changed introduction." in (out / "02_relu.ipynb").read_text(encoding="utf-8")


# ----------------------------------------------------------------------- bad input


BAD = [
    ("missing END", "code", "def relu_grad(z):\n    ### BEGIN SOLUTION\n    return z > 0",
     "'### BEGIN SOLUTION' on line 2 has no '### END SOLUTION' after it"),
    ("nested BEGIN", "code",
     "def relu_grad(z):\n    ### BEGIN SOLUTION\n    a = 1\n    ### BEGIN SOLUTION\n    ### END SOLUTION",
     "'### BEGIN SOLUTION' on line 4 is inside the solution block opened on line 2 (nested markers)"),
    ("END without BEGIN", "code", "def relu_grad(z):\n    return z > 0\n    ### END SOLUTION",
     "'### END SOLUTION' on line 3 without a '### BEGIN SOLUTION' before it"),
    ("marker in markdown", "markdown", "## Exercise\n\n### BEGIN SOLUTION\nthe answer is 42",
     "a solution marker on line 3 ('### BEGIN SOLUTION'); markers belong in code cells only"),
    ("loosely written marker", "code", "def relu_grad(z):\n    ## begin solution\n    return z > 0\n    ### END SOLUTION",
     "line 2 looks like a solution marker but is not written exactly '### BEGIN SOLUTION'"),
]


@pytest.mark.parametrize("what, kind, source, problem", BAD, ids=[b[0] for b in BAD])
def test_bad_markers_raise_an_error_naming_notebook_and_cell(tmp_path, what, kind, source, problem):
    nb = instructor_notebook([new_code_cell(source) if kind == "code" else new_markdown_cell(source)])
    src = write(nb, tmp_path / "notebooks" / "05_bad.ipynb")
    good = write(instructor_notebook(), tmp_path / "notebooks" / "02_relu.ipynb")
    with pytest.raises(ms.MarkerError) as info:
        ms.generate([good, src], tmp_path / "student")
    message = str(info.value)
    assert "05_bad.ipynb, cell 8 (" + kind + " cell starting " in message
    assert problem in message
    assert not (tmp_path / "student").exists(), "nothing may be written when a notebook is bad"


def test_the_command_line_reports_bad_markers_without_a_traceback(tmp_path, capsys):
    nb = instructor_notebook([new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1")])
    src = write(nb, tmp_path / "notebooks" / "05_bad.ipynb")
    assert ms.main([str(src), "--out", str(tmp_path / "student")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("make_student: nothing written") and "Traceback" not in err
    assert "05_bad.ipynb, cell 8" in err


def test_the_command_line_prints_a_summary(tmp_path, capsys):
    src = write(instructor_notebook(), tmp_path / "notebooks" / "02_relu.ipynb")
    assert ms.main([str(src), "--out", str(tmp_path / "student")]) == 0
    out = capsys.readouterr().out
    assert "02_relu.ipynb: 1 exercise(s): relu_grad" in out and "1 notebooks, 1 exercises" in out
    assert str(tmp_path) not in out  # no absolute paths


# ------------------------------------------------ the student edition fails its checks until filled in


def _run_cells(cells, namespace):
    for cell in cells:
        if cell.cell_type == "code" and "setup_notebook" not in cell.source:
            exec(compile(cell.source, "<cell>", "exec"), namespace)


def test_a_student_editions_check_fails_until_the_exercise_is_filled_in(tmp_path, capsys):
    import torch

    import coursekit as ck

    student, _ = student_of(tmp_path, instructor_notebook())
    exercise = next(c for c in student.cells if "def relu_grad" in c.source)
    namespace = {"ck": ck, "torch": torch}
    _run_cells([exercise], namespace)  # defining the stub does not raise
    result = check("relu_grad", namespace["relu_grad"])
    assert not result and result.status == "not-implemented"
    assert capsys.readouterr().out == "✗ relu_grad: not implemented yet: fill in the cell above.\n"

    # a wrong attempt is caught, then the right one passes
    lines = exercise.source.splitlines()
    attempt = "\n".join(lines[:2] + ["    return (z >= 0).float()"])
    _run_cells([nbformat.v4.new_code_cell(attempt)], namespace)
    assert check("relu_grad", namespace["relu_grad"], quiet=True).hint.startswith("at exactly z = 0")
    filled = "\n".join(lines[:2] + ["    return (z > 0).to(z.dtype)"])
    _run_cells([nbformat.v4.new_code_cell(filled)], namespace)
    assert check("relu_grad", namespace["relu_grad"], quiet=True).passed


@pytest.mark.slow
def test_a_student_edition_runs_top_to_bottom_in_a_kernel(tmp_path):
    """Run All on a student edition: no cell errors, the check says 'not implemented yet' once."""
    from nbclient import NotebookClient

    student, _ = student_of(tmp_path, instructor_notebook())
    client = NotebookClient(student, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    check_cell = next(c for c in student.cells if "check(" in c.source)
    assert [o.output_type for o in check_cell.outputs] == ["stream"], check_cell.outputs  # printed once
    assert check_cell.outputs[0].text == "✗ relu_grad: not implemented yet: fill in the cell above.\n"
    assert student.cells[-1].outputs[0].text == "after the exercise\n"


def test_the_course_notebooks_give_valid_student_editions(tmp_path):
    sources = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    reports = ms.generate(sources, tmp_path / "student")
    for src, report in zip(sources, reports):
        student = nbformat.read(tmp_path / "student" / src.name, as_version=4)
        instructor = nbformat.read(src, as_version=4)
        nbformat.validate(student)
        code = "\n".join(c.source for c in student.cells if c.cell_type == "code")
        assert ms.BEGIN not in code and ms.END not in code, src.name  # (the note at the top names them)
        outputs = json.dumps([c.get("outputs", []) for c in student.cells], ensure_ascii=False)
        for line in _solution_lines(instructor):
            assert line not in code and line not in outputs, f"{src.name}: solution line left: {line!r}"
        for name in report.exercises:
            assert name in EXERCISES, f"{src.name}: {name} has no checker in coursekit.exercises"
        # every exercise's check cell is cleared, and no cell outside a check calls an exercise
        checks = [c for c in student.cells if c.cell_type == "code" and "ck.exercises.check(" in c.source]
        assert len(checks) == len(report.exercises), src.name
        assert all(c.outputs == [] and c.execution_count is None for c in checks), src.name
        assert not report.warnings, f"{src.name}: {report.warnings}"


def _solution_lines(nb):
    """The non-trivial lines between the markers of an instructor notebook."""
    lines, inside = [], False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            if line.strip() in (ms.BEGIN, ms.END):
                inside = line.strip() == ms.BEGIN
            elif inside and len(line.strip()) > 12:
                lines.append(line.strip())
    return lines


# ------------------------------------------- near-miss markers, and no solution in any student edition


NEAR_MISSES = ["### BEGIN SOLUTIONS", "### END SOLUTIONS", "### BEGIN SOLUTON", "### BEGIN_SOLUTION",
               "### BEGIN-SOLUTION", "## begin solution", "#BEGINSOLUTION", "### SOLUTION BEGIN",
               "### BEGIN SOLUTION  # the answer", "### Begin Solution", "# end soln"]


@pytest.mark.parametrize("begin", NEAR_MISSES)
def test_a_near_miss_marker_stops_the_tool_naming_cell_and_line(tmp_path, begin, capsys):
    end = begin.replace("BEGIN", "END").replace("begin", "end").replace("Begin", "End")
    source = f"def relu_grad(z):\n    {begin}\n    return (z > 0).to(z.dtype)  # secret\n    {end}"
    nb = instructor_notebook([new_code_cell(source)])
    src = write(nb, tmp_path / "notebooks" / "05_bad.ipynb")
    assert ms.main([str(src), "--out", str(tmp_path / "student")]) == 1
    err = capsys.readouterr().err
    assert "05_bad.ipynb, cell 8 (code cell starting 'def relu_grad(z):')" in err, err
    assert "line 2 looks like a solution marker but is not written exactly '### BEGIN SOLUTION'" in err, err
    assert repr(begin.strip()) in err
    assert not (tmp_path / "student").exists()


def test_the_marker_detector_leaves_prose_and_code_alone():
    for line in ("# begin with the solution above", "# End of the solution", "begin_solution = 3",
                 "# the solution ends here", "### BEGIN HIDDEN TESTS", "# start the timer", "# end of loop",
                 "solution = begin + 1", "# Solution: see above", "    ### BEGIN SOLUTION", "### END SOLUTION  "):
        assert not ms.near_marker(line), line
    # nor any line of the course notebooks (code or Markdown)
    for src in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(src, as_version=4).cells:
            for line in cell.source.splitlines():
                assert not ms.near_marker(line, code=cell.cell_type == "code"), (src.name, line)


def _trivial(line: str) -> bool:
    s = line.strip()
    return (not s or s.startswith("#") or s in ("pass", "else:", "try:", "finally:", "return", '"""')
            or all(ch in "()[]{},:" for ch in s))


def _def_parts(source: str, names) -> dict:
    """For each top-level ``def`` of an exercise in a cell: (its body lines after the docstring, the cell's other
    lines, the body's statements after the docstring)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    lines = source.splitlines()
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in names:
            body = node.body
            doc = 1 if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) else 0
            inside = {lines[n - 1].strip() for stmt in body[doc:] for n in range(stmt.lineno, stmt.end_lineno + 1)}
            found[node.name] = (inside, {line.strip() for line in lines} - inside, body[doc:])
    return found


def _reference_lines(name: str) -> set[str]:
    import inspect
    import textwrap

    try:
        reference = EXERCISES[name].reference
        parts = _def_parts(textwrap.dedent(inspect.getsource(reference)), {reference.__name__})
    except (OSError, TypeError):
        return set()
    return next(iter(parts.values()), (set(),))[0]


def test_no_student_edition_holds_a_line_of_a_solution_or_a_checks_instructor_output(tmp_path):
    """Marker-independent: the exercises' functions are found by name (ast), not by their markers.

    No student edition (its code and its outputs) may hold a non-trivial line of any
    reference solution (the instructor notebook's function bodies and coursekit's
    references; lines the instructor notebooks also hold outside those functions
    left out), nor a line that a check cell printed in the instructor notebook;
    each exercise's function in a student edition is a stub: docstring, then
    ``raise NotImplementedError``.
    """
    sources = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    ms.generate(sources, tmp_path / "student")
    solution, printed, stubs = {}, {}, set()
    shown = set()  # lines the instructor notebooks hold outside the exercises' functions: the course shows them
    for src in sources:
        for cell in nbformat.read(src, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            parts = _def_parts(cell.source, EXERCISES)
            for name, (body, *_) in parts.items():
                for line in body | _reference_lines(name):
                    solution.setdefault(line, f"{src.name}: {name}")
            inside = set().union(*[body for body, *_ in parts.values()])
            shown |= {line.strip() for line in cell.source.splitlines()} - inside
            if "check(" in cell.source:
                for out in cell.get("outputs", []):
                    for line in out.get("text", "").splitlines():
                        printed.setdefault(line.strip(), src.name)
    assert len(solution) > 50 and any(line.startswith("✓ ") for line in printed)
    for src in sources:
        student = nbformat.read(tmp_path / "student" / src.name, as_version=4)
        for cell in student.cells:
            if cell.cell_type != "code":
                continue
            for name, (body, rest, stmts) in _def_parts(cell.source, EXERCISES).items():
                is_stub = (len(stmts) == 1 and isinstance(stmts[0], ast.Raise)
                           and ast.unparse(stmts[0].exc).startswith("NotImplementedError("))
                assert is_stub, f"{src.name}: {name} is not a stub in the student edition: {sorted(body)}"
                stubs |= body | rest
        for i, cell in enumerate(student.cells):
            texts = [("source", cell.source)] + [("output", o.get("text", "") + json.dumps(o.get("data", {})))
                                                 for o in cell.get("outputs", [])]
            for kind, text in texts:
                for line in text.splitlines():
                    line = line.strip()
                    if _trivial(line) or line in stubs or line in shown:
                        continue
                    where = f"{src.name}, cell {i + 1} ({kind})"
                    assert line not in solution, f"{where}: solution line of {solution[line]}: {line!r}"
                    assert line not in printed, f"{where}: instructor's check output: {line!r}"


def test_the_note_at_the_top_is_true_on_every_route(tmp_path):
    """Self-study clone, class hub (nbgitpuller: student/ only, the solutions when the teacher adds them), Binder."""
    student, _ = student_of(tmp_path, instructor_notebook())
    note = student.cells[0].source
    stuck = next(p for p in note.split(">\n") if p.startswith("> **Stuck?**"))
    assert "[`notebooks/02_relu.ipynb`](../notebooks/02_relu.ipynb)" in stuck
    assert "In a clone of the course and on Binder it is there now" in stuck
    assert "on a class hub it arrives when your teacher hands out the solutions" in stuck
    work = next(p for p in note.split(">\n") if p.startswith("> **Your work:**"))
    # `make student` is offered only where there is a Makefile: in a clone
    assert work.count("`make student`") == 1 and "in a clone, `make student`" in work
    assert "on a hub, opening your teacher's link again" in work and "on Binder nothing is kept" in work
    assert len(note.splitlines()) <= 5
