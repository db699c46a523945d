"""What every notebook's text promises a learner: the same opening box, the words the course uses for
its sources, a reference list."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
FIELDS = ["**You need:**", "**You will be able to:**", "**Time:**", "**Can you skip it?**"]
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}


def markdown(nb):
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebook_opens_with_the_same_box(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith(f"# {path.name[:2]} · "), \
        f"{path.name}: the first cell should be the title '# {path.name[:2]} · ...'"
    box = re.search(r"^> \*\*At a glance\*\*\n((?:> .*\n?)+)", first.source, re.M)
    assert box, f"{path.name}: the title should be followed by the '> **At a glance**' box"
    lines = box.group(1).splitlines()
    assert [next((f for f in FIELDS if ln.startswith("> - " + f)), None) for ln in lines] == FIELDS, \
        f"{path.name}: the box should list, in this order, {FIELDS}; it has {lines}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_box_counts_the_exercises_the_notebook_checks(path):
    nb = nbformat.read(path, as_version=4)
    names = set()
    for c in nb.cells:
        if c.cell_type == "code":
            names |= set(re.findall(r"ck\.exercises\.check\(\s*[\"']([\w-]+)[\"']", c.source))
    time = next(ln for ln in nb.cells[0].source.splitlines() if ln.startswith("> - **Time:**"))
    said = re.search(r"for the (\w+) exercises?|for the exercise\b", time)
    if not names:
        assert "no exercises" in time, f"{path.name}: no exercise is checked, so the box should say 'no exercises'"
    else:
        assert said and NUMBERS.get(said.group(1) or "one") == len(names), \
            f"{path.name}: the box's time line should count {len(names)} exercises ({sorted(names)}); it says {time!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_text_names_its_sources_as_the_course_does(path):
    nb = nbformat.read(path, as_version=4)
    for text in markdown(nb):
        for wrong, right in [("learner's notes", "the study notes"), ("The seed's lab", "the original labs' lab")]:
            assert wrong.lower() not in text.lower(), f"{path.name}: say {right!r}, not {wrong!r}: {text[:80]!r}"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if not p.name.startswith("00")], ids=lambda p: p.stem)
def test_each_topic_notebook_lists_its_references(path):
    nb = nbformat.read(path, as_version=4)
    refs = [t for t in markdown(nb) if t.startswith("## References")]
    assert len(refs) == 1 and refs[0].count("\n- ") >= 3, \
        f"{path.name}: should have one '## References' cell listing at least three works"


def _resolve(path: str):
    import importlib

    import coursekit
    obj = coursekit
    for part in path.split(".")[1:]:
        if hasattr(obj, part):
            obj = getattr(obj, part)
        else:
            try:
                obj = importlib.import_module(f"{obj.__name__}.{part}")
            except (ImportError, AttributeError):
                return None
    return obj


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_helpers_a_notebook_lists_exist(path):
    """The first cell's "Helpers used" list: `ck.mod.name` must exist; a bare `name` after it belongs to the
    module (or class) named last, as in "`ck.train.fit` and `evaluate`" or "`ck.rbm.RBM` (`fit`, ...)"."""
    import inspect

    text = re.search(r"Helpers used[^:]*:(.*)", nbformat.read(path, as_version=4).cells[0].source, re.S)
    assert text, f"{path.name}: the first cell should end with the 'Helpers used' list"
    owner, missing = None, []
    for token in re.findall(r"`([^`]+)`", text.group(1)):
        name = token.split("(")[0].strip()
        if name.endswith("="):          # an argument, as in `ck.models.mlp` (with `batchnorm=`)
            continue
        if name.startswith("ck."):
            obj = _resolve(name)
            if obj is None:
                missing.append(token)
                continue
            owner = obj if inspect.ismodule(obj) or inspect.isclass(obj) else _resolve(name.rsplit(".", 1)[0])
        else:
            obj = owner
            for part in name.split("."):
                obj = getattr(obj, part, None)
            if obj is None:
                missing.append(token)
    assert not missing, f"{path.name}: the 'Helpers used' list names what the package does not have: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_readme_gives_each_notebook_the_time_its_box_gives(path):
    time = next(ln for ln in nbformat.read(path, as_version=4).cells[0].source.splitlines()
                if ln.startswith("> - **Time:**"))
    minutes = sum(int(m) for m in re.findall(r"about (\d+) min", time))
    readme = (path.parents[1] / "README.md").read_text(encoding="utf-8")
    row = re.search(rf"^\| {path.name[:2]} \|.*\| (\d+) min \|$", readme, re.M)
    assert row and int(row.group(1)) == minutes, \
        f"README's course table should give {path.name} {minutes} min (its box: {time!r})"


def test_the_korean_readme_is_linked_from_the_top_of_readme_and_its_links_resolve():
    root = NOTEBOOKS[0].parents[1]
    top = (root / "README.md").read_text(encoding="utf-8").splitlines()[:5]
    assert any("](README.ko.md)" in ln for ln in top), \
        f"README.md's first 5 lines should link the Korean README, [..](README.ko.md); they are {top}"
    text = (root / "README.ko.md").read_text(encoding="utf-8")
    for command in ["make lab-ko", "make lab", "make test"]:
        assert re.search(rf"\b{command}(?![\w-])", text), f"README.ko.md should give the set-up command `{command}`"
    targets = [t.split("#")[0] for t in re.findall(r"\]\(([^)\s]+)\)", text)
               if not re.match(r"[a-z][a-z0-9+.-]*:", t) and not t.startswith("#")]
    missing = []
    for target in targets:
        korean = re.fullmatch(r"ko/notebooks/([0-9][0-9]_\w+\.ipynb)", target)
        if korean:      # the Korean notebooks are built from notebooks/ (make korean): the same file names
            if not (root / "notebooks" / korean.group(1)).is_file():
                missing.append(target)
        elif not (root / target).exists():
            missing.append(target)
    assert not missing, f"every relative link of README.ko.md should point to a file of the repository: {missing}"
    linked = sorted(t for t in targets if t.startswith("ko/notebooks/"))
    assert linked == [f"ko/notebooks/{p.name}" for p in NOTEBOOKS], \
        f"README.ko.md should link each of the {len(NOTEBOOKS)} Korean notebooks once; it links {linked}"
