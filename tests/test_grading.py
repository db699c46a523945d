"""Grading with nbgrader: tools/make_nbgrader.py, coursekit.grading, and the real nbgrader end to end.

The end-to-end tests (marker ``grading``) build a temporary course directory from
the course's own notebooks, run ``nbgrader generate_assignment``, ``autograde`` and
``generate_feedback`` with the real nbgrader (a SQLite gradebook in the temporary
folder, no JupyterHub), and read the scores from nbgrader's gradebook. Autograding
executes a submission top to bottom, and a whole course notebook retrains its
experiments (up to a minute each, times every learner), so the graded assignments
are ``--compact`` ones, the exercises each in its course cell, in one notebook:
"all" holds every exercise of every notebook (whatever the notebooks hold: a new
exercise is graded with no change here), graded for a correct submission (full
marks for every exercise) and an untouched copy (zero and "not implemented yet"
for every exercise); "drill" holds the exercises whose checks take milliseconds,
graded for those two and for submissions that go wrong on purpose (a wrong answer,
a loop that never ends, ``sys.exit()`` and ``exit()``). Which cells both tools
blank is checked on the whole notebooks (generate_assignment executes nothing).
"""
from __future__ import annotations

import ast
import html
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from coursekit import grading
from coursekit.exercises import EXERCISES, check

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
BIN = Path(sys.executable).parent


