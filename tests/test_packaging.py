"""Packaging: pyproject.toml and environment.yml agree; a lean learner environment; one ipykernel bound;
the distribution's name; the release files; the set-up commands exist."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI's
CONDA_TO_PYPI = {"pytorch": "torch"}
CONDA_ONLY = {"python", "pip"}


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def learner_requirements() -> list[str]:
    """What a learner's environment is asked for: coursekit's dependencies and the [lab] extra."""
    project = pyproject()
    return list(project["dependencies"]) + list(project["optional-dependencies"]["lab"])


def pypi_names() -> set[str]:
    return {_name(r) for r in learner_requirements()}


def conda_specs() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    specs = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            n = _name(dep)
            if n not in CONDA_ONLY:
                specs[CONDA_TO_PYPI.get(n, n)] = dep
        elif isinstance(dep, dict):  # the pip section: PyPI names already
            for pip_dep in dep.get("pip", []):
                specs[_name(pip_dep)] = pip_dep
    return specs


def conda_names() -> set[str]:
    return set(conda_specs())


def _spec(requirement: str) -> str:
    """The version part of a requirement, spaces removed: "ipykernel >=6.29, <7" -> ">=6.29,<7"."""
    return re.sub(r"\s", "", requirement)[len(_name(requirement)):]


def test_environment_yml_and_pyproject_name_the_same_packages():
    missing_in_conda = pypi_names() - conda_names()
    missing_in_pypi = conda_names() - pypi_names()
    assert not missing_in_conda, f"in pyproject.toml but not environment.yml: {sorted(missing_in_conda)}"
    assert not missing_in_pypi, f"in environment.yml but not pyproject.toml: {sorted(missing_in_pypi)}"


def test_environment_yml_uses_conda_forge_and_cpu_pytorch():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    torch_line = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("pytorch"))
    assert "cpu" in torch_line


# The one upper bound, with its reason in pyproject.toml's [lab] extra (ipykernel 7 can hang nbclient).
KERNEL_BOUND = ">=6.29,<7"


def test_install_requirements_have_no_exact_or_upper_pins_but_the_one_ipykernel_bound():
    project = pyproject()
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += extra
    for r in reqs:
        if _name(r) == "ipykernel":
            continue
        assert "==" not in r and "<" not in r and "~=" not in r, f"pinned requirement: {r}"
    assert "torch>=2.2" in project["dependencies"]
    kernels = [r for r in reqs if _name(r) == "ipykernel"]
    assert kernels == [f"ipykernel{KERNEL_BOUND}"], f"ipykernel should be asked for once, in [lab]: {kernels}"
    assert f"ipykernel{KERNEL_BOUND}" in project["optional-dependencies"]["lab"]


def test_every_route_gets_the_same_ipykernel_bound_from_one_place():
    # conda, Binder and the hub images read environment.yml; make and TLJH install the [lab] extra.
    assert _spec(conda_specs()["ipykernel"]) == KERNEL_BOUND, conda_specs()["ipykernel"]
    code = [line.split("#")[0] for line in (ROOT / "Makefile").read_text().splitlines()]
    assert not any("ipykernel" in line for line in code), "the Makefile should take the bound from [lab]"
    assert any('pip install --quiet -e ".[lab]"' in line for line in code)
    deploy = (ROOT / "deploy" / "jupyterhub" / "README.md").read_text()
    assert 'pip install ".[lab]"' in deploy, "TLJH's install should take the [lab] extra (and its bound)"


# Teachers' and CI's packages, which a learner's JupyterLab should not carry (nbgrader adds Formgrader
# and Create Assignment to the lab's menus; JupyterHub and the test tools are of no use to a learner).
TEACHER_ONLY = {"nbgrader", "jupyterhub", "nbgitpuller", "pytest", "pytest-xdist", "nbval", "papermill",
                "playwright", "ruff", "jupytext"}


def test_the_learner_environment_is_lean_on_every_route():
    learner = pypi_names()
    assert learner == {"numpy", "torch", "matplotlib", "ipywidgets", "scikit-learn", "tqdm", "koreanize-matplotlib",
                       "jupyterlab", "ipykernel", "polib"}, sorted(learner)
    assert not (conda_names() & TEACHER_ONLY), sorted(conda_names() & TEACHER_ONLY)
    make = (ROOT / "Makefile").read_text()
    lab_rule = make[make.index("$(LAB_STAMP):"):]
    lab_rule = lab_rule[:lab_rule.index("\n\n")]
    assert ".[lab]" in lab_rule and "test" not in lab_rule and "hub" not in lab_rule, lab_rule
    assert re.search(r"^lab: \$\(LAB_STAMP\)$", make, re.M), "make lab should install the learner's extra only"


def _lab_extensions_reachable(requirements: list[str]) -> dict[str, set[str]]:
    """The JupyterLab extensions that installing ``requirements`` brings, read from the installed metadata.

    Walks the requirement graph of the distributions installed here (the dev environment holds them
    all), following only what a plain install of ``requirements`` pulls in, and collects the
    prebuilt lab extensions each distribution installs (``share/jupyter/labextensions/<name>``).
    """
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    seen, found = set(), {}
    todo = [(Requirement(r), "") for r in requirements]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(req.name)
        for wanted in [""] + sorted(req.extras):
            if (name, wanted) in seen:
                continue
            seen.add((name, wanted))
            try:
                dist = metadata.distribution(req.name)
            except metadata.PackageNotFoundError:
                continue
            if not wanted:
                for f in dist.files or []:
                    parts = str(f).replace("\\", "/").split("/")
                    if "labextensions" in parts[:-1]:
                        rest = parts[parts.index("labextensions") + 1:]
                        ext = "/".join(rest[:2]) if rest[0].startswith("@") else rest[0]
                        found.setdefault(name, set()).add(ext)
            todo += [(Requirement(r), wanted) for r in dist.requires or []]
    return found


def test_the_learner_jupyterlab_has_only_jupyterlab_s_and_the_widgets_extensions():
    pytest.importorskip("packaging")
    learner = _lab_extensions_reachable(learner_requirements())
    extensions = set().union(*learner.values()) if learner else set()
    print("lab extensions of the learner environment:", sorted(extensions))
    # JupyterLab's own (nbconvert's syntax colours) and ipywidgets' widget manager; nothing of nbgrader's.
    allowed = {"jupyterlab_pygments", "@jupyter-widgets/jupyterlab-manager"}
    assert extensions <= allowed, f"the learner's JupyterLab carries {sorted(extensions - allowed)}"
    assert "@jupyter-widgets/jupyterlab-manager" in extensions, "the widgets need ipywidgets' lab extension"
    # the same walk does find nbgrader's extensions from the teachers' extra, where they belong
    teacher = _lab_extensions_reachable(pyproject()["optional-dependencies"]["test"])
    if "nbgrader" not in teacher:
        pytest.skip("nbgrader is not installed here: the control case cannot run")
    assert "@jupyter/nbgrader" in teacher["nbgrader"]


def test_the_distribution_is_not_named_coursekit_but_imports_as_coursekit():
    # `coursekit` on PyPI is an unrelated project: a learner who types `pip install coursekit` gets it.
    project = pyproject()
    assert project["name"] != "coursekit", "the name coursekit on PyPI is taken by another project"
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    assert packages["include"] == ["coursekit*"], "the import name stays coursekit"
    assert f"{project['name']}[lab,test,hub,ko,book]" in project["optional-dependencies"]["dev"]
    readme = (ROOT / "README.md").read_text()
    assert project["name"] in readme and "pip install coursekit" not in readme.replace(
        "`pip install coursekit` gets", ""), "README should say how to install from the repository"


def test_the_python_floor_is_what_the_tests_need():
    # the tests import tomllib (3.11); tools/check_python.py reads the same line
    assert pyproject()["requires-python"] == ">=3.11"
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python>=3.11" in env["dependencies"]


def test_version_changelog_and_citation_agree():
    import coursekit

    version = coursekit.__version__
    assert "version" in pyproject()["dynamic"], "the version is read from coursekit/__init__.py, one place"
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"].startswith("1.2") and citation["version"] == version, citation["version"]
    changelog = (ROOT / "CHANGELOG.md").read_text()
    releases = re.findall(r"^## \[?v?(\d+\.\d+\.\d+)\]?", changelog, re.M)
    assert releases and releases[0] == version, f"CHANGELOG.md's latest release {releases[:1]}, package {version}"


def test_code_and_content_licences_are_both_there():
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    content = (ROOT / "LICENSE-CONTENT.md").read_text()
    assert "CC BY 4.0" in content and "creativecommons.org/licenses/by/4.0" in content
    assert "study notes" in content and "모두를 위한 딥러닝 시즌 2" in content


def test_binder_installs_coursekit_itself_and_writes_the_student_editions():
    post = (ROOT / "binder" / "postBuild").read_text()
    assert "pip install --no-deps -e ." in post
    steps = [line for line in post.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert any(line.strip() == "python tools/make_student.py" for line in steps), \
        "a Binder learner should find the student editions in student/, as `make lab` writes them"
    assert steps.index("python -m pip install --no-deps -e .") < next(
        i for i, line in enumerate(steps) if "make_student" in line), "coursekit first: make_student imports it"


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make lab" in readme
    assert re.search(r"^\s*make test\b", ci, re.M), ".ci/run must call the README's test command"


def test_notebooks_follow_the_conventions():
    import nbformat

    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert "parameters" in code[0].metadata.get("tags", []), f"{path.name}: 1st code cell must be tagged parameters"
        assert re.search(r"^SEED = \d+", code[0].source, re.M), f"{path.name}: the parameters cell must define SEED"
        assert "setup_notebook(seed=SEED)" in code[1].source, f"{path.name}: 2nd code cell must call setup_notebook(seed=SEED)"
        assert all(c.execution_count is not None for c in code), f"{path.name}: commit it executed"
        counts = [c.execution_count for c in code]
        assert counts == list(range(1, len(code) + 1)), f"{path.name}: execute top to bottom from a fresh kernel"
        assert path.stat().st_size < 2_000_000, f"{path.name} is over 2 MB"
        text = path.read_text()
        for forbidden in ("/work/", "/root/", "/home/", "/tmp/"):
            assert forbidden not in text, f"{path.name} mentions a machine path ({forbidden})"


def test_readme_first_screen_is_for_a_learner():
    first = "\n".join((ROOT / "README.md").read_text().splitlines()[:45])
    for needed in ("Who it is for", "study notes", "모두를 위한 딥러닝 시즌 2", "Deep Learning Zero To All",
                   "What to know first", "How long", "make lab", "make test", "| 00 |", "| 08 |"):
        assert needed in first, f"README's first 45 lines should say {needed!r}"
    for teacher_only in ("nbgrader", "JupyterHub", "nbval", "census"):
        assert teacher_only not in first, f"{teacher_only!r} belongs below the learner's first screen"
    times = re.findall(r"^\| 0\d \|.*\| (\d+) min \|$", first, re.M)
    assert len(times) == 9, "each notebook's row should say how long it takes"


def test_readme_lists_every_tool():
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("\ntools/"):]
    block = block[:block.index("\ndocs/")]
    tools = sorted(p.name for p in (ROOT / "tools").iterdir() if p.is_file() and p.suffix in (".py", ".cfg"))
    missing = [t for t in tools if t not in block]
    assert not missing, f"README's repository layout should name {missing}"


def test_relative_links_in_the_guides_resolve():
    pages = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "CHANGELOG.md", ROOT / "LICENSE-CONTENT.md",
             *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "deploy").glob("*/README.md"))]
    broken = []
    for page in pages:
        text = page.read_text()
        anchors = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-")
                   for h in re.findall(r"^#+ (.*)$", text, re.M)}
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            if path and not (page.parent / path).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif not path and anchor and anchor not in anchors:
                broken.append(f"{page.relative_to(ROOT)}: #{anchor}")
    assert not broken, broken


def _make_n(target: str) -> list[str]:
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("needs make")
    out = subprocess.run(["make", "-n", "--no-print-directory", target], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_the_korean_edition_has_its_targets_and_a_korean_jupyterlab():
    import json

    project = pyproject()
    assert [_name(r) for r in project["optional-dependencies"]["ko"]] == ["jupyterlab-language-pack-ko-kr"]
    make = (ROOT / "Makefile").read_text()
    assert '$(KO_STAMP): $(LAB_STAMP)\n\t$(BIN)/python -m pip install --quiet -e ".[lab,ko]"' in make
    rule = re.search(r"^lab-ko: \$\(KO_STAMP\)$", make, re.M)
    assert rule and "make lab LANG=ko" in make[:rule.start()], "the Makefile says why not LANG=ko"
    # make lab-ko: the Korean notebooks and their student editions, then JupyterLab with the override
    lab_ko = _make_n("lab-ko")
    assert any("tools/i18n.py build --skip-incomplete --student ko/student" in line for line in lab_ko), lab_ko
    lab = next(line for line in lab_ko if "jupyter lab" in line)
    assert "--ContentsManager.preferred_dir=ko/student" in lab
    settings = re.search(r"--LabApp.app_settings_dir=(\S+)", lab).group(1)
    override = json.loads((ROOT / settings / "overrides.json").read_text())
    locale = override["@jupyterlab/translation-extension:plugin"]["locale"]
    from importlib import metadata

    packs = {e.name for e in metadata.entry_points(group="jupyterlab.languagepack")}
    if "jupyterlab-language-pack-ko-KR" in {d.metadata["Name"] for d in metadata.distributions()}:
        assert locale in packs, f"overrides.json selects {locale!r}; the language pack provides {sorted(packs)}"
    else:
        assert locale == "ko_KR"
    # make student: the English editions, then the Korean ones (exercise solutions removed by the same tool)
    student = _make_n("student")  # (after the environment's rules, if pyproject.toml changed since)
    assert "tools/make_student.py" in student[-2] and "--student ko/student" in student[-1], student
    korean = _make_n("korean")
    assert korean[-1].endswith("tools/i18n.py build"), "make korean refuses catalogs that are not ready"
