#!/usr/bin/env python3
"""Print the nbgitpuller links that put the student editions into each learner's home on a JupyterHub.

Usage:

    python deploy/jupyterhub/nbgitpuller_link.py --hub https://hub.example.edu \\
        --repo https://github.com/you/coursekit --branch student            # one link per notebook
    python deploy/jupyterhub/nbgitpuller_link.py --hub ... --repo ... 03_optimizers.ipynb

A link has this form (the query values URL-encoded)::

    <hub>/hub/user-redirect/git-pull?repo=<repo>&branch=<branch>&targetpath=<folder>
        &urlpath=lab/tree/<folder>/student/<notebook>

Opening it logs the learner in, starts their server, clones (first time) or
merges (every later time) the branch into ``~/<folder>``, and opens the notebook
in JupyterLab. A merge keeps the learner's edits: see publish_student_branch.py.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]


def link(hub: str, repo: str, branch: str = "student", notebook: str | None = "00_start_here.ipynb",
         folder: str = "coursekit", subdir: str = "student") -> str:
    """The nbgitpuller link that pulls ``branch`` of ``repo`` into ``~/folder`` and opens ``notebook``.

    ``hub`` is the hub's address with its base URL (``https://hub.example.edu`` or
    ``http://127.0.0.1:8000/prefix``); ``notebook=None`` opens the folder instead.
    """
    target = f"{folder}/{subdir}/{notebook}" if notebook else f"{folder}/{subdir}"
    query = urlencode({"repo": repo, "branch": branch, "targetpath": folder, "urlpath": f"lab/tree/{target}"})
    return f"{hub.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="default: one link per notebooks/NN_*.ipynb")
    parser.add_argument("--hub", required=True, help="the hub's address, e.g. https://hub.example.edu")
    parser.add_argument("--repo", required=True, help="the repository the hub clones, e.g. https://github.com/you/coursekit")
    parser.add_argument("--branch", default="student", help="the branch publish_student_branch.py wrote (default: student)")
    parser.add_argument("--folder", default="coursekit", help="the folder in each learner's home (default: coursekit)")
    args = parser.parse_args(argv)
    names = args.notebooks or [p.name for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
    for name in names:
        print(f"{name}: {link(args.hub, args.repo, args.branch, Path(name).name, args.folder)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
