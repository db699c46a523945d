"""A class on JupyterHub: simulated learners log in, pull the course with nbgitpuller and run a notebook.

The deployment in ``deploy/jupyterhub/`` is what a teacher installs; this file checks
its parts. The fast tests (link format, the student branch, the hub config, Binder's
environment, and the two updates learners hit, run through nbgitpuller's own GitPuller: a teacher's
change merged into a notebook the learner edited, a deleted notebook coming back fresh) run everywhere (``tests/test_make_lab.py`` checks ``make lab`` as root). ``test_a_class_on_jupyterhub``
(marker ``hub``, about a minute on 2 cores) starts a real JupyterHub on 127.0.0.1,
with the course's ``jupyterhub_config.py``, a shared-password authenticator and a
local-process spawner that gives each user a temporary home, and then, for
``COURSEKIT_HUB_LEARNERS`` (default 8) learners at once:

1. each logs in through the login form, waits for its server and opens JupyterLab;
2. each opens an nbgitpuller link to the course's ``student`` branch (a local bare
   repository, as ``deploy/jupyterhub/publish_student_branch.py`` writes it) and gets
   the student editions in its own home;
3. each runs the code cells of a student notebook (``COURSEKIT_HUB_NOTEBOOK``, default
   00_start_here.ipynb; its first ``COURSEKIT_HUB_CELLS``, default 9) through the Jupyter server's
   kernel API (REST + websocket), all learners concurrently; every cell must succeed;
4. each edits and saves that notebook; the teacher pushes a change to another file;
   each opens the link again: its edit is still there and the teacher's change arrived;
5. a learner's token and cookies are refused on another learner's server and files.

It prints the time to each server being ready, the total time per learner and the
peak memory, is bounded in time, talks only to 127.0.0.1, and ends every process
it started (checked). Where jupyterhub, nbgitpuller, Node.js or
configurable-http-proxy is missing it is skipped with the command that installs it.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import hub_support as hs
import pytest

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy" / "jupyterhub"
N_LEARNERS = int(os.environ.get("COURSEKIT_HUB_LEARNERS", "8"))
NOTEBOOK = os.environ.get("COURSEKIT_HUB_NOTEBOOK", "00_start_here.ipynb")
# Bound on the work: the first MAX_CELLS code cells (in order, so each has what it needs), enough
# for set-up, data, a training run, a figure and a claim in 00; COURSEKIT_HUB_CELLS=0 runs them all.
MAX_CELLS = int(os.environ.get("COURSEKIT_HUB_CELLS", "9")) or None
FOLDER = "coursekit"  # where the link puts the course in each home
GIB = 1024**3


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, DEPLOY / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _git(*args, cwd=None) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}
    out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, f"git {' '.join(args)}: {out.stderr}"
    return out.stdout


def _publish(repo: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(DEPLOY / "publish_student_branch.py"), "--repo", str(repo), *extra],
                          capture_output=True, text=True, timeout=600)


def _bare_repo(path: Path) -> Path:
    _git("init", "--quiet", "--bare", str(path))
    _git("symbolic-ref", "HEAD", "refs/heads/student", cwd=path)
    return path


# --- the parts, quickly ----------------------------------------------------------------

def test_nbgitpuller_link_opens_the_student_edition_in_jupyterlab():
    link = _load("nbgitpuller_link").link("https://hub.example.edu/", "https://git.example.edu/course.git",
                                           "student", "03_optimizers.ipynb")
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "hub.example.edu", "/hub/user-redirect/git-pull")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {"repo": "https://git.example.edu/course.git", "branch": "student", "targetpath": "coursekit",
                     "urlpath": "lab/tree/coursekit/student/03_optimizers.ipynb"}


@pytest.mark.slow
def test_publish_student_branch_commits_student_editions_and_keeps_history(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("needs git: `sudo apt-get install -y git`")
    repo = _bare_repo(tmp_path / "course.git")
    nb = str(ROOT / "notebooks" / NOTEBOOK)
    first = _publish(repo, nb)
    assert first.returncode == 0, first.stderr
    files = set(_git("ls-tree", "-r", "--name-only", "student", cwd=repo).split())
    assert files == {"README.md", ".gitignore", f"student/{NOTEBOOK}"}, files
    meta = json.loads(_git("show", f"student:student/{NOTEBOOK}", cwd=repo))["metadata"]["coursekit"]
    assert meta["edition"] == "student"
    again = _publish(repo, nb)
    assert again.returncode == 0 and "already up to date" in again.stdout, again.stdout + again.stderr
    solutions = _publish(repo, nb, "--solutions")
    assert solutions.returncode == 0, solutions.stderr
    assert f"notebooks/{NOTEBOOK}" in _git("ls-tree", "-r", "--name-only", "student", cwd=repo).split()
    # a linear history: each publish is a child of the last, which is what nbgitpuller merges cleanly
    assert len(_git("rev-list", "student", cwd=repo).split()) == 2


def test_hub_config_gives_learners_jupyterlab_and_one_thread():
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("jupyterhub_config.py", path=str(DEPLOY)).load_config()
    assert config.Spawner.default_url == "/lab"
    env = config.Spawner.environment  # the file updates it: a lazy value until a spawner applies it
    env = env.get_value({}) if hasattr(env, "get_value") else dict(env)
    assert env["OMP_NUM_THREADS"] == "1"
    assert "authenticator_class" not in config.JupyterHub, "the authenticator is left to the teacher"


def test_binder_and_repo2docker_read_the_root_environment_yml():
    # repo2docker reads only binder/ once that folder exists: binder/environment.yml must be the root one.
    assert (ROOT / "binder" / "environment.yml").read_text() == (ROOT / "environment.yml").read_text()


# --- what learners hit when the teacher updates the course (nbgitpuller's own merge, no hub needed) ------
# The class test above pulls through a real hub; these two run nbgitpuller's GitPuller (what the link's
# handler calls) directly on a local clone, so they take seconds and run wherever git and nbgitpuller are.
UPDATE_NOTEBOOK = "01_vanishing_gradients.ipynb"  # has exercises: a learner writes into a stub


def _puller_or_skip():
    if shutil.which("git") is None:
        pytest.skip("needs git: `sudo apt-get install -y git`")
    pull = pytest.importorskip("nbgitpuller.pull", reason="needs nbgitpuller (the [hub] extra)")
    return pull.GitPuller


@pytest.fixture(scope="module")
def _published_once(tmp_path_factory) -> Path:
    """The student branch with one notebook, published once for the tests below (each takes a copy)."""
    if shutil.which("git") is None:
        pytest.skip("needs git: `sudo apt-get install -y git`")
    repo = _bare_repo(tmp_path_factory.mktemp("published") / "course.git")
    published = _publish(repo, str(ROOT / "notebooks" / UPDATE_NOTEBOOK))
    assert published.returncode == 0, published.stderr
    return repo


@pytest.fixture
def _course(tmp_path, _published_once) -> tuple[str, Path]:
    """A copy of the published branch, and the teacher's clone of it."""
    repo = tmp_path / "course.git"
    shutil.copytree(_published_once, repo)
    teacher = tmp_path / "teacher"
    _git("clone", "--quiet", "--branch", "student", "--", repo.as_uri(), str(teacher))
    return repo.as_uri(), teacher