def _load(name):
    """A tool from tools/ as a module (the one already loaded, if another test loaded it)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules[name]


ms = _load("make_student")
mg = _load("make_nbgrader")

HIDDEN_SEED = 8141


def _snapshot(folder: Path) -> list[Path]:
    """Copies of the course notebooks (others may be editing them while the test runs)."""
    folder.mkdir(parents=True, exist_ok=True)
    copies = []
    for src in NOTEBOOKS:
        (folder / src.name).write_bytes(src.read_bytes())
        copies.append(folder / src.name)
    return copies


# ---------------------------------------------------------------- coursekit.grading, in this process


def test_grade_prints_checks_line_and_scores_all_or_nothing(capsys):
    ex = EXERCISES["relu_grad"]
    assert grading.grade("relu_grad", ex.reference) is None  # nothing displayed: nbgrader gives full points
    passed = capsys.readouterr().out
    assert passed == check("relu_grad", ex.reference, quiet=True).message + "\n"
    wrong = grading.grade("relu_grad", lambda z: (z >= 0).to(z.dtype))
    assert repr(wrong) == "0"  # the cell's text/plain value: nbgrader's partial credit of 0
    line = capsys.readouterr().out.strip()
    assert line == check("relu_grad", lambda z: (z >= 0).to(z.dtype), quiet=True).message
    assert "Hint: at exactly z = 0" in line


def test_what_the_learners_function_writes_to_stderr_goes_to_stdout(capsys):
    def noisy(z):
        print("debug", file=sys.stderr)  # as a warning is printed in a kernel
        return (z > 0).to(z.dtype)

    assert grading.grade("relu_grad", noisy) is None
    out, err = capsys.readouterr()
    assert err == "" and "debug" in out and "✓ relu_grad" in out  # nbgrader: any stderr in a grade cell scores 0


def test_exit_and_sys_exit_in_the_function_cost_the_exercise_only(capsys):
    namespace = {"exit": "the kernel's exit helper"}  # what IPython puts in a notebook's namespace
    exec("import sys\ndef a(z):\n    sys.exit(1)\ndef b(z):\n    exit()\n", namespace)
    for fn in (namespace["a"], namespace["b"]):
        assert repr(grading.grade("relu_grad", fn)) == "0"
        assert "your function tried to exit Python" in capsys.readouterr().out
    assert namespace["exit"] == "the kernel's exit helper"  # put back


def test_hidden_cases_from_a_seed_and_from_the_teacher():
    try:
        n = grading.hidden_cases("adam_step", seed=3)
        assert n == len(EXERCISES["adam_step"].cases)
        result = grading.grade_result("adam_step", EXERCISES["adam_step"].reference)
        assert result.passed and result.cases_total == 2 * n
        # an answer that special-cases the public inputs passes check but not the hidden cases
        public = [case.make() for case in EXERCISES["adam_step"].cases]
        answers = [EXERCISES["adam_step"].reference(*args.values()) for args in public]

        def memorised(theta, m, v, grad, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
            import torch
            for args, answer in zip(public, answers):
                if torch.equal(theta, args["theta"]) and torch.equal(grad, args["grad"]):
                    return answer
            return theta, m, v

        assert check("adam_step", memorised, quiet=True).passed
        hidden = grading.grade_result("adam_step", memorised)
        assert not hidden.passed and "hidden case" in hidden.message
        import torch
        grading.hidden_cases("relu_grad", cases=[{"z": torch.tensor([0.0, -1.0, 3.0])},
                                                 ("one large entry", {"z": torch.tensor([1e30])})])
        result = grading.grade_result("relu_grad", lambda z: (z > 0).to(z.dtype))
        assert result.passed and result.cases_total == len(EXERCISES["relu_grad"].cases) + 2
        assert EXERCISES["relu_grad"].cases == tuple(EXERCISES["relu_grad"].cases)  # the registry is untouched
        assert len(EXERCISES["relu_grad"].cases) == result.cases_total - 2
    finally:
        grading._HIDDEN.clear()


def test_every_exercise_passes_its_hidden_variants_with_the_reference():
    try:
        for name in _quick_exercises():  # (a check that trains networks takes seconds: left out)
            grading.hidden_cases(name, seed=HIDDEN_SEED)
            assert grading.grade_result(name, EXERCISES[name].reference).passed, name
    finally:
        grading._HIDDEN.clear()


def test_what_native_code_writes_to_file_descriptor_2_goes_to_stdout(capfd):
    def native(z):
        os.write(2, b"OMP: Info #276: a native notice on fd 2\n")  # as OpenMP or PyTorch's C++ code write
        return (z > 0).to(z.dtype)

    os.write(2, b"before\n")
    assert grading.grade("relu_grad", native) is None
    os.write(2, b"after\n")
    out, err = capfd.readouterr()
    assert err == "before\nafter\n"  # fd 2 is back after the checks, and nothing of theirs reached it
    assert "OMP: Info #276: a native notice on fd 2" in out and out.rstrip().endswith("✓ relu_grad: 4/4 cases match")


def test_hidden_cases_in_a_grade_cell_write_nothing_to_stderr(capfd, monkeypatch):
    import dataclasses

    ex = EXERCISES["xavier_uniform_bound"]

    def noisy_reference(*args):
        os.write(2, b"a native notice from the reference\n")
        print("a Python warning", file=sys.stderr)
        return ex.reference(*args)

    monkeypatch.setitem(EXERCISES, ex.name, dataclasses.replace(ex, reference=noisy_reference))
    try:
        assert grading.hidden_cases(ex.name, seed=HIDDEN_SEED) > 0
        assert grading.grade(ex.name, ex.reference) is None
    finally:
        grading._HIDDEN.clear()
    assert capfd.readouterr().err == ""


def test_a_teachers_hidden_case_is_checked_against_the_signature_when_added():
    import torch

    try:
        with pytest.raises(ValueError) as err:
            grading.hidden_cases("sigmoid_derivative", cases=[{"z": torch.zeros(3), "extra": 1.0}])
        assert str(err.value) == ("hidden_cases('sigmoid_derivative'): hidden case 1 has the argument 'extra', "
                                  "which sigmoid_derivative(z) does not take; its arguments are z")
        with pytest.raises(ValueError, match=r"hidden case 2: large z lacks the argument 'z' of sigmoid_derivative"):
            grading.hidden_cases("sigmoid_derivative", cases=[{"z": torch.ones(2)}, ("large z", {})])
        assert "sigmoid_derivative" not in grading._HIDDEN  # nothing half-added
        # by name, in any order, defaults filled in: the reference and a correct answer pass it
        args = {"grad": torch.ones(3), "theta": torch.zeros(3), "m": torch.zeros(3), "v": torch.zeros(3), "t": 2}
        assert grading.hidden_cases("adam_step", cases=[args]) == 1
        case = grading._HIDDEN["adam_step"][0].make()
        assert list(case) == ["theta", "m", "v", "grad", "t", "lr", "beta1", "beta2", "eps"] and case["lr"] == 1e-3
        assert grading.grade_result("adam_step", EXERCISES["adam_step"].reference).passed
    finally:
        grading._HIDDEN.clear()


def test_exercises_with_scalar_arguments_get_hidden_cases_from_their_own_values():
    try:
        for name in ("xavier_uniform_bound", "he_normal_std", "predict_running_mean", "predict_signal_change",
                     "pick_best_rate", "backprop_factor"):
            ex = EXERCISES[name]
            n = grading.hidden_cases(name, seed=HIDDEN_SEED)
            assert n >= 2, name
            public = [case.make() for case in ex.cases]
            for case in grading._HIDDEN[name]:
                args = case.make()
                assert args not in public, (name, args)  # a new combination, not a public case again
                for key, value in args.items():  # every value comes from the exercise's own cases
                    if isinstance(value, dict):
                        assert any(sorted(map(repr, value.values())) == sorted(map(repr, p[key].values()))
                                   for p in public), (name, key)
                    else:
                        assert any(repr(value) == repr(p[key]) for p in public), (name, key, value)
            assert grading.grade_result(name, ex.reference).passed, name
            assert grading.hidden_cases(name, seed=HIDDEN_SEED) == n  # the same draw in every grade cell
        # an answer fitted to the public cases passes check but not the hidden cases
        xavier = EXERCISES["xavier_uniform_bound"]
        public = {(c.make()["fan_in"], c.make()["fan_out"]): xavier.reference(*c.make().values()) for c in xavier.cases}
        memorised = lambda fan_in, fan_out, gain=1.0: public.get((fan_in, fan_out), 0.0)  # noqa: E731
        assert check("xavier_uniform_bound", memorised, quiet=True).passed
        assert not grading.grade_result("xavier_uniform_bound", memorised).passed
        assert grading.hidden_cases("one_fix", seed=HIDDEN_SEED) == 0
        why = grading.seeded_cases("one_fix", HIDDEN_SEED)[1]
        assert why == "one_fix takes no arguments: every case is the same call"
    finally:
        grading._HIDDEN.clear()


def _notebook_with(check_source: str):
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("def relu_grad(z):\n    ### BEGIN SOLUTION\n    return (z > 0).to(z.dtype)\n"
                                  "    ### END SOLUTION"),
        nbformat.v4.new_code_cell(check_source),
    ])


def test_a_check_cell_that_does_not_parse_stops_the_tool_naming_cell_and_error(tmp_path, capsys):
    nbformat.write(_notebook_with('ck.exercises.check("relu_grad", relu_grad'), tmp_path / "09_x.ipynb")
    assert mg.main([str(tmp_path / "course"), str(tmp_path / "09_x.ipynb")]) == 1
    err = capsys.readouterr().err
    assert ("09_x.ipynb, cell 2 (code cell starting 'ck.exercises.check(\"relu_grad\", relu_grad'): does not parse "
            "(SyntaxError on line 1: '(' was never closed), so it cannot check relu_grad: fix the cell") in err, err
    assert "blanked but not graded" not in err and not (tmp_path / "course").exists()
    # IPython's magics parse (they are not syntax errors)
    nbformat.write(_notebook_with('%time ck.exercises.check("relu_grad", relu_grad)\n!echo checked'),
                   tmp_path / "09_y.ipynb")
    assert mg.main([str(tmp_path / "course"), str(tmp_path / "09_y.ipynb")]) == 0


@pytest.mark.parametrize("marker", ["### BEGIN SOLUTIONS", "### BEGIN SOLUTON", "### BEGIN_SOLUTION",
                                    "### BEGIN-SOLUTION"])
def test_make_nbgrader_refuses_a_near_miss_marker_too(tmp_path, capsys, marker):
    nb = _notebook_with('ck.exercises.check("relu_grad", relu_grad)')
    nb.cells[0].source = nb.cells[0].source.replace("### BEGIN SOLUTION", marker)
    nbformat.write(nb, tmp_path / "09_x.ipynb")
    assert mg.main([str(tmp_path / "course"), str(tmp_path / "09_x.ipynb")]) == 1
    err = capsys.readouterr().err
    assert "09_x.ipynb, cell 1 (code cell starting 'def relu_grad(z):'): line 2 looks like a solution marker" in err
    assert not (tmp_path / "course").exists()


# ---------------------------------------------------------------- tools/make_nbgrader.py, without nbgrader


def test_source_notebooks_carry_nbgrader_metadata_on_exactly_the_exercise_cells(tmp_path):
    notebooks = _snapshot(tmp_path / "notebooks")
    written = mg.generate(notebooks, tmp_path, points={"adam_step": 3}, hidden_seed=5)
    assert (tmp_path / "nbgrader_config.py").exists()
    graded = {}
    unhidden = {name for name in _exercises_in(notebooks) if not grading.seeded_cases(name, 5)[0]}
    assert unhidden == {"one_fix"}  # it takes no arguments: every other exercise gets hidden cases
    for report in written:
        assert report.status == "written", report
        assert [w.split(": ")[1] for w in report.warnings] == [n for n in report.exercises if n in unhidden], report
        graded.update(report.points)
    assert graded == {name: (3.0 if name == "adam_step" else 1.0) for name in graded}
    assert sorted(graded) == sorted(_exercises_in(notebooks))
    for src in notebooks:
        instructor = nbformat.read(src, as_version=4)
        exercise_ids = {instructor.cells[f.index].id for f in ms.find_exercise_cells(instructor, src.name)}
        if not exercise_ids:
            assert not (tmp_path / "source" / src.stem).exists()  # nothing to grade: no assignment
            continue
        nb = nbformat.read(tmp_path / "source" / src.stem / src.name, as_version=4)
        solution_ids = {c.id for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}
        assert solution_ids == exercise_ids, src.name
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader")
            if meta and meta["grade"]:
                assert meta["locked"] and meta["points"] == graded[meta["grade_id"].removeprefix("check_")]
                name = meta["grade_id"].removeprefix("check_")
                assert "grade(" in cell.source
                assert (mg.BEGIN_HIDDEN in cell.source and "seed=5" in cell.source) == (name not in unhidden), name
                assert cell.outputs == []
            if meta and meta["solution"]:
                assert "# Task: " in cell.source and cell.outputs == []


def test_a_cell_that_checks_two_exercises_is_refused(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("def relu_grad(z):\n    ### BEGIN SOLUTION\n    return z\n    ### END SOLUTION"),
        nbformat.v4.new_code_cell("def sigmoid_derivative(z):\n    ### BEGIN SOLUTION\n    return z\n"
                                  "    ### END SOLUTION"),
        nbformat.v4.new_code_cell('ck.exercises.check("relu_grad", relu_grad)\n'
                                  'ck.exercises.check("sigmoid_derivative", sigmoid_derivative)'),
    ])
    nbformat.write(nb, tmp_path / "09_x.ipynb")
    assert mg.main([str(tmp_path / "course"), str(tmp_path / "09_x.ipynb")]) == 1
    assert not (tmp_path / "course").exists()


# ---------------------------------------------------------------- the real nbgrader, end to end


def _nbgrader(course: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")  # nbgrader runs alembic
    done = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


def _learners_code(cell_source: str) -> str:
    """A solution cell as a learner hands it in: the solution, without the marker lines."""
    return "\n".join(line for line in cell_source.splitlines() if line.strip() not in (ms.BEGIN, ms.END))


def _params(name: str) -> str:
    from coursekit.exercises.guards import exercise_parameters

    return ", ".join(n for n, _ in exercise_parameters(EXERCISES[name].signature))


# The course's first exercises, two per topic notebook: their checks take milliseconds. The "drill"
# assignment holds only these, for the submissions that go wrong on purpose (a wrong answer, a loop
# that never ends, exits), and for the hidden-variants test above. Every exercise of every notebook,
# those whose checks train small networks included (a few seconds each), is graded end to end in
# the "all" assignment: a correct submission and an untouched copy.
CORE = ("sigmoid_derivative", "chain_gradient", "relu_grad", "count_dead_units", "momentum_step", "adam_step",
        "xavier_uniform_bound", "he_normal_std", "free_energy", "cd1_update", "inverted_dropout",
        "dropout_forward", "batchnorm_forward_train", "update_running_stats")


def _exercises_in(notebooks=NOTEBOOKS) -> list[str]:
    """Every exercise the notebooks hold, in course order."""
    return [n for src in notebooks
            for f in ms.find_exercise_cells(nbformat.read(src, as_version=4), src.name) for n in f.names]


def _quick_exercises(notebooks=NOTEBOOKS) -> list[str]:
    """The core exercises that the notebooks hold today, in course order."""
    quick = [n for n in _exercises_in(notebooks) if n in CORE and n in EXERCISES]
    assert len(quick) >= 4, f"too few of the core exercises are left in the notebooks: {quick}"
    return quick


def _wrong_answer(names) -> tuple[str, int]:
    """An exercise and one of its known mistakes (a plausible wrong answer) whose hint check gives."""
    for name in names:
        ex = EXERCISES[name]
        for k, mistake in enumerate(ex.mistakes):
            if mistake.fn is not None and check(name, mistake.fn, quiet=True).hint == mistake.hint:
                return name, k
    raise AssertionError("no exercise has a known mistake with a function")


def _body(name: str, body: list[str]) -> str:
    return "\n".join([EXERCISES[name].signature.rstrip(), *[f"    {line}" for line in body]])


def _hand_in(course: Path, assignment: str, plans: dict[str, dict[str, str] | None]) -> list[str]:
    """Write each learner's submission of a compact assignment; return the assignment's exercises.

    ``plans`` maps a learner to the solution cells to write: ``{grade_id: source}`` for the cells
    that differ from the course's solution (``{}``: every cell the solution), or ``None`` for the
    release copy untouched.
    """
    notebook = f"{assignment}.ipynb"
    source = nbformat.read(course / "source" / assignment / notebook, as_version=4)
    solutions = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
    for student, changes in plans.items():
        nb = nbformat.read(course / "release" / assignment / notebook, as_version=4)
        for cell in nb.cells if changes is not None else []:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = changes.get(gid, _learners_code(solutions[gid]))
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / notebook)
    return list(source.metadata["coursekit"]["exercises"])


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    pytest.importorskip("nbgrader", reason="nbgrader is in the test extra: pip install -e '.[test]'")
    course = tmp_path_factory.mktemp("course")
    notebooks = _snapshot(course.parent / f"{course.name}-notebooks")
    timings = {}
    quick = _quick_exercises(notebooks)
    mg.generate(notebooks, course, assignment="drill", compact=True, hidden_seed=HIDDEN_SEED, only=quick)
    mg.generate(notebooks, course, assignment="all", compact=True, hidden_seed=HIDDEN_SEED)
    mg.generate(notebooks, course, assignment="full")
    start = time.monotonic()
    for assignment in ("drill", "all", "full"):
        _nbgrader(course, "generate_assignment", assignment)
    timings["generate"] = time.monotonic() - start

    source = nbformat.read(course / "source" / "drill" / "drill.ipynb", as_version=4)
    drill = list(source.metadata["coursekit"]["exercises"])
    assert sorted(drill) == sorted(quick)
    wrong, k = _wrong_answer(drill)
    order = [n for n in drill if n != wrong]
    looping, exiting, quitting = order[0], order[len(order) // 2], order[-1]
    native = order[1]
    plans = {
        "drill": {
            "correct": {},
            "wrong": {wrong: _body(wrong, ["from coursekit.exercises import EXERCISES",
                                           f"return EXERCISES[{wrong!r}].mistakes[{k}].fn({_params(wrong)})"])},
            "faults": {looping: _body(looping, ["while True:", "    pass"]),
                       exiting: _body(exiting, ["import sys", "sys.exit(1)"]),
                       quitting: _body(quitting, ["exit()"])},
            "untouched": None,
            # a correct answer whose code writes to file descriptor 2, as native libraries do (OpenMP, PyTorch's C++)
            "native": {native: _body(native, ["import os", "os.write(2, b'OMP: Info #276: a native notice on fd 2\\n')",
                                              "from coursekit.exercises import EXERCISES",
                                              f"return EXERCISES[{native!r}].reference({_params(native)})"])},
        },
        "all": {"correct": {}, "untouched": None},  # every exercise of every notebook
    }
    exercises = {assignment: _hand_in(course, assignment, students) for assignment, students in plans.items()}
    for assignment in plans:
        for step in ("autograde", "generate_feedback"):
            start = time.monotonic()
            _nbgrader(course, step, assignment, timeout=900)
            timings[f"{step.removeprefix('generate_')} {assignment}"] = time.monotonic() - start
    print(f"\nnbgrader wall-clock seconds: {json.dumps({k: round(v, 1) for k, v in timings.items()})}",
          file=sys.stderr)

    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for assignment, students in plans.items():
            for student in students:
                nb = gb.find_submission_notebook(assignment, assignment, student)
                scores.setdefault(assignment, {})[student] = {g.name.removeprefix("check_"): (g.score, g.max_score)
                                                              for g in nb.grades}
    return {"dir": course, "notebooks": notebooks, "scores": scores, "exercises": exercises, "wrong": (wrong, k),
            "faults": (looping, exiting, quitting), "native": native, "timings": timings}


def _feedback(course, student, assignment="drill") -> str:
    return (course["dir"] / "feedback" / student / assignment / f"{assignment}.html").read_text(encoding="utf-8")


def _graded_cells(course, student, assignment="drill"):
    nb = nbformat.read(course["dir"] / "autograded" / student / assignment / f"{assignment}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"].removeprefix("check_"): c for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade")}


@pytest.mark.grading
def test_nbgrader_blanks_exactly_the_cells_make_student_blanks(course):
    for src in course["notebooks"]:
        instructor = nbformat.read(src, as_version=4)
        student, names, _, _ = ms.make_student_notebook(instructor, src.name)
        if not names:
            assert not (course["dir"] / "source" / "full" / src.name).exists()  # nothing to grade there
            continue
        by_id = {c.id: c for c in instructor.cells}
        blanked_by_make_student = {c.id for c in student.cells if c.id in by_id and c.source != by_id[c.id].source}
        release = nbformat.read(course["dir"] / "release" / "full" / src.name, as_version=4)
        assert [c.id for c in release.cells] == [c.id for c in instructor.cells], src.name
        blanked_by_nbgrader = {c.id for c in release.cells
                               if c.metadata.get("nbgrader", {}).get("solution")
                               and ms.BEGIN not in c.source and ms.BEGIN in by_id[c.id].source}
        assert blanked_by_nbgrader == blanked_by_make_student, src.name
        code = "\n".join(c.source for c in release.cells if c.cell_type == "code")
        for line in _solution_lines(instructor):
            assert line not in code, f"{src.name}: solution line left by nbgrader: {line!r}"
        # every other cell keeps its source, apart from the grade cells' call
        for cell in release.cells:
            if not cell.metadata.get("nbgrader"):
                assert cell.source == by_id[cell.id].source, (src.name, cell.id)


def _solution_lines(nb):
    lines, inside = [], False
    for cell in nb.cells:
        for line in cell.source.splitlines() if cell.cell_type == "code" else []:
            if line.strip() in (ms.BEGIN, ms.END):
                inside = line.strip() == ms.BEGIN
            elif inside and len(line.strip()) > 12:
                lines.append(line.strip())
    return lines


@pytest.mark.grading
def test_the_learners_copy_hides_the_hidden_cases_and_the_solutions(course):
    text = (course["dir"] / "release" / "drill" / "drill.ipynb").read_text(encoding="utf-8")
    assert f"seed={HIDDEN_SEED}" not in text and "HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    nb = nbformat.read(course["dir"] / "release" / "drill" / "drill.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            ast.parse(cell.source)
            assert "raise NotImplementedError(" in cell.source and "# Task: " in cell.source


@pytest.mark.grading
def test_the_all_assignment_grades_every_exercise_of_the_notebooks(course):
    assert course["exercises"]["all"] == _exercises_in(course["notebooks"])
    assert set(course["exercises"]["drill"]) < set(course["exercises"]["all"])


@pytest.mark.grading
@pytest.mark.parametrize("assignment", ["drill", "all"])
def test_a_correct_submission_scores_full_marks(course, assignment):
    scores = course["scores"][assignment]["correct"]
    assert sorted(scores) == sorted(course["exercises"][assignment])
    assert all(score == top and top > 0 for score, top in scores.values()), scores
    extra = {}
    for name, cell in _graded_cells(course, "correct", assignment).items():
        text = "".join(o.get("text", "") for o in cell.outputs)
        assert text.startswith(f"✓ {name}: "), text
        assert not any(o.output_type == "error" for o in cell.outputs)
        extra[name] = int(text.split("/")[1].split()[0]) - len(EXERCISES[name].cases)
    # the hidden cases ran (nbgrader put the hidden region back): more cases than the learner's check has
    assert all(n >= 0 for n in extra.values()) and sum(n > 0 for n in extra.values()) >= len(extra) // 2, extra


@pytest.mark.grading
def test_one_wrong_answer_loses_exactly_that_exercises_points_and_feedback_gives_its_hint(course):
    wrong, k = course["wrong"]
    scores = course["scores"]["drill"]["wrong"]
    lost = {name for name, (score, top) in scores.items() if score != top}
    assert lost == {wrong} and scores[wrong][0] == 0
    total = sum(score for score, _ in scores.values())
    assert total == sum(top for _, top in scores.values()) - scores[wrong][1]
    feedback = html.unescape(_feedback(course, "wrong"))
    hint = EXERCISES[wrong].mistakes[k].hint
    assert f"✗ {wrong}: " in feedback and f"Hint: {hint}" in feedback


@pytest.mark.grading
def test_a_loop_that_never_ends_and_exits_cost_their_exercises_only(course):
    looping, exiting, quitting = course["faults"]
    scores = course["scores"]["drill"]["faults"]
    lost = {name for name, (score, top) in scores.items() if score != top}
    assert lost == {looping, exiting, quitting} and all(scores[n][0] == 0 for n in lost)
    cells = _graded_cells(course, "faults")
    said = {n: "".join(o.get("text", "") for o in cells[n].outputs) for n in lost}
    assert "did not return within 5 s" in said[looping] and "a loop that never ends" in said[looping]
    assert "your function tried to exit Python (SystemExit: 1)" in said[exiting]
    assert "your function tried to exit Python" in said[quitting]
    feedback = html.unescape(_feedback(course, "faults"))
    assert all(said[n].strip() in feedback for n in lost)
    # four submissions, one 5-second loop among them: bounded well below nbgrader's own cell timeout
    assert course["timings"]["autograde drill"] < 240, course["timings"]


@pytest.mark.grading
def test_a_correct_answer_whose_native_code_writes_to_fd_2_keeps_its_points(course):
    native = course["native"]
    scores = course["scores"]["drill"]["native"]
    assert scores[native][0] == scores[native][1] > 0, scores  # nbgrader scores a grade cell with stderr as 0
    cell = _graded_cells(course, "native")[native]
    assert all(o.get("name") != "stderr" for o in cell.outputs if o.output_type == "stream"), cell.outputs
    printed = "".join(o.get("text", "") for o in cell.outputs)
    assert "OMP: Info #276: a native notice on fd 2" in printed and f"✓ {native}: " in printed


@pytest.mark.grading
@pytest.mark.parametrize("assignment", ["drill", "all"])
def test_an_untouched_copy_scores_zero_with_not_implemented_for_every_exercise(course, assignment):
    scores = course["scores"][assignment]["untouched"]
    assert sorted(scores) == sorted(course["exercises"][assignment])
    assert all(score == 0 for score, _ in scores.values()), scores
    cells = _graded_cells(course, "untouched", assignment)
    assert list(cells) == course["exercises"][assignment]
    for name, cell in cells.items():
        assert {o.output_type for o in cell.outputs} == {"stream", "execute_result"}, (name, cell.outputs)
        printed = "".join(o.text for o in cell.outputs if o.output_type == "stream")
        assert printed == f"✗ {name}: not implemented yet: fill in the cell above.\n"
    feedback = html.unescape(_feedback(course, "untouched", assignment))
    assert feedback.count("not implemented yet") >= len(scores)
    assert "Traceback (most recent call last)" not in feedback


def test_compact_only_and_timeout_options(tmp_path):
    first = _quick_exercises()[:2]
    written = mg.generate(NOTEBOOKS, tmp_path, assignment="quiz", compact=True, only=first, timeout=12)
    assert [w.target.rsplit("/", 1)[-1] for w in written] == ["quiz.ipynb"] and written[0].exercises == first
    nb = nbformat.read(tmp_path / "source" / "quiz" / "quiz.ipynb", as_version=4)
    grade_cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert [c.source.splitlines()[-1] for c in grade_cells] == [f"grade({n!r}, {n}, timeout=12)".replace("'", '"')
                                                               for n in first]
    prelude = nb.cells[1].source
    assert prelude.startswith("import coursekit as ck") and "ipywidgets" not in prelude
    with pytest.raises(mg.GradingError, match="add --compact"):
        mg.generate(NOTEBOOKS, tmp_path / "other", only=first)


def test_compact_keeps_the_module_aliases_its_exercises_use(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import coursekit as ck\nimport numpy as np\n\nS = ck.surfaces\nP = ck.plots\n"
                                  "ck.setup_notebook(seed=0)"),
        nbformat.v4.new_code_cell("def relu_grad(z):\n    ### BEGIN SOLUTION\n    return S and (z > 0).to(z.dtype)\n"
                                  "    ### END SOLUTION"),
        nbformat.v4.new_code_cell('ck.exercises.check("relu_grad", relu_grad)'),
    ])
    nbformat.write(nb, tmp_path / "09_x.ipynb")
    mg.generate([tmp_path / "09_x.ipynb"], tmp_path / "course", assignment="quiz", compact=True)
    prelude = nbformat.read(tmp_path / "course" / "source" / "quiz" / "quiz.ipynb", as_version=4).cells[1].source
    assert prelude == "import coursekit as ck\n\nS = ck.surfaces\n\nck.setup_notebook(seed=0)"  # not P, nor numpy
