#!/usr/bin/env python3
"""Publish the student editions as a git branch that nbgitpuller links pull into each learner's home.

Usage (from the project root, in the course environment):

    python deploy/jupyterhub/publish_student_branch.py              # commit to this repository's `student` branch
    git push origin student                                         # publish it where the hub can clone it

    python deploy/jupyterhub/publish_student_branch.py --solutions  # also hand out the instructor notebooks
    python deploy/jupyterhub/publish_student_branch.py --repo git@host:you/coursekit-class.git  # another repo

What the branch holds (and nothing else: no solutions unless ``--solutions``)::

    README.md              how to work through the course on the hub (deploy/jupyterhub/student_README.md)
    .gitignore             checkpoints and caches, so a learner's stray files never block a pull
    student/NN_*.ipynb     the student editions, written by tools/make_student.py
    notebooks/NN_*.ipynb   the instructor notebooks, with --solutions only (the "Stuck?" note at the
                           top of each student edition links to ../notebooks/NN_*.ipynb)

Each run regenerates every student edition from ``notebooks/`` (``make_student.py
--force``: the branch is the teacher's copy, never a learner's) and commits only if
something changed, on top of the branch's previous commit. Keeping that history
linear is what lets nbgitpuller merge a new commit into a learner's clone without
touching the notebooks the learner has edited: it commits the learner's changes,
then merges with ``-Xours``, and a file the learner deleted comes back fresh.

The learners' environment (coursekit, torch, JupyterLab, nbgitpuller) is installed
on the hub, not carried by this branch: see deploy/jupyterhub/README.md.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
GITIGNORE = ".ipynb_checkpoints/\n__pycache__/\n*.pyc\n.virtual_documents/\n"
AUTHOR = ["-c", "user.name=coursekit publisher", "-c", "user.email=coursekit@localhost"]


def _git(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    out = subprocess.run(["git", *args], cwd=cwd, text=True, env=env, capture_output=True, timeout=300)
    if check and out.returncode != 0:
        raise SystemExit(f"publish_student_branch: git {' '.join(args)} failed: {out.stderr.strip()}")
    return out


def _branch_exists(repo: str, branch: str) -> bool:
    out = _git("ls-remote", "--heads", "--", repo, branch, cwd=ROOT, check=False)
    if out.returncode != 0:
        raise SystemExit(f"publish_student_branch: cannot read {repo}: {out.stderr.strip()}")
    return bool(out.stdout.strip())


def build_tree(work: Path, sources: list[Path], solutions: bool) -> None:
    """Write the branch's files into ``work`` (a git work tree), replacing what the last publish wrote."""
    for sub in ("student", "notebooks"):
        shutil.rmtree(work / sub, ignore_errors=True)
    subprocess.run([sys.executable, str(ROOT / "tools" / "make_student.py"), "--force", "--out",
                    str(work / "student"), *map(str, sources)], check=True, stdout=subprocess.DEVNULL, timeout=600)
    if solutions:
        (work / "notebooks").mkdir()
        for src in sources:
            shutil.copy2(src, work / "notebooks" / src.name)
    shutil.copy2(HERE / "student_README.md", work / "README.md")
    (work / ".gitignore").write_text(GITIGNORE)


def publish(repo: str, branch: str = "student", sources: list[Path] | None = None, solutions: bool = False,
            message: str | None = None) -> str | None:
    """Commit the student editions to ``branch`` of ``repo`` (a path or URL) and push it there.

    Returns the new commit, or None when nothing changed since the last publish.
    """
    sources = sorted(sources or (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not sources:
        raise SystemExit("publish_student_branch: no notebooks found")
    with tempfile.TemporaryDirectory(prefix="coursekit-publish-") as tmp:
        work = Path(tmp) / "branch"
        if _branch_exists(repo, branch):
            _git("clone", "--quiet", "--single-branch", "--branch", branch, "--", repo, str(work), cwd=ROOT)
        else:
            work.mkdir()
            _git("init", "--quiet", cwd=work)
            _git("checkout", "--quiet", "--orphan", branch, cwd=work)
            _git("remote", "add", "origin", repo, cwd=work)
        build_tree(work, sources, solutions)
        _git("add", "--all", ".", cwd=work)
        if not _git("status", "--porcelain", cwd=work).stdout.strip():
            return None
        commit_msg = message or ("Student editions of " + ", ".join(s.stem for s in sources)
                                 + (" (with solutions)" if solutions else ""))
        _git(*AUTHOR, "commit", "--quiet", "-m", commit_msg, cwd=work)
        sha = _git("rev-parse", "HEAD", cwd=work).stdout.strip()
        _git("push", "--quiet", "origin", f"HEAD:refs/heads/{branch}", cwd=work)
        return sha


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN_*.ipynb")
    parser.add_argument("--repo", default=str(ROOT),
                        help="repository to commit to: a path or URL (default: this repository)")
    parser.add_argument("--branch", default="student", help="branch to commit to (default: student)")
    parser.add_argument("--solutions", action="store_true",
                        help="also publish the instructor notebooks (e.g. after the deadline)")
    parser.add_argument("-m", "--message", help="commit message")
    args = parser.parse_args(argv)
    if args.repo == str(ROOT):
        current = _git("rev-parse", "--abbrev-ref", "HEAD", cwd=ROOT, check=False).stdout.strip()
        if current == args.branch:
            raise SystemExit(f"publish_student_branch: {args.branch!r} is checked out here; "
                             "switch to your main branch first")
    sha = publish(args.repo, args.branch, [p.resolve() for p in args.notebooks] or None, args.solutions,
                  args.message)
    if sha is None:
        print(f"publish_student_branch: {args.branch} is already up to date in {args.repo}")
    else:
        print(f"publish_student_branch: committed {sha[:10]} to {args.branch} in {args.repo}")
        if args.repo == str(ROOT):
            print(f"  publish it for the hub: git push origin {args.branch}")
        print("  links for the learners: python deploy/jupyterhub/nbgitpuller_link.py --help")
    return 0


if __name__ == "__main__":
    sys.exit(main())