def _teacher_publishes(teacher: Path, change) -> None:
    """The teacher changes the student edition with ``change(nb)`` and pushes, as a new publish would."""
    import nbformat

    path = teacher / "student" / UPDATE_NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    change(nb)
    nbformat.write(nb, path)
    _git("-c", "user.name=teacher", "-c", "user.email=teacher@localhost", "commit", "--quiet", "-am", "update",
         cwd=teacher)
    _git("push", "--quiet", "origin", "student", cwd=teacher)


def _pull(GitPuller, url: str, home: Path) -> None:
    for _ in GitPuller(url, str(home), branch="student", depth=1).pull():
        pass


def _stub_cell(nb) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "NotImplementedError" in c.source)


@pytest.mark.parametrize("where", ["another cell", "the same cell"])
def test_a_teacher_s_update_merges_into_a_notebook_the_learner_edited(tmp_path, _course, where):
    import nbformat

    GitPuller = _puller_or_skip()
    url, teacher = _course
    home = tmp_path / "learner" / "coursekit"
    _pull(GitPuller, url, home)
    path = home / "student" / UPDATE_NOTEBOOK
    # The learner answers the first exercise, runs a later cell, and saves (JupyterLab writes nbformat's JSON).
    nb = nbformat.read(path, as_version=4)
    stub = _stub_cell(nb)
    answer = "    return sigmoid(z) * (1 - sigmoid(z))  # my answer"
    nb.cells[stub].source = re.sub(r"^\s*raise NotImplementedError\(.*$", answer, nb.cells[stub].source, count=1,
                                   flags=re.M)
    assert answer in nb.cells[stub].source
    ran = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and i > stub + 1)
    nb.cells[ran].execution_count = 1
    nb.cells[ran].outputs = [nbformat.v4.new_output("stream", name="stdout", text="the learner ran this\n")]
    nbformat.write(nb, path)

    note = f"Teacher's correction ({uuid.uuid4().hex[:6]})."
    if where == "another cell":
        target = max(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown")
    else:
        target = stub

    def change(nb):
        nb.cells[target].source += ("\n" + note) if nb.cells[target].cell_type == "markdown" else f"\n# {note}"
    _teacher_publishes(teacher, change)
    _pull(GitPuller, url, home)

    merged = nbformat.read(path, as_version=4)
    nbformat.validate(merged)  # still a notebook JupyterLab opens
    assert answer in merged.cells[stub].source, "the learner's answer should survive the teacher's update"
    assert any("the learner ran this" in o.get("text", "") for o in merged.cells[ran].outputs)
    if where == "another cell":
        assert note in merged.cells[target].source, "the teacher's change to another cell should arrive"


def test_a_deleted_notebook_comes_back_fresh_on_the_next_pull(tmp_path, _course):
    GitPuller = _puller_or_skip()
    url, teacher = _course
    home = tmp_path / "learner" / "coursekit"
    _pull(GitPuller, url, home)
    path = home / "student" / UPDATE_NOTEBOOK
    path.unlink()  # the learner deletes the notebook to start again
    _pull(GitPuller, url, home)
    assert path.read_bytes() == (teacher / "student" / UPDATE_NOTEBOOK).read_bytes(), "a fresh copy should come back"
    # deleted again, and the teacher has changed it meanwhile: the teacher's new version comes back
    path.unlink()

    def change(nb):
        nb.cells[-1].source += "\nUpdated."
    _teacher_publishes(teacher, change)
    _pull(GitPuller, url, home)
    assert path.read_bytes() == (teacher / "student" / UPDATE_NOTEBOOK).read_bytes(), \
        "the fresh copy should be the teacher's newest version"


# --- the class ---------------------------------------------------------------------------

@pytest.mark.hub
@pytest.mark.slow
def test_a_class_on_jupyterhub(tmp_path, monkeypatch):
    reason = hs.missing_requirements()
    if reason:
        pytest.skip(reason)
    for var in hs.PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    for var, value in hs.NO_PROXY_ENV.items():
        monkeypatch.setenv(var, value)
    t_start = time.monotonic()

    # The teacher publishes the student editions to a repository the hub can reach.
    repo = _bare_repo(tmp_path / "course.git")
    published = _publish(repo)
    assert published.returncode == 0, published.stderr
    assert f"student/{NOTEBOOK}" in _git("ls-tree", "-r", "--name-only", "student", cwd=repo).split()
    repo_url = repo.as_uri()  # file:// (a hub would use https://); git treats it as a remote, depth and all
    link = _load("nbgitpuller_link").link
    notebook_path = f"{FOLDER}/student/{NOTEBOOK}"

    hub = hs.Hub(tmp_path / "hub")
    hub.workdir.mkdir()
    learners = [hs.Learner(hub, f"learner{i}") for i in range(N_LEARNERS)]
    survivors: list[int] = []
    try:
        t0 = time.monotonic()
        hub.start(hs.find_chp())
        hub_up = time.monotonic() - t0
        with hs.MemoryWatch(hub.marker, hub.proc.pid) as memory, ThreadPoolExecutor(N_LEARNERS) as pool:

            def first_day(learner: hs.Learner):
                t = time.monotonic()
                learner.login()
                learner.new_token()
                learner.open_link(link(hub.url, repo_url, "student", NOTEBOOK, FOLDER))
                assert learner.redirect == f"lab/tree/{notebook_path}", learner.redirect
                listing = learner.contents(f"{FOLDER}/student")
                names = {item["name"] for item in listing["content"]}
                assert NOTEBOOK in names, f"{learner.name}: {sorted(names)}"
                home = hub.homes / learner.name / FOLDER / "student" / NOTEBOOK
                assert home.is_file(), f"{learner.name}: the student editions are not in its own home"
                nb = learner.contents(notebook_path)["content"]
                assert nb["metadata"]["coursekit"]["edition"] == "student"
                code = [c["source"] for c in nb["cells"] if c["cell_type"] == "code"][:MAX_CELLS]
                errors = learner.run_cells(notebook_path, code, timeout=600)
                assert not errors, f"{learner.name}: {errors}"
                # The learner writes in the notebook and saves it, as JupyterLab does.
                nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": f"notes of {learner.name}",
                                    "id": uuid.uuid4().hex[:8]})
                r = learner.api("PUT", f"contents/{notebook_path}",
                                json={"type": "notebook", "format": "json", "content": nb})
                assert r.status_code == 200, f"{learner.name}: save failed ({r.status_code}: {r.text[:200]})"
                learner.times["first day"] = time.monotonic() - t
                return len(code)

            n_cells = [f.result(timeout=900) for f in [pool.submit(first_day, ln) for ln in learners]][0]

            # The teacher changes another file and publishes it.
            teacher = tmp_path / "teacher"
            _git("clone", "--quiet", "--branch", "student", "--", repo_url, str(teacher))
            news = f"Week 2: notebook 01 is next ({uuid.uuid4().hex[:6]})."
            with open(teacher / "README.md", "a") as f:
                f.write(f"\n{news}\n")
            _git("-c", "user.name=teacher", "-c", "user.email=teacher@localhost", "commit", "--quiet", "-am",
                 "news", cwd=teacher)
            _git("push", "--quiet", "origin", "student", cwd=teacher)

            def second_day(learner: hs.Learner):
                t = time.monotonic()
                learner.open_link(link(hub.url, repo_url, "student", NOTEBOOK, FOLDER))
                nb = learner.contents(notebook_path)["content"]
                assert nb["cells"][-1]["source"] == f"notes of {learner.name}", \
                    f"{learner.name}: the second pull lost the learner's edit"
                readme = learner.contents(f"{FOLDER}/README.md")["content"]
                assert news in readme, f"{learner.name}: the teacher's change did not arrive"
                learner.times["second day"] = time.monotonic() - t

            for f in [pool.submit(second_day, ln) for ln in learners]:
                f.result(timeout=300)
            memory.sample()

        # One learner cannot read another's files through the hub.
        a, b = learners[0], learners[1 % len(learners)]
        if a is not b:
            own = b.api("GET", f"contents/{notebook_path}")
            assert own.status_code == 200, f"control: {b.name} cannot read its own notebook ({own.status_code})"
            stolen = a.api("GET", f"contents/{notebook_path}", server=b.server)
            assert stolen.status_code in (401, 403), \
                f"{a.name}'s token read {b.name}'s notebook: {stolen.status_code}"
            assert f"notes of {b.name}" not in stolen.text
            with_cookies = a.http.get(f"{b.server}/api/contents/{notebook_path}", timeout=60)
            assert with_cookies.status_code in (401, 403), \
                f"{a.name}'s browser session read {b.name}'s notebook: {with_cookies.status_code} at {with_cookies.url}"
            assert f"notes of {b.name}" not in with_cookies.text
            hub_api = a.api("GET", f"users/{b.name}", server=f"{hub.url}/hub")
            assert hub_api.status_code in (403, 404), f"{a.name}'s token read {b.name}'s record: {hub_api.status_code}"
    except BaseException:
        print("--- hub log (last lines) ---\n" + hub.log_tail())
        raise
    finally:
        survivors = hub.stop()
    assert not survivors, f"processes still running after the test: {survivors}"

    ready = sorted(ln.times["server ready"] for ln in learners)
    total = [ln.times["first day"] + ln.times["second day"] for ln in learners]
    cells = [ln.times["cells"] for ln in learners]
    per_learner = max(memory.peak_per_user.values())
    print(f"\nhub: {N_LEARNERS} learners at once, {NOTEBOOK} ({n_cells} code cells), {os.cpu_count()} cores; "
          f"hub up in {hub_up:.1f} s")
    print(f"  server ready after login: first {ready[0]:.1f} s, median {statistics.median(ready):.1f} s, "
          f"last {ready[-1]:.1f} s")
    print(f"  running the cells: median {statistics.median(cells):.1f} s, max {max(cells):.1f} s; "
          f"total per learner (login, 2 pulls, cells, save): median {statistics.median(total):.1f} s, "
          f"max {max(total):.1f} s")
    print(f"  peak memory: {memory.peak_total / GIB:.2f} GiB in all (hub + proxy {memory.peak_hub / GIB:.2f} GiB); "
          f"one learner's server + kernel at most {per_learner / GIB:.2f} GiB")
    print(f"  whole test {time.monotonic() - t_start:.0f} s; every process it started has ended")
