#!/usr/bin/env python3
"""Check, before anything is installed, that this Python is one the course supports.

``make lab`` and ``make test`` run it first with the interpreter that will build ``.venv``
(``python3``, or ``make lab PYTHON=python3.12``), so an old Python (macOS's 3.9, say) fails
at once with one line, not after PyTorch has been downloaded. The floor is read from
``requires-python`` in pyproject.toml, the one place it is written.

    python3 tools/check_python.py      # exit 0 and no output if this Python is fine

Written for any Python 3 (no f-strings, no tomllib), since its job is to run on the ones
that are too old.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def floor(pyproject_text):
    """The lowest supported version as a tuple, from pyproject.toml's ``requires-python = ">=X.Y"``."""
    m = re.search(r'^requires-python\s*=\s*"\s*>=\s*(\d+)\.(\d+)\s*"', pyproject_text, re.M)
    if m is None:
        raise ValueError('pyproject.toml: expected a line requires-python = ">=X.Y"')
    return int(m.group(1)), int(m.group(2))


def problem(version, minimum, executable="python3"):
    """The one-line message for an interpreter below ``minimum``, or None when it is recent enough."""
    if tuple(version[:2]) >= tuple(minimum):
        return None
    return ("coursekit needs Python >= %d.%d, but %s is Python %d.%d: install a newer Python "
            "(python.org, your package manager, or conda) and run e.g. `make lab PYTHON=python3.%d`"
            % (minimum[0], minimum[1], executable, version[0], version[1], max(minimum[1], 11)))


def main():
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        minimum = floor(f.read())
    message = problem(sys.version_info, minimum, sys.executable or "python3")
    if message:
        sys.stderr.write(message + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
