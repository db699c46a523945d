"""Translation catalogs of the notebooks' markdown (gettext ``.po``, one per notebook and language).

A markdown cell is cut into blocks at blank lines (a fenced code block, a ``$$`` display and an HTML
``<details>``/``<table>`` element stay whole); each block is one catalog entry:

    msgctxt  the cell's id (nbformat cell ids are stable across edits)
    msgid    the English block, verbatim
    msgstr   its translation

A block that holds no prose (a code fence, a display formula, an image, a rule) is not extracted: the
translated notebook copies it as it is.

    python tools/i18n.py extract notebooks/04_initialization.ipynb --lang ko
        writes locale/ko/notebooks/04_initialization.pot (a template: every msgstr empty)
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "locale"

_FENCE = re.compile(r"^\s*(```|~~~)")
_NO_PROSE = re.compile(
    r"^\s*(```|~~~)[\s\S]*$"            # a code fence
    r"|^\s*\$\$[\s\S]*\$\$\s*$"          # a display formula
    r"|^\s*!\[[^\]]*\]\([^)]*\)\s*$"     # an image alone
    r"|^\s*(-{3,}|\*{3,}|_{3,})\s*$"     # a rule
    r"|^\s*<img [^>]*>\s*$"
)


def blocks(source: str) -> list[tuple[str, str]]:
    """Cut a markdown cell into ``(block, separator)`` pairs; ``"".join(b + s for b, s in ...)`` is the
    cell again, character for character (leading blank lines belong to the first block)."""
    lines = source.split("\n")
    groups: list[list[int]] = []   # the line numbers of each block
    current: list[int] = []
    fence = None                   # the fence string while inside a fenced block
    in_math = False                # inside a $$ ... $$ display spread over lines
    html_depth = 0                 # inside <details>/<table> ... </details>/</table>
    for n, line in enumerate(lines):
        stripped = line.strip()
        if fence is None and not in_math and html_depth == 0 and stripped == "":
            if current and lines[current[-1]].strip():
                groups.append(current)
                current = []
            if not groups:
                current.append(n)  # blank lines before the first block
            continue
        m = _FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)
        elif fence is not None and stripped.startswith(fence):
            fence = None
        elif fence is None:
            if stripped.count("$$") % 2 == 1:
                in_math = not in_math
            html_depth += len(re.findall(r"<(details|table)\b", line)) - len(re.findall(r"</(details|table)>", line))
            html_depth = max(html_depth, 0)
        current.append(n)
    if current:
        groups.append(current)
    out = []
    for k, g in enumerate(groups):
        first, last = g[0], g[-1]
        nxt = groups[k + 1][0] if k + 1 < len(groups) else len(lines)
        text = "\n".join(lines[first:last + 1])
        gap = lines[last + 1:nxt]
        sep = ("\n" + "\n".join(gap) + "\n") if k + 1 < len(groups) else ("\n" + "\n".join(gap) if gap else "")
        out.append((text, sep))
    return out


def is_prose(block: str) -> bool:
    """Whether a block carries words to translate."""
    return bool(block.strip()) and not _NO_PROSE.match(block)


def extract(notebook: Path):
    """The catalog template of one notebook: one entry per prose block of each markdown cell."""
    import nbformat
    import polib

    nb = nbformat.read(notebook, as_version=4)
    pot = polib.POFile(wrapwidth=0)
    pot.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Content-Transfer-Encoding": "8bit",
                    "MIME-Version": "1.0"}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for block, _ in blocks(cell.source):
            if is_prose(block):
                pot.append(polib.POEntry(msgctxt=cell.id, msgid=block, msgstr="",
                                         occurrences=[(notebook.name, str(index))]))
    return pot


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("extract", help="write the template (.pot) of each notebook")
    ex.add_argument("notebooks", nargs="+", type=Path)
    ex.add_argument("--lang", default="ko")
    args = parser.parse_args(argv)
    if args.command == "extract":
        for nb in args.notebooks:
            target = LOCALE / args.lang / "notebooks" / (nb.stem + ".pot")
            target.parent.mkdir(parents=True, exist_ok=True)
            extract(nb).save(str(target))
            print(f"{target.relative_to(ROOT)}: {len(extract(nb))} entries")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
