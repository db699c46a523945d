"""Packaging: pyproject.toml and environment.yml agree; no exact pins; the set-up commands exist."""
from __future__ import annotations

import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI's
CONDA_TO_PYPI = {"pytorch": "torch"}
CONDA_ONLY = {"python", "pip"}


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def pypi_names() -> set[str]:
    project = pyproject()
    names = {_name(r) for r in project["dependencies"]}
    for extra in ("lab", "test"):
        names |= {_name(r) for r in project["optional-dependencies"][extra]}
    return names


def conda_names() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    names = set()
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            n = _name(dep)
            if n not in CONDA_ONLY:
                names.add(CONDA_TO_PYPI.get(n, n))
    return names


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


def test_install_requirements_have_no_exact_or_upper_pins():
    project = pyproject()
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += extra
    for r in reqs:
        assert "==" not in r and "<" not in r and "~=" not in r, f"pinned requirement: {r}"
    assert "torch>=2.2" in project["dependencies"]


def test_binder_installs_coursekit_itself():
    post = (ROOT / "binder" / "postBuild").read_text()
    assert "pip install --no-deps -e ." in post


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
